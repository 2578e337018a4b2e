#!/usr/bin/env bash
# The npm package's checks, as CI runs them (`bash js/ci.sh` from anywhere): the wasm crate's
# formatting, lints and error-code test; then the package packed, installed from its tarball into
# an empty folder and tested there with node's test runner (node, remote keys, headless
# Chromium), its declarations checked by tsc, and `npm publish --dry-run`.
set -euo pipefail
cd "$(dirname "$0")"
js=$PWD
source ../scripts/reproducible.sh

printf "\n==> %s\n" "the npm package (js/)"
echo "--- wasm crate: fmt, clippy (wasm32), the test that every library error kind has a code"
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cargo fmt --manifest-path wasm/Cargo.toml -- --check
cargo clippy --locked --release --manifest-path wasm/Cargo.toml --target wasm32-unknown-unknown -- -D warnings
cargo test --locked --release --manifest-path wasm/Cargo.toml --lib

echo "--- tools: Chromium from Debian's packages, the dev dependencies from package-lock.json"
command -v chromium >/dev/null || {
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/dev/null
}
npm ci --no-audit --no-fund

echo "--- npm pack (its prepack script builds the module: npm run build)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack --pack-destination "$work"
tarball=$(ls "$work"/pomerium-jwt-*.tgz)
tar -tzf "$tarball"
# No path of this machine in the module.
if grep -aqF -e "$(cd .. && pwd)/" -e "${CARGO_HOME:-$HOME/.cargo}/" pomerium_jwt.wasm; then
    echo "build paths in pomerium_jwt.wasm"; exit 1
fi

echo "--- the tarball installed into an empty folder, tested there"
app=$work/app
mkdir -p "$app"
cd "$app"
echo '{ "name": "app", "private": true, "type": "module" }' > package.json
npm install --no-audit --no-fund "$tarball"
[ -z "$(ls node_modules | grep -vx pomerium-jwt)" ] || { echo "the package brought dependencies: $(ls node_modules)"; exit 1; }
cp -r "$js/test" test
# The test tools come from the package's dev dependencies; the package itself from the tarball.
ln -s "$js/node_modules/puppeteer-core" node_modules/puppeteer-core
POMERIUM_JWT_DATA="$js/../tests/data" node --test test/node.test.mjs test/remote.test.mjs test/browser.test.mjs

echo "--- tsc --noEmit over a file that uses the whole API"
"$js/node_modules/.bin/tsc" --noEmit -p test/types/tsconfig.json

echo "--- npm publish --dry-run"
cd "$js"
npm publish --dry-run
