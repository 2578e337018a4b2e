//! JSON Web Keys (RFC 7517, RFC 7518 §6.2) and key sets as Pomerium serves them at
//! `/.well-known/pomerium/jwks.json`.
//!
//! A member that is not a P-256 signing key (another `kty` or `crv`, `use` other than `sig`,
//! `alg` other than `ES256`) is skipped. A member that says it is a P-256 key but is broken fails
//! the whole document: corrupt key material is a configuration error that must be loud.

use super::PublicKey;
use crate::b64;
use crate::error::{Error, KeyError, Part};
use crate::json::{self, Kind, RawStr, Reader};

/// One member of a key set, as read.
pub(crate) enum Member<'a> {
    /// A P-256 signing key, with its `kid` if it has one.
    Key(PublicKey, Option<RawStr<'a>>),
    /// Something else, to be skipped in a key set (and refused on its own).
    Skipped,
}

fn json(reason: crate::error::JsonError) -> Error {
    Error::Json { part: Part::Key, reason }
}

/// A member's value: absent, a string, or present with another type.
#[derive(Clone, Copy, Default)]
enum Field<'a> {
    #[default]
    Absent,
    Str(RawStr<'a>),
    Other,
}

impl Field<'_> {
    fn is(&self, expected: &str) -> Result<bool, Error> {
        match self {
            Field::Str(s) => s.is(expected).map_err(json),
            _ => Ok(false),
        }
    }
}

struct Fields<'a> {
    kty: Field<'a>,
    crv: Field<'a>,
    x: Field<'a>,
    y: Field<'a>,
    kid: Field<'a>,
    use_: Field<'a>,
    alg: Field<'a>,
    private: bool,
}

/// The members a JWK is judged by: the fields, in [`Fields`]' order, then `d`.
const MEMBERS: [json::NameKey; 8] = json::keys_of(["kty", "crv", "x", "y", "kid", "use", "alg", "d"]);

/// Reads one JWK object from `reader` (positioned at it) and judges it.
pub(crate) fn read_member<'a>(reader: &mut Reader<'a>) -> Result<Member<'a>, Error> {
    if reader.peek_kind().map_err(json)? != Kind::Object {
        return Err(KeyError::Jwk.into());
    }
    reader.object().map_err(json)?;
    let mut fields = [Field::Absent; 7];
    let mut private = false;
    reader.members(Part::Key, &MEMBERS, |found, reader| {
        // The private key member of EC (and RSA and OKP) keys.
        private |= found == Some(7);
        let slot = found.and_then(|i| fields.get_mut(i));
        match (slot, reader.peek_kind().map_err(json)?) {
            (Some(slot), Kind::String) => *slot = Field::Str(reader.string().map_err(json)?),
            (slot, _) => {
                if let Some(slot) = slot {
                    *slot = Field::Other;
                }
                reader.skip_value().map_err(json)?;
            }
        }
        Ok(())
    })?;
    let [kty, crv, x, y, kid, use_, alg] = fields;
    judge(&Fields { kty, crv, x, y, kid, use_, alg, private })
}

fn judge<'a>(f: &Fields<'a>) -> Result<Member<'a>, Error> {
    if f.private {
        let rsa = f.kty.is("RSA")?;
        return Err(if rsa { KeyError::RsaPrivateKey } else { KeyError::PrivateKey }.into());
    }
    let signing = matches!(f.use_, Field::Absent) || f.use_.is("sig")?;
    let es256 = matches!(f.alg, Field::Absent) || f.alg.is("ES256")?;
    if !f.kty.is("EC")? || !f.crv.is("P-256")? || !signing || !es256 {
        return Ok(Member::Skipped);
    }
    let invalid = || Error::from(KeyError::Invalid);
    let kid = match f.kid {
        Field::Absent => None,
        Field::Str(kid) => {
            kid.check_unescapes().map_err(json)?;
            Some(kid)
        }
        Field::Other => return Err(invalid()),
    };
    let mut point = [0u8; 65];
    let (prefix, xy) = point.split_first_mut().ok_or_else(invalid)?;
    *prefix = 4; // uncompressed SEC1
    let (x, y) = xy.split_at_mut_checked(32).ok_or_else(invalid)?;
    coordinate(f.x, x)?;
    coordinate(f.y, y)?;
    Ok(Member::Key(PublicKey::from_sec1(&point).map_err(|_| invalid())?, kid))
}

/// A coordinate: exactly 32 bytes as 43 symbols of canonical unpadded base64url.
fn coordinate(field: Field<'_>, out: &mut [u8]) -> Result<(), Error> {
    let invalid = || Error::from(KeyError::Invalid);
    let Field::Str(text) = field else {
        return Err(invalid());
    };
    let mut unescaped = [0u8; 43];
    let text = text.unescape_into(&mut unescaped).map_err(json)?.ok_or_else(invalid)?;
    if text.len() != 43 {
        return Err(invalid());
    }
    let decoded = b64::decode_url(text, out).map_err(|_| invalid())?;
    if decoded.len() == 32 { Ok(()) } else { Err(invalid()) }
}

/// Reads a single JWK document.
pub(crate) fn read_single(json_text: &[u8]) -> Result<(PublicKey, Option<RawStr<'_>>), Error> {
    let mut reader = Reader::new(json_text).map_err(json)?;
    let member = read_member(&mut reader)?;
    reader.finish().map_err(json)?;
    match member {
        Member::Key(key, kid) => Ok((key, kid)),
        Member::Skipped => Err(KeyError::Unsupported.into()),
    }
}

/// Reads a JWKS document, handing each P-256 signing key to `add`.
pub(crate) fn read_set<'a>(
    json_text: &'a [u8],
    mut add: impl FnMut(PublicKey, Option<RawStr<'a>>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut has_keys = false;
    json::read_object(json_text, Part::Key, &json::keys_of(["keys"]), |found, reader| {
        if found.is_none() {
            return reader.skip_value().map_err(json);
        }
        has_keys = true;
        match reader.peek_kind().map_err(json)? {
            Kind::Null => reader.null().map_err(json),
            Kind::Array => {
                reader.array().map_err(json)?;
                while reader.element().map_err(json)? {
                    if let Member::Key(key, kid) = read_member(reader)? {
                        add(key, kid)?;
                    }
                }
                Ok(())
            }
            _ => Err(KeyError::Jwk.into()),
        }
    })?;
    if has_keys { Ok(()) } else { Err(KeyError::Jwk.into()) }
}

/// Whether a JSON document is a key set (has a top-level `keys` member) rather than one key.
pub(crate) fn is_set(json_text: &[u8]) -> Result<bool, Error> {
    let mut reader = Reader::new(json_text).map_err(json)?;
    reader.document().map_err(json)?;
    let mut found = false;
    while let Some(name) = reader.member().map_err(json)? {
        found |= name.is("keys").map_err(json)?;
        reader.skip_value().map_err(json)?;
    }
    Ok(found)
}
