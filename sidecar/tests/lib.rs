//! The sidecar binary against real servers on 127.0.0.1 that the tests start: one integration
//! binary, so the test build stays small on two cores.

// The no-panic lints guard the binary; tests and their helpers may unwrap and index freely.
#![allow(unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;
mod e2e;
mod forward_auth;
mod lifecycle;
mod proxy;
mod unix;
