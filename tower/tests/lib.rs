//! The layer and the remote JWKS over real HTTP on 127.0.0.1: one integration binary, so the
//! test build stays small on two cores (the log capture, `logs.rs`, is a binary of its own).

// The no-panic lints guard the library; tests and their helpers may unwrap and index freely.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;
mod example;
mod forward_auth;
mod layer;
#[cfg(feature = "metrics")]
mod metrics;
mod remote;
