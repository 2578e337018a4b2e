//! Duplicate member names in one object, compared after unescaping (`"\u0061ud"` is `"aud"`).
//!
//! Each name is reduced to a 16-byte key once, as it is read: a name of up to 15 bytes (nearly
//! every real one) is its own key, with its length in the last byte; a longer name is the first
//! 15 bytes of its SHA-256, marked `0xFF` in the last byte. A new name is then compared with the
//! earlier ones by key only, so an object costs one pass over each name (one unescaping, at most
//! one hash) plus at most `MAX_MEMBERS² / 2` comparisons of 16 bytes: linear in the token.
//! Comparing the names themselves, as this module once did, let a forged header of long names
//! that differ only in their last, escaped byte cost 127 walks of every name, before any
//! signature is checked. Two different long names share a key only through a SHA-256 collision
//! (2^60 work at the least, for 120 bits), and the token is then refused, never accepted.

use sha2::{Digest, Sha256};

use super::{RawStr, unescape_pieces};
use crate::error::{Capacity, Error, JsonError, Part};

/// How many member names one object may have; real tokens have about a dozen.
pub const MAX_MEMBERS: usize = 128;

/// A member name reduced to a fixed size (see the module docs): its 16 bytes little-endian, so
/// that keys are built and compared in registers.
pub(crate) type NameKey = u128;

/// The longest name that is its own key.
const SHORT: usize = 15;
/// The last byte of the key of a longer name; a short name's length is at most [`SHORT`].
const HASHED: u8 = 0xFF;
/// Where the last byte of a key starts.
const TAG_SHIFT: u32 = 120;

/// The last byte of a key: a short name's length, or [`HASHED`].
// `tag` is at most 255 (a short name's length is at most `SHORT`): it fits the byte.
#[allow(clippy::cast_possible_truncation)]
const fn tag(tag: usize) -> NameKey {
    ((tag & 0xFF) as u128) << TAG_SHIFT
}

/// The member names seen so far in one object.
pub(crate) struct MemberNames {
    keys: heapless::Vec<NameKey, MAX_MEMBERS>,
    part: Part,
}

impl MemberNames {
    pub(crate) fn new(part: Part) -> Self {
        MemberNames { keys: heapless::Vec::new(), part }
    }

    /// Records `name` and returns its key; fails if the object already had it (after
    /// unescaping), if the name holds a lone surrogate, or if the object has more members than
    /// can be tracked.
    pub(crate) fn insert(&mut self, name: RawStr<'_>) -> Result<NameKey, Error> {
        let key = name_key(name).map_err(|reason| Error::Json { part: self.part, reason })?;
        if self.keys.contains(&key) {
            return Err(Error::Json { part: self.part, reason: JsonError::DuplicateMember });
        }
        self.keys.push(key).map_err(|_| Error::Capacity(Capacity::Members))?;
        Ok(key)
    }
}

/// The keys of names known when the crate is built, for finding a member by its key: one
/// comparison a name, whatever escapes the member's name held.
// Evaluated at compile time only: a name longer than `SHORT` (whose key would be a digest)
// fails the build, its subtraction overflowing.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
pub(crate) const fn keys_of<const N: usize>(names: [&str; N]) -> [NameKey; N] {
    let mut keys = [0; N];
    let mut i = 0;
    while i < N {
        let name = names[i].as_bytes();
        let _fits = SHORT - name.len();
        let mut key = tag(name.len());
        let mut j = 0;
        while j < name.len() {
            key |= (name[j] as u128) << (8 * j);
            j += 1;
        }
        keys[i] = key;
        i += 1;
    }
    keys
}

/// The key of a name: its unescaped bytes if they fit, else a digest of them.
fn name_key(name: RawStr<'_>) -> Result<NameKey, JsonError> {
    let mut key = Key::default();
    if name.escaped {
        unescape_pieces(name.raw, |piece| key.push(piece))?;
    } else if name.raw.len() <= SHORT {
        // Nearly every name: its key without the builder and its hash state.
        return Ok(bits_of(name.raw) | tag(name.raw.len()));
    } else {
        key.push(name.raw);
    }
    Ok(key.finish())
}

/// The bytes of `piece` (at most 16) as an integer, the first lowest: built in registers, since
/// a copy into an array read back whole cost a stalled load on every member of every object.
fn bits_of(piece: &[u8]) -> u128 {
    piece.iter().rev().fold(0, |bits, &b| (bits << 8) | u128::from(b))
}

/// A key being built from a name's pieces: bytes kept while the name is short, a running hash
/// once it is not.
#[derive(Default)]
struct Key {
    /// The name's bytes so far, little-endian, while there are at most [`SHORT`].
    short: NameKey,
    len: usize,
    long: Option<Sha256>,
}

impl Key {
    fn push(&mut self, piece: &[u8]) {
        if let Some(hash) = &mut self.long {
            hash.update(piece);
            return;
        }
        if self.len.saturating_add(piece.len()) <= SHORT {
            // Above the bytes so far: at most 15 of them, so the shift stays below 120.
            self.short |= bits_of(piece) << (self.len.saturating_mul(8) & 0x7F);
            self.len = self.len.saturating_add(piece.len());
            return;
        }
        let mut hash = Sha256::new();
        hash.update(self.short.to_le_bytes().get(..self.len).unwrap_or_default());
        hash.update(piece);
        self.long = Some(hash);
    }

    fn finish(self) -> NameKey {
        match self.long {
            Some(hash) => {
                let digest: [u8; 32] = hash.finalize().into();
                let front = digest.first_chunk::<16>().copied().unwrap_or([0; 16]);
                // HASHED is 0xFF: OR-ing its tag replaces the digest's 16th byte.
                u128::from_le_bytes(front) | tag(usize::from(HASHED))
            }
            // At most SHORT, so it fits a byte and differs from HASHED.
            None => self.short | tag(self.len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::String;

    fn key(raw: &str) -> Result<NameKey, JsonError> {
        name_key(RawStr { raw: raw.as_bytes(), start: 0, escaped: raw.contains('\\') })
    }

    #[test]
    fn keys_are_equal_exactly_when_unescaped_names_are() {
        let long = "a".repeat(40);
        let names = [
            String::new(),
            "a".into(),
            "aud".into(),
            "au".into(),
            "a".repeat(15),
            "a".repeat(16),
            "a".repeat(64),
            "a".repeat(65),
            long.clone(),
            std::format!("{long}b"),
            "\0".into(),
            "\0\0".into(),
        ];
        for (i, a) in names.iter().enumerate() {
            for (j, b) in names.iter().enumerate() {
                assert_eq!(key(a) == key(b), i == j, "{a:?} {b:?}");
            }
        }
        // Escaped spellings give the key of the unescaped name, short or long, at any split.
        assert_eq!(key(r"\u0061ud"), key("aud"));
        assert_eq!(key(r"\u0000"), key("\0"));
        for at in [0, 14, 15, 16, 39, 63, 64] {
            let escaped = std::format!("{}\\u0061{}", &"a".repeat(at), "a".repeat(80 - at));
            assert_eq!(key(&escaped), key(&"a".repeat(81)), "{at}");
        }
        assert_eq!(key(r"\ud800"), Err(JsonError::LoneSurrogate));
        // Names known at build time get the key a member of that name gets.
        const KNOWN: [NameKey; 5] = keys_of(["", "a", "aud", "\0", "aaaaaaaaaaaaaaa"]);
        for (known, name) in KNOWN.iter().zip(["", "a", "aud", "\0", &"a".repeat(15)]) {
            assert_eq!(Ok(*known), key(name), "{name:?}");
        }
        assert_eq!(Ok(KNOWN[2]), key(r"\u0061ud"));
    }

    #[test]
    fn duplicates_and_capacity() {
        let mut names = MemberNames::new(Part::Payload);
        let raw = |s: &'static str| RawStr { raw: s.as_bytes(), start: 0, escaped: s.contains('\\') };
        names.insert(raw("aud")).unwrap();
        let dup = Err(Error::Json { part: Part::Payload, reason: JsonError::DuplicateMember });
        assert_eq!(names.insert(raw(r"\u0061ud")), dup);
        assert_eq!(
            names.insert(raw(r"\ud800")),
            Err(Error::Json { part: Part::Payload, reason: JsonError::LoneSurrogate })
        );

        let mut names = MemberNames::new(Part::Header);
        let all: std::vec::Vec<String> =
            (0..=MAX_MEMBERS).map(|i| std::format!("member-{i:04}-{}", "x".repeat(i))).collect();
        for name in &all[..MAX_MEMBERS] {
            names.insert(RawStr { raw: name.as_bytes(), start: 0, escaped: false }).unwrap();
        }
        let last = RawStr { raw: all[MAX_MEMBERS].as_bytes(), start: 0, escaped: false };
        assert_eq!(names.insert(last), Err(Error::Capacity(Capacity::Members)));
    }
}
