#![forbid(unsafe_code)]
//! `pomerium-jwt-sidecar`: verifies Pomerium's `X-Pomerium-Jwt-Assertion` in front of an
//! application that cannot, as a reverse proxy (mode 1) or a forward-auth service (mode 2).

mod metrics;
mod options;
mod proxy;
mod server;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use http::HeaderName;
use http_body_util::Empty;
use pomerium_jwt_tower::{
    Audiences, Authenticator, Keys, PublicPaths, RemoteJwks, forward_auth_response, original_method, original_target,
};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

use crate::options::Options;

/// Memory for tokens that verified: Pomerium sends one token per session and route for minutes,
/// so a repeat costs a lookup instead of a signature check (see `Authenticator::cache_verified`).
const CACHE_BYTES: usize = 4 << 20;

/// Exit status for bad options or unusable keys.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let options = Options::parse();
    init_logging(&options);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    tracing::error!("{message}");
    eprintln!("pomerium-jwt-sidecar: {message}");
    ExitCode::from(USAGE)
}

fn init_logging(options: &Options) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    if options.log_format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.with_ansi(false).init();
    }
}

async fn load_keys(options: &Options) -> Result<Vec<Keys>, String> {
    let mut all = Vec::new();
    for key in options.key.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
        let keys = if key.starts_with("https://") || key.starts_with("http://") {
            let mut remote = RemoteJwks::new(key)
                .map_err(|e| format!("--key {key}: {e}"))?
                .cooldown(Duration::from_secs(options.jwks_cooldown));
            if options.start_without_keys {
                remote = remote.start_without_keys();
            }
            remote.start().await.map_err(|e| format!("--key {key}: {e}"))?
        } else {
            Keys::from_file(key).map_err(|e| format!("--key {key}: {e}"))?
        };
        tracing::info!(key, loaded = keys.len(), "keys loaded");
        all.push(keys);
    }
    if all.is_empty() {
        return Err("--key: no key given".to_owned());
    }
    Ok(all)
}

async fn run(options: Options) -> Result<(), String> {
    if options.upstream.is_none() && !options.auth_only {
        return Err("choose a mode: --upstream URL (reverse proxy) or --auth-only (forward auth)".to_owned());
    }
    let upstream = options.upstream.as_deref().map(proxy::Upstream::parse).transpose()?;
    let audiences =
        Audiences::new(options.audience.iter().map(|a| a.trim())).map_err(|e| format!("--audience: {e}"))?;
    let header = HeaderName::from_bytes(options.header.as_bytes())
        .map_err(|_| format!("--header {:?}: not a header name", options.header))?;
    let prometheus = metrics::install()?;
    let keys = load_keys(&options).await?;
    let mut auth = Authenticator::new(keys, audiences)
        .leeway(options.leeway)
        .cache_verified(CACHE_BYTES)
        .header(header)
        .public_paths(PublicPaths::new(options.public_path.iter().map(|p| p.trim().to_owned())));
    if let Some(issuer) = &options.issuer {
        auth = auth.issuer(issuer.clone());
    }
    if options.authorization_bearer {
        auth = auth.authorization_bearer();
    }
    if options.auth_only {
        auth = auth.forwarded_host();
    }

    let listener = server::Listener::bind(&options.listen).await?;
    let admin = match options.admin_listen {
        Some(addr) => Some(TcpListener::bind(addr).await.map_err(|e| format!("--admin-listen {addr}: {e}"))?),
        None => None,
    };
    let (stop_tx, stop) = watch::channel(false);
    if let Some(admin) = admin {
        let addr = admin.local_addr().map_err(|e| e.to_string())?;
        tracing::info!(admin = %metrics::describe(addr), "admin listener");
        let mut admin_stop = stop.clone();
        let shutdown = async move {
            let _changed = admin_stop.changed().await;
        };
        let (handle, auth) = (prometheus, auth.clone());
        tokio::spawn(async move {
            if let Err(e) = metrics::serve_admin(admin, handle, auth, shutdown).await {
                tracing::error!(error = %e, "admin listener failed");
            }
        });
    }
    tokio::spawn(watch_keys(auth.clone()));

    let grace = Duration::from_secs(options.shutdown_grace);
    let mode = if options.auth_only { "forward auth" } else { "reverse proxy" };
    tracing::info!(listen = %options.listen, mode, upstream = options.upstream.as_deref().unwrap_or("-"), "started");
    let serving = match upstream {
        Some(upstream) => {
            let proxy = Arc::new(proxy::Proxy {
                auth,
                upstream,
                client: proxy::client(),
                timeout: Duration::from_secs(options.upstream_timeout),
                instruments: metrics::Instruments::new(),
            });
            tokio::spawn(server::serve(
                listener,
                move |request, peer| {
                    let proxy = proxy.clone();
                    async move { proxy.handle(request, peer).await }
                },
                stop,
                grace,
            ))
        }
        None => {
            let instruments = metrics::Instruments::new();
            tokio::spawn(server::serve(
                listener,
                move |request, _peer| {
                    let auth = auth.clone();
                    let instruments = instruments.clone();
                    async move {
                        let target = original_target(&request);
                        let method = original_method(&request);
                        let started = Instant::now();
                        let decision = auth.decide(request.headers(), &target).await;
                        instruments.record(&decision, started.elapsed());
                        forward_auth_response::<Empty<bytes::Bytes>>(&decision, &method, &target)
                    }
                },
                stop,
                grace,
            ))
        }
    };
    shutdown_signal().await?;
    tracing::info!(grace_seconds = options.shutdown_grace, "stopping: no new connections, requests in flight finish");
    let _sent = stop_tx.send(true);
    serving.await.map_err(|e| e.to_string())?;
    tracing::info!("stopped");
    Ok(())
}

/// Logs key changes (a rotation, the first keys of a remote JWKS) and keeps the gauge current.
async fn watch_keys(auth: Authenticator) {
    let mut last = auth.keys_loaded();
    loop {
        ::metrics::gauge!(metrics::KEYS_LOADED).set(last as f64);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = auth.keys_loaded();
        if now != last {
            tracing::info!(before = last, now, "keys changed");
            last = now;
        }
    }
}

async fn shutdown_signal() -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT handler: {e}"))?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM"),
        _ = int.recv() => tracing::info!("SIGINT"),
    }
    Ok(())
}
