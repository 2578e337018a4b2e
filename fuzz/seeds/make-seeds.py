#!/usr/bin/env python3
"""Writes the committed seed inputs of the fuzz targets from the test fixtures in tests/data.

Run from anywhere: `python3 fuzz/seeds/make-seeds.py`. Deterministic: the same fixtures give the
same files. Each target gets a representative few dozen inputs at most, named after the fixture
case or file they come from. Files named `crash-*` or `harness-*` (inputs that
once crashed a target) are kept. The seeds of `structured` and `differential` are not made here:
they are fuzzer-made inputs (bytes for the `arbitrary` generator), kept as found.
"""
import base64
import json
import pathlib

FUZZ = pathlib.Path(__file__).resolve().parent.parent
DATA = FUZZ.parent / "tests" / "data"
SEEDS = FUZZ / "seeds"

# verify_check's key set: key1 (with kid), key2 (with kid), the OpenSSL certificate, jose's JWK.
VERIFY_KEYS = {"python/key1.jwks.json", "python/key1.pub.pem", "python/jwks-rotation.json",
               "openssl/ec_public.pem", "openssl/ec_pubkey.pem", "node/jose-key.pub.jwk.json"}


def b64url_decode(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def spread(cases, n):
    """At most n cases, spread over the kinds of `expect` so that every kind is represented."""
    by_kind = {}
    for case in cases:
        by_kind.setdefault(case["expect"], []).append(case)
    picked, round_ = [], 0
    while len(picked) < n and any(round_ < len(v) for v in by_kind.values()):
        for kind in sorted(by_kind):
            if round_ < len(by_kind[kind]) and len(picked) < n:
                picked.append(by_kind[kind][round_])
        round_ += 1
    return picked


def write(target, name, data):
    folder = SEEDS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def main():
    for target in ["decode_unverified", "verify", "header_json", "claims_json", "key_jwk", "key_jwks",
                   "key_der", "key_pem", "key_base64_pem", "key_any"]:
        # Crashes the fuzzers found (`crash-*`, `harness-*`) are kept: they are regression tests.
        for old in (SEEDS / target).glob("*"):
            if not old.name.startswith(("crash-", "harness-")):
                old.unlink()
    tokens = [c for c in json.loads((DATA / "tokens.json").read_text()) if len(c["token"]) < 4096]

    for case in spread(tokens, 32):
        write("decode_unverified", case["name"], case["token"].encode())
    usable = [c for c in tokens if set(c["keys"]) <= VERIFY_KEYS and c["audience"] == "app.example.com"
              and c["issuer"] is None and c["now"] == 1700000100 and c["leeway"] is None]
    for case in spread(usable, 40):
        write("verify", case["name"], case["token"].encode())

    headers, payloads = {}, {}
    for case in tokens:
        parts = case["token"].split(".")
        if len(parts) != 3:
            continue
        try:
            header, payload = b64url_decode(parts[0]), b64url_decode(parts[1])
        except ValueError:
            continue
        headers.setdefault(header, case["name"])
        payloads.setdefault(payload, case["name"])
    for data, name in list(headers.items())[:30]:
        write("header_json", name, data)
    for data, name in sorted(payloads.items(), key=lambda kv: len(kv[0]))[:40]:
        write("claims_json", name, data)

    keys = json.loads((DATA / "keys.json").read_text())
    for case in keys:
        path = DATA / case["file"]
        data = path.read_bytes()
        name = case["name"]
        if len(data) > 8192:
            continue
        if path.name.endswith(".json"):
            write("key_jwks" if data.lstrip().startswith(b'{"keys"') or b'"keys"' in data else "key_jwk", name, data)
        if path.suffix == ".pem":
            write("key_pem", name, data)
            # The DER inside each block, for the DER target.
            text = data.decode(errors="replace")
            for i, block in enumerate(text.split("-----BEGIN ")[1:]):
                body = "".join(l for l in block.splitlines()[1:] if not l.startswith("-----"))
                try:
                    write("key_der", f"{name}.{i}", base64.b64decode(body, validate=False))
                except ValueError:
                    pass
        if path.suffix == ".der":
            write("key_der", name, data)
        if path.suffix == ".b64":
            write("key_base64_pem", name, data)
        write("key_any", name, data)
    # A JWK among the JWKS seeds and the other way round, so each target sees the other shape.
    write("key_jwk", "jwks_as_jwk", (DATA / "python/key1.jwks.json").read_bytes())
    write("key_jwks", "jwk_as_jwks", (DATA / "python/key1.jwk.json").read_bytes())


if __name__ == "__main__":
    main()
