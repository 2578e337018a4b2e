//! Support for the fuzz targets in `fuzz_targets/`: the per-target checks (shared with the
//! stable seed replay in `tests/fuzz_seeds.rs`), the structured token generator with its SPEC
//! model, the jsonwebtoken oracle, and a global allocator that aborts on any heap allocation made
//! while a library call runs.

// The harness is test code: it may unwrap, index and panic (a panic is a crash to libFuzzer).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
// The allocation guard is the one `unsafe` here: `GlobalAlloc` cannot be implemented without it.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

#[path = "../checks.rs"]
pub mod checks;

/// `System`, except that any allocation, reallocation or free made while
/// [`checks::IN_LIBRARY`] is set aborts the process, which libFuzzer reports as a crash.
///
/// A panic inside a library call is let through (`thread::panicking`), so that the panic, not
/// the allocations of its message, is what gets reported.
struct AbortInsideLibrary;

fn check(what: &str, size: usize) {
    // `try_with` and `replace`: never panic or recurse inside the allocator.
    let armed = checks::IN_LIBRARY.try_with(|armed| armed.replace(false)).unwrap_or(false);
    if armed && !std::thread::panicking() {
        eprintln!("pomerium-jwt made a heap {what} of {size} bytes inside a library call");
        std::process::abort();
    }
    if armed {
        let _ = checks::IN_LIBRARY.try_with(|a| a.set(true));
    }
}

// SAFETY: every call goes to `System` unchanged; `check` only touches a const-initialised
// thread-local `Cell<bool>` (no destructor, no allocation) before it does.
unsafe impl GlobalAlloc for AbortInsideLibrary {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check("allocation", layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check("allocation", layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        check("reallocation", new_size);
        // SAFETY: `ptr` and `layout` come from this allocator, that is from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        check("free", layout.size());
        // SAFETY: as for `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GUARD: AbortInsideLibrary = AbortInsideLibrary;

pub mod differential;
pub mod structured;

use base64ct::{Base64UrlUnpadded, Encoding};
use pomerium_jwt::{Buffers, KeySet, UnixTime, Verifier};

use crate::checks::{AUD, FUZZ_KID, fuzz_signing_key, other_signing_key, public_key};
use crate::structured::{Case, GROUPS, Keys, TOKEN};

/// The order n of the P-256 group, big-endian.
const ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xBC, 0xE6, 0xFA,
    0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// The token with its signature's `s` replaced by `n - s`: the other valid signature (high-S if
/// the signer wrote low-S, and the other way round). SPEC §3: both must verify.
pub fn flip_s(token: &str) -> String {
    let (input, signature) = token.rsplit_once('.').unwrap();
    let mut signature = Base64UrlUnpadded::decode_vec(signature).unwrap();
    let s = &mut signature[32..];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(ORDER[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        s[i] = d.rem_euclid(256) as u8;
    }
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature))
}

/// The key set for a case's [`Keys`].
pub fn key_set(keys: Keys) -> KeySet<4> {
    let mut set = KeySet::new();
    let (fuzz, other) = (public_key(fuzz_signing_key()), public_key(other_signing_key()));
    match keys {
        Keys::FuzzKid => set.insert(fuzz, Some(FUZZ_KID)),
        Keys::FuzzNoKid => set.insert(fuzz, None),
        Keys::OtherKid => set.insert(other, Some(FUZZ_KID)),
        Keys::Both => set.insert(other, Some("other")).and_then(|()| set.insert(fuzz, Some(FUZZ_KID))),
    }
    .unwrap();
    set
}

/// The `structured` target: the verdict must be the one SPEC implies for the generated case.
pub fn structured_check(case: &Case) {
    let config = case.config(None);
    let built = case.build(&config, |h, p| checks::sign_parts(fuzz_signing_key(), h, p));
    let keys = key_set(config.keys);
    let mut verifier = Verifier::new(&keys, AUD);
    if config.set_leeway {
        verifier = verifier.with_leeway(config.leeway);
    }
    if let Some(issuer) = &config.issuer {
        verifier = verifier.with_issuer(issuer);
    }
    let mut buffers = Box::new(Buffers::<TOKEN, GROUPS>::new());
    let result = checks::library(|| verifier.verify(&built.token, UnixTime::from_secs(config.now), &mut buffers));
    match &result {
        Ok(claims) => {
            let https = format!("https://{AUD}/");
            let issuers = match &config.issuer {
                Some(issuer) => vec![issuer.as_str()],
                None => vec![AUD, https.as_str(), "pomerium-proxy"],
            };
            checks::assert_policy(claims, config.now, config.leeway, AUD, &issuers);
            if let checks::Json::Object(map) = checks::Json::read(built.claims_json.as_bytes()) {
                checks::assert_claims_match(claims, &map);
            }
        }
        Err(e) => checks::format_error(e),
    }
    built.assert_verdict(&result);
}
