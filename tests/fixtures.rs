//! The committed fixtures of `tests/data` (made by OpenSSL, Python `cryptography`/PyJWT and node
//! `jose`; see tests/data/README.md), each with the verdict it declares.

use std::fmt::Write as _;
use std::path::Path;

use base64ct::{Base64UrlUnpadded, Encoding};
use pomerium_jwt::{Audience, Buffers, Error, KeyError, KeySet, UnixTime, Verifier};
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn manifest(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(Path::new(DATA).join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Loads key files as the command-line tool does: any accepted format, recognised by contents.
pub fn load_keys(keys: &mut KeySet<1024>, file: &str) -> Result<usize, Error> {
    let bytes = std::fs::read(Path::new(DATA).join(file)).unwrap();
    let mut scratch = vec![0u8; 2 * bytes.len() + 64];
    keys.add_any(&bytes, &mut scratch)
}

/// The fixture manifests' name for each rejection.
pub fn kind(error: &Error) -> &'static str {
    match error {
        Error::Segments | Error::Base64(_) | Error::SignatureLength | Error::Json { .. } => "malformed",
        Error::TokenTooLarge { .. } | Error::Capacity(_) => "too_large",
        Error::UnsupportedAlgorithm => "unsupported_alg",
        Error::CriticalHeader => "crit",
        Error::BadHeader(_) => "bad_header",
        Error::UnknownKey { .. } => "unknown_key",
        Error::BadSignature => "bad_signature",
        Error::Expired { .. } => "expired",
        Error::NotYetValid { .. } => "not_yet_valid",
        Error::IssuedInFuture { .. } => "issued_in_future",
        Error::WrongAudience => "wrong_audience",
        Error::WrongIssuer => "wrong_issuer",
        Error::MissingClaim(_) => "missing_claim",
        Error::InvalidClaim(_) => "invalid_claim",
        other => panic!("no fixture kind for {other:?}"),
    }
}

#[test]
fn every_token_fixture_gets_its_verdict() {
    let cases = manifest("tokens.json");
    assert!(cases.len() > 300, "{} token cases", cases.len());
    let mut buffers: Box<Buffers<{ 1 << 17 }, 4096>> = Box::default();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let mut keys = KeySet::<1024>::new();
        for file in case["keys"].as_array().unwrap() {
            load_keys(&mut keys, file.as_str().unwrap()).unwrap_or_else(|e| panic!("{name}: key {file}: {e}"));
        }
        let mut verifier = Verifier::new(&keys, case["audience"].as_str().unwrap());
        if let Some(issuer) = case["issuer"].as_str() {
            verifier = verifier.with_issuer(issuer);
        }
        if let Some(leeway) = case["leeway"].as_u64() {
            verifier = verifier.with_leeway(leeway);
        }
        let now = UnixTime::from_secs(case["now"].as_u64().unwrap());
        let token = case["token"].as_str().unwrap();
        let got = match verifier.verify(token, now, &mut buffers) {
            Ok(claims) => {
                let expected = &case["claims"];
                let aud = match claims.aud {
                    Audience::One(one) => Value::from(one),
                    Audience::Many(many) => Value::from(many.iter().collect::<Vec<_>>()),
                };
                let actual = serde_json::json!({
                    "iss": claims.iss, "aud": aud, "sub": claims.sub, "email": claims.email,
                    "user": claims.user, "name": claims.name, "sid": claims.sid, "jti": claims.jti,
                    "groups": claims.groups.iter().collect::<Vec<_>>(),
                    "exp": claims.exp, "iat": claims.iat, "nbf": claims.nbf,
                });
                if case["expect"] == "ok" && &actual != expected {
                    failures.push(format!("{name}: claims {actual} != {expected}"));
                }
                "ok".to_owned()
            }
            Err(e) => format!("{} ({e:?})", kind(&e)),
        };
        let expect = case["expect"].as_str().unwrap();
        if got.split(' ').next() != Some(expect) {
            failures.push(format!("{name}: expected {expect}, got {got}; {}", case["why"]));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

#[test]
fn every_key_fixture_gets_its_verdict() {
    let cases = manifest("keys.json");
    assert!(cases.len() > 40, "{} key cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let mut keys = KeySet::<1024>::new();
        let result = load_keys(&mut keys, case["file"].as_str().unwrap());
        let got = match &result {
            Ok(0) => "no_keys",
            Ok(_) => "ok",
            Err(Error::Key(KeyError::PrivateKey | KeyError::RsaPrivateKey)) => "private_key",
            Err(Error::Key(KeyError::Unsupported)) => "unsupported_key",
            Err(Error::Key(KeyError::Invalid)) => "invalid_key",
            Err(_) => "malformed",
        };
        let expect = case["expect"].as_str().unwrap();
        if got != expect {
            failures.push(format!("{name}: expected {expect}, got {got} ({result:?}); {}", case["why"]));
            continue;
        }
        if expect != "ok" {
            assert!(keys.is_empty(), "{name}: a refused file must add no key");
            continue;
        }
        let want = case["keys"].as_array().unwrap();
        if keys.len() != want.len() {
            failures.push(format!("{name}: {} keys, expected {}", keys.len(), want.len()));
            continue;
        }
        for (key, want) in keys.keys().zip(want) {
            let sec1 = key.to_sec1_uncompressed();
            let hex = |b: &[u8]| {
                b.iter().fold(String::new(), |mut out, b| {
                    let _ = write!(out, "{b:02x}");
                    out
                })
            };
            let thumbprint = Base64UrlUnpadded::encode_string(&key.thumbprint());
            let got = (hex(&sec1[1..33]), hex(&sec1[33..]), thumbprint, key.pomerium_kid().to_string());
            let expected = (
                want["x"].as_str().unwrap().to_owned(),
                want["y"].as_str().unwrap().to_owned(),
                want["thumbprint"].as_str().unwrap().to_owned(),
                want["pomerium_kid"].as_str().unwrap().to_owned(),
            );
            if got != expected {
                failures.push(format!("{name}: key {got:?} != {expected:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}
