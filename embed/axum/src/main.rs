//! Runs the example service: every request must carry a valid `X-Pomerium-Jwt-Assertion`.
//!
//! ```text
//! pomerium-jwt-axum --key KEYFILE --audience HOST [--issuer ISS] [--listen ADDR]
//! ```
//!
//! Each option can come from the environment instead: `POMERIUM_JWT_KEY`,
//! `POMERIUM_JWT_AUDIENCE`, `POMERIUM_JWT_ISSUER`, `LISTEN` (default `127.0.0.1:8080`; port 0
//! picks a free one). The key file is read once at start-up; the clock is the system's.

use std::process::ExitCode;
use std::sync::Arc;

use pomerium_jwt_axum::{PomeriumAuth, app};

const USAGE: &str = "usage: pomerium-jwt-axum --key KEYFILE --audience HOST [--issuer ISS] [--listen ADDR]
  --key       JWKS, JWK or PEM public key / certificate file     (env POMERIUM_JWT_KEY)
  --audience  the route's host, as Pomerium writes it in aud     (env POMERIUM_JWT_AUDIENCE)
  --issuer    require this iss (default: what Pomerium writes)   (env POMERIUM_JWT_ISSUER)
  --listen    address to listen on (default 127.0.0.1:8080)      (env LISTEN)";

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
    let mut auth = match PomeriumAuth::from_key_file(&options.key, options.audience.as_str()) {
        Ok(auth) => auth,
        Err(e) => {
            eprintln!("error: {}: {e}", options.key);
            return ExitCode::from(2);
        }
    };
    if let Some(issuer) = options.issuer {
        auth = auth.with_issuer(issuer);
    }
    let keys = auth.key_count();
    let listener = match tokio::net::TcpListener::bind(&options.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", options.listen);
            return ExitCode::from(2);
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("listening on http://{addr} (audience {}, {keys} key(s))", options.audience),
        Err(e) => eprintln!("listening (address unknown: {e})"),
    }
    if let Err(e) = axum::serve(listener, app(Arc::new(auth))).await {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
