//! The tower `Layer` and `Service`: take the token from its header, verify it, and either call
//! the inner service with the [`Identity`] or answer 401 (503 while there are no keys yet).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{AUTHORIZATION, HeaderName, RETRY_AFTER};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use pomerium_jwt::{Buffers, Es256Key, KeySet, UnixTime, Verifier};
use tower_layer::Layer;
use tower_service::Service;

use crate::identity::Identity;
use crate::keys::{Keys, MAX_KEYS, WithKeys};
use crate::remote::Remote;

/// The header Pomerium signs identity into.
pub const ASSERTION_HEADER: HeaderName = HeaderName::from_static("x-pomerium-jwt-assertion");
/// The prefix of the unsigned identity headers Pomerium can also send (`X-Pomerium-Claim-Email`).
/// Anyone who reaches the service around the proxy can forge them, so the layer removes them.
pub const CLAIM_HEADER_PREFIX: &str = "x-pomerium-claim-";

/// The longest token accepted: more than fits in Envoy's default 60 KiB of request headers.
const TOKEN_CAPACITY: usize = 64 * 1024;
/// `groups` entries (plus array-form `aud` entries) accepted.
const GROUPS: usize = 4096;

thread_local! {
    // 96 KiB per thread that verifies, made on its first request and reused for every later one.
    static BUFFERS: RefCell<Box<Buffers<TOKEN_CAPACITY, GROUPS>>> = RefCell::new(Box::default());
}

/// Where the token is read from.
#[derive(Clone, Debug)]
enum TokenSource {
    Header(HeaderName),
    Bearer,
}

#[derive(Clone, Debug)]
struct Config {
    keys: Keys,
    audience: String,
    issuer: Option<String>,
    leeway: u64,
    source: TokenSource,
}

/// A tower [`Layer`] that lets through only requests with a valid Pomerium assertion.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use axum::{Router, routing::get};
/// use pomerium_jwt_tower::{Identity, PomeriumJwtLayer, RemoteJwks};
///
/// let keys = RemoteJwks::new("https://authenticate.example.com/.well-known/pomerium/jwks.json")?
///     .start()
///     .await?;
/// let app: Router = Router::new()
///     .route("/", get(|who: Identity| async move { format!("hello {:?}", who.email) }))
///     .layer(PomeriumJwtLayer::new(keys, "app.example.com"));
/// # let _ = app; Ok(()) }
/// ```
///
/// Per request it:
/// - reads the token from `X-Pomerium-Jwt-Assertion` (or [`PomeriumJwtLayer::header`], or
///   `Authorization: Bearer` with [`PomeriumJwtLayer::authorization_bearer`]); a missing header
///   or more than one is a 401;
/// - verifies it (signature, `exp`/`iat`/`nbf` with the leeway, audience, issuer) at the system
///   clock's time; a token whose `kid` is unknown may wait for one refetch of a remote JWKS
///   (see [`RemoteJwks`](crate::RemoteJwks)); a failure is a 401;
/// - removes every `X-Pomerium-Claim-*` header and puts the [`Identity`] in the request's
///   extensions, then calls the inner service.
///
/// Refusals have an empty body (`ResBody::default()`); the reason goes to a `tracing` event at
/// `info` level, never to the client. While a remote JWKS that started without keys has none
/// yet, the answer is `503` with `Retry-After`.
#[derive(Clone, Debug)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct PomeriumJwtLayer {
    config: Arc<Config>,
}

impl PomeriumJwtLayer {
    /// Verification with `keys` for `audience` (the route's host, as Pomerium writes it in
    /// `aud`), with the library's default issuer rule (the audience, `https://<audience>/` or
    /// `pomerium-proxy`) and 60 s of leeway.
    pub fn new(keys: Keys, audience: impl Into<String>) -> Self {
        let config = Config {
            keys,
            audience: audience.into(),
            issuer: None,
            leeway: pomerium_jwt::DEFAULT_LEEWAY,
            source: TokenSource::Header(ASSERTION_HEADER),
        };
        PomeriumJwtLayer { config: Arc::new(config) }
    }

    /// Requires `iss` to equal `issuer` exactly.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.config).issuer = Some(issuer.into());
        self
    }

    /// Allows `seconds` of clock skew (default 60).
    pub fn leeway(mut self, seconds: u64) -> Self {
        Arc::make_mut(&mut self.config).leeway = seconds;
        self
    }

    /// Reads the token from the header `name` instead of `X-Pomerium-Jwt-Assertion`.
    pub fn header(mut self, name: HeaderName) -> Self {
        Arc::make_mut(&mut self.config).source = TokenSource::Header(name);
        self
    }

    /// Reads the token from `Authorization: Bearer <token>`, as Pomerium sends it with
    /// `set_request_headers: {Authorization: "Bearer ${pomerium.jwt}"}`.
    pub fn authorization_bearer(mut self) -> Self {
        Arc::make_mut(&mut self.config).source = TokenSource::Bearer;
        self
    }
}

impl<S> Layer<S> for PomeriumJwtLayer {
    type Service = PomeriumJwt<S>;

    fn layer(&self, inner: S) -> PomeriumJwt<S> {
        PomeriumJwt { inner, config: self.config.clone() }
    }
}

/// The service [`PomeriumJwtLayer`] wraps around an inner service.
#[derive(Clone, Debug)]
pub struct PomeriumJwt<S> {
    inner: S,
    config: Arc<Config>,
}

/// Why a request was refused; logged, never sent.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    Missing,
    Repeated,
    NotBearer,
    Invalid(pomerium_jwt::Error),
    NoKeys,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing => f.write_str("no assertion header"),
            Refusal::Repeated => f.write_str("more than one assertion header"),
            Refusal::NotBearer => f.write_str("Authorization is not a Bearer token"),
            Refusal::Invalid(pomerium_jwt::Error::UnknownKey { kid: Some(kid) }) => {
                write!(f, "token rejected: no key for kid {kid:?}")
            }
            Refusal::Invalid(e) => write!(f, "token rejected: {e}"),
            Refusal::NoKeys => f.write_str("no keys yet (the first JWKS fetch has not succeeded)"),
        }
    }
}

enum Outcome {
    Verified(Identity),
    Refused(Refusal),
    /// No key for the token: a remote JWKS may be fetched again.
    Refetch(Refusal),
}

/// Verifies with whichever key kind the bundle holds.
struct Check<'a> {
    config: &'a Config,
    token: &'a [u8],
    now: UnixTime,
}

impl WithKeys for Check<'_> {
    type Output = Result<Identity, pomerium_jwt::Error>;

    fn run<K: Es256Key>(self, keys: &KeySet<MAX_KEYS, K>) -> Self::Output {
        let mut verifier = Verifier::new(keys, &self.config.audience).with_leeway(self.config.leeway);
        if let Some(issuer) = &self.config.issuer {
            verifier = verifier.with_issuer(issuer);
        }
        // No `.await` happens while the buffers are borrowed: a task never holds them across a
        // switch, so the borrow cannot conflict.
        BUFFERS.with_borrow_mut(|buffers| {
            verifier.verify(self.token, self.now, &mut **buffers).map(|claims| Identity::new(&claims))
        })
    }
}

impl Config {
    /// The token's bytes, or why there is none.
    fn token<'h>(&self, headers: &'h HeaderMap) -> Result<&'h [u8], Refusal> {
        let name = match &self.source {
            TokenSource::Header(name) => name,
            TokenSource::Bearer => &AUTHORIZATION,
        };
        let mut values = headers.get_all(name).iter();
        let value = values.next().ok_or(Refusal::Missing)?;
        if values.next().is_some() {
            return Err(Refusal::Repeated);
        }
        match self.source {
            TokenSource::Header(_) => Ok(value.as_bytes().trim_ascii()),
            TokenSource::Bearer => {
                let value = value.as_bytes().trim_ascii();
                match value.split_at_checked(7) {
                    Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") => Ok(token.trim_ascii()),
                    _ => Err(Refusal::NotBearer),
                }
            }
        }
    }

    fn check(&self, headers: &HeaderMap) -> Outcome {
        let token = match self.token(headers) {
            Ok(token) => token,
            Err(refusal) => return Outcome::Refused(refusal),
        };
        let may_refetch = || self.keys.source().is_some_and(Remote::may_refetch);
        let Some(bundle) = self.keys.bundle() else {
            return if may_refetch() { Outcome::Refetch(Refusal::NoKeys) } else { Outcome::Refused(Refusal::NoKeys) };
        };
        match bundle.with_keys(Check { config: self, token, now: system_now() }) {
            Ok(identity) => Outcome::Verified(identity),
            Err(e @ pomerium_jwt::Error::UnknownKey { .. }) if may_refetch() => Outcome::Refetch(Refusal::Invalid(e)),
            Err(e) => Outcome::Refused(Refusal::Invalid(e)),
        }
    }
}

/// Seconds since the Unix epoch, from the system clock.
fn system_now() -> UnixTime {
    UnixTime::from_secs(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

fn strip_claim_headers(headers: &mut HeaderMap) {
    let forged: Vec<HeaderName> =
        headers.keys().filter(|name| name.as_str().starts_with(CLAIM_HEADER_PREFIX)).cloned().collect();
    for name in forged {
        headers.remove(name);
    }
}

fn refuse<B: Default>(refusal: Refusal, config: &Config, method: &http::Method, path: &str) -> Response<B> {
    let mut response = Response::new(B::default());
    if let Refusal::NoKeys = refusal {
        tracing::warn!(%method, path, reason = %refusal, "503: no keys to verify with");
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        let seconds = config.keys.source().map_or(30, |remote| remote.cooldown().as_secs().max(1));
        response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(seconds));
    } else {
        tracing::info!(%method, path, reason = %refusal, "401: request refused");
        *response.status_mut() = StatusCode::UNAUTHORIZED;
    }
    response
}

pin_project! {
    /// The response future of [`PomeriumJwt`].
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
    }
}

pin_project! {
    #[project = Projected]
    enum Kind<F, B, E> {
        // The request verified: the inner service's future.
        Inner { #[pin] future: F },
        // Refused at once.
        Refused { response: Option<Response<B>> },
        // Waiting for a JWKS refetch, then verifying again.
        Refetching { future: Pin<Box<dyn Future<Output = Result<Response<B>, E>> + Send>> },
    }
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            Projected::Inner { future } => future.poll(cx),
            Projected::Refused { response } => Poll::Ready(Ok(response.take().unwrap_or_default())),
            Projected::Refetching { future } => future.as_mut().poll(cx),
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for PomeriumJwt<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        match self.config.check(request.headers()) {
            Outcome::Verified(identity) => {
                strip_claim_headers(request.headers_mut());
                request.extensions_mut().insert(identity);
                ResponseFuture { kind: Kind::Inner { future: self.inner.call(request) } }
            }
            Outcome::Refused(refusal) => {
                let response = refuse(refusal, &self.config, request.method(), request.uri().path());
                ResponseFuture { kind: Kind::Refused { response: Some(response) } }
            }
            Outcome::Refetch(_) => {
                // The clone takes the place of the service that was made ready; that one is used.
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                let config = self.config.clone();
                let future = async move {
                    // Whether or not this request's wait saw a fetch end (another may have ended
                    // just before it asked), verify once more with the keys there are now.
                    if let Some(remote) = config.keys.source() {
                        remote.refetch_for_request().await;
                    }
                    match config.check(request.headers()) {
                        Outcome::Verified(identity) => {
                            strip_claim_headers(request.headers_mut());
                            request.extensions_mut().insert(identity);
                            inner.call(request).await
                        }
                        Outcome::Refused(refusal) | Outcome::Refetch(refusal) => {
                            Ok(refuse(refusal, &config, request.method(), request.uri().path()))
                        }
                    }
                };
                ResponseFuture { kind: Kind::Refetching { future: Box::pin(future) } }
            }
        }
    }
}
