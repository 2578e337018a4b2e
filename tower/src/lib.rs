#![forbid(unsafe_code)]
#![doc = include_str!("../README.md")]

mod error;
mod identity;
mod keys;
mod layer;
mod remote;

pub use error::LoadError;
pub use identity::Identity;
pub use keys::{Keys, MAX_KEYS, Tables};
pub use layer::{ASSERTION_HEADER, CLAIM_HEADER_PREFIX, PomeriumJwt, PomeriumJwtLayer, ResponseFuture};
pub use pomerium_jwt::Window;
pub use remote::{FetchFuture, HttpClient, JwksClient, RemoteJwks};
