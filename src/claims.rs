//! The claims a Pomerium token carries, read with fixed types into borrowed, unescaped strings.
//!
//! The decoded payload is never changed: it stays the JSON exactly as signed
//! ([`Claims::payload`]). One walk over it checks every member and records where each known
//! claim's string lies (index spans, no borrows); a string that holds escapes is copied there and
//! then, unescaped, into the free space after the payload in the caller's buffer, and its span
//! points at the copy. Strings without escapes, nearly all of them, are slices of the payload
//! itself. Payload and copies are checked as UTF-8 once, and every claim is a slice of them.

use core::fmt;
use core::ops::Range;

use crate::error::{Capacity, Claim, Error, JsonError, Part};
use crate::json::{self, Kind, RawStr, Reader, unescape_checked_to};
use crate::time::numeric_date;
use crate::value::{Members, Value};

/// Where a string's value lies in the payload-and-copies text: between the quotes of a string
/// without escapes in the payload, or one whole unescaped copy after it.
///
/// Either way both ends are character boundaries of that text once it is UTF-8: a quote is a
/// one-byte character, and each copy is the complete UTF-8 of one string (see [`Copies`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    len: u32,
}

impl Span {
    pub(crate) const EMPTY: Span = Span { start: 0, len: 0 };

    fn new(start: usize, len: usize) -> Result<Span, Error> {
        match (u32::try_from(start), u32::try_from(len)) {
            (Ok(start), Ok(len)) => Ok(Span { start, len }),
            _ => Err(Error::Capacity(Capacity::Scratch)),
        }
    }

    fn range(self) -> Range<usize> {
        let start = self.start as usize;
        start..start.saturating_add(self.len as usize)
    }
}

/// Claims of a token whose signature and time, audience and issuer checks all passed.
///
/// Only the verifier makes values of this type. Strings borrow from the caller's
/// [`Buffers`](crate::Buffers) and are fully unescaped (`\u0026` is `&`).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Claims<'b> {
    /// `iss`: who issued the token (the route's host, for current Pomerium).
    pub iss: &'b str,
    /// `aud`: a string, or an array of strings.
    pub aud: Audience<'b>,
    /// `sub`: the user's id at the identity provider.
    pub sub: Option<&'b str>,
    /// `email`.
    pub email: Option<&'b str>,
    /// `user`: Pomerium's user id.
    pub user: Option<&'b str>,
    /// `name`.
    pub name: Option<&'b str>,
    /// `sid`: the Pomerium session id.
    pub sid: Option<&'b str>,
    /// `jti`: the token id.
    pub jti: Option<&'b str>,
    /// `groups`, in token order; empty when absent or `null`.
    pub groups: Strings<'b>,
    /// `exp`, in whole seconds.
    pub exp: u64,
    /// `iat`, in whole seconds.
    pub iat: u64,
    /// `nbf`, in whole seconds, when present.
    pub nbf: Option<u64>,
    /// The payload JSON exactly as signed.
    pub(crate) payload: &'b str,
    /// The position of the key that verified the signature, set by the verifier.
    pub(crate) key_index: usize,
}

impl<'b> Claims<'b> {
    /// The payload JSON exactly as signed: the decoded payload, byte for byte (escapes and white
    /// space as the issuer wrote them), for a JSON library of your choice.
    pub fn payload(&self) -> &'b str {
        self.payload
    }

    /// Which key verified the signature: its position in [`KeySet::keys`](crate::KeySet::keys)
    /// (the order the keys were added). During a rotation it tells whether a token was signed by
    /// the old key or the new one; a service can log it, or map it to the key's kid.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    /// The claim named `name` (names compared unescaped: `"\u0067iven_name"` is `given_name`),
    /// any claim of the token, Pomerium's `jwt_claims_headers` claims included.
    ///
    /// ```
    /// # fn f(claims: &pomerium_jwt::Claims<'_>) {
    /// use pomerium_jwt::Value;
    /// if let Some(Value::String(department)) = claims.get("department") {
    ///     assert!(department == "R&D"); // compared unescaped: the token may say "R&D"
    /// }
    /// # }
    /// ```
    pub fn get(&self, name: &str) -> Option<Value<'b>> {
        self.members().find(|(n, _)| n.eq_str(name)).map(|(_, value)| value)
    }

    /// Every claim of the token, in token order, with its value.
    pub fn members(&self) -> Members<'b> {
        Members::new(self.payload)
    }

    /// The verified claims deserialized into a type of yours (feature `serde`), with
    /// `serde-json-core`: no_std, no allocation. It reads [`Claims::payload`], which this crate's
    /// strict parser has already accepted (duplicates, escaped names, UTF-8, nesting), and the
    /// policy checks have passed.
    ///
    /// Limits of `serde-json-core`, which the typed fields and [`Claims::get`] do not have:
    /// - a string that holds escapes cannot be borrowed as `&'b str` (it is not in the payload
    ///   as its value): use an owned type such as `heapless::String<N>` for fields Go may escape
    ///   (`&`, `<`, `>` become `\u0026`, `\u003c`, `\u003e`); `scratch` holds one such string
    ///   while it is unescaped, so make it as long as the longest;
    /// - an escaped surrogate pair (`\ud83d\ude00`) is refused; raw UTF-8 (as Go writes it) is
    ///   fine;
    /// - unknown members are skipped, so list only the claims you want.
    ///
    /// # Errors
    /// [`Error::Deserialize`] when the payload does not fit `T` (a missing field, a wrong type,
    /// an escaped string into `&str`, a string longer than `scratch`).
    #[cfg(feature = "serde")]
    pub fn deserialize<T: serde::Deserialize<'b>>(&self, scratch: &mut [u8]) -> Result<T, Error> {
        serde_json_core::from_str_escaped(self.payload, scratch).map(|(value, _)| value).map_err(|_| Error::Deserialize)
    }
}

/// The `aud` claim in the form the token used.
#[derive(Clone, Copy, Debug)]
pub enum Audience<'b> {
    /// `"aud": "host"` (current Pomerium).
    One(&'b str),
    /// `"aud": ["host", ...]` (older releases).
    Many(Strings<'b>),
}

impl Audience<'_> {
    /// Whether the audience is, or contains, `aud`.
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(one) => *one == aud,
            Audience::Many(many) => many.iter().any(|a| a == aud),
        }
    }
}

/// A list of strings from the token (`groups`, or an array `aud`), in token order.
#[derive(Clone, Copy)]
pub struct Strings<'b> {
    text: &'b str,
    spans: &'b [Span],
}

impl<'b> Strings<'b> {
    /// How many strings there are.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The string at `index`.
    pub fn get(&self, index: usize) -> Option<&'b str> {
        self.spans.get(index).and_then(|span| self.at(*span))
    }

    /// Whether one of the strings equals `value`.
    pub fn contains(&self, value: &str) -> bool {
        self.iter().any(|s| s == value)
    }

    /// The strings, in order.
    pub fn iter(&self) -> StringsIter<'b> {
        StringsIter { text: self.text, spans: self.spans.iter() }
    }

    fn at(&self, span: Span) -> Option<&'b str> {
        // Every span was checked to lie on character boundaries when the claims were made.
        self.text.get(span.range())
    }
}

impl fmt::Debug for Strings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'b> IntoIterator for Strings<'b> {
    type Item = &'b str;
    type IntoIter = StringsIter<'b>;

    fn into_iter(self) -> StringsIter<'b> {
        self.iter()
    }
}

/// Iterator over [`Strings`].
#[derive(Clone, Debug)]
pub struct StringsIter<'b> {
    text: &'b str,
    spans: core::slice::Iter<'b, Span>,
}

impl<'b> Iterator for StringsIter<'b> {
    type Item = &'b str;

    fn next(&mut self) -> Option<&'b str> {
        let span = self.spans.next()?;
        Strings { text: self.text, spans: &[] }.at(*span)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl ExactSizeIterator for StringsIter<'_> {}

/// The claims this crate reads, by member name: the string claims in [`Claims`]' order and
/// `aud` (a string, or an array), then the dates and `groups`.
const KNOWN: [Claim; 12] = {
    use Claim::*;
    [Iss, Sub, Email, User, Name, Sid, Jti, Aud, Exp, Iat, Nbf, Groups]
};
const STRINGS: usize = 8;
const DATES: usize = 3;
const NAMES: [json::NameKey; 12] = json::keys_of(names(KNOWN));

/// The member names of `claims`.
// Evaluated at compile time only (above): an index out of bounds would fail the build.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn names(claims: [Claim; 12]) -> [&'static str; 12] {
    let mut names = [""; 12];
    let mut i = 0;
    while i < claims.len() {
        names[i] = claims[i].name();
        i += 1;
    }
    names
}

/// Where each known claim lies, before unescaping.
#[derive(Default)]
struct Located {
    /// `iss sub email user name sid jti`, and `aud` when it is a string, as in [`KNOWN`].
    strings: [Option<Span>; STRINGS],
    /// `aud` when it is an array: its entries in the span list.
    audiences: Option<Range<usize>>,
    /// `exp iat nbf`.
    dates: [Option<u64>; DATES],
    /// Entries of `groups` in the span list.
    groups: Range<usize>,
    /// How many entries of the span list are used.
    used: usize,
}

/// Reads the claims from the decoded payload, `buffer[..payload_len]`; the rest of `buffer` takes
/// the unescaped copies of strings with escapes. Array entries go to `spans`.
pub(crate) fn read<'b>(buffer: &'b mut [u8], payload_len: usize, spans: &'b mut [Span]) -> Result<Claims<'b>, Error> {
    let (payload, free) = buffer.split_at_mut_checked(payload_len).ok_or(Error::Capacity(Capacity::Unescaped))?;
    // The JSON is read before its UTF-8 is checked, so that one pass checks payload and copies
    // together; a payload that is not UTF-8 is refused as such whatever else is wrong with it.
    let mut copies = Copies { payload_len, free, used: 0 };
    let found = match locate(payload, &mut copies, spans) {
        Ok(found) => found,
        Err(_) if core::str::from_utf8(payload).is_err() => return Err(payload_json(JsonError::Utf8)),
        Err(e) => return Err(e),
    };
    let spans: &'b [Span] = spans.get(..found.used).ok_or(Error::Capacity(Capacity::Groups))?;

    // Payload and copies are UTF-8 (see `Copies`): one check, then every claim is a slice.
    let end = payload_len.saturating_add(copies.used);
    let text: &'b str =
        buffer.get(..end).and_then(|bytes| core::str::from_utf8(bytes).ok()).ok_or(payload_json(JsonError::Utf8))?;
    let mut strings = [None; STRINGS];
    for (out, span) in strings.iter_mut().zip(found.strings) {
        *out = span.map(|span| text.get(span.range()).ok_or(payload_json(JsonError::Syntax))).transpose()?;
    }
    // No span of a list is checked here: each lies on character boundaries (see `Span`), and
    // `Strings` reads them with `str::get` all the same.
    let list = |range: Range<usize>| -> Result<Strings<'b>, Error> {
        Ok(Strings { text, spans: spans.get(range).ok_or(Error::Capacity(Capacity::Groups))? })
    };
    let [iss, sub, email, user, name, sid, jti, aud] = strings;
    let [exp, iat, nbf] = found.dates;
    Ok(Claims {
        iss: iss.ok_or(Error::MissingClaim(Claim::Iss))?,
        aud: match (aud, found.audiences) {
            (Some(one), _) => Audience::One(one),
            (None, Some(range)) => Audience::Many(list(range)?),
            (None, None) => return Err(Error::MissingClaim(Claim::Aud)),
        },
        sub,
        email,
        user,
        name,
        sid,
        jti,
        groups: list(found.groups)?,
        exp: exp.ok_or(Error::MissingClaim(Claim::Exp))?,
        iat: iat.ok_or(Error::MissingClaim(Claim::Iat))?,
        nbf,
        payload: text.get(..payload_len).ok_or(payload_json(JsonError::Utf8))?,
        key_index: 0,
    })
}

/// Unescaped copies of escaped strings, written one after another into the free part of the
/// buffer, which starts `payload_len` bytes into the text that spans index.
///
/// Each copy is the UTF-8 of one complete string once the payload is UTF-8 (its plain pieces lie
/// between ASCII bytes of the payload, and each escape is one whole character; a lone surrogate
/// is refused), so the copies are UTF-8 as a whole and each starts and ends on a boundary.
struct Copies<'f> {
    payload_len: usize,
    free: &'f mut [u8],
    used: usize,
}

impl Copies<'_> {
    /// The span of `string`'s value: where it lies in the payload, or, if it holds escapes, where
    /// its unescaped copy now lies.
    fn span(&mut self, string: RawStr<'_>) -> Result<Span, Error> {
        if string.escaped { self.copy(string.raw) } else { Span::new(string.start, string.raw.len()) }
    }

    /// Copies the raw text of a string with escapes, unescaped; returns the copy's span.
    // Not inlined: `span` is inlined into the reader's loops, which this would bloat.
    #[inline(never)]
    fn copy(&mut self, raw: &[u8]) -> Result<Span, Error> {
        let start = self.used;
        let out = self.free.get_mut(start..).unwrap_or_default();
        let len = unescape_checked_to(raw, out).map_err(payload_json)?.ok_or(Error::Capacity(Capacity::Unescaped))?;
        self.used = start.saturating_add(len);
        Span::new(self.payload_len.saturating_add(start), len).map_err(|_| Error::Capacity(Capacity::Unescaped))
    }
}

fn payload_json(reason: JsonError) -> Error {
    Error::Json { part: Part::Payload, reason }
}

/// Walks the JSON, checks every member, records where the known claims are (copying escaped
/// strings). The payload's UTF-8 is the caller's to check.
fn locate(payload: &[u8], copies: &mut Copies<'_>, spans: &mut [Span]) -> Result<Located, Error> {
    let mut found = Located::default();
    json::read_object_utf8_unchecked(payload, Part::Payload, &NAMES, |index, reader| {
        let Some(index) = index else {
            return reader.skip_value().map_err(payload_json);
        };
        let claim = KNOWN.get(index).copied().unwrap_or(Claim::Groups);
        let invalid = Error::InvalidClaim(claim);
        match (claim, reader.peek_kind().map_err(payload_json)?) {
            (_, Kind::String) if index < STRINGS => {
                let slot = found.strings.get_mut(index).ok_or(invalid)?;
                *slot = Some(copies.span(reader.string().map_err(payload_json)?)?);
            }
            (Claim::Exp | Claim::Iat | Claim::Nbf, Kind::Number) => {
                let date = numeric_date(reader.number().map_err(payload_json)?).ok_or(invalid)?;
                let slot = index.checked_sub(STRINGS).and_then(|i| found.dates.get_mut(i)).ok_or(invalid)?;
                *slot = Some(date);
            }
            (Claim::Aud, Kind::Array) => {
                found.audiences = Some(string_array(reader, copies, spans, &mut found.used, claim)?);
            }
            (Claim::Groups, Kind::Array) => found.groups = string_array(reader, copies, spans, &mut found.used, claim)?,
            (Claim::Groups, Kind::Null) => {
                reader.null().map_err(payload_json)?;
                found.groups = found.used..found.used;
            }
            _ => return Err(invalid),
        }
        Ok(())
    })?;
    Ok(found)
}

/// Reads an array whose elements must all be strings, appending their spans.
fn string_array(
    reader: &mut Reader<'_>,
    copies: &mut Copies<'_>,
    spans: &mut [Span],
    used: &mut usize,
    claim: Claim,
) -> Result<Range<usize>, Error> {
    let from = *used;
    reader.array().map_err(payload_json)?;
    reader.string_elements(payload_json, Error::InvalidClaim(claim), |string| {
        *spans.get_mut(*used).ok_or(Error::Capacity(Capacity::Groups))? = copies.span(string)?;
        *used = used.saturating_add(1);
        Ok(())
    })?;
    Ok(from..*used)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every entry of a list reads back whole and in order, plain ones from the payload and
    /// escaped ones from their copies, with multi-byte characters at either end of either kind:
    /// entries are not checked one by one when the claims are made (see `Span`).
    #[test]
    fn list_entries_read_back_whole() {
        let payload = r#"{"aud":["\u00e9\u0026","a"],"exp":1,"groups":["x","\u00e9","ü","R\u0026D ü","","\ud83d\ude00z","日本",""],"iat":1,"iss":"\u00fc"}"#;
        let mut buffer = [0u8; 512];
        buffer[..payload.len()].copy_from_slice(payload.as_bytes());
        let mut spans = [Span::EMPTY; 10];
        let claims = read(&mut buffer, payload.len(), &mut spans).unwrap();
        let groups = ["x", "é", "ü", "R&D ü", "", "😀z", "日本", ""];
        assert_eq!(claims.groups.len(), groups.len());
        assert!(claims.groups.iter().eq(groups));
        assert!((0..groups.len()).all(|i| claims.groups.get(i) == Some(groups[i])));
        let Audience::Many(aud) = claims.aud else { panic!("{:?}", claims.aud) };
        assert!(aud.iter().eq(["é&", "a"]));
        assert_eq!(claims.iss, "ü");
        assert_eq!(claims.payload(), payload);
    }

    /// A fault inside an escaped string that is read is reported where it stands: before a
    /// later duplicate or syntax error, after an earlier one.
    #[test]
    fn escaped_string_faults_are_reported_in_document_order() {
        let surrogate = Err(payload_json(JsonError::LoneSurrogate));
        let cases: [(&str, Result<(), Error>); 4] = [
            (r#"{"sub":"\ud800","sub":"x"}"#, surrogate),
            (r#"{"groups":["\ud800"],"iss":"a",}"#, surrogate),
            (r#"{"sub":"x","sub":"\ud800"}"#, Err(payload_json(JsonError::DuplicateMember))),
            (r#"{"iss":"a","iss":"b","groups":["\ud800"]}"#, Err(payload_json(JsonError::DuplicateMember))),
        ];
        for (payload, want) in cases {
            let mut buffer = [0u8; 256];
            buffer[..payload.len()].copy_from_slice(payload.as_bytes());
            let mut spans = [Span::EMPTY; 8];
            assert_eq!(read(&mut buffer, payload.len(), &mut spans).map(drop), want, "{payload}");
        }
    }

    /// The payload's UTF-8 is checked after its JSON is read (one pass with the copies); a
    /// payload that is not UTF-8 is still refused as such, whatever else is wrong with it.
    #[test]
    fn a_payload_that_is_not_utf8_is_refused_as_such() {
        let utf8 = Err(payload_json(JsonError::Utf8));
        let aud_exp = br#""aud":"a","exp":1,"iat":1,"iss":"a""#;
        let cases: [&[u8]; 9] = [
            b"{\"aud\":\"\xff\",\"exp\":1,\"iat\":1,\"iss\":\"a\"}",
            b"{\"aud\":\"a\\u0026\xff\",\"exp\":1,\"iat\":1,\"iss\":\"a\"}",
            b"{\"x\":\"\xc0\xaf\",\"aud\":\"a\",\"aud\":\"a\"}",
            b"{\"x\":\"\xff\"",
            b"{\"x\":\"\xff\"}{}",
            b"{\"x\":\"\xff\"}",
            b"{\"exp\":\"\xff\"}",
            b"{\"groups\":[\"\xed\xa0\x80\",1]}",
            b"{\"\xff\":1,\"\xff\":1}",
        ];
        for payload in cases {
            let mut buffer = [0u8; 256];
            buffer[..payload.len()].copy_from_slice(payload);
            let mut spans = [Span::EMPTY; 8];
            let got = read(&mut buffer, payload.len(), &mut spans).map(|_| ());
            assert_eq!(got, utf8, "{}", payload.escape_ascii());
        }
        // The same checks read a valid payload.
        let mut buffer = [0u8; 256];
        let valid = [b"{".as_slice(), aud_exp, b"}"].concat();
        buffer[..valid.len()].copy_from_slice(&valid);
        let mut spans = [Span::EMPTY; 8];
        assert!(read(&mut buffer, valid.len(), &mut spans).is_ok());
    }
}
