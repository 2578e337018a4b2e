//! Strict base64: unpadded base64url for token segments and JWK coordinates (RFC 4648 §5), and
//! padded standard base64 with line breaks for PEM bodies and base64-wrapped PEM files (§4).
//!
//! Canonical only: a symbol outside the alphabet, misplaced padding or non-zero unused trailing
//! bits is an error, so every byte string has exactly one accepted encoding.
//!
//! Why not `base64ct`: its decoders run in constant time, which costs about two thirds of the
//! parse time of a token, and a token or a public key is not secret. This table decoder is
//! branch-light, fuzzed, and checked against `base64ct` in the tests. On 64-bit targets it reads
//! each symbol's bits ready-placed from four 1 KiB tables; on others, where memory is dear, two
//! symbols at a time from one 256-byte table.

/// Marks a byte that is not a symbol of the alphabet.
const INVALID: u8 = 0xFF;

// Evaluated at compile time only: an index or sum out of range would fail the build.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn table(last2: [u8; 2]) -> [u8; 256] {
    let mut t = [INVALID; 256];
    let mut i = 0u8;
    while i < 26 {
        t[(b'A' + i) as usize] = i;
        t[(b'a' + i) as usize] = 26 + i;
        i += 1;
    }
    let mut d = 0u8;
    while d < 10 {
        t[(b'0' + d) as usize] = 52 + d;
        d += 1;
    }
    t[last2[0] as usize] = 62;
    t[last2[1] as usize] = 63;
    t
}

static URL: [u8; 256] = table([b'-', b'_']);
static STANDARD: [u8; 256] = table([b'+', b'/']);

/// A base64 text that is not canonical for its alphabet, or an output buffer that is too small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Not canonical base64 of the expected form.
    Invalid,
    /// The decoded bytes do not fit the output buffer.
    TooLong,
}

/// How many bytes `len` symbols of unpadded base64 decode to, or `None` for an impossible length.
pub(crate) fn decoded_len(len: usize) -> Option<usize> {
    let tail = match len % 4 {
        0 => 0,
        2 => 1,
        3 => 2,
        _ => return None,
    };
    (len / 4).checked_mul(3)?.checked_add(tail)
}

/// Decodes canonical unpadded base64url into the front of `out`.
pub(crate) fn decode_url<'o>(src: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], DecodeError> {
    let len = decoded_len(src.len()).ok_or(DecodeError::Invalid)?;
    let out = out.get_mut(..len).ok_or(DecodeError::TooLong)?;
    // `out` holds six bytes for every whole block, so only a byte that is not a symbol stops
    // the blocks early; then at least eight symbols are left.
    let whole = decode_blocks(src, out);
    let (mut tail, mut out_tail) = match (src.get(whole.saturating_mul(8)..), out.get_mut(whole.saturating_mul(6)..)) {
        (Some(rest), Some(out_tail)) if rest.len() < 8 => (rest, out_tail),
        _ => return Err(DecodeError::Invalid),
    };
    // Up to seven symbols are left: perhaps one whole group of four, then the final group.
    let mut bad = 0u32;
    if let Some((&[a, b, c, d], symbols)) = tail.split_first_chunk::<4>() {
        // The lengths agree (`decoded_len`): four symbols left means three bytes left.
        let (triple, bytes) =
            core::mem::take(&mut out_tail).split_first_chunk_mut::<3>().ok_or(DecodeError::Invalid)?;
        let (high, low) = (pair(a, b), pair(c, d));
        bad |= (high | low) & !0xFFF;
        let [_, x, y, z] = ((high << 12) | low).to_be_bytes();
        *triple = [x, y, z];
        (tail, out_tail) = (symbols, bytes);
    }
    if bad != 0 {
        return Err(DecodeError::Invalid);
    }
    finish_tail(&URL, tail, out_tail)?;
    Ok(out)
}

/// Decodes the base64url symbols at the front of `src`, up to its first byte that is not one (or
/// its end), into the front of `out`; returns how many symbols there were, and the decoding of
/// exactly those, as [`decode_url`] would give it.
///
/// The verifier decodes the payload with this, so that the second dot of the token is found by
/// the decoding rather than by a pass of its own.
pub(crate) fn decode_url_prefix<'o>(src: &[u8], out: &'o mut [u8]) -> (usize, Result<&'o [u8], DecodeError>) {
    let whole = decode_blocks(src, out);
    // Fewer than eight symbols are left to find the end among, unless `out` ran out (then the
    // rest is too long for it, and found so in one more pass).
    let (done, written) = (whole.saturating_mul(8), whole.saturating_mul(6));
    let rest = src.get(done..).unwrap_or_default();
    let run = rest.iter().position(|&b| sextet(&URL, b) == INVALID).unwrap_or(rest.len());
    let symbols = done.saturating_add(run);
    let Some(tail) = out.get_mut(written..) else {
        return (symbols, Err(DecodeError::TooLong));
    };
    let decoded = decode_url(rest.get(..run).unwrap_or_default(), tail).map(<[u8]>::len);
    let out: &'o [u8] = out;
    (symbols, decoded.and_then(|len| out.get(..written.saturating_add(len)).ok_or(DecodeError::TooLong)))
}

/// Decodes whole blocks of eight symbols from the front of `src` into the front of `out`, up to
/// the first block with a byte that is not a symbol, or the end of either; returns how many
/// blocks it decoded. Most of the time spent on a token before its signature is in this loop:
/// the payload of a valid token, the header of a forged one.
fn decode_blocks(src: &[u8], out: &mut [u8]) -> usize {
    // On 64-bit targets four blocks a turn, checked together (one branch instead of four;
    // elsewhere the 0.9 KB of WebAssembly it takes matters more), then one a turn from the four
    // that met the end (or the end of `out`). `whole` is at most `src.len() / 8`, so it cannot
    // wrap.
    let mut whole = 0usize;
    if cfg!(target_pointer_width = "64") {
        for (four, out) in src.chunks_exact(32).zip(out.chunks_exact_mut(24)) {
            let blocks = four.chunks_exact(8).zip(out.chunks_exact_mut(6));
            if blocks.fold(0, |bad, (block, six)| bad | decode_block(block, six)) != 0 {
                break;
            }
            whole = whole.wrapping_add(4);
        }
    }
    let src_rest = src.get(whole.saturating_mul(8)..).unwrap_or_default();
    let out_rest = out.get_mut(whole.saturating_mul(6)..).unwrap_or_default();
    for (block, six) in src_rest.chunks_exact(8).zip(out_rest.chunks_exact_mut(6)) {
        if decode_block(block, six) != 0 {
            break;
        }
        whole = whole.wrapping_add(1);
    }
    whole
}

/// Decodes eight symbols (`block`) into six bytes (`six`); returns zero if every symbol was valid.
fn decode_block(block: &[u8], six: &mut [u8]) -> u32 {
    let (Ok(block), Ok(six)) = (<&[u8; 8]>::try_from(block), <&mut [u8; 6]>::try_from(six)) else {
        return u32::MAX;
    };
    // Where a table read costs little beside the arithmetic it saves, four 1 KiB tables; the
    // 256-byte one where memory is dear (WebAssembly modules, microcontrollers).
    if cfg!(target_pointer_width = "64") { decode_block_placed(block, six) } else { decode_block_paired(block, six) }
}

/// [`decode_block`] with the symbols looked up two at a time as 12-bit pairs in [`URL`].
// By reference, though eight bytes: passed by value, the block arrives as one integer and its
// bytes are shifted out of it, which made the loop a quarter slower than eight byte loads.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn decode_block_paired(&[a, b, c, d, e, f, g, h]: &[u8; 8], six: &mut [u8; 6]) -> u32 {
    let pairs = [pair(a, b), pair(c, d), pair(e, f), pair(g, h)];
    let bits =
        (u64::from(pairs[0]) << 36) | (u64::from(pairs[1]) << 24) | (u64::from(pairs[2]) << 12) | u64::from(pairs[3]);
    let [_, _, bytes @ ..] = bits.to_be_bytes();
    *six = bytes;
    (pairs[0] | pairs[1] | pairs[2] | pairs[3]) & !0xFFF
}

/// For each place of a symbol in a group of four, the symbol's six bits where they land in the
/// group's three bytes (a little-endian `u32`), or [`PLACED_INVALID`] for a byte that is not one.
static PLACED: [[u32; 256]; 4] = placed();

/// Bits no valid symbol sets in [`PLACED`].
const PLACED_INVALID: u32 = 0xFF00_0000;

// Evaluated at compile time only, like `table`.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn placed() -> [[u32; 256]; 4] {
    let url = table([b'-', b'_']);
    let mut t = [[PLACED_INVALID; 256]; 4];
    let mut b = 0;
    while b < 256 {
        if url[b] != INVALID {
            let s = url[b] as u32;
            // The bytes of `abcd` are `a << 2 | b >> 4`, `b << 4 | c >> 2` and `c << 6 | d`.
            t[0][b] = s << 2;
            t[1][b] = (s >> 4) | ((s & 0x0F) << 12);
            t[2][b] = ((s >> 2) << 8) | ((s & 0x03) << 22);
            t[3][b] = s << 16;
        }
        b += 1;
    }
    t
}

/// [`decode_block`] with each symbol's bits read ready-placed from [`PLACED`]: no shifts.
#[allow(clippy::trivially_copy_pass_by_ref)] // As `decode_block_paired`.
fn decode_block_placed(&[a, b, c, d, e, f, g, h]: &[u8; 8], six: &mut [u8; 6]) -> u32 {
    // A u8 always indexes a 256-entry table; the fallback is never taken.
    let at = |place: usize, s: u8| PLACED.get(place).and_then(|t| t.get(usize::from(s))).copied().unwrap_or(u32::MAX);
    let low = at(0, a) | at(1, b) | at(2, c) | at(3, d);
    let high = at(0, e) | at(1, f) | at(2, g) | at(3, h);
    let [bytes @ .., _, _] = (u64::from(low) | (u64::from(high) << 24)).to_le_bytes();
    *six = bytes;
    (low | high) & PLACED_INVALID
}

/// Whether every byte of `text` is a base64url symbol (its length and last symbol aside).
pub(crate) fn is_url_text(text: &[u8]) -> bool {
    text.iter().all(|&b| sextet(&URL, b) != INVALID)
}

/// Decodes canonical padded standard base64 that may be broken into lines (any ASCII white space
/// between symbols) into the front of `out`.
pub(crate) fn decode_standard_lines<'o>(src: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], DecodeError> {
    let mut symbols = src.iter().copied().filter(|b| !b.is_ascii_whitespace());
    let mut written = 0usize;
    let mut done = false;
    while let Some(first) = symbols.next() {
        if done {
            return Err(DecodeError::Invalid);
        }
        let quad = [Some(first), symbols.next(), symbols.next(), symbols.next()];
        let [Some(a), Some(b), Some(c), Some(d)] = quad else {
            return Err(DecodeError::Invalid);
        };
        let (group, bytes): (&[u8], usize) = match (c, d) {
            (b'=', b'=') => (&[a, b][..], 1),
            (_, b'=') => (&[a, b, c][..], 2),
            _ => (&[a, b, c, d][..], 3),
        };
        done = bytes < 3;
        let dst = out.get_mut(written..written.saturating_add(bytes)).ok_or(DecodeError::TooLong)?;
        if bytes == 3 {
            let s = [sextet(&STANDARD, a), sextet(&STANDARD, b), sextet(&STANDARD, c), sextet(&STANDARD, d)];
            if (s[0] | s[1] | s[2] | s[3]) & 0xC0 != 0 {
                return Err(DecodeError::Invalid);
            }
            let [x, y, z] = join(s);
            dst.copy_from_slice(&[x, y, z]);
        } else {
            finish_tail(&STANDARD, group, dst)?;
        }
        written = written.saturating_add(bytes);
    }
    out.get(..written).ok_or(DecodeError::TooLong)
}

/// Encodes `src` as unpadded base64url into `out`, which must hold exactly the encoding.
pub(crate) fn encode_url(src: &[u8], out: &mut [u8]) {
    const SYMBOLS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let symbol = |v: u32| SYMBOLS.get((v & 63) as usize).copied().unwrap_or(b'A');
    for (chunk, dst) in src.chunks(3).zip(out.chunks_mut(4)) {
        let mut bytes = [0u8; 3];
        bytes.iter_mut().zip(chunk).for_each(|(b, c)| *b = *c);
        let v = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]);
        let sextets = [symbol(v >> 18), symbol(v >> 12), symbol(v >> 6), symbol(v)];
        dst.iter_mut().zip(sextets).for_each(|(d, s)| *d = s);
    }
}

/// The 6-bit value of symbol `b`, or [`INVALID`].
fn sextet(table: &[u8; 256], b: u8) -> u8 {
    // A u8 always indexes a 256-entry table; the fallback is never taken.
    table.get(usize::from(b)).copied().unwrap_or(INVALID)
}

/// Two base64url symbols as 12 bits, `a` high; any bit above the twelve marks an invalid symbol.
fn pair(a: u8, b: u8) -> u32 {
    // [`INVALID`] read as an `i8` is -1: sign-extended, it sets every bit above the twelve,
    // shifted or not, so the one small table serves (a table per half was faster by a few
    // percent of a parse, and 2 KB larger in WebAssembly).
    let signed = |s: u8| i32::from(sextet(&URL, s).cast_signed());
    ((signed(a) << 6) | signed(b)).cast_unsigned()
}

fn join(s: [u8; 4]) -> [u8; 3] {
    let v = (u32::from(s[0]) << 18) | (u32::from(s[1]) << 12) | (u32::from(s[2]) << 6) | u32::from(s[3]);
    let [_, x, y, z] = v.to_be_bytes();
    [x, y, z]
}

/// Decodes a final group of 2 or 3 symbols into 1 or 2 bytes; the unused low bits must be zero.
fn finish_tail(table: &[u8; 256], tail: &[u8], out: &mut [u8]) -> Result<(), DecodeError> {
    let sextet = |b: &u8| sextet(table, *b);
    match (tail, out) {
        ([], []) => Ok(()),
        ([a, b], [x]) => {
            let (a, b) = (sextet(a), sextet(b));
            if (a | b) & 0xC0 != 0 || b & 0x0F != 0 {
                return Err(DecodeError::Invalid);
            }
            *x = (a << 2) | (b >> 4);
            Ok(())
        }
        ([a, b, c], [x, y]) => {
            let (a, b, c) = (sextet(a), sextet(b), sextet(c));
            if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 {
                return Err(DecodeError::Invalid);
            }
            *x = (a << 2) | (b >> 4);
            *y = (b << 4) | (c >> 2);
            Ok(())
        }
        _ => Err(DecodeError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64ct::{Base64, Base64UrlUnpadded, Encoding};
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    fn url(s: &str) -> Result<Vec<u8>, DecodeError> {
        let mut out = [0u8; 64];
        decode_url(s.as_bytes(), &mut out).map(<[u8]>::to_vec)
    }

    fn std_lines(s: &str) -> Result<Vec<u8>, DecodeError> {
        let mut out = [0u8; 64];
        decode_standard_lines(s.as_bytes(), &mut out).map(<[u8]>::to_vec)
    }

    #[test]
    fn url_decoding_is_strict() {
        assert_eq!(url("").as_deref(), Ok(&b""[..]));
        assert_eq!(url("eyJ9").as_deref(), Ok(&b"{\"}"[..]));
        assert_eq!(url("-_8").as_deref(), Ok(&[0xfb, 0xff][..]));
        for bad in ["a", "abcde", "ab=", "ab==", "+/8", "ab c", "ab\n", "QR", "QUG", "\u{e9}AA"] {
            assert_eq!(url(bad), Err(DecodeError::Invalid), "{bad:?}");
        }
        assert_eq!(url("QQ").as_deref(), Ok(&b"A"[..]));
        assert_eq!(url("QUE").as_deref(), Ok(&b"AA"[..]));
        let mut small = [0u8; 2];
        assert_eq!(decode_url(b"QUFB", &mut small), Err(DecodeError::TooLong));
    }

    #[test]
    fn standard_lines_decoding_is_strict() {
        assert_eq!(std_lines("QUFB\r\nQQ==\n").as_deref(), Ok(&b"AAAA"[..]));
        assert_eq!(std_lines(" Q U E = ").as_deref(), Ok(&b"AA"[..]));
        assert_eq!(std_lines("+/8=").as_deref(), Ok(&[0xfb, 0xff][..]));
        for bad in ["QQ", "QUE", "QR==", "QUG=", "QQ==QUFB", "Q===", "-_8=", "QUFB=", "QQ=A"] {
            assert_eq!(std_lines(bad), Err(DecodeError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn agrees_with_base64ct_on_every_length_and_byte() {
        let mut enc = [0u8; 128];
        let mut ours = [0u8; 96];
        for len in 0..=48usize {
            for seed in 0..64u8 {
                let data: Vec<u8> =
                    (0..len).map(|i| (i as u8).wrapping_mul(151).wrapping_add(seed.wrapping_mul(37))).collect();
                let text = Base64UrlUnpadded::encode(&data, &mut enc).unwrap();
                assert_eq!(decode_url(text.as_bytes(), &mut ours).unwrap(), &data[..]);
                let mut mine = [0u8; 64];
                encode_url(&data, &mut mine[..text.len()]);
                assert_eq!(&mine[..text.len()], text.as_bytes());
                let text = Base64::encode(&data, &mut enc).unwrap();
                assert_eq!(decode_standard_lines(text.as_bytes(), &mut ours).unwrap(), &data[..]);
            }
        }
        // The prefix decoder: the symbols up to a stop byte anywhere, decoded as `decode_url`
        // decodes them alone, into outputs of every size around the exact one.
        for len in 0..=72usize {
            let data: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(77).wrapping_add(5)).collect();
            let text = Base64UrlUnpadded::encode(&data, &mut enc).unwrap().as_bytes().to_vec();
            for stop in 0..=text.len() {
                for stop_byte in [b'.', b'=', 0x80] {
                    let mut src = text[..stop].to_vec();
                    src.push(stop_byte);
                    src.extend_from_slice(b"QUFB");
                    for room in [(stop * 3 / 4).saturating_sub(1), stop * 3 / 4, stop * 3 / 4 + 1, stop * 3 / 4 + 8] {
                        let (mut a, mut b) = (vec![0u8; room], vec![0u8; room]);
                        let (symbols, got) = decode_url_prefix(&src, &mut a);
                        assert_eq!(symbols, stop);
                        assert_eq!(got.map(<[u8]>::to_vec), decode_url(&src[..stop], &mut b).map(<[u8]>::to_vec));
                    }
                }
            }
        }
        // Every single-symbol change of a valid text: both decoders accept or refuse alike.
        let text = Base64UrlUnpadded::encode(b"pomerium!", &mut enc).unwrap().as_bytes().to_vec();
        for i in 0..text.len() {
            for b in 0..=255u8 {
                let mut t = text.clone();
                t[i] = b;
                let mut theirs = [0u8; 96];
                let want = Base64UrlUnpadded::decode(&t, &mut theirs).map(<[u8]>::to_vec).ok();
                assert_eq!(decode_url(&t, &mut ours).map(<[u8]>::to_vec).ok(), want, "{t:?}");
            }
        }
    }

    /// The two ways of decoding a block (the target picks one) agree: on blocks of valid
    /// symbols, and on every byte value at every place of a block, valid or not.
    #[test]
    fn block_decoders_agree() {
        const SYMBOLS: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let both = |block: &[u8; 8]| {
            let (mut placed, mut paired) = ([0u8; 6], [0u8; 6]);
            let ok = (decode_block_placed(block, &mut placed) == 0, decode_block_paired(block, &mut paired) == 0);
            assert_eq!(ok.0, ok.1, "{block:?}");
            if ok.0 {
                assert_eq!(placed, paired, "{block:?}");
                let mut theirs = [0u8; 6];
                assert_eq!(Base64UrlUnpadded::decode(block, &mut theirs).unwrap(), &placed);
            }
            ok.0
        };
        for seed in 0..4096usize {
            let block: [u8; 8] = core::array::from_fn(|i| SYMBOLS[(seed * 37 + i * 11 + (seed >> 6) * i) % 64]);
            assert!(both(&block));
        }
        for place in 0..8 {
            for byte in 0..=255u8 {
                let mut block = *b"Zz09-_Aa";
                block[place] = byte;
                assert_eq!(both(&block), SYMBOLS.contains(&byte));
            }
        }
    }
}
