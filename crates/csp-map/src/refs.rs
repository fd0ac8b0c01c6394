//! The guards that [`ShardedMap`](crate::ShardedMap) lends entries through: [`Ref`] (shared,
//! from `get`), [`RefMut`] (exclusive, from `get_mut` and the entry API) and [`RefMulti`]
//! (shared, from `iter`). Each keeps its entry's shard locked until it is dropped.

use crate::map::Table;
use csp_sync::{RwLockReadGuard, RwLockWriteGuard};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// The read side every guard shares: `key`, `value`, `pair`, `Deref<Target = V>` and `Debug`,
/// for a guard type with a `kv` pointer into the table its lock guard holds.
macro_rules! read_access {
    ($name:ident) => {
        impl<K, V> $name<'_, K, V> {
            /// The entry's key.
            pub fn key(&self) -> &K {
                self.pair().0
            }

            /// The entry's value.
            pub fn value(&self) -> &V {
                self.pair().1
            }

            /// The key and the value.
            pub fn pair(&self) -> (&K, &V) {
                // SAFETY: `kv` points into the table that this guard's read or write lock
                // holds (the constructor's contract): no writer can move or drop the entry
                // while the guard lives, and a `&self` borrow allows no `&mut` through it.
                let (k, v) = unsafe { &*self.kv };
                (k, v)
            }
        }

        impl<K, V> Deref for $name<'_, K, V> {
            type Target = V;
            fn deref(&self) -> &V {
                self.value()
            }
        }

        impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for $name<'_, K, V> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name))
                    .field(&self.pair())
                    .finish()
            }
        }
    };
}

/// Shared access to one entry of a [`ShardedMap`](crate::ShardedMap); its shard stays
/// read-locked until the `Ref` is dropped (other readers proceed, writers to that shard wait).
/// `key()`, `value()` and `pair()` borrow from it; `*r` is the value.
///
/// ```
/// let map = csp_map::ShardedMap::new();
/// map.insert("a", 1);
/// let r = map.get("a").unwrap();
/// assert_eq!((*r.key(), *r.value(), *r), ("a", 1, 1));
/// ```
#[must_use = "the shard stays locked while the reference lives"]
pub struct Ref<'a, K, V> {
    _guard: RwLockReadGuard<'a, Table<K, V>>,
    kv: *const (K, V),
}

// SAFETY: a `Ref` gives `&K` and `&V` to whichever thread holds it and releases a read lock
// (which csp-sync allows from any thread): sharing or sending it is sharing `&(K, V)`.
unsafe impl<K: Sync, V: Sync> Sync for Ref<'_, K, V> {}
// SAFETY: as above.
unsafe impl<K: Sync, V: Sync> Send for Ref<'_, K, V> {}

impl<'a, K, V> Ref<'a, K, V> {
    /// # Safety
    ///
    /// `kv` points at an entry of the table that `guard` read-locks.
    pub(crate) unsafe fn new(guard: RwLockReadGuard<'a, Table<K, V>>, kv: *const (K, V)) -> Self {
        Ref { _guard: guard, kv }
    }
}

read_access!(Ref);

/// Exclusive access to one entry of a [`ShardedMap`](crate::ShardedMap); its shard stays
/// write-locked until the `RefMut` is dropped (everyone else touching that shard waits).
/// `key()`, `value()`, `pair()` read, `value_mut()`, `pair_mut()` and `*r = ..` write.
///
/// ```
/// let map = csp_map::ShardedMap::new();
/// map.insert("a", 1);
/// *map.get_mut("a").unwrap() += 1;
/// assert_eq!(*map.get("a").unwrap(), 2);
///
/// let mut r = map.get_mut("a").unwrap();
/// let (k, v) = r.pair_mut();
/// *v += k.len();
/// assert_eq!((*r.key(), *r.value()), ("a", 3));
/// ```
#[must_use = "the shard stays locked while the reference lives"]
pub struct RefMut<'a, K, V> {
    _guard: RwLockWriteGuard<'a, Table<K, V>>,
    kv: *mut (K, V),
}

// SAFETY: a `RefMut` gives `&K` and `&mut V` (or `&V` when shared) to whichever thread holds
// it, and releases a write lock (allowed from any thread): as for `&mut (K, V)`, moving it
// needs `Send` parts, sharing it `Sync` parts.
unsafe impl<K: Sync, V: Sync> Sync for RefMut<'_, K, V> {}
// SAFETY: as above; `K: Sync` because the key is only ever seen through `&K`.
unsafe impl<K: Sync, V: Send> Send for RefMut<'_, K, V> {}

impl<'a, K, V> RefMut<'a, K, V> {
    /// # Safety
    ///
    /// `kv` points at an entry of the table that `guard` write-locks, and nothing else
    /// refers to that entry.
    pub(crate) unsafe fn new(guard: RwLockWriteGuard<'a, Table<K, V>>, kv: *mut (K, V)) -> Self {
        RefMut { _guard: guard, kv }
    }

    /// The entry's value, mutably.
    pub fn value_mut(&mut self) -> &mut V {
        self.pair_mut().1
    }

    /// The key and the value, mutably.
    pub fn pair_mut(&mut self) -> (&K, &mut V) {
        // SAFETY: as in `pair`; the write lock and `&mut self` make this the only access to
        // the entry.
        let (k, v) = unsafe { &mut *self.kv };
        (k, v)
    }
}

read_access!(RefMut);

impl<K, V> DerefMut for RefMut<'_, K, V> {
    fn deref_mut(&mut self) -> &mut V {
        self.value_mut()
    }
}

/// Shared access to one entry during [`ShardedMap::iter`](crate::ShardedMap::iter). Every
/// `RefMulti` of a shard shares that shard's read lock: the shard stays read-locked until the
/// iterator has left it *and* every `RefMulti` from it is dropped.
///
/// ```
/// let map: csp_map::ShardedMap<u32, u32> = (0..10).map(|i| (i, i * i)).collect();
/// let sum: u32 = map.iter().map(|r| *r.value()).sum();
/// assert_eq!(sum, 285);
/// for r in map.iter() {
///     let (k, v) = r.pair();
///     assert_eq!((*r.key() * *r.key(), *v), (*k * *k, *r));
/// }
/// ```
#[must_use = "the shard stays locked while the reference lives"]
pub struct RefMulti<'a, K, V> {
    _guard: Arc<RwLockReadGuard<'a, Table<K, V>>>,
    kv: *const (K, V),
}

// SAFETY: as for `Ref`: it hands out `&K` / `&V`, and the shared read guard may be released
// from any thread.
unsafe impl<K: Sync, V: Sync> Sync for RefMulti<'_, K, V> {}
// SAFETY: as above.
unsafe impl<K: Sync, V: Sync> Send for RefMulti<'_, K, V> {}

impl<'a, K, V> RefMulti<'a, K, V> {
    /// # Safety
    ///
    /// `kv` points at an entry of the table that `guard` read-locks.
    pub(crate) unsafe fn new(
        guard: Arc<RwLockReadGuard<'a, Table<K, V>>>,
        kv: *const (K, V),
    ) -> Self {
        RefMulti { _guard: guard, kv }
    }
}

read_access!(RefMulti);
