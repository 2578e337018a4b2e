//! Just enough strict DER to take a P-256 point out of a SubjectPublicKeyInfo or an X.509
//! certificate, and to recognise private keys given by mistake.
//!
//! Why not the `der`/`spki` crates: the job is a walk to one field and two exact OID
//! comparisons. A strict TLV reader for it is a few dozen lines with no allocation, fuzzed on
//! its own, and keeps two crates and their derive machinery out of every build that embeds this
//! one (the WASM module's size is a goal of this crate).

use crate::error::{Error, KeyError};

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const VERSION: u8 = 0xA0;

/// 1.2.840.10045.2.1 (id-ecPublicKey), contents only.
const EC_PUBLIC_KEY: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
/// 1.2.840.113549.1.1.1 (rsaEncryption), contents only.
const RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
/// 1.2.840.10045.3.1.7 (prime256v1, secp256r1), contents only.
const PRIME256V1: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// What a DER document holds, judged from its outer structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Contents {
    /// A SubjectPublicKeyInfo.
    PublicKey,
    /// An X.509 certificate.
    Certificate,
}

/// Tells a SubjectPublicKeyInfo from a certificate; refuses private keys and PKCS#1 RSA keys.
pub(crate) fn classify(der: &[u8]) -> Result<Contents, Error> {
    let outer = single(der, SEQUENCE)?;
    let mut items = Tlvs(outer);
    let (first_tag, first) = items.next_tlv()?;
    match first_tag {
        // PKCS#8 (version, algorithm, key) or SEC1 (version, key, ...) private keys, a PKCS#1
        // RSA public key (modulus, exponent) or private key (version, modulus, ...). An RSA
        // private key gets its own error: its owner needs other advice than an EC key's.
        INTEGER => match items.next_tlv()? {
            (INTEGER, _) if items.end().is_ok() => Err(KeyError::Unsupported.into()),
            (INTEGER, _) => Err(KeyError::RsaPrivateKey.into()),
            (SEQUENCE, algorithm) if Tlvs(algorithm).next_tlv()? == (OID, RSA_ENCRYPTION) => {
                Err(KeyError::RsaPrivateKey.into())
            }
            _ => Err(KeyError::PrivateKey.into()),
        },
        SEQUENCE if Tlvs(first).next_tlv()?.0 == OID => Ok(Contents::PublicKey),
        SEQUENCE => Ok(Contents::Certificate),
        _ => Err(KeyError::Der.into()),
    }
}

/// The SEC1 point of a DER SubjectPublicKeyInfo for P-256.
pub(crate) fn spki_point(der: &[u8]) -> Result<&[u8], Error> {
    spki_body_point(single(der, SEQUENCE)?)
}

/// The SEC1 point of the subject public key of a DER X.509 certificate.
pub(crate) fn certificate_point(der: &[u8]) -> Result<&[u8], Error> {
    let mut cert = Tlvs(single(der, SEQUENCE)?);
    let tbs = cert.expect(SEQUENCE)?;
    cert.expect(SEQUENCE)?; // signatureAlgorithm
    cert.expect(BIT_STRING)?; // signatureValue
    cert.end()?;

    let mut tbs = Tlvs(tbs);
    if tbs.peek_tag() == Some(VERSION) {
        tbs.next_tlv()?;
    }
    tbs.expect(INTEGER)?; // serialNumber
    for _signature_issuer_validity_subject in 0..4 {
        tbs.expect(SEQUENCE)?;
    }
    let spki = tbs.expect(SEQUENCE)?;
    // issuerUniqueID, subjectUniqueID, extensions: well-formed, otherwise unread.
    while !tbs.0.is_empty() {
        tbs.next_tlv()?;
    }
    spki_body_point(spki)
}

/// SubjectPublicKeyInfo contents: `SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING`.
fn spki_body_point(body: &[u8]) -> Result<&[u8], Error> {
    let mut spki = Tlvs(body);
    let mut algorithm = Tlvs(spki.expect(SEQUENCE)?);
    let key = spki.expect(BIT_STRING)?;
    spki.end()?;

    if algorithm.expect(OID)? != EC_PUBLIC_KEY {
        return Err(KeyError::Unsupported.into());
    }
    // Named curves only; explicit parameters or another curve are not P-256 as Pomerium uses it.
    match algorithm.next_tlv()? {
        (OID, curve) if curve == PRIME256V1 => {}
        _ => return Err(KeyError::Unsupported.into()),
    }
    algorithm.end()?;
    match key.split_first() {
        Some((0, point)) => Ok(point),
        _ => Err(KeyError::Der.into()),
    }
}

/// The contents of `der`, which must be exactly one TLV with `tag`.
fn single(der: &[u8], tag: u8) -> Result<&[u8], Error> {
    let mut tlvs = Tlvs(der);
    let contents = tlvs.expect(tag)?;
    tlvs.end()?;
    Ok(contents)
}

/// A sequence of DER TLVs.
struct Tlvs<'a>(&'a [u8]);

impl<'a> Tlvs<'a> {
    fn peek_tag(&self) -> Option<u8> {
        self.0.first().copied()
    }

    fn expect(&mut self, tag: u8) -> Result<&'a [u8], Error> {
        match self.next_tlv()? {
            (t, contents) if t == tag => Ok(contents),
            _ => Err(KeyError::Der.into()),
        }
    }

    fn end(&self) -> Result<(), Error> {
        if self.0.is_empty() { Ok(()) } else { Err(KeyError::Der.into()) }
    }

    /// The next tag and contents. Low tag numbers and minimal definite lengths only, as DER
    /// requires.
    fn next_tlv(&mut self) -> Result<(u8, &'a [u8]), Error> {
        let der = || Error::from(KeyError::Der);
        let (&tag, rest) = self.0.split_first().ok_or_else(der)?;
        if tag & 0x1F == 0x1F {
            return Err(der());
        }
        let (&first, rest) = rest.split_first().ok_or_else(der)?;
        let (len, rest) = match first {
            0..=0x7F => (usize::from(first), rest),
            0x81..=0x84 => {
                let (bytes, rest) = rest.split_at_checked(usize::from(first & 0x7F)).ok_or_else(der)?;
                let len = bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
                // Minimal: no leading zero byte, and the long form only from 128 on.
                if bytes.first() == Some(&0) || len < 0x80 {
                    return Err(der());
                }
                (len, rest)
            }
            _ => return Err(der()),
        };
        let (contents, rest) = rest.split_at_checked(len).ok_or_else(der)?;
        self.0 = rest;
        Ok((tag, contents))
    }
}
