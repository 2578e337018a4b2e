//! `pomerium-jwt`: verify or inspect Pomerium's `X-Pomerium-Jwt-Assertion` from the command line.
//!
//! Exit codes: 0 verified (or decoded, for `inspect`), 1 rejected, 2 usage or key-file error.
// The doc comments of the options are clap's `--help` text, written for a terminal: addresses bare,
// placeholders in angle brackets. rustdoc would read those as links and HTML.
#![allow(rustdoc::bare_urls, rustdoc::invalid_html_tags)]

mod explain;
mod keys;
mod terminal;

use std::io::{IsTerminal, Read};
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
    /// such as /.well-known/pomerium/jwks.json (non-P-256 members are skipped). Or the URL of
    /// one, fetched once: https://authenticate.example.com/.well-known/pomerium/jwks.json
    /// (http:// only to a loopback address; 30 s, 4 MiB and 3 redirects at most).
    #[arg(long = "key", value_name = "FILE|URL", required = true)]
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
    /// The token, or a whole header line ('X-Pomerium-Jwt-Assertion: ...', 'Authorization:
    /// Bearer ...'); '-' or absent: read it from standard input.
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
    // An unset shell variable gives an empty value, which would require an empty aud or iss.
    if args.audience.is_empty() {
        return usage_error("--audience is empty; pass the route's host, e.g. --audience app.example.com");
    }
    if args.issuer.as_deref() == Some("") {
        return usage_error("--issuer is empty; leave it out for Pomerium's default issuers, or pass the issuer");
    }
    // Keys first, so a bad key file is reported even when the token is bad too.
    let keys = match keys::load(&args.keys) {
        Ok(keys) => keys,
        Err(message) => return usage_error(&message),
    };
    let token = match read_token(args.token.as_deref(), "verify --key KEY --audience AUD") {
        Ok(token) => token,
        Err(input) => return input.exit(),
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
            println!("{}", terminal::escape_json(&explain::claims_json(&claims)));
            ExitCode::SUCCESS
        }
        Err(error) => reject(&explain::rejection(error, &token, &explain::Context::new(args, &keys))),
    }
}

fn inspect(token: Option<&str>) -> ExitCode {
    let token = match read_token(token, "inspect") {
        Ok(token) => token,
        Err(input) => return input.exit(),
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

/// Why there is no token to check.
enum Input {
    /// Standard input could not be read (exit 2).
    Unreadable(String),
    /// No token given, and standard input is a terminal: say how to pass one (exit 2).
    Terminal(&'static str),
    /// Larger than the tool reads (exit 1).
    TooLarge(usize),
    /// Nothing but white space and header names (exit 1).
    Empty,
}

impl Input {
    fn exit(self) -> ExitCode {
        match self {
            Input::Unreadable(message) => usage_error(&message),
            Input::Terminal(command) => usage_error(&format!(
                "no token given. Pass it as an argument or on standard input, e.g.\n  \
                 pomerium-jwt {command} \"$TOKEN\"\n  \
                 pomerium-jwt {command} - < token.txt\n\
                 (the value of the X-Pomerium-Jwt-Assertion header; a whole header line such as \
                 'Authorization: Bearer ...' works too)"
            )),
            Input::TooLarge(len) => reject(&format!("token is larger than {MAX_TOKEN} bytes ({len}+ bytes)")),
            Input::Empty => reject(
                "the token is empty: Pomerium sends an empty X-Pomerium-Jwt-Assertion header when it \
                 could not sign one (its log says why)",
            ),
        }
    }
}

/// The token from the argument or standard input, without surrounding white space, a leading
/// `X-Pomerium-Jwt-Assertion:` or `Authorization:` header name, or a `Bearer` scheme.
fn read_token(arg: Option<&str>, command: &'static str) -> Result<Vec<u8>, Input> {
    let raw = match arg {
        Some(token) if token != "-" => token.as_bytes().to_vec(),
        None if std::io::stdin().is_terminal() => return Err(Input::Terminal(command)),
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
    let mut token = raw.trim_ascii();
    for header in [&b"x-pomerium-jwt-assertion:"[..], b"authorization:"] {
        token = strip_prefix_ignore_case(token, header).unwrap_or(token).trim_ascii();
    }
    // `Bearer` and the white space after it (RFC 6750 scheme names are case-insensitive).
    if let Some(rest) = strip_prefix_ignore_case(token, b"bearer")
        && rest.first().is_none_or(u8::is_ascii_whitespace)
    {
        token = rest.trim_ascii();
    }
    if token.is_empty() {
        return Err(Input::Empty);
    }
    if token.len() > MAX_TOKEN {
        return Err(Input::TooLarge(token.len()));
    }
    Ok(token.to_vec())
}

fn strip_prefix_ignore_case<'a>(text: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| text.get(prefix.len()..).unwrap_or_default())
}

/// One line on stderr; the reason may quote the token, so nothing in it reaches the terminal raw.
fn reject(reason: &str) -> ExitCode {
    eprintln!("rejected: {}", terminal::escape_all(reason));
    ExitCode::from(1)
}

fn usage_error(message: &str) -> ExitCode {
    // Messages quote file names and URLs: keep their control characters off the terminal too,
    // while the message's own line breaks stay.
    let safe: Vec<String> = message.lines().map(terminal::escape_all).collect();
    eprintln!("pomerium-jwt: {}", safe.join("\n"));
    ExitCode::from(2)
}
