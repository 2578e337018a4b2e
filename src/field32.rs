//! The P-256 field, `p = 2^256 - 2^224 + 2^192 + 2^96 - 1`, in eight 32-bit limbs: the
//! arithmetic of 32-bit targets (Cortex-M, wasm32), where `p256`'s generic 32-bit code costs
//! about ten times what the curve needs.
//!
//! Elements are kept in Montgomery form, `x·R mod p` with `R = 2^256`, always fully reduced
//! (below `p`), so equality of elements is equality of limbs. `p`'s lowest limb is `2^32 - 1`, so
//! `-1/p mod 2^32` is 1: each reduction step's multiplier is the limb it clears, with no
//! multiplication to find it. And `p`'s limbs are `2^32 - 1`, 0 and 1, so adding `m·p` is a few
//! additions and one multiply-accumulate, not eight.
//!
//! Every step is one of two shapes, both computed in a `u64` that cannot overflow:
//!
//! - [`mac`]: `x + y·z + c` with all four below `2^32`, at most
//!   `(2^32 - 1) + (2^32 - 1)^2 + (2^32 - 1) = 2^64 - 1`: the Cortex-M4's `umaal`, one
//!   instruction, and on wasm32 one `i64.mul` and two `i64.add`;
//! - [`adc`]: `x + y + c` with `c` at most 1, at most `2^33 - 1`, so its carry is 0 or 1.
//!
//! No operation branches on the values (the final subtraction of `p` is chosen by a mask), though
//! nothing here needs to be constant-time: verification handles public values only.

// The helpers below are `#[inline(always)]`: at opt-level "z" (the Cortex-M4 build) LLVM keeps
// them as calls, and their `([u32; 8], u32)` results then travel through memory and `memcpy`,
// which took a third of a verification's instructions (measured on the device, QEMU).
#![allow(clippy::inline_always)]

use p256::FieldBytes;
use p256::elliptic_curve::subtle::{Choice, CtOption};

/// `x + y·z + c` as (low, high) halves: below `2^64` for inputs below `2^32` (module docs).
#[inline(always)]
const fn mac(x: u32, y: u32, z: u32, c: u32) -> (u32, u32) {
    let wide = (y as u64).wrapping_mul(z as u64).wrapping_add(x as u64).wrapping_add(c as u64);
    (wide as u32, (wide >> 32) as u32)
}

/// `x + y + c` as (low, carry): below `2^33` for `c` at most 1, so the carry is 0 or 1.
#[inline(always)]
const fn adc(x: u32, y: u32, c: u32) -> (u32, u32) {
    let wide = (x as u64).wrapping_add(y as u64).wrapping_add(c as u64);
    (wide as u32, (wide >> 32) as u32)
}

/// `p`, least significant limb first.
const P: [u32; 8] = [u32::MAX, u32::MAX, u32::MAX, 0, 0, 0, 1, u32::MAX];

/// `2^256 - p = 2^224 - 2^192 - 2^96 + 1`: adding it is subtracting `p` modulo `2^256`.
const MINUS_P: [u32; 8] = [1, 0, 0, u32::MAX, u32::MAX, u32::MAX, u32::MAX - 1, 0];

/// `R^2 mod p = 2^512 mod p`: a Montgomery product with it puts an integer into Montgomery form.
const R2: [u32; 8] = [3, 0, u32::MAX, 0xffff_fffb, 0xffff_fffe, u32::MAX, 0xffff_fffd, 4];

/// An element of the P-256 field (Montgomery form, below `p`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fe([u32; 8]);

/// One row of the multiplication and its reduction step, interleaved (operand scanning,
/// "CIOS"): for the running value `v = s + top·2^256` returns `(v + a·b + m·p)/2^32`, where
/// `m` is the lowest limb of `v + a·b`, so the sum is a multiple of `2^32` (`-1/p mod 2^32` is 1).
/// The working value is nine limbs, not a 16-limb product, so it fits in the Cortex-M4's
/// registers with `b`, a carry and the limb of `a` being multiplied.
///
/// The row is a chain of [`mac`]s, `x_j + a_j·b + c`, whose carries are below `2^32` (module
/// docs). Then `m·p = m·2^256 - m·2^224 + m·2^192 + m·2^96 - m`, limb by limb:
///
/// - limb 0: `m + m·(2^32 - 1) = m·2^32`: zero (dropped, it is the division), carry `m`;
/// - limbs 1, 2: `x + m·(2^32 - 1) + m = x + m·2^32`: unchanged, carry `m`;
/// - limb 3: `x + 0·m + m`, below `2^33`: carry 0 or 1; limbs 4, 5: `x + carry`, the same;
/// - limb 6: `x + 1·m + carry`, below `2^33`: carry 0 or 1;
/// - limb 7: `x + m·(2^32 - 1) + carry`, a [`mac`]: carry below `2^32`;
/// - limb 8: `top + c + carry`, the row's last carry and this one, a [`mac`]: below `2^34`.
///
/// If `v < 2p`, the sum is at most `(2p - 1) + (p - 1)(2^32 - 1) + (2^32 - 1)p`, which is
/// `2p·2^32 - 2^32`: below `2^289`, so limb 8's carry, the new `top`, is 0 or 1, and the new `v`,
/// the sum over `2^32`, is again below `2p`.
///
/// Limb 8 is a [`mac`] by `one`, a 1 the optimiser cannot see through (`black_box`), so that it
/// is one `umaal` on the Cortex-M4: as two additions with carry, a multiplication took 425
/// instructions instead of 408. Limbs 3 and 6 are plain additions, one short chain of flags
/// with limbs 4 and 5: as [`mac`]s by `one`, their products `m·one` are one value, which LLVM
/// computes once and adds in apart (the loop's body half as long again); with limb 6 alone as
/// one, 411. If `black_box` did nothing, the values would be the same.
#[inline(always)]
const fn mul_row(s: [u32; 8], top: u32, a: &[u32; 8], b: u32, one: u32) -> ([u32; 8], u32) {
    let [s0, s1, s2, s3, s4, s5, s6, s7] = s;
    let (m, c) = mac(s0, a[0], b, 0);
    let (x1, c) = mac(s1, a[1], b, c);
    let (x2, c) = mac(s2, a[2], b, c);
    let (x3, c) = mac(s3, a[3], b, c);
    let (x4, c) = mac(s4, a[4], b, c);
    let (x5, c) = mac(s5, a[5], b, c);
    let (x6, c) = mac(s6, a[6], b, c);
    let (x7, c) = mac(s7, a[7], b, c);
    let (y3, d) = adc(x3, m, 0);
    let (y4, d) = adc(x4, 0, d);
    let (y5, d) = adc(x5, 0, d);
    let (y6, d) = adc(x6, m, d);
    let (y7, d) = mac(x7, m, u32::MAX, d);
    let (y8, top) = mac(top, c, one, d);
    ([x1, x2, y3, y4, y5, y6, y7, y8], top)
}

impl Fe {
    /// Zero.
    pub(crate) const ZERO: Fe = Fe([0; 8]);
    /// One (`R mod p = 2^256 - p`, in Montgomery form).
    pub(crate) const ONE: Fe = Fe(MINUS_P);

    /// `a·b/R mod p` for `a, b < p`: eight rows of [`mul_row`], one per limb of `b`.
    ///
    /// The running value starts at 0 and stays below `2p` (see [`mul_row`]); after eight rows it
    /// is `(a·b + M·p)/R` for some `M < R`, and one conditional subtraction of `p` brings it
    /// below `p`.
    ///
    /// A loop of two rows, not eight rows in a line: in one basic block of eight rows LLVM loads
    /// each limb of `a` once for all of them and interleaves the rows, and with the registers
    /// that takes it spills the running value; the loop keeps two rows' worth live. On the
    /// Cortex-M4 (opt-level "z") a multiplication runs 408 instructions, against 616 for the
    /// eight rows in a line and 566 for the 16-limb product reduced after it.
    #[inline(never)]
    const fn mont_mul(a: &[u32; 8], b: &[u32; 8]) -> [u32; 8] {
        let one = core::hint::black_box(1u32);
        let (mut s, mut top) = ([0; 8], 0);
        let mut rest = b.as_slice();
        while let [b0, b1, tail @ ..] = rest {
            (s, top) = mul_row(s, top, a, *b0, one);
            (s, top) = mul_row(s, top, a, *b1, one);
            rest = tail;
        }
        subtract_p_if_needed(s, top)
    }

    /// `self·rhs mod p`.
    pub(crate) const fn multiply(&self, rhs: &Fe) -> Fe {
        Fe(Self::mont_mul(&self.0, &rhs.0))
    }

    /// `self^2 mod p`.
    pub(crate) const fn square(&self) -> Fe {
        Fe(Self::mont_mul(&self.0, &self.0))
    }

    /// `self + rhs mod p`: the sum of two elements is below `2p`, 256 bits and a carry.
    pub(crate) const fn add(&self, rhs: &Fe) -> Fe {
        let (sum, carry) = add_limbs(&self.0, &rhs.0);
        Fe(subtract_p_if_needed(sum, carry))
    }

    /// `2·self mod p`: the sum with itself, each limb loaded once (as [`Fe::add`] of `self` and
    /// `self`, a call, it loaded both).
    pub(crate) const fn double(&self) -> Fe {
        let (sum, carry) = add_limbs(&self.0, &self.0);
        Fe(subtract_p_if_needed(sum, carry))
    }

    /// `self - rhs mod p`: when the difference borrows, it is `self - rhs + 2^256` with
    /// `self - rhs` in `(-p, 0)`, and adding `p` modulo `2^256` (subtracting `2^256 - p`, which
    /// borrows again) lands it in `(0, p)`.
    ///
    /// Without a branch: `p` masked by the borrow is added either way (a branch that picks one of
    /// two arrays compiles to 32-byte copies through `memcpy` on the Cortex-M4 at opt-level "z",
    /// which cost as much as the arithmetic).
    pub(crate) const fn sub(&self, rhs: &Fe) -> Fe {
        let (difference, borrow) = sub_limbs(&self.0, &rhs.0);
        let mask = 0u32.wrapping_sub(borrow);
        let [p0, p1, p2, p3, p4, p5, p6, p7] = P;
        let addend = [p0 & mask, p1 & mask, p2 & mask, p3 & mask, p4 & mask, p5 & mask, p6 & mask, p7 & mask];
        Fe(add_limbs(&difference, &addend).0)
    }

    /// `-self mod p`.
    pub(crate) const fn neg(&self) -> Fe {
        Fe::ZERO.sub(self)
    }

    /// An integer below `p` (limbs, least significant first) in Montgomery form.
    const fn from_integer(x: &[u32; 8]) -> Fe {
        Fe(Self::mont_mul(x, &R2))
    }

    /// The integer this element is (leaving Montgomery form: a product with 1).
    const fn to_integer(self) -> [u32; 8] {
        Self::mont_mul(&self.0, &[1, 0, 0, 0, 0, 0, 0, 0])
    }

    /// A small integer.
    pub(crate) const fn from_u64(x: u64) -> Fe {
        Fe::from_integer(&[x as u32, (x >> 32) as u32, 0, 0, 0, 0, 0, 0])
    }

    /// An element from 64 hex digits (big-endian), for constants: evaluated at compile time,
    /// where a digit that is not hex or a value not below `p` fails the build.
    pub(crate) const fn from_hex_vartime(hex: &str) -> Fe {
        let mut x = [0u32; 8];
        let mut digits = hex.as_bytes();
        assert!(digits.len() == 64, "64 hex digits");
        while let [digit, rest @ ..] = digits {
            let value = match *digit {
                b'0'..=b'9' => digit.wrapping_sub(b'0'),
                b'a'..=b'f' => digit.wrapping_sub(b'a').wrapping_add(10),
                _ => 16,
            };
            assert!(value < 16, "a hex digit");
            // x·16 + value: the limbs shifted by 4 bits, each taking the top 4 bits below it.
            let [x0, x1, x2, x3, x4, x5, x6, x7] = x;
            x = [
                (x0 << 4) | value as u32,
                (x1 << 4) | (x0 >> 28),
                (x2 << 4) | (x1 >> 28),
                (x3 << 4) | (x2 >> 28),
                (x4 << 4) | (x3 >> 28),
                (x5 << 4) | (x4 >> 28),
                (x6 << 4) | (x5 >> 28),
                (x7 << 4) | (x6 >> 28),
            ];
            digits = rest;
        }
        assert!(sub_limbs(&x, &P).1 == 1, "below p");
        Fe::from_integer(&x)
    }

    /// The element with these big-endian bytes; `None` unless they encode an integer below `p`.
    /// A `CtOption`, as `p256`'s field returns, so that `src/point.rs` reads the same over both.
    pub(crate) fn from_bytes(bytes: &FieldBytes) -> CtOption<Fe> {
        let mut x = [0u32; 8];
        for (limb, chunk) in x.iter_mut().zip(bytes.rchunks_exact(4)) {
            *limb = chunk.iter().fold(0, |acc, &b| (acc << 8) | u32::from(b));
        }
        let below_p = sub_limbs(&x, &P).1;
        CtOption::new(Fe::from_integer(&x), Choice::from(below_p as u8))
    }

    /// The big-endian bytes of this element.
    pub(crate) fn to_bytes(self) -> FieldBytes {
        let mut out = FieldBytes::default();
        for (chunk, limb) in out.rchunks_exact_mut(4).zip(self.to_integer()) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// `self^(2^k)`.
    const fn square_times(self, k: u32) -> Fe {
        let (mut x, mut left) = (self, k);
        while let Some(fewer) = left.checked_sub(1) {
            x = x.square();
            left = fewer;
        }
        x
    }

    /// Whether this is zero.
    pub(crate) const fn is_zero(&self) -> bool {
        let [x0, x1, x2, x3, x4, x5, x6, x7] = self.0;
        x0 | x1 | x2 | x3 | x4 | x5 | x6 | x7 == 0
    }

    /// `1/self mod p`, or `None` for zero (see [`Fe::inverse_or_zero`]).
    pub(crate) fn invert(&self) -> CtOption<Fe> {
        CtOption::new(self.inverse_or_zero(), Choice::from(u8::from(!self.is_zero())))
    }

    /// `1/self mod p`, and zero for zero: Fermat's `self^(p - 2)`, by an addition chain over
    /// `p - 2`'s bits (from the top: 32 ones, 31 zeros and a one, 96 zeros, 64 ones, then
    /// `1...101` with 30 ones), 255 squarings and 13 multiplications. Used once per batch of
    /// table points, so its speed matters little; variable time is fine (public values). A
    /// `const fn`, for the tables built at compile time (`src/precomputed.rs`).
    pub(crate) const fn inverse_or_zero(&self) -> Fe {
        let x = *self;
        // x_k = self^(2^k - 1): k ones.
        let x2 = x.square().multiply(&x);
        let x4 = x2.square_times(2).multiply(&x2);
        let x8 = x4.square_times(4).multiply(&x4);
        let x16 = x8.square_times(8).multiply(&x8);
        let x24 = x16.square_times(8).multiply(&x8);
        let x28 = x24.square_times(4).multiply(&x4);
        let x30 = x28.square_times(2).multiply(&x2);
        let x32 = x30.square_times(2).multiply(&x2);
        let r = x32.square_times(32).multiply(&x); // 32 ones, 31 zeros, 1
        let r = r.square_times(96); // 96 zeros
        let r = r.square_times(32).multiply(&x32).square_times(32).multiply(&x32); // 64 ones
        let r = r.square_times(30).multiply(&x30); // 30 ones
        r.square_times(2).multiply(&x) // 0, 1
    }

    /// `1/self`, for tests (the same as [`Fe::invert`] here).
    #[cfg(test)]
    pub(crate) fn invert_vartime(&self) -> CtOption<Fe> {
        self.invert()
    }

    /// A square root, if there is one, for tests: `p ≡ 3 (mod 4)`, so `self^((p + 1)/4)` is one
    /// when `self` is a square. `(p + 1)/4 = 2^254 - 2^222 + 2^190 + 2^94`.
    #[cfg(test)]
    pub(crate) fn sqrt(&self) -> CtOption<Fe> {
        let x = *self;
        let x2 = x.square().multiply(&x);
        let x4 = x2.square_times(2).multiply(&x2);
        let x8 = x4.square_times(4).multiply(&x4);
        let x16 = x8.square_times(8).multiply(&x8);
        let x32 = x16.square_times(16).multiply(&x16);
        // The exponent's bits from the top: 32 ones, 31 zeros, a one, 95 zeros, a one, 94 zeros.
        let r = x32.square_times(32).multiply(&x).square_times(96).multiply(&x).square_times(94);
        CtOption::new(r, Choice::from(u8::from(r.square() == x)))
    }
}

/// The field operations on raw Montgomery limbs, for the `field` fuzz target, which compares
/// them with `p256`'s field: `a` and `b` are big-endian limbs (`None` unless both are below
/// `p`); the results, in the same form, are `a·b`, `a²`, `a + b`, `a - b`, `-a`, `2a`, `1/a`
/// (zero for `a = 0`), then `a`'s integer (out of Montgomery form) and `b`'s bytes read as an
/// integer into it (zero when `b ≥ p`, which `from_bytes` refuses).
#[cfg(pomerium_jwt_field32)]
#[doc(hidden)]
#[must_use]
pub fn __fuzz_field_ops(a: &[u8; 32], b: &[u8; 32]) -> Option<[[u8; 32]; 9]> {
    let limbs = |bytes: &[u8; 32]| {
        let mut x = [0u32; 8];
        for (limb, chunk) in x.iter_mut().zip(bytes.rchunks_exact(4)) {
            *limb = chunk.iter().fold(0, |acc, &b| (acc << 8) | u32::from(b));
        }
        (sub_limbs(&x, &P).1 == 1).then_some(Fe(x))
    };
    let out = |fe: Fe| {
        let mut bytes = [0u8; 32];
        for (chunk, limb) in bytes.rchunks_exact_mut(4).zip(fe.0) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        bytes
    };
    let (x, y) = (limbs(a)?, limbs(b)?);
    let inverse = Option::<Fe>::from(x.invert()).unwrap_or(Fe::ZERO);
    let integer = x.to_bytes().into();
    let read = Option::<Fe>::from(Fe::from_bytes(&FieldBytes::from(*b))).unwrap_or(Fe::ZERO);
    Some([
        out(x.multiply(&y)),
        out(x.square()),
        out(x.add(&y)),
        out(x.sub(&y)),
        out(x.neg()),
        out(x.double()),
        out(inverse),
        integer,
        out(read),
    ])
}

/// `a + b` and its carry (0 or 1).
#[inline(always)]
const fn add_limbs(a: &[u32; 8], b: &[u32; 8]) -> ([u32; 8], u32) {
    let (s0, c) = adc(a[0], b[0], 0);
    let (s1, c) = adc(a[1], b[1], c);
    let (s2, c) = adc(a[2], b[2], c);
    let (s3, c) = adc(a[3], b[3], c);
    let (s4, c) = adc(a[4], b[4], c);
    let (s5, c) = adc(a[5], b[5], c);
    let (s6, c) = adc(a[6], b[6], c);
    let (s7, c) = adc(a[7], b[7], c);
    ([s0, s1, s2, s3, s4, s5, s6, s7], c)
}

/// `a - b` modulo `2^256` and its borrow (1 when `a < b`), as the two's-complement sum
/// `a + !b + 1`: a chain of [`adc`]s, whose last carry is 1 exactly when nothing was borrowed.
/// Written so, the Cortex-M4 build is one `subs`/`sbcs` chain; a borrow taken from the top of a
/// 64-bit difference compiled to five instructions a limb (sign extensions and a 64-bit add).
#[inline(always)]
const fn sub_limbs(a: &[u32; 8], b: &[u32; 8]) -> ([u32; 8], u32) {
    let (d0, c) = adc(a[0], !b[0], 1);
    let (d1, c) = adc(a[1], !b[1], c);
    let (d2, c) = adc(a[2], !b[2], c);
    let (d3, c) = adc(a[3], !b[3], c);
    let (d4, c) = adc(a[4], !b[4], c);
    let (d5, c) = adc(a[5], !b[5], c);
    let (d6, c) = adc(a[6], !b[6], c);
    let (d7, c) = adc(a[7], !b[7], c);
    ([d0, d1, d2, d3, d4, d5, d6, d7], c ^ 1)
}

/// `v mod p` for `v = top·2^256 + x` below `2p`: `v - p` if `v ≥ p`, else `v`.
///
/// `x + (2^256 - p)` carries exactly when `x ≥ p`, and `v ≥ p` when that carries or `top` is 1
/// (then `v ≥ 2^256 > p`). Then `2^256 - p` is added to `x` modulo `2^256`, which is `v - p`
/// because `v - p < p < 2^256`; otherwise 0 is. The addend is `2^256 - p` masked, not a choice
/// between two arrays (see [`Fe::sub`]); its limbs are 1, 0 and `2^32 - 1` (and one
/// `2^32 - 2`), so masking it costs three instructions, and there is no limb-by-limb selection.
#[inline(always)]
const fn subtract_p_if_needed(x: [u32; 8], top: u32) -> [u32; 8] {
    let carry = add_limbs(&x, &MINUS_P).1;
    // All ones when `v ≥ p` (top and carry are 0 or 1).
    let mask = 0u32.wrapping_sub(top | carry);
    add_limbs(&x, &[mask & 1, 0, 0, mask, mask, mask, mask & (u32::MAX - 1), 0]).0
}

#[cfg(test)]
mod tests {
    //! Every operation against `p256`'s field, on the internal limbs: an element of ours with
    //! Montgomery limbs `L` is the integer `L/R mod p`, which `p256` computes with its own
    //! arithmetic (`L` read as an integer, times its `1/R`), so the comparison does not go through
    //! this module's conversions. Then structured limbs (0, 1, `p - 1`, `p - 2^k`, every limb at 0
    //! and at `2^32 - 1`, products that carry through every limb) and a million random ones.
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    use p256::NistP256;
    use p256::elliptic_curve::ff::PrimeField;
    use p256::elliptic_curve::hazmat::FieldArithmetic;

    use super::*;

    type Theirs = <NistP256 as FieldArithmetic>::FieldElement;

    fn be_bytes(limbs: &[u32; 8]) -> FieldBytes {
        let mut out = FieldBytes::default();
        for (chunk, limb) in out.rchunks_exact_mut(4).zip(limbs) {
            chunk.copy_from_slice(&limb.to_be_bytes());
        }
        out
    }

    /// `R mod p` and `1/R mod p` in `p256`'s field.
    fn r_and_r_inverse() -> (Theirs, Theirs) {
        let r = Theirs::from_repr(be_bytes(&MINUS_P)).unwrap();
        (r, r.invert().unwrap())
    }

    /// The field value of our limbs, computed by `p256`.
    fn value(limbs: &[u32; 8], r_inv: &Theirs) -> Theirs {
        Theirs::from_repr(be_bytes(limbs)).unwrap() * r_inv
    }

    /// Compares each operation on pairs of limb arrays (all below `p`). Converting every result
    /// for `p256` costs more than the operations, so results are folded into one running value
    /// on each side (`acc·K + result`, a polynomial hash: a single differing result changes it,
    /// several cancel with probability about `1/p`), compared once per block of pairs; a block
    /// that differs is replayed one operation at a time to name the inputs.
    struct Check {
        r_inv: Theirs,
        ours: Fe,
        theirs: Theirs,
        k: (Fe, Theirs),
        block: Vec<([u32; 8], [u32; 8])>,
        pairs: usize,
    }

    /// The multiplier of the fold.
    const K: u64 = 0x9e37_79b9_7f4a_7c15;

    impl Check {
        fn new() -> Check {
            let r_inv = r_and_r_inverse().1;
            let k = (Fe::from_u64(K), Theirs::from_u64(K));
            Check { r_inv, ours: Fe::ZERO, theirs: Theirs::ZERO, k, block: Vec::new(), pairs: 0 }
        }

        fn results(a: &[u32; 8], b: &[u32; 8]) -> [Fe; 6] {
            let (x, y) = (Fe(*a), Fe(*b));
            [x.multiply(&y), x.add(&y), x.sub(&y), x.square(), x.neg(), x.double()]
        }

        fn expected(&self, a: &[u32; 8], b: &[u32; 8]) -> [Theirs; 6] {
            let (x, y) = (value(a, &self.r_inv), value(b, &self.r_inv));
            [x * y, x + y, x - y, x.square(), -x, x.double()]
        }

        fn pair(&mut self, a: &[u32; 8], b: &[u32; 8]) {
            let (k_ours, k_theirs) = self.k;
            for (ours, theirs) in Self::results(a, b).into_iter().zip(self.expected(a, b)) {
                // Results are fully reduced: below p, so equal values have equal limbs.
                assert_eq!(sub_limbs(&ours.0, &P).1, 1, "{ours:x?} not below p, from {a:x?}, {b:x?}");
                self.ours = self.ours.multiply(&k_ours).add(&ours);
                self.theirs = self.theirs * k_theirs + theirs;
            }
            self.block.push((*a, *b));
            self.pairs += 1;
            if self.block.len() == 1024 {
                self.compare();
            }
        }

        /// Compares the folds, and on a difference finds the first pair that differs.
        fn compare(&mut self) {
            if value(&self.ours.0, &self.r_inv) != self.theirs {
                for (a, b) in &self.block {
                    let ours = Self::results(a, b).map(|fe| value(&fe.0, &self.r_inv));
                    assert_eq!(ours, self.expected(a, b), "[·, +, -, ², neg, 2·] of {a:x?}, {b:x?}");
                }
                panic!("the folds differ, but no single result does");
            }
            self.block.clear();
        }

        /// Compares what is left; returns how many pairs were checked.
        fn finish(mut self) -> usize {
            self.compare();
            self.pairs
        }
    }

    /// 2^k for k < 256.
    fn power_of_two(k: usize) -> [u32; 8] {
        let mut out = [0u32; 8];
        out[k / 32] = 1 << (k % 32);
        out
    }

    /// The structured limbs: 0, 1, 2, p - 1, p - 2, p - 2^k and 2^k for every k (those below p),
    /// every pattern of limbs at 0 and 2^32 - 1 (those below p), each limb alone at 2^32 - 1, each
    /// limb alone at 0 in p - 1, and `R - p`-like values whose reductions carry through.
    fn structured() -> Vec<[u32; 8]> {
        let below_p = |x: &[u32; 8]| sub_limbs(x, &P).1 == 1;
        let p_minus = |x: &[u32; 8]| sub_limbs(&P, x).0;
        let mut out =
            vec![[0; 8], power_of_two(0), power_of_two(1), p_minus(&power_of_two(0)), p_minus(&power_of_two(1))];
        for k in 0..256 {
            out.push(p_minus(&power_of_two(k)));
            out.push(power_of_two(k));
        }
        for pattern in 0..256u32 {
            let x: [u32; 8] = core::array::from_fn(|i| if pattern >> i & 1 == 1 { u32::MAX } else { 0 });
            out.push(x);
        }
        for i in 0..8 {
            let mut x = p_minus(&power_of_two(0));
            x[i] = 0;
            out.push(x);
            let mut y = [0; 8];
            y[i] = u32::MAX;
            out.push(y);
            let mut z = [1; 8];
            z[i] = u32::MAX;
            out.push(z);
        }
        // R mod p (one), R^2 mod p, and p - R mod p (minus one).
        out.extend([MINUS_P, R2, p_minus(&MINUS_P)]);
        out.retain(below_p);
        out.sort_unstable();
        out.dedup();
        out
    }

    #[test]
    fn every_operation_agrees_with_p256_on_structured_limbs() {
        let mut check = Check::new();
        let values = structured();
        assert!(values.len() > 700, "{}", values.len());
        for a in &values {
            for b in &values {
                check.pair(a, b);
            }
        }
        assert_eq!(check.finish(), values.len() * values.len());
    }

    /// splitmix64: a fixed sequence, so a failure repeats.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Random limbs below p; one of every few is given runs of 0 and 2^32 - 1 limbs, where
        /// carries travel furthest.
        fn below_p(&mut self) -> [u32; 8] {
            loop {
                let shape = self.next();
                let mut x: [u32; 8] = core::array::from_fn(|_| self.next() as u32);
                if shape.trailing_zeros() >= 2 {
                    for (i, limb) in x.iter_mut().enumerate() {
                        match (shape >> (2 + 2 * i)) & 3 {
                            0 => *limb = 0,
                            1 => *limb = u32::MAX,
                            _ => {}
                        }
                    }
                }
                if sub_limbs(&x, &P).1 == 1 {
                    return x;
                }
            }
        }
    }

    #[test]
    fn every_operation_agrees_with_p256_on_a_million_random_pairs() {
        let mut check = Check::new();
        let mut rng = Rng(0x5eed_f1e1_d256);
        for _ in 0..1_000_000 {
            let (a, b) = (rng.below_p(), rng.below_p());
            check.pair(&a, &b);
        }
        assert_eq!(check.finish(), 1_000_000);
    }

    #[test]
    fn conversions_agree_with_p256() {
        let (_, r_inv) = r_and_r_inverse();
        let mut rng = Rng(7);
        let mut integers = structured();
        integers.extend((0..10_000).map(|_| rng.below_p()));
        for x in &integers {
            let bytes = be_bytes(x);
            let ours = Fe::from_bytes(&bytes).unwrap();
            assert_eq!(value(&ours.0, &r_inv), Theirs::from_repr(bytes).unwrap());
            assert_eq!(ours.to_bytes(), bytes);
        }
        // Not below p: p, p + 1, 2^256 - 1, and p + 2^k.
        for x in [P, add_limbs(&P, &power_of_two(0)).0, [u32::MAX; 8], add_limbs(&P, &power_of_two(200)).0] {
            assert!(bool::from(Fe::from_bytes(&be_bytes(&x)).is_none()));
            assert!(bool::from(Theirs::from_repr(be_bytes(&x)).is_none()));
        }
        assert_eq!(Fe::from_u64(u64::MAX).to_bytes(), Theirs::from_u64(u64::MAX).to_bytes());
        assert_eq!(Fe::ONE.to_bytes(), Theirs::ONE.to_bytes());
        let hex = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296";
        assert_eq!(Fe::from_hex_vartime(hex).to_bytes(), Theirs::from_hex_vartime(hex).to_bytes());
    }

    #[test]
    fn inversion_and_square_roots_agree_with_p256() {
        let (_, r_inv) = r_and_r_inverse();
        let mut rng = Rng(11);
        let mut values = structured();
        values.extend((0..2_000).map(|_| rng.below_p()));
        for x in &values {
            let (ours, theirs) = (Fe(*x), value(x, &r_inv));
            let inverse = Option::<Fe>::from(ours.invert());
            assert_eq!(inverse.map(|i| value(&i.0, &r_inv)), Option::from(theirs.invert()));
            let root = Option::<Fe>::from(ours.sqrt());
            assert_eq!(root.is_some(), bool::from(theirs.sqrt().is_some()));
            if let Some(root) = root {
                assert_eq!(root.square(), ours);
            }
        }
    }
}
