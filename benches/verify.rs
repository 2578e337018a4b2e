//! Verification speed: this crate beside the floor (a bare `p256` ECDSA verify of the same
//! signing input and signature), the pure-Rust peers, and the assembly references (ring,
//! aws-lc-rs). One bench target, so `cargo bench --no-run` builds one binary.
//!
//! Every contender verifies the identical token, made here: a fixed P-256 key signs Go-style
//! JSON (keys sorted, `&` written as `\u0026`, as Pomerium's Go signer writes them) with the
//! header `{"alg":"ES256","kid":"<64 hex>","typ":"JWT"}` and the claims iss, aud, exp, iat, jti,
//! sub, user, email, name, sid and 0, 20 or 200 groups. `exp` is in 2100 because jsonwebtoken
//! reads the system clock; every contender checks exp, aud and iss at the real current time,
//! and reads every claim into its own typed claims (serde structs for the peers).
//!
//! Two modes, one binary:
//! - `cargo bench --bench verify` runs criterion: a group per token, a function per contender.
//! - `BENCH_INTERLEAVED=1 cargo bench --bench verify` measures the same contenders in
//!   interleaved rounds (each round times a batch of each, in rotating order) and prints JSON.
//!   Per-round ratios cancel the drift of a shared machine, which criterion's one-after-another
//!   runs cannot, so the ratio targets are read from this mode.
//!
//! `scripts/bench-report.py` runs both and prints the tables of benches/RESULTS.md.
//!
//! `parse-only` measures every step of `verify` but the signature (`Verifier::__bench_parse`), so
//! that `pomerium-jwt` is about floor + parse-only. The library compiles that method only under
//! `--cfg pomerium_jwt_bench`, which `benches/.cargo/config.toml` sets: run cargo from `benches/`.

#![allow(missing_docs, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

// Cargo reads benches/.cargo/config.toml only when it runs from benches/ (not with
// --manifest-path from elsewhere), and a RUSTFLAGS variable replaces it: say so, rather than
// fail on a missing method.
#[cfg(not(pomerium_jwt_bench))]
compile_error!(
    "build the benchmarks from benches/ (`cd benches && cargo bench`): benches/.cargo/config.toml \
     sets `--cfg pomerium_jwt_bench`, which `Verifier::__bench_parse` needs; with RUSTFLAGS set, \
     add `--cfg pomerium_jwt_bench` to it"
);

use std::collections::HashSet;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64ct::{Base64UrlUnpadded, Encoding};
use criterion::Criterion;
use pomerium_jwt::{BaseTable, Buffers, KeySet, PrecomputedKey, PublicKey, TableEntry, UnixTime, Verifier, Window};
use serde::Deserialize;

/// The route's host: Pomerium writes it as both `aud` and `iss`.
const AUD: &str = "httpbin.corp.example.com";
const IAT: u64 = 1_700_000_000;
/// 2100-01-01: jsonwebtoken checks `exp` against the system clock.
const EXP: u64 = 4_102_444_800;
/// The signing key's secret scalar (any fixed value in [1, n) does).
const SECRET: [u8; 32] = *b"pomerium-jwt bench signing key!!";
/// The precomputed contenders, each with tables of one window for both `G` and the key.
const PRECOMPUTED: [(&str, Window); 4] = [
    ("pomerium-jwt-precomputed-w4", Window::W4),
    ("pomerium-jwt-precomputed-w6", Window::W6),
    ("pomerium-jwt-precomputed", Window::W8),
    ("pomerium-jwt-precomputed-w10", Window::W10),
];
/// The group counts of the three tokens.
const GROUP_COUNTS: [usize; 3] = [0, 20, 200];

/// One benchmark token and everything a contender needs to verify it.
struct Fixture {
    groups: usize,
    token: String,
    /// `header "." payload`, what the signature covers.
    signing_input: Vec<u8>,
    /// `r || s`, 64 bytes.
    signature: Vec<u8>,
    /// The uncompressed SEC1 point of the key.
    sec1: Vec<u8>,
    /// Pomerium's kid for the key (lowercase hex RFC 7638 thumbprint).
    kid: String,
    /// This crate's key set: the key under its kid, as a JWKS from Pomerium gives it.
    keys: KeySet<4>,
    /// The same key set with precomputed tables, one set per entry of [`PRECOMPUTED`].
    precomputed: Vec<KeySet<4, PrecomputedKey<'static>>>,
    now: u64,
}

impl Fixture {
    fn new(groups: usize) -> Fixture {
        use p256::ecdsa::signature::Signer;
        let signing = p256::ecdsa::SigningKey::from_slice(&SECRET).unwrap();
        let sec1 = signing.verifying_key().to_sec1_point(false).as_bytes().to_vec();
        let kid = PublicKey::from_sec1(&sec1).unwrap().pomerium_kid().as_str().to_owned();
        let header = format!(r#"{{"alg":"ES256","kid":"{kid}","typ":"JWT"}}"#);
        let payload = claims_json(groups);
        let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
        let signature: p256::ecdsa::Signature = signing.sign(signing_input.as_bytes());
        let signature = signature.to_bytes().to_vec();
        let token = format!("{signing_input}.{}", b64(&signature));
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        assert!(IAT < now && now < EXP, "the system clock is outside the token's validity");
        let mut keys = KeySet::new();
        keys.insert(PublicKey::from_sec1(&sec1).unwrap(), Some(&kid)).unwrap();
        let precomputed =
            PRECOMPUTED.iter().map(|&(_, window)| keys.precompute(|key| precompute(key, window)).unwrap()).collect();
        Fixture {
            groups,
            token,
            signing_input: signing_input.into_bytes(),
            signature,
            sec1,
            kid,
            keys,
            precomputed,
            now,
        }
    }
}

/// The key with its table and the generator's, in storage that lives as long as the benchmark.
fn precompute(key: &PublicKey, window: Window) -> Result<PrecomputedKey<'static>, pomerium_jwt::Error> {
    let storage = || Vec::leak(vec![TableEntry::EMPTY; window.entries()]);
    let generator = BaseTable::generator(window, storage())?;
    PrecomputedKey::new(*key, BaseTable::for_key(key, window, storage())?, generator)
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Pomerium's claims as Go's `encoding/json` writes a map: keys sorted, no white space, and
/// `&`, `<`, `>` escaped as `\u0026`, `\u003c`, `\u003e`.
fn claims_json(groups: usize) -> String {
    let groups: Vec<String> = (0..groups).map(group).collect();
    format!(
        concat!(
            r#"{{"aud":"{aud}","email":"alice.liddell@corp.example.com","exp":{exp},"groups":[{groups}],"#,
            r#""iat":{iat},"iss":"{aud}","jti":"6f1d2c3b-9a8e-4f7d-b6c5-a4e3d2c1b0a9","#,
            r#""name":"Alice Liddell","sid":"8b2f6a0e-3c4d-4e5f-9a1b-2c3d4e5f6a7b","#,
            r#""sub":"00u1a2b3c4d5e6f7g8h9","user":"00u1a2b3c4d5e6f7g8h9"}}"#
        ),
        aud = AUD,
        exp = EXP,
        iat = IAT,
        groups = groups.join(","),
    )
}

/// The `i`th group: mostly directory group ids (GUIDs), some names, one in twenty with an
/// escaped `&` as Go writes it.
fn group(i: usize) -> String {
    let x = (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    match i % 20 {
        3 => format!(r#""eng-platform-{i}""#),
        7 => format!(r#""R\u0026D {i}""#),
        11 => format!(r#""group-admins-{i}@corp.example.com""#),
        _ => format!(
            r#""{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}""#,
            x >> 32,
            (x >> 16) & 0xFFFF,
            x & 0xFFF,
            (x >> 20) & 0xFFF,
            x.rotate_left(17) & 0xFFFF_FFFF_FFFF
        ),
    }
}

/// The claims as the serde-based peers read them: every Pomerium claim, typed.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PomeriumClaims {
    iss: String,
    aud: String,
    exp: u64,
    iat: u64,
    jti: String,
    sub: String,
    user: String,
    email: String,
    name: String,
    sid: String,
    #[serde(default)]
    groups: Vec<String>,
}

/// jwt-simple keeps the registered claims itself; these are the rest.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PomeriumCustom {
    user: String,
    email: String,
    name: String,
    sid: String,
    #[serde(default)]
    groups: Vec<String>,
}

/// jwt-compact keeps exp, nbf and iat itself; these are the rest.
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct PomeriumCompact {
    iss: String,
    aud: String,
    jti: String,
    sub: String,
    user: String,
    email: String,
    name: String,
    sid: String,
    #[serde(default)]
    groups: Vec<String>,
}

/// A contender: a closure that verifies the fixture's token once and returns whether it was
/// accepted with all its groups (every contender must accept it).
type Run<'f> = Box<dyn FnMut() -> bool + 'f>;

/// Buffers big enough for the 200-group token (about 10 KiB); their size does not change the
/// time of a verification, which touches only what the token fills.
type Bufs = Buffers<16384, 256>;

/// The contenders for one fixture, in report order. Each sets up its key and options once,
/// outside the timed closure, as a server would.
fn contenders(f: &Fixture) -> Vec<(&'static str, Run<'_>)> {
    let mut list: Vec<(&'static str, Run<'_>)> = Vec::new();
    let now = UnixTime::from_secs(f.now);

    // This crate: the key under its Pomerium kid, the default policy (iss = aud accepted).
    let verifier = Verifier::new(&f.keys, AUD);
    let mut buffers = Box::new(Bufs::new());
    list.push((
        "pomerium-jwt",
        Box::new(move || match verifier.verify(black_box(&f.token), now, &mut buffers) {
            Ok(claims) => black_box(claims.groups.len()) == f.groups,
            Err(_) => false,
        }),
    ));

    // The floor: p256 (the version this crate uses) over the same input and signature.
    {
        use p256::ecdsa::signature::Verifier as _;
        use p256::ecdsa::{Signature, VerifyingKey};
        let key = VerifyingKey::from_sec1_bytes(&f.sec1).unwrap();
        list.push((
            "floor-p256",
            Box::new(move || {
                let Ok(signature) = Signature::from_slice(black_box(&f.signature)) else {
                    return false;
                };
                key.verify(black_box(&f.signing_input), &signature).is_ok()
            }),
        ));
    }

    // This crate's signature step alone (`PublicKey::verify_es256`: range check, SHA-256,
    // ECDSA), which is the floor as this crate compiles it.
    let key = PublicKey::from_sec1(&f.sec1).unwrap();
    list.push((
        "pomerium-jwt-es256",
        Box::new(move || key.verify_es256(black_box(&f.signing_input), black_box(&f.signature)).is_ok()),
    ));

    // Everything but the signature: split, base64url, header, key choice, claims, policy.
    {
        let verifier = Verifier::new(&f.keys, AUD);
        let mut buffers = Box::new(Bufs::new());
        list.push((
            "parse-only",
            Box::new(move || match verifier.__bench_parse(black_box(&f.token), now, &mut buffers) {
                Ok(claims) => black_box(claims.groups.len()) == f.groups,
                Err(_) => false,
            }),
        ));
    }

    // This crate with precomputed tables for the key and the generator (`PrecomputedKey`).
    for (&(name, _), set) in PRECOMPUTED.iter().zip(&f.precomputed) {
        let precomputed = Verifier::new(set, AUD);
        let mut buffers = Box::new(Bufs::new());
        list.push((
            name,
            Box::new(move || match precomputed.verify(black_box(&f.token), now, &mut buffers) {
                Ok(claims) => black_box(claims.groups.len()) == f.groups,
                Err(_) => false,
            }),
        ));
    }

    // jsonwebtoken 12, RustCrypto backend: exp (system clock), aud and iss required.
    {
        use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
        let _ = jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER.install_default();
        let (x, y) = (b64(&f.sec1[1..33]), b64(&f.sec1[33..]));
        let key = DecodingKey::from_ec_components(&x, &y).unwrap();
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[AUD]);
        validation.set_issuer(&[AUD]);
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        list.push((
            "jsonwebtoken",
            Box::new(move || match decode::<PomeriumClaims>(black_box(&f.token), &key, &validation) {
                Ok(data) => black_box(data.claims.groups.len()) == f.groups,
                Err(_) => false,
            }),
        ));
    }

    // jwt-simple 0.15, pure-rust: kid, exp, iat, aud and iss checked at `now`.
    {
        use jwt_simple::prelude::{ECDSAP256PublicKeyLike, ES256PublicKey, UnixTimeStamp, VerificationOptions};
        let key = ES256PublicKey::from_bytes(&f.sec1).unwrap().with_key_id(&f.kid);
        let options = VerificationOptions {
            required_key_id: Some(f.kid.clone()),
            allowed_issuers: Some(HashSet::from([AUD.to_owned()])),
            allowed_audiences: Some(HashSet::from([AUD.to_owned()])),
            artificial_time: Some(UnixTimeStamp::from_secs(f.now)),
            ..VerificationOptions::default()
        };
        list.push((
            "jwt-simple",
            // The options are taken by value: a server clones them per call, so does this.
            Box::new(move || match key.verify_token::<PomeriumCustom>(black_box(&f.token), Some(options.clone())) {
                Ok(claims) => black_box(claims.custom.groups.len()) == f.groups,
                Err(_) => false,
            }),
        ));
    }

    // jwt-compact 0.8 (p256 0.13): signature, then exp at `now`; aud and iss compared here,
    // as jwt-compact leaves them to the caller.
    {
        use jwt_compact::alg::Es256;
        use jwt_compact::{AlgorithmExt, TimeOptions, UntrustedToken};
        let key = p256_013::ecdsa::VerifyingKey::from_sec1_bytes(&f.sec1).unwrap();
        let at = chrono::DateTime::from_timestamp(i64::try_from(f.now).unwrap(), 0).unwrap();
        let time = TimeOptions::new(chrono::Duration::seconds(60), move || at);
        list.push((
            "jwt-compact",
            Box::new(move || {
                let Ok(untrusted) = UntrustedToken::new(black_box(&f.token)) else {
                    return false;
                };
                let Ok(token) = Es256.validator::<PomeriumCompact>(&key).validate(&untrusted) else {
                    return false;
                };
                let claims = token.claims();
                claims.validate_expiration(&time).is_ok()
                    && claims.custom.aud == AUD
                    && claims.custom.iss == AUD
                    && black_box(claims.custom.groups.len()) == f.groups
            }),
        ));
    }

    // The assembly references: the signature alone, as the floor, with ring and aws-lc-rs.
    {
        use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        let key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, f.sec1.clone());
        list.push(("ring", Box::new(move || key.verify(black_box(&f.signing_input), black_box(&f.signature)).is_ok())));
    }
    {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
        let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &f.sec1).unwrap();
        list.push((
            "aws-lc-rs",
            Box::new(move || key.verify_sig(black_box(&f.signing_input), black_box(&f.signature)).is_ok()),
        ));
    }

    // jwt-compact's floor: the same bare verify with p256 0.13, the version it links.
    {
        use p256_013::ecdsa::signature::Verifier as _;
        use p256_013::ecdsa::{Signature, VerifyingKey};
        let key = VerifyingKey::from_sec1_bytes(&f.sec1).unwrap();
        list.push((
            "floor-p256-0.13",
            Box::new(move || {
                let Ok(signature) = Signature::from_slice(black_box(&f.signature)) else {
                    return false;
                };
                key.verify(black_box(&f.signing_input), &signature).is_ok()
            }),
        ));
    }

    list
}

fn criterion_benches(c: &mut Criterion, fixtures: &[Fixture]) {
    for f in fixtures {
        let mut group = c.benchmark_group(format!("verify-{}groups", f.groups));
        for (name, mut run) in contenders(f) {
            group.bench_function(name, |b| b.iter(|| assert!(run())));
        }
        group.finish();
    }
    precomputed_benches(c, &fixtures[1]);
    // What the public API offers today for the cost of everything but the signature: the
    // unverified decode (split, base64url, JSON well-formedness; no typed claims, no policy).
    let mut group = c.benchmark_group("phases");
    for f in fixtures {
        let mut buffer = vec![0u8; f.token.len()];
        group.bench_function(format!("decode-unverified-{}groups", f.groups), |b| {
            b.iter(|| pomerium_jwt::dangerous::decode_unverified(black_box(f.token.as_bytes()), &mut buffer).is_ok())
        });
    }
    group.finish();
}

/// Precomputed keys at every table size, on the 20-group token, beside the plain verify and
/// the assembly references (in the same run), and the one-time cost of building each table.
fn precomputed_benches(c: &mut Criterion, f: &Fixture) {
    let key = PublicKey::from_sec1(&f.sec1).unwrap();
    let now = UnixTime::from_secs(f.now);
    let mut group = c.benchmark_group("precomputed");
    let plain = Verifier::new(&f.keys, AUD);
    let mut buffers = Box::new(Bufs::new());
    group.bench_function("plain", |b| b.iter(|| plain.verify(black_box(&f.token), now, &mut buffers).is_ok()));
    for window in [Window::W4, Window::W6, Window::W8, Window::W10] {
        let storage = || Vec::leak(vec![TableEntry::EMPTY; window.entries()]);
        let generator = BaseTable::generator(window, storage()).unwrap();
        let set = f
            .keys
            .precompute(|key| PrecomputedKey::new(*key, BaseTable::for_key(key, window, storage())?, generator))
            .unwrap();
        let verifier = Verifier::new(&set, AUD);
        group.bench_function(format!("verify-{window:?}"), |b| {
            b.iter(|| assert!(verifier.verify(black_box(&f.token), now, &mut buffers).is_ok()))
        });
        let mut scratch = vec![TableEntry::EMPTY; window.entries()];
        group.bench_function(format!("build-table-{window:?}"), |b| {
            b.iter(|| BaseTable::for_key(black_box(&key), window, &mut scratch).is_ok())
        });
    }
    {
        use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        let ring_key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, f.sec1.clone());
        group.bench_function("ring", |b| b.iter(|| ring_key.verify(&f.signing_input, &f.signature).is_ok()));
    }
    {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        let aws_key = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, f.sec1.clone());
        group.bench_function("aws-lc-rs", |b| b.iter(|| aws_key.verify(&f.signing_input, &f.signature).is_ok()));
    }
    group.finish();
}

/// Interleaved rounds: per round, one batch of each contender (rotating which goes first),
/// each batch sized to take about 2 ms. Prints one JSON object: per contender the median time
/// per verification, the median over rounds of its ratio to `pomerium-jwt` and to the floor,
/// and the median over rounds of its difference from the floor.
fn interleaved(fixtures: &[Fixture]) {
    const BATCH: Duration = Duration::from_millis(2);
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(500);
    let mut tokens = serde_json::Map::new();
    for f in fixtures {
        let mut list = contenders(f);
        // Warm each up for 200 ms and size its batch from that.
        let iters: Vec<u32> = list
            .iter_mut()
            .map(|(name, run)| {
                let start = Instant::now();
                let mut n = 0u32;
                while start.elapsed() < Duration::from_millis(200) {
                    assert!(run(), "{name} refused the {}-group token", f.groups);
                    n += 1;
                }
                let per = start.elapsed() / n;
                u32::try_from(BATCH.as_nanos() / per.as_nanos().max(1)).unwrap_or(u32::MAX).clamp(1, 1_000_000)
            })
            .collect();
        let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); list.len()];
        for round in 0..rounds {
            for k in 0..list.len() {
                let i = (k + round) % list.len();
                let run = &mut list[i].1;
                let start = Instant::now();
                for _ in 0..iters[i] {
                    black_box(run());
                }
                times[i].push(start.elapsed().as_nanos() as f64 / f64::from(iters[i]));
            }
        }
        let position = |name: &str| list.iter().position(|(n, _)| *n == name).unwrap();
        let (ours, floor) = (position("pomerium-jwt"), position("floor-p256"));
        // The assembly references, for the precomputed contenders' targets.
        let (ring, aws) = (position("ring"), position("aws-lc-rs"));
        let per_round = |i: usize, base: usize, op: fn(f64, f64) -> f64| {
            median(times[i].iter().zip(&times[base]).map(|(a, b)| op(*a, *b)).collect())
        };
        let mut fields = serde_json::Map::new();
        for (i, (name, _)) in list.iter().enumerate() {
            fields.insert(
                (*name).to_owned(),
                serde_json::json!({
                    "median_ns": median(times[i].clone()),
                    "over_ours": per_round(i, ours, |a, b| a / b),
                    "over_floor": per_round(i, floor, |a, b| a / b),
                    "minus_floor_ns": per_round(i, floor, |a, b| a - b),
                    "over_ring": per_round(i, ring, |a, b| a / b),
                    "over_aws_lc_rs": per_round(i, aws, |a, b| a / b),
                }),
            );
        }
        tokens.insert(
            f.groups.to_string(),
            serde_json::json!({ "token_bytes": f.token.len(), "batch_iterations": iters, "contenders": fields }),
        );
    }
    let report = serde_json::json!({ "rounds": rounds, "batch_ms": BATCH.as_millis() as u64, "tokens": tokens });
    println!("{report}");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn main() {
    let fixtures: Vec<Fixture> = GROUP_COUNTS.iter().map(|&g| Fixture::new(g)).collect();
    // Every contender must accept every token before anything is timed.
    for f in &fixtures {
        for (name, mut run) in contenders(f) {
            assert!(run(), "{name} refused the {}-group token", f.groups);
        }
    }
    if std::env::var_os("BENCH_INTERLEAVED").is_some() {
        interleaved(&fixtures);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, &fixtures);
    c.final_summary();
}
