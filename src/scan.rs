//! Finding bytes eight at a time (SWAR), for the loops that walk a whole token: the dots of the
//! compact form and the ends of JSON strings. Plain `u64` arithmetic, no `unsafe`.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero if and only if some byte of `word` equals `byte`.
pub(crate) const fn has_byte(word: u64, byte: u8) -> u64 {
    let x = word ^ ONES.wrapping_mul(byte as u64);
    x.wrapping_sub(ONES) & !x & HIGHS
}

/// Non-zero if and only if some byte of `word` ends the plain run of a JSON string: a quote, a
/// backslash or a control character.
///
/// Two tests, not three: XOR with 0x02 turns a quote (0x22) into 0x20 and keeps the control
/// characters below 0x20 (it only permutes them), while a space and `!` become 0x22 and 0x23; so
/// "a byte of `word ^ 0x02 * ONES` below 0x21" is exactly "a quote or a control character". That
/// test, `(x - 0x21 * ONES) & !x & HIGHS`, and [`has_byte`]'s for the backslash share their
/// `!word & HIGHS` (XOR with 0x02 or 0x5C leaves the high bit alone), and each marks its own first
/// hit exactly, so their union does too.
pub(crate) const fn string_end(word: u64) -> u64 {
    let quote_or_control = (word ^ ONES.wrapping_mul(0x02)).wrapping_sub(ONES.wrapping_mul(0x21));
    let backslash = (word ^ ONES.wrapping_mul(b'\\' as u64)).wrapping_sub(ONES);
    (quote_or_control | backslash) & !word & HIGHS
}

/// The index of the first byte of `bytes` for which `hit` holds, or `bytes.len()` when there is
/// none (a plain index rather than an `Option`, which WebAssembly would return through memory).
///
/// `word_hits` takes a word (eight bytes, little-endian) and must return a mask whose lowest set
/// bit is the high bit of the word's first hit byte, and zero without a hit, as [`has_byte`] and
/// [`string_end`] do: a false positive can only follow a true hit, from the borrow
/// it starts. Whole words are skipped in a few instructions, and the first hit is read off the
/// mask rather than searched for again.
pub(crate) fn position(bytes: &[u8], word_hits: impl Fn(u64) -> u64, hit: impl Fn(u8) -> bool) -> usize {
    // An index loop rather than `chunks_exact`: the iterator's bookkeeping cost more than the
    // test itself in the JSON reader's inner loop. `at + 8 <= bytes.len()` inside the loop, so
    // neither addition can wrap.
    let mut at = 0usize;
    while let Some(chunk) = bytes.get(at..at.wrapping_add(8)) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let hits = word_hits(word);
        if hits != 0 {
            return at.wrapping_add((hits.trailing_zeros() / 8) as usize);
        }
        at = at.wrapping_add(8);
    }
    let rest = bytes.get(at..).unwrap_or_default();
    rest.iter().position(|&b| hit(b)).map_or(bytes.len(), |i| at.saturating_add(i))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    /// Non-zero if and only if some byte of `word` is below `bound` (which must be at most 0x80).
    const fn has_below(word: u64, bound: u8) -> u64 {
        word.wrapping_sub(ONES.wrapping_mul(bound as u64)) & !word & HIGHS
    }

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
        // Two adjacent bytes of every value, anywhere in a word: a borrow from the first may
        // mark the second falsely, never the first.
        let either = |w| has_byte(w, b'"') | has_byte(w, b'\\') | has_below(w, 0x20);
        let is_string_end = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
        for at in 0..8usize {
            for first in 0..=255u8 {
                for second in 0..=255u8 {
                    let mut bytes = [b'a'; 12];
                    bytes[at] = first;
                    bytes[at + 1] = second;
                    let want = bytes.iter().position(|&b| is_string_end(b)).unwrap_or(bytes.len());
                    assert_eq!(position(&bytes, string_end, is_string_end), want, "{bytes:?}");
                    assert_eq!(position(&bytes, either, is_string_end), want, "{bytes:?}");
                    let want = bytes.iter().position(|&b| b == b'.').unwrap_or(bytes.len());
                    assert_eq!(position(&bytes, |w| has_byte(w, b'.'), |b| b == b'.'), want, "{bytes:?}");
                }
            }
        }
        for byte in 0..=255u8 {
            let word = u64::from_le_bytes([b'x', b'y', byte, 0xff, 0x80, b'"', b'\\', 0x1f]);
            assert!(has_byte(word, byte) != 0);
        }
    }
}
