//! One check per fuzz target, shared by the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`, through
//! `fuzz/src/lib.rs`) and by the stable replay of the committed seeds (`tests/fuzz_seeds.rs`).
//!
//! Each check takes the fuzzer's bytes, calls the library only inside [`library`] (where the fuzz
//! build aborts on any heap allocation; see `fuzz/src/lib.rs`), formats every error it gets back
//! (also inside [`library`]), and panics when a rule of `docs/SPEC.md` does not hold for the
//! result. The harness around the calls may allocate freely.
//!
//! Where a check compares with `serde_json`, it does so in both directions only where the two
//! must agree: `serde_json` has no duplicate check, nests to 128 levels, refuses lone surrogates
//! and numbers beyond `f64` even where SPEC ignores them (unknown members). See [`Json`].

use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::LazyLock;

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use pomerium_jwt::dangerous::decode_unverified;
use pomerium_jwt::{
    Audience, Buffers, Capacity, Claims, Error, KeySet, MAX_DEPTH, MAX_MEMBERS, Part, PublicKey, UnixTime, Verifier,
};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// The allocation guard and small helpers.

thread_local! {
    /// Set while a library call runs; the fuzz targets' global allocator aborts when it is set.
    pub static IN_LIBRARY: Cell<bool> = const { Cell::new(false) };
}

/// With `FUZZ_GUARD_SELF_TEST` set, every guarded call allocates once: a fuzz target must then
/// abort at its first input, which shows the guard is live (`fuzz/ci.sh` checks this).
static GUARD_SELF_TEST: LazyLock<bool> = LazyLock::new(|| std::env::var_os("FUZZ_GUARD_SELF_TEST").is_some());

/// Runs `f`, a call into the library, with the allocation guard armed.
pub fn library<R>(f: impl FnOnce() -> R) -> R {
    struct Disarm;
    impl Drop for Disarm {
        fn drop(&mut self) {
            IN_LIBRARY.with(|armed| armed.set(false));
        }
    }
    let self_test = *GUARD_SELF_TEST;
    IN_LIBRARY.with(|armed| armed.set(true));
    let _disarm = Disarm;
    if self_test {
        drop(std::hint::black_box(Box::new(0u8)));
    }
    f()
}

/// A `fmt::Write` into a fixed array, so errors are formatted without the heap.
struct StackText {
    bytes: [u8; 512],
    len: usize,
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len.checked_add(s.len()).filter(|end| *end <= self.bytes.len()).ok_or(std::fmt::Error)?;
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Formats `error` (with the guard armed): `Display` must neither panic, allocate nor be empty.
pub fn format_error(error: &Error) {
    let len = library(|| {
        let mut text = StackText { bytes: [0; 512], len: 0 };
        write!(text, "{error}").map(|()| text.len)
    });
    assert!(len.is_ok_and(|len| len > 0), "{error:?} formats to nothing or more than 512 bytes");
}

/// The clock, audience and leeway of the fixtures (tests/data/tokens.json) and of these checks.
pub const NOW: u64 = 1_700_000_100;
pub const AUD: &str = "app.example.com";
pub const LEEWAY: u64 = 60;
/// What SPEC §5 accepts as `iss` for [`AUD`] when no issuer is configured.
pub const DEFAULT_ISSUERS: [&str; 3] = [AUD, "https://app.example.com/", "pomerium-proxy"];
/// The kid the fuzz key is registered under.
pub const FUZZ_KID: &str = "fuzz";

/// The key the targets sign with (a fixed scalar: the fuzzer must be able to replay).
pub fn fuzz_signing_key() -> &'static SigningKey {
    static KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::from_slice(&[7; 32]).unwrap());
    &KEY
}

/// A second key, never used to sign: "another key" in key sets.
pub fn other_signing_key() -> &'static SigningKey {
    static KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::from_slice(&[9; 32]).unwrap());
    &KEY
}

pub fn public_key(key: &SigningKey) -> PublicKey {
    PublicKey::from_sec1(key.verifying_key().to_sec1_point(false).as_bytes()).unwrap()
}

/// `b64(header).b64(payload).b64(sig)`, signed by `key` over the exact bytes given.
pub fn sign_parts(key: &SigningKey, header: &[u8], payload: &[u8]) -> String {
    let input = format!("{}.{}", Base64UrlUnpadded::encode_string(header), Base64UrlUnpadded::encode_string(payload));
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature.to_bytes()))
}

/// SPEC §5's time, audience and issuer checks, asserted on claims the verifier accepted.
pub fn assert_policy(claims: &Claims<'_>, now: u64, leeway: u64, aud: &str, issuers: &[&str]) {
    let late = now.saturating_add(leeway);
    assert!(now < claims.exp.saturating_add(leeway), "accepted an expired token: {claims:?} at {now}+{leeway}");
    assert!(claims.iat <= late, "accepted iat in the future: {claims:?} at {now}+{leeway}");
    assert!(claims.nbf.is_none_or(|nbf| nbf <= late), "accepted nbf in the future: {claims:?} at {now}+{leeway}");
    assert!(claims.aud.contains(aud), "accepted a wrong audience: {claims:?}");
    assert!(issuers.contains(&claims.iss), "accepted a wrong issuer: {claims:?}");
}

// ---------------------------------------------------------------------------------------------
// serde_json as a second reading of the same JSON.

/// What `serde_json` makes of a JSON text, and the shape facts SPEC §4 limits that it ignores.
pub enum Json {
    /// An object, with no duplicate top-level name, nested at most `MAX_DEPTH` levels, and at
    /// most `MAX_MEMBERS` members: a text SPEC §4 accepts.
    Object(serde_json::Map<String, Value>),
    /// serde_json reads it, but SPEC refuses or may refuse it (not an object, a duplicate name,
    /// too deep, too many members, a byte order mark).
    Refused,
    /// serde_json refuses it only for what SPEC allows outside the claims it reads: a lone
    /// surrogate, a number beyond `f64`. SPEC may accept or refuse it.
    Unsure,
    /// Not JSON: SPEC must refuse it.
    Malformed,
}

impl Json {
    pub fn read(text: &[u8]) -> Json {
        match serde_json::from_slice::<Value>(text) {
            Ok(Value::Object(map)) => {
                let (depth, members) = shape(text);
                if depth <= MAX_DEPTH && members <= MAX_MEMBERS && map.len() == members {
                    Json::Object(map)
                } else {
                    Json::Refused
                }
            }
            Ok(_) => Json::Refused,
            Err(e) => {
                let msg = e.to_string();
                // serde_json's messages for a lone surrogate: "lone leading surrogate in hex
                // escape", or "unexpected end of hex escape" when no `\u` follows a high one.
                if msg.contains("surrogate") || msg.contains("end of hex escape") || msg.contains("number out of range")
                {
                    Json::Unsure
                } else {
                    Json::Malformed
                }
            }
        }
    }
}

/// The deepest nesting of a JSON text that serde_json read, and how many members its top-level
/// object has (serde_json keeps the last of duplicate names, so fewer entries means duplicates).
fn shape(text: &[u8]) -> (usize, usize) {
    let (mut depth, mut deepest, mut members) = (0usize, 0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in text {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth -= 1,
            b':' if depth == 1 => members += 1,
            _ => {}
        }
    }
    (deepest, members)
}

fn str_member<'a>(map: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a str> {
    map.get(name).and_then(Value::as_str)
}

// ---------------------------------------------------------------------------------------------
// Target `decode_unverified`: compact splitting, base64url, JSON well-formedness.

pub fn decode_unverified_check(data: &[u8]) {
    let mut buffer = vec![0u8; data.len()];
    let result = library(|| decode_unverified(data, &mut buffer));

    // An independent reading: split at dots, strict base64url (base64ct), serde_json.
    let segments: Vec<&[u8]> = data.split(|&b| b == b'.').collect();
    let decoded: Option<Vec<Vec<u8>>> = (segments.len() == 3 && segments.iter().all(|s| !s.is_empty()))
        .then(|| segments.iter().map(|s| Base64UrlUnpadded::decode_vec(std::str::from_utf8(s).ok()?).ok()).collect())
        .flatten();
    match result {
        Ok(parts) => {
            let decoded = decoded.unwrap_or_else(|| panic!("decoded a token that is not 3 canonical segments"));
            assert_eq!(parts.header.as_bytes(), &decoded[0][..]);
            assert_eq!(parts.payload.as_bytes(), &decoded[1][..]);
            assert_eq!(parts.signature, &decoded[2][..]);
            for json in [parts.header, parts.payload] {
                assert!(
                    matches!(Json::read(json.as_bytes()), Json::Object(_) | Json::Unsure),
                    "accepted JSON that serde_json refuses or SPEC forbids: {json:?}"
                );
            }
        }
        Err(e) => {
            format_error(&e);
            if let Some(decoded) = decoded
                && let (Json::Object(_), Json::Object(_)) = (Json::read(&decoded[0]), Json::read(&decoded[1]))
            {
                panic!("refused a well-formed token with {e:?}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Target `verify`: the whole pipeline against a fixed key set and clock (the fixtures' own).

/// The fixtures' main keys: key1 (with its kid), key2, the OpenSSL certificate's key (no kid)
/// and node jose's key.
pub fn fixture_keys() -> &'static KeySet<8> {
    static KEYS: LazyLock<KeySet<8>> = LazyLock::new(|| {
        let mut keys = KeySet::new();
        let files: [&[u8]; 4] = [
            include_bytes!("../tests/data/python/key1.jwks.json"),
            include_bytes!("../tests/data/python/key2.jwks.json"),
            include_bytes!("../tests/data/openssl/ec_public.pem"),
            include_bytes!("../tests/data/node/jose-key.pub.jwk.json"),
        ];
        for file in files {
            let mut scratch = vec![0u8; 2 * file.len()];
            keys.add_any(file, &mut scratch).unwrap();
        }
        keys
    });
    &KEYS
}

pub fn verify_check(data: &[u8]) {
    let keys = fixture_keys();
    let verifier = Verifier::new(keys, AUD);
    let mut buffers = Box::new(Buffers::<16384, 256>::new());
    let result = library(|| verifier.verify(data, UnixTime::from_secs(NOW), &mut buffers));
    match result {
        Ok(claims) => {
            assert_policy(&claims, NOW, LEEWAY, AUD, &DEFAULT_ISSUERS);
            // The signature holds over the exact signing input, under one of the keys.
            let at = data.iter().rposition(|&b| b == b'.').expect("accepted a token without dots");
            let (input, signature) = (&data[..at], &data[at + 1..]);
            let signature = Base64UrlUnpadded::decode_vec(std::str::from_utf8(signature).unwrap()).unwrap();
            assert!(keys.keys().any(|k| k.verify_es256(input, &signature).is_ok()), "no key verifies it");
            let header = input.split(|&b| b == b'.').next().unwrap();
            let header = Base64UrlUnpadded::decode_vec(std::str::from_utf8(header).unwrap()).unwrap();
            assert!(header.len() <= pomerium_jwt::MAX_HEADER, "accepted a {}-byte header", header.len());
            if let Json::Object(map) = Json::read(&header) {
                assert_eq!(str_member(&map, "alg"), Some("ES256"));
            }
        }
        Err(e) => {
            format_error(&e);
            // Over the cap, the header's JSON is never read: no header-stage error can come.
            let header = data.split(|&b| b == b'.').next().unwrap_or_default();
            if header.len() > 1366 {
                assert!(!is_header_stage(&e), "a {}-symbol header was read: {e:?}", header.len());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Targets `header_json` and `claims_json`: JSON signed inside the check, so that the parsers
// behind the signature are reached.

/// The fuzz key under kid [`FUZZ_KID`], and another key under kid `other`.
pub fn fuzz_keys() -> &'static KeySet<4> {
    static KEYS: LazyLock<KeySet<4>> = LazyLock::new(|| {
        let mut keys = KeySet::new();
        keys.insert(public_key(other_signing_key()), Some("other")).unwrap();
        keys.insert(public_key(fuzz_signing_key()), Some(FUZZ_KID)).unwrap();
        keys
    });
    &KEYS
}

/// Valid Pomerium claims for [`NOW`] and [`AUD`].
pub const GOOD_CLAIMS: &str = r#"{"aud":"app.example.com","email":"alice@example.com","exp":1700000300,"groups":["admins","devs"],"iat":1700000000,"iss":"app.example.com","sub":"alice-id"}"#;
/// A valid header for the fuzz key.
pub const GOOD_HEADER: &str = r#"{"alg":"ES256","kid":"fuzz","typ":"JWT"}"#;

type TokenBuffers = Buffers<16384, 64>;

/// Errors that only the header or the key choice can cause.
fn is_header_stage(e: &Error) -> bool {
    matches!(
        e,
        Error::Json { part: Part::Header, .. }
            | Error::UnsupportedAlgorithm
            | Error::CriticalHeader
            | Error::BadHeader(_)
            | Error::UnknownKey { .. }
    )
}

pub fn header_json_check(data: &[u8]) {
    let token = sign_parts(fuzz_signing_key(), data, GOOD_CLAIMS.as_bytes());
    let verifier = Verifier::new(fuzz_keys(), AUD);
    let mut buffers = Box::new(TokenBuffers::new());
    let result = library(|| verifier.verify(&token, UnixTime::from_secs(NOW), &mut buffers).map(|c| c.exp));
    let json = Json::read(data);
    // SPEC §2: a header over 1 KiB is refused before its JSON is read, whatever it holds.
    let over_cap = data.len() > pomerium_jwt::MAX_HEADER;
    // What SPEC §2-3 decide for a header serde_json reads as an acceptable object.
    let spec_ok = match &json {
        Json::Object(map) => Some(
            str_member(map, "alg") == Some("ES256")
                && !map.contains_key("crit")
                && map.get("typ").is_none_or(|t| t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("JWT")))
                && map.get("kid").is_none_or(|k| k.as_str() == Some(FUZZ_KID)),
        ),
        Json::Refused | Json::Malformed => Some(false),
        Json::Unsure => None,
    };
    match result {
        Ok(exp) => {
            assert_eq!(exp, 1_700_000_300);
            assert!(!over_cap, "accepted a {}-byte header", data.len());
            assert_ne!(spec_ok, Some(false), "accepted a header SPEC refuses: {:?}", String::from_utf8_lossy(data));
        }
        Err(e) => {
            format_error(&e);
            let fits = token.len() <= 16384;
            if fits && over_cap {
                assert_eq!(e, Error::Capacity(Capacity::Header), "a {}-byte header", data.len());
                return;
            }
            // The key under kid "other" did not sign: the one way to a bad signature here.
            let other_kid = match &json {
                Json::Object(map) => str_member(map, "kid") == Some("other"),
                Json::Unsure => true,
                Json::Refused | Json::Malformed => false,
            };
            let expected = is_header_stage(&e)
                || e == Error::Capacity(Capacity::Members)
                || (e == Error::BadSignature && other_kid)
                || matches!(e, Error::TokenTooLarge { .. } if !fits)
                || (e == Error::Segments && data.is_empty());
            assert!(expected, "a header-only change gave {e:?}: {:?}", String::from_utf8_lossy(data));
            assert!(
                !(fits && spec_ok == Some(true)),
                "refused a good header with {e:?}: {:?}",
                String::from_utf8_lossy(data)
            );
            if let Error::UnknownKey { kid: reported } = e
                && let Json::Object(map) = &json
            {
                let kid = str_member(map, "kid");
                assert!(kid.is_some_and(|k| k != FUZZ_KID && k != "other"), "UnknownKey for kid {kid:?}");
                // The error carries the token's kid (its first 64 bytes).
                let kid = kid.unwrap_or_default().as_bytes();
                assert_eq!(reported.map(|r| r.as_bytes().to_vec()), Some(kid[..kid.len().min(64)].to_vec()));
            }
        }
    }
}

/// What SPEC §5 decides for claims serde_json read as an acceptable object, at [`NOW`] with
/// [`LEEWAY`], for [`AUD`] and the default issuers; `None` when this model cannot tell (a
/// NumericDate that is not a plain integer, which serde_json reads as a rounded `f64`).
fn claims_model(map: &serde_json::Map<String, Value>, groups_capacity: usize) -> Option<bool> {
    let date = |name: &str| -> Option<Option<Option<u64>>> {
        // Some(None): absent; Some(Some(None)): present and invalid; None: cannot tell.
        match map.get(name) {
            None => Some(None),
            Some(Value::Number(n)) if n.is_u64() => Some(Some(n.as_u64())),
            Some(Value::Number(n)) if n.is_i64() => Some(Some(None)),
            Some(Value::Number(_)) => None,
            Some(_) => Some(Some(None)),
        }
    };
    let strings_ok = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    let scalar_ok = ["iss", "sub", "email", "user", "name", "sid", "jti"]
        .iter()
        .all(|name| map.get(*name).is_none_or(Value::is_string));
    let aud_ok = map.get("aud").is_some_and(|a| a.is_string() || strings_ok(a));
    let groups_ok = map.get("groups").is_none_or(|g| g.is_null() || strings_ok(g));
    let (exp, iat, nbf) = (date("exp")?, date("iat")?, date("nbf")?);
    let array_len = |v: Option<&Value>| v.and_then(Value::as_array).map_or(0, Vec::len);
    let capacity_ok = array_len(map.get("aud")) + array_len(map.get("groups")) <= groups_capacity;
    let (Some(Some(exp)), Some(Some(iat))) = (exp, iat) else { return Some(false) };
    if nbf == Some(None) || !(scalar_ok && aud_ok && groups_ok && capacity_ok) {
        return Some(false);
    }
    let late = NOW.saturating_add(LEEWAY);
    let aud = &map["aud"];
    let aud_matches = aud.as_str() == Some(AUD) || aud.as_array().is_some_and(|a| a.iter().any(|v| v == AUD));
    let iss_matches = str_member(map, "iss").is_some_and(|iss| DEFAULT_ISSUERS.contains(&iss));
    Some(
        NOW < exp.saturating_add(LEEWAY)
            && iat <= late
            && nbf.flatten().is_none_or(|nbf| nbf <= late)
            && aud_matches
            && iss_matches,
    )
}

/// A NumericDate as SPEC reads it (whole seconds) against serde_json's `f64` or `u64` reading.
fn assert_date(name: &str, ours: u64, theirs: &Value) {
    let n = theirs.as_number().unwrap_or_else(|| panic!("{name}: accepted a non-number {theirs}"));
    if let Some(u) = n.as_u64() {
        assert_eq!(ours, u, "{name}");
    } else {
        let f = n.as_f64().unwrap();
        // serde_json rounds the decimal to the nearest f64; SPEC drops the exact fraction.
        let tolerance = 1.0 + f.abs() * 4.0 * f64::EPSILON;
        assert!(f > -1.0 && (ours as f64 - f.trunc()).abs() <= tolerance, "{name}: {ours} vs {f}");
    }
}

fn assert_strings(name: &str, ours: impl Iterator<Item = impl AsRef<str>>, theirs: &Value) {
    let theirs: Vec<&str> = theirs
        .as_array()
        .unwrap_or_else(|| panic!("{name}: not an array"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let ours: Vec<String> = ours.map(|s| s.as_ref().to_owned()).collect();
    assert_eq!(ours, theirs, "{name}");
}

/// Every claim the verifier returned is what serde_json reads in the same text.
pub fn assert_claims_match(claims: &Claims<'_>, map: &serde_json::Map<String, Value>) {
    assert_eq!(Some(claims.iss), str_member(map, "iss"));
    for (name, ours) in [
        ("sub", claims.sub),
        ("email", claims.email),
        ("user", claims.user),
        ("name", claims.name),
        ("sid", claims.sid),
        ("jti", claims.jti),
    ] {
        assert_eq!(ours, str_member(map, name), "{name}");
    }
    match claims.aud {
        Audience::One(one) => assert_eq!(Some(one), str_member(map, "aud")),
        Audience::Many(many) => assert_strings("aud", many.iter(), &map["aud"]),
    }
    match map.get("groups") {
        None | Some(Value::Null) => assert!(claims.groups.is_empty()),
        Some(groups) => assert_strings("groups", claims.groups.iter(), groups),
    }
    assert_date("exp", claims.exp, &map["exp"]);
    assert_date("iat", claims.iat, &map["iat"]);
    match (claims.nbf, map.get("nbf")) {
        (None, None) => {}
        (Some(ours), Some(theirs)) => assert_date("nbf", ours, theirs),
        (ours, theirs) => panic!("nbf: {ours:?} vs {theirs:?}"),
    }
}

pub fn claims_json_check(data: &[u8]) {
    let token = sign_parts(fuzz_signing_key(), GOOD_HEADER.as_bytes(), data);
    let verifier = Verifier::new(fuzz_keys(), AUD);
    let mut buffers = Box::new(TokenBuffers::new());
    let result = library(|| verifier.verify(&token, UnixTime::from_secs(NOW), &mut buffers));
    let json = Json::read(data);
    let fits = token.len() <= 16384;
    let model = match &json {
        Json::Object(map) => claims_model(map, 64),
        Json::Refused | Json::Malformed => Some(false),
        Json::Unsure => None,
    };
    match result {
        Ok(claims) => {
            assert_policy(&claims, NOW, LEEWAY, AUD, &DEFAULT_ISSUERS);
            assert!(std::str::from_utf8(data).is_ok(), "accepted claims that are not UTF-8");
            assert_ne!(model, Some(false), "accepted claims SPEC refuses: {:?}", String::from_utf8_lossy(data));
            if let Json::Object(map) = &json {
                assert_claims_match(&claims, map);
            }
        }
        Err(e) => {
            format_error(&e);
            let expected = !is_header_stage(&e)
                && !matches!(e, Error::BadSignature | Error::SignatureLength | Error::Base64(_) | Error::Segments)
                && (fits || matches!(e, Error::TokenTooLarge { .. }))
                || (e == Error::Segments && data.is_empty());
            assert!(expected, "a claims-only change gave {e:?}");
            assert!(
                !(fits && model == Some(true)),
                "refused claims SPEC accepts with {e:?}: {:?}",
                String::from_utf8_lossy(data)
            );
        }
    }
}

/// Any claim of a verified token, read through `Claims::get`, `members` and `payload`, against
/// serde_json's reading of the same payload; the input is the payload, signed inside the target.
pub fn claims_access_check(data: &[u8]) {
    let token = sign_parts(fuzz_signing_key(), GOOD_HEADER.as_bytes(), data);
    let verifier = Verifier::new(fuzz_keys(), AUD);
    let mut buffers = Box::new(TokenBuffers::new());
    let Ok(claims) = library(|| verifier.verify(&token, UnixTime::from_secs(NOW), &mut buffers)) else {
        return;
    };
    assert_eq!(claims.payload().as_bytes(), data, "the payload is not the one signed");
    let reference = match Json::read(data) {
        Json::Object(map) => Some(map),
        _ => None,
    };
    let mut scratch = vec![0u8; data.len()];
    let mut count = 0;
    let mut members = claims.members();
    while let Some((name, value)) = library(|| members.next()) {
        count += 1;
        // Top-level names were checked to unescape; the lookup by name finds the same value.
        let name = library(|| name.unescape_into(&mut scratch).map(|n| n.len()))
            .map(|len| String::from_utf8(scratch[..len].to_vec()).unwrap())
            .expect("a member name that does not unescape");
        let again = library(|| claims.get(&name)).expect("get() misses a member that members() yields");
        assert_eq!(again.json(), value.json(), "get({name:?}) and members() disagree");
        let ours = typed(value, &mut scratch);
        if let (Some(map), Some(ours)) = (&reference, ours) {
            let theirs = map.get(&name).unwrap_or_else(|| panic!("a member serde_json does not see: {name:?}"));
            let same = match (&ours, theirs) {
                (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
                _ => &ours == theirs,
            };
            assert!(same, "{name:?}: ours {ours:?}, serde_json's {theirs:?}");
        }
    }
    if let Some(map) = &reference {
        assert_eq!(count, map.len(), "members() and serde_json count differently");
    }
}

/// A value of ours as serde_json's, when every string in it unescapes (no lone surrogate).
fn typed(value: pomerium_jwt::Value<'_>, scratch: &mut [u8]) -> Option<Value> {
    use pomerium_jwt::Value as Ours;
    let text = |s: pomerium_jwt::JsonStr<'_>, scratch: &mut [u8]| {
        let len = library(|| s.unescape_into(scratch).map(str::len)).ok()?;
        Some(Value::String(String::from_utf8(scratch[..len].to_vec()).unwrap()))
    };
    Some(match value {
        Ours::Null => Value::Null,
        Ours::Bool(b) => Value::Bool(b),
        Ours::Number(n) => serde_json::from_str(n).ok()?,
        Ours::String(s) => text(s, scratch)?,
        Ours::Strings(list) => {
            let (mut items, mut strings) = (Vec::new(), list.iter());
            while let Some(s) = library(|| strings.next()) {
                items.push(text(s, scratch)?);
            }
            assert_eq!(items.len(), list.len());
            Value::Array(items)
        }
        Ours::Json(json) => serde_json::from_str(json).ok()?,
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------------
// Key targets. Every key set starts with one key, to check that a refused input leaves it as it
// was (the all-or-nothing rule of `KeySet`).

fn start_set<const N: usize>() -> KeySet<N> {
    let mut keys = KeySet::new();
    keys.insert(public_key(other_signing_key()), Some("other")).unwrap();
    keys
}

/// Checks what an `add_*` call did: `Ok(n)` read `n` usable keys and stored each new one once
/// (a key the set already had, or one repeated in the input, is not stored again), `Err` added
/// none.
fn check_added<const N: usize>(keys: &KeySet<N>, result: Result<usize, Error>) -> Vec<PublicKey> {
    match result {
        Ok(n) => {
            assert!(keys.len() <= n + 1, "Ok({n}) but the set grew to {}", keys.len());
            assert!(n > 0 || keys.len() == 1, "Ok(0) but the set grew to {}", keys.len());
            let added: Vec<PublicKey> = keys.keys().skip(1).copied().collect();
            for key in &added {
                let (thumbprint, kid) = library(|| (key.thumbprint(), key.pomerium_kid()));
                assert_eq!(kid.len(), 64);
                assert!(
                    kid.bytes()
                        .zip(thumbprint.iter().flat_map(|b| [b >> 4, b & 15]))
                        .all(|(c, n)| { char::from(c).to_digit(16) == Some(u32::from(n)) && !c.is_ascii_uppercase() })
                );
                let sec1 = key.to_sec1_uncompressed();
                assert_eq!(PublicKey::from_sec1(&sec1).as_ref(), Ok(key));
            }
            added
        }
        Err(e) => {
            format_error(&e);
            assert_eq!(keys.len(), 1, "{e:?}, but the set changed");
            Vec::new()
        }
    }
}

/// The coordinates of a JWK that serde_json reads, if they are 32-byte base64url strings.
fn jwk_point(jwk: &Value) -> Option<[u8; 65]> {
    let mut point = [4u8; 65];
    for (name, at) in [("x", 1), ("y", 33)] {
        let bytes = Base64UrlUnpadded::decode_vec(jwk.get(name)?.as_str()?).ok()?;
        point.get_mut(at..at + 32)?.copy_from_slice(bytes.get(..32).filter(|_| bytes.len() == 32)?);
    }
    Some(point)
}

pub fn key_jwk_check(data: &[u8]) {
    let mut keys = start_set::<4>();
    let result = library(|| keys.add_jwk(data));
    let added = check_added(&keys, result);
    if let [key] = added[..] {
        if let Json::Object(map) = Json::read(data) {
            assert_eq!(str_member(&map, "kty"), Some("EC"));
            assert_eq!(str_member(&map, "crv"), Some("P-256"));
            assert!(!map.contains_key("d"), "accepted a private JWK");
            let point = jwk_point(&Value::Object(map)).expect("accepted a JWK without 32-byte x and y");
            assert_eq!(key.to_sec1_uncompressed(), point);
        }
    } else {
        assert!(added.is_empty(), "add_jwk added {} keys", added.len());
    }
}

pub fn key_jwks_check(data: &[u8]) {
    let mut keys = start_set::<8>();
    let result = library(|| keys.add_jwks(data));
    let added = check_added(&keys, result);
    if let Json::Object(map) = Json::read(data)
        && result.is_ok()
    {
        let members = match map.get("keys") {
            Some(Value::Array(members)) => members.clone(),
            Some(Value::Null) => Vec::new(),
            other => panic!("accepted a JWKS whose keys is {other:?}"),
        };
        assert!(added.len() <= members.len());
        let points: Vec<[u8; 65]> = members.iter().filter_map(jwk_point).collect();
        for key in &added {
            assert!(points.contains(&key.to_sec1_uncompressed()), "a key that is in no member");
        }
    }
}

/// Whether `haystack` holds the key's SEC1 point, uncompressed or compressed.
fn holds_point(haystack: &[u8], key: &PublicKey) -> bool {
    let full = key.to_sec1_uncompressed();
    let mut compressed = [0u8; 33];
    compressed[0] = 2 | (full[64] & 1);
    compressed[1..].copy_from_slice(&full[1..33]);
    haystack.windows(65).any(|w| w == full) || haystack.windows(33).any(|w| w == compressed)
}

pub fn key_der_check(data: &[u8]) {
    let (spki, cert) = library(|| (PublicKey::from_spki_der(data), PublicKey::from_certificate_der(data)));
    for key in [&spki, &cert].into_iter().flatten() {
        assert!(holds_point(data, key), "a key whose point is not in the DER");
    }
    for e in [&spki, &cert].into_iter().filter_map(|r| r.as_ref().err()) {
        format_error(e);
    }
    let mut keys = start_set::<4>();
    let result = library(|| keys.add_der(data));
    let added = check_added(&keys, result);
    assert!(added.len() <= 1);
    if let [key] = added[..] {
        assert_eq!(data.first(), Some(&0x30));
        assert!(spki.as_ref() == Ok(&key) || cert.as_ref() == Ok(&key), "add_der disagrees with from_*_der");
    }
}

pub fn key_pem_check(data: &[u8]) {
    let mut keys = start_set::<8>();
    let mut scratch = vec![0u8; data.len()];
    let result = library(|| keys.add_pem(data, &mut scratch));
    let added = check_added(&keys, result);
    let begins = data.windows(11).filter(|w| w == b"-----BEGIN ").count();
    assert!(added.len() <= begins, "{} keys from {begins} PEM blocks", added.len());
}

pub fn key_base64_pem_check(data: &[u8]) {
    let mut keys = start_set::<8>();
    let mut scratch = vec![0u8; 2 * data.len()];
    let result = library(|| keys.add_base64_pem(data, &mut scratch));
    let added = check_added(&keys, result);
    if result.is_ok() {
        // The same keys as the PEM text inside, read on its own.
        let text: Vec<u8> = data.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        let pem = Base64::decode_vec(std::str::from_utf8(&text).unwrap()).expect("accepted base64 base64ct refuses");
        let mut again = start_set::<8>();
        let mut scratch = vec![0u8; pem.len()];
        assert_eq!(library(|| again.add_pem(&pem, &mut scratch)), result);
        assert!(again.keys().skip(1).eq(added.iter()));
    }
}

pub fn key_any_check(data: &[u8]) {
    let mut keys = start_set::<8>();
    let mut scratch = vec![0u8; 2 * data.len()];
    let result = library(|| keys.add_any(data, &mut scratch));
    let added = check_added(&keys, result);
    let pem_like = data.windows(10).any(|w| w == b"-----BEGIN");
    if matches!((data.len(), data.first()), (33, Some(2 | 3)) | (65, Some(4))) && !pem_like {
        let sec1 = library(|| PublicKey::from_sec1(data));
        // The crate checks uncompressed points itself: p256's parser must agree.
        let p256 = p256::ecdsa::VerifyingKey::from_sec1_bytes(data);
        assert_eq!(sec1.is_ok(), p256.is_ok(), "from_sec1 disagrees with p256");
        assert_eq!(sec1.ok().as_slice(), &added[..], "add_any disagrees with from_sec1");
    }
}

/// A target's check: the fuzzer's bytes in, a panic out when an invariant breaks.
pub type Check = fn(&[u8]);

/// The checks by target name, for the stable replay of the seeds.
pub const CHECKS: &[(&str, Check)] = &[
    ("decode_unverified", decode_unverified_check),
    ("verify", verify_check),
    ("header_json", header_json_check),
    ("claims_json", claims_json_check),
    ("claims_access", claims_access_check),
    ("key_jwk", key_jwk_check),
    ("key_jwks", key_jwks_check),
    ("key_der", key_der_check),
    ("key_pem", key_pem_check),
    ("key_base64_pem", key_base64_pem_check),
    ("key_any", key_any_check),
];
