#!/usr/bin/env bash
# The fuzz stage of CI (called by .ci/run): install cargo-fuzz if missing, build every target
# once, replay the committed seeds through the fuzz binaries, then fuzz every target for a
# bounded time, two at a time (the machine has two cores). Exits non-zero on any crash, panic,
# allocation inside the library, timeout or out-of-memory, after running every target.
#
# The whole stage, install and build included, is held to FUZZ_BUDGET seconds (default 540,
# under CI's 10-minute allowance): what the install and the build leave is shared out among the
# targets, at least FUZZ_MIN_SECS (default 10) each.
#
# Environment: FUZZ_BUDGET, FUZZ_MIN_SECS, FUZZ_TARGETS (space-separated subset), FUZZ_JOBS
# (parallel runs, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
budget=${FUZZ_BUDGET:-540}
min_secs=${FUZZ_MIN_SECS:-10}
jobs=${FUZZ_JOBS:-2}
all_targets="decode_unverified verify header_json claims_json claims_access key_jwk key_jwks key_der key_pem key_base64_pem key_any structured differential precomputed field"
read -r -a targets <<< "${FUZZ_TARGETS:-$all_targets}"
# No AddressSanitizer: the crate forbids unsafe code, and ASan makes the targets that sign and
# verify four times slower. Panics, aborts (the allocation guard), timeouts and OOM are caught
# without it. Longer runs may add it: see fuzz/README.md.
sanitizer=(--sanitizer none)
# Every target is built over the crate's 32-bit field arithmetic (src/field32.rs, what 32-bit
# targets run), which the `field` target compares with p256's and which exports its entry point
# only under this cfg; on 64-bit hosts the library otherwise runs p256's field.
export RUSTFLAGS="${RUSTFLAGS:-} --cfg pomerium_jwt_field32"

# A nightly toolchain if there is one; otherwise stable, told to accept the flags cargo-fuzz uses.
if rustup run nightly rustc --version > /dev/null 2>&1 \
    || rustup toolchain install nightly --profile minimal > /dev/null 2>&1; then
    toolchain=nightly
else
    echo "fuzz: no nightly toolchain; using stable with RUSTC_BOOTSTRAP=1"
    toolchain=stable
    export RUSTC_BOOTSTRAP=1
fi
if ! command -v cargo-fuzz > /dev/null; then
    echo "fuzz: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
fuzz() { cargo "+$toolchain" fuzz "$@"; }

logs=$(mktemp -d)
failed=()

echo "fuzz: building ${#targets[@]} targets ($toolchain)"
fuzz build "${sanitizer[@]}" > "$logs/build.log" 2>&1 || { cat "$logs/build.log"; exit 1; }

# The allocation guard must be live: made to allocate inside a library call, a target aborts.
if FUZZ_GUARD_SELF_TEST=1 fuzz run "${sanitizer[@]}" verify fuzz/seeds/verify/typical_pomerium \
    > "$logs/guard.log" 2>&1 || ! grep -q "inside a library call" "$logs/guard.log"; then
    cat "$logs/guard.log"
    echo "fuzz: the allocation guard did not fire"
    exit 1
fi

# Seeds (and the crashes kept among them) are replayed first, each input once.
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target"
    if [ -d "fuzz/seeds/$target" ]; then
        cp -n "fuzz/seeds/$target/"* "fuzz/corpus/$target/" 2> /dev/null || true
        # Given files rather than a folder, libFuzzer runs each once and writes nothing back.
        if ! fuzz run "${sanitizer[@]}" "$target" "fuzz/seeds/$target/"* > "$logs/$target.replay" 2>&1; then
            echo "fuzz: $target: a committed seed fails"
            tail -n 40 "$logs/$target.replay"
            failed+=("$target (seeds)")
        fi
    fi
done

elapsed=$((SECONDS - start))
rounds=$(((${#targets[@]} + jobs - 1) / jobs))
# Each run also spends a second or two starting and loading its corpus.
per=$(((budget - elapsed) / rounds - 3))
if [ "$per" -lt "$min_secs" ]; then
    echo "fuzz: only $((budget - elapsed)) s of the budget left after the build; running $min_secs s each anyway"
    per=$min_secs
fi
echo "fuzz: install, build and seed replay took ${elapsed} s; fuzzing each target for ${per} s, $jobs at a time"

run() {
    local target=$1
    fuzz run "${sanitizer[@]}" "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$per" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        > "$logs/$target.log" 2>&1
}

for ((i = 0; i < ${#targets[@]}; i += jobs)); do
    batch=("${targets[@]:i:jobs}")
    pids=()
    for target in "${batch[@]}"; do
        run "$target" &
        pids+=($!)
    done
    for j in "${!batch[@]}"; do
        target=${batch[$j]}
        if wait "${pids[$j]}"; then
            execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$logs/$target.log" | grep -o '[0-9]*$' || echo "?")
            done_line=$(grep 'DONE' "$logs/$target.log" | tail -n 1 || true)
            cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' <<< "$done_line" || echo "cov: ?")
            rate=$(grep -o 'exec/s: [0-9]*' <<< "$done_line" || echo "exec/s: ?")
            echo "fuzz: $target: ok, $execs runs, $cov, $rate"
        else
            echo "fuzz: $target: FAILED"
            grep -v '^ *[0-9]*: \|^ *at ' "$logs/$target.log" | tail -n 40
            failed+=("$target")
        fi
    done
done

total=$((SECONDS - start))
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed in ${total} s: ${failed[*]}"
    echo "fuzz: crashing inputs are in fuzz/artifacts/<target>/; reproduce with"
    echo "      cargo +nightly fuzz run --sanitizer none <target> fuzz/artifacts/<target>/<file>"
    exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran clean in ${total} s"
