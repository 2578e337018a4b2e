//! Tokens that verified, kept so the same token on the next request costs a lookup instead of
//! a signature check. Pomerium signs one token per session and route and sends it on every
//! request for minutes, so most requests repeat a token.
//!
//! A hit must give what verifying again would give. Verification depends on the token's bytes
//! (compared in full, not by hash), the audience (part of the key), the issuer and leeway (fixed
//! per [`Authenticator`](crate::Authenticator)), the keys, and the time:
//! - keys: an entry holds for the key bundles it was verified with, by identity; any change of
//!   keys (a rotation, a refetch with other keys) empties the cache;
//! - time: `iat` and `nbf` checks, once passed, stay passed as time goes forward, and a clock
//!   that went back is a miss; `exp` is checked again on every hit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::forward_auth::Verified;
use crate::keys::Bundle;

/// The key bundles in use, one per key source (`None`: a remote JWKS with no keys yet).
pub(crate) type Generation = Vec<Option<Arc<Bundle>>>;

struct Entry {
    verified: Arc<Verified>,
    verified_at: u64,
}

#[derive(Default)]
struct Inner {
    generation: Generation,
    /// By token, then audience (one, unless several routes share a token).
    entries: HashMap<Box<[u8]>, Vec<Entry>>,
    bytes: usize,
}

/// Verified tokens, up to a number of bytes (tokens and payload copies); when full, emptied.
pub(crate) struct TokenCache {
    inner: Mutex<Inner>,
    max_bytes: usize,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache").field("max_bytes", &self.max_bytes).finish()
    }
}

fn same(a: &Generation, b: &Generation) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => Arc::ptr_eq(x, y),
            (None, None) => true,
            _ => false,
        })
}

impl TokenCache {
    pub(crate) fn new(max_bytes: usize) -> Self {
        TokenCache { inner: Mutex::new(Inner::default()), max_bytes }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // The map stays consistent at every step; a panic elsewhere leaves nothing half-done.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What `token` verified as for `audience`, if it did with these keys and has not expired
    /// at `now` (with `leeway`).
    pub(crate) fn get(
        &self,
        token: &[u8],
        audience: &str,
        keys: &Generation,
        now: u64,
        leeway: u64,
    ) -> Option<Arc<Verified>> {
        let inner = self.lock();
        if !same(&inner.generation, keys) {
            return None;
        }
        let entry = inner.entries.get(token)?.iter().find(|e| e.verified.audience == audience)?;
        let fresh = now >= entry.verified_at && now < entry.verified.identity.exp.saturating_add(leeway);
        fresh.then(|| entry.verified.clone())
    }

    /// Remembers that `token` verified (for `verified.audience`) with `keys` at `now`.
    pub(crate) fn insert(&self, token: &[u8], keys: Generation, now: u64, verified: &Arc<Verified>) {
        // The token, its payload and rendered headers, and the map's own overhead.
        let size = token.len().saturating_add(verified.identity.payload().len()).saturating_mul(3);
        if size > self.max_bytes {
            return;
        }
        let mut inner = self.lock();
        if !same(&inner.generation, &keys) || inner.bytes.saturating_add(size) > self.max_bytes {
            inner.entries.clear();
            inner.bytes = 0;
            inner.generation = keys;
        }
        let entry = Entry { verified: verified.clone(), verified_at: now };
        let entries = inner.entries.entry(Box::from(token)).or_default();
        entries.retain(|e| e.verified.audience != verified.audience);
        entries.push(entry);
        inner.bytes = inner.bytes.saturating_add(size);
    }
}
