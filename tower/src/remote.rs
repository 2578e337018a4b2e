//! Fetching and refreshing a JWKS from the one URL the operator configured: the schedule (a
//! small state machine with no clock of its own), the HTTP client (a trait, so tests inject
//! failures), and the background task that joins them.
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
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::error::LoadError;
use crate::keys::{Keys, State, Tables};

/// A boxed future, as [`JwksClient::get`] returns.
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Bytes, LoadError>> + Send + 'a>>;

/// Something that fetches the body of a URL: [`HttpClient`] in production, a fake in tests.
pub trait JwksClient: Send + Sync + 'static {
    /// The body of a `200 OK` answer to `GET url`, or why there is none.
    fn get<'a>(&'a self, url: &'a Uri) -> FetchFuture<'a>;
}

/// A remote JWKS, such as `https://authenticate.example.com/.well-known/pomerium/jwks.json`,
/// configured by builder and started with [`RemoteJwks::start`], which gives the [`Keys`] a
/// layer verifies with.
///
/// | setting | default | |
/// | --- | --- | --- |
/// | [`max_age`](RemoteJwks::max_age) | 10 min | the keys are fetched again this long after the last good fetch |
/// | [`cooldown`](RemoteJwks::cooldown) | 30 s | at most one fetch per cooldown for tokens with an unknown `kid`; also the retry delay after a failed fetch |
/// | [`connect_timeout`](RemoteJwks::connect_timeout) | 5 s | name lookup, TCP connect and TLS handshake |
/// | [`read_timeout`](RemoteJwks::read_timeout) | 10 s | from the request sent to the last body byte |
/// | [`max_body`](RemoteJwks::max_body) | 1 MiB | a longer body fails the fetch (Pomerium's JWKS is under 1 KiB) |
/// | [`start_without_keys`](RemoteJwks::start_without_keys) | off | see below |
///
/// **Start-up.** By default [`RemoteJwks::start`] fetches the keys before it returns and fails
/// when that fetch fails: a wrong URL or an unreachable Pomerium is found at deploy time, not by
/// the first user. With [`RemoteJwks::start_without_keys`] it returns at once; until the first
/// fetch succeeds the layer answers `503 Service Unavailable` (the keys are missing, not the
/// client's credentials), retrying the fetch once per cooldown.
///
/// **Failures never cost the keys in use.** A fetch that fails, times out, is too large, or
/// yields no usable P-256 key leaves the last good keys in place (logged at `warn`), and is
/// retried after the cooldown. Redirects are not followed: configure the final URL.
///
/// **Transport.** `https` with rustls (the `ring` provider) and the Mozilla roots of
/// `webpki-roots`, or a [`rustls::ClientConfig`] of yours for a private CA. Plain `http` only to a
/// loopback address (`127.0.0.0/8`, `[::1]`, `localhost`) unless
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

    /// The limit for the name lookup, the TCP connection and the TLS handshake together.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The limit from sending the request to the last byte of the body.
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
    /// The URL rules above, the body cap and the sum of the two timeouts still apply.
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
    /// [`RemoteJwks::allow_plain_http`]); unless started without keys, the first fetch's error.
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
            )),
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
        });
        if !self.without_keys {
            remote.begin(Instant::now());
            let outcome = remote.fetch_into(&state).await;
            remote.finish(Instant::now(), outcome.is_ok());
            outcome?;
        }
        let task = tokio::spawn(run(remote.clone(), state.clone()));
        Ok(Keys::remote(state, remote, task))
    }
}

/// The built-in client: one HTTP/1.1 `GET` per fetch over a new connection (a fetch every few
/// minutes does not need a pool), `https` through rustls.
pub struct HttpClient {
    tls: tokio_rustls::TlsConnector,
    connect_timeout: Duration,
    read_timeout: Duration,
    max_body: usize,
}

impl HttpClient {
    /// A client with these limits.
    #[must_use]
    pub fn new(
        tls: Arc<rustls::ClientConfig>,
        connect_timeout: Duration,
        read_timeout: Duration,
        max_body: usize,
    ) -> Self {
        HttpClient { tls: tokio_rustls::TlsConnector::from(tls), connect_timeout, read_timeout, max_body }
    }

    async fn fetch(&self, url: &Uri) -> Result<Bytes, LoadError> {
        let host = url.host().ok_or(LoadError::Url("no host"))?;
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let https = url.scheme_str() == Some("https");
        let port = url.port_u16().unwrap_or(if https { 443 } else { 80 });
        let connect = async {
            let mut last = None;
            for addr in tokio::net::lookup_host((bare, port)).await.map_err(LoadError::connect)? {
                match TcpStream::connect(addr).await {
                    Ok(stream) => return Ok(stream),
                    Err(e) => last = Some(e),
                }
            }
            Err(last.map_or(LoadError::Connect("the name has no address".into()), LoadError::connect))
        };
        let tcp = tokio::time::timeout(self.connect_timeout, connect).await.map_err(|_| LoadError::Timeout)??;
        if https {
            let name = rustls::pki_types::ServerName::try_from(bare.to_owned())
                .map_err(|_| LoadError::Url("host is not a valid TLS server name"))?;
            let tls = tokio::time::timeout(self.connect_timeout, self.tls.connect(name, tcp))
                .await
                .map_err(|_| LoadError::Timeout)?
                .map_err(|e| LoadError::Tls(e.to_string()))?;
            self.exchange(tls, url).await
        } else {
            self.exchange(tcp, url).await
        }
    }

    async fn exchange<I>(&self, io: I, url: &Uri) -> Result<Bytes, LoadError>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let exchange = async {
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(io)).await.map_err(LoadError::http)?;
            let connection = tokio::spawn(connection);
            let authority = url.authority().map(http::uri::Authority::as_str).unwrap_or_default();
            let path = url.path_and_query().map_or("/", |p| p.as_str());
            let request = Request::get(path)
                .header(http::header::HOST, authority)
                .header(http::header::ACCEPT, "application/json, application/jwk-set+json")
                .header(http::header::USER_AGENT, concat!("pomerium-jwt-tower/", env!("CARGO_PKG_VERSION")))
                .body(Empty::<Bytes>::new())
                .map_err(LoadError::http)?;
            let response = sender.send_request(request).await.map_err(LoadError::http)?;
            if response.status() != StatusCode::OK {
                connection.abort();
                return Err(LoadError::Status(response.status().as_u16()));
            }
            let mut body = response.into_body();
            let mut bytes = BytesMut::new();
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.map_err(LoadError::http)?.into_data() {
                    if data.len() > self.max_body.saturating_sub(bytes.len()) {
                        connection.abort();
                        return Err(LoadError::TooLarge { limit: self.max_body });
                    }
                    bytes.extend_from_slice(&data);
                }
            }
            connection.abort();
            Ok(bytes.freeze())
        };
        tokio::time::timeout(self.read_timeout, exchange).await.map_err(|_| LoadError::Timeout)?
    }
}

impl JwksClient for HttpClient {
    fn get<'a>(&'a self, url: &'a Uri) -> FetchFuture<'a> {
        Box::pin(self.fetch(url))
    }
}

/// rustls with the `ring` provider and the Mozilla roots.
fn default_tls() -> Arc<rustls::ClientConfig> {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
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
            (_, Some(good)) => later(good, self.max_age),
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

    /// The fetch that started last has finished. The cooldown counts from here: a fetch that
    /// took long (a slow server) is not followed at once by another.
    pub(crate) fn finish(&mut self, now: Instant, ok: bool) {
        self.in_flight = false;
        self.last_attempt = Some(now);
        self.last_ok = ok;
        if ok {
            self.last_success = Some(now);
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

    fn finish(&self, now: Instant, ok: bool) {
        self.with_schedule(|s| s.finish(now, ok));
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

    /// One fetch; on success the keys in use are replaced, otherwise they stay.
    async fn fetch_into(&self, state: &State) -> Result<usize, LoadError> {
        // The built-in client keeps its own limits; these hold for an injected one too.
        let outcome = match tokio::time::timeout(self.wait_limit, self.client.get(&self.url)).await {
            Ok(Ok(body)) if body.len() > self.max_body => Err(LoadError::TooLarge { limit: self.max_body }),
            Ok(Ok(body)) => state.replace(body).await,
            Ok(Err(e)) => Err(e),
            Err(_) => Err(LoadError::Timeout),
        };
        match &outcome {
            Ok(n) => tracing::debug!(url = %self.url, keys = n, "JWKS fetched"),
            Err(e) => tracing::warn!(url = %self.url, error = %e, "JWKS fetch failed; the keys in use stay"),
        }
        outcome
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
                let ok = remote.fetch_into(&state).await.is_ok();
                remote.finish(Instant::now(), ok);
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
        s.finish(t0, true);
        assert_eq!(s.next(t0), Next::SleepUntil(t0 + AGE));
        assert_eq!(s.next(t0 + AGE), Next::Fetch);
    }

    #[test]
    fn a_failure_is_retried_after_the_cooldown_not_the_max_age() {
        let t0 = Instant::now();
        let mut s = Schedule::new(AGE, COOL);
        s.begin(t0);
        s.finish(t0, true);
        let t1 = t0 + AGE;
        s.begin(t1);
        s.finish(t1, false);
        assert_eq!(s.next(t1), Next::SleepUntil(t1 + COOL));
        s.begin(t1 + COOL);
        s.finish(t1 + COOL, true);
        assert_eq!(s.next(t1 + COOL), Next::SleepUntil(t1 + COOL + AGE));
    }

    #[test]
    fn a_burst_of_unknown_kids_asks_for_one_fetch_per_cooldown() {
        let t0 = Instant::now();
        let mut s = Schedule::new(AGE, COOL);
        s.begin(t0);
        s.finish(t0, true);
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
        s.finish(t1, true);
        assert_eq!(s.demand(t1 + Duration::from_secs(1)), Demand::CoolingDown);
        assert_eq!(s.demand(t1 + COOL), Demand::Wait);
    }

    #[test]
    fn a_failed_fetch_also_starts_the_cooldown() {
        let t0 = Instant::now();
        let mut s = Schedule::new(AGE, COOL);
        assert_eq!(s.demand(t0), Demand::Wait);
        s.begin(t0);
        s.finish(t0, false);
        assert_eq!(s.demand(t0 + Duration::from_secs(29)), Demand::CoolingDown);
        assert_eq!(s.demand(t0 + COOL), Demand::Wait);
    }

    #[test]
    fn the_cooldown_counts_from_the_end_of_a_slow_fetch() {
        let t0 = Instant::now();
        let mut s = Schedule::new(AGE, COOL);
        s.begin(t0);
        let t1 = t0 + Duration::from_secs(60);
        s.finish(t1, false);
        assert_eq!(s.demand(t1 + Duration::from_secs(1)), Demand::CoolingDown);
        assert_eq!(s.next(t1), Next::SleepUntil(t1 + COOL));
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
