//! The memory budget of a receiver process, and the bounded, expiring map
//! that holds every piece of per-sender state.
//!
//! One [`Budget`] is made per process ([`crate::output::run`]); every
//! connection, partial frame, chunk and per-source entry takes its bytes
//! from it *as they arrive* and gives them back when dropped. A `take` that
//! does not fit fails instead of allocating: the owner then drops its oldest
//! partial work (and counts it) and tries again, so memory follows the bytes
//! actually received and never what a header claims.
//!
//! ```
//! use img_stream_host::budget::Budget;
//! let budget = Budget::new(1000);
//! assert!(budget.try_take(600));
//! assert!(!budget.try_take(600), "would pass the cap");
//! budget.give(600);
//! assert_eq!((budget.used(), budget.peak()), (0, 600));
//! ```

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A byte budget shared by everything a receiver holds.
#[derive(Debug)]
pub struct Budget {
    cap: usize,
    used: AtomicUsize,
    peak: AtomicUsize,
}

impl Budget {
    /// A budget of `cap` bytes.
    pub fn new(cap: usize) -> Arc<Budget> {
        Arc::new(Budget {
            cap,
            used: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        })
    }

    /// Takes `n` bytes if they fit under the cap; `false` (and nothing
    /// taken) if not.
    pub fn try_take(&self, n: usize) -> bool {
        let mut used = self.used.load(Relaxed);
        loop {
            let Some(next) = used.checked_add(n).filter(|&u| u <= self.cap) else {
                return false;
            };
            match self
                .used
                .compare_exchange_weak(used, next, Relaxed, Relaxed)
            {
                Ok(_) => {
                    self.peak.fetch_max(next, Relaxed);
                    return true;
                }
                Err(now) => used = now,
            }
        }
    }

    /// Gives back `n` bytes taken earlier.
    pub fn give(&self, n: usize) {
        let before = self.used.fetch_sub(n, Relaxed);
        debug_assert!(before >= n, "gave back more than was taken");
    }

    /// Bytes taken now.
    pub fn used(&self) -> usize {
        self.used.load(Relaxed)
    }

    /// The most bytes ever taken at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Relaxed)
    }

    /// The cap.
    pub fn cap(&self) -> usize {
        self.cap
    }
}

/// Per-source state with a bounded number of entries that expire when idle.
///
/// Entries are kept in order of last use, so the one idle longest is found
/// in O(log n): [`SourceMap::expire`] drops entries idle longer than the
/// time to live, [`SourceMap::insert`] drops the idlest entry when full.
/// Dropped entries are handed back so their owner can count them and give
/// their memory back.
#[derive(Debug)]
pub struct SourceMap<K, V> {
    map: HashMap<K, Slot<V>>,
    by_use: BTreeMap<u64, K>,
    next: u64,
    max_entries: usize,
    ttl: Duration,
}

#[derive(Debug)]
struct Slot<V> {
    value: V,
    tick: u64,
    used: Instant,
}

impl<K: Hash + Eq + Clone, V> SourceMap<K, V> {
    /// At most `max_entries` entries (at least 1), each forgotten `ttl`
    /// after its last use.
    pub fn new(max_entries: usize, ttl: Duration) -> SourceMap<K, V> {
        SourceMap {
            map: HashMap::new(),
            by_use: BTreeMap::new(),
            next: 0,
            max_entries: max_entries.max(1),
            ttl,
        }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The entry for `key`, marked as used at `now` (no allocation).
    pub fn get_mut<Q>(&mut self, key: &Q, now: Instant) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let slot = self.map.get_mut(key)?;
        // The ordering entry hands its key back, so moving it costs nothing.
        if let Some(k) = self.by_use.remove(&slot.tick) {
            self.by_use.insert(self.next, k);
        }
        slot.tick = self.next;
        slot.used = now;
        self.next += 1;
        Some(&mut slot.value)
    }

    /// The entry for `key` without marking it used.
    pub fn peek_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map.get_mut(key).map(|s| &mut s.value)
    }

    /// Inserts (or replaces) `key`; when full, first removes the entry idle
    /// longest and returns it.
    pub fn insert(&mut self, key: K, value: V, now: Instant) -> Option<(K, V)> {
        let evicted = if !self.map.contains_key(&key) && self.map.len() >= self.max_entries {
            self.pop_idlest()
        } else {
            None
        };
        if let Some(old) = self.map.remove(&key) {
            self.by_use.remove(&old.tick);
        }
        self.by_use.insert(self.next, key.clone());
        self.map.insert(
            key,
            Slot {
                value,
                tick: self.next,
                used: now,
            },
        );
        self.next += 1;
        evicted
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        let slot = self.map.remove(key)?;
        self.by_use.remove(&slot.tick);
        Some(slot.value)
    }

    /// Removes and returns the entry idle longest.
    pub fn pop_idlest(&mut self) -> Option<(K, V)> {
        let (_, key) = self.by_use.pop_first()?;
        let slot = self.map.remove(&key)?;
        Some((key, slot.value))
    }

    /// The key idle longest, if any.
    pub fn idlest(&self) -> Option<&K> {
        self.by_use.first_key_value().map(|(_, k)| k)
    }

    /// Removes every entry idle longer than the time to live at `now`.
    pub fn expire(&mut self, now: Instant) -> Vec<(K, V)> {
        let mut gone = Vec::new();
        while let Some((_, key)) = self.by_use.first_key_value() {
            let slot = &self.map[key];
            if now.saturating_duration_since(slot.used) <= self.ttl {
                break;
            }
            if let Some(e) = self.pop_idlest() {
                gone.push(e);
            }
        }
        gone
    }

    /// Iterates over the values (in no particular order).
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.map.values().map(|s| &s.value)
    }

    /// Iterates over the entries (in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter().map(|(k, s)| (k, &s.value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_never_passes_its_cap() {
        let b = Budget::new(100);
        assert!(b.try_take(100));
        assert!(!b.try_take(1));
        assert!(!b.try_take(usize::MAX), "no overflow");
        b.give(100);
        assert_eq!(b.used(), 0);
        assert_eq!(b.peak(), 100);
    }

    #[test]
    fn source_map_evicts_the_idlest_and_expires() {
        let t = Instant::now();
        let mut m: SourceMap<u32, &str> = SourceMap::new(2, Duration::from_secs(10));
        assert!(m.insert(1, "a", t).is_none());
        assert!(m.insert(2, "b", t).is_none());
        // Using 1 makes 2 the idlest.
        assert_eq!(m.get_mut(&1, t).copied(), Some("a"));
        assert_eq!(m.insert(3, "c", t), Some((2, "b")));
        assert_eq!(m.len(), 2);
        let later = t + Duration::from_secs(5);
        m.get_mut(&3, later);
        let gone = m.expire(t + Duration::from_secs(11));
        assert_eq!(gone, vec![(1, "a")]);
        assert_eq!(m.idlest(), Some(&3));
        assert_eq!(m.remove(&3), Some("c"));
        assert!(m.is_empty());
    }
}
