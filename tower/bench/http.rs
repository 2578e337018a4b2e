//! Requests per second and latency over loopback: an axum service behind `PomeriumJwtLayer`
//! against the same service whose middleware does the same checks with jsonwebtoken 12 on its
//! default aws-lc-rs backend (signature, `exp`, `aud`, `iss`, one assertion header, forged
//! `X-Pomerium-Claim-*` headers removed, the identity handed to the handler).
//!
//! ```text
//! cargo bench --manifest-path tower/bench/Cargo.toml -- [REQUESTS_PER_ROUND] [ROUNDS]
//! ```
//!
//! Each service runs on a one-thread tokio runtime of its own OS thread; the load generator is a
//! one-thread runtime too, with `CONNECTIONS` keep-alive HTTP/1.1 connections each sending one
//! request after the other, all with the same token. Rounds alternate between the two services;
//! every request is checked to be a 200. Printed: each round, then the median of the rounds.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64ct::{Base64UrlUnpadded, Encoding};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use pomerium_jwt_tower::{Identity, Keys, PomeriumJwtLayer};
use serde_json::json;

const AUD: &str = "app.example.com";
const CONNECTIONS: usize = 8;

struct Pomerium {
    token: String,
    jwks: String,
    x: String,
    y: String,
    kid: String,
}

fn pomerium() -> Pomerium {
    let key = SigningKey::from_slice(&[7; 32]).unwrap();
    let point = key.verifying_key().to_sec1_point(false);
    let public = pomerium_jwt::PublicKey::from_sec1(point.as_bytes()).unwrap();
    let kid = public.pomerium_kid().as_str().to_owned();
    let (x, y) = point.as_bytes()[1..].split_at(32);
    let (x, y) = (Base64UrlUnpadded::encode_string(x), Base64UrlUnpadded::encode_string(y));
    let jwks =
        json!({"keys": [{"use": "sig", "kty": "EC", "kid": kid, "crv": "P-256", "alg": "ES256", "x": x, "y": y}]});
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let groups: Vec<String> = (0..20).map(|i| format!("group-{i:02}")).collect();
    let claims = json!({
        "aud": AUD, "email": "alice@example.com", "exp": now + 3600, "groups": groups, "iat": now,
        "iss": AUD, "jti": "5f0e9a3c-8d2b-4c71-9e6a-2b4d8f1c7a30", "name": "Alice",
        "sid": "b7c4e2d1-6a9f-4e38-8c15-3d2a7f9b0e64", "sub": "alice-id-0001", "user": "alice-id-0001",
    });
    let header = json!({"alg": "ES256", "kid": kid, "typ": "JWT"});
    let input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
        Base64UrlUnpadded::encode_string(claims.to_string().as_bytes())
    );
    let signature: Signature = key.sign(input.as_bytes());
    let token = format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature.to_bytes()));
    Pomerium { token, jwks: jwks.to_string(), x, y, kid }
}

async fn whoami(identity: Identity) -> String {
    identity.email.unwrap_or_default()
}

/// The claims jsonwebtoken deserializes: the same owned identity the layer builds.
#[derive(Clone, serde::Deserialize)]
#[allow(dead_code)]
struct JwtClaims {
    iss: String,
    aud: serde_json::Value,
    sub: Option<String>,
    email: Option<String>,
    user: Option<String>,
    name: Option<String>,
    sid: Option<String>,
    jti: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    exp: u64,
    iat: u64,
    nbf: Option<u64>,
}

#[derive(Clone)]
struct Peer {
    key: std::sync::Arc<jsonwebtoken::DecodingKey>,
    validation: std::sync::Arc<jsonwebtoken::Validation>,
    kid: String,
}

async fn jsonwebtoken_layer(
    axum::extract::State(peer): axum::extract::State<Peer>,
    mut request: Request,
    next: Next,
) -> Response {
    let verified = {
        let mut values = request.headers().get_all("x-pomerium-jwt-assertion").iter();
        match (values.next(), values.next()) {
            (Some(token), None) => token.to_str().ok().and_then(|token| {
                let header = jsonwebtoken::decode_header(token).ok()?;
                if header.kid.as_deref().is_some_and(|kid| kid != peer.kid) {
                    return None;
                }
                jsonwebtoken::decode::<JwtClaims>(token, &peer.key, &peer.validation).ok()
            }),
            _ => None,
        }
    };
    match verified {
        Some(data) => {
            strip(request.headers_mut());
            request.extensions_mut().insert(data.claims);
            next.run(request).await
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

fn strip(headers: &mut HeaderMap) {
    let forged: Vec<_> = headers.keys().filter(|n| n.as_str().starts_with("x-pomerium-claim-")).cloned().collect();
    for name in forged {
        headers.remove(name);
    }
}

async fn whoami_jwt(axum::Extension(claims): axum::Extension<JwtClaims>) -> String {
    claims.email.unwrap_or_default()
}

/// Runs `router` on a one-thread runtime in a thread of its own; its address.
fn spawn_server(make: impl FnOnce() -> Router + Send + 'static) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, make()).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

struct Round {
    rps: f64,
    p50: Duration,
    p99: Duration,
}

/// `requests` requests over `CONNECTIONS` connections; every answer must be a 200.
async fn round(addr: SocketAddr, token: &str, requests: usize) -> Round {
    let per_connection = requests / CONNECTIONS;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
            tokio::spawn(connection);
            let mut latencies = Vec::with_capacity(per_connection);
            for _ in 0..per_connection {
                let request = hyper::Request::get("/")
                    .header("host", "app.example.com")
                    .header("x-pomerium-jwt-assertion", &token)
                    .header("x-pomerium-claim-email", "mallory@example.com")
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let sent = Instant::now();
                sender.ready().await.unwrap();
                let response = sender.send_request(request).await.unwrap();
                assert_eq!(response.status(), 200);
                let body = response.into_body().collect().await.unwrap().to_bytes();
                assert_eq!(&body[..], b"alice@example.com");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(requests);
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let elapsed = start.elapsed();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    Round { rps: latencies.len() as f64 / elapsed.as_secs_f64(), p50: at(0.50), p99: at(0.99) }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; numbers are ours.
    let numbers: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let requests = numbers.first().copied().unwrap_or(20_000);
    let rounds = numbers.get(1).copied().unwrap_or(5);

    let p = pomerium();
    let jwks = p.jwks.clone();
    let ours = spawn_server(move || {
        let keys = Keys::from_bytes(jwks.as_bytes()).unwrap();
        Router::new().route("/", get(whoami)).layer(PomeriumJwtLayer::new(keys, AUD))
    });
    let (x, y, kid) = (p.x.clone(), p.y.clone(), p.kid.clone());
    let peer = spawn_server(move || {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_audience(&[AUD]);
        validation.set_issuer(&[AUD, &format!("https://{AUD}/"), "pomerium-proxy"]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "iat"]);
        validation.leeway = 60;
        let key = jsonwebtoken::DecodingKey::from_ec_components(&x, &y).unwrap();
        let peer = Peer { key: std::sync::Arc::new(key), validation: std::sync::Arc::new(validation), kid };
        Router::new().route("/", get(whoami_jwt)).layer(middleware::from_fn_with_state(peer, jsonwebtoken_layer))
    });

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        // Warm both (connections, tables, caches); not counted.
        round(ours, &p.token, 2_000).await;
        round(peer, &p.token, 2_000).await;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        println!("{requests} requests per round, {CONNECTIONS} connections, {rounds} rounds, same token (20 groups)");
        for r in 0..rounds {
            for (name, addr, out) in
                [("pomerium-jwt-tower", ours, &mut a), ("jsonwebtoken 12 (aws-lc-rs)", peer, &mut b)]
            {
                let round = round(addr, &p.token, requests).await;
                println!(
                    "round {r} {name:28} {:>9.0} req/s  p50 {:>7.1} µs  p99 {:>7.1} µs",
                    round.rps,
                    round.p50.as_secs_f64() * 1e6,
                    round.p99.as_secs_f64() * 1e6
                );
                out.push(round);
            }
        }
        let summary = |name: &str, rounds: &[Round]| {
            let rps = median(rounds.iter().map(|r| r.rps).collect());
            let p50 = median(rounds.iter().map(|r| r.p50.as_secs_f64() * 1e6).collect());
            let p99 = median(rounds.iter().map(|r| r.p99.as_secs_f64() * 1e6).collect());
            println!("median {name:27} {rps:>9.0} req/s  p50 {p50:>7.1} µs  p99 {p99:>7.1} µs");
            rps
        };
        let ours = summary("pomerium-jwt-tower", &a);
        let theirs = summary("jsonwebtoken 12 (aws-lc-rs)", &b);
        println!("throughput ratio pomerium-jwt-tower / jsonwebtoken: {:.3}", ours / theirs);
    });
}
