//! Duplicate member names in one object, compared after unescaping (`"\u0061ud"` is `"aud"`).

use super::RawStr;
use crate::error::{Capacity, Error, JsonError, Part};

/// How many member names one object may have; real tokens have about a dozen.
pub const MAX_MEMBERS: usize = 128;

/// The member names seen so far in one object.
pub(crate) struct MemberNames<'a> {
    names: [&'a [u8]; MAX_MEMBERS],
    /// Bit `i` set: `names[i]` holds escape sequences.
    escaped: u128,
    len: usize,
    part: Part,
}

const _: () = assert!(MAX_MEMBERS <= u128::BITS as usize);

impl<'a> MemberNames<'a> {
    pub(crate) fn new(part: Part) -> Self {
        MemberNames { names: [&[]; MAX_MEMBERS], escaped: 0, len: 0, part }
    }

    /// Records `name`; fails if the object already had it (after unescaping), if the name holds
    /// a lone surrogate, or if the object has more members than can be tracked.
    pub(crate) fn insert(&mut self, name: RawStr<'a>) -> Result<(), Error> {
        let json = |reason| Error::Json { part: self.part, reason };
        if name.escaped {
            name.check_unescapes().map_err(json)?;
        }
        for (i, seen) in self.names.iter().take(self.len).enumerate() {
            let escaped = self.escaped.checked_shr(i as u32).is_some_and(|bits| bits & 1 == 1);
            let seen = RawStr { raw: seen, start: 0, escaped };
            if seen.eq_raw(&name).map_err(json)? {
                return Err(json(JsonError::DuplicateMember));
            }
        }
        let slot = self.names.get_mut(self.len).ok_or(Error::Capacity(Capacity::Members))?;
        *slot = name.raw;
        if name.escaped {
            self.escaped |= 1u128.checked_shl(self.len as u32).unwrap_or(0);
        }
        self.len = self.len.saturating_add(1);
        Ok(())
    }
}
