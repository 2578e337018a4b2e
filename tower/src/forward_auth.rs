//! Verification with the audience chosen per request, over several key sources, as a decision
//! a proxy acts on ([`Authenticator`]), and the forward-auth service that answers a fronting
//! proxy's question "may this request pass?" ([`ForwardAuth`]: nginx `auth_request`, Caddy
//! `forward_auth`, Traefik `ForwardAuth`, Envoy `ext_authz` over HTTP).

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{AUTHORIZATION, HeaderName, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use pomerium_jwt::{Es256Key, KeySet, UnixTime};
use tower_service::Service;

use crate::audience::Audiences;
use crate::claim_headers::{ClaimHeaders, claim_headers};
use crate::identity::Identity;
use crate::keys::{Keys, MAX_KEYS, WithKeys};
use crate::public_path::PublicPaths;
use crate::token_cache::{Generation, TokenCache};
use crate::{ASSERTION_HEADER, CLAIM_HEADER_PREFIX};

/// The `WWW-Authenticate` value of a 401: the scheme names what is missing.
pub const WWW_AUTHENTICATE_VALUE: &str = r#"Pomerium realm="pomerium", error="invalid_token""#;

/// Why a request was refused: for the log, never for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// No token header.
    Missing,
    /// More than one token header.
    Repeated,
    /// `Authorization` holds something other than a Bearer token.
    NotBearer,
    /// The request's host is not one of the configured audiences.
    Host(Option<String>),
    /// The token did not verify.
    Invalid(pomerium_jwt::Error),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing => f.write_str("no assertion header"),
            Refusal::Repeated => f.write_str("more than one assertion header"),
            Refusal::NotBearer => f.write_str("Authorization is not a Bearer token"),
            Refusal::Host(None) => f.write_str("no host to choose the audience by"),
            Refusal::Host(Some(host)) => write!(f, "host {} is not a configured audience", escape(host)),
            Refusal::Invalid(e) => write!(f, "token rejected: {}", escape(&e.to_string())),
        }
    }
}

/// A request whose token verified: who it is from, for which audience, and the claim headers
/// to set ([`claim_headers`] of its claims, rendered once per token).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Verified {
    /// Who the request is from.
    pub identity: Identity,
    /// The audience the token was checked for.
    pub audience: String,
    /// The verified claims as `X-Pomerium-Claim-*` headers, and the claims left out.
    pub claim_headers: ClaimHeaders,
}

impl Verified {
    fn new(identity: Identity, audience: &str) -> Self {
        let claim_headers = identity.claims().map(claim_headers).unwrap_or_default();
        Verified { identity, audience: audience.to_owned(), claim_headers }
    }
}

/// What to do with a request.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Decision {
    /// The token verified (shared with the cache of [`Authenticator::cache_verified`]).
    Verified(Arc<Verified>),
    /// The path is public: it passes without a token (claim headers are still stripped).
    Public,
    /// Refused: answer 401.
    Refused(Refusal),
    /// No keys are loaded yet: answer 503 with `Retry-After: retry_after` (seconds).
    NoKeys {
        /// Seconds until asking again is worthwhile.
        retry_after: u64,
    },
}

#[derive(Clone, Debug)]
struct Config {
    keys: Vec<Keys>,
    audiences: Audiences,
    issuer: Option<String>,
    leeway: u64,
    header: HeaderName,
    bearer: bool,
    public: PublicPaths,
    forwarded: bool,
    cache: Option<Arc<TokenCache>>,
}

/// Decides whether a request may pass: the audience from its host ([`Audiences`]), the token
/// from its header, verified with any of several key sets (files and remote JWKS, each with the
/// precomputed tables of [`Keys`]), public paths let through. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Authenticator {
    config: Arc<Config>,
}

impl Authenticator {
    /// Verification with any of `keys` for `audiences`, the library's default issuer rule, 60 s
    /// of leeway, the token in `X-Pomerium-Jwt-Assertion`, no public path, the `Host` header.
    #[must_use]
    pub fn new(keys: Vec<Keys>, audiences: Audiences) -> Self {
        let config = Config {
            keys,
            audiences,
            issuer: None,
            leeway: pomerium_jwt::DEFAULT_LEEWAY,
            header: ASSERTION_HEADER,
            bearer: false,
            public: PublicPaths::default(),
            forwarded: false,
            cache: None,
        };
        Authenticator { config: Arc::new(config) }
    }

    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Requires `iss` to equal `issuer` exactly.
    #[must_use]
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.config_mut().issuer = Some(issuer.into());
        self
    }

    /// Allows `seconds` of clock skew (default 60).
    #[must_use]
    pub fn leeway(mut self, seconds: u64) -> Self {
        self.config_mut().leeway = seconds;
        self
    }

    /// Reads the token from the header `name` instead of `X-Pomerium-Jwt-Assertion`.
    #[must_use]
    pub fn header(mut self, name: HeaderName) -> Self {
        self.config_mut().header = name;
        self
    }

    /// Also accepts the token as `Authorization: Bearer <token>` when the token header is absent.
    #[must_use]
    pub fn authorization_bearer(mut self) -> Self {
        self.config_mut().bearer = true;
        self
    }

    /// Lets requests to these paths pass without a token.
    #[must_use]
    pub fn public_paths(mut self, paths: PublicPaths) -> Self {
        self.config_mut().public = paths;
        self
    }

    /// Takes the host from `X-Forwarded-Host` when present (behind a forward-auth proxy).
    #[must_use]
    pub fn forwarded_host(mut self) -> Self {
        self.config_mut().forwarded = true;
        self
    }

    /// Remembers tokens that verified, up to `max_bytes` (token and claims, counted twice for
    /// the map's overhead; emptied when full), so a token sent again verifies with a lookup.
    /// A hit gives what verifying again would: the token's bytes are compared in full, the
    /// audience is part of the key, `exp` is checked again, and any change of keys (a rotation)
    /// empties it. Refused tokens are never kept. Off by default.
    #[must_use]
    pub fn cache_verified(mut self, max_bytes: usize) -> Self {
        self.config_mut().cache = Some(Arc::new(TokenCache::new(max_bytes)));
        self
    }

    /// The key sets in use.
    #[must_use]
    pub fn keys(&self) -> &[Keys] {
        &self.config.keys
    }

    /// How many keys are loaded, over all key sets.
    pub fn keys_loaded(&self) -> usize {
        self.config.keys.iter().map(Keys::len).sum()
    }

    /// Decides on a request with these headers, for the request target `target` (the path and
    /// query, used for the public paths only). A token whose `kid` no key set knows may wait for
    /// one refetch of a remote JWKS, as with [`PomeriumJwtLayer`](crate::PomeriumJwtLayer).
    pub async fn decide(&self, headers: &HeaderMap, target: &str) -> Decision {
        let config = &*self.config;
        if config.public.matches(target) {
            return Decision::Public;
        }
        let token = match config.token(headers) {
            Ok(token) => token,
            Err(refusal) => return Decision::Refused(refusal),
        };
        let Some(audience) = config.audiences.for_request(headers, config.forwarded) else {
            let host = crate::audience::request_host(headers, config.forwarded).map(str::to_owned);
            return Decision::Refused(Refusal::Host(host));
        };
        match config.verify(token, audience) {
            Attempt::Done(decision) => decision,
            Attempt::Refetch => {
                for keys in config.keys.iter().filter(|k| k.may_refetch()) {
                    keys.refetch_for_request().await;
                }
                match config.verify(token, audience) {
                    Attempt::Done(decision) => decision,
                    Attempt::Refetch => config.verify_final(token, audience),
                }
            }
        }
    }
}

enum Attempt {
    Done(Decision),
    /// No key set has the token's key (or any key), and a remote JWKS may be fetched again.
    Refetch,
}

/// Verifies with whichever key kind a bundle holds.
struct Check<'a> {
    config: &'a Config,
    audience: &'a str,
    token: &'a [u8],
    now: UnixTime,
}

impl WithKeys for Check<'_> {
    type Output = Result<Identity, pomerium_jwt::Error>;

    fn run<K: Es256Key>(self, keys: &KeySet<MAX_KEYS, K>) -> Self::Output {
        let config = self.config;
        crate::identity::verify(keys, self.audience, config.issuer.as_deref(), config.leeway, self.token, self.now)
    }
}

impl Config {
    fn token<'h>(&self, headers: &'h HeaderMap) -> Result<&'h [u8], Refusal> {
        let single = |name: &HeaderName| {
            let mut values = headers.get_all(name).iter();
            let value = values.next().ok_or(Refusal::Missing)?;
            if values.next().is_some() {
                return Err(Refusal::Repeated);
            }
            Ok(value.as_bytes().trim_ascii())
        };
        match single(&self.header) {
            Err(Refusal::Missing) if self.bearer => {
                let value = single(&AUTHORIZATION)?;
                match value.split_at_checked(7) {
                    Some((scheme, token)) if scheme.eq_ignore_ascii_case(b"bearer ") => Ok(token.trim_ascii()),
                    _ => Err(Refusal::NotBearer),
                }
            }
            other => other,
        }
    }

    fn may_refetch(&self) -> bool {
        self.keys.iter().any(Keys::may_refetch)
    }

    fn retry_after(&self) -> u64 {
        self.keys.iter().map(Keys::retry_after).min().unwrap_or(30)
    }

    /// One pass over the key sets: the first that verifies wins; a refusal from a set that
    /// knows the token's key is worth more than "unknown key" from the others.
    fn attempt(&self, token: &[u8], audience: &str) -> Result<Arc<Verified>, Option<pomerium_jwt::Error>> {
        let now = system_now();
        let generation: Option<Generation> = self.cache.as_ref().map(|_| self.keys.iter().map(Keys::bundle).collect());
        if let (Some(cache), Some(generation)) = (&self.cache, &generation)
            && let Some(verified) = cache.get(token, audience, generation, now.as_secs(), self.leeway)
        {
            return Ok(verified);
        }
        let mut error = None;
        for keys in &self.keys {
            let Some(bundle) = keys.bundle() else { continue };
            match bundle.with_keys(Check { config: self, audience, token, now }) {
                Ok(identity) => {
                    let verified = Arc::new(Verified::new(identity, audience));
                    if let (Some(cache), Some(generation)) = (&self.cache, generation) {
                        cache.insert(token, generation, now.as_secs(), &verified);
                    }
                    return Ok(verified);
                }
                Err(e) => {
                    let unknown = matches!(e, pomerium_jwt::Error::UnknownKey { .. });
                    if error.is_none() || !unknown {
                        error = Some(e);
                    }
                }
            }
        }
        Err(error)
    }

    fn verify(&self, token: &[u8], audience: &str) -> Attempt {
        match self.attempt(token, audience) {
            Ok(verified) => Attempt::Done(Decision::Verified(verified)),
            Err(None | Some(pomerium_jwt::Error::UnknownKey { .. })) if self.may_refetch() => Attempt::Refetch,
            Err(None) => Attempt::Done(Decision::NoKeys { retry_after: self.retry_after() }),
            Err(Some(e)) => Attempt::Done(Decision::Refused(Refusal::Invalid(e))),
        }
    }

    fn verify_final(&self, token: &[u8], audience: &str) -> Decision {
        match self.attempt(token, audience) {
            Ok(verified) => Decision::Verified(verified),
            Err(None) => Decision::NoKeys { retry_after: self.retry_after() },
            Err(Some(e)) => Decision::Refused(Refusal::Invalid(e)),
        }
    }
}

fn system_now() -> UnixTime {
    UnixTime::from_secs(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// Removes every `X-Pomerium-Claim-*` header, whatever its letter case: only the verifier sets them.
pub fn strip_claim_headers(headers: &mut HeaderMap) {
    let forged: Vec<HeaderName> =
        headers.keys().filter(|name| name.as_str().starts_with(CLAIM_HEADER_PREFIX)).cloned().collect();
    for name in forged {
        headers.remove(name);
    }
}

/// `text` with control characters (U+0000-U+001F, U+007F-U+009F) and bidi formatting
/// characters (U+202A-U+202E, U+2066-U+2069) written as `\uXXXX`, and `\` as `\\`, so a value
/// from a request cannot forge or reorder a log line.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let code = u32::from(c);
        let unsafe_char = code < 0x20
            || (0x7f..=0x9f).contains(&code)
            || (0x202a..=0x202e).contains(&code)
            || (0x2066..=0x2069).contains(&code);
        if unsafe_char {
            out.push_str(&format!("\\u{code:04x}"));
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

/// The request target a forward-auth question is about: `X-Original-URI` (nginx), else
/// `X-Forwarded-Uri` (Caddy, Traefik), else the question's own target.
pub fn original_target<B>(request: &Request<B>) -> String {
    for name in ["x-original-uri", "x-forwarded-uri"] {
        if let Some(value) = request.headers().get(name) {
            return String::from_utf8_lossy(value.as_bytes()).into_owned();
        }
    }
    request.uri().path_and_query().map_or_else(|| request.uri().path().to_owned(), |pq| pq.as_str().to_owned())
}

/// The method a forward-auth question is about: `X-Forwarded-Method`, else the question's own.
pub fn original_method<B>(request: &Request<B>) -> String {
    match request.headers().get("x-forwarded-method") {
        Some(value) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
        None => request.method().as_str().to_owned(),
    }
}

/// The response to a decision, with an empty body: `200` with the verified claim headers (or
/// none for a public path), `401` with `WWW-Authenticate`, or `503` with `Retry-After`. Logs the
/// refusal (`method` and `target` escaped) and each claim left out.
pub fn forward_auth_response<B: Default>(decision: &Decision, method: &str, target: &str) -> Response<B> {
    let mut response = Response::new(B::default());
    match decision {
        Decision::Verified(verified) => {
            for (name, skip) in &verified.claim_headers.skipped {
                tracing::warn!(claim = %escape(name), reason = %skip, "claim header left out");
            }
            for (name, value) in &verified.claim_headers.headers {
                response.headers_mut().append(name, value.clone());
            }
        }
        Decision::Public => {}
        Decision::Refused(refusal) => {
            tracing::info!(method = %escape(method), path = %escape(target), reason = %refusal, "401: request refused");
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(WWW_AUTHENTICATE_VALUE));
        }
        Decision::NoKeys { retry_after } => {
            tracing::warn!(method = %escape(method), path = %escape(target), "503: no keys to verify with");
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(*retry_after));
        }
    }
    response
}

/// The forward-auth service: every request, on any path and with any method, is a question
/// about the original request whose headers it carries; the answer is
/// [`forward_auth_response`] of [`Authenticator::decide`], for the original target
/// ([`original_target`]) and the host of `X-Forwarded-Host` or `Host` (set
/// [`Authenticator::forwarded_host`]).
pub struct ForwardAuth<B> {
    authenticator: Authenticator,
    /// The response body type, made with `B::default()`: empty.
    body: PhantomData<fn() -> B>,
}

impl<B> Clone for ForwardAuth<B> {
    fn clone(&self) -> Self {
        ForwardAuth { authenticator: self.authenticator.clone(), body: PhantomData }
    }
}

impl<B> fmt::Debug for ForwardAuth<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardAuth").field("authenticator", &self.authenticator).finish()
    }
}

impl<B> ForwardAuth<B> {
    /// Answers with `authenticator`, responses with an empty body of type `B`.
    #[must_use]
    pub fn new(authenticator: Authenticator) -> Self {
        ForwardAuth { authenticator, body: PhantomData }
    }
}

impl<ReqBody: Send + 'static, B: Default + Send + 'static> Service<Request<ReqBody>> for ForwardAuth<B> {
    type Response = Response<B>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let authenticator = self.authenticator.clone();
        Box::pin(async move {
            let target = original_target(&request);
            let method = original_method(&request);
            let decision = authenticator.decide(request.headers(), &target).await;
            Ok(forward_auth_response(&decision, &method, &target))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_controls_bidi_and_backslash() {
        assert_eq!(escape("a\r\nb"), "a\\u000d\\u000ab");
        assert_eq!(escape("x\u{202e}y\u{2066}"), "x\\u202ey\\u2066");
        assert_eq!(escape("\u{85}"), "\\u0085");
        assert_eq!(escape("a\\u000a"), "a\\\\u000a");
        assert_eq!(escape("Zoë ok"), "Zoë ok");
    }
}
