//! pomerium-jwt's plain path, alone in its build: `PublicKey::verify_es256` (SHA-256, then its
//! variable-time wNAF over its own 32-bit field arithmetic on this target).

#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

use cortex_m_rt::entry;
use pomerium_jwt::PublicKey;

#[entry]
fn main() -> ! {
    let name = "ours-plain";
    let Ok(key) = PublicKey::from_sec1(&common::KEY) else { common::run(name, |_, _| false) };
    common::run(name, |message, signature| key.verify_es256(message, signature).is_ok())
}
