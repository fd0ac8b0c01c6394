//! ShardedMap behaviour: every method against its documented result, `Borrow` lookups, shard
//! counts, threads racing on `entry` / `compare_and_swap` / `load_or_store`, `iter` and
//! `range` next to writers (on the same thread and on others), guards blocking writers until
//! dropped, drop counting of values, zero-sized types, and a stress mix checked by invariants.
//!
//! Tests that need to know which shard a key is in use [`Parity`], a hasher that sends every
//! even `u64` key to hash `0` and every odd one to hash `u64::MAX`: in a two-shard map those
//! two hashes land in different shards whatever bits of the hash pick the shard, so "the
//! other shard" is known without any access to the map's internals.
#![cfg(not(loom))]

use csp_map::{Entry, ShardedMap};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::Duration;

/// `big` normally, `small` under miri.
fn n(big: usize, small: usize) -> usize {
    if cfg!(miri) { small } else { big }
}

/// Long enough for a blocked thread to have reached its lock and parked, in practice; only
/// orderings are asserted, never durations.
fn pause() {
    thread::sleep(Duration::from_millis(if cfg!(miri) { 20 } else { 30 }));
}

/// Hashes even `u64` keys to `0` and odd ones to `u64::MAX` (see the file's doc).
#[derive(Clone, Copy, Default)]
struct Parity;

struct ParityHasher(u64);

impl Hasher for ParityHasher {
    fn finish(&self) -> u64 {
        if self.0 % 2 == 0 { 0 } else { u64::MAX }
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.wrapping_mul(31).wrapping_add(u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

impl BuildHasher for Parity {
    type Hasher = ParityHasher;
    fn build_hasher(&self) -> ParityHasher {
        ParityHasher(0)
    }
}

fn parity_map() -> ShardedMap<u64, u64, Parity> {
    ShardedMap::with_shards_and_hasher(2, Parity)
}

fn sorted<K, V>(map: &ShardedMap<K, V>) -> Vec<(K, V)>
where
    K: std::hash::Hash + Eq + Ord + Clone,
    V: Clone,
{
    let mut v: Vec<_> = map
        .iter()
        .map(|r| (r.key().clone(), r.value().clone()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn auto_traits() {
    assert_send_sync::<ShardedMap<String, Vec<u8>>>();
    assert_send_sync::<csp_map::Ref<'static, String, u32>>();
    assert_send_sync::<csp_map::RefMut<'static, String, u32>>();
    assert_send_sync::<csp_map::RefMulti<'static, String, u32>>();
    assert_send_sync::<csp_map::Iter<'static, String, u32>>();
    assert_send_sync::<csp_map::IntoIter<String, u32>>();
}

#[test]
fn hashmap_methods() {
    let map: ShardedMap<u32, String> = ShardedMap::with_shards(4);
    assert!(map.is_empty());
    assert_eq!(map.len(), 0);
    assert_eq!(map.insert(1, "a".into()), None);
    assert_eq!(map.insert(2, "b".into()), None);
    assert_eq!(map.insert(1, "A".into()).as_deref(), Some("a"));
    assert_eq!(map.len(), 2);
    assert!(!map.is_empty());

    {
        let r = map.get(&1).unwrap();
        assert_eq!(r.key(), &1);
        assert_eq!(r.value(), "A");
        assert_eq!(r.pair(), (&1, &"A".to_string()));
        assert_eq!(r.len(), 1); // Deref to the value
    }
    assert!(map.get(&3).is_none());
    assert!(map.get_mut(&3).is_none());
    {
        let mut m = map.get_mut(&2).unwrap();
        m.push('!');
        m.value_mut().push('?');
        assert_eq!(m.key(), &2);
        assert_eq!(m.value(), "b!?");
        let (k, v) = m.pair_mut();
        assert_eq!(*k, 2);
        v.push('.');
        assert_eq!(m.pair(), (&2, &"b!?.".to_string()));
    }
    assert_eq!(map.get_cloned(&2).as_deref(), Some("b!?."));
    assert_eq!(map.get_cloned(&9), None);
    assert!(map.contains_key(&1) && !map.contains_key(&9));

    assert!(map.update(&2, |v| *v = "two".into()));
    assert!(!map.update(&9, |_| panic!("ran on an absent key")));
    assert_eq!(map.load(&2).as_deref(), Some("two"));

    assert_eq!(map.remove(&2).as_deref(), Some("two"));
    assert_eq!(map.remove(&2), None);
    assert_eq!(map.remove_entry(&1), Some((1, "A".to_string())));
    assert_eq!(map.remove_entry(&1), None);
    assert!(map.is_empty());

    for i in 0..100 {
        map.insert(i, i.to_string());
    }
    map.retain(|k, v| {
        v.push('x');
        k % 3 == 0
    });
    assert_eq!(map.len(), 34);
    assert_eq!(map.load(&99).as_deref(), Some("99x"));
    assert_eq!(map.load(&98), None);
    let all = sorted(&map);
    assert_eq!(all.len(), 34);
    assert!(all.iter().all(|(k, v)| k % 3 == 0 && *v == format!("{k}x")));
    map.clear();
    assert!(map.is_empty());
    assert_eq!(map.iter().count(), 0);
    map.insert(5, "again".into());
    assert_eq!(map.len(), 1);
}

#[test]
fn entry_api() {
    let map: ShardedMap<&str, u32> = ShardedMap::with_shards(2);
    // Vacant.
    match map.entry("a") {
        Entry::Occupied(_) => panic!("empty map"),
        Entry::Vacant(v) => {
            assert_eq!(*v.key(), "a");
            assert_eq!(v.into_key(), "a");
        }
    }
    assert!(map.is_empty(), "into_key inserts nothing");
    assert_eq!(*map.entry("a").key(), "a");
    match map.entry("a") {
        Entry::Vacant(v) => {
            let mut r = v.insert(1);
            assert_eq!((*r.key(), *r.value()), ("a", 1));
            *r += 1;
        }
        Entry::Occupied(_) => panic!("a is absent"),
    }
    assert_eq!(map.load("a"), Some(2));
    // Occupied.
    match map.entry("a") {
        Entry::Occupied(mut o) => {
            assert_eq!((*o.key(), *o.get()), ("a", 2));
            *o.get_mut() += 1;
            assert_eq!(o.insert(10), 3);
            let r = o.into_ref();
            assert_eq!(*r, 10);
        }
        Entry::Vacant(_) => panic!("a is present"),
    }
    assert_eq!(*map.entry("a").key(), "a");
    // The combinators.
    assert_eq!(*map.entry("a").or_insert(99), 10);
    assert_eq!(*map.entry("b").or_insert(5), 5);
    assert_eq!(*map.entry("b").or_insert_with(|| panic!("b is present")), 5);
    assert_eq!(*map.entry("c").or_insert_with(|| 7), 7);
    assert_eq!(*map.entry("d").or_default(), 0);
    *map.entry("d").or_default() += 4;
    assert_eq!(map.load("d"), Some(4));
    assert_eq!(*map.entry("d").and_modify(|v| *v *= 10).or_insert(1000), 40);
    assert_eq!(*map.entry("e").and_modify(|_| panic!()).or_insert(1), 1);
    // Occupied removal.
    match map.entry("c") {
        Entry::Occupied(o) => assert_eq!(o.remove(), 7),
        Entry::Vacant(_) => panic!("c is present"),
    }
    match map.entry("e") {
        Entry::Occupied(o) => assert_eq!(o.remove_entry(), ("e", 1)),
        Entry::Vacant(_) => panic!("e is present"),
    }
    let mut all: Vec<_> = map.iter().map(|r| (*r.key(), *r.value())).collect();
    all.sort();
    assert_eq!(all, vec![("a", 10), ("b", 5), ("d", 40)]);
}

#[test]
fn occupied_remove_in_a_crowded_shard() {
    // One shard, many entries: removing through an entry removes exactly that entry.
    let map: ShardedMap<u32, u32> = ShardedMap::with_shards(1);
    for i in 0..200 {
        map.insert(i, i * 2);
    }
    for i in (0..200).step_by(3) {
        match map.entry(i) {
            Entry::Occupied(o) => assert_eq!(o.remove_entry(), (i, i * 2)),
            Entry::Vacant(_) => panic!("{i} is present"),
        }
    }
    for i in 0..200 {
        assert_eq!(map.load(&i), (i % 3 != 0).then_some(i * 2), "key {i}");
    }
    assert_eq!(map.len(), 200 - 67);
}

#[test]
fn go_names() {
    let map: ShardedMap<String, u32> = ShardedMap::new();
    map.store("a".into(), 1);
    map.store("a".into(), 2);
    assert_eq!(map.load("a"), Some(2));
    assert_eq!(map.load("z"), None);

    assert_eq!(map.load_or_store("a".into(), 9), (2, true));
    assert_eq!(map.load_or_store("b".into(), 3), (3, false));
    assert_eq!(map.load_or_store("b".into(), 4), (3, true));

    assert_eq!(map.swap("b".into(), 5), Some(3));
    assert_eq!(map.swap("c".into(), 6), None);
    assert_eq!(map.load("c"), Some(6));

    assert!(!map.compare_and_swap("a", &1, 10), "value differs");
    assert!(!map.compare_and_swap("zz", &0, 10), "absent key");
    assert!(!map.contains_key("zz"), "a failed CAS inserts nothing");
    assert!(map.compare_and_swap("a", &2, 10));
    assert_eq!(map.load("a"), Some(10));

    assert!(!map.compare_and_delete("a", &2));
    assert!(!map.compare_and_delete("zz", &2));
    assert!(map.compare_and_delete("a", &10));
    assert_eq!(map.load("a"), None);

    assert_eq!(map.load_and_delete("b"), Some(5));
    assert_eq!(map.load_and_delete("b"), None);

    let mut seen = Vec::new();
    map.range(|k, v| {
        seen.push((k.clone(), *v));
        true
    });
    assert_eq!(seen, vec![("c".to_string(), 6)]);
}

#[test]
fn borrow_lookups() {
    let map: ShardedMap<String, u32> = ShardedMap::with_shards(8);
    for (i, w) in ["alpha", "beta", "gamma", "delta"].into_iter().enumerate() {
        map.insert(w.to_string(), i as u32);
    }
    // Every lookup by `&str`.
    assert_eq!(*map.get("beta").unwrap(), 1);
    *map.get_mut("beta").unwrap() += 10;
    assert_eq!(map.get_cloned("beta"), Some(11));
    assert_eq!(map.load("beta"), Some(11));
    assert!(map.contains_key("gamma") && !map.contains_key("omega"));
    assert!(map.update("gamma", |v| *v = 20));
    assert!(map.compare_and_swap("gamma", &20, 21));
    assert!(map.compare_and_delete("gamma", &21));
    assert_eq!(map.remove("alpha"), Some(0));
    assert_eq!(map.remove_entry("delta"), Some(("delta".to_string(), 3)));
    assert_eq!(map.load_and_delete("beta"), Some(11));
    assert!(map.is_empty());
    // `Vec<u8>` keys by `&[u8]`.
    let bytes: ShardedMap<Vec<u8>, u8> = ShardedMap::with_shards(2);
    bytes.insert(b"key".to_vec(), 1);
    assert_eq!(bytes.load(&b"key"[..]), Some(1));
    assert_eq!(bytes.remove(&b"key"[..]), Some(1));
}

#[test]
fn shard_counts() {
    for (asked, got) in [
        (0, 1),
        (1, 1),
        (2, 2),
        (3, 4),
        (5, 8),
        (6, 8),
        (8, 8),
        (64, 64),
        (65, 128),
    ] {
        let map: ShardedMap<u32, u32> = ShardedMap::with_shards(asked);
        assert_eq!(map.shard_count(), got, "with_shards({asked})");
        // Every shard count works: all keys stay findable.
        for i in 0..n(300, 40) as u32 {
            map.insert(i, i + 1);
        }
        for i in 0..n(300, 40) as u32 {
            assert_eq!(map.load(&i), Some(i + 1));
        }
        assert_eq!(map.len(), n(300, 40));
        assert_eq!(map.iter().count(), n(300, 40));
    }
    if !cfg!(miri) {
        // Documented ceiling: 65 536 shards.
        let map: ShardedMap<u32, u32> = ShardedMap::with_shards(usize::MAX);
        assert_eq!(map.shard_count(), 1 << 16);
        map.insert(1, 1);
        assert_eq!(map.load(&1), Some(1));
    }
    let default = ShardedMap::<u32, u32>::new().shard_count();
    assert!(default.is_power_of_two() && default >= 4, "{default}");
    assert_eq!(ShardedMap::<u32, u32>::default().shard_count(), default);
    assert_eq!(
        ShardedMap::<u32, u32>::with_capacity(100).shard_count(),
        default
    );
    let h = ShardedMap::<u32, u32>::with_hasher(std::collections::hash_map::RandomState::new());
    assert_eq!(h.shard_count(), default);
    let c = ShardedMap::<u32, u32, _>::with_capacity_and_hasher(
        1000,
        std::collections::hash_map::RandomState::new(),
    );
    assert!(c.is_empty());
    c.insert(3, 4);
    assert_eq!(c.load(&3), Some(4));
    let p = ShardedMap::<u64, u64, _>::with_shards_and_hasher(3, Parity);
    assert_eq!(p.shard_count(), 4);
}

#[test]
fn traits_from_iter_extend_into_iter_clone_debug() {
    // FromIterator: a later pair for the same key wins.
    let map: ShardedMap<u32, u32> = [(1, 1), (2, 2), (1, 10)].into_iter().collect();
    assert_eq!(map.len(), 2);
    assert_eq!(map.load(&1), Some(10));
    // Extend.
    let mut map = map;
    map.extend((3..6).map(|i| (i, i * 100)));
    map.extend([(2, 20)]);
    assert_eq!(
        sorted(&map),
        vec![(1, 10), (2, 20), (3, 300), (4, 400), (5, 500)]
    );
    // `&map` is IntoIterator.
    let mut sum = 0;
    for r in &map {
        sum += *r;
    }
    assert_eq!(sum, 1230);
    // Clone is deep and independent.
    let copy = map.clone();
    assert_eq!(copy.shard_count(), map.shard_count());
    copy.insert(1, 0);
    copy.remove(&2);
    copy.insert(7, 7);
    assert_eq!(map.load(&1), Some(10));
    assert_eq!(map.load(&2), Some(20));
    assert!(!map.contains_key(&7));
    assert_eq!(
        copy.load(&3),
        Some(300),
        "the clone finds the original's keys"
    );
    assert_eq!(copy.len(), 5);
    // into_iter yields everything, once.
    let mut all: Vec<_> = map.into_iter().collect();
    all.sort();
    assert_eq!(all, vec![(1, 10), (2, 20), (3, 300), (4, 400), (5, 500)]);
    // Debug.
    let one: ShardedMap<u32, &str> = ShardedMap::with_shards(4);
    assert_eq!(format!("{one:?}"), "{}");
    one.insert(1, "x");
    assert_eq!(format!("{one:?}"), r#"{1: "x"}"#);
    assert_eq!(format!("{:?}", one.get(&1).unwrap()), r#"Ref((1, "x"))"#);
    assert_eq!(
        format!("{:?}", one.get_mut(&1).unwrap()),
        r#"RefMut((1, "x"))"#
    );
    assert_eq!(
        format!("{:?}", one.iter().next().unwrap()),
        r#"RefMulti((1, "x"))"#
    );
    assert!(format!("{:?}", one.entry(1)).contains("OccupiedEntry"));
    assert!(format!("{:?}", one.entry(2)).contains("VacantEntry"));
    assert!(format!("{:?}", one.iter()).starts_with("Iter"));
    assert!(format!("{:?}", one.clone().into_iter()).starts_with("IntoIter"));
    let two: ShardedMap<u32, u32> = (0..2).map(|i| (i, i)).collect();
    let d = format!("{two:?}");
    assert!(d == "{0: 0, 1: 1}" || d == "{1: 1, 0: 0}", "{d}");
}

#[test]
fn iter_sees_every_entry_once() {
    for shards in [1, 2, 16] {
        let map: ShardedMap<u32, u32> = ShardedMap::with_shards(shards);
        let count = n(2000, 100) as u32;
        for i in 0..count {
            map.insert(i, i ^ 0x55);
        }
        let mut seen = HashSet::new();
        for r in map.iter() {
            assert_eq!(*r.value(), *r.key() ^ 0x55);
            assert!(seen.insert(*r.key()), "{} seen twice", r.key());
        }
        assert_eq!(seen.len(), count as usize);
        // Holding every RefMulti at once (several per shard) is fine for readers.
        let held: Vec<_> = map.iter().collect();
        assert_eq!(held.len(), count as usize);
        assert_eq!(map.load(&3), Some(3 ^ 0x55));
        drop(held);
        // And once they are gone the shards take writes again.
        map.insert(count, 0);
        assert_eq!(map.len(), count as usize + 1);
    }
}

/// What this checks: on ONE thread, while an `iter()` of a two-shard [`Parity`] map holds a
/// `RefMulti` from its first shard (so that shard is read-locked), inserting, replacing,
/// updating and removing keys of the OTHER shard completes (no deadlock); once that item is
/// dropped and the iterator has moved into the second shard, writing keys of the first shard
/// completes as well. Each pre-existing entry is still seen exactly once.
#[test]
fn iter_allows_same_thread_writes_to_other_shards() {
    let map = parity_map();
    for k in 0..20 {
        map.insert(k, k);
    }
    let mut it = map.iter();
    let first = it.next().unwrap();
    let p = first.key() % 2; // parity of the shard the iterator is in
    let other = 1 - p;
    // Write the other shard from this thread while `first` and the iterator hold shard p.
    for k in (100..120).filter(|k| k % 2 == other) {
        assert_eq!(map.insert(k, k), None);
    }
    assert_eq!(map.insert(other, 1000), Some(other));
    assert!(map.update(&(other + 2), |v| *v += 1000));
    *map.entry(other + 4).or_insert(0) += 1000;
    assert_eq!(map.remove(&(other + 6)), Some(other + 6));
    assert!(map.compare_and_swap(&(other + 8), &(other + 8), 0));
    assert!(!map.load_or_store(other + 200, 1).1);
    let mut seen = vec![*first.key()];
    drop(first);
    // Walk the rest of shard p, then into the other shard.
    let mut in_other = false;
    for r in it.by_ref() {
        seen.push(*r.key());
        if r.key() % 2 == other {
            in_other = true;
            break;
        }
    }
    assert!(in_other, "the iterator reaches the other shard");
    // Now the iterator holds the other shard: write the one it has left.
    for k in (300..320).filter(|k| k % 2 == p) {
        assert_eq!(map.insert(k, k), None);
    }
    assert_eq!(map.remove(&(p + 10)), Some(p + 10));
    seen.extend(it.map(|r| *r.key()));
    // Every entry present before `iter()` started and not removed by us is seen exactly once.
    let counts = seen.iter().fold(HashMap::new(), |mut m, k| {
        *m.entry(*k).or_insert(0) += 1;
        m
    });
    assert!(counts.values().all(|&c| c == 1), "{counts:?}");
    for k in (0..20).filter(|&k| k != other + 6) {
        assert_eq!(counts.get(&k), Some(&1), "key {k}");
    }
    assert_eq!(map.load(&other), Some(1000));
    assert!(map.contains_key(&(other + 200)));
}

/// `retain` write-locks each shard in turn, so unlike the single-key writes above it must not
/// run while this thread holds any shard's read lock. This checks the same property from
/// another thread: an iterator parked in shard p lets writers on other threads into the other
/// shard at once, and a writer to shard p waits until the iterator and its items have left.
#[test]
fn iter_blocks_only_writers_of_its_shard() {
    let map = Arc::new(parity_map());
    for k in 0..10 {
        map.insert(k, k);
    }
    let mut it = map.iter();
    let first = it.next().unwrap();
    let p = first.key() % 2;
    // Another thread writes the other shard: it finishes while we still hold shard p.
    let m = map.clone();
    thread::spawn(move || {
        m.insert(1000 + (1 - p), 1);
        m.remove(&(1 - p));
    })
    .join()
    .unwrap();
    // A writer to shard p waits for us.
    let released = Arc::new(AtomicBool::new(false));
    let (m, rel) = (map.clone(), released.clone());
    let writer = thread::spawn(move || {
        m.insert(2000 + p, 2);
        assert!(
            rel.load(Ordering::SeqCst),
            "wrote shard p while it was read-locked"
        );
    });
    pause();
    assert_eq!(*first.value(), *first.key());
    released.store(true, Ordering::SeqCst);
    drop(first);
    drop(it);
    writer.join().unwrap();
    assert_eq!(map.load(&(2000 + p)), Some(2));
    assert_eq!(map.load(&(1000 + (1 - p))), Some(1));
}

#[test]
fn range_callback_writes_the_map_and_stops_early() {
    let map: ShardedMap<u32, u32> = ShardedMap::with_shards(8);
    let count = n(200, 40) as u32;
    for k in 0..count {
        map.insert(k, k);
    }
    let mut seen = HashMap::new();
    map.range(|k, v| {
        assert_eq!(*k, if *k < 1000 { *v } else { v + 1000 });
        *seen.entry(*k).or_insert(0) += 1;
        if *k < 1000 {
            // Writes and reads of every kind, to this key's shard and others, under `range`.
            map.insert(k + 1000, *v);
            if k % 2 == 1 {
                assert_eq!(map.remove(k), Some(*k));
            } else {
                *map.entry(*k).or_insert(0) += 0;
                assert!(map.update(k, |_| {}));
            }
            assert!(map.get(&(k + 1000)).is_some());
            let _ = map.len();
        }
        true
    });
    for k in 0..count {
        assert_eq!(seen.get(&k), Some(&1), "key {k} seen once");
    }
    assert!(seen.values().all(|&c| c == 1));
    let mut want: Vec<_> = (0..count)
        .filter(|k| k % 2 == 0)
        .map(|k| (k, k))
        .chain((0..count).map(|k| (k + 1000, k)))
        .collect();
    want.sort();
    assert_eq!(sorted(&map), want);

    // Early stop: exactly as many calls as it took to return false.
    let mut calls = 0;
    map.range(|_, _| {
        calls += 1;
        calls < 7
    });
    assert_eq!(calls, 7);
    let mut calls = 0;
    map.range(|_, _| {
        calls += 1;
        false
    });
    assert_eq!(calls, 1);
    let empty: ShardedMap<u32, u32> = ShardedMap::new();
    empty.range(|_, _| panic!("called on an empty map"));
}

/// A `Ref` keeps its shard read-locked: a writer to the same key on another thread waits
/// until it is dropped, while another reader gets in at once.
#[test]
fn ref_blocks_writer_until_dropped() {
    let map = Arc::new(ShardedMap::<u32, u32>::with_shards(4));
    map.insert(1, 1);
    let r = map.get(&1).unwrap();
    // Readers share.
    let m = map.clone();
    thread::spawn(move || assert_eq!(*m.get(&1).unwrap(), 1))
        .join()
        .unwrap();
    let released = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = mpsc::channel();
    let (m, rel) = (map.clone(), released.clone());
    let writer = thread::spawn(move || {
        started_tx.send(()).unwrap();
        let old = m.insert(1, 2);
        assert!(
            rel.load(Ordering::SeqCst),
            "insert ran while a Ref was held"
        );
        old
    });
    started_rx.recv().unwrap();
    pause();
    assert_eq!(*r, 1, "the Ref still sees the old value");
    released.store(true, Ordering::SeqCst);
    drop(r);
    assert_eq!(writer.join().unwrap(), Some(1));
    assert_eq!(map.load(&1), Some(2));
}

/// A `RefMut` (and an `Entry`) keeps its shard write-locked: a reader and a writer of the
/// key on other threads wait until it is dropped, and see what it wrote.
#[test]
fn ref_mut_and_entry_block_others_until_dropped() {
    let map = Arc::new(ShardedMap::<u32, u32>::with_shards(4));
    map.insert(1, 1);
    for via_entry in [false, true] {
        let mut w = if via_entry {
            map.entry(1).or_insert(0)
        } else {
            map.get_mut(&1).unwrap()
        };
        let released = Arc::new(AtomicBool::new(false));
        let (tx, rx) = mpsc::channel();
        let reader = {
            let (m, rel, tx) = (map.clone(), released.clone(), tx.clone());
            thread::spawn(move || {
                tx.send(()).unwrap();
                let v = m.load(&1);
                assert!(rel.load(Ordering::SeqCst), "read while a RefMut was held");
                v
            })
        };
        let writer = {
            let (m, rel) = (map.clone(), released.clone());
            thread::spawn(move || {
                tx.send(()).unwrap();
                assert!(m.update(&1, |v| *v += 100));
                assert!(rel.load(Ordering::SeqCst), "wrote while a RefMut was held");
            })
        };
        rx.recv().unwrap();
        rx.recv().unwrap();
        pause();
        *w += 1;
        let mid = *w;
        released.store(true, Ordering::SeqCst);
        drop(w);
        let read = reader.join().unwrap().unwrap();
        writer.join().unwrap();
        // The reader ran after our +1, before or after the writer's +100.
        assert!(read == mid || read == mid + 100, "{read} vs {mid}");
        assert_eq!(map.load(&1), Some(mid + 100));
    }
}

#[test]
fn threads_count_with_entry() {
    for shards in [1, 4, 64] {
        let map = ShardedMap::<u32, u64>::with_shards(shards);
        let per_thread = n(4000, 32);
        // Phase 1: 16 hot keys, hit over and over.
        // Phase 2: a fresh key every 4 iterations, so the threads keep racing to create
        // entries (the vacant path), not only to update them.
        let hot = 16;
        thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for i in 0..per_thread {
                        *map.entry((i % hot) as u32).or_insert(0) += 1;
                    }
                    for i in 0..per_thread {
                        *map.entry((1000 + i / 4) as u32).or_default() += 1;
                    }
                });
            }
        });
        assert_eq!(map.len(), hot + per_thread.div_ceil(4));
        for k in 0..hot {
            let want = 4 * (0..per_thread).filter(|i| i % hot == k).count() as u64;
            assert_eq!(map.load(&(k as u32)), Some(want), "key {k}");
        }
        for i in (0..per_thread).step_by(4) {
            let want = 4 * (i..per_thread).take(4).count() as u64;
            assert_eq!(
                map.load(&((1000 + i / 4) as u32)),
                Some(want),
                "key {}",
                1000 + i / 4
            );
        }
    }
}

/// Rounds of 4 threads released together by a barrier onto one fresh key with
/// `entry(k).or_insert_with(..)`: exactly one closure runs per key and no increment is lost.
#[test]
fn threads_race_entry_or_insert_with() {
    let map = ShardedMap::<u32, u64>::with_shards(4);
    let rounds = n(300, 5) as u32;
    let made = AtomicUsize::new(0);
    let barrier = Barrier::new(4);
    thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for round in 0..rounds {
                    barrier.wait();
                    *map.entry(round).or_insert_with(|| {
                        made.fetch_add(1, Ordering::SeqCst);
                        0
                    }) += 1;
                }
            });
        }
    });
    assert_eq!(made.load(Ordering::SeqCst), rounds as usize);
    assert_eq!(map.len(), rounds as usize);
    for round in 0..rounds {
        assert_eq!(map.load(&round), Some(4), "key {round}");
    }
}

#[test]
fn threads_insert_disjoint_keys() {
    let map = ShardedMap::<u64, u64>::new();
    let per_thread = n(5000, 40) as u64;
    thread::scope(|s| {
        for t in 0..4u64 {
            let map = &map;
            s.spawn(move || {
                for i in t * per_thread..(t + 1) * per_thread {
                    assert_eq!(map.insert(i, i * 2), None);
                }
            });
        }
    });
    assert_eq!(map.len(), 4 * per_thread as usize);
    assert_eq!(map.iter().count(), 4 * per_thread as usize);
    for i in 0..4 * per_thread {
        assert_eq!(map.load(&i), Some(i * 2));
    }
}

#[test]
fn threads_count_with_compare_and_swap() {
    let map = ShardedMap::<&str, u64>::with_shards(2);
    map.store("n", 0);
    let per_thread = n(2000, 16);
    let wins: usize = thread::scope(|s| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut wins = 0;
                    for _ in 0..per_thread {
                        loop {
                            let cur = map.load("n").unwrap();
                            if map.compare_and_swap("n", &cur, cur + 1) {
                                wins += 1;
                                break;
                            }
                        }
                    }
                    wins
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(wins, 4 * per_thread);
    assert_eq!(map.load("n"), Some(4 * per_thread as u64));
}

#[test]
fn threads_race_load_or_store() {
    let threads = 6;
    let map = ShardedMap::<u32, usize>::with_shards(4);
    for round in 0..n(200, 5) as u32 {
        let barrier = Barrier::new(threads);
        let results: Vec<(usize, (usize, bool))> = thread::scope(|s| {
            let hs: Vec<_> = (0..threads)
                .map(|t| {
                    let (map, barrier) = (&map, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        (t, map.load_or_store(round, t))
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let storers: Vec<_> = results.iter().filter(|(_, (_, loaded))| !loaded).collect();
        assert_eq!(storers.len(), 1, "round {round}: {results:?}");
        let winner = storers[0].0;
        assert!(
            results.iter().all(|(_, (v, _))| *v == winner),
            "{results:?}"
        );
        assert_eq!(map.load(&round), Some(winner));
    }
}

/// Iterating and ranging on one thread while others insert and remove other keys: stable
/// keys are seen exactly once per pass, with their values, and nothing deadlocks.
#[test]
fn iter_and_range_next_to_writer_threads() {
    let map = ShardedMap::<u32, u32>::with_shards(8);
    for k in 0..32 {
        map.insert(k, k * 7);
    }
    let stop = AtomicBool::new(false);
    thread::scope(|s| {
        for t in 0..2u32 {
            let (map, stop) = (&map, &stop);
            s.spawn(move || {
                let mut i = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    let k = 1000 + t * 100_000 + i % 64;
                    map.insert(k, i);
                    if i % 3 == 0 {
                        map.remove(&(k.wrapping_sub(5)));
                    }
                    i += 1;
                }
            });
        }
        for pass in 0..n(200, 5) {
            let mut seen = HashMap::new();
            if pass % 2 == 0 {
                for r in map.iter() {
                    if *r.key() < 32 {
                        assert_eq!(*r.value(), r.key() * 7);
                        *seen.entry(*r.key()).or_insert(0) += 1;
                    }
                }
            } else {
                map.range(|k, v| {
                    if *k < 32 {
                        assert_eq!(*v, k * 7);
                        *seen.entry(*k).or_insert(0) += 1;
                    }
                    true
                });
            }
            assert_eq!(seen.len(), 32, "pass {pass}");
            assert!(seen.values().all(|&c| c == 1), "pass {pass}");
        }
        stop.store(true, Ordering::Relaxed);
    });
}

/// A value that counts its clones and drops, so each test can check that every value made
/// was dropped exactly once.
#[derive(Debug)]
struct D {
    id: u32,
    made: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

#[derive(Clone, Default)]
struct Counts {
    made: Arc<AtomicUsize>,
    dropped: Arc<AtomicUsize>,
}

impl Counts {
    fn d(&self, id: u32) -> D {
        self.made.fetch_add(1, Ordering::SeqCst);
        D {
            id,
            made: self.made.clone(),
            dropped: self.dropped.clone(),
        }
    }
    fn made(&self) -> usize {
        self.made.load(Ordering::SeqCst)
    }
    fn dropped(&self) -> usize {
        self.dropped.load(Ordering::SeqCst)
    }
    fn live(&self) -> usize {
        self.made() - self.dropped()
    }
}

impl Clone for D {
    fn clone(&self) -> D {
        self.made.fetch_add(1, Ordering::SeqCst);
        D {
            id: self.id,
            made: self.made.clone(),
            dropped: self.dropped.clone(),
        }
    }
}

impl PartialEq for D {
    fn eq(&self, other: &D) -> bool {
        self.id == other.id
    }
}

impl Drop for D {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn values_are_dropped_exactly_once() {
    let c = Counts::default();
    let map: ShardedMap<u32, D> = ShardedMap::with_shards(4);
    let live_is_len = |map: &ShardedMap<u32, D>| assert_eq!(c.live(), map.len());

    for i in 0..10 {
        assert!(map.insert(i, c.d(i)).is_none());
    }
    live_is_len(&map);
    drop(map.insert(0, c.d(100))); // the old value comes back and is dropped here
    live_is_len(&map);
    drop(map.remove(&1));
    assert!(map.remove(&1).is_none());
    live_is_len(&map);
    map.store(2, c.d(102)); // store drops the old value itself
    live_is_len(&map);
    drop(map.swap(3, c.d(103)));
    live_is_len(&map);
    assert!(map.compare_and_swap(&3, &c.d(103), c.d(203))); // `old` and the old value go
    assert!(!map.compare_and_swap(&3, &c.d(999), c.d(204))); // `new` is dropped on failure
    assert!(!map.compare_and_swap(&77, &c.d(0), c.d(205))); // and for an absent key
    live_is_len(&map);
    assert!(map.compare_and_delete(&4, &c.d(4)));
    assert!(!map.compare_and_delete(&5, &c.d(6)));
    live_is_len(&map);
    drop(map.load_and_delete(&5));
    drop(map.load_or_store(6, c.d(999))); // loaded: the offered value is dropped
    drop(map.load_or_store(50, c.d(50))); // stored: the returned clone is dropped
    drop(map.load(&50));
    drop(map.get_cloned(&50));
    live_is_len(&map);
    if let Entry::Occupied(o) = map.entry(6) {
        drop(o.remove());
    }
    if let Entry::Occupied(mut o) = map.entry(7) {
        drop(o.insert(c.d(107)));
    }
    drop(
        map.entry(8)
            .and_modify(|v| *v = c.d(108))
            .or_insert_with(|| c.d(0)),
    );
    drop(map.entry(51).or_insert_with(|| c.d(51)));
    drop(map.entry(51).or_insert(c.d(999))); // occupied: the argument is dropped
    live_is_len(&map);
    // map: 0, 2, 3, 7, 8, 9, 50, 51
    assert_eq!(map.len(), 8);
    map.retain(|k, _| k % 2 == 0);
    live_is_len(&map);
    assert_eq!(map.len(), 4);
    let copy = map.clone();
    assert_eq!(c.live(), 8);
    map.clear();
    assert_eq!(c.live(), 4);
    drop(copy);
    assert_eq!(c.live(), 0);
    // Dropping a full map drops its values.
    for i in 0..20 {
        map.insert(i, c.d(i));
    }
    assert_eq!(c.live(), 20);
    drop(map);
    assert_eq!(c.live(), 0);
    // into_iter, partly consumed, then dropped.
    let map: ShardedMap<u32, D> = (0..30).map(|i| (i, c.d(i))).collect();
    let mut it = map.into_iter();
    let taken: Vec<_> = it.by_ref().take(11).collect();
    assert_eq!(c.live(), 30);
    drop(it);
    assert_eq!(c.live(), 11);
    drop(taken);
    assert_eq!(c.live(), 0);
    assert!(c.made() > 0 && c.made() == c.dropped());
}

#[test]
fn keys_are_dropped_exactly_once() {
    let c = Counts::default();
    #[derive(Debug)]
    struct K(D);
    impl PartialEq for K {
        fn eq(&self, o: &K) -> bool {
            self.0.id == o.0.id
        }
    }
    impl Eq for K {}
    impl std::hash::Hash for K {
        fn hash<H: Hasher>(&self, h: &mut H) {
            self.0.id.hash(h);
        }
    }
    let map: ShardedMap<K, u32> = ShardedMap::with_shards(2);
    for i in 0..10 {
        map.insert(K(c.d(i)), i);
    }
    map.insert(K(c.d(3)), 33); // the key already there is kept, the new one dropped
    assert_eq!(c.live(), 10);
    assert_eq!(map.remove(&K(c.d(4))), Some(4));
    assert_eq!(c.live(), 9);
    drop(map.entry(K(c.d(5))).or_insert(0)); // occupied: the passed key is dropped
    assert_eq!(c.live(), 9);
    drop(map.entry(K(c.d(50))).or_insert(0));
    assert_eq!(c.live(), 10);
    drop(map);
    assert_eq!(c.live(), 0);
}

#[test]
fn values_dropped_once_under_threads() {
    let c = Counts::default();
    let map: ShardedMap<u32, D> = ShardedMap::with_shards(4);
    let iters = n(2000, 40) as u32;
    thread::scope(|s| {
        for t in 0..4u32 {
            let (map, c) = (&map, &c);
            s.spawn(move || {
                for i in 0..iters {
                    let k = (i * 7 + t) % 32;
                    match i % 5 {
                        0 => drop(map.insert(k, c.d(i))),
                        1 => drop(map.remove(&k)),
                        2 => drop(map.load_or_store(k, c.d(i))),
                        3 => {
                            drop(map.entry(k).and_modify(|v| *v = c.d(i)).or_insert(c.d(i)));
                        }
                        _ => {
                            let _ = map.compare_and_swap(&k, &c.d(i - 1), c.d(i));
                        }
                    }
                }
            });
        }
    });
    assert_eq!(c.live(), map.len());
    map.retain(|k, _| k % 2 == 0);
    assert_eq!(c.live(), map.len());
    drop(map);
    assert_eq!(c.live(), 0);
}

#[test]
fn zero_sized_keys_and_values() {
    let set: ShardedMap<u32, ()> = ShardedMap::with_shards(4);
    for i in 0..50 {
        assert_eq!(set.insert(i % 25, ()), if i < 25 { None } else { Some(()) });
    }
    assert_eq!(set.len(), 25);
    assert!(set.get(&3).is_some());
    *set.get_mut(&3).unwrap() = ();
    drop(set.entry(99).or_default());
    assert!(set.contains_key(&99));
    assert_eq!(set.load_or_store(99, ()), ((), true));
    assert!(set.compare_and_swap(&99, &(), ()));
    assert!(set.compare_and_delete(&99, &()));
    assert_eq!(set.remove(&3), Some(()));
    assert_eq!(set.iter().count(), 24);
    let mut calls = 0;
    set.range(|_, ()| {
        calls += 1;
        true
    });
    assert_eq!(calls, 24);
    set.retain(|k, ()| *k < 10);
    assert_eq!(set.len(), 9);
    assert_eq!(set.clone().into_iter().count(), 9);
    set.clear();
    assert!(set.is_empty());

    let unit: ShardedMap<(), ()> = ShardedMap::with_shards(8);
    assert_eq!(unit.insert((), ()), None);
    assert_eq!(unit.insert((), ()), Some(()));
    assert_eq!(unit.len(), 1);
    assert_eq!(unit.iter().count(), 1);
    assert_eq!(unit.remove(&()), Some(()));
    assert!(unit.is_empty());

    let zst_vals: ShardedMap<(), u8> = ShardedMap::new();
    *zst_vals.entry(()).or_insert(1) += 1;
    assert_eq!(zst_vals.load(&()), Some(2));
}

/// Four threads mix every operation on 64 keys. Keys 0..8 are counters that every thread
/// only increments (by `entry`, `update`, `get_mut` or a `compare_and_swap` loop), so their
/// totals are exact; keys 8..64 are churned by every kind of write, each keeping the
/// invariant `value % 64 == key`. Readers check the invariant as they go; at the end `len`,
/// `iter` and `range` must agree, and the counters must add up.
#[test]
fn stress_every_operation() {
    const KEYS: u64 = 64;
    const COUNTERS: u64 = 8;
    let map = ShardedMap::<u64, u64>::with_shards(8);
    for k in 0..COUNTERS {
        map.insert(k, 0);
    }
    let iters = n(3000, 60) as u64;
    let increments: u64 = thread::scope(|s| {
        let hs: Vec<_> = (0..4u64)
            .map(|t| {
                let map = &map;
                s.spawn(move || {
                    let check = |k: u64, v: u64| {
                        if k >= COUNTERS {
                            assert_eq!(v % KEYS, k, "invariant broken for key {k}");
                        }
                    };
                    let mut incs = 0;
                    let mut x = t.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                    for i in 0..iters {
                        // xorshift
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        let c = x % COUNTERS;
                        let k = COUNTERS + x % (KEYS - COUNTERS);
                        let v = k + KEYS * (x >> 40);
                        match (x >> 8) % 20 {
                            0 => *map.entry(c).or_insert(0) += 1,
                            1 => assert!(map.update(&c, |n| *n += 1)),
                            2 => *map.get_mut(&c).unwrap() += 1,
                            3 => loop {
                                let cur = map.load(&c).unwrap();
                                if map.compare_and_swap(&c, &cur, cur + 1) {
                                    break;
                                }
                            },
                            4 => {
                                if let Some(old) = map.insert(k, v) {
                                    check(k, old);
                                }
                            }
                            5 => {
                                if let Some(old) = map.remove(&k) {
                                    check(k, old);
                                }
                            }
                            6 => {
                                let (got, _) = map.load_or_store(k, v);
                                check(k, got);
                            }
                            7 => {
                                if let Some(old) = map.swap(k, v) {
                                    check(k, old);
                                }
                            }
                            8 => {
                                if let Some(cur) = map.load(&k) {
                                    check(k, cur);
                                    let _ = map.compare_and_swap(&k, &cur, v);
                                }
                            }
                            9 => {
                                if let Some(cur) = map.get_cloned(&k) {
                                    let _ = map.compare_and_delete(&k, &cur);
                                }
                            }
                            10 => {
                                drop(map.entry(k).and_modify(|w| *w += KEYS).or_insert(v));
                            }
                            11 => {
                                if let Entry::Occupied(o) = map.entry(k) {
                                    check(k, o.remove());
                                }
                            }
                            12 => {
                                if let Some(r) = map.get(&k) {
                                    check(*r.key(), *r.value());
                                }
                                let _ = map.contains_key(&k);
                            }
                            13 => {
                                if let Some(mut r) = map.get_mut(&k) {
                                    *r += KEYS;
                                }
                            }
                            14 => {
                                let _ = map.update(&k, |w| *w += 2 * KEYS);
                            }
                            15 => {
                                if i % 16 == 0 {
                                    for r in map.iter().take(20) {
                                        check(*r.key(), *r.value());
                                    }
                                }
                            }
                            16 => {
                                if i % 16 == 0 {
                                    let mut left = 20;
                                    map.range(|k, v| {
                                        check(*k, *v);
                                        // Writing from inside range is allowed.
                                        if *k >= COUNTERS && *k % 7 == 0 {
                                            map.store(*k, *k);
                                        }
                                        left -= 1;
                                        left > 0
                                    });
                                }
                            }
                            17 => {
                                if i % 64 == 0 {
                                    map.retain(|k, v| *k < COUNTERS || *v % 3 != 0);
                                }
                            }
                            18 => {
                                let n = map.len();
                                assert!(n >= COUNTERS as usize && n <= KEYS as usize, "{n}");
                                assert!(!map.is_empty());
                            }
                            _ => {
                                if let Some(old) = map.load_and_delete(&k) {
                                    check(k, old);
                                }
                                map.store(k, v);
                            }
                        }
                        if (x >> 8) % 20 < 4 {
                            incs += 1;
                        }
                    }
                    incs
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let total: u64 = (0..COUNTERS).map(|c| map.load(&c).unwrap()).sum();
    assert_eq!(total, increments);
    let entries: BTreeMap<u64, u64> = map.iter().map(|r| (*r.key(), *r.value())).collect();
    assert_eq!(entries.len(), map.len());
    let mut ranged = BTreeMap::new();
    map.range(|k, v| {
        assert!(ranged.insert(*k, *v).is_none(), "range saw {k} twice");
        true
    });
    assert_eq!(ranged, entries);
    for (k, v) in &entries {
        assert!(*k < KEYS);
        if *k >= COUNTERS {
            assert_eq!(v % KEYS, *k);
        }
    }
}
