//! Precomputed ES256 verification: fixed-base tables of multiples of `G` and of a key's `Q`.
//!
//! Every request to a service behind Pomerium carries a token signed by the same one or two
//! keys. ECDSA verification computes `u1·G + u2·Q`; with tables of `d · 2^(w·i) · P` for every
//! window `i` of `w` bits and every signed digit `d` in `1..=2^(w-1)`, each multiplication is
//! one table lookup and one mixed addition per window, with no doublings and no per-call table
//! building. Both multiplications add into one accumulator in Jacobian coordinates, and the
//! result is compared with `r` without an inversion (`src/point.rs`: this crate's point
//! formulas over `p256`'s field arithmetic; no `unsafe`).
//!
//! Verification handles only public data (the token, the signature, public keys), so these
//! multiplications run in variable time, like `p256`'s own verification.

use sha2::{Digest, Sha256};

use crate::ecdsa::{self, Limbs, Signature, window_value};
use crate::error::{Capacity, Error, KeyError};
use crate::key::{PublicKey, es256_signature};
use crate::point::{self, Affine, Jacobian};

/// The window width of a fixed-base table: memory against speed.
///
/// | window | bytes per table | mixed additions per multiplication |
/// | --- | --- | --- |
/// | `W4` | 33,280 | at most 65 |
/// | `W6` | 88,064 | at most 43 |
/// | `W8` | 270,336 | at most 33 |
/// | `W10` | 851,968 | at most 26 |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Window {
    /// 4-bit windows, 8 points each.
    W4,
    /// 6-bit windows, 32 points each.
    W6,
    /// 8-bit windows, 128 points each.
    W8,
    /// 10-bit windows, 512 points each.
    W10,
}

impl Window {
    /// Bits per window.
    #[must_use]
    pub const fn bits(self) -> usize {
        match self {
            Window::W4 => 4,
            Window::W6 => 6,
            Window::W8 => 8,
            Window::W10 => 10,
        }
    }

    /// Windows per table: enough for 256-bit scalars plus the carry of signed digits.
    #[must_use]
    pub const fn windows(self) -> usize {
        match self {
            Window::W4 => 65,
            Window::W6 => 43,
            Window::W8 => 33,
            Window::W10 => 26,
        }
    }

    /// Points per window: the multiples 1 to 2^(w-1) (signed digits supply the negatives).
    #[must_use]
    pub const fn points_per_window(self) -> usize {
        match self {
            Window::W4 => 8,
            Window::W6 => 32,
            Window::W8 => 128,
            Window::W10 => 512,
        }
    }

    /// How many [`TableEntry`] values a table of this window needs.
    #[must_use]
    pub const fn entries(self) -> usize {
        match self {
            Window::W4 => 65 * 8,
            Window::W6 => 43 * 32,
            Window::W8 => 33 * 128,
            Window::W10 => 26 * 512,
        }
    }
}

/// Whether a window's constants agree: signed digits need ceil(257 / w) windows of 2^(w-1) points.
// Evaluated at compile time only (below): an overflow would fail the build, not a run.
#[allow(clippy::arithmetic_side_effects)]
const fn consistent(w: Window) -> bool {
    w.windows() * w.bits() >= 257
        && (w.windows() - 1) * w.bits() < 257
        && w.points_per_window() == 1 << (w.bits() - 1)
        && w.entries() == w.windows() * w.points_per_window()
}

const _: () =
    assert!(consistent(Window::W4) && consistent(Window::W6) && consistent(Window::W8) && consistent(Window::W10));

/// One precomputed point (its two affine coordinates, 64 bytes). Tables live in caller-provided
/// slices of these, so they can sit in a `static`, on the heap
/// (`vec![TableEntry::EMPTY; window.entries()]`) or anywhere else.
#[derive(Clone, Copy, Debug)]
pub struct TableEntry(Affine);

impl TableEntry {
    /// An unfilled entry.
    pub const EMPTY: TableEntry = TableEntry(Affine::PLACEHOLDER);
}

/// The multiples of one point, for fast variable-time multiplication by a public scalar.
#[derive(Clone, Copy, Debug)]
pub struct BaseTable<'t> {
    window: Window,
    base: Affine,
    entries: &'t [TableEntry],
}

/// Points normalised to affine together, sharing one inversion: enough that the inversion costs
/// little per point, few enough that the Jacobian points (96 bytes each) stay a small stack frame.
const BATCH: usize = 32;

/// The generator's tables computed at compile time, on 32-bit targets, each behind its cargo
/// feature: a `static`, so in flash on a microcontroller, taking no RAM and no time to build.
/// Evaluating one takes the compiler tens of seconds (W4) to minutes (W8): that is expected.
#[allow(long_running_const_eval)]
#[cfg(all(feature = "const-generator-w4", any(target_pointer_width = "32", pomerium_jwt_field32)))]
static GENERATOR_W4: [TableEntry; Window::W4.entries()] = generator_entries(Window::W4);
#[allow(long_running_const_eval)]
#[cfg(all(feature = "const-generator-w8", any(target_pointer_width = "32", pomerium_jwt_field32)))]
static GENERATOR_W8: [TableEntry; Window::W8.entries()] = generator_entries(Window::W8);

/// The entries of the generator's table, at compile time: the same points as
/// [`BaseTable::generator`] writes at run time (a test compares them).
#[cfg(any(target_pointer_width = "32", pomerium_jwt_field32))]
#[cfg_attr(not(any(feature = "const-generator-w4", feature = "const-generator-w8")), allow(dead_code))]
const fn generator_entries<const N: usize>(window: Window) -> [TableEntry; N] {
    let points = point::generator_multiples::<N>(window.points_per_window());
    let mut entries = [TableEntry::EMPTY; N];
    let (mut from, mut to): (&[Affine], &mut [TableEntry]) = (&points, &mut entries);
    while let ([point, from_tail @ ..], [entry, to_tail @ ..]) = (from, to) {
        *entry = TableEntry(*point);
        (from, to) = (from_tail, to_tail);
    }
    entries
}

impl BaseTable<'static> {
    /// The generator's table computed at compile time, if this build has it: with the cargo
    /// feature `const-generator-w4` (for [`Window::W4`], 33,280 bytes) or `const-generator-w8`
    /// ([`Window::W8`], 270,336 bytes), on a 32-bit target (a microcontroller keeps it in flash,
    /// so it takes no RAM and no time at start-up). `None` for any other window or build: 64-bit
    /// targets build the table at run time with [`BaseTable::generator`]. Each feature adds to the
    /// crate's compile time (`footprint/README.md` has the figures).
    #[must_use]
    pub fn compiled_generator(window: Window) -> Option<BaseTable<'static>> {
        let entries: Option<&'static [TableEntry]> = match window {
            #[cfg(all(feature = "const-generator-w4", any(target_pointer_width = "32", pomerium_jwt_field32)))]
            Window::W4 => Some(&GENERATOR_W4),
            #[cfg(all(feature = "const-generator-w8", any(target_pointer_width = "32", pomerium_jwt_field32)))]
            Window::W8 => Some(&GENERATOR_W8),
            _ => None,
        };
        entries.map(|entries| BaseTable { window, base: point::GENERATOR, entries })
    }
}

impl<'t> BaseTable<'t> {
    /// The table of the generator `G`, shared by every precomputed key.
    ///
    /// # Errors
    /// [`Capacity::Scratch`] when `storage` has fewer than `window.entries()` entries.
    pub fn generator(window: Window, storage: &'t mut [TableEntry]) -> Result<Self, Error> {
        Self::build(point::GENERATOR, window, storage)
    }

    /// The table of a public key's point `Q`.
    ///
    /// # Errors
    /// [`Capacity::Scratch`] when `storage` has fewer than `window.entries()` entries.
    pub fn for_key(key: &PublicKey, window: Window, storage: &'t mut [TableEntry]) -> Result<Self, Error> {
        Self::build(key.point(), window, storage)
    }

    /// The window the table was built with.
    #[must_use]
    pub fn window(&self) -> Window {
        self.window
    }

    fn build(base: Affine, window: Window, storage: &'t mut [TableEntry]) -> Result<Self, Error> {
        let entries = storage.get_mut(..window.entries()).ok_or(Error::Capacity(Capacity::Scratch))?;
        let mut row_base = base;
        let mut points = [Jacobian::IDENTITY; BATCH];
        let mut affine = [Affine::PLACEHOLDER; BATCH];
        for row in entries.chunks_exact_mut(window.points_per_window()) {
            // Row i holds d·B for d = 1..=2^(w-1), B = 2^(w·i)·base: one mixed addition each.
            // None is the identity (d·2^(w·i) < 2^(w·26) is never a multiple of the prime n).
            let mut multiple = Jacobian::IDENTITY;
            for batch in row.chunks_mut(BATCH) {
                for point in points.iter_mut().take(batch.len()) {
                    multiple = multiple.add_affine(&row_base);
                    *point = multiple;
                }
                let (Some(points), Some(affine)) = (points.get(..batch.len()), affine.get_mut(..batch.len())) else {
                    return Err(Error::Capacity(Capacity::Scratch)); // chunks are at most BATCH long
                };
                if !point::normalize_batch(points, affine) {
                    return Err(KeyError::Invalid.into()); // no identity: unreachable
                }
                batch.iter_mut().zip(affine.iter()).for_each(|(entry, point)| *entry = TableEntry(*point));
            }
            // The last point of the row is 2^(w-1)·B; doubled, it is the next row's base.
            let next = [row.last().map_or(Jacobian::IDENTITY, |entry| Jacobian::from(entry.0)).double()];
            let mut next_affine = [Affine::PLACEHOLDER];
            if !point::normalize_batch(&next, &mut next_affine) {
                return Err(KeyError::Invalid.into()); // no identity: unreachable
            }
            [row_base] = next_affine;
        }
        Ok(BaseTable { window, base, entries })
    }

    /// Adds `k · base` to `sum`, one mixed addition per non-zero signed digit of `k`.
    fn add_multiple(&self, k: &Limbs, sum: &mut Jacobian) {
        let (bits, half) = (self.window.bits(), self.window.points_per_window());
        let mut carry = 0usize;
        for (i, row) in self.entries.chunks_exact(half).enumerate() {
            let value = window_value(k, i.saturating_mul(bits), bits).saturating_add(carry);
            // Digits in 1..=half are used as they are; above, as value - 2^w with a carry.
            let (digit, negative) = if value > half {
                carry = 1;
                (half.saturating_mul(2).saturating_sub(value), true)
            } else {
                carry = 0;
                (value, false)
            };
            if let Some(entry) = digit.checked_sub(1).and_then(|at| row.get(at)) {
                *sum = if negative { sum.sub_affine(&entry.0) } else { sum.add_affine(&entry.0) };
            }
        }
    }
}

/// Storage for one table that remembers what was built in it, so that the table can be
/// borrowed again, without rebuilding, wherever the storage is reachable: for a long-lived table
/// in a `static` or a `thread_local!` (a WebAssembly module has no heap to leak a `Vec` into),
/// where a [`BaseTable`] could not outlive the call that built it.
///
/// `N` is at least [`Window::entries`] of the windows it is used with. Its fields are private, so
/// its entries can only be those its last build wrote: [`TableStorage::table`] always gives the
/// table of the point and window recorded with them. All zeros until built (a `static` of it
/// takes no room in a binary's data).
#[derive(Clone, Debug)]
pub struct TableStorage<const N: usize> {
    /// Whether the last build succeeded: then `base` and `window` say what `entries` hold.
    /// (Three fields rather than an `Option`, so that empty storage is all zeros.)
    built: bool,
    window: Window,
    base: Affine,
    entries: [TableEntry; N],
}

impl<const N: usize> Default for TableStorage<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> TableStorage<N> {
    /// Empty storage.
    #[must_use]
    pub const fn new() -> Self {
        TableStorage { built: false, window: Window::W4, base: Affine::PLACEHOLDER, entries: [TableEntry::EMPTY; N] }
    }

    /// Builds the generator's table here (see [`BaseTable::generator`]).
    ///
    /// # Errors
    /// [`Capacity::Scratch`] when `N` is below `window.entries()`.
    pub fn build_generator(&mut self, window: Window) -> Result<BaseTable<'_>, Error> {
        self.build(point::GENERATOR, window)
    }

    /// Builds the table of `key` here (see [`BaseTable::for_key`]), unless it already holds it.
    ///
    /// # Errors
    /// [`Capacity::Scratch`] when `N` is below `window.entries()`.
    pub fn build_for_key(&mut self, key: &PublicKey, window: Window) -> Result<BaseTable<'_>, Error> {
        self.build(key.point(), window)
    }

    /// Whether this holds the table of `key` (in any window).
    #[must_use]
    pub fn holds(&self, key: &PublicKey) -> bool {
        self.built && key.point() == self.base
    }

    /// The table built last, if any.
    #[must_use]
    pub fn table(&self) -> Option<BaseTable<'_>> {
        let entries = self.entries.get(..self.window.entries()).filter(|_| self.built)?;
        Some(BaseTable { window: self.window, base: self.base, entries })
    }

    fn build(&mut self, base: Affine, window: Window) -> Result<BaseTable<'_>, Error> {
        if !(self.built && self.base == base && self.window == window) {
            // Cleared first: a build that fails leaves no record of an earlier table.
            self.built = false;
            BaseTable::build(base, window, &mut self.entries)?;
            (self.built, self.base, self.window) = (true, base, window);
        }
        self.table().ok_or(Error::Capacity(Capacity::Scratch))
    }
}

/// A public key with its table, and the shared table of `G`: verification in a fraction of the
/// time of [`PublicKey::verify_es256`], with exactly the same verdicts.
#[derive(Clone, Copy, Debug)]
pub struct PrecomputedKey<'t> {
    key: PublicKey,
    table: BaseTable<'t>,
    generator: BaseTable<'t>,
}

impl<'t> PrecomputedKey<'t> {
    /// Joins `key` with its table and the generator's table.
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when `table` is not the table of `key` or `generator` not the table
    /// of `G`.
    pub fn new(key: PublicKey, table: BaseTable<'t>, generator: BaseTable<'t>) -> Result<Self, Error> {
        if key.point() != table.base || generator.base != point::GENERATOR {
            return Err(KeyError::Invalid.into());
        }
        Ok(PrecomputedKey { key, table, generator })
    }

    /// The public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }

    /// Verifies an ES256 signature over `message`, as [`PublicKey::verify_es256`] does.
    ///
    /// # Errors
    /// As [`PublicKey::verify_es256`].
    pub fn verify_es256(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let signature = es256_signature(signature)?;
        let digest: [u8; 32] = Sha256::digest(message).into();
        if self.verifies(&digest, &signature) { Ok(()) } else { Err(Error::BadSignature) }
    }

    /// ECDSA verification (SEC 1 §4.1.4) with both multiplications from tables.
    pub(crate) fn verifies(&self, digest: &[u8; 32], signature: &Signature) -> bool {
        ecdsa::verify(digest, signature, |u1, u2| {
            let mut sum = Jacobian::IDENTITY;
            self.generator.add_multiple(u1, &mut sum);
            self.table.add_multiple(u2, &mut sum);
            sum
        })
    }
}

#[cfg(all(test, any(target_pointer_width = "32", pomerium_jwt_field32)))]
mod tests {
    extern crate std;
    use std::vec;

    use super::*;

    /// Each compiled table holds exactly what `BaseTable::generator` builds at run time (which
    /// tests/ check against `p256`'s own multiples), entry by entry; a window compiled out is
    /// `None`. Run with `--cfg pomerium_jwt_field32 --features const-generator-w4,...`.
    #[test]
    fn the_compiled_generator_tables_are_the_ones_built_at_run_time() {
        for window in [Window::W4, Window::W6, Window::W8, Window::W10] {
            let compiled = BaseTable::compiled_generator(window);
            let features = [
                (Window::W4, cfg!(feature = "const-generator-w4")),
                (Window::W8, cfg!(feature = "const-generator-w8")),
            ];
            let expected = features.iter().any(|&(compiled, on)| compiled == window && on);
            assert_eq!(compiled.is_some(), expected, "{window:?}");
            let Some(compiled) = compiled else { continue };
            let mut storage = vec![TableEntry::EMPTY; window.entries()];
            let built = BaseTable::generator(window, &mut storage).unwrap();
            assert_eq!((compiled.window, compiled.base), (built.window, built.base));
            assert_eq!(compiled.entries.len(), built.entries.len());
            for (i, (ours, theirs)) in compiled.entries.iter().zip(built.entries).enumerate() {
                assert_eq!(ours.0, theirs.0, "{window:?} entry {i}");
            }
        }
    }
}
