#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The crate page is README.md. Its item links point at source files for GitHub and crates.io;
// these definitions come first, and the first definition of a link wins, so on docs.rs the same
// names are intra-doc links that rustdoc checks (scripts/check-docs.py keeps the lists equal).
// Those of items behind a feature are defined only with it, so that the crate documents without.
//! [`Audiences`]: Audiences
//! [`Authenticator`]: Authenticator
//! [`ForwardAuth`]: ForwardAuth
//! [`Identity`]: Identity
#![cfg_attr(feature = "remote", doc = "[`JwksClient`]: JwksClient")]
//! [`MAX_KEYS`]: MAX_KEYS
//! [`PublicPaths`]: PublicPaths
//! [`Reason`]: Reason
//! [`Rejection`]: Rejection
#![cfg_attr(feature = "remote", doc = "[`RemoteJwks`]: RemoteJwks")]
//! [`Tables::Plain`]: Tables::Plain
//! [`claim_headers`]: claim_headers
// The README's examples use axum and a remote JWKS: without those features, the crate page is
// one line, so that `cargo test --no-default-features` has no example it cannot build.
#![cfg_attr(all(feature = "axum", feature = "remote"), doc = include_str!("../README.md"))]
#![cfg_attr(
    not(all(feature = "axum", feature = "remote")),
    doc = "A tower layer that verifies Pomerium's `X-Pomerium-Jwt-Assertion` (the README has the guide)."
)]

mod audience;
mod claim_headers;
mod error;
mod forward_auth;
mod identity;
mod keys;
mod layer;
pub mod metrics;
mod public_path;
#[cfg(feature = "remote")]
mod remote;
mod token_cache;

pub use audience::{AudienceError, Audiences, request_host};
pub use claim_headers::{ClaimHeaders, Skip, claim_headers};
pub use error::LoadError;
pub use forward_auth::{
    Authenticator, Decision, ForwardAuth, Refusal, Verified, WWW_AUTHENTICATE_VALUE, escape, forward_auth_response,
    original_method, original_target, strip_claim_headers,
};
pub use identity::Identity;
pub use keys::{Keys, MAX_KEYS, Tables};
pub use layer::{
    ASSERTION_HEADER, CLAIM_HEADER_PREFIX, PomeriumJwt, PomeriumJwtLayer, Reason, Rejection, ResponseFuture,
};
pub use pomerium_jwt::Window;
pub use public_path::{PublicPaths, remove_dot_segments};
#[cfg(feature = "remote")]
#[cfg_attr(docsrs, doc(cfg(feature = "remote")))]
pub use remote::{FetchFuture, Fetched, HttpClient, JwksClient, RemoteJwks};
