#!/usr/bin/env bash
# Regenerates every file in tests/data. Order matters: gen.py reads the outputs of the two
# scripts before it (openssl/ and node/), then checks and writes tokens.json and keys.json.
# Needs: OpenSSL 3 CLI, node >= 18 with npm, python3 with requirements.txt installed.
set -euo pipefail
cd "$(dirname "$0")"
bash gen-openssl.sh
[ -d node/node_modules/jose ] || (cd node && npm ci --no-audit --no-fund)
node node/gen-jose.mjs
python3 gen.py
