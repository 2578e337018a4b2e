//! A P-256 public key, its RFC 7638 thumbprint and Pomerium's key id for it.
//!
//! Each format has its own module: [`sec1`] points, [`der`] SubjectPublicKeyInfo and X.509
//! certificates, [`pem`] blocks, [`jwk`] keys and key sets.

pub(crate) mod der;
pub(crate) mod jwk;
pub(crate) mod pem;

use p256::ecdsa::VerifyingKey;
use sha2::{Digest, Sha256};

use crate::b64;
use crate::ecdsa::{self, Signature};
use crate::error::{Error, KeyError};
use crate::point::Affine;

/// An ECDSA P-256 public key that tokens are verified with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// On the curve, checked when the key was read.
    point: Affine,
}

/// Pomerium's key id for a key: its RFC 7638 thumbprint (the SHA-256 of the canonical JWK) in
/// lowercase hex.
pub type KeyId = heapless::String<64>;

impl PublicKey {
    /// Reads a SEC1 point: 65 bytes uncompressed (`04 || x || y`) or 33 bytes compressed.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] for any other length or prefix, or a point not on the curve.
    pub fn from_sec1(point: &[u8]) -> Result<Self, Error> {
        let point = match (point.len(), point.first()) {
            // Uncompressed: both coordinates in range and on the curve, checked on this crate's
            // own points rather than by `p256`'s SEC1 parser, so that neither that parser nor
            // point decompression is linked where no compressed key can arrive (a constant key,
            // a JWK, whose points are always uncompressed).
            (65, Some(4)) => {
                let xy = point.get(1..).and_then(|xy| xy.split_at_checked(32));
                xy.and_then(|(x, y)| Affine::from_coordinates(x.try_into().ok()?, y.try_into().ok()?))
            }
            (33, Some(2 | 3)) => {
                VerifyingKey::from_sec1_bytes(point).ok().and_then(|key| Affine::from_p256(key.as_affine()))
            }
            _ => None,
        };
        point.map(|point| PublicKey { point }).ok_or(Error::Key(KeyError::Invalid))
    }

    /// Reads a DER SubjectPublicKeyInfo (what `openssl ec -pubout -outform DER` writes).
    ///
    /// # Errors
    /// [`KeyError::Der`] for malformed DER, [`KeyError::Unsupported`] for a key that is not
    /// EC P-256, [`KeyError::Invalid`] for a point not on the curve.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        Self::from_sec1(der::spki_point(der)?)
    }

    /// Takes the subject public key of a DER X.509 certificate.
    ///
    /// The certificate is only a container here, as the `openssl req -x509` file in Pomerium's
    /// guide is: its validity dates, issuer and signature are not checked.
    ///
    /// # Errors
    /// As [`PublicKey::from_spki_der`], for the certificate's structure and its key.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self, Error> {
        Self::from_sec1(der::certificate_point(der)?)
    }

    /// The key's RFC 7638 JWK thumbprint (SHA-256).
    #[must_use]
    pub fn thumbprint(&self) -> [u8; 32] {
        let (x_bytes, y_bytes) = self.point.to_bytes();
        let (mut x, mut y) = ([0u8; 43], [0u8; 43]);
        b64::encode_url(&x_bytes, &mut x);
        b64::encode_url(&y_bytes, &mut y);
        let mut hash = Sha256::new();
        hash.update(br#"{"crv":"P-256","kty":"EC","x":""#);
        hash.update(x);
        hash.update(br#"","y":""#);
        hash.update(y);
        hash.update(br#""}"#);
        hash.finalize().into()
    }

    /// The key id Pomerium gives this key in its JWKS and token headers.
    #[must_use]
    pub fn pomerium_kid(&self) -> KeyId {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut kid = KeyId::new();
        for byte in self.thumbprint() {
            for nibble in [byte >> 4, byte & 0xF] {
                let c = HEX.get(usize::from(nibble)).copied().map_or('0', char::from);
                // 32 bytes make exactly 64 hex digits: the string never fills up.
                let _ = kid.push(c);
            }
        }
        kid
    }

    /// The uncompressed SEC1 encoding, `04 || x || y`.
    #[must_use]
    pub fn to_sec1_uncompressed(&self) -> [u8; 65] {
        let (x, y) = self.point.to_bytes();
        let mut out = [4u8; 65];
        out.iter_mut().skip(1).zip(x.iter().chain(&y)).for_each(|(o, b)| *o = *b);
        out
    }

    /// Verifies an ES256 (RFC 7518 §3.4) signature over `message`: 64 bytes, `r || s`
    /// big-endian, both in `[1, n)`; high-S values verify, as Go's signer makes them.
    /// This is the exact check [`Verifier::verify`](crate::Verifier::verify) makes.
    ///
    /// # Errors
    /// [`Error::SignatureLength`] when `signature` is not 64 bytes, [`Error::BadSignature`]
    /// when it is out of range or does not verify.
    pub fn verify_es256(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let signature = es256_signature(signature)?;
        let digest: [u8; 32] = Sha256::digest(message).into();
        if self.verifies(&digest, &signature) { Ok(()) } else { Err(Error::BadSignature) }
    }

    /// The point (for tables and the ECDSA check).
    pub(crate) fn point(&self) -> Affine {
        self.point
    }

    /// Whether `signature` is valid for a message whose SHA-256 is `digest`.
    pub(crate) fn verifies(&self, digest: &[u8; 32], signature: &Signature) -> bool {
        ecdsa::verify(digest, signature, |u1, u2| ecdsa::lincomb(u1, &self.point, u2))
    }
}

/// A key tokens can be verified with: a plain [`PublicKey`], or a
/// [`PrecomputedKey`](crate::PrecomputedKey) that trades memory for speed. Sealed.
pub trait Es256Key: sealed::Sealed {
    /// The public key.
    fn public_key(&self) -> &PublicKey;

    /// Whether `signature` (this crate's reading of one, or `p256`'s `Signature`) is valid for
    /// a message whose SHA-256 is `digest`.
    #[doc(hidden)]
    fn verifies_digest<S: Copy + Into<Signature>>(&self, digest: &[u8; 32], signature: &S) -> bool
    where
        Self: Sized;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::PublicKey {}
    impl Sealed for crate::precomputed::PrecomputedKey<'_> {}
}

impl Es256Key for PublicKey {
    fn public_key(&self) -> &PublicKey {
        self
    }

    fn verifies_digest<S: Copy + Into<Signature>>(&self, digest: &[u8; 32], signature: &S) -> bool {
        self.verifies(digest, &(*signature).into())
    }
}

impl Es256Key for crate::precomputed::PrecomputedKey<'_> {
    fn public_key(&self) -> &PublicKey {
        crate::precomputed::PrecomputedKey::public_key(self)
    }

    fn verifies_digest<S: Copy + Into<Signature>>(&self, digest: &[u8; 32], signature: &S) -> bool {
        self.verifies(digest, &(*signature).into())
    }
}

/// Reads an ES256 signature: exactly 64 bytes, `r || s`, each in `[1, n)`.
pub(crate) fn es256_signature(bytes: &[u8]) -> Result<Signature, Error> {
    let bytes = <&[u8; 64]>::try_from(bytes).map_err(|_| Error::SignatureLength)?;
    Signature::from_bytes(bytes).ok_or(Error::BadSignature)
}
