//! Bounded, expiring containers behind the stores: they purge in bulk when they grow and refuse
//! beyond a hard cap, so a load test cannot grow the process without limit.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// A store is full: the caller answers `temporarily_unavailable`.
#[derive(Debug)]
pub(crate) struct StoreFull;

/// Locks a store. A poisoned store only means a panic happened while it was held; its data is
/// still structurally valid maps.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why a key with expiry (a client-assertion `jti`, a used single-use access token) was refused.
#[derive(Debug)]
pub(crate) enum JtiError {
    /// The key is still live: a replay.
    Replayed,
    /// The set is at its cap even after purging.
    Full,
}

/// A set of keys with expiry, purged in bulk when it grows; refuses beyond `cap`.
pub(super) struct ExpiringSet<K> {
    map: HashMap<K, u64>,
    next_purge: usize,
    cap: usize,
}

impl<K: std::hash::Hash + Eq> ExpiringSet<K> {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            next_purge: 1024,
            cap,
        }
    }

    fn purge_if_due(&mut self, now: u64) {
        if self.map.len() >= self.next_purge {
            self.map.retain(|_, exp| *exp > now);
            // Amortised: purge again only after the live set has doubled.
            self.next_purge = (self.map.len() * 2).max(1024);
        }
    }

    /// Inserts `key` until `exp`; refuses a key still live, or a full set.
    pub(super) fn insert_new(&mut self, key: K, exp: u64, now: u64) -> Result<(), JtiError> {
        self.purge_if_due(now);
        if let Some(old_exp) = self.map.get(&key)
            && *old_exp > now
        {
            return Err(JtiError::Replayed);
        }
        if self.map.len() >= self.cap {
            self.map.retain(|_, e| *e > now);
            if self.map.len() >= self.cap {
                return Err(JtiError::Full);
            }
        }
        self.map.insert(key, exp);
        Ok(())
    }
}

/// Expiring maps purged in bulk when they grow past `next_purge`.
pub(crate) struct Purging<V> {
    pub(crate) map: HashMap<String, V>,
    next_purge: usize,
}

impl<V> Default for Purging<V> {
    fn default() -> Self {
        Self {
            map: HashMap::new(),
            next_purge: 1024,
        }
    }
}

impl<V> Purging<V> {
    /// Makes room for one more entry: purges with `live` when due; false when still at `cap`.
    pub(crate) fn make_room(&mut self, cap: usize, live: impl Fn(&V) -> bool) -> bool {
        if self.map.len() >= self.next_purge.min(cap) {
            self.map.retain(|_, v| live(v));
            self.next_purge = (self.map.len() * 2).max(1024);
        }
        self.map.len() < cap
    }
}
