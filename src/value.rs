//! Any top-level claim of a verified token, by name or in token order: [`Value`], [`JsonStr`].
//!
//! Pomerium adds every claim an operator names in `jwt_claims_headers` to its tokens (strings,
//! several values joined with `,`). They are read from the verified payload, which is kept as
//! signed, on demand and without allocating: a lookup walks the payload once, linear in its
//! length, and cannot fail, since the whole payload was checked before the claims were returned.
//! A string is a [`JsonStr`]: its text as in the token, and its value, fully unescaped, through
//! comparison, [`JsonStr::unescape_into`] storage of yours, or as a plain `&str` when it holds
//! no escape (as nearly all do).

use core::fmt;

use crate::error::{Capacity, Error, JsonError, Part};
use crate::json::{Kind, RawStr, Reader, unescape_checked_to};

/// A JSON string of the token.
#[derive(Clone, Copy)]
pub struct JsonStr<'b> {
    /// The JSON text, quotes included.
    json: &'b str,
    escaped: bool,
}

impl<'b> JsonStr<'b> {
    /// The string as it is written in the token, with its quotes (escapes not decoded).
    #[must_use]
    pub fn json(&self) -> &'b str {
        self.json
    }

    /// The text between the quotes, as it is written in the token (escapes not decoded).
    #[must_use]
    pub fn raw(&self) -> &'b str {
        self.json.get(1..self.json.len().saturating_sub(1)).unwrap_or_default()
    }

    /// The value, when the string holds no escape sequence: then it is its own text.
    #[must_use]
    pub fn as_str(&self) -> Option<&'b str> {
        (!self.escaped).then(|| self.raw())
    }

    /// Whether the text holds escape sequences (so [`JsonStr::as_str`] is `None`).
    #[must_use]
    pub fn has_escapes(&self) -> bool {
        self.escaped
    }

    /// The value, unescaped into `out` (at most [`JsonStr::raw`]`.len()` bytes are needed).
    ///
    /// # Errors
    /// [`Capacity::Scratch`] when `out` is too short; [`JsonError::LoneSurrogate`] for a string
    /// holding a lone UTF-16 surrogate, which has no value as UTF-8.
    pub fn unescape_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o str, Error> {
        let len = unescape_checked_to(self.raw().as_bytes(), out)
            .map_err(|reason| Error::Json { part: Part::Payload, reason })?
            .ok_or(Error::Capacity(Capacity::Scratch))?;
        let value = out.get(..len).unwrap_or_default();
        core::str::from_utf8(value).map_err(|_| Error::Json { part: Part::Payload, reason: JsonError::Utf8 })
    }

    /// Whether the value equals `other`, compared unescaped (`"a\u0026b"` equals `"a&b"`); never
    /// for a string with a lone surrogate.
    #[must_use]
    pub fn eq_str(&self, other: &str) -> bool {
        RawStr { raw: self.raw().as_bytes(), start: 0, escaped: self.escaped }.eq_str(other)
    }
}

impl PartialEq<str> for JsonStr<'_> {
    fn eq(&self, other: &str) -> bool {
        self.eq_str(other)
    }
}

impl PartialEq<&str> for JsonStr<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.eq_str(other)
    }
}

impl fmt::Debug for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json)
    }
}

/// An array of strings of the token (`"groups"`, or a custom claim that is an array of strings).
#[derive(Clone, Copy)]
pub struct JsonStrs<'b> {
    /// The array's JSON text.
    json: &'b str,
    len: usize,
}

impl<'b> JsonStrs<'b> {
    /// The array as it is written in the token.
    #[must_use]
    pub fn json(&self) -> &'b str {
        self.json
    }

    /// How many strings it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The strings, in order.
    #[must_use]
    pub fn iter(&self) -> JsonStrsIter<'b> {
        let mut reader = Reader::from_text(self.json);
        let open = reader.array().is_ok();
        JsonStrsIter { text: self.json, reader, open }
    }
}

impl fmt::Debug for JsonStrs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'b> IntoIterator for JsonStrs<'b> {
    type Item = JsonStr<'b>;
    type IntoIter = JsonStrsIter<'b>;

    fn into_iter(self) -> JsonStrsIter<'b> {
        self.iter()
    }
}

/// Iterator over [`JsonStrs`].
pub struct JsonStrsIter<'b> {
    text: &'b str,
    reader: Reader<'b>,
    open: bool,
}

impl<'b> Iterator for JsonStrsIter<'b> {
    type Item = JsonStr<'b>;

    fn next(&mut self) -> Option<JsonStr<'b>> {
        if !self.open || !self.reader.element().ok()? {
            self.open = false;
            return None;
        }
        let start = self.reader.position();
        let s = self.reader.string().ok()?;
        Some(JsonStr { json: self.text.get(start..self.reader.offset())?, escaped: s.escaped })
    }
}

/// The value of a claim, typed.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Value<'b> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written in the token (`1700000300`, `1.5e3`): JSON does not fix a precision,
    /// so parse it as the type you need.
    Number(&'b str),
    /// A string.
    String(JsonStr<'b>),
    /// An array whose elements are all strings (including the empty array).
    Strings(JsonStrs<'b>),
    /// An object, or an array with an element that is not a string: its JSON text as written.
    Json(&'b str),
}

impl<'b> Value<'b> {
    /// The value as it is written in the token: valid JSON text.
    #[must_use]
    pub fn json(&self) -> &'b str {
        match self {
            Value::Null => "null",
            Value::Bool(true) => "true",
            Value::Bool(false) => "false",
            Value::Number(text) | Value::Json(text) => text,
            Value::String(s) => s.json(),
            Value::Strings(a) => a.json(),
        }
    }

    /// A string's value when it holds no escape; `None` for an escaped string (use
    /// [`JsonStr::unescape_into`]) or another type.
    #[must_use]
    pub fn as_str(&self) -> Option<&'b str> {
        match self {
            Value::String(s) => s.as_str(),
            _ => None,
        }
    }

    /// Reads the next value of `reader`, whose input is `text`.
    fn read(reader: &mut Reader<'b>, text: &'b str) -> Result<Self, JsonError> {
        let start = reader.position();
        let kind = reader.peek_kind()?;
        let value = match kind {
            Kind::Null => reader.null().map(|()| Value::Null)?,
            Kind::Bool => Value::Bool(reader.boolean()?),
            Kind::Number => reader.number().map(|_| Value::Number(""))?,
            Kind::String => Value::String(JsonStr { json: "", escaped: reader.string()?.escaped }),
            Kind::Object => reader.skip_value().map(|()| Value::Json(""))?,
            Kind::Array => {
                reader.array()?;
                let (mut len, mut strings) = (0usize, true);
                while reader.element()? {
                    if reader.peek_kind()? == Kind::String {
                        reader.string()?;
                        len = len.saturating_add(1);
                    } else {
                        strings = false;
                        reader.skip_value()?;
                    }
                }
                if strings { Value::Strings(JsonStrs { json: "", len }) } else { Value::Json("") }
            }
        };
        let json = text.get(start..reader.offset()).ok_or(JsonError::Syntax)?;
        Ok(match value {
            Value::Number(_) => Value::Number(json),
            Value::Json(_) => Value::Json(json),
            Value::String(s) => Value::String(JsonStr { json, ..s }),
            Value::Strings(a) => Value::Strings(JsonStrs { json, ..a }),
            other => other,
        })
    }
}

/// Every top-level member of a verified payload, in token order: each name (unescaped
/// comparisons through [`JsonStr`]) with its value.
pub struct Members<'b> {
    text: &'b str,
    reader: Reader<'b>,
    open: bool,
}

impl<'b> Members<'b> {
    pub(crate) fn new(payload: &'b str) -> Self {
        let mut reader = Reader::from_text(payload);
        let open = reader.document().is_ok();
        Members { text: payload, reader, open }
    }
}

impl<'b> Iterator for Members<'b> {
    type Item = (JsonStr<'b>, Value<'b>);

    fn next(&mut self) -> Option<Self::Item> {
        if !self.open {
            return None;
        }
        let item = self.reader.member().ok().flatten().and_then(|name| {
            // The name's text, with the quotes around `raw`.
            let quoted = name.start.checked_sub(1)?..name.start.saturating_add(name.raw.len()).saturating_add(1);
            let name = JsonStr { json: self.text.get(quoted)?, escaped: name.escaped };
            Some((name, Value::read(&mut self.reader, self.text).ok()?))
        });
        self.open = item.is_some();
        item
    }
}
