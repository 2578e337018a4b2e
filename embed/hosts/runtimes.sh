#!/usr/bin/env bash
# Runs the pomerium-jwt WebAssembly module (embed/wasm) in three runtimes with the same calls
# (calls.py: the ABI's fixed answers, then every case of tests/data/tokens.json in a fresh
# configuration, then a one-second timing of a Pomerium token) and compares what they answered:
#
#   node      V8, node's built-in WebAssembly (node.mjs)
#   wasmtime  Cranelift, through the `wasmtime` package from PyPI (wasmtime_host.py)
#   wasmi     an interpreter, the kind constrained hosts embed (wasmi/, a Rust host crate)
#
# Every call must give the same status and the same output bytes in all three, and the status
# the fixture expects. Prints the time of one verification in each, side by side, and
# "N passed, M failed"; exits 1 on any difference.
#
#   bash embed/hosts/runtimes.sh [MODULE.wasm]    # default: builds embed/wasm, --release
#
# Needs node, python3 with `pip install -r embed/hosts/requirements.txt`, and cargo.
set -euo pipefail
cd "$(dirname "$0")"
out=target
mkdir -p "$out"
limit=${RUNTIMES_TIMEOUT:-180}

wasm=${1:-}
if [ -z "$wasm" ]; then
    rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
    cargo build --release --locked --quiet --target wasm32-unknown-unknown --manifest-path ../wasm/Cargo.toml
    wasm=../wasm/target/wasm32-unknown-unknown/release/pomerium_jwt_wasm.wasm
fi
wasm=$(realpath "$wasm")
python3 -c 'import wasmtime' 2>/dev/null || {
    echo "runtimes.sh: the wasmtime Python package is missing (pip install -r embed/hosts/requirements.txt)" >&2
    exit 1
}
cargo build --release --locked --quiet --manifest-path wasmi/Cargo.toml

python3 calls.py write >"$out/calls.txt"

run() { # run NAME COMMAND...: answers in $out/NAME.txt, wall seconds in $out/NAME.seconds
    local name=$1 started status=0
    shift
    started=$(date +%s%N)
    timeout "$limit" "$@" <"$out/calls.txt" >"$out/$name.txt" || status=$?
    awk -v a="$started" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f", (b - a) / 1e9 }' >"$out/$name.seconds"
    if [ "$status" != 0 ]; then
        echo "runtimes.sh: $name exited with $status" >&2
        return 1
    fi
}
failed=0
run node node node.mjs "$wasm" || failed=1
run wasmtime python3 wasmtime_host.py "$wasm" || failed=1
run wasmi wasmi/target/release/pomerium-jwt-wasmi-host "$wasm" || failed=1

node_version=$(node --version)
wasmtime_version=$(python3 -c 'import importlib.metadata as m; print(m.version("wasmtime"))')
wasmi_version=$(awk '/^name = "wasmi"$/ { getline; gsub(/[^0-9.]/, ""); print }' wasmi/Cargo.lock)
echo "module: $(wc -c <"$wasm" | tr -d ' ') bytes ($wasm)"
python3 calls.py check "$out/calls.txt" \
    "node $node_version (V8)=$out/node.txt=$(cat "$out/node.seconds")" \
    "wasmtime $wasmtime_version (Cranelift, PyPI wheel)=$out/wasmtime.txt=$(cat "$out/wasmtime.seconds")" \
    "wasmi $wasmi_version (interpreter)=$out/wasmi.txt=$(cat "$out/wasmi.seconds")" || failed=1
exit "$failed"
