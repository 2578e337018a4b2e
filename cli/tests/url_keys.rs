//! `--key URL`: the built binary against HTTP servers on 127.0.0.1 that the tests start, each
//! answering a bounded number of connections: a key served, through a redirect, a 404, a server
//! that never answers, a body over the cap, redirects that go too far or leave loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects, missing_docs, unreachable_pub)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_pomerium-jwt");

fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file)
}

/// What the server answers to a path.
enum Reply {
    /// A complete HTTP/1.1 response.
    Raw(Vec<u8>),
    /// Holds the connection open without answering.
    Hang,
}

fn ok(body: &[u8]) -> Reply {
    let mut response =
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n", body.len()).into_bytes();
    response.extend_from_slice(body);
    Reply::Raw(response)
}

fn status(code: u16, extra: &str) -> Reply {
    Reply::Raw(format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n{extra}\r\n").into_bytes())
}

struct Server {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
}

/// Serves at most 8 connections on 127.0.0.1, answering each with `reply(path)`.
fn serve(reply: impl Fn(&str) -> Reply + Send + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            counted.fetch_add(1, Ordering::SeqCst);
            let path = read_request(&mut stream);
            match reply(&path) {
                // The client may close early (a body over its cap): write errors are expected.
                Reply::Raw(bytes) => drop(stream.write_all(&bytes)),
                Reply::Hang => std::thread::sleep(Duration::from_secs(10)),
            }
        }
    });
    Server { addr, hits }
}

/// The request's path; reads the head only (a GET has no body).
fn read_request(stream: &mut TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head);
    head.split(' ').nth(1).unwrap_or("/").to_owned()
}

/// `verify --key URL` of the bundled OpenSSL token at its time, with `env` set.
fn verify(url: &str, env: &[(&str, &str)]) -> Output {
    let token = std::fs::read(data("openssl/tokens/openssl_typical.jwt")).unwrap();
    let mut child = Command::new(BIN)
        .args(["verify", "--key", url, "--audience", "app.example.com", "--now", "1700000100"])
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The tool loads the keys first and may exit before reading the token: a broken pipe is fine.
    drop(child.stdin.take().unwrap().write_all(&token));
    child.wait_with_output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn key() -> Vec<u8> {
    std::fs::read(data("openssl/ec_public.pem")).unwrap()
}

#[test]
fn a_key_served_over_http_on_loopback_verifies_like_the_file() {
    let key = key();
    let server = serve(move |_| ok(&key));
    let output = verify(&format!("http://{}/ec_public.pem", server.addr), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let from_file = verify(data("openssl/ec_public.pem").to_str().unwrap(), &[]);
    assert_eq!(output.stdout, from_file.stdout);
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
}

#[test]
fn up_to_three_redirects_are_followed() {
    let key = key();
    let server = serve(move |path| match path {
        "/a" => status(302, "location: /b\r\n"),
        "/b" => status(301, "location: c\r\n"),
        "/c" => status(307, "location: /key.pem\r\n"),
        _ => ok(&key),
    });
    let output = verify(&format!("http://localhost:{}/a", server.addr.port()), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.hits.load(Ordering::SeqCst), 4);

    let server = serve(|_| status(302, "location: /again\r\n"));
    let url = format!("http://{}/again", server.addr);
    let output = verify(&url, &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("more than 3 redirects") && stderr(&output).contains(&url), "{}", stderr(&output));
    assert_eq!(server.hits.load(Ordering::SeqCst), 4, "the first request and three redirects");
}

#[test]
fn a_404_exits_2_naming_the_status_and_the_url() {
    let server = serve(|_| status(404, ""));
    let url = format!("http://{}/.well-known/pomerium/jwks.json", server.addr);
    let output = verify(&url, &[]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("404") && message.contains(&url), "{message}");
    assert!(output.stdout.is_empty());
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = serve(|_| Reply::Hang);
    let url = format!("http://{}/jwks.json", server.addr);
    let output = verify(&url, &[("POMERIUM_JWT_KEY_TIMEOUT_MS", "500")]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("timed out") && message.contains(&url), "{message}");
}

#[test]
fn a_body_over_the_key_file_cap_is_refused() {
    let server = serve(|_| {
        let len = (4 << 20) + 1;
        let mut response =
            format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\nconnection: close\r\n\r\n").into_bytes();
        response.resize(response.len() + len, b' ');
        Reply::Raw(response)
    });
    let url = format!("http://{}/jwks.json", server.addr);
    let output = verify(&url, &[]);
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("larger than 4194304 bytes") && message.contains(&url), "{message}");
}

#[test]
fn plain_http_never_leaves_loopback() {
    // 0.0.0.0 is not a loopback address, so it is refused; were it fetched, Linux would connect
    // it to this machine, and the server below would count the request.
    let key = key();
    let target = serve(move |_| ok(&key));
    let port = target.addr.port();
    let output = verify(&format!("http://0.0.0.0:{port}/jwks.json"), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("loopback"), "{}", stderr(&output));

    let server = serve(move |_| status(302, &format!("location: http://0.0.0.0:{port}/jwks.json\r\n")));
    let output = verify(&format!("http://{}/jwks.json", server.addr), &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("refused"), "{}", stderr(&output));
    assert_eq!(server.hits.load(Ordering::SeqCst), 1);
    assert_eq!(target.hits.load(Ordering::SeqCst), 0, "a non-loopback http URL was fetched");
}
