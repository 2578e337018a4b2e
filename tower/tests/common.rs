//! Test keys and tokens (signed here with p256), a JWKS server whose behaviour the test
//! controls, the service under test, and an HTTP/1 client, all on 127.0.0.1.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use base64ct::{Base64UrlUnpadded, Encoding};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use pomerium_jwt::PublicKey;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const AUD: &str = "app.example.com";
/// Pomerium's key before and after a rotation; `ATTACKER` is a key no JWKS holds.
pub const OLD: u8 = 7;
pub const NEW: u8 = 8;
pub const ATTACKER: u8 = 9;

pub fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

pub fn public_key(seed: u8) -> PublicKey {
    PublicKey::from_sec1(signing_key(seed).verifying_key().to_sec1_point(false).as_bytes()).unwrap()
}

pub fn kid(seed: u8) -> String {
    public_key(seed).pomerium_kid().as_str().to_owned()
}

fn jwk(seed: u8) -> Value {
    let point = public_key(seed).to_sec1_uncompressed();
    let (x, y) = point[1..].split_at(32);
    json!({
        "use": "sig", "kty": "EC", "kid": kid(seed), "crv": "P-256", "alg": "ES256",
        "x": Base64UrlUnpadded::encode_string(x), "y": Base64UrlUnpadded::encode_string(y),
    })
}

/// The keys as Pomerium serves them at `/.well-known/pomerium/jwks.json`.
pub fn jwks(seeds: &[u8]) -> String {
    json!({"keys": seeds.iter().map(|s| jwk(*s)).collect::<Vec<_>>()}).to_string()
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims as current Pomerium writes them, valid for five minutes, with a custom claim.
pub fn claims() -> Value {
    let now = now();
    json!({
        "aud": AUD, "email": "alice@example.com", "exp": now + 300, "groups": ["admins", "devs"],
        "iat": now, "iss": AUD, "jti": "5f0e9a3c", "name": "Alice", "sid": "b7c4e2d1",
        "sub": "alice-id-0001", "user": "alice-id-0001", "given_name": "Alice",
    })
}

pub fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

/// An ES256 token over `claims`, signed by the key of `seed`, with header kid `kid`.
pub fn sign_with_kid(seed: u8, kid: &str, claims: &Value) -> String {
    sign_with_header(seed, &json!({"alg": "ES256", "kid": kid, "typ": "JWT"}), claims)
}

/// An ES256 token with this header over `claims`, signed by the key of `seed`.
pub fn sign_with_header(seed: u8, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
        Base64UrlUnpadded::encode_string(claims.to_string().as_bytes()),
    );
    let signature: Signature = signing_key(seed).sign(input.as_bytes());
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature.to_bytes()))
}

/// A valid token signed by the key of `seed` under its own kid.
pub fn token(seed: u8) -> String {
    sign_with_kid(seed, &kid(seed), &claims())
}

/// What the JWKS server does with the next requests.
#[derive(Clone, Debug)]
pub enum Mode {
    /// `200` with this body.
    Serve(String),
    /// This status, empty body.
    Status(u16),
    /// Waits this long, then serves the body.
    Slow(Duration, String),
    /// Closes the connection without an answer.
    Drop,
    /// Holds the answer until `release`, then serves the body.
    Gated(Arc<Notify>, String),
    /// `200` with the body, `ETag: etag` and `Cache-Control: cache_control`; `304` to a request
    /// whose `If-None-Match` is `etag`.
    Cached { body: String, etag: String, cache_control: String },
}

/// A JWKS server on 127.0.0.1 that counts the requests it receives.
#[derive(Clone)]
pub struct JwksServer {
    pub addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    hits: Arc<AtomicUsize>,
    /// The `If-None-Match` of each request, in order.
    if_none_match: Arc<Mutex<Vec<Option<String>>>>,
}

impl JwksServer {
    pub async fn start(mode: Mode) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = JwksServer {
            addr: listener.local_addr().unwrap(),
            mode: Arc::new(Mutex::new(mode)),
            hits: Arc::new(AtomicUsize::new(0)),
            if_none_match: Arc::new(Mutex::new(Vec::new())),
        };
        let shared = server.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                if matches!(*shared.mode.lock().unwrap(), Mode::Drop) {
                    shared.hits.fetch_add(1, Ordering::SeqCst);
                    drop(stream);
                    continue;
                }
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let shared = shared.clone();
                        let tag = request.headers().get("if-none-match").map(|v| v.to_str().unwrap().to_owned());
                        async move { Ok::<_, std::convert::Infallible>(shared.answer(tag).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        server
    }

    async fn answer(&self, if_none_match: Option<String>) -> axum::response::Response {
        self.if_none_match.lock().unwrap().push(if_none_match.clone());
        self.hits.fetch_add(1, Ordering::SeqCst);
        let mode = self.mode.lock().unwrap().clone();
        match mode {
            Mode::Serve(body) => body.into_response(),
            Mode::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
            Mode::Slow(delay, body) => {
                tokio::time::sleep(delay).await;
                body.into_response()
            }
            // Handled at accept: the connection is closed before any answer.
            Mode::Drop => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            Mode::Gated(gate, body) => {
                gate.notified().await;
                body.into_response()
            }
            Mode::Cached { body, etag, cache_control } => {
                let headers = [("etag", etag.clone()), ("cache-control", cache_control)];
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    (StatusCode::NOT_MODIFIED, headers).into_response()
                } else {
                    (headers, body).into_response()
                }
            }
        }
    }

    pub fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    /// The `If-None-Match` header of each request so far (`None` where there was none).
    pub fn if_none_match(&self) -> Vec<Option<String>> {
        self.if_none_match.lock().unwrap().clone()
    }

    /// How many requests reached the server.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    pub fn url(&self) -> String {
        format!("http://{}/.well-known/pomerium/jwks.json", self.addr)
    }
}

/// Waits until `done` holds, checking every 20 ms, for at most 20 s; false if it never did.
pub async fn eventually(mut done: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..1000 {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// Serves `router` on 127.0.0.1 at a free port.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A handler that reports what reached it: the identity the layer stored (read directly, not
/// through the fail-closed extractor) and any `X-Pomerium-Claim-*` header left; it counts calls.
pub fn reporting_app(layer: pomerium_jwt_tower::PomeriumJwtLayer, calls: Arc<AtomicUsize>) -> Router {
    let handler = move |request: axum::extract::Request| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let identity = request.extensions().get::<pomerium_jwt_tower::Identity>().map(|i| {
                json!({
                    "iss": i.iss, "aud": i.aud, "sub": i.sub, "email": i.email, "user": i.user,
                    "name": i.name, "sid": i.sid, "jti": i.jti, "groups": i.groups, "exp": i.exp,
                    "iat": i.iat, "nbf": i.nbf, "given_name": i.claim("given_name"),
                    "claims": i.claims(), "kid": i.kid, "key_index": i.key_index,
                    // The claims are read once and kept: the same map on every call.
                    "claims_kept": std::ptr::eq(i.claims().unwrap(), i.claims().unwrap()),
                })
            });
            let claim_headers: Vec<&str> = request
                .headers()
                .keys()
                .map(axum::http::HeaderName::as_str)
                .filter(|k| k.starts_with("x-pomerium-claim-"))
                .collect();
            axum::Json(json!({"identity": identity, "claim_headers": claim_headers}))
        }
    };
    Router::new().route("/", get(handler)).layer(layer)
}

/// One HTTP/1.1 request over a new connection: the status, the `Retry-After` header, the body.
pub async fn fetch(addr: SocketAddr, headers: &[(&str, &str)]) -> (StatusCode, Option<String>, String) {
    let (status, headers, body) = fetch_response(addr, headers).await;
    (status, headers.get("retry-after").map(|v| v.to_str().unwrap().to_owned()), body)
}

/// One HTTP/1.1 request over a new connection: the status, the headers, the body.
pub async fn fetch_response(addr: SocketAddr, headers: &[(&str, &str)]) -> (StatusCode, axum::http::HeaderMap, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut request = Request::get("/").header("host", addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender.send_request(request.body(Empty::<Bytes>::new()).unwrap()).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

pub async fn status(addr: SocketAddr, token: &str) -> StatusCode {
    fetch(addr, &[("X-Pomerium-Jwt-Assertion", token)]).await.0
}
