//! The token cases: copied at build time out of `tests/data/tokens.json` by `build.rs` (which
//! lists them by name and says why each is there), with each case's key file embedded by
//! `include_bytes!`. The expected verdict is the fixture's own `expect`.

use pomerium_jwt::Error;

/// How the case's key file is read.
#[derive(Clone, Copy)]
pub(crate) enum KeyForm {
    /// A JWKS, as Pomerium serves at `/.well-known/pomerium/jwks.json`: `KeySet::add_jwks`.
    Jwks,
    /// One JWK: `KeySet::add_jwk`.
    Jwk,
}

/// Parts of the expected claims of a valid token, checked against what the device verified.
pub(crate) struct Expected {
    pub(crate) sub: Option<&'static str>,
    pub(crate) exp: u64,
}

/// One case of tests/data/tokens.json.
pub(crate) struct Case {
    pub(crate) name: &'static str,
    /// Who signed the token: `python` (cryptography), `pyjwt`, `openssl` or `jose`.
    pub(crate) signer: &'static str,
    pub(crate) token: &'static str,
    /// The key file, relative to tests/data.
    pub(crate) key_file: &'static str,
    pub(crate) key: &'static [u8],
    pub(crate) key_form: KeyForm,
    pub(crate) audience: &'static str,
    pub(crate) issuer: Option<&'static str>,
    pub(crate) now: u64,
    pub(crate) leeway: Option<u64>,
    /// `ok` or an error kind, as tokens.json names them.
    pub(crate) expect: &'static str,
    pub(crate) claims: Option<Expected>,
}

include!(concat!(env!("OUT_DIR"), "/cases.rs"));

/// The error kind of tokens.json for an error, as tests/fixtures.rs maps them.
pub(crate) fn kind(error: &Error) -> &'static str {
    match error {
        Error::Segments | Error::Base64(_) | Error::SignatureLength | Error::Json { .. } => "malformed",
        Error::TokenTooLarge { .. } | Error::Capacity(_) => "too_large",
        Error::UnsupportedAlgorithm => "unsupported_alg",
        Error::CriticalHeader => "crit",
        Error::BadHeader(_) => "bad_header",
        Error::UnknownKey { .. } => "unknown_key",
        Error::BadSignature => "bad_signature",
        Error::Expired { .. } => "expired",
        Error::NotYetValid { .. } => "not_yet_valid",
        Error::IssuedInFuture { .. } => "issued_in_future",
        Error::WrongAudience => "wrong_audience",
        Error::WrongIssuer => "wrong_issuer",
        Error::MissingClaim(_) => "missing_claim",
        Error::InvalidClaim(_) => "invalid_claim",
        _ => "other_error",
    }
}
