#![no_main]
//! SPKI and certificate DER (`PublicKey::from_spki_der`, `from_certificate_der`,
//! `KeySet::add_der`). Checks: `key_der_check` in `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::key_der_check(data));
