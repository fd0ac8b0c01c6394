//! Iteration over a [`ShardedMap`](crate::ShardedMap): [`Iter`] (borrowing, one shard
//! read-locked at a time) and [`IntoIter`] (owning, no locks).

use crate::map::{Shard, Table};
use crate::refs::RefMulti;
use csp_sync::RwLockReadGuard;
use std::fmt;
use std::sync::Arc;

/// The iterator of [`ShardedMap::iter`](crate::ShardedMap::iter).
///
/// It read-locks one shard at a time: entering a shard takes its read lock, and the lock is
/// released once the iterator has moved on *and* the [`RefMulti`]s it yielded from that shard
/// are dropped. Writers to the other shards are never blocked by it, including writers on the
/// iterating thread. Entries inserted or removed in shards it has not reached yet may or may
/// not be seen (like Go's `sync.Map.Range`, it is not a snapshot of the whole map).
///
/// While it (or one of its items) holds a shard, that shard must not be locked again from the
/// same thread, for reading or writing (`retain` and `clear` lock every shard): see
/// [`ShardedMap`](crate::ShardedMap)'s locking table.
///
/// ```
/// let map: csp_map::ShardedMap<u32, u32> = (1..=4).map(|i| (i, i)).collect();
/// let mut it = map.iter();
/// let first = it.next().unwrap();
/// assert!(*first.key() >= 1);
/// drop(first);
/// assert_eq!(it.count(), 3);
/// ```
pub struct Iter<'a, K, V> {
    shards: &'a [Shard<K, V>],
    next_shard: usize,
    guard: Option<Arc<RwLockReadGuard<'a, Table<K, V>>>>,
    /// Entries of the current shard not yet yielded (pointers into the guarded table).
    pending: std::vec::IntoIter<*const (K, V)>,
}

// SAFETY: the iterator holds a shared read lock and pointers into the locked table; it gives
// out `&K` / `&V` (through `RefMulti`) on whichever thread drives it.
unsafe impl<K: Sync, V: Sync> Send for Iter<'_, K, V> {}
// SAFETY: `&Iter` gives access to nothing.
unsafe impl<K: Sync, V: Sync> Sync for Iter<'_, K, V> {}

impl<'a, K, V> Iter<'a, K, V> {
    pub(crate) fn new(shards: &'a [Shard<K, V>]) -> Self {
        Iter {
            shards,
            next_shard: 0,
            guard: None,
            pending: Vec::new().into_iter(),
        }
    }
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = RefMulti<'a, K, V>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(kv) = self.pending.next() {
                let guard = self
                    .guard
                    .clone()
                    .expect("pending entries come with their guard");
                // SAFETY: `kv` was taken from the table that `guard` read-locks, which no
                // writer can change while any clone of the guard lives.
                return Some(unsafe { RefMulti::new(guard, kv) });
            }
            // Leave the current shard (its lock goes once its RefMultis are gone too).
            self.guard = None;
            let shard = self.shards.get(self.next_shard)?;
            self.next_shard += 1;
            let guard = shard.read();
            let entries: Vec<*const (K, V)> = guard.iter().map(|kv| kv as *const (K, V)).collect();
            self.pending = entries.into_iter();
            self.guard = Some(Arc::new(guard));
        }
    }
}

impl<K, V> fmt::Debug for Iter<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("shard", &self.next_shard.saturating_sub(1))
            .field("left_in_shard", &self.pending.len())
            .finish()
    }
}

/// The owning iterator of a [`ShardedMap`](crate::ShardedMap) (`map.into_iter()`): yields
/// every `(key, value)`, shard by shard.
///
/// ```
/// let map: csp_map::ShardedMap<u32, char> = [(1, 'a'), (2, 'b')].into_iter().collect();
/// let mut all: Vec<_> = map.into_iter().collect();
/// all.sort();
/// assert_eq!(all, vec![(1, 'a'), (2, 'b')]);
/// ```
pub struct IntoIter<K, V> {
    shards: std::vec::IntoIter<Table<K, V>>,
    current: Option<hashbrown::hash_table::IntoIter<(K, V)>>,
}

impl<K, V> IntoIter<K, V> {
    pub(crate) fn new(shards: Vec<Table<K, V>>) -> Self {
        IntoIter {
            shards: shards.into_iter(),
            current: None,
        }
    }
}

impl<K, V> Iterator for IntoIter<K, V> {
    type Item = (K, V);

    fn next(&mut self) -> Option<(K, V)> {
        loop {
            if let Some(kv) = self.current.as_mut().and_then(Iterator::next) {
                return Some(kv);
            }
            self.current = Some(self.shards.next()?.into_iter());
        }
    }
}

impl<K, V> fmt::Debug for IntoIter<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("shards_left", &self.shards.len())
            .finish()
    }
}
