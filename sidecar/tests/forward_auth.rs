//! Mode 2 answered directly (the nginx and Caddy runs are in tests/e2e.sh).

use http::StatusCode;

use crate::common::*;

const ASSERTION: &str = "x-pomerium-jwt-assertion";
const OTHER: &str = "other.example.com";

async fn setup(name: &str) -> Sidecar {
    let keys = key_file(name, &[OLD]);
    let audiences = format!("{AUD},{OTHER}");
    Sidecar::start(
        name,
        &["--auth-only", "--key", keys.to_str().unwrap(), "--audience", &audiences, "--public-path", "/static/"],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_with_verified_claims_or_401() {
    let sidecar = setup("auth-only").await;
    let token = token();
    // Any path, any method: a question about the request in X-Forwarded-*.
    let response = send(
        sidecar.addr,
        get(
            "/any/path",
            "sidecar.internal",
            &[(ASSERTION, &token), ("x-forwarded-host", AUD), ("x-pomerium-claim-email", "m@x")],
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let h = response.headers().clone();
    assert_eq!(h.get_all("x-pomerium-claim-email").iter().collect::<Vec<_>>(), ["alice@example.com"]);
    assert_eq!(h["x-pomerium-claim-groups"], "admins,devs");
    assert_eq!(h["x-pomerium-claim-given_name"], "Alice");
    assert_eq!(body_text(response).await, "");

    // The host chooses the audience: a token for app.example.com sent to other.example.com fails.
    for (host, forwarded) in
        [(AUD, Some(OTHER)), (OTHER, None), ("unlisted.example.com", None), (AUD, Some("unlisted.example.com"))]
    {
        let mut headers = vec![(ASSERTION, token.as_str())];
        if let Some(f) = forwarded {
            headers.push(("x-forwarded-host", f));
        }
        let response = send(sidecar.addr, get("/", host, &headers)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{host} {forwarded:?}");
        assert!(response.headers().contains_key("www-authenticate"));
        assert!(!response.headers().keys().any(|k| k.as_str().starts_with("x-pomerium-claim-")));
        assert_eq!(body_text(response).await, "");
    }
    // A token for the other listed host, sent to it, passes.
    let other = sign(OLD, &claims_for(OTHER));
    let response =
        send(sidecar.addr, get("/", "sidecar", &[(ASSERTION, &other), ("x-forwarded-host", "OTHER.example.com:443")]))
            .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(send(sidecar.addr, get("/", AUD, &[])).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_paths_from_the_original_uri() {
    let sidecar = setup("auth-public").await;
    let ok = |uri: &'static str, header: &'static str| get("/auth", AUD, &[(header, uri)]);
    assert_eq!(send(sidecar.addr, ok("/static/app.js", "x-original-uri")).await.status(), StatusCode::OK);
    assert_eq!(send(sidecar.addr, ok("/static/app.js", "x-forwarded-uri")).await.status(), StatusCode::OK);
    for uri in ["/static/../admin", "/static/%2e%2e/admin", "/static/..\\admin", "/admin"] {
        let response = send(sidecar.addr, get("/auth", AUD, &[("x-original-uri", uri)])).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{uri}");
    }
    // The question's own path when the proxy sends none.
    assert_eq!(send(sidecar.addr, get("/static/x", AUD, &[])).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_keys_yet_is_503_with_retry_after() {
    let url = format!("http://127.0.0.1:{}/jwks.json", free_port());
    let sidecar =
        Sidecar::start("no-keys", &["--auth-only", "--key", &url, "--audience", AUD, "--start-without-keys"]).await;
    let response = send(sidecar.addr, get("/", AUD, &[(ASSERTION, &token())])).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let health = send(sidecar.admin.unwrap(), get("/healthz", "admin", &[])).await;
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuer_and_leeway_options() {
    let keys = key_file("issuer", &[OLD]);
    let keys = keys.to_str().unwrap();
    let authenticate = "https://authenticate.example.com";
    let with_issuer =
        Sidecar::start("issuer", &["--auth-only", "--key", keys, "--audience", AUD, "--issuer", authenticate]).await;
    let mut c = claims();
    c["iss"] = authenticate.into();
    let from_authenticate = sign(OLD, &c);
    assert_eq!(
        send(with_issuer.addr, get("/", AUD, &[(ASSERTION, &from_authenticate)])).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(with_issuer.addr, get("/", AUD, &[(ASSERTION, &token())])).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Expired 30 s ago: inside the default 60 s of leeway, outside 0.
    let mut c = claims();
    c["exp"] = (now() - 30).into();
    c["iat"] = (now() - 330).into();
    let recent = sign(OLD, &c);
    let default = Sidecar::start("leeway-default", &["--auth-only", "--key", keys, "--audience", AUD]).await;
    assert_eq!(send(default.addr, get("/", AUD, &[(ASSERTION, &recent)])).await.status(), StatusCode::OK);
    let strict = Sidecar::start("leeway-0", &["--auth-only", "--key", keys, "--audience", AUD, "--leeway", "0"]).await;
    assert_eq!(send(strict.addr, get("/", AUD, &[(ASSERTION, &recent)])).await.status(), StatusCode::UNAUTHORIZED);
}
