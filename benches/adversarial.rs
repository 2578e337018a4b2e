//! What a forged token can cost: tokens built to make the work before the signature check as
//! large as possible, beside a valid Pomerium token of the same size, in one run.
//!
//! The bound this measures (and README states): no forged token of N bytes costs more than
//! 1.5 × the parse of a valid N-byte token plus one ECDSA verification per candidate key. For
//! each forged token the report gives `(time − k × ECDSA) / parse(valid)`, with `k` its
//! candidate keys, ECDSA one verification by this crate's own ECDSA of a fixed one-byte message
//! (what each candidate key costs a forged token; the SHA-256 of the signing input, once per
//! token, counts against the forged token) and parse the
//! crate's parse-only path (everything but the signature check), so the bound holds where that
//! ratio is at most 1.5. The forged tokens:
//!
//! - `escaped-names`: the review's header, 127 long member names that differ only before a final
//!   `\u0061` (quadratic before the duplicate check used fixed-size keys);
//! - `members`: 128 header members, each with a long value;
//! - `nesting`: header values nested 31 deep, as many as fit;
//! - `escapes`: a header value made of `\ud83d\ude00` escapes;
//! - `kid-escapes`: a kid of N bytes of escapes (unescaped in place and hashed);
//! - `payload`: a large payload, which is only decoded and hashed before the signature;
//! - `many-keys`: a token without kid against 16 keys without kid (16 candidates).
//!
//! Every forged token is refused (the signature is 64 bytes of 0x01: in range, never valid).
//! Run: `cd benches && BENCH_ROUNDS=200 cargo bench --bench adversarial` (prints a table and
//! JSON). Measured in interleaved rounds, as `verify.rs` does, so ratios are per round.

#![allow(missing_docs, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

#[cfg(not(pomerium_jwt_bench))]
compile_error!("build the benchmarks from benches/ (`cd benches && cargo bench`): see benches/verify.rs");

use std::hint::black_box;
use std::time::{Duration, Instant};

use base64ct::{Base64UrlUnpadded, Encoding};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use pomerium_jwt::{Buffers, Error, KeySet, PublicKey, UnixTime, Verifier};

const AUD: &str = "httpbin.corp.example.com";
const NOW: u64 = 1_700_000_100;
/// Token sizes: a large Pomerium token, and the sizes the review measured the quadratic case at.
const SIZES: [usize; 3] = [16 << 10, 64 << 10, 1 << 20];
const MANY_KEYS: usize = 16;

type Bufs = Buffers<{ 1 << 20 }, 65536>;

fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

fn signing_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn public(seed: u8) -> PublicKey {
    PublicKey::from_sec1(signing_key(seed).verifying_key().to_sec1_point(false).as_bytes()).unwrap()
}

/// A forged token: the given header and payload, and a signature that is never valid.
fn forged(header: &str, payload: &str) -> String {
    format!("{}.{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()), b64(&[1u8; 64]))
}

/// JSON text that decodes to about `size` bytes of token (base64 grows by a third).
fn budget(size: usize) -> usize {
    size * 3 / 4 - 200
}

/// A valid Pomerium token of about `size` bytes: Go's key order, its groups filling the size.
fn valid(size: usize) -> String {
    let kid = public(1).pomerium_kid();
    let header = format!(r#"{{"alg":"ES256","kid":"{kid}","typ":"JWT"}}"#);
    let mut groups = Vec::new();
    let mut len = 0;
    while len < budget(size) - 400 {
        let group =
            format!(r#""group-{:05}-{}""#, groups.len(), if groups.len() % 7 == 0 { "r\\u0026d" } else { "eng" });
        len += group.len() + 1;
        groups.push(group);
    }
    let payload = format!(
        r#"{{"aud":"{AUD}","email":"alice@corp.example.com","exp":1700000300,"groups":[{}],"iat":1700000000,"iss":"{AUD}","jti":"5f0e9a3c","name":"Alice","sid":"b7c4e2d1","sub":"alice","user":"alice"}}"#,
        groups.join(",")
    );
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature: Signature = signing_key(1).sign(input.as_bytes());
    format!("{input}.{}", b64(&signature.to_bytes()))
}

/// The forged tokens of about `size` bytes, with their candidate-key counts.
fn forgeries(size: usize) -> Vec<(&'static str, String, usize)> {
    let room = budget(size);
    let mut list = Vec::new();

    let long = room / 127 - 20;
    let names: Vec<String> = (0..127).map(|i| format!(r#""{}{i:04}\u0061":0"#, "a".repeat(long))).collect();
    list.push(("escaped-names", forged(&format!(r#"{{"alg":"ES256",{}}}"#, names.join(",")), "{}"), 1));

    let value = "v".repeat(room / 128 - 20);
    let members: Vec<String> = (0..127).map(|i| format!(r#""m{i}":"{value}""#)).collect();
    list.push(("members", forged(&format!(r#"{{"alg":"ES256",{}}}"#, members.join(",")), "{}"), 1));

    let deep = format!("{}{}", "[".repeat(30), "]".repeat(30));
    let nested: Vec<&str> = std::iter::repeat_n(deep.as_str(), room / (deep.len() + 1)).collect();
    list.push(("nesting", forged(&format!(r#"{{"alg":"ES256","x":[{}]}}"#, nested.join(",")), "{}"), 1));

    let escapes = r"\ud83d\ude00".repeat(room / 12);
    list.push(("escapes", forged(&format!(r#"{{"alg":"ES256","x":"{escapes}"}}"#), "{}"), 1));
    list.push(("kid-escapes", forged(&format!(r#"{{"alg":"ES256","kid":"{escapes}"}}"#), "{}"), 0));

    let payload = format!(r#"{{"x":"{}"}}"#, "p".repeat(room));
    list.push(("payload", forged(r#"{"alg":"ES256"}"#, &payload), 1));
    list
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

type Run<'a> = Box<dyn FnMut() -> bool + 'a>;

fn main() {
    // Under `cargo test`/`--no-run` nothing is measured.
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let rounds: usize = std::env::var("BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(100);
    // One type for both sets, so one closure type serves every contender.
    let mut one = KeySet::<MANY_KEYS>::new();
    one.insert(public(1), Some(public(1).pomerium_kid().as_str())).unwrap();
    let mut many = KeySet::<MANY_KEYS>::new();
    for seed in 1..=MANY_KEYS as u8 {
        many.insert(public(seed + 1), None).unwrap();
    }
    let mut report = serde_json::Map::new();
    println!("| token bytes | forged token | candidates | forged / valid verify | (forged − k·ECDSA) / valid parse |");
    println!("| ---: | --- | ---: | ---: | ---: |");
    let mut worst: f64 = 0.0;
    // BENCH_SIZES=65536,... measures only those sizes.
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|_| SIZES.to_vec());
    for size in sizes {
        let valid = valid(size);
        let valid = valid.as_str();
        let mut cases = forgeries(size);
        // The valid token's claims, without kid, against 16 keys without kid.
        let claims =
            String::from_utf8(Base64UrlUnpadded::decode_vec(valid.split('.').nth(1).unwrap()).unwrap()).unwrap();
        cases.push(("many-keys", forged(r#"{"alg":"ES256"}"#, &claims), MANY_KEYS));
        let mut buffers = Box::new(Bufs::new());
        let now = UnixTime::from_secs(NOW);
        let verifier = Verifier::new(&one, AUD);
        let crowd = Verifier::new(&many, AUD);
        let (input, sig) = valid.rsplit_once('.').unwrap();
        assert!(!input.is_empty());
        let ecdsa_key = public(1);
        let ecdsa_sig = Base64UrlUnpadded::decode_vec(sig).unwrap();

        // Each forged token must be refused, with the error its construction aims at.
        for (name, token, _) in &cases {
            let v = if *name == "many-keys" { &crowd } else { &verifier };
            let got = v.verify(token, now, &mut buffers).map(drop);
            let want = if *name == "kid-escapes" {
                matches!(got, Err(Error::UnknownKey { .. }))
            } else {
                got == Err(Error::BadSignature)
            };
            assert!(want, "{name} at {size}: {got:?}");
            assert!(token.len() <= size, "{name}: {} bytes", token.len());
        }
        let mut shared = Box::new(Bufs::new());
        let mut contenders: Vec<(String, Run<'_>)> = vec![
            (
                "valid-parse".into(),
                Box::new(move || verifier.__bench_parse(black_box(valid), now, &mut buffers).is_ok()),
            ),
            ("valid-verify".into(), Box::new(move || verifier.verify(black_box(valid), now, &mut shared).is_ok())),
            (
                "ecdsa".into(),
                // The signature is over another message: a full verification that fails.
                Box::new(|| ecdsa_key.verify_es256(black_box(b"x"), &ecdsa_sig).is_err()),
            ),
        ];
        for (name, token, _) in &cases {
            let v = if *name == "many-keys" { crowd } else { verifier };
            let mut bufs = Box::new(Bufs::new());
            contenders.push(((*name).into(), Box::new(move || v.verify(black_box(token), now, &mut *bufs).is_err())));
        }

        // Interleaved rounds, each contender timed over a batch of about 2 ms.
        let iters: Vec<u32> = contenders
            .iter_mut()
            .map(|(_, run)| {
                let start = Instant::now();
                let mut n = 0u32;
                while start.elapsed() < Duration::from_millis(100) {
                    assert!(run());
                    n += 1;
                }
                (Duration::from_millis(2).as_nanos() / (start.elapsed() / n).as_nanos().max(1)).clamp(1, 100_000) as u32
            })
            .collect();
        let mut times = vec![Vec::new(); contenders.len()];
        for round in 0..rounds {
            for k in 0..contenders.len() {
                let i = (k + round) % contenders.len();
                let start = Instant::now();
                for _ in 0..iters[i] {
                    black_box((contenders[i].1)());
                }
                times[i].push(start.elapsed().as_nanos() as f64 / f64::from(iters[i]));
            }
        }
        let per_round = |f: &dyn Fn(usize) -> f64| median((0..rounds).map(f).collect());
        let t = |i: usize, r: usize| times[i][r];
        let mut entries = serde_json::Map::new();
        for (i, (name, _)) in contenders.iter().enumerate().skip(3) {
            let k = cases[i - 3].2 as f64;
            let over_verify = per_round(&|r| t(i, r) / t(1, r));
            let bound = per_round(&|r| (t(i, r) - k * t(2, r)) / t(0, r));
            worst = worst.max(bound);
            println!("| {} | {name} | {} | {over_verify:.3} | {bound:.3} |", cases[i - 3].1.len(), cases[i - 3].2);
            entries.insert(name.clone(), serde_json::json!({ "ns": median(times[i].clone()), "over_valid_verify": over_verify, "bound_ratio": bound }));
        }
        entries.insert("valid-parse-ns".into(), median(times[0].clone()).into());
        entries.insert("valid-verify-ns".into(), median(times[1].clone()).into());
        entries.insert("ecdsa-ns".into(), median(times[2].clone()).into());
        report.insert(size.to_string(), entries.into());
    }
    println!("\nworst (forged − k·ECDSA) / valid parse: {worst:.3} (bound: 1.5)");
    println!("{}", serde_json::Value::Object(report));
}
