//! Links like ../build.rs: the board's memory map (../memory.x) for cortex-m-rt's link.x.

// A build script's answer to a missing file is to stop the build, loudly.
#![allow(clippy::expect_used)]

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy(manifest.join("../memory.x"), out.join("memory.x")).expect("copy ../memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rerun-if-changed=../memory.x");
}
