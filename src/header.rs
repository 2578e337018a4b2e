//! The JOSE header: at most [`MAX_HEADER`] bytes, `alg` must be `ES256`, `crit` is refused,
//! `kid` and `typ` are checked.

use crate::error::{Capacity, Error, HeaderParam, JsonError, Part};
use crate::json::{self, Kind, RawStr, unescape_in_place};

/// The longest header accepted, in decoded bytes.
///
/// Pomerium's header is about 100 bytes. The header is the only JSON read before the signature
/// is checked, so bounding it bounds what a forged token can make the verifier parse: past this
/// cap, the work before the signature is decoding and hashing, whatever the header holds.
pub const MAX_HEADER: usize = 1024;

/// The longest header segment, in base64url symbols: the encoding of [`MAX_HEADER`] bytes.
/// Any longer segment would decode to more, so it is refused without being decoded.
const MAX_HEADER_SEGMENT: usize = (MAX_HEADER / 3) * 4 + [0, 2, 3][MAX_HEADER % 3];

/// Refuses a header segment that decodes to more than [`MAX_HEADER`] bytes
/// ([`Capacity::Header`]); called on the still-encoded segment, before its JSON is read.
pub(crate) fn check_len(segment: &[u8]) -> Result<(), Error> {
    if segment.len() > MAX_HEADER_SEGMENT { Err(Error::Capacity(Capacity::Header)) } else { Ok(()) }
}

/// What the verifier needs from the header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header<'a> {
    /// The key id, unescaped.
    pub(crate) kid: Option<&'a [u8]>,
}

/// The members that decide, by their position in `NAMES`.
const NAMES: [json::NameKey; 4] = json::keys_of(["alg", "typ", "kid", "crit"]);
const ALG: usize = 0;
const TYP: usize = 1;
const KID: usize = 2;
const CRIT: usize = 3;

/// Parses and checks the decoded header JSON.
///
/// The whole object is read (so malformed JSON is reported as such) before any member decides:
/// `alg`, then `crit`, then `typ`, then `kid`. `jku`, `x5u`, `jwk` and `x5c` are never followed:
/// keys come only from the caller, so they are skipped like any other member.
///
/// The key id is unescaped in place, inside `json` (the decoded header), like the claims.
pub(crate) fn parse(json: &mut [u8]) -> Result<Header<'_>, Error> {
    let fail = |reason| Error::Json { part: Part::Header, reason };
    let (mut alg_ok, mut crit, mut typ_ok, mut kid_ok) = (false, false, true, true);
    let mut kid = None;
    json::read_object(json, Part::Header, &NAMES, |found, reader| {
        match (found, reader.peek_kind().map_err(fail)?) {
            (Some(ALG), Kind::String) => alg_ok = reader.string().map_err(fail)?.is("ES256").map_err(fail)?,
            (Some(TYP), Kind::String) => typ_ok = is_jwt(reader.string().map_err(fail)?).map_err(fail)?,
            (Some(KID), Kind::String) => {
                let value = reader.string().map_err(fail)?;
                kid = Some((value.start, value.start.saturating_add(value.raw.len()), value.escaped));
            }
            (found, _) => {
                typ_ok &= found != Some(TYP);
                kid_ok &= found != Some(KID);
                crit |= found == Some(CRIT);
                reader.skip_value().map_err(fail)?;
            }
        }
        Ok(())
    })?;
    // A kid is compared unescaped, so it must unescape: a lone surrogate fails here, before any
    // other header rule, as a JSON error (one pass over the kid, not a check and then another).
    let kid = match kid {
        Some((start, end, escaped)) => {
            let len =
                if escaped { unescape_in_place(json, start, end).map_err(fail)? } else { end.saturating_sub(start) };
            Some(json.get(start..start.saturating_add(len)).ok_or(fail(JsonError::Syntax))?)
        }
        None => None,
    };

    if !alg_ok {
        return Err(Error::UnsupportedAlgorithm);
    }
    if crit {
        return Err(Error::CriticalHeader);
    }
    if !typ_ok {
        return Err(Error::BadHeader(HeaderParam::Typ));
    }
    if !kid_ok {
        return Err(Error::BadHeader(HeaderParam::Kid));
    }
    Ok(Header { kid })
}

/// `typ` is a media type, compared without regard to case (RFC 7515 §4.1.9).
fn is_jwt(value: RawStr<'_>) -> Result<bool, JsonError> {
    let mut buf = [0u8; 8];
    Ok(value.unescape_into(&mut buf)?.is_some_and(|v| v.eq_ignore_ascii_case(b"JWT")))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    type Kid<'a> = Result<Option<&'a [u8]>, Error>;

    #[test]
    fn the_segment_cap_is_the_encoding_of_max_header() {
        // Exactly the lengths that decode to at most MAX_HEADER bytes pass (a length of 4k + 1
        // symbols decodes to nothing, so whether it passes does not matter).
        for len in 0..4 * MAX_HEADER {
            if let Some(decoded) = crate::b64::decoded_len(len) {
                assert_eq!(check_len(&std::vec![b'A'; len]).is_ok(), decoded <= MAX_HEADER, "{len}");
            }
        }
        assert_eq!(MAX_HEADER_SEGMENT, 1366);
    }

    fn check(json: &str) -> Result<Option<Vec<u8>>, Error> {
        let mut json = json.as_bytes().to_vec();
        parse(&mut json).map(|h| h.kid.map(<[u8]>::to_vec))
    }

    #[test]
    fn accepts_pomerium_headers() {
        let kid = |k: &[u8]| Ok(Some(k.to_vec()));
        assert_eq!(check(r#"{"alg":"ES256","kid":"abc","typ":"JWT"}"#), kid(b"abc"));
        assert_eq!(check(r#"{"alg":"ES256"}"#), Ok(None));
        assert_eq!(check(r#"{"typ":"jwt","alg":"ES\u0032\u0035\u0036","kid":""}"#), kid(b""));
        assert_eq!(check(r#"{"alg":"ES256","kid":"a\u0026\u00e9\ud83d\ude00"}"#), kid("a&é😀".as_bytes()));
        assert_eq!(
            check(r#"{"alg":"ES256","jku":"https://evil","x5c":["x"],"jwk":{"kty":"EC"},"zzz":[1,{}]}"#),
            Ok(None)
        );
    }

    #[test]
    fn refuses_everything_else() {
        let json = |reason| Err(Error::Json { part: Part::Header, reason });
        let cases: &[(&str, Kid<'_>)] = &[
            (r#"{}"#, Err(Error::UnsupportedAlgorithm)),
            (r#"{"alg":"none"}"#, Err(Error::UnsupportedAlgorithm)),
            (r#"{"alg":"HS256"}"#, Err(Error::UnsupportedAlgorithm)),
            (r#"{"alg":"es256"}"#, Err(Error::UnsupportedAlgorithm)),
            (r#"{"alg":"ES256 "}"#, Err(Error::UnsupportedAlgorithm)),
            (r#"{"alg":256}"#, Err(Error::UnsupportedAlgorithm)),
            (r#"{"alg":null}"#, Err(Error::UnsupportedAlgorithm)),
            (r#"{"alg":"ES256","crit":[]}"#, Err(Error::CriticalHeader)),
            (r#"{"alg":"ES256","crit":null}"#, Err(Error::CriticalHeader)),
            (r#"{"alg":"ES256","typ":"JOSE"}"#, Err(Error::BadHeader(HeaderParam::Typ))),
            (r#"{"alg":"ES256","typ":5}"#, Err(Error::BadHeader(HeaderParam::Typ))),
            (r#"{"alg":"ES256","kid":5}"#, Err(Error::BadHeader(HeaderParam::Kid))),
            (r#"{"alg":"ES256","kid":null}"#, Err(Error::BadHeader(HeaderParam::Kid))),
            (r#"{"alg":"ES256","kid":"\ud800"}"#, json(JsonError::LoneSurrogate)),
            (r#"{"alg":"ES256","alg":"ES256"}"#, json(JsonError::DuplicateMember)),
            (r#"{"alg":"ES256","\u0061lg":"ES256"}"#, json(JsonError::DuplicateMember)),
            (r#"{"alg":"ES256"}x"#, json(JsonError::TrailingBytes)),
            (r#"["ES256"]"#, json(JsonError::NotObject)),
        ];
        for (input, want) in cases {
            assert_eq!(check(input), want.map(|k| k.map(<[u8]>::to_vec)), "{input}");
        }
    }
}
