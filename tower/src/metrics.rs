//! The names of the metrics the layer and the JWKS fetcher report, and the labels they carry.
//!
//! With the `metrics` feature, the crate records through the [`metrics`](https://docs.rs/metrics)
//! facade: nothing is kept or served until the application installs a recorder, such as
//! `metrics-exporter-prometheus`, which serves them at `/metrics`:
//!
//! ```text
//! pomerium_jwt_requests_verified_total 1042
//! pomerium_jwt_requests_refused_total{reason="expired"} 3
//! pomerium_jwt_jwks_fetches_total{result="not_modified"} 12
//! pomerium_jwt_keys 2
//! ```
//!
//! Without the feature the names are still here (a dashboard can be written against them) and
//! the crate records nothing. Every label takes a value from a fixed list, so no token, kid or
//! URL ever becomes a label value and the number of series stays bounded.

/// Counter: requests whose token verified (signature, time, audience, issuer) and that reached
/// the inner service with an [`Identity`](crate::Identity).
pub const VERIFIED: &str = "pomerium_jwt_requests_verified_total";

/// Counter: requests refused, by the label [`REASON`].
pub const REFUSED: &str = "pomerium_jwt_requests_refused_total";

/// Counter: requests let through without a token by
/// [`PomeriumJwtLayer::optional`](crate::PomeriumJwtLayer::optional).
pub const ANONYMOUS: &str = "pomerium_jwt_requests_anonymous_total";

/// Histogram, in seconds: the time one verification took (the token's checks against the keys,
/// not the inner service), for tokens that verified and tokens that did not.
pub const VERIFY_SECONDS: &str = "pomerium_jwt_verify_seconds";

/// Counter: JWKS fetches, by the label [`RESULT`].
pub const JWKS_FETCHES: &str = "pomerium_jwt_jwks_fetches_total";

/// Gauge: keys in use now (0 while a remote JWKS started without keys has none yet).
pub const KEYS: &str = "pomerium_jwt_keys";

/// The label of [`REFUSED`]: why a request was refused.
///
/// | value | the request |
/// | --- | --- |
/// | `missing` | carried no token |
/// | `repeated` | carried the token header more than once |
/// | `not_bearer` | `Authorization` was not `Bearer` (with `authorization_bearer`) |
/// | `expired` | `exp` (with the leeway) has passed |
/// | `not_yet_valid` | `nbf` or `iat` is in the future |
/// | `unknown_key` | no key for its `kid`, after any refetch |
/// | `bad_signature` | no candidate key verified the signature |
/// | `audience` | `aud` is not the layer's audience |
/// | `issuer` | `iss` is not an accepted issuer |
/// | `algorithm` | not ES256 (RS256, `none`, ...) |
/// | `too_large` | the token, or its groups, exceed the layer's buffers |
/// | `malformed` | anything else: base64, JSON, header, a missing or mistyped claim |
/// | `no_keys` | answered `503`: no keys yet |
pub const REASON: &str = "reason";

/// The label of [`JWKS_FETCHES`]: how a fetch ended.
///
/// | value | |
/// | --- | --- |
/// | `ok` | `200` with a document whose keys are now in use (or the same document again) |
/// | `not_modified` | `304` to `If-None-Match`: the keys in use stay, a good fetch |
/// | `too_many_keys` | a document with more keys than [`MAX_KEYS`](crate::MAX_KEYS), refused whole |
/// | `error` | any other failure: connection, TLS, timeout, status, size, a refused document |
pub const RESULT: &str = "result";

/// The label value of [`REFUSED`] for a refusal.
pub(crate) fn reason(error: Option<&pomerium_jwt::Error>) -> &'static str {
    use pomerium_jwt::Error as E;
    match error {
        None => "missing",
        Some(E::Expired { .. }) => "expired",
        Some(E::NotYetValid { .. } | E::IssuedInFuture { .. }) => "not_yet_valid",
        Some(E::UnknownKey { .. }) => "unknown_key",
        Some(E::BadSignature) => "bad_signature",
        Some(E::WrongAudience | E::EmptyAudience) => "audience",
        Some(E::WrongIssuer) => "issuer",
        Some(E::UnsupportedAlgorithm) => "algorithm",
        Some(E::TokenTooLarge { .. } | E::Capacity(_)) => "too_large",
        Some(_) => "malformed",
    }
}

#[cfg(feature = "metrics")]
mod record {
    use std::time::Duration;

    pub(crate) fn verified(took: Duration) {
        metrics::counter!(super::VERIFIED).increment(1);
        metrics::histogram!(super::VERIFY_SECONDS).record(took);
    }

    pub(crate) fn verify_failed(took: Duration) {
        metrics::histogram!(super::VERIFY_SECONDS).record(took);
    }

    pub(crate) fn refused(reason: &'static str) {
        metrics::counter!(super::REFUSED, super::REASON => reason).increment(1);
    }

    pub(crate) fn anonymous() {
        metrics::counter!(super::ANONYMOUS).increment(1);
    }

    pub(crate) fn fetched(result: &'static str) {
        metrics::counter!(super::JWKS_FETCHES, super::RESULT => result).increment(1);
    }

    pub(crate) fn keys(count: usize) {
        // Never more than MAX_KEYS: exact as a float.
        metrics::gauge!(super::KEYS).set(count as f64);
    }
}

#[cfg(not(feature = "metrics"))]
mod record {
    use std::time::Duration;

    pub(crate) fn verified(_took: Duration) {}
    pub(crate) fn verify_failed(_took: Duration) {}
    pub(crate) fn refused(_reason: &'static str) {}
    pub(crate) fn anonymous() {}
    #[cfg_attr(not(feature = "remote"), allow(dead_code))]
    pub(crate) fn fetched(_result: &'static str) {}
    pub(crate) fn keys(_count: usize) {}
}

pub(crate) use record::*;
