//! What the layer and the fetcher report through the `metrics` facade, read back from a
//! recorder installed for this test's thread only (a current-thread runtime runs the servers,
//! the layer and the fetcher on it), so tests running beside it add nothing to its counts.

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use axum::http::StatusCode;
use metrics_util::CompositeKey;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use pomerium_jwt_tower::metrics::{JWKS_FETCHES, KEYS, REASON, REFUSED, RESULT, VERIFIED, VERIFY_SECONDS};
use pomerium_jwt_tower::{PomeriumJwtLayer, RemoteJwks, Tables};
use serde_json::json;

use crate::common::*;

/// What the recorder holds: each metric's key, unit, description and value.
type Snapshot = Vec<(CompositeKey, Option<metrics::Unit>, Option<metrics::SharedString>, DebugValue)>;

/// The value of the metric `name` with the label `label` (name, value), if any.
fn value<'s>(snapshot: &'s Snapshot, name: &str, label: Option<(&str, &str)>) -> Option<&'s DebugValue> {
    snapshot.iter().find_map(|(key, _, _, value)| {
        let key = key.key();
        let labelled = match label {
            None => key.labels().next().is_none(),
            Some((k, v)) => key.labels().any(|l| l.key() == k && l.value() == v),
        };
        (key.name() == name && labelled).then_some(value)
    })
}

fn counter(snapshot: &Snapshot, name: &str, label: Option<(&str, &str)>) -> u64 {
    match value(snapshot, name, label) {
        Some(DebugValue::Counter(n)) => *n,
        None => 0,
        Some(other) => panic!("{name} is not a counter: {other:?}"),
    }
}

#[test]
fn the_layer_and_the_fetcher_report_metrics() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    metrics::with_local_recorder(&recorder, || {
        runtime.block_on(async {
            // max-age=0: refetched once per cooldown, each time a 304.
            let server = JwksServer::start(Mode::Cached {
                body: jwks(&[OLD]),
                etag: "\"v1\"".to_owned(),
                cache_control: "max-age=0".to_owned(),
            })
            .await;
            let keys = RemoteJwks::new(&server.url())
                .unwrap()
                .max_age(Duration::from_secs(3600))
                .cooldown(Duration::from_millis(100))
                .tables(Tables::Plain)
                .start()
                .await
                .unwrap();
            let addr = serve(reporting_app(PomeriumJwtLayer::new(keys, AUD), Arc::new(AtomicUsize::new(0)))).await;
            let now = now();
            let expired =
                sign_with_kid(OLD, &kid(OLD), &with(with(claims(), "iat", json!(now - 900)), "exp", json!(now - 600)));
            assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK);
            assert_eq!(status(addr, &token(OLD)).await, StatusCode::OK);
            assert_eq!(status(addr, &expired).await, StatusCode::UNAUTHORIZED);
            assert_eq!(fetch(addr, &[]).await.0, StatusCode::UNAUTHORIZED);
            assert!(eventually(async || server.hits() >= 2).await, "no refetch after max-age=0");

            // A document with more keys than MAX_KEYS, then a failing server.
            let many: Vec<u8> = (30..39).collect();
            server.set(Mode::Serve(jwks(&many)));
            let before = server.hits();
            assert!(eventually(async || server.hits() > before).await);
            server.set(Mode::Status(500));
            let before = server.hits();
            assert!(eventually(async || server.hits() > before + 1).await);
        });
    });
    let snapshot = snapshotter.snapshot().into_vec();
    assert_eq!(counter(&snapshot, VERIFIED, None), 2);
    assert_eq!(counter(&snapshot, REFUSED, Some((REASON, "expired"))), 1);
    assert_eq!(counter(&snapshot, REFUSED, Some((REASON, "missing"))), 1);
    assert_eq!(counter(&snapshot, JWKS_FETCHES, Some((RESULT, "ok"))), 1, "the start-up fetch");
    for result in ["not_modified", "too_many_keys", "error"] {
        assert!(counter(&snapshot, JWKS_FETCHES, Some((RESULT, result))) >= 1, "{result}");
    }
    assert_eq!(value(&snapshot, KEYS, None), Some(&DebugValue::Gauge(1.0.into())), "the keys in use stayed");
    // Three verifications ran (two good, one expired); the request without a token ran none.
    match value(&snapshot, VERIFY_SECONDS, None) {
        Some(DebugValue::Histogram(seconds)) => {
            assert_eq!(seconds.len(), 3);
            assert!(seconds.iter().all(|s| s.0 > 0.0 && s.0 < 60.0), "{seconds:?}");
        }
        other => panic!("{VERIFY_SECONDS}: {other:?}"),
    }
}
