//! Verify Pomerium's `X-Pomerium-Jwt-Assertion` with the keys of Pomerium's JWKS.
//!
//! ```sh
//! cargo run --example jwks
//! ```
//!
//! The JWKS (`tests/data/python/jwks-rotation.json`) holds two keys, as Pomerium's
//! `/.well-known/pomerium/jwks.json` does while its signing key rotates; the tokens are fixtures
//! of `tests/data/tokens.json`, one signed by each key, and one whose `kid` names a key that did
//! not sign it. In a service the JWKS comes from Pomerium (fetched from a location you
//! configure, never from a URL in the token), the token from the request header, and the time
//! from the clock.

// The library denies unchecked arithmetic; this program's is on small known values.
#![allow(clippy::arithmetic_side_effects)]

use std::error::Error;
use std::path::{Path, PathBuf};

use pomerium_jwt::{Buffers, KeySet, UnixTime, Verifier};

/// The audience: the route's host, as Pomerium writes it in `aud`.
const AUDIENCE: &str = "app.example.com";
/// The fixtures' clock: 100 s after they were issued.
const NOW: u64 = 1_700_000_100;

fn main() -> Result<(), Box<dyn Error>> {
    // Once, at start-up (and again whenever the JWKS is fetched anew).
    let jwks = std::fs::read(data("python/jwks-rotation.json"))?;
    let mut keys: KeySet = KeySet::new();
    let added = keys.add_jwks(&jwks)?;
    println!("JWKS: {added} P-256 keys");
    let verifier = Verifier::new(&keys, AUDIENCE);

    // Per request: the header's value, the time, and buffers that can be reused.
    let mut buffers: Buffers = Buffers::new();
    for name in ["rotation_jwks_key1", "rotation_jwks_key2", "kid_selects_wrong_key"] {
        let token = fixture_token(name)?;
        match verifier.verify(&token, UnixTime::from_secs(NOW), &mut buffers) {
            Ok(claims) => {
                let groups: Vec<&str> = claims.groups.iter().collect();
                println!(
                    "{name}: verified: sub {:?}, email {:?}, groups {groups:?}, expires at {}",
                    claims.sub, claims.email, claims.exp
                );
            }
            // In a service: answer 401 and log the reason.
            Err(error) => println!("{name}: rejected: {error}"),
        }
    }

    // The same token ten minutes later: expired, with the values that decided it.
    let token = fixture_token("rotation_jwks_key1")?;
    if let Err(error) = verifier.verify(&token, UnixTime::from_secs(NOW + 600), &mut buffers) {
        println!("rotation_jwks_key1, ten minutes later: rejected: {error}");
    }
    Ok(())
}

/// A file of the repository's test data.
fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file)
}

/// The token of the fixture `name` in `tests/data/tokens.json`.
fn fixture_token(name: &str) -> Result<String, Box<dyn Error>> {
    let fixtures: serde_json::Value = serde_json::from_slice(&std::fs::read(data("tokens.json"))?)?;
    let token = fixtures
        .as_array()
        .and_then(|all| all.iter().find(|case| case["name"] == name))
        .and_then(|case| case["token"].as_str())
        .ok_or_else(|| format!("no fixture {name} in tests/data/tokens.json"))?;
    Ok(token.to_owned())
}
