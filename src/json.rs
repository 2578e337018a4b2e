//! A strict, non-recursive JSON pull reader over a byte slice.
//!
//! Why not `serde-json-core`: it rejects surrogate pairs, has no `deserialize_any` (so unknown
//! claims of any shape cannot be skipped), needs a scratch buffer for escaped `&str` fields and
//! does not report duplicate member names. Verifying a token needs exactly the opposite on each
//! count, so this module reads RFC 8259 JSON itself: strings are validated while scanning and
//! unescaped only when read, containers are tracked with a bit stack (no recursion that input can
//! deepen), and member names are checked for duplicates after unescaping.

mod escape;
mod names;

pub(crate) use escape::{unescape_checked_to, unescape_in_place, unescape_pieces, unescape_to};
pub use names::MAX_MEMBERS;
pub(crate) use names::{MemberNames, NameKey, keys_of};

use crate::error::{Error, JsonError, Part};
use crate::scan;

/// What [`Reader::peek`] sees past the end of the input: NUL, which is not valid JSON anywhere
/// a caller compares the next byte (outside strings it is a syntax error, inside one a control
/// character), so the end and a NUL byte are refused alike.
const END: u8 = 0;

/// How deeply arrays and objects may nest, the top-level object included.
pub const MAX_DEPTH: usize = 32;

const _: () = assert!(MAX_DEPTH >= 16 && MAX_DEPTH <= 64);

/// Reads `json`, which must be one object and nothing but white space after it, member by member
/// (see [`Reader::members`]).
pub(crate) fn read_object<'a>(
    json: &'a [u8],
    part: Part,
    names: &[NameKey],
    on_member: impl FnMut(Option<usize>, &mut Reader<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    core::str::from_utf8(json).map_err(|_| Error::Json { part, reason: JsonError::Utf8 })?;
    read_object_utf8_unchecked(json, part, names, on_member)
}

/// [`read_object`] without its UTF-8 check of `json`, for a caller that checks it afterwards
/// (once, with other text) and refuses `json` as not UTF-8, whatever error reading it gave, if it
/// is not. The reader needs no UTF-8 to read JSON correctly: everything it decides on is ASCII,
/// and bytes of multi-byte characters are opaque to it.
pub(crate) fn read_object_utf8_unchecked<'a>(
    json: &'a [u8],
    part: Part,
    names: &[NameKey],
    on_member: impl FnMut(Option<usize>, &mut Reader<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    let fail = |reason| Error::Json { part, reason };
    let mut reader = Reader { src: json, pos: 0, depth: 0, arrays: 0, first: false };
    reader.document().map_err(fail)?;
    reader.members(part, names, on_member)?;
    reader.finish().map_err(fail)
}

/// Checks that `json` is one well-formed object without duplicate member names.
pub(crate) fn check_object(json: &[u8], part: Part) -> Result<(), Error> {
    read_object(json, part, &[], |_, reader| reader.skip_value().map_err(|reason| Error::Json { part, reason }))
}

/// The bit of `Reader::arrays` for the container at `depth + 1`: depths stay below
/// [`MAX_DEPTH`] (at most 64), so the shift never wraps.
const fn depth_bit(depth: usize) -> u64 {
    1u64.wrapping_shl(depth as u32)
}

/// Where the plain run of a string's text that starts at `at` ends: the index of the next quote,
/// backslash or control character, or `src.len()`. Found eight bytes at a time: strings are most
/// of a payload (hundreds of group names), so this is the reader's inner loop.
fn plain_run_end(src: &[u8], at: usize) -> usize {
    let rest = src.get(at..).unwrap_or_default();
    let run = scan::position(rest, scan::string_end, |b| b == b'"' || b == b'\\' || b < 0x20);
    // `run <= rest.len()`: the sum stays within `src`.
    at.wrapping_add(run)
}

/// A string as it appears between its quotes: validated, not yet unescaped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawStr<'a> {
    /// The bytes between the quotes.
    pub(crate) raw: &'a [u8],
    /// Where `raw` starts in the document, for unescaping in place later.
    pub(crate) start: usize,
    /// Whether `raw` holds escape sequences (so it is not yet the string's value).
    pub(crate) escaped: bool,
}

impl RawStr<'_> {
    /// Checks that the string unescapes (it holds no lone surrogate).
    pub(crate) fn check_unescapes(&self) -> Result<(), JsonError> {
        unescape_pieces(self.raw, |_| ())
    }

    /// The position in `table` of the unescaped string; only strings of up to 8 bytes are
    /// looked for, which every member name and value this crate matches is.
    pub(crate) fn find_in(&self, table: &[&str]) -> Result<Option<usize>, JsonError> {
        let mut buf = [0u8; 8];
        // A string without escapes is its own value: compared as it is, without a copy.
        let found = if self.escaped {
            self.unescape_into(&mut buf)?
        } else {
            Some(self.raw).filter(|raw| raw.len() <= buf.len())
        };
        Ok(found.and_then(|value| table.iter().position(|t| t.as_bytes() == value)))
    }

    /// Whether the unescaped string is `other` (false when it holds a lone surrogate).
    pub(crate) fn eq_str(&self, other: &str) -> bool {
        if !self.escaped {
            return self.raw == other.as_bytes();
        }
        let mut rest = other.as_bytes();
        let mut same = true;
        let done = unescape_pieces(self.raw, |piece| match rest.strip_prefix(piece) {
            Some(after) if same => rest = after,
            _ => same = false,
        });
        done.is_ok() && same && rest.is_empty()
    }

    /// Whether the unescaped string is `expected` (at most 8 bytes).
    pub(crate) fn is(&self, expected: &str) -> Result<bool, JsonError> {
        Ok(self.find_in(&[expected])?.is_some())
    }

    /// The unescaped value into `out`, or `None` when it does not fit.
    pub(crate) fn unescape_into<'o>(&self, out: &'o mut [u8]) -> Result<Option<&'o [u8]>, JsonError> {
        let len = unescape_to(self.raw, out)?;
        Ok(len.and_then(|len| out.get(..len)))
    }
}

/// The type of the next value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Number,
    Object,
    Array,
    Bool,
    Null,
}

/// A pull reader: callers open containers, ask for members or elements and read or skip values.
pub(crate) struct Reader<'a> {
    src: &'a [u8],
    pos: usize,
    depth: usize,
    /// Bit `d` set: the container at depth `d + 1` is an array.
    arrays: u64,
    /// The innermost open container has yielded nothing yet (so no comma is due).
    first: bool,
}

impl<'a> Reader<'a> {
    /// A reader over `src`, which must be UTF-8 (checked here once, so the scanner can treat
    /// bytes of multi-byte characters as opaque).
    pub(crate) fn new(src: &'a [u8]) -> Result<Self, JsonError> {
        core::str::from_utf8(src).map_err(|_| JsonError::Utf8)?;
        Ok(Reader { src, pos: 0, depth: 0, arrays: 0, first: false })
    }

    /// A reader over text already known to be UTF-8.
    pub(crate) fn from_text(src: &'a str) -> Self {
        Reader { src: src.as_bytes(), pos: 0, depth: 0, arrays: 0, first: false }
    }

    /// Where the reader is, after any white space: the start of the next value.
    pub(crate) fn position(&mut self) -> usize {
        self.skip_ws();
        self.pos
    }

    /// Where the reader is: just after the last value read.
    pub(crate) fn offset(&self) -> usize {
        self.pos
    }

    /// Reads `true` or `false`.
    pub(crate) fn boolean(&mut self) -> Result<bool, JsonError> {
        self.skip_ws();
        if self.peek() == b't' { self.literal(b"true").map(|()| true) } else { self.literal(b"false").map(|()| false) }
    }

    /// Reads the members of the object just opened, up to its end, refusing a name that repeats
    /// (compared unescaped); `on_member` gets each name's position in `names` and consumes the
    /// value.
    pub(crate) fn members(
        &mut self,
        part: Part,
        names: &[NameKey],
        mut on_member: impl FnMut(Option<usize>, &mut Reader<'a>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let fail = |reason| Error::Json { part, reason };
        let mut seen = MemberNames::new(part);
        while let Some(name) = self.member().map_err(fail)? {
            let key = seen.insert(name)?;
            on_member(names.iter().position(|known| *known == key), self)?;
        }
        Ok(())
    }

    /// Opens the top-level value, which must be an object.
    pub(crate) fn document(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() != b'{' {
            return Err(JsonError::NotObject);
        }
        self.object()
    }

    /// Checks that nothing but white space follows the top-level value.
    pub(crate) fn finish(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.pos == self.src.len() { Ok(()) } else { Err(JsonError::TrailingBytes) }
    }

    /// The kind of the next value, without consuming it.
    pub(crate) fn peek_kind(&mut self) -> Result<Kind, JsonError> {
        self.skip_ws();
        Ok(match self.peek() {
            b'"' => Kind::String,
            b'-' | b'0'..=b'9' => Kind::Number,
            b'{' => Kind::Object,
            b'[' => Kind::Array,
            b't' | b'f' => Kind::Bool,
            b'n' => Kind::Null,
            _ => return Err(JsonError::Syntax),
        })
    }

    /// Opens an object.
    pub(crate) fn object(&mut self) -> Result<(), JsonError> {
        self.open(b'{', false)
    }

    /// Opens an array.
    pub(crate) fn array(&mut self) -> Result<(), JsonError> {
        self.open(b'[', true)
    }

    /// The next member name of the innermost object (its value is next), or `None` at its end.
    // Always inlined on 64-bit targets: returned through memory, the name was read back whole
    // before the stores that wrote it had landed, stalling once a member (a tenth of a token
    // without groups; `#[inline]` alone left it a call). Elsewhere a call: each inlined copy
    // costs WebAssembly bytes.
    #[allow(clippy::inline_always)]
    #[cfg_attr(target_pointer_width = "64", inline(always))]
    pub(crate) fn member(&mut self) -> Result<Option<RawStr<'a>>, JsonError> {
        if !self.next_item(b'}')? {
            return Ok(None);
        }
        self.skip_ws();
        if self.peek() != b'"' {
            return Err(JsonError::Syntax);
        }
        let name = self.string()?;
        self.skip_ws();
        self.expect(b':')?;
        Ok(Some(name))
    }

    /// Whether the innermost array has another element (which is next).
    pub(crate) fn element(&mut self) -> Result<bool, JsonError> {
        self.next_item(b']')
    }

    /// Reads a string value.
    pub(crate) fn string(&mut self) -> Result<RawStr<'a>, JsonError> {
        self.skip_ws();
        self.expect(b'"')?;
        let start = self.pos;
        let escaped = self.string_rest()?;
        self.string_from(start, escaped)
    }

    /// Reads the elements of the array just opened, up to its end, handing each to `each`;
    /// an element that is not a string is `not_string`.
    ///
    /// The same grammar as [`element`](Self::element), [`peek_kind`](Self::peek_kind) and
    /// [`string`](Self::string) in turn, with a shortcut for the form every encoder writes, `","`
    /// between elements: Pomerium's groups can number hundreds, and the per-element steps cost
    /// more than scanning the short strings themselves.
    pub(crate) fn string_elements(
        &mut self,
        fail: impl Fn(JsonError) -> Error,
        not_string: Error,
        mut each: impl FnMut(RawStr<'a>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        while self.element().map_err(&fail)? {
            self.skip_ws();
            if self.peek() != b'"' {
                self.peek_kind().map_err(&fail)?;
                return Err(not_string);
            }
            // Just after an opening quote. A string without escapes is read here; any other by
            // the general reader, which goes on from where the plain run ended.
            let src = self.src;
            let mut at = self.pos.saturating_add(1);
            loop {
                let start = at;
                let end = plain_run_end(src, start);
                let string = match (src.get(start..end), src.get(end)) {
                    (Some(raw), Some(b'"')) => {
                        at = end.saturating_add(1);
                        RawStr { raw, start, escaped: false }
                    }
                    _ => {
                        self.pos = end;
                        let escaped = self.string_rest().map_err(&fail)?;
                        let string = self.string_from(start, escaped).map_err(&fail)?;
                        at = self.pos;
                        string
                    }
                };
                each(string)?;
                if src.get(at..at.saturating_add(2)) != Some(b",\"") {
                    break;
                }
                at = at.saturating_add(2);
            }
            self.pos = at;
        }
        Ok(())
    }

    /// Reads the rest of a string, from inside its text (just after its opening quote, or past
    /// plain text of it, which is not read again) to just after its closing quote; returns
    /// whether it holds escapes.
    // A `bool`, not the string: a result this small comes back in registers, where a `RawStr`
    // came back through memory and was read back before the stores had landed (a stall a call).
    fn string_rest(&mut self) -> Result<bool, JsonError> {
        let mut escaped = false;
        loop {
            // Jump to the next quote, backslash or control character.
            self.pos = plain_run_end(self.src, self.pos);
            if self.pos == self.src.len() {
                return Err(JsonError::Syntax); // unterminated
            }
            match self.bump() {
                b'"' => return Ok(escaped),
                b'\\' => {
                    self.escape()?;
                    // Escapes often come in runs (`\ud83d\ude00`, a string Go escaped): take
                    // each next one here rather than searching for it.
                    while self.eat(b'\\') {
                        self.escape()?;
                    }
                    escaped = true;
                }
                _ => return Err(JsonError::ControlCharacter),
            }
        }
    }

    /// The string whose text starts at `start` and that the reader has just read to its end.
    fn string_from(&self, start: usize, escaped: bool) -> Result<RawStr<'a>, JsonError> {
        let raw = self.src.get(start..self.pos.saturating_sub(1)).ok_or(JsonError::Syntax)?;
        Ok(RawStr { raw, start, escaped })
    }

    /// Reads a number value and returns its text, checked against the RFC 8259 grammar.
    pub(crate) fn number(&mut self) -> Result<&'a [u8], JsonError> {
        self.skip_ws();
        let start = self.pos;
        self.eat(b'-');
        match self.bump() {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return Err(JsonError::Syntax),
        }
        if self.eat(b'.') {
            self.digits1()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _sign = self.eat(b'+') || self.eat(b'-');
            self.digits1()?;
        }
        self.src.get(start..self.pos).ok_or(JsonError::Syntax)
    }

    /// Reads `null`.
    pub(crate) fn null(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        self.literal(b"null")
    }

    /// Skips one value of any kind, checking it fully, without recursion.
    ///
    /// A state machine over the bytes rather than calls of `member` and `element`: a forged
    /// header can be all brackets, the JSON that costs the most per byte, and this keeps that
    /// cost within a small factor of reading strings.
    pub(crate) fn skip_value(&mut self) -> Result<(), JsonError> {
        let base = self.depth;
        loop {
            // A value; a container that opens with an item goes round again for it.
            self.skip_ws();
            match self.peek() {
                b'"' => self.string().map(drop)?,
                b'[' => {
                    self.pos = self.pos.saturating_add(1);
                    self.push(true)?;
                    self.skip_ws();
                    if !self.eat(b']') {
                        continue;
                    }
                    self.pop();
                }
                b'{' => {
                    self.pos = self.pos.saturating_add(1);
                    self.push(false)?;
                    self.skip_ws();
                    if !self.eat(b'}') {
                        self.member_name()?;
                        continue;
                    }
                    self.pop();
                }
                b't' | b'f' => self.boolean().map(drop)?,
                b'n' => self.null()?,
                _ => self.number().map(drop)?,
            }
            // The value is complete: close containers, or move on to the next item.
            loop {
                if self.depth <= base {
                    // The container the value belongs to has yielded an item.
                    self.first = false;
                    return Ok(());
                }
                self.skip_ws();
                let array = self.in_array();
                match self.bump() {
                    b',' if array => break,
                    b',' => {
                        self.member_name()?;
                        break;
                    }
                    b']' if array => self.pop(),
                    b'}' if !array => self.pop(),
                    _ => return Err(JsonError::Syntax),
                }
            }
        }
    }

    /// A member name and its colon, inside a value being skipped.
    fn member_name(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() != b'"' {
            return Err(JsonError::Syntax);
        }
        self.string()?;
        self.skip_ws();
        self.expect(b':')
    }

    /// Leaves the innermost container, whose closing byte was just consumed.
    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn open(&mut self, byte: u8, array: bool) -> Result<(), JsonError> {
        self.skip_ws();
        self.expect(byte)?;
        self.push(array)
    }

    /// Enters a container whose opening byte was just consumed.
    fn push(&mut self, array: bool) -> Result<(), JsonError> {
        if self.depth >= MAX_DEPTH {
            return Err(JsonError::TooDeep);
        }
        let bit = depth_bit(self.depth);
        if array {
            self.arrays |= bit
        } else {
            self.arrays &= !bit
        }
        self.depth = self.depth.saturating_add(1);
        self.first = true;
        Ok(())
    }

    fn in_array(&self) -> bool {
        let Some(top) = self.depth.checked_sub(1) else {
            return false;
        };
        self.arrays & depth_bit(top) != 0
    }

    /// Consumes the separator before the next item of the innermost container, or its closing
    /// byte (then returns `false`).
    fn next_item(&mut self, close: u8) -> Result<bool, JsonError> {
        self.skip_ws();
        if self.eat(close) {
            self.depth = self.depth.saturating_sub(1);
            // The closed container was a value of its parent, which has yielded an item.
            self.first = false;
            return Ok(false);
        }
        if !self.first {
            self.expect(b',')?;
        }
        self.first = false;
        Ok(true)
    }

    fn escape(&mut self) -> Result<(), JsonError> {
        match self.bump() {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => {
                let end = self.pos.saturating_add(4);
                match self.src.get(self.pos..end) {
                    Some(digits) if escape::is_hex4(digits) => {
                        self.pos = end;
                        Ok(())
                    }
                    _ => Err(JsonError::Escape),
                }
            }
            _ => Err(JsonError::Escape),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        let end = self.pos.saturating_add(word.len());
        if self.src.get(self.pos..end) != Some(word) {
            return Err(JsonError::Syntax);
        }
        self.pos = end;
        Ok(())
    }

    fn digits(&mut self) {
        while self.peek().is_ascii_digit() {
            self.pos = self.pos.saturating_add(1);
        }
    }

    fn digits1(&mut self) -> Result<(), JsonError> {
        if !self.peek().is_ascii_digit() {
            return Err(JsonError::Syntax);
        }
        self.digits();
        Ok(())
    }

    fn skip_ws(&mut self) {
        // Every white space byte is at most b' ', and nearly every byte met here is not white
        // space (Go writes none): one comparison decides the common case.
        while let Some(&byte) = self.src.get(self.pos) {
            if byte > b' ' || !matches!(byte, b' ' | b'\t' | b'\n' | b'\r') {
                return;
            }
            self.pos = self.pos.saturating_add(1);
        }
    }

    /// The next byte, or [`END`] past the last one. Returning a plain byte rather than an
    /// `Option` keeps it in a register: as an `Option`, every call goes through memory, which
    /// doubled the reader's WebAssembly size.
    fn peek(&self) -> u8 {
        self.src.get(self.pos).copied().unwrap_or(END)
    }

    /// Consumes the next byte and returns it; at the end, consumes nothing and returns [`END`].
    fn bump(&mut self) -> u8 {
        let b = self.peek();
        if self.pos < self.src.len() {
            self.pos = self.pos.saturating_add(1);
        }
        b
    }

    fn eat(&mut self, byte: u8) -> bool {
        let hit = self.peek() == byte && byte != END;
        if hit {
            self.pos = self.pos.saturating_add(1);
        }
        hit
    }

    fn expect(&mut self, byte: u8) -> Result<(), JsonError> {
        if self.eat(byte) { Ok(()) } else { Err(JsonError::Syntax) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skip_all(doc: &[u8]) -> Result<(), JsonError> {
        let mut r = Reader::new(doc)?;
        r.document()?;
        while r.member()?.is_some() {
            r.skip_value()?;
        }
        r.finish()
    }

    #[test]
    fn accepts_well_formed_documents() {
        for doc in [
            &br#"{}"#[..],
            br#" { "a" : [ ] , "b" : { } } "#,
            br#"{"a":[1,-0,0.5,1e5,1E+5,-1.25e-3,"x",true,false,null,{"b":[[]]}]}"#,
            br#"{"s":"\"\\\/\b\f\n\r\t\u0000\ud83d\ude00\ud800"}"#,
            "{\"\u{e9}\":\"\u{1f600}\"}".as_bytes(),
        ] {
            assert_eq!(skip_all(doc), Ok(()), "{}", core::str::from_utf8(doc).unwrap_or("?"));
        }
    }

    #[test]
    fn rejects_malformed_documents() {
        use JsonError::*;
        let cases: &[(&[u8], JsonError)] = &[
            (b"", NotObject),
            (b"[]", NotObject),
            (b"\xef\xbb\xbf{}", NotObject),
            (b"{} x", TrailingBytes),
            (b"{}{}", TrailingBytes),
            (b"{", Syntax),
            (b"{,}", Syntax),
            (br#"{"a":1,}"#, Syntax),
            (br#"{"a":1 "b":2}"#, Syntax),
            (br#"{"a":[] "b":2}"#, Syntax),
            (br#"{"a":[1,]}"#, Syntax),
            (br#"{"a":[,1]}"#, Syntax),
            (br#"{"a" 1}"#, Syntax),
            (br#"{a:1}"#, Syntax),
            (br#"{"a":01}"#, Syntax),
            (br#"{"a":1.}"#, Syntax),
            (br#"{"a":.5}"#, Syntax),
            (br#"{"a":+1}"#, Syntax),
            (br#"{"a":1e}"#, Syntax),
            (br#"{"a":-}"#, Syntax),
            (br#"{"a":NaN}"#, Syntax),
            (br#"{"a":tru}"#, Syntax),
            (br#"{"a":nul}"#, Syntax),
            (br#"{"a":"x}"#, Syntax),
            (b"{\"a\":\"\x01\"}", ControlCharacter),
            (b"{\"a\":\"\n\"}", ControlCharacter),
            // A control character as the last byte, and NUL (the reader's end marker) too.
            (b"{\"a\":\"\x01", ControlCharacter),
            (b"{\"a\":\"\x00", ControlCharacter),
            (b"{\"a\":\"abcdefghijklmnop\x00", ControlCharacter),
            (b"{\"a\":\"abcdefghijklmnop", Syntax),
            (br#"{"a":"\x"}"#, Escape),
            (br#"{"a":"\u12"}"#, Escape),
            (br#"{"a":"\u12g4"}"#, Escape),
            (b"{\"a\":\"\xff\"}", Utf8),
            (b"{\"a\":\"\xc0\xaf\"}", Utf8),
            (b"{\"a\":\"\xed\xa0\x80\"}", Utf8),
        ];
        for (doc, want) in cases {
            assert_eq!(skip_all(doc), Err(*want), "{}", String::from_utf8_lossy(doc));
        }
    }

    extern crate std;
    use std::string::String;

    #[test]
    fn nesting_is_bounded_without_recursion() {
        let mut ok = String::from(r#"{"a":"#);
        let inner = MAX_DEPTH - 1;
        ok.extend(core::iter::repeat_n('[', inner));
        ok.extend(core::iter::repeat_n(']', inner));
        ok.push('}');
        assert_eq!(skip_all(ok.as_bytes()), Ok(()));

        let mut deep = String::from(r#"{"a":"#);
        deep.extend(core::iter::repeat_n('[', MAX_DEPTH));
        deep.extend(core::iter::repeat_n(']', MAX_DEPTH));
        deep.push('}');
        assert_eq!(skip_all(deep.as_bytes()), Err(JsonError::TooDeep));

        let huge: String = core::iter::repeat_n('[', 100_000).collect();
        let doc = std::format!(r#"{{"a":{huge}"#);
        assert_eq!(skip_all(doc.as_bytes()), Err(JsonError::TooDeep));
    }

    #[test]
    fn string_comparisons_unescape() {
        let mut r = Reader::new(br#"{"\u0061ud":"a\u0026b","aud":"x"}"#).unwrap();
        r.document().unwrap();
        let escaped = r.member().unwrap().unwrap();
        let value = r.string().unwrap();
        let plain = r.member().unwrap().unwrap();
        assert!(escaped.escaped && !plain.escaped && value.escaped);
        assert!(escaped.is("aud").unwrap());
        assert_eq!(escaped.find_in(&["iss", "aud"]), Ok(Some(1)));
        assert_eq!(plain.find_in(&["iss", "au"]), Ok(None));
        assert!(value.is("a&b").unwrap());
        assert!(!value.is("a&").unwrap());
        assert!(!value.is("a&bc").unwrap());
    }

    /// What a string array read yields: each string (where it starts, its raw bytes, whether it
    /// has escapes) and how the read ended, with where the reader then is.
    type ArrayRead = (std::vec::Vec<(usize, std::vec::Vec<u8>, bool)>, Result<usize, Error>);

    /// `Reader::string_elements` over the array that opens `doc`.
    fn fast(doc: &[u8]) -> ArrayRead {
        let mut strings = std::vec::Vec::new();
        let mut r = Reader { src: doc, pos: 0, depth: 0, arrays: 0, first: false };
        let fail = |reason| Error::Json { part: Part::Payload, reason };
        let done = r.array().map_err(fail).and_then(|()| {
            r.string_elements(fail, Error::InvalidClaim(crate::error::Claim::Groups), |s| {
                strings.push((s.start, s.raw.to_vec(), s.escaped));
                Ok(())
            })
        });
        (strings, done.map(|()| r.pos))
    }

    /// The same with the general steps, element by element: the reference.
    fn general(doc: &[u8]) -> ArrayRead {
        let mut strings = std::vec::Vec::new();
        let mut r = Reader { src: doc, pos: 0, depth: 0, arrays: 0, first: false };
        let fail = |reason| Error::Json { part: Part::Payload, reason };
        let mut read = || -> Result<(), Error> {
            r.array().map_err(fail)?;
            while r.element().map_err(fail)? {
                if r.peek_kind().map_err(fail)? != Kind::String {
                    return Err(Error::InvalidClaim(crate::error::Claim::Groups));
                }
                let s = r.string().map_err(fail)?;
                strings.push((s.start, s.raw.to_vec(), s.escaped));
            }
            Ok(())
        };
        let done = read();
        (strings, done.map(|()| r.pos))
    }

    /// The shortcut for `","` between strings reads exactly what the general steps read: the
    /// same strings, the same error, the reader left at the same place, for arrays with every
    /// kind of separator and element, and every one-byte change of them.
    #[test]
    fn string_arrays_read_alike_by_shortcut_and_general_steps() {
        let samples: [&[u8]; 8] = [
            br#"["ab","c\"d","",  "e" ,"\u0026f","g"]"#,
            br#"["0123456789abcdef0123456789","x","0123456"]"#,
            br#"[ ]"#,
            br#"["a",1,"b"]"#,
            br#"["a","b",]"#,
            br#"["a""b"]"#,
            b"[\"a\",\"\x01\"]",
            br#"["a","b""#,
        ];
        for sample in samples {
            assert_eq!(fast(sample), general(sample), "{}", sample.escape_ascii());
            for cut in 0..sample.len() {
                assert_eq!(fast(&sample[..cut]), general(&sample[..cut]), "{}", sample[..cut].escape_ascii());
            }
        }
        let base = br#"["ab","c\"d","","e","\u0026f","0123456789abcdef"]"#;
        for at in 0..base.len() {
            for byte in 0..=255u8 {
                let mut doc = base.to_vec();
                doc[at] = byte;
                assert_eq!(fast(&doc), general(&doc), "{}", doc.escape_ascii());
            }
        }
        // The sample is read whole, every string by the shortcut or the general reader.
        let (strings, end) = fast(base);
        assert_eq!(strings.len(), 6);
        assert_eq!(end, Ok(base.len()));
    }
}
