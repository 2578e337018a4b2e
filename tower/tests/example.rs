//! `examples/axum.rs`, the service `embed/axum` used to be, run as a program: from a key file,
//! from a JWKS URL, and refusing a private key.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use axum::http::StatusCode;

use crate::common::*;

/// The example's binary, which `cargo test` builds beside the test binaries; `None` when only
/// this test target was built (`cargo test --test integration`).
fn example() -> Option<PathBuf> {
    let deps = std::env::current_exe().ok()?.parent()?.to_path_buf();
    let path = deps.parent()?.join("examples").join(format!("axum{}", std::env::consts::EXE_SUFFIX));
    if path.exists() {
        Some(path)
    } else {
        // CI runs `cargo test`, which builds it: there a missing binary is a failure, not a skip.
        assert!(std::env::var_os("CI").is_none(), "{} was not built", path.display());
        eprintln!("skipped: {} not built (cargo test builds it; --test alone does not)", path.display());
        None
    }
}

/// Kills the child when dropped, so a failed assertion leaves no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the example with `--key key`; the address it listens on.
fn start(binary: &PathBuf, key: &str) -> (Running, SocketAddr) {
    let child = Command::new(binary)
        .args(["--listen", "127.0.0.1:0", "--audience", AUD, "--key", key])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let mut line = String::new();
    std::io::BufReader::new(running.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    // "listening on http://127.0.0.1:PORT (...)"
    let addr = line.split("http://").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    (running, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_serves_from_a_key_file_and_from_a_jwks_url() {
    let Some(binary) = example() else { return };
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tower-example.jwks.json");
    std::fs::write(&file, jwks(&[OLD])).unwrap();
    let (_running, addr) = start(&binary, file.to_str().unwrap());
    let (code, _, body) = fetch(addr, &[("X-Pomerium-Jwt-Assertion", &token(OLD))]).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap()["sub"], "alice-id-0001");
    assert_eq!(fetch(addr, &[("X-Pomerium-Claim-Email", "alice@example.com")]).await.0, StatusCode::UNAUTHORIZED);

    let server = JwksServer::start(Mode::Serve(jwks(&[NEW]))).await;
    let (_running, addr) = start(&binary, &server.url());
    assert_eq!(status(addr, &token(NEW)).await, StatusCode::OK);
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::UNAUTHORIZED);
}

#[test]
fn the_example_refuses_a_private_key_at_start_up() {
    let Some(binary) = example() else { return };
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tower-example.private.pem");
    std::fs::write(&file, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n").unwrap();
    let output =
        Command::new(binary).args(["--listen", "127.0.0.1:0", "--audience", AUD, "--key"]).arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("public key"));
}
