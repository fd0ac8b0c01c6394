//! Exactly-once delivery under contention: every value arrives once, none is lost.
#![cfg(not(loom))]

use csp_chan::{Receiver, Sender, bounded, unbounded};
use std::thread;

const SENDERS: usize = 4;
const RECEIVERS: usize = 4;
const PER_SENDER: usize = if cfg!(miri) { 20 } else { 20_000 };

fn exactly_once(tx: Sender<usize>, rx: Receiver<usize>) {
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..PER_SENDER {
                    tx.send(s * PER_SENDER + i).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let receivers: Vec<_> = (0..RECEIVERS)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                let mut last = [None; SENDERS];
                for v in rx.iter() {
                    // Per-sender order is preserved for each receiver (FIFO channel).
                    let s = v / PER_SENDER;
                    assert!(last[s].is_none_or(|l| l < v), "out of order");
                    last[s] = Some(v);
                    got.push(v);
                }
                got
            })
        })
        .collect();
    drop(rx);
    for s in senders {
        s.join().unwrap();
    }
    let mut seen = vec![false; SENDERS * PER_SENDER];
    for r in receivers {
        for v in r.join().unwrap() {
            assert!(!seen[v], "value {v} delivered twice");
            seen[v] = true;
        }
    }
    assert!(seen.iter().all(|&b| b), "a value was lost");
}

#[test]
fn exactly_once_unbuffered() {
    let (tx, rx) = bounded(0);
    exactly_once(tx, rx);
}

#[test]
fn exactly_once_capacity_1() {
    let (tx, rx) = bounded(1);
    exactly_once(tx, rx);
}

#[test]
fn exactly_once_capacity_16() {
    let (tx, rx) = bounded(16);
    exactly_once(tx, rx);
}

#[test]
fn exactly_once_unbounded() {
    let (tx, rx) = unbounded();
    exactly_once(tx, rx);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "busy retry loops are too slow under miri; chan_semantics covers timeouts"
)]
fn exactly_once_with_timeouts_and_try() {
    // Senders and receivers that time out or use try_ forms in a loop, racing: still each
    // value exactly once.
    use std::time::Duration;
    for cap in [0, 1, 4] {
        let (tx, rx) = bounded(cap);
        let n = PER_SENDER / 4;
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for i in 0..n {
                        let mut v = s * n + i;
                        loop {
                            let r = if i % 2 == 0 {
                                tx.send_timeout(v, Duration::from_micros(20))
                                    .map_err(|e| e.into_inner())
                            } else {
                                tx.try_send(v).map_err(|e| e.into_inner())
                            };
                            match r {
                                Ok(()) => break,
                                Err(back) => {
                                    v = back;
                                    thread::yield_now();
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        drop(tx);
        let receivers: Vec<_> = (0..RECEIVERS)
            .map(|r| {
                let rx = rx.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    loop {
                        let v = if r % 2 == 0 {
                            match rx.recv_timeout(Duration::from_micros(30)) {
                                Ok(v) => v,
                                Err(e) if e.is_closed() => break,
                                Err(_) => continue,
                            }
                        } else {
                            match rx.try_recv() {
                                Ok(v) => v,
                                Err(e) if e.is_closed() => break,
                                Err(_) => {
                                    thread::yield_now();
                                    continue;
                                }
                            }
                        };
                        got.push(v);
                    }
                    got
                })
            })
            .collect();
        drop(rx);
        for s in senders {
            s.join().unwrap();
        }
        let mut all: Vec<usize> = receivers
            .into_iter()
            .flat_map(|r| r.join().unwrap())
            .collect();
        all.sort();
        assert_eq!(all, (0..SENDERS * n).collect::<Vec<_>>(), "cap {cap}");
    }
}
