//! The built `pomerium-jwt` binary against shared/CLI.md: exit codes, stdout JSON, the single
//! stderr line, input forms and capacities, over the fixtures of tests/data.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![allow(clippy::arithmetic_side_effects)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pomerium-jwt");

fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data").join(file)
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
            let claims: Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(claims, case["claims"], "{name}");
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
    assert_rejected(&run(&args, Some(b"")), "empty input");
    assert_rejected(&run(&args, Some(format!("Authorization: {token}").as_bytes())), "another header");
    assert_rejected(&run(&args, Some(format!("{token} {token}").as_bytes())), "two tokens");
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
