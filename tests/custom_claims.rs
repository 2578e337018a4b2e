//! Every claim of a verified token, read through `Claims::get`, `Claims::members` and
//! `Claims::payload`, against serde_json's view of the same payload. The tokens are shaped as
//! Pomerium's Go code writes them (tests/data/gen-custom-claims.py, signed with Python
//! `cryptography`).

use pomerium_jwt::{Buffers, Error, JsonError, JsonStr, KeySet, Part, UnixTime, Value, Verifier};
use serde_json::{Map, Value as Json};

use crate::common::{AUD, NOW};

pub struct Case {
    pub name: String,
    pub token: String,
    pub payload: String,
    pub verdict: String,
}

pub fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string("tests/data/python/custom/cases.json").unwrap();
    let list: Vec<Json> = serde_json::from_str(&text).unwrap();
    let field = |case: &Json, name: &str| case[name].as_str().unwrap().to_owned();
    list.iter()
        .map(|c| Case {
            name: field(c, "name"),
            token: field(c, "token"),
            payload: field(c, "payload"),
            verdict: field(c, "verdict"),
        })
        .collect()
}

pub fn key1() -> KeySet {
    let mut keys = KeySet::new();
    keys.add_jwks(&std::fs::read("tests/data/python/key1.jwks.json").unwrap()).unwrap();
    keys
}

fn unescaped(s: JsonStr<'_>) -> String {
    let mut out = vec![0u8; s.raw().len()];
    let value = s.unescape_into(&mut out).unwrap().to_owned();
    assert_eq!(s.as_str().is_some(), !s.has_escapes());
    if let Some(plain) = s.as_str() {
        assert_eq!(plain, value);
    }
    assert!(s == value.as_str(), "{s:?} == {value:?}");
    assert!(!(s == format!("{value}x").as_str()));
    value
}

/// Our typed value, turned into serde_json's, to compare.
fn as_json(value: Value<'_>) -> Json {
    let from_text = |text: &str| serde_json::from_str::<Json>(text).unwrap();
    let json = match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(b),
        Value::Number(text) => from_text(text),
        Value::String(s) => Json::String(unescaped(s)),
        Value::Strings(list) => {
            assert_eq!(list.iter().count(), list.len());
            Json::Array(list.iter().map(|s| Json::String(unescaped(s))).collect())
        }
        Value::Json(text) => {
            let parsed = from_text(text);
            // Only objects and arrays with a non-string element are handed out as raw JSON.
            assert!(parsed.is_object() || parsed.as_array().is_some_and(|a| a.iter().any(|e| !e.is_string())));
            parsed
        }
        other => panic!("unexpected value {other:?}"),
    };
    // Each value's text is its JSON as in the token.
    assert_eq!(from_text(value.json()), json);
    json
}

#[test]
fn every_claim_reads_as_serde_json_reads_the_signed_payload() {
    let keys = key1();
    let verifier = Verifier::new(&keys, AUD);
    let mut buffers: Box<Buffers<32768, 512>> = Box::new(Buffers::new());
    let cases = cases();
    assert!(cases.len() >= 6);
    for case in cases {
        let result = verifier.verify(&case.token, UnixTime::from_secs(NOW), &mut buffers);
        let refusal = match case.verdict.as_str() {
            "duplicate" => Some(Error::Json { part: Part::Payload, reason: JsonError::DuplicateMember }),
            "wrong_audience" => Some(Error::WrongAudience),
            _ => None,
        };
        if let Some(want) = refusal {
            assert_eq!(result.map(drop), Err(want), "{}", case.name);
            continue;
        }
        let claims = result.unwrap_or_else(|e| panic!("{}: {e:?}", case.name));
        assert_eq!(claims.payload(), case.payload, "{}: the payload exactly as signed", case.name);
        let reference: Map<String, Json> = serde_json::from_str(&case.payload).unwrap();

        let mut seen = 0;
        for (name, value) in claims.members() {
            let name = unescaped(name);
            let expected = reference.get(&name).unwrap_or_else(|| panic!("{}: extra member {name}", case.name));
            assert_eq!(&as_json(value), expected, "{}: {name}", case.name);
            seen += 1;
        }
        assert_eq!(seen, reference.len(), "{}: every member", case.name);
        for (name, expected) in &reference {
            let value = claims.get(name).unwrap_or_else(|| panic!("{}: get({name})", case.name));
            assert_eq!(&as_json(value), expected, "{}: get({name})", case.name);
        }
        assert!(claims.get("no such claim").is_none());
        // The typed claims agree with the same view.
        assert_eq!(Some(claims.iss), reference["iss"].as_str());
        let groups: Vec<&str> = claims.groups.iter().collect();
        let expected: Vec<&str> = reference
            .get("groups")
            .and_then(Json::as_array)
            .map_or(vec![], |g| g.iter().map(|g| g.as_str().unwrap()).collect());
        assert_eq!(groups, expected, "{}", case.name);
    }
}

#[test]
fn go_shaped_claims_by_name() {
    let keys = key1();
    let verifier = Verifier::new(&keys, AUD);
    let mut buffers: Buffers = Buffers::new();
    let case = cases().into_iter().find(|c| c.name == "go_shaped").unwrap();
    let claims = verifier.verify(&case.token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
    let string = |name: &str| match claims.get(name) {
        Some(Value::String(s)) => unescaped(s),
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(string("department"), "R&D,Sales");
    assert_eq!(string("employee_number"), "1.2345678e+07");
    assert_eq!(string("given_name"), "Zoë");
    assert_eq!(string("family_name"), "O'Brien <ops>");
    assert_eq!(string("title"), "line\u{2028}separator and paragraph\u{2029}end");
    assert_eq!(string("locale"), "");
    assert!(matches!(claims.get("department"), Some(Value::String(s)) if s.raw() == r"R\u0026D,Sales"));
    assert!(matches!(claims.get("exp"), Some(Value::Number("1700000300"))));
    // Escaped names match their unescaped spelling, and only that.
    let escaped = cases().into_iter().find(|c| c.name == "escaped_member_names").unwrap();
    let claims = verifier.verify(&escaped.token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
    assert!(matches!(claims.get("given_name"), Some(Value::String(s)) if s == "Bob"));
    assert!(matches!(claims.get("department"), Some(Value::String(s)) if s == "Ops,IT"));
    assert!(matches!(claims.get("x/y"), Some(Value::Number("1"))));
    assert!(claims.get(r"\u0067iven_name").is_none());
}

/// A lone surrogate in a custom claim: the token verifies (the claim is not read), and reading
/// it is refused, never turned into something else.
#[test]
fn a_lone_surrogate_in_a_custom_claim_is_refused_when_read() {
    let keys = crate::common::keyset(1);
    let token = crate::common::sign(1, &crate::common::header(1), &crate::common::claims(r#""odd":"a\ud800b""#));
    let mut buffers: Buffers = Buffers::new();
    let claims = Verifier::new(&keys, AUD).verify(&token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
    let Some(Value::String(odd)) = claims.get("odd") else { panic!("odd") };
    let mut out = [0u8; 16];
    assert_eq!(odd.unescape_into(&mut out), Err(Error::Json { part: Part::Payload, reason: JsonError::LoneSurrogate }));
    assert!(!(odd == "a\u{fffd}b"));
    let mut tiny = [0u8; 1];
    let Some(Value::String(department)) = claims.get("email") else { panic!("email") };
    assert_eq!(department.unescape_into(&mut tiny), Err(Error::Capacity(pomerium_jwt::Capacity::Scratch)));
}
