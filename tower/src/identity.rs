//! The verified identity handlers receive: an owned copy of the token's claims.

use std::cell::RefCell;
use std::sync::OnceLock;

use pomerium_jwt::{Audience, Buffers, Claims, Es256Key, KeySet, UnixTime, Verifier};
use serde_json::{Map, Value};

use crate::keys::MAX_KEYS;

/// The longest token verified: more than fits in Envoy's default 60 KiB of request headers.
const TOKEN_CAPACITY: usize = 64 * 1024;
/// `groups` entries (plus array-form `aud` entries) accepted.
const GROUPS: usize = 4096;

thread_local! {
    // 96 KiB per thread that verifies, made on its first verification and reused for every
    // later one, by the layer and the forward-auth service alike.
    static BUFFERS: RefCell<Box<Buffers<TOKEN_CAPACITY, GROUPS>>> = RefCell::new(Box::default());
}

/// Verifies `token` against `keys` for `audience` (and `issuer`, or the default issuers) with
/// `leeway` seconds of skew, into this thread's buffers, and names the key that verified it.
///
/// No `.await` happens while the buffers are borrowed: a task never holds them across a switch,
/// so the borrow cannot conflict.
pub(crate) fn verify<K: Es256Key>(
    keys: &KeySet<MAX_KEYS, K>,
    audience: &str,
    issuer: Option<&str>,
    leeway: u64,
    token: &[u8],
    now: UnixTime,
) -> Result<Identity, pomerium_jwt::Error> {
    let mut verifier = Verifier::new(keys, audience).with_leeway(leeway);
    if let Some(issuer) = issuer {
        verifier = verifier.with_issuer(issuer);
    }
    BUFFERS.with_borrow_mut(|buffers| {
        let claims = verifier.verify(token, now, &mut **buffers)?;
        // Pomerium names each key by its thumbprint: the kid an operator finds in the JWKS.
        let kid = keys.keys().nth(claims.key_index()).map(|key| key.public_key().pomerium_kid());
        Ok(Identity::new(&claims, kid.map(|kid| kid.as_str().to_owned()).unwrap_or_default()))
    })
}

/// Who the request is from, taken from a token whose signature, time, audience and issuer
/// checks all passed. The layer puts it in the request's extensions; with the `axum` feature it
/// is also an extractor, which answers 401 when the layer did not run (a route left outside the
/// layer by mistake fails closed).
///
/// The standard claims are fields; every claim, custom ones included (Pomerium's
/// `jwt_claims_headers`, such as `given_name`), is available through [`Identity::claim`] and
/// [`Identity::claims`], read from the payload on the first call and kept.
///
/// With the `serde` feature, `Identity` is `Serialize`: the fields below (the payload and the
/// custom claims are left out; serialize [`Identity::claims`] for those).
#[derive(Clone, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Identity {
    /// `iss`: who issued the token (the route's host, for current Pomerium).
    pub iss: String,
    /// `aud`: the audiences, one for current Pomerium.
    pub aud: Vec<String>,
    /// `sub`: the user's id at the identity provider.
    pub sub: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `user`: Pomerium's user id.
    pub user: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `sid`: the Pomerium session id.
    pub sid: Option<String>,
    /// `jti`: the token id.
    pub jti: Option<String>,
    /// `groups`, in token order; empty when absent or `null`.
    pub groups: Vec<String>,
    /// `exp`, in seconds since the Unix epoch.
    pub exp: u64,
    /// `iat`, in seconds since the Unix epoch.
    pub iat: u64,
    /// `nbf`, in seconds since the Unix epoch, when present.
    pub nbf: Option<u64>,
    /// The key that verified the token: Pomerium's kid for it, the hex SHA-256 RFC 7638
    /// thumbprint, which is the `kid` Pomerium's JWKS gives that key. During a rotation it tells
    /// whether the old or the new key signed (for a key loaded from PEM, where there is no kid,
    /// still its thumbprint).
    pub kid: String,
    /// The key that verified the token: its position among the keys loaded (see
    /// [`Claims::key_index`]).
    pub key_index: usize,
    /// The verified payload JSON as signed.
    #[cfg_attr(feature = "serde", serde(skip))]
    payload: String,
    /// Every claim, read from `payload` on the first call that needs it.
    #[cfg_attr(feature = "serde", serde(skip))]
    claims: OnceLock<Option<Map<String, Value>>>,
}

/// Two identities are equal when their tokens' payloads and keys are: whether the claims were
/// read yet does not count.
impl PartialEq for Identity {
    fn eq(&self, other: &Self) -> bool {
        self.payload == other.payload && self.kid == other.kid && self.key_index == other.key_index
    }
}

impl Eq for Identity {}

impl Identity {
    pub(crate) fn new(claims: &Claims<'_>, kid: String) -> Self {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        Identity {
            iss: claims.iss.to_owned(),
            aud: match claims.aud {
                Audience::One(one) => vec![one.to_owned()],
                Audience::Many(many) => many.iter().map(str::to_owned).collect(),
            },
            sub: owned(claims.sub),
            email: owned(claims.email),
            user: owned(claims.user),
            name: owned(claims.name),
            sid: owned(claims.sid),
            jti: owned(claims.jti),
            groups: claims.groups.iter().map(str::to_owned).collect(),
            exp: claims.exp,
            iat: claims.iat,
            nbf: claims.nbf,
            kid,
            key_index: claims.key_index(),
            payload: claims.payload().to_owned(),
            claims: OnceLock::new(),
        }
    }

    /// Whether `groups` contains `group`.
    #[must_use]
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// Every claim of the verified token, as JSON values, custom claims included. The payload
    /// is read on the first call (of this or [`Identity::claim`]) and kept for later ones.
    ///
    /// `None` only for the rare payload that the verifier accepts but `serde_json` does not read
    /// (a number beyond `f64`, a lone surrogate in a claim the verifier skips).
    #[must_use]
    pub fn claims(&self) -> Option<&Map<String, Value>> {
        self.claims
            .get_or_init(|| match serde_json::from_str(&self.payload) {
                Ok(Value::Object(map)) => Some(map),
                _ => None,
            })
            .as_ref()
    }

    /// The verified token's payload JSON exactly as signed, for a JSON library of your choice.
    #[must_use]
    pub fn payload(&self) -> &str {
        &self.payload
    }

    /// One claim of the verified token by name, custom claims included; `None` when absent.
    #[must_use]
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims()?.get(name)
    }
}

#[cfg(feature = "axum")]
impl<S: Send + Sync> axum_core::extract::FromRequestParts<S> for Identity {
    type Rejection = http::StatusCode;

    async fn from_request_parts(parts: &mut http::request::Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Identity>().cloned().ok_or(http::StatusCode::UNAUTHORIZED)
    }
}

#[cfg(feature = "axum")]
impl<S: Send + Sync> axum_core::extract::OptionalFromRequestParts<S> for Identity {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut http::request::Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<Identity>().cloned())
    }
}
