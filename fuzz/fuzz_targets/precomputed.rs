#![no_main]
//! Differential: both of this crate's ECDSA paths, the plain one (`PublicKey`, variable-time
//! wNAF on the crate's Jacobian formulas) and the precomputed one (`PrecomputedKey`, fixed-base
//! tables of every window), against `p256`'s own verification on the same digest and signature.
//! Any disagreement is a crash.
//!
//! The input picks one of five fixed keys (tables built once; one key is `G` itself, so that
//! partial sums meet the other table's entries: the exceptional additions `P + P`, `P + (-P)`),
//! a generator table (W6 or W10), a digest, and either a genuine signature (optionally high-S or
//! corrupted), raw `r || s` bytes, or a signature constructed so that verification computes
//! `u1·G + u2·Q` for fuzzer-chosen `u1`, `u2` (which reaches a sum at infinity and sums equal to
//! table points, which no honest signature does).

use std::sync::OnceLock;

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::PrimeField;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::{FieldBytes, ProjectivePoint, Scalar};
use pomerium_jwt::{BaseTable, Es256Key, PrecomputedKey, PublicKey, TableEntry, Window};

struct Key {
    secret: Scalar,
    signer: SigningKey,
    plain: VerifyingKey,
    /// With the W6 generator table, then with the W10 one.
    fast: [PrecomputedKey<'static>; 2],
}

fn keys() -> &'static [Key; 5] {
    static KEYS: OnceLock<[Key; 5]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let storage = |w: Window| Vec::leak(vec![TableEntry::EMPTY; w.entries()]);
        let generators = [Window::W6, Window::W10].map(|w| BaseTable::generator(w, storage(w)).unwrap());
        let windows = [Window::W4, Window::W6, Window::W8, Window::W10, Window::W4];
        core::array::from_fn(|i| {
            // Secrets 1 (the key is G), 2, 3, 4, 5.
            let mut secret = [0u8; 32];
            secret[31] = u8::try_from(i).unwrap() + 1;
            let signer = SigningKey::from_slice(&secret).unwrap();
            let plain = *signer.verifying_key();
            let key = PublicKey::from_sec1(plain.to_sec1_point(false).as_bytes()).unwrap();
            let table = BaseTable::for_key(&key, windows[i], storage(windows[i])).unwrap();
            let fast = generators.map(|g| PrecomputedKey::new(key, table, g).unwrap());
            Key { secret: Scalar::from(u64::try_from(i).unwrap() + 1), signer, plain, fast }
        })
    })
}

/// A scalar from 32 input bytes, reduced mod n.
fn scalar(bytes: &[u8; 32]) -> Scalar {
    <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*bytes))
}

/// The digest and signature that make verification with the key `d·G` compute `u1·G + u2·Q`,
/// and whether it must verify (false when that sum is the identity; `None` for `u2 = 0`).
fn constructed(u1: Scalar, u2: Scalar, d: Scalar, r_if_identity: Scalar) -> Option<([u8; 32], Signature, bool)> {
    let u2_inv = Option::<Scalar>::from(u2.invert())?;
    let point = (ProjectivePoint::GENERATOR * (u1 + u2 * d)).to_affine();
    let (r, valid) = if bool::from(point.is_identity()) {
        (r_if_identity, false)
    } else {
        (<Scalar as Reduce<FieldBytes>>::reduce(&point.x()), true)
    };
    let s = r * u2_inv;
    let signature = Signature::from_scalars(r.to_repr(), s.to_repr()).ok()?;
    Some(((u1 * s).to_repr().into(), signature, valid))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [choice, mode, rest @ ..] = data else { return };
    let Some((digest, rest)) = rest.split_first_chunk::<32>() else { return };
    let key = &keys()[usize::from(*choice % 5)];
    let mut digest = *digest;
    let mut must_verify = None;
    let signature = match mode % 5 {
        // Raw r || s from the input (mostly invalid, or out of range).
        0 => match rest.first_chunk::<64>().map(|b| Signature::from_slice(b)) {
            Some(Ok(sig)) => sig,
            _ => return,
        },
        // u1 from the digest bytes, u2 from the next 32 (small values reach the exceptional
        // additions; u2 = -u1/d the sum at infinity): the signature that makes them.
        4 => {
            let Some(u2) = rest.first_chunk::<32>() else { return };
            let u1 = scalar(&digest);
            // A flag byte turns u2 into -u1/d, the sum at infinity.
            let u2 = if rest.get(32).is_some_and(|b| b & 1 == 1) {
                -(u1 * Option::<Scalar>::from(key.secret.invert()).unwrap())
            } else {
                scalar(u2)
            };
            let Some((z, sig, valid)) = constructed(u1, u2, key.secret, Scalar::from(7u64)) else { return };
            digest = z;
            must_verify = Some(valid);
            sig
        }
        // A genuine signature, its high-S twin, or one with a flipped bit.
        m => {
            let sig: Signature = key.signer.sign_prehash(&digest).unwrap();
            let mut bytes = sig.to_bytes();
            if m == 2 {
                // n - s: the other valid signature.
                let flipped = Signature::from_scalars(sig.r().to_bytes(), (-*sig.s()).to_bytes()).unwrap();
                bytes = flipped.to_bytes();
            } else if m == 3 {
                let at = usize::from(rest.first().copied().unwrap_or(0)) % 64;
                bytes[at] ^= 1 << (rest.get(1).copied().unwrap_or(0) % 8);
            } else {
                must_verify = Some(true);
            }
            match Signature::from_slice(&bytes) {
                Ok(sig) => sig,
                Err(_) => return,
            }
        }
    };
    let reference = key.plain.verify_prehash(&digest, &signature).is_ok();
    let plain = key.fast[0].public_key().verifies_digest(&digest, &signature);
    let fast = key.fast.map(|k| k.verifies_digest(&digest, &signature));
    assert_eq!((plain, fast), (reference, [reference; 2]), "p256 {reference}: plain {plain}, precomputed {fast:?}");
    if mode % 5 == 2 {
        assert!(reference, "a high-S twin of a genuine signature must verify");
    }
    if let Some(valid) = must_verify {
        assert_eq!(reference, valid, "a constructed or genuine signature");
    }
});
