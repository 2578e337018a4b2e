//! The library never touches the heap: a counting global allocator sees zero allocations across
//! successful and failing verifications and every key import.
//!
//! The count is kept per thread (libtest runs tests on parallel threads of this one binary), and
//! every input is built before counting starts, since the test helpers allocate.

// A `GlobalAlloc` needs `unsafe impl`; Cargo.toml denies unsafe code and src/lib.rs forbids it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;
use std::hint::black_box;

use base64ct::{Base64, Encoding};
use pomerium_jwt::dangerous::decode_unverified;
use pomerium_jwt::{
    Buffers, Capacity, Error, JsonError, KeyError, KeySet, Part, PublicKey, UnixTime, UnknownKid, Verifier,
};

use crate::common::{
    AUD, EXP, NOW, b64, claims, flip_s, header, is_high, keyset, public_key, sign, signature_of, token,
};

/// `System`, counting allocations and frees made by the current thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static FREES: Cell<usize> = const { Cell::new(0) };
}

fn bump(counter: &'static std::thread::LocalKey<Cell<usize>>) {
    // `try_with`: never panic inside the allocator, even while a thread is being torn down.
    let _ = counter.try_with(|c| c.set(c.get().wrapping_add(1)));
}

// SAFETY: every call is passed to `System` unchanged; the counters are const-initialised
// thread-locals without destructors, so touching them never allocates or re-enters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCATIONS);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCATIONS);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(&ALLOCATIONS);
        // SAFETY: `ptr` and `layout` came from this allocator, that is from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        bump(&FREES);
        // SAFETY: as for `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// (allocations, frees) made by this thread while `f` ran, and what `f` returned.
fn heap_use<R>(f: impl FnOnce() -> R) -> ((usize, usize), R) {
    let read = || (ALLOCATIONS.with(Cell::get), FREES.with(Cell::get));
    let before = read();
    let result = black_box(f());
    let after = read();
    ((after.0.wrapping_sub(before.0), after.1.wrapping_sub(before.1)), result)
}

/// Runs `f` and asserts it neither allocated nor freed anything.
#[track_caller]
fn assert_no_heap<R>(what: &str, f: impl FnOnce() -> R) -> R {
    let ((allocs, frees), result) = heap_use(f);
    assert_eq!((allocs, frees), (0, 0), "{what}: {allocs} allocations and {frees} frees");
    result
}

/// A `fmt::Write` into a stack array, to show errors format without the heap.
struct StackText {
    bytes: [u8; 256],
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

/// Verifies with the usual key set, audience and clock; also formats the error, if any.
fn verify_and_format<const T: usize, const G: usize>(
    verifier: &Verifier<'_>,
    token: &str,
    now: u64,
    buffers: &mut Buffers<T, G>,
) -> Result<usize, Error> {
    let result = verifier.verify(token, UnixTime::from_secs(now), buffers);
    match result {
        Ok(claims) => {
            // Read every claim, so nothing is left lazy.
            let groups = claims.groups.iter().map(str::len).sum::<usize>();
            black_box((claims.iss, claims.sub, claims.email, claims.user, claims.name, claims.sid, claims.jti));
            black_box((claims.exp, claims.iat, claims.nbf, claims.aud.contains(AUD)));
            Ok(groups.wrapping_add(claims.groups.len()))
        }
        Err(e) => {
            let mut text = StackText { bytes: [0; 256], len: 0 };
            write!(text, "{e}").expect("an error message fits 256 bytes");
            assert!(text.len > 0);
            Err(e)
        }
    }
}

/// 600 groups of 15 characters: a token just under 16 KiB, as a user in many groups sends.
fn many_groups_claims() -> String {
    let groups: Vec<String> = (0..600).map(|i| format!("\"team-{i:04}-abcde\"")).collect();
    claims("").replace(r#""groups":["admins","devs"]"#, &format!(r#""groups":[{}]"#, groups.join(",")))
}

#[test]
fn the_counter_counts() {
    let ((allocs, frees), ()) = heap_use(|| drop(black_box(Vec::<u8>::with_capacity(1))));
    assert_eq!((allocs, frees), (1, 1));
    let ((allocs, frees), kept) = heap_use(|| black_box(String::from("x")));
    assert_eq!((allocs, frees), (1, 0));
    drop(kept);
    let ((allocs, frees), ()) = heap_use(|| ());
    assert_eq!((allocs, frees), (0, 0));
}

#[test]
#[should_panic(expected = "1 allocations and 1 frees")]
fn an_allocation_fails_the_check() {
    assert_no_heap("a Vec", || drop(black_box(Vec::<u8>::with_capacity(1))));
}

#[test]
fn successful_verifications_do_not_allocate() {
    let keys = keyset(1);
    let verifier = Verifier::new(&keys, AUD);
    let typical = token();
    let (low, high) = if is_high(&signature_of(&typical)[32..]) {
        (flip_s(&typical), typical.clone())
    } else {
        (typical.clone(), flip_s(&typical))
    };
    assert!(is_high(&signature_of(&high)[32..]));
    let many = sign(1, &header(1), &many_groups_claims());
    assert!((12_000..=16_384).contains(&many.len()), "{} bytes", many.len());
    let mut buffers = Buffers::<8192, 128>::new();
    let mut big = Box::new(Buffers::<16384, 640>::new());

    assert_no_heap("typical token", || verify_and_format(&verifier, &typical, NOW, &mut buffers)).unwrap();
    assert_no_heap("low-S", || verify_and_format(&verifier, &low, NOW, &mut buffers)).unwrap();
    assert_no_heap("high-S", || verify_and_format(&verifier, &high, NOW, &mut buffers)).unwrap();
    let groups = assert_no_heap("600 groups", || {
        let claims = verifier.verify(&many, UnixTime::from_secs(NOW), &mut *big).unwrap();
        claims.groups.iter().filter(|g| g.starts_with("team-")).count()
    });
    assert_eq!(groups, 600);

    let mut stack_text = [0u8; 2048];
    let decoded = assert_no_heap("decode_unverified", || {
        decode_unverified(typical.as_bytes(), &mut stack_text).map(|u| u.payload.len())
    });
    assert!(decoded.unwrap() > 100);
}

#[test]
fn failing_verifications_do_not_allocate() {
    let keys = keyset(1);
    let verifier = Verifier::new(&keys, AUD);
    let good = token();

    let mut forged_sig = signature_of(&good);
    forged_sig[5] ^= 1;
    let forged = format!("{}.{}", good.rsplit_once('.').unwrap().0, b64(&forged_sig));
    let (h, rest) = good.split_once('.').unwrap();
    let bad_base64 = format!("{h}.+{}", &rest[1..]);
    let bad_json = sign(1, &header(1), r#"{"aud":"app.example.com","#);
    let bad_header = sign(1, r#"{"alg":"ES256""#, &claims(""));
    let duplicate = sign(1, &header(1), &claims(r#""\u0061ud":"app.example.com""#));
    let wrong_aud = Verifier::new(&keys, "other.example.com");
    let wrong_iss = Verifier::new(&keys, AUD).with_issuer("https://authenticate.example.com/");
    let many = sign(1, &header(1), &many_groups_claims());
    let other_key = sign(2, &header(2), &claims(""));
    let alg_none = format!("{}.{}.{}", b64(br#"{"alg":"none"}"#), b64(claims("").as_bytes()), b64(&[1; 64]));
    let short_sig = format!("{}.{}", good.rsplit_once('.').unwrap().0, b64(&[1; 63]));
    let four = format!("{good}.x");
    let mut buffers = Buffers::<8192, 128>::new();
    let mut big = Box::new(Buffers::<16384, 640>::new());
    let mut few_groups = Box::new(Buffers::<16384, 16>::new());

    let mut check = |what: &str, verifier: &Verifier<'_>, token: &str, now: u64, expected: Error| {
        let got = assert_no_heap(what, || verify_and_format(verifier, token, now, &mut buffers));
        assert_eq!(got, Err(expected), "{what}");
    };
    check("bad signature", &verifier, &forged, NOW, Error::BadSignature);
    check("expired", &verifier, &good, EXP + 60, Error::Expired { exp: EXP, now: EXP + 60, leeway: 60 });
    check("wrong audience", &wrong_aud, &good, NOW, Error::WrongAudience);
    check("wrong issuer", &wrong_iss, &good, NOW, Error::WrongIssuer);
    check("malformed base64", &verifier, &bad_base64, NOW, Error::Base64(Part::Payload));
    check(
        "malformed claims",
        &verifier,
        &bad_json,
        NOW,
        Error::Json { part: Part::Payload, reason: JsonError::Syntax },
    );
    check(
        "malformed header",
        &verifier,
        &bad_header,
        NOW,
        Error::Json { part: Part::Header, reason: JsonError::Syntax },
    );
    check(
        "duplicate member",
        &verifier,
        &duplicate,
        NOW,
        Error::Json { part: Part::Payload, reason: JsonError::DuplicateMember },
    );
    check("too large", &verifier, &many, NOW, Error::TokenTooLarge { len: many.len(), max: 8192 });
    check(
        "unknown key",
        &verifier,
        &other_key,
        NOW,
        Error::UnknownKey { kid: Some(UnknownKid::new(public_key(2).pomerium_kid().as_bytes())) },
    );
    check("alg none", &verifier, &alg_none, NOW, Error::UnsupportedAlgorithm);
    check("short signature", &verifier, &short_sig, NOW, Error::SignatureLength);
    check("four segments", &verifier, &four, NOW, Error::Segments);

    let got = assert_no_heap("too many groups", || verify_and_format(&verifier, &many, NOW, &mut *few_groups));
    assert_eq!(got, Err(Error::Capacity(Capacity::Groups)));
    let got = assert_no_heap("600 groups, expired", || verify_and_format(&verifier, &many, EXP + 60, &mut *big));
    assert!(matches!(got, Err(Error::Expired { .. })), "{got:?}");
}

/// The DER SubjectPublicKeyInfo of a P-256 point.
fn spki_der(key: &PublicKey) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    der.extend_from_slice(&key.to_sec1_uncompressed());
    der
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = Base64::encode_string(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|l| std::str::from_utf8(l).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

fn jwk(key: &PublicKey, extra: &str) -> String {
    let point = key.to_sec1_uncompressed();
    format!(r#"{{"kty":"EC","crv":"P-256","x":"{}","y":"{}"{extra}}}"#, b64(&point[1..33]), b64(&point[33..]))
}

#[test]
fn key_import_does_not_allocate() {
    let (key1, key2) = (public_key(1), public_key(2));
    let kid1 = key1.pomerium_kid();
    let jwk1 = jwk(&key1, &format!(r#","kid":"{kid1}","use":"sig","alg":"ES256""#));
    let jwks = format!(
        r#"{{"keys":[{jwk1},{},{{"kty":"RSA","n":"AQAB","e":"AQAB"}},{{"kty":"OKP","crv":"Ed25519","x":"AA"}}]}}"#,
        jwk(&key2, r#","kid":"k\u0032""#)
    );
    let der = spki_der(&key1);
    let two_pems = format!("some text first\r\n{}{}", pem("PUBLIC KEY", &der), pem("PUBLIC KEY", &spki_der(&key2)));
    let cert_pem = include_bytes!("data/python/cert-plus-pubkey.pem");
    let pem_b64 = Base64::encode_string(two_pems.as_bytes());
    let sec1 = key1.to_sec1_uncompressed();
    let mut off_curve = sec1;
    off_curve[64] ^= 1;
    let broken_jwks = format!(
        r#"{{"keys":[{jwk1},{}]}}"#,
        jwk(&PublicKey::from_sec1(&sec1).unwrap(), "").replace("\"x\":\"", "\"x\":\"A")
    );
    let private_pem = pem("EC PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x01]);

    let mut scratch = [0u8; 4096];
    let mut set = KeySet::<8>::new();
    assert_eq!(assert_no_heap("add_jwks", || set.add_jwks(jwks.as_bytes())), Ok(2));
    assert_eq!(assert_no_heap("add_jwk", || set.add_jwk(jwk1.as_bytes())), Ok(1));
    assert_eq!(assert_no_heap("add_pem, two blocks", || set.add_pem(two_pems.as_bytes(), &mut scratch)), Ok(2));
    assert_eq!(assert_no_heap("add_der", || set.add_der(&der)), Ok(1));
    assert_eq!(assert_no_heap("add_sec1", || set.add_sec1(&sec1)), Ok(1));
    // Each key is stored once: key 1 and key 2 with their kids, then each without kid (which
    // covers the keyed entry); the JWK, DER and SEC1 forms repeat key 1 without kid.
    assert_eq!(set.len(), 4);

    let mut set = KeySet::<8>::new();
    let mut added =
        |what: &str, input: &[u8], set: &mut KeySet<8>| assert_no_heap(what, || set.add_any(input, &mut scratch));
    assert_eq!(added("add_any JWKS", jwks.as_bytes(), &mut set), Ok(2));
    assert_eq!(added("add_any JWK", jwk1.as_bytes(), &mut set), Ok(1));
    assert_eq!(added("add_any PEM", two_pems.as_bytes(), &mut set), Ok(2));
    assert_eq!(added("add_any certificate PEM", cert_pem, &mut set), Ok(2));
    assert_eq!(added("add_any DER", &der, &mut set), Ok(1));
    let mut set = KeySet::<8>::new();
    assert_eq!(added("add_any base64 PEM", pem_b64.as_bytes(), &mut set), Ok(2));
    assert_eq!(added("add_any SEC1", &sec1, &mut set), Ok(1));

    // Refusals, which format their error, stay off the heap too.
    assert_eq!(added("add_any off-curve SEC1", &off_curve, &mut set), Err(KeyError::Invalid.into()));
    assert_eq!(added("add_any broken JWKS", broken_jwks.as_bytes(), &mut set), Err(KeyError::Invalid.into()));
    assert_eq!(added("add_any private key", private_pem.as_bytes(), &mut set), Err(KeyError::PrivateKey.into()));
    assert_eq!(added("add_any garbage", b"\x01\x02 not a key", &mut set), Err(KeyError::UnknownFormat.into()));
    let mut tiny = [0u8; 8];
    let got = assert_no_heap("add_pem, small scratch", || set.add_pem(two_pems.as_bytes(), &mut tiny));
    assert_eq!(got, Err(Error::Capacity(Capacity::Scratch)));
    // Key 1 and key 2 from the base64 PEM; the SEC1 point is key 1 again.
    assert_eq!(set.len(), 2);

    let thumbprint = assert_no_heap("thumbprint", || key1.thumbprint());
    let kid = assert_no_heap("pomerium_kid", || key1.pomerium_kid());
    assert_ne!(thumbprint, [0; 32]);
    assert_eq!(kid, kid1);
    let parsed = assert_no_heap("from_sec1", || PublicKey::from_sec1(&sec1));
    assert_eq!(parsed, Ok(key1));
}

/// Every accessor of custom claims, on Go-shaped tokens: no heap.
#[test]
fn custom_claims_do_not_allocate() {
    use pomerium_jwt::Value;
    let keys = crate::custom_claims::key1();
    let verifier = Verifier::new(&keys, AUD);
    let mut buffers: Box<Buffers<32768, 512>> = Box::new(Buffers::new());
    for case in crate::custom_claims::cases().into_iter().filter(|c| c.verdict == "ok") {
        let walked = assert_no_heap(&case.name, || {
            let claims = verifier.verify(&case.token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
            let mut scratch = [0u8; 4096];
            let mut bytes = claims.payload().len();
            for (name, value) in claims.members() {
                bytes += name.unescape_into(&mut scratch).unwrap().len() + value.json().len();
                match value {
                    Value::String(s) => bytes += s.unescape_into(&mut scratch).unwrap().len(),
                    Value::Strings(list) => {
                        for s in list {
                            bytes += s.unescape_into(&mut scratch).unwrap().len();
                        }
                    }
                    _ => {}
                }
            }
            bytes += usize::from(
                claims.get("department").is_some_and(|v| matches!(v, Value::String(s) if s == "R&D,Sales")),
            );
            black_box(bytes)
        });
        assert!(walked > 0);
    }
}

/// The serde path reads the verified payload into a user's type without the heap.
#[cfg(feature = "serde")]
#[test]
fn deserializing_claims_does_not_allocate() {
    #[derive(serde::Deserialize)]
    struct Identity<'a> {
        email: &'a str,
        #[serde(borrow)]
        groups: heapless::Vec<&'a str, 8>,
        department: heapless::String<32>,
    }
    let keys = crate::custom_claims::key1();
    let verifier = Verifier::new(&keys, AUD);
    let mut buffers: Buffers = Buffers::new();
    let case = crate::custom_claims::cases().into_iter().find(|c| c.name == "go_shaped").unwrap();
    let fields = assert_no_heap("verify and deserialize", || {
        let claims = verifier.verify(&case.token, UnixTime::from_secs(NOW), &mut buffers).unwrap();
        let id: Identity<'_> = claims.deserialize(&mut [0u8; 64]).unwrap();
        id.email.len() + id.groups.len() + id.department.len()
    });
    assert_eq!(fields, "alice@example.com".len() + 2 + "R&D,Sales".len());
}
