//! Splitting the compact JWS serialization: `header "." payload "." signature`.

use crate::b64;
use crate::error::Error;
use crate::header;
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

/// The index of the first dot of `bytes`, or its length.
fn dot(bytes: &[u8]) -> usize {
    scan::position(bytes, |w| scan::has_byte(w, b'.'), |b| b == b'.')
}

/// Splits `token` at its two dots; refuses any other number of dots and empty segments.
pub(crate) fn split(token: &[u8]) -> Result<Segments<'_>, Error> {
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

/// [`split`] and the decoding of header and payload (as `b64::decode_url` into `buffer`: the
/// header at its front, the payload right after it) in one pass over the payload, for a token
/// that passes both; returns the segments and the decoded lengths of header and payload.
///
/// `None` means that something is wrong: [`split`] and the decoding, one after the other, then
/// tell what, in the order docs/SPEC.md gives.
pub(crate) fn split_decoding<'t>(token: &'t [u8], buffer: &mut [u8]) -> Option<(Segments<'t>, usize, usize)> {
    let first = dot(token);
    let (header, rest) = (token.get(..first)?, token.get(first.checked_add(1)?..)?);
    // A header over the cap is refused by the steps one by one, after the split has had its say.
    header::check_len(header).ok()?;
    let header_len = b64::decoded_len(header.len())?;
    let (header_out, payload_out) = buffer.split_at_mut_checked(header_len)?;
    // The payload's decoding stops at the first byte that is not a symbol: the second dot, if
    // the token is well formed.
    let (symbols, decoded) = b64::decode_url_prefix(rest, payload_out);
    let payload_len = decoded.ok()?.len();
    let (payload, signature) = (rest.get(..symbols)?, rest.get(symbols..)?.strip_prefix(b".")?);
    if header.is_empty() || payload.is_empty() || signature.is_empty() || dot(signature) != signature.len() {
        return None;
    }
    b64::decode_url(header, header_out).ok()?;
    let signing_input = token.get(..first.checked_add(1)?.checked_add(symbols)?)?;
    Some((Segments { header, payload, signature, signing_input }, header_len, payload_len))
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    /// `split` and `decode_url`, one after the other, as the verifier ran them before
    /// `split_decoding`: the reference the fast path must agree with.
    fn reference(token: &[u8], buffer: &mut [u8]) -> Option<(Segments<'static>, usize, usize)> {
        let token: &'static [u8] = std::boxed::Box::leak(token.to_vec().into_boxed_slice());
        let segments = split(token).ok()?;
        let header_len = b64::decode_url(segments.header, buffer).ok()?.len();
        let payload_len = b64::decode_url(segments.payload, buffer.get_mut(header_len..)?).ok()?.len();
        Some((segments, header_len, payload_len))
    }

    #[test]
    fn split_decoding_agrees_with_split_then_decode() {
        // Tokens with payloads of several blocks and each final group, then every one-byte
        // change and every cut of the first.
        let token = b"eyJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJhcHAuZXhhbXBsZS5jb20iLCJleHAiOjE3MDAwMDAzMDB9.c2lnbmF0dXJl";
        let mut variants: Vec<Vec<u8>> = std::vec![token.to_vec()];
        for payload in
            ["eyJhdWQiOiJhcHAuZXhhbXBsZS5jb20iLCJleHAiOjE3MDAwMDAzMDAwfQ", "e30", "eyJhIjoxfQ", "eyJhIjoiYiJ9"]
        {
            variants.push(std::format!("eyJhbGciOiJFUzI1NiJ9.{payload}.c2ln").into_bytes());
        }
        for at in 0..token.len() {
            for byte in [b'.', b'=', b' ', b'A', b'Q', b'-', b'+', 0x80, 0] {
                let mut t = token.to_vec();
                t[at] = byte;
                variants.push(t);
            }
            variants.push(token[..at].to_vec());
            let mut t = token.to_vec();
            t.remove(at);
            variants.push(t);
        }
        for t in &variants {
            for room in [0usize, 10, 57, 58, 59, 60, 64, 200] {
                let (mut fast_buf, mut slow_buf) = (std::vec![0u8; room], std::vec![0u8; room]);
                let fast = split_decoding(t, &mut fast_buf);
                let slow = reference(t, &mut slow_buf);
                let view = |r: &Option<(Segments<'_>, usize, usize)>| {
                    r.map(|(s, h, p)| {
                        (s.header.to_vec(), s.payload.to_vec(), s.signature.to_vec(), s.signing_input.to_vec(), h, p)
                    })
                };
                assert_eq!(view(&fast), view(&slow), "{} room {room}", std::string::String::from_utf8_lossy(t));
                if let Some((_, h, p)) = fast {
                    assert_eq!(fast_buf[..h + p], slow_buf[..h + p]);
                }
            }
        }
    }

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
