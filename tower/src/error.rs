//! Why keys could not be loaded or fetched.

use std::fmt;

/// Why keys could not be loaded (from bytes, a file, or a URL).
#[derive(Debug)]
#[non_exhaustive]
pub enum LoadError {
    /// The key file could not be read.
    Io(std::io::Error),
    /// The URL is not one keys may be fetched from.
    Url(&'static str),
    /// No connection could be made (name lookup or TCP).
    Connect(String),
    /// The TLS handshake failed.
    Tls(String),
    /// The connection or the HTTP exchange failed.
    Http(String),
    /// The connect timeout (name lookup, TCP and TLS together) or the read timeout passed.
    Timeout,
    /// The server answered with another status than `200 OK` (redirects are not followed).
    Status(u16),
    /// The body is longer than the configured limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The document was refused: a broken or private key, malformed JSON, too many keys.
    Keys(pomerium_jwt::Error),
    /// The document holds no usable P-256 signing key (`{"keys":[]}`, or RSA keys only).
    NoUsableKey,
    /// The document holds more keys than [`MAX_KEYS`](crate::MAX_KEYS): refused whole, since
    /// which keys to leave out cannot be guessed.
    TooManyKeys {
        /// The limit, [`MAX_KEYS`](crate::MAX_KEYS).
        limit: usize,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(e) => write!(f, "cannot read the key file: {e}"),
            LoadError::Url(why) => write!(f, "key URL refused: {why}"),
            LoadError::Connect(e) => write!(f, "cannot connect: {e}"),
            LoadError::Tls(e) => write!(f, "TLS: {e}"),
            LoadError::Http(e) => write!(f, "HTTP: {e}"),
            LoadError::Timeout => f.write_str("timed out"),
            LoadError::Status(code) => write!(f, "HTTP status {code}, expected 200"),
            LoadError::TooLarge { limit } => write!(f, "body larger than {limit} bytes"),
            LoadError::Keys(e) => write!(f, "keys refused: {e}"),
            LoadError::NoUsableKey => f.write_str("no usable P-256 signing key in the document"),
            LoadError::TooManyKeys { limit } => {
                write!(
                    f,
                    "the document holds more than {limit} keys (MAX_KEYS), the most a key set holds; refused whole"
                )
            }
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Io(e) => Some(e),
            LoadError::Keys(e) => Some(e),
            _ => None,
        }
    }
}
