//! The committed seeds of the fuzz targets (`fuzz/seeds/<target>/`), replayed on stable without
//! libFuzzer through the same checks the targets run (`fuzz/checks.rs`): no panic, and every
//! invariant the targets assert. Crashes the fuzzers found are kept there too, named
//! `crash-*`, so they stay fixed.
//!
//! The seeds of `structured`, `differential`, `precomputed` and `field` are inputs of fuzz-only
//! harnesses, which only the fuzz crate builds: `fuzz/ci.sh` replays those through the fuzz
//! binaries.
//!
//! A test binary of its own, not a module of `tests/lib.rs`: it reads `fuzz/`, a crate of its own
//! that the published package cannot hold, so cargo leaves this target out of the package and
//! the package's tests stay self-contained.

#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

#[test]
fn every_committed_seed_passes_its_target_check() {
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let mut replayed = 0;
    for (target, check) in checks::CHECKS {
        let mut files: Vec<_> =
            std::fs::read_dir(seeds.join(target)).unwrap().map(|entry| entry.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty(), "no seeds for {target}");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            // Shown by the test harness when a check panics.
            println!("{target}: {}", file.display());
            check(&data);
            replayed += 1;
        }
    }
    assert!(replayed > 100, "{replayed} seeds");
}

#[test]
fn the_seeds_reach_the_accepting_paths() {
    // The Ok-path invariants (policy, signature, serde_json's reading) only run on accepted
    // tokens: make sure the seeds hold some, for the fixture keys and for the fuzz key.
    use pomerium_jwt::{Buffers, UnixTime, Verifier};
    let seeds = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
    let token = std::fs::read(seeds.join("verify/typical_pomerium")).unwrap();
    let verifier = Verifier::new(checks::fixture_keys(), checks::AUD);
    let mut buffers = Buffers::<8192, 128>::new();
    assert!(verifier.verify(&token, UnixTime::from_secs(checks::NOW), &mut buffers).is_ok());
    let token =
        checks::sign_parts(checks::fuzz_signing_key(), checks::GOOD_HEADER.as_bytes(), checks::GOOD_CLAIMS.as_bytes());
    let verifier = Verifier::new(checks::fuzz_keys(), checks::AUD);
    assert!(verifier.verify(&token, UnixTime::from_secs(checks::NOW), &mut buffers).is_ok());
}
