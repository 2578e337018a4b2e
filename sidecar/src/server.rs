//! The listener: HTTP/1.1 connections served by hyper over TCP or a Unix socket, a cap on
//! connections and on the request head, and a graceful stop that lets requests in flight finish.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::options::Listen;

/// Connections served at once; more wait in the kernel's accept queue. With HTTP/1.1 each holds
/// at most one request, so this bounds requests in flight too.
pub(crate) const MAX_CONNECTIONS: u32 = 4096;
/// The largest request head read: a 64 KiB token and the usual headers fit, a larger head gets
/// `431 Request Header Fields Too Large` from hyper.
pub(crate) const MAX_HEAD: usize = 80 * 1024;
/// How long a client may take to send a request head (slow clients cannot hold connections).
const HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// A bound listener: a TCP port, or a Unix socket whose file goes when it does.
pub(crate) enum Listener {
    Tcp(TcpListener),
    /// The file is held only to be removed when the listener goes.
    Unix {
        listener: UnixListener,
        _file: SocketFile,
    },
}

/// The file of a Unix socket this process created, removed when dropped (at the end of serving)
/// so that the next start does not find it.
pub(crate) struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _gone = std::fs::remove_file(&self.0);
    }
}

impl Listener {
    /// Binds `listen`. A Unix socket's path may hold a socket left by an earlier run, which is
    /// replaced; anything else there is an error, never deleted. The new socket gets mode 0666:
    /// the reach of a loopback port, for the proxy's workers (often another user) to connect;
    /// its folder's permissions are where to restrict it.
    pub(crate) async fn bind(listen: &Listen) -> Result<Listener, String> {
        match listen {
            Listen::Tcp(addr) => {
                TcpListener::bind(addr).await.map(Listener::Tcp).map_err(|e| format!("--listen {addr}: {e}"))
            }
            Listen::Unix(path) => {
                let fail = |e: &dyn std::fmt::Display| format!("--listen {listen}: {e}");
                match std::fs::symlink_metadata(path) {
                    Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path).map_err(|e| fail(&e))?,
                    Ok(_) => return Err(fail(&"the path exists and is not a socket")),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(fail(&e)),
                }
                let listener = UnixListener::bind(path).map_err(|e| fail(&e))?;
                let file = SocketFile(path.clone());
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).map_err(|e| fail(&e))?;
                Ok(Listener::Unix { listener, _file: file })
            }
        }
    }
}

/// Serves `listener` with `handle` until `stop` changes, then lets each connection finish its
/// request in flight, for up to `grace`. `handle` gets the client's address, `None` over a Unix
/// socket (a local process, not a network hop).
pub(crate) async fn serve<H, F, B>(listener: Listener, handle: H, mut stop: watch::Receiver<bool>, grace: Duration)
where
    H: Fn(Request<Incoming>, Option<SocketAddr>) -> F + Clone + Send + Sync + 'static,
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
        let accepted = tokio::select! {
            accepted = accept(&listener) => accepted,
            _ = stop.changed() => break,
        };
        let (handle, stop) = (handle.clone(), stop.clone());
        match accepted {
            Ok(Accepted::Tcp(stream, peer)) => {
                let _nodelay = stream.set_nodelay(true);
                tokio::spawn(connection(stream, Some(peer), handle, stop, permit));
            }
            Ok(Accepted::Unix(stream)) => {
                tokio::spawn(connection(stream, None, handle, stop, permit));
            }
            Err(e) => {
                // Out of descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
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

enum Accepted {
    Tcp(tokio::net::TcpStream, SocketAddr),
    Unix(tokio::net::UnixStream),
}

async fn accept(listener: &Listener) -> std::io::Result<Accepted> {
    match listener {
        Listener::Tcp(listener) => listener.accept().await.map(|(stream, peer)| Accepted::Tcp(stream, peer)),
        Listener::Unix { listener, .. } => listener.accept().await.map(|(stream, _)| Accepted::Unix(stream)),
    }
}

/// One connection, served until it closes or, after `stop` changes, until its request in flight
/// is answered. `permit` is its slot among [`MAX_CONNECTIONS`].
async fn connection<IO, H, F, B>(
    io: IO,
    peer: Option<SocketAddr>,
    handle: H,
    mut stop: watch::Receiver<bool>,
    permit: OwnedSemaphorePermit,
) where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Fn(Request<Incoming>, Option<SocketAddr>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<B>> + Send + 'static,
    B: hyper::body::Body + Default + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
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
        .serve_connection(TokioIo::new(io), service)
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
}

/// The size of a request head as sent, near enough: hyper's own limit applies to its read
/// buffer, which a head that arrives in one read can pass whole.
fn head_len<B>(request: &Request<B>) -> usize {
    let line = request.method().as_str().len().saturating_add(request.uri().to_string().len()).saturating_add(12);
    request.headers().iter().fold(line, |sum, (name, value)| {
        sum.saturating_add(name.as_str().len()).saturating_add(value.len()).saturating_add(4)
    })
}
