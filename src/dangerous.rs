//! Decoding a token **without verifying it**, for debugging tools like `pomerium-jwt inspect`.
//!
//! Nothing here checks the signature, the key, the time or the audience. Anyone can write a
//! token that decodes: never base an access decision on what these functions return. To read
//! claims you can trust, use [`Verifier::verify`](crate::Verifier::verify).

use crate::b64;
use crate::compact;
use crate::error::{Error, Part};
use crate::json::check_object;

/// The decoded, unverified parts of a token.
#[derive(Clone, Copy, Debug)]
pub struct Unverified<'b> {
    /// The header JSON text.
    pub header: &'b str,
    /// The payload JSON text.
    pub payload: &'b str,
    /// The signature bytes, of whatever length they are.
    pub signature: &'b [u8],
}

/// Splits and decodes `token` into `buffer` (as long as the token suffices) and checks that the
/// header and payload are well-formed JSON objects, without verifying anything.
///
/// The verifier's cap on the header ([`MAX_HEADER`](crate::MAX_HEADER)) does not apply here: a
/// debugging tool should show the header that [`Verifier::verify`](crate::Verifier::verify)
/// refused as [`Capacity::Header`](crate::Capacity::Header).
///
/// # Errors
/// [`Error::Segments`], [`Error::Base64`] or [`Error::Json`] when the token is not well-formed,
/// [`Error::TokenTooLarge`] when `buffer` is too small.
pub fn decode_unverified<'b>(token: &[u8], buffer: &'b mut [u8]) -> Result<Unverified<'b>, Error> {
    let too_large = Error::TokenTooLarge { len: token.len(), max: buffer.len() };
    let segments = compact::split(token)?;
    let mut rest = buffer;
    let mut parts = [&[][..]; 3];
    for (slot, (segment, part)) in parts.iter_mut().zip([
        (segments.header, Part::Header),
        (segments.payload, Part::Payload),
        (segments.signature, Part::Signature),
    ]) {
        let len = b64::decoded_len(segment.len()).ok_or(Error::Base64(part))?;
        let (out, after) = core::mem::take(&mut rest).split_at_mut_checked(len).ok_or(too_large)?;
        *slot = b64::decode_url(segment, out).map_err(|_| Error::Base64(part))?;
        rest = after;
    }
    let [header, payload, signature] = parts;
    check_object(header, Part::Header)?;
    check_object(payload, Part::Payload)?;
    let text =
        |bytes, part| core::str::from_utf8(bytes).map_err(|_| Error::Json { part, reason: crate::JsonError::Utf8 });
    Ok(Unverified { header: text(header, Part::Header)?, payload: text(payload, Part::Payload)?, signature })
}
