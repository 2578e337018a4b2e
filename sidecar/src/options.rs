//! The command line and its environment variables: every `--name` also reads
//! `POMERIUM_JWT_NAME`; lists are comma-separated in a variable; a flag wins.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

/// Where the sidecar listens: a TCP address, or `unix:PATH`, a Unix socket for a proxy on the
/// same host (nginx's `server unix:PATH;`), reachable only by whom the socket's folder admits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::str::FromStr for Listen {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.strip_prefix("unix:") {
            Some("") => Err("unix: needs a path, as in unix:/run/pomerium-jwt/sidecar.sock".to_owned()),
            Some(path) => Ok(Listen::Unix(PathBuf::from(path))),
            None => text
                .parse()
                .map(Listen::Tcp)
                .map_err(|_| format!("{text:?} is neither an address (127.0.0.1:8080, [::1]:8080) nor unix:PATH")),
        }
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Tcp(addr) => write!(f, "{addr}"),
            Listen::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Verifies Pomerium's X-Pomerium-Jwt-Assertion in front of an application that cannot.
///
/// Mode 1 (reverse proxy): --upstream URL. Mode 2 (forward auth for nginx auth_request, Caddy
/// forward_auth, Traefik ForwardAuth, Envoy ext_authz): --auth-only.
#[derive(Debug, Parser)]
#[command(name = "pomerium-jwt-sidecar", version, about, long_about = None)]
#[command(after_help = "Examples:
  pomerium-jwt-sidecar --listen 0.0.0.0:8080 --upstream http://127.0.0.1:3000 \\
      --key https://authenticate.example.com/.well-known/pomerium/jwks.json --audience app.example.com
  pomerium-jwt-sidecar --auth-only --listen 127.0.0.1:8081 --key /etc/pomerium/jwks.json --audience app.example.com")]
pub(crate) struct Options {
    /// Address to listen on, or unix:PATH for a Unix socket (created with the reach of a
    /// loopback port, mode 0666: restrict it with its folder's permissions).
    #[arg(long, env = "POMERIUM_JWT_LISTEN", default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub(crate) listen: Listen,

    /// Mode 1: the application to proxy verified requests to (http://host:port).
    #[arg(long, env = "POMERIUM_JWT_UPSTREAM", value_name = "URL", conflicts_with = "auth_only")]
    pub(crate) upstream: Option<String>,

    /// Mode 2: answer forward-auth questions (200 with claim headers, 401, 503) instead of proxying.
    #[arg(long, env = "POMERIUM_JWT_AUTH_ONLY")]
    pub(crate) auth_only: bool,

    /// A key file (PEM public key or certificate, JWK, JWKS, base64 PEM) or a JWKS URL
    /// (https://, or http:// to loopback) kept fresh. Repeatable.
    #[arg(long, env = "POMERIUM_JWT_KEY", value_name = "FILE|URL", value_delimiter = ',', required = true)]
    pub(crate) key: Vec<String>,

    /// Start even when a remote JWKS cannot be fetched yet: answer 503 with Retry-After until it can.
    #[arg(long, env = "POMERIUM_JWT_START_WITHOUT_KEYS")]
    pub(crate) start_without_keys: bool,

    /// An accepted audience (the route's host). Repeatable; with several, the request's host
    /// chooses one and a host not listed is refused.
    #[arg(long, env = "POMERIUM_JWT_AUDIENCE", value_name = "HOST", value_delimiter = ',', required = true)]
    pub(crate) audience: Vec<String>,

    /// The exact `iss` required; default: the audience, https://AUDIENCE/ or pomerium-proxy.
    #[arg(long, env = "POMERIUM_JWT_ISSUER", value_name = "ISS")]
    pub(crate) issuer: Option<String>,

    /// Clock skew allowed, in seconds.
    #[arg(long, env = "POMERIUM_JWT_LEEWAY", default_value_t = 60, value_name = "SECONDS")]
    pub(crate) leeway: u64,

    /// The header the token is read from.
    #[arg(long, env = "POMERIUM_JWT_HEADER", default_value = "X-Pomerium-Jwt-Assertion", value_name = "NAME")]
    pub(crate) header: String,

    /// Also accept the token as `Authorization: Bearer TOKEN` (when the header above is absent).
    #[arg(long, env = "POMERIUM_JWT_AUTHORIZATION_BEARER")]
    pub(crate) authorization_bearer: bool,

    /// A path prefix that passes without a token (after dot-segment removal). Repeatable.
    #[arg(long, env = "POMERIUM_JWT_PUBLIC_PATH", value_name = "PREFIX", value_delimiter = ',')]
    pub(crate) public_path: Vec<String>,

    /// Address of the admin listener (GET /healthz, GET /metrics); off by default.
    #[arg(long, env = "POMERIUM_JWT_ADMIN_LISTEN", value_name = "ADDR")]
    pub(crate) admin_listen: Option<SocketAddr>,

    /// Log format.
    #[arg(long, env = "POMERIUM_JWT_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub(crate) log_format: String,

    /// Seconds that requests in flight get to finish after SIGTERM or SIGINT.
    #[arg(long, env = "POMERIUM_JWT_SHUTDOWN_GRACE", default_value_t = 10, value_name = "SECONDS")]
    pub(crate) shutdown_grace: u64,

    /// A remote JWKS is fetched again at most this often for tokens with an unknown kid, and
    /// a failed fetch retried after it.
    #[arg(long, env = "POMERIUM_JWT_JWKS_COOLDOWN", default_value_t = 30, value_name = "SECONDS")]
    pub(crate) jwks_cooldown: u64,

    /// Mode 1: seconds to wait for the upstream's response head once the request is sent.
    #[arg(long, env = "POMERIUM_JWT_UPSTREAM_TIMEOUT", default_value_t = 60, value_name = "SECONDS")]
    pub(crate) upstream_timeout: u64,
}
