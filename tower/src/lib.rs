#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The README's examples use axum and a remote JWKS: without those features, the crate page is
// one line, so that `cargo test --no-default-features` has no example it cannot build.
#![cfg_attr(all(feature = "axum", feature = "remote"), doc = include_str!("../README.md"))]
#![cfg_attr(
    not(all(feature = "axum", feature = "remote")),
    doc = "A tower layer that verifies Pomerium's `X-Pomerium-Jwt-Assertion` (the README has the guide)."
)]

mod error;
mod identity;
mod keys;
mod layer;
pub mod metrics;
#[cfg(feature = "remote")]
mod remote;

pub use error::LoadError;
pub use identity::Identity;
pub use keys::{Keys, MAX_KEYS, Tables};
pub use layer::{
    ASSERTION_HEADER, CLAIM_HEADER_PREFIX, PomeriumJwt, PomeriumJwtLayer, Reason, Rejection, ResponseFuture,
};
pub use pomerium_jwt::Window;
#[cfg(feature = "remote")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub use remote::{FetchFuture, Fetched, HttpClient, JwksClient, RemoteJwks};
