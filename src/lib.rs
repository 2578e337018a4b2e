#![no_std]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs` (Cargo.toml): items behind a feature show which one.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Tests compute expected values freely; the library itself is checked without this.
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]
// The crate page is README.md. Its item links ([`KeySet`], ...) point at source files for
// GitHub and crates.io; these definitions come first, and the first definition of a link wins,
// so on docs.rs the same names are intra-doc links that rustdoc checks (scripts/check-docs.py
// keeps the two lists equal). One behind a feature is defined only with it, so that the crate
// documents without it too (the README's own definition then applies).
//! [`Buffers`]: Buffers
//! [`Claims`]: Claims
#![cfg_attr(feature = "serde", doc = "[`Claims::deserialize`]: Claims::deserialize")]
//! [`Claims::get`]: Claims::get
//! [`Claims::members`]: Claims::members
//! [`Claims::payload`]: Claims::payload
//! [`Error`]: Error
//! [`Error::TokenTooLarge`]: Error::TokenTooLarge
//! [`Error::UnknownKey`]: Error::UnknownKey
//! [`JsonStr`]: JsonStr
//! [`KeySet`]: KeySet
//! [`KeySet::add_any`]: KeySet::add_any
//! [`KeySet::add_base64_pem`]: KeySet::add_base64_pem
//! [`KeySet::add_der`]: KeySet::add_der
//! [`KeySet::add_jwk`]: KeySet::add_jwk
//! [`KeySet::add_jwks`]: KeySet::add_jwks
//! [`KeySet::add_pem`]: KeySet::add_pem
//! [`KeySet::add_sec1`]: KeySet::add_sec1
//! [`KeySet::clear`]: KeySet::clear
//! [`MAX_DEPTH`]: MAX_DEPTH
//! [`MAX_HEADER`]: MAX_HEADER
//! [`MAX_MEMBERS`]: MAX_MEMBERS
//! [`PublicKey::pomerium_kid`]: PublicKey::pomerium_kid
//! [`PublicKey::thumbprint`]: PublicKey::thumbprint
//! [`TableEntry`]: TableEntry
//! [`UnixTime`]: UnixTime
//! [`UnixTime::from_secs`]: UnixTime::from_secs
//! [`Value`]: Value
//! [`Verifier`]: Verifier
//! [`Verifier::verify`]: Verifier::verify
//! [`Verifier::with_issuer`]: Verifier::with_issuer
//! [`Verifier::with_leeway`]: Verifier::with_leeway
//! [`Window::entries`]: Window::entries
//! [`dangerous::decode_unverified`]: dangerous::decode_unverified
#![doc = include_str!("../README.md")]

mod b64;
mod claims;
mod compact;
// Doctests that must fail to compile (a dropped builder result); not part of the API.
#[cfg(doctest)]
mod compile_fail;
pub mod dangerous;
mod ecdsa;
mod error;
// The field of 32-bit targets; on 64-bit ones (which use `p256`'s), built for its tests only.
#[cfg(any(target_pointer_width = "32", pomerium_jwt_field32, test))]
#[cfg_attr(not(any(target_pointer_width = "32", pomerium_jwt_field32)), allow(dead_code))]
mod field32;
mod header;
mod json;
mod key;
mod keyset;
mod point;
mod precomputed;
mod scan;
mod time;
mod validation;
mod value;
mod verifier;

pub use claims::{Audience, Claims, Strings, StringsIter};
pub use error::{Capacity, Claim, Error, HeaderParam, JsonError, KeyError, Part, UnknownKid};
#[cfg(pomerium_jwt_field32)]
#[doc(hidden)]
pub use field32::__fuzz_field_ops;
pub use header::MAX_HEADER;
pub use json::{MAX_DEPTH, MAX_MEMBERS};
pub use key::{Es256Key, KeyId, PublicKey};
pub use keyset::KeySet;
pub use precomputed::{BaseTable, PrecomputedKey, TableEntry, TableStorage, Window};
pub use time::UnixTime;
pub use value::{JsonStr, JsonStrs, JsonStrsIter, Members, Value};
pub use verifier::{Buffers, DEFAULT_LEEWAY, Verifier};
