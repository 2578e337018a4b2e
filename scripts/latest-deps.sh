#!/usr/bin/env bash
# The workspace on the newest semver-compatible dependencies: what a user who adds the crates
# today gets, rather than what Cargo.lock pins. A copy of the workspace runs `cargo update`, then
# builds, lints (clippy -D warnings: a deprecation upstream fails here before it fails a user)
# and tests. The repository's Cargo.lock is not touched.
#
#   bash scripts/latest-deps.sh
#
# Cost: it shares target/ with the rest of CI, so only the crates `cargo update` moved, those
# above them, and the workspace's own crates are built again; no separate `cargo build`, since
# the tests build the same dependencies (the test profile is the dev profile). Measured on
# 2026-12-06 on 2 cores shared with other builds (load about 6), `bash scripts/latest-deps.sh`:
# 17 crates moved (among them sha2, http, hyper, rustls), so most of the graph was rebuilt:
# 5 min 39 s to build it the first time after the locked build; a second run, with those builds
# in target/, 256 s in all (clippy 12 s, test build 1 min 43 s, the tests the rest). Expect
# about 8 to 10 minutes in CI, most of it the rebuild that a moved sha2 or http forces.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# The flags .ci/run builds with (the same RUSTFLAGS keep target/'s builds reusable).
source scripts/reproducible.sh
start=$SECONDS

copy="$root/target/latest-deps/workspace"
rm -rf "$copy"
mkdir -p "$copy"
# The files of the repository, as a clean clone has them.
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$copy"
cd "$copy"
export CARGO_TARGET_DIR="$root/target"

echo "==> cargo update (newest semver-compatible versions)"
# Its own output lists what moved; a failure to resolve fails the step.
cargo update

echo "==> clippy -D warnings, then the tests, on the updated lockfile"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
cargo test --workspace --all-features --locked

echo "latest-deps: done in $((SECONDS - start)) s"
