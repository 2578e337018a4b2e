//! `--listen unix:PATH`: both modes over a Unix socket, the socket's mode, a stale socket
//! replaced, anything else at the path refused and left alone, the file removed at exit.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::time::Duration;

use http::StatusCode;

use crate::common::*;

const ASSERTION: &str = "x-pomerium-jwt-assertion";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_auth_over_a_unix_socket() {
    let keys = key_file("unix-auth", &[OLD]);
    let socket = scratch("unix-auth").join("sidecar.sock");
    let sidecar =
        start_unix("unix-auth", &socket, &["--auth-only", "--key", keys.to_str().unwrap(), "--audience", AUD]).await;
    let meta = std::fs::symlink_metadata(&socket).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o666, "the reach of a loopback port");

    let response = send_unix(&socket, get("/", AUD, &[(ASSERTION, &token())])).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-pomerium-claim-email"], "alice@example.com");
    let response = send_unix(&socket, get("/", AUD, &[(ASSERTION, &sign(ATTACKER, &claims()))])).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let started = format!("listen=unix:{}", socket.display());
    assert!(sidecar.log_text().contains(&started), "{}", sidecar.log_text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverse_proxy_over_a_unix_socket_appends_no_address() {
    let upstream = Upstream::start().await;
    let keys = key_file("unix-proxy", &[OLD]);
    let socket = scratch("unix-proxy").join("sidecar.sock");
    let url = format!("http://{}", upstream.addr);
    let _sidecar =
        start_unix("unix-proxy", &socket, &["--upstream", &url, "--key", keys.to_str().unwrap(), "--audience", AUD])
            .await;
    let headers = [(ASSERTION, token()), ("x-forwarded-for", "203.0.113.7".to_owned())];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let response = send_unix(&socket, get("/p", AUD, &headers)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "ok");
    let seen = upstream.seen().pop().unwrap();
    // The client is a process on this host, not a network hop: the chain is passed on as sent.
    assert_eq!(seen.headers.get_all("x-forwarded-for").iter().collect::<Vec<_>>(), ["203.0.113.7"]);
    assert_eq!(seen.headers["x-pomerium-claim-email"], "alice@example.com");

    let response = send_unix(&socket, get("/p", AUD, &[])).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(upstream.seen().len(), 1, "a refused request reached the app");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_socket_is_replaced_and_removed_at_exit() {
    let keys = key_file("unix-stale", &[OLD]);
    let socket = scratch("unix-stale").join("sidecar.sock");
    // What a killed earlier run leaves: a socket file nobody listens on.
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    assert!(socket.exists());
    let sidecar =
        start_unix("unix-stale", &socket, &["--auth-only", "--key", keys.to_str().unwrap(), "--audience", AUD]).await;
    assert_eq!(send_unix(&socket, get("/", AUD, &[(ASSERTION, &token())])).await.status(), StatusCode::OK);
    sidecar.signal("TERM");
    let (status, log) = sidecar.exit().await;
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(!socket.exists(), "the socket file outlived the sidecar");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anything_but_a_socket_at_the_path_is_refused_and_kept() {
    let keys = key_file("unix-file", &[OLD]);
    let dir = scratch("unix-file");
    let file = dir.join("not-a-socket");
    std::fs::write(&file, "precious").unwrap();
    for (listen, expected) in [
        (format!("unix:{}", file.display()), "not a socket"),
        ("unix:".to_owned(), "needs a path"),
        (format!("unix:{}", dir.join("missing").join("s.sock").display()), "No such file"),
        ("localhost:8080".to_owned(), "neither an address"),
    ] {
        let output = tokio::time::timeout(
            Duration::from_secs(20),
            tokio::process::Command::from(Sidecar::command())
                .args(["--auth-only", "--listen", &listen, "--key", keys.to_str().unwrap(), "--audience", AUD])
                .output(),
        )
        .await
        .unwrap()
        .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{listen}: {stderr}");
        assert!(stderr.contains(expected), "{listen}: {stderr}");
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
}
