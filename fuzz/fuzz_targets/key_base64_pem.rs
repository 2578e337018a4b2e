#![no_main]
//! Base64-wrapped PEM, as in Pomerium's `signing_key` (`KeySet::add_base64_pem`). Checks:
//! `key_base64_pem_check` in `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::key_base64_pem_check(data));
