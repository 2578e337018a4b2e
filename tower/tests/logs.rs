//! What an operator reads in the logs: the reason of a refusal at `info`, the key that verified
//! at `debug`, an oversized JWKS at `error`. Captured with tracing-subscriber's fmt layer, the one
//! line the README shows, as the subscriber of this test's thread only (a current-thread runtime
//! runs the servers, the layer and the fetcher on it).

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use pomerium_jwt_tower::{LoadError, PomeriumJwtLayer, RemoteJwks, Tables};
use serde_json::json;

use crate::common::*;

/// A writer into a buffer the test reads.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn refusals_the_verifying_key_and_an_oversized_jwks_are_logged() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber =
        tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).with_writer(move || writer.clone()).finish();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let expired = {
        let now = now();
        sign_with_kid(OLD, &kid(OLD), &with(with(claims(), "iat", json!(now - 900)), "exp", json!(now - 600)))
    };
    tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let server = JwksServer::start(Mode::Serve(jwks(&[OLD]))).await;
            let keys = RemoteJwks::new(&server.url()).unwrap().tables(Tables::Plain).start().await.unwrap();
            let addr = serve(reporting_app(PomeriumJwtLayer::new(keys, AUD), Arc::default())).await;
            assert_eq!(status(addr, &expired).await, StatusCode::UNAUTHORIZED);
            assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK);

            let many: Vec<u8> = (30..39).collect();
            let oversized = JwksServer::start(Mode::Serve(jwks(&many))).await;
            let error = RemoteJwks::new(&oversized.url()).unwrap().start().await.unwrap_err();
            assert!(matches!(error, LoadError::TooManyKeys { .. }), "{error}");
        });
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let line =
        |needle: &str| logs.lines().find(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in\n{logs}"));
    // A user whose token expired: the reason, with the times, at info.
    let refused = line("401: request refused");
    assert!(refused.contains(" INFO ") && refused.contains("token expired at"), "{refused}");
    // Nothing of the token itself.
    let signature = expired.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature) && !logs.contains(expired.split('.').nth(1).unwrap()));
    // The key that verified, at debug.
    let verified = line("token verified");
    assert!(verified.contains("DEBUG") && verified.contains(&format!("kid={}", kid(OLD))), "{verified}");
    // The oversized JWKS, at error, naming the limit.
    let oversized = line("more keys than MAX_KEYS");
    assert!(oversized.contains("ERROR") && oversized.contains("limit=8"), "{oversized}");
}
