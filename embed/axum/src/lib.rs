//! An axum middleware that verifies Pomerium's `X-Pomerium-Jwt-Assertion` with `pomerium-jwt`,
//! and a small service built on it (`src/main.rs` runs it; `tests/service.rs` sends it real
//! HTTP requests).
//!
//! - [`PomeriumAuth`] holds what verification needs, loaded once at start-up: the keys (a JWKS,
//!   PEM, or any form `KeySet::add_any` reads), the audience, optionally the issuer and leeway.
//! - [`require_pomerium_jwt`] is the middleware: it takes the header, verifies it at the system
//!   clock's time, and either puts the verified [`Identity`] into the request's extensions or
//!   answers 401 without calling the handler. It also removes every `X-Pomerium-Claim-*` header:
//!   those are unsigned copies that anyone reaching the service around the proxy can forge, so
//!   no handler should be able to read them by mistake.
//! - [`Identity`] is an extractor: a handler that takes it runs only for verified requests, and a
//!   route accidentally left outside the layer answers 401 instead of running unauthenticated.
//!
//! Verification allocates nothing; the buffers are a per-thread `Box` made on a thread's first
//! request. The [`Identity`] is an owned copy of the claims (the request outlives the buffers).

use std::cell::RefCell;
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pomerium_jwt::{Buffers, Claims, Error, KeySet, UnixTime, Verifier};
use serde_json::{Value, json};

/// The header Pomerium signs identity into.
pub const ASSERTION_HEADER: &str = "x-pomerium-jwt-assertion";
/// The prefix of the unsigned identity headers Pomerium can also send (`X-Pomerium-Claim-Email`).
pub const CLAIM_HEADER_PREFIX: &str = "x-pomerium-claim-";

/// Keys held at once (Pomerium's JWKS holds one, two while a key rotates).
pub const MAX_KEYS: usize = 16;
/// The longest token accepted: more than fits in Envoy's default 60 KiB of request headers.
const TOKEN_CAPACITY: usize = 64 * 1024;
/// `groups` entries (plus array-form `aud` entries) accepted.
const GROUPS: usize = 4096;

thread_local! {
    // 96 KiB per thread that verifies, made on its first request and reused for every later one.
    static BUFFERS: RefCell<Box<Buffers<TOKEN_CAPACITY, GROUPS>>> = RefCell::new(Box::default());
}

/// What the middleware verifies against; build it once at start-up and share it in an [`Arc`].
#[derive(Clone, Debug)]
pub struct PomeriumAuth {
    keys: KeySet<MAX_KEYS>,
    audience: String,
    issuer: Option<String>,
    leeway: u64,
}

/// Why keys could not be loaded at start-up.
#[derive(Debug)]
pub enum LoadError {
    /// The key file could not be read.
    Io(std::io::Error),
    /// The key file was refused (a private key, a broken key, an unknown format, ...).
    Key(Error),
    /// The key file holds no P-256 signing key.
    NoKeys,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "cannot read the key file: {e}"),
            LoadError::Key(e) => write!(f, "{e}"),
            LoadError::NoKeys => f.write_str("the key file holds no P-256 signing key"),
        }
    }
}

impl std::error::Error for LoadError {}

impl PomeriumAuth {
    /// Verification against `keys` for `audience` (the route's host, as Pomerium writes it in
    /// `aud`), with the library's default issuer rule and leeway.
    pub fn new(keys: KeySet<MAX_KEYS>, audience: impl Into<String>) -> Self {
        PomeriumAuth { keys, audience: audience.into(), issuer: None, leeway: pomerium_jwt::DEFAULT_LEEWAY }
    }

    /// Loads the keys of a key file in any form `pomerium-jwt` reads: Pomerium's JWKS
    /// (`/.well-known/pomerium/jwks.json`), a JWK, PEM public keys or certificates, DER, or the
    /// base64-encoded PEM of Pomerium's `signing_key` setting.
    ///
    /// # Errors
    /// [`LoadError`] when the file cannot be read, is refused, or holds no key.
    pub fn from_key_file(path: impl AsRef<Path>, audience: impl Into<String>) -> Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(LoadError::Io)?;
        Self::from_key_bytes(&bytes, audience)
    }

    /// As [`PomeriumAuth::from_key_file`], from bytes already in memory (say a JWKS fetched
    /// from Pomerium at start-up).
    ///
    /// # Errors
    /// [`LoadError::Key`] when the keys are refused, [`LoadError::NoKeys`] when there are none.
    pub fn from_key_bytes(bytes: &[u8], audience: impl Into<String>) -> Result<Self, LoadError> {
        let mut keys = KeySet::new();
        let mut scratch = vec![0u8; bytes.len().saturating_mul(2)];
        match keys.add_any(bytes, &mut scratch) {
            Ok(0) => Err(LoadError::NoKeys),
            Ok(_) => Ok(Self::new(keys, audience)),
            Err(e) => Err(LoadError::Key(e)),
        }
    }

    /// Requires `iss` to equal `issuer` exactly.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Allows `seconds` of clock skew (default 60).
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// How many keys were loaded.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Verifies `token` at `now` and returns the identity it carries.
    ///
    /// # Errors
    /// The library's [`Error`] for the first rule the token breaks.
    pub fn verify(&self, token: &[u8], now: UnixTime) -> Result<Identity, Error> {
        let mut verifier = Verifier::new(&self.keys, &self.audience).with_leeway(self.leeway);
        if let Some(issuer) = &self.issuer {
            verifier = verifier.with_issuer(issuer);
        }
        // No `.await` happens while the buffers are borrowed, so a task never holds them across
        // a switch and the borrow cannot conflict.
        BUFFERS.with_borrow_mut(|buffers| verifier.verify(token, now, &mut **buffers).map(|c| Identity::from(&c)))
    }

    /// Verifies the one `X-Pomerium-Jwt-Assertion` header among `headers`.
    ///
    /// # Errors
    /// [`Rejection::Missing`] without the header, [`Rejection::Repeated`] when it appears more
    /// than once, [`Rejection::Invalid`] when the token fails verification.
    pub fn verify_headers(&self, headers: &HeaderMap, now: UnixTime) -> Result<Identity, Rejection> {
        let mut values = headers.get_all(ASSERTION_HEADER).iter();
        let token = values.next().ok_or(Rejection::Missing)?;
        if values.next().is_some() {
            return Err(Rejection::Repeated);
        }
        self.verify(token.as_bytes(), now).map_err(Rejection::Invalid)
    }
}

/// The verified identity a handler receives: an owned copy of the token's claims.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
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
    /// `groups`, in token order.
    pub groups: Vec<String>,
    /// `iss`: who issued the token.
    pub iss: String,
    /// `exp`, in seconds since the Unix epoch.
    pub exp: u64,
}

impl From<&Claims<'_>> for Identity {
    fn from(claims: &Claims<'_>) -> Self {
        let owned = |s: Option<&str>| s.map(str::to_owned);
        Identity {
            sub: owned(claims.sub),
            email: owned(claims.email),
            user: owned(claims.user),
            name: owned(claims.name),
            sid: owned(claims.sid),
            groups: claims.groups.iter().map(str::to_owned).collect(),
            iss: claims.iss.to_owned(),
            exp: claims.exp,
        }
    }
}

impl Identity {
    /// The identity as a JSON object.
    pub fn to_json(&self) -> Value {
        json!({
            "sub": self.sub,
            "email": self.email,
            "user": self.user,
            "name": self.name,
            "sid": self.sid,
            "groups": self.groups,
            "iss": self.iss,
            "exp": self.exp,
        })
    }
}

/// Handlers take `Identity` as an argument. Without the middleware in front there is none, and
/// the request is refused: a route left outside the layer by mistake fails closed.
impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Identity>().cloned().ok_or_else(unauthorized)
    }
}

/// Why the middleware refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// No `X-Pomerium-Jwt-Assertion` header.
    Missing,
    /// More than one `X-Pomerium-Jwt-Assertion` header: which one would the proxy have meant?
    Repeated,
    /// The token failed verification.
    Invalid(Error),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Missing => f.write_str("no X-Pomerium-Jwt-Assertion header"),
            Rejection::Repeated => f.write_str("more than one X-Pomerium-Jwt-Assertion header"),
            Rejection::Invalid(e) => write!(f, "X-Pomerium-Jwt-Assertion rejected: {e}"),
        }
    }
}

/// Seconds since the Unix epoch, from the system clock.
pub fn system_now() -> UnixTime {
    UnixTime::from_secs(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// The middleware: verifies `X-Pomerium-Jwt-Assertion` at the system clock's time. On success it
/// removes the unsigned `X-Pomerium-Claim-*` headers, stores the [`Identity`] in the request's
/// extensions and calls the next service; otherwise it answers 401 (the reason goes to stderr,
/// not to the client) and the handler never runs.
///
/// Install with `axum::middleware::from_fn_with_state(auth, require_pomerium_jwt)`.
pub async fn require_pomerium_jwt(State(auth): State<Arc<PomeriumAuth>>, mut request: Request, next: Next) -> Response {
    match auth.verify_headers(request.headers(), system_now()) {
        Ok(identity) => {
            strip_claim_headers(request.headers_mut());
            request.extensions_mut().insert(identity);
            next.run(request).await
        }
        Err(rejection) => {
            eprintln!("401 {} {}: {rejection}", request.method(), request.uri().path());
            unauthorized()
        }
    }
}

fn strip_claim_headers(headers: &mut HeaderMap) {
    let forged: Vec<_> =
        headers.keys().filter(|name| name.as_str().starts_with(CLAIM_HEADER_PREFIX)).cloned().collect();
    for name in forged {
        headers.remove(name);
    }
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, "401 Unauthorized: missing or invalid X-Pomerium-Jwt-Assertion\n").into_response()
}

/// Wraps `routes` in the middleware: every route in it sees only verified requests.
pub fn protect(routes: Router, auth: Arc<PomeriumAuth>) -> Router {
    routes.layer(middleware::from_fn_with_state(auth, require_pomerium_jwt))
}

/// The example service: `GET /` and `GET /whoami` answer with the verified identity as JSON.
pub fn app(auth: Arc<PomeriumAuth>) -> Router {
    protect(Router::new().route("/", get(whoami)).route("/whoami", get(whoami)), auth)
}

async fn whoami(identity: Identity) -> Json<Value> {
    Json(identity.to_json())
}
