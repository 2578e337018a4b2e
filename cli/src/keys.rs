//! Loading `--key` files into one key set; every file must yield at least one usable key.

use std::io::Read;
use std::path::PathBuf;

use pomerium_jwt::{Capacity, Error, KeySet, MAX_MEMBERS};

/// How many keys all `--key` files may hold together.
pub(crate) const MAX_KEYS: usize = 1024;
/// The largest key file read (a JWKS of a thousand keys is about 250 KiB).
const MAX_FILE: u64 = 4 << 20;

/// The keys of every file, or a message naming the file and what is wrong with it.
pub(crate) fn load(paths: &[PathBuf]) -> Result<Box<KeySet<MAX_KEYS>>, String> {
    let mut keys = Box::new(KeySet::<MAX_KEYS>::new());
    for path in paths {
        let name = path.display();
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_FILE.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(|e| format!("key file {name}: cannot read it: {e}"))?;
        if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE {
            return Err(format!("key file {name}: larger than {MAX_FILE} bytes"));
        }
        let mut scratch = vec![0u8; bytes.len().saturating_mul(2).saturating_add(64)];
        match keys.add_any(&bytes, &mut scratch) {
            Ok(0) => return Err(format!("key file {name}: no usable EC P-256 signing key in it")),
            Ok(_) => {}
            Err(Error::Capacity(Capacity::Keys)) => {
                return Err(format!("key file {name}: more than {MAX_KEYS} different keys in all --key files"));
            }
            Err(Error::Capacity(Capacity::Members)) => {
                return Err(format!("key file {name}: a JSON object with more than {MAX_MEMBERS} members"));
            }
            Err(e) => return Err(format!("key file {name}: {}", describe(e))),
        }
    }
    Ok(keys)
}

fn describe(error: Error) -> String {
    match error {
        Error::Key(e) => e.to_string(),
        Error::Json { reason, .. } => format!("not valid JSON ({reason})"),
        other => other.to_string(),
    }
}
