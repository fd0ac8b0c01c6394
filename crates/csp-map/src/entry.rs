//! [`ShardedMap::entry`](crate::ShardedMap::entry): look a key up once and then read, insert,
//! modify or remove it, all under one write lock of its shard.

use crate::map::Table;
use crate::refs::RefMut;
use csp_sync::RwLockWriteGuard;
use std::fmt;
use std::hash::{BuildHasher, Hash};

/// A key's place in a [`ShardedMap`](crate::ShardedMap), occupied or vacant. Its shard stays
/// write-locked until the entry (or the [`RefMut`] it turns into) is dropped, so a check and
/// the insert that follows it are one atomic step.
///
/// ```
/// let words = csp_map::ShardedMap::new();
/// for w in ["a", "b", "a"] {
///     *words.entry(w).or_insert(0) += 1;
/// }
/// assert_eq!(*words.get("a").unwrap(), 2);
/// ```
pub enum Entry<'a, K, V, S> {
    /// The key is in the map.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key is not in the map.
    Vacant(VacantEntry<'a, K, V, S>),
}

impl<'a, K: Hash + Eq, V, S: BuildHasher> Entry<'a, K, V, S> {
    /// The value, inserting `value` first if the key was absent.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// *map.entry("n").or_insert(1) += 10;
    /// assert_eq!(*map.entry("n").or_insert(1), 11);
    /// ```
    pub fn or_insert(self, value: V) -> RefMut<'a, K, V> {
        match self {
            Entry::Occupied(e) => e.into_ref(),
            Entry::Vacant(e) => e.insert(value),
        }
    }

    /// The value, inserting `f()` first if the key was absent (`f` runs with the shard
    /// write-locked: it must not touch the same map's shard).
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// assert_eq!(*map.entry(1).or_insert_with(|| "one"), "one");
    /// assert_eq!(*map.entry(1).or_insert_with(|| unreachable!()), "one");
    /// ```
    pub fn or_insert_with(self, f: impl FnOnce() -> V) -> RefMut<'a, K, V> {
        match self {
            Entry::Occupied(e) => e.into_ref(),
            Entry::Vacant(e) => e.insert(f()),
        }
    }

    /// The value, inserting `V::default()` first if the key was absent.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::<&str, Vec<u32>>::new();
    /// map.entry("evens").or_default().push(2);
    /// assert_eq!(*map.get("evens").unwrap(), vec![2]);
    /// ```
    pub fn or_default(self) -> RefMut<'a, K, V>
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Runs `f` on the value if the key is present; returns the entry for chaining.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::new();
    /// map.entry("k").and_modify(|v| *v += 1).or_insert(1);
    /// map.entry("k").and_modify(|v| *v += 1).or_insert(1);
    /// assert_eq!(*map.get("k").unwrap(), 2);
    /// ```
    pub fn and_modify(mut self, f: impl FnOnce(&mut V)) -> Self {
        if let Entry::Occupied(e) = &mut self {
            f(e.get_mut());
        }
        self
    }

    /// The key this entry is for.
    ///
    /// ```
    /// let map = csp_map::ShardedMap::<&str, u32>::new();
    /// assert_eq!(*map.entry("k").key(), "k");
    /// ```
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(e) => e.key(),
            Entry::Vacant(e) => e.key(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S> fmt::Debug for Entry<'_, K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(e) => e.fmt(f),
            Entry::Vacant(e) => e.fmt(f),
        }
    }
}

/// An [`Entry`] whose key is in the map.
///
/// ```
/// use csp_map::Entry;
///
/// let map = csp_map::ShardedMap::new();
/// map.insert("k", 1);
/// let Entry::Occupied(mut e) = map.entry("k") else { unreachable!() };
/// assert_eq!((*e.key(), *e.get()), ("k", 1));
/// *e.get_mut() += 1;
/// assert_eq!(e.insert(5), 2);
/// assert_eq!(e.remove_entry(), ("k", 5));
/// assert!(map.is_empty());
/// ```
pub struct OccupiedEntry<'a, K, V> {
    guard: RwLockWriteGuard<'a, Table<K, V>>,
    kv: *mut (K, V),
    hash: u64,
}

// SAFETY: like `RefMut`: it gives `&K` and `&mut V`, and holds a write lock that csp-sync lets
// any thread release.
unsafe impl<K: Sync, V: Sync> Sync for OccupiedEntry<'_, K, V> {}
// SAFETY: as above; it can also remove the entry and hand over `(K, V)` by value, so moving it
// needs `K: Send` too.
unsafe impl<K: Send + Sync, V: Send> Send for OccupiedEntry<'_, K, V> {}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    /// # Safety
    ///
    /// `kv` points at the entry with hash `hash` in the table that `guard` write-locks.
    pub(crate) unsafe fn new(
        guard: RwLockWriteGuard<'a, Table<K, V>>,
        kv: *mut (K, V),
        hash: u64,
    ) -> Self {
        OccupiedEntry { guard, kv, hash }
    }

    /// The key in the map (see the type's example for this and the other methods).
    pub fn key(&self) -> &K {
        // SAFETY: `kv` points into the table our guard write-locks (`new`'s contract).
        unsafe { &(*self.kv).0 }
    }

    /// The value.
    pub fn get(&self) -> &V {
        // SAFETY: as in `key`.
        unsafe { &(*self.kv).1 }
    }

    /// The value, mutably.
    pub fn get_mut(&mut self) -> &mut V {
        // SAFETY: as in `key`; the write lock and `&mut self` make this the only access.
        unsafe { &mut (*self.kv).1 }
    }

    /// Replaces the value; returns the old one.
    pub fn insert(&mut self, value: V) -> V {
        std::mem::replace(self.get_mut(), value)
    }

    /// Turns the entry into a reference that keeps the shard write-locked.
    ///
    /// ```
    /// use csp_map::Entry;
    ///
    /// let map = csp_map::ShardedMap::new();
    /// map.insert("k", vec![1]);
    /// if let Entry::Occupied(e) = map.entry("k") {
    ///     e.into_ref().push(2);
    /// }
    /// assert_eq!(map.get_cloned("k"), Some(vec![1, 2]));
    /// ```
    pub fn into_ref(self) -> RefMut<'a, K, V> {
        // SAFETY: `kv` points into the table `guard` write-locks, and the entry gives up its
        // own access by being consumed.
        unsafe { RefMut::new(self.guard, self.kv) }
    }

    /// Removes the entry; returns its value.
    ///
    /// ```
    /// use csp_map::Entry;
    ///
    /// let map = csp_map::ShardedMap::new();
    /// map.insert("k", 1);
    /// if let Entry::Occupied(e) = map.entry("k") {
    ///     assert_eq!(e.remove(), 1);
    /// }
    /// assert!(!map.contains_key("k"));
    /// ```
    pub fn remove(self) -> V {
        self.remove_entry().1
    }

    /// Removes the entry; returns its key and value.
    pub fn remove_entry(mut self) -> (K, V) {
        let kv = self.kv as *const (K, V);
        match self
            .guard
            .find_entry(self.hash, |e| std::ptr::eq(e as *const (K, V), kv))
        {
            Ok(e) => e.remove().0,
            Err(_) => unreachable!("an occupied entry's slot is in its write-locked table"),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for OccupiedEntry<'_, K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry")
            .field("key", self.key())
            .field("value", self.get())
            .finish()
    }
}

/// An [`Entry`] whose key is not in the map (yet).
///
/// ```
/// use csp_map::Entry;
///
/// let map = csp_map::ShardedMap::new();
/// let Entry::Vacant(e) = map.entry(String::from("k")) else { unreachable!() };
/// assert_eq!(e.key(), "k");
/// assert_eq!(*e.insert(1), 1);
/// let Entry::Occupied(_) = map.entry(String::from("k")) else { unreachable!() };
/// let Entry::Vacant(e) = map.entry(String::from("x")) else { unreachable!() };
/// assert_eq!(e.into_key(), "x"); // nothing inserted
/// assert_eq!(map.len(), 1);
/// ```
pub struct VacantEntry<'a, K, V, S> {
    guard: RwLockWriteGuard<'a, Table<K, V>>,
    key: K,
    hash: u64,
    hasher: &'a S,
}

impl<'a, K: Hash, V, S: BuildHasher> VacantEntry<'a, K, V, S> {
    pub(crate) fn new(
        guard: RwLockWriteGuard<'a, Table<K, V>>,
        key: K,
        hash: u64,
        hasher: &'a S,
    ) -> Self {
        VacantEntry {
            guard,
            key,
            hash,
            hasher,
        }
    }

    /// The key that would be inserted.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Gives the key back, inserting nothing.
    pub fn into_key(self) -> K {
        self.key
    }

    /// Inserts `value` under the key; returns a reference that keeps the shard write-locked.
    pub fn insert(mut self, value: V) -> RefMut<'a, K, V> {
        let hasher = self.hasher;
        let kv: *mut (K, V) = self
            .guard
            .insert_unique(self.hash, (self.key, value), |(k, _)| hasher.hash_one(k))
            .into_mut();
        // SAFETY: `kv` is the entry just inserted into the table `guard` write-locks, and
        // nothing else refers to it.
        unsafe { RefMut::new(self.guard, kv) }
    }
}

impl<K: fmt::Debug, V, S> fmt::Debug for VacantEntry<'_, K, V, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VacantEntry").field(&self.key).finish()
    }
}
