#![no_std]
#![forbid(unsafe_code)]
// Tests compute expected values freely; the library itself is checked without this.
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]
#![doc = include_str!("../README.md")]

mod b64;
mod claims;
mod compact;
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
pub use json::{MAX_DEPTH, MAX_MEMBERS};
pub use key::{Es256Key, KeyId, PublicKey};
pub use keyset::KeySet;
pub use precomputed::{BaseTable, PrecomputedKey, TableEntry, TableStorage, Window};
pub use time::UnixTime;
pub use value::{JsonStr, JsonStrs, JsonStrsIter, Members, Value};
pub use verifier::{Buffers, DEFAULT_LEEWAY, Verifier};
