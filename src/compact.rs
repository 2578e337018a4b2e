//! Splitting the compact JWS serialization: `header "." payload "." signature`.

use crate::error::Error;
use crate::scan;

/// The three segments of a compact JWS, still base64url-encoded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segments<'t> {
    pub(crate) header: &'t [u8],
    pub(crate) payload: &'t [u8],
    pub(crate) signature: &'t [u8],
    /// `header "." payload`: the exact bytes the signature covers.
    pub(crate) signing_input: &'t [u8],
}

/// Splits `token` at its two dots; refuses any other number of dots and empty segments.
pub(crate) fn split(token: &[u8]) -> Result<Segments<'_>, Error> {
    let dot = |bytes: &[u8]| scan::position(bytes, |w| scan::has_byte(w, b'.'), |b| b == b'.');
    // Without a dot, `dot` is the length: the split leaves nothing to skip a dot in.
    let (header, rest) = token.split_at_checked(dot(token)).ok_or(Error::Segments)?;
    let rest = rest.get(1..).ok_or(Error::Segments)?;
    let (payload, rest) = rest.split_at_checked(dot(rest)).ok_or(Error::Segments)?;
    let signature = rest.get(1..).ok_or(Error::Segments)?;
    if header.is_empty() || payload.is_empty() || signature.is_empty() || dot(signature) != signature.len() {
        return Err(Error::Segments);
    }
    let signed_len = header.len().saturating_add(1).saturating_add(payload.len());
    let signing_input = token.get(..signed_len).ok_or(Error::Segments)?;
    Ok(Segments { header, payload, signature, signing_input })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_three_non_empty_segments() {
        let s = split(b"aa.bb.cc").unwrap();
        assert_eq!((s.header, s.payload, s.signature), (&b"aa"[..], &b"bb"[..], &b"cc"[..]));
        assert_eq!(s.signing_input, b"aa.bb");
        for bad in [
            &b""[..],
            b"aa",
            b"aa.bb",
            b"aa.bb.cc.dd",
            b"a.b.c.d.e",
            b".bb.cc",
            b"aa..cc",
            b"aa.bb.",
            b"..",
            b"aa.bb.cc.",
        ] {
            assert_eq!(split(bad).map(|_| ()), Err(Error::Segments), "{bad:?}");
        }
    }
}
