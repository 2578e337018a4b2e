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
# Two builds: every target over the crate's 32-bit field arithmetic (src/field32.rs, forced by
# `--cfg pomerium_jwt_field32`; what 32-bit targets run, and the only build where the `field`
# target exists), and the targets whose work goes through the field over p256's own 64-bit
# arithmetic, which is what 64-bit hosts run in production (marked `@p256` in the output).
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
# The targets that verify signatures or decompress points: the ones the field choice changes.
arithmetic_targets="verify structured differential precomputed key_any"
read -r -a targets <<< "${FUZZ_TARGETS:-$all_targets}"
# No AddressSanitizer: the crate forbids unsafe code, and ASan makes the targets that sign and
# verify four times slower. Panics, aborts (the allocation guard), timeouts and OOM are caught
# without it. Longer runs may add it: see fuzz/README.md.
sanitizer=(--sanitizer none)
base_rustflags=${RUSTFLAGS:-}
field32_rustflags="$base_rustflags --cfg pomerium_jwt_field32"
# Runs are named `target` (the 32-bit field build) or `target@p256` (p256's field, own target dir).
runs=("${targets[@]}")
for target in "${targets[@]}"; do
    [[ " $arithmetic_targets " == *" $target "* ]] && runs+=("$target@p256")
done

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
# `fuzz FLAVOUR COMMAND ARGS...`: cargo fuzz in the build of that flavour (`field32` or `p256`).
fuzz() {
    local flavour=$1 command=$2
    shift 2
    if [ "$flavour" = p256 ]; then
        RUSTFLAGS="$base_rustflags" cargo "+$toolchain" fuzz "$command" --target-dir "$PWD/fuzz/target/p256-field" "$@"
    else
        RUSTFLAGS="$field32_rustflags" cargo "+$toolchain" fuzz "$command" "$@"
    fi
}

logs=$(mktemp -d)
failed=()

echo "fuzz: building ${#targets[@]} targets over the 32-bit field and $((${#runs[@]} - ${#targets[@]})) over p256's ($toolchain)"
fuzz field32 build "${sanitizer[@]}" > "$logs/build.log" 2>&1 || { cat "$logs/build.log"; exit 1; }
for run in "${runs[@]}"; do
    if [[ $run == *@p256 ]]; then
        fuzz p256 build "${sanitizer[@]}" "${run%@p256}" >> "$logs/build.log" 2>&1 || { cat "$logs/build.log"; exit 1; }
    fi
done

# The allocation guard must be live: made to allocate inside a library call, a target aborts.
if FUZZ_GUARD_SELF_TEST=1 fuzz field32 run "${sanitizer[@]}" verify fuzz/seeds/verify/typical_pomerium \
    > "$logs/guard.log" 2>&1 || ! grep -q "inside a library call" "$logs/guard.log"; then
    cat "$logs/guard.log"
    echo "fuzz: the allocation guard did not fire"
    exit 1
fi

# Seeds (and the crashes kept among them) are replayed first, each input once.
# `flavour RUN` and `target RUN`: a run's build and target.
flavour() { [[ $1 == *@p256 ]] && echo p256 || echo field32; }
target() { echo "${1%@p256}"; }
for run in "${runs[@]}"; do
    target=$(target "$run")
    mkdir -p "fuzz/corpus/$target"
    if [ -d "fuzz/seeds/$target" ]; then
        cp -n "fuzz/seeds/$target/"* "fuzz/corpus/$target/" 2> /dev/null || true
        # Given files rather than a folder, libFuzzer runs each once and writes nothing back.
        if ! fuzz "$(flavour "$run")" run "${sanitizer[@]}" "$target" "fuzz/seeds/$target/"* > "$logs/$run.replay" 2>&1; then
            echo "fuzz: $run: a committed seed fails"
            tail -n 40 "$logs/$run.replay"
            failed+=("$run (seeds)")
        fi
    fi
done

elapsed=$((SECONDS - start))
rounds=$(((${#runs[@]} + jobs - 1) / jobs))
# Each run also spends a second or two starting and loading its corpus.
per=$(((budget - elapsed) / rounds - 3))
if [ "$per" -lt "$min_secs" ]; then
    echo "fuzz: only $((budget - elapsed)) s of the budget left after the build; running $min_secs s each anyway"
    per=$min_secs
fi
echo "fuzz: install, build and seed replay took ${elapsed} s; fuzzing each target for ${per} s, $jobs at a time"

fuzz_one() {
    local run=$1 target
    target=$(target "$run")
    fuzz "$(flavour "$run")" run "${sanitizer[@]}" "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$per" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
        > "$logs/$run.log" 2>&1
}

# The two builds of one target are far apart in the list, so never write one corpus at once.
for ((i = 0; i < ${#runs[@]}; i += jobs)); do
    batch=("${runs[@]:i:jobs}")
    pids=()
    for run in "${batch[@]}"; do
        fuzz_one "$run" &
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
    echo "fuzz: ${#failed[@]} of ${#runs[@]} runs failed in ${total} s: ${failed[*]}"
    echo "fuzz: crashing inputs are in fuzz/artifacts/<target>/; reproduce with"
    echo "      RUSTFLAGS='--cfg pomerium_jwt_field32' cargo +nightly fuzz run --sanitizer none <target> fuzz/artifacts/<target>/<file>"
    echo "      (without RUSTFLAGS for a run marked @p256)"
    exit 1
fi
echo "fuzz: all ${#runs[@]} runs (${#targets[@]} targets) ran clean in ${total} s"
