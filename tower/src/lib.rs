#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]

mod audience;
mod claim_headers;
mod error;
mod forward_auth;
mod identity;
mod keys;
mod layer;
mod public_path;
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
pub use layer::{ASSERTION_HEADER, CLAIM_HEADER_PREFIX, PomeriumJwt, PomeriumJwtLayer, ResponseFuture};
pub use pomerium_jwt::Window;
pub use public_path::{PublicPaths, remove_dot_segments};
pub use remote::{FetchFuture, HttpClient, JwksClient, RemoteJwks};
