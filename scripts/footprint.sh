#!/usr/bin/env bash
# Footprint of pomerium-jwt, printed as the markdown tables of the README's Footprint section:
#   1. wasm32-unknown-unknown size of footprint/wasm-verify (a minimal cdylib exposing verify)
#      beside footprint/wasm-p256 (only the bare p256 verify), both opt-level "z", LTO,
#      panic = "abort", codegen-units = 1, stripped;
#   2. thumbv7em-none-eabihf .text and .rodata of the no-alloc device programs (footprint/device/);
#   3. stack high-water of one verification beyond the caller's buffers (footprint/stack, by
#      painting, on x86_64 in two profiles; and the wasm module's shadow stack, with node);
#   4. size_of of the verifier, the key set and the buffers.
# Runs on a fresh clone (every build is --locked, into target/footprint/). Exits 0 whether or
# not the targets are met, so CI shows the figures; FOOTPRINT_STRICT=1 makes a missed target
# an error.
set -euo pipefail
cd "$(dirname "$0")/.."
# No build paths in what is measured: sizes do not depend on where the checkout is.
source scripts/reproducible.sh
root=$(pwd)
out="$root/target/footprint"
mkdir -p "$out"
log="$out/build.log"
: >"$log"

if command -v rustup >/dev/null; then
    installed=$(rustup target list --installed)
    for t in wasm32-unknown-unknown thumbv7em-none-eabihf; do
        grep -qx "$t" <<<"$installed" || rustup target add "$t" >>"$log" 2>&1
    done
fi

build() { # build NAME [cargo args...]: quiet unless it fails
    local name=$1
    shift
    if ! cargo build --locked "$@" >>"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "footprint: building $name failed" >&2
        exit 1
    fi
}

wasm() { # wasm CRATE TARGET_DIR [features]: builds, prints the .wasm path
    local crate=$1 dir=$2
    shift 2
    build "$crate" --release --target wasm32-unknown-unknown --manifest-path "footprint/$crate/Cargo.toml" \
        --target-dir "$out/$dir" "$@"
    echo "$out/$dir/wasm32-unknown-unknown/release/footprint_${crate//-/_}.wasm"
}

bytes() { wc -c <"$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
kib() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1024 }'; }
missed=0
verdict() { # verdict CONDITION_AS_AWK_EXPR: sets $met (and $missed when not met)
    if awk "BEGIN { exit !($1) }"; then met=yes; else
        met="**no**"
        missed=1
    fi
}

echo "Measured $(date -u '+%Y-%m-%d') with $(rustc --version). Reproduce with \`bash scripts/footprint.sh\`."
echo

# 1. WebAssembly.
verify_wasm=$(wasm wasm-verify wasm-verify)
jwks_wasm=$(wasm wasm-verify wasm-verify-jwks --features jwks)
p256_wasm=$(wasm wasm-p256 wasm-p256)
coordinates_wasm=$(wasm wasm-p256 wasm-p256-coordinates --features coordinates)
v=$(bytes "$verify_wasm") j=$(bytes "$jwks_wasm") p=$(bytes "$p256_wasm") c=$(bytes "$coordinates_wasm")
echo "WebAssembly (wasm32-unknown-unknown; opt-level \"z\", LTO, panic = \"abort\", codegen-units = 1,"
if command -v wasm-opt >/dev/null; then echo "stripped):"; else echo "stripped; no wasm-opt pass, as wasm-opt is not installed):"; fi
echo
echo "| module | bytes | gzip -9 | × bare p256 |"
echo "| --- | ---: | ---: | ---: |"
echo "| footprint/wasm-p256: bare \`p256\` verify (the floor) | $p | $(gz "$p256_wasm") | 1.00 |"
echo "| footprint/wasm-verify: \`Verifier::verify\`, key from a SEC1 point | $v | $(gz "$verify_wasm") | $(ratio "$v" "$p") |"
echo "| the same, key imported from a JWKS (\`--features jwks\`) | $j | $(gz "$jwks_wasm") | $(ratio "$j" "$p") |"
echo "| footprint/wasm-p256 \`--features coordinates\`: bare \`p256\` verify, key from its coordinates | $c | $(gz "$coordinates_wasm") | $(ratio "$c" "$p") |"
if command -v wasm-opt >/dev/null; then
    # rustc's wasm32 target enables these proposals; wasm-opt must be told.
    features=(--enable-bulk-memory --enable-sign-ext --enable-mutable-globals --enable-nontrapping-float-to-int
        --enable-multivalue --enable-reference-types)
    for f in "$p256_wasm" "$verify_wasm"; do wasm-opt -Oz "${features[@]}" "$f" -o "${f%.wasm}.opt.wasm"; done
    vo=$(bytes "${verify_wasm%.wasm}.opt.wasm") po=$(bytes "${p256_wasm%.wasm}.opt.wasm")
    echo "| after \`wasm-opt -Oz\`: bare p256 / verify | $po / $vo | | $(ratio "$vo" "$po") |"
fi
echo
verdict "$v <= 1.3 * $p"
echo "Target: the verify module ≤ 1.3 × the bare p256 module: $met"
echo
echo "The key is an uncompressed SEC1 point. \`VerifyingKey::from_sec1_bytes\` links p256's SEC1 parser and"
echo "point decompression whatever the point; \`PublicKey::from_sec1\` checks an uncompressed point's"
echo "coordinates itself, so decompression is linked only where a compressed key can arrive (a"
echo "runtime SEC1, DER or PEM key), never for a constant uncompressed key or a JWK. Against the bare"
echo "module that skips them too (\`--features coordinates\`), the verify module is $(ratio "$v" "$c") × and the"
echo "JWKS one $(ratio "$j" "$c") ×."
echo
verdict "$v <= 1.3 * $c"
echo "Target: the verify module ≤ 1.3 × the bare p256 module that skips them too: $met"
echo

# 2. Cortex-M4F: the verify path alone, and the device program (footprint/device/run.sh runs it
#    under QEMU and measures its stack and instruction counts).
build device --release --manifest-path footprint/device/Cargo.toml --target thumbv7em-none-eabihf
sizer=size
command -v size >/dev/null || sizer=llvm-size
sections() { # sections ELF: .text .rodata .data .bss
    "$sizer" -A "$1" | awk '$1 == ".text" { t = $2 } $1 == ".rodata" { r = $2 } $1 == ".data" { d = $2 }
        $1 == ".bss" { b = $2 } END { print t + 0, r + 0, d + 0, b + 0 }'
}
elf=footprint/device/target/thumbv7em-none-eabihf/release
read -r text rodata vdata vbss < <(sections "$elf/verify-only")
read -r dtext drodata ddata dbss < <(sections "$elf/device")
echo "thumbv7em-none-eabihf, footprint/device/ (no allocator; opt-level \"z\", LTO):"
echo
echo "| binary | .text | .rodata | .data + .bss |"
echo "| --- | ---: | ---: | ---: |"
echo "| \`verify-only\`: JWKS import + verify + every claim, nothing else | $text ($(kib "$text") KiB) | $rodata | $((vdata + vbss)) |"
echo "| \`device\`: 7 fixture cases and the 262 Wycheproof P1363 vectors, plain and \`Window::W4\` paths, semihosting | $dtext ($(kib "$dtext") KiB) | $drodata | $((ddata + dbss)) |"
echo
echo "Stack and instruction counts on the emulated Cortex-M4: \`bash footprint/device/run.sh\`."
echo

# 3 and 4. Stack and size_of.
stack_manifest=footprint/stack/Cargo.toml
build stack --release --manifest-path "$stack_manifest" --target-dir "$out/stack"
FOOTPRINT_PROFILE=small build stack-small --profile small --manifest-path "$stack_manifest" --target-dir "$out/stack"
"$out/stack/release/footprint-stack" --sizes >"$out/stack-release.md"
FOOTPRINT_PROFILE=small "$out/stack/small/footprint-stack" >"$out/stack-small.md"
sed '/^`size_of`/,$d' "$out/stack-release.md"
cat "$out/stack-small.md"
if command -v node >/dev/null; then
    stack_wasm=$(wasm wasm-verify wasm-verify-stack --features stack)
    node footprint/wasm-stack.mjs "$stack_wasm" "$p256_wasm" >"$out/wasm-stack.json"
    read -r total caller beyond floor < <(node -e \
        'const r = require(process.argv[1]); console.log(r.verify_total, r.caller_bytes, r.verify_beyond_buffers, r.p256)' \
        "$out/wasm-stack.json")
    echo "WebAssembly shadow stack (the part of the stack in linear memory; node $(node --version)):"
    echo
    echo "| call | stack |"
    echo "| --- | ---: |"
    echo "| footprint/wasm-verify \`verify\`, beyond its buffers and key set ($caller B of its $total B) | $beyond B ($(kib "$beyond") KiB) |"
    echo "| footprint/wasm-p256 \`verify\` (the floor) | $floor B ($(kib "$floor") KiB) |"
    echo
fi
sed -n '/^`size_of`/,$p' "$out/stack-release.md"
echo

# The stack target, on the server build (opt-level 3) and the embedded one (opt-level "z").
beyond_release=$(awk -F'|' '/`Verifier::verify`, 20 groups/ { gsub(/[^0-9 ]/, "", $3); split($3, a, " "); print a[1] }' "$out/stack-release.md")
beyond_small=$(awk -F'|' '/`Verifier::verify`, 20 groups/ { gsub(/[^0-9 ]/, "", $3); split($3, a, " "); print a[1] }' "$out/stack-small.md")
verdict "$beyond_release <= 6144"
met_release=$met
verdict "$beyond_small <= 8192"
echo "Target: stack beyond the caller's buffers (\`Verifier::verify\`, 20 groups) ≤ 6 KiB at opt-level 3:" \
    "$beyond_release B, $met_release; ≤ 8 KiB at opt-level \"z\": $beyond_small B, $met."

if [ "${FOOTPRINT_STRICT:-0}" = 1 ] && [ "$missed" = 1 ]; then
    echo "footprint: a target was missed" >&2
    exit 1
fi
