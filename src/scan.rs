//! Finding bytes eight at a time (SWAR), for the loops that walk a whole token: the dots of the
//! compact form and the ends of JSON strings. Plain `u64` arithmetic, no `unsafe`.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero if and only if some byte of `word` equals `byte`.
pub(crate) const fn has_byte(word: u64, byte: u8) -> u64 {
    let x = word ^ ONES.wrapping_mul(byte as u64);
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Non-zero if and only if some byte of `word` is below `bound` (which must be at most 0x80).
pub(crate) const fn has_below(word: u64, bound: u8) -> u64 {
    word.wrapping_sub(ONES.wrapping_mul(bound as u64)) & !word & HIGHS
}

/// The index of the first byte of `bytes` for which `hit` holds, or `bytes.len()` when there is
/// none (a plain index rather than an `Option`, which WebAssembly would return through memory).
/// `word_hits` must be non-zero for a word (eight bytes, little-endian) exactly when one of its
/// bytes is a hit; whole words without one are skipped in a few instructions.
pub(crate) fn position(bytes: &[u8], word_hits: impl Fn(u64) -> u64, hit: impl Fn(u8) -> bool) -> usize {
    let mut skipped = 0usize;
    for chunk in bytes.chunks_exact(8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        if word_hits(word) != 0 {
            break;
        }
        skipped = skipped.saturating_add(8);
    }
    let rest = bytes.get(skipped..).unwrap_or_default();
    rest.iter().position(|&b| hit(b)).map_or(bytes.len(), |at| at.saturating_add(skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn finds_the_first_hit_at_every_offset() {
        for len in 0..40usize {
            for at in 0..=len {
                let mut bytes = vec![b'a'; len];
                if at < len {
                    bytes[at] = b'.';
                }
                let want = at;
                assert_eq!(position(&bytes, |w| has_byte(w, b'.'), |b| b == b'.'), want, "{len} {at}");
            }
        }
        let all: Vec<u8> = (0..=255).collect();
        for bound in [0x20u8, 0x80] {
            let got = position(&all, |w| has_below(w, bound), |b| b < bound);
            assert_eq!(got, 0);
            let high: Vec<u8> = (bound..=255).chain(0..1).collect();
            assert_eq!(position(&high, |w| has_below(w, bound), |b| b < bound), high.len() - 1);
        }
        for byte in 0..=255u8 {
            let word = u64::from_le_bytes([b'x', b'y', byte, 0xff, 0x80, b'"', b'\\', 0x1f]);
            assert!(has_byte(word, byte) != 0);
        }
    }
}
