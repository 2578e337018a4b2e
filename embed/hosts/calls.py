#!/usr/bin/env python3
"""The calls every WebAssembly host makes, and the check of what the hosts answered.

    python3 calls.py write > calls.txt                      # the calls, for the hosts
    python3 calls.py check calls.txt NAME=ANSWERS[=SECONDS]...   # compare the hosts' answers

The calls come from the fixtures: a few calls whose status the module's ABI fixes (before
configuration, a private key, an empty audience), then every case of tests/data/tokens.json in a
fresh configuration, as embed/wasm/run.mjs sweeps them (load_keys, add_keys for further key
files, set_audience, set_issuer, set_leeway, verify), then a timing of the `typical_pomerium`
token. One call per line, fields separated by one space, byte inputs in hex (`-` when empty):

    load_keys HEX | add_keys HEX | set_audience HEX | set_issuer HEX | set_leeway SECONDS
    verify HEX NOW | bench MILLISECONDS HEX NOW

A host answers each call with one line `CALL STATUS OUTPUT_HEX`, and the bench call with
`bench STATUS ROUNDS NANOSECONDS` (verify repeated for at least MILLISECONDS, at least 3 times;
STATUS is the last one's). `check` demands, for every call, the same status and the same output
bytes from every host, and the status the fixture expects (for a verify: a status of the
fixture's error kind, as run.mjs maps them). It prints `N passed, M failed` and exits 1 on any
failure. Standard library only.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "tests", "data")

# The status codes of embed/wasm/src/lib.rs (`Status`), as embed/README.md lists them.
STATUS = {
    "ok": 0, "token_too_large": 1, "capacity": 2, "segments": 3, "base64": 4, "signature_length": 5,
    "json": 6, "unsupported_algorithm": 7, "critical_header": 8, "bad_header": 9, "unknown_key": 10,
    "bad_signature": 11, "missing_claim": 12, "invalid_claim": 13, "expired": 14, "not_yet_valid": 15,
    "issued_in_future": 16, "wrong_audience": 17, "wrong_issuer": 18, "key": 19, "other_error": 63,
    "not_configured": 64, "too_long": 65, "output_too_small": 66, "bad_name": 67, "busy": 68,
}
NAMES = {code: name for name, code in STATUS.items()}
# The error kinds of tests/data/tokens.json, for each status (as run.mjs and tests/fixtures.rs).
KIND = {
    "segments": "malformed", "base64": "malformed", "signature_length": "malformed", "json": "malformed",
    "token_too_large": "too_large", "capacity": "too_large", "unsupported_algorithm": "unsupported_alg",
    "critical_header": "crit", "bad_header": "bad_header", "unknown_key": "unknown_key",
    "bad_signature": "bad_signature", "expired": "expired", "not_yet_valid": "not_yet_valid",
    "issued_in_future": "issued_in_future", "wrong_audience": "wrong_audience", "wrong_issuer": "wrong_issuer",
    "missing_claim": "missing_claim", "invalid_claim": "invalid_claim", "ok": "ok",
}
BENCH_CASE = "typical_pomerium"
BENCH_MS = 1000


def read(name):
    with open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def hexed(data):
    return data.hex() if data else "-"


def calls():
    """Every call as (label, line, expected): expected is a status name, or `kind:NAME`."""
    with open(os.path.join(DATA, "tokens.json"), encoding="utf-8") as f:
        cases = json.load(f)
    typical = next(c for c in cases if c["name"] == BENCH_CASE)
    token = typical["token"].encode("utf-8")
    out = [
        ("verify before configuration", f"verify {hexed(token)} {typical['now']}", "not_configured"),
        ("a private key is refused", f"load_keys {hexed(read('python/key1.private.pem'))}", "key"),
        ("an empty audience is refused", "set_audience -", "bad_name"),
    ]
    for c in cases:
        name = c["name"]
        first, *extra = c["keys"]
        out.append((f"{name}: load_keys", f"load_keys {hexed(read(first))}", "ok"))
        out += [(f"{name}: add_keys", f"add_keys {hexed(read(k))}", "ok") for k in extra]
        out.append((f"{name}: set_audience", f"set_audience {hexed(c['audience'].encode('utf-8'))}", "ok"))
        out.append((f"{name}: set_issuer", f"set_issuer {hexed((c['issuer'] or '').encode('utf-8'))}", "ok"))
        out.append((f"{name}: set_leeway", f"set_leeway {60 if c['leeway'] is None else c['leeway']}", "ok"))
        out.append((f"{name}: verify", f"verify {hexed(c['token'].encode('utf-8'))} {c['now']}", f"kind:{c['expect']}"))
    out.append((f"{BENCH_CASE}: load_keys", f"load_keys {hexed(read(typical['keys'][0]))}", "ok"))
    out.append((f"{BENCH_CASE}: set_audience", f"set_audience {hexed(typical['audience'].encode('utf-8'))}", "ok"))
    out.append((f"{BENCH_CASE}: set_issuer", "set_issuer -", "ok"))
    out.append((f"{BENCH_CASE}: set_leeway", "set_leeway 60", "ok"))
    out.append((f"{BENCH_CASE}: bench", f"bench {BENCH_MS} {hexed(token)} {typical['now']}", "ok"))
    return out


def text(output_hex):
    return "" if output_hex == "-" else bytes.fromhex(output_hex).decode("utf-8", "replace")


def check(calls_file, results):
    with open(calls_file, encoding="ascii") as f:
        lines = f.read().splitlines()
    expected = calls()
    if [line for _, line, _ in expected] != lines:
        sys.exit(f"{calls_file} is not what `calls.py write` writes now")
    answers, seconds = {}, {}
    for spec in results:
        name, rest = spec.split("=", 1)
        path, _, seconds[name] = rest.partition("=")
        with open(path, encoding="ascii") as f:
            answers[name] = [line.split(" ") for line in f.read().splitlines()]
    passed = failed = 0
    first = next(iter(answers))
    for i, (label, line, want) in enumerate(expected):
        call = line.split(" ", 1)[0]
        got = {name: (rows[i] if i < len(rows) else None) for name, rows in answers.items()}
        problems = [f"{name}: no answer or an answer to another call" for name, row in got.items()
                    if row is None or row[0] != call or len(row) != 4 - (call != "bench")]
        if not problems:
            statuses = {name: int(row[1]) for name, row in got.items()}
            status = statuses[first]
            if len(set(statuses.values())) != 1:
                problems.append("statuses differ: " + ", ".join(f"{n} {s} ({NAMES.get(s)})" for n, s in statuses.items()))
            elif want.startswith("kind:"):
                kind = KIND.get(NAMES.get(status, ""), f"status {status}")
                if kind != want[5:]:
                    problems.append(f"expected {want[5:]}, got {kind}: {text(got[first][2])}")
            elif status != STATUS[want]:
                problems.append(f"expected {want}, got {NAMES.get(status, status)}: {text(got[first][2])}")
            if call != "bench":
                outputs = {name: row[2] for name, row in got.items()}
                if len(set(outputs.values())) != 1:
                    problems.append("output differs: " + "; ".join(f"{n}: {text(o)}" for n, o in outputs.items()))
        if problems:
            failed += 1
            print(f"FAIL {label}: " + " | ".join(problems))
        else:
            passed += 1
    verifies = sum(1 for _, line, _ in expected if line.startswith("verify "))
    print(f"{len(answers)} runtimes, {len(expected)} calls ({verifies} verifies), every status and output compared")
    print()
    print(f"| runtime | one verify of `{BENCH_CASE}` | rounds | all {len(expected)} calls, start-up and the timing included |")
    print("| --- | ---: | ---: | ---: |")
    for name, rows in answers.items():
        whole = f"{float(seconds[name]):.1f} s" if seconds[name] else ""
        bench = rows[-1] if rows and rows[-1][0] == "bench" and len(rows[-1]) == 4 else None
        if bench is None:
            print(f"| {name} | no timing | | {whole} |")
            continue
        rounds, nanos = int(bench[2]), int(bench[3])
        per = nanos / max(rounds, 1) / 1000
        print(f"| {name} | {per:,.0f} µs | {rounds} | {whole} |")
    print()
    print(f"{passed} passed, {failed} failed")
    return failed == 0


def main(argv):
    if len(argv) == 2 and argv[1] == "write":
        sys.stdout.write("".join(line + "\n" for _, line, _ in calls()))
        return 0
    if len(argv) >= 4 and argv[1] == "check":
        return 0 if check(argv[2], argv[3:]) else 1
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
