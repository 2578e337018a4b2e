#![no_std]
#![forbid(unsafe_code)]
// Tests compute expected values freely; the library itself is checked without this.
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]
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
pub use json::{MAX_DEPTH, MAX_MEMBERS};
pub use key::{Es256Key, KeyId, PublicKey};
pub use keyset::KeySet;
pub use precomputed::{BaseTable, PrecomputedKey, TableEntry, TableStorage, Window};
pub use time::UnixTime;
pub use value::{JsonStr, JsonStrs, JsonStrsIter, Members, Value};
pub use verifier::{Buffers, DEFAULT_LEEWAY, Verifier};
