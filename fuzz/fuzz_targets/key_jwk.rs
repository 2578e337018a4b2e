#![no_main]
//! JWK import (`KeySet::add_jwk`). Checks: `key_jwk_check` in `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::key_jwk_check(data));
