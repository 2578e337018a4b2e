//! The listener: HTTP/1.1 connections served by hyper, a cap on connections and on the request
//! head, and a graceful stop that lets requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Connections served at once; more wait in the kernel's accept queue. With HTTP/1.1 each holds
/// at most one request, so this bounds requests in flight too.
pub(crate) const MAX_CONNECTIONS: u32 = 4096;
/// The largest request head read: a 64 KiB token and the usual headers fit, a larger head gets
/// `431 Request Header Fields Too Large` from hyper.
pub(crate) const MAX_HEAD: usize = 80 * 1024;
/// How long a client may take to send a request head (slow clients cannot hold connections).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `listener` with `handle` until `stop` changes, then lets each connection finish its
/// request in flight, for up to `grace`.
pub(crate) async fn serve<H, F, B>(listener: TcpListener, handle: H, mut stop: watch::Receiver<bool>, grace: Duration)
where
    H: Fn(Request<Incoming>, SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body + Default + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS as usize));
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit { Ok(p) => p, Err(_) => break },
            _ = stop.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _nodelay = stream.set_nodelay(true);
        let handle = handle.clone();
        let mut stop = stop.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = service_fn(move |request| {
                let handle = handle.clone();
                async move {
                    if head_len(&request) > MAX_HEAD {
                        let mut response = Response::new(B::default());
                        *response.status_mut() = StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE;
                        return Ok::<_, Infallible>(response);
                    }
                    Ok::<_, Infallible>(handle(request, peer).await)
                }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            let served = tokio::select! {
                served = connection.as_mut() => served,
                _ = stop.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.as_mut().await
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    // Every connection task holds a permit: all of them back means every request has finished.
    let all = slots.acquire_many(MAX_CONNECTIONS);
    if tokio::time::timeout(grace, all).await.is_err() {
        tracing::warn!(
            grace_seconds = grace.as_secs(),
            "requests still in flight after the grace period: stopping anyway"
        );
    }
}

/// The size of a request head as sent, near enough: hyper's own limit applies to its read
/// buffer, which a head that arrives in one read can pass whole.
fn head_len<B>(request: &Request<B>) -> usize {
    let line = request.method().as_str().len().saturating_add(request.uri().to_string().len()).saturating_add(12);
    request.headers().iter().fold(line, |sum, (name, value)| {
        sum.saturating_add(name.as_str().len()).saturating_add(value.len()).saturating_add(4)
    })
}
