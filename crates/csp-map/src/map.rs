//! [`ShardedMap`]: the shards, how a key picks one, and every operation.

use crate::entry::{Entry, OccupiedEntry, VacantEntry};
use crate::iter::{IntoIter, Iter};
use crate::refs::{Ref, RefMut};
use crossbeam_utils::CachePadded;
use csp_sync::RwLock;
use hashbrown::HashTable;
use std::borrow::Borrow;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hash};

/// One shard's table. Entries are stored with the hash computed once by the map's hasher.
pub(crate) type Table<K, V> = HashTable<(K, V)>;
/// One shard: its table behind a csp-sync `RwLock`, on a cache line of its own.
pub(crate) type Shard<K, V> = CachePadded<RwLock<Table<K, V>>>;

/// The most shards a map will have (`with_shards` rounds down to it).
const MAX_SHARDS: usize = 1 << 16;

/// A concurrent hash map split into a power-of-two number of shards, each a hash table behind
/// a csp-sync [`RwLock`]. A key's hash picks its shard, so operations on keys in different
/// shards never wait for each other, and readers of one shard share it.
///
/// Every method takes `&self`: share the map (`Arc<ShardedMap<..>>`, a `static`, a scoped
/// borrow) and call it from any thread, or from async code (the locks are held only for the
/// call, or for as long as a returned [`Ref`] / [`RefMut`] / [`Entry`] lives).
///
/// # Locking
///
/// | calls | lock | held |
/// |---|---|---|
/// | `get`, `contains_key`, `get_cloned`, `load` | the key's shard, read | for the call; for `get`, until the [`Ref`] is dropped |
/// | `get_mut`, `entry` | the key's shard, write | until the [`RefMut`] / [`Entry`] is dropped |
/// | `insert`, `remove`, `remove_entry`, `update`, `store`, `swap`, `load_or_store`, `load_and_delete`, `compare_and_swap`, `compare_and_delete` | the key's shard, write | for the call (`update` runs its closure under it) |
/// | `iter` | one shard at a time, read | while the iterator is in that shard or any of its [`RefMulti`](crate::RefMulti)s lives |
/// | `range` | one shard at a time, read | only to copy that shard's entries: the callback runs with no lock held |
/// | `retain` | one shard at a time, write | for that shard's pass (the closure runs under it) |
/// | `len`, `is_empty`, `clear`, `clone`, `Debug` | every shard in turn, one at a time | a moment each (`Debug`: while it formats that shard) |
///
/// No call holds two shard locks at once, so calls never deadlock against each other. A
/// thread that holds a `Ref`, `RefMut`, `Entry` or an iterator must not lock the same shard
/// again: not to write (`insert` of a key of that shard, `retain`, `clear`), and not even to
/// read (`get`, `len`, `is_empty`, `Debug`), because the lock prefers writers: a read queues
/// behind a writer already waiting for that shard, which waits for the guard this thread
/// holds. Like re-locking a `Mutex`, that deadlocks. `iter` never deadlocks against writes to
/// the shards it is not in, and `range` holds no lock while its callback runs.
///
/// # Example
///
/// ```
/// use csp_map::ShardedMap;
/// use std::sync::Arc;
///
/// let hits = Arc::new(ShardedMap::new());
/// let hs: Vec<_> = (0..4)
///     .map(|t| {
///         let hits = hits.clone();
///         std::thread::spawn(move || {
///             for page in 0..100 {
///                 *hits.entry(page % 10).or_insert(0) += 1;
///                 hits.insert(1000 + t, page);
///             }
///         })
///     })
///     .collect();
/// for h in hs {
///     h.join().unwrap();
/// }
/// assert_eq!(*hits.get(&3).unwrap(), 40);
/// assert_eq!(hits.len(), 14);
/// ```
pub struct ShardedMap<K, V, S = RandomState> {
    shards: Box<[Shard<K, V>]>,
    /// `(hash << 7) >> shift` picks the shard (`shift` = 64 - log2(shards)).
    shift: u32,
    hasher: S,
}

impl<K: Hash + Eq, V> ShardedMap<K, V, RandomState> {
    /// An empty map with the default number of shards: 4 × the available parallelism, rounded
    /// up to a power of two.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::<String, u32>::new();
    /// assert!(map.shard_count().is_power_of_two());
    /// ```
    pub fn new() -> Self {
        Self::with_shards_and_hasher(default_shards(), RandomState::new())
    }

    /// An empty map with `shards` shards, rounded up to a power of two (0 counts as 1; at
    /// most 65 536).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::<u32, u32>::with_shards(6);
    /// assert_eq!(map.shard_count(), 8);
    /// ```
    pub fn with_shards(shards: usize) -> Self {
        Self::with_shards_and_hasher(shards, RandomState::new())
    }

    /// An empty map with room for at least `capacity` entries before any shard reallocates
    /// (spread evenly over the default shards).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::<u32, u32>::with_capacity(1000);
    /// assert!(map.is_empty());
    /// ```
    pub fn with_capacity(capacity: usize) -> Self {
        Self::with_capacity_and_hasher(capacity, RandomState::new())
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> ShardedMap<K, V, S> {
    /// An empty map with the default number of shards, hashing with `hasher`.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map = csp_map::ShardedMap::<u32, u32>::with_hasher(RandomState::new());
    /// map.insert(1, 2);
    /// assert_eq!(map.load(&1), Some(2));
    /// ```
    pub fn with_hasher(hasher: S) -> Self {
        Self::with_shards_and_hasher(default_shards(), hasher)
    }

    /// An empty map with room for `capacity` entries, hashing with `hasher`.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map = csp_map::ShardedMap::<u32, u32>::with_capacity_and_hasher(64, RandomState::new());
    /// map.insert(1, 1);
    /// assert_eq!(map.len(), 1);
    /// ```
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        let map = Self::with_shards_and_hasher(default_shards(), hasher);
        let per_shard = capacity.div_ceil(map.shards.len());
        for shard in map.shards.iter() {
            shard
                .write()
                .reserve(per_shard, |(k, _)| map.hasher.hash_one(k));
        }
        map
    }

    /// An empty map with `shards` shards (rounded up to a power of two; 0 counts as 1; at
    /// most 65 536), hashing with `hasher`.
    ///
    /// ```
    /// use std::collections::hash_map::RandomState;
    /// let map = csp_map::ShardedMap::<u32, u32>::with_shards_and_hasher(3, RandomState::new());
    /// assert_eq!(map.shard_count(), 4);
    /// ```
    pub fn with_shards_and_hasher(shards: usize, hasher: S) -> Self {
        let n = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        ShardedMap {
            shards: (0..n)
                .map(|_| CachePadded::new(RwLock::new(HashTable::new())))
                .collect(),
            shift: 64 - n.trailing_zeros(),
            hasher,
        }
    }

    /// How many shards the map has (a power of two).
    ///
    /// ```
    /// assert_eq!(csp_map::ShardedMap::<u8, u8>::with_shards(0).shard_count(), 1);
    /// ```
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    fn hash<Q: Hash + ?Sized>(&self, key: &Q) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The shard of a hash: its bits below the top 7 (hashbrown keeps those as each entry's
    /// tag inside a table, so a shard whose entries all share them would compare more tags).
    fn shard(&self, hash: u64) -> &RwLock<Table<K, V>> {
        // `checked_shr`: one shard means a shift of 64.
        let i = (hash << 7).checked_shr(self.shift).unwrap_or(0) as usize;
        &self.shards[i]
    }

    /// A shared reference to the value under `key`, or `None`. The key's shard stays
    /// read-locked until the [`Ref`] is dropped.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert(String::from("a"), 1);
    /// assert_eq!(*map.get("a").unwrap(), 1);
    /// assert!(map.get("b").is_none());
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<Ref<'_, K, V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let guard = self.shard(hash).read();
        let kv: *const (K, V) = guard.find(hash, |(k, _)| k.borrow() == key)?;
        // SAFETY: `kv` points into the table `guard` read-locks.
        Some(unsafe { Ref::new(guard, kv) })
    }

    /// An exclusive reference to the value under `key`, or `None`. The key's shard stays
    /// write-locked until the [`RefMut`] is dropped.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert("a", vec![1]);
    /// map.get_mut("a").unwrap().push(2);
    /// assert_eq!(*map.get("a").unwrap(), vec![1, 2]);
    /// ```
    pub fn get_mut<Q>(&self, key: &Q) -> Option<RefMut<'_, K, V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let mut guard = self.shard(hash).write();
        let kv: *mut (K, V) = guard.find_mut(hash, |(k, _)| k.borrow() == key)?;
        // SAFETY: `kv` points into the table `guard` write-locks, and the borrow that found it
        // has ended: the `RefMut` is its only user.
        Some(unsafe { RefMut::new(guard, kv) })
    }

    /// A clone of the value under `key`, or `None` (the lock is held only for the clone).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert(1, String::from("one"));
    /// assert_eq!(map.get_cloned(&1).as_deref(), Some("one"));
    /// ```
    pub fn get_cloned<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        let hash = self.hash(key);
        let guard = self.shard(hash).read();
        guard
            .find(hash, |(k, _)| k.borrow() == key)
            .map(|(_, v)| v.clone())
    }

    /// Whether `key` is in the map.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert(1, ());
    /// assert!(map.contains_key(&1) && !map.contains_key(&2));
    /// ```
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        self.shard(hash)
            .read()
            .find(hash, |(k, _)| k.borrow() == key)
            .is_some()
    }

    /// Inserts `value` under `key`; returns the value it replaced, if any (the key already in
    /// the map is kept, as `HashMap::insert` does).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// assert_eq!(map.insert("a", 1), None);
    /// assert_eq!(map.insert("a", 2), Some(1));
    /// ```
    pub fn insert(&self, key: K, value: V) -> Option<V> {
        let hash = self.hash(&key);
        let mut guard = self.shard(hash).write();
        match guard.find_mut(hash, |(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                guard.insert_unique(hash, (key, value), |(k, _)| self.hasher.hash_one(k));
                None
            }
        }
    }

    /// Removes `key`; returns its value, if it was there.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert("a", 1);
    /// assert_eq!(map.remove("a"), Some(1));
    /// assert_eq!(map.remove("a"), None);
    /// ```
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes `key`; returns the key and value, if it was there.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert(String::from("a"), 1);
    /// assert_eq!(map.remove_entry("a"), Some((String::from("a"), 1)));
    /// ```
    pub fn remove_entry<Q>(&self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let mut guard = self.shard(hash).write();
        match guard.find_entry(hash, |(k, _)| k.borrow() == key) {
            Ok(e) => Some(e.remove().0),
            Err(_) => None,
        }
    }

    /// The entry for `key`, for in-place reading, inserting or changing. The key's shard
    /// stays write-locked until the entry (or the [`RefMut`] it becomes) is dropped, so
    /// "insert if absent" is one atomic step.
    ///
    /// ```
    /// use csp_map::Entry;
    ///
    /// let map = csp_map::ShardedMap::new();
    /// match map.entry("k") {
    ///     Entry::Occupied(_) => unreachable!(),
    ///     Entry::Vacant(v) => {
    ///         v.insert(1);
    ///     }
    /// }
    /// if let Entry::Occupied(o) = map.entry("k") {
    ///     assert_eq!(o.remove(), 1);
    /// }
    /// assert!(map.is_empty());
    /// ```
    pub fn entry(&self, key: K) -> Entry<'_, K, V, S> {
        let hash = self.hash(&key);
        let mut guard = self.shard(hash).write();
        let found = guard
            .find_mut(hash, |(k, _)| *k == key)
            .map(|kv| kv as *mut (K, V));
        match found {
            // SAFETY: `kv` points into the table `guard` write-locks, at the entry of hash
            // `hash`, and the borrow that found it has ended.
            Some(kv) => Entry::Occupied(unsafe { OccupiedEntry::new(guard, kv, hash) }),
            None => Entry::Vacant(VacantEntry::new(guard, key, hash, &self.hasher)),
        }
    }

    /// Runs `f` on the value under `key` (with its shard write-locked); `false` if the key is
    /// absent.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert("n", 1);
    /// assert!(map.update("n", |v| *v *= 10));
    /// assert!(!map.update("m", |v| *v *= 10));
    /// assert_eq!(map.load("n"), Some(10));
    /// ```
    pub fn update<Q>(&self, key: &Q, f: impl FnOnce(&mut V)) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let hash = self.hash(key);
        let mut guard = self.shard(hash).write();
        match guard.find_mut(hash, |(k, _)| k.borrow() == key) {
            Some((_, v)) => {
                f(v);
                true
            }
            None => false,
        }
    }

    /// Keeps only the entries for which `f` returns `true`. Shards are visited one at a time,
    /// each write-locked for its pass; `f` must not touch the map.
    ///
    /// ```
    /// let map: csp_map::ShardedMap<u32, u32> = (0..10).map(|i| (i, i)).collect();
    /// map.retain(|k, _| k % 2 == 0);
    /// assert_eq!(map.len(), 5);
    /// ```
    pub fn retain(&self, mut f: impl FnMut(&K, &mut V) -> bool) {
        for shard in self.shards.iter() {
            shard.write().retain(|(k, v)| f(k, v));
        }
    }

    /// The number of entries: the sum over the shards, each counted under its read lock in
    /// turn (with concurrent writers, a count that held at no single instant).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert(1, 1);
    /// map.insert(2, 2);
    /// assert_eq!(map.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().len()).sum()
    }

    /// Whether the map has no entries (each shard checked in turn).
    ///
    /// ```
    /// assert!(csp_map::ShardedMap::<u8, u8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.shards.iter().all(|s| s.read().is_empty())
    }

    /// Removes every entry, one shard at a time.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert(1, 1);
    /// map.clear();
    /// assert!(map.is_empty());
    /// ```
    pub fn clear(&self) {
        for shard in self.shards.iter() {
            shard.write().clear();
        }
    }

    /// An iterator over the entries, shard by shard (see [`Iter`] for its locking).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.insert(1, 10);
    /// map.insert(2, 20);
    /// let mut seen: Vec<_> = map.iter().map(|r| (*r.key(), *r.value())).collect();
    /// seen.sort();
    /// assert_eq!(seen, vec![(1, 10), (2, 20)]);
    /// ```
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter::new(&self.shards)
    }

    // Go's `sync.Map` names.

    /// Go's `Load`: a clone of the value under `key`, or `None`. Same as
    /// [`get_cloned`](Self::get_cloned).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.store("a", 1);
    /// assert_eq!(map.load("a"), Some(1));
    /// ```
    pub fn load<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.get_cloned(key)
    }

    /// Go's `Store`: sets the value under `key` (an [`insert`](Self::insert) that drops the old
    /// value).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.store("a", 1);
    /// map.store("a", 2);
    /// assert_eq!(map.load("a"), Some(2));
    /// ```
    pub fn store(&self, key: K, value: V) {
        self.insert(key, value);
    }

    /// Go's `LoadOrStore`: the value under `key` and `true` if it was there; otherwise stores
    /// `value` and returns a clone of it and `false`.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// assert_eq!(map.load_or_store("a", 1), (1, false));
    /// assert_eq!(map.load_or_store("a", 2), (1, true));
    /// ```
    pub fn load_or_store(&self, key: K, value: V) -> (V, bool)
    where
        V: Clone,
    {
        match self.entry(key) {
            Entry::Occupied(e) => (e.get().clone(), true),
            Entry::Vacant(e) => (e.insert(value).clone(), false),
        }
    }

    /// Go's `LoadAndDelete`: removes `key` and returns its value, if it was there. Same as
    /// [`remove`](Self::remove).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.store("a", 1);
    /// assert_eq!(map.load_and_delete("a"), Some(1));
    /// assert_eq!(map.load_and_delete("a"), None);
    /// ```
    pub fn load_and_delete<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.remove(key)
    }

    /// Go's `Swap`: stores `value` under `key` and returns the previous value, if any. Same as
    /// [`insert`](Self::insert).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// assert_eq!(map.swap("a", 1), None);
    /// assert_eq!(map.swap("a", 2), Some(1));
    /// ```
    pub fn swap(&self, key: K, value: V) -> Option<V> {
        self.insert(key, value)
    }

    /// Go's `CompareAndSwap`: replaces the value under `key` with `new` if it equals `old`;
    /// `true` if it did. An absent key compares unequal.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.store("a", 1);
    /// assert!(!map.compare_and_swap("a", &2, 3));
    /// assert!(map.compare_and_swap("a", &1, 3));
    /// assert_eq!(map.load("a"), Some(3));
    /// ```
    pub fn compare_and_swap<Q>(&self, key: &Q, old: &V, new: V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: PartialEq,
    {
        let hash = self.hash(key);
        let mut guard = self.shard(hash).write();
        match guard.find_mut(hash, |(k, _)| k.borrow() == key) {
            Some((_, v)) if *v == *old => {
                *v = new;
                true
            }
            _ => false,
        }
    }

    /// Go's `CompareAndDelete`: removes `key` if its value equals `old`; `true` if it did.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.store("a", 1);
    /// assert!(!map.compare_and_delete("a", &2));
    /// assert!(map.compare_and_delete("a", &1));
    /// assert!(map.is_empty());
    /// ```
    pub fn compare_and_delete<Q>(&self, key: &Q, old: &V) -> bool
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: PartialEq,
    {
        let hash = self.hash(key);
        let mut guard = self.shard(hash).write();
        match guard.find_entry(hash, |(k, _)| k.borrow() == key) {
            Ok(e) if e.get().1 == *old => {
                e.remove();
                true
            }
            _ => false,
        }
    }

    /// Go's `Range`: calls `f` on each entry until it returns `false`.
    ///
    /// Each shard's entries are copied under its read lock and `f` runs with no lock held, so
    /// `f` may read and write the map itself (as in Go). Like Go's, it is not a snapshot of
    /// the whole map: an entry stored or deleted concurrently may or may not be seen.
    ///
    /// ```
    /// let map: csp_map::ShardedMap<u32, u32> = (0..100).map(|i| (i, i)).collect();
    /// let mut seen = 0;
    /// map.range(|k, v| {
    ///     assert_eq!(k, v);
    ///     map.store(k + 1000, *v); // writing from inside is fine
    ///     seen += 1;
    ///     seen < 10
    /// });
    /// assert_eq!(seen, 10);
    /// ```
    pub fn range(&self, mut f: impl FnMut(&K, &V) -> bool)
    where
        K: Clone,
        V: Clone,
    {
        for shard in self.shards.iter() {
            let copy: Vec<(K, V)> = shard.read().iter().cloned().collect();
            for (k, v) in &copy {
                if !f(k, v) {
                    return;
                }
            }
        }
    }
}

/// The default shard count: 4 × available parallelism, rounded up to a power of two.
fn default_shards() -> usize {
    let n = std::thread::available_parallelism().map_or(1, usize::from);
    (4 * n).next_power_of_two()
}

impl<K: Hash + Eq, V> Default for ShardedMap<K, V, RandomState> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq, V, S: BuildHasher + Default> FromIterator<(K, V)> for ShardedMap<K, V, S> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let map = Self::with_hasher(S::default());
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<K: Hash + Eq, V, S: BuildHasher> Extend<(K, V)> for ShardedMap<K, V, S> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K, V, S> IntoIterator for ShardedMap<K, V, S> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V>;

    fn into_iter(self) -> IntoIter<K, V> {
        IntoIter::new(
            self.shards
                .into_vec()
                .into_iter()
                .map(|s| s.into_inner().into_inner())
                .collect(),
        )
    }
}

impl<'a, K: Hash + Eq, V, S: BuildHasher> IntoIterator for &'a ShardedMap<K, V, S> {
    type Item = crate::RefMulti<'a, K, V>;
    type IntoIter = Iter<'a, K, V>;

    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<K: Clone, V: Clone, S: Clone> Clone for ShardedMap<K, V, S> {
    fn clone(&self) -> Self {
        ShardedMap {
            shards: self
                .shards
                .iter()
                .map(|s| CachePadded::new(RwLock::new(s.read().clone())))
                .collect(),
            shift: self.shift,
            hasher: self.hasher.clone(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for ShardedMap<K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for r in Iter::new(&self.shards) {
            let (k, v) = r.pair();
            m.entry(k, v);
        }
        m.finish()
    }
}
