//! ECDSA P-256 verification (SEC 1 §4.1.4) on this crate's own point arithmetic
//! (`src/point.rs`: Jacobian coordinates over `p256`'s field).
//!
//! Verification needs `u1·G + u2·Q` for two public scalars and then only `x mod n` of the sum.
//! `p256`'s own `verify_prehash` computes the sum in constant time (64 windows of four doublings
//! and two additions, each addition after a scan of a whole table) on complete formulas, then
//! normalises it to affine form with a field inversion. Nothing here is secret (the token, the
//! signature and the keys are public), so this module instead:
//!
//! - computes the sum in variable time by interleaved NAF, sharing one chain of doublings:
//!   width 5 for `Q`, whose odd multiples `Q..15Q` are made per call, and width 7 for `G`,
//!   whose odd multiples `G..63G` are constants (2 KiB, affine). `G`'s digits, one in eight
//!   bits, are added by the mixed addition (11 field multiplications, not 16), so `u1·G`'s
//!   additions cost half of what they did at width 5 with the general addition, where they were
//!   a fifth of a verification's multiplications. The WebAssembly module stays within its size
//!   budget (`scripts/footprint.sh`);
//! - uses Jacobian formulas (a doubling is 8 field multiplications, not 11 plus `b`'s), with a
//!   branch for each exceptional case instead of complete formulas;
//! - compares `x` with `r` in projective form (`X == r·Z²`), so no inversion at all;
//! - does the scalar arithmetic (`r`, `s`, `u1 = z/s`, `u2 = r/s` mod `n`) on plain 256-bit
//!   integers of its own: `2^256/s` by Kaliski's binary inversion (variable time), then two
//!   Montgomery multiplications. Faster here than `p256`'s safegcd inversion and Barrett
//!   products, and about 5 KB less WebAssembly than linking them (`scripts/footprint.sh`).
//!
//! One verification stays within a few KiB of stack, less than `p256`'s path alone.

use core::cmp::Ordering;

use p256::FieldBytes;

use crate::point::{Affine, Jacobian};

/// NAF width for the key: digits are odd and in `-15..=15`, so it needs its odd multiples
/// `Q, 3Q, ..., 15Q`, made per verification.
const WIDTH: usize = 5;
/// The key's odd multiples.
const MULTIPLES: usize = 1 << (WIDTH - 2);
/// NAF width for `G`: digits in `-63..=63`, from a constant table of `G, 3G, ..., 63G`.
const G_WIDTH: usize = 7;
/// `G`'s odd multiples.
const G_MULTIPLES_LEN: usize = 1 << (G_WIDTH - 2);
/// A 256-bit scalar has a NAF of at most 257 digits.
const DIGITS: usize = 257;

/// The word of the scalar arithmetic: the target's own, as for the field (`src/point.rs`). On a
/// 32-bit core, 64-bit words turn every variable shift of the inversion into a library call and
/// every product into four: with the copies of its helpers' results, the scalar side cost about
/// 280,000 instructions on the Cortex-M4, an eighth of a verification (80,000 now).
#[cfg(not(any(target_pointer_width = "32", pomerium_jwt_field32)))]
type Word = u64;
/// Twice a [`Word`]: a product of two words and a carry fit in it.
#[cfg(not(any(target_pointer_width = "32", pomerium_jwt_field32)))]
type Wide = u128;
#[cfg(any(target_pointer_width = "32", pomerium_jwt_field32))]
type Word = u32;
#[cfg(any(target_pointer_width = "32", pomerium_jwt_field32))]
type Wide = u64;

/// Bits per [`Word`].
const WORD_BITS: u32 = Word::BITS;

/// A 256-bit integer (a scalar, or `r`, `s`, a digest) as [`Word`]s, least significant first.
pub(crate) type Limbs = [Word; 256 / Word::BITS as usize];

/// The group order `n`.
const ORDER: Limbs = from_be(&[
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa,
    0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
]);

/// `-1/n mod 2^64`; its low word is `-1/n` modulo `2^32`, for Montgomery reduction mod `n`.
const NEG_INV_ORDER: Word = 0xccd1_c8aa_ee00_bc4f_u64 as Word;

/// Zero.
const ZERO: Limbs = [0; 256 / Word::BITS as usize];

/// One.
const ONE: Limbs = small(1);

/// An ES256 signature: `r` and `s`, each in `[1, n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    r: Limbs,
    s: Limbs,
}

impl Signature {
    /// `r || s`, 32 bytes each, big-endian; `None` unless both are in `[1, n)`.
    pub(crate) fn from_bytes(bytes: &[u8; 64]) -> Option<Signature> {
        let (r, s) = (from_be(bytes.first_chunk()?), from_be(bytes.last_chunk()?));
        (in_range(&r) && in_range(&s)).then_some(Signature { r, s })
    }
}

impl From<p256::ecdsa::Signature> for Signature {
    fn from(signature: p256::ecdsa::Signature) -> Signature {
        let (r, s) = signature.split_bytes();
        // `p256`'s signature holds r and s in [1, n) already.
        Signature { r: from_be(&r.into()), s: from_be(&s.into()) }
    }
}

/// Whether `signature` is valid for a message whose SHA-256 is `digest`, with `lincomb`
/// computing `u1·G + u2·Q` for the key `Q`.
pub(crate) fn verify(
    digest: &[u8; 32],
    signature: &Signature,
    lincomb: impl FnOnce(&Limbs, &Limbs) -> Jacobian,
) -> bool {
    // The digest as an integer mod n: below 2^256 < 2n, so one subtraction at most.
    let z = from_be(digest);
    let z = match sub(&z, &ORDER) {
        (reduced, false) => reduced,
        (_, true) => z,
    };
    // 2^256/s mod n, so that Montgomery products with it are plain products with 1/s.
    let Some(w) = invert_montgomery(&signature.s) else {
        return false; // s is in [1, n): unreachable
    };
    let (u1, u2) = (mont_mul(&z, &w), mont_mul(&signature.r, &w));
    // The identity has no x and is refused; an x in [n, p) is compared reduced mod n.
    lincomb(&u1, &u2).x_mod_n_is(&to_be(&signature.r))
}

/// 32 big-endian bytes as limbs (a `const fn`, for [`ORDER`]).
const fn from_be(bytes: &[u8; 32]) -> Limbs {
    let mut out = ZERO;
    let (mut limbs, mut rest): (&mut [Word], &[u8]) = (&mut out, bytes);
    // The least significant limb first, from the last bytes.
    while let [limb, higher @ ..] = limbs {
        let mut shift = 0;
        while shift < WORD_BITS {
            if let [front @ .., byte] = rest {
                *limb |= (*byte as Word) << shift;
                rest = front;
            }
            shift = shift.saturating_add(8);
        }
        limbs = higher;
    }
    out
}

/// A small integer as limbs.
const fn small(x: Word) -> Limbs {
    let mut out = ZERO;
    if let Some(low) = out.first_mut() {
        *low = x;
    }
    out
}

/// Limbs as 32 big-endian bytes.
fn to_be(x: &Limbs) -> FieldBytes {
    let mut out = FieldBytes::default();
    for (chunk, limb) in out.rchunks_exact_mut(size_of::<Word>()).zip(x) {
        chunk.copy_from_slice(&limb.to_be_bytes());
    }
    out
}

/// Whether `x` is in `[1, n)`.
fn in_range(x: &Limbs) -> bool {
    *x != ZERO && sub(x, &ORDER).1
}

fn is_even(x: &Limbs) -> bool {
    x.first().is_none_or(|low| low & 1 == 0)
}

/// `a -= b` (wrapping); whether it borrowed (`a < b`). Each step is `x + !y + c` in a [`Wide`],
/// the two's-complement sum, whose carry is 1 exactly when nothing was borrowed: one chain of
/// subtractions with borrow on the Cortex-M4, where a borrow read back from two
/// `overflowing_sub`s cost several instructions a word.
fn sub_assign(a: &mut Limbs, b: &Limbs) -> bool {
    let mut carry: Word = 1;
    for (x, &y) in a.iter_mut().zip(b) {
        let wide = Wide::from(*x).wrapping_add(Wide::from(!y)).wrapping_add(Wide::from(carry));
        *x = wide as Word;
        carry = (wide >> WORD_BITS) as Word;
    }
    carry == 0
}

/// `a += b` (wrapping); whether it carried.
fn add_assign(a: &mut Limbs, b: &Limbs) -> bool {
    let mut carry: Word = 0;
    for (x, &y) in a.iter_mut().zip(b) {
        let wide = Wide::from(*x).wrapping_add(Wide::from(y)).wrapping_add(Wide::from(carry));
        *x = wide as Word;
        carry = (wide >> WORD_BITS) as Word;
    }
    carry != 0
}

/// `a - b` (wrapping), and whether it borrowed (`a < b`).
fn sub(a: &Limbs, b: &Limbs) -> (Limbs, bool) {
    let mut out = *a;
    let borrow = sub_assign(&mut out, b);
    (out, borrow)
}

/// `a + b` (wrapping), and whether it carried.
#[cfg(test)]
fn add(a: &Limbs, b: &Limbs) -> (Limbs, bool) {
    let mut out = *a;
    let carry = add_assign(&mut out, b);
    (out, carry)
}

/// `x + y·m` for `x` below `2^256·(top + 1)` (`top` the word above it): the low 256 bits and
/// everything above them. Each step, `x_i + y_i·m + carry`, is below `(2^w)^2` for `w`-bit
/// words (`(2^w - 1) + (2^w - 1)^2 + (2^w - 1)`), so it fits a [`Wide`].
fn mul_add(x: &Limbs, top: Word, y: &Limbs, m: Word) -> (Limbs, Wide) {
    let mut out = ZERO;
    let mut carry: Wide = 0;
    for ((o, &xi), &yi) in out.iter_mut().zip(x).zip(y) {
        let wide = Wide::from(yi).wrapping_mul(Wide::from(m)).wrapping_add(Wide::from(xi)).wrapping_add(carry);
        *o = wide as Word;
        carry = wide >> WORD_BITS;
    }
    (out, carry.wrapping_add(Wide::from(top)))
}

/// `x · 2^t` in place, for `t` in `0..=WORD_BITS`; returns the bits shifted out at the top.
fn shl_assign(x: &mut Limbs, t: u32) -> Word {
    let mut low: Word = 0;
    for limb in x.iter_mut() {
        let word = *limb;
        *limb = word.checked_shl(t).unwrap_or(0) | low;
        low = word.checked_shr(WORD_BITS.wrapping_sub(t)).unwrap_or(0);
    }
    low
}

/// `x / 2^t` in place, for `t` in `0..=WORD_BITS`: the low `t` bits dropped, `top` the bits
/// above `x` shifted in.
fn shr_assign(x: &mut Limbs, top: Word, t: u32) {
    let mut high = top;
    for limb in x.iter_mut().rev() {
        let word = *limb;
        *limb = word.checked_shr(t).unwrap_or(0) | high.checked_shl(WORD_BITS.wrapping_sub(t)).unwrap_or(0);
        high = word;
    }
}

/// `x / 2^t mod n` for `x < n` and `t` in `1..WORD_BITS`: adds the multiple `m·n` (`m < 2^t`)
/// that clears the low `t` bits (Montgomery reduction), then shifts them out. The result stays
/// below `n`, as `x + m·n < n + (2^t - 1)·n = 2^t·n`.
fn shr_mod(x: &Limbs, t: u32) -> Limbs {
    let mask = Word::MAX >> WORD_BITS.saturating_sub(t);
    let m = x.first().map_or(0, |low| low.wrapping_mul(NEG_INV_ORDER) & mask);
    let (mut sum, top) = mul_add(x, 0, &ORDER, m);
    shr_assign(&mut sum, top as Word, t);
    sum
}

/// `a · b / 2^256 mod n` for `a, b < n`: Montgomery multiplication, one limb of `b` at a time
/// (CIOS). The running value stays below `2n`, so one subtraction ends it.
fn mont_mul(a: &Limbs, b: &Limbs) -> Limbs {
    let (mut t, mut t_top) = (ZERO, 0);
    for &word in b {
        let (sum, high) = mul_add(&t, t_top, a, word);
        let m = sum.first().map_or(0, |low| low.wrapping_mul(NEG_INV_ORDER));
        // Adding m·n clears the low limb, which the shift drops.
        let (sum, more) = mul_add(&sum, 0, &ORDER, m);
        let high = high.wrapping_add(more);
        // The running value over one word: its limbs moved down one, the high word on top.
        let mut shifted = sum.iter().skip(1).copied().chain([high as Word]);
        for limb in &mut t {
            *limb = shifted.next().unwrap_or(0);
        }
        t_top = (high >> WORD_BITS) as Word;
    }
    match sub(&t, &ORDER) {
        (reduced, false) => reduced,
        (reduced, true) if t_top != 0 => reduced,
        _ => t,
    }
}

/// `2^256/a mod n` (the Montgomery form of `1/a`) for `a` in `[1, n)`, in variable time: phase
/// one of Kaliski's Montgomery inversion ("The Montgomery inverse and its applications", 1995),
/// which finds `2^k/a mod n` with shifts, additions and subtractions alone, `k` in
/// `[256, 512]`, then `k - 256` halvings mod `n`, up to a word less one at a time. Each of the algorithm's
/// halving steps is taken together with the ones after it (a run of trailing zeros). `None`
/// for `a` outside `[1, n)`.
fn invert_montgomery(a: &Limbs) -> Option<Limbs> {
    if !in_range(a) {
        return None;
    }
    // Invariants: n = u·s + v·r and gcd(u, v) = 1, so r and s stay at most n; u and v are odd
    // at the top of the loop. Each step takes at least one bit off u or v: 512 steps at most.
    let (mut u, mut v, mut r, mut s) = (ORDER, *a, ZERO, ONE);
    let mut k = make_odd(&mut v, &mut r);
    for _ in 0..512 {
        let halvings = match u.iter().rev().cmp(v.iter().rev()) {
            Ordering::Equal => break,
            Ordering::Less => {
                sub_assign(&mut v, &u);
                add_assign(&mut s, &r);
                make_odd(&mut v, &mut r)
            }
            Ordering::Greater => {
                sub_assign(&mut u, &v);
                add_assign(&mut r, &s);
                make_odd(&mut u, &mut s)
            }
        };
        k = k.saturating_add(halvings);
    }
    // u = v, so both are gcd(u, v) = 1 (or the steps ran out: refused below). The last step:
    // v = 0, s += r (unused), r *= 2, where r may reach 2n, past 256 bits; bring it below n.
    let top = shl_assign(&mut r, 1);
    let (reduced, borrow) = sub(&r, &ORDER);
    if top != 0 || !borrow {
        r = reduced;
    }
    k = k.saturating_add(1);
    // n - r = 2^k/a mod n.
    let mut x = sub(&ORDER, &r).0;
    let mut excess = k.checked_sub(256)?;
    while excess > 0 {
        let t = excess.min(WORD_BITS - 1);
        x = shr_mod(&x, t);
        excess = excess.saturating_sub(t);
    }
    (u == ONE && v == ONE).then_some(x)
}

/// Divides a non-zero `x` by its largest power-of-two factor `2^t` and multiplies `y` by it
/// (the algorithm's halving steps, `t` of them); returns `t`.
fn make_odd(x: &mut Limbs, y: &mut Limbs) -> u32 {
    let mut halvings = 0u32;
    while *x != ZERO && is_even(x) {
        let t = x.first().map_or(1, |low| low.trailing_zeros().clamp(1, WORD_BITS - 1));
        shr_assign(x, 0, t);
        shl_assign(y, t);
        halvings = halvings.saturating_add(t);
    }
    halvings
}

/// `u1·G + u2·Q`, both multiplications sharing one chain of doublings.
pub(crate) fn lincomb(u1: &Limbs, q: &Affine, u2: &Limbs) -> Jacobian {
    let q_multiples = odd_multiples(q);
    let (g_digits, q_digits) = (naf(u1, G_WIDTH), naf(u2, WIDTH));
    let mut sum = Jacobian::IDENTITY;
    for (&g, &q) in g_digits.iter().zip(&q_digits).rev() {
        // The identity doubles to the identity (until the first digit).
        sum.double_in_place();
        if let Some(point) = G_MULTIPLES.get(slot(g)).filter(|_| g != 0) {
            add_affine_digit(&mut sum, g, point);
        }
        if let Some(point) = q_multiples.get(slot(q)).filter(|_| q != 0) {
            add_digit(&mut sum, q, point);
        }
    }
    sum
}

/// Where a table of odd multiples `P, 3P, 5P, ...` holds `|digit|·P`, for an odd `digit`.
fn slot(digit: i8) -> usize {
    usize::from(digit.unsigned_abs() / 2)
}

/// Adds `digit · P` for an odd `digit`, given `|digit|·P`.
#[inline(never)]
fn add_digit(sum: &mut Jacobian, digit: i8, point: &Jacobian) {
    *sum = if digit > 0 { sum.add(point) } else { sum.add(&point.neg()) };
}

/// Adds `digit · P` for an odd `digit`, given `|digit|·P` in affine form.
#[inline(never)]
fn add_affine_digit(sum: &mut Jacobian, digit: i8, point: &Affine) {
    *sum = if digit > 0 { sum.add_affine(point) } else { sum.sub_affine(point) };
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
fn naf(k: &Limbs, width: usize) -> [i8; DIGITS] {
    // 2^width, at most 128 (an i16, so that value - 2^width is exact).
    let radix = u32::try_from(width).ok().and_then(|w| 1i16.checked_shl(w)).unwrap_or(0);
    let mut digits = [0i8; DIGITS];
    let (mut at, mut carry) = (0usize, 0usize);
    while let Some(slot) = digits.get_mut(at) {
        // The scalar from bit `at` on, plus the carry a negative digit below left.
        let low = window_value(k, at, 1).saturating_add(carry);
        if low & 1 == 0 {
            carry = low >> 1;
            at = at.saturating_add(1);
            continue;
        }
        // Odd: take `width` bits as a digit, borrowing 2^width when it is above half of that.
        let value = i16::try_from(window_value(k, at, width).saturating_add(carry)).unwrap_or(0);
        let borrow = value > radix / 2;
        *slot = i8::try_from(if borrow { value.wrapping_sub(radix) } else { value }).unwrap_or(0);
        carry = usize::from(borrow);
        at = at.saturating_add(width);
    }
    digits
}

/// The odd multiples of the generator, `G, 3G, ..., 63G` (generated with exact integer
/// arithmetic; a test recomputes them with `p256`). Affine, as 2 KiB of constants, for the mixed
/// addition.
static G_MULTIPLES: [Affine; G_MULTIPLES_LEN] = [
    Affine::from_hex(
        "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
        "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    ),
    Affine::from_hex(
        "5ecbe4d1a6330a44c8f7ef951d4bf165e6c6b721efada985fb41661bc6e7fd6c",
        "8734640c4998ff7e374b06ce1a64a2ecd82ab036384fb83d9a79b127a27d5032",
    ),
    Affine::from_hex(
        "51590b7a515140d2d784c85608668fdfef8c82fd1f5be52421554a0dc3d033ed",
        "e0c17da8904a727d8ae1bf36bf8a79260d012f00d4d80888d1d0bb44fda16da4",
    ),
    Affine::from_hex(
        "8e533b6fa0bf7b4625bb30667c01fb607ef9f8b8a80fef5b300628703187b2a3",
        "73eb1dbde03318366d069f83a6f5900053c73633cb041b21c55e1a86c1f400b4",
    ),
    Affine::from_hex(
        "ea68d7b6fedf0b71878938d51d71f8729e0acb8c2c6df8b3d79e8a4b90949ee0",
        "2a2744c972c9fce787014a964a8ea0c84d714feaa4de823fe85a224a4dd048fa",
    ),
    Affine::from_hex(
        "3ed113b7883b4c590638379db0c21cda16742ed0255048bf433391d374bc21d1",
        "9099209accc4c8a224c843afa4f4c68a090d04da5e9889dae2f8eefce82a3740",
    ),
    Affine::from_hex(
        "177c837ae0ac495a61805df2d85ee2fc792e284b65ead58a98e15d9d46072c01",
        "63bb58cd4ebea558a24091adb40f4e7226ee14c3a1fb4df39c43bbe2efc7bfd8",
    ),
    Affine::from_hex(
        "f0454dc6971abae7adfb378999888265ae03af92de3a0ef163668c63e59b9d5f",
        "b5b93ee3592e2d1f4e6594e51f9643e62a3b21ce75b5fa3f47e59cde0d034f36",
    ),
    Affine::from_hex(
        "47776904c0f1cc3a9c0984b66f75301a5fa68678f0d64af8ba1abce34738a73e",
        "aa005ee6b5b957286231856577648e8381b2804428d5733f32f787ff71f1fcdc",
    ),
    Affine::from_hex(
        "cb6d2861102c0c25ce39b7c17108c507782c452257884895c1fc7b74ab03ed83",
        "58d7614b24d9ef515c35e7100d6d6ce4a496716e30fa3e03e39150752bcecdaa",
    ),
    Affine::from_hex(
        "3250fcf686637c7b2e4ac86eb473bca53a582139f42b1523fd76364e67399e83",
        "42e7c342667d359397b3090d1d7eb88c897cd3c33b566a8215de24a071d48c09",
    ),
    Affine::from_hex(
        "0e91c7239c2640d7d28a3e39d4583fa63c0bc0a5df64a4fe672e573045ca7896",
        "5df65c3b550dba221a22733bb8e0bd6d7e68833575e7a5ae138046543140ad55",
    ),
    Affine::from_hex(
        "3a67e2554b0c0bb685f4f52d8c07fa8441652fc5b76f1b2484a4dc45f200d687",
        "27d0f1872f1fcf4326daf267163afb0d8c188af735a7618aa9ed16b302f79324",
    ),
    Affine::from_hex(
        "184ffa5819d80d51deba2fac4611f378576355bd683e54abf2e201173b0883d1",
        "c0a66e276688f359a4c6d90826cb999545bdeccc63f0491620d242c260906e6f",
    ),
    Affine::from_hex(
        "d6d33adefa195b07a7c36da090853b8cfd8cd1c688b58a41dedd693d1c784def",
        "84aaba16ee195d7e3f78245f558a5dcb09a166ab4b95eded550c124593d1bca6",
    ),
    Affine::from_hex(
        "301d9e502dc7e05da85da026a7ae9aa0fac9db7d52a95b3e3e3f9aa0a1b45b8b",
        "6551b6f6b3061223e0d23c026b017d72298d9ae46887ca61d58db6aea17ee267",
    ),
    Affine::from_hex(
        "9807d699fcd81356fa9aa25b89d9d34ea03b0a533aa872fd65c100f3cb2cd793",
        "c2a59cdccab11bf286a01a4d1d091b2fffe630b96c5878532f6bf92479634af4",
    ),
    Affine::from_hex(
        "d58d4a589ed27d168ffa3ad7326c48ca94e8e1fe92af9700a12d389033bb291a",
        "d45514d102726b8576ea92632dc7fef667271c163b034979a5b0c9c6f586b9d5",
    ),
    Affine::from_hex(
        "419a6a646ddb817dd6b0978611a826aae0d21379246bfd4473a92894502b3348",
        "332544cf1102f584545c9fb1954c2fd513c6d072f3dee1e2db1d6c81b09214b2",
    ),
    Affine::from_hex(
        "22a682f7c3996d4d42014976a179046e547b942dd2d138d4a0c199ddfb2776c4",
        "4f4606b0102223eeb918c9835a54356c979dcc310265b0685347f649cbaa285d",
    ),
    Affine::from_hex(
        "67a6bec240dee0651cf258d2e6cfe8aa6067c5c3d4175a593a7de694995d2fa2",
        "de692b7022d131586c249b49464d44991542c7ee209aca6c49c24ce1441feed5",
    ),
    Affine::from_hex(
        "986ae2506f1ff104d04230861d8f4b498f4bc4c6d009b30f7544dc129b82d28d",
        "003cccc0a6460e0ae328a4d97d3c7b61d86fc6289c189f2525110c441bb07e97",
    ),
    Affine::from_hex(
        "a891d06670bde99b3ecd0f5ddff0672e0f5f609edd29d6d979c78080fae0ba03",
        "b596cd922cbfa1c1419a88c4033c1ce71c6b38f0feb0f2ccefc3edc8166934ae",
    ),
    Affine::from_hex(
        "42c315cc48958708595361ea83071bbcdd5b31583e19066d51d689227b1c0d7c",
        "649a61ce571b95852914d1dfbb7a799074f1a1e1eb87f164d6c4a72bb2f9b1b9",
    ),
    Affine::from_hex(
        "f785b0e098068875bb22b146866e6c0528fb7ea9758fd4fd7d228ce6a5674455",
        "73fdb0bf6080da6ee15c767f0d9f5b414b04b6fd5f3aa60ae7bc490c10d62408",
    ),
    Affine::from_hex(
        "672c4a514d9de43eaadee6863c1d68bc95f7eb56e81008ff044360f0018e22b1",
        "548c7e9196a25bfe611de5a4ace203f7136246589704d9419935399191f37104",
    ),
    Affine::from_hex(
        "6f01bd49c9d952455a47802254b88039982b1ca78de9b983f126ec9f7449d036",
        "1562080ff1d5deab11a0f21a608776cea78551bfc3749b08360233dd989e17db",
    ),
    Affine::from_hex(
        "079dba7ba068c9267571a109fe7fea2cc2a595b762c1eadadec1dff7df6e60a0",
        "dc1e19b743d4d1811d223f9d2a9588ab83eb2df35751a397fb0da5aeb4824dea",
    ),
    Affine::from_hex(
        "c116e30ebb4d2865126d45a8ea907f86289d406e2d6c6bd88abd97b1d0f56077",
        "e9478823c35b30c2b8b16d9bb13b87657d5bd5e89e59c8c5313fd7fda410c206",
    ),
    Affine::from_hex(
        "665f1a6ffe0c6437765b2784fca9bdf7e50941119e8dc8eca2b6ea0e0faa4b45",
        "490e2ca49ffd18c26e8cca29f7eac37f7dede5bf81e215bc6e25a6602b7f4ccf",
    ),
    Affine::from_hex(
        "059ccb19edd3da9a2d3a6b3d8d9900013e7910a08b724fd55939ac380d32af0e",
        "bb6ad7eccad49159da65281b9345638e1621f7a33956cecd928e1e3c97fe91d1",
    ),
    Affine::from_hex(
        "6a9501d85bf5dc802a1f28a08acc7d8fdf53c8af01a7cd3832a290825d8bdac1",
        "ca640ad19347374381c6c6e44a3c56a3f8461b5c697a6f3530aff53d5f1ef1a3",
    ),
];

/// The `width` bits (at most 32) of `k` starting at bit `start` (bit 0 is the least
/// significant); bits past the top are zero.
pub(crate) fn window_value(k: &Limbs, start: usize, width: usize) -> usize {
    let limb = |i: usize| Wide::from(k.get(i).copied().unwrap_or(0));
    const BITS: usize = WORD_BITS as usize;
    let at = start / BITS;
    let two = (limb(at.saturating_add(1)) << WORD_BITS) | limb(at);
    let mask = u32::MAX >> 32usize.saturating_sub(width);
    ((two >> (start % BITS)) as u32 & mask) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::PrimeField;
    use p256::{AffinePoint, ProjectivePoint, Scalar};

    extern crate std;
    use std::vec;

    fn limbs(k: &Scalar) -> Limbs {
        from_be(&k.to_bytes().into())
    }

    fn scalar(x: &Limbs) -> Scalar {
        Option::from(Scalar::from_repr(to_be(x))).unwrap()
    }

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
        for width in [WIDTH, G_WIDTH, 4] {
            let bound = 1i8 << (width - 1);
            for k in &cases {
                let digits = naf(&limbs(k), width);
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
            assert_eq!(Some(*point), want, "{}G", 2 * i + 1);
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
            assert_eq!(lincomb(&limbs(&u), &q, &limbs(&v)).to_affine(), affine(want));
        }
        // Zero scalars, and a sum at infinity: u·G + (-u)·G.
        assert!(lincomb(&limbs(&Scalar::ZERO), &q, &limbs(&Scalar::ZERO)).is_identity());
        let g = Affine::from_p256(&AffinePoint::GENERATOR).unwrap();
        assert!(lincomb(&limbs(&u), &g, &limbs(&-u)).is_identity());
        assert_eq!(lincomb(&limbs(&u), &g, &limbs(&u)).to_affine(), affine(ProjectivePoint::GENERATOR * u.double()));
        // Q = ±G, so that partial sums meet the table points (the exceptional additions).
        for k in [1u64, 2, 3, 63, 64, 65, 1 << 40] {
            let k = Scalar::from(k);
            assert_eq!(
                lincomb(&limbs(&k), &g, &limbs(&k)).to_affine(),
                affine(ProjectivePoint::GENERATOR * k.double())
            );
            assert!(lincomb(&limbs(&k), &g.neg(), &limbs(&k)).is_identity());
            assert!(lincomb(&limbs(&k), &g, &limbs(&-k)).is_identity());
        }
    }

    /// Scalars that reach the edges: small, near n, powers of two, all-ones limbs, and a spread.
    fn edge_scalars() -> vec::Vec<Scalar> {
        let mut cases = vec![Scalar::ONE, Scalar::from(2u64), Scalar::from(3u64), -Scalar::ONE, -Scalar::from(2u64)];
        cases.extend([u64::MAX, 1 << 63, 0xFFFF_FFFF].map(Scalar::from));
        let mut power = Scalar::ONE;
        for _ in 0..256 {
            cases.push(power);
            cases.push(-power);
            power = power.double();
        }
        let mut x = Scalar::from(0x9E37_79B9_7F4A_7C15u64);
        for _ in 0..3000 {
            x = x.square() + Scalar::from(7u64);
            cases.push(x);
        }
        cases
    }

    /// 2^256 mod n, the Montgomery factor.
    fn montgomery_factor() -> Scalar {
        (0..256).fold(Scalar::ONE, |acc, _| acc.double())
    }

    #[test]
    fn inversion_and_montgomery_products_match_p256() {
        let factor = montgomery_factor();
        let cases = edge_scalars();
        for (i, a) in cases.iter().enumerate() {
            let inverse = a.invert().unwrap();
            let w = invert_montgomery(&limbs(a)).unwrap();
            assert_eq!(scalar(&w), inverse * factor, "2^256/a for {a:?}");
            // a · (2^256/a) / 2^256 = 1, and a product with any other case.
            assert_eq!(mont_mul(&limbs(a), &w), ONE);
            let b = cases[(i * 7 + 3) % cases.len()];
            assert_eq!(scalar(&mont_mul(&limbs(&b), &w)), b * inverse, "b/a");
            assert_eq!(scalar(&mont_mul(&limbs(a), &limbs(&b))), *a * b * factor.invert().unwrap());
        }
        // Zero, n and above: not in [1, n).
        let n_plus = |k: Word| add(&ORDER, &small(k)).0;
        for x in [ZERO, ORDER, n_plus(1), n_plus(0xFFFF), [Word::MAX; 256 / WORD_BITS as usize]] {
            assert_eq!(invert_montgomery(&x), None);
        }
    }

    #[test]
    fn halving_mod_n_matches_p256() {
        let half = Scalar::from(2u64).invert().unwrap();
        for a in edge_scalars().iter().take(600) {
            for t in [1, 2, 31, WORD_BITS / 2 + 1, WORD_BITS - 1] {
                let want = (0..t).fold(*a, |acc, _| acc * half);
                assert_eq!(scalar(&shr_mod(&limbs(a), t)), want, "{a:?} / 2^{t}");
            }
        }
    }

    #[test]
    fn signatures_are_read_in_range_only() {
        let bytes = |r: &Limbs, s: &Limbs| {
            let mut out = [0u8; 64];
            out[..32].copy_from_slice(&to_be(r));
            out[32..].copy_from_slice(&to_be(s));
            out
        };
        let n_minus_one = sub(&ORDER, &ONE).0;
        for (r, s, ok) in [
            (ONE, ONE, true),
            (n_minus_one, n_minus_one, true),
            (ZERO, ONE, false),
            (ONE, ZERO, false),
            (ORDER, ONE, false),
            (ONE, ORDER, false),
            ([Word::MAX; 256 / WORD_BITS as usize], ONE, false),
            (ONE, add(&ORDER, &ONE).0, false),
        ] {
            let read = Signature::from_bytes(&bytes(&r, &s));
            assert_eq!(read, ok.then_some(Signature { r, s }), "{r:x?} {s:x?}");
        }
        // p256's signatures convert to the same values.
        let (r, s) = (Scalar::from(5u64), -Scalar::from(9u64));
        let theirs = p256::ecdsa::Signature::from_scalars(r.to_repr(), s.to_repr()).unwrap();
        assert_eq!(Signature::from(theirs), Signature { r: limbs(&r), s: limbs(&s) });
    }

    #[test]
    fn windows_of_a_scalar() {
        // Big-endian: the top bit set, a zero word's worth, then patterns down to the lowest bit.
        let bytes: [u8; 32] = core::array::from_fn(|i| match i {
            0 => 0x80,
            1..=7 => 0,
            31 => 0xEF,
            _ => (i as u8).wrapping_mul(0x9D) ^ 0x5A,
        });
        let k = from_be(&bytes);
        for start in 0..260 {
            for width in [1, 4, 5, 7, 10, 32] {
                let want = (0..width).fold(0usize, |acc, i| {
                    let bit = start + i;
                    let set = bit < 256 && (bytes[31 - bit / 8] >> (bit % 8)) & 1 == 1;
                    acc | (usize::from(set) << i)
                });
                assert_eq!(window_value(&k, start, width), want, "{start} {width}");
            }
        }
    }
}
