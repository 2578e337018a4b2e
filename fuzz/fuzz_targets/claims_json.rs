#![no_main]
//! The claims JSON parser and the claims checks: the input is the payload, signed inside the
//! target. Checks: `claims_json_check` in `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::claims_json_check(data));
