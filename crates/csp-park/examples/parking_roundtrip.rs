//! Measures how fast two threads can wake each other with each candidate parking mechanism,
//! untimed and timed: `cargo run --release -p csp-park --example parking_roundtrip`.
//!
//! This is the measurement behind csp-park's choice of a direct `futex(2)` for timed waits
//! (see `docs/architecture.md`). Each round trip is: A wakes B, B wakes A, with both sleeping
//! in between (no spinning), so it measures wake + sleep latency. Medians of 7 runs.

use csp_park::futex;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const ROUNDS: u32 = 20_000;

/// Ping-pong on one futex word: A sets odd values and waits for the next even one, B the
/// other way round.
fn futex_pingpong(timed: bool) -> f64 {
    let word = Arc::new(AtomicU32::new(0));
    let deadline = move || timed.then(|| Instant::now() + Duration::from_secs(10));
    let w = word.clone();
    let b = thread::spawn(move || {
        for i in 0..ROUNDS {
            let want = 2 * i + 1;
            loop {
                let v = w.load(Ordering::Acquire);
                if v == want {
                    break;
                }
                futex::wait(&w, v, deadline());
            }
            w.store(want + 1, Ordering::Release);
            futex::wake_one(&w);
        }
    });
    let start = Instant::now();
    for i in 0..ROUNDS {
        word.store(2 * i + 1, Ordering::Release);
        futex::wake_one(&word);
        let want = 2 * i + 2;
        loop {
            let v = word.load(Ordering::Acquire);
            if v == want {
                break;
            }
            futex::wait(&word, v, deadline());
        }
    }
    let el = start.elapsed();
    b.join().unwrap();
    el.as_nanos() as f64 / ROUNDS as f64
}

/// Ping-pong with `std::thread::park` / `unpark` (optionally `park_timeout`).
fn park_pingpong(timed: bool) -> f64 {
    let turn = Arc::new(AtomicU32::new(0));
    let main = thread::current();
    let t = turn.clone();
    let b = thread::spawn(move || {
        for i in 0..ROUNDS {
            while t.load(Ordering::Acquire) != 2 * i + 1 {
                if timed {
                    thread::park_timeout(Duration::from_secs(10));
                } else {
                    thread::park();
                }
            }
            t.store(2 * i + 2, Ordering::Release);
            main.unpark();
        }
    });
    let other = b.thread().clone();
    let start = Instant::now();
    for i in 0..ROUNDS {
        turn.store(2 * i + 1, Ordering::Release);
        other.unpark();
        while turn.load(Ordering::Acquire) != 2 * i + 2 {
            if timed {
                thread::park_timeout(Duration::from_secs(10));
            } else {
                thread::park();
            }
        }
    }
    let el = start.elapsed();
    b.join().unwrap();
    el.as_nanos() as f64 / ROUNDS as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

type Case = (&'static str, fn(bool) -> f64, bool);

fn main() {
    let cases: [Case; 4] = [
        ("futex wait/wake (untimed)", futex_pingpong, false),
        ("futex wait/wake (timed)", futex_pingpong, true),
        ("thread park/unpark", park_pingpong, false),
        ("thread park_timeout/unpark", park_pingpong, true),
    ];
    let mut results = vec![Vec::new(); cases.len()];
    // Interleave the cases so that machine noise hits them alike.
    for _ in 0..7 {
        for (i, (_, f, timed)) in cases.iter().enumerate() {
            results[i].push(f(*timed));
        }
    }
    println!("| mechanism | median ns per round trip |");
    println!("|---|---|");
    for (i, (name, _, _)) in cases.iter().enumerate() {
        println!("| {name} | {:.0} |", median(results[i].clone()));
    }
}
