//! Starts the example service on 127.0.0.1 and sends it real HTTP requests: a valid token, no
//! header, forged unsigned identity headers only, an expired token, a token for another
//! audience, a tampered signature, and more. Tokens are signed here, at the real current time,
//! with fixed test keys; the service gets the public key as a JWKS or PEM file, as in production.

// Test code: a failed unwrap or index is a failed test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use pomerium_jwt::PublicKey;
use pomerium_jwt_axum::{Identity, PomeriumAuth, app, protect};
use serde_json::{Value, json};

const AUD: &str = "app.example.com";
/// The service's key; `ATTACKER` signs with a key the service does not have.
const SERVICE: u8 = 7;
const ATTACKER: u8 = 9;

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn public_key(seed: u8) -> PublicKey {
    PublicKey::from_sec1(signing_key(seed).verifying_key().to_sec1_point(false).as_bytes()).unwrap()
}

fn kid(seed: u8) -> String {
    public_key(seed).pomerium_kid().as_str().to_owned()
}

/// The key as Pomerium serves it at `/.well-known/pomerium/jwks.json`.
fn jwks(seed: u8) -> String {
    let point = public_key(seed).to_sec1_uncompressed();
    let (x, y) = point[1..].split_at(32);
    json!({"keys": [{
        "use": "sig", "kty": "EC", "kid": kid(seed), "crv": "P-256", "alg": "ES256",
        "x": Base64UrlUnpadded::encode_string(x), "y": Base64UrlUnpadded::encode_string(y),
    }]})
    .to_string()
}

/// The key as `openssl ec -pubout` writes it.
fn pem(seed: u8) -> String {
    // DER SubjectPublicKeyInfo header for an uncompressed P-256 point (id-ecPublicKey, prime256v1).
    let mut der = vec![
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
        0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    der.extend_from_slice(&public_key(seed).to_sec1_uncompressed());
    let body = Base64::encode_string(&der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|l| std::str::from_utf8(l).unwrap()).collect();
    format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", lines.join("\n"))
}

/// Writes `contents` to a file of its own in cargo's scratch directory for tests (under target/).
fn key_file(name: &str, contents: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims as current Pomerium writes them, issued now and valid for five minutes.
fn claims() -> Value {
    let now = now();
    json!({
        "aud": AUD, "email": "alice@example.com", "exp": now + 300, "groups": ["admins", "devs"],
        "iat": now, "iss": AUD, "jti": "5f0e9a3c", "name": "Alice", "sid": "b7c4e2d1",
        "sub": "alice-id-0001", "user": "alice-id-0001",
    })
}

/// An ES256 token over `claims`, signed by the key of `seed` under the kid of `kid_seed`.
fn sign_as(seed: u8, kid_seed: u8, claims: &Value) -> String {
    let header = json!({"alg": "ES256", "kid": kid(kid_seed), "typ": "JWT"});
    let input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
        Base64UrlUnpadded::encode_string(claims.to_string().as_bytes()),
    );
    let signature: Signature = signing_key(seed).sign(input.as_bytes());
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature.to_bytes()))
}

fn sign(claims: &Value) -> String {
    sign_as(SERVICE, SERVICE, claims)
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

/// Serves `router` on 127.0.0.1 at a free port, in the background of the test's runtime.
async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// The service of `src/main.rs`, with the service key loaded from a JWKS file.
async fn start() -> SocketAddr {
    let auth = PomeriumAuth::from_key_file(key_file("service.jwks.json", &jwks(SERVICE)), AUD).unwrap();
    serve(app(Arc::new(auth))).await
}

/// One real HTTP/1.1 request over a new TCP connection; the status and the body.
async fn fetch(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> (StatusCode, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut request = Request::get(path).header("host", addr.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender.send_request(request.body(Empty::<Bytes>::new()).unwrap()).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

fn assertion(token: &str) -> [(&str, &str); 1] {
    [("X-Pomerium-Jwt-Assertion", token)]
}

const FORGED_CLAIM_HEADERS: [(&str, &str); 4] = [
    ("X-Pomerium-Claim-Email", "mallory@example.com"),
    ("X-Pomerium-Claim-Sub", "alice-id-0001"),
    ("X-Pomerium-Claim-User", "alice-id-0001"),
    ("X-Pomerium-Claim-Groups", "admins"),
];

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_identity() {
    let addr = start().await;
    let (status, body) = fetch(addr, "/whoami", &assertion(&sign(&claims()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let identity: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(identity["sub"], "alice-id-0001");
    assert_eq!(identity["email"], "alice@example.com");
    assert_eq!(identity["user"], "alice-id-0001");
    assert_eq!(identity["name"], "Alice");
    assert_eq!(identity["groups"], json!(["admins", "devs"]));
    assert_eq!(identity["iss"], AUD);
}

#[tokio::test]
async fn no_header_is_401() {
    let addr = start().await;
    let (status, body) = fetch(addr, "/whoami", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("X-Pomerium-Jwt-Assertion"), "{body}");
}

#[tokio::test]
async fn forged_unsigned_identity_headers_alone_are_401() {
    let addr = start().await;
    let (status, body) = fetch(addr, "/whoami", &FORGED_CLAIM_HEADERS).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn an_expired_token_is_401() {
    let addr = start().await;
    let now = now();
    // Expired two minutes ago: beyond the 60 s leeway.
    let expired = with(with(claims(), "iat", json!(now - 600)), "exp", json!(now - 120));
    let (status, _) = fetch(addr, "/whoami", &assertion(&sign(&expired))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Within the leeway it still passes, so the 401 above is the clock's doing.
    let just_expired = with(with(claims(), "iat", json!(now - 600)), "exp", json!(now - 30));
    let (status, _) = fetch(addr, "/whoami", &assertion(&sign(&just_expired))).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_token_for_another_audience_is_401() {
    let addr = start().await;
    let other = with(with(claims(), "aud", json!("other.example.com")), "iss", json!("other.example.com"));
    let (status, _) = fetch(addr, "/whoami", &assertion(&sign(&other))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_tampered_token_is_401() {
    let addr = start().await;
    let token = sign(&claims());
    let (input, signature) = token.rsplit_once('.').unwrap();

    // One bit of the signature flipped.
    let mut bytes = Base64UrlUnpadded::decode_vec(signature).unwrap();
    bytes[7] ^= 0x01;
    let flipped = format!("{input}.{}", Base64UrlUnpadded::encode_string(&bytes));
    assert_eq!(fetch(addr, "/", &assertion(&flipped)).await.0, StatusCode::UNAUTHORIZED);

    // Other claims under the original signature.
    let (header, _) = input.split_once('.').unwrap();
    let mallory = with(claims(), "email", json!("mallory@example.com"));
    let payload = Base64UrlUnpadded::encode_string(mallory.to_string().as_bytes());
    let swapped = format!("{header}.{payload}.{signature}");
    assert_eq!(fetch(addr, "/", &assertion(&swapped)).await.0, StatusCode::UNAUTHORIZED);

    // A well-formed token signed by a key the service does not have, under the service's kid.
    let forged = sign_as(ATTACKER, SERVICE, &claims());
    assert_eq!(fetch(addr, "/", &assertion(&forged)).await.0, StatusCode::UNAUTHORIZED);

    // No signature at all.
    let unsigned = format!("{input}.");
    assert_eq!(fetch(addr, "/", &assertion(&unsigned)).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn two_assertion_headers_are_401_even_if_one_is_valid() {
    let addr = start().await;
    let valid = sign(&claims());
    let headers = [("X-Pomerium-Jwt-Assertion", valid.as_str()), ("X-Pomerium-Jwt-Assertion", valid.as_str())];
    assert_eq!(fetch(addr, "/", &headers).await.0, StatusCode::UNAUTHORIZED);
}

/// A handler that counts every request that reaches it and reports what it saw: the identity
/// the middleware stored (read directly, not through the fail-closed `Identity` extractor, so
/// that a request let through without one would show), and any `X-Pomerium-Claim-*` header left.
fn counting_app(auth: PomeriumAuth, calls: Arc<AtomicUsize>) -> Router {
    let handler = move |request: axum::extract::Request| {
        let calls = calls.clone();
        async move {
            calls.fetch_add(1, Ordering::SeqCst);
            let identity = request.extensions().get::<Identity>().map(Identity::to_json);
            let claim_headers: Vec<&str> =
                request.headers().keys().map(|k| k.as_str()).filter(|k| k.starts_with("x-pomerium-claim-")).collect();
            axum::Json(json!({"identity": identity, "claim_headers": claim_headers}))
        }
    };
    protect(Router::new().route("/", get(handler)), Arc::new(auth))
}

#[tokio::test]
async fn rejected_requests_never_reach_the_handler_and_forged_headers_are_dropped() {
    let calls = Arc::new(AtomicUsize::new(0));
    let auth = PomeriumAuth::from_key_file(key_file("counting.jwks.json", &jwks(SERVICE)), AUD).unwrap();
    let addr = serve(counting_app(auth, calls.clone())).await;

    let expired = sign(&with(with(claims(), "iat", json!(now() - 900)), "exp", json!(now() - 600)));
    let other_audience = sign(&with(claims(), "aud", json!("other.example.com")));
    let wrong_key = sign_as(ATTACKER, SERVICE, &claims());
    for (what, headers) in [
        ("no header", vec![]),
        ("forged headers", FORGED_CLAIM_HEADERS.to_vec()),
        ("expired", assertion(&expired).to_vec()),
        ("other audience", assertion(&other_audience).to_vec()),
        ("wrong key", assertion(&wrong_key).to_vec()),
        ("garbage", vec![("X-Pomerium-Jwt-Assertion", "not-a-jwt")]),
    ] {
        assert_eq!(fetch(addr, "/", &headers).await.0, StatusCode::UNAUTHORIZED, "{what}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "a rejected request reached the handler");

    // A valid token with forged headers beside it: the identity comes from the token, and the
    // handler never sees the unsigned headers.
    let valid = sign(&claims());
    let mut headers = FORGED_CLAIM_HEADERS.to_vec();
    headers.push(("X-Pomerium-Jwt-Assertion", &valid));
    let (status, body) = fetch(addr, "/", &headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let seen: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seen["identity"]["email"], "alice@example.com");
    assert_eq!(seen["claim_headers"], json!([]));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_route_outside_the_layer_fails_closed() {
    // `Identity` is an extractor: without the middleware there is none, so the handler refuses.
    let router = Router::new().route("/", get(|identity: Identity| async move { identity.to_json().to_string() }));
    let addr = serve(router).await;
    assert_eq!(fetch(addr, "/", &assertion(&sign(&claims()))).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn keys_load_from_pem_and_bad_key_files_are_refused() {
    let auth = PomeriumAuth::from_key_file(key_file("service.pem", &pem(SERVICE)), AUD).unwrap();
    assert_eq!(auth.key_count(), 1);
    let addr = serve(app(Arc::new(auth))).await;
    let (status, body) = fetch(addr, "/", &assertion(&sign(&claims()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The repository's fixtures: a PEM public key loads; a private key is refused with advice.
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/python");
    assert_eq!(PomeriumAuth::from_key_file(data.join("key1.pub.pem"), AUD).unwrap().key_count(), 1);
    let refused = PomeriumAuth::from_key_file(data.join("key1.private.pem"), AUD).unwrap_err();
    assert!(refused.to_string().contains("public key"), "{refused}");
    let empty = PomeriumAuth::from_key_file(key_file("empty.jwks.json", r#"{"keys":[]}"#), AUD).unwrap_err();
    assert!(empty.to_string().contains("no P-256"), "{empty}");
}

/// Kills the child process when dropped, so a failed assertion leaves no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_serves_with_a_key_file_from_its_arguments() {
    use std::io::BufRead;
    let key = key_file("binary.jwks.json", &jwks(SERVICE));
    let child = Command::new(env!("CARGO_BIN_EXE_pomerium-jwt-axum"))
        .args(["--listen", "127.0.0.1:0", "--audience", AUD, "--key"])
        .arg(&key)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line).unwrap();
    // "listening on http://127.0.0.1:PORT (...)"
    let addr: SocketAddr = line.split("http://").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();

    let (status, body) = fetch(addr, "/whoami", &assertion(&sign(&claims()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["sub"], "alice-id-0001");
    assert_eq!(fetch(addr, "/whoami", &FORGED_CLAIM_HEADERS).await.0, StatusCode::UNAUTHORIZED);
}

#[test]
fn the_binary_refuses_a_private_key_at_start_up() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/python");
    let output = Command::new(env!("CARGO_BIN_EXE_pomerium-jwt-axum"))
        .args(["--listen", "127.0.0.1:0", "--audience", AUD, "--key"])
        .arg(data.join("key1.private.pem"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("public key"));
}
