#![no_main]
//! Compact splitting, base64url and JSON well-formedness, through `dangerous::decode_unverified`.
//! Checks: `decode_unverified_check` in `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::decode_unverified_check(data));
