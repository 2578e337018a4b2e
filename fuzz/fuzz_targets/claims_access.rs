#![no_main]
//! Reading any claim of a verified token (`Claims::get`, `members`, `payload`) against serde_json:
//! the input is the payload, signed inside the target. Checks: `claims_access_check` in
//! `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::claims_access_check(data));
