//! Compile-time guarantees, pinned as doctests (compiled only by `cargo test --doc`).
//!
//! `Verifier` is `Copy`, so its setters return a new verifier and leave the one they are called
//! on as it was: a call whose result is dropped configures nothing, and the verifier in use
//! keeps the default issuer or leeway. `#[must_use]` on each setter makes that a warning (here
//! denied, so a failed compilation shows it). Each `compile_fail` example has a twin that
//! differs only in the lint's level and must compile, so an example cannot pass by failing for
//! another reason.

/// A dropped `with_issuer` is refused under `deny(unused_must_use)`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// use pomerium_jwt::{KeySet, Verifier};
/// let keys: KeySet = KeySet::new();
/// let verifier = Verifier::new(&keys, "app.example.com");
/// verifier.with_issuer("https://app.example.com/");
/// ```
///
/// and only because of that lint: the same code compiles when the lint merely warns.
///
/// ```
/// #![warn(unused_must_use)]
/// use pomerium_jwt::{KeySet, Verifier};
/// let keys: KeySet = KeySet::new();
/// let verifier = Verifier::new(&keys, "app.example.com");
/// verifier.with_issuer("https://app.example.com/");
/// ```
pub struct DroppedIssuer;

/// The same for `with_leeway`:
///
/// ```compile_fail
/// #![deny(unused_must_use)]
/// use pomerium_jwt::{KeySet, Verifier};
/// let keys: KeySet = KeySet::new();
/// let verifier = Verifier::new(&keys, "app.example.com");
/// verifier.with_leeway(0);
/// ```
///
/// ```
/// #![warn(unused_must_use)]
/// use pomerium_jwt::{KeySet, Verifier};
/// let keys: KeySet = KeySet::new();
/// let verifier = Verifier::new(&keys, "app.example.com");
/// verifier.with_leeway(0);
/// ```
pub struct DroppedLeeway;

/// The README says why `let mut keys: KeySet = KeySet::new();` carries its annotation: without
/// one, the capacity cannot be inferred (a type's default generic arguments apply where the
/// type is named, not to a call's inferred ones).
///
/// ```compile_fail,E0282
/// let keys = pomerium_jwt::KeySet::new();
/// assert!(keys.is_empty());
/// ```
///
/// ```
/// let keys: pomerium_jwt::KeySet = pomerium_jwt::KeySet::new();
/// assert!(keys.is_empty());
/// ```
pub struct KeySetNeedsItsType;
