//! The smallest WebAssembly module that exposes `pomerium-jwt`'s verification: one key, one
//! audience, default buffers. Compare with footprint/wasm-p256, which does only the bare
//! `p256` ECDSA verification of the same signature.

#![no_std]

use core::ptr::addr_of_mut;

use pomerium_jwt::{Buffers, KeySet, UnixTime, Verifier};

/// The key of tests/data/python/key1, as an uncompressed SEC1 point.
#[cfg(not(feature = "jwks"))]
const KEY: [u8; 65] = [
    0x04, 0xfc, 0x29, 0x0e, 0xda, 0x1e, 0xb0, 0xb4, 0x67, 0x16, 0xe8, 0x8f, 0x5a, 0x39, 0xde, 0xa3, 0x1b, 0x49, 0xe8,
    0x8b, 0x79, 0xec, 0xff, 0xf1, 0x52, 0xea, 0x43, 0x6f, 0x65, 0xa6, 0x38, 0x82, 0xe5, 0xb8, 0xbe, 0xc4, 0x2f, 0x93,
    0x8f, 0x69, 0xb8, 0x0e, 0x82, 0xdb, 0x6b, 0x74, 0xd5, 0x5d, 0x9e, 0x0a, 0xdb, 0x32, 0x08, 0x27, 0xaa, 0xd2, 0x55,
    0x14, 0xfe, 0xb2, 0x76, 0x4b, 0x9b, 0x74, 0x8e,
];

/// The same key as the JWKS Pomerium serves.
#[cfg(feature = "jwks")]
const JWKS: &str = r#"{"keys":[{"use":"sig","kty":"EC","kid":"67cf20ea12d96ac05e3e8723fb4a9582db7cc36d6afe57f7e2b9049a683b033a","crv":"P-256","alg":"ES256","x":"_CkO2h6wtGcW6I9aOd6jG0noi3ns__FS6kNvZaY4guU","y":"uL7EL5OPabgOgttrdNVdngrbMggnqtJVFP6ydkubdI4"}]}"#;

const AUDIENCE: &str = "app.example.com";

/// Where the host writes the token before calling [`verify`].
static mut INPUT: [u8; 8192] = [0; 8192];

/// The address of the 8 KiB input area.
#[unsafe(no_mangle)]
pub extern "C" fn input() -> *mut u8 {
    addr_of_mut!(INPUT).cast()
}

/// Verifies the `len`-byte token at [`input`] at Unix time `now`. Returns 0 for an accepted
/// token with an email claim and at least one group, 1 for a refused token, 2 for a bad key.
#[unsafe(no_mangle)]
pub extern "C" fn verify(len: usize, now: u64) -> u32 {
    // SAFETY: INPUT is only read here, after the host wrote it; the module is single-threaded.
    let input = unsafe { &*addr_of_mut!(INPUT) };
    let Some(token) = input.get(..len) else { return 1 };
    let mut keys = KeySet::<1>::new();
    #[cfg(not(feature = "jwks"))]
    let added = keys.add_sec1(&KEY);
    #[cfg(feature = "jwks")]
    let added = keys.add_jwks(JWKS.as_bytes());
    if added.is_err() {
        return 2;
    }
    let mut buffers = Buffers::<8192, 128>::new();
    match Verifier::new(&keys, AUDIENCE).verify(token, UnixTime::from_secs(now), &mut buffers) {
        Ok(claims) if claims.email.is_some() && !claims.groups.is_empty() => 0,
        _ => 1,
    }
}

/// The bytes of [`verify`]'s own stack frame that are the caller's storage: the buffers and
/// the key set, which a caller could keep anywhere (a `static`, another task's memory).
#[cfg(feature = "stack")]
#[unsafe(no_mangle)]
pub extern "C" fn caller_bytes() -> usize {
    core::mem::size_of::<Buffers<8192, 128>>() + core::mem::size_of::<KeySet<1>>()
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
