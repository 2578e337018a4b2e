//! PEM blocks (RFC 7468): `-----BEGIN LABEL-----`, a base64 body in lines, `-----END LABEL-----`.
//!
//! Text before, between and after blocks is ignored, as RFC 7468 asks of parsers (OpenSSL puts
//! a human-readable dump there). Lines may end in LF or CRLF.

use crate::error::{Error, KeyError};

const BEGIN: &[u8] = b"-----BEGIN ";
const END: &[u8] = b"-----END ";
const DASHES: &[u8] = b"-----";

/// One PEM block: its label and its (still base64) body.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Block<'a> {
    pub(crate) label: &'a [u8],
    pub(crate) body: &'a [u8],
}

/// Whether `text` holds at least the start of a PEM block.
pub(crate) fn looks_like_pem(text: &[u8]) -> bool {
    find(text, BEGIN).is_some()
}

/// The PEM blocks of `text`, in order.
pub(crate) fn blocks(text: &[u8]) -> impl Iterator<Item = Result<Block<'_>, Error>> {
    let mut rest = text;
    core::iter::from_fn(move || {
        let start = find(rest, BEGIN)?;
        let block = next_block(rest.get(start..).unwrap_or_default());
        match block {
            Ok((block, after)) => {
                rest = after;
                Some(Ok(block))
            }
            Err(e) => {
                rest = &[];
                Some(Err(e))
            }
        }
    })
}

/// Reads the block at the start of `text` (which begins with `-----BEGIN `).
fn next_block(text: &[u8]) -> Result<(Block<'_>, &[u8]), Error> {
    let pem = || Error::from(KeyError::Pem);
    let after_begin = text.get(BEGIN.len()..).ok_or_else(pem)?;
    let label_len = find(after_begin, DASHES).ok_or_else(pem)?;
    let label = after_begin.get(..label_len).ok_or_else(pem)?;
    if !label.iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ') {
        return Err(pem());
    }
    let body_and_rest = after_begin.get(label_len.saturating_add(DASHES.len())..).ok_or_else(pem)?;
    let body_len = find(body_and_rest, END).ok_or_else(pem)?;
    let body = body_and_rest.get(..body_len).ok_or_else(pem)?;
    let end_line = body_and_rest.get(body_len.saturating_add(END.len())..).ok_or_else(pem)?;
    let end_label = end_line.get(..label.len()).ok_or_else(pem)?;
    let tail = end_line.get(label.len()..).ok_or_else(pem)?;
    if end_label != label || !tail.starts_with(DASHES) {
        return Err(pem());
    }
    let rest = tail.get(DASHES.len()..).unwrap_or_default();
    Ok((Block { label, body }, rest))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    type Found<'a> = Vec<(&'a [u8], &'a [u8])>;

    fn labels(text: &str) -> Result<Found<'_>, Error> {
        blocks(text.as_bytes()).map(|b| b.map(|b| (b.label, b.body))).collect()
    }

    #[test]
    fn finds_blocks_among_text() {
        let text = "Certificate:\n  Data: ...\n-----BEGIN CERTIFICATE-----\r\nQUFB\r\n-----END CERTIFICATE-----\r\n\
                    between\n-----BEGIN PUBLIC KEY-----\nQQ==\n-----END PUBLIC KEY-----\ntrailer";
        let found = labels(text).unwrap();
        assert_eq!(found, [(&b"CERTIFICATE"[..], &b"\r\nQUFB\r\n"[..]), (&b"PUBLIC KEY"[..], &b"\nQQ==\n"[..])]);
        assert!(labels("no blocks here").unwrap().is_empty());
    }

    #[test]
    fn refuses_broken_blocks() {
        for bad in [
            "-----BEGIN PUBLIC KEY-----\nQQ==\n",
            "-----BEGIN PUBLIC KEY-----\nQQ==\n-----END CERTIFICATE-----\n",
            "-----BEGIN PUBLIC KEY-----\nQQ==\n-----END PUBLIC KEY",
            "-----BEGIN public key-----\nQQ==\n-----END public key-----\n",
            "-----BEGIN PUBLIC KEY",
        ] {
            assert_eq!(labels(bad), Err(KeyError::Pem.into()), "{bad}");
        }
    }
}
