//! An axum service behind `PomeriumJwtLayer`: every request must carry a valid
//! `X-Pomerium-Jwt-Assertion`; `GET /` and `GET /whoami` answer with the verified identity.
//!
//! ```text
//! cargo run -p pomerium-jwt-tower --example axum -- --key KEYFILE|URL --audience HOST [--issuer ISS] [--listen ADDR]
//! ```
//!
//! `--key` is a key file (JWKS, JWK, PEM, ...) read once, or the URL of Pomerium's JWKS
//! (`https://authenticate.example.com/.well-known/pomerium/jwks.json`), fetched at start-up and
//! kept fresh. Each option can come from the environment instead: `POMERIUM_JWT_KEY`,
//! `POMERIUM_JWT_AUDIENCE`, `POMERIUM_JWT_ISSUER`, `LISTEN` (default `127.0.0.1:8080`; port 0
//! picks a free one).

use std::process::ExitCode;

use axum::routing::get;
use axum::{Json, Router};
use pomerium_jwt_tower::{Identity, Keys, PomeriumJwtLayer, RemoteJwks};
use serde_json::{Value, json};

const USAGE: &str = "usage: axum --key KEYFILE|URL --audience HOST [--issuer ISS] [--listen ADDR]
  --key       key file, or the https URL of Pomerium's JWKS        (env POMERIUM_JWT_KEY)
  --audience  the route's host, as Pomerium writes it in aud       (env POMERIUM_JWT_AUDIENCE)
  --issuer    require this iss (default: what Pomerium writes)     (env POMERIUM_JWT_ISSUER)
  --listen    address to listen on (default 127.0.0.1:8080)        (env LISTEN)";

struct Options {
    key: String,
    audience: String,
    issuer: Option<String>,
    listen: String,
}

fn options() -> Result<Options, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (mut key, mut audience, mut issuer) =
        (env("POMERIUM_JWT_KEY"), env("POMERIUM_JWT_AUDIENCE"), env("POMERIUM_JWT_ISSUER"));
    let mut listen = env("LISTEN").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--key" => &mut key,
            "--audience" => &mut audience,
            "--issuer" => &mut issuer,
            "--listen" => {
                listen = args.next().ok_or("--listen needs a value")?;
                continue;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        };
        *slot = Some(args.next().ok_or_else(|| format!("{arg} needs a value"))?);
    }
    Ok(Options {
        key: key.ok_or("--key (or POMERIUM_JWT_KEY) is required")?,
        audience: audience.ok_or("--audience (or POMERIUM_JWT_AUDIENCE) is required")?,
        issuer,
        listen,
    })
}

/// The example's routes, behind the layer.
fn app(layer: PomeriumJwtLayer) -> Router {
    Router::new().route("/", get(whoami)).route("/whoami", get(whoami)).layer(layer)
}

async fn whoami(identity: Identity) -> Json<Value> {
    Json(json!({
        "sub": identity.sub, "email": identity.email, "user": identity.user, "name": identity.name,
        "sid": identity.sid, "groups": identity.groups, "iss": identity.iss, "exp": identity.exp,
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let keys = if options.key.starts_with("https://") || options.key.starts_with("http://") {
        match RemoteJwks::new(&options.key) {
            Ok(remote) => remote.start().await,
            Err(e) => Err(e),
        }
    } else {
        Keys::from_file(&options.key)
    };
    let keys = match keys {
        Ok(keys) => keys,
        Err(e) => {
            eprintln!("error: {}: {e}", options.key);
            return ExitCode::from(2);
        }
    };
    let count = keys.len();
    let mut layer = PomeriumJwtLayer::new(keys, options.audience.as_str());
    if let Some(issuer) = options.issuer {
        layer = layer.issuer(issuer);
    }
    let listener = match tokio::net::TcpListener::bind(&options.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", options.listen);
            return ExitCode::from(2);
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr} (audience {}, {count} key(s))", options.audience),
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }
    if let Err(e) = axum::serve(listener, app(layer)).await {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
