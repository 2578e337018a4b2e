//! The verification pipeline, in the order docs/SPEC.md fixes: size cap, split, decode, header, key
//! choice, signature over the exact signing input, and only then the claims and their checks.

use sha2::{Digest, Sha256};

use crate::b64::{self, DecodeError};
use crate::claims::{self, Claims, Span};
use crate::compact;
use crate::error::{Error, Part, UnknownKid};
use crate::header;
use crate::key::{Es256Key, PublicKey, es256_signature};
use crate::keyset::KeySet;
use crate::time::UnixTime;
use crate::validation::Policy;

/// The default leeway for clock skew, in seconds.
pub const DEFAULT_LEEWAY: u64 = 60;

/// Caller-owned storage for one verification; the verified [`Claims`] borrow from it.
///
/// - `TOKEN`: the longest token accepted, in bytes (default 8 KiB). Memory: `TOKEN` bytes, which
///   hold the decoded header and payload (3/4 of the token's length; the payload is kept exactly
///   as signed) and, after them, an unescaped copy of each known claim whose string holds escapes.
///   A token of up to 2/3 of `TOKEN` always fits; a longer one fits when its escaped claims do,
///   and is otherwise refused with [`Capacity::Unescaped`](crate::Capacity::Unescaped).
/// - `GROUPS`: how many `groups` entries fit, counted together with the entries of an array-form
///   `aud` (default 128). Memory: 8 bytes each.
///
/// Pomerium tokens are about 1 KiB plus the group names; a user in 600 groups makes a token of
/// about 16 KiB, which `Buffers<16384, 640>` takes. Keep large buffers off small stacks
/// (in a `static`, a `Box`, or a long-lived task).
#[derive(Clone)]
pub struct Buffers<const TOKEN: usize = 8192, const GROUPS: usize = 128> {
    decoded: [u8; TOKEN],
    spans: [Span; GROUPS],
}

impl<const TOKEN: usize, const GROUPS: usize> Buffers<TOKEN, GROUPS> {
    /// Zeroed buffers.
    pub const fn new() -> Self {
        const {
            assert!(TOKEN >= 512, "a TOKEN capacity under 512 bytes cannot hold a Pomerium token");
            assert!(GROUPS >= 1, "GROUPS must be at least 1");
            assert!(TOKEN < 1 << 31, "TOKEN must be under 2 GiB");
        }
        Buffers { decoded: [0; TOKEN], spans: [Span::EMPTY; GROUPS] }
    }
}

impl<const TOKEN: usize, const GROUPS: usize> Default for Buffers<TOKEN, GROUPS> {
    fn default() -> Self {
        Self::new()
    }
}

/// Verifies `X-Pomerium-Jwt-Assertion` tokens against a key set, an audience and an issuer.
///
/// A `Verifier` is a few words of configuration that borrows its keys and strings; build it once
/// and share it, or build one per request.
#[derive(Clone, Copy, Debug)]
pub struct Verifier<'a, const KEYS: usize = 4, K = PublicKey> {
    keys: &'a KeySet<KEYS, K>,
    policy: Policy<'a>,
}

impl<'a, const KEYS: usize, K: Es256Key> Verifier<'a, KEYS, K> {
    /// A verifier for tokens signed by one of `keys` for `audience` (the route's host, as
    /// Pomerium writes it in `aud`; an empty audience fails every verification with
    /// [`Error::EmptyAudience`]). The issuer defaults to what Pomerium writes for that
    /// audience (the audience itself, `https://<audience>/`, or `pomerium-proxy`); the leeway to
    /// [`DEFAULT_LEEWAY`].
    pub const fn new(keys: &'a KeySet<KEYS, K>, audience: &'a str) -> Self {
        Verifier { keys, policy: Policy { audience, issuer: None, leeway: DEFAULT_LEEWAY } }
    }

    /// Requires `iss` to equal `issuer` exactly.
    pub const fn with_issuer(mut self, issuer: &'a str) -> Self {
        self.policy.issuer = Some(issuer);
        self
    }

    /// Allows `seconds` of clock skew in the `exp`, `nbf` and `iat` checks (0 is allowed).
    pub const fn with_leeway(mut self, seconds: u64) -> Self {
        self.policy.leeway = seconds;
        self
    }

    /// Verifies `token` at time `now`, decoding into `buffers`.
    ///
    /// Returns the claims only when every check passed; nothing partial is ever returned.
    ///
    /// # Errors
    /// One [`Error`] variant per failed rule: see its documentation.
    pub fn verify<'b, const TOKEN: usize, const GROUPS: usize>(
        &self,
        token: impl AsRef<[u8]>,
        now: UnixTime,
        buffers: &'b mut Buffers<TOKEN, GROUPS>,
    ) -> Result<Claims<'b>, Error> {
        self.run::<TOKEN, GROUPS, true>(token.as_ref(), now, buffers)
    }

    /// Every step of [`Verifier::verify`] but the signature check (its range check, the SHA-256
    /// of the signing input, the ECDSA verification), for `benches/verify.rs`.
    ///
    /// **Not an API: it accepts forged tokens.** Compiled only under `--cfg pomerium_jwt_bench`,
    /// a rustc flag the benchmarks set, never a Cargo feature a dependent could enable.
    ///
    /// # Errors
    /// As [`Verifier::verify`], except [`Error::BadSignature`].
    #[cfg(pomerium_jwt_bench)]
    #[doc(hidden)]
    pub fn __bench_parse<'b, const TOKEN: usize, const GROUPS: usize>(
        &self,
        token: impl AsRef<[u8]>,
        now: UnixTime,
        buffers: &'b mut Buffers<TOKEN, GROUPS>,
    ) -> Result<Claims<'b>, Error> {
        self.run::<TOKEN, GROUPS, false>(token.as_ref(), now, buffers)
    }

    /// The pipeline; `SIGNATURE` is false only for `__bench_parse`.
    fn run<'b, const TOKEN: usize, const GROUPS: usize, const SIGNATURE: bool>(
        &self,
        token: &[u8],
        now: UnixTime,
        buffers: &'b mut Buffers<TOKEN, GROUPS>,
    ) -> Result<Claims<'b>, Error> {
        if self.policy.audience.is_empty() {
            return Err(Error::EmptyAudience);
        }
        if token.len() > TOKEN {
            return Err(Error::TokenTooLarge { len: token.len(), max: TOKEN });
        }
        // Decoding only turns text into bytes; the payload is not read until the signature holds.
        let too_large = Error::TokenTooLarge { len: token.len(), max: TOKEN };
        let (segments, header_len, payload_len) = match compact::split_decoding(token, &mut buffers.decoded) {
            Some(found) => found,
            // Something is wrong: the steps one by one say what, in the order of the spec.
            None => {
                let segments = compact::split(token)?;
                let (header, _, payload_len) =
                    decode_pair(segments.header, segments.payload, &mut buffers.decoded, too_large)?;
                (segments, header.len(), payload_len)
            }
        };
        let (header, payload) = buffers.decoded.split_at_mut_checked(header_len).ok_or(too_large)?;
        // The header decides first: an RS256 token (Pomerium with an RSA signing key) is
        // reported as the wrong algorithm, not as a 256-byte signature.
        let signature = decode_signature(segments.signature);
        let header = header::parse(header)?;
        let signature = signature?;

        let mut candidates = self.keys.candidates(header.kid).peekable();
        let Some(&(first, _)) = candidates.peek() else {
            return Err(Error::UnknownKey { kid: header.kid.map(UnknownKid::new) });
        };
        let key_index = if SIGNATURE {
            let digest: [u8; 32] = Sha256::digest(segments.signing_input).into();
            let signature = es256_signature(&signature)?;
            match candidates.find(|(_, key)| key.verifies_digest(&digest, &signature)) {
                Some((index, _)) => index,
                None => return Err(Error::BadSignature),
            }
        } else {
            first
        };

        let mut claims = claims::read(payload, payload_len, &mut buffers.spans)?;
        self.policy.check(&claims, now)?;
        claims.key_index = key_index;
        Ok(claims)
    }
}

/// Decodes the header and payload segments into the front of `buffer`, one after the other;
/// returns the header, the rest of the buffer (which starts with the payload) and the payload's
/// length.
///
/// A token that fits the buffer always decodes into it (base64 shrinks by a quarter), so
/// `too_large` is only a typed answer to a case that cannot happen.
fn decode_pair<'b>(
    header: &[u8],
    payload: &[u8],
    buffer: &'b mut [u8],
    too_large: Error,
) -> Result<(&'b mut [u8], &'b mut [u8], usize), Error> {
    let fail = |part| move |e| if e == DecodeError::TooLong { too_large } else { Error::Base64(part) };
    let header_len = b64::decode_url(header, buffer).map_err(fail(Part::Header))?.len();
    let (header, rest) = buffer.split_at_mut_checked(header_len).ok_or(too_large)?;
    let payload_len = b64::decode_url(payload, rest).map_err(fail(Part::Payload))?.len();
    Ok((header, rest, payload_len))
}

/// Decodes the signature segment, which must hold exactly 64 bytes.
fn decode_signature(segment: &[u8]) -> Result<[u8; 64], Error> {
    let mut signature = [0u8; 64];
    match b64::decode_url(segment, &mut signature) {
        Ok(decoded) if decoded.len() == 64 => Ok(signature),
        Ok(_) => Err(Error::SignatureLength),
        // Too long for 64 bytes: still tell a foreign byte (white space, padding) from a
        // well-formed signature of the wrong size, such as a DER one.
        Err(DecodeError::TooLong) if b64::is_url_text(segment) => Err(Error::SignatureLength),
        Err(_) => Err(Error::Base64(Part::Signature)),
    }
}
