//! P-256 points of this crate's own, in Jacobian coordinates over `p256`'s field arithmetic.
//!
//! ECDSA verification needs `u1·G + u2·Q` and then only `x(R) mod n`. `p256`'s points use
//! complete formulas in homogeneous coordinates (no input needs a special case, every input pays
//! for that), and its points do not expose their coordinates, so the sum must be normalised to
//! affine form, a field inversion (about 255 squarings), before `x` can be compared with `r`.
//! Here, with the field element type `p256` uses and the same constants:
//!
//! - Jacobian coordinates, `(X, Y, Z)` for the affine `(X/Z², Y/Z³)`: a doubling costs 3
//!   multiplications and 5 squarings (the `a = -3` formula), an addition of an affine point 8 and
//!   3, against 11 and 13 (plus two multiplications by `b`) for the complete ones;
//! - the comparison `x(R) mod n == r` in projective form, `X == r·Z²` (or `(r + n)·Z²` when
//!   `r + n < p`), with no inversion.
//!
//! These formulas are not complete, so every exceptional case is handled by a branch: a sum with
//! the identity (`Z = 0`), `P + P` (a doubling) and `P + (-P)` (the identity). P-256 has prime
//! order, so no point but the identity has `Y = 0`: doubling needs no case of its own. Everything
//! here runs in variable time: verification handles public data only (the token, the signature
//! and public keys).

use p256::FieldBytes;

/// An element of the P-256 field, `p256`'s own type (Montgomery form), on 64-bit targets: on
/// x86_64 the 32-bit field did not beat it (a `verify_es256` took 225 µs with it against 232 µs,
/// the best of seven runs of 2,000 each, closer than the runs' spread; 2026-12-06), so 64-bit
/// targets keep it.
#[cfg(not(any(target_pointer_width = "32", pomerium_jwt_field32)))]
pub(crate) type Fe = <p256::NistP256 as p256::elliptic_curve::hazmat::FieldArithmetic>::FieldElement;
/// An element of the P-256 field, this crate's 32-bit arithmetic (`src/field32.rs`), on 32-bit
/// targets, and on any other with `--cfg pomerium_jwt_field32` (tests and fuzzing).
#[cfg(any(target_pointer_width = "32", pomerium_jwt_field32))]
pub(crate) use crate::field32::Fe;

/// `p - n` as big-endian bytes: an `x` in `[n, p)` reduces mod `n` to an `r` below this.
const P_MINUS_N: [u8; 32] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x43, 0x19, 0x05, 0x53, 0x58, 0xe8, 0x61, 0x7b, 0x0c, 0x46, 0x35,
    0x3d, 0x03, 0x9c, 0xda, 0xae,
];

/// The curve's `b` (the curve is `y² = x³ - 3x + b`).
const B: Fe = Fe::from_hex_vartime("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");

/// 3, for the curve's `a = -3`.
const THREE: Fe = Fe::from_u64(3);

/// The group order `n`, as a field element (`n < p`).
const N: Fe = Fe::from_hex_vartime("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

/// The generator `G`.
pub(crate) const GENERATOR: Affine = Affine::from_hex(
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
);

/// A curve point other than the identity, by its affine coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Affine {
    x: Fe,
    y: Fe,
}

impl Affine {
    /// Not a curve point: a placeholder for storage that is filled before it is read.
    pub(crate) const PLACEHOLDER: Affine = Affine { x: Fe::ZERO, y: Fe::ZERO };

    /// A point from hex coordinates, for constants (evaluated at compile time).
    pub(crate) const fn from_hex(x: &str, y: &str) -> Affine {
        Affine { x: Fe::from_hex_vartime(x), y: Fe::from_hex_vartime(y) }
    }

    /// The point with these big-endian coordinates; `None` unless both are below `p` and the
    /// point is on the curve (SEC 1 §2.3.4's checks of an uncompressed point). Every such point
    /// is a valid public key: P-256 has prime order, and the identity has no coordinates.
    pub(crate) fn from_coordinates(x: &FieldBytes, y: &FieldBytes) -> Option<Affine> {
        let x = Option::<Fe>::from(Fe::from_bytes(x))?;
        let y = Option::<Fe>::from(Fe::from_bytes(y))?;
        let rhs = x.square().sub(&THREE).multiply(&x).add(&B);
        (y.square() == rhs).then_some(Affine { x, y })
    }

    /// The big-endian coordinates.
    pub(crate) fn to_bytes(self) -> (FieldBytes, FieldBytes) {
        (self.x.to_bytes(), self.y.to_bytes())
    }

    /// `p256`'s point as ours; `None` for the identity, which has no affine coordinates.
    pub(crate) fn from_p256(point: &p256::AffinePoint) -> Option<Affine> {
        use p256::elliptic_curve::point::AffineCoordinates;
        if bool::from(point.is_identity()) {
            return None;
        }
        Affine::from_coordinates(&point.x(), &point.y())
    }

    /// `-P`.
    pub(crate) fn neg(&self) -> Affine {
        Affine { x: self.x, y: self.y.neg() }
    }
}

/// A point in Jacobian coordinates: `(X, Y, Z)` is `(X/Z², Y/Z³)`, and any `Z = 0` the identity.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Jacobian {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl From<Affine> for Jacobian {
    // One function, not the copy inlined at each use: 160 bytes less of WebAssembly
    // (`scripts/footprint.sh`), for a call that a point addition after it dwarfs.
    #[inline(never)]
    fn from(p: Affine) -> Jacobian {
        Jacobian { x: p.x, y: p.y, z: Fe::ONE }
    }
}

impl Jacobian {
    /// The identity (the point at infinity).
    pub(crate) const IDENTITY: Jacobian = Jacobian { x: Fe::ONE, y: Fe::ONE, z: Fe::ZERO };

    /// Whether this is the identity.
    pub(crate) fn is_identity(&self) -> bool {
        self.z == Fe::ZERO
    }

    /// `-P`.
    pub(crate) fn neg(&self) -> Jacobian {
        Jacobian { x: self.x, y: self.y.neg(), z: self.z }
    }

    /// `2P`: see [`Jacobian::double_in_place`].
    pub(crate) const fn double(&self) -> Jacobian {
        let mut twice = *self;
        twice.double_in_place();
        twice
    }

    /// `P = 2P`: dbl-2001-b (Bernstein–Lange), for `a = -3`, with `Z3 = 2·Y·Z`. The identity
    /// doubles to `Z3 = 0`, the identity again; no other point has `Y = 0` on a curve of odd
    /// order. In place, each coordinate written where it lives: returning the point cost two
    /// 32-byte and one 96-byte copies per doubling on the Cortex-M4 (`memcpy` calls at opt-level
    /// "z"), a twentieth of a verification.
    pub(crate) const fn double_in_place(&mut self) {
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x.multiply(&gamma);
        // 3·(X − δ)·(X + δ) = 3X² + a·Z⁴ for a = -3.
        let alpha = {
            let t = self.x.sub(&delta).multiply(&self.x.add(&delta));
            t.double().add(&t)
        };
        let beta4 = beta.double().double();
        self.z = self.y.multiply(&self.z).double();
        self.x = alpha.square().sub(&beta4.double());
        let gamma_sq8 = gamma.square().double().double().double();
        self.y = alpha.multiply(&beta4.sub(&self.x)).sub(&gamma_sq8);
    }

    /// `P + Q` for an affine `Q`: madd-2004-hmv (Hankerson–Menezes–Vanstone), 8M + 3S, with the
    /// exceptional cases as branches: `P` the identity, `P = Q` (a doubling), `P = -Q`.
    pub(crate) fn add_affine(&self, q: &Affine) -> Jacobian {
        if self.is_identity() {
            return Jacobian::from(*q);
        }
        let z1z1 = self.z.square();
        // Q's coordinates brought to P's Z: U2 = x2·Z1², S2 = y2·Z1³.
        let u2 = q.x.multiply(&z1z1);
        let s2 = q.y.multiply(&z1z1.multiply(&self.z));
        let h = u2.sub(&self.x);
        let r = s2.sub(&self.y);
        self.finish_add(h, r, &self.x, &self.y, self.z, || self.double())
    }

    /// `P - Q` for an affine `Q`.
    pub(crate) fn sub_affine(&self, q: &Affine) -> Jacobian {
        self.add_affine(&q.neg())
    }

    /// `P + Q`: add-1998-cmo-2 (Cohen–Miyaji–Ono), 12M + 4S, with the exceptional cases as
    /// branches: either point the identity, `P = Q` (a doubling), `P = -Q`.
    pub(crate) fn add(&self, q: &Jacobian) -> Jacobian {
        if self.is_identity() {
            return *q;
        }
        if q.is_identity() {
            return *self;
        }
        let (z1z1, z2z2) = (self.z.square(), q.z.square());
        // Both points brought to the common Z = Z1·Z2: U = X·Z'², S = Y·Z'³.
        let u1 = self.x.multiply(&z2z2);
        let u2 = q.x.multiply(&z1z1);
        let s1 = self.y.multiply(&q.z.multiply(&z2z2));
        let s2 = q.y.multiply(&self.z.multiply(&z1z1));
        let (h, r) = (u2.sub(&u1), s2.sub(&s1));
        self.finish_add(h, r, &u1, &s1, self.z.multiply(&q.z), || self.double())
    }

    /// The common end of both additions, given `H = U2 - U1`, `R = S2 - S1`, `U1`, `S1` and the
    /// common `Z` of the two points: `H = 0` means equal `x`, so the same point (`R = 0`: double
    /// it) or opposite points (their sum is the identity).
    fn finish_add(&self, h: Fe, r: Fe, u1: &Fe, s1: &Fe, z: Fe, double: impl FnOnce() -> Jacobian) -> Jacobian {
        if h == Fe::ZERO {
            return if r == Fe::ZERO { double() } else { Jacobian::IDENTITY };
        }
        sum_of_distinct(h, r, u1, s1, z)
    }

    /// `P + Q` for points that are neither the identity nor equal nor opposite (the caller knows
    /// it), as a `const fn`, for tables built at compile time: a failed check fails the build.
    /// The first steps of [`Jacobian::add`], which keeps its own copy of them: with both calling
    /// one function for them, a verification took 46,000 more instructions on the Cortex-M4. The
    /// last steps are one function for all additions ([`sum_of_distinct`]): shared, they cost
    /// 1,120 instructions of a plain verification's 1.82 million there.
    #[cfg(any(target_pointer_width = "32", pomerium_jwt_field32))]
    const fn add_distinct(&self, q: &Jacobian) -> Jacobian {
        assert!(!self.z.is_zero() && !q.z.is_zero(), "not the identity");
        let (z1z1, z2z2) = (self.z.square(), q.z.square());
        let u1 = self.x.multiply(&z2z2);
        let u2 = q.x.multiply(&z1z1);
        let s1 = self.y.multiply(&q.z.multiply(&z2z2));
        let s2 = q.y.multiply(&self.z.multiply(&z1z1));
        let (h, r) = (u2.sub(&u1), s2.sub(&s1));
        assert!(!h.is_zero(), "neither equal nor opposite");
        sum_of_distinct(h, r, &u1, &s1, self.z.multiply(&q.z))
    }

    /// Whether `x(P) mod n == r`, for an `r` in `[1, n)`, without leaving projective form:
    /// `x(P) = X/Z²`, so the test is `X == r·Z²`; and since `p > n`, an `x` in `[n, p)` reduces
    /// to `x - n`, which is `r` when `X == (r + n)·Z²` (possible only when `r + n < p`). False
    /// for the identity, which has no `x`.
    pub(crate) fn x_mod_n_is(&self, r_bytes: &FieldBytes) -> bool {
        if self.is_identity() {
            return false;
        }
        // `r < n < p`, so it is always a field element.
        let Some(r) = Option::<Fe>::from(Fe::from_bytes(r_bytes)) else { return false };
        let zz = self.z.square();
        if r.multiply(&zz) == self.x {
            return true;
        }
        // Big-endian arrays of one length compare as the numbers they encode.
        r_bytes.as_slice() < P_MINUS_N.as_slice() && r.add(&N).multiply(&zz) == self.x
    }

    /// The affine point, for tests; `None` for the identity.
    #[cfg(test)]
    pub(crate) fn to_affine(self) -> Option<Affine> {
        let zinv = Option::<Fe>::from(self.z.invert_vartime())?;
        let zinv2 = zinv.square();
        Some(Affine { x: self.x.multiply(&zinv2), y: self.y.multiply(&zinv2.multiply(&zinv)) })
    }

    /// A point with the affine coordinates of `p` and the given non-zero `z`, for tests.
    #[cfg(test)]
    pub(crate) fn with_z(p: &Affine, z: Fe) -> Jacobian {
        let zz = z.square();
        Jacobian { x: p.x.multiply(&zz), y: p.y.multiply(&zz.multiply(&z)), z }
    }
}

/// The sum of two points with `x` coordinates apart, given `H = U2 - U1 ≠ 0`, `R = S2 - S1`,
/// `U1`, `S1` and the common `Z` (see [`Jacobian::add`]): `X3 = R² - H³ - 2·U1·H²`,
/// `Y3 = R·(U1·H² - X3) - S1·H³`, `Z3 = Z·H`: the end of every addition, also in the `const fn`s.
const fn sum_of_distinct(h: Fe, r: Fe, u1: &Fe, s1: &Fe, z: Fe) -> Jacobian {
    let hh = h.square();
    let hhh = hh.multiply(&h);
    let v = u1.multiply(&hh);
    let x = r.square().sub(&hhh).sub(&v.double());
    let y = r.multiply(&v.sub(&x)).sub(&s1.multiply(&hhh));
    Jacobian { x, y, z: z.multiply(&h) }
}

/// Points in Jacobian coordinates to affine, sharing one inversion (Montgomery's trick):
/// `points[i]` with `x[i]`, `y[i]` as given and `z[i]` goes to `out[i]`. None may be the
/// identity (no table holds it: the caller's points are non-zero multiples of a point of prime
/// order below it); returns false, leaving `out` unspecified, if one is.
pub(crate) fn normalize_batch(points: &[Jacobian], out: &mut [Affine]) -> bool {
    // out[i].x holds the product of the first i + 1 Z's while the inverse is found.
    let mut product = Fe::ONE;
    for (point, slot) in points.iter().zip(out.iter_mut()) {
        product = product.multiply(&point.z);
        slot.x = product;
    }
    // p256's constant-time `invert` measured faster than its `invert_vartime` (5.8 against 7.1 µs).
    let Some(mut inverse) = Option::<Fe>::from(product.invert()) else { return false };
    // Walking back: `inverse` is 1 / (Z_0 ⋯ Z_i), so 1/Z_i = inverse · (Z_0 ⋯ Z_(i-1)).
    for (i, point) in points.iter().enumerate().rev() {
        let before = i.checked_sub(1).and_then(|j| out.get(j)).map_or(Fe::ONE, |p| p.x);
        let zinv = inverse.multiply(&before);
        inverse = inverse.multiply(&point.z);
        let zinv2 = zinv.square();
        if let Some(slot) = out.get_mut(i) {
            *slot = Affine { x: point.x.multiply(&zinv2), y: point.y.multiply(&zinv2.multiply(&zinv)) };
        }
    }
    true
}

/// The multiples of `G` in a fixed-base table's layout (`src/precomputed.rs`): row `i` holds
/// `d·2^(w·i)·G` for `d` in `1..=half`, `half = 2^(w-1)`, rows of `half` points up to `N`.
/// A `const fn`, so that a table can be computed at compile time and kept in flash; so every
/// loop is over slices, without indexing. Jacobian multiples first, all normalised together
/// with one inversion. None of the sums is exceptional: `d·B` for `2 ≤ d < half` is not `±B`
/// (`d ± 1` is below the group's prime order), nor the identity.
#[cfg(any(target_pointer_width = "32", pomerium_jwt_field32))]
pub(crate) const fn generator_multiples<const N: usize>(half: usize) -> [Affine; N] {
    let mut points = [Jacobian::IDENTITY; N];
    let mut base = Jacobian { x: GENERATOR.x, y: GENERATOR.y, z: Fe::ONE };
    let mut rest: &mut [Jacobian] = &mut points;
    while !rest.is_empty() {
        // One row: B, 2B, then each the one before plus B.
        let (mut multiple, mut d) = (base, 0usize);
        while let [slot, tail @ ..] = rest {
            multiple = match d {
                0 => base,
                1 => base.double(),
                _ => multiple.add_distinct(&base),
            };
            *slot = multiple;
            rest = tail;
            d = d.wrapping_add(1);
            if d == half {
                break;
            }
        }
        // The last point of the row is half·B = 2^(w-1)·B; doubled, it is the next row's base.
        base = multiple.double();
    }
    normalize_const(&points)
}

/// [`normalize_batch`] as a `const fn` for [`generator_multiples`], whose points are never the
/// identity (a build with one fails).
#[cfg(any(target_pointer_width = "32", pomerium_jwt_field32))]
const fn normalize_const<const N: usize>(points: &[Jacobian; N]) -> [Affine; N] {
    // products[i] = Z_0 ⋯ Z_i.
    let mut products = [Fe::ONE; N];
    let mut product = Fe::ONE;
    let (mut from, mut to): (&[Jacobian], &mut [Fe]) = (points, &mut products);
    while let ([point, from_tail @ ..], [slot, to_tail @ ..]) = (from, to) {
        product = product.multiply(&point.z);
        *slot = product;
        (from, to) = (from_tail, to_tail);
    }
    assert!(!product.is_zero(), "no identity");
    // Walking back: `inverse` is 1 / (Z_0 ⋯ Z_i), so 1/Z_i = inverse · (Z_0 ⋯ Z_(i-1)).
    let mut inverse = product.inverse_or_zero();
    let mut out = [Affine::PLACEHOLDER; N];
    let (mut from, mut before, mut to): (&[Jacobian], &[Fe], &mut [Affine]) = (points, &products, &mut out);
    while let ([from_rest @ .., point], [before_rest @ .., _], [to_rest @ .., slot]) = (from, before, to) {
        let earlier = match before_rest {
            [.., last] => *last,
            [] => Fe::ONE,
        };
        let zinv = inverse.multiply(&earlier);
        inverse = inverse.multiply(&point.z);
        let zinv2 = zinv.square();
        *slot = Affine { x: point.x.multiply(&zinv2), y: point.y.multiply(&zinv2.multiply(&zinv)) };
        (from, before, to) = (from_rest, before_rest, to_rest);
    }
    out
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use p256::elliptic_curve::group::Group;
    use p256::{AffinePoint, ProjectivePoint, Scalar};

    use super::*;

    fn ours(p: ProjectivePoint) -> Option<Affine> {
        Affine::from_p256(&p.to_affine())
    }

    fn mul(k: u64) -> Affine {
        ours(ProjectivePoint::GENERATOR * Scalar::from(k)).unwrap()
    }

    fn same(j: Jacobian, want: ProjectivePoint) -> bool {
        j.to_affine() == ours(want)
    }

    #[test]
    fn formulas_agree_with_p256_including_every_exceptional_case() {
        let g = ProjectivePoint::GENERATOR;
        let (p, q) = (mul(5), mul(11));
        let (jp, jq) = (Jacobian::from(p), Jacobian::with_z(&q, Fe::from_u64(7)));
        assert!(same(jp.double(), g * Scalar::from(10u64)));
        assert!(same(jp.add_affine(&q), g * Scalar::from(16u64)));
        assert!(same(jp.sub_affine(&q), -(g * Scalar::from(6u64))));
        assert!(same(jp.add(&jq), g * Scalar::from(16u64)));
        assert!(same(jq.add(&jp.neg()), g * Scalar::from(6u64)));
        // P + P, by both additions: a doubling.
        let jp7 = Jacobian::with_z(&p, Fe::from_u64(3));
        assert!(same(jp7.add_affine(&p), g * Scalar::from(10u64)));
        assert!(same(jp7.add(&jp), g * Scalar::from(10u64)));
        // P + (-P): the identity.
        assert!(jp7.add_affine(&p.neg()).is_identity());
        assert!(jp7.add(&jp.neg()).is_identity());
        assert!(jp.sub_affine(&p).is_identity());
        // The identity on either side, and doubled.
        let o = Jacobian::IDENTITY;
        assert!(same(o.add_affine(&p), g * Scalar::from(5u64)));
        assert!(same(o.add(&jq), g * Scalar::from(11u64)));
        assert!(same(jq.add(&o), g * Scalar::from(11u64)));
        assert!(o.add(&o).is_identity());
        assert!(o.double().is_identity());
        // Longer chains against p256's arithmetic.
        let mut acc = Jacobian::IDENTITY;
        let mut want = ProjectivePoint::IDENTITY;
        for k in 1..40u64 {
            let point = mul(k * 977);
            acc = if k % 3 == 0 { acc.sub_affine(&point).double() } else { acc.add_affine(&point) };
            let step = ProjectivePoint::from(AffinePoint::GENERATOR) * Scalar::from(k * 977);
            want = if k % 3 == 0 { (want - step).double() } else { want + step };
            assert!(same(acc, want), "step {k}");
        }
    }

    #[test]
    fn batch_normalisation_matches_one_by_one() {
        let points: Vec<Jacobian> =
            (1..20u64).map(|k| Jacobian::with_z(&mul(k), Fe::from_u64(k * 31 + 2)).double()).collect();
        let mut out = [Affine::PLACEHOLDER; 19];
        assert!(normalize_batch(&points, &mut out));
        for (p, a) in points.iter().zip(out) {
            assert_eq!(p.to_affine(), Some(a));
        }
        let with_identity = [Jacobian::from(mul(3)), Jacobian::IDENTITY];
        assert!(!normalize_batch(&with_identity, &mut out));
    }

    /// A point with the given x, if `x³ - 3x + b` is a square.
    fn lift(x: Fe) -> Option<Affine> {
        let b = Fe::from_hex_vartime("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");
        let rhs = x.square().multiply(&x).sub(&x.double().add(&x)).add(&b);
        Option::<Fe>::from(rhs.sqrt()).map(|y| Affine { x, y })
    }

    fn scalar(fe: Fe) -> Option<Scalar> {
        Option::from(Scalar::from_repr(fe.to_bytes()))
    }

    use p256::elliptic_curve::PrimeField;

    #[test]
    fn x_comparison_without_inversion_including_x_above_n() {
        // An ordinary point at several Z: r = x (x < n) matches, r = x ± 1 does not.
        let p = mul(0xC0FFEE);
        for z in [1u64, 2, 0xDEAD_BEEF] {
            let j = Jacobian::with_z(&p, Fe::from_u64(z));
            let r = scalar(p.x).unwrap();
            assert!(j.x_mod_n_is(&r.to_bytes()));
            assert!(!j.x_mod_n_is(&(r + Scalar::ONE).to_bytes()));
            assert!(!j.x_mod_n_is(&(r - Scalar::ONE).to_bytes()));
            assert!(!j.neg().x_mod_n_is(&(r + Scalar::ONE).to_bytes()));
            assert!(j.neg().x_mod_n_is(&r.to_bytes()), "-P has the same x");
        }
        // Points with x in [n, p): their x reduces to x - n, which is below p - n. Such an R is
        // unreachable by search (about 2^-128 of all x), so the coordinates are constructed.
        let mut found = 0;
        let mut x = N;
        for _ in 0..64 {
            x = x.add(&Fe::ONE);
            let Some(point) = lift(x) else { continue };
            found += 1;
            let reduced = scalar(x.sub(&N)).unwrap();
            for z in [1u64, 5, 0x1234_5678_9ABC] {
                let j = Jacobian::with_z(&point, Fe::from_u64(z));
                assert!(j.x_mod_n_is(&reduced.to_bytes()), "x - n");
                assert!(!j.x_mod_n_is(&(reduced + Scalar::ONE).to_bytes()));
                assert!(!j.x_mod_n_is(&(reduced - Scalar::ONE).to_bytes()));
            }
            // An x below p - n that is itself a point's x, beside one that only reduces to it.
            if let Some(low) = lift(x.sub(&N)) {
                let j = Jacobian::with_z(&low, Fe::from_u64(9));
                assert!(j.x_mod_n_is(&reduced.to_bytes()));
            }
        }
        assert!(found > 10, "{found}");
        // x = p - 1 is the largest x; x - n = p - n - 1 is the largest r with a second chance.
        let top = Fe::ZERO.sub(&Fe::ONE);
        let largest = scalar(top.sub(&N)).unwrap();
        assert!(largest.to_bytes().as_slice() < P_MINUS_N.as_slice());
        // Just past it, r = p - n has no second candidate: only x = r itself can match.
        let at = scalar(top.sub(&N).add(&Fe::ONE)).unwrap();
        assert!(at.to_bytes().as_slice() >= P_MINUS_N.as_slice());
        if let Some(point) = lift(top) {
            let j = Jacobian::with_z(&point, Fe::from_u64(3));
            assert!(j.x_mod_n_is(&largest.to_bytes()));
            assert!(!j.x_mod_n_is(&at.to_bytes()));
        }
        // The identity matches nothing, whatever its X.
        for r in [Scalar::ONE, -Scalar::ONE] {
            assert!(!Jacobian::IDENTITY.x_mod_n_is(&r.to_bytes()));
            assert!(!Jacobian { x: Fe::ZERO, y: Fe::ONE, z: Fe::ZERO }.x_mod_n_is(&r.to_bytes()));
        }
    }

    #[test]
    fn coordinates_are_checked_in_range_and_on_the_curve() {
        let p = Fe::ZERO.sub(&Fe::ONE).to_bytes(); // p - 1
        for k in [1u64, 2, 977, 0xC0FFEE, u64::MAX] {
            let point = mul(k);
            let (x, y) = point.to_bytes();
            assert_eq!(Affine::from_coordinates(&x, &y), Some(point));
            assert_eq!(Affine::from_coordinates(&x, &point.neg().to_bytes().1), Some(point.neg()));
            // Off the curve: y + 1, x + 1, or the coordinates swapped.
            let bumped = |c: Fe| c.add(&Fe::ONE).to_bytes();
            assert_eq!(Affine::from_coordinates(&x, &bumped(point.y)), None);
            assert_eq!(Affine::from_coordinates(&bumped(point.x), &y), None);
            assert_eq!(Affine::from_coordinates(&y, &x), None);
        }
        // Not below p: p itself for a coordinate, and an all-ones coordinate.
        let mut p_bytes = p;
        p_bytes[31] += 1;
        let (x, y) = mul(5).to_bytes();
        assert_eq!(Affine::from_coordinates(&p_bytes, &y), None);
        assert_eq!(Affine::from_coordinates(&x, &p_bytes), None);
        let ones = FieldBytes::from([0xFF; 32]);
        assert_eq!(Affine::from_coordinates(&ones, &y), None);
        // (0, 0), what some encoders write for the identity, is not on the curve.
        assert_eq!(Affine::from_coordinates(&FieldBytes::default(), &FieldBytes::default()), None);
    }
}
