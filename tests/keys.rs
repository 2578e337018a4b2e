//! Key import behaviour beyond the fixture table: mixed files, atomicity, capacities.

use std::path::Path;

use pomerium_jwt::{Capacity, Error, KeyError, KeySet, PublicKey};

fn read(file: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file)).unwrap()
}

fn add_pem<const N: usize>(keys: &mut KeySet<N>, text: &[u8]) -> Result<usize, Error> {
    let mut scratch = vec![0u8; text.len()];
    keys.add_pem(text, &mut scratch)
}

#[test]
fn other_key_types_in_a_pem_file_are_skipped_while_a_p256_key_remains() {
    let p256 = read("openssl/ec_pubkey.pem");
    let rsa = read("openssl/rsa_pubkey.pem");
    let p384 = read("openssl/p384_pubkey.pem");
    let mut keys = KeySet::<4>::new();
    assert_eq!(add_pem(&mut keys, &[&rsa[..], &p256, &p384].concat()), Ok(1));
    assert_eq!(add_pem(&mut keys, &[&rsa[..], &p384].concat()), Err(KeyError::Unsupported.into()));
    assert_eq!(add_pem(&mut keys, &rsa), Err(KeyError::Unsupported.into()));
    assert_eq!(keys.len(), 1);
    // A private key anywhere in the file is refused, even beside a usable key.
    let private = read("openssl/ec_private.pem");
    assert_eq!(add_pem(&mut keys, &[&p256[..], &private].concat()), Err(KeyError::PrivateKey.into()));
    assert_eq!(keys.len(), 1);
}

#[test]
fn a_refused_document_adds_nothing() {
    let mut keys = KeySet::<8>::new();
    // Two good keys, then a broken one: the good ones must not stay.
    let members = |file: &str| -> Vec<serde_json::Value> {
        let doc: serde_json::Value = serde_json::from_slice(&read(file)).unwrap();
        doc["keys"].as_array().unwrap().clone()
    };
    let good_member = members("python/key1.jwks.json")[0].to_string();
    let broken = members("python/jwks-broken-offcurve.json");
    let broken_member = broken.last().unwrap().to_string();
    let doc = format!(r#"{{"keys":[{good_member},{good_member},{broken_member}]}}"#);
    assert_eq!(keys.add_jwks(doc.as_bytes()), Err(KeyError::Invalid.into()));
    assert!(keys.is_empty());
    // A full set refuses the whole document, too.
    let mut small = KeySet::<1>::new();
    let other_member = members("python/key2.jwks.json")[0].to_string();
    let two = format!(r#"{{"keys":[{good_member},{other_member}]}}"#);
    assert_eq!(small.add_jwks(two.as_bytes()), Err(Error::Capacity(Capacity::Keys)));
    assert!(small.is_empty());
    assert_eq!(small.add_jwks(&read("python/key1.jwks.json")), Ok(1));
}

#[test]
fn scratch_too_small_is_a_typed_error() {
    let pem = read("openssl/ec_public.pem");
    let mut keys = KeySet::<4>::new();
    let mut tiny = [0u8; 16];
    assert_eq!(keys.add_pem(&pem, &mut tiny), Err(Error::Capacity(Capacity::Scratch)));
    assert_eq!(keys.add_any(&read("openssl/ec_public.pem.b64"), &mut tiny), Err(Error::Capacity(Capacity::Scratch)));
    assert!(keys.is_empty());
}

#[test]
fn every_form_of_one_key_is_the_same_key() {
    let forms = [
        "openssl/ec_pubkey.pem",
        "openssl/ec_pubkey.der",
        "openssl/ec_public.pem",
        "openssl/ec_public.der",
        "openssl/ec_public.text.pem",
        "openssl/ec_public.pem.b64",
        "python/openssl-key.jwks.json",
    ];
    let mut seen: Option<PublicKey> = None;
    for form in forms {
        let bytes = read(form);
        let mut keys = KeySet::<4>::new();
        let mut scratch = vec![0u8; 2 * bytes.len()];
        assert_eq!(keys.add_any(&bytes, &mut scratch), Ok(1), "{form}");
        let key = *keys.keys().next().unwrap();
        assert_eq!(*seen.get_or_insert(key), key, "{form}");
        assert_eq!(PublicKey::from_sec1(&key.to_sec1_uncompressed()), Ok(key));
    }
    let kid = String::from_utf8(read("openssl/ec_pubkey.kid.txt")).unwrap();
    assert_eq!(seen.unwrap().pomerium_kid().as_str(), kid.trim(), "kid computed by OpenSSL and sha256sum");
}

#[test]
fn sec1_forms() {
    let point = read("python/key1.sec1.bin");
    let compressed = read("python/key1.sec1c.bin");
    assert_eq!(PublicKey::from_sec1(&point), PublicKey::from_sec1(&compressed));
    for bad in [&point[..64], &point[1..], &[0u8][..], &[]] {
        assert_eq!(PublicKey::from_sec1(bad), Err(KeyError::Invalid.into()));
    }
    let mut hybrid = point.clone();
    hybrid[0] = 6;
    assert_eq!(PublicKey::from_sec1(&hybrid), Err(KeyError::Invalid.into()));

    // Uncompressed points are checked by the crate (coordinates below p, on the curve) rather
    // than by p256's SEC1 parser: the verdicts must be p256's. The field prime p, as x or y, is
    // out of range; p - y is the negated point, which is valid.
    const P: [u8; 32] = [
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ];
    let mut cases = vec![point.clone()];
    for at in [1, 16, 32, 33, 48, 64] {
        for bit in [0, 3, 7] {
            let mut m = point.clone();
            m[at] ^= 1 << bit;
            cases.push(m);
        }
    }
    let with = |range: std::ops::Range<usize>, value: &[u8]| {
        let mut m = point.clone();
        m[range].copy_from_slice(value);
        m
    };
    // p - y, big-endian, with a borrow.
    let mut negated_y = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(P[i]) - i16::from(point[33 + i]) - borrow;
        (negated_y[i], borrow) = (d.rem_euclid(256) as u8, i16::from(d < 0));
    }
    cases.extend([with(1..33, &P), with(33..65, &P), with(33..65, &negated_y), with(1..65, &[0; 64])]);
    let mut accepted = 0;
    for case in &cases {
        let ours = PublicKey::from_sec1(case);
        let theirs = p256::ecdsa::VerifyingKey::from_sec1_bytes(case);
        assert_eq!(ours.is_ok(), theirs.is_ok(), "{case:02x?}");
        if let Err(e) = ours {
            assert_eq!(e, KeyError::Invalid.into());
        }
        accepted += usize::from(ours.is_ok());
    }
    assert_eq!(accepted, 2, "the point and its negation");
}

/// An RSA private key (Pomerium's signing_key when it signs RS256) is refused with its own
/// error, in each form openssl writes it; an EC private key keeps the `openssl ec` advice.
#[test]
fn rsa_private_keys_get_their_own_refusal() {
    let mut keys = KeySet::<4>::new();
    let mut scratch = vec![0u8; 1 << 16];
    let rsa = Err(Error::Key(KeyError::RsaPrivateKey));
    let ec = Err(Error::Key(KeyError::PrivateKey));
    for (file, want) in [
        ("openssl/rsa_signing_key.pem", rsa),
        ("openssl/rsa_signing_key.pkcs1.pem", rsa),
        ("openssl/ec_private.pem", ec),
        ("openssl/ec_private.pk8.pem", ec),
        ("openssl/ec_private.pem.b64", ec),
    ] {
        assert_eq!(keys.add_any(&read(file), &mut scratch), want, "{file}");
    }
    // The same keys as DER.
    for (file, want) in [
        ("openssl/rsa_signing_key.pem", rsa),
        ("openssl/rsa_signing_key.pkcs1.pem", rsa),
        ("openssl/ec_private.pk8.pem", ec),
    ] {
        let text = String::from_utf8(read(file)).unwrap();
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = <base64ct::Base64 as base64ct::Encoding>::decode_vec(&body).unwrap();
        assert_eq!(keys.add_der(&der), want, "{file} as DER");
    }
    // A JWK with private material: RSA or EC.
    assert_eq!(keys.add_jwk(br#"{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}"#), rsa);
    assert_eq!(keys.add_jwk(br#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}"#), ec);
    // An RSA public key is still just another key type.
    assert_eq!(keys.add_any(&read("openssl/rsa_pubkey.pem"), &mut scratch), Err(Error::Key(KeyError::Unsupported)));
    assert!(keys.is_empty());
    let advice = KeyError::RsaPrivateKey.to_string();
    assert!(advice.contains("RS256") && advice.contains("EC P-256") && !advice.starts_with("this is a private key"));
}
