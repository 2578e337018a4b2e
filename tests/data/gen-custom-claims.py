#!/usr/bin/env python3
"""Tokens with custom claims, shaped the way Pomerium's Go code writes them.

Pomerium copies every claim named in its `jwt_claims_headers` setting into the signed JWT:
strings, several values joined with ",", numbers in Go's %v form ("1.2345678e+07"). Go's
encoding/json sorts map keys, writes non-ASCII as UTF-8, and escapes &, <, >, U+2028 and
U+2029 as \\u0026, \\u003c, \\u003e, \\u2028, \\u2029. This script writes such payloads (and a
few that are not Go's but must be read the same: escaped member names, nested values, a name
repeated through escapes) and signs them with Python `cryptography` (RFC 6979 deterministic
ECDSA, so the output is the same on every run) under tests/data/python/key1.private.pem.

Output: tests/data/python/custom/cases.json, a list of
  {"name", "token", "payload" (the exact signed JSON), "verdict": "ok" | "duplicate" |
   "wrong_audience" (for audience app.example.com)}.
Run: python3 tests/data/gen-custom-claims.py   (needs cryptography>=44)
"""
import base64
import json
import pathlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = pathlib.Path(__file__).resolve().parent
KEY = serialization.load_pem_private_key((HERE / "python/key1.private.pem").read_bytes(), None)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def go_json(value) -> str:
    """encoding/json's Marshal of a map: sorted keys, HTML-safe escapes, UTF-8 otherwise."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def kid() -> str:
    # RFC 7638 thumbprint of the public key, lowercase hex: Pomerium's kid.
    import hashlib
    numbers = KEY.public_key().public_numbers()
    coord = lambda n: b64(n.to_bytes(32, "big"))
    canonical = '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (coord(numbers.x), coord(numbers.y))
    return hashlib.sha256(canonical.encode()).hexdigest()


HEADER = '{"alg":"ES256","kid":"%s","typ":"JWT"}' % kid()


def sign(payload: str) -> str:
    signing_input = f"{b64(HEADER.encode())}.{b64(payload.encode())}"
    der = KEY.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


BASE = {
    "aud": "app.example.com", "iss": "app.example.com", "exp": 1700000300, "iat": 1700000000,
    "jti": "5f0e9a3c-8d2b-4c71-9e6a-2b4d8f1c7a30", "sub": "alice-id-0001", "user": "alice-id-0001",
    "email": "alice@example.com", "name": "Alice", "sid": "b7c4e2d1", "groups": ["admins", "devs"],
}

GO_SHAPED = {
    "given_name": "Zoë",
    "family_name": "O'Brien <ops>",
    "picture": "https://example.com/a.png?size=64&format=png",
    "department": "R&D,Sales",
    "employee_number": "1.2345678e+07",
    "cost_center": "42",
    "title": "line\u2028separator and paragraph\u2029end",
    "nickname": "😀 \"quoted\" back\\slash",
    "locale": "",
}

cases = [
    # The README's example: jwt_claims_headers of given_name, department and employee_number.
    ("readme", go_json({**BASE, "given_name": "Alice", "department": "R&D,Sales",
                        "employee_number": "1.2345678e+07"}), "ok"),
    ("go_shaped", go_json({**BASE, **GO_SHAPED}), "ok"),
    ("go_shaped_many_groups", go_json({**BASE, **GO_SHAPED,
                                        "groups": [f"group-{i}&co" for i in range(300)]}), "ok"),
    # Not what Go writes, but what a JSON reader must read the same way.
    ("escaped_member_names",
     go_json(BASE)[:-1] + r',"\u0067iven_name":"Bob","dep\u0061rtment":"Ops\u002cIT","x\/y":1}', "ok"),
    ("nested_custom_values",
     go_json(BASE)[:-1] + ',"roles":{"a":[1,2,{"b":null}],"c":"\\u00e9"},"flags":[true,"x",3.5e-1],'
     '"tags":["a\\u0026b","c"],"empty":[],"none":null,"yes":true,"no":false,"n":-0.5E+3}', "ok"),
    ("white_space_kept",
     ' {\n "aud" : "app.example.com" ,\t"iss":"app.example.com","exp":1700000300,"iat":1700000000,'
     ' "department" : "R\\u0026D" }\r\n', "ok"),
    # Characters a terminal acts on (C1 CSI, DEL, bidi overrides; Go writes them raw, and C0
    # controls as \u001b), in a verified custom claim and in a rejected token's aud.
    ("terminal_controls", go_json({**BASE, "title": "\x1b[31mred\x9b31m\x7f\u202eevil\u2066"}), "ok"),
    ("terminal_controls_wrong_audience",
     go_json({**BASE, "aud": "x\x9b31m\u202e\x1b]0;t\x07"}), "wrong_audience"),
    ("custom_name_duplicated_by_escapes",
     go_json(BASE)[:-1] + r',"department":"R","d\u0065partment":"S"}', "duplicate"),
]

out = [{"name": name, "token": sign(payload), "payload": payload, "verdict": verdict}
       for name, payload, verdict in cases]
(HERE / "python/custom").mkdir(exist_ok=True)
(HERE / "python/custom/cases.json").write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
print(f"wrote {len(out)} cases to tests/data/python/custom/cases.json")
