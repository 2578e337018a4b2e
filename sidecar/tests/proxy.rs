//! Mode 1: the reverse proxy in front of a recording upstream.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::*;

const ASSERTION: &str = "x-pomerium-jwt-assertion";

async fn setup(name: &str, extra: &[&str]) -> (Upstream, Sidecar) {
    let upstream = Upstream::start().await;
    let keys = key_file(name, &[OLD]);
    let url = format!("http://{}", upstream.addr);
    let mut args = vec!["--upstream", &url, "--key", keys.to_str().unwrap(), "--audience", AUD];
    args.extend_from_slice(extra);
    let sidecar = Sidecar::start(name, &args).await;
    (upstream, sidecar)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_reach_nothing_upstream() {
    let (upstream, sidecar) = setup("refusals", &[]).await;
    let expired = {
        let mut c = claims();
        c["exp"] = (now() - 3600).into();
        c["iat"] = (now() - 4000).into();
        sign(OLD, &c)
    };
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("missing", vec![]),
        ("garbage", vec![(ASSERTION, "not.a.token".into())]),
        ("empty", vec![(ASSERTION, String::new())]),
        ("attacker key", vec![(ASSERTION, sign(ATTACKER, &claims()))]),
        ("expired", vec![(ASSERTION, expired)]),
        ("other audience", vec![(ASSERTION, sign(OLD, &claims_for("other.example.com")))]),
        ("two headers", vec![(ASSERTION, token()), (ASSERTION, token())]),
    ];
    for (name, headers) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let response = send(sidecar.addr, get("/secret", AUD, &headers)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{name}");
        assert!(response.headers().contains_key("www-authenticate"), "{name}");
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"), "{name}");
        let body = body_text(response).await;
        assert!(body.contains("lacks a valid Pomerium assertion"), "{name}: {body}");
        assert!(!body.contains("eyJ"), "{name}: token text in the body");
    }
    assert!(upstream.seen().is_empty(), "refused requests reached the upstream: {:?}", upstream.seen());
    let log = sidecar.log_text();
    assert!(log.contains("401") && log.contains("/secret"), "{log}");
    assert!(!log.contains(&token()[..40]), "the token's text is in the log");
    // And a valid one does reach it: the check above can fail.
    let response = send(sidecar.addr, get("/secret", AUD, &[(ASSERTION, &token())])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(upstream.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_headers_verified_and_forged_ones_stripped() {
    let (upstream, sidecar) = setup("claims", &["--public-path", "/public/"]).await;
    let token = token();
    let forged = [
        ("X-Pomerium-Claim-Email", "mallory@example.com"),
        ("x-pomerium-claim-groups", "root"),
        ("X-POMERIUM-CLAIM-DEPARTMENT", "finance"),
        ("X-Pomerium-Claim-Given_Name", "Mallory"),
    ];
    let mut headers = vec![(ASSERTION, token.as_str())];
    headers.extend_from_slice(&forged);
    let response = send(sidecar.addr, get("/app?x=1", AUD, &headers)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen = upstream.seen().pop().unwrap();
    let h = &seen.headers;
    assert_eq!(h.get_all("x-pomerium-claim-email").iter().collect::<Vec<_>>(), ["alice@example.com"]);
    assert_eq!(h.get_all("x-pomerium-claim-groups").iter().collect::<Vec<_>>(), ["admins,devs"]);
    assert_eq!(h["x-pomerium-claim-sub"], "alice-id-0001");
    assert_eq!(h["x-pomerium-claim-user"], "alice-id-0001");
    assert_eq!(h["x-pomerium-claim-name"], "Alice");
    assert_eq!(h.get_all("x-pomerium-claim-given_name").iter().collect::<Vec<_>>(), ["Alice"]);
    assert!(!h.contains_key("x-pomerium-claim-department"));
    assert!(!h.contains_key("x-pomerium-claim-iss") && !h.contains_key("x-pomerium-claim-exp"));
    assert_eq!(h[ASSERTION], token.as_str(), "the assertion is forwarded unchanged");
    assert_eq!(seen.uri, "/app?x=1");
    // A public path passes without a token, and forged claims are still stripped.
    let response = send(sidecar.addr, get("/public/a.css", AUD, &forged)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let seen = upstream.seen().pop().unwrap();
    assert!(!seen.headers.keys().any(|k| k.as_str().starts_with("x-pomerium-claim-")), "{:?}", seen.headers);
    // Dot segments do not make a private path public.
    for path in ["/public/../admin", "/public/%2e%2e/admin", "/public/..%2fadmin"] {
        let response = send(sidecar.addr, get(path, AUD, &[])).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    assert_eq!(upstream.seen().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_and_forwarded_headers() {
    let (upstream, sidecar) = setup("hops", &[]).await;
    let token = token();
    let headers = [
        (ASSERTION, token.as_str()),
        ("connection", "keep-alive, x-private-hop"),
        ("x-private-hop", "secret"),
        ("keep-alive", "timeout=5"),
        ("proxy-authorization", "Basic eDp5"),
        ("te", "trailers"),
        ("upgrade", "h2c"),
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "evil.example.com"),
        ("x-end-to-end", "kept"),
    ];
    let response = send(sidecar.addr, get("/", "app.example.com:8443", &headers)).await;
    assert_eq!(response.status(), StatusCode::OK);
    for name in ["x-upstream-hop", "keep-alive"] {
        assert!(!response.headers().contains_key(name), "response kept {name}");
    }
    let seen = upstream.seen().pop().unwrap();
    let h = &seen.headers;
    for name in ["x-private-hop", "keep-alive", "proxy-authorization", "te", "upgrade"] {
        assert!(!h.contains_key(name), "forwarded {name}: {h:?}");
    }
    assert_eq!(h["x-end-to-end"], "kept");
    assert_eq!(h["host"], "app.example.com:8443");
    assert_eq!(h["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-host"], "app.example.com:8443");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_bodies_stream_in_bounded_memory() {
    const SIZE: u64 = 256 * 1024 * 1024;
    // The bound: 32 MiB resident (the benchmark target), an eighth of one buffered body.
    const BOUND_KIB: u64 = 32 * 1024;
    let (upstream, sidecar) = setup("stream", &[]).await;
    let token = token();
    let upload = Request::post("/upload").header("host", AUD).header(ASSERTION, &token).body(generated(SIZE)).unwrap();
    let response = send(sidecar.addr, upload).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(upstream.seen().pop().unwrap().body_len, SIZE);
    let peak_upload = sidecar.rss_kib();

    let response = send(sidecar.addr, get(&format!("/download/{SIZE}"), AUD, &[(ASSERTION, &token)])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let (mut received, mut peak) = (0u64, peak_upload);
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            received += data.len() as u64;
            if received % (16 * 1024 * 1024) < data.len() as u64 {
                peak = peak.max(sidecar.rss_kib());
            }
        }
    }
    assert_eq!(received, SIZE);
    eprintln!("sidecar RSS after a 256 MiB upload: {peak_upload} KiB; peak during the download: {peak} KiB");
    assert!(peak < BOUND_KIB, "RSS {peak} KiB over the {BOUND_KIB} KiB bound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sent_events_arrive_as_sent() {
    let (upstream, sidecar) = setup("sse", &[]).await;
    let response = send(sidecar.addr, get("/sse", AUD, &[(ASSERTION, &token())])).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    // The upstream sends the second event only when the gate opens: the first must arrive before.
    let first = tokio::time::timeout(Duration::from_secs(20), body.frame()).await.expect("first event held back");
    assert_eq!(first.unwrap().unwrap().into_data().unwrap(), "data: one\n\n");
    upstream.gate.notify_one();
    let second = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(second, "data: two\n\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_echo_with_a_token_only() {
    let (upstream, sidecar) = setup("ws", &[]).await;
    let url = format!("ws://{}/ws", sidecar.addr);
    let mut request = url.as_str().into_client_request().unwrap();
    request.headers_mut().insert("host", AUD.parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request.clone()).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected 401, got {other:?}"),
    }
    assert!(upstream.seen().is_empty());
    request.headers_mut().insert(ASSERTION, token().parse().unwrap());
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), 101);
    for text in ["hello", "again"] {
        ws.send(Message::text(text)).await.unwrap();
        let echoed = ws.next().await.unwrap().unwrap();
        assert_eq!(echoed.into_text().unwrap().as_str(), text);
    }
    ws.close(None).await.unwrap();
    let seen = upstream.seen().pop().unwrap();
    assert_eq!(seen.headers["x-pomerium-claim-email"], "alice@example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_is_502_and_slow_is_504() {
    let down = format!("http://127.0.0.1:{}", free_port());
    let keys = key_file("down", &[OLD]);
    let sidecar =
        Sidecar::start("down", &["--upstream", &down, "--key", keys.to_str().unwrap(), "--audience", AUD]).await;
    let response = send(sidecar.addr, get("/", AUD, &[(ASSERTION, &token())])).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body = body_text(response).await;
    assert!(body.contains("502") && !body.contains("panicked"), "{body}");

    let (_upstream, sidecar) = setup("slow", &["--upstream-timeout", "1"]).await;
    let response = send(sidecar.addr, get("/slow", AUD, &[(ASSERTION, &token())])).await;
    assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
    assert!(body_text(response).await.contains("504"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_head_is_431_and_a_64_kib_token_verifies() {
    let (upstream, sidecar) = setup("head", &[]).await;
    let big = "a".repeat(100 * 1024);
    let response = send(sidecar.addr, get("/", AUD, &[("x-big", &big), (ASSERTION, &token())])).await;
    assert_eq!(response.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert!(upstream.seen().is_empty());
    // A token near 64 KiB (a custom claim fills it) still verifies.
    let mut c = claims();
    c["padding"] = "p".repeat(47 * 1024).into();
    let token = sign(OLD, &c);
    assert!(token.len() > 63 * 1024 && token.len() <= 64 * 1024, "{}", token.len());
    let response = send(sidecar.addr, get("/", AUD, &[(ASSERTION, &token)])).await;
    assert_eq!(response.status(), StatusCode::OK);
    // The sidecar still serves after both.
    assert_eq!(send(sidecar.addr, get("/", AUD, &[])).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_jwks_that_rotates() {
    let upstream = Upstream::start().await;
    let server = JwksServer::start(jwks(&[OLD])).await;
    let url = format!("http://{}", upstream.addr);
    let sidecar = Sidecar::start(
        "rotate",
        &["--upstream", &url, "--key", &server.url(), "--audience", AUD, "--jwks-cooldown", "1"],
    )
    .await;
    let old = token();
    let new = sign(NEW, &claims());
    assert_eq!(send(sidecar.addr, get("/", AUD, &[(ASSERTION, &old)])).await.status(), StatusCode::OK);
    // Pomerium rotates: both keys published. A token of the new key triggers one refetch.
    *server.document.lock().unwrap() = jwks(&[OLD, NEW]);
    // Past the cooldown (one second here) that follows the first fetch.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(send(sidecar.addr, get("/", AUD, &[(ASSERTION, &new)])).await.status(), StatusCode::OK);
    assert_eq!(send(sidecar.addr, get("/", AUD, &[(ASSERTION, &old)])).await.status(), StatusCode::OK);
    let hits = *server.hits.lock().unwrap();
    // Unknown kids within the cooldown do not fetch again.
    for _ in 0..5 {
        let forged = sign(ATTACKER, &claims());
        assert_eq!(send(sidecar.addr, get("/", AUD, &[(ASSERTION, &forged)])).await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(*server.hits.lock().unwrap(), hits);
    assert_eq!(upstream.seen().len(), 3);
    let log = sidecar.log_text();
    assert!(log.contains("keys changed") || log.contains("keys loaded"), "{log}");
    let metrics = body_text(send(sidecar.admin.unwrap(), get("/metrics", "admin", &[])).await).await;
    let fetches: u64 = metrics
        .lines()
        .filter(|l| l.starts_with("pomerium_jwt_jwks_fetches_total") && l.contains("ok"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(fetches as usize, hits, "JWKS fetches on /metrics: {metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_keys_yet_is_503_and_nothing_reaches_the_upstream() {
    let upstream = Upstream::start().await;
    let url = format!("http://{}", upstream.addr);
    let jwks = format!("http://127.0.0.1:{}/jwks.json", free_port());
    let sidecar = Sidecar::start(
        "proxy-no-keys",
        &["--upstream", &url, "--key", &jwks, "--audience", AUD, "--start-without-keys"],
    )
    .await;
    let response = send(sidecar.addr, get("/", AUD, &[(ASSERTION, &token())])).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert!(body_text(response).await.contains("503"));
    assert!(upstream.seen().is_empty());
}
