#![no_main]
//! Differential: both of this crate's ECDSA paths, the plain one (`PublicKey`, variable-time
//! wNAF) and the precomputed one (`PrecomputedKey`, fixed-base tables), against `p256`'s own
//! verification on the same digest and signature. Any disagreement is a crash. The input picks one of four fixed keys (tables built once), a digest, and either a
//! genuine signature (optionally high-S or corrupted) or raw `r || s` bytes.

use std::sync::OnceLock;

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use pomerium_jwt::{BaseTable, Es256Key, PrecomputedKey, PublicKey, TableEntry, Window};

struct Key {
    signer: SigningKey,
    plain: VerifyingKey,
    fast: PrecomputedKey<'static>,
}

fn keys() -> &'static [Key; 4] {
    static KEYS: OnceLock<[Key; 4]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let storage = |w: Window| Vec::leak(vec![TableEntry::EMPTY; w.entries()]);
        let generator = BaseTable::generator(Window::W6, storage(Window::W6)).unwrap();
        let windows = [Window::W4, Window::W6, Window::W8, Window::W4];
        core::array::from_fn(|i| {
            let signer = SigningKey::from_slice(&[u8::try_from(i).unwrap() + 1; 32]).unwrap();
            let plain = *signer.verifying_key();
            let key = PublicKey::from_sec1(plain.to_sec1_point(false).as_bytes()).unwrap();
            let table = BaseTable::for_key(&key, windows[i], storage(windows[i])).unwrap();
            Key { signer, plain, fast: PrecomputedKey::new(key, table, generator).unwrap() }
        })
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [choice, mode, rest @ ..] = data else { return };
    let Some((digest, rest)) = rest.split_first_chunk::<32>() else { return };
    let key = &keys()[usize::from(*choice % 4)];
    let signature = match mode % 4 {
        // Raw r || s from the input (mostly invalid, or out of range).
        0 => match rest.first_chunk::<64>().map(|b| Signature::from_slice(b)) {
            Some(Ok(sig)) => sig,
            _ => return,
        },
        // A genuine signature, its high-S twin, or one with a flipped bit.
        m => {
            let sig: Signature = key.signer.sign_prehash(digest).unwrap();
            let mut bytes = sig.to_bytes();
            if m == 2 {
                // n - s: the other valid signature.
                let flipped = Signature::from_scalars(sig.r().to_bytes(), (-*sig.s()).to_bytes()).unwrap();
                bytes = flipped.to_bytes();
            } else if m == 3 {
                let at = usize::from(rest.first().copied().unwrap_or(0)) % 64;
                bytes[at] ^= 1 << (rest.get(1).copied().unwrap_or(0) % 8);
            }
            match Signature::from_slice(&bytes) {
                Ok(sig) => sig,
                Err(_) => return,
            }
        }
    };
    let reference = key.plain.verify_prehash(digest, &signature).is_ok();
    let plain = key.fast.public_key().verifies_digest(digest, &signature);
    let fast = key.fast.verifies_digest(digest, &signature);
    assert_eq!((plain, fast), (reference, reference), "p256 {reference}: plain {plain}, precomputed {fast}");
    if matches!(mode % 4, 1 | 2) {
        assert!(fast, "a genuine signature must verify");
    }
});
