//! The one error type, and the small enums that say which part or claim failed.

use core::fmt;

/// Why a token or a key was rejected.
///
/// Every rejection has its own variant, so a caller can tell a forged token
/// ([`Error::BadSignature`]) from a stale one ([`Error::Expired`]) or from a
/// misconfiguration ([`Error::UnknownKey`], [`Error::WrongAudience`]).
/// The type is `Copy` and formats without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The token is longer than the caller's buffers allow (checked before any decoding).
    TokenTooLarge {
        /// Length of the token in bytes.
        len: usize,
        /// The largest token the buffers take.
        max: usize,
    },
    /// A fixed capacity would be exceeded; nothing is ever truncated.
    Capacity(Capacity),
    /// The token is not `header.payload.signature`: the wrong number of dots or an empty segment.
    Segments,
    /// A segment is not canonical, unpadded base64url.
    Base64(Part),
    /// The signature segment does not decode to exactly 64 bytes (`r || s`).
    SignatureLength,
    /// The header or claims are not the strict JSON this crate accepts.
    Json {
        /// Which segment held the JSON.
        part: Part,
        /// What was wrong with it.
        reason: JsonError,
    },
    /// The header's `alg` is missing or is not exactly `"ES256"`.
    UnsupportedAlgorithm,
    /// The header has a `crit` member, whose extensions this crate cannot honour.
    CriticalHeader,
    /// A header member has a value this crate refuses (`kid` not a string, `typ` not `"JWT"`).
    BadHeader(HeaderParam),
    /// No key in the key set is a candidate for the token's `kid`: a key set loaded before the
    /// signing key rotated, or a token from another Pomerium. `kid` is the token's (absent when
    /// the token has none and the set is empty), so an integration can decide to fetch the keys
    /// again; it comes from an unverified token, so treat it as untrusted text.
    UnknownKey {
        /// The token's `kid`, unescaped.
        kid: Option<UnknownKid>,
    },
    /// The signature does not verify under any candidate key (or `r`/`s` is out of range).
    BadSignature,
    /// A required claim is absent.
    MissingClaim(Claim),
    /// A known claim has the wrong type or an unusable value (a negative or oversized date).
    InvalidClaim(Claim),
    /// `now` is at or past `exp + leeway`.
    Expired {
        /// The token's `exp`.
        exp: u64,
        /// The caller's clock.
        now: u64,
        /// The leeway applied.
        leeway: u64,
    },
    /// `nbf` is after `now + leeway`.
    NotYetValid {
        /// The token's `nbf`.
        nbf: u64,
        /// The caller's clock.
        now: u64,
        /// The leeway applied.
        leeway: u64,
    },
    /// `iat` is after `now + leeway`.
    IssuedInFuture {
        /// The token's `iat`.
        iat: u64,
        /// The caller's clock.
        now: u64,
        /// The leeway applied.
        leeway: u64,
    },
    /// `aud` neither is nor contains the configured audience.
    WrongAudience,
    /// The verifier was configured with an empty audience, which no token should match (an unset
    /// variable, most likely); refused before the token is read.
    EmptyAudience,
    /// `iss` is not an accepted issuer.
    WrongIssuer,
    /// A key could not be imported.
    Key(KeyError),
    /// The verified claims do not fit the caller's type (`Claims::deserialize`, feature `serde`).
    Deserialize,
}

/// The `kid` of a token for which the key set holds no key ([`Error::UnknownKey`]).
///
/// Kept inline so the error stays `Copy` and allocation-free: the first 64 bytes of the
/// unescaped kid (all of a Pomerium kid, which is 64 hex digits) and its full length. It comes
/// from a token whose signature was not checked: escape it before printing it anywhere.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct UnknownKid {
    bytes: [u8; UnknownKid::KEPT],
    len: usize,
}

impl UnknownKid {
    /// How many bytes of a kid are kept.
    pub const KEPT: usize = 64;

    /// Keeps the first [`UnknownKid::KEPT`] bytes of `kid`, and its length.
    #[must_use]
    pub fn new(kid: &[u8]) -> Self {
        let mut bytes = [0; Self::KEPT];
        let kept = kid.get(..Self::KEPT).unwrap_or(kid);
        if let Some(out) = bytes.get_mut(..kept.len()) {
            out.copy_from_slice(kept);
        }
        UnknownKid { bytes, len: kid.len() }
    }

    /// The kid's bytes, or its first [`UnknownKid::KEPT`] bytes when it is longer.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len.min(Self::KEPT)).unwrap_or_default()
    }

    /// The kid's full length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the kid is the empty string.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether [`UnknownKid::as_bytes`] is the whole kid.
    #[must_use]
    pub fn is_complete(&self) -> bool {
        self.len <= Self::KEPT
    }

    /// Whether the kid is exactly `kid`.
    #[must_use]
    pub fn is(&self, kid: &str) -> bool {
        self.is_complete() && self.as_bytes() == kid.as_bytes()
    }
}

impl fmt::Debug for UnknownKid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Escaped, and marked when cut: Debug output ends up in logs.
        write!(f, "\"{}\"", self.as_bytes().escape_ascii())?;
        if !self.is_complete() {
            write!(f, "... ({} bytes)", self.len)?;
        }
        Ok(())
    }
}

/// A fixed capacity that input tried to exceed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capacity {
    /// The header decodes to more than [`MAX_HEADER`](crate::MAX_HEADER) bytes; checked before
    /// its JSON is read.
    Header,
    /// More `groups` (plus array-form `aud`) entries than the buffers hold.
    Groups,
    /// More members in one JSON object than the duplicate check tracks.
    Members,
    /// More keys than the key set holds.
    Keys,
    /// A caller-supplied scratch buffer is too small for the input.
    Scratch,
    /// The unescaped values of the claims with escapes do not fit in the buffers beside the
    /// decoded token. A token of up to 2/3 of the `TOKEN` capacity always fits; a longer one only
    /// when few of its claims hold escapes.
    Unescaped,
}

/// A segment of the compact token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The protected header.
    Header,
    /// The claims.
    Payload,
    /// The signature.
    Signature,
    /// A key document (JWK or JWKS).
    Key,
}

/// What made a JSON text unacceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonError {
    /// Not valid UTF-8 (RFC 8259 §8.1).
    Utf8,
    /// Not JSON: an unexpected byte, an unterminated string, a malformed number or literal.
    Syntax,
    /// The top-level value is not an object.
    NotObject,
    /// Something other than white space follows the top-level object.
    TrailingBytes,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter,
    /// An invalid escape sequence (`\x`, a short `\u`).
    Escape,
    /// A lone UTF-16 surrogate in a string that is read.
    LoneSurrogate,
    /// A member name appears twice in one object (compared after unescaping).
    DuplicateMember,
    /// Arrays and objects nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    TooDeep,
}

/// A header member with a refused value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderParam {
    /// `kid` is present but not a string.
    Kid,
    /// `typ` is present but not the string `"JWT"` (in any case).
    Typ,
}

/// A registered or Pomerium claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// `iss`
    Iss,
    /// `sub`
    Sub,
    /// `aud`
    Aud,
    /// `exp`
    Exp,
    /// `nbf`
    Nbf,
    /// `iat`
    Iat,
    /// `jti`
    Jti,
    /// `email`
    Email,
    /// `user`
    User,
    /// `name`
    Name,
    /// `sid`
    Sid,
    /// `groups`
    Groups,
}

/// Why a key could not be imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// Private key material was given; pass the public key instead.
    PrivateKey,
    /// An RSA private key was given: Pomerium signs RS256 with it, which this crate does not
    /// verify. Pomerium must sign with an EC P-256 key, whose public key you pass.
    RsaPrivateKey,
    /// A key of another type or curve (RSA, P-384, Ed25519, ...).
    Unsupported,
    /// Claims to be a P-256 key but is broken: off the curve, a short or padded coordinate.
    Invalid,
    /// The input is in none of the accepted key formats.
    UnknownFormat,
    /// A PEM block is malformed (unterminated, mismatched labels, bad base64 body).
    Pem,
    /// A PEM block has a label this crate does not read.
    PemLabel,
    /// DER that is not a well-formed SubjectPublicKeyInfo or certificate.
    Der,
    /// A JWK or JWKS that is not well-formed.
    Jwk,
}

impl Claim {
    /// The claim's JSON member name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Claim::Iss => "iss",
            Claim::Sub => "sub",
            Claim::Aud => "aud",
            Claim::Exp => "exp",
            Claim::Nbf => "nbf",
            Claim::Iat => "iat",
            Claim::Jti => "jti",
            Claim::Email => "email",
            Claim::User => "user",
            Claim::Name => "name",
            Claim::Sid => "sid",
            Claim::Groups => "groups",
        }
    }
}

impl Part {
    const fn name(self) -> &'static str {
        match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
            Part::Key => "key",
        }
    }
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JsonError::Utf8 => "invalid UTF-8",
            JsonError::Syntax => "invalid JSON syntax",
            JsonError::NotObject => "not a JSON object",
            JsonError::TrailingBytes => "bytes after the JSON object",
            JsonError::ControlCharacter => "raw control character in a string",
            JsonError::Escape => "invalid escape sequence",
            JsonError::LoneSurrogate => "lone UTF-16 surrogate in a string",
            JsonError::DuplicateMember => "duplicate member name",
            JsonError::TooDeep => "nested too deeply",
        })
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyError::PrivateKey => {
                "this is a private key; pass the public key instead \
                 (openssl ec -in key.pem -pubout -out pub.pem)"
            }
            KeyError::RsaPrivateKey => {
                "this is an RSA private key: Pomerium signs RS256 with it, and this verifier accepts only \
                 ES256; give Pomerium an EC P-256 signing_key (openssl ecparam -genkey -name prime256v1 \
                 -noout -out ec_private.pem) and pass its public key (openssl ec -in ec_private.pem \
                 -pubout -out ec_public.pem)"
            }
            KeyError::Unsupported => "not an EC P-256 key (RSA, P-384, Ed25519, ... are not used by Pomerium)",
            KeyError::Invalid => "broken P-256 key (point not on the curve, or a malformed coordinate)",
            KeyError::UnknownFormat => "not a PEM, DER, SEC1, JWK or JWKS key",
            KeyError::Pem => "malformed PEM block",
            KeyError::PemLabel => "unsupported PEM label (expected PUBLIC KEY or CERTIFICATE)",
            KeyError::Der => "malformed DER (expected a SubjectPublicKeyInfo or an X.509 certificate)",
            KeyError::Jwk => "malformed JWK or JWKS",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::TokenTooLarge { len, max } => {
                write!(f, "token is {len} bytes, larger than the {max}-byte limit")
            }
            Error::Capacity(Capacity::Header) => {
                write!(f, "header is larger than {} bytes (Pomerium's is about 100)", crate::MAX_HEADER)
            }
            Error::Capacity(Capacity::Groups) => f.write_str("more groups than the buffers hold"),
            Error::Capacity(Capacity::Members) => f.write_str("too many members in one JSON object"),
            Error::Capacity(Capacity::Keys) => f.write_str("more keys than the key set holds"),
            Error::Capacity(Capacity::Scratch) => f.write_str("scratch buffer too small for the input"),
            Error::Capacity(Capacity::Unescaped) => {
                f.write_str("the unescaped claims do not fit in the buffers beside the token")
            }
            Error::Segments => f.write_str("not a compact JWS (header.payload.signature, no empty segment)"),
            Error::Base64(part) => write!(f, "{} is not canonical unpadded base64url", part.name()),
            Error::SignatureLength => f.write_str("signature is not 64 bytes of r || s"),
            Error::Json { part, reason } => write!(f, "{} JSON: {reason}", part.name()),
            Error::UnsupportedAlgorithm => f.write_str("algorithm is not ES256"),
            Error::CriticalHeader => f.write_str("header has a crit member"),
            Error::BadHeader(HeaderParam::Kid) => f.write_str("header kid is not a string"),
            Error::BadHeader(HeaderParam::Typ) => f.write_str("header typ is not JWT"),
            Error::UnknownKey { .. } => f.write_str("no key matches the token's kid"),
            Error::BadSignature => f.write_str("signature does not verify"),
            Error::MissingClaim(c) => write!(f, "required claim {} is missing", c.name()),
            Error::InvalidClaim(c) => write!(f, "claim {} has the wrong type or value", c.name()),
            Error::Expired { exp, now, leeway } => {
                write!(f, "token expired at {exp} (now {now}, leeway {leeway}s)")
            }
            Error::NotYetValid { nbf, now, leeway } => {
                write!(f, "token not valid before {nbf} (now {now}, leeway {leeway}s)")
            }
            Error::IssuedInFuture { iat, now, leeway } => {
                write!(f, "token issued in the future at {iat} (now {now}, leeway {leeway}s)")
            }
            Error::WrongAudience => f.write_str("audience does not match"),
            Error::EmptyAudience => f.write_str("the verifier's audience is empty"),
            Error::WrongIssuer => f.write_str("issuer does not match"),
            Error::Key(e) => write!(f, "key: {e}"),
            Error::Deserialize => f.write_str("the verified claims do not fit the requested type"),
        }
    }
}

impl core::error::Error for Error {}

impl From<KeyError> for Error {
    fn from(e: KeyError) -> Self {
        Error::Key(e)
    }
}
