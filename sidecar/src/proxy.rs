//! Mode 1: a reverse proxy that forwards only verified requests, as a well-behaved HTTP/1.1
//! intermediary (RFC 9110 §7.6): hop-by-hop headers dropped, `X-Forwarded-*` set, bodies
//! streamed both ways, upgrades (WebSocket) relayed, upstream connections pooled.

use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_TYPE, HOST, HeaderName, RETRY_AFTER, UPGRADE, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, Uri};
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use pomerium_jwt_tower::{Authenticator, Decision, WWW_AUTHENTICATE_VALUE, escape, strip_claim_headers};
use tokio::sync::oneshot;

use crate::metrics::{Instruments, UPSTREAM_ERRORS};

/// The body of every response the proxy sends.
pub(crate) type ProxyBody = BoxBody<Bytes, hyper::Error>;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Everything a request needs, shared by all connections.
pub(crate) struct Proxy {
    pub(crate) auth: Authenticator,
    pub(crate) upstream: Upstream,
    pub(crate) client: Client<HttpConnector, EndSignal>,
    pub(crate) timeout: Duration,
    pub(crate) instruments: Instruments,
}

/// Where verified requests go: `http://authority` and a path prefix.
#[derive(Clone, Debug)]
pub(crate) struct Upstream {
    authority: http::uri::Authority,
    prefix: String,
}

impl Upstream {
    /// Parses `--upstream`: an absolute `http://` URL, optionally with a path prefix.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let uri: Uri = url.parse().map_err(|e| format!("--upstream {url:?}: not a URL ({e})"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => return Err(format!("--upstream {url:?}: https upstreams are not supported; use http")),
            _ => return Err(format!("--upstream {url:?}: not an absolute http:// URL")),
        }
        let authority = uri.authority().cloned().ok_or_else(|| format!("--upstream {url:?}: no host"))?;
        let prefix = uri.path().trim_end_matches('/').to_owned();
        Ok(Upstream { authority, prefix })
    }

    fn uri(&self, target: &str) -> Result<Uri, http::Error> {
        Uri::builder()
            .scheme("http")
            .authority(self.authority.clone())
            .path_and_query(format!("{}{target}", self.prefix))
            .build()
    }
}

/// The pooled client for the upstream.
pub(crate) fn client() -> Client<HttpConnector, EndSignal> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(10)));
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(60)).build(connector)
}

fn text(status: StatusCode, body: &'static str) -> Response<ProxyBody> {
    let mut response =
        Response::new(Full::new(Bytes::from_static(body.as_bytes())).map_err(|never| match never {}).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

const UNAUTHORIZED: &str = "401 Unauthorized: the request lacks a valid Pomerium assertion.\n";
const NO_KEYS: &str = "503 Service Unavailable: no keys to verify Pomerium assertions with yet; retry later.\n";
const BAD_GATEWAY: &str = "502 Bad Gateway: the upstream refused or dropped the connection.\n";
const GATEWAY_TIMEOUT: &str = "504 Gateway Timeout: the upstream sent no response in time.\n";

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus those the
/// `Connection` header names. `Upgrade` and `Connection: upgrade` stay when `upgrading`.
fn strip_hop_by_hop(headers: &mut HeaderMap, upgrading: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        if !(upgrading && name == UPGRADE) {
            headers.remove(name);
        }
    }
    let fixed: Vec<HeaderName> = headers
        .keys()
        .filter(|n| {
            let n = n.as_str();
            matches!(n, "keep-alive" | "te" | "trailer" | "transfer-encoding") || n.starts_with("proxy-")
        })
        .cloned()
        .collect();
    for name in fixed {
        headers.remove(name);
    }
    headers.remove(CONNECTION);
    if upgrading {
        headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(UPGRADE);
    }
}

/// Whether the request asks to switch protocols (`Connection: upgrade` and `Upgrade`).
fn wants_upgrade(headers: &HeaderMap) -> bool {
    headers.contains_key(UPGRADE)
        && headers
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
}

/// `X-Forwarded-For` gets the client's address appended (nothing over a Unix socket, whose
/// client is a process on this host rather than a network hop); `X-Forwarded-Proto` and
/// `X-Forwarded-Host` are set.
fn set_forwarded(headers: &mut HeaderMap, client: Option<SocketAddr>) {
    if let Some(client) = client {
        // Several X-Forwarded-For lines are one list: folded into one value, the client last.
        let prior: Vec<&str> = headers
            .get_all(&X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect();
        let ip = client.ip().to_string();
        let forwarded_for = prior.into_iter().chain([ip.as_str()]).collect::<Vec<_>>().join(", ");
        if let Ok(value) = HeaderValue::from_str(&forwarded_for) {
            headers.insert(X_FORWARDED_FOR, value);
        }
    }
    headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    match headers.get(HOST).cloned() {
        Some(host) => {
            headers.insert(X_FORWARDED_HOST, host);
        }
        None => {
            headers.remove(X_FORWARDED_HOST);
        }
    }
}

impl Proxy {
    /// Answers one request: refused at once, or forwarded.
    pub(crate) async fn handle(
        &self,
        mut request: Request<Incoming>,
        client: Option<SocketAddr>,
    ) -> Response<ProxyBody> {
        let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
        strip_claim_headers(request.headers_mut());
        let started = Instant::now();
        let decision = self.auth.decide(request.headers(), &target).await;
        self.instruments.record(&decision, started.elapsed());
        match &decision {
            Decision::Refused(refusal) => {
                tracing::info!(method = %request.method(), path = %escape(&target), reason = %refusal, "401: request refused");
                let mut response = text(StatusCode::UNAUTHORIZED, UNAUTHORIZED);
                response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(WWW_AUTHENTICATE_VALUE));
                return response;
            }
            Decision::NoKeys { retry_after } => {
                tracing::warn!(method = %request.method(), path = %escape(&target), "503: no keys to verify with");
                let mut response = text(StatusCode::SERVICE_UNAVAILABLE, NO_KEYS);
                response.headers_mut().insert(RETRY_AFTER, HeaderValue::from(*retry_after));
                return response;
            }
            _ => {}
        }
        if let Decision::Verified(verified) = &decision {
            for (name, skip) in &verified.claim_headers.skipped {
                tracing::warn!(claim = %escape(name), reason = %skip, "claim header left out");
            }
            for (name, value) in &verified.claim_headers.headers {
                request.headers_mut().append(name, value.clone());
            }
        }
        self.forward(request, &target, client).await
    }

    async fn forward(
        &self,
        mut request: Request<Incoming>,
        target: &str,
        client: Option<SocketAddr>,
    ) -> Response<ProxyBody> {
        let upgrading = wants_upgrade(request.headers());
        let client_upgrade = upgrading.then(|| hyper::upgrade::on(&mut request));
        let (mut parts, body) = request.into_parts();
        strip_hop_by_hop(&mut parts.headers, upgrading);
        set_forwarded(&mut parts.headers, client);
        parts.uri = match self.upstream.uri(target) {
            Ok(uri) => uri,
            Err(_) => return text(StatusCode::BAD_GATEWAY, BAD_GATEWAY),
        };
        let (body, sent) = EndSignal::new(body);
        let outgoing = Request::from_parts(parts, body);
        let method = outgoing.method().clone();
        let send = self.client.request(outgoing);
        let deadline = async {
            // A dropped sender (the body failed) also starts the clock.
            let _sent = sent.await;
            tokio::time::sleep(self.timeout).await;
        };
        let result = tokio::select! {
            result = send => result,
            () = deadline => {
                metrics::counter!(UPSTREAM_ERRORS, "kind" => "timeout").increment(1);
                tracing::warn!(%method, path = %escape(target), "504: no response head from the upstream in time");
                return text(StatusCode::GATEWAY_TIMEOUT, GATEWAY_TIMEOUT);
            }
        };
        let mut response = match result {
            Ok(response) => response,
            Err(e) => {
                let kind = if e.is_connect() { "connect" } else { "other" };
                metrics::counter!(UPSTREAM_ERRORS, "kind" => kind).increment(1);
                tracing::warn!(%method, path = %escape(target), error = %e, "502: upstream failed");
                return text(StatusCode::BAD_GATEWAY, BAD_GATEWAY);
            }
        };
        let switched = response.status() == StatusCode::SWITCHING_PROTOCOLS;
        if let (true, Some(client_upgrade)) = (switched, client_upgrade) {
            let upstream_upgrade = hyper::upgrade::on(&mut response);
            tokio::spawn(async move {
                match tokio::try_join!(client_upgrade, upstream_upgrade) {
                    Ok((client, upstream)) => {
                        let (mut client, mut upstream) = (TokioIo::new(client), TokioIo::new(upstream));
                        let _closed = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                    }
                    Err(e) => tracing::warn!(error = %e, "upgrade failed"),
                }
            });
        }
        strip_hop_by_hop(response.headers_mut(), switched);
        response.map(|body| body.boxed())
    }
}

/// The request body on its way upstream, which says when its last byte has been handed over:
/// the upstream timeout counts from then, so a long upload is not cut short.
pub(crate) struct EndSignal {
    inner: Incoming,
    sent: Option<oneshot::Sender<()>>,
}

impl EndSignal {
    fn new(inner: Incoming) -> (Self, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let mut body = EndSignal { inner, sent: Some(tx) };
        if body.inner.is_end_stream() {
            body.signal();
        }
        (body, rx)
    }

    fn signal(&mut self) {
        if let Some(tx) = self.sent.take() {
            let _receiver_gone = tx.send(());
        }
    }
}

impl Body for EndSignal {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.signal();
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_go() {
        let mut h = HeaderMap::new();
        for (n, v) in [
            ("connection", "keep-alive, x-secret"),
            ("keep-alive", "timeout=5"),
            ("x-secret", "1"),
            ("proxy-authorization", "Basic x"),
            ("te", "trailers"),
            ("trailer", "x"),
            ("upgrade", "websocket"),
            ("x-kept", "1"),
        ] {
            h.append(n, HeaderValue::from_static(v));
        }
        strip_hop_by_hop(&mut h, false);
        assert_eq!(h.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["x-kept"]);
    }

    #[test]
    fn upgrade_kept_when_upgrading() {
        let mut h = HeaderMap::new();
        h.append("connection", HeaderValue::from_static("Upgrade"));
        h.append("upgrade", HeaderValue::from_static("websocket"));
        assert!(wants_upgrade(&h));
        strip_hop_by_hop(&mut h, true);
        assert_eq!(h.get("upgrade").unwrap(), "websocket");
        assert_eq!(h.get("connection").unwrap(), "upgrade");
    }
}
