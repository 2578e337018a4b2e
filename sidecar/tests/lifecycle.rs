//! Start-up, configuration from the environment, the admin listener, and a graceful stop.

use std::time::Duration;

use http::StatusCode;

use crate::common::*;

const ASSERTION: &str = "x-pomerium-jwt-assertion";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_request_in_flight_finish_and_exits_0() {
    let upstream = Upstream::start().await;
    let keys = key_file("sigterm", &[OLD]);
    let url = format!("http://{}", upstream.addr);
    let sidecar =
        Sidecar::start("sigterm", &["--upstream", &url, "--key", keys.to_str().unwrap(), "--audience", AUD]).await;
    let addr = sidecar.addr;
    let request =
        tokio::spawn(async move { body_text(send(addr, get("/hold", AUD, &[(ASSERTION, &token())])).await).await });
    upstream.arrived.notified().await;
    sidecar.signal("TERM");
    // New connections are no longer served once the signal is handled.
    let mut refused = false;
    for _ in 0..200 {
        if try_send(addr, get("/", AUD, &[(ASSERTION, &token())])).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "still accepting after SIGTERM");
    upstream.gate.notify_one();
    assert_eq!(request.await.unwrap(), "held");
    let (status, log) = sidecar.exit().await;
    assert_eq!(status.code(), Some(0), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_variables_configure_like_flags() {
    let upstream = Upstream::start().await;
    let keys = key_file("env", &[OLD]);
    let port = free_port();
    let mut command = Sidecar::command();
    command
        .env("POMERIUM_JWT_LISTEN", "127.0.0.1:1") // the flag below wins
        .env("POMERIUM_JWT_UPSTREAM", format!("http://{}", upstream.addr))
        .env("POMERIUM_JWT_KEY", format!("{},{}", keys.display(), key_file("env2", &[NEW]).display()))
        .env("POMERIUM_JWT_AUDIENCE", format!("{AUD},other.example.com"))
        .env("POMERIUM_JWT_PUBLIC_PATH", "/pub/,/assets/")
        .env("POMERIUM_JWT_HEADER", "X-Token")
        .env("POMERIUM_JWT_AUTHORIZATION_BEARER", "true")
        .env("POMERIUM_JWT_LOG_FORMAT", "json")
        .args(["--listen", &format!("127.0.0.1:{port}")]);
    let sidecar = Sidecar::spawn("env", command, format!("127.0.0.1:{port}").parse().unwrap(), None).await;
    let new = sign(NEW, &claims());
    assert_eq!(send(sidecar.addr, get("/", AUD, &[("x-token", &token())])).await.status(), StatusCode::OK);
    assert_eq!(
        send(sidecar.addr, get("/", AUD, &[("authorization", &format!("Bearer {new}"))])).await.status(),
        StatusCode::OK
    );
    assert_eq!(send(sidecar.addr, get("/", AUD, &[(ASSERTION, &token())])).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        send(sidecar.addr, get("/", "unlisted", &[("x-token", &token())])).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send(sidecar.addr, get("/assets/x", "unlisted", &[])).await.status(), StatusCode::OK);
    assert_eq!(upstream.seen().len(), 3);
    let log = sidecar.log_text();
    let refused = log.lines().find(|l| l.contains("401")).unwrap_or_else(|| panic!("{log}"));
    let line: serde_json::Value = serde_json::from_str(refused).unwrap();
    assert_eq!(line["path"], "/");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_and_keys_exit_2_naming_the_cause() {
    let dir = scratch("exit2");
    let private = dir.join("private.pem");
    std::fs::write(&private, "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIA==\n-----END EC PRIVATE KEY-----\n").unwrap();
    let empty = dir.join("empty.json");
    std::fs::write(&empty, r#"{"keys": []}"#).unwrap();
    let good = key_file("exit2-good", &[OLD]);
    let good = good.to_str().unwrap();
    let down = format!("http://127.0.0.1:{}/jwks.json", free_port());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--auth-only", "--key", "/nonexistent/keys.json", "--audience", AUD], "/nonexistent/keys.json"),
        (vec!["--auth-only", "--key", private.to_str().unwrap(), "--audience", AUD], "private.pem"),
        (vec!["--auth-only", "--key", empty.to_str().unwrap(), "--audience", AUD], "empty.json"),
        (vec!["--auth-only", "--key", &down, "--audience", AUD], "jwks.json"),
        (vec!["--auth-only", "--key", "http://192.0.2.1/jwks.json", "--audience", AUD], "192.0.2.1"),
        (vec!["--auth-only", "--key", good], "--audience"),
        (vec!["--auth-only", "--key", good, "--audience", AUD, "--leeway", "soon"], "--leeway"),
        (vec!["--key", good, "--audience", AUD], "--upstream"),
        (vec!["--upstream", "https://127.0.0.1:1", "--key", good, "--audience", AUD], "https"),
    ];
    for (args, named) in cases {
        let output = Sidecar::command().args(["--listen", "127.0.0.1:0"]).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?} should name {named}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_health_and_metrics_never_on_the_proxied_port() {
    let upstream = Upstream::start().await;
    let keys = key_file("admin", &[OLD]);
    let url = format!("http://{}", upstream.addr);
    let sidecar =
        Sidecar::start("admin", &["--upstream", &url, "--key", keys.to_str().unwrap(), "--audience", AUD]).await;
    let admin = sidecar.admin.unwrap();
    assert_eq!(send(sidecar.addr, get("/", AUD, &[(ASSERTION, &token())])).await.status(), StatusCode::OK);
    assert_eq!(send(sidecar.addr, get("/", AUD, &[])).await.status(), StatusCode::UNAUTHORIZED);
    // On the proxied port these are ordinary requests, refused without a token.
    assert_eq!(send(sidecar.addr, get("/metrics", AUD, &[])).await.status(), StatusCode::UNAUTHORIZED);
    let health = send(admin, get("/healthz", "admin", &[])).await;
    assert_eq!(health.status(), StatusCode::OK);
    let metrics = body_text(send(admin, get("/metrics", "admin", &[])).await).await;
    assert!(metrics.contains(r#"pomerium_jwt_sidecar_requests_total{outcome="verified"} 1"#), "{metrics}");
    assert!(metrics.contains(r#"pomerium_jwt_sidecar_requests_total{outcome="refused"} 2"#), "{metrics}");
    assert!(metrics.contains("pomerium_jwt_sidecar_keys_loaded 1"), "{metrics}");
    assert!(metrics.contains("pomerium_jwt_sidecar_verification_seconds"), "{metrics}");
}
