#!/usr/bin/env bash
# Builds the WebAssembly module, shows it holds no allocator, prints its size, and runs it in
# node's built-in WebAssembly (run.mjs). From anywhere: bash embed/wasm/test.sh
set -euo pipefail
cd "$(dirname "$0")"
# No build paths in the module: its size does not depend on where the checkout is.
source ../../scripts/reproducible.sh
target=wasm32-unknown-unknown
wasm=target/$target/release/pomerium_jwt_wasm.wasm

if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi

# Zero allocation by construction: link once keeping the symbol names and check that no
# allocator (`__rust_alloc`, std's dlmalloc) made it into the module. Only the final link is
# redone for this; the dependencies are built once.
cargo rustc --release --locked --target "$target" --quiet -- -C strip=none
grep -aq pomerium_jwt_wasm "$wasm" || { echo "no symbol names in the unstripped module"; exit 1; }
if grep -aqiE '__rust_alloc|__rdl_alloc|dlmalloc' "$wasm"; then
    echo "the module links an allocator: something in the verify path allocates"
    exit 1
fi
echo "no allocator linked"

# The module as shipped: stripped.
cargo build --release --locked --target "$target" --quiet
echo "module size: $(stat -c %s "$wasm") bytes ($wasm)"

node run.mjs "$wasm"

# Wycheproof's ecdsa_secp256r1_sha256_p1363 vectors through both signature paths (plain and W4
# tables) in node's WebAssembly, in a module of their own (wycheproof/), not in the one shipped.
(cd wycheproof && cargo build --release --locked --target "$target" --quiet)
node wycheproof.mjs "wycheproof/target/$target/release/pomerium_jwt_wasm_wycheproof.wasm"
