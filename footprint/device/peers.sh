#!/usr/bin/env bash
# ECDSA P-256 verification on the emulated Cortex-M4, side by side: pomerium-jwt (plain, with
# W4, W6 and W8 tables in RAM, and with the generator's W4 or W8 table computed at compile time,
# in flash, beside the key's W4 table in RAM), RustCrypto's p256 0.14 and p256-cm4 0.4
# (hand-written Cortex-M4 assembly), each
# alone in its own binary (peers/), the same key, message and signature (Wycheproof's
# ecdsa_secp256r1_sha256_p1363 tc 1), the device's instruction counter; each must accept the
# signature and refuse it with one bit of s flipped. Prints a table: instructions, ratio to
# p256-cm4, flash, static RAM, stack.
#
#   bash footprint/device/peers.sh      # needs qemu-system-arm, like run.sh
#
# p256-cm4 0.4 faults under QEMU at one `ldm r4,{r6}` in mul288x288 (a one-register ldm that
# QEMU's M-profile decoder rejects); `ldr r6,[r4]` loads the same word in the same instruction
# count. Its source is not committed: this script copies the crate from cargo's registry into
# peers/target/, applies peers/p256-cm4.patch, and peers/Cargo.toml's [patch] points at it.
set -euo pipefail
cd "$(dirname "$0")/peers"
target=thumbv7em-none-eabihf
if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
command -v qemu-system-arm >/dev/null || {
    echo "peers.sh: qemu-system-arm not found (apt-get install qemu-system-arm)" >&2
    exit 1
}

# The patched copy of p256-cm4, from cargo's registry (fetched first if need be).
version=0.4.0
patched=target/p256-cm4-patched
if [ ! -f "$patched/.patched-$version" ]; then
    registry=${CARGO_HOME:-$HOME/.cargo}/registry/src
    source_dir=$(find "$registry" -maxdepth 2 -type d -name "p256-cm4-$version" | head -n 1)
    if [ -z "$source_dir" ]; then
        # The [patch] path must exist before cargo can fetch anything: fetch through a scratch crate.
        scratch=target/fetch-p256-cm4
        mkdir -p "$scratch/src"
        printf '[package]\nname = "fetch"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\np256-cm4 = "=%s"\n[workspace]\n' \
            "$version" > "$scratch/Cargo.toml"
        : > "$scratch/src/lib.rs"
        (cd "$scratch" && cargo fetch --quiet)
        source_dir=$(find "$registry" -maxdepth 2 -type d -name "p256-cm4-$version" | head -n 1)
    fi
    rm -rf "$patched"
    mkdir -p target
    cp -r "$source_dir" "$patched"
    chmod -R u+w "$patched"
    patch -s -d "$patched" -p1 < p256-cm4.patch
    touch "$patched/.patched-$version"
fi

cargo build --release --locked --quiet --target "$target" --features flash

sizer=size
command -v size >/dev/null || sizer=llvm-size
rows=()
cm4=""
for bin in ours ours_w4 ours_w6 ours_w8 ours_flash_w4 ours_flash_w8 p256 cm4; do
    elf=target/$target/release/$bin
    log=target/$bin.log
    status=0
    timeout "${DEVICE_TIMEOUT:-120}" qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic \
        -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" >"$log" 2>&1 || status=$?
    line=$(grep -E '^(PASS|FAIL) ' "$log" || true)
    echo "$line"
    if [ "$status" != 0 ] || [ "${line%% *}" != PASS ]; then
        cat "$log"
        echo "peers.sh: $bin failed (QEMU exit $status)" >&2
        exit 1
    fi
    name=$(echo "$line" | awk '{ print $2 }')
    instructions=$(echo "$line" | sed -E 's/.* instructions=([0-9]+).*/\1/')
    stack=$(echo "$line" | sed -E 's/.* stack=([0-9]+).*/\1/')
    read -r text rodata data bss < <("$sizer" -A "$elf" | awk '
        $1 == ".text" { t = $2 } $1 == ".rodata" { r = $2 } $1 == ".data" { d = $2 } $1 == ".bss" { b = $2 }
        END { print t + 0, r + 0, d + 0, b + 0 }')
    [ "$bin" = cm4 ] && cm4=$instructions
    rows+=("$name $instructions $((text + rodata)) $((data + bss)) $stack")
done

echo
echo "thumbv7em-none-eabihf on QEMU mps2-an386; $(rustc --version); opt-level \"z\", LTO, one codegen unit;"
echo "one verification (SHA-256 of a 6-byte message included) of Wycheproof P1363 tc 1:"
echo
echo "| verifier | instructions | vs p256-cm4 | flash (.text + .rodata) | static RAM | stack |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for row in "${rows[@]}"; do
    read -r name instructions flash ram stack <<< "$row"
    ratio=$(awk -v a="$instructions" -v b="$cm4" 'BEGIN { printf "%.2f", a / b }')
    echo "| $name | $instructions | ${ratio}x | $flash B | $ram B | $stack B |"
done
