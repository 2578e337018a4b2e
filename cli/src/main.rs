//! `pomerium-jwt`: verify or inspect Pomerium's `X-Pomerium-Jwt-Assertion` from the command line.
//!
//! Exit codes: 0 verified (or decoded, for `inspect`), 1 rejected, 2 usage or key-file error.

mod explain;
mod keys;

use std::io::Read;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use pomerium_jwt::{Buffers, UnixTime, Verifier, dangerous};

/// The largest token read; larger input is refused without being parsed.
const MAX_TOKEN: usize = 1 << 20;
/// Room for `groups` entries (and array `aud` entries) in one token.
const MAX_GROUPS: usize = 1 << 16;

#[derive(Parser)]
#[command(
    name = "pomerium-jwt",
    version,
    about = "Verify Pomerium's X-Pomerium-Jwt-Assertion header (an ES256 JWT) the way your application should.",
    long_about = "Verify Pomerium's X-Pomerium-Jwt-Assertion header (an ES256 JWT) the way your application \
should, instead of pasting it into a JWT website.\n\n\
It replaces the manual check at the end of Pomerium's signed-headers guide:\n\n  \
# the key pair from the guide\n  \
openssl ecparam -genkey -name prime256v1 -noout -out ec_private.pem\n  \
openssl req -x509 -new -key ec_private.pem -days 1000000 -out ec_public.pem -subj \"/CN=unused\"\n  \
# ... configure Pomerium's signing_key with ec_private.pem, then check a header value:\n  \
pomerium-jwt verify --key ec_public.pem --audience app.example.com \"$ASSERTION\"\n\n\
Or fetch the keys Pomerium publishes and verify against them:\n\n  \
curl -s https://app.example.com/.well-known/pomerium/jwks.json > jwks.json\n  \
pomerium-jwt verify --key jwks.json --audience app.example.com < header-value.txt"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify a token: signature, alg, kid, exp/iat/nbf, aud and iss. Prints its claims as JSON.
    #[command(after_help = "Examples:\n  \
pomerium-jwt verify --key ec_public.pem --audience app.example.com eyJhbGciOi...\n  \
pomerium-jwt verify --key jwks.json --audience app.example.com --issuer authenticate.example.com - < token.txt\n  \
echo 'X-Pomerium-Jwt-Assertion: eyJhbGciOi...' | pomerium-jwt verify --key jwks.json --audience app.example.com\n\n\
Exit status: 0 verified (claims JSON on stdout), 1 rejected (one 'rejected: <reason>' line on stderr),\n\
2 usage or key-file error.")]
    Verify(VerifyArgs),
    /// Decode a token WITHOUT verifying it, like a JWT debugger. Exit 0 if it decodes, 1 if not.
    #[command(after_help = "Example:\n  pomerium-jwt inspect eyJhbGciOi...\n\n\
The output is marked UNVERIFIED: anyone can write a token that decodes. Use 'verify' to trust it.")]
    Inspect {
        /// The token; '-' or absent: read it from standard input.
        token: Option<String>,
    },
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// A key file (repeatable): PUBLIC KEY or CERTIFICATE PEM (several blocks allowed, or the
    /// whole file base64-encoded once more, as Pomerium's signing_key is), DER, a JWK, or a JWKS
    /// such as /.well-known/pomerium/jwks.json (non-P-256 members are skipped).
    #[arg(long = "key", value_name = "FILE", required = true)]
    keys: Vec<std::path::PathBuf>,
    /// The expected audience: the route's host, e.g. app.example.com. The token's aud (a string,
    /// or an array of strings) must be or contain it.
    #[arg(long, value_name = "AUD")]
    audience: String,
    /// The exact issuer to require. Default: the audience itself, https://<audience>/ or
    /// pomerium-proxy (what Pomerium writes).
    #[arg(long, value_name = "ISS")]
    issuer: Option<String>,
    /// The time to verify at, in Unix seconds (default: the system clock).
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// Allowed clock skew for exp, iat and nbf, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = pomerium_jwt::DEFAULT_LEEWAY)]
    leeway: u64,
    /// The token (or a whole 'X-Pomerium-Jwt-Assertion: ...' header line); '-' or absent: read
    /// it from standard input.
    token: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify(args) => verify(&args),
        Command::Inspect { token } => inspect(token.as_deref()),
    }
}

fn verify(args: &VerifyArgs) -> ExitCode {
    // Keys first, so a bad key file is reported even when the token is bad too.
    let keys = match keys::load(&args.keys) {
        Ok(keys) => keys,
        Err(message) => return usage_error(&message),
    };
    let token = match read_token(args.token.as_deref()) {
        Ok(token) => token,
        Err(Input::Unreadable(message)) => return usage_error(&message),
        Err(Input::TooLarge(len)) => return reject(&format!("token is larger than {MAX_TOKEN} bytes ({len}+ bytes)")),
    };
    let now = match args.now {
        Some(now) => now,
        None => match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(elapsed) => elapsed.as_secs(),
            Err(_) => return usage_error("the system clock is before 1970; pass --now"),
        },
    };

    let mut verifier = Verifier::new(&keys, &args.audience).with_leeway(args.leeway);
    if let Some(issuer) = &args.issuer {
        verifier = verifier.with_issuer(issuer);
    }
    let mut buffers: Box<Buffers<MAX_TOKEN, MAX_GROUPS>> = Box::default();
    match verifier.verify(&token, UnixTime::from_secs(now), &mut buffers) {
        Ok(claims) => {
            println!("{}", explain::claims_json(&claims));
            ExitCode::SUCCESS
        }
        Err(error) => reject(&explain::rejection(error, &token, &explain::Context::new(args, &keys))),
    }
}

fn inspect(token: Option<&str>) -> ExitCode {
    let token = match read_token(token) {
        Ok(token) => token,
        Err(Input::Unreadable(message)) => return usage_error(&message),
        Err(Input::TooLarge(len)) => return reject(&format!("token is larger than {MAX_TOKEN} bytes ({len}+ bytes)")),
    };
    let mut buffer = vec![0u8; token.len()];
    match dangerous::decode_unverified(&token, &mut buffer) {
        Ok(parts) => {
            print!("{}", explain::unverified(&parts));
            ExitCode::SUCCESS
        }
        Err(error) => reject(&format!("cannot decode the token: {error}")),
    }
}

enum Input {
    Unreadable(String),
    TooLarge(usize),
}

/// The token from the argument or standard input, without surrounding white space or a leading
/// `X-Pomerium-Jwt-Assertion:` header name.
fn read_token(arg: Option<&str>) -> Result<Vec<u8>, Input> {
    let raw = match arg {
        Some(token) if token != "-" => token.as_bytes().to_vec(),
        _ => {
            let mut bytes = Vec::new();
            // Read a little past the limit: white space around a token at the limit is fine,
            // anything longer is refused without reading the rest.
            let limit = MAX_TOKEN.saturating_add(4096);
            std::io::stdin()
                .lock()
                .take(u64::try_from(limit).unwrap_or(u64::MAX))
                .read_to_end(&mut bytes)
                .map_err(|e| Input::Unreadable(format!("cannot read the token from standard input: {e}")))?;
            if bytes.len() >= limit {
                return Err(Input::TooLarge(bytes.len()));
            }
            bytes
        }
    };
    const HEADER: &[u8] = b"x-pomerium-jwt-assertion:";
    let mut token = raw.trim_ascii();
    if token.get(..HEADER.len()).is_some_and(|prefix| prefix.eq_ignore_ascii_case(HEADER)) {
        token = token.get(HEADER.len()..).unwrap_or_default().trim_ascii();
    }
    if token.len() > MAX_TOKEN {
        return Err(Input::TooLarge(token.len()));
    }
    Ok(token.to_vec())
}

fn reject(reason: &str) -> ExitCode {
    eprintln!("rejected: {reason}");
    ExitCode::from(1)
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("pomerium-jwt: {message}");
    ExitCode::from(2)
}
