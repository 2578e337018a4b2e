#!/usr/bin/env bash
# The published crates, checked as crates.io will hold them:
#   1. `cargo package` of every publishable crate, in one call, so that a crate depending on an
#      unpublished sibling (the CLI on the library) resolves it from cargo's temporary registry;
#   2. each .crate unpacked outside the repository (so no workspace, no file of the repository
#      is in reach) and its tests built and run there; a sibling dependency is patched to the
#      sibling's unpacked package, never to the repository's sources;
#   3. `cargo publish --dry-run` of them all (no upload).
#
#   bash scripts/package.sh                      # the crates below
#   bash scripts/package.sh pomerium-jwt         # some of them
# A new publishable crate is one more word in CRATES. Builds share target/package-check/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

CRATES=(pomerium-jwt pomerium-jwt-cli pomerium-jwt-tower pomerium-jwt-sidecar)
[ $# -gt 0 ] && CRATES=("$@")

export CARGO_TARGET_DIR="$root/target/package-check"
# Outside the repository (whose workspace would claim the packages), and the same folder on
# every run of this checkout: the shared target dir reuses builds, and a reused test binary
# must find its package where it was built (CARGO_MANIFEST_DIR is compiled in).
work="${TMPDIR:-/tmp}/pomerium-jwt-package-$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
rm -rf "$work"
mkdir -p "$work"

select=()
for crate in "${CRATES[@]}"; do select+=(-p "$crate"); done

echo "==> cargo package ${CRATES[*]}"
# No verify build here: step 2 builds and tests each package, which is the stronger check.
# --allow-dirty: CI runs on a clean clone; locally, the package reflects the working tree.
cargo package --locked --no-verify --allow-dirty "${select[@]}"

version_of() {
    cargo metadata --format-version 1 --no-deps --locked |
        python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == sys.argv[1]))' "$1"
}

for crate in "${CRATES[@]}"; do
    file="$CARGO_TARGET_DIR/package/$crate-$(version_of "$crate").crate"
    echo "==> $file: $(wc -c <"$file" | tr -d ' ') bytes, $(tar -tzf "$file" | wc -l | tr -d ' ') files"
    tar -xzf "$file" -C "$work"
    dir="$work/$(basename "$file" .crate)"
    # Unpacked files keep their packaged times, which can be older than a build in the shared
    # target dir: new times make cargo build and test these packages, not an earlier build.
    find "$dir" -type f -exec touch {} +
    # Nothing outside the package: no path into the repository, no symbolic link left.
    if grep -rn --include=Cargo.toml 'path *= *"\.\.' "$dir"; then
        echo "package: $crate refers to a path outside its package" >&2
        exit 1
    fi
    if [ -n "$(find "$dir" -type l)" ]; then
        echo "package: $crate holds a symbolic link" >&2
        exit 1
    fi
done

for crate in "${CRATES[@]}"; do
    dir="$work/$crate-$(version_of "$crate")"
    patches=()
    for other in "${CRATES[@]}"; do
        # Only siblings this package depends on (an unused patch is a warning).
        [ "$other" != "$crate" ] && grep -q "^\[\(dev-\)\?dependencies\.$other\]" "$dir/Cargo.toml" &&
            patches+=(--config "patch.crates-io.$other.path=\"$work/$other-$(version_of "$other")\"")
    done
    echo "==> tests of the unpacked $crate (unit, integration, doc tests; examples built)"
    # Not --locked: the packaged Cargo.lock names unpublished siblings by their registry
    # version, and the patch replaces them with the unpacked packages.
    (cd "$dir" && cargo test "${patches[@]}")
done

echo "==> cargo publish --dry-run ${CRATES[*]}"
cargo publish --dry-run --locked --no-verify --allow-dirty "${select[@]}"
