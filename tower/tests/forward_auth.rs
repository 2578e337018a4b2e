//! The authenticator behind the sidecar: audiences chosen per request, several key sources,
//! public paths, the forward-auth answer, and the cache of verified tokens.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, Request, StatusCode};
use http_body_util::Empty;
use pomerium_jwt_tower::{Audiences, Authenticator, Decision, ForwardAuth, Keys, PublicPaths, Refusal, RemoteJwks};
use tower_service::Service;

use crate::common::*;

const OTHER: &str = "other.example.com";

fn headers(token: &str, host: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-pomerium-jwt-assertion", HeaderValue::from_str(token).unwrap());
    h.insert("host", HeaderValue::from_str(host).unwrap());
    h
}

fn file_keys(seeds: &[u8]) -> Keys {
    Keys::from_bytes(jwks(seeds).as_bytes()).unwrap()
}

fn claims_for(aud: &str) -> serde_json::Value {
    let mut c = claims();
    c["aud"] = aud.into();
    c["iss"] = aud.into();
    c
}

#[tokio::test]
async fn the_host_chooses_the_audience_from_the_list() {
    let auth = Authenticator::new(vec![file_keys(&[OLD])], Audiences::new([AUD, OTHER]).unwrap());
    let for_app = token(OLD);
    let for_other = sign_with_kid(OLD, &kid(OLD), &claims_for(OTHER));
    assert!(matches!(auth.decide(&headers(&for_app, AUD), "/").await, Decision::Verified(_)));
    assert!(matches!(auth.decide(&headers(&for_other, "Other.Example.com:443"), "/").await, Decision::Verified(_)));
    match auth.decide(&headers(&for_app, OTHER), "/").await {
        Decision::Refused(Refusal::Invalid(_)) => {}
        other => panic!("{other:?}"),
    }
    match auth.decide(&headers(&for_app, "unlisted.example.com"), "/").await {
        Decision::Refused(Refusal::Host(Some(host))) => assert_eq!(host, "unlisted.example.com"),
        other => panic!("{other:?}"),
    }
    // X-Forwarded-Host counts only when asked for (behind a forward-auth proxy).
    let mut h = headers(&for_other, AUD);
    h.insert("x-forwarded-host", HeaderValue::from_static(OTHER));
    assert!(matches!(auth.decide(&h, "/").await, Decision::Refused(_)));
    let forwarded = auth.clone().forwarded_host();
    assert!(matches!(forwarded.decide(&h, "/").await, Decision::Verified(_)));
}

#[tokio::test]
async fn any_key_source_verifies_and_public_paths_need_no_token() {
    let auth = Authenticator::new(vec![file_keys(&[OLD]), file_keys(&[NEW])], Audiences::new([AUD]).unwrap())
        .public_paths(PublicPaths::new(["/public/"]));
    assert_eq!(auth.keys_loaded(), 2);
    for seed in [OLD, NEW] {
        assert!(matches!(auth.decide(&headers(&token(seed), AUD), "/").await, Decision::Verified(_)));
    }
    match auth.decide(&headers(&token(ATTACKER), AUD), "/").await {
        Decision::Refused(Refusal::Invalid(pomerium_jwt::Error::UnknownKey { .. })) => {}
        other => panic!("{other:?}"),
    }
    assert!(matches!(auth.decide(&HeaderMap::new(), "/public/x").await, Decision::Public));
    assert!(matches!(auth.decide(&HeaderMap::new(), "/public/../x").await, Decision::Refused(Refusal::Missing)));
}

#[tokio::test]
async fn forward_auth_answers_200_with_claims_401_or_503() {
    let auth = Authenticator::new(vec![file_keys(&[OLD])], Audiences::new([AUD]).unwrap());
    let mut service = ForwardAuth::<Empty<bytes::Bytes>>::new(auth);
    let mut request =
        Request::get("/").header("x-pomerium-jwt-assertion", token(OLD)).body(Empty::<bytes::Bytes>::new()).unwrap();
    request.headers_mut().insert("x-pomerium-claim-email", HeaderValue::from_static("forged@example.com"));
    let response = service.call(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-pomerium-claim-email"], "alice@example.com");
    assert_eq!(response.headers()["x-pomerium-claim-groups"], "admins,devs");
    let response = service.call(Request::get("/").body(Empty::<bytes::Bytes>::new()).unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));

    let server = JwksServer::start(Mode::Status(500)).await;
    let keys = RemoteJwks::new(&server.url()).unwrap().start_without_keys().start().await.unwrap();
    let mut service =
        ForwardAuth::<Empty<bytes::Bytes>>::new(Authenticator::new(vec![keys], Audiences::new([AUD]).unwrap()));
    let request =
        Request::get("/").header("x-pomerium-jwt-assertion", token(OLD)).body(Empty::<bytes::Bytes>::new()).unwrap();
    let response = service.call(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn cached_tokens_expire_and_do_not_outlive_a_key_change() {
    // A cached token still expires: one valid for a second, no leeway.
    let auth =
        Authenticator::new(vec![file_keys(&[OLD])], Audiences::new([AUD]).unwrap()).leeway(0).cache_verified(1 << 20);
    let mut short = claims();
    short["exp"] = (now() + 1).into();
    let short = sign_with_kid(OLD, &kid(OLD), &short);
    assert!(matches!(auth.decide(&headers(&short, AUD), "/").await, Decision::Verified(_)));
    tokio::time::sleep(Duration::from_millis(2100)).await;
    match auth.decide(&headers(&short, AUD), "/").await {
        Decision::Refused(Refusal::Invalid(pomerium_jwt::Error::Expired { .. })) => {}
        other => panic!("{other:?}"),
    }

    // A key removed from the JWKS: its cached tokens are refused from the change on.
    let server = JwksServer::start(Mode::Serve(jwks(&[OLD]))).await;
    let keys = RemoteJwks::new(&server.url()).unwrap().cooldown(Duration::from_millis(200)).start().await.unwrap();
    let auth = Authenticator::new(vec![keys], Audiences::new([AUD]).unwrap()).cache_verified(1 << 20);
    let old = token(OLD);
    for _ in 0..2 {
        assert!(matches!(auth.decide(&headers(&old, AUD), "/").await, Decision::Verified(_)));
    }
    server.set(Mode::Serve(jwks(&[NEW])));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A token of the new key makes the authenticator fetch the JWKS again.
    assert!(matches!(auth.decide(&headers(&token(NEW), AUD), "/").await, Decision::Verified(_)));
    match auth.decide(&headers(&old, AUD), "/").await {
        Decision::Refused(Refusal::Invalid(pomerium_jwt::Error::UnknownKey { .. })) => {}
        other => panic!("the old key's cached token outlived the key: {other:?}"),
    }
    // The same token for another audience is no hit either.
    let auth =
        Authenticator::new(vec![file_keys(&[OLD])], Audiences::new([AUD, OTHER]).unwrap()).cache_verified(1 << 20);
    assert!(matches!(auth.decide(&headers(&old, AUD), "/").await, Decision::Verified(_)));
    assert!(matches!(auth.decide(&headers(&old, OTHER), "/").await, Decision::Refused(_)));
}
