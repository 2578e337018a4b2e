//! The verify path alone, for its size: imports a JWKS, verifies one token and hands every
//! claim to `black_box`, on cortex-m-rt with nothing else (no semihosting, no formatting, no
//! precomputed tables), so its `.text` and `.rodata` are what the verifier adds to firmware.
//! There is no `#[global_allocator]`: if the library or anything it depends on used `alloc`, it
//! would not link. `scripts/footprint.sh` reports its size; the device program (`src/main.rs`)
//! is the one that runs.

#![no_std]
#![no_main]

use core::hint::black_box;
use core::panic::PanicInfo;

use cortex_m_rt::entry;

use pomerium_jwt::{Buffers, KeySet, UnixTime, Verifier};

/// A Pomerium-style JWKS with one P-256 key, made by Python `cryptography` (tests/data/README.md).
const JWKS: &str = include_str!("../../../../tests/data/python/key1.jwks.json");

/// A typical token signed by that key (tests/data/tokens.json, `typical_pomerium`), valid at
/// 1700000100 for `app.example.com`.
const TOKEN: &str = concat!(
    "eyJhbGciOiJFUzI1NiIsImtpZCI6IjY3Y2YyMGVhMTJkOTZhYzA1ZTNlODcyM2ZiNGE5NTgyZGI3Y2MzNmQ2YWZlNTdmN2UyYjkwNDlhNjgzYjAzM2EiLCJ0eXAiOiJKV1QifQ",
    ".eyJhdWQiOiJhcHAuZXhhbXBsZS5jb20iLCJlbWFpbCI6ImFsaWNlQGV4YW1wbGUuY29tIiwiZXhwIjoxNzAwMDAwMzAwLCJncm91cHMiOlsiYWRtaW5zIiwiZGV2cyJdLCJpYXQiOjE3MDAwMDAwMDAsImlzcyI6ImFwcC5leGFtcGxlLmNvbSIsImp0aSI6IjVmMGU5YTNjLThkMmItNGM3MS05ZTZhLTJiNGQ4ZjFjN2EzMCIsIm5hbWUiOiJBbGljZSIsInNpZCI6ImI3YzRlMmQxLTZhOWYtNGUzOC04YzE1LTNkMmE3ZjliMGU2NCIsInN1YiI6ImFsaWNlLWlkLTAwMDEiLCJ1c2VyIjoiYWxpY2UtaWQtMDAwMSJ9",
    "._FpKDWVfA76a8saTQjxYHkHhT1Sz4c16EZN-KlG_tm1m289RnLiAoUIVmBCMRZ6HsAwUwwFQxWwiRCO81xlYww",
);

/// Verifies the token and hands every claim to `black_box`, so nothing is optimised away.
/// Returns 0 when the token verified, 1 when the keys or the token were refused.
fn probe() -> u32 {
    let mut keys = KeySet::<4>::new();
    if black_box(keys.add_jwks(black_box(JWKS).as_bytes())).is_err() {
        return 1;
    }
    let verifier = Verifier::new(&keys, black_box("app.example.com"));
    let mut buffers = Buffers::<2048, 16>::new();
    let now = UnixTime::from_secs(black_box(1_700_000_100));
    match verifier.verify(black_box(TOKEN), now, &mut buffers) {
        Ok(claims) => {
            black_box((claims.iss, claims.sub, claims.email, claims.user, claims.name, claims.sid, claims.jti));
            black_box((claims.exp, claims.iat, claims.nbf, claims.aud.contains("app.example.com")));
            claims.groups.iter().for_each(|group| {
                black_box(group);
            });
            0
        }
        Err(error) => {
            black_box(error);
            1
        }
    }
}

#[entry]
fn main() -> ! {
    black_box(probe());
    loop {
        core::hint::spin_loop();
    }
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}
