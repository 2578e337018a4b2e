#!/usr/bin/env bash
# The lower bounds the tower crate's manifest declares: a copy of the crate, made a workspace of
# its own, resolves each of its direct dependencies to the oldest version the requirement allows
# (`cargo +nightly update -Z direct-minimal-versions`) and is checked with every target and
# feature, and without default features. A requirement like `tracing = "0.1"` while the code
# needs 0.1.37 fails here, where it would fail a user whose lockfile holds an older 0.1.
#
#   bash scripts/minimal-versions.sh
#
# Direct, not `-Z minimal-versions`: the latter also takes the oldest version of every crate
# deep in the graph, whose lower bounds this project neither declares nor can fix, so its
# failures say nothing of ours. The tower crate only, for now: the library's path dependency is
# resolved at its newest versions. The whole workspace does not resolve at its lower bounds
# today (cli/: `serde_json = "1"` with `arbitrary_precision`, a feature 1.0.0 lacks), which is
# for the owners of those manifests to raise; a crate is added here once it resolves.
# `cargo check`, not a test run: a bound is about what compiles against the API.
#
# Cost: a nightly check in its own target dir (target/minimal-versions/), so nothing of the stable
# builds is reused: 163 s cold, 63 s with target/minimal-versions/ kept, measured on 2026-12-06
# with `bash scripts/minimal-versions.sh` on 2 cores shared with other builds (load about 7).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source scripts/reproducible.sh
start=$SECONDS
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal

copy="$root/target/minimal-versions/workspace"
rm -rf "$copy"
mkdir -p "$copy"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$copy"
# The crate on its own: no [workspace.lints] to inherit, and a [workspace] of its own.
python3 - "$copy/tower/Cargo.toml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read().replace("[lints]\nworkspace = true\n", "")
open(path, "w").write(text + "\n[workspace]\n")
PY
cd "$copy/tower"
export CARGO_TARGET_DIR="$root/target/minimal-versions"

echo "==> cargo +nightly update -Z direct-minimal-versions"
cargo +nightly update -Z direct-minimal-versions

echo "==> check: all targets and features, then no default features"
cargo +nightly check --all-targets --all-features --locked --keep-going
cargo +nightly check --no-default-features --locked

echo "minimal-versions: done in $((SECONDS - start)) s"
