//! Unescaping JSON strings: `\" \\ \/ \b \f \n \r \t \uXXXX`, surrogate pairs joined, lone
//! surrogates refused, `\u0000` kept as a NUL byte.

use crate::error::JsonError;
use crate::scan;

/// Decodes the escape sequence that follows a backslash; returns the character and how many
/// bytes after the backslash it used.
fn decode_escape(after: &[u8]) -> Result<(char, usize), JsonError> {
    let simple = match after.first() {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return decode_unicode(after),
        _ => return Err(JsonError::Escape),
    };
    Ok((simple, 1))
}

/// `after` starts with `u`: one `\uXXXX`, or two forming a surrogate pair.
fn decode_unicode(after: &[u8]) -> Result<(char, usize), JsonError> {
    let high = hex4(after.get(1..5))?;
    let code = match high {
        0xD800..=0xDBFF => {
            if after.get(5..7) != Some(b"\\u") {
                return Err(JsonError::LoneSurrogate);
            }
            let low = hex4(after.get(7..11))?;
            if !(0xDC00..=0xDFFF).contains(&low) {
                return Err(JsonError::LoneSurrogate);
            }
            // 0x10000 + (high - 0xD800) * 0x400 + (low - 0xDC00): an addition, not an OR, since
            // the pair's 20 bits reach past bit 16 (U+40000 is \ud8c0\udc00). Fuzzing found this.
            let bits = ((u32::from(high) & 0x3FF) << 10) | (u32::from(low) & 0x3FF);
            let c = bits.saturating_add(0x10000);
            return char::from_u32(c).map(|c| (c, 11)).ok_or(JsonError::LoneSurrogate);
        }
        0xDC00..=0xDFFF => return Err(JsonError::LoneSurrogate),
        c => c,
    };
    char::from_u32(u32::from(code)).map(|c| (c, 5)).ok_or(JsonError::LoneSurrogate)
}

/// The value of each byte as a hex digit, or 0xFF.
const HEX: [u8; 256] = hex_table();

// Evaluated at compile time only (above): an index out of bounds would fail the build.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn hex_table() -> [u8; 256] {
    let mut table = [0xFF; 256];
    let mut i = 0;
    while i < 16 {
        table[b"0123456789abcdef"[i] as usize] = i as u8;
        table[b"0123456789ABCDEF"[i] as usize] = i as u8;
        i += 1;
    }
    table
}

/// Whether `digits` are four hex digits (the reader's check of a `\uXXXX` escape).
pub(crate) fn is_hex4(digits: &[u8]) -> bool {
    hex4(Some(digits)).is_ok()
}

/// Four hex digits: a table lookup each, one check for all (escape-dense strings are the
/// slowest input there is to unescape, so this is on the path whose cost is bounded).
fn hex4(digits: Option<&[u8]>) -> Result<u16, JsonError> {
    let Some(&[a, b, c, d]) = digits else {
        return Err(JsonError::Escape);
    };
    let value = |x: u8| HEX.get(usize::from(x)).copied().unwrap_or(0xFF);
    let (a, b, c, d) = (value(a), value(b), value(c), value(d));
    if (a | b | c | d) & 0xF0 != 0 {
        return Err(JsonError::Escape);
    }
    Ok(u16::from(a) << 12 | u16::from(b) << 8 | u16::from(c) << 4 | u16::from(d))
}

/// Hands the unescaped string to `out` in pieces: each run of plain text as it stands in `raw`,
/// each escape sequence as the UTF-8 it stands for. Plain runs are found eight bytes at a time,
/// so digesting a long name costs about what hashing it costs, not a call per byte.
pub(crate) fn unescape_pieces(raw: &[u8], mut out: impl FnMut(&[u8])) -> Result<(), JsonError> {
    let mut rest = raw;
    loop {
        let plain = scan::position(rest, |w| scan::has_byte(w, b'\\'), |b| b == b'\\');
        let (run, escape) = rest.split_at_checked(plain).unwrap_or((rest, &[]));
        if !run.is_empty() {
            out(run);
        }
        // `escape` is empty or starts with the backslash that ended the run.
        let Some(after) = escape.get(1..) else {
            return Ok(());
        };
        let (c, used) = decode_escape(after)?;
        out(c.encode_utf8(&mut [0; 4]).as_bytes());
        rest = after.get(used..).unwrap_or_default();
    }
}

/// Unescapes `raw` into the front of `out` and returns the unescaped length, or `None` as soon
/// as the next character does not fit: what follows is not read, so a malformed escape after
/// that point goes unreported (see [`unescape_checked_to`]).
///
/// A character at a time: the strings unescaped this way are short (a name compared with a
/// known one, a group name Go escaped), and a call to copy each piece between escapes cost more
/// than the bytes it moved.
pub(crate) fn unescape_to(raw: &[u8], out: &mut [u8]) -> Result<Option<usize>, JsonError> {
    let (mut read, mut written) = (0usize, 0usize);
    while let Some((&first, after)) = raw.get(read..).and_then(<[u8]>::split_first) {
        let Some(slot) = out.get_mut(written) else {
            return Ok(None);
        };
        if first != b'\\' {
            *slot = first;
            (read, written) = (read.saturating_add(1), written.saturating_add(1));
            continue;
        }
        let (c, used) = decode_escape(after)?;
        let mut utf8 = [0; 4];
        let bytes = c.encode_utf8(&mut utf8).as_bytes();
        let end = written.saturating_add(bytes.len());
        let Some(slots) = out.get_mut(written..end) else {
            return Ok(None);
        };
        // At most four bytes: a loop, not a call to memcpy.
        for (slot, &byte) in slots.iter_mut().zip(bytes) {
            *slot = byte;
        }
        (read, written) = (read.saturating_add(used).saturating_add(1), end);
    }
    Ok(Some(written))
}

/// [`unescape_to`], except that a malformed escape or lone surrogate anywhere in `raw` is
/// reported rather than a lack of room.
pub(crate) fn unescape_checked_to(raw: &[u8], out: &mut [u8]) -> Result<Option<usize>, JsonError> {
    match unescape_to(raw, out)? {
        Some(len) => Ok(Some(len)),
        None => unescape_pieces(raw, |_| ()).map(|()| None),
    }
}

/// Unescapes the raw string at `buf[start..end]` in place and returns its unescaped length.
///
/// Every escape sequence is at least as long as the UTF-8 it stands for (`\n`: 2 bytes for 1,
/// `\uXXXX`: 6 for at most 3, a surrogate pair: 12 for 4), so the writer never passes the reader
/// and the result stays inside the string's own bytes.
pub(crate) fn unescape_in_place(buf: &mut [u8], start: usize, end: usize) -> Result<usize, JsonError> {
    let (mut read, mut write) = (start, start);
    loop {
        // The plain run up to the next backslash moves as a whole (not at all before the first
        // escape, where reader and writer are still at the same place).
        let rest = buf.get(read..end).unwrap_or_default();
        let plain = scan::position(rest, |w| scan::has_byte(w, b'\\'), |b| b == b'\\');
        let run_end = read.saturating_add(plain);
        if write != read && plain != 0 {
            buf.copy_within(read..run_end, write);
        }
        (read, write) = (run_end, write.saturating_add(plain));
        // At `end`, or at the backslash that ended the run. The escape is decoded to a `char`,
        // which comes back in registers (a `Unit` came back through memory and stalled every
        // escape; a forged kid can be nothing but escapes).
        let Some(after) = buf.get(read.saturating_add(1)..end) else {
            return Ok(write.saturating_sub(start));
        };
        let (c, used) = decode_escape(after)?;
        let mut utf8 = [0; 4];
        let bytes = c.encode_utf8(&mut utf8).as_bytes();
        let to = write.saturating_add(bytes.len());
        // At most four bytes: a loop, not a call to memcpy.
        for (slot, &byte) in buf.get_mut(write..to).ok_or(JsonError::Syntax)?.iter_mut().zip(bytes) {
            *slot = byte;
        }
        (read, write) = (read.saturating_add(used).saturating_add(1), to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    fn in_place(raw: &str) -> Result<Vec<u8>, JsonError> {
        let mut buf = std::format!("xx{raw}yy").into_bytes();
        let end = buf.len() - 2;
        let len = unescape_in_place(&mut buf, 2, end)?;
        assert_eq!(&buf[..2], b"xx");
        assert_eq!(&buf[buf.len() - 2..], b"yy");
        Ok(buf[2..2 + len].to_vec())
    }

    fn pieces(raw: &str) -> Result<Vec<u8>, JsonError> {
        let mut out = Vec::new();
        unescape_pieces(raw.as_bytes(), |piece| out.extend_from_slice(piece))?;
        Ok(out)
    }

    /// `unescape_to` and `unescape_checked_to` with room to spare, checked against every smaller
    /// room: too little gives `None` (or, from `unescape_checked_to`, the text's error whatever
    /// the room; from `unescape_to`, an error only if it lies within the room).
    fn to(raw: &str) -> Result<Vec<u8>, JsonError> {
        let mut out = std::vec![0u8; raw.len() + 1];
        let got = unescape_checked_to(raw.as_bytes(), &mut out);
        assert_eq!(got, unescape_to(raw.as_bytes(), &mut std::vec![0u8; raw.len() + 1]), "{raw}");
        for room in 0..out.len() {
            let mut short = std::vec![0u8; room];
            match (&got, unescape_checked_to(raw.as_bytes(), &mut short)) {
                (Ok(Some(len)), Ok(Some(got))) => assert!(room >= *len && got == *len && short[..got] == out[..got]),
                (Ok(Some(len)), Ok(None)) => assert!(room < *len, "{raw} {room}"),
                (Err(e), Err(again)) => assert_eq!(*e, again, "{raw} {room}"),
                (want, got) => panic!("{raw} {room}: {want:?} {got:?}"),
            }
            let first = unescape_to(raw.as_bytes(), &mut short);
            match got {
                Ok(Some(len)) => assert_eq!(first, Ok((room >= len).then_some(len)), "{raw} {room}"),
                Err(e) => assert!(first == Err(e) || first == Ok(None), "{raw} {room}"),
                Ok(None) => unreachable!("raw.len() + 1 bytes always suffice"),
            }
        }
        Ok(out[..got?.expect("raw.len() + 1 bytes always suffice")].to_vec())
    }

    #[test]
    fn every_unescaper_agrees_on_every_escape() {
        let cases: &[(&str, &str)] = &[
            (r#"plain"#, "plain"),
            (r#"\"\\\/\b\f\n\r\t"#, "\"\\/\u{8}\u{c}\n\r\t"),
            (r#"a\u0026b\u003c\u003e"#, "a&b<>"),
            (r#"\u0000x"#, "\0x"),
            (r#"\u00e9\u20AC"#, "é€"),
            (r#"\ud83d\ude00!"#, "😀!"),
            (r#"\uD83D\uDE00"#, "😀"),
            (r#"\ud8c0\udc00"#, "\u{40000}"),
            (r#"\ud800\udc00\udbff\udfff"#, "\u{10000}\u{10FFFF}"),
            ("é€😀", "é€😀"),
            (r#"0123456789abcdef\u0041ghijklmnopqrstuvwxyz\n"#, "0123456789abcdefAghijklmnopqrstuvwxyz\n"),
        ];
        for (raw, want) in cases {
            assert_eq!(in_place(raw).as_deref(), Ok(want.as_bytes()), "{raw}");
            assert_eq!(pieces(raw).as_deref(), Ok(want.as_bytes()), "{raw}");
            assert_eq!(to(raw).as_deref(), Ok(want.as_bytes()), "{raw}");
        }
    }

    #[test]
    fn lone_surrogates_and_bad_escapes_are_refused() {
        for (raw, want) in [
            (r#"\ud83d"#, JsonError::LoneSurrogate),
            (r#"\ud83dx"#, JsonError::LoneSurrogate),
            (r#"\ud83d\u0041"#, JsonError::LoneSurrogate),
            (r#"\ude00"#, JsonError::LoneSurrogate),
            (r#"\ud83d\ud83d"#, JsonError::LoneSurrogate),
            (r#"\x"#, JsonError::Escape),
            (r#"\u12"#, JsonError::Escape),
            ("\\", JsonError::Escape),
        ] {
            assert_eq!(in_place(raw), Err(want), "{raw}");
            assert_eq!(pieces(raw), Err(want), "{raw}");
            assert_eq!(to(raw), Err(want), "{raw}");
            // The error comes first even with no room at all, and after a long plain run.
            let long = std::format!("{}{raw}", "x".repeat(40));
            assert_eq!(to(&long), Err(want), "{long}");
            // `unescape_to` stops where the room ends: the fault right after it is not read.
            assert_eq!(unescape_to(long.as_bytes(), &mut [0; 40]), Ok(None), "{long}");
            assert_eq!(unescape_to(long.as_bytes(), &mut [0; 41]), Err(want), "{long}");
        }
    }
}
