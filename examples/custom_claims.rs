//! Read every claim of a verified token: Pomerium's `jwt_claims_headers` claims by name, all of
//! them in order, and the payload exactly as signed.
//!
//! ```sh
//! cargo run --example custom_claims
//! ```
//!
//! The tokens are `tests/data/python/custom/cases.json`: payloads shaped as Pomerium's Go code
//! writes them (keys sorted, `&` as `\u0026`, claims such as `given_name`, `department`,
//! `employee_number` as strings), signed with Python `cryptography` by
//! `tests/data/gen-custom-claims.py`. Nothing here allocates inside the library: strings with
//! escapes are unescaped into a buffer of this program's.

use std::error::Error;
use std::path::{Path, PathBuf};

use pomerium_jwt::{Buffers, KeySet, UnixTime, Value, Verifier};

const AUDIENCE: &str = "app.example.com";
const NOW: u64 = 1_700_000_100;

fn main() -> Result<(), Box<dyn Error>> {
    let mut keys: KeySet = KeySet::new();
    keys.add_jwks(&std::fs::read(data("python/key1.jwks.json"))?)?;
    let verifier = Verifier::new(&keys, AUDIENCE);
    let mut buffers: Buffers = Buffers::new();
    let mut scratch = [0u8; 1024];

    for name in ["readme", "go_shaped", "escaped_member_names"] {
        let token = case_token(name)?;
        let claims = verifier.verify(&token, UnixTime::from_secs(NOW), &mut buffers)?;
        println!("{name}: verified for {}", claims.email.unwrap_or("(no email)"));

        // One claim by name: `department` is "R\u0026D,Sales" in the token.
        if let Some(Value::String(department)) = claims.get("department") {
            let value = department.unescape_into(&mut scratch)?;
            let parts: Vec<&str> = value.split(',').collect();
            println!("  department: {parts:?}");
        }
        // Every claim the verifier does not read itself, with its value.
        for (claim, value) in claims.members() {
            let claim = claim.unescape_into(&mut scratch)?.to_owned();
            if matches!(
                claim.as_str(),
                "iss" | "aud" | "exp" | "iat" | "nbf" | "sub" | "email" | "user" | "name" | "sid" | "jti" | "groups"
            ) {
                continue;
            }
            let shown = match value {
                Value::String(s) => format!("{:?}", s.unescape_into(&mut scratch)?),
                other => other.json().to_owned(),
            };
            println!("  {claim} = {shown}");
        }
        println!("  payload as signed: {} bytes", claims.payload().len());
    }
    Ok(())
}

/// A file of the repository's test data.
fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file)
}

/// The token of the case `name` in `tests/data/python/custom/cases.json`.
fn case_token(name: &str) -> Result<String, Box<dyn Error>> {
    let cases: serde_json::Value = serde_json::from_slice(&std::fs::read(data("python/custom/cases.json"))?)?;
    let token = cases
        .as_array()
        .and_then(|all| all.iter().find(|case| case["name"] == name))
        .and_then(|case| case["token"].as_str())
        .ok_or_else(|| format!("no case {name} in tests/data/python/custom/cases.json"))?;
    Ok(token.to_owned())
}
