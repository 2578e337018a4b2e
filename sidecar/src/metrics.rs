//! What the sidecar counts, by name, and the admin listener that serves it: `GET /healthz` and
//! `GET /metrics` (Prometheus text, rendered by `metrics-exporter-prometheus` from the `metrics`
//! facade, which the tower crate's counters use too).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use pomerium_jwt_tower::{Authenticator, Decision};

/// Requests by outcome: `verified`, `public`, `refused`, `no_keys`.
pub(crate) const REQUESTS: &str = "pomerium_jwt_sidecar_requests_total";
/// Time to decide on a request that carried a token (verification, a refetch included), seconds.
pub(crate) const VERIFICATION_SECONDS: &str = "pomerium_jwt_sidecar_verification_seconds";
/// Keys loaded now, over all key sources.
pub(crate) const KEYS_LOADED: &str = "pomerium_jwt_sidecar_keys_loaded";
/// Upstream failures by kind: `connect` (refused, reset: 502), `timeout` (504), `other` (502).
pub(crate) const UPSTREAM_ERRORS: &str = "pomerium_jwt_sidecar_upstream_errors_total";

/// Installs the global recorder; the handle renders what was recorded.
pub(crate) fn install() -> Result<PrometheusHandle, String> {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| e.to_string())?;
    metrics::describe_counter!(REQUESTS, "Requests by outcome: verified, public, refused, no_keys.");
    metrics::describe_histogram!(VERIFICATION_SECONDS, metrics::Unit::Seconds, "Time to verify a request's token.");
    metrics::describe_gauge!(KEYS_LOADED, "Keys loaded now, over all key sources.");
    metrics::describe_counter!(UPSTREAM_ERRORS, "Upstream failures by kind: connect, timeout, other.");
    Ok(handle)
}

/// The per-request instruments, registered once: looking a metric up by name and labels on
/// every request would cost more than the lookup of a cached token.
#[derive(Clone)]
pub(crate) struct Instruments {
    verified: metrics::Counter,
    public: metrics::Counter,
    refused: metrics::Counter,
    no_keys: metrics::Counter,
    verification: metrics::Histogram,
}

impl Instruments {
    pub(crate) fn new() -> Self {
        Instruments {
            verified: metrics::counter!(REQUESTS, "outcome" => "verified"),
            public: metrics::counter!(REQUESTS, "outcome" => "public"),
            refused: metrics::counter!(REQUESTS, "outcome" => "refused"),
            no_keys: metrics::counter!(REQUESTS, "outcome" => "no_keys"),
            verification: metrics::histogram!(VERIFICATION_SECONDS),
        }
    }

    /// Counts a decision and, for a token that was checked, how long it took.
    pub(crate) fn record(&self, decision: &Decision, elapsed: Duration) {
        match decision {
            Decision::Verified(_) => self.verified.increment(1),
            Decision::Public => {
                self.public.increment(1);
                return;
            }
            Decision::NoKeys { .. } => self.no_keys.increment(1),
            _ => self.refused.increment(1),
        }
        self.verification.record(elapsed.as_secs_f64());
    }
}

/// Serves `/healthz` and `/metrics` on `addr` until `shutdown` resolves.
pub(crate) async fn serve_admin(
    listener: tokio::net::TcpListener,
    handle: PrometheusHandle,
    auth: Authenticator,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let health = auth.clone();
    let router = Router::new()
        .route(
            "/healthz",
            get(move || {
                let loaded = health.keys_loaded();
                async move {
                    if loaded > 0 {
                        (StatusCode::OK, format!("ok: {loaded} keys loaded\n"))
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "no keys loaded yet\n".to_owned())
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || {
                metrics::gauge!(KEYS_LOADED).set(auth.keys_loaded() as f64);
                handle.run_upkeep();
                let text = handle.render();
                async move { ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text) }
            }),
        );
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}

/// The address the admin listener is bound to, for the start-up log.
pub(crate) fn describe(addr: SocketAddr) -> String {
    format!("http://{addr}/healthz, http://{addr}/metrics")
}
