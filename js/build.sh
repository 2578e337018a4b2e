#!/usr/bin/env bash
# `npm run build`: builds the package's WebAssembly module from this repository (wasm/, the Rust
# crate over the library) and puts it beside index.js as pomerium_jwt.wasm.
set -euo pipefail
cd "$(dirname "$0")"
# No build paths in the module: the same bytes from any checkout.
source ../scripts/reproducible.sh
target=wasm32-unknown-unknown
if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
cargo build --release --locked --target "$target" --manifest-path wasm/Cargo.toml
cp "wasm/target/$target/release/pomerium_jwt_js.wasm" pomerium_jwt.wasm
# The package carries the repository's licence texts.
cp ../LICENSE-MIT ../LICENSE-APACHE .
echo "pomerium_jwt.wasm: $(wc -c < pomerium_jwt.wasm) bytes"
