//! A fixed-capacity set of verification keys, and choosing candidates by `kid`.

use sha2::{Digest, Sha256};

use crate::b64;
use crate::error::{Capacity, Error, KeyError};
use crate::json::RawStr;
use crate::key::der::{self, Contents};
use crate::key::{Es256Key, PublicKey, jwk, pem};

/// A kid is kept as its SHA-256, so a kid of any length takes 32 bytes and compares in one go.
type KidDigest = [u8; 32];

#[derive(Clone, Copy, Debug)]
struct Entry<K> {
    key: K,
    kid: Option<KidDigest>,
}

/// The keys tokens may be signed with: at most `N` of them, each with an optional `kid`.
///
/// Keys are plain [`PublicKey`]s, or [`PrecomputedKey`](crate::PrecomputedKey)s made from them
/// with [`KeySet::precompute`].
///
/// Every `add_*` method reads one input format and adds all the keys in it, or none: if any part
/// of the input is refused, the set is left as it was. Each returns how many keys it added.
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

    /// The keys, in the order they were added.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|e| &e.key)
    }

    /// Adds `key`, selected for tokens whose header `kid` equals `kid`, or for every token when
    /// `kid` is `None`.
    ///
    /// # Errors
    /// [`Capacity::Keys`] when the set is full.
    pub fn insert(&mut self, key: K, kid: Option<&str>) -> Result<(), Error> {
        let kid = kid.map(|kid| Sha256::digest(kid.as_bytes()).into());
        self.push(Entry { key, kid })
    }

    /// The keys to try for a token: those whose kid equals the token's, and those without kid;
    /// every key when the token has no kid.
    pub(crate) fn candidates(&self, kid: Option<&[u8]>) -> impl Iterator<Item = &K> {
        let wanted: Option<KidDigest> = kid.map(|kid| Sha256::digest(kid).into());
        self.entries
            .iter()
            .filter(move |e| match (wanted, e.kid) {
                (Some(wanted), Some(have)) => wanted == have,
                _ => true,
            })
            .map(|e| &e.key)
    }

    fn push(&mut self, entry: Entry<K>) -> Result<(), Error> {
        self.entries.push(entry).map_err(|_| Error::Capacity(Capacity::Keys))
    }

    /// Runs `add`; on failure, removes whatever it added.
    fn all_or_nothing(&mut self, add: impl FnOnce(&mut Self) -> Result<(), Error>) -> Result<usize, Error> {
        let before = self.entries.len();
        match add(self) {
            Ok(()) => Ok(self.entries.len().saturating_sub(before)),
            Err(e) => {
                self.entries.truncate(before);
                Err(e)
            }
        }
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
        for entry in &self.entries {
            converted.push(Entry { key: convert(&entry.key)?, kid: entry.kid })?;
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
        self.push(Entry { key, kid: kid.map(digest_kid) }).map(|()| 1)
    }

    /// Adds the P-256 signing keys of a JWKS `{"keys": [...]}`, skipping other members.
    /// `{"keys": null}` and `{"keys": []}` add nothing.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when a member claims to be a P-256 key but is broken,
    /// [`KeyError::PrivateKey`] when a member has private key material, [`KeyError::Jwk`] when
    /// there is no `keys` array, [`Error::Json`] for malformed JSON, or [`Capacity::Keys`].
    pub fn add_jwks(&mut self, json: &[u8]) -> Result<usize, Error> {
        self.all_or_nothing(|set| jwk::read_set(json, |key, kid| set.push(Entry { key, kid: kid.map(digest_kid) })))
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
            let (mut added, mut skipped) = (false, false);
            for block in pem::blocks(text) {
                let block = block?;
                let expected = match block.label {
                    b"PUBLIC KEY" => Contents::PublicKey,
                    b"CERTIFICATE" => Contents::Certificate,
                    b"EC PRIVATE KEY" | b"PRIVATE KEY" | b"ENCRYPTED PRIVATE KEY" | b"RSA PRIVATE KEY" => {
                        return Err(KeyError::PrivateKey.into());
                    }
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
                    other => added |= other? > 0,
                }
            }
            if skipped && !added { Err(KeyError::Unsupported.into()) } else { Ok(()) }
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

/// The SHA-256 of a kid's unescaped value (already checked to unescape).
fn digest_kid(kid: RawStr<'_>) -> KidDigest {
    if !kid.escaped {
        return Sha256::digest(kid.raw).into();
    }
    let mut hash = Sha256::new();
    kid.unescaped().flatten().for_each(|byte| hash.update([byte]));
    hash.finalize().into()
}
