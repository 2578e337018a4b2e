//! Fetching and refreshing a JWKS from the one URL the operator configured: the schedule (a
//! small state machine with no clock of its own), the HTTP client (a trait, so tests inject
//! failures; reqwest in production), and the background task that joins them.
//!
//! The URL never comes from a token. Pomerium's own SDK fetches keys from the token's `iss`,
//! which lets a forged token choose where its keys come from; here a token can at most ask for
//! the configured document to be fetched again, and only once per cooldown however many tokens
//! ask.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::header::{CACHE_CONTROL, ETAG, HeaderMap};
use http::{StatusCode, Uri};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::error::LoadError;
use crate::keys::{Keys, MAX_KEYS, State, Tables};
use crate::metrics;

/// A boxed future, as [`JwksClient::get`] returns.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Fetched, LoadError>> + Send + 'a>>;

/// What one fetch brought.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fetched {
    /// `200 OK`: the document, with the server's caching headers.
    Document {
        /// The body.
        body: Bytes,
        /// The `ETag` header, sent back as `If-None-Match` by the next fetch.
        etag: Option<String>,
        /// `Cache-Control: max-age` (`Some(0)` for `no-cache` or `no-store`).
        max_age: Option<Duration>,
    },
    /// `304 Not Modified` to `If-None-Match`: the document of that ETag is still current.
    NotModified {
        /// `Cache-Control: max-age` of the answer.
        max_age: Option<Duration>,
    },
}

/// Something that fetches a JWKS: [`HttpClient`] in production, a fake in tests.
pub trait JwksClient: Send + Sync + 'static {
    /// `GET url`, with `If-None-Match: etag` when `etag` is given: the document of a `200 OK`,
    /// [`Fetched::NotModified`] for a `304`, or why there is neither.
    fn get<'a>(&'a self, url: &'a Uri, etag: Option<&'a str>) -> FetchFuture<'a>;
}

/// A remote JWKS, such as `https://authenticate.example.com/.well-known/pomerium/jwks.json`,
/// configured by builder and started with [`RemoteJwks::start`], which gives the [`Keys`] a
/// layer verifies with.
///
/// | setting | default | |
/// | --- | --- | --- |
/// | [`max_age`](RemoteJwks::max_age) | 10 min | the keys are fetched again this long after the last good fetch |
/// | [`cooldown`](RemoteJwks::cooldown) | 30 s | at most one fetch per cooldown for tokens with an unknown `kid`; also the retry delay after a failed fetch |
/// | [`connect_timeout`](RemoteJwks::connect_timeout) | 5 s | one deadline for name lookup, TCP connect and TLS handshake together |
/// | [`read_timeout`](RemoteJwks::read_timeout) | 10 s | the longest wait for the next byte of the answer; the whole fetch ends at `connect_timeout + read_timeout` |
/// | [`max_body`](RemoteJwks::max_body) | 1 MiB | a longer body fails the fetch (Pomerium's JWKS is under 1 KiB) |
/// | [`start_without_keys`](RemoteJwks::start_without_keys) | off | see below |
///
/// **Start-up.** By default [`RemoteJwks::start`] fetches the keys before it returns and fails
/// when that fetch fails: a wrong URL or an unreachable Pomerium is found at deploy time, not by
/// the first user. With [`RemoteJwks::start_without_keys`] it returns at once; until the first
/// fetch succeeds the layer answers `503 Service Unavailable` (the keys are missing, not the
/// client's credentials), retrying the fetch once per cooldown.
///
/// **Caching as a browser would.** A `Cache-Control: max-age` on the answer sets when the keys
/// are fetched next, kept between the cooldown (never sooner) and `max_age` (never later);
/// `no-cache` and `no-store` mean the cooldown. An `ETag` is sent back as `If-None-Match`, and a
/// `304 Not Modified` keeps the keys in use and counts as a good fetch.
///
/// **Failures never cost the keys in use.** A fetch that fails, times out, is too large, or
/// yields no usable P-256 key leaves the last good keys in place (logged at `warn`), and is
/// retried after the cooldown. A document with more than [`MAX_KEYS`] keys is refused whole
/// (logged at `error`: rotation has stopped until the document shrinks). Redirects are not
/// followed: configure the final URL. Proxy variables (`HTTPS_PROXY`) are not read.
///
/// **Transport.** reqwest over HTTP/1.1; `https` with rustls (the `ring` provider) and the
/// Mozilla roots of `webpki-roots`, or a [`rustls::ClientConfig`] of yours for a private CA. Plain
/// `http` only to a loopback address (`127.0.0.0/8`, `[::1]`, `localhost`) unless
/// [`allow_plain_http`](RemoteJwks::allow_plain_http) says otherwise.
#[must_use = "nothing is fetched until start() is awaited"]
pub struct RemoteJwks {
    url: Uri,
    max_age: Duration,
    cooldown: Duration,
    connect_timeout: Duration,
    read_timeout: Duration,
    max_body: usize,
    plain_http: bool,
    without_keys: bool,
    tables: Tables,
    tls: Option<Arc<rustls::ClientConfig>>,
    client: Option<Arc<dyn JwksClient>>,
}

impl RemoteJwks {
    /// The JWKS at `url`, with the defaults above.
    ///
    /// # Errors
    /// [`LoadError::Url`] when `url` is not an absolute `http` or `https` URL.
    pub fn new(url: &str) -> Result<Self, LoadError> {
        let url: Uri = url.parse().map_err(|_| LoadError::Url("not a URL"))?;
        match url.scheme_str() {
            Some("https" | "http") if url.host().is_some() => {}
            _ => return Err(LoadError::Url("not an absolute http or https URL")),
        }
        Ok(RemoteJwks {
            url,
            max_age: Duration::from_secs(600),
            cooldown: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            max_body: 1 << 20,
            plain_http: false,
            without_keys: false,
            tables: Tables::default(),
            tls: None,
            client: None,
        })
    }

    /// Fetches the keys again this long after the last good fetch (at most a year).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age.min(LONGEST);
        self
    }

    /// The least time between two fetches that tokens with an unknown `kid` trigger, and the
    /// delay before a failed fetch is retried (at most a year).
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown.min(LONGEST);
        self
    }

    /// One deadline for the name lookup, the TCP connection and the TLS handshake together.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest wait for the answer's next byte once connected; a whole fetch ends at
    /// `connect_timeout + read_timeout` however the bytes trickle.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The longest body accepted, in bytes.
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Allows `http` to hosts other than loopback: only on a network you trust, since anyone on
    /// the path can then replace the keys.
    pub fn allow_plain_http(mut self) -> Self {
        self.plain_http = true;
        self
    }

    /// Starts without keys when the first fetch fails (see [`RemoteJwks`]).
    pub fn start_without_keys(mut self) -> Self {
        self.without_keys = true;
        self
    }

    /// How the keys are prepared for verification (default: precomputed tables, see [`Tables`]).
    pub fn tables(mut self, tables: Tables) -> Self {
        self.tables = tables;
        self
    }

    /// The TLS configuration for `https` (for a private CA); default: rustls with `ring` and the
    /// `webpki-roots` Mozilla roots.
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Fetches with `client` instead of the built-in [`HttpClient`]; for tests and for proxies.
    /// The URL rules above, the body cap, the key limit and the sum of the two timeouts still
    /// apply.
    pub fn client(mut self, client: Arc<dyn JwksClient>) -> Self {
        self.client = Some(client);
        self
    }

    /// Starts fetching in a task of the current tokio runtime; see [`RemoteJwks`] for what
    /// happens when the first fetch fails. The task ends when the last clone of the returned
    /// [`Keys`] is dropped.
    ///
    /// # Errors
    /// [`LoadError::Url`] for a plain-http URL to a host that is not loopback (without
    /// [`RemoteJwks::allow_plain_http`]); [`LoadError::Http`] if the HTTP client cannot be built
    /// (a TLS configuration reqwest does not take); unless started without keys, the first
    /// fetch's error, such as [`LoadError::TooManyKeys`].
    pub async fn start(self) -> Result<Keys, LoadError> {
        if self.url.scheme_str() == Some("http") && !self.plain_http && !is_loopback(&self.url) {
            return Err(LoadError::Url("plain http to a host that is not loopback"));
        }
        let client: Arc<dyn JwksClient> = match self.client {
            Some(client) => client,
            None => Arc::new(HttpClient::new(
                self.tls.unwrap_or_else(default_tls),
                self.connect_timeout,
                self.read_timeout,
                self.max_body,
            )?),
        };
        let state = Arc::new(State::empty(self.tables));
        let schedule = Schedule::new(self.max_age, self.cooldown);
        let remote = Arc::new(Remote {
            url: self.url,
            client,
            schedule: Mutex::new(schedule),
            wake: Notify::new(),
            done: watch::channel(0).0,
            wait_limit: self.connect_timeout.saturating_add(self.read_timeout).saturating_add(Duration::from_secs(1)),
            max_body: self.max_body,
            etag: Mutex::new(None),
        });
        if !self.without_keys {
            remote.begin(Instant::now());
            let outcome = remote.fetch_into(&state).await;
            remote.finish(Instant::now(), outcome.as_ref().map(|fresh| *fresh).map_err(|_| ()));
            outcome?;
        }
        let task = tokio::spawn(run(remote.clone(), state.clone()));
        Ok(Keys::remote(state, remote, task))
    }
}

/// The built-in client: reqwest over HTTP/1.1, rustls for `https`, no redirects, no proxy, one
/// connect deadline (name lookup, TCP and TLS handshake together), a limit on each wait for the
/// answer, a deadline for the whole fetch (the two timeouts added), and a body cap.
pub struct HttpClient {
    client: reqwest::Client,
    /// Connect and read timeouts together: the longest a whole fetch may take.
    limit: Duration,
    max_body: usize,
}

impl HttpClient {
    /// A client with these limits.
    ///
    /// # Errors
    /// [`LoadError::Http`] when reqwest cannot build a client with this TLS configuration.
    pub fn new(
        tls: Arc<rustls::ClientConfig>,
        connect_timeout: Duration,
        read_timeout: Duration,
        max_body: usize,
    ) -> Result<Self, LoadError> {
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(Arc::unwrap_or_clone(tls))
            .connect_timeout(connect_timeout)
            // No byte for this long ends the fetch; the whole of it is bounded below.
            .read_timeout(read_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .http1_only()
            // A fetch every few minutes: a new connection each time, nothing kept open.
            .pool_max_idle_per_host(0)
            .user_agent(concat!("pomerium-jwt-tower/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| LoadError::Http(e.to_string()))?;
        Ok(HttpClient { client, limit: connect_timeout.saturating_add(read_timeout), max_body })
    }

    async fn fetch(&self, url: &Uri, etag: Option<&str>) -> Result<Fetched, LoadError> {
        let mut request =
            self.client.get(url.to_string()).header(http::header::ACCEPT, "application/json, application/jwk-set+json");
        if let Some(etag) = etag {
            request = request.header(http::header::IF_NONE_MATCH, etag);
        }
        // The connect deadline is reqwest's, over lookup, TCP and TLS at once; the read deadline
        // follows it, so the whole exchange is bounded by the two together.
        let exchange = async {
            let mut response = request.send().await.map_err(|e| load_error(&e))?;
            let max_age = max_age(response.headers());
            match response.status() {
                StatusCode::OK => {}
                StatusCode::NOT_MODIFIED if etag.is_some() => return Ok(Fetched::NotModified { max_age }),
                status => return Err(LoadError::Status(status.as_u16())),
            }
            let etag = response.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| load_error(&e))? {
                if chunk.len() > self.max_body.saturating_sub(body.len()) {
                    return Err(LoadError::TooLarge { limit: self.max_body });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Fetched::Document { body: body.freeze(), etag, max_age })
        };
        tokio::time::timeout(self.limit, exchange).await.map_err(|_| LoadError::Timeout)?
    }
}

impl JwksClient for HttpClient {
    fn get<'a>(&'a self, url: &'a Uri, etag: Option<&'a str>) -> FetchFuture<'a> {
        Box::pin(self.fetch(url, etag))
    }
}

/// The `LoadError` of a reqwest error: a timeout, a TLS failure (a rustls error anywhere in the
/// chain of sources), a connection failure, or another HTTP failure.
fn load_error(error: &reqwest::Error) -> LoadError {
    if error.is_timeout() {
        return LoadError::Timeout;
    }
    if let Some(tls) = rustls_error(error) {
        return LoadError::Tls(tls.to_string());
    }
    let chain = chain(error);
    if error.is_connect() { LoadError::Connect(chain) } else { LoadError::Http(chain) }
}

/// The rustls error behind `error`, if any. An `io::Error`'s `source()` skips the error it
/// wraps (tokio-rustls wraps rustls's that way), so it is opened with `get_ref()`.
fn rustls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    if let Some(tls) = error.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    if let Some(inner) = error.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
        return rustls_error(inner);
    }
    error.source().and_then(rustls_error)
}

/// An error with its sources, `a: b: c`: reqwest's own message alone says little.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// `Cache-Control: max-age=N` in seconds; `Some(0)` for `no-cache` and `no-store`, which forbid
/// reuse without asking; `None` when the header says nothing of freshness.
pub(crate) fn max_age(headers: &HeaderMap) -> Option<Duration> {
    let mut found = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(value) = value.to_str() else { continue };
        for directive in value.split(',') {
            let (name, argument) = match directive.split_once('=') {
                Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
                None => (directive.trim(), None),
            };
            if name.eq_ignore_ascii_case("no-cache") || name.eq_ignore_ascii_case("no-store") {
                return Some(Duration::ZERO);
            }
            if name.eq_ignore_ascii_case("max-age")
                && let Some(seconds) = argument.and_then(|a| a.parse::<u64>().ok())
            {
                // A repeated max-age: the shortest, as the more careful reading.
                found = Some(found.map_or(seconds, |f: u64| f.min(seconds)));
            }
        }
    }
    found.map(Duration::from_secs)
}

/// rustls with the `ring` provider and the Mozilla roots.
///
/// rustls 0.23.48 deprecates `ring::default_provider` because ring has no post-quantum key
/// exchange. What travels here is a public key document, whose secrecy does not matter, and the
/// server is authenticated by its classical certificate signature either way; ring builds in
/// seconds, where aws-lc-rs (the provider with it) needs a C build of minutes. So ring stays, by
/// choice, with the lint allowed at this one call.
fn default_tls() -> Arc<rustls::ClientConfig> {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = match rustls::ClientConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
        Ok(builder) => builder.with_root_certificates(roots).with_no_client_auth(),
        // ring supports the default versions; this arm only keeps the function total.
        Err(_) => rustls::ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS13])
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth(),
    };
    Arc::new(config)
}

/// Whether the URL's host is a loopback address or `localhost`.
pub(crate) fn is_loopback(url: &Uri) -> bool {
    let Some(host) = url.host() else { return false };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The longest max age or cooldown: a year, so that adding one to an instant cannot overflow.
const LONGEST: Duration = Duration::from_secs(365 * 24 * 3600);

/// `at + d`; durations are capped at [`LONGEST`], so the sum does not overflow in practice, and
/// if it did the answer would be `at` rather than a panic.
fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d).unwrap_or(at)
}

/// What the schedule asks the task to do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Fetch now.
    Fetch,
    /// Nothing to do before this instant (unless woken).
    SleepUntil(Instant),
}

/// What a request with an unknown `kid` (or arriving while there are no keys) may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Demand {
    /// A fetch is due or under way: wait for it, then verify again.
    Wait,
    /// The last fetch was less than a cooldown ago: answer now with the keys there are.
    CoolingDown,
}

/// When to fetch: a pure state machine over instants the caller passes in, so its tests need
/// no clock and no sleeping.
#[derive(Debug)]
pub(crate) struct Schedule {
    max_age: Duration,
    cooldown: Duration,
    /// When the last fetch started, or finished once it has.
    last_attempt: Option<Instant>,
    /// Whether the last finished fetch succeeded.
    last_ok: bool,
    /// When the last good fetch finished.
    last_success: Option<Instant>,
    /// How long the last good fetch's keys stay fresh: the server's `max-age` between the
    /// cooldown and the max age, or the max age.
    fresh_for: Duration,
    in_flight: bool,
    /// A request asked for a fetch that has not started yet.
    wanted: bool,
}

impl Schedule {
    pub(crate) fn new(max_age: Duration, cooldown: Duration) -> Self {
        Schedule {
            max_age,
            cooldown,
            last_attempt: None,
            last_ok: false,
            last_success: None,
            fresh_for: max_age,
            in_flight: false,
            wanted: false,
        }
    }

    /// A request found no key for its token: a fetch is asked for unless one started less than a
    /// cooldown ago. However many requests ask, they share one fetch.
    pub(crate) fn demand(&mut self, now: Instant) -> Demand {
        let demand = self.would_demand(now);
        // A request that joins a fetch under way asks for none after it.
        if demand == Demand::Wait && !self.in_flight {
            self.wanted = true;
        }
        demand
    }

    /// What [`Schedule::demand`] would answer, without asking.
    pub(crate) fn would_demand(&self, now: Instant) -> Demand {
        match self.last_attempt {
            _ if self.in_flight || self.wanted => Demand::Wait,
            Some(at) if now < later(at, self.cooldown) => Demand::CoolingDown,
            _ => Demand::Wait,
        }
    }

    /// What the task does next.
    pub(crate) fn next(&self, now: Instant) -> Next {
        if self.in_flight {
            // The task itself runs fetches, one at a time; it does not ask while one runs.
            return Next::SleepUntil(later(now, self.cooldown));
        }
        let due = match (self.last_attempt, self.last_success) {
            (None, _) => now,
            _ if self.wanted => now,
            // After a failure, retry once the cooldown has passed.
            (Some(at), _) if !self.last_ok => later(at, self.cooldown),
            (_, Some(good)) => later(good, self.fresh_for),
            (Some(at), None) => later(at, self.cooldown),
        };
        if due <= now { Next::Fetch } else { Next::SleepUntil(due) }
    }

    /// A fetch starts.
    pub(crate) fn begin(&mut self, now: Instant) {
        self.in_flight = true;
        self.wanted = false;
        self.last_attempt = Some(now);
    }

    /// The fetch that started last has finished: `Ok` with the server's `max-age` if it said
    /// one, or `Err`. The cooldown counts from here: a fetch that took long (a slow server) is
    /// not followed at once by another.
    pub(crate) fn finish(&mut self, now: Instant, outcome: Result<Option<Duration>, ()>) {
        self.in_flight = false;
        self.last_attempt = Some(now);
        self.last_ok = outcome.is_ok();
        if let Ok(server_max_age) = outcome {
            self.last_success = Some(now);
            // Never sooner than the cooldown (a server saying max-age=0 does not make every
            // minute a fetch), never later than the operator's max age.
            self.fresh_for =
                server_max_age.map_or(self.max_age, |age| age.clamp(self.cooldown.min(self.max_age), self.max_age));
        }
    }
}

/// What the task and the requests share.
pub(crate) struct Remote {
    url: Uri,
    client: Arc<dyn JwksClient>,
    schedule: Mutex<Schedule>,
    /// Wakes the task when a request asks for a fetch.
    wake: Notify,
    /// Counts finished fetches, so waiting requests see the one they asked for end.
    done: watch::Sender<u64>,
    /// How long a fetch may take, and so a request wait for one: the two timeouts and a second.
    wait_limit: Duration,
    /// The longest body accepted.
    max_body: usize,
    /// The `ETag` of the document whose keys are in use.
    etag: Mutex<Option<String>>,
}

impl Remote {
    fn with_schedule<T>(&self, f: impl FnOnce(&mut Schedule) -> T) -> T {
        // A poisoned lock only means a panic elsewhere while holding it; the schedule's fields
        // are each valid on their own, so go on with them.
        let mut schedule = self.schedule.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut schedule)
    }

    fn begin(&self, now: Instant) {
        self.with_schedule(|s| s.begin(now));
    }

    fn finish(&self, now: Instant, outcome: Result<Option<Duration>, ()>) {
        self.with_schedule(|s| s.finish(now, outcome));
        self.done.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Asks for a fetch on behalf of a request; when one is due or under way, waits (bounded by
    /// the client's timeouts) for it to finish. Within the cooldown it returns at once.
    pub(crate) async fn refetch_for_request(&self) {
        let mut done = self.done.subscribe();
        if self.with_schedule(|s| s.demand(Instant::now())) == Demand::Wait {
            self.wake.notify_one();
            // A timeout or a closed channel both mean: answer with the keys there are.
            let _ended = tokio::time::timeout(self.wait_limit, done.changed()).await;
        }
    }

    /// Whether a request with an unknown kid may wait for a fetch now, without asking for one.
    pub(crate) fn may_refetch(&self) -> bool {
        self.with_schedule(|s| s.would_demand(Instant::now()) == Demand::Wait)
    }

    /// The cooldown, for `Retry-After`.
    pub(crate) fn cooldown(&self) -> Duration {
        self.with_schedule(|s| s.cooldown)
    }

    fn etag(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.etag.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One fetch; on success the keys in use are replaced (or kept, for a `304`), otherwise they
    /// stay. Returns the server's `max-age`, if it gave one.
    async fn fetch_into(&self, state: &State) -> Result<Option<Duration>, LoadError> {
        // An ETag is sent only while its document's keys are the ones in use.
        let etag = if state.has_keys() { self.etag().clone() } else { None };
        // The built-in client keeps its own limits; these hold for an injected one too.
        let fetched = tokio::time::timeout(self.wait_limit, self.client.get(&self.url, etag.as_deref()))
            .await
            .unwrap_or(Err(LoadError::Timeout));
        let outcome = match fetched {
            Ok(Fetched::NotModified { max_age }) if etag.is_some() => {
                tracing::debug!(url = %self.url, "JWKS not modified; the keys in use stay");
                metrics::fetched("not_modified");
                return Ok(max_age);
            }
            Ok(Fetched::NotModified { .. }) => Err(LoadError::Status(304)),
            Ok(Fetched::Document { body, .. }) if body.len() > self.max_body => {
                Err(LoadError::TooLarge { limit: self.max_body })
            }
            Ok(Fetched::Document { body, etag, max_age }) => state.replace(body).await.map(|n| {
                *self.etag() = etag;
                (n, max_age)
            }),
            Err(e) => Err(e),
        };
        match &outcome {
            Ok((n, _)) => {
                tracing::debug!(url = %self.url, keys = n, "JWKS fetched");
                metrics::fetched("ok");
            }
            Err(e @ LoadError::TooManyKeys { .. }) => {
                tracing::error!(
                    url = %self.url, error = %e, limit = MAX_KEYS,
                    "JWKS refused: more keys than MAX_KEYS; the keys in use stay and rotation has stopped"
                );
                metrics::fetched("too_many_keys");
            }
            Err(e) => {
                tracing::warn!(url = %self.url, error = %e, "JWKS fetch failed; the keys in use stay");
                metrics::fetched("error");
            }
        }
        outcome.map(|(_, max_age)| max_age)
    }
}

/// The background task: fetch when the schedule says so, sleep otherwise.
async fn run(remote: Arc<Remote>, state: Arc<State>) {
    loop {
        match remote.with_schedule(|s| s.next(Instant::now())) {
            Next::SleepUntil(when) => {
                tokio::select! {
                    () = tokio::time::sleep_until(when) => {}
                    () = remote.wake.notified() => {}
                }
            }
            Next::Fetch => {
                remote.begin(Instant::now());
                let outcome = remote.fetch_into(&state).await.map_err(|_| ());
                remote.finish(Instant::now(), outcome);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGE: Duration = Duration::from_secs(600);
    const COOL: Duration = Duration::from_secs(30);

    #[test]
    fn first_fetch_is_due_at_once_then_after_max_age() {
        let t0 = Instant::now();
        let mut s = Schedule::new(AGE, COOL);
        assert_eq!(s.next(t0), Next::Fetch);
        s.begin(t0);
        s.finish(t0, Ok(None));
        assert_eq!(s.next(t0), Next::SleepUntil(t0 + AGE));
        assert_eq!(s.next(t0 + AGE), Next::Fetch);
    }

    #[test]
    fn a_failure_is_retried_after_the_cooldown_not_the_max_age() {
        let t0 = Instant::now();
        let mut s = Schedule::new(AGE, COOL);
        s.begin(t0);
        s.finish(t0, Ok(None));
        let t1 = t0 + AGE;
        s.begin(t1);
        s.finish(t1, Err(()));
        assert_eq!(s.next(t1), Next::SleepUntil(t1 + COOL));
        s.begin(t1 + COOL);
        s.finish(t1 + COOL, Ok(None));
        assert_eq!(s.next(t1 + COOL), Next::SleepUntil(t1 + COOL + AGE));
    }

    #[test]
    fn a_burst_of_unknown_kids_asks_for_one_fetch_per_cooldown() {
        let t0 = Instant::now();
        let mut s = Schedule::new(AGE, COOL);
        s.begin(t0);
        s.finish(t0, Ok(None));
        // Within the cooldown of the start-up fetch: no fetch, however many ask.
        for _ in 0..1000 {
            assert_eq!(s.demand(t0 + Duration::from_secs(1)), Demand::CoolingDown);
        }
        assert!(matches!(s.next(t0 + Duration::from_secs(1)), Next::SleepUntil(_)));
        // After it: the first asks, the rest join the same fetch.
        let t1 = t0 + COOL;
        let mut fetches = 0;
        for i in 0..1000u32 {
            assert_eq!(s.demand(t1 + Duration::from_millis(u64::from(i))), Demand::Wait);
            if s.next(t1) == Next::Fetch {
                fetches += 1;
                s.begin(t1);
            }
        }
        assert_eq!(fetches, 1);
        s.finish(t1, Ok(None));
        assert_eq!(s.demand(t1 + Duration::from_secs(1)), Demand::CoolingDown);
        assert_eq!(s.demand(t1 + COOL), Demand::Wait);
    }

    #[test]
    fn a_failed_fetch_also_starts_the_cooldown() {
        let t0 = Instant::now();
        let mut s = Schedule::new(AGE, COOL);
        assert_eq!(s.demand(t0), Demand::Wait);
        s.begin(t0);
        s.finish(t0, Err(()));
        assert_eq!(s.demand(t0 + Duration::from_secs(29)), Demand::CoolingDown);
        assert_eq!(s.demand(t0 + COOL), Demand::Wait);
    }

    #[test]
    fn the_cooldown_counts_from_the_end_of_a_slow_fetch() {
        let t0 = Instant::now();
        let mut s = Schedule::new(AGE, COOL);
        s.begin(t0);
        let t1 = t0 + Duration::from_secs(60);
        s.finish(t1, Err(()));
        assert_eq!(s.demand(t1 + Duration::from_secs(1)), Demand::CoolingDown);
        assert_eq!(s.next(t1), Next::SleepUntil(t1 + COOL));
    }

    #[test]
    fn the_servers_max_age_sets_the_refresh_between_the_cooldown_and_the_max_age() {
        let t0 = Instant::now();
        let cases = [
            (Some(Duration::from_secs(120)), Duration::from_secs(120)),
            // Never sooner than the cooldown, never later than the max age.
            (Some(Duration::ZERO), COOL),
            (Some(Duration::from_secs(5)), COOL),
            (Some(Duration::from_secs(86_400)), AGE),
            (None, AGE),
        ];
        for (server, due) in cases {
            let mut s = Schedule::new(AGE, COOL);
            s.begin(t0);
            s.finish(t0, Ok(server));
            assert_eq!(s.next(t0), Next::SleepUntil(t0 + due), "{server:?}");
            assert_eq!(s.next(t0 + due), Next::Fetch, "{server:?}");
        }
        // A failure after a short max-age: retried after the cooldown, as always.
        let mut s = Schedule::new(AGE, COOL);
        s.begin(t0);
        s.finish(t0, Ok(Some(Duration::from_secs(60))));
        let t1 = t0 + Duration::from_secs(60);
        s.begin(t1);
        s.finish(t1, Err(()));
        assert_eq!(s.next(t1), Next::SleepUntil(t1 + COOL));
    }

    #[test]
    fn cache_control_max_age() {
        let headers = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for v in values {
                map.append(CACHE_CONTROL, v.parse().unwrap());
            }
            map
        };
        let secs = |n| Some(Duration::from_secs(n));
        assert_eq!(max_age(&headers(&["max-age=300"])), secs(300));
        assert_eq!(max_age(&headers(&["public, Max-Age=60, must-revalidate"])), secs(60));
        assert_eq!(max_age(&headers(&["max-age=\"90\""])), secs(90));
        assert_eq!(max_age(&headers(&["max-age=300", "max-age=100"])), secs(100));
        assert_eq!(max_age(&headers(&["max-age=300, no-cache"])), secs(0));
        assert_eq!(max_age(&headers(&["no-store"])), secs(0));
        assert_eq!(max_age(&headers(&["max-age=-1", "public"])), None);
        assert_eq!(max_age(&headers(&["s-maxage=10"])), None);
        assert_eq!(max_age(&headers(&[])), None);
    }

    #[test]
    fn loopback_hosts() {
        for url in ["http://127.0.0.1:1/", "http://localhost/", "http://[::1]:8/x", "http://127.9.9.9/"] {
            assert!(is_loopback(&url.parse().unwrap()), "{url}");
        }
        for url in ["http://10.0.0.1/", "http://example.com/", "http://[::2]/", "http://localhost.example.com/"] {
            assert!(!is_loopback(&url.parse().unwrap()), "{url}");
        }
    }
}
