//! ECDSA P-256 verification (SEC 1 §4.1.4) on `p256`'s public group arithmetic.
//!
//! Verification needs `u1·G + u2·Q` for two public scalars. `p256`'s own `verify_prehash` does
//! it in constant time: 64 windows of four doublings and two additions, each addition after a
//! scan of a whole table so that no memory access depends on the scalar. Nothing here is
//! secret (the token, the signature and the keys are public), so this module computes the sum
//! in variable time instead, by interleaved width-5 NAF: 256 doublings but only about 86
//! additions and no table scans. That is faster than `p256`'s path, and it keeps one
//! verification within 8 KiB of stack on a server build (opt-level 3), which `p256`'s path
//! alone exceeds (10 KiB). The point formulas are `p256`'s complete ones, so no input (a sum at
//! infinity, a digit adding a point to itself) needs a special case here.

use p256::ecdsa::Signature;
use p256::elliptic_curve::group::Group;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::{AffinePoint, FieldBytes, ProjectivePoint, Scalar};

/// NAF width: digits are odd and in `-15..=15`, so each point needs its odd multiples `1..=15`.
const WIDTH: usize = 5;
/// Odd multiples per point: `P, 3P, ..., 15P`.
const MULTIPLES: usize = 1 << (WIDTH - 2);
/// `2^WIDTH`.
const RADIX: i8 = 1 << WIDTH;
/// A 256-bit scalar has a NAF of at most 257 digits.
const DIGITS: usize = 257;

/// Whether `signature` is valid for a message whose SHA-256 is `digest`, with `lincomb`
/// computing `u1·G + u2·Q` for the key `Q`.
pub(crate) fn verify(
    digest: &[u8; 32],
    signature: &Signature,
    lincomb: impl FnOnce(&Scalar, &Scalar) -> ProjectivePoint,
) -> bool {
    // `Signature` holds r and s in [1, n), checked when it was made.
    let (r, s) = signature.split_scalars();
    let z = <Scalar as Reduce<FieldBytes>>::reduce(&FieldBytes::from(*digest));
    let Some(s_inv) = Option::<Scalar>::from(s.invert_vartime()) else {
        return false; // s is non-zero: unreachable
    };
    let point = lincomb(&(z * s_inv), &(*r * s_inv));
    // The identity has x = 0, which no valid r equals; x in [n, p) is reduced mod n first.
    <Scalar as Reduce<FieldBytes>>::reduce(&point.to_affine().x()) == *r
}

/// `u1·G + u2·Q`, both multiplications sharing one chain of doublings.
pub(crate) fn lincomb(u1: &Scalar, q: &AffinePoint, u2: &Scalar) -> ProjectivePoint {
    let (g_multiples, q_multiples) = (odd_multiples(ProjectivePoint::GENERATOR), odd_multiples(q.into()));
    let (g_digits, q_digits) = (naf(u1), naf(u2));
    let mut sum = ProjectivePoint::IDENTITY;
    for (&g, &q) in g_digits.iter().zip(&q_digits).rev() {
        sum = sum.double();
        add_digit(&mut sum, &g_multiples, g);
        add_digit(&mut sum, &q_multiples, q);
    }
    sum
}

/// `P, 3P, 5P, ..., 15P`.
fn odd_multiples(p: ProjectivePoint) -> [ProjectivePoint; MULTIPLES] {
    let twice = p.double();
    let mut multiples = [p; MULTIPLES];
    let mut multiple = p;
    for slot in multiples.iter_mut().skip(1) {
        multiple += twice;
        *slot = multiple;
    }
    multiples
}

/// Adds `digit · P` (an odd digit, or zero for nothing) from `P`'s odd multiples.
fn add_digit(sum: &mut ProjectivePoint, multiples: &[ProjectivePoint; MULTIPLES], digit: i8) {
    let Some(point) = multiples.get(usize::from(digit.unsigned_abs() / 2)) else { return };
    match digit {
        0 => {}
        1.. => *sum += point,
        _ => *sum -= point,
    }
}

/// The width-5 non-adjacent form of `k`: digits `d_i`, odd or zero, with `k = Σ d_i·2^i` and
/// at least four zeros after each non-zero digit.
fn naf(k: &Scalar) -> [i8; DIGITS] {
    let bytes = k.to_bytes();
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
        // Odd: take WIDTH bits as a digit in -15..=15, borrowing 2^WIDTH when it is above 15.
        let value = i8::try_from(window_value(&bytes, at, WIDTH).saturating_add(carry)).unwrap_or(0);
        let borrow = value > RADIX / 2;
        *slot = if borrow { value.wrapping_sub(RADIX) } else { value };
        carry = usize::from(borrow);
        at = at.saturating_add(WIDTH);
    }
    digits
}

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
        let mut cases = vec![Scalar::ZERO, Scalar::ONE, Scalar::from(15u64), Scalar::from(17u64), -Scalar::ONE];
        let mut x = Scalar::from(0x9E37_79B9_7F4A_7C15u64);
        for _ in 0..200 {
            x = x.square() + Scalar::from(7u64);
            cases.push(x);
        }
        for k in cases {
            let digits = naf(&k);
            assert_eq!(value(&digits), k);
            let mut gap = WIDTH;
            for &d in &digits {
                if d != 0 {
                    assert!(d % 2 != 0 && (-15..=15).contains(&d), "{d}");
                    assert!(gap >= WIDTH - 1, "non-zero digits too close");
                    gap = 0;
                } else {
                    gap += 1;
                }
            }
        }
    }

    extern crate std;
    use std::vec;

    #[test]
    fn lincomb_matches_scalar_multiplication() {
        let q = (ProjectivePoint::GENERATOR * Scalar::from(0xDEAD_BEEFu64)).to_affine();
        let mut u = Scalar::from(3u64);
        for _ in 0..20 {
            u = u.square() + Scalar::ONE;
            let v = u.invert().unwrap_or(Scalar::ZERO) + u;
            let want = ProjectivePoint::GENERATOR * u + ProjectivePoint::from(q) * v;
            assert_eq!(lincomb(&u, &q, &v), want);
        }
        // Zero scalars, and a sum at infinity: u·G + (-u)·G.
        assert_eq!(lincomb(&Scalar::ZERO, &q, &Scalar::ZERO), ProjectivePoint::IDENTITY);
        let g = AffinePoint::GENERATOR;
        assert_eq!(lincomb(&u, &g, &-u), ProjectivePoint::IDENTITY);
        assert_eq!(lincomb(&u, &g, &u), ProjectivePoint::GENERATOR * u.double());
    }
}
