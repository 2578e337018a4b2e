//! The verifier against docs/SPEC.md, rule by rule, with tokens signed in the test.

use std::fmt::Write as _;

use crate::common::*;
use pomerium_jwt::{
    Audience, Buffers, Capacity, Claim, Error, HeaderParam, JsonError, KeySet, Part, PublicKey, UnixTime, UnknownKid,
    Verifier,
};

/// The error for a token whose kid is `key`'s Pomerium kid, when the set has no key for it.
fn unknown(key: &PublicKey) -> Error {
    Error::UnknownKey { kid: Some(UnknownKid::new(key.pomerium_kid().as_bytes())) }
}

fn verify(token: &str) -> Result<(), Error> {
    verify_with(token, |v| v)
}

fn verify_with(token: &str, configure: impl FnOnce(Verifier<'_>) -> Verifier<'_>) -> Result<(), Error> {
    let keys = keyset(1);
    let verifier = configure(Verifier::new(&keys, AUD));
    let mut buffers = Buffers::<16384, 1024>::new();
    verifier.verify(token, UnixTime::from_secs(NOW), &mut buffers).map(drop)
}

/// A token over these exact claims, signed with a valid signature.
fn signed_claims(claims: &str) -> String {
    sign(1, &header(1), claims)
}

fn signed_header(header: &str) -> String {
    sign(1, header, &claims(""))
}

#[test]
fn typical_token_yields_every_claim() {
    let keys = keyset(1);
    let mut buffers = Buffers::<8192, 128>::new();
    let token = token();
    let claims = Verifier::new(&keys, AUD).verify(&token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
    assert_eq!(claims.iss, AUD);
    assert!(matches!(claims.aud, Audience::One(AUD)));
    assert_eq!(claims.sub, Some("alice-id"));
    assert_eq!(claims.email, Some("alice@example.com"));
    assert_eq!(claims.user, Some("alice"));
    assert_eq!(claims.name, Some("Alice"));
    assert_eq!(claims.sid, Some("s1"));
    assert_eq!(claims.jti, Some("7d3a"));
    assert_eq!(claims.groups.iter().collect::<Vec<_>>(), ["admins", "devs"]);
    assert_eq!((claims.exp, claims.iat, claims.nbf), (EXP, IAT, None));
}

#[test]
fn high_and_low_s_both_verify() {
    let token = token();
    let flipped = flip_s(&token);
    let (s, t) = (signature_of(&token), signature_of(&flipped));
    assert_ne!(is_high(&s[32..]), is_high(&t[32..]));
    assert_eq!(verify(&token), Ok(()));
    assert_eq!(verify(&flipped), Ok(()));
}

#[test]
fn signature_scalars_out_of_range_are_refused() {
    let token = token();
    let sig = signature_of(&token);
    let (r, s) = sig.split_at(32);
    let zero = [0u8; 32];
    let mut n_plus_1 = ORDER;
    n_plus_1[31] += 1;
    for (name, r, s) in [
        ("r = 0", &zero[..], s),
        ("s = 0", r, &zero[..]),
        ("r = n", &ORDER[..], s),
        ("s = n", r, &ORDER[..]),
        ("r = n + 1", &n_plus_1[..], s),
        ("s = n + 1", r, &n_plus_1[..]),
        ("r = 2^256 - 1", &[0xFF; 32][..], s),
    ] {
        let bad = with_signature(&token, &[r, s].concat());
        assert_eq!(verify(&bad), Err(Error::BadSignature), "{name}");
    }
    for len in [0usize, 63, 65, 72] {
        let bad = with_signature(&token, &vec![1u8; len]);
        let want = if len == 0 { Error::Segments } else { Error::SignatureLength };
        assert_eq!(verify(&bad), Err(want), "length {len}");
    }
}

#[test]
fn accepted_variants() {
    let ok = |token: String, why: &str| assert_eq!(verify(&token), Ok(()), "{why}");
    ok(sign(1, r#"{"alg":"ES256"}"#, &claims("")), "older header without kid and typ");
    ok(sign(1, r#"{"typ":"jwt","alg":"ES\u0032\u0035\u0036"}"#, &claims("")), "escaped alg, lower-case typ");
    ok(
        sign(1, r#"{"alg":"ES256","jku":"https://evil/","x5u":"x","jwk":{"kty":"EC"},"x5c":["a"]}"#, &claims("")),
        "key-finding headers ignored",
    );
    ok(
        signed_claims(&claims(r#""unknown":{"a":[1,2,{"b":null}],"c":"\ud83d"}"#)),
        "unknown claims skipped, lone surrogate unread",
    );
    ok(signed_claims(&claims(r#""nbf":1700000000"#)), "nbf in the past");
    ok(
        signed_claims(&format!(r#"{{"aud":["x","{AUD}"],"exp":{EXP},"iat":{IAT},"iss":"https://{AUD}/"}}"#)),
        "aud array and https issuer",
    );
    ok(signed_claims(&format!(r#"{{"aud":"{AUD}","exp":{EXP},"iat":{IAT},"iss":"pomerium-proxy"}}"#)), "guide issuer");
    ok(
        signed_claims(&format!(r#"{{"aud":"{AUD}","exp":{EXP}.5,"iat":1.7e9,"iss":"{AUD}","groups":null}}"#)),
        "fractions, exponents, null groups",
    );
    ok(
        signed_claims(&format!(" {{ \"aud\" : \"{AUD}\" ,\n\"exp\":{EXP},\t\"iat\":{IAT},\r\n\"iss\":\"{AUD}\" }} ")),
        "white space",
    );
    ok(
        signed_claims(&format!(r#"{{"aud":"{AUD}","exp":18446744073709551615,"iat":{IAT},"iss":"{AUD}"}}"#)),
        "exp = u64::MAX",
    );
}

#[test]
fn strings_are_fully_unescaped() {
    let keys = keyset(1);
    let mut buffers = Buffers::<8192, 128>::new();
    let token = signed_claims(&format!(
        r#"{{"aud":"{AUD}","exp":{EXP},"iat":{IAT},"iss":"{AUD}","\u0073ub":"a\u0026b\u003cc\u003e","name":"\ud83d\ude00 \"\\\/\b\f\n\r\t","email":"nul\u0000byte","groups":["g\u0026","plain","\u00e9","\ud8c0\udc00\udbff\udfff"]}}"#
    ));
    let claims = Verifier::new(&keys, AUD).verify(&token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
    assert_eq!(claims.sub, Some("a&b<c>"));
    assert_eq!(claims.name, Some("😀 \"\\/\u{8}\u{c}\n\r\t"));
    assert_eq!(claims.email, Some("nul\0byte"));
    // U+40000 and U+10FFFF: surrogate pairs whose code points reach past bit 16 (a fuzzer find).
    assert_eq!(claims.groups.iter().collect::<Vec<_>>(), ["g&", "plain", "é", "\u{40000}\u{10FFFF}"]);
}

#[test]
fn key_choice_follows_kid() {
    let one = public_key(1);
    let two = public_key(2);
    let token_one = token();
    let no_kid = sign(1, r#"{"alg":"ES256"}"#, &claims(""));
    let mut buffers = Buffers::<8192, 128>::new();
    let now = UnixTime::from_secs(NOW);

    // Rotation: old and new key, each under its kid; both keys' tokens verify.
    let mut rotation = KeySet::<4>::new();
    rotation.insert(one, Some(one.pomerium_kid().as_str())).unwrap();
    rotation.insert(two, Some(two.pomerium_kid().as_str())).unwrap();
    let token_two = sign(2, &header(2), &claims(""));
    for token in [&token_one, &token_two, &no_kid] {
        assert!(Verifier::new(&rotation, AUD).verify(token, now, &mut buffers).is_ok());
    }

    // The kid names a key outside the set: unknown, even though a key with another kid exists.
    let mut only_two = KeySet::<4>::new();
    only_two.insert(two, Some(two.pomerium_kid().as_str())).unwrap();
    assert_eq!(Verifier::new(&only_two, AUD).verify(&token_one, now, &mut buffers).map(drop), Err(unknown(&one)));
    // A token without kid tries every key.
    assert_eq!(Verifier::new(&only_two, AUD).verify(&no_kid, now, &mut buffers).map(drop), Err(Error::BadSignature));

    // Keys without kid are candidates for every token.
    let mut anonymous = KeySet::<4>::new();
    anonymous.insert(two, None).unwrap();
    anonymous.insert(one, None).unwrap();
    assert!(Verifier::new(&anonymous, AUD).verify(&token_one, now, &mut buffers).is_ok());

    // An empty kid is a kid like any other.
    let mut empty_kid = KeySet::<4>::new();
    empty_kid.insert(one, Some("")).unwrap();
    let token_empty = sign(1, r#"{"alg":"ES256","kid":""}"#, &claims(""));
    assert!(Verifier::new(&empty_kid, AUD).verify(&token_empty, now, &mut buffers).is_ok());
    assert_eq!(Verifier::new(&empty_kid, AUD).verify(&token_one, now, &mut buffers).map(drop), Err(unknown(&one)));

    // Kids compare unescaped.
    let kid = one.pomerium_kid();
    let escaped_kid = format!("\\u{:04x}{}", kid.as_bytes()[0], &kid[1..]);
    let escaped = sign(1, &format!(r#"{{"alg":"ES256","kid":"{escaped_kid}"}}"#), &claims(""));
    assert!(Verifier::new(&rotation, AUD).verify(&escaped, now, &mut buffers).is_ok());

    let empty = KeySet::<4>::new();
    assert_eq!(
        Verifier::new(&empty, AUD).verify(&no_kid, now, &mut buffers).map(drop),
        Err(Error::UnknownKey { kid: None })
    );
}

#[test]
fn claims_name_the_key_that_verified() {
    let (one, two, three) = (public_key(1), public_key(2), public_key(3));
    let mut buffers = Buffers::<8192, 128>::new();
    let now = UnixTime::from_secs(NOW);
    // A rotation with a key without kid first: tokens of key 2 and 3 under their kids, and a
    // token of key 2 without kid, which every key is tried for.
    let mut keys = KeySet::<4>::new();
    keys.insert(one, None).unwrap();
    keys.insert(two, Some(two.pomerium_kid().as_str())).unwrap();
    keys.insert(three, Some(three.pomerium_kid().as_str())).unwrap();
    let cases = [
        (sign(1, &header(1), &claims("")), 0),
        (sign(2, &header(2), &claims("")), 1),
        (sign(3, &header(3), &claims("")), 2),
        (sign(2, r#"{"alg":"ES256"}"#, &claims("")), 1),
    ];
    for (token, index) in cases {
        let claims = Verifier::new(&keys, AUD).verify(&token, now, &mut buffers).unwrap();
        assert_eq!(claims.key_index(), index);
    }
}

/// Every key is tried at most once per token, whatever was loaded twice: counted through a
/// signature that no key verifies, with each key's verification observed by its kid mapping.
#[test]
fn each_key_is_stored_and_tried_once() {
    let one = public_key(1);
    let two = public_key(2);
    let kid_one = one.pomerium_kid();

    // The same key, same kid, three times: one entry, no capacity used.
    let mut set = KeySet::<2>::new();
    for _ in 0..3 {
        set.insert(one, Some(kid_one.as_str())).unwrap();
    }
    assert_eq!(set.len(), 1);
    set.insert(two, None).unwrap();
    assert_eq!(set.len(), 2);
    // Full, but a key it has is still accepted as a no-op; a new one is not.
    assert_eq!(set.insert(two, None), Ok(()));
    assert_eq!(set.insert(one, Some("another kid")), Err(Error::Capacity(Capacity::Keys)));

    // A keyed copy of a key that is already there without kid adds nothing.
    let mut set = KeySet::<4>::new();
    set.insert(one, None).unwrap();
    set.insert(one, Some(kid_one.as_str())).unwrap();
    assert_eq!(set.len(), 1);

    // The same key under two kids, then without kid: each token still finds it once.
    let mut set = KeySet::<4>::new();
    set.insert(one, Some("a")).unwrap();
    set.insert(one, Some("b")).unwrap();
    assert_eq!(set.len(), 2);
    set.insert(one, None).unwrap();
    assert_eq!(set.len(), 3);
    let now = UnixTime::from_secs(NOW);
    let mut buffers: Buffers = Buffers::new();
    for header in [
        r#"{"alg":"ES256","kid":"a"}"#,
        r#"{"alg":"ES256","kid":"b"}"#,
        r#"{"alg":"ES256","kid":"c"}"#,
        r#"{"alg":"ES256"}"#,
    ] {
        let token = sign(1, header, &claims(""));
        assert!(Verifier::new(&set, AUD).verify(&token, now, &mut buffers).is_ok(), "{header}");
    }
}

/// A refresh that reads the same JWKS again stores nothing new: Pomerium's rotation document
/// (two keys) loaded eleven times still takes two entries.
#[test]
fn refreshing_the_same_jwks_never_fills_the_set() {
    let jwks = std::fs::read("tests/data/python/jwks-rotation.json").unwrap();
    let mut set = KeySet::<4>::new();
    let read = set.add_any(&jwks, &mut vec![0; jwks.len() * 2 + 64]).unwrap();
    assert!(read >= 1);
    let stored = set.len();
    for _ in 0..10 {
        assert_eq!(set.add_any(&jwks, &mut vec![0; jwks.len() * 2 + 64]), Ok(read));
    }
    assert_eq!(set.len(), stored);

    // clear, then load again: the set is as new.
    set.clear();
    assert!(set.is_empty());
    assert_eq!(set.add_any(&jwks, &mut vec![0; jwks.len() * 2 + 64]), Ok(read));
    assert_eq!(set.len(), stored);
}

/// A file that fails half-way leaves the set as it was, including which keys cover which.
#[test]
fn a_refused_file_leaves_the_set_as_it_was() {
    let one = public_key(1);
    let mut set = KeySet::<4>::new();
    set.insert(one, Some("a")).unwrap();
    // A JWKS whose first member is key one without kid (it would cover "a"), then a broken one.
    let point = one.to_sec1_uncompressed();
    let good = format!(r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#, b64(&point[1..33]), b64(&point[33..]));
    let broken = format!(r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"}}"#, b64(&point[1..33]), b64(&point[1..33]));
    let jwks = format!(r#"{{"keys":[{good},{broken}]}}"#);
    assert!(set.add_jwks(jwks.as_bytes()).is_err());
    assert_eq!(set.len(), 1);
    // Key one under kid "a" must still be tried for kid "a".
    let token = sign(1, r#"{"alg":"ES256","kid":"a"}"#, &claims(""));
    let mut buffers: Buffers = Buffers::new();
    assert!(Verifier::new(&set, AUD).verify(&token, UnixTime::from_secs(NOW), &mut buffers).is_ok());
}

#[test]
fn an_empty_audience_is_refused_before_anything_else() {
    let set = keyset(1);
    let mut buffers: Buffers = Buffers::new();
    let now = UnixTime::from_secs(NOW);
    // A token whose aud is "" would otherwise match it.
    let token = signed_claims(r#"{"iss":"pomerium-proxy","aud":"","exp":1700000300,"iat":1700000000}"#);
    assert_eq!(Verifier::new(&set, "").verify(&token, now, &mut buffers).map(drop), Err(Error::EmptyAudience));
    assert_eq!(Verifier::new(&set, "").verify("x", now, &mut buffers).map(drop), Err(Error::EmptyAudience));
}

/// Pomerium with an RSA signing key signs RS256: the algorithm is what is reported, not the
/// 256-byte signature; so for any other alg with a signature of the wrong size.
#[test]
fn a_wrong_alg_is_reported_before_the_signature_length() {
    for (alg, sig_len) in [("RS256", 256), ("RS256", 512), ("HS256", 32), ("ES384", 96), ("none", 0), ("PS256", 256)] {
        let header = b64(format!(r#"{{"alg":"{alg}","kid":"k","typ":"JWT"}}"#).as_bytes());
        let payload = b64(claims("").as_bytes());
        let sig = if sig_len == 0 { "AA".to_owned() } else { b64(&vec![7u8; sig_len]) };
        let token = format!("{header}.{payload}.{sig}");
        assert_eq!(verify(&token), Err(Error::UnsupportedAlgorithm), "{alg}");
    }
}

#[test]
fn time_checks_with_leeway() {
    let at = |exp: u64, iat: u64, nbf: Option<u64>, leeway: Option<u64>| {
        let nbf = nbf.map(|n| format!(r#","nbf":{n}"#)).unwrap_or_default();
        let token = signed_claims(&format!(r#"{{"aud":"{AUD}","exp":{exp},"iat":{iat},"iss":"{AUD}"{nbf}}}"#));
        verify_with(&token, |v| match leeway {
            Some(l) => v.with_leeway(l),
            None => v,
        })
    };
    // now < exp + leeway (default 60)
    assert_eq!(at(NOW - 59, IAT, None, None), Ok(()));
    assert_eq!(at(NOW - 60, IAT, None, None), Err(Error::Expired { exp: NOW - 60, now: NOW, leeway: 60 }));
    assert_eq!(at(NOW + 1, IAT, None, Some(0)), Ok(()));
    assert_eq!(at(NOW, IAT, None, Some(0)), Err(Error::Expired { exp: NOW, now: NOW, leeway: 0 }));
    // iat <= now + leeway
    assert_eq!(at(EXP, NOW + 60, None, None), Ok(()));
    assert_eq!(at(EXP, NOW + 61, None, None), Err(Error::IssuedInFuture { iat: NOW + 61, now: NOW, leeway: 60 }));
    assert_eq!(at(EXP, NOW + 1, None, Some(0)), Err(Error::IssuedInFuture { iat: NOW + 1, now: NOW, leeway: 0 }));
    // nbf <= now + leeway
    assert_eq!(at(EXP, IAT, Some(NOW + 60), None), Ok(()));
    assert_eq!(at(EXP, IAT, Some(NOW + 61), None), Err(Error::NotYetValid { nbf: NOW + 61, now: NOW, leeway: 60 }));
    // Saturating: huge leeway and huge dates neither wrap nor panic.
    assert_eq!(at(u64::MAX, IAT, Some(u64::MAX), Some(u64::MAX)), Ok(()));
    assert_eq!(at(0, 0, None, Some(u64::MAX)), Ok(()));
    assert_eq!(at(0, 0, None, Some(0)), Err(Error::Expired { exp: 0, now: NOW, leeway: 0 }));
}

#[test]
fn audience_and_issuer() {
    let with =
        |aud: &str, iss: &str| signed_claims(&format!(r#"{{"aud":{aud},"exp":{EXP},"iat":{IAT},"iss":"{iss}"}}"#));
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Result<(), Error>);
    let cases: &[Case<'_>] = &[
        (r#""app.example.com""#, "app.example.com", None, Ok(())),
        (r#""app.example.com""#, "https://app.example.com/", None, Ok(())),
        (r#""app.example.com""#, "pomerium-proxy", None, Ok(())),
        (r#""app.example.com""#, "https://app.example.com", None, Err(Error::WrongIssuer)),
        (r#""app.example.com""#, "http://app.example.com/", None, Err(Error::WrongIssuer)),
        (r#""app.example.com""#, "https://app.example.com//", None, Err(Error::WrongIssuer)),
        (r#""app.example.com""#, "authenticate.example.com", None, Err(Error::WrongIssuer)),
        (r#""app.example.com""#, "authenticate.example.com", Some("authenticate.example.com"), Ok(())),
        (r#""app.example.com""#, "app.example.com", Some("authenticate.example.com"), Err(Error::WrongIssuer)),
        (r#"["a","app.example.com"]"#, "app.example.com", None, Ok(())),
        (r#"[]"#, "app.example.com", None, Err(Error::WrongAudience)),
        (r#""App.example.com""#, "app.example.com", None, Err(Error::WrongAudience)),
        (r#""app.example.com/""#, "app.example.com", None, Err(Error::WrongAudience)),
        (r#"["app.example.com.evil"]"#, "app.example.com", None, Err(Error::WrongAudience)),
        (r#""app.example\u002ecom""#, "app.example.com", None, Ok(())),
    ];
    for (aud, iss, issuer, want) in cases {
        let token = with(aud, iss);
        let got = verify_with(&token, |v| match issuer {
            Some(i) => v.with_issuer(i),
            None => v,
        });
        assert_eq!(&got, want, "aud {aud}, iss {iss}, issuer {issuer:?}");
    }
}

/// Every "reject" of docs/SPEC.md §1-5 that a token can carry, each with a valid signature unless
/// the case is about the signature or the structure.
#[test]
fn rejections() {
    let json = |part, reason| Err(Error::Json { part, reason });
    let payload = |reason| json(Part::Payload, reason);
    let base = |extra: &str| format!(r#"{{"aud":"{AUD}","exp":{EXP},"iat":{IAT},"iss":"{AUD}"{extra}}}"#);
    let good = token();
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();

    let cases: Vec<(&str, String, Result<(), Error>)> = vec![
        // §1 structure and base64url
        ("two segments", format!("{h}.{p}"), Err(Error::Segments)),
        ("four segments", format!("{good}.{s}"), Err(Error::Segments)),
        ("five segments", format!("{good}.{s}.{s}"), Err(Error::Segments)),
        ("empty header", format!(".{p}.{s}"), Err(Error::Segments)),
        ("empty payload", format!("{h}..{s}"), Err(Error::Segments)),
        ("empty signature", format!("{h}.{p}."), Err(Error::Segments)),
        ("padding", format!("{h}=.{p}.{s}"), Err(Error::Base64(Part::Header))),
        ("plus", format!("{h}.+{p}.{s}"), Err(Error::Base64(Part::Payload))),
        ("slash", format!("{h}.{p}.{}/", &s[..s.len() - 1]), Err(Error::Base64(Part::Signature))),
        ("space inside", format!("{} {}.{p}.{s}", &h[..4], &h[4..]), Err(Error::Base64(Part::Header))),
        ("newline at end", format!("{good}\n"), Err(Error::Base64(Part::Signature))),
        ("DER-sized signature", with_signature(&good, &[0x30; 70]), Err(Error::SignatureLength)),
        ("non-canonical trailing bits", format!("{}.{p}.{s}", noncanonical(h)), Err(Error::Base64(Part::Header))),
        ("non-ASCII", format!("{h}.{p}é.{s}"), Err(Error::Base64(Part::Payload))),
        // §2 header
        ("alg missing", signed_header(r#"{"typ":"JWT"}"#), Err(Error::UnsupportedAlgorithm)),
        ("alg none", signed_header(r#"{"alg":"none"}"#), Err(Error::UnsupportedAlgorithm)),
        ("alg HS256", signed_header(r#"{"alg":"HS256"}"#), Err(Error::UnsupportedAlgorithm)),
        ("alg RS256", signed_header(r#"{"alg":"RS256"}"#), Err(Error::UnsupportedAlgorithm)),
        ("alg ES384", signed_header(r#"{"alg":"ES384"}"#), Err(Error::UnsupportedAlgorithm)),
        ("alg es256", signed_header(r#"{"alg":"es256"}"#), Err(Error::UnsupportedAlgorithm)),
        ("alg number", signed_header(r#"{"alg":256}"#), Err(Error::UnsupportedAlgorithm)),
        ("crit array", signed_header(r#"{"alg":"ES256","crit":["exp"]}"#), Err(Error::CriticalHeader)),
        ("crit empty", signed_header(r#"{"alg":"ES256","crit":[]}"#), Err(Error::CriticalHeader)),
        ("crit string", signed_header(r#"{"alg":"ES256","crit":"x"}"#), Err(Error::CriticalHeader)),
        ("kid number", signed_header(r#"{"alg":"ES256","kid":1}"#), Err(Error::BadHeader(HeaderParam::Kid))),
        ("kid null", signed_header(r#"{"alg":"ES256","kid":null}"#), Err(Error::BadHeader(HeaderParam::Kid))),
        ("typ JOSE", signed_header(r#"{"alg":"ES256","typ":"JOSE"}"#), Err(Error::BadHeader(HeaderParam::Typ))),
        ("typ number", signed_header(r#"{"alg":"ES256","typ":1}"#), Err(Error::BadHeader(HeaderParam::Typ))),
        ("header array", signed_header(r#"["ES256"]"#), json(Part::Header, JsonError::NotObject)),
        (
            "header dup alg",
            signed_header(r#"{"alg":"ES256","alg":"ES256"}"#),
            json(Part::Header, JsonError::DuplicateMember),
        ),
        ("header trailing", signed_header(r#"{"alg":"ES256"}{}"#), json(Part::Header, JsonError::TrailingBytes)),
        // §3 keys and signature
        (
            "other key",
            with_signature(&good, &signature_of(&sign(2, &header(1), &claims("")))),
            Err(Error::BadSignature),
        ),
        ("payload changed", format!("{h}.{}.{s}", b64(claims(r#""admin":true"#).as_bytes())), Err(Error::BadSignature)),
        (
            "unknown kid",
            sign(1, r#"{"alg":"ES256","kid":"other"}"#, &claims("")),
            Err(Error::UnknownKey { kid: Some(UnknownKid::new(b"other")) }),
        ),
        // §4 JSON
        ("payload array", signed_claims("[]"), payload(JsonError::NotObject)),
        ("BOM", signed_claims(&format!("\u{feff}{}", claims(""))), payload(JsonError::NotObject)),
        ("trailing garbage", signed_claims(&format!("{}x", claims(""))), payload(JsonError::TrailingBytes)),
        ("second object", signed_claims(&format!("{}{{}}", claims(""))), payload(JsonError::TrailingBytes)),
        ("duplicate aud", signed_claims(&base(r#","aud":"x""#)), payload(JsonError::DuplicateMember)),
        ("escaped duplicate", signed_claims(&base(r#","\u0061ud":"x""#)), payload(JsonError::DuplicateMember)),
        ("unknown duplicate", signed_claims(&base(r#","x":1,"\u0078":2"#)), payload(JsonError::DuplicateMember)),
        ("lone high surrogate", signed_claims(&base(r#","sub":"\ud83d""#)), payload(JsonError::LoneSurrogate)),
        ("lone low surrogate", signed_claims(&base(r#","email":"\ude00""#)), payload(JsonError::LoneSurrogate)),
        ("surrogate in a group", signed_claims(&base(r#","groups":["\ud800x"]"#)), payload(JsonError::LoneSurrogate)),
        ("bad escape", signed_claims(&base(r#","sub":"\x""#)), payload(JsonError::Escape)),
        ("short escape", signed_claims(&base(r#","sub":"\u12""#)), payload(JsonError::Escape)),
        ("raw control", signed_claims(&base(",\"sub\":\"a\u{1}\"")), payload(JsonError::ControlCharacter)),
        ("raw newline", signed_claims(&base(",\"sub\":\"a\nb\"")), payload(JsonError::ControlCharacter)),
        ("leading zero", signed_claims(&base(r#","x":01"#)), payload(JsonError::Syntax)),
        ("NaN", signed_claims(&base(r#","x":NaN"#)), payload(JsonError::Syntax)),
        ("unterminated", signed_claims(base(r#","x":"abc"#).trim_end_matches('}')), payload(JsonError::Syntax)),
        (
            "too deep",
            signed_claims(&base(&format!(r#","x":{}{}"#, "[".repeat(100), "]".repeat(100)))),
            payload(JsonError::TooDeep),
        ),
        (
            "too many members",
            signed_claims(&base(&(0..200).fold(String::new(), |mut out, i| {
                let _ = write!(out, r#","m{i}":0"#);
                out
            }))),
            Err(Error::Capacity(Capacity::Members)),
        ),
        // §5 claims
        (
            "iss missing",
            signed_claims(&format!(r#"{{"aud":"{AUD}","exp":{EXP},"iat":{IAT}}}"#)),
            Err(Error::MissingClaim(Claim::Iss)),
        ),
        (
            "aud missing",
            signed_claims(&format!(r#"{{"iss":"{AUD}","exp":{EXP},"iat":{IAT}}}"#)),
            Err(Error::MissingClaim(Claim::Aud)),
        ),
        (
            "exp missing",
            signed_claims(&format!(r#"{{"aud":"{AUD}","iss":"{AUD}","iat":{IAT}}}"#)),
            Err(Error::MissingClaim(Claim::Exp)),
        ),
        (
            "iat missing",
            signed_claims(&format!(r#"{{"aud":"{AUD}","iss":"{AUD}","exp":{EXP}}}"#)),
            Err(Error::MissingClaim(Claim::Iat)),
        ),
        (
            "iss number",
            signed_claims(&format!(r#"{{"aud":"{AUD}","exp":{EXP},"iat":{IAT},"iss":1}}"#)),
            Err(Error::InvalidClaim(Claim::Iss)),
        ),
        ("sub number", signed_claims(&base(r#","sub":1"#)), Err(Error::InvalidClaim(Claim::Sub))),
        ("email null", signed_claims(&base(r#","email":null"#)), Err(Error::InvalidClaim(Claim::Email))),
        ("name array", signed_claims(&base(r#","name":["a"]"#)), Err(Error::InvalidClaim(Claim::Name))),
        (
            "aud number",
            signed_claims(&format!(r#"{{"aud":1,"exp":{EXP},"iat":{IAT},"iss":"{AUD}"}}"#)),
            Err(Error::InvalidClaim(Claim::Aud)),
        ),
        (
            "aud [1]",
            signed_claims(&format!(r#"{{"aud":[1],"exp":{EXP},"iat":{IAT},"iss":"{AUD}"}}"#)),
            Err(Error::InvalidClaim(Claim::Aud)),
        ),
        (
            "aud null",
            signed_claims(&format!(r#"{{"aud":null,"exp":{EXP},"iat":{IAT},"iss":"{AUD}"}}"#)),
            Err(Error::InvalidClaim(Claim::Aud)),
        ),
        ("groups string", signed_claims(&base(r#","groups":"admins""#)), Err(Error::InvalidClaim(Claim::Groups))),
        ("groups [1]", signed_claims(&base(r#","groups":[1]"#)), Err(Error::InvalidClaim(Claim::Groups))),
        ("groups [null]", signed_claims(&base(r#","groups":[null]"#)), Err(Error::InvalidClaim(Claim::Groups))),
        ("groups object", signed_claims(&base(r#","groups":{}"#)), Err(Error::InvalidClaim(Claim::Groups))),
    ];
    let mut dates = Vec::new();
    for (value, claim) in [
        (r#""1700000300""#, Claim::Exp),
        ("null", Claim::Exp),
        ("true", Claim::Exp),
        ("-1", Claim::Exp),
        ("-0.5", Claim::Exp),
        ("18446744073709551616", Claim::Exp),
        ("1e30", Claim::Exp),
        ("1e400", Claim::Exp),
        ("-1", Claim::Iat),
        ("{}", Claim::Iat),
        ("-5", Claim::Nbf),
        ("null", Claim::Nbf),
    ] {
        let (exp, iat, nbf) = match claim {
            Claim::Exp => (value.to_string(), IAT.to_string(), String::new()),
            Claim::Iat => (EXP.to_string(), value.to_string(), String::new()),
            _ => (EXP.to_string(), IAT.to_string(), format!(r#","nbf":{value}"#)),
        };
        let token = signed_claims(&format!(r#"{{"aud":"{AUD}","exp":{exp},"iat":{iat},"iss":"{AUD}"{nbf}}}"#));
        dates.push((value, claim, token));
    }
    for (name, token, want) in &cases {
        assert_eq!(&verify(token), want, "{name}");
    }
    for (value, claim, token) in &dates {
        assert_eq!(verify(token), Err(Error::InvalidClaim(*claim)), "{} = {value}", claim.name());
    }
}

/// Changes the last symbol of a segment so that its unused low bits are not zero.
fn noncanonical(segment: &str) -> String {
    assert!(!segment.len().is_multiple_of(4), "needs a partial final group");
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = segment.chars().last().unwrap();
    let value = alphabet.find(last).unwrap();
    assert_eq!(value & 1, 0, "canonical input");
    let bumped = alphabet.as_bytes()[value | 1] as char;
    format!("{}{bumped}", &segment[..segment.len() - 1])
}

#[test]
fn capacities_are_errors_never_truncation() {
    let keys = keyset(1);
    let now = UnixTime::from_secs(NOW);
    let groups = |n: usize| (0..n).map(|i| format!(r#""group-{i:04}""#)).collect::<Vec<_>>().join(",");

    // 600 groups in a ~16 KiB token: fits Buffers<16384, 640>.
    let token = signed_claims(&format!(
        r#"{{"aud":"{AUD}","exp":{EXP},"iat":{IAT},"iss":"{AUD}","groups":[{}],"name":"{}"}}"#,
        groups(600),
        "n".repeat(3400)
    ));
    assert!(token.len() > 16384 - 2048 && token.len() <= 16384, "token is {} bytes", token.len());
    let mut large = Buffers::<16384, 640>::new();
    let claims = Verifier::new(&keys, AUD).verify(&token, now, &mut large).unwrap();
    assert_eq!(claims.groups.len(), 600);
    assert_eq!(claims.groups.get(599), Some("group-0599"));

    // The same token with too little room: typed errors.
    let mut few_groups = Buffers::<16384, 599>::new();
    assert_eq!(
        Verifier::new(&keys, AUD).verify(&token, now, &mut few_groups).map(drop),
        Err(Error::Capacity(Capacity::Groups))
    );
    let mut small = Buffers::<8192, 640>::new();
    assert_eq!(
        Verifier::new(&keys, AUD).verify(&token, now, &mut small).map(drop),
        Err(Error::TokenTooLarge { len: token.len(), max: 8192 })
    );

    // Group and aud array entries share the room.
    let both = signed_claims(&format!(
        r#"{{"aud":["{AUD}","b"],"exp":{EXP},"iat":{IAT},"iss":"{AUD}","groups":[{}]}}"#,
        groups(127)
    ));
    let mut default = Buffers::<8192, 128>::new();
    assert_eq!(
        Verifier::new(&keys, AUD).verify(&both, now, &mut default).map(drop),
        Err(Error::Capacity(Capacity::Groups))
    );

    // A megabyte of input is refused before any decoding.
    let huge = "a".repeat(1 << 20);
    assert_eq!(
        Verifier::new(&keys, AUD).verify(&huge, now, &mut default).map(drop),
        Err(Error::TokenTooLarge { len: 1 << 20, max: 8192 })
    );
}

#[test]
fn buffers_are_reusable_and_claims_do_not_leak_between_calls() {
    let keys = keyset(1);
    let verifier = Verifier::new(&keys, AUD);
    let mut buffers = Buffers::<8192, 128>::new();
    let now = UnixTime::from_secs(NOW);
    let first = signed_claims(&claims(""));
    let second = signed_claims(&format!(r#"{{"aud":"{AUD}","exp":{EXP},"iat":{IAT},"iss":"{AUD}"}}"#));
    assert_eq!(verifier.verify(&first, now, &mut buffers).unwrap().groups.len(), 2);
    let claims = verifier.verify(&second, now, &mut buffers).unwrap();
    assert!(claims.groups.is_empty());
    assert_eq!((claims.sub, claims.email), (None, None));
    let bad = signed_claims(&claims_with_bad_exp());
    assert!(verifier.verify(&bad, now, &mut buffers).is_err());
}

fn claims_with_bad_exp() -> String {
    format!(r#"{{"aud":"{AUD}","exp":"soon","iat":{IAT},"iss":"{AUD}"}}"#)
}

/// The forged header of the review: 127 long names that differ only before a final escape.
/// Duplicate detection over it is linear now (benches/verify.rs, group `adversarial`, measures
/// it); here, its verdicts: no duplicate, so the signature decides; and a repeat of the first
/// name spelled with escapes at the end is still found.
#[test]
fn long_escaped_member_names_are_compared_exactly() {
    let names: Vec<String> = (0..127).map(|i| format!("{}{i:04}\\u0061", "a".repeat(1000))).collect();
    let members: Vec<String> = names.iter().map(|n| format!(r#""{n}":0"#)).collect();
    let header = format!(r#"{{"alg":"ES256",{}}}"#, members.join(","));
    let token = format!("{}.{}.{}", b64(header.as_bytes()), b64(b"{}"), b64(&[1u8; 64]));
    let mut buffers: Box<Buffers<{ 1 << 18 }, 16>> = Box::new(Buffers::new());
    let set = keyset(1);
    let verifier = Verifier::new(&set, AUD);
    assert_eq!(verifier.verify(&token, UnixTime::from_secs(NOW), &mut buffers).map(drop), Err(Error::BadSignature));

    // The first name again, its last character escaped differently: a duplicate.
    let again = format!("{}0000\\u0061", "a".repeat(999) + "\\u0061");
    let header = format!(r#"{{"alg":"ES256",{},"{again}":1}}"#, members[..126].join(","));
    let token = format!("{}.{}.{}", b64(header.as_bytes()), b64(b"{}"), b64(&[1u8; 64]));
    assert_eq!(
        verifier.verify(&token, UnixTime::from_secs(NOW), &mut buffers).map(drop),
        Err(Error::Json { part: Part::Header, reason: JsonError::DuplicateMember })
    );
    // 128 members fit; a 129th is a capacity error, not a syntax one.
    let header = format!(r#"{{"alg":"ES256",{},"x":1,"y":2}}"#, members.join(","));
    let token = format!("{}.{}.{}", b64(header.as_bytes()), b64(b"{}"), b64(&[1u8; 64]));
    assert_eq!(
        verifier.verify(&token, UnixTime::from_secs(NOW), &mut buffers).map(drop),
        Err(Error::Capacity(Capacity::Members))
    );
}
