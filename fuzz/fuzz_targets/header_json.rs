#![no_main]
//! The header JSON parser: the input is the header, signed inside the target with valid claims.
//! Checks: `header_json_check` in `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::header_json_check(data));
