//! p256-cm4 0.4 (Emil Lenngren's P256-Cortex-M4 assembly, in Rust), alone in its build: SHA-256
//! of the message (the `sha2` crate `p256` uses), then `p256_cm4::verify`. Built from a copy
//! patched by peers.sh (one `ldm r4, {r6}` that faults under QEMU, as `ldr r6, [r4]`).

#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

use cortex_m_rt::entry;
use sha2::{Digest, Sha256};

/// 32 big-endian bytes as p256-cm4's limbs: eight 32-bit words, least significant first.
fn limbs(bytes: &[u8]) -> [u32; 8] {
    let mut out = [0u32; 8];
    for (limb, chunk) in out.iter_mut().zip(bytes.rchunks_exact(4)) {
        *limb = chunk.iter().fold(0, |acc, &b| (acc << 8) | u32::from(b));
    }
    out
}

#[entry]
fn main() -> ! {
    let (mut x, mut y) = ([0u32; 8], [0u32; 8]);
    if !p256_cm4::octet_string_to_point(&mut x, &mut y, &common::KEY) {
        common::run("p256-cm4", |_, _| false)
    }
    common::run("p256-cm4", |message, signature| {
        let hash = Sha256::digest(message);
        let (r, s) = signature.split_at(32);
        p256_cm4::verify(&x, &y, &hash, &limbs(r), &limbs(s))
    })
}
