//! RustCrypto's `p256` 0.14, alone in its build: `VerifyingKey::verify` (SHA-256 of the message,
//! then its constant-time verification on its own 32-bit field arithmetic).

#![no_std]
#![no_main]

#[path = "../common.rs"]
mod common;

use cortex_m_rt::entry;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};

#[entry]
fn main() -> ! {
    let name = "p256";
    let Ok(key) = VerifyingKey::from_sec1_bytes(&common::KEY) else { common::run(name, |_, _| false) };
    common::run(name, |message, signature| {
        Signature::from_slice(signature).is_ok_and(|signature| key.verify(message, &signature).is_ok())
    })
}
