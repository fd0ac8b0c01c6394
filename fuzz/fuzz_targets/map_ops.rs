//! Fuzz csp-map against a model: bytes decode into operations on a `ShardedMap<u8, u16>` (one
//! thread), each result checked against a `std::collections::HashMap`, and the full contents
//! checked at the end (through `iter`, then `into_iter`).
//! Byte 0 picks the shard count (0..=255, rounded up to a power of two), then 3 bytes per op:
//! the operation, a key, and a value byte.
//! Run: `cd fuzz && cargo +nightly fuzz run map_ops -- -max_total_time=60`
#![no_main]

use csp_map::{Entry, ShardedMap};
use libfuzzer_sys::fuzz_target;
use std::collections::{HashMap, HashSet};

/// Longer inputs add little: 256 keys make a small state space.
const MAX_OPS: usize = 512;

/// The `retain` predicate, applied to the map and to the model alike: it also changes the
/// values it keeps.
fn keep(k: u8, v: &mut u16, x: u8) -> bool {
    *v = v.wrapping_add(u16::from(x & 3));
    !(k ^ x).is_multiple_of(3)
}

/// Every entry seen through `iter`, checked against the model (and for duplicates).
fn check_contents(map: &ShardedMap<u8, u16>, model: &HashMap<u8, u16>) {
    let mut seen = HashMap::new();
    for r in map.iter() {
        let (k, v) = r.pair();
        assert_eq!((r.key(), r.value(), &*r), (k, v, v));
        assert!(seen.insert(*k, *v).is_none(), "iter yielded key {k} twice");
    }
    assert_eq!(&seen, model, "iter");
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, ops)) = data.split_first() else {
        return;
    };
    let shards = usize::from(first);
    let map: ShardedMap<u8, u16> = ShardedMap::with_shards(shards);
    assert_eq!(map.shard_count(), shards.max(1).next_power_of_two());
    let mut map = map;
    let mut model: HashMap<u8, u16> = HashMap::new();

    for op in ops.chunks_exact(3).take(MAX_OPS) {
        let (op, k, x) = (op[0] % 24, op[1], op[2]);
        let v = u16::from(x) | (u16::from(op) << 8);
        match op {
            0 => assert_eq!(map.insert(k, v), model.insert(k, v), "insert({k}, {v})"),
            1 => assert_eq!(map.remove(&k), model.remove(&k), "remove({k})"),
            2 => {
                let r = map.get(&k);
                assert_eq!(r.as_deref(), model.get(&k), "get({k})");
                if let Some(r) = r {
                    assert_eq!(*r.key(), k);
                    // A second read lock of the same shard while the `Ref` lives.
                    assert_eq!(map.get_cloned(&k), Some(*r));
                    assert!(map.contains_key(&k));
                }
            }
            3 => match map.get_mut(&k) {
                Some(mut r) => {
                    assert_eq!(*r.key(), k);
                    assert_eq!(Some(r.value()), model.get(&k), "get_mut({k})");
                    *r = r.wrapping_add(u16::from(x));
                    let (rk, rv) = r.pair_mut();
                    assert_eq!(*rk, k);
                    *rv ^= 1;
                    *r.value_mut() = r.value().wrapping_mul(3);
                    let m = model
                        .get_mut(&k)
                        .expect("get_mut found a key the model lacks");
                    *m = (m.wrapping_add(u16::from(x)) ^ 1).wrapping_mul(3);
                    assert_eq!(*r, *m);
                }
                None => assert!(!model.contains_key(&k), "get_mut({k}) missed"),
            },
            4 => {
                let e = map.entry(k);
                assert_eq!(*e.key(), k);
                let r = e.or_insert(v);
                assert_eq!(*r.key(), k);
                assert_eq!(*r, *model.entry(k).or_insert(v), "entry({k}).or_insert");
            }
            5 => {
                let r = map.entry(k).and_modify(|e| *e ^= v).or_insert(v);
                let m = model.entry(k).and_modify(|e| *e ^= v).or_insert(v);
                assert_eq!(*r, *m, "entry({k}).and_modify.or_insert");
            }
            6 => {
                let mut r = map.entry(k).or_default();
                *r = r.wrapping_add(u16::from(x));
                let m = model.entry(k).or_default();
                *m = m.wrapping_add(u16::from(x));
                assert_eq!(*r, *m, "entry({k}).or_default");
            }
            7 => {
                let e = map.entry(k);
                assert_eq!(*e.key(), k);
                match e {
                    Entry::Occupied(mut o) => {
                        assert_eq!(*o.key(), k);
                        let old = *model.get(&k).expect("occupied entry the model lacks");
                        assert_eq!(*o.get(), old);
                        match x % 4 {
                            0 => {
                                assert_eq!(o.remove(), old);
                                model.remove(&k);
                            }
                            1 => {
                                assert_eq!(o.remove_entry(), (k, old));
                                model.remove(&k);
                            }
                            2 => {
                                assert_eq!(o.insert(v), old);
                                *o.get_mut() ^= 5;
                                model.insert(k, v ^ 5);
                                assert_eq!(*o.into_ref(), v ^ 5);
                            }
                            _ => {
                                *o.get_mut() = o.get().wrapping_sub(1);
                                model.insert(k, old.wrapping_sub(1));
                            }
                        }
                    }
                    Entry::Vacant(vac) => {
                        assert!(
                            !model.contains_key(&k),
                            "vacant entry for a present key {k}"
                        );
                        assert_eq!(*vac.key(), k);
                        if x & 1 == 0 {
                            assert_eq!(vac.into_key(), k);
                        } else {
                            let r = vac.insert(v);
                            assert_eq!((*r.key(), *r), (k, v));
                            model.insert(k, v);
                        }
                    }
                }
            }
            8 => {
                let present = map.update(&k, |e| *e = e.rotate_left(u32::from(x)));
                match model.get_mut(&k) {
                    Some(m) => {
                        assert!(present, "update({k}) missed");
                        *m = m.rotate_left(u32::from(x));
                    }
                    None => assert!(!present, "update({k}) found an absent key"),
                }
            }
            9 => {
                let want = match model.get(&k) {
                    Some(&old) => (old, true),
                    None => {
                        model.insert(k, v);
                        (v, false)
                    }
                };
                assert_eq!(map.load_or_store(k, v), want, "load_or_store({k}, {v})");
            }
            10 => assert_eq!(map.swap(k, v), model.insert(k, v), "swap({k}, {v})"),
            11 => {
                // Even x: compare with the current value (success when present).
                let old = match model.get(&k) {
                    Some(&m) if x & 1 == 0 => m,
                    _ => u16::from(x),
                };
                let want = model.get(&k) == Some(&old);
                assert_eq!(
                    map.compare_and_swap(&k, &old, v),
                    want,
                    "compare_and_swap({k})"
                );
                if want {
                    model.insert(k, v);
                }
            }
            12 => {
                let old = match model.get(&k) {
                    Some(&m) if x & 1 == 0 => m,
                    _ => u16::from(x),
                };
                let want = model.get(&k) == Some(&old);
                assert_eq!(
                    map.compare_and_delete(&k, &old),
                    want,
                    "compare_and_delete({k})"
                );
                if want {
                    model.remove(&k);
                }
            }
            13 => {
                map.retain(|&k, v| keep(k, v, x));
                model.retain(|&k, v| keep(k, v, x));
            }
            14 => {
                if x % 8 == 0 {
                    map.clear();
                    model.clear();
                }
                assert_eq!(map.is_empty(), model.is_empty());
            }
            15 => {
                assert_eq!(
                    map.contains_key(&k),
                    model.contains_key(&k),
                    "contains_key({k})"
                );
                assert_eq!(map.len(), model.len());
                assert_eq!(map.is_empty(), model.is_empty());
            }
            16 => {
                if x & 1 == 0 {
                    check_contents(&map, &model);
                } else {
                    // Stop early, keeping some RefMultis (and so their shards' read locks)
                    // after the iterator is gone; then read the map while they live.
                    let refs: Vec<_> = map.iter().take(usize::from(x >> 1)).collect();
                    assert_eq!(refs.len(), model.len().min(usize::from(x >> 1)));
                    let keys: HashSet<u8> = refs.iter().map(|r| *r.key()).collect();
                    assert_eq!(keys.len(), refs.len(), "iter yielded a key twice");
                    for r in &refs {
                        assert_eq!(Some(r.value()), model.get(r.key()));
                        assert_eq!(map.get_cloned(r.key()).as_ref(), Some(r.value()));
                    }
                    assert_eq!(map.len(), model.len());
                }
            }
            17 => {
                // Stop after `stop` calls; odd x also writes the map from inside the callback
                // (it runs with no lock held, on a copy of the shard).
                let stop = 1 + usize::from(x >> 1);
                let mut seen = HashSet::new();
                map.range(|&rk, &rv| {
                    assert_eq!(model.get(&rk), Some(&rv), "range saw {rk} => {rv}");
                    assert!(seen.insert(rk), "range visited {rk} twice");
                    if x & 1 == 1 {
                        assert!(map.update(&rk, |e| *e = e.wrapping_add(1)));
                        assert_eq!(map.load(&rk), Some(rv.wrapping_add(1)));
                    }
                    seen.len() < stop
                });
                assert_eq!(seen.len(), model.len().min(stop), "range visited");
                if x & 1 == 1 {
                    for rk in &seen {
                        let m = model.get_mut(rk).expect("range visited an absent key");
                        *m = m.wrapping_add(1);
                    }
                }
            }
            18 => {
                assert_eq!(map.load(&k).as_ref(), model.get(&k), "load({k})");
                assert_eq!(
                    map.get_cloned(&k).as_ref(),
                    model.get(&k),
                    "get_cloned({k})"
                );
            }
            19 => assert_eq!(
                map.load_and_delete(&k),
                model.remove(&k),
                "load_and_delete({k})"
            ),
            20 => {
                map.store(k, v);
                model.insert(k, v);
            }
            21 => {
                let want = model.remove_entry(&k);
                assert_eq!(map.remove_entry(&k), want, "remove_entry({k})");
            }
            22 => {
                // Clone (same shards) and collect (default shards): both equal the map.
                let copy = map.clone();
                assert_eq!(copy.shard_count(), map.shard_count());
                check_contents(&copy, &model);
                let collected: ShardedMap<u8, u16> =
                    map.iter().map(|r| (*r.key(), *r.value())).collect();
                check_contents(&collected, &model);
            }
            _ => {
                let more = [(k, v), (k ^ x, v.wrapping_add(1))];
                map.extend(more);
                model.extend(more);
            }
        }
        assert_eq!(map.len(), model.len(), "len after op {op}");
    }

    check_contents(&map, &model);
    let mut n = 0;
    for (k, v) in map {
        assert_eq!(model.remove(&k), Some(v), "into_iter yielded {k} => {v}");
        n += 1;
    }
    assert!(
        model.is_empty(),
        "into_iter missed {} keys after {n}",
        model.len()
    );
});
