//! proptest: random sequences of operations on a `ShardedMap<u8, u32>` (1, 2 or 8 shards)
//! against `std::collections::HashMap` as the model. Every operation's result is compared
//! with the model's, `len` and `is_empty` after each step, and the full contents at the end
//! through `iter()`, `range`, `into_iter()` and lookups of every possible key.
//!
//! Under miri the case count and sequence length shrink (proptest's own machinery is most of
//! the cost there) and failure persistence is off.
#![cfg(not(loom))]

use csp_map::{Entry, ShardedMap};
use proptest::prelude::*;
use std::collections::HashMap;

/// Keys span a small range so that operations hit present keys often; values too, so that
/// `compare_and_swap` / `compare_and_delete` sometimes match.
const KEYS: u8 = 24;
const VALS: u32 = 6;

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u32),
    Remove(u8),
    RemoveEntry(u8),
    Get(u8),
    GetCloned(u8),
    GetMutAdd(u8, u32),
    OrInsert(u8, u32),
    OrInsertWith(u8, u32),
    AndModifyOrInsert(u8, u32, u32),
    OrDefault(u8),
    OccupiedRemove(u8),
    OccupiedInsert(u8, u32),
    VacantInsert(u8, u32),
    Update(u8, u32),
    Load(u8),
    Store(u8, u32),
    LoadOrStore(u8, u32),
    LoadAndDelete(u8),
    Swap(u8, u32),
    CompareAndSwap(u8, u32, u32),
    CompareAndDelete(u8, u32),
    Retain(u32),
    Clear,
    Len,
    ContainsKey(u8),
}

/// One operation: a weighted kind and its arguments, drawn as one tuple of integers and
/// decoded (a 25-arm `prop_oneof!` of boxed strategies costs tens of seconds per sequence
/// under miri; this costs next to nothing and shrinks towards `Insert(0, 0)`).
fn op() -> impl Strategy<Value = Op> {
    let total: u32 = WEIGHTS.iter().sum();
    (0..total, 0..KEYS, 0..VALS, 0..VALS, 2..5u32).prop_map(decode)
}

/// The relative frequency of each kind, in `decode`'s order.
const WEIGHTS: [u32; 25] = [
    6, 3, 1, 2, 1, 2, 2, 1, 2, 1, 2, 1, 1, 2, 1, 2, 2, 1, 2, 3, 2, 1, 1, 1, 2,
];

fn decode((pick, k, a, b, m): (u32, u8, u32, u32, u32)) -> Op {
    let mut pick = pick;
    let mut kind = 0;
    while pick >= WEIGHTS[kind] {
        pick -= WEIGHTS[kind];
        kind += 1;
    }
    match kind {
        0 => Op::Insert(k, a),
        1 => Op::Remove(k),
        2 => Op::RemoveEntry(k),
        3 => Op::Get(k),
        4 => Op::GetCloned(k),
        5 => Op::GetMutAdd(k, a),
        6 => Op::OrInsert(k, a),
        7 => Op::OrInsertWith(k, a),
        8 => Op::AndModifyOrInsert(k, a, b),
        9 => Op::OrDefault(k),
        10 => Op::OccupiedRemove(k),
        11 => Op::OccupiedInsert(k, a),
        12 => Op::VacantInsert(k, a),
        13 => Op::Update(k, a),
        14 => Op::Load(k),
        15 => Op::Store(k, a),
        16 => Op::LoadOrStore(k, a),
        17 => Op::LoadAndDelete(k),
        18 => Op::Swap(k, a),
        19 => Op::CompareAndSwap(k, a, b),
        20 => Op::CompareAndDelete(k, a),
        21 => Op::Retain(m),
        22 => Op::Clear,
        23 => Op::Len,
        _ => Op::ContainsKey(k),
    }
}

/// The retain predicate for `Retain(m)` (both sides use it).
fn keep(m: u32, k: u8, v: u32) -> bool {
    (u32::from(k) + v) % m != 0
}

/// Applies `op` to the map and to the model; returns each side's result, rendered.
fn step(map: &ShardedMap<u8, u32>, model: &mut HashMap<u8, u32>, op: &Op) -> (String, String) {
    match *op {
        Op::Insert(k, v) => (fmt(map.insert(k, v)), fmt(model.insert(k, v))),
        Op::Remove(k) => (fmt(map.remove(&k)), fmt(model.remove(&k))),
        Op::RemoveEntry(k) => (fmt(map.remove_entry(&k)), fmt(model.remove_entry(&k))),
        Op::Get(k) => (
            fmt(map.get(&k).map(|r| (*r.key(), *r))),
            fmt(model.get(&k).map(|v| (k, *v))),
        ),
        Op::GetCloned(k) => (fmt(map.get_cloned(&k)), fmt(model.get(&k).copied())),
        Op::GetMutAdd(k, d) => {
            let got = map.get_mut(&k).map(|mut r| {
                *r += d;
                *r
            });
            let want = model.get_mut(&k).map(|v| {
                *v += d;
                *v
            });
            (fmt(got), fmt(want))
        }
        Op::OrInsert(k, v) => (
            fmt(*map.entry(k).or_insert(v)),
            fmt(*model.entry(k).or_insert(v)),
        ),
        Op::OrInsertWith(k, v) => {
            let mut ran = false;
            let got = *map.entry(k).or_insert_with(|| {
                ran = true;
                v
            });
            let present = model.contains_key(&k);
            let want = *model.entry(k).or_insert(v);
            (fmt((got, ran)), fmt((want, !present)))
        }
        Op::AndModifyOrInsert(k, d, v) => (
            fmt(*map.entry(k).and_modify(|x| *x += d).or_insert(v)),
            fmt(*model.entry(k).and_modify(|x| *x += d).or_insert(v)),
        ),
        Op::OrDefault(k) => (
            fmt(*map.entry(k).or_default()),
            fmt(*model.entry(k).or_default()),
        ),
        Op::OccupiedRemove(k) => {
            let got = match map.entry(k) {
                Entry::Occupied(o) => {
                    assert_eq!(*o.key(), k);
                    Some(o.remove())
                }
                Entry::Vacant(v) => {
                    assert_eq!(v.into_key(), k);
                    None
                }
            };
            (fmt(got), fmt(model.remove(&k)))
        }
        Op::OccupiedInsert(k, v) => {
            let got = match map.entry(k) {
                Entry::Occupied(mut o) => Some(o.insert(v)),
                Entry::Vacant(_) => None,
            };
            let want = model.get_mut(&k).map(|x| std::mem::replace(x, v));
            (fmt(got), fmt(want))
        }
        Op::VacantInsert(k, v) => {
            let got = match map.entry(k) {
                Entry::Occupied(o) => Err(*o.get()),
                Entry::Vacant(e) => Ok(*e.insert(v)),
            };
            let want = match model.get(&k) {
                Some(x) => Err(*x),
                None => {
                    model.insert(k, v);
                    Ok(v)
                }
            };
            (fmt(got), fmt(want))
        }
        Op::Update(k, d) => (
            fmt(map.update(&k, |x| *x += d)),
            fmt(model.get_mut(&k).map(|x| *x += d).is_some()),
        ),
        Op::Load(k) => (fmt(map.load(&k)), fmt(model.get(&k).copied())),
        Op::Store(k, v) => {
            map.store(k, v);
            model.insert(k, v);
            (String::new(), String::new())
        }
        Op::LoadOrStore(k, v) => {
            let want = match model.get(&k) {
                Some(x) => (*x, true),
                None => {
                    model.insert(k, v);
                    (v, false)
                }
            };
            (fmt(map.load_or_store(k, v)), fmt(want))
        }
        Op::LoadAndDelete(k) => (fmt(map.load_and_delete(&k)), fmt(model.remove(&k))),
        Op::Swap(k, v) => (fmt(map.swap(k, v)), fmt(model.insert(k, v))),
        Op::CompareAndSwap(k, old, new) => {
            let want = match model.get_mut(&k) {
                Some(x) if *x == old => {
                    *x = new;
                    true
                }
                _ => false,
            };
            (fmt(map.compare_and_swap(&k, &old, new)), fmt(want))
        }
        Op::CompareAndDelete(k, old) => {
            let want = model.get(&k) == Some(&old);
            if want {
                model.remove(&k);
            }
            (fmt(map.compare_and_delete(&k, &old)), fmt(want))
        }
        Op::Retain(m) => {
            let mut calls = 0;
            map.retain(|k, v| {
                calls += 1;
                keep(m, *k, *v)
            });
            let before = model.len();
            model.retain(|k, v| keep(m, *k, *v));
            (fmt(calls), fmt(before))
        }
        Op::Clear => {
            map.clear();
            model.clear();
            (String::new(), String::new())
        }
        Op::Len => (fmt(map.len()), fmt(model.len())),
        Op::ContainsKey(k) => (fmt(map.contains_key(&k)), fmt(model.contains_key(&k))),
    }
}

fn fmt(x: impl std::fmt::Debug) -> String {
    format!("{x:?}")
}

fn sorted(mut v: Vec<(u8, u32)>) -> Vec<(u8, u32)> {
    v.sort_unstable();
    v
}

fn config() -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig {
            cases: 8,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    } else {
        ProptestConfig::with_cases(64)
    }
}

fn max_ops() -> usize {
    if cfg!(miri) { 60 } else { 300 }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ops_match_hashmap(
        shards in prop_oneof![Just(1usize), Just(2), Just(8)],
        ops in prop::collection::vec(op(), 0..max_ops()),
    ) {
        let map: ShardedMap<u8, u32> = ShardedMap::with_shards(shards);
        prop_assert_eq!(map.shard_count(), shards);
        let mut model = HashMap::new();
        for (i, op) in ops.iter().enumerate() {
            let (got, want) = step(&map, &mut model, op);
            prop_assert_eq!(got, want, "step {}: {:?}", i, op);
            prop_assert_eq!(map.len(), model.len(), "len after step {}: {:?}", i, op);
            prop_assert_eq!(map.is_empty(), model.is_empty());
        }
        let want = sorted(model.iter().map(|(k, v)| (*k, *v)).collect());
        // Through iter().
        let via_iter = sorted(map.iter().map(|r| (*r.key(), *r.value())).collect());
        prop_assert_eq!(&via_iter, &want);
        // Through range.
        let mut via_range = Vec::new();
        map.range(|k, v| {
            via_range.push((*k, *v));
            true
        });
        prop_assert_eq!(&sorted(via_range), &want);
        // Every key, present or not.
        for k in 0..KEYS {
            prop_assert_eq!(map.load(&k), model.get(&k).copied(), "key {}", k);
        }
        // A clone, then the owning iterator.
        let copy = map.clone();
        prop_assert_eq!(&sorted(map.into_iter().collect()), &want);
        prop_assert_eq!(&sorted(copy.iter().map(|r| (*r.key(), *r.value())).collect()), &want);
    }

    #[test]
    fn collect_and_extend_match_hashmap(
        first in prop::collection::vec((0..KEYS, 0..VALS), 0..60),
        second in prop::collection::vec((0..KEYS, 0..VALS), 0..60),
    ) {
        let mut map: ShardedMap<u8, u32> = first.iter().copied().collect();
        let mut model: HashMap<u8, u32> = first.iter().copied().collect();
        map.extend(second.iter().copied());
        model.extend(second.iter().copied());
        let want = sorted(model.into_iter().collect());
        prop_assert_eq!(sorted(map.into_iter().collect()), want);
    }
}
