# Sourced (not run) by the scripts that build what the project ships or measures: .ci/run,
# scripts/footprint.sh, embed/wasm/test.sh. Panic locations and debug info name source files by
# their path on the build machine (the checkout, cargo's registry); these flags rewrite those
# prefixes to fixed names, so no artifact holds a path of the machine that built it, and a
# WebAssembly module or binary has the same size wherever the repository and cargo live.
#
#   source scripts/reproducible.sh      # exports RUSTFLAGS with the remaps added
#
# RUSTFLAGS replaces the rustflags of .cargo/config.toml files: a build that needs one (the
# benchmarks' --cfg pomerium_jwt_bench) must add it to RUSTFLAGS itself. Cargo's `trim-paths`
# would do this without flags but is unstable in cargo 1.95.

_repro_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
_repro_cargo_home=$(cd "${CARGO_HOME:-$HOME/.cargo}" 2>/dev/null && pwd -P || echo "${CARGO_HOME:-$HOME/.cargo}")
_repro_flags="--remap-path-prefix=$_repro_root=/pomerium-jwt"
# One folder per registry index, named for its URL: crates.io's always (it may not exist yet
# on a fresh machine), and any other already there; then git dependencies.
for _repro_dir in "$_repro_cargo_home/registry/src/index.crates.io-1949cf8c6b5b557f" "$_repro_cargo_home"/registry/src/*; do
    case " $_repro_flags " in
    *" --remap-path-prefix=$_repro_dir=/cargo/registry "*) ;;
    *) [ "$_repro_dir" != "$_repro_cargo_home/registry/src/*" ] &&
        _repro_flags="$_repro_flags --remap-path-prefix=$_repro_dir=/cargo/registry" ;;
    esac
done
_repro_flags="$_repro_flags --remap-path-prefix=$_repro_cargo_home/git/checkouts=/cargo/git"
case " ${RUSTFLAGS:-} " in
*" --remap-path-prefix=$_repro_root=/pomerium-jwt "*) ;;
*) export RUSTFLAGS="${RUSTFLAGS:+$RUSTFLAGS }$_repro_flags" ;;
esac
unset _repro_root _repro_cargo_home _repro_flags _repro_dir
