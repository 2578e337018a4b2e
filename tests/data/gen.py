#!/usr/bin/env python3
"""Generates the pomerium-jwt test data: python/ keys, keys.json and tokens.json.

Run after gen-openssl.sh and node/gen-jose.mjs (see README.md, or just `bash regen.sh`).

Most tokens are made by hand: base64url of the exact header JSON text, ".", base64url of the
exact payload JSON text, signed with ECDSA P-256/SHA-256 by `cryptography` (RFC 6979
deterministic nonces, so re-running reproduces every hand-made token byte for byte), the DER
signature decoded to r || s. A few come from PyJWT's jwt.encode, from OpenSSL
(openssl/tokens/) and from node's jose (node/jose-tokens.json).

Everything written is checked here before it is written:
  * a small reference model of docs/SPEC.md (strict JSON, key loading, the verifier pipeline) must
    give every case its declared result, and every key file its declared keys or error;
  * independently of that model: every "ok" token is verified by PyJWT, and its expected claims
    are compared with Python's own JSON reading of the payload; every case that is meant to
    carry a valid signature is checked with `cryptography` directly; every bad_signature case
    is checked to really carry an invalid one;
  * RFC 7638 thumbprints are computed here with hashlib and cross-checked with joserfc, with
    node jose's kid for its key, and with the kid that Pomerium's docs JWKS carries.
Keys are made once and reused while their files exist.
"""
import base64
import hashlib
import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import jwt  # PyJWT
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature, encode_dss_signature)
from joserfc.jwk import ECKey

HERE = Path(__file__).resolve().parent
SHARED_DOCS = HERE.parent.parent.parent / "shared" / "fixtures" / "pomerium-docs"

# P-256 group order n and field prime p.
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
P256_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
U64MAX = 2**64 - 1
AUD = "app.example.com"
IAT, EXP, NOW = 1700000000, 1700000300, 1700000100
LEEWAY_DEFAULT = 60
MAX_HEADER = 1024  # SPEC §2: a header that decodes to more is refused before its JSON is read
DOCS_KID = "e05015c36b1fccdee6ec1c45a4988acafcc1118c5d01e1120ee5be64ba176d22"


def fail(msg):
    sys.exit(f"gen.py: FAILED: {msg}")


def check(cond, msg):
    if not cond:
        fail(msg)


# --------------------------------------------------------------------------- encoding helpers
def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_dec(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def js(v) -> str:
    """Compact JSON text of a Python value (UTF-8 kept raw, like Go's encoder minus its HTML escapes)."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


class R(str):
    """Raw JSON text, inserted verbatim as a member value."""


def write(rel: str, data):
    p = HERE / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    b = data.encode() if isinstance(data, str) else data
    if not p.exists() or p.read_bytes() != b:
        p.write_bytes(b)


# --------------------------------------------------------------------------- keys
def p256_key(rel: str) -> ec.EllipticCurvePrivateKey:
    """The P-256 private key stored at rel (PKCS#8 PEM), made on first run."""
    p = HERE / rel
    if p.exists():
        k = serialization.load_pem_private_key(p.read_bytes(), None)
    else:
        k = ec.generate_private_key(ec.SECP256R1())
        write(rel, k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    check(isinstance(k.curve, ec.SECP256R1), f"{rel} is not P-256")
    return k


def xy(pub) -> tuple:
    n = pub.public_numbers()
    return n.x.to_bytes(32, "big"), n.y.to_bytes(32, "big")


def thumb_input(x: bytes, y: bytes) -> bytes:
    # RFC 7638 §3.2: required members only, lexicographic order, no white space.
    return ('{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' % (b64u(x), b64u(y))).encode()


def thumbprint(x, y) -> str:
    return b64u(hashlib.sha256(thumb_input(x, y)).digest())


def pomerium_kid(x, y) -> str:
    return hashlib.sha256(thumb_input(x, y)).hexdigest()


def pub_of(k):
    return k.public_key() if hasattr(k, "public_key") else k


def jwk_pomerium(k, kid="auto") -> dict:
    """A member as Pomerium's /.well-known/pomerium/jwks.json serves it."""
    x, y = xy(pub_of(k))
    kid = pomerium_kid(x, y) if kid == "auto" else kid
    d = {"use": "sig", "kty": "EC"}
    if kid is not None:
        d["kid"] = kid
    d.update({"crv": "P-256", "alg": "ES256", "x": b64u(x), "y": b64u(y)})
    return d


def jwk_bare(k) -> dict:
    x, y = xy(pub_of(k))
    return {"kty": "EC", "crv": "P-256", "x": b64u(x), "y": b64u(y)}


def spki_pem(k) -> str:
    return pub_of(k).public_bytes(serialization.Encoding.PEM,
                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def keyinfo(k, kid=None) -> dict:
    """Expected key entry in keys.json."""
    x, y = xy(pub_of(k))
    return {"kid": kid, "thumbprint": thumbprint(x, y), "pomerium_kid": pomerium_kid(x, y),
            "x": x.hex(), "y": y.hex()}


def jdump(v) -> str:
    return json.dumps(v, indent=1, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- signing
def sign_rs(key, data: bytes) -> tuple:
    der = key.sign(data, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    return decode_dss_signature(der)


def rs64(r: int, s: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def enc(x) -> bytes:
    return x.encode("utf-8") if isinstance(x, str) else x


# --------------------------------------------------------------------------- the reference model
class Reject(Exception):
    def __init__(self, kind, detail=""):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind


class Num:
    def __init__(self, text):
        self.text = text


class Obj(list):
    """A JSON object as its list of (name, value) members, in order."""


NUM_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
HEX4 = re.compile(r"[0-9a-fA-F]{4}")
ESC = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
MODEL_MAX_DEPTH = 32  # SPEC allows any fixed limit in 16..=64; the cases work for all of them


def parse_json(b: bytes):
    """Strict RFC 8259 parse. Lone surrogates are kept (as Python surrogate code points)."""
    try:
        s = b.decode("utf-8", "strict")  # rejects overlong forms, encoded surrogates, > U+10FFFF
    except UnicodeDecodeError as e:
        raise Reject("malformed", f"utf-8: {e}")

    def ws(i):
        while i < len(s) and s[i] in " \t\n\r":
            i += 1
        return i

    def string(i):
        i += 1
        out = []
        while True:
            if i >= len(s):
                raise Reject("malformed", "unterminated string")
            c = s[i]
            if c == '"':
                return "".join(out), i + 1
            if ord(c) < 0x20:
                raise Reject("malformed", "raw control character in string")
            if c != "\\":
                out.append(c)
                i += 1
                continue
            e = s[i + 1:i + 2]
            if e in ESC:
                out.append(ESC[e])
                i += 2
            elif e == "u":
                h = s[i + 2:i + 6]
                if not HEX4.fullmatch(h):
                    raise Reject("malformed", "bad \\u escape")
                cp = int(h, 16)
                i += 6
                if 0xD800 <= cp <= 0xDBFF and s[i:i + 2] == "\\u" and HEX4.fullmatch(s[i + 2:i + 6]):
                    lo = int(s[i + 2:i + 6], 16)
                    if 0xDC00 <= lo <= 0xDFFF:
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                        i += 6
                out.append(chr(cp))
            else:
                raise Reject("malformed", f"bad escape \\{e}")

    def value(i, depth):
        if i >= len(s):
            raise Reject("malformed", "unexpected end")
        c = s[i]
        if c in "{[":
            if depth > MODEL_MAX_DEPTH:
                raise Reject("malformed", "nesting too deep")
            close = "}" if c == "{" else "]"
            coll = Obj() if c == "{" else []
            i = ws(i + 1)
            if s[i:i + 1] == close:
                return coll, i + 1
            while True:
                if c == "{":
                    if s[i:i + 1] != '"':
                        raise Reject("malformed", "member name expected")
                    k, i = string(i)
                    i = ws(i)
                    if s[i:i + 1] != ":":
                        raise Reject("malformed", "colon expected")
                    v, i = value(ws(i + 1), depth + 1)
                    coll.append((k, v))
                else:
                    v, i = value(i, depth + 1)
                    coll.append(v)
                i = ws(i)
                if s[i:i + 1] == ",":
                    i = ws(i + 1)
                    continue
                if s[i:i + 1] == close:
                    return coll, i + 1
                raise Reject("malformed", "comma or close expected")
        if c == '"':
            return string(i)
        for lit, v in (("true", True), ("false", False), ("null", None)):
            if s.startswith(lit, i):
                return v, i + len(lit)
        m = NUM_RE.match(s, i)
        if m and m.end() > i:
            return Num(m.group()), m.end()
        raise Reject("malformed", f"unexpected {c!r}")

    v, i = value(ws(0), 1)
    if ws(i) != len(s):
        raise Reject("malformed", "trailing bytes")
    return v


def top_object(v) -> dict:
    if not isinstance(v, Obj):
        raise Reject("malformed", "not an object")
    names = [k for k, _ in v]
    if len(names) != len(set(names)):
        raise Reject("malformed", "duplicate member")
    return dict(v)


def is_arr(v) -> bool:
    return isinstance(v, list) and not isinstance(v, Obj)


def lone(sv: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in sv)


B64_RE = re.compile(r"[A-Za-z0-9_-]*")


def strict_b64(seg: str) -> bytes:
    if not B64_RE.fullmatch(seg) or len(seg) % 4 == 1:
        raise Reject("malformed", "not base64url")
    b = b64u_dec(seg)
    if b64u(b) != seg:
        raise Reject("malformed", "non-canonical base64url")
    return b


def numeric_date(v) -> int:
    if not isinstance(v, Num):
        raise Reject("invalid_claim", "NumericDate not a number")
    d = Decimal(v.text)
    if d < 0:
        raise Reject("invalid_claim", "negative NumericDate")
    if d == 0:
        return 0
    if d.adjusted() > 25:
        raise Reject("invalid_claim", "NumericDate too big")
    w = int(d)  # truncates: whole seconds
    if w > U64MAX:
        raise Reject("invalid_claim", "NumericDate over u64")
    return w


def sat_add(a, b):
    return min(a + b, U64MAX)


def ref_verify(token: str, keys: list, audience: str, issuer, now: int, leeway):
    """docs/SPEC.md as a Python model. keys: [(kid or None, public key)]. Returns claims or raises."""
    leeway = LEEWAY_DEFAULT if leeway is None else leeway
    parts = token.split(".")
    if len(parts) != 3 or any(p == "" for p in parts):
        raise Reject("malformed", "not three non-empty segments")
    if len(parts[0]) * 3 // 4 > MAX_HEADER:  # the length it would decode to, if it decodes at all
        raise Reject("too_large", "header over 1 KiB")
    hb, pb, sig = (strict_b64(p) for p in parts)
    if len(sig) != 64:
        raise Reject("malformed", "signature not 64 bytes")
    h = top_object(parse_json(hb))
    if h.get("alg") != "ES256":
        raise Reject("unsupported_alg")
    if "crit" in h:
        raise Reject("crit")
    kid = h.get("kid")
    if "kid" in h:
        if not isinstance(kid, str):
            raise Reject("bad_header", "kid not a string")
        if lone(kid):
            raise Reject("malformed", "lone surrogate in kid")
    if "typ" in h and not (isinstance(h["typ"], str) and h["typ"].lower() == "jwt"):
        raise Reject("bad_header", "typ")
    cands = [pk for k, pk in keys if "kid" not in h or k is None or k == kid]
    if not cands:
        raise Reject("unknown_key")
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    if not (0 < r < N and 0 < s < N):
        raise Reject("bad_signature", "r or s out of range")
    signed = f"{parts[0]}.{parts[1]}".encode()
    if not any(ecdsa_ok(pk, signed, r, s) for pk in cands):
        raise Reject("bad_signature")
    c = top_object(parse_json(pb))
    strs = ["iss", "sub", "email", "user", "name", "sid", "jti"]
    for k in strs + ["aud", "groups"]:
        v = c.get(k)
        for e in (v if is_arr(v) else [v]):
            if isinstance(e, str) and lone(e):
                raise Reject("malformed", f"lone surrogate in {k}")
    for k in ("iss", "aud", "exp", "iat"):
        if k not in c:
            raise Reject("missing_claim", k)
    for k in strs:
        if k in c and not isinstance(c[k], str):
            raise Reject("invalid_claim", k)
    aud = c["aud"]
    if not (isinstance(aud, str) or (is_arr(aud) and all(isinstance(a, str) for a in aud))):
        raise Reject("invalid_claim", "aud")
    groups = c.get("groups")
    if groups is None:
        groups = []
    elif not (is_arr(groups) and all(isinstance(g, str) for g in groups)):
        raise Reject("invalid_claim", "groups")
    exp, iat = numeric_date(c["exp"]), numeric_date(c["iat"])
    nbf = numeric_date(c["nbf"]) if "nbf" in c else None
    if not now < sat_add(exp, leeway):
        raise Reject("expired")
    if not iat <= sat_add(now, leeway):
        raise Reject("issued_in_future")
    if nbf is not None and not nbf <= sat_add(now, leeway):
        raise Reject("not_yet_valid")
    if not (aud == audience if isinstance(aud, str) else audience in aud):
        raise Reject("wrong_audience")
    ok_iss = [issuer] if issuer is not None else [audience, f"https://{audience}/", "pomerium-proxy"]
    if c["iss"] not in ok_iss:
        raise Reject("wrong_issuer")
    out = {k: c.get(k) for k in ["iss", "aud", "sub", "email", "user", "name", "sid", "jti"]}
    out.update(groups=groups, exp=exp, iat=iat, nbf=nbf)
    return out


def ecdsa_ok(pk, data: bytes, r: int, s: int) -> bool:
    if not (0 < r < N and 0 < s < N):
        return False
    try:
        pk.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


# --------------------------------------------------------------------------- key file model
def p256_from_xy(x: bytes, y: bytes):
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
    except ValueError:
        raise Reject("invalid_key", "point not on the curve")


def jwk_coord(v) -> bytes:
    if not isinstance(v, str) or not B64_RE.fullmatch(v) or len(v) != 43:
        raise Reject("invalid_key", "coordinate is not 32 bytes of unpadded base64url")
    b = b64u_dec(v)
    if len(b) != 32 or b64u(b) != v:
        raise Reject("invalid_key", "coordinate")
    return b


def is_p256_sig(m: dict) -> bool:
    return (m.get("kty") == "EC" and m.get("crv") == "P-256" and m.get("use", "sig") == "sig"
            and m.get("alg", "ES256") == "ES256")


def load_jwk(m: dict):
    if "d" in m:
        raise Reject("private_key")
    pk = p256_from_xy(jwk_coord(m.get("x")), jwk_coord(m.get("y")))
    kid = m.get("kid")
    return (kid if isinstance(kid, str) else None), pk


def from_spki(der: bytes):
    try:
        pk = serialization.load_der_public_key(der)
    except ValueError:
        raise Reject("malformed", "bad SubjectPublicKeyInfo")
    if not isinstance(pk, ec.EllipticCurvePublicKey) or not isinstance(pk.curve, ec.SECP256R1):
        raise Reject("unsupported_key")
    return None, pk


def from_cert(der: bytes):
    try:
        c = x509.load_der_x509_certificate(der)
    except ValueError:
        raise Reject("malformed", "bad certificate")
    return from_spki(c.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo))


PEM_RE = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)


def load_keyfile(rel: str) -> list:
    """SPEC §6 as a model: [(kid or None, public key)] or raises Reject(kind)."""
    b = (HERE / rel).read_bytes()
    t = b.strip()
    if t.startswith(b"{"):
        try:
            doc = json.loads(b)
        except ValueError:
            raise Reject("malformed", "bad JSON")
        if "keys" in doc:
            ms = doc["keys"] or []
            # A broken P-256 member fails the whole file, wherever it is.
            out = [load_jwk(m) for m in ms if is_p256_sig(m)]
            if not out:
                raise Reject("no_keys")
            return out
        if doc.get("kty") == "EC" and doc.get("crv") == "P-256":
            return [load_jwk(doc)]
        raise Reject("unsupported_key")
    if b"-----BEGIN" in b:
        blocks = PEM_RE.findall(b)
        if not blocks:
            raise Reject("malformed", "no complete PEM block")
        out = []
        for label, body in blocks:
            try:
                der = base64.b64decode(re.sub(rb"\s", b"", body), validate=True)
            except ValueError:
                raise Reject("malformed", "PEM body")
            if label in (b"EC PRIVATE KEY", b"PRIVATE KEY"):
                raise Reject("private_key")
            out.append(from_spki(der) if label == b"PUBLIC KEY" else from_cert(der))
        return out
    if (len(b) == 65 and b[0] == 4) or (len(b) == 33 and b[0] in (2, 3)):
        try:
            return [(None, ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b))]
        except ValueError:
            raise Reject("invalid_key", "SEC1 point not on the curve")
    if re.fullmatch(rb"[A-Za-z0-9+/=\s]+", t):
        try:
            inner = base64.b64decode(re.sub(rb"\s", b"", t), validate=True)
        except ValueError:
            inner = b""
        if b"-----BEGIN" in inner:
            tmp = HERE / ".tmp-b64-inner"
            tmp.write_bytes(inner)
            try:
                return load_keyfile(tmp.name)
            finally:
                tmp.unlink()
    if b[:1] == b"\x30":
        try:
            return [from_spki(b)]
        except Reject:
            return [from_cert(b)]
    raise Reject("malformed", "not a key format")


# =========================================================================== build the keys
OLD_TOKENS = {}
if (HERE / "tokens.json").exists():
    OLD_TOKENS = {c["name"]: c["token"] for c in json.loads((HERE / "tokens.json").read_text())}

K1 = p256_key("python/key1.private.pem")   # the main key
K2 = p256_key("python/key2.private.pem")   # rotation partner
K3 = p256_key("python/key3.private.pem")   # "another key": an attacker's, never in a key set
KID1, KID2, KID3 = (pomerium_kid(*xy(k.public_key())) for k in (K1, K2, K3))

OSSL_PRIV = serialization.load_pem_private_key((HERE / "openssl/ec_private.pem").read_bytes(), None)
OSSL_CERT_PEM = (HERE / "openssl/ec_public.pem").read_text()
KID_OSSL = pomerium_kid(*xy(OSSL_PRIV.public_key()))
check((HERE / "openssl/ec_pubkey.kid.txt").read_text().strip() == KID_OSSL,
      "gen-openssl.sh's shell-computed kid differs from gen.py's")

JOSE_PUB = json.loads((HERE / "node/jose-key.pub.jwk.json").read_text())
JOSE_KEY = p256_from_xy(b64u_dec(JOSE_PUB["x"]), b64u_dec(JOSE_PUB["y"]))
check(pomerium_kid(*xy(JOSE_KEY)) == JOSE_PUB["kid"], "jose's kid (its RFC 7638 thumbprint) differs from ours")


def keep_or_make(rel, make):
    """Write make() to rel unless rel exists (files holding fresh random keys are made once)."""
    if not (HERE / rel).exists():
        write(rel, make())
    return (HERE / rel).read_text()


# Single-key forms of the main key.
write("python/key1.pub.pem", spki_pem(K1))
write("python/key2.pub.pem", spki_pem(K2))
write("python/key1.pub.crlf.pem", spki_pem(K1).replace("\n", "\r\n"))
write("python/key1.pub.pem.b64", base64.b64encode(spki_pem(K1).encode()).decode())
write("python/key1.jwk.json", js(jwk_pomerium(K1)) + "\n")
write("python/key1-nokid.jwk.json", js(jwk_bare(K1)) + "\n")
d1 = dict(jwk_pomerium(K1))
d1["d"] = b64u(K1.private_numbers().private_value.to_bytes(32, "big"))
write("python/key1-with-d.jwk.json", js(d1) + "\n")
write("python/key1.jwks.json", js({"keys": [jwk_pomerium(K1)]}) + "\n")
write("python/key2.jwks.json", js({"keys": [jwk_pomerium(K2)]}) + "\n")
pt = K1.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
write("python/key1.sec1.bin", pt)
write("python/key1.sec1c.bin", K1.public_key().public_bytes(
    serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint))
bad_pt = bytearray(pt)
bad_pt[-1] ^= 1  # y + or - 1: off the curve (checked below)
write("python/sec1-offcurve.bin", bytes(bad_pt))

# Sets.
write("python/jwks-rotation.json", jdump({"keys": [jwk_pomerium(K1), jwk_pomerium(K2)]}))
write("python/jwks-nokid-3.json", jdump({"keys": [jwk_pomerium(K2, None), jwk_pomerium(K3, None),
                                                  jwk_pomerium(K1, None)]}))
write("python/jwks-empty-kid.json", js({"keys": [jwk_pomerium(K1, "")]}) + "\n")
write("python/jwks-main-and-jose.json", jdump({"keys": [jwk_pomerium(K1), JOSE_PUB]}))
write("python/openssl-key.jwks.json", js({"keys": [jwk_pomerium(OSSL_PRIV)]}) + "\n")


def make_jwks100():
    ks = [jwk_pomerium(ec.generate_private_key(ec.SECP256R1())) for _ in range(99)]
    return js({"keys": ks + [jwk_pomerium(K1)]}) + "\n"


JWKS100 = json.loads(keep_or_make("python/jwks-100.json", make_jwks100))
check(len(JWKS100["keys"]) == 100 and JWKS100["keys"][-1] == jwk_pomerium(K1), "jwks-100.json")


def make_mixed():
    rsa_pub = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
    ed = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    xx = x25519.X25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    plain = ec.generate_private_key(ec.SECP256R1())
    es384 = ec.generate_private_key(ec.SECP256R1())
    rs256 = ec.generate_private_key(ec.SECP256R1())
    n_bytes = rsa_pub.n.to_bytes((rsa_pub.n.bit_length() + 7) // 8, "big")
    members = [
        {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "rsa-2048", "n": b64u(n_bytes), "e": "AQAB"},
        {"kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": "ed25519", "x": b64u(ed)},
        jwk_pomerium(K1),
        {"kty": "OKP", "crv": "X25519", "kid": "x25519", "x": b64u(xx)},
        {"kty": "EC", "crv": "P-384", "kid": "p384", "x": b64u(p384.x.to_bytes(48, "big")),
         "y": b64u(p384.y.to_bytes(48, "big"))},
        dict(jwk_pomerium(K2), use="enc"),
        dict(jwk_pomerium(rs256), kid="p256-alg-rs256", alg="RS256"),
        dict(jwk_pomerium(es384), kid="p256-alg-es384", alg="ES384"),
        dict(jwk_bare(plain), kid="p256-plain"),  # no use, no alg: usable
    ]
    return jdump({"keys": members})


MIXED = json.loads(keep_or_make("python/jwks-mixed.json", make_mixed))["keys"]
MIXED_PLAIN = p256_from_xy(b64u_dec(MIXED[8]["x"]), b64u_dec(MIXED[8]["y"]))
UNSUPPORTED = [m for m in MIXED if m.get("kid") in
               ("rsa-2048", "ed25519", "x25519", "p384", KID2, "p256-alg-rs256", "p256-alg-es384")]
write("python/jwks-unsupported-only.json", jdump({"keys": UNSUPPORTED}))
write("python/jwks-keys-null.json", '{"keys":null}\n')
write("python/jwks-keys-empty.json", '{"keys":[]}\n')
write("python/rsa.jwk.json", js(MIXED[0]) + "\n")
write("python/ed25519.jwk.json", js(MIXED[1]) + "\n")
write("python/p384.jwk.json", js(MIXED[4]) + "\n")

X1, Y1 = xy(K1.public_key())
off_y = ((int.from_bytes(Y1, "big") + 1) % P256_P).to_bytes(32, "big")
X2, Y2 = xy(K2.public_key())
off_y2 = ((int.from_bytes(Y2, "big") + 1) % P256_P).to_bytes(32, "big")
broken = {
    "offcurve": dict(jwk_pomerium(K2), kid="broken-offcurve", y=b64u(off_y2)),
    "x31": dict(jwk_pomerium(K2), kid="broken-x31", x=b64u(X2[1:])),
    "x-padded": dict(jwk_pomerium(K2), kid="broken-x-padded", x=b64u(X2) + "="),
    "y-missing": {k: v for k, v in dict(jwk_pomerium(K2), kid="broken-y-missing").items() if k != "y"},
}
for nm, m in broken.items():
    write(f"python/jwks-broken-{nm}.json", jdump({"keys": [jwk_pomerium(K1), m]}))
write("python/jwk-offcurve.json", js(dict(jwk_bare(K1), y=b64u(off_y))) + "\n")

write("python/two-pubkeys.pem", spki_pem(K1) + spki_pem(K2))
write("python/rotation.pem.b64", base64.b64encode((spki_pem(K1) + spki_pem(K2)).encode()).decode())
write("python/cert-plus-pubkey.pem", OSSL_CERT_PEM + spki_pem(K2))
keep_or_make("python/pubkey-plus-private.pem", lambda: spki_pem(K1) + ec.generate_private_key(
    ec.SECP256R1()).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()).decode())
write("python/garbage.txt", "this is not a key\n")
write("python/jwks-truncated.json", '{"keys":[{"kty":"EC","crv":"P-256","x":"' + b64u(X1) + '"\n')
write("python/pem-bad-base64.pem", "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE*@#!\n"
      "-----END PUBLIC KEY-----\n")

# Pomerium's documentation key: copy, then reproduce its kid.
for f in ("docs-signing-key.jwks.json", "docs-signing-key.pub.pem", "SOURCES.md"):
    write(f"pomerium-docs/{f}", (SHARED_DOCS / f).read_bytes())
DOCS = json.loads((HERE / "pomerium-docs/docs-signing-key.jwks.json").read_text())["keys"][0]
DOCS_KEY = serialization.load_pem_public_key((HERE / "pomerium-docs/docs-signing-key.pub.pem").read_bytes())
check(DOCS["kid"] == DOCS_KID, "docs JWKS kid changed")
check(pomerium_kid(b64u_dec(DOCS["x"]), b64u_dec(DOCS["y"])) == DOCS_KID,
      "our Pomerium kid computation does not reproduce the docs JWKS kid e05015c3...")
check(pomerium_kid(*xy(DOCS_KEY)) == DOCS_KID, "the docs PEM is not the docs JWKS key")

# =========================================================================== keys.json
KEY_CASES = []


def keycase(name, file, expect, keys=None, why=""):
    KEY_CASES.append({"name": name, "file": file, "expect": expect,
                      **({"keys": keys} if expect == "ok" else {}), "why": why})


OSSL_INFO = keyinfo(OSSL_PRIV)
keycase("openssl_spki_pem", "openssl/ec_pubkey.pem", "ok", [OSSL_INFO],
        "PUBLIC KEY PEM from `openssl ec -pubout`")
keycase("openssl_cert_pem_guide", "openssl/ec_public.pem", "ok", [OSSL_INFO],
        "self-signed CERTIFICATE from the guide's `openssl req -x509 -days 1000000`: only a container")
keycase("openssl_spki_der", "openssl/ec_pubkey.der", "ok", [OSSL_INFO], "DER SubjectPublicKeyInfo")
keycase("openssl_cert_der", "openssl/ec_public.der", "ok", [OSSL_INFO], "DER X.509 certificate")
keycase("openssl_cert_text_before_pem", "openssl/ec_public.text.pem", "ok", [OSSL_INFO],
        "`openssl x509 -text` output: explanatory text before -----BEGIN CERTIFICATE-----")
keycase("openssl_cert_pem_base64", "openssl/ec_public.pem.b64", "ok", [OSSL_INFO],
        "certificate PEM base64-encoded once more (`base64 -w0`, signing_key style)")
keycase("openssl_ec_private_key", "openssl/ec_private.pem", "private_key",
        why="EC PRIVATE KEY from `openssl ecparam -genkey`: refused, pass the public key")
keycase("openssl_pkcs8_private_key", "openssl/ec_private.pk8.pem", "private_key",
        why="PRIVATE KEY (PKCS#8) from `openssl pkcs8 -topk8 -nocrypt`: refused")
keycase("openssl_private_key_base64", "openssl/ec_private.pem.b64", "private_key",
        why="Pomerium's signing_key value itself (base64 of EC PRIVATE KEY PEM): refused")
keycase("openssl_p384_spki", "openssl/p384_pubkey.pem", "unsupported_key", why="P-384 PUBLIC KEY PEM")
keycase("openssl_rsa_spki", "openssl/rsa_pubkey.pem", "unsupported_key", why="RSA PUBLIC KEY PEM")
keycase("openssl_key_as_jwks", "python/openssl-key.jwks.json", "ok", [keyinfo(OSSL_PRIV, KID_OSSL)],
        "the OpenSSL key as Pomerium would serve it in its JWKS")

K1I, K2I, K3I = (keyinfo(k) for k in (K1, K2, K3))
K1K, K2K = keyinfo(K1, KID1), keyinfo(K2, KID2)
keycase("spki_pem", "python/key1.pub.pem", "ok", [K1I], "PUBLIC KEY PEM")
keycase("spki_pem_crlf", "python/key1.pub.crlf.pem", "ok", [K1I], "PUBLIC KEY PEM with CRLF line ends")
keycase("spki_pem_base64", "python/key1.pub.pem.b64", "ok", [K1I],
        "PUBLIC KEY PEM base64-encoded once more, one line (signing_key style)")
keycase("sec1_uncompressed", "python/key1.sec1.bin", "ok", [K1I], "raw 65-byte SEC1 point 04||x||y")
keycase("sec1_compressed", "python/key1.sec1c.bin", "ok", [K1I], "raw 33-byte compressed SEC1 point")
keycase("sec1_off_curve", "python/sec1-offcurve.bin", "invalid_key", why="65-byte SEC1 point not on P-256")
keycase("jwk_with_kid", "python/key1.jwk.json", "ok", [K1K], "single JWK in Pomerium's form, with kid")
keycase("jwk_without_kid", "python/key1-nokid.jwk.json", "ok", [K1I], "single JWK with kty, crv, x, y only")
keycase("jwk_with_private_d", "python/key1-with-d.jwk.json", "private_key",
        why="JWK carrying the private scalar d: refused")
keycase("jwk_off_curve", "python/jwk-offcurve.json", "invalid_key", why="single P-256 JWK, point off the curve")
keycase("jwk_rsa_alone", "python/rsa.jwk.json", "unsupported_key", why="an RSA JWK given on its own")
keycase("jwk_ed25519_alone", "python/ed25519.jwk.json", "unsupported_key", why="an OKP Ed25519 JWK on its own")
keycase("jwk_p384_alone", "python/p384.jwk.json", "unsupported_key", why="a P-384 JWK on its own")
keycase("jwks_one", "python/key1.jwks.json", "ok", [K1K], "JWKS with one key (Pomerium's jwks.json)")
keycase("jwks_two_rotation", "python/jwks-rotation.json", "ok", [K1K, K2K], "JWKS with two keys (rotation)")
keycase("jwks_100", "python/jwks-100.json", "ok",
        [keyinfo(p256_from_xy(b64u_dec(m["x"]), b64u_dec(m["y"])), m["kid"]) for m in JWKS100["keys"]],
        "JWKS with 100 keys (the CLI's stated capacity); the main key is the last")
keycase("jwks_no_kids", "python/jwks-nokid-3.json", "ok", [K2I, K3I, K1I], "JWKS whose members carry no kid")
keycase("jwks_empty_kid", "python/jwks-empty-kid.json", "ok", [keyinfo(K1, "")],
        "JWKS member with kid \"\" (a kid like any other)")
keycase("jwks_mixed_skips_unusable", "python/jwks-mixed.json", "ok",
        [K1K, keyinfo(MIXED_PLAIN, "p256-plain")],
        "RSA, OKP Ed25519/X25519, P-384, P-256 use=enc, P-256 alg RS256/ES384 skipped; 2 usable remain")
keycase("jwks_main_and_jose", "python/jwks-main-and-jose.json", "ok", [K1K, keyinfo(JOSE_KEY, JOSE_PUB["kid"])],
        "JWKS with the main key and the jose key")
keycase("jwks_only_unsupported", "python/jwks-unsupported-only.json", "no_keys",
        why="every member is skipped (RSA, OKP, P-384, use=enc, alg RS256/ES384)")
keycase("jwks_keys_null", "python/jwks-keys-null.json", "no_keys", why='{"keys":null} holds no keys')
keycase("jwks_keys_empty", "python/jwks-keys-empty.json", "no_keys", why='{"keys":[]} holds no keys')
for nm, why in (("offcurve", "point not on the curve"), ("x31", "x is 31 bytes"),
                ("x-padded", "x padded with '='"), ("y-missing", "y missing")):
    keycase(f"jwks_broken_{nm.replace('-', '_')}", f"python/jwks-broken-{nm}.json", "invalid_key",
            why=f"a P-256 member is broken ({why}): the whole file is rejected though key1 is fine")
keycase("pem_two_public_keys", "python/two-pubkeys.pem", "ok", [K1I, K2I], "two PUBLIC KEY blocks in one file")
keycase("pem_two_public_keys_base64", "python/rotation.pem.b64", "ok", [K1I, K2I],
        "multi-block PEM base64-encoded once more (signing_key with two keys)")
keycase("pem_cert_plus_public_key", "python/cert-plus-pubkey.pem", "ok", [OSSL_INFO, K2I],
        "a CERTIFICATE block followed by a PUBLIC KEY block")
keycase("pem_public_plus_private", "python/pubkey-plus-private.pem", "private_key",
        why="a PUBLIC KEY block followed by an EC PRIVATE KEY block: refused, not silently skipped")
keycase("garbage_text", "python/garbage.txt", "malformed", why="plain text, no key format")
keycase("jwks_truncated_json", "python/jwks-truncated.json", "malformed", why="JWKS cut off mid-document")
keycase("pem_bad_base64", "python/pem-bad-base64.pem", "malformed", why="PUBLIC KEY PEM whose body is not base64")
keycase("jose_public_jwk", "node/jose-key.pub.jwk.json", "ok", [keyinfo(JOSE_KEY, JOSE_PUB["kid"])],
        "JWK exported by node jose (kid computed by jose's calculateJwkThumbprint)")
DOCS_I = keyinfo(DOCS_KEY)
keycase("pomerium_docs_jwks", "pomerium-docs/docs-signing-key.jwks.json", "ok", [dict(DOCS_I, kid=DOCS_KID)],
        "JWKS for the key in Pomerium's docs; its kid e05015c3... is reproduced by our computation")
keycase("pomerium_docs_pem", "pomerium-docs/docs-signing-key.pub.pem", "ok", [DOCS_I],
        "PUBLIC KEY PEM of the key in Pomerium's docs")

# Self-check every key case against the model, and every thumbprint against joserfc.
LOADED = {}
for kc in KEY_CASES:
    try:
        got = load_keyfile(kc["file"])
        kind = "ok"
    except Reject as e:
        kind, got = e.kind, None
    check(kind == kc["expect"], f"key case {kc['name']}: model says {kind}, declared {kc['expect']}")
    if got is not None:
        LOADED[kc["file"]] = got
        want = [(k["kid"], k["x"], k["y"]) for k in kc["keys"]]
        have = [(kid, *(c.hex() for c in xy(pk))) for kid, pk in got]
        check(want == have, f"key case {kc['name']}: keys differ")
        for k in kc["keys"]:
            jk = {"kty": "EC", "crv": "P-256", "x": b64u(bytes.fromhex(k["x"])), "y": b64u(bytes.fromhex(k["y"]))}
            check(ECKey.import_key(jk).thumbprint() == k["thumbprint"], f"joserfc thumbprint {kc['name']}")
            check(b64u_dec(k["thumbprint"]).hex() == k["pomerium_kid"], "kid/thumbprint")
check(len({k["name"] for k in KEY_CASES}) == len(KEY_CASES), "duplicate key case name")


def keyset(files):
    out = []
    for f in files:
        if f not in LOADED:
            LOADED[f] = load_keyfile(f)
        out += LOADED[f]
    return out


# =========================================================================== token builders
def H(kid=KID1, typ="JWT") -> str:
    return '{"alg":"ES256"' + ("" if kid is None else f',"kid":{js(kid)}') + \
        ("" if typ is None else f',"typ":{js(typ)}') + "}"


JTI = "5f0e9a3c-8d2b-4c71-9e6a-2b4d8f1c7a30"
SID = "b7c4e2d1-6a9f-4e38-8c15-3d2a7f9b0e64"
DEFAULT = [("aud", AUD), ("email", "alice@example.com"), ("exp", EXP), ("groups", ["admins", "devs"]),
           ("iat", IAT), ("iss", AUD), ("jti", JTI), ("name", "Alice"), ("sid", SID),
           ("sub", "alice-id-0001"), ("user", "alice-id-0001")]
DROP = object()


def P(extra=(), **over) -> str:
    """Pomerium-form claims JSON; over replaces or drops (DROP) members, extra appends (name, value)."""
    over = dict(over)
    members = []
    for k, v in DEFAULT:
        v = over.pop(k, v)
        if v is not DROP:
            members.append((k, v))
    members += list(over.items()) + list(extra)
    return "{" + ",".join(f"{name(k)}:{v if isinstance(v, R) else js(v)}" for k, v in members) + "}"


def name(k) -> str:
    """A member name: R("\\u0073ub") is written raw between quotes, anything else JSON-encoded."""
    return f'"{k}"' if isinstance(k, R) else js(k)


def E(**over) -> dict:
    e = {"iss": AUD, "aud": AUD, "sub": "alice-id-0001", "email": "alice@example.com",
         "user": "alice-id-0001", "name": "Alice", "sid": SID, "jti": JTI,
         "groups": ["admins", "devs"], "exp": EXP, "iat": IAT, "nbf": None}
    e.update(over)
    return e


def mk(header=None, payload=None, key=None, *, hseg=None, pseg=None, sig=None) -> str:
    """Compact JWS over the exact bytes given. sig(r, s) -> bytes replaces the r||s encoding."""
    hseg = hseg if hseg is not None else b64u(enc(H() if header is None else header))
    pseg = pseg if pseg is not None else b64u(enc(P() if payload is None else payload))
    r, s = sign_rs(key or K1, f"{hseg}.{pseg}".encode())
    return f"{hseg}.{pseg}.{b64u(rs64(r, s) if sig is None else sig(r, s))}"


def reuse(name, token) -> str:
    """For randomised signers: keep the committed token if it signs the same header.payload."""
    old = OLD_TOKENS.get(name)
    if old and old.rsplit(".", 1)[0] == token.rsplit(".", 1)[0]:
        return old
    return token


CASES = []
K1JWKS = ["python/key1.jwks.json"]
STRUCTURE = "any"  # sig= marker: signature validity irrelevant (rejected before it is looked at)


def case(name, token, expect, why, *, keys=K1JWKS, audience=AUD, issuer=None, now=NOW, leeway=None,
         claims=None, signer="python", sig=None):
    check(re.fullmatch(r"[a-z0-9_]+", name) is not None, f"bad case name {name}")
    check((claims is not None) == (expect == "ok"), f"{name}: claims only for ok")
    c = {"name": name, "signer": signer, "token": token, "keys": list(keys), "audience": audience,
         "issuer": issuer, "now": now, "leeway": leeway, "expect": expect}
    if expect == "ok":
        c["claims"] = claims
    c["why"] = why
    c["_sig"] = sig if sig is not None else {"ok": True, "bad_signature": False, "unknown_key": STRUCTURE}.get(
        expect, True)
    CASES.append(c)


def ok(name, token, why, claims=None, **kw):
    case(name, token, "ok", why, claims=E() if claims is None else claims, **kw)


def rej(name, token, expect, why, **kw):
    case(name, token, expect, why, **kw)


# =========================================================================== ok: Pomerium forms
ok("typical_pomerium", mk(), "typical token as current Pomerium writes it (header alg, kid, typ; claims in Go's order)")
ok("old_header_alg_only", mk(H(None, None)), 'older Pomerium releases: header {"alg":"ES256"} only')
ok("aud_array_single", mk(payload=P(aud=[AUD])), "aud as a one-element array", E(aud=[AUD]))
AUDS = ["other.example.com", AUD, "third.example.com"]
ok("aud_array_among_others", mk(payload=P(aud=AUDS)), "aud array containing the audience among others", E(aud=AUDS))
ok("iss_https_slash", mk(payload=P(iss=f"https://{AUD}/")), "iss https://<audience>/ (current Pomerium)",
   E(iss=f"https://{AUD}/"))
ok("iss_pomerium_proxy", mk(payload=P(iss="pomerium-proxy")), "iss pomerium-proxy (the signed-headers guide's value)",
   E(iss="pomerium-proxy"))
ok("issuer_configured_match", mk(payload=P(iss="authenticate.example.com")),
   "issuer configured and equal (an older authenticate-host issuer)", E(iss="authenticate.example.com"),
   issuer="authenticate.example.com")
AUD2 = ["app.example.com", "other.example.com"]
ok("default_issuer_follows_configured_audience",
   mk(payload=P(aud=AUD2, iss="https://other.example.com/")),
   "audience other.example.com: the default issuers derive from the configured audience",
   E(aud=AUD2, iss="https://other.example.com/"), audience="other.example.com")

# =========================================================================== ok: JSON strings
ok("go_html_escapes", mk(payload=P(email=R(r'"alice\u0026bob@example.com"'),
                                   name=R(r'"Alice \u0026 Bob \u003cadmins\u003e"'))),
   "Go's encoder escapes & < > as \\u0026 \\u003c \\u003e: unescaped to &<>",
   E(email="alice&bob@example.com", name="Alice & Bob <admins>"))
ok("go_line_separator_escapes", mk(payload=P(name=R(r'"a\u2028b\u2029c"'))),
   "Go escapes U+2028/U+2029 as \\u2028 \\u2029", E(name="a\u2028b\u2029c"))
ok("all_json_escapes", mk(payload=P(name=R(r'"q\" b\\ s\/ b\b f\f n\n r\r t\t"'))),
   'every short JSON escape \\" \\\\ \\/ \\b \\f \\n \\r \\t', E(name='q" b\\ s/ b\b f\f n\n r\r t\t'))
ok("surrogate_pair_emoji", mk(payload=P(name=R(r'"Alice \ud83d\ude00"'))),
   "surrogate pair \\ud83d\\ude00 is one emoji U+1F600", E(name="Alice \U0001F600"))
ok("surrogate_pair_upper_hex", mk(payload=P(name=R(r'"\uD83D\uDE00\u00E9"'))),
   "upper-case hex digits in \\u escapes", E(name="\U0001F600\u00e9"))
ok("raw_utf8_multibyte", mk(payload=P(name="Zoë 日本 😀 \U0010FFFF")),
   "raw UTF-8 of 2, 3 and 4 bytes (up to U+10FFFF) in a string", E(name="Zoë 日本 😀 \U0010FFFF"))
ok("nul_escape_survives", mk(payload=P(name=R(r'"Al\u0000ice"'), sub=R(r'"alice-id-0001\u0000"'))),
   "\\u0000 is a character: kept, no truncation", E(name="Al\x00ice", sub="alice-id-0001\x00"))
ok("raw_del_allowed", mk(payload=P(name="A\x7fB")), "raw 0x7F (DEL) is not a control character in JSON",
   E(name="A\x7fB"))
ok("escaped_member_name_sub", mk(payload=P(sub=DROP, user=DROP, extra=[(R(r"\u0073ub"), "alice-id-0001"),
                                                                      ("user", "alice-id-0001")])),
   'member name "\\u0073ub" is "sub"', E())
ok("escaped_member_names_all",
   mk(payload=r'{"a\u0075d":"app.example.com","\u0065xp":1700000300,"\u0069at":1700000000,'
              r'"i\u0073s":"app.example.com","\u0067roups":["admins"],"\u006e\u0062\u0066":1700000000,'
              r'"\u0073\u0075\u0062":"s"}'),
   "every read claim named with escapes (aud exp iat iss groups nbf sub)",
   E(sub="s", email=None, user=None, name=None, sid=None, jti=None, groups=["admins"], nbf=IAT))
ok("aud_escaped_value", mk(payload=P(aud=R(r'"app\u002eexample\u002ecom"'))),
   "aud compared after unescaping", E())
ok("iss_escaped_slashes", mk(payload=P(iss=R(r'"https:\/\/app.example.com\/"'))),
   "iss written with \\/ (as some encoders do) equals https://app.example.com/", E(iss="https://app.example.com/"))
ok("groups_escaped", mk(payload=P(groups=R(r'["a\u0026b","\u00e9quipe","x\"y",""]'))),
   "group names unescaped; empty string kept", E(groups=["a&b", "équipe", 'x"y', ""]))

# =========================================================================== ok: header forms
ok("alg_escaped", mk(r'{"alg":"ES\u0032\u0035\u0036","kid":"%s","typ":"JWT"}' % KID1),
   'alg "ES\\u0032\\u0035\\u0036" is "ES256" after unescaping')
ok("typ_lower_case", mk(H(typ="jwt")), 'typ "jwt": compared in any case')
ok("typ_mixed_case", mk(H(typ="jWt")), 'typ "jWt": compared in any case')
ok("typ_absent", mk(H(typ=None)), "typ is optional")
JWK3 = js(jwk_bare(K3))
ok("header_unknown_members_ignored",
   mk('{"alg":"ES256","cty":"JWT","jku":"https://evil.example.com/jwks.json","jwk":%s,"kid":"%s",'
      '"typ":"JWT","x5c":["%s"],"x5u":"https://evil.example.com/cert.pem","x-custom":{"a":[1,2,{"b":null}]}}'
      % (JWK3, KID1, base64.b64encode((HERE / "openssl/ec_public.der").read_bytes()).decode())),
   "jku, x5u, jwk (another key), x5c, cty and custom members present: ignored, never followed")
def padded_header(size, alg='"ES256"', tail=""):
    """The usual header with an ignored member "x" that makes it exactly `size` bytes."""
    head = '{"alg":%s,"kid":"%s","typ":"JWT","x":"' % (alg, KID1)
    fill = size - len(head) - len('"}') - len(tail)
    out = head + "x" * fill + '"}' + tail
    check(len(out) == size, f"padded header is {len(out)} bytes, not {size}")
    return out


ok("header_1024_bytes", mk(padded_header(1024)), "a header of exactly 1 KiB, the cap: read as usual")
rej("header_1025_bytes", mk(padded_header(1025)), "too_large", "a header one byte over 1 KiB: refused unread")
rej("header_1025_rs256_not_read", mk(padded_header(1025, '"RS256"')), "too_large",
    "over the cap, the header is not read: its wrong alg is not what is reported")
rej("header_1025_trailing_bytes_not_read", mk(padded_header(1025, tail="x")), "too_large",
    "over the cap, the header is not read: its trailing byte is not what is reported")
rej("header_1024_rs256_read", mk(padded_header(1024, '"RS256"')), "unsupported_alg",
    "at the cap, the header is read: its wrong alg is reported")
rej("header_8k", mk(padded_header(8 * 1024)), "too_large", "an 8 KiB header: refused before it is decoded")
ok("kid_escaped_matches", mk('{"alg":"ES256","kid":"\\u%04x%s","typ":"JWT"}' % (ord(KID1[0]), KID1[1:])),
   "kid with its first character written as \\u00XX matches after unescaping")
ok("header_whitespace", mk('{ "alg" : "ES256" ,\n "kid" :\t"%s" ,\r\n"typ":"JWT" }\n' % KID1),
   "white space (space, tab, CR, LF) around header members")
ok("header_member_order", mk('{"typ":"JWT","kid":"%s","alg":"ES256"}' % KID1), "header members in another order")
ok("header_lone_surrogate_unread_member", mk('{"alg":"ES256","kid":"%s","typ":"JWT","x-note":"\\ud800"}' % KID1),
   "lone surrogate in an unknown header member: not read, so not rejected")
ok("kid_empty_string_matches", mk(H(kid="")), 'header kid "" selects the JWKS member with kid ""',
   keys=["python/jwks-empty-kid.json"])

# =========================================================================== ok: claims shape
ok("claims_whitespace",
   mk(payload=' {\n  "aud" : "app.example.com",\n\t"email":"alice@example.com" ,\r\n "exp": 1700000300,'
              '"groups" : [ "admins" , "devs" ] , "iat":1700000000,\n "iss":"app.example.com",'
              '"jti":"%s","name":"Alice","sid":"%s","sub":"alice-id-0001","user":"alice-id-0001"\n}\n' % (JTI, SID)),
   "white space around members, values, array elements, and around the object")
ok("claims_odd_order", mk(payload="{" + ",".join(f"{js(k)}:{js(v)}" for k, v in reversed(DEFAULT)) + "}"),
   "claims in reverse order")
ok("minimal_claims", mk(payload=js({"aud": AUD, "exp": EXP, "iat": IAT, "iss": AUD})),
   "only the required claims: optional strings are null, groups []",
   E(sub=None, email=None, user=None, name=None, sid=None, jti=None, groups=[]))
ok("unknown_claims_nested_depth_10",
   mk(payload=P(extra=[("x-nested", R('{"a":[{"b":[{"c":[{"d":[{"e":"deep"}]}]}]}]}')),
                       ("x-list", R('[1,-2.5e-3,"s",null,true,false,{},[]]')), ("", R('"empty name"'))])),
   "unknown claims (objects, arrays, all literals, empty member name) nested to depth 10 overall")
ok("nesting_16_total", mk(payload=P(extra=[("x", R("[" * 15 + "]" * 15))])),
   "unknown claim nested so the document is 16 levels deep: within every allowed limit (16..64)")
ok("unknown_claim_number_forms",
   mk(payload=P(extra=[("x-n", R("[-0,0.5,1E+2,-1.5e-3,1e400,123456789012345678901234567890,-1]"))])),
   "any valid JSON number in an unknown claim, even 1e400 or -1, is skipped")
ok("unknown_claim_lone_surrogate", mk(payload=P(extra=[("x-note", R(r'"\ud83d"'))])),
   "lone surrogate in an unknown claim: well-formed JSON, not read, so accepted")
ok("groups_null", mk(payload=P(groups=None)), "groups null means no groups", E(groups=[]))
ok("groups_absent", mk(payload=P(groups=DROP)), "groups absent means no groups", E(groups=[]))
ok("groups_empty", mk(payload=P(groups=[])), "groups [] ", E(groups=[]))
ok("groups_order_and_duplicates", mk(payload=P(groups=["b", "a", "b"])), "groups kept in order, duplicates kept",
   E(groups=["b", "a", "b"]))


def sized_groups(count, target):
    """Groups whose token is as close to target bytes as possible without exceeding it."""
    def build(total):  # total padding characters, spread over the names
        w, extra = divmod(total, count)
        g = [f"group-{i:04d}-" + "x" * (w + (i < extra)) for i in range(count)]
        return g, mk(payload=P(groups=g))

    lo, hi = 0, 200 * count
    while lo < hi:  # the largest total whose token fits
        mid = (lo + hi + 1) // 2
        if len(build(mid)[1]) <= target:
            lo = mid
        else:
            hi = mid - 1
    return build(lo)


G600, T600 = sized_groups(600, 16384)
check(15_800 <= len(T600) <= 16_384, f"groups_600_16k is {len(T600)} bytes")
ok("groups_600_16k", T600, f"600 groups in a {len(T600)}-byte token (~16 KiB, as Pomerium users send)", E(groups=G600))
G1000 = [f"g{i:04d}" for i in range(1000)]
ok("groups_1000", mk(payload=P(groups=G1000)), "1,000 groups (the CLI's stated capacity)", E(groups=G1000))
G64, T64 = sized_groups(1000, 65_000)
check(64_000 <= len(T64) <= 65_536, f"token_64k is {len(T64)} bytes")
ok("token_64k_1000_groups", T64, f"1,000 groups in a {len(T64)}-byte token: under 64 KiB, must verify",
   E(groups=G64))

# =========================================================================== ok: NumericDate and time
ok("exp_fraction", mk(payload=P(exp=R("1700000300.5"))), "older releases: exp 1700000300.5 read as 1700000300")
ok("exp_exponent", mk(payload=P(exp=R("1.7000003e+09"))), "older releases: exp 1.7000003e+09")
ok("exp_zero_fraction", mk(payload=P(exp=R("1700000300.0"))), "exp 1700000300.0")
ok("exp_exponent_upper_e", mk(payload=P(exp=R("1.7000003E9"))), "exponent with E and no sign")
ok("exp_negative_exponent", mk(payload=P(exp=R("170000030000e-2"))), "exp 170000030000e-2 is 1700000300")
ok("iat_fraction_dropped", mk(payload=P(iat=R("1700000000.999"))), "iat fraction dropped, not rounded")
ok("exp_u64_max", mk(payload=P(exp=U64MAX)), "exp 18446744073709551615 (u64::MAX) is valid", E(exp=U64MAX))
ok("exp_u64_max_with_fraction", mk(payload=P(exp=R("18446744073709551615.9"))),
   "whole part u64::MAX fits, the fraction is dropped", E(exp=U64MAX))
ok("exp_u64_max_exponent_form", mk(payload=P(exp=R("1.8446744073709551615e19"))),
   "u64::MAX in exponent form, exactly", E(exp=U64MAX))
ok("iat_zero", mk(payload=P(iat=0)), "iat 0 is a NumericDate >= 0", E(iat=0))
ok("nbf_zero_huge_exponent", mk(payload=P(extra=[("nbf", R("0e400"))])),
   "nbf 0e400 is zero: fits in u64", E(nbf=0))
ok("nbf_passed", mk(payload=P(extra=[("nbf", IAT)])), "nbf in the past", E(nbf=IAT))
ok("nbf_at_now_plus_leeway", mk(payload=P(extra=[("nbf", NOW + 60)])), "nbf == now + leeway is accepted",
   E(nbf=NOW + 60))
ok("exp_last_valid_second", mk(), "now == exp + leeway - 1 is accepted", now=EXP + 59)
ok("iat_at_now_plus_leeway", mk(payload=P(iat=NOW + 60)), "iat == now + leeway is accepted", E(iat=NOW + 60))
ok("leeway_0_exp_minus_1", mk(), "leeway 0: now == exp - 1 accepted", now=EXP - 1, leeway=0)
ok("leeway_0_iat_eq_now", mk(payload=P(iat=NOW)), "leeway 0: iat == now accepted", E(iat=NOW), leeway=0)
ok("leeway_0_nbf_eq_now", mk(payload=P(extra=[("nbf", NOW)])), "leeway 0: nbf == now accepted", E(nbf=NOW),
   leeway=0)
ok("saturating_exp_max_now_max_minus_1", mk(payload=P(exp=U64MAX)),
   "exp + leeway saturates at u64::MAX; now = u64::MAX - 1 is before it", E(exp=U64MAX), now=U64MAX - 1)
ok("saturating_huge_leeway", mk(), "leeway u64::MAX: exp + leeway and now + leeway saturate, no overflow",
   now=EXP + 1000, leeway=U64MAX)

# =========================================================================== ok: signatures
PAY_S = P(jti="high-s-pair")
SI = f"{b64u(H().encode())}.{b64u(PAY_S.encode())}".encode()
r0, s0 = sign_rs(K1, SI)
s_low = min(s0, N - s0)
s_high = N - s_low
check(s_high > N // 2 >= s_low, "high-S construction")
check(ecdsa_ok(K1.public_key(), SI, r0, s_high) and ecdsa_ok(K1.public_key(), SI, r0, s_low), "high/low S verify")
ok("sig_low_s", mk(payload=PAY_S, sig=lambda r, s: rs64(r, s_low)), "low-S (s <= n/2) signature",
   E(jti="high-s-pair"))
ok("sig_high_s", mk(payload=PAY_S, sig=lambda r, s: rs64(r, s_high)),
   "the same token with s replaced by n - s (s > n/2): valid ES256, Go never normalises s", E(jti="high-s-pair"))
for i in range(100):
    p = P(jti=f"native-high-s-{i}")
    _, s_ = sign_rs(K1, f"{b64u(H().encode())}.{b64u(p.encode())}".encode())
    if s_ > N // 2:
        ok("sig_high_s_native", mk(payload=p), "a signer's own output that happens to have high S",
           E(jti=f"native-high-s-{i}"))
        break
else:
    fail("no native high-S signature found")

# =========================================================================== ok: key forms and choice
ok("key_spki_pem_token_has_kid", mk(), "header kid present, key is a kid-less PUBLIC KEY PEM: tried",
   keys=["python/key1.pub.pem"])
ok("key_spki_pem_crlf", mk(), "key PEM with CRLF line ends", keys=["python/key1.pub.crlf.pem"])
ok("key_spki_pem_base64", mk(), "key PEM base64-encoded once more", keys=["python/key1.pub.pem.b64"])
ok("key_jwk_with_kid", mk(), "key as single JWK with matching kid", keys=["python/key1.jwk.json"])
ok("key_jwk_without_kid", mk(), "key as single JWK without kid", keys=["python/key1-nokid.jwk.json"])
ok("key_sec1_uncompressed", mk(), "key as raw 65-byte SEC1 point", keys=["python/key1.sec1.bin"])
ok("key_sec1_compressed", mk(), "key as raw 33-byte compressed point", keys=["python/key1.sec1c.bin"])
ok("rotation_jwks_key1", mk(), "JWKS with 2 keys: token from key1", keys=["python/jwks-rotation.json"])
J2 = "rotated-key2"
ok("rotation_jwks_key2", mk(H(KID2), P(jti=J2), K2), "JWKS with 2 keys: token from key2",
   E(jti=J2), keys=["python/jwks-rotation.json"])
ok("rotation_two_pem_blocks_key2", mk(H(KID2), P(jti=J2), K2), "two PUBLIC KEY blocks: the second key verifies",
   E(jti=J2), keys=["python/two-pubkeys.pem"])
ok("rotation_pem_base64_key2", mk(H(KID2), P(jti=J2), K2), "base64 of a two-block PEM: the second key verifies",
   E(jti=J2), keys=["python/rotation.pem.b64"])
ok("rotation_two_key_files", mk(), "two --key files; the second holds the key", keys=["python/key2.jwks.json", K1JWKS[0]])
ok("no_kid_every_key_tried", mk(H(None)), "header without kid, JWKS of 3 kid-less keys: all tried, the last verifies",
   keys=["python/jwks-nokid-3.json"])
ok("no_kid_jwks_100", mk(H(None)), "header without kid, 100-key JWKS whose last key verifies",
   keys=["python/jwks-100.json"])
ok("kid_jwks_100", mk(), "kid selects the last of 100 keys", keys=["python/jwks-100.json"])
ok("kid_unrelated_kidless_pem", mk(H("some-other-kid")), "header kid names no key, but a kid-less PEM key is tried",
   keys=["python/key1.pub.pem"])
ok("kid_mismatch_plus_kidless", mk(), "kid matches nothing in key2's JWKS; the kid-less PEM beside it is tried",
   keys=["python/key2.jwks.json", "python/key1.pub.pem"])
ok("jwks_mixed_usable_key", mk(), "JWKS with RSA/OKP/P-384/enc/RS256 members skipped; key1 verifies",
   keys=["python/jwks-mixed.json"])

# =========================================================================== OpenSSL tokens
def ossl(name):
    return (HERE / f"openssl/tokens/{name}.jwt").read_text().strip()


OT, OA, OF, OP = (ossl(n) for n in ("openssl_typical", "openssl_alg_only", "openssl_foreign_kid",
                                    "openssl_pomerium_proxy"))
EO = E(jti="openssl-jti-0001", sid="openssl-sid-0001")
EP = E(iss="pomerium-proxy", email="bob@example.com", jti="openssl-jti-0002", sub="bob-id-0002",
       user="bob-id-0002", name=None, sid=None, groups=[])
for nm, f, why in (("cert_pem", "openssl/ec_public.pem", "the guide's self-signed certificate PEM"),
                   ("spki_pem", "openssl/ec_pubkey.pem", "PUBLIC KEY PEM"),
                   ("spki_der", "openssl/ec_pubkey.der", "DER SubjectPublicKeyInfo"),
                   ("cert_der", "openssl/ec_public.der", "DER certificate"),
                   ("cert_text_pem", "openssl/ec_public.text.pem", "`openssl x509 -text` output"),
                   ("cert_pem_base64", "openssl/ec_public.pem.b64", "base64 of the certificate PEM"),
                   ("cert_plus_pubkey", "python/cert-plus-pubkey.pem", "certificate + another PUBLIC KEY block"),
                   ("jwks", "python/openssl-key.jwks.json", "the key's JWKS, kid matching")):
    ok(f"openssl_typical_{nm}", OT, f"openssl dgst-signed token (kid = Pomerium kid), key as {why}", EO,
       keys=[f], signer="openssl")
ok("openssl_alg_only_cert", OA, 'openssl-signed, header {"alg":"ES256"}, key the guide certificate', EO,
   keys=["openssl/ec_public.pem"], signer="openssl")
ok("openssl_foreign_kid_spki_pem", OF, "openssl-signed, header kid names no key; the kid-less PEM key is tried",
   EO, keys=["openssl/ec_pubkey.pem"], signer="openssl")
ok("openssl_pomerium_proxy_cert", OP, "openssl-signed, iss pomerium-proxy, groups [] (the guide's flow)", EP,
   keys=["openssl/ec_public.pem"], signer="openssl")
rej("openssl_foreign_kid_jwks", OF, "unknown_key", "header kid differs from the only key's kid: no candidate",
    keys=["python/openssl-key.jwks.json"], signer="openssl")
rej("openssl_typical_expired", OT, "expired", "openssl-signed token at now == exp + leeway",
    keys=["openssl/ec_public.pem"], now=EXP + 60, signer="openssl")
rej("openssl_typical_wrong_key_pem", OT, "bad_signature", "openssl-signed token checked with the Python key PEM",
    keys=["python/key1.pub.pem"], signer="openssl")
rej("openssl_typical_wrong_key_jwks", OT, "unknown_key", "openssl token's kid is not key1's kid",
    keys=K1JWKS, signer="openssl")

# =========================================================================== PyJWT tokens
def pyjwt_tok(name, payload, headers):
    t = jwt.encode(payload, K1, algorithm="ES256", headers=headers)
    return reuse(name, t)


PD = dict(DEFAULT)
PT = pyjwt_tok("pyjwt_typical", PD, {"kid": KID1})
ok("pyjwt_typical", PT, "PyJWT jwt.encode, Pomerium's claims", signer="pyjwt")
ok("pyjwt_no_kid", pyjwt_tok("pyjwt_no_kid", PD, None), "PyJWT jwt.encode without kid; key as PEM",
   keys=["python/key1.pub.pem"], signer="pyjwt")
PD2 = dict(PD, aud=[AUD, "other.example.com"], iss=f"https://{AUD}/", nbf=IAT, groups=None)
ok("pyjwt_aud_list_nbf", pyjwt_tok("pyjwt_aud_list_nbf", PD2, {"kid": KID1}),
   "PyJWT: aud list, https iss, nbf, groups null", E(aud=[AUD, "other.example.com"], iss=f"https://{AUD}/",
                                                      nbf=IAT, groups=[]), signer="pyjwt")
PD3 = dict(PD, name="Zoë <&> 😀")
ok("pyjwt_unicode", pyjwt_tok("pyjwt_unicode", PD3, {"kid": KID1}),
   "PyJWT (json.dumps, ensure_ascii): non-ASCII name as \\u escapes incl. a surrogate pair", E(name="Zoë <&> 😀"),
   signer="pyjwt")
rej("pyjwt_expired", PT, "expired", "PyJWT token, now past exp + leeway",
    now=EXP + 61, signer="pyjwt")

# =========================================================================== jose tokens
JT = {c["name"]: c["token"] for c in json.loads((HERE / "node/jose-tokens.json").read_text())}
EJ = dict(iss=AUD, aud=AUD, sub="carol-id-0003", email="carol@example.com", user="carol-id-0003", name="Carol",
          sid="jose-sid-0001", jti="jose-jti-0001", groups=["admins", "devs"], exp=EXP, iat=IAT, nbf=None)
ok("jose_typical", JT["jose_typical"], "node jose SignJWT with kid and typ", EJ, keys=["node/jose-key.pub.jwk.json"],
   signer="jose")
ok("jose_aud_array_nbf_no_typ", JT["jose_aud_array_nbf_no_typ"],
   "node jose: aud array, https iss, nbf, groups null, raw UTF-8 name, no typ",
   dict(EJ, aud=["other.example.com", AUD], iss=f"https://{AUD}/", name="Zoë 😀 日本", user=None, sid=None,
        jti=None, groups=[], nbf=IAT), keys=["node/jose-key.pub.jwk.json"], signer="jose")
ok("jose_no_kid_two_keys", JT["jose_no_kid"], "node jose without kid; JWKS of main + jose keys, both tried",
   dict(EJ, iss="pomerium-proxy", name=None, user=None, sid=None, jti=None, groups=[]),
   keys=["python/jwks-main-and-jose.json"], signer="jose")
rej("jose_typical_unknown_kid", JT["jose_typical"], "unknown_key", "jose key's kid is not in key1's JWKS",
    signer="jose")

# =========================================================================== reject: structure
T = mk()
h_, p_, s_ = T.split(".")
rej("segments_one", h_, "malformed", "one segment, no dot", sig=STRUCTURE)
rej("segments_two", f"{h_}.{p_}", "malformed", "two segments", sig=STRUCTURE)
rej("segments_four", f"{T}.{s_}", "malformed", "four segments", sig=STRUCTURE)
rej("segments_five", f"{T}.{s_}.{s_}", "malformed", "five segments", sig=STRUCTURE)
rej("empty_token", "", "malformed", "empty input", sig=STRUCTURE)
rej("only_dots", "..", "malformed", "three empty segments", sig=STRUCTURE)
rej("empty_header_segment", f".{p_}.{s_}", "malformed", "empty header segment", sig=STRUCTURE)
rej("empty_payload_segment", f"{h_}..{s_}", "malformed", "empty payload segment", sig=STRUCTURE)
rej("empty_signature_segment", f"{h_}.{p_}.", "malformed", "empty signature segment", sig=STRUCTURE)


# Padding: the header text made a length whose base64 needs padding; signed over the padded text.
hp = H()
while len(hp.encode()) % 3 == 0:
    hp = hp[:-1] + " }"
hseg_pad = base64.urlsafe_b64encode(hp.encode()).decode()
check(hseg_pad.endswith("="), "padding")
rej("b64_padding_header", mk(hseg=hseg_pad), "malformed", "header segment with '=' padding (signed as is)")
pp = P(jti="pad")
while len(pp.encode()) % 3 == 0:
    pp = pp[:-1] + " }"
rej("b64_padding_payload", mk(pseg=base64.urlsafe_b64encode(pp.encode()).decode()), "malformed",
    "payload segment with '=' padding (signed as is)")
rej("b64_padding_signature", T + "==", "malformed", "signature segment with '==' padding")


def with_std_char(ch):
    """A header whose standard base64 holds ch (+ or /), so a lenient decoder would accept it."""
    for i in range(1000):
        filler = "".join("?>~o"[(i >> (2 * j)) & 3] for j in range(1 + i % 7))
        hh = '{"alg":"ES256","kid":"%s","typ":"JWT","x":"%s"}' % (KID1, filler)
        std = base64.b64encode(hh.encode()).decode().rstrip("=")
        if ch in std:
            return std
    fail("no header with " + ch)


rej("b64_plus_in_header", mk(hseg=with_std_char("+")), "malformed", "header in standard base64 with '+' (signed as is)")
rej("b64_slash_in_header", mk(hseg=with_std_char("/")), "malformed", "header in standard base64 with '/' (signed as is)")
for i in range(100):
    t = mk(payload=P(jti=f"std-sig-{i}"))
    sg = t.rsplit(".", 1)[1]
    if "-" in sg and "_" in sg:
        rej("b64_standard_alphabet_signature", t.rsplit(".", 1)[0] + "." + sg.replace("-", "+").replace("_", "/"),
            "malformed", "signature in standard base64 ('+' and '/'); same bytes otherwise", sig=True)
        break
pseg_ws = b64u(P().encode())
rej("b64_space_in_payload", mk(pseg=pseg_ws[:40] + " " + pseg_ws[40:]), "malformed",
    "space inside the payload segment (signed as is)")
rej("b64_tab_in_header", mk(hseg=h_[:10] + "\t" + h_[10:]), "malformed", "tab inside the header segment")
rej("b64_newline_in_signature", f"{h_}.{p_}.{s_[:43]}\n{s_[43:]}", "malformed", "newline inside the signature segment")
rej("b64_crlf_in_payload", mk(pseg=pseg_ws[:76] + "\r\n" + pseg_ws[76:]), "malformed",
    "CRLF line break inside the payload segment (MIME style)")

A64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def noncanon(seg: str) -> str:
    unused = {2: 4, 3: 2}[len(seg) % 4]
    v = A64.index(seg[-1])
    check(v & ((1 << unused) - 1) == 0, "already non-canonical")
    alt = seg[:-1] + A64[v | 1]
    check(b64u_dec(alt) == b64u_dec(seg), "non-canonical variant decodes differently")
    return alt


check(len(s_) % 4 == 2, "sig segment length")
rej("b64_noncanonical_signature", f"{h_}.{p_}.{noncanon(s_)}", "malformed",
    "signature's last character has non-zero unused bits (decodes to the same valid r||s)", sig=True)
hh = H()
while len(b64u(hh.encode())) % 4 == 0:
    hh = hh[:-1] + " }"
rej("b64_noncanonical_header", mk(hseg=noncanon(b64u(hh.encode()))), "malformed",
    "header's last character has non-zero unused bits (signed as is)")
pp = P(jti="noncanonical")
while len(b64u(pp.encode())) % 4 == 0:
    pp = pp[:-1] + " }"
rej("b64_noncanonical_payload", mk(pseg=noncanon(b64u(pp.encode()))), "malformed",
    "payload's last character has non-zero unused bits (signed as is)")
pp = P(jti="impossible-len")
while len(b64u(pp.encode())) % 4 != 0:
    pp = pp[:-1] + " }"
rej("b64_impossible_length", mk(pseg=b64u(pp.encode()) + "A"), "malformed",
    "payload segment of length 4k+1, which no byte string encodes")
rej("b64_non_ascii_byte", mk(pseg=pseg_ws[:20] + "é" + pseg_ws[20:]), "malformed",
    "non-ASCII character inside the payload segment (signed as is)")
rej("b64_invalid_char", mk(hseg=h_[:8] + "!" + h_[8:]), "malformed", "'!' inside the header segment")

# =========================================================================== reject: signature bytes
RS = b64u_dec(s_)
rej("sig_63_bytes", f"{h_}.{p_}.{b64u(RS[:63])}", "malformed", "signature of 63 bytes", sig=STRUCTURE)
rej("sig_65_bytes", f"{h_}.{p_}.{b64u(RS + bytes(1))}", "malformed", "signature of 65 bytes", sig=STRUCTURE)
rej("sig_65_bytes_leading_zero", f"{h_}.{p_}.{b64u(bytes(1) + RS)}", "malformed",
    "signature of 65 bytes: 0x00 then valid r||s", sig=STRUCTURE)
der = K1.sign(f"{h_}.{p_}".encode(), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
check(70 <= len(der) <= 72, "DER length")
rej("sig_der", f"{h_}.{p_}.{b64u(der)}", "malformed", f"DER signature ({len(der)} bytes) of the right bytes",
    sig=STRUCTURE)
rej("sig_96_bytes", f"{h_}.{p_}.{b64u(RS + bytes(32))}", "malformed", "96 bytes (ES384's size)",
    sig=STRUCTURE)
rej("sig_r_zero", mk(sig=lambda r, s: rs64(0, s)), "bad_signature", "r = 0")
rej("sig_s_zero", mk(sig=lambda r, s: rs64(r, 0)), "bad_signature", "s = 0")
rej("sig_all_zero", mk(sig=lambda r, s: bytes(64)), "bad_signature", "r = s = 0")
rej("sig_r_n", mk(sig=lambda r, s: rs64(N, s)), "bad_signature", "r = n (the group order)")
rej("sig_s_n", mk(sig=lambda r, s: rs64(r, N)), "bad_signature", "s = n")
rej("sig_r_n_plus_1", mk(sig=lambda r, s: rs64(N + 1, s)), "bad_signature", "r = n + 1 (>= n)")
rej("sig_s_n_plus_1", mk(sig=lambda r, s: rs64(r, N + 1)), "bad_signature", "s = n + 1 (>= n)")
rej("sig_all_ff", mk(sig=lambda r, s: b"\xff" * 64), "bad_signature", "r = s = 2^256 - 1")
rej("sig_r_s_swapped", mk(sig=lambda r, s: rs64(s, r)), "bad_signature", "s || r instead of r || s")
rej("sig_other_key", mk(key=K3), "bad_signature", "signed by another key, kid of key1")
rej("payload_byte_flipped", f"{h_}.{b64u(P().replace('Alice', 'Alicf').encode())}.{s_}", "bad_signature",
    "one payload byte changed after signing (still valid JSON)")
rej("header_byte_flipped", f"{b64u(H(typ='JWt').encode())}.{p_}.{s_}", "bad_signature",
    "header typ JWT -> JWt after signing (still a valid header)")
T2 = mk(payload=P(jti="other"))
rej("sig_from_other_token", f"{h_}.{p_}.{T2.rsplit('.', 1)[1]}", "bad_signature", "signature of another token by the same key")
rej("kid_selects_wrong_key", mk(H(KID2)), "bad_signature",
    "header kid names key2, token signed by key1: key1 (another kid) is not tried", keys=["python/jwks-rotation.json"],
    sig=True)
rej("jwk_header_not_followed",
    mk('{"alg":"ES256","jwk":%s,"typ":"JWT"}' % JWK3, key=K3), "bad_signature",
    "signed by the attacker key embedded as header jwk: never used, only the caller's keys")
rej("jku_header_not_followed",
    mk('{"alg":"ES256","jku":"https://evil.example.com/jwks.json","kid":"%s","x5u":"https://evil.example.com/c.pem"}'
       % KID1, key=K3), "bad_signature", "jku/x5u pointing elsewhere, signed by another key: never followed")
rej("skipped_member_not_used_no_kid", mk(H(None), key=K2), "bad_signature",
    "signed by key2, which jwks-mixed lists only with use=enc: skipped, so nothing verifies",
    keys=["python/jwks-mixed.json"])

# SPEC §3: the signature is checked before the claims are interpreted, so a forged token with
# broken claims reports the signature, not the claims.
rej("sig_checked_before_claims_json", mk(payload='{"aud":', key=K3), "bad_signature",
    "claims are not even JSON, signature by another key: the signature fails first")
rej("sig_checked_before_claim_types", mk(payload=P(aud=5, exp="soon"), key=K3), "bad_signature",
    "claims of wrong types, signature by another key: the signature fails first")
rej("sig_checked_before_time", mk(key=K3), "bad_signature",
    "expired token signed by another key: bad_signature, not expired", now=EXP + 86400)
rej("sig_checked_before_duplicates", mk(payload=P(extra=[("aud", "evil.example.com")]), key=K3), "bad_signature",
    "duplicate aud, signature by another key: the signature fails first")

# =========================================================================== reject: key choice
rej("kid_unknown", mk(H("no-such-kid")), "unknown_key", "kid names no key in the set")
rej("kid_not_in_other_set", mk(), "unknown_key", "key1's kid, only key2's JWKS given", keys=["python/key2.jwks.json"])
rej("kid_empty_not_matching", mk(H("")), "unknown_key", 'kid "" is a kid: it does not match key1\'s kid')
rej("kid_case_differs", mk(H(KID1.upper())), "unknown_key", "kid compared exactly: upper-case hex differs")
rej("kid_of_skipped_member", mk(H(KID2), key=K2), "unknown_key",
    "kid names the use=enc member of jwks-mixed, which is skipped", keys=["python/jwks-mixed.json"])

# =========================================================================== reject: header
HK = f'"kid":"{KID1}"'
for nm, alg, why in (("missing", None, "alg missing"), ("none", '"none"', 'alg "none"'),
                     ("hs256", '"HS256"', "alg HS256"), ("rs256", '"RS256"', "alg RS256"),
                     ("es384", '"ES384"', "alg ES384"), ("lower_es256", '"es256"', 'alg "es256": exact match only'),
                     ("number", "256", "alg a number"), ("null", "null", "alg null"),
                     ("array", '["ES256"]', "alg an array"), ("trailing_space", '"ES256 "', 'alg "ES256 "'),
                     ("nul_suffix", r'"ES256\u0000"', 'alg "ES256\\u0000" (no C-string truncation)'),
                     ("empty", '""', 'alg ""')):
    hdr = "{" + ("" if alg is None else f'"alg":{alg},') + HK + ',"typ":"JWT"}'
    rej(f"alg_{nm}", mk(hdr), "unsupported_alg", why)
for nm, crit in (("empty_array", "[]"), ("exp", '["exp"]'), ("string", '"x"'), ("null", "null"),
                 ("b64", '["b64"]')):
    rej(f"crit_{nm}", mk('{"alg":"ES256","crit":%s,%s,"typ":"JWT"}' % (crit, HK)), "crit",
        f"crit {crit}: any crit is rejected")
for nm, kid in (("number", "5"), ("null", "null"), ("object", '{"k":"v"}'), ("array", f'["{KID1}"]'),
                ("true", "true")):
    rej(f"kid_{nm}", mk('{"alg":"ES256","kid":%s,"typ":"JWT"}' % kid), "bad_header", f"kid {kid}: not a string")
for nm, typ in (("jose", '"JOSE"'), ("number", "5"), ("null", "null"), ("application_jwt", '"application/jwt"'),
                ("empty", '""'), ("jwt_space", '"JWT "')):
    rej(f"typ_{nm}", mk('{"alg":"ES256",%s,"typ":%s}' % (HK, typ)), "bad_header", f"typ {typ}: not \"JWT\"")
for nm, hdr, why in (
        ("header_array", '["ES256"]', "header is a JSON array"),
        ("header_string", '"ES256"', "header is a JSON string"),
        ("header_null", "null", "header is null"),
        ("header_dup_alg", '{"alg":"none","alg":"ES256",%s,"typ":"JWT"}' % HK, "alg twice (none, then ES256)"),
        ("header_dup_kid", '{"alg":"ES256","kid":"x",%s,"typ":"JWT"}' % HK, "kid twice"),
        ("header_dup_alg_escaped", r'{"alg":"ES256","\u0061lg":"ES256",%s}' % HK, 'alg and "\\u0061lg"'),
        ("header_trailing_garbage", '{"alg":"ES256",%s,"typ":"JWT"}x' % HK, "x after the header object"),
        ("header_trailing_object", '{"alg":"ES256",%s,"typ":"JWT"}{}' % HK, "{} after the header object"),
        ("header_bom", '\ufeff{"alg":"ES256",%s,"typ":"JWT"}' % HK, "UTF-8 BOM before the header"),
        ("header_unterminated", '{"alg":"ES256",%s,"typ":"JWT"' % HK, "header object not closed"),
        ("header_nesting_70", '{"alg":"ES256",%s,"x":%s}' % (HK, "[" * 70 + "]" * 70), "unknown member nested 70 deep"),
        ("header_kid_lone_surrogate", r'{"alg":"ES256","kid":"\ud83d"}', "kid (a read member) is a lone surrogate"),
        ("header_single_quotes", "{'alg':'ES256'}", "single-quoted JSON"),
):
    rej(nm, mk(hdr), "malformed", why)
rej("header_invalid_utf8", mk(b'{"alg":"ES256",' + HK.encode() + b',"x":"\xff"}'), "malformed",
    "0xFF byte in an unknown header member's string")

# =========================================================================== reject: claims JSON
BAD_JSON = [
    ("dup_aud", P(aud="evil.example.com", extra=[("aud", AUD)]),
     'aud twice ("evil.example.com" then the audience)'),
    ("dup_aud_escaped", P(extra=[(R(r"\u0061ud"), AUD)]), 'aud and "\\u0061ud"'),
    ("dup_exp", P(extra=[("exp", U64MAX)]), "exp twice"),
    ("dup_groups", P(extra=[("groups", ["admins"])]), "groups twice"),
    ("dup_unknown", P(extra=[("x", 1), ("x", 2)]), "an unknown claim twice at the top level"),
    ("trailing_garbage", P() + "x", "x after the claims object"),
    ("trailing_object", P() + "{}", "{} after the claims object"),
    ("trailing_comma_member", P()[:-1] + ",}", "trailing comma in the claims object"),
    ("trailing_comma_array", P(groups=R('["admins",]')), "trailing comma in groups"),
    ("leading_comma", "{," + P()[1:], "comma before the first member"),
    ("missing_colon", P().replace('"name":', '"name" '), "member without colon"),
    ("missing_comma", P().replace(',"name"', ' "name"'), "members without comma"),
    ("payload_array", "[" + P() + "]", "payload is a JSON array"),
    ("payload_string", '"' + AUD + '"', "payload is a JSON string"),
    ("payload_null", "null", "payload is null"),
    ("payload_number", "1700000300", "payload is a number"),
    ("payload_empty_text", " ", "payload is only white space"),
    ("payload_bom", "\ufeff" + P(), "UTF-8 BOM before the claims JSON"),
    ("payload_unterminated_object", P()[:-1], "claims object not closed"),
    ("payload_unterminated_string", P()[:-2], "claims end inside a string"),
    ("single_quotes", P().replace('"name":"Alice"', "'name':'Alice'"), "single-quoted member"),
    ("comment", P()[:-1] + "/* c */}", "a comment"),
    ("formfeed_whitespace", P().replace(',"name"', ',\f"name"'), "form feed is not JSON white space"),
    ("nbsp_whitespace", P().replace(',"name"', ',\u00a0"name"'), "U+00A0 is not JSON white space"),
    ("raw_control_0x01", P(name="Al\x01ice").replace("\\u0001", "\x01"), "raw 0x01 inside a string"),
    ("raw_newline_in_string", P(name="Al\nice").replace("\\n", "\n"), "raw newline inside a string"),
    ("raw_tab_in_string", P(name="Al\tice").replace("\\t", "\t"), "raw tab inside a string"),
    ("raw_nul_in_string", P(name="Al\x00ice").replace("\\u0000", "\x00"), "raw 0x00 inside a string"),
    ("raw_control_in_member_name", P(extra=[("x\x1f", 1)]).replace("\\u001f", "\x1f"), "raw 0x1F in a member name"),
    ("lone_high_surrogate_sub", P(sub=R(r'"\ud83d"')), "sub is a lone high surrogate"),
    ("lone_low_surrogate_email", P(email=R(r'"alice\ude00@example.com"')), "email holds a lone low surrogate"),
    ("lone_surrogate_iss", P(iss=R(r'"app.example.com\ud800"')), "iss ends in a lone surrogate"),
    ("lone_surrogate_in_groups", P(groups=R(r'["admins","\udfff"]')), "a groups element is a lone surrogate"),
    ("lone_surrogate_in_aud_array", P(aud=R(r'["app.example.com","\ud800x"]')), "an aud element holds a lone surrogate"),
    ("reversed_surrogate_pair", P(name=R(r'"\ude00\ud83d"')), "low then high surrogate in name"),
    ("high_surrogate_then_letter", P(name=R(r'"\ud83d\u0041"')), "high surrogate followed by \\u0041 in name"),
    ("high_surrogate_at_end", P(name=R(r'"Alice\ud83d"')), "name ends with a high surrogate"),
    ("bad_escape_x", P(name=R(r'"\x41"')), "\\x escape"),
    ("bad_escape_quote", P(name=R(r'"\'"')), "\\' escape"),
    ("bad_escape_upper_u", P(name=R(r'"\U0041"')), "\\U escape"),
    ("short_u_escape", P(name=R(r'"\u12"')), "\\u with two hex digits"),
    ("u_escape_non_hex", P(name=R(r'"\u00G1"')), "\\u with a non-hex digit"),
    ("escape_at_end_of_input", P()[:-2] + "\\", "backslash at the end of the input"),
    ("nesting_100_unknown", P(extra=[("x", R("[" * 100 + "]" * 100))]), "unknown claim nested 100 deep"),
    ("nesting_70_unknown", P(extra=[("x", R("[" * 70 + "]" * 70))]), "unknown claim nested 70 deep"),
    ("nesting_70_objects", P(extra=[("x", R('{"a":' * 70 + "1" + "}" * 70))]), "unknown claim, 70 nested objects"),
    ("nesting_unbalanced", P(extra=[("x", R("[[[]]"))]), "unbalanced brackets in an unknown claim"),
    ("number_leading_zero", P(exp=R("01700000300")), "exp 01700000300: leading zero"),
    ("number_trailing_dot", P(exp=R("1700000300.")), "exp 1700000300. : no digit after the point"),
    ("number_leading_dot", P(extra=[("x", R(".5"))]), "number .5"),
    ("number_plus", P(exp=R("+1700000300")), "exp +1700000300: no plus sign in JSON"),
    ("number_exponent_no_digits", P(exp=R("1700000300e")), "exp 1700000300e"),
    ("number_exponent_sign_only", P(exp=R("17e+")), "exp 17e+"),
    ("number_minus_alone", P(extra=[("x", R("-"))]), "a lone minus sign"),
    ("number_hex", P(exp=R("0x6553F1AC")), "hexadecimal number"),
    ("number_space_inside", P(exp=R("1700000 300")), "space inside a number"),
    ("nan", P(extra=[("x", R("NaN"))]), "NaN is not JSON"),
    ("infinity", P(exp=R("Infinity")), "Infinity is not JSON"),
    ("negative_infinity", P(extra=[("x", R("-Infinity"))]), "-Infinity is not JSON"),
    ("literal_true_capital", P(extra=[("x", R("True"))]), "True is not JSON"),
    ("literal_truncated", P(extra=[("x", R("tru"))]), "truncated literal tru"),
    ("literal_nul", P(groups=R("nul")), "truncated literal nul"),
]
for nm, text, why in BAD_JSON:
    rej(f"json_{nm}", mk(payload=text), "malformed", why + " (valid signature)")
BAD_UTF8 = [
    ("invalid_utf8_ff", b"\xff", "0xFF byte in name"),
    ("invalid_utf8_overlong_c0af", b"\xc0\xaf", "overlong 0xC0 0xAF ('/') in name"),
    ("invalid_utf8_overlong_e080af", b"\xe0\x80\xaf", "3-byte overlong '/' in name"),
    ("invalid_utf8_encoded_surrogate", b"\xed\xa0\x80", "CESU-style encoded surrogate 0xED 0xA0 0x80 in name"),
    ("invalid_utf8_above_10ffff", b"\xf4\x90\x80\x80", "code point above U+10FFFF in name"),
    ("invalid_utf8_truncated", b"\xe6\x97", "truncated 3-byte sequence at the end of name"),
    ("invalid_utf8_lone_continuation", b"\x80", "lone continuation byte in name"),
]
for nm, bad, why in BAD_UTF8:
    rej(f"json_{nm}", mk(payload=P(name="Al!ce").encode().replace(b"!", bad)), "malformed", why + " (valid signature)")
rej("json_invalid_utf8_unknown_claim", mk(payload=P(extra=[("x-note", "!")]).encode().replace(b"!", b"\xfe")),
    "malformed", "0xFE byte in an unknown claim: UTF-8 is checked everywhere")
rej("json_invalid_utf8_member_name", mk(payload=P(extra=[("x!", 1)]).encode().replace(b"!", b"\xc3")),
    "malformed", "invalid UTF-8 in a member name")

# =========================================================================== reject: claim values
for k in ("iss", "aud", "exp", "iat"):
    rej(f"missing_{k}", mk(payload=P(**{k: DROP})), "missing_claim", f"required claim {k} absent")
rej("missing_all_claims", mk(payload="{}"), "missing_claim", "empty claims object")
INVALID = [
    ("iss_number", dict(iss=5)), ("iss_null", dict(iss=None)), ("iss_array", dict(iss=[AUD])),
    ("sub_number", dict(sub=5)), ("sub_null", dict(sub=None)), ("email_null", dict(email=None)),
    ("user_bool", dict(user=True)), ("name_array", dict(name=["Alice"])), ("sid_object", dict(sid={})),
    ("jti_number", dict(jti=1)),
    ("aud_number", dict(aud=5)), ("aud_int_array", dict(aud=[1])), ("aud_null", dict(aud=None)),
    ("aud_object", dict(aud={"aud": AUD})), ("aud_nested_array", dict(aud=[[AUD]])),
    ("aud_array_with_number", dict(aud=[AUD, 1])), ("aud_array_with_null", dict(aud=[AUD, None])),
    ("aud_bool", dict(aud=True)),
    ("groups_string", dict(groups="admins")), ("groups_int_array", dict(groups=[1])),
    ("groups_null_element", dict(groups=[None])), ("groups_object", dict(groups={})),
    ("groups_nested_array", dict(groups=[["admins"]])), ("groups_mixed", dict(groups=["admins", 2])),
    ("groups_bool", dict(groups=False)),
    ("exp_string", dict(exp="1700000300")), ("exp_null", dict(exp=None)), ("exp_true", dict(exp=True)),
    ("exp_negative", dict(exp=-1)), ("exp_negative_fraction", dict(exp=R("-0.5"))),
    ("exp_u64_max_plus_1", dict(exp=R("18446744073709551616"))),
    ("exp_u64_max_plus_1_fraction", dict(exp=R("18446744073709551616.5"))),
    ("exp_2_pow_64_exponent_form", dict(exp=R("1.8446744073709551616e19"))),
    ("exp_1e30", dict(exp=R("1e30"))), ("exp_1e400", dict(exp=R("1e400"))),
    ("exp_array", dict(exp=[EXP])), ("exp_object", dict(exp={})),
    ("iat_negative", dict(iat=-1)), ("iat_string", dict(iat="1700000000")), ("iat_null", dict(iat=None)),
    ("iat_huge", dict(iat=R("99999999999999999999"))),
    ("nbf_null", dict(extra=[("nbf", None)])), ("nbf_string", dict(extra=[("nbf", "1700000000")])),
    ("nbf_negative", dict(extra=[("nbf", -5)])), ("nbf_bool", dict(extra=[("nbf", False)])),
]
for nm, over in INVALID:
    rej(f"invalid_{nm}", mk(payload=P(**over)), "invalid_claim", f"{nm.replace('_', ' ', 1)}: wrong type or range")

# =========================================================================== reject: time
rej("expired_at_boundary", mk(), "expired", "now == exp + leeway is expired", now=EXP + 60)
rej("expired_after_boundary", mk(), "expired", "now == exp + leeway + 1", now=EXP + 61)
rej("expired_long_ago", mk(), "expired", "a day after exp", now=EXP + 86400)
rej("expired_leeway_0_at_exp", mk(), "expired", "leeway 0: now == exp is expired", now=EXP, leeway=0)
rej("expired_exp_zero", mk(payload=P(exp=0, iat=0)), "expired", "exp 0")
rej("expired_exp_fraction_truncated", mk(payload=P(exp=R("1700000039.9"))), "expired",
    "exp 1700000039.9 is second 1700000039 (fraction dropped, not rounded up): expired at now 1700000099",
    now=1700000099)
rej("saturating_now_max_exp_max", mk(payload=P(exp=U64MAX)), "expired",
    "exp + leeway saturates to u64::MAX; now u64::MAX is not before it", now=U64MAX)
rej("iat_in_future", mk(payload=P(iat=NOW + 61)), "issued_in_future", "iat == now + leeway + 1")
rej("iat_in_future_leeway_0", mk(payload=P(iat=NOW + 1)), "issued_in_future", "leeway 0: iat == now + 1", leeway=0)
rej("iat_u64_max", mk(payload=P(iat=U64MAX, exp=U64MAX)), "issued_in_future", "iat u64::MAX")
rej("nbf_in_future", mk(payload=P(extra=[("nbf", NOW + 61)])), "not_yet_valid", "nbf == now + leeway + 1")
rej("nbf_in_future_leeway_0", mk(payload=P(extra=[("nbf", NOW + 1)])), "not_yet_valid", "leeway 0: nbf == now + 1",
    leeway=0)

# =========================================================================== reject: audience and issuer
for nm, aud, why in (("string", "other.example.com", "another audience"),
                     ("array_without", ["other.example.com", "third.example.com"], "array without the audience"),
                     ("empty_array", [], "empty array"), ("empty_string", "", "empty string"),
                     ("case_differs", "App.example.com", "case differs: exact compare"),
                     ("trailing_slash", "app.example.com/", "trailing slash"),
                     ("https_form", f"https://{AUD}/", "the https issuer form is not the audience"),
                     ("trailing_dot", "app.example.com.", "trailing dot"),
                     ("prefix", "app.example.co", "a prefix of the audience"),
                     ("superstring", "app.example.com.evil.example", "audience as a prefix"),
                     ("nul_suffix", R(r'"app.example.com\u0000"'), "audience followed by \\u0000"),
                     ("array_nul_suffix", R(r'["app.example.com\u0000"]'), "array element with \\u0000 suffix")):
    rej(f"wrong_aud_{nm}", mk(payload=P(aud=aud)), "wrong_audience", f"aud: {why}")
for nm, iss, why in (("https_no_slash", f"https://{AUD}", "https without the trailing slash"),
                     ("http_slash", f"http://{AUD}/", "http instead of https"),
                     ("evil", "evil.example.com", "another host"),
                     ("case_differs", "Pomerium-Proxy", "case differs"),
                     ("empty", "", "empty string"),
                     ("authenticate_host", "authenticate.example.com", "an authenticate host needs --issuer"),
                     ("nul_suffix", R(r'"app.example.com\u0000"'), "audience followed by \\u0000"),
                     ("https_path", f"https://{AUD}/x", "https form with a path")):
    rej(f"wrong_iss_{nm}", mk(payload=P(iss=iss)), "wrong_issuer", f"iss: {why}")
rej("issuer_configured_differs", mk(), "wrong_issuer", "issuer configured; iss is the audience, which then is not enough",
    issuer="authenticate.example.com")
rej("issuer_configured_no_default_set", mk(payload=P(iss="pomerium-proxy")), "wrong_issuer",
    "issuer configured: pomerium-proxy is no longer accepted", issuer="authenticate.example.com")
rej("default_issuer_not_from_token_aud", mk(payload=P(aud=AUD2)), "wrong_issuer",
    "audience other.example.com: iss app.example.com (another aud in the token) is not a default issuer",
    audience="other.example.com")


# =========================================================================== check everything
def lenient_sig_valid(token, keys):
    """Independent of the model: is the third segment a valid r||s over the first two, by any key?"""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    seg = re.sub(r"\s", "", parts[2]).rstrip("=").replace("-", "+").replace("_", "/")
    if len(seg) % 4 == 1:
        return None
    try:
        sig = base64.b64decode(seg + "=" * (-len(seg) % 4))
    except ValueError:
        return None
    if len(sig) != 64:
        return False
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    data = f"{parts[0]}.{parts[1]}".encode()
    return any(ecdsa_ok(pk, data, r, s) for _, pk in keys)


def py_claims(token):
    """Python's own JSON reading of the payload, as the expected claims would be."""
    c = json.loads(b64u_dec(token.split(".")[1]), parse_float=Decimal)
    g = c.get("groups")
    return {"iss": c["iss"], "aud": c["aud"], **{k: c.get(k) for k in ("sub", "email", "user", "name", "sid", "jti")},
            "groups": [] if g is None else g, "exp": int(Decimal(c["exp"])), "iat": int(Decimal(c["iat"])),
            "nbf": int(Decimal(c["nbf"])) if "nbf" in c else None}


counts = {}
names = set()
for c in CASES:
    nm = c["name"]
    check(nm not in names, f"duplicate case name {nm}")
    names.add(nm)
    ks = keyset(c["keys"])
    try:
        got = ref_verify(c["token"], ks, c["audience"], c["issuer"], c["now"], c["leeway"])
        kind = "ok"
    except Reject as e:
        kind, got = e.kind, str(e)
    check(kind == c["expect"], f"{nm}: model says {kind} ({got}), declared {c['expect']}")
    if kind == "ok":
        check(got == c["claims"], f"{nm}: model claims {got} != declared {c['claims']}")
        check(py_claims(c["token"]) == c["claims"], f"{nm}: Python json reading {py_claims(c['token'])} differs")
        iss_ok = c["issuer"] or c["claims"]["iss"]
        decoded = None
        for _, pk in ks:
            try:
                decoded = jwt.decode(c["token"], pk, algorithms=["ES256"], audience=c["audience"], issuer=iss_ok,
                                     options={"verify_exp": False, "verify_iat": False, "verify_nbf": False})
                break
            except jwt.InvalidSignatureError:
                continue
        check(decoded is not None, f"{nm}: PyJWT does not verify it")
    want = c.pop("_sig")
    if want is not STRUCTURE:
        check(lenient_sig_valid(c["token"], ks) == want, f"{nm}: signature validity is not {want}")
    counts[c["expect"]] = counts.get(c["expect"], 0) + 1

KINDS = {"ok", "malformed", "too_large", "unsupported_alg", "crit", "bad_header", "unknown_key", "bad_signature",
         "expired", "not_yet_valid", "issued_in_future", "wrong_audience", "wrong_issuer", "missing_claim",
         "invalid_claim"}
check(set(counts) <= KINDS, f"unknown kinds {set(counts) - KINDS}")

write("tokens.json", jdump(CASES))
write("keys.json", jdump(KEY_CASES))
print(f"gen.py: {len(CASES)} token cases {dict(sorted(counts.items()))}; {len(KEY_CASES)} key cases")
