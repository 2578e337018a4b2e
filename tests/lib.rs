//! Integration tests: one binary, one module per subject.

// The no-panic lints guard the library; tests and their helpers may unwrap and index freely.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod alloc;
mod common;
mod custom_claims;
mod fixtures;
mod keys;
mod precomputed;
#[cfg(feature = "serde")]
mod serde_claims;
mod verify;
mod wycheproof;
