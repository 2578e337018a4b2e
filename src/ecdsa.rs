//! ECDSA P-256 verification (SEC 1 §4.1.4) on this crate's own point arithmetic
//! (`src/point.rs`: Jacobian coordinates over `p256`'s field).
//!
//! Verification needs `u1·G + u2·Q` for two public scalars and then only `x mod n` of the sum.
//! `p256`'s own `verify_prehash` computes the sum in constant time (64 windows of four doublings
//! and two additions, each addition after a scan of a whole table) on complete formulas, then
//! normalises it to affine form with a field inversion. Nothing here is secret (the token, the
//! signature and the keys are public), so this module instead:
//!
//! - computes the sum in variable time by interleaved width-5 NAF, sharing one chain of
//!   doublings: `Q`'s odd multiples `Q..15Q` are made per call, `G`'s are constants (768 bytes,
//!   with `Z = 1`), which saves building them and as much stack. Both are added with the one
//!   general Jacobian addition: a mixed addition for `G`'s digits would save 5 of 16
//!   multiplications each, but linking it takes the WebAssembly build past its size budget
//!   (`scripts/footprint.sh`), as a width-7 table of `G` (2 KiB, another tenth of the time) did;
//! - uses Jacobian formulas (a doubling is 8 field multiplications, not 11 plus `b`'s), with a
//!   branch for each exceptional case instead of complete formulas;
//! - compares `x` with `r` in projective form (`X == r·Z²`), so no inversion at all.
//!
//! One verification stays within a few KiB of stack, less than `p256`'s path alone.

use p256::ecdsa::Signature;
use p256::elliptic_curve::ops::Reduce;
use p256::{FieldBytes, Scalar};

use crate::point::{Affine, Jacobian};

/// NAF width: digits are odd and in `-15..=15`, so each point needs its odd multiples `1..=15`.
const WIDTH: usize = 5;
/// Odd multiples per point, made per verification: `P, 3P, ..., 15P`.
const MULTIPLES: usize = 1 << (WIDTH - 2);
/// A 256-bit scalar has a NAF of at most 257 digits.
const DIGITS: usize = 257;

/// Whether `signature` is valid for a message whose SHA-256 is `digest`, with `lincomb`
/// computing `u1·G + u2·Q` for the key `Q`.
pub(crate) fn verify(
    digest: &[u8; 32],
    signature: &Signature,
    lincomb: impl FnOnce(&Scalar, &Scalar) -> Jacobian,
) -> bool {
    // `Signature` holds r and s in [1, n), checked when it was made.
    let (r, s) = signature.split_scalars();
    let z = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*digest));
    let Some(s_inv) = Option::<Scalar>::from(s.invert_vartime()) else {
        return false; // s is non-zero: unreachable
    };
    // The identity has no x and is refused; an x in [n, p) is compared reduced mod n.
    lincomb(&(z * s_inv), &(*r * s_inv)).x_mod_n_is(&r)
}

/// `u1·G + u2·Q`, both multiplications sharing one chain of doublings.
pub(crate) fn lincomb(u1: &Scalar, q: &Affine, u2: &Scalar) -> Jacobian {
    let q_multiples = odd_multiples(q);
    let (g_digits, q_digits) = (naf(u1, WIDTH), naf(u2, WIDTH));
    let mut sum = Jacobian::IDENTITY;
    for (&g, &q) in g_digits.iter().zip(&q_digits).rev() {
        // The identity doubles to the identity (until the first digit).
        sum = sum.double();
        add_digit(&mut sum, &G_MULTIPLES, g);
        add_digit(&mut sum, &q_multiples, q);
    }
    sum
}

/// Adds `digit · P` (an odd digit, or zero for nothing) from `P`'s odd multiples.
fn add_digit(sum: &mut Jacobian, multiples: &[Jacobian; MULTIPLES], digit: i8) {
    let Some(point) = multiples.get(usize::from(digit.unsigned_abs() / 2)) else { return };
    match digit {
        0 => {}
        1.. => *sum = sum.add(point),
        _ => *sum = sum.add(&point.neg()),
    }
}

/// `P, 3P, 5P, ..., 15P`.
fn odd_multiples(q: &Affine) -> [Jacobian; MULTIPLES] {
    let first = Jacobian::from(*q);
    let twice = first.double();
    let mut multiples = [first; MULTIPLES];
    let mut multiple = first;
    for slot in multiples.iter_mut().skip(1) {
        multiple = multiple.add(&twice);
        *slot = multiple;
    }
    multiples
}

/// The width-`width` non-adjacent form of `k` (`width` at most 7): digits `d_i`, odd or zero,
/// `|d_i| < 2^(width-1)`, with `k = Σ d_i·2^i` and at least `width - 1` zeros after each
/// non-zero digit.
fn naf(k: &Scalar, width: usize) -> [i8; DIGITS] {
    let bytes = k.to_bytes();
    // 2^width, at most 128 (an i16, so that value - 2^width is exact).
    let radix = u32::try_from(width).ok().and_then(|w| 1i16.checked_shl(w)).unwrap_or(0);
    let mut digits = [0i8; DIGITS];
    let (mut at, mut carry) = (0usize, 0usize);
    while let Some(slot) = digits.get_mut(at) {
        // The scalar from bit `at` on, plus the carry a negative digit below left.
        let low = window_value(&bytes, at, 1).saturating_add(carry);
        if low & 1 == 0 {
            carry = low >> 1;
            at = at.saturating_add(1);
            continue;
        }
        // Odd: take `width` bits as a digit, borrowing 2^width when it is above half of that.
        let value = i16::try_from(window_value(&bytes, at, width).saturating_add(carry)).unwrap_or(0);
        let borrow = value > radix / 2;
        *slot = i8::try_from(if borrow { value.wrapping_sub(radix) } else { value }).unwrap_or(0);
        carry = usize::from(borrow);
        at = at.saturating_add(width);
    }
    digits
}

/// The odd multiples of the generator, `G, 3G, ..., 15G`, as Jacobian points with `Z = 1`
/// (generated with exact integer arithmetic; a test recomputes them with `p256`).
static G_MULTIPLES: [Jacobian; MULTIPLES] = [
    Jacobian::from_hex(
        "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    ),
    Jacobian::from_hex(
        "5ecbe4d1a6330a44c8f7ef951d4bf165e6c6b721efada985fb41661bc6e7fd6c",
        "8734640c4998ff7e374b06ce1a64a2ecd82ab036384fb83d9a79b127a27d5032",
    ),
    Jacobian::from_hex(
        "51590b7a515140d2d784c85608668fdfef8c82fd1f5be52421554a0dc3d033ed",
        "e0c17da8904a727d8ae1bf36bf8a79260d012f00d4d80888d1d0bb44fda16da4",
    ),
    Jacobian::from_hex(
        "8e533b6fa0bf7b4625bb30667c01fb607ef9f8b8a80fef5b300628703187b2a3",
        "73eb1dbde03318366d069f83a6f5900053c73633cb041b21c55e1a86c1f400b4",
    ),
    Jacobian::from_hex(
        "ea68d7b6fedf0b71878938d51d71f8729e0acb8c2c6df8b3d79e8a4b90949ee0",
        "2a2744c972c9fce787014a964a8ea0c84d714feaa4de823fe85a224a4dd048fa",
    ),
    Jacobian::from_hex(
        "3ed113b7883b4c590638379db0c21cda16742ed0255048bf433391d374bc21d1",
        "9099209accc4c8a224c843afa4f4c68a090d04da5e9889dae2f8eefce82a3740",
    ),
    Jacobian::from_hex(
        "177c837ae0ac495a61805df2d85ee2fc792e284b65ead58a98e15d9d46072c01",
        "63bb58cd4ebea558a24091adb40f4e7226ee14c3a1fb4df39c43bbe2efc7bfd8",
    ),
    Jacobian::from_hex(
        "f0454dc6971abae7adfb378999888265ae03af92de3a0ef163668c63e59b9d5f",
        "b5b93ee3592e2d1f4e6594e51f9643e62a3b21ce75b5fa3f47e59cde0d034f36",
    ),
];

/// The `width` bits of the big-endian 256-bit `bytes` starting at bit `start` (bit 0 is the
/// least significant); bits past the top are zero.
pub(crate) fn window_value(bytes: &FieldBytes, start: usize, width: usize) -> usize {
    (0..width).fold(0usize, |acc, offset| {
        let bit = start.saturating_add(offset);
        let byte = 31usize.checked_sub(bit / 8).and_then(|at| bytes.get(at)).copied().unwrap_or(0);
        acc | (usize::from((byte >> (bit % 8)) & 1) << offset)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::{AffinePoint, ProjectivePoint};

    extern crate std;
    use std::vec;

    /// Σ d_i·2^i, as a scalar.
    fn value(digits: &[i8; DIGITS]) -> Scalar {
        digits.iter().rev().fold(Scalar::ZERO, |acc, &d| {
            let d = if d >= 0 { Scalar::from(d as u64) } else { -Scalar::from(d.unsigned_abs() as u64) };
            acc.double() + d
        })
    }

    #[test]
    fn naf_digits_are_odd_sparse_and_sum_to_the_scalar() {
        // Zero, small digits at the edge of the window, n - 1 (the top bits set), then a spread.
        let mut cases = vec![
            Scalar::ZERO,
            Scalar::ONE,
            Scalar::from(15u64),
            Scalar::from(17u64),
            Scalar::from(63u64),
            -Scalar::ONE,
        ];
        let mut x = Scalar::from(0x9E37_79B9_7F4A_7C15u64);
        for _ in 0..200 {
            x = x.square() + Scalar::from(7u64);
            cases.push(x);
        }
        for width in [WIDTH, 7] {
            let bound = 1i8 << (width - 1);
            for k in &cases {
                let digits = naf(k, width);
                assert_eq!(value(&digits), *k);
                let mut gap = width;
                for &d in &digits {
                    if d != 0 {
                        assert!(d % 2 != 0 && -bound < d && d < bound, "{d}");
                        assert!(gap >= width - 1, "non-zero digits too close");
                        gap = 0;
                    } else {
                        gap += 1;
                    }
                }
            }
        }
    }

    #[test]
    fn generator_table_holds_the_odd_multiples_of_g() {
        for (i, point) in G_MULTIPLES.iter().enumerate() {
            let k = Scalar::from(2 * i as u64 + 1);
            let want = Affine::from_p256(&(ProjectivePoint::GENERATOR * k).to_affine());
            assert_eq!(point.to_affine(), want, "{}G", 2 * i + 1);
        }
    }

    fn affine(p: ProjectivePoint) -> Option<Affine> {
        Affine::from_p256(&p.to_affine())
    }

    #[test]
    fn lincomb_matches_scalar_multiplication() {
        let q_point = ProjectivePoint::GENERATOR * Scalar::from(0xDEAD_BEEFu64);
        let q = affine(q_point).unwrap();
        let mut u = Scalar::from(3u64);
        for _ in 0..20 {
            u = u.square() + Scalar::ONE;
            let v = u.invert().unwrap_or(Scalar::ZERO) + u;
            let want = ProjectivePoint::GENERATOR * u + q_point * v;
            assert_eq!(lincomb(&u, &q, &v).to_affine(), affine(want));
        }
        // Zero scalars, and a sum at infinity: u·G + (-u)·G.
        assert!(lincomb(&Scalar::ZERO, &q, &Scalar::ZERO).is_identity());
        let g = Affine::from_p256(&AffinePoint::GENERATOR).unwrap();
        assert!(lincomb(&u, &g, &-u).is_identity());
        assert_eq!(lincomb(&u, &g, &u).to_affine(), affine(ProjectivePoint::GENERATOR * u.double()));
        // Q = ±G, so that partial sums meet the table points (the exceptional additions).
        for k in [1u64, 2, 3, 63, 64, 65, 1 << 40] {
            let k = Scalar::from(k);
            assert_eq!(lincomb(&k, &g, &k).to_affine(), affine(ProjectivePoint::GENERATOR * k.double()));
            assert!(lincomb(&k, &g.neg(), &k).is_identity());
            assert!(lincomb(&k, &g, &-k).is_identity());
        }
    }
}
