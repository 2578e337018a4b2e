#!/usr/bin/env bash
# Builds the device program (footprint/device) for thumbv7em-none-eabihf, runs it on QEMU's
# mps2-an386 board (a Cortex-M4) with semihosting, checks every verdict against the fixture's
# expected one, and prints the figures of README.md: flash, static RAM, stack high-water and
# instruction count of one verification, plain and precomputed.
#
#   bash footprint/device/run.sh        # from anywhere; needs qemu-system-arm (Debian's package)
#
# Exits non-zero when the build fails, QEMU does not finish within $DEVICE_TIMEOUT seconds
# (default 120), the program reports a wrong verdict, or its output is not what is expected.
set -euo pipefail
cd "$(dirname "$0")"
target=thumbv7em-none-eabihf
elf=target/$target/release/device
log=target/device.log

if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
command -v qemu-system-arm >/dev/null || {
    echo "run.sh: qemu-system-arm not found (apt-get install qemu-system-arm)" >&2
    exit 1
}
machine=mps2-an386
qemu-system-arm -M help | grep -q "^$machine " || {
    echo "run.sh: this QEMU has no $machine board" >&2
    exit 1
}

cargo build --release --locked --quiet --target "$target"

# -icount shift=0: the virtual clock advances 1 ns per instruction, which SysTick counts
# (src/counter.rs). Semihosting prints the results and carries the exit status out.
status=0
timeout "${DEVICE_TIMEOUT:-120}" qemu-system-arm -M "$machine" -cpu cortex-m4 -nographic \
    -semihosting-config enable=on,target=native -icount shift=0 -kernel "$elf" >"$log" 2>&1 || status=$?
cat "$log"
if [ "$status" = 124 ]; then
    echo "run.sh: QEMU did not finish in ${DEVICE_TIMEOUT:-120} s" >&2
    exit 1
fi

# The program decides PASS/FAIL itself; check its verdicts here too, from the fields it prints.
cases=$(grep -cE '^(PASS|FAIL) ' "$log" || true)
wrong=$(awk '/^(PASS|FAIL) / {
        expect = ""; got = ""
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^expect=/) expect = substr($i, 8)
            if ($i ~ /^got=/) got = substr($i, 5)
        }
        if ($1 != "PASS" || expect == "" || expect != got || $0 ~ /instructions=\?/) n++
    } END { print n + 0 }' "$log")
summary=$(tail -n 1 "$log")
if [ "$status" != 0 ] || [ "$wrong" != 0 ] || [ "$cases" -lt 2 ] || [ "$summary" != "$cases passed, 0 failed" ]; then
    echo "run.sh: the device run failed (QEMU exit $status, $wrong wrong of $cases verifications, last line: $summary)" >&2
    exit 1
fi

# The figures.
sizer=size
command -v size >/dev/null || sizer=llvm-size
read -r vectors text rodata data bss < <("$sizer" -A "$elf" | awk '
    $1 == ".vector_table" { v = $2 } $1 == ".text" { t = $2 } $1 == ".rodata" { r = $2 }
    $1 == ".data" { d = $2 } $1 == ".bss" { b = $2 } END { print v + 0, t + 0, r + 0, d + 0, b + 0 }')
field() { # field CASE PATH NAME: the NAME= value of that verification's line
    awk -v c="$1" -v p="$2" -v k="$3=" '$2 == c && $3 == p {
        for (i = 1; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' "$log"
}
table=$(awk '/^window:/ { print $3 }' "$log")
max_stack() { # max_stack PATH: the deepest verification of that path
    awk -v p="$1" '/^(PASS|FAIL) / && $3 == p {
        for (i = 1; i <= NF; i++) if ($i ~ /^stack=/) { s = substr($i, 7) + 0; if (s > m) m = s } } END { print m + 0 }' "$log"
}
g_table=$(awk '/^table G:/ { print $3 }' "$log")
q_table=$(awk '/^table Q typical_pomerium:/ { print $4 }' "$log")
case=typical_pomerium
echo
echo "thumbv7em-none-eabihf on QEMU $machine ($(qemu-system-arm --version | head -n 1 | sed 's/QEMU emulator version //'));"
echo "$(rustc --version); opt-level \"z\", LTO, panic = \"abort\", codegen-units = 1:"
echo
echo "| figure | plain | precomputed, \`Window::W4\` |"
echo "| --- | ---: | ---: |"
echo "| flash, .text + .rodata (+ $vectors B vector table) | $((text + rodata)) B ($text + $rodata) | same binary |"
echo "| static RAM, .data + .bss | $((data + bss)) B ($data + $bss) | of which 2 tables × $table B |"
echo "| stack high-water of one verify, beyond the caller (deepest case) | $(max_stack plain) B | $(max_stack precomputed-w4) B |"
echo "| instructions, one verify of \`$case\` | $(field "$case" plain instructions) | $(field "$case" precomputed-w4 instructions) |"
echo "| instructions, building the table of G (once) / of a key | | $g_table / $q_table |"
