//! ECDSA P-256 verification (SEC 1 §4.1.4) on this crate's own point arithmetic
//! (`src/point.rs`: Jacobian coordinates over `p256`'s field).
//!
//! Verification needs `u1·G + u2·Q` for two public scalars and then only `x mod n` of the sum.
//! `p256`'s own `verify_prehash` computes the sum in constant time (64 windows of four doublings
//! and two additions, each addition after a scan of a whole table) on complete formulas, then
//! normalises it to affine form with a field inversion. Nothing here is secret (the token, the
//! signature and the keys are public), so this module instead:
//!
//! - computes the sum in variable time by interleaved NAF, sharing one chain of doublings: `Q`'s
//!   odd multiples (width 5, `Q..15Q`) are made per call, `G`'s (width 7, `G..63G`) are constants
//!   in affine form, so each `G` digit is a cheaper mixed addition and there are fewer of them;
//! - uses Jacobian formulas (a doubling is 8 field multiplications, not 11 plus `b`'s), with a
//!   branch for each exceptional case instead of complete formulas;
//! - compares `x` with `r` in projective form (`X == r·Z²`), so no inversion at all.
//!
//! One verification stays within a few KiB of stack, less than `p256`'s path alone.

use p256::ecdsa::Signature;
use p256::elliptic_curve::ops::Reduce;
use p256::{FieldBytes, Scalar};

use crate::point::{Affine, Jacobian};

/// NAF width of `Q`'s digits: odd, in `-15..=15`, so `Q`'s odd multiples `Q..15Q` are needed.
const WIDTH: usize = 5;
/// Odd multiples of `Q` made per verification: `Q, 3Q, ..., 15Q`.
const MULTIPLES: usize = 1 << (WIDTH - 2);
/// NAF width of `G`'s digits: odd, in `-63..=63`, from the constant table [`G_MULTIPLES`].
const G_WIDTH: usize = 7;
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
    let (g_digits, q_digits) = (naf(u1, G_WIDTH), naf(u2, WIDTH));
    let mut sum = Jacobian::IDENTITY;
    for (&g, &q) in g_digits.iter().zip(&q_digits).rev() {
        // Doubling the identity gives the identity: skipped until the first digit.
        if !sum.is_identity() {
            sum = sum.double();
        }
        if let Some(point) = G_MULTIPLES.get(usize::from(g.unsigned_abs() / 2)) {
            match g {
                0 => {}
                1.. => sum = sum.add_affine(point),
                _ => sum = sum.sub_affine(point),
            }
        }
        if let Some(point) = q_multiples.get(usize::from(q.unsigned_abs() / 2)) {
            match q {
                0 => {}
                1.. => sum = sum.add(point),
                _ => sum = sum.add(&point.neg()),
            }
        }
    }
    sum
}

/// `Q, 3Q, 5Q, ..., 15Q`.
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

/// The width-7 odd multiples of the generator, `G, 3G, ..., 63G`, in affine form (generated
/// with exact integer arithmetic; the test below recomputes them with `p256`).
static G_MULTIPLES: [Affine; 1 << (G_WIDTH - 2)] = [
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
        for width in [WIDTH, G_WIDTH] {
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
