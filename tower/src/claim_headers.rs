//! The verified claims as `X-Pomerium-Claim-<Name>` headers, the way Pomerium's
//! `jwt_claims_headers` names them, for an application that reads identity from headers.

use http::{HeaderName, HeaderValue};
use serde_json::{Map, Value};

/// Claims that describe the token rather than the user: never rendered as headers.
const TOKEN_CLAIMS: [&str; 5] = ["iss", "aud", "exp", "iat", "nbf"];

/// Why a claim got no header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Skip {
    /// `X-Pomerium-Claim-<name>` is not a valid header name.
    Name,
    /// The value holds a control character or a non-ASCII character, which a header value
    /// cannot carry unambiguously.
    Value,
    /// The value is `null`, an object, or an array holding something other than strings.
    Type,
    /// Another claim, differing only in letter case, already has this header.
    Duplicate,
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Skip::Name => "the claim name cannot be part of a header name",
            Skip::Value => "the value holds a control or non-ASCII character",
            Skip::Type => "the value is not a string, number, boolean or array of strings",
            Skip::Duplicate => "another claim differing only in case has the same header",
        })
    }
}

/// The headers of [`claim_headers`], and the claims left out with the reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimHeaders {
    /// `X-Pomerium-Claim-<Name>` with its value, one per rendered claim, in claim-name order.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Claims that got no header (for the log; never sent).
    pub skipped: Vec<(String, Skip)>,
}

/// Renders verified claims (such as [`Identity::claims`](crate::Identity::claims)) as headers:
/// `X-Pomerium-Claim-<name>` with the claim name unchanged (`given_name` gives
/// `X-Pomerium-Claim-given_name`; HTTP header names are case-insensitive), for every claim but
/// `iss`, `aud`, `exp`, `iat` and `nbf`.
///
/// Values: a string as it is; a number in its JSON form; `true`/`false`; an array of strings
/// joined with `,` (as Pomerium joins `groups`). A value with a control character (tab, CR and
/// LF included) or a non-ASCII character, `null`, an object, or an array holding anything but
/// strings gets no header and is listed in [`ClaimHeaders::skipped`].
///
/// ```
/// use pomerium_jwt_tower::claim_headers;
/// let claims = serde_json::json!({"email": "a@example.com", "groups": ["admins", "devs"], "exp": 1});
/// let rendered = claim_headers(claims.as_object().unwrap());
/// assert_eq!(rendered.headers[0].0, "x-pomerium-claim-email");
/// assert_eq!(rendered.headers[1].1, "admins,devs");
/// assert_eq!(rendered.headers.len(), 2);
/// ```
#[must_use]
pub fn claim_headers(claims: &Map<String, Value>) -> ClaimHeaders {
    let mut out = ClaimHeaders::default();
    for (name, value) in claims {
        if TOKEN_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        match render(name, value) {
            Ok((header, value)) if out.headers.iter().any(|(h, _)| *h == header) => {
                drop(value);
                out.skipped.push((name.clone(), Skip::Duplicate));
            }
            Ok(pair) => out.headers.push(pair),
            Err(skip) => out.skipped.push((name.clone(), skip)),
        }
    }
    out
}

fn render(name: &str, value: &Value) -> Result<(HeaderName, HeaderValue), Skip> {
    let header =
        HeaderName::from_bytes(format!("{}{name}", crate::CLAIM_HEADER_PREFIX).as_bytes()).map_err(|_| Skip::Name)?;
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let strings: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            strings.ok_or(Skip::Type)?.join(",")
        }
        Value::Null | Value::Object(_) => return Err(Skip::Type),
    };
    // Printable ASCII and space only: `HeaderValue` would also take a tab and bytes above 0x7f,
    // which the application could read in some other charset than the token's UTF-8.
    if !text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Skip::Value);
    }
    let value = HeaderValue::from_str(&text).map_err(|_| Skip::Value)?;
    Ok((header, value))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rendered(claims: &Value) -> ClaimHeaders {
        claim_headers(claims.as_object().unwrap())
    }

    fn get<'a>(r: &'a ClaimHeaders, name: &str) -> Option<&'a str> {
        r.headers.iter().find(|(h, _)| h.as_str().eq_ignore_ascii_case(name)).map(|(_, v)| v.to_str().unwrap())
    }

    #[test]
    fn standard_and_custom_claims() {
        let r = rendered(&json!({
            "iss": "a", "aud": ["a"], "exp": 2, "iat": 1, "nbf": 1, "sub": "s1", "user": "u1",
            "email": "a@example.com", "name": "Alice Smith", "sid": "x", "jti": "j",
            "groups": ["admins", "devs"], "given_name": "Alice",
        }));
        assert_eq!(get(&r, "x-pomerium-claim-email"), Some("a@example.com"));
        assert_eq!(get(&r, "x-pomerium-claim-groups"), Some("admins,devs"));
        assert_eq!(get(&r, "x-pomerium-claim-sub"), Some("s1"));
        assert_eq!(get(&r, "x-pomerium-claim-user"), Some("u1"));
        assert_eq!(get(&r, "x-pomerium-claim-name"), Some("Alice Smith"));
        assert_eq!(get(&r, "x-pomerium-claim-given_name"), Some("Alice"));
        for token_claim in TOKEN_CLAIMS {
            assert_eq!(get(&r, &format!("x-pomerium-claim-{token_claim}")), None);
        }
        assert_eq!(r.headers.len(), 8);
        assert!(r.skipped.is_empty());
    }

    #[test]
    fn numbers_booleans_arrays() {
        let r = rendered(&json!({"n": 12345678, "f": 1.5, "neg": -3, "t": true, "no": false, "e": [], "one": ["x"]}));
        assert_eq!(get(&r, "x-pomerium-claim-n"), Some("12345678"));
        assert_eq!(get(&r, "x-pomerium-claim-f"), Some("1.5"));
        assert_eq!(get(&r, "x-pomerium-claim-neg"), Some("-3"));
        assert_eq!(get(&r, "x-pomerium-claim-t"), Some("true"));
        assert_eq!(get(&r, "x-pomerium-claim-no"), Some("false"));
        assert_eq!(get(&r, "x-pomerium-claim-e"), Some(""));
        assert_eq!(get(&r, "x-pomerium-claim-one"), Some("x"));
    }

    #[test]
    fn unrenderable_values_are_skipped_and_named() {
        let r = rendered(&json!({
            "crlf": "a\r\nX-Pomerium-Claim-Email: evil@example.com", "lf": "a\nb", "tab": "a\tb",
            "nul": "a\u{0}b", "del": "a\u{7f}", "accent": "Zoë", "bidi": "a\u{202e}b",
            "obj": {"a": 1}, "null": null, "mixed": ["a", 1], "inarray": ["ok", "a\r\nb"],
            "bad name": "v", "ok": "fine",
        }));
        assert_eq!(r.headers.len(), 1, "{r:?}");
        assert_eq!(get(&r, "x-pomerium-claim-ok"), Some("fine"));
        let skipped = |name: &str| r.skipped.iter().find(|(n, _)| n == name).map(|(_, s)| *s);
        for name in ["crlf", "lf", "tab", "nul", "del", "accent", "bidi", "inarray"] {
            assert_eq!(skipped(name), Some(Skip::Value), "{name}");
        }
        for name in ["obj", "null", "mixed"] {
            assert_eq!(skipped(name), Some(Skip::Type), "{name}");
        }
        assert_eq!(skipped("bad name"), Some(Skip::Name));
    }

    #[test]
    fn escaped_json_is_rendered_unescaped() {
        let claims: Value = serde_json::from_str(r#"{"email":"a\u0040example.com","q":"say \"hi\" \\ ok"}"#).unwrap();
        let r = rendered(&claims);
        assert_eq!(get(&r, "x-pomerium-claim-email"), Some("a@example.com"));
        assert_eq!(get(&r, "x-pomerium-claim-q"), Some(r#"say "hi" \ ok"#));
    }

    #[test]
    fn names_differing_in_case_get_one_header() {
        let r = rendered(&json!({"Email": "first@example.com", "email": "second@example.com"}));
        assert_eq!(r.headers.len(), 1);
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(r.skipped[0].1, Skip::Duplicate);
    }
}
