//! Verify with precomputed keys: per-key tables that make each verification several times
//! faster, for a service that checks every request behind Pomerium.
//!
//! ```sh
//! cargo run --release --example precomputed
//! ```
//!
//! The key set is Pomerium's JWKS of the fixtures (`tests/data/python/key1.jwks.json`), the
//! token the fixture `typical_pomerium` of `tests/data/tokens.json`. The tables are built once;
//! the precomputed verifier must then give exactly the plain verifier's verdicts, which this
//! program checks on the token and on a copy with a corrupted signature, and it times both.

// The library denies unchecked arithmetic; this program's is on small known values.
#![allow(clippy::arithmetic_side_effects)]

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use pomerium_jwt::{BaseTable, Buffers, KeySet, PrecomputedKey, TableEntry, UnixTime, Verifier, Window};

const AUDIENCE: &str = "app.example.com";
/// The fixtures' clock: 100 s after they were issued.
const NOW: u64 = 1_700_000_100;
/// Verifications timed per verifier.
const ROUNDS: u32 = 200;

fn main() -> Result<(), Box<dyn Error>> {
    let mut keys: KeySet = KeySet::new();
    keys.add_jwks(&std::fs::read(data("python/key1.jwks.json"))?)?;

    // Once per process: the table of the generator G, shared by every key (W8: 297 KiB), then
    // one table per key (W4: 37 KiB each). The storage is ours; the tables borrow it.
    let started = Instant::now();
    let mut g_storage = vec![TableEntry::EMPTY; Window::W8.entries()];
    let generator = BaseTable::generator(Window::W8, &mut g_storage)?;
    let mut q_storage = vec![TableEntry::EMPTY; Window::W4.entries() * keys.len()];
    let mut free = q_storage.as_mut_slice();
    let fast_keys = keys.precompute(|key| {
        let (mine, rest) = std::mem::take(&mut free).split_at_mut(Window::W4.entries());
        free = rest;
        PrecomputedKey::new(*key, BaseTable::for_key(key, Window::W4, mine)?, generator)
    })?;
    println!("tables for {} key(s) built in {:.1?}", fast_keys.len(), started.elapsed());

    let plain = Verifier::new(&keys, AUDIENCE);
    let fast = Verifier::new(&fast_keys, AUDIENCE);
    let now = UnixTime::from_secs(NOW);
    let mut buffers: Buffers = Buffers::new();

    let token = fixture_token("typical_pomerium")?;
    // One signature character changed (not the last, whose spare bits must stay zero): the same
    // token with a signature that fails.
    let at = token.len().saturating_sub(5);
    let swapped = if token.get(at..=at) == Some("A") { "B" } else { "A" };
    let forged = format!("{}{swapped}{}", token.get(..at).unwrap_or_default(), token.get(at + 1..).unwrap_or_default());

    for (what, token) in [("typical_pomerium", &token), ("corrupted signature", &forged)] {
        let expected = plain.verify(token, now, &mut buffers).map(|claims| claims.sub.map(str::to_owned));
        let got = fast.verify(token, now, &mut buffers).map(|claims| claims.sub.map(str::to_owned));
        if got != expected {
            return Err(format!("{what}: precomputed gave {got:?}, plain {expected:?}").into());
        }
        match got {
            Ok(sub) => println!("{what}: verified by both, sub {sub:?}"),
            Err(error) => println!("{what}: rejected by both: {error}"),
        }
    }

    let started = Instant::now();
    for _ in 0..ROUNDS {
        plain.verify(&token, now, &mut buffers)?;
    }
    println!("plain: {:.1?} per verification", started.elapsed() / ROUNDS);
    let started = Instant::now();
    for _ in 0..ROUNDS {
        fast.verify(&token, now, &mut buffers)?;
    }
    println!("precomputed: {:.1?} per verification", started.elapsed() / ROUNDS);
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
