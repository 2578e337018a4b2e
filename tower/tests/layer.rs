//! What the layer lets through, what it refuses, and what handlers see.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use base64ct::{Base64UrlUnpadded, Encoding};
use pomerium_jwt_tower::{Identity, Keys, PomeriumJwtLayer, Reason, Rejection, Tables};
use serde_json::{Value, json};

use crate::common::*;

const FORGED_CLAIM_HEADERS: [(&str, &str); 3] = [
    ("X-Pomerium-Claim-Email", "mallory@example.com"),
    ("X-Pomerium-Claim-Groups", "admins"),
    ("x-pomerium-claim-user", "alice-id-0001"),
];

fn layer() -> PomeriumJwtLayer {
    PomeriumJwtLayer::new(Keys::from_bytes(jwks(&[OLD]).as_bytes()).unwrap(), AUD)
}

async fn start(layer: PomeriumJwtLayer) -> (std::net::SocketAddr, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    (serve(reporting_app(layer, calls.clone())).await, calls)
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_every_claim_and_no_forged_header() {
    let (addr, calls) = start(layer()).await;
    // One set of claims, signed and compared: made twice, a second could pass in between.
    let claims = claims();
    let valid = sign_with_kid(OLD, &kid(OLD), &claims);
    let mut headers = FORGED_CLAIM_HEADERS.to_vec();
    headers.push(("X-Pomerium-Jwt-Assertion", &valid));
    let (status, _, body) = fetch(addr, &headers).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let seen: Value = serde_json::from_str(&body).unwrap();
    let identity = &seen["identity"];
    for name in ["iss", "sub", "email", "user", "name", "sid", "jti", "groups", "exp", "iat", "given_name"] {
        assert_eq!(identity[name], claims[name], "{name}");
    }
    assert_eq!(identity["aud"], json!([AUD]));
    assert_eq!(identity["nbf"], Value::Null);
    assert_eq!(identity["claims"], claims, "every claim, custom ones included");
    assert_eq!(identity["claims_kept"], true, "Identity::claims read the payload again");
    assert_eq!((identity["kid"].as_str(), identity["key_index"].as_u64()), (Some(kid(OLD).as_str()), Some(0)));
    assert_eq!(seen["claim_headers"], json!([]), "X-Pomerium-Claim-* must not reach the handler");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn missing_invalid_and_repeated_assertions_are_401_with_a_challenge_and_no_token_text() {
    let (addr, calls) = start(layer()).await;
    let now = now();
    let valid = token(OLD);
    let expired =
        sign_with_kid(OLD, &kid(OLD), &with(with(claims(), "iat", json!(now - 900)), "exp", json!(now - 600)));
    let other_audience = sign_with_kid(OLD, &kid(OLD), &with(claims(), "aud", json!("other.example.com")));
    let wrong_key = sign_with_kid(ATTACKER, &kid(OLD), &claims());
    let (input, signature) = valid.rsplit_once('.').unwrap();
    let mut bytes = Base64UrlUnpadded::decode_vec(signature).unwrap();
    bytes[7] ^= 1;
    let flipped = format!("{input}.{}", Base64UrlUnpadded::encode_string(&bytes));
    let bearer = format!("Bearer {valid}");
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no header", vec![]),
        ("forged claim headers only", FORGED_CLAIM_HEADERS.to_vec()),
        ("empty", vec![("X-Pomerium-Jwt-Assertion", "")]),
        ("garbage", vec![("X-Pomerium-Jwt-Assertion", "not-a-jwt")]),
        ("expired", vec![("X-Pomerium-Jwt-Assertion", &expired)]),
        ("other audience", vec![("X-Pomerium-Jwt-Assertion", &other_audience)]),
        ("signed by another key", vec![("X-Pomerium-Jwt-Assertion", &wrong_key)]),
        ("flipped signature bit", vec![("X-Pomerium-Jwt-Assertion", &flipped)]),
        ("two headers, both valid", vec![("X-Pomerium-Jwt-Assertion", &valid), ("X-Pomerium-Jwt-Assertion", &valid)]),
        ("valid token in Authorization only", vec![("Authorization", &bearer)]),
    ];
    for (what, headers) in cases {
        let (status, response_headers, body) = fetch_response(addr, &headers).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
        // RFC 9110 §15.5.2: a 401 carries a challenge.
        assert_eq!(response_headers["www-authenticate"], r#"Pomerium realm="app.example.com""#, "{what}");
        assert_eq!(response_headers["content-type"], "text/plain; charset=utf-8", "{what}");
        assert!(body.starts_with("401 Unauthorized") && body.lines().count() == 1, "{what}: {body:?}");
        // Nothing of what was sent comes back: no token piece, no reason (those go to tracing).
        for (_, value) in &headers {
            for piece in value.split(['.', ' ']).filter(|p| p.len() >= 8) {
                assert!(!body.contains(piece), "{what}: the body quotes the request");
            }
        }
        for reason in ["expired", "audience", "signature", "kid", "header"] {
            assert!(!body.to_lowercase().contains(reason), "{what}: the body gives the reason {reason}");
        }
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "a refused request reached the handler");
    // The same service lets the valid token through, so the 401s above are the token's doing.
    assert_eq!(status(addr, &valid).await, StatusCode::OK);
}

#[tokio::test]
async fn authorization_bearer_and_custom_headers() {
    let valid = token(OLD);
    let (addr, _) = start(layer().authorization_bearer()).await;
    for value in [format!("Bearer {valid}"), format!("bearer {valid}")] {
        assert_eq!(fetch(addr, &[("Authorization", &value)]).await.0, StatusCode::OK, "{value}");
    }
    let basic = format!("Basic {valid}");
    let bearer = format!("Bearer {valid}");
    for headers in [
        vec![("Authorization", basic.as_str())],
        vec![("X-Pomerium-Jwt-Assertion", valid.as_str())],
        vec![("Authorization", bearer.as_str()), ("Authorization", bearer.as_str())],
    ] {
        assert_eq!(fetch(addr, &headers).await.0, StatusCode::UNAUTHORIZED, "{headers:?}");
    }

    // RFC 6750: the Bearer challenge, with error="invalid_token" once a token was sent.
    let (_, headers, _) = fetch_response(addr, &[]).await;
    assert_eq!(headers["www-authenticate"], r#"Bearer realm="app.example.com""#);
    let (_, headers, _) = fetch_response(addr, &[("Authorization", "Bearer not-a-jwt")]).await;
    assert_eq!(headers["www-authenticate"], r#"Bearer realm="app.example.com", error="invalid_token""#);

    let (addr, _) = start(layer().header(axum::http::HeaderName::from_static("x-identity"))).await;
    assert_eq!(fetch(addr, &[("X-Identity", &valid)]).await.0, StatusCode::OK);
    assert_eq!(status(addr, &valid).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn issuer_and_leeway_settings_apply() {
    let now = now();
    let just_expired =
        sign_with_kid(OLD, &kid(OLD), &with(with(claims(), "iat", json!(now - 600)), "exp", json!(now - 30)));
    let (addr, _) = start(layer()).await;
    assert_eq!(status(addr, &just_expired).await, StatusCode::OK, "within the default 60 s leeway");
    let (addr, _) = start(layer().leeway(0)).await;
    assert_eq!(status(addr, &just_expired).await, StatusCode::UNAUTHORIZED);
    let (addr, _) = start(layer().issuer("https://authenticate.example.com/")).await;
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_table_choice_gives_the_same_verdicts() {
    let tables = [
        Tables::Plain,
        Tables::Precomputed { generator: pomerium_jwt_tower::Window::W4, key: pomerium_jwt_tower::Window::W4 },
        Tables::default(),
    ];
    for tables in tables {
        let keys = Keys::from_bytes_with(jwks(&[OLD, NEW]).as_bytes(), tables).unwrap();
        assert_eq!(keys.len(), 2);
        let (addr, _) = start(PomeriumJwtLayer::new(keys, AUD)).await;
        assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK, "{tables:?}");
        assert_eq!(status(addr, &token(NEW)).await, StatusCode::OK, "{tables:?}");
        assert_eq!(status(addr, &sign_with_kid(ATTACKER, &kid(NEW), &claims())).await, StatusCode::UNAUTHORIZED);
    }
}

/// The key as `openssl ec -pubout` writes it.
fn pem(seed: u8) -> String {
    use base64ct::Base64;
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

#[tokio::test]
async fn static_keys_load_from_files_in_any_form_and_bad_files_are_refused() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("tower-old.pem");
    std::fs::write(&file, pem(OLD)).unwrap();
    let keys = Keys::from_file(&file).unwrap();
    assert_eq!(keys.len(), 1);
    let (addr, _) = start(PomeriumJwtLayer::new(keys, AUD)).await;
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK, "a key without kid serves every kid");

    let private = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
    let refused = Keys::from_bytes(private.as_bytes()).unwrap_err();
    assert!(refused.to_string().contains("public key"), "{refused}");
    let empty = Keys::from_bytes(br#"{"keys":[]}"#).unwrap_err();
    assert!(matches!(empty, pomerium_jwt_tower::LoadError::NoUsableKey), "{empty}");
    assert!(matches!(Keys::from_file(dir.join("missing.pem")), Err(pomerium_jwt_tower::LoadError::Io(_))));
}

#[tokio::test]
async fn the_extractor_outside_the_layer_fails_closed() {
    let router = Router::new().route("/", get(|identity: Identity| async move { identity.iss }));
    let addr = serve(router).await;
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::UNAUTHORIZED);
    // Inside the layer, the same handler runs.
    let router = Router::new().route("/", get(|identity: Identity| async move { identity.iss })).layer(layer());
    let addr = serve(router).await;
    let (code, _, body) = fetch(addr, &[("X-Pomerium-Jwt-Assertion", &token(OLD))]).await;
    assert_eq!((code, body.as_str()), (StatusCode::OK, AUD));
}

#[tokio::test]
async fn a_rejection_hook_sets_the_status_and_body() {
    let hook = |rejection: &Rejection| {
        let reason = match rejection.reason {
            Reason::Missing => "missing".to_owned(),
            Reason::Invalid(pomerium_jwt::Error::Expired { .. }) => "expired".to_owned(),
            other => format!("other: {other}"),
        };
        let mut response = rejection.default_response();
        *response.status_mut() = StatusCode::FORBIDDEN;
        *response.body_mut() = json!({"error": reason}).to_string().into();
        response
    };
    let (addr, calls) = start(layer().on_rejection(hook)).await;
    let now = now();
    let expired =
        sign_with_kid(OLD, &kid(OLD), &with(with(claims(), "iat", json!(now - 900)), "exp", json!(now - 600)));
    let (code, headers, body) = fetch_response(addr, &[("X-Pomerium-Jwt-Assertion", &expired)]).await;
    assert_eq!((code, body.as_str()), (StatusCode::FORBIDDEN, r#"{"error":"expired"}"#));
    assert!(headers.contains_key("www-authenticate"), "the default response's headers stay");
    let (code, _, body) = fetch_response(addr, &[]).await;
    assert_eq!((code, body.as_str()), (StatusCode::FORBIDDEN, r#"{"error":"missing"}"#));
    assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK, "the hook runs for refusals only");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn optional_mode_lets_requests_without_a_token_through_and_still_refuses_bad_ones() {
    let (addr, calls) = start(layer().optional()).await;
    // No token: through, with no identity and no forged claim header.
    let (code, _, body) = fetch(addr, &FORGED_CLAIM_HEADERS).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let seen: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seen["identity"], Value::Null);
    assert_eq!(seen["claim_headers"], json!([]), "X-Pomerium-Claim-* must not reach the handler");
    // A valid token: through, with its identity.
    let (code, _, body) = fetch(addr, &[("X-Pomerium-Jwt-Assertion", &token(OLD))]).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["identity"]["email"], "alice@example.com");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // A token that is there but bad is never taken for no token.
    let valid = token(OLD);
    let forged = sign_with_kid(ATTACKER, &kid(OLD), &claims());
    for headers in [
        vec![("X-Pomerium-Jwt-Assertion", "")],
        vec![("X-Pomerium-Jwt-Assertion", "not-a-jwt")],
        vec![("X-Pomerium-Jwt-Assertion", forged.as_str())],
        vec![("X-Pomerium-Jwt-Assertion", valid.as_str()), ("X-Pomerium-Jwt-Assertion", valid.as_str())],
    ] {
        assert_eq!(fetch(addr, &headers).await.0, StatusCode::UNAUTHORIZED, "{headers:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2, "a refused request reached the handler");

    // The fail-closed extractor still refuses a route that needs an identity.
    let router =
        Router::new().route("/", get(|identity: Identity| async move { identity.iss })).layer(layer().optional());
    let addr = serve(router).await;
    assert_eq!(fetch(addr, &[]).await.0, StatusCode::UNAUTHORIZED);
    let router = Router::new()
        .route("/", get(|identity: Option<Identity>| async move { identity.map_or("anonymous".to_owned(), |i| i.iss) }))
        .layer(layer().optional());
    let addr = serve(router).await;
    assert_eq!(fetch(addr, &[]).await.2, "anonymous");
}

#[tokio::test]
async fn the_identity_names_the_key_that_verified() {
    let keys = Keys::from_bytes(jwks(&[OLD, NEW]).as_bytes()).unwrap();
    let (addr, _) = start(PomeriumJwtLayer::new(keys, AUD)).await;
    for (seed, index) in [(OLD, 0), (NEW, 1)] {
        let (_, _, body) = fetch(addr, &[("X-Pomerium-Jwt-Assertion", &token(seed))]).await;
        let identity = &serde_json::from_str::<Value>(&body).unwrap()["identity"];
        assert_eq!(identity["kid"], kid(seed));
        assert_eq!(identity["key_index"], index);
    }
    // A key loaded without kid (PEM): the token's kid is not the key's name, the thumbprint is.
    let keys = Keys::from_bytes(pem(NEW).as_bytes()).unwrap();
    let (addr, _) = start(PomeriumJwtLayer::new(keys, AUD)).await;
    let (_, _, body) =
        fetch(addr, &[("X-Pomerium-Jwt-Assertion", &sign_with_kid(NEW, "some-other-kid", &claims()))]).await;
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["identity"]["kid"], kid(NEW));
}

#[cfg(feature = "serde")]
#[tokio::test]
async fn identity_serializes_its_fields_not_its_payload() {
    let router = Router::new()
        .route("/", get(|identity: Identity| async move { axum::Json(serde_json::to_value(&identity).unwrap()) }))
        .layer(layer());
    let addr = serve(router).await;
    let claims = claims();
    let (_, _, body) = fetch(addr, &[("X-Pomerium-Jwt-Assertion", &sign_with_kid(OLD, &kid(OLD), &claims))]).await;
    let serialized: Value = serde_json::from_str(&body).unwrap();
    for name in ["iss", "sub", "email", "user", "name", "sid", "jti", "groups", "exp", "iat"] {
        assert_eq!(serialized[name], claims[name], "{name}");
    }
    assert_eq!(serialized["aud"], json!([AUD]));
    assert_eq!(serialized["kid"], kid(OLD));
    assert_eq!(serialized["key_index"], 0);
    assert!(serialized.get("payload").is_none() && serialized.get("given_name").is_none(), "{serialized}");
}
