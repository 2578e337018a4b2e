//! The codes the module returns, which are the JavaScript `VerifyError.code` values.

use pomerium_jwt::{Capacity, Error};

/// What every export returns: 0 for success, a positive code for each kind of failure. Codes 1
/// to 11 are `VerifyError.code` values, 12 is `KeyError`'s; 64 and up are the module's own,
/// which the wrapper never lets a verification reach (it refuses bad arguments first).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Code {
    /// Success.
    Ok = 0,
    /// Nothing is left once white space, the header name and `Bearer ` are taken off.
    Empty = 1,
    /// Every defect of form, or of a claim's type.
    Malformed = 2,
    /// `alg` is not ES256.
    Algorithm = 3,
    /// No loaded key may have signed the token.
    UnknownKey = 4,
    /// The signature does not verify.
    BadSignature = 5,
    /// `exp` has passed.
    Expired = 6,
    /// `nbf` is in the future.
    NotYetValid = 7,
    /// `iat` is in the future.
    IssuedInFuture = 8,
    /// `aud` does not hold the audience.
    Audience = 9,
    /// `iss` is not accepted.
    Issuer = 10,
    /// The token, its header or its claims exceed a capacity.
    TooLarge = 11,
    /// A key file yields no usable key, or is refused.
    Key = 12,
    /// A library error kind that [`Code::of`] does not map yet: `tests::every_error_kind_has_a_code`
    /// fails before such a module can be built into the package.
    Unmapped = 63,
    /// `verify` before keys and an audience were set.
    NotConfigured = 64,
    /// A length argument larger than the input area.
    TooLong = 65,
    /// An audience or issuer that is empty, too long or not UTF-8.
    BadName = 67,
    /// A call while another is running (cannot happen: the module imports nothing).
    Busy = 68,
}

impl Code {
    /// The code of each kind of library error: one code per kind, many kinds per code.
    pub fn of(error: Error) -> Code {
        match error {
            Error::TokenTooLarge { .. } | Error::Capacity(Capacity::Header) => Code::TooLarge,
            // Groups, members, unescaped claims: a token larger than the module takes.
            Error::Capacity(_) => Code::TooLarge,
            Error::Segments
            | Error::Base64(_)
            | Error::SignatureLength
            | Error::Json { .. }
            | Error::CriticalHeader
            | Error::BadHeader(_)
            | Error::MissingClaim(_)
            | Error::InvalidClaim(_)
            | Error::Deserialize => Code::Malformed,
            Error::UnsupportedAlgorithm => Code::Algorithm,
            Error::UnknownKey { .. } => Code::UnknownKey,
            Error::BadSignature => Code::BadSignature,
            Error::Expired { .. } => Code::Expired,
            Error::NotYetValid { .. } => Code::NotYetValid,
            Error::IssuedInFuture { .. } => Code::IssuedInFuture,
            Error::WrongAudience | Error::EmptyAudience => Code::Audience,
            Error::WrongIssuer => Code::Issuer,
            Error::Key(_) => Code::Key,
            _ => Code::Unmapped,
        }
    }

    /// The `error` member of the result document: the JavaScript code.
    pub const fn name(self) -> &'static str {
        match self {
            Code::Ok => "ok",
            Code::Empty => "empty",
            Code::Malformed => "malformed",
            Code::Algorithm => "algorithm",
            Code::UnknownKey => "unknown_key",
            Code::BadSignature => "bad_signature",
            Code::Expired => "expired",
            Code::NotYetValid => "not_yet_valid",
            Code::IssuedInFuture => "issued_in_future",
            Code::Audience => "audience",
            Code::Issuer => "issuer",
            Code::TooLarge => "too_large",
            Code::Key => "key",
            Code::Unmapped => "unmapped",
            Code::NotConfigured => "not_configured",
            Code::TooLong => "too_long",
            Code::BadName => "bad_name",
            Code::Busy => "busy",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pomerium_jwt::{Claim, HeaderParam, JsonError, KeyError, Part, UnknownKid};

    /// The library's `Error` variants, as its source declares them.
    fn declared_variants() -> Vec<String> {
        let source = include_str!("../../../src/error.rs");
        let start = source.find("pub enum Error {").unwrap_or_default();
        let body = source.get(start..).unwrap_or_default();
        let body = body.get(..body.find("\n}").unwrap_or_default()).unwrap_or_default();
        body.lines()
            .skip(1)
            .filter(|line| line.starts_with("    ") && !line.starts_with("     "))
            .map(str::trim)
            .filter(|line| !line.starts_with("//") && !line.starts_with('#') && !line.is_empty())
            .filter_map(|line| line.split(|c: char| !c.is_alphanumeric()).next().map(str::to_owned))
            .filter(|name| !name.is_empty())
            .collect()
    }

    /// One value of each kind, named as the enum names it.
    fn one_of_each() -> Vec<(&'static str, Error)> {
        vec![
            ("TokenTooLarge", Error::TokenTooLarge { len: 2, max: 1 }),
            ("Capacity", Error::Capacity(Capacity::Header)),
            ("Segments", Error::Segments),
            ("Base64", Error::Base64(Part::Header)),
            ("SignatureLength", Error::SignatureLength),
            ("Json", Error::Json { part: Part::Payload, reason: JsonError::TooDeep }),
            ("UnsupportedAlgorithm", Error::UnsupportedAlgorithm),
            ("CriticalHeader", Error::CriticalHeader),
            ("BadHeader", Error::BadHeader(HeaderParam::Kid)),
            ("UnknownKey", Error::UnknownKey { kid: Some(UnknownKid::new(b"k")) }),
            ("BadSignature", Error::BadSignature),
            ("MissingClaim", Error::MissingClaim(Claim::Iss)),
            ("InvalidClaim", Error::InvalidClaim(Claim::Exp)),
            ("Expired", Error::Expired { exp: 1, now: 2, leeway: 0 }),
            ("NotYetValid", Error::NotYetValid { nbf: 2, now: 1, leeway: 0 }),
            ("IssuedInFuture", Error::IssuedInFuture { iat: 2, now: 1, leeway: 0 }),
            ("WrongAudience", Error::WrongAudience),
            ("EmptyAudience", Error::EmptyAudience),
            ("WrongIssuer", Error::WrongIssuer),
            ("Key", Error::Key(KeyError::Invalid)),
            ("Deserialize", Error::Deserialize),
        ]
    }

    /// A variant added to the library fails here until it has a value above and a code: its
    /// name is missing from `one_of_each`, or `Code::of` gives it `Unmapped`.
    #[test]
    fn every_error_kind_has_a_code() {
        let declared = declared_variants();
        assert!(declared.len() >= 20, "could not read the variants of src/error.rs: {declared:?}");
        let covered = one_of_each();
        for name in &declared {
            let Some((_, error)) = covered.iter().find(|(n, _)| n == name) else {
                unreachable!("Error::{name} has no value in one_of_each: give it a JavaScript code");
            };
            assert_ne!(Code::of(*error), Code::Unmapped, "Error::{name} has no JavaScript code");
        }
        assert_eq!(declared.len(), covered.len(), "one_of_each names a variant the library lacks: {declared:?}");
    }

    /// JS.md's codes for the library's kinds, pinned.
    #[test]
    fn codes_are_the_contracts() {
        let expected = [
            ("TokenTooLarge", "too_large"),
            ("Capacity", "too_large"),
            ("Segments", "malformed"),
            ("Json", "malformed"),
            ("CriticalHeader", "malformed"),
            ("BadHeader", "malformed"),
            ("MissingClaim", "malformed"),
            ("InvalidClaim", "malformed"),
            ("SignatureLength", "malformed"),
            ("UnsupportedAlgorithm", "algorithm"),
            ("UnknownKey", "unknown_key"),
            ("BadSignature", "bad_signature"),
            ("Expired", "expired"),
            ("NotYetValid", "not_yet_valid"),
            ("IssuedInFuture", "issued_in_future"),
            ("WrongAudience", "audience"),
            ("WrongIssuer", "issuer"),
            ("Key", "key"),
        ];
        for (name, code) in expected {
            let error = one_of_each().into_iter().find(|(n, _)| *n == name).map(|(_, e)| e);
            assert_eq!(error.map(|e| Code::of(e).name()), Some(code), "{name}");
        }
    }
}
