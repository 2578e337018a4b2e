//! What a forged token can cost: tokens built to make the work before the signature check as
//! large as possible, beside a valid Pomerium token of the same size, in one run.
//!
//! The bound this measures (and README states): no forged token of N bytes costs more than the
//! whole verification of a valid N-byte token with one key, plus one ECDSA verification per
//! further candidate key. For each forged token the report gives
//! `(time − (k − 1) × ECDSA) / verify(valid)`, with `k` its candidate keys (at least one counted),
//! which must be at most 1.0; and, as before, `(time − k × ECDSA) / parse(valid)`, with parse the
//! crate's parse-only path (everything but the signature check). ECDSA is one verification by
//! this crate's own ECDSA of a fixed one-byte message (what each candidate key costs a forged
//! token; the SHA-256 of the signing input, once per token, counts against the forged token).
//!
//! A header over 1 KiB is refused before its JSON is read, so the forged tokens put the most
//! expensive 1 KiB header they can find in front of a payload that fills the rest of the size
//! (decoded and hashed, never parsed, since the signature fails). Each header shape:
//!
//! - `ones`: `"x":[1,1,1,...]`, a value a byte;
//! - `empty-objects`: `"x":{"":"","":"",...}`, names and values of no length;
//! - `empty-strings`: `"x":["","",...]`;
//! - `nesting`: arrays nested 30 deep, as many as fit;
//! - `escaped-names`: member names that differ only before a final `\u0061`;
//! - `escapes`: a value made of `\ud83d\ude00` escapes;
//! - `kid-escapes`: a kid of escapes (unescaped in place, then compared: no candidate key);
//! - `whitespace`: runs of white space between the header's tokens;
//! - `exponents`: numbers with long exponents;
//! - `members`: 127 members;
//!
//! then `*-uncapped`: the first three shapes filling the whole token (refused as
//! `Capacity::Header` before anything is decoded), `payload` (a small header and a large
//! payload), and `many-keys`: a token without kid against 16 keys without kid (16 candidates).
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
use pomerium_jwt::{Buffers, Capacity, Error, KeySet, PublicKey, UnixTime, Verifier};

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

/// A forged token of about `size` bytes: `header`, then a payload that fills the rest.
fn forged_filled(header: &str, size: usize) -> String {
    let header_symbols = b64(header.as_bytes()).len();
    let room = (size - header_symbols - 100) * 3 / 4 - 10;
    forged(header, &format!(r#"{{"x":"{}"}}"#, "p".repeat(room)))
}

/// `{"alg":"ES256",<members>}` with as many of `unit` (joined by `sep`) inside `open`/`close` as
/// keep it at most `limit` bytes long.
fn header_of(limit: usize, open: &str, unit: &str, sep: &str, close: &str) -> String {
    let (head, tail) = (format!(r#"{{"alg":"ES256",{open}"#), format!("{close}}}"));
    let n = (limit - head.len() - tail.len() + sep.len()) / (unit.len() + sep.len());
    let header = format!("{head}{}{tail}", vec![unit; n].join(sep));
    assert!(header.len() <= limit, "{} > {limit}", header.len());
    header
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

/// `{"alg":"ES256",<members>}` with as many of `members` as keep it at most `limit` bytes long.
fn fitted(limit: usize, members: impl Iterator<Item = String>) -> String {
    let mut header = String::from(r#"{"alg":"ES256""#);
    for member in members {
        if header.len() + member.len() + 2 > limit {
            break;
        }
        header.push(',');
        header.push_str(&member);
    }
    header.push('}');
    header
}

/// The forged tokens of about `size` bytes, with their candidate-key counts.
fn forgeries(size: usize) -> Vec<(String, String, usize)> {
    let cap = pomerium_jwt::MAX_HEADER;
    let deep = format!("{}{}", "[".repeat(30), "]".repeat(30));
    // (name, members inside `{"alg":"ES256",...}` at most `limit` bytes long, candidates)
    let shapes = |limit: usize| {
        let names = fitted(limit, (0..).map(|i| format!(r#""{i:04}\u0061":0"#)));
        let members = fitted(limit, (0..127).map(|i| format!(r#""m{i}":"{}""#, "v".repeat((limit / 127).max(8) - 8))));
        vec![
            ("ones", header_of(limit, r#""x":["#, "1", ",", "]"), 1),
            ("empty-objects", header_of(limit, r#""x":{"#, r#""":"""#, ",", "}"), 1),
            ("empty-strings", header_of(limit, r#""x":["#, r#""""#, ",", "]"), 1),
            ("nesting", header_of(limit, r#""x":["#, &deep, ",", "]"), 1),
            ("escaped-names", names, 1),
            ("escapes", header_of(limit, r#""x":""#, r"\ud83d\ude00", "", r#"""#), 1),
            ("kid-escapes", header_of(limit, r#""kid":""#, r"\ud83d\ude00", "", r#"""#), 0),
            ("whitespace", header_of(limit, r#""x":["#, "1 \t\n\r ", ",", "]"), 1),
            ("exponents", header_of(limit, r#""x":["#, &format!("1e{}", "9".repeat(30)), ",", "]"), 1),
            ("members", members, 1),
        ]
    };
    let mut list = Vec::new();
    for (name, header, k) in shapes(cap) {
        assert!(header.len() > cap - 40 && header.len() <= cap, "{name}: {} bytes", header.len());
        list.push((name.to_owned(), forged_filled(&header, size), k));
    }
    for (name, header, _) in shapes(size * 3 / 4 - 200).into_iter().take(3) {
        list.push((format!("{name}-uncapped"), forged(&header, "{}"), 1));
    }
    list.push(("payload".to_owned(), forged_filled(r#"{"alg":"ES256"}"#, size), 1));
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
    println!(
        "| token bytes | forged token | refused as | candidates | (forged − (k−1)·ECDSA) / valid verify | (forged − k·ECDSA) / valid parse |"
    );
    println!("| ---: | --- | --- | ---: | ---: | ---: |");
    // The worst shape per size, by the bound (over the whole valid verification).
    let mut worst: Vec<(usize, String, f64)> = Vec::new();
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
        cases.push(("many-keys".to_owned(), forged(r#"{"alg":"ES256"}"#, &claims), MANY_KEYS));
        let mut buffers = Box::new(Bufs::new());
        let now = UnixTime::from_secs(NOW);
        let verifier = Verifier::new(&one, AUD);
        let crowd = Verifier::new(&many, AUD);
        let (input, sig) = valid.rsplit_once('.').unwrap();
        assert!(!input.is_empty());
        let ecdsa_key = public(1);
        let ecdsa_sig = Base64UrlUnpadded::decode_vec(sig).unwrap();

        // Each forged token must be refused, with the error its construction aims at: a header
        // under the cap is read whole, so only the signature (or the missing key) refuses it.
        let mut refusals = Vec::new();
        for (name, token, _) in &cases {
            let v = if name == "many-keys" { &crowd } else { &verifier };
            let got = v.verify(token, now, &mut buffers).map(drop);
            let want = if name == "kid-escapes" {
                matches!(got, Err(Error::UnknownKey { .. }))
            } else if name.ends_with("-uncapped") {
                got == Err(Error::Capacity(Capacity::Header))
            } else {
                got == Err(Error::BadSignature)
            };
            assert!(want, "{name} at {size}: {got:?}");
            assert!(token.len() <= size && token.len() > size * 9 / 10, "{name}: {} bytes", token.len());
            refusals.push(match got {
                Err(Error::UnknownKey { .. }) => "unknown key",
                Err(Error::Capacity(Capacity::Header)) => "header cap",
                _ => "signature",
            });
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
            let v = if name == "many-keys" { crowd } else { verifier };
            let mut bufs = Box::new(Bufs::new());
            contenders.push((name.clone(), Box::new(move || v.verify(black_box(token), now, &mut *bufs).is_err())));
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
        let mut worst_here = (String::new(), f64::MIN);
        for (i, (name, _)) in contenders.iter().enumerate().skip(3) {
            let (_, token, k) = &cases[i - 3];
            let k = *k as f64;
            // The target: the whole valid verification, plus one ECDSA per candidate beyond one.
            let over_verify = per_round(&|r| (t(i, r) - (k - 1.0).max(0.0) * t(2, r)) / t(1, r));
            let over_parse = per_round(&|r| (t(i, r) - k * t(2, r)) / t(0, r));
            if over_verify > worst_here.1 {
                worst_here = (name.clone(), over_verify);
            }
            println!(
                "| {} | {name} | {} | {} | {over_verify:.3} | {over_parse:.3} |",
                token.len(),
                refusals[i - 3],
                cases[i - 3].2
            );
            entries.insert(
                name.clone(),
                serde_json::json!({ "ns": median(times[i].clone()), "over_valid_verify": over_verify, "over_valid_parse": over_parse }),
            );
        }
        worst.push((size, worst_here.0, worst_here.1));
        entries.insert("valid-parse-ns".into(), median(times[0].clone()).into());
        entries.insert("valid-verify-ns".into(), median(times[1].clone()).into());
        entries.insert("ecdsa-ns".into(), median(times[2].clone()).into());
        report.insert(size.to_string(), entries.into());
    }
    for (size, name, ratio) in &worst {
        println!("worst at {size} bytes: {name}, {ratio:.3} × a valid verify (target: at most 1.0)");
    }
    println!("{}", serde_json::Value::Object(report));
}
