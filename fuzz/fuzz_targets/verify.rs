#![no_main]
//! The whole `Verifier::verify` pipeline against the fixtures' key set and clock. Checks:
//! `verify_check` in `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::verify_check(data));
