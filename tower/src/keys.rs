//! The keys a layer verifies with: loaded once (bytes, a file) or kept fresh by a remote JWKS,
//! held as an immutable bundle that is built off the request path and swapped atomically.

use std::path::Path;
#[cfg(feature = "remote")]
use std::sync::Mutex;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwapOption;
#[cfg(feature = "remote")]
use bytes::Bytes;
use ouroboros::self_referencing;
use pomerium_jwt::{BaseTable, Capacity, Es256Key, KeySet, PrecomputedKey, PublicKey, TableEntry, Window};

use crate::error::LoadError;
use crate::metrics;
#[cfg(feature = "remote")]
use crate::remote::Remote;

/// Keys held at once. A token is tried against at most this many keys, so it bounds what a
/// forged token costs; Pomerium publishes one key, two while it rotates. A document with more
/// is refused whole ([`LoadError::TooManyKeys`]): which of its keys to drop cannot be guessed.
pub const MAX_KEYS: usize = 8;

/// How keys are prepared for verification: the memory/speed choice.
///
/// Precomputed tables (see the library's README, "Precomputed keys") make each verification a
/// few table lookups instead of a full scalar multiplication. The table of the generator `G` is
/// built once per process and window and kept for the life of the process; each key gets a table
/// of its own, built when its key set is loaded, on a blocking thread for a remote JWKS.
///
/// | choice | memory | verify, 20-group token (the library's README, 2 AMD EPYC cores) |
/// | --- | --- | --- |
/// | `Precomputed { generator: W10, key: W8 }` (default) | 958,464 B once + 304,128 B per key | between W8 (62.0 µs) and W10 (52.2 µs) |
/// | `Precomputed { generator: W8, key: W8 }` | 304,128 B once + 304,128 B per key | 62.0 µs |
/// | `Precomputed { generator: W4, key: W4 }` | 37,440 B once + 37,440 B per key | 103.7 µs |
/// | `Plain` | none | 274.0 µs |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tables {
    /// No tables: the library's plain verification.
    Plain,
    /// Tables of `G` and of each key, with these windows.
    Precomputed {
        /// The window of the shared table of `G`.
        generator: Window,
        /// The window of each key's table.
        key: Window,
    },
}

impl Default for Tables {
    fn default() -> Self {
        Tables::Precomputed { generator: Window::W10, key: Window::W8 }
    }
}

impl Tables {
    /// Bytes the tables of `keys` keys take, the shared table of `G` included.
    #[must_use]
    pub fn memory(self, keys: usize) -> usize {
        let entry = size_of::<TableEntry>();
        match self {
            Tables::Plain => 0,
            Tables::Precomputed { generator, key } => {
                entry.saturating_mul(generator.entries().saturating_add(key.entries().saturating_mul(keys)))
            }
        }
    }
}

/// The table of `G` for `window`: built on first use and kept for the life of the process (at
/// most one per window, under 1.4 MiB for all four).
fn generator(window: Window) -> Option<BaseTable<'static>> {
    static TABLES: [OnceLock<Option<BaseTable<'static>>>; 4] = [const { OnceLock::new() }; 4];
    let slot = match window {
        Window::W4 => 0,
        Window::W6 => 1,
        Window::W8 => 2,
        Window::W10 => 3,
        _ => return None,
    };
    *TABLES.get(slot)?.get_or_init(|| {
        // Leaked on purpose, once per window: the table lives as long as the process.
        let storage: &'static mut [TableEntry] =
            Box::leak(vec![TableEntry::EMPTY; window.entries()].into_boxed_slice());
        BaseTable::generator(window, storage).ok()
    })
}

/// A key set with its tables, in one owned value: the keys borrow the storage they live beside.
#[self_referencing]
pub(crate) struct Precomputed {
    storage: Vec<TableEntry>,
    #[borrows(mut storage)]
    #[covariant]
    keys: KeySet<MAX_KEYS, PrecomputedKey<'this>>,
}

/// The keys in use at one moment: never changed, only replaced as a whole.
// Always behind an `Arc` and built once per key change: the size of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Bundle {
    Plain(KeySet<MAX_KEYS>),
    Precomputed(Precomputed),
}

/// Something that verifies with a key set of any key kind.
pub(crate) trait WithKeys {
    type Output;
    fn run<K: Es256Key>(self, keys: &KeySet<MAX_KEYS, K>) -> Self::Output;
}

impl Bundle {
    /// Reads a key document in any form `KeySet::add_any` takes and prepares its keys.
    fn build(document: &[u8], tables: Tables) -> Result<Bundle, LoadError> {
        let mut keys = KeySet::<MAX_KEYS>::new();
        let mut scratch = vec![0u8; document.len().saturating_mul(2).saturating_add(64)];
        match keys.add_any(document, &mut scratch) {
            Ok(0) => return Err(LoadError::NoUsableKey),
            Ok(_) => {}
            Err(pomerium_jwt::Error::Capacity(Capacity::Keys)) => {
                return Err(LoadError::TooManyKeys { limit: MAX_KEYS });
            }
            Err(e) => return Err(LoadError::Keys(e)),
        }
        let Tables::Precomputed { generator: g_window, key: window } = tables else {
            return Ok(Bundle::Plain(keys));
        };
        let g = generator(g_window).ok_or(LoadError::Keys(pomerium_jwt::Error::Capacity(Capacity::Scratch)))?;
        let storage = vec![TableEntry::EMPTY; window.entries().saturating_mul(keys.len())];
        let precomputed = Precomputed::try_new(storage, |storage| {
            let mut free = storage.as_mut_slice();
            keys.precompute(|key: &PublicKey| {
                let (mine, rest) = std::mem::take(&mut free)
                    .split_at_mut_checked(window.entries())
                    .ok_or(pomerium_jwt::Error::Capacity(Capacity::Scratch))?;
                free = rest;
                PrecomputedKey::new(*key, BaseTable::for_key(key, window, mine)?, g)
            })
        })
        .map_err(LoadError::Keys)?;
        Ok(Bundle::Precomputed(precomputed))
    }

    pub(crate) fn with_keys<W: WithKeys>(&self, work: W) -> W::Output {
        match self {
            Bundle::Plain(keys) => work.run(keys),
            Bundle::Precomputed(p) => p.with_keys(|keys| work.run(keys)),
        }
    }

    fn len(&self) -> usize {
        match self {
            Bundle::Plain(keys) => keys.len(),
            Bundle::Precomputed(p) => p.borrow_keys().len(),
        }
    }
}

/// The keys in use, shared by the layer's services and the refresh task.
pub(crate) struct State {
    current: ArcSwapOption<Bundle>,
    /// How a fetched document's keys are prepared.
    #[cfg(feature = "remote")]
    tables: Tables,
    /// The document the keys in use came from: the same document again is not rebuilt.
    #[cfg(feature = "remote")]
    document: Mutex<Option<Bytes>>,
}

impl State {
    #[cfg(feature = "remote")]
    pub(crate) fn empty(tables: Tables) -> Self {
        State { current: ArcSwapOption::empty(), tables, document: Mutex::new(None) }
    }

    #[cfg(feature = "remote")]
    fn document(&self) -> std::sync::MutexGuard<'_, Option<Bytes>> {
        self.document.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces the keys in use with those of `document`, built on a blocking thread; on any
    /// error the keys in use stay. Returns how many keys are in use.
    #[cfg(feature = "remote")]
    pub(crate) async fn replace(&self, document: Bytes) -> Result<usize, LoadError> {
        if let Some(current) = self.current.load_full()
            && self.document().as_ref() == Some(&document)
        {
            return Ok(current.len());
        }
        let tables = self.tables;
        let input = document.clone();
        let bundle = tokio::task::spawn_blocking(move || Bundle::build(&input, tables))
            .await
            .map_err(|e| LoadError::Io(std::io::Error::other(e.to_string())))??;
        let len = bundle.len();
        self.current.store(Some(Arc::new(bundle)));
        *self.document() = Some(document);
        metrics::keys(len);
        Ok(len)
    }

    /// Whether keys are in use.
    #[cfg(feature = "remote")]
    pub(crate) fn has_keys(&self) -> bool {
        self.current.load().is_some()
    }

    pub(crate) fn load(&self) -> Option<Arc<Bundle>> {
        self.current.load_full()
    }
}

/// Aborts the refresh task when the last [`Keys`] clone is dropped.
#[cfg(feature = "remote")]
struct Task(tokio::task::JoinHandle<()>);

#[cfg(feature = "remote")]
impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The keys a [`PomeriumJwtLayer`](crate::PomeriumJwtLayer) verifies with: fixed ones
/// ([`Keys::from_bytes`], [`Keys::from_file`]) or a remote JWKS that is kept fresh
#[cfg_attr(feature = "remote", doc = "([`RemoteJwks::start`](crate::RemoteJwks::start)).")]
#[cfg_attr(not(feature = "remote"), doc = "(`RemoteJwks::start`, with the `remote` feature).")]
/// Cheap to clone; clones share the keys.
#[derive(Clone)]
pub struct Keys {
    state: Arc<State>,
    #[cfg(feature = "remote")]
    remote: Option<(Arc<Remote>, Arc<Task>)>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys").field("len", &self.len()).field("remote", &self.source().is_some()).finish()
    }
}

impl Keys {
    /// The keys of a key document in any form the library reads (Pomerium's JWKS, a JWK, PEM
    /// public keys or certificates, DER, SEC1, or the base64-encoded PEM of Pomerium's
    /// `signing_key` setting), with precomputed tables ([`Tables::default`]). Building the tables
    /// takes a few tens of milliseconds: do it at start-up.
    ///
    /// # Errors
    /// [`LoadError::Keys`] when the document is refused, [`LoadError::NoUsableKey`] when it
    /// holds no P-256 signing key.
    pub fn from_bytes(document: &[u8]) -> Result<Self, LoadError> {
        Self::from_bytes_with(document, Tables::default())
    }

    /// As [`Keys::from_bytes`], with the tables of your choice.
    ///
    /// # Errors
    /// As [`Keys::from_bytes`].
    pub fn from_bytes_with(document: &[u8], tables: Tables) -> Result<Self, LoadError> {
        let bundle = Bundle::build(document, tables)?;
        metrics::keys(bundle.len());
        let state = State {
            current: ArcSwapOption::from_pointee(bundle),
            #[cfg(feature = "remote")]
            tables,
            #[cfg(feature = "remote")]
            document: Mutex::new(None),
        };
        Ok(Keys {
            state: Arc::new(state),
            #[cfg(feature = "remote")]
            remote: None,
        })
    }

    /// The keys of a key file; see [`Keys::from_bytes`].
    ///
    /// # Errors
    /// [`LoadError::Io`] when the file cannot be read; otherwise as [`Keys::from_bytes`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        Self::from_file_with(path, Tables::default())
    }

    /// As [`Keys::from_file`], with the tables of your choice.
    ///
    /// # Errors
    /// As [`Keys::from_file`].
    pub fn from_file_with(path: impl AsRef<Path>, tables: Tables) -> Result<Self, LoadError> {
        Self::from_bytes_with(&std::fs::read(path).map_err(LoadError::Io)?, tables)
    }

    #[cfg(feature = "remote")]
    pub(crate) fn remote(state: Arc<State>, remote: Arc<Remote>, task: tokio::task::JoinHandle<()>) -> Self {
        Keys { state, remote: Some((remote, Arc::new(Task(task)))) }
    }

    /// How many keys are in use now (0 while a remote JWKS started without keys has none yet).
    #[must_use]
    pub fn len(&self) -> usize {
        self.state.load().map_or(0, |b| b.len())
    }

    /// Whether no key is in use yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn bundle(&self) -> Option<Arc<Bundle>> {
        self.state.load()
    }

    #[cfg(feature = "remote")]
    fn source(&self) -> Option<&Remote> {
        self.remote.as_ref().map(|(remote, _)| &**remote)
    }

    #[cfg(not(feature = "remote"))]
    #[allow(clippy::unused_self)]
    fn source(&self) -> Option<()> {
        None
    }

    /// Whether a request whose token has an unknown kid (or that came while there are no keys)
    /// may wait for a fetch of the remote JWKS now.
    pub(crate) fn may_refetch(&self) -> bool {
        #[cfg(feature = "remote")]
        return self.source().is_some_and(Remote::may_refetch);
        #[cfg(not(feature = "remote"))]
        false
    }

    /// Asks the remote JWKS, if any, for a fetch, and waits for it (see `Remote`).
    #[cfg_attr(not(feature = "remote"), allow(clippy::unused_async))]
    pub(crate) async fn refetch_for_request(&self) {
        #[cfg(feature = "remote")]
        if let Some(remote) = self.source() {
            remote.refetch_for_request().await;
        }
    }

    /// Seconds a client should wait before retrying a `503`: the cooldown of the remote JWKS.
    pub(crate) fn retry_after(&self) -> u64 {
        #[cfg(feature = "remote")]
        if let Some(remote) = self.source() {
            return remote.cooldown().as_secs().max(1);
        }
        30
    }
}
