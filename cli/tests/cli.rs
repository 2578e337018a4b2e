//! The built `pomerium-jwt` binary against docs/CLI.md: exit codes, stdout JSON, the single
//! stderr line, input forms and capacities, over the fixtures of tests/data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pomerium-jwt");

fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file)
}

fn manifest(name: &str) -> Vec<Value> {
    serde_json::from_str(&std::fs::read_to_string(data(name)).unwrap()).unwrap()
}

/// Runs the tool with `args`, feeding `stdin` if given.
fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        // The tool may stop reading early (an oversized token); a broken pipe is fine then.
        let _ = input.write_all(bytes);
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Exit 1 with exactly one `rejected: ...` line on stderr and nothing on stdout.
fn assert_rejected(out: &Output, context: &str) -> String {
    let err = stderr(out);
    assert_eq!(code(out), 1, "{context}: {err}");
    assert!(out.stdout.is_empty(), "{context}: stdout {:?}", String::from_utf8_lossy(&out.stdout));
    assert!(err.starts_with("rejected: ") && err.ends_with('\n') && err.lines().count() == 1, "{context}: {err:?}");
    err
}

fn verify_args<'a>(case: &'a Value, keys: &'a [String], now: &'a str) -> Vec<&'a str> {
    let mut args = vec!["verify"];
    for key in keys {
        args.extend(["--key", key.as_str()]);
    }
    args.extend(["--audience", case["audience"].as_str().unwrap(), "--now", now]);
    if let Some(issuer) = case["issuer"].as_str() {
        args.extend(["--issuer", issuer]);
    }
    args
}

#[test]
fn every_token_fixture_through_the_binary() {
    for case in manifest("tokens.json") {
        let name = case["name"].as_str().unwrap();
        let keys: Vec<String> =
            case["keys"].as_array().unwrap().iter().map(|k| data(k.as_str().unwrap()).display().to_string()).collect();
        let now = case["now"].as_u64().unwrap().to_string();
        let leeway = case["leeway"].as_u64().map(|l| l.to_string());
        let mut args = verify_args(&case, &keys, &now);
        if let Some(leeway) = &leeway {
            args.extend(["--leeway", leeway.as_str()]);
        }
        // Through standard input: command-line arguments cannot hold a 64 KiB token.
        let token = case["token"].as_str().unwrap();
        let out = run(&args, Some(token.as_bytes()));
        if case["expect"] == "ok" {
            assert_eq!(code(&out), 0, "{name}: {}", stderr(&out));
            assert!(out.stderr.is_empty(), "{name}");
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert_eq!(stdout.lines().count(), 1, "{name}: one JSON object on one line");
            // A claim the verifier does not read may hold a lone surrogate (SPEC §4); the tool
            // prints it as the token has it, valid JSON text that serde_json refuses to read.
            let printed: serde_json::Map<String, Value> =
                serde_json::from_str(&lone_surrogates_replaced(&stdout)).unwrap();
            // The known claims as the manifest has them, first; then every other claim of the
            // payload (which the manifest leaves out), as the payload has it.
            let known = case["claims"].as_object().unwrap();
            let (first, others): (Vec<_>, Vec<_>) =
                printed.into_iter().enumerate().partition(|(i, _)| *i < known.len());
            let first: serde_json::Map<String, Value> = first.into_iter().map(|(_, kv)| kv).collect();
            let others: serde_json::Map<String, Value> = others.into_iter().map(|(_, kv)| kv).collect();
            assert_eq!(&first, known, "{name}");
            let payload = token.split('.').nth(1).unwrap();
            let payload = String::from_utf8(b64_decode(payload)).unwrap();
            let payload: serde_json::Map<String, Value> =
                serde_json::from_str(&lone_surrogates_replaced(&payload)).unwrap();
            let expected: serde_json::Map<String, Value> =
                payload.into_iter().filter(|(claim, _)| !known.contains_key(claim)).collect();
            assert_eq!(others, expected, "{name}: the other claims");
        } else {
            assert_rejected(&out, name);
        }
    }
}

#[test]
fn every_key_fixture_through_the_binary() {
    // A key file that loads leaves the (bad) token to be rejected: exit 1. One that does not
    // load is a usage error naming the file: exit 2, whatever the token.
    for case in manifest("keys.json") {
        let name = case["name"].as_str().unwrap();
        let file = data(case["file"].as_str().unwrap()).display().to_string();
        let out = run(&["verify", "--key", &file, "--audience", "a", "not-a-token"], None);
        let err = stderr(&out);
        if case["expect"] == "ok" {
            assert_rejected(&out, name);
        } else {
            assert_eq!(code(&out), 2, "{name}: {err}");
            assert!(err.contains(&file), "{name}: the message names the file: {err}");
            assert_eq!(err.lines().count(), 1, "{name}: {err}");
        }
        if case["expect"] == "private_key" {
            assert!(err.contains("openssl ec -in") && err.contains("-pubout"), "{name}: {err}");
        }
    }
}

fn typical() -> Value {
    manifest("tokens.json").into_iter().find(|c| c["name"] == "typical_pomerium").unwrap()
}

#[test]
fn token_input_forms() {
    let case = typical();
    let token = case["token"].as_str().unwrap();
    let key = data("python/key1.jwks.json").display().to_string();
    let args = ["verify", "--key", &key, "--audience", "app.example.com", "--now", "1700000100"];
    fn with<'a>(args: &[&'a str], extra: &'a str) -> Vec<&'a str> {
        [args, &[extra]].concat()
    }
    assert_eq!(code(&run(&with(&args, token), None)), 0, "argument");
    assert_eq!(code(&run(&with(&args, "-"), Some(token.as_bytes()))), 0, "'-'");
    assert_eq!(code(&run(&args, Some(format!("  \n{token}\r\n\t").as_bytes()))), 0, "white space");
    for header in ["X-Pomerium-Jwt-Assertion: ", "x-pomerium-jwt-assertion:", "X-POMERIUM-JWT-ASSERTION:  \t"] {
        let out = run(&args, Some(format!("{header}{token}\n").as_bytes()));
        assert_eq!(code(&out), 0, "{header:?}: {}", stderr(&out));
        let line = format!("{header}{token}");
        assert_eq!(code(&run(&with(&args, &line), None)), 0, "{header:?} as argument");
    }
    // Pomerium can send the same token as `Authorization: Bearer ${pomerium.jwt}`.
    for line in [
        format!("Authorization: Bearer {token}"),
        format!("authorization:bearer {token}"),
        format!("AUTHORIZATION:\tBEARER\t{token}\r\n"),
        format!("Bearer {token}"),
        format!("Authorization: {token}"),
        format!("X-Pomerium-Jwt-Assertion: Bearer {token}"),
    ] {
        let out = run(&args, Some(line.as_bytes()));
        assert_eq!(code(&out), 0, "{line:?}: {}", stderr(&out));
        assert_eq!(code(&run(&with(&args, &line), None)), 0, "{line:?} as argument");
    }
    assert_rejected(&run(&args, Some(format!("{token} {token}").as_bytes())), "two tokens");
    assert_rejected(&run(&args, Some(format!("Bearer{token}").as_bytes())), "no space after Bearer");
    assert_rejected(&run(&args, Some(format!("Basic {token}").as_bytes())), "another scheme");
    // Pomerium sends an empty assertion header when it cannot sign: say so.
    for empty in
        ["", " \n", "X-Pomerium-Jwt-Assertion:", "X-Pomerium-Jwt-Assertion:  \r\n", "Authorization: Bearer", "Bearer "]
    {
        let err = assert_rejected(&run(&args, Some(empty.as_bytes())), empty);
        assert!(err.contains("empty") && err.contains("Pomerium"), "{empty:?}: {err}");
        let err = assert_rejected(&run(&with(&args, empty), None), empty);
        assert!(err.contains("empty"), "{empty:?} as argument: {err}");
    }
    let err = assert_rejected(&run(&["inspect", ""], None), "inspect empty");
    assert!(err.contains("empty"), "{err}");
}

/// With no TOKEN and a terminal on standard input, the tool says how to pass one and exits 2
/// instead of waiting for input (run under `script`, which gives it a terminal).
#[test]
fn a_terminal_without_a_token_gets_help_not_a_wait() {
    let key = data("python/key1.jwks.json").display().to_string();
    for command in [format!("{BIN} verify --key {key} --audience app.example.com"), format!("{BIN} inspect")] {
        let out = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .stdin(Stdio::null())
            .output()
            .expect("script(1) from util-linux runs the tool on a terminal");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{command}: {text}");
        assert!(text.contains("no token given") && text.contains("< token.txt"), "{command}: {text}");
    }
}

/// Pomerium signs RS256 when its signing_key is an RSA key: the token's alg is named (its
/// 256-byte signature is not what is reported), and the RSA key file gets advice for RSA.
#[test]
fn rsa_tokens_and_keys_are_named_as_such() {
    let ec_key = data("openssl/ec_public.pem").display().to_string();
    let token = std::fs::read_to_string(data("openssl/tokens/openssl_rs256.jwt")).unwrap();
    let out = run(
        &["verify", "--key", &ec_key, "--audience", "app.example.com", "--now", "1700000100"],
        Some(token.as_bytes()),
    );
    let err = assert_rejected(&out, "RS256 token");
    assert!(err.contains("\"RS256\"") && err.contains("EC P-256") && !err.contains("64 bytes"), "{err}");

    for file in ["openssl/rsa_signing_key.pem", "openssl/rsa_signing_key.pkcs1.pem"] {
        let key = data(file).display().to_string();
        let out = run(&["verify", "--key", &key, "--audience", "app.example.com", &token], None);
        let err = stderr(&out);
        assert_eq!(code(&out), 2, "{file}: {err}");
        assert!(err.contains("RSA private key") && err.contains("EC P-256") && err.contains(file), "{file}: {err}");
        assert!(!err.contains("openssl ec -in key.pem"), "{file}: EC advice for an RSA key: {err}");
    }
    let ec_private = data("openssl/ec_private.pem").display().to_string();
    let out = run(&["verify", "--key", &ec_private, "--audience", "app.example.com", &token], None);
    assert!(code(&out) == 2 && stderr(&out).contains("openssl ec -in"), "{}", stderr(&out));
}

#[test]
fn empty_audience_or_issuer_is_a_usage_error() {
    let token = typical()["token"].as_str().unwrap().to_owned();
    let key = data("python/key1.jwks.json").display().to_string();
    for args in [
        vec!["verify", "--key", &key, "--audience", "", &token],
        vec!["verify", "--key", &key, "--audience", "app.example.com", "--issuer", "", &token],
    ] {
        let out = run(&args, None);
        assert_eq!(code(&out), 2, "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("is empty"), "{}", stderr(&out));
    }
}

/// A JWK with more members than a JSON object may have is named as that, not as too many keys.
#[test]
fn key_file_capacities_are_named() {
    let dir = std::env::temp_dir().join(format!("pomerium-jwt-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let members: Vec<String> = (0..129).map(|i| format!(r#""m{i}":1"#)).collect();
    let file = dir.join("wide.jwk.json");
    std::fs::write(&file, format!("{{{}}}", members.join(","))).unwrap();
    let token = typical()["token"].as_str().unwrap().to_owned();
    let out = run(&["verify", "--key", file.to_str().unwrap(), "--audience", "a", &token], None);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("128 members") && !stderr(&out).contains("keys in all"), "{}", stderr(&out));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every claim of a verified token is printed: the known ones as before, and every other claim
/// (Pomerium's jwt_claims_headers) with its value, equal to serde_json's reading of the payload.
#[test]
fn verify_prints_every_claim() {
    let key = data("python/key1.jwks.json").display().to_string();
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data("python/custom/cases.json")).unwrap()).unwrap();
    let mut checked = 0;
    for case in cases.iter().filter(|c| c["verdict"] == "ok") {
        let name = case["name"].as_str().unwrap();
        let out = run(
            &["verify", "--key", &key, "--audience", "app.example.com", "--now", "1700000100"],
            Some(case["token"].as_str().unwrap().as_bytes()),
        );
        assert_eq!(code(&out), 0, "{name}: {}", stderr(&out));
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "{name}: one line");
        let printed: serde_json::Map<String, Value> = serde_json::from_str(&stdout).unwrap();
        let signed: serde_json::Map<String, Value> = serde_json::from_str(case["payload"].as_str().unwrap()).unwrap();
        for (claim, value) in &signed {
            let got = &printed[claim];
            // Numbers compare as numbers (a JSON reader may write 3.5e-1 as 0.35).
            if let (Some(a), Some(b)) = (got.as_f64(), value.as_f64()) {
                assert_eq!(a, b, "{name}: {claim}");
            } else {
                assert_eq!(got, value, "{name}: {claim}");
            }
        }
        for always in ["iss", "aud", "sub", "email", "groups", "exp", "iat"] {
            assert!(printed.contains_key(always), "{name}: {always}");
        }
        checked += 1;
    }
    assert!(checked >= 5);
    let duplicate = cases.iter().find(|c| c["verdict"] == "duplicate").unwrap();
    let out = run(
        &["verify", "--key", &key, "--audience", "app.example.com", "--now", "1700000100"],
        Some(duplicate["token"].as_str().unwrap().as_bytes()),
    );
    assert!(assert_rejected(&out, "duplicate").contains("duplicate"));
}

/// Nothing from a token reaches the terminal raw: C0 and C1 controls, DEL and the bidi
/// formatting characters are written as \uXXXX in inspect output and in rejections.
#[test]
fn token_text_is_escaped_for_the_terminal() {
    let header = r#"{"alg":"ES256","kid":"\u009b31mRED\u007f\u202e\u001b[2J"}"#;
    let payload = "{\"aud\":\"x\u{9b}\u{202e}\u{2066}\u{7f}\",\"iss\":\"\\u001b]0;title\\u0007\",\"lone\":\"\\ud800\"}";
    let token = format!("{}.{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()), b64(&[1u8; 64]));
    let key = data("python/key1.jwks.json").display().to_string();
    let forbidden = |text: &str| {
        text.chars().find(|&c| {
            c != '\n' && matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
    };
    let out = run(&["inspect", &token], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let shown = String::from_utf8(out.stdout).unwrap();
    assert_eq!(forbidden(&shown), None, "inspect: {shown:?}");
    assert!(shown.contains("\\u009b31mRED") && shown.contains("\\u202e"), "{shown}");

    let err = assert_rejected(&run(&["verify", "--key", &key, "--audience", "a", &token], None), "unknown kid");
    assert_eq!(forbidden(&err), None, "{err:?}");
    assert!(err.contains("\\u009b31mRED"), "{err}");

    // Signed tokens (tests/data/gen-custom-claims.py): a wrong audience quotes the token's aud;
    // a verified token's claims are printed escaped, as the same JSON values.
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data("python/custom/cases.json")).unwrap()).unwrap();
    let case = |name: &str| cases.iter().find(|c| c["name"] == name).unwrap()["token"].as_str().unwrap().to_owned();
    let args = ["verify", "--key", &key, "--audience", "app.example.com", "--now", "1700000100"];
    let err = assert_rejected(&run(&args, Some(case("terminal_controls_wrong_audience").as_bytes())), "aud");
    assert_eq!(forbidden(&err), None, "{err:?}");
    assert!(err.contains("wrong audience") && err.contains("\\u009b31m\\u202e\\u001b]0;t\\u0007"), "{err}");
    let out = run(&args, Some(case("terminal_controls").as_bytes()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(forbidden(printed.trim_end()), None, "{printed:?}");
    let claims: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(claims["title"], "\u{1b}[31mred\u{9b}31m\u{7f}\u{202e}evil\u{2066}");
}

/// JSON text with each `\\uXXXX` escape of a lone UTF-16 surrogate turned into `\\ufffd`.
fn lone_surrogates_replaced(json: &str) -> String {
    let (mut out, mut rest) = (String::new(), json);
    let hex = |s: &str| s.get(2..6).and_then(|h| u16::from_str_radix(h, 16).ok()).filter(|_| s.starts_with("\\u"));
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match hex(rest) {
            Some(0xD800..=0xDBFF) if hex(&rest[6..]).is_some_and(|low| (0xDC00..=0xDFFF).contains(&low)) => {
                out.push_str(&rest[..12]);
                rest = &rest[12..];
            }
            Some(0xD800..=0xDFFF) => {
                out.push_str("\\ufffd");
                rest = &rest[6..];
            }
            _ => {
                let len = 1 + rest[1..].chars().next().map_or(0, char::len_utf8);
                out.push_str(&rest[..len]);
                rest = &rest[len..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes unpadded base64url.
fn b64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => panic!("not base64url: {c}"),
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &c)| n | u32::from(value(c)) << (18 - 6 * i));
        out.extend(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// Unpadded base64url, for tokens made in these tests.
fn b64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn oversized_input_is_refused_without_reading_it_all() {
    let key = data("python/key1.jwks.json").display().to_string();
    let args = ["verify", "--key", &key, "--audience", "app.example.com"];
    let huge = vec![b'a'; 8 << 20];
    let out = run(&args, Some(&huge));
    let err = assert_rejected(&out, "8 MiB");
    assert!(err.contains("larger than"), "{err}");
    let out = run(&["inspect"], Some(&huge));
    assert_rejected(&out, "inspect 8 MiB");
}

#[test]
fn a_header_over_1_kib_is_refused_by_name() {
    let key = data("python/key1.jwks.json").display().to_string();
    let args = ["verify", "--key", &key, "--audience", "app.example.com", "--now", "1700000100"];
    let case = |name: &str| {
        let case = manifest("tokens.json").into_iter().find(|c| c["name"] == name).unwrap();
        case["token"].as_str().unwrap().to_owned()
    };
    let out = run(&args, Some(case("header_1024_bytes").as_bytes()));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    for name in ["header_1025_bytes", "header_1025_rs256_not_read", "header_8k"] {
        let err = assert_rejected(&run(&args, Some(case(name).as_bytes())), name);
        assert!(err.contains("header is larger than 1024 bytes"), "{name}: {err}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let token = typical()["token"].as_str().unwrap().to_owned();
    let key = data("python/key1.jwks.json").display().to_string();
    let private = data("python/key1.private.pem").display().to_string();
    let cases: &[(&str, Vec<&str>)] = &[
        ("no key", vec!["verify", "--audience", "a", &token]),
        ("no audience", vec!["verify", "--key", &key, &token]),
        ("no subcommand", vec![]),
        ("unknown option", vec!["verify", "--key", &key, "--audience", "a", "--frobnicate", &token]),
        ("bad --now", vec!["verify", "--key", &key, "--audience", "a", "--now", "yesterday", &token]),
        ("negative --leeway", vec!["verify", "--key", &key, "--audience", "a", "--leeway", "-1", &token]),
        ("missing key file", vec!["verify", "--key", "/nonexistent/key.pem", "--audience", "a", &token]),
        ("private key wins over bad token", vec!["verify", "--key", &private, "--audience", "a", "garbage"]),
        ("second key file bad", vec!["verify", "--key", &key, "--key", &private, "--audience", "a", &token]),
    ];
    for (name, args) in cases {
        let out = run(args, None);
        assert_eq!(code(&out), 2, "{name}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{name}");
    }
    let out = run(&["verify", "--key", "/nonexistent/key.pem", "--audience", "a", &token], None);
    assert!(stderr(&out).contains("/nonexistent/key.pem"), "{}", stderr(&out));
}

#[test]
fn rejections_say_what_failed_with_the_values() {
    let case = typical();
    let token = case["token"].as_str().unwrap();
    let key = data("python/key1.jwks.json").display().to_string();
    let run_at = |now: &str, audience: &str| {
        run(&["verify", "--key", &key, "--audience", audience, "--now", now, "--leeway", "30", token], None)
    };
    let expired = assert_rejected(&run_at("1700000400", "app.example.com"), "expired");
    for needle in ["expired", "2023-11-14 22:18:20 UTC", "1700000300", "1700000400", "2023-11-14 22:20:00 UTC", "30"] {
        assert!(expired.contains(needle), "{needle} in {expired}");
    }
    let future = assert_rejected(&run_at("1699990000", "app.example.com"), "issued in the future");
    assert!(future.contains("future") && future.contains("1700000000"), "{future}");
    let audience = assert_rejected(&run_at("1700000100", "other.example.com"), "audience");
    assert!(audience.contains("\"app.example.com\"") && audience.contains("\"other.example.com\""), "{audience}");
}

#[test]
fn inspect_decodes_without_verifying() {
    let case = typical();
    let token = case["token"].as_str().unwrap();
    let out = run(&["inspect", token], None);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("UNVERIFIED"), "{stdout}");
    assert!(stdout.contains("\"alice@example.com\"") && stdout.contains("\"ES256\""), "{stdout}");
    // A forged token still decodes: inspect says nothing about validity, only loudly so.
    let (input, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{input}.AAAA");
    assert_eq!(code(&run(&["inspect", &forged], None)), 0);
    assert_eq!(code(&run(&["inspect", "-"], Some(token.as_bytes()))), 0);
    for bad in ["", "abc", "a.b", "a.b.c.d", "!!.!!.!!", &format!("{input}=.AAAA")] {
        assert_rejected(&run(&["inspect", bad], None), bad);
    }
}

#[test]
fn help_explains_every_option_with_an_example() {
    let out = run(&["verify", "--help"], None);
    assert_eq!(code(&out), 0);
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in ["--key", "--audience", "--issuer", "--now", "--leeway", "Example", "jwks.json", "pomerium-proxy"] {
        assert!(help.contains(needle), "{needle} missing from verify --help:\n{help}");
    }
    let out = run(&["--help"], None);
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("openssl req -x509") && help.contains("inspect"), "{help}");
}
