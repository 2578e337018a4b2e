//! A fixed-capacity set of verification keys, and choosing candidates by `kid`.

use sha2::{Digest, Sha256};

use crate::b64;
use crate::error::{Capacity, Error, KeyError};
use crate::json::{RawStr, unescape_pieces, unescape_to};
use crate::key::der::{self, Contents};
use crate::key::{Es256Key, PublicKey, jwk, pem};

/// The longest kid kept as it is: a Pomerium kid is 64 hex digits.
const INLINE_KID: usize = 64;

/// A kid as the set keeps it: up to [`INLINE_KID`] bytes as they are, a longer one as its
/// SHA-256, so an entry has a fixed size whatever a JWKS holds. Two kids have equal forms exactly
/// when they are equal (for long ones, short of a SHA-256 collision), and only a long kid costs a
/// token a hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StoredKid {
    Inline { len: u8, bytes: [u8; INLINE_KID] },
    Digest([u8; 32]),
}

impl StoredKid {
    /// The form of the kid whose unescaped bytes are `kid`.
    fn of(kid: &[u8]) -> Self {
        let mut bytes = [0; INLINE_KID];
        match (bytes.get_mut(..kid.len()), u8::try_from(kid.len())) {
            (Some(inline), Ok(len)) => {
                inline.copy_from_slice(kid);
                StoredKid::Inline { len, bytes }
            }
            _ => StoredKid::Digest(Sha256::digest(kid).into()),
        }
    }

    /// Whether this is the form of `kid` (unescaped bytes); `digest` keeps the kid's SHA-256
    /// once it was needed.
    fn is(&self, kid: &[u8], digest: &mut Option<[u8; 32]>) -> bool {
        match self {
            StoredKid::Inline { len, bytes } => bytes.get(..usize::from(*len)) == Some(kid),
            StoredKid::Digest(have) => {
                kid.len() > INLINE_KID && have == digest.get_or_insert_with(|| Sha256::digest(kid).into())
            }
        }
    }

    /// The form of a JWK's kid (already checked to unescape).
    fn of_json(kid: RawStr<'_>) -> Self {
        let mut unescaped = [0; INLINE_KID];
        match unescape_to(kid.raw, &mut unescaped) {
            Ok(Some(len)) => StoredKid::of(unescaped.get(..len).unwrap_or_default()),
            _ => {
                let mut hash = Sha256::new();
                // Already checked: an error here cannot happen, and would only leave the digest
                // short.
                let _checked = unescape_pieces(kid.raw, |piece| hash.update(piece));
                StoredKid::Digest(hash.finalize().into())
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Entry<K> {
    key: K,
    kid: Option<StoredKid>,
    /// No earlier entry holds the same key: the one tried for a token without `kid`.
    first: bool,
    /// This entry has a kid, and another entry holds the same key without one: that entry is
    /// tried instead, for every token.
    covered: bool,
}

/// The keys tokens may be signed with: at most `N` of them, each with an optional `kid`.
///
/// Keys are plain [`PublicKey`]s, or [`PrecomputedKey`](crate::PrecomputedKey)s made from them
/// with [`KeySet::precompute`].
///
/// **`N` bounds the work of a forged token.** A token is checked against every key that may have
/// signed it (SPEC §3: the keys with its `kid` and the keys without one; every key when it has no
/// `kid`), one ECDSA verification each, so one token costs at most `N` verifications. Keep `N`
/// near the number of keys you really have (Pomerium publishes one, two while its signing key
/// rotates). Each key is stored, and tried, once: loading the same key again with the same kid,
/// or with any kid once it is there without one, changes nothing and uses no capacity.
///
/// Every `add_*` method reads one input format and adds all the keys in it, or none: if any part
/// of the input is refused, the set is left as it was. Each returns how many usable keys the input
/// held, counting those the set already had.
///
/// # Keys that rotate
/// A set can be emptied with [`KeySet::clear`] and filled again, but while a service runs the
/// safer pattern is build-and-swap: read the new key file into a fresh set, and only when that
/// succeeded replace the set your verifiers borrow (behind an `Arc`, a lock or an atomic
/// pointer). A fetch that fails or yields no key then never leaves the service without keys.
///
/// ```
/// use pomerium_jwt::KeySet;
///
/// let old = br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"old","x":"_CkO2h6wtGcW6I9aOd6jG0noi3ns__FS6kNvZaY4guU","y":"uL7EL5OPabgOgttrdNVdngrbMggnqtJVFP6ydkubdI4"}]}"#;
/// let mut in_use: KeySet = KeySet::new();
/// in_use.add_jwks(old)?;
///
/// // A refresh: the same document again. Nothing is stored twice.
/// let mut fresh: KeySet = KeySet::new();
/// fresh.add_jwks(old)?;
/// fresh.add_jwks(old)?;
/// assert_eq!(fresh.len(), 1);
///
/// // Only a set that loaded replaces the one in use.
/// if !fresh.is_empty() {
///     in_use = fresh;
/// }
/// assert_eq!(in_use.len(), 1);
/// # Ok::<(), pomerium_jwt::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct KeySet<const N: usize = 4, K = PublicKey> {
    entries: heapless::Vec<Entry<K>, N>,
}

impl<const N: usize, K: Es256Key> Default for KeySet<N, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, K: Es256Key> KeySet<N, K> {
    /// An empty key set.
    pub const fn new() -> Self {
        KeySet { entries: heapless::Vec::new() }
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The keys, in the order they were added.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|e| &e.key)
    }

    /// Adds `key`, selected for tokens whose header `kid` equals `kid`, or for every token when
    /// `kid` is `None`.
    ///
    /// A key already in the set is not stored again (see [`KeySet`]).
    ///
    /// # Errors
    /// [`Capacity::Keys`] when the set is full.
    pub fn insert(&mut self, key: K, kid: Option<&str>) -> Result<(), Error> {
        self.push(key, kid.map(|kid| StoredKid::of(kid.as_bytes())))
    }

    /// The keys to try for a token, each once: those whose kid equals the token's, and those
    /// without kid; every key when the token has no kid. Each with its position in
    /// [`KeySet::keys`], which [`Claims::key_index`](crate::Claims::key_index) reports.
    pub(crate) fn candidates(&self, kid: Option<&[u8]>) -> impl Iterator<Item = (usize, &K)> {
        // A long kid is hashed when a stored digest is first compared with it, and only once.
        let mut digest = None;
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, e)| match (kid, &e.kid) {
                (Some(kid), Some(have)) => have.is(kid, &mut digest) && !e.covered,
                (Some(_), None) => true,
                (None, _) => e.first,
            })
            .map(|(i, e)| (i, &e.key))
    }

    /// Adds `key` unless an entry already covers it (the same key with the same kid, or without
    /// kid); a new entry without kid covers the earlier ones with the same key.
    fn push(&mut self, key: K, kid: Option<StoredKid>) -> Result<(), Error> {
        let public = *key.public_key();
        let mut first = true;
        for have in self.entries.iter().filter(|e| *e.key.public_key() == public) {
            if have.kid.is_none() || have.kid == kid {
                return Ok(());
            }
            first = false;
        }
        self.entries.push(Entry { key, kid, first, covered: false }).map_err(|_| Error::Capacity(Capacity::Keys))?;
        if kid.is_none() {
            self.entries
                .iter_mut()
                .filter(|e| e.kid.is_some() && *e.key.public_key() == public)
                .for_each(|e| e.covered = true);
        }
        Ok(())
    }

    /// Runs `add`, which returns how many keys it read; on failure, removes whatever it added.
    fn all_or_nothing(&mut self, add: impl FnOnce(&mut Self) -> Result<usize, Error>) -> Result<usize, Error> {
        let before = self.entries.len();
        add(self).inspect_err(|_| {
            self.entries.truncate(before);
            // A removed entry without kid may have covered earlier ones.
            for i in 0..self.entries.len() {
                let Some(e) = self.entries.get(i) else { continue };
                let public = *e.key.public_key();
                let covered =
                    e.kid.is_some() && self.entries.iter().any(|o| o.kid.is_none() && *o.key.public_key() == public);
                if let Some(e) = self.entries.get_mut(i) {
                    e.covered = covered;
                }
            }
        })
    }
}

impl<const N: usize> KeySet<N, PublicKey> {
    /// The same set, each key turned into another kind (a
    /// [`PrecomputedKey`](crate::PrecomputedKey)) by `convert`, each keeping its kid.
    ///
    /// # Errors
    /// The first error `convert` returns.
    pub fn precompute<K: Es256Key>(
        &self,
        mut convert: impl FnMut(&PublicKey) -> Result<K, Error>,
    ) -> Result<KeySet<N, K>, Error> {
        let mut converted = KeySet::new();
        for e in &self.entries {
            let entry = Entry { key: convert(&e.key)?, kid: e.kid, first: e.first, covered: e.covered };
            converted.entries.push(entry).map_err(|_| Error::Capacity(Capacity::Keys))?;
        }
        Ok(converted)
    }

    /// Adds a SEC1 point (see [`PublicKey::from_sec1`]), without kid.
    ///
    /// # Errors
    /// As [`PublicKey::from_sec1`], or [`Capacity::Keys`].
    pub fn add_sec1(&mut self, point: &[u8]) -> Result<usize, Error> {
        self.insert(PublicKey::from_sec1(point)?, None).map(|()| 1)
    }

    /// Adds the key of a DER SubjectPublicKeyInfo or X.509 certificate, without kid.
    ///
    /// # Errors
    /// [`KeyError::PrivateKey`] for a DER private key; otherwise as
    /// [`PublicKey::from_spki_der`] and [`PublicKey::from_certificate_der`], or [`Capacity::Keys`].
    pub fn add_der(&mut self, der: &[u8]) -> Result<usize, Error> {
        let key = match der::classify(der)? {
            Contents::PublicKey => PublicKey::from_spki_der(der)?,
            Contents::Certificate => PublicKey::from_certificate_der(der)?,
        };
        self.insert(key, None).map(|()| 1)
    }

    /// Adds one JWK (`kty` `EC`, `crv` `P-256`), with its `kid` if it has one.
    ///
    /// # Errors
    /// [`KeyError::Unsupported`] for a JWK that is not a P-256 signing key,
    /// [`KeyError::Invalid`] for a broken one, [`KeyError::PrivateKey`] for one with `d`,
    /// [`Error::Json`] for malformed JSON, or [`Capacity::Keys`].
    pub fn add_jwk(&mut self, json: &[u8]) -> Result<usize, Error> {
        let (key, kid) = jwk::read_single(json)?;
        self.push(key, kid.map(StoredKid::of_json)).map(|()| 1)
    }

    /// Adds the P-256 signing keys of a JWKS `{"keys": [...]}`, skipping other members.
    /// `{"keys": null}` and `{"keys": []}` add nothing.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when a member claims to be a P-256 key but is broken,
    /// [`KeyError::PrivateKey`] when a member has private key material, [`KeyError::Jwk`] when
    /// there is no `keys` array, [`Error::Json`] for malformed JSON, or [`Capacity::Keys`].
    pub fn add_jwks(&mut self, json: &[u8]) -> Result<usize, Error> {
        self.all_or_nothing(|set| {
            let mut read = 0usize;
            jwk::read_set(json, |key, kid| {
                read = read.saturating_add(1);
                set.push(key, kid.map(StoredKid::of_json))
            })?;
            Ok(read)
        })
    }

    /// Adds the keys of every PEM block in `text`: `PUBLIC KEY` and `CERTIFICATE` blocks,
    /// with text around them ignored. As in a JWKS, a well-formed key of another type (RSA,
    /// P-384, Ed25519) is skipped while another block holds a P-256 key. `scratch` holds one
    /// decoded block at a time; as long as `text` always suffices.
    ///
    /// # Errors
    /// [`KeyError::PrivateKey`] for a private key block, [`KeyError::Unsupported`] when every
    /// key is of another type, [`KeyError::PemLabel`] for an unknown label, [`KeyError::Pem`] for
    /// a malformed block, [`KeyError::UnknownFormat`] when there is no block; errors of the
    /// block's contents as in [`KeySet::add_der`]; [`Capacity::Scratch`] or [`Capacity::Keys`].
    pub fn add_pem(&mut self, text: &[u8], scratch: &mut [u8]) -> Result<usize, Error> {
        if !pem::looks_like_pem(text) {
            return Err(KeyError::UnknownFormat.into());
        }
        self.all_or_nothing(|set| {
            let (mut read, mut skipped) = (0usize, false);
            for block in pem::blocks(text) {
                let block = block?;
                let expected = match block.label {
                    b"PUBLIC KEY" => Contents::PublicKey,
                    b"CERTIFICATE" => Contents::Certificate,
                    b"RSA PRIVATE KEY" => return Err(KeyError::RsaPrivateKey.into()),
                    // A PKCS#8 block may hold an RSA key: its DER says which.
                    b"PRIVATE KEY" => {
                        let der = b64::decode_standard_lines(block.body, scratch).unwrap_or_default();
                        return Err(match der::classify(der) {
                            Err(Error::Key(KeyError::RsaPrivateKey)) => KeyError::RsaPrivateKey.into(),
                            _ => KeyError::PrivateKey.into(),
                        });
                    }
                    b"EC PRIVATE KEY" | b"ENCRYPTED PRIVATE KEY" => return Err(KeyError::PrivateKey.into()),
                    b"RSA PUBLIC KEY" => {
                        skipped = true;
                        continue;
                    }
                    // Written by `openssl ecparam -genkey` beside the key; names only the curve.
                    b"EC PARAMETERS" => continue,
                    _ => return Err(KeyError::PemLabel.into()),
                };
                let der = b64::decode_standard_lines(block.body, scratch).map_err(|e| match e {
                    b64::DecodeError::TooLong => Error::Capacity(Capacity::Scratch),
                    b64::DecodeError::Invalid => KeyError::Pem.into(),
                })?;
                if der::classify(der)? != expected {
                    return Err(KeyError::Der.into());
                }
                match set.add_der(der) {
                    Err(Error::Key(KeyError::Unsupported)) => skipped = true,
                    other => read = read.saturating_add(other?),
                }
            }
            if skipped && read == 0 { Err(KeyError::Unsupported.into()) } else { Ok(read) }
        })
    }

    /// Adds the keys of a PEM file that was base64-encoded once more, the way Pomerium's
    /// `signing_key` setting is written. `scratch` must hold twice the input's length.
    ///
    /// # Errors
    /// [`KeyError::UnknownFormat`] when `text` is not base64 of a PEM file; otherwise as
    /// [`KeySet::add_pem`].
    pub fn add_base64_pem(&mut self, text: &[u8], scratch: &mut [u8]) -> Result<usize, Error> {
        let (outer, inner) = scratch.split_at_mut_checked(text.len()).ok_or(Error::Capacity(Capacity::Scratch))?;
        let pem_text = b64::decode_standard_lines(text, outer).map_err(|_| KeyError::UnknownFormat)?;
        self.add_pem(pem_text, inner)
    }

    /// Adds the keys of a key file in any accepted form, recognised by its contents: a JWKS, a
    /// JWK, PEM (possibly base64-encoded once more), DER, or a SEC1 point. `scratch` must hold
    /// twice the input's length.
    ///
    /// # Errors
    /// [`KeyError::UnknownFormat`] when the input is in none of these forms; otherwise as the
    /// method for its form.
    pub fn add_any(&mut self, input: &[u8], scratch: &mut [u8]) -> Result<usize, Error> {
        let text = input.trim_ascii();
        match input.first() {
            _ if text.first() == Some(&b'{') => {
                if jwk::is_set(text)? {
                    self.add_jwks(text)
                } else {
                    self.add_jwk(text)
                }
            }
            _ if pem::looks_like_pem(text) => self.add_pem(text, scratch),
            Some(0x30) => self.add_der(input),
            Some(2..=4) if matches!(input.len(), 33 | 65) => self.add_sec1(input),
            _ => self.add_base64_pem(text, scratch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::format;
    use std::vec::Vec;

    /// Two kids have equal stored forms exactly when they are equal, on both sides of the inline
    /// limit, and a token's kid is found to be a stored one exactly when they are equal; a JWK's escaped kid has the form of its unescaped bytes, even where the escapes make
    /// the text longer than the limit and the value not.
    #[test]
    fn stored_kids_are_equal_exactly_when_kids_are() {
        let mut kids: Vec<Vec<u8>> = Vec::new();
        for len in [0usize, 1, 2, 31, 32, 63, 64, 65, 66, 100, 200] {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            kids.push(base.clone());
            for at in [0, len / 2, len.saturating_sub(1)] {
                if let Some(byte) = base.get(at) {
                    let mut other = base.clone();
                    other[at] = byte ^ 1;
                    kids.push(other);
                }
            }
        }
        kids.sort();
        kids.dedup();
        for (i, a) in kids.iter().enumerate() {
            for (j, b) in kids.iter().enumerate() {
                assert_eq!(StoredKid::of(a) == StoredKid::of(b), i == j, "{} {}", a.escape_ascii(), b.escape_ascii());
                assert_eq!(StoredKid::of(a).is(b, &mut None), i == j, "{} {}", a.escape_ascii(), b.escape_ascii());
            }
            let escaped = format!(
                "\\u00{:02x}{}",
                a.first().copied().unwrap_or(b'x'),
                a.get(1..).map_or("", |rest| core::str::from_utf8(rest).unwrap())
            );
            let unescaped = if a.is_empty() { Vec::from(*b"x") } else { a.clone() };
            let raw = RawStr { raw: escaped.as_bytes(), start: 0, escaped: true };
            assert_eq!(StoredKid::of_json(raw), StoredKid::of(&unescaped), "{escaped}");
            let plain = RawStr { raw: a, start: 0, escaped: false };
            assert_eq!(StoredKid::of_json(plain), StoredKid::of(a));
        }
    }
}
