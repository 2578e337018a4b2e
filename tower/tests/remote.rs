//! The remote JWKS against JWKS servers on 127.0.0.1 that the tests start and misconfigure.
//! Fetches are counted on the server; no assertion depends on how long anything took.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use axum::http::StatusCode;
use pomerium_jwt_tower::{Fetched, JwksClient, LoadError, PomeriumJwtLayer, RemoteJwks, Tables};
use tokio::sync::Notify;

use crate::common::*;

async fn service(remote: RemoteJwks) -> std::net::SocketAddr {
    let keys = remote.start().await.unwrap();
    serve(reporting_app(PomeriumJwtLayer::new(keys, AUD), Arc::new(AtomicUsize::new(0)))).await
}

fn random_kid(i: usize) -> String {
    use std::hash::{BuildHasher, RandomState};
    format!("{:016x}{i}", RandomState::new().hash_one(i))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_unknown_kids_costs_one_fetch_per_cooldown() {
    let server = JwksServer::start(Mode::Serve(jwks(&[OLD]))).await;
    let cooldown = Duration::from_secs(3);
    let addr = service(RemoteJwks::new(&server.url()).unwrap().cooldown(cooldown)).await;
    assert_eq!(server.hits(), 1, "the start-up fetch");

    // Within the start-up fetch's cooldown, unknown kids fetch nothing.
    for i in 0..50 {
        assert_eq!(status(addr, &sign_with_kid(OLD, &random_kid(i), &claims())).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(server.hits(), 1, "a refetch inside the cooldown");

    // After it, a burst: the server now also has the NEW key, and holds its answer until the
    // whole burst is in. Random kids and NEW's kid all wait for the same single fetch.
    tokio::time::sleep(cooldown + Duration::from_millis(100)).await;
    let gate = Arc::new(Notify::new());
    server.set(Mode::Gated(gate.clone(), jwks(&[OLD, NEW])));
    let mut burst = Vec::new();
    for i in 0..100 {
        let token = if i % 10 == 0 { token(NEW) } else { sign_with_kid(ATTACKER, &random_kid(i), &claims()) };
        burst.push(tokio::spawn(async move { (i % 10 == 0, status(addr, &token).await) }));
    }
    assert!(eventually(async || server.hits() == 2).await, "the burst triggered no fetch");
    // Let the rest of the burst arrive at the layer while the fetch is held.
    tokio::time::sleep(Duration::from_millis(300)).await;
    gate.notify_one();
    for request in burst {
        let (new_key, code) = request.await.unwrap();
        let expected = if new_key { StatusCode::OK } else { StatusCode::UNAUTHORIZED };
        assert_eq!(code, expected, "new key: {new_key}");
    }
    // And more unknown kids right after: cooling down again.
    server.set(Mode::Serve(jwks(&[OLD, NEW])));
    for i in 0..20 {
        assert_eq!(status(addr, &sign_with_kid(ATTACKER, &random_kid(i), &claims())).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(server.hits(), 2, "the burst cost more than one fetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_fetches_keep_the_last_good_keys_and_the_service_recovers() {
    let server = JwksServer::start(Mode::Serve(jwks(&[OLD]))).await;
    let remote = RemoteJwks::new(&server.url())
        .unwrap()
        .max_age(Duration::from_millis(100))
        .cooldown(Duration::from_millis(50))
        .read_timeout(Duration::from_millis(300))
        .max_body(64 * 1024);
    let addr = service(remote).await;
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK);

    let failures = [
        ("down (connection closed)", Mode::Drop),
        ("500", Mode::Status(500)),
        ("404", Mode::Status(404)),
        ("slower than the read timeout", Mode::Slow(Duration::from_secs(3), jwks(&[NEW]))),
        ("garbage", Mode::Serve("<html>it works</html>".into())),
        ("empty key set", Mode::Serve(r#"{"keys":[]}"#.into())),
        ("RSA keys only", Mode::Serve(r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}"#.into())),
        ("a broken P-256 key", Mode::Serve(jwks(&[NEW]).replace("\"x\":\"", "\"x\":\"AA"))),
        ("larger than the cap", Mode::Serve(format!("{{\"keys\":[],\"pad\":\"{}\"}}", "x".repeat(100 * 1024)))),
    ];
    for (what, mode) in failures {
        let before = server.hits();
        server.set(mode);
        // Two failed refreshes in this mode, then the old keys must still verify.
        assert!(eventually(async || server.hits() >= before + 2).await, "{what}: no refresh was attempted");
        assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK, "{what}: the keys in use were lost");
        assert_eq!(status(addr, &token(NEW)).await, StatusCode::UNAUTHORIZED, "{what}");
    }

    // The server recovers, with the new key: the service follows.
    server.set(Mode::Serve(jwks(&[NEW])));
    assert!(eventually(async || status(addr, &token(NEW)).await == StatusCode::OK).await, "never recovered");
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_old_and_new_keys_then_the_old_key_is_removed() {
    let server = JwksServer::start(Mode::Serve(jwks(&[OLD]))).await;
    // A long cooldown: only the background refresh (max age) brings the new keys.
    let remote =
        RemoteJwks::new(&server.url()).unwrap().max_age(Duration::from_millis(200)).cooldown(Duration::from_secs(3600));
    let addr = service(remote).await;
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK);
    assert_eq!(status(addr, &token(NEW)).await, StatusCode::UNAUTHORIZED);

    server.set(Mode::Serve(jwks(&[OLD, NEW])));
    assert!(eventually(async || status(addr, &token(NEW)).await == StatusCode::OK).await, "new key never arrived");
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK, "both keys verify during the rotation");

    server.set(Mode::Serve(jwks(&[NEW])));
    assert!(eventually(async || status(addr, &token(OLD)).await == StatusCode::UNAUTHORIZED).await, "old key kept");
    assert_eq!(status(addr, &token(NEW)).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_kid_of_a_rotated_key_is_fetched_on_demand() {
    let server = JwksServer::start(Mode::Serve(jwks(&[OLD]))).await;
    // No background refresh during the test; a short cooldown.
    let remote =
        RemoteJwks::new(&server.url()).unwrap().max_age(Duration::from_secs(3600)).cooldown(Duration::from_millis(200));
    let addr = service(remote).await;
    server.set(Mode::Serve(jwks(&[OLD, NEW])));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The first request with the new kid waits for one fetch and passes.
    assert_eq!(status(addr, &token(NEW)).await, StatusCode::OK);
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn start_up_with_the_jwks_unreachable_fails_by_default() {
    // A port with nothing listening: connection refused.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
    let error = RemoteJwks::new(&format!("http://{closed}/jwks.json")).unwrap().start().await.unwrap_err();
    assert!(matches!(error, LoadError::Connect(_)), "{error}");

    let server = JwksServer::start(Mode::Status(500)).await;
    let error = RemoteJwks::new(&server.url()).unwrap().start().await.unwrap_err();
    assert!(matches!(error, LoadError::Status(500)), "{error}");

    let server = JwksServer::start(Mode::Serve(r#"{"keys":[]}"#.into())).await;
    let error = RemoteJwks::new(&server.url()).unwrap().start().await.unwrap_err();
    assert!(matches!(error, LoadError::NoUsableKey), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_without_keys_answers_503_until_the_keys_arrive() {
    let server = JwksServer::start(Mode::Status(503)).await;
    let remote = RemoteJwks::new(&server.url()).unwrap().cooldown(Duration::from_millis(100)).start_without_keys();
    let addr = service(remote).await;
    let (code, retry, body) = fetch(addr, &[("X-Pomerium-Jwt-Assertion", &token(OLD))]).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(retry.as_deref(), Some("1"));
    assert!(body.starts_with("503 Service Unavailable"), "{body:?}");
    // A missing header is still the client's fault.
    assert_eq!(fetch(addr, &[]).await.0, StatusCode::UNAUTHORIZED);

    server.set(Mode::Serve(jwks(&[OLD])));
    assert!(eventually(async || status(addr, &token(OLD)).await == StatusCode::OK).await, "keys never arrived");
}

#[tokio::test]
async fn urls_that_keys_may_not_come_from() {
    for url in ["ftp://example.com/jwks.json", "/jwks.json", "not a url"] {
        assert!(matches!(RemoteJwks::new(url), Err(LoadError::Url(_))), "{url}");
    }
    // Plain http to a host that is not loopback: refused before any connection is made.
    for url in ["http://10.0.0.1/jwks.json", "http://authenticate.example.com/jwks.json"] {
        let error = RemoteJwks::new(url).unwrap().start().await.unwrap_err();
        assert!(matches!(error, LoadError::Url(_)), "{url}: {error}");
    }
}

#[tokio::test]
async fn https_is_spoken_to_https_urls() {
    // A plain HTTP server behind an https URL: the TLS handshake fails, nothing is accepted.
    let server = JwksServer::start(Mode::Serve(jwks(&[OLD]))).await;
    let url = format!("https://127.0.0.1:{}/jwks.json", server.addr.port());
    let error = RemoteJwks::new(&url).unwrap().connect_timeout(Duration::from_secs(5)).start().await.unwrap_err();
    assert!(matches!(error, LoadError::Tls(_)), "{error}");
}

/// A client that fails or serves on command, counting calls: the schedule on tokio's paused
/// clock, with no network and no real waiting.
struct FakeClient {
    calls: AtomicUsize,
    body: std::sync::Mutex<Result<String, u16>>,
    /// The answer's `Cache-Control: max-age`.
    max_age: std::sync::Mutex<Option<Duration>>,
}

impl FakeClient {
    fn new(body: Result<String, u16>) -> Self {
        FakeClient {
            calls: AtomicUsize::new(0),
            body: std::sync::Mutex::new(body),
            max_age: std::sync::Mutex::new(None),
        }
    }
}

impl JwksClient for FakeClient {
    fn get<'a>(&'a self, _url: &'a axum::http::Uri, _etag: Option<&'a str>) -> pomerium_jwt_tower::FetchFuture<'a> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let answer = self.body.lock().unwrap().clone();
        let max_age = *self.max_age.lock().unwrap();
        Box::pin(async move {
            answer.map(|body| Fetched::Document { body: body.into(), etag: None, max_age }).map_err(LoadError::Status)
        })
    }
}

#[tokio::test(start_paused = true)]
async fn refresh_at_max_age_and_retry_after_the_cooldown_on_a_paused_clock() {
    let fake = Arc::new(FakeClient::new(Ok(jwks(&[OLD]))));
    let calls = || fake.calls.load(std::sync::atomic::Ordering::SeqCst);
    let keys = RemoteJwks::new("https://authenticate.example.com/.well-known/pomerium/jwks.json")
        .unwrap()
        .tables(Tables::Plain)
        .client(fake.clone())
        .start()
        .await
        .unwrap();
    assert_eq!((calls(), keys.len()), (1, 1));
    tokio::time::sleep(Duration::from_secs(599)).await;
    assert_eq!(calls(), 1, "refreshed before the max age");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(calls(), 2, "not refreshed at the max age");

    // Failing: retried every cooldown (30 s), the keys stay.
    *fake.body.lock().unwrap() = Err(500);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(calls(), 3);
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert_eq!((calls(), keys.len()), (4, 1));

    // Back: the next retry brings the new keys, then the max age applies again.
    *fake.body.lock().unwrap() = Ok(jwks(&[OLD, NEW]));
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!((calls(), keys.len()), (5, 2));
    tokio::time::sleep(Duration::from_secs(300)).await;
    assert_eq!(calls(), 5);

    // Dropping the keys ends the task.
    drop(keys);
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(calls(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_never_chooses_where_keys_come_from() {
    // Pomerium's SDK fetches keys from the token's iss. Here a forged token names the attacker's
    // JWKS in iss and jku, under a kid the service does not know: the attacker's server must
    // never be asked, and the token must be refused.
    let pomerium = JwksServer::start(Mode::Serve(jwks(&[OLD]))).await;
    let attacker = JwksServer::start(Mode::Serve(jwks(&[ATTACKER]))).await;
    let remote = RemoteJwks::new(&pomerium.url()).unwrap().cooldown(Duration::from_millis(100));
    let addr = service(remote).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let evil = attacker.url();
    let claims = with(with(claims(), "iss", serde_json::json!(evil)), "jku", serde_json::json!(evil));
    let header = serde_json::json!({"alg": "ES256", "kid": kid(ATTACKER), "typ": "JWT", "jku": evil, "x5u": evil});
    let forged = sign_with_header(ATTACKER, &header, &claims);
    assert_eq!(status(addr, &forged).await, StatusCode::UNAUTHORIZED);
    assert_eq!(attacker.hits(), 0, "keys were fetched from a URL the token named");
    assert_eq!(pomerium.hits(), 2, "the unknown kid refetched the configured JWKS, once");
}

/// An HTTPS JWKS server on 127.0.0.1 with a fresh self-signed certificate for `localhost`;
/// its address, the certificate, and its request count.
async fn https_server(body: String) -> (SocketAddr, rustls::pki_types::CertificateDer<'static>, Arc<AtomicUsize>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
    let provider = Arc::new(ring_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (acceptor, body, counted) = (acceptor.clone(), body.clone(), counted.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else { return };
                let service = hyper::service::service_fn(move |_request| {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let body = body.clone();
                    async move { Ok::<_, std::convert::Infallible>(hyper::Response::new(body)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, cert, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_operators_root_serves_keys_and_an_unknown_root_does_not() {
    let (addr, cert, hits) = https_server(jwks(&[OLD])).await;
    let url = format!("https://localhost:{}/.well-known/pomerium/jwks.json", addr.port());

    // The default roots (Mozilla's) do not know this certificate: the handshake fails.
    let error = RemoteJwks::new(&url).unwrap().start().await.unwrap_err();
    assert!(matches!(error, LoadError::Tls(_)), "{error}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);

    // With the operator's root (a private CA), the keys arrive over TLS and verify.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).unwrap();
    let provider = Arc::new(ring_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let addr = service(RemoteJwks::new(&url).unwrap().tls_config(Arc::new(config))).await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK);
}

/// ring's provider, deprecated by rustls 0.23.48 for want of post-quantum key exchange: the tests
/// use the provider the crate uses (see `default_tls` in src/remote.rs for why).
#[allow(deprecated)]
fn ring_provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// A client that never answers, counting calls.
struct HangingClient(AtomicUsize);

impl JwksClient for HangingClient {
    fn get<'a>(&'a self, _url: &'a axum::http::Uri, _etag: Option<&'a str>) -> pomerium_jwt_tower::FetchFuture<'a> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(std::future::pending())
    }
}

#[tokio::test(start_paused = true)]
async fn an_injected_client_that_hangs_is_cut_off_by_the_timeouts() {
    let client = Arc::new(HangingClient(AtomicUsize::new(0)));
    let calls = || client.0.load(std::sync::atomic::Ordering::SeqCst);
    // Connect 5 s + read 10 s + 1 s: each attempt ends after 16 s; the next one 30 s later.
    let keys = RemoteJwks::new("https://authenticate.example.com/jwks.json")
        .unwrap()
        .client(client.clone())
        .start_without_keys()
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!((calls(), keys.len()), (1, 0));
    tokio::time::sleep(Duration::from_secs(44)).await;
    assert_eq!(calls(), 1, "retried before the cooldown");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(calls(), 2, "the hung fetch was never cut off");
}

#[tokio::test(start_paused = true)]
async fn the_servers_max_age_is_honoured_between_the_cooldown_and_the_max_age() {
    // max_age 600 s, cooldown 30 s (the defaults); the server says how long its answer is fresh.
    for (server_says, due) in [(120, 120), (0, 30), (86_400, 600)] {
        let fake = Arc::new(FakeClient::new(Ok(jwks(&[OLD]))));
        *fake.max_age.lock().unwrap() = Some(Duration::from_secs(server_says));
        let calls = || fake.calls.load(std::sync::atomic::Ordering::SeqCst);
        let keys = RemoteJwks::new("https://authenticate.example.com/.well-known/pomerium/jwks.json")
            .unwrap()
            .tables(Tables::Plain)
            .client(fake.clone())
            .start()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(due - 1)).await;
        assert_eq!(calls(), 1, "max-age={server_says}: fetched again before {due} s");
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(calls(), 2, "max-age={server_says}: not fetched again at {due} s");
        drop(keys);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_etag_is_sent_back_and_a_304_keeps_the_keys() {
    let cached = |seeds: &[u8], etag: &str| Mode::Cached {
        body: jwks(seeds),
        etag: etag.to_owned(),
        cache_control: "public, max-age=1".to_owned(),
    };
    let server = JwksServer::start(cached(&[OLD], "\"v1\"")).await;
    // The max age alone would not refetch within the test: the server's max-age=1 does, once the
    // 200 ms cooldown has passed.
    let remote = RemoteJwks::new(&server.url())
        .unwrap()
        .max_age(Duration::from_secs(3600))
        .cooldown(Duration::from_millis(200))
        .tables(Tables::Plain);
    let addr = service(remote).await;
    assert!(eventually(async || server.hits() >= 3).await, "max-age=1 did not bring refetches");
    let sent = server.if_none_match();
    assert_eq!(sent[0], None, "the first fetch has no ETag to send");
    assert!(sent[1..].iter().all(|tag| tag.as_deref() == Some("\"v1\"")), "{sent:?}");
    // The 304s kept the keys.
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK);

    // A new document under a new ETag replaces the keys, and its ETag is sent from then on.
    server.set(cached(&[NEW], "\"v2\""));
    assert!(eventually(async || status(addr, &token(NEW)).await == StatusCode::OK).await, "new keys never came");
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::UNAUTHORIZED);
    let before = server.hits();
    assert!(eventually(async || server.hits() > before).await);
    assert_eq!(server.if_none_match().last().unwrap().as_deref(), Some("\"v2\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jwks_with_more_keys_than_max_keys_is_refused_whole() {
    let seeds: Vec<u8> = (1..=u8::try_from(pomerium_jwt_tower::MAX_KEYS).unwrap() + 1).map(|s| s + 20).collect();
    let server = JwksServer::start(Mode::Serve(jwks(&seeds))).await;
    let error = RemoteJwks::new(&server.url()).unwrap().start().await.unwrap_err();
    assert!(matches!(error, LoadError::TooManyKeys { limit: pomerium_jwt_tower::MAX_KEYS }), "{error}");
    assert!(error.to_string().contains("more than 8 keys (MAX_KEYS)"), "{error}");
    // Exactly MAX_KEYS is fine.
    server.set(Mode::Serve(jwks(&seeds[1..])));
    let keys = RemoteJwks::new(&server.url()).unwrap().tables(Tables::Plain).start().await.unwrap();
    assert_eq!(keys.len(), pomerium_jwt_tower::MAX_KEYS);

    // Later, in rotation: the keys in use stay, none of the oversized document's are taken.
    let server = JwksServer::start(Mode::Serve(jwks(&[OLD]))).await;
    let remote =
        RemoteJwks::new(&server.url()).unwrap().max_age(Duration::from_millis(100)).cooldown(Duration::from_millis(50));
    let addr = service(remote).await;
    let mut many = seeds.clone();
    many[0] = NEW;
    server.set(Mode::Serve(jwks(&many)));
    let before = server.hits();
    assert!(eventually(async || server.hits() >= before + 2).await);
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK);
    assert_eq!(status(addr, &token(NEW)).await, StatusCode::UNAUTHORIZED);
    // And from a file.
    let error = pomerium_jwt_tower::Keys::from_bytes(jwks(&seeds).as_bytes()).unwrap_err();
    assert!(matches!(error, LoadError::TooManyKeys { .. }), "{error}");
}

/// One deadline for name lookup, TCP and TLS: a handshake that stalls after a slow TCP connect
/// gets what is left of `connect_timeout`, not a fresh one. The TCP connect is slowed the way a
/// busy server slows it: the listener's accept queue is full, the kernel drops the SYN, and the
/// client's TCP sends it again about a second later, by when the queue has room. Then the
/// server never answers the TLS ClientHello. The test compares the fetch's duration with the
/// time TCP took, so a loaded machine moves both and the verdict stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_connect_and_a_stalled_handshake_share_one_deadline() {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    // Backlog 0: Linux queues one connection, and drops SYNs while it is queued.
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let filler = tokio::net::TcpStream::connect(addr).await.unwrap();
    let started = std::time::Instant::now();
    let server = tokio::spawn(async move {
        // Make room only after the client's first SYN was dropped.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (queued, _) = listener.accept().await.unwrap();
        drop((queued, filler));
        let (stalled, _) = listener.accept().await.unwrap();
        let connected = started.elapsed();
        // Hold the connection open, saying nothing, until the client gives up.
        let mut buffer = [0u8; 1024];
        let mut stalled = stalled;
        while tokio::io::AsyncReadExt::read(&mut stalled, &mut buffer).await.is_ok_and(|n| n > 0) {}
        connected
    });
    let connect_timeout = Duration::from_millis(1500);
    let url = format!("https://127.0.0.1:{}/jwks.json", addr.port());
    let error = RemoteJwks::new(&url)
        .unwrap()
        .connect_timeout(connect_timeout)
        .read_timeout(Duration::from_secs(30))
        .start()
        .await
        .unwrap_err();
    let gave_up = started.elapsed();
    let connected = server.await.unwrap();
    assert!(matches!(error, LoadError::Timeout), "{error}");
    assert!(connected >= Duration::from_millis(500), "TCP was not slowed ({connected:?}): the test shows nothing");
    // Two timers would give up at `connected + connect_timeout` (2.5 s here); one deadline at
    // `connect_timeout` (1.5 s).
    assert!(
        gave_up + Duration::from_millis(300) < connected + connect_timeout,
        "the handshake got a fresh deadline: TCP after {connected:?}, gave up after {gave_up:?}"
    );
}
