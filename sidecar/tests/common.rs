//! Keys and tokens signed here with p256 (as the tower crate's tests sign), the sidecar binary
//! started on a free port of 127.0.0.1, a recording upstream, a JWKS server, an HTTP/1 client.

#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding};
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use pomerium_jwt::PublicKey;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::Notify;

pub const AUD: &str = "app.example.com";
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

pub fn jwks(seeds: &[u8]) -> String {
    json!({"keys": seeds.iter().map(|s| jwk(*s)).collect::<Vec<_>>()}).to_string()
}

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Claims as current Pomerium writes them for `aud`, valid five minutes, with a custom claim.
pub fn claims_for(aud: &str) -> Value {
    let now = now();
    json!({
        "aud": aud, "email": "alice@example.com", "exp": now + 300, "groups": ["admins", "devs"],
        "iat": now, "iss": aud, "jti": "5f0e9a3c", "name": "Alice", "sid": "b7c4e2d1",
        "sub": "alice-id-0001", "user": "alice-id-0001", "given_name": "Alice",
    })
}

pub fn claims() -> Value {
    claims_for(AUD)
}

pub fn sign(seed: u8, claims: &Value) -> String {
    let header = json!({"alg": "ES256", "kid": kid(seed), "typ": "JWT"});
    let input = format!(
        "{}.{}",
        Base64UrlUnpadded::encode_string(header.to_string().as_bytes()),
        Base64UrlUnpadded::encode_string(claims.to_string().as_bytes()),
    );
    let signature: Signature = signing_key(seed).sign(input.as_bytes());
    format!("{input}.{}", Base64UrlUnpadded::encode_string(&signature.to_bytes()))
}

pub fn token() -> String {
    sign(OLD, &claims())
}

/// A folder of its own under the target dir for a test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sidecar-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A JWKS file holding the keys of `seeds`.
pub fn key_file(name: &str, seeds: &[u8]) -> PathBuf {
    let path = scratch(name).join("jwks.json");
    std::fs::write(&path, jwks(seeds)).unwrap();
    path
}

/// A port nothing listens on now, for a child process to bind. Chosen below the kernel's
/// ephemeral range (32768 and up on Linux), which port-0 binds and outgoing connections draw
/// from: a server this process starts meanwhile cannot take it. Never the same twice here.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = std::process::id() % 6000;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = 20000 + ((base + n * 7) % 12000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The sidecar process; killed when dropped.
pub struct Sidecar {
    pub child: Child,
    pub addr: SocketAddr,
    pub admin: Option<SocketAddr>,
    pub log: PathBuf,
}

impl Drop for Sidecar {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sidecar {
    pub fn command() -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pomerium-jwt-sidecar"));
        for (name, _) in std::env::vars() {
            if name.starts_with("POMERIUM_JWT_") {
                command.env_remove(name);
            }
        }
        command
    }

    /// Starts the sidecar with `args` (plus `--listen` and `--admin-listen`) and waits until
    /// it accepts connections.
    pub async fn start(name: &str, args: &[&str]) -> Sidecar {
        let port = free_port();
        let admin_port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let admin = format!("127.0.0.1:{admin_port}");
        let mut command = Self::command();
        command.args(["--listen", &listen, "--admin-listen", &admin]).args(args);
        Self::spawn(name, command, listen.parse().unwrap(), Some(admin.parse().unwrap())).await
    }

    pub async fn spawn(name: &str, mut command: Command, addr: SocketAddr, admin: Option<SocketAddr>) -> Sidecar {
        let log = scratch(name).join("sidecar.log");
        let file = std::fs::File::create(&log).unwrap();
        let child = command.stdout(Stdio::null()).stderr(file).spawn().unwrap();
        let mut sidecar = Sidecar { child, addr, admin, log };
        for _ in 0..400 {
            if TcpStream::connect(addr).await.is_ok() {
                return sidecar;
            }
            if let Some(status) = sidecar.child.try_wait().unwrap() {
                panic!("sidecar exited {status}: {}", sidecar.log_text());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("sidecar did not listen on {addr}: {}", sidecar.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Resident memory now, in KiB (Linux).
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Waits for the process to exit: its status and its log.
    pub async fn exit(mut self) -> (std::process::ExitStatus, String) {
        tokio::task::spawn_blocking(move || {
            let status = self.child.wait().unwrap();
            (status, self.log_text())
        })
        .await
        .unwrap()
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }
}

pub type TestBody = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

pub fn full(bytes: impl Into<Bytes>) -> TestBody {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

pub fn empty() -> TestBody {
    full(Bytes::new())
}

/// `n` bytes in 64 KiB chunks, made as they are read.
pub fn generated(n: u64) -> TestBody {
    const CHUNK: u64 = 64 * 1024;
    let chunk = Bytes::from(vec![b'x'; CHUNK as usize]);
    let frames = futures_util::stream::unfold(0u64, move |sent| {
        let chunk = chunk.clone();
        async move {
            (sent < n).then(|| {
                let len = CHUNK.min(n - sent);
                (
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Frame::data(chunk.slice(..len as usize))),
                    sent + len,
                )
            })
        }
    });
    StreamBody::new(frames).boxed()
}

/// One request on a fresh connection to `addr`.
pub async fn send(addr: SocketAddr, request: Request<TestBody>) -> Response<Incoming> {
    try_send(addr, request).await.unwrap()
}

pub async fn try_send(addr: SocketAddr, request: Request<TestBody>) -> Result<Response<Incoming>, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
    tokio::spawn(connection);
    sender.send_request(request).await.map_err(|e| e.to_string())
}

/// A GET of `path` with `host` and these extra headers.
pub fn get(path: &str, host: &str, headers: &[(&str, &str)]) -> Request<TestBody> {
    let mut builder = Request::get(path).header("host", host);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(empty()).unwrap()
}

pub async fn body_text(response: Response<Incoming>) -> String {
    String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// One request on a fresh connection to the Unix socket at `path`.
pub async fn send_unix(path: &std::path::Path, request: Request<TestBody>) -> Response<Incoming> {
    let stream = tokio::net::UnixStream::connect(path).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    sender.send_request(request).await.unwrap()
}

/// Starts the sidecar on the Unix socket `socket` with `args` (and an admin listener, whose
/// address is the returned `addr`), and waits until the socket accepts connections.
pub async fn start_unix(name: &str, socket: &std::path::Path, args: &[&str]) -> Sidecar {
    let admin: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut command = Sidecar::command();
    let listen = format!("unix:{}", socket.display());
    command.args(["--listen", &listen, "--admin-listen", &admin.to_string()]).args(args);
    let log = scratch(name).join("sidecar.log");
    let child = command.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
    let mut sidecar = Sidecar { child, addr: admin, admin: Some(admin), log };
    for _ in 0..400 {
        if tokio::net::UnixStream::connect(socket).await.is_ok() {
            return sidecar;
        }
        if let Some(status) = sidecar.child.try_wait().unwrap() {
            panic!("sidecar exited {status}: {}", sidecar.log_text());
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("sidecar did not listen on {}: {}", socket.display(), sidecar.log_text());
}

/// What the upstream received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
    pub body_len: u64,
}

/// A test upstream on 127.0.0.1 that records what reaches it. Paths:
/// `/download/N` streams N bytes; `/sse` sends one event, waits for `gate`, sends another;
/// `/hold` waits for `gate` before answering; `/slow` answers after 30 s; `/ws` echoes a
/// WebSocket; anything else answers `ok` after reading the whole body.
#[derive(Clone)]
pub struct Upstream {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub gate: Arc<Notify>,
    pub arrived: Arc<Notify>,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = Upstream {
            addr: listener.local_addr().unwrap(),
            seen: Arc::default(),
            gate: Arc::new(Notify::new()),
            arrived: Arc::new(Notify::new()),
        };
        let shared = upstream.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(shared.answer(request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        upstream
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    async fn answer(&self, mut request: Request<Incoming>) -> Response<TestBody> {
        let path = request.uri().path().to_owned();
        let mut seen = Seen {
            method: request.method().to_string(),
            uri: request.uri().to_string(),
            headers: request.headers().clone(),
            body_len: 0,
        };
        if path == "/ws" {
            self.seen.lock().unwrap().push(seen);
            return websocket_echo(&mut request);
        }
        let (_, mut body) = request.into_parts();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                seen.body_len += data.len() as u64;
            }
        }
        self.seen.lock().unwrap().push(seen);
        self.arrived.notify_one();
        match path.as_str() {
            p if p.starts_with("/download/") => Response::new(generated(p[10..].parse().unwrap())),
            "/sse" => {
                let gate = self.gate.clone();
                let events = futures_util::stream::unfold(0, move |n| {
                    let gate = gate.clone();
                    async move {
                        match n {
                            0 => Some((Ok(Frame::data(Bytes::from("data: one\n\n"))), 1)),
                            1 => {
                                gate.notified().await;
                                Some((Ok(Frame::data(Bytes::from("data: two\n\n"))), 2))
                            }
                            _ => None,
                        }
                    }
                });
                let mut response = Response::new(StreamBody::new(events).boxed());
                response.headers_mut().insert("content-type", "text/event-stream".parse().unwrap());
                response
            }
            "/hold" => {
                self.gate.notified().await;
                Response::new(full("held"))
            }
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Response::new(full("slow"))
            }
            _ => {
                let mut response = Response::new(full("ok"));
                response.headers_mut().insert("connection", "x-upstream-hop".parse().unwrap());
                response.headers_mut().insert("x-upstream-hop", "1".parse().unwrap());
                response.headers_mut().insert("keep-alive", "timeout=5".parse().unwrap());
                response
            }
        }
    }
}

fn websocket_echo(request: &mut Request<Incoming>) -> Response<TestBody> {
    use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
    use tokio_tungstenite::tungstenite::protocol::Role;
    let key = request.headers().get("sec-websocket-key").unwrap().as_bytes().to_vec();
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        let upgraded = upgrade.await.unwrap();
        let mut ws =
            tokio_tungstenite::WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        use futures_util::{SinkExt, StreamExt};
        while let Some(Ok(message)) = ws.next().await {
            if message.is_text() || message.is_binary() {
                ws.send(message).await.unwrap();
            }
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", derive_accept_key(&key))
        .body(empty())
        .unwrap()
}

/// A JWKS server whose document the test replaces.
#[derive(Clone)]
pub struct JwksServer {
    pub addr: SocketAddr,
    pub document: Arc<Mutex<String>>,
    pub hits: Arc<Mutex<usize>>,
}

impl JwksServer {
    pub async fn start(document: String) -> JwksServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = JwksServer {
            addr: listener.local_addr().unwrap(),
            document: Arc::new(Mutex::new(document)),
            hits: Arc::default(),
        };
        let shared = server.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |_request: Request<Incoming>| {
                        let shared = shared.clone();
                        async move {
                            *shared.hits.lock().unwrap() += 1;
                            let body = shared.document.lock().unwrap().clone();
                            Ok::<_, Infallible>(Response::new(full(body)))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        server
    }

    pub fn url(&self) -> String {
        format!("http://{}/.well-known/pomerium/jwks.json", self.addr)
    }
}
