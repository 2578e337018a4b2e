#![no_main]
//! Structure-aware tokens through this crate and jsonwebtoken; see `fuzz/src/differential.rs`.

libfuzzer_sys::fuzz_target!(|case: pomerium_jwt_fuzz::structured::Case| {
    pomerium_jwt_fuzz::differential::differential_check(&case)
});
