//! Helpers shared by the integration tests: a fixed in-test signer and token builders.
//!
//! Tokens made here are signed by `p256` (RustCrypto); the committed fixtures in `tests/data`
//! come from independent signers (OpenSSL, Python, node jose).

#![allow(dead_code)]

use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use pomerium_jwt::{KeySet, PublicKey};

/// The clock of most tests.
pub const NOW: u64 = 1_700_000_100;
pub const IAT: u64 = 1_700_000_000;
pub const EXP: u64 = 1_700_000_300;
pub const AUD: &str = "app.example.com";

/// The order n of the P-256 group, big-endian.
pub const ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA,
    0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// A deterministic test key: `seed` repeated as the secret scalar.
pub fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

pub fn public_key(seed: u8) -> PublicKey {
    let point = signing_key(seed).verifying_key().to_sec1_point(false);
    PublicKey::from_sec1(point.as_bytes()).unwrap()
}

/// A key set with the key of `seed`, under its Pomerium kid.
pub fn keyset(seed: u8) -> KeySet {
    let key = public_key(seed);
    let mut keys = KeySet::new();
    keys.insert(key, Some(key.pomerium_kid().as_str())).unwrap();
    keys
}

pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// `header.payload.signature` over the exact JSON texts given.
pub fn sign(seed: u8, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature: Signature = signing_key(seed).sign(input.as_bytes());
    format!("{input}.{}", b64(&signature.to_bytes()))
}

/// The usual Pomerium header for the key of `seed`.
pub fn header(seed: u8) -> String {
    format!(r#"{{"alg":"ES256","kid":"{}","typ":"JWT"}}"#, public_key(seed).pomerium_kid())
}

/// Pomerium's claims, with `extra` members spliced in before the closing brace.
pub fn claims(extra: &str) -> String {
    let sep = if extra.is_empty() { "" } else { "," };
    format!(
        r#"{{"aud":"{AUD}","email":"alice@example.com","exp":{EXP},"groups":["admins","devs"],"iat":{IAT},"iss":"{AUD}","jti":"7d3a","name":"Alice","sid":"s1","sub":"alice-id","user":"alice"{sep}{extra}}}"#
    )
}

/// A typical token signed by the key of seed 1.
pub fn token() -> String {
    sign(1, &header(1), &claims(""))
}

/// The signature bytes of a token.
pub fn signature_of(token: &str) -> Vec<u8> {
    Base64UrlUnpadded::decode_vec(token.rsplit('.').next().unwrap()).unwrap()
}

/// The token with its signature replaced by `signature`.
pub fn with_signature(token: &str, signature: &[u8]) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{}", b64(signature))
}

/// n - s, big-endian (for 0 < s < n).
pub fn negate(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(ORDER[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = d.rem_euclid(256) as u8;
    }
    out
}

/// Whether s > n/2.
pub fn is_high(s: &[u8]) -> bool {
    s > &negate(s)[..]
}

/// The same token with `s` replaced by `n - s`: the other valid signature.
pub fn flip_s(token: &str) -> String {
    let sig = signature_of(token);
    let mut flipped = sig[..32].to_vec();
    flipped.extend_from_slice(&negate(&sig[32..]));
    with_signature(token, &flipped)
}
