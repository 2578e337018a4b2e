#![no_main]
//! Structure-aware tokens (`arbitrary`), signed inside the target; the verdict must be SPEC's. See
//! `fuzz/src/structured.rs`.

libfuzzer_sys::fuzz_target!(|case: pomerium_jwt_fuzz::structured::Case| pomerium_jwt_fuzz::structured_check(&case));
