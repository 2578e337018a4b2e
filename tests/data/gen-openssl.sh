#!/usr/bin/env bash
# Makes the OpenSSL half of the pomerium-jwt test data in tests/data/openssl/.
#
# Keys follow Pomerium's signed-headers guide, command for command. Tokens are signed with
# `openssl dgst -sha256 -sign`, whose DER (SEQUENCE { r, s }) signature is turned into the
# 64-byte JWS form r || s (RFC 7518 §3.4) with `openssl asn1parse`, left-padding r and s.
#
# Idempotent: a key is made only when its file is missing, and a token is re-signed only when
# its header.payload changed, so re-running does not churn committed files (ECDSA signing is
# randomised). FORCE=1 re-signs every token; delete openssl/ to make new keys.
#
# Needs: bash, OpenSSL 3 CLI, coreutils (base64, sha256sum, tr, head, tail).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p openssl/tokens
cd openssl

# ---------------------------------------------------------------- keys (the guide's flow)
if [ ! -f ec_private.pem ]; then
  openssl ecparam -genkey -name prime256v1 -noout -out ec_private.pem
  rm -f ec_public.pem
fi
if [ ! -f ec_public.pem ]; then
  # Self-signed certificate: Pomerium's guide calls this file the public key.
  openssl req -x509 -new -key ec_private.pem -days 1000000 -out ec_public.pem -subj "/CN=unused"
fi
# Everything below is a deterministic function of the two files above.
openssl ec -in ec_private.pem -pubout -out ec_pubkey.pem 2>/dev/null
openssl ec -in ec_private.pem -pubout -outform DER -out ec_pubkey.der 2>/dev/null
openssl x509 -in ec_public.pem -outform DER -out ec_public.der
# Certificate with explanatory text before -----BEGIN, as `openssl x509 -text` prints it.
openssl x509 -in ec_public.pem -text -out ec_public.text.pem
openssl pkcs8 -topk8 -nocrypt -in ec_private.pem -out ec_private.pk8.pem
# Pomerium's signing_key style: the PEM file base64-encoded once more, on one line.
base64 -w0 ec_public.pem > ec_public.pem.b64
base64 -w0 ec_private.pem > ec_private.pem.b64

if [ ! -f p384_pubkey.pem ]; then
  tmp=$(mktemp)
  openssl ecparam -genkey -name secp384r1 -noout -out "$tmp"
  openssl ec -in "$tmp" -pubout -out p384_pubkey.pem 2>/dev/null
  rm -f "$tmp"
fi
if [ ! -f rsa_pubkey.pem ]; then
  tmp=$(mktemp)
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp" 2>/dev/null
  openssl pkey -in "$tmp" -pubout -out rsa_pubkey.pem
  rm -f "$tmp"
fi

# A Pomerium whose signing_key is an RSA key signs RS256: that key, as openssl writes it in both
# forms (PKCS#8 "PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY"), for the refusal that must say so.
if [ ! -f rsa_signing_key.pem ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa_signing_key.pem 2>/dev/null
fi
openssl pkey -in rsa_signing_key.pem -traditional -out rsa_signing_key.pkcs1.pem

# ---------------------------------------------------------------- helpers
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# Pomerium's kid: lowercase hex SHA-256 of the RFC 7638 thumbprint input
# {"crv":"P-256","kty":"EC","x":"<b64url x>","y":"<b64url y>"}.
# The DER SubjectPublicKeyInfo of a P-256 key ends with the 65-byte point 04 || x || y.
x=$(tail -c 64 ec_pubkey.der | head -c 32 | b64url)
y=$(tail -c 32 ec_pubkey.der | b64url)
KID=$(printf '{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}' "$x" "$y" | sha256sum | cut -d' ' -f1)
printf '%s\n' "$KID" > ec_pubkey.kid.txt

hex_to_bin() { printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"; }

# One INTEGER from asn1parse as exactly 64 hex digits (leading zero bytes dropped, then padded).
pad32() {
  local h
  h=$(printf '%s' "$1" | sed 's/^0*//')
  [ "${#h}" -le 64 ] || { echo "integer too long: $1" >&2; exit 1; }
  printf '%64s' "$h" | tr ' ' '0'
}

# sign NAME HEADER_JSON PAYLOAD_JSON  ->  tokens/NAME.jwt
sign() {
  local name=$1 header=$2 payload=$3 out=tokens/$1.jwt input tmp r s
  input="$(printf '%s' "$header" | b64url).$(printf '%s' "$payload" | b64url)"
  if [ -z "${FORCE:-}" ] && [ -f "$out" ] && [ "$(cut -d. -f1,2 < "$out")" = "$input" ]; then
    return 0   # same bytes as before: keep the committed signature
  fi
  tmp=$(mktemp -d)
  printf '%s' "$input" > "$tmp/input"
  openssl dgst -sha256 -sign ec_private.pem -out "$tmp/sig.der" "$tmp/input"
  openssl dgst -sha256 -verify ec_pubkey.pem -signature "$tmp/sig.der" "$tmp/input" >/dev/null
  mapfile -t ints < <(openssl asn1parse -inform DER -in "$tmp/sig.der" | sed -n 's/.*prim: INTEGER *://p')
  [ "${#ints[@]}" -eq 2 ] || { echo "unexpected DER signature" >&2; exit 1; }
  r=$(pad32 "${ints[0]}"); s=$(pad32 "${ints[1]}")
  hex_to_bin "$r$s" > "$tmp/sig.raw"
  [ "$(wc -c < "$tmp/sig.raw")" -eq 64 ] || { echo "r||s is not 64 bytes" >&2; exit 1; }
  printf '%s.%s\n' "$input" "$(b64url < "$tmp/sig.raw")" > "$out"
  rm -rf "$tmp"
}

# ---------------------------------------------------------------- tokens
CLAIMS='{"aud":"app.example.com","email":"alice@example.com","exp":1700000300,"groups":["admins","devs"],"iat":1700000000,"iss":"app.example.com","jti":"openssl-jti-0001","name":"Alice","sid":"openssl-sid-0001","sub":"alice-id-0001","user":"alice-id-0001"}'
PROXY='{"aud":"app.example.com","email":"bob@example.com","exp":1700000300,"groups":[],"iat":1700000000,"iss":"pomerium-proxy","jti":"openssl-jti-0002","sub":"bob-id-0002","user":"bob-id-0002"}'

sign openssl_typical "{\"alg\":\"ES256\",\"kid\":\"$KID\",\"typ\":\"JWT\"}" "$CLAIMS"
sign openssl_alg_only '{"alg":"ES256"}' "$CLAIMS"
sign openssl_foreign_kid '{"alg":"ES256","kid":"rotated-away-kid","typ":"JWT"}' "$CLAIMS"
sign openssl_pomerium_proxy '{"alg":"ES256","typ":"JWT"}' "$PROXY"

# An RS256 token, as such a Pomerium sends it: `openssl dgst -sha256 -sign` with an RSA key is
# RSASSA-PKCS1-v1_5 over SHA-256, the JWS RS256 signature (256 bytes for a 2048-bit key).
rs256_input="$(printf '%s' '{"alg":"RS256","kid":"rsa-signing-key","typ":"JWT"}' | b64url).$(printf '%s' "$CLAIMS" | b64url)"
if [ -n "${FORCE:-}" ] || [ ! -f tokens/openssl_rs256.jwt ] \
    || [ "$(cut -d. -f1,2 < tokens/openssl_rs256.jwt)" != "$rs256_input" ]; then
  printf '%s.%s\n' "$rs256_input" \
    "$(printf '%s' "$rs256_input" | openssl dgst -sha256 -sign rsa_signing_key.pem | b64url)" > tokens/openssl_rs256.jwt
fi

echo "gen-openssl.sh: openssl/ up to date (kid $KID)"
