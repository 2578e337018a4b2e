//! Duplicate member names in one object, compared after unescaping (`"\u0061ud"` is `"aud"`).

use super::RawStr;
use crate::error::{Capacity, Error, JsonError, Part};

/// How many member names one object may have; real tokens have about a dozen.
pub const MAX_MEMBERS: usize = 128;

/// The member names seen so far in one object.
pub(crate) struct MemberNames<'a> {
    names: [&'a [u8]; MAX_MEMBERS],
    /// Whether each name holds escape sequences.
    escaped: [bool; MAX_MEMBERS],
    len: usize,
    part: Part,
}

impl<'a> MemberNames<'a> {
    pub(crate) fn new(part: Part) -> Self {
        MemberNames { names: [&[]; MAX_MEMBERS], escaped: [false; MAX_MEMBERS], len: 0, part }
    }

    /// Records `name`; fails if the object already had it (after unescaping), if the name holds
    /// a lone surrogate, or if the object has more members than can be tracked.
    pub(crate) fn insert(&mut self, name: RawStr<'a>) -> Result<(), Error> {
        let json = |reason| Error::Json { part: self.part, reason };
        if name.escaped {
            name.check_unescapes().map_err(json)?;
        }
        for (&raw, &escaped) in self.names.iter().zip(&self.escaped).take(self.len) {
            let seen = RawStr { raw, start: 0, escaped };
            if seen.eq_raw(&name).map_err(json)? {
                return Err(json(JsonError::DuplicateMember));
            }
        }
        let full = Error::Capacity(Capacity::Members);
        *self.names.get_mut(self.len).ok_or(full)? = name.raw;
        *self.escaped.get_mut(self.len).ok_or(full)? = name.escaped;
        self.len = self.len.saturating_add(1);
        Ok(())
    }
}
