#![no_main]
//! SPKI and certificate PEM, several blocks (`KeySet::add_pem`). Checks: `key_pem_check` in
//! `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::key_pem_check(data));
