#![no_main]
//! Key files in any format, recognised by content (`KeySet::add_any`, SEC1 included). Checks:
//! `key_any_check` in `fuzz/checks.rs`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| pomerium_jwt_fuzz::checks::key_any_check(data));
