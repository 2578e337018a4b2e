//! The tower `Layer` and `Service`: take the token from its header, verify it, and either call
//! the inner service with the [`Identity`] or answer 401 (503 while there are no keys yet).
//! What a refused client sees is a [`Rejection`] turned into a response, by default or by a hook.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use pin_project_lite::pin_project;
use pomerium_jwt::{Es256Key, KeySet, UnixTime};
use tower_layer::Layer;
use tower_service::Service;

use crate::identity::Identity;
use crate::keys::{Keys, MAX_KEYS, WithKeys};
use crate::metrics;

/// The header Pomerium signs identity into.
pub const ASSERTION_HEADER: HeaderName = HeaderName::from_static("x-pomerium-jwt-assertion");
/// The prefix of the unsigned identity headers Pomerium can also send (`X-Pomerium-Claim-Email`).
/// Anyone who reaches the service around the proxy can forge them, so the layer removes them.
pub const CLAIM_HEADER_PREFIX: &str = "x-pomerium-claim-";

/// Where the token is read from.
#[derive(Clone, Debug)]
enum TokenSource {
    Header(HeaderName),
    Bearer,
}

/// What turns a [`Rejection`] into the response the client gets.
type Hook = Arc<dyn Fn(&Rejection) -> Response<Bytes> + Send + Sync>;

#[derive(Clone)]
struct Config {
    keys: Keys,
    audience: String,
    issuer: Option<String>,
    leeway: u64,
    source: TokenSource,
    /// Requests without a token pass, with no `Identity`.
    optional: bool,
    on_rejection: Option<Hook>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("keys", &self.keys)
            .field("audience", &self.audience)
            .field("issuer", &self.issuer)
            .field("leeway", &self.leeway)
            .field("source", &self.source)
            .field("optional", &self.optional)
            .field("on_rejection", &self.on_rejection.is_some())
            .finish()
    }
}

/// A tower [`Layer`] that lets through only requests with a valid Pomerium assertion.
///
/// ```no_run
/// # #[cfg(all(feature = "axum", feature = "remote"))]
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
#[cfg_attr(feature = "remote", doc = "  (see [`RemoteJwks`](crate::RemoteJwks)); a failure is a 401;")]
#[cfg_attr(not(feature = "remote"), doc = "  (see `RemoteJwks`, with the `remote` feature); a failure is a 401;")]
/// - removes every `X-Pomerium-Claim-*` header and puts the [`Identity`] in the request's
///   extensions, then calls the inner service (the key that verified is logged at `debug`).
///
/// A refusal is a `401` with `WWW-Authenticate` (RFC 9110 requires one) and a one-line
/// `text/plain` body that says a valid assertion is needed and nothing more: never the token,
/// never the reason. The reason goes to a `tracing` event at `info` level (see the README for the
/// subscriber line that shows it). While a remote JWKS that started without keys has none yet,
/// the answer is `503` with `Retry-After`. [`PomeriumJwtLayer::on_rejection`] replaces both
/// answers; [`PomeriumJwtLayer::optional`] lets requests without a token through.
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
            optional: false,
            on_rejection: None,
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

    /// Optional authentication: a request that carries no token at all reaches the inner service
    /// without an [`Identity`] (a handler takes `Option<Identity>`), its `X-Pomerium-Claim-*`
    /// headers still removed. A token that is present is verified as always, and refused when it
    /// fails: a bad token is never treated as no token. For pages that greet signed-in users
    /// and serve everyone else too.
    pub fn optional(mut self) -> Self {
        Arc::make_mut(&mut self.config).optional = true;
        self
    }

    /// Answers refusals with `hook`'s response instead of the default one
    /// ([`Rejection::default_response`]): another status or body, a redirect to a sign-in page,
    /// JSON for an API. The hook runs for every refusal, `503`s included; it sees the
    /// [`Reason`], which may quote the token's `kid`: keep that out of the response.
    ///
    /// ```
    /// use pomerium_jwt_tower::{Keys, PomeriumJwtLayer, Rejection};
    /// # fn f(keys: Keys) {
    /// let layer = PomeriumJwtLayer::new(keys, "app.example.com").on_rejection(|rejection: &Rejection| {
    ///     let mut response = rejection.default_response();
    ///     *response.body_mut() = r#"{"error":"sign in through Pomerium"}"#.into();
    ///     response.headers_mut().insert("content-type", "application/json".parse().unwrap());
    ///     response
    /// });
    /// # }
    /// ```
    pub fn on_rejection<F>(mut self, hook: F) -> Self
    where
        F: Fn(&Rejection) -> Response<Bytes> + Send + Sync + 'static,
    {
        Arc::make_mut(&mut self.config).on_rejection = Some(Arc::new(hook));
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

/// Why a request was refused: logged, counted, given to the rejection hook; never sent by the
/// default response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// No token header (or no `Authorization`).
    Missing,
    /// The token header came more than once.
    Repeated,
    /// `Authorization` is not a `Bearer` token (with
    /// [`authorization_bearer`](PomeriumJwtLayer::authorization_bearer)).
    NotBearer,
    /// The token failed verification; the library's error says which rule.
    Invalid(pomerium_jwt::Error),
    /// No keys yet: a remote JWKS that started without keys has not fetched any (a `503`).
    NoKeys,
}

impl Reason {
    /// The value of the `reason` label of [`metrics::REFUSED`](crate::metrics::REFUSED).
    fn label(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::Repeated => "repeated",
            Reason::NotBearer => "not_bearer",
            Reason::Invalid(e) => metrics::reason(Some(&e)),
            Reason::NoKeys => "no_keys",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Missing => f.write_str("no assertion header"),
            Reason::Repeated => f.write_str("more than one assertion header"),
            Reason::NotBearer => f.write_str("Authorization is not a Bearer token"),
            Reason::Invalid(pomerium_jwt::Error::UnknownKey { kid: Some(kid) }) => {
                write!(f, "token rejected: no key for kid {kid:?}")
            }
            Reason::Invalid(e) => write!(f, "token rejected: {e}"),
            Reason::NoKeys => f.write_str("no keys yet (the first JWKS fetch has not succeeded)"),
        }
    }
}

/// A refused request, as [`PomeriumJwtLayer::on_rejection`] sees it.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Rejection {
    /// `401 Unauthorized`, or `503 Service Unavailable` for [`Reason::NoKeys`].
    pub status: StatusCode,
    /// Why.
    pub reason: Reason,
    /// For a `503`: seconds until the next JWKS fetch may bring keys (the cooldown).
    pub retry_after: Option<u64>,
    /// The `WWW-Authenticate` challenge of a `401`.
    pub challenge: HeaderValue,
}

impl Rejection {
    /// The layer's own answer: for a `401`, `WWW-Authenticate` (`Pomerium realm="<audience>"`,
    /// or `Bearer realm="<audience>"` with `error="invalid_token"` when a Bearer token was sent,
    /// RFC 6750) and a one-line `text/plain` body; for a `503`, `Retry-After` and a one-line
    /// body. Neither holds anything from the request.
    pub fn default_response(&self) -> Response<Bytes> {
        let text: &'static str = if self.status == StatusCode::UNAUTHORIZED {
            "401 Unauthorized: this service needs a valid Pomerium identity assertion.\n"
        } else {
            "503 Service Unavailable: the keys that verify identities are not loaded yet; retry later.\n"
        };
        let mut response = Response::new(Bytes::from_static(text.as_bytes()));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(WWW_AUTHENTICATE, self.challenge.clone());
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// The `WWW-Authenticate` challenge for `audience` as realm; without the realm if the audience
/// cannot be written as a quoted string.
fn challenge(source: &TokenSource, audience: &str, token_sent: bool) -> HeaderValue {
    let scheme = match source {
        TokenSource::Header(_) => "Pomerium",
        TokenSource::Bearer => "Bearer",
    };
    let realm = audience.replace('\\', "\\\\").replace('"', "\\\"");
    let error = if token_sent && matches!(source, TokenSource::Bearer) { ", error=\"invalid_token\"" } else { "" };
    HeaderValue::from_str(&format!("{scheme} realm=\"{realm}\"{error}")).unwrap_or(HeaderValue::from_static(scheme))
}

enum Outcome {
    /// Boxed: an `Identity` is large beside the other outcomes.
    Verified(Box<Identity>),
    /// No token, and the layer is optional: through without an identity.
    Anonymous,
    Refused(Reason),
    /// No key for the token: a remote JWKS may be fetched again.
    Refetch(Reason),
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
        let config = self.config;
        crate::identity::verify(
            keys,
            &self.config.audience,
            config.issuer.as_deref(),
            config.leeway,
            self.token,
            self.now,
        )
    }
}

impl Config {
    /// The token's bytes, or why there is none.
    fn token<'h>(&self, headers: &'h HeaderMap) -> Result<&'h [u8], Reason> {
        let name = match &self.source {
            TokenSource::Header(name) => name,
            TokenSource::Bearer => &AUTHORIZATION,
        };
        let mut values = headers.get_all(name).iter();
        let value = values.next().ok_or(Reason::Missing)?;
        if values.next().is_some() {
            return Err(Reason::Repeated);
        }
        match self.source {
            TokenSource::Header(_) => Ok(value.as_bytes().trim_ascii()),
            TokenSource::Bearer => {
                let value = value.as_bytes().trim_ascii();
                match value.split_at_checked(7) {
                    Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") => Ok(token.trim_ascii()),
                    _ => Err(Reason::NotBearer),
                }
            }
        }
    }

    fn check(&self, headers: &HeaderMap) -> Outcome {
        let token = match self.token(headers) {
            Ok(token) => token,
            Err(Reason::Missing) if self.optional => return Outcome::Anonymous,
            Err(refusal) => return Outcome::Refused(refusal),
        };
        let Some(bundle) = self.keys.bundle() else {
            return if self.keys.may_refetch() {
                Outcome::Refetch(Reason::NoKeys)
            } else {
                Outcome::Refused(Reason::NoKeys)
            };
        };
        let started = Instant::now();
        let verdict = bundle.with_keys(Check { config: self, token, now: system_now() });
        match verdict {
            Ok(identity) => {
                metrics::verified(started.elapsed());
                tracing::debug!(kid = %identity.kid, key_index = identity.key_index, "token verified");
                Outcome::Verified(Box::new(identity))
            }
            Err(e) => {
                metrics::verify_failed(started.elapsed());
                if matches!(e, pomerium_jwt::Error::UnknownKey { .. }) && self.keys.may_refetch() {
                    Outcome::Refetch(Reason::Invalid(e))
                } else {
                    Outcome::Refused(Reason::Invalid(e))
                }
            }
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

fn refuse<B: From<Bytes>>(reason: Reason, config: &Config, method: &http::Method, path: &str) -> Response<B> {
    let (status, retry_after) = if reason == Reason::NoKeys {
        tracing::warn!(%method, path, %reason, "503: no keys to verify with");
        (StatusCode::SERVICE_UNAVAILABLE, Some(config.keys.retry_after()))
    } else {
        tracing::info!(%method, path, %reason, "401: request refused");
        (StatusCode::UNAUTHORIZED, None)
    };
    metrics::refused(reason.label());
    let token_sent = !matches!(reason, Reason::Missing | Reason::NoKeys);
    let rejection =
        Rejection { status, reason, retry_after, challenge: challenge(&config.source, &config.audience, token_sent) };
    let response = match &config.on_rejection {
        Some(hook) => hook(&rejection),
        None => rejection.default_response(),
    };
    response.map(B::from)
}

/// The request goes on to the inner service: forged claim headers out, the identity (if any) in.
fn admit<B>(request: &mut Request<B>, identity: Option<Box<Identity>>) {
    strip_claim_headers(request.headers_mut());
    match identity {
        Some(identity) => {
            request.extensions_mut().insert(*identity);
        }
        None => {
            // Only this layer may say who the request is from.
            request.extensions_mut().remove::<Identity>();
            metrics::anonymous();
        }
    }
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
    B: From<Bytes>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            Projected::Inner { future } => future.poll(cx),
            Projected::Refused { response } => Poll::Ready(Ok(response.take().unwrap_or_else(|| {
                // Polled again after it finished: a contract breach of the caller's; answer
                // with a refusal rather than panic.
                let mut response = Response::new(B::from(Bytes::new()));
                *response.status_mut() = StatusCode::UNAUTHORIZED;
                response
            }))),
            Projected::Refetching { future } => future.as_mut().poll(cx),
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for PomeriumJwt<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<Bytes> + Send + 'static,
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
                admit(&mut request, Some(identity));
                ResponseFuture { kind: Kind::Inner { future: self.inner.call(request) } }
            }
            Outcome::Anonymous => {
                admit(&mut request, None);
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
                    config.keys.refetch_for_request().await;
                    match config.check(request.headers()) {
                        Outcome::Verified(identity) => {
                            admit(&mut request, Some(identity));
                            inner.call(request).await
                        }
                        Outcome::Anonymous => {
                            admit(&mut request, None);
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
