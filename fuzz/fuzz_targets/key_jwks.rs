#![no_main]
//! JWKS import (`KeySet::add_jwks`). Checks: `key_jwks_check` in `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::key_jwks_check(data));
