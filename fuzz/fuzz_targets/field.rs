#![no_main]
//! Differential: the crate's 32-bit field arithmetic (`src/field32.rs`, what 32-bit targets run)
//! against `p256`'s field, operation by operation. Needs `--cfg pomerium_jwt_field32` (as
//! `ci.sh` sets), which makes the library export the hidden `__fuzz_field_ops`.
//!
//! The input is two 32-byte strings, read as the internal Montgomery limbs of two elements `a`
//! and `b` (so the fuzzer steers the limbs the carries run through, not only the values; limbs
//! not below `p` are skipped). An element with limbs `L` is the integer `L/R mod p`
//! (`R = 2^256`), which `p256` computes with its own arithmetic; every result must be that of
//! `p256`'s operation on the two values, and below `p` (equal values, equal limbs).

use libfuzzer_sys::fuzz_target;
use p256::elliptic_curve::PrimeField;
use p256::elliptic_curve::hazmat::FieldArithmetic;
use p256::{FieldBytes, NistP256};

type Theirs = <NistP256 as FieldArithmetic>::FieldElement;

/// `R mod p`, big-endian.
const R_MOD_P: [u8; 32] = [
    0, 0, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 1,
];

fn theirs(bytes: &[u8; 32]) -> Option<Theirs> {
    Option::from(Theirs::from_repr(FieldBytes::from(*bytes)))
}

fuzz_target!(|data: [[u8; 32]; 2]| {
    let [a, b] = data;
    let r = theirs(&R_MOD_P).unwrap();
    let r_inv = r.invert().unwrap();
    // The value of limbs L: L/R mod p; p256 refuses limbs not below p, and so must ours.
    let value = |limbs: &[u8; 32]| theirs(limbs).map(|l| l * r_inv);
    let ours = pomerium_jwt::__fuzz_field_ops(&a, &b);
    let (Some(x), Some(y)) = (value(&a), value(&b)) else {
        assert!(ours.is_none(), "limbs not below p accepted");
        return;
    };
    let [mul, square, add, sub, neg, double, inverse, integer, read] = ours.expect("limbs below p refused");
    let seen = |limbs: &[u8; 32]| value(limbs).expect("a result not below p");
    assert_eq!(seen(&mul), x * y, "a·b");
    assert_eq!(seen(&square), x.square(), "a²");
    assert_eq!(seen(&add), x + y, "a + b");
    assert_eq!(seen(&sub), x - y, "a - b");
    assert_eq!(seen(&neg), -x, "-a");
    assert_eq!(seen(&double), x.double(), "2a");
    assert_eq!(seen(&inverse), Option::<Theirs>::from(x.invert()).unwrap_or(Theirs::ZERO), "1/a");
    assert_eq!(theirs(&integer), Some(x), "a out of Montgomery form");
    // b's bytes as an integer: the element whose value they are (zero when not below p).
    assert_eq!(seen(&read), theirs(&b).unwrap_or(Theirs::ZERO), "from_bytes(b)");
});
