//! RwLock: many readers or one writer, writer preference, timeouts, async, cancel safety;
//! a stress mix of every operation (with futures dropped mid-wait and very short timeouts)
//! checked by an occupancy count, and async use under tokio and smol next to blocking threads.
#![cfg(not(loom))]

use csp_sync::RwLock;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn readers_share_writers_exclude() {
    let l = RwLock::new(0);
    let r1 = l.read();
    let r2 = l.try_read().unwrap();
    assert!(l.try_write().is_none());
    drop((r1, r2));
    let w = l.write();
    assert!(l.try_read().is_none());
    assert!(l.try_write().is_none());
    drop(w);
}

#[test]
fn waiting_writer_blocks_new_readers() {
    let l = Arc::new(RwLock::new(0));
    let r = l.read();
    let l2 = l.clone();
    let writer = thread::spawn(move || {
        *l2.write() += 1;
    });
    // Wait until the writer is queued.
    while l.try_read().is_some() {
        thread::yield_now();
    }
    // A new reader must not get in ahead of the waiting writer.
    assert!(l.try_read().is_none());
    assert!(l.read_timeout(ms(5)).is_none());
    drop(r);
    writer.join().unwrap();
    assert_eq!(*l.read(), 1);
}

#[test]
fn readers_queued_behind_a_writer_get_in_together() {
    let l = Arc::new(RwLock::new(0));
    let w = l.write();
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (l, inside, max) = (l.clone(), inside.clone(), max.clone());
            thread::spawn(move || {
                let _r = l.read();
                let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(n, Ordering::SeqCst);
                thread::sleep(ms(20));
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    thread::sleep(ms(10));
    drop(w);
    for h in hs {
        h.join().unwrap();
    }
    assert!(
        max.load(Ordering::SeqCst) >= 2,
        "readers did not share the lock"
    );
}

#[test]
fn write_timeout_and_read_timeout() {
    let l = RwLock::new(1);
    let r = l.read();
    assert!(l.write_timeout(ms(5)).is_none());
    // The timed-out writer left the queue: readers get in again.
    assert!(l.try_read().is_some());
    drop(r);
    assert!(l.write_timeout(ms(5)).is_some());
}

#[test]
fn read_heavy_mixed_threads_and_tasks() {
    let l = Arc::new(RwLock::new(0usize));
    let n = if cfg!(miri) { 20 } else { 5_000 };
    let mut hs = Vec::new();
    for i in 0..4 {
        let l = l.clone();
        hs.push(thread::spawn(move || {
            for j in 0..n {
                if (i + j) % 20 == 0 {
                    *l.write() += 1;
                } else {
                    let v = *l.read();
                    assert!(v <= 4 * n);
                }
            }
        }));
    }
    let l2 = l.clone();
    let t = thread::spawn(move || {
        futures::executor::block_on(async {
            for j in 0..n {
                if j % 20 == 0 {
                    *l2.write_async().await += 1;
                } else {
                    let _ = *l2.read_async().await;
                }
            }
        })
    });
    for h in hs {
        h.join().unwrap();
    }
    t.join().unwrap();
    let writes = (0..4)
        .map(|i| (0..n).filter(|j| (i + j) % 20 == 0).count())
        .sum::<usize>()
        + (0..n).filter(|j| j % 20 == 0).count();
    assert_eq!(*l.read(), writes);
}

#[test]
fn dropped_pending_write_future_lets_readers_in() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let l = RwLock::new(0);
    let r = l.read();
    {
        let mut f = l.write_async();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending());
        assert!(l.try_read().is_none(), "a queued writer blocks new readers");
    }
    assert!(l.try_read().is_some(), "the dropped writer left the queue");
    drop(r);
    assert!(l.try_write().is_some());
}

#[test]
fn guard_released_on_panic() {
    let l = Arc::new(RwLock::new(0));
    let l2 = l.clone();
    assert!(
        thread::spawn(move || {
            let _w = l2.write();
            panic!("boom");
        })
        .join()
        .is_err()
    );
    assert!(l.try_write().is_some());
}

// ---- helpers for the tests below -----------------------------------------------------------

/// Who is inside the lock, by the guards' own accounting: a writer inside with anyone else
/// fails the test. Every counter is touched only while the matching guard is held.
#[derive(Default)]
struct Occupancy {
    readers: AtomicUsize,
    writers: AtomicUsize,
    /// Every third critical section yields its core while inside, so that other threads
    /// contend even on a machine with few cores.
    ticks: AtomicUsize,
}

impl Occupancy {
    /// Runs inside a read guard: checks no writer is in, reads the value.
    fn read(&self, v: &u64) -> u64 {
        self.readers.fetch_add(1, Ordering::SeqCst);
        assert_eq!(
            self.writers.load(Ordering::SeqCst),
            0,
            "a reader inside with a writer"
        );
        let x = *v;
        self.pause();
        self.readers.fetch_sub(1, Ordering::SeqCst);
        x
    }

    /// Stays inside a little: yields the core every third time, else one spin hint.
    fn pause(&self) {
        if self.ticks.fetch_add(1, Ordering::Relaxed) % 3 == 0 {
            thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }

    /// Runs inside a write guard: checks nobody else is in, increments the value.
    fn write(&self, v: &mut u64) {
        assert_eq!(
            self.writers.fetch_add(1, Ordering::SeqCst),
            0,
            "two writers inside"
        );
        assert_eq!(
            self.readers.load(Ordering::SeqCst),
            0,
            "a writer inside with readers"
        );
        *v += 1;
        self.pause();
        self.writers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Polls a future once with a no-op waker.
fn poll_once<F: std::future::Future + Unpin>(f: &mut F) -> std::task::Poll<F::Output> {
    std::pin::Pin::new(f).poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
}

/// The lock is entirely free: `try_write` is one CAS from a state word of 0, so a leaked
/// reader count or a stale flag fails it.
fn assert_free<T>(l: &RwLock<T>) {
    assert!(
        l.try_write().is_some(),
        "the lock was left held or its state leaked"
    );
    assert!(l.try_read().is_some());
}

/// A tiny per-thread PRNG (xorshift), so the stress mix needs no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

// ---- stress --------------------------------------------------------------------------------

/// How often the operations that can fail did (printed, for a look at the coverage).
#[derive(Default)]
struct Misses {
    try_: AtomicUsize,
    timeout: AtomicUsize,
    pending: AtomicUsize,
}

impl Misses {
    fn count(c: &AtomicUsize) -> u64 {
        c.fetch_add(1, Ordering::Relaxed);
        0
    }
}

/// One random operation on `l`; returns how many writes it made (0 or 1).
fn random_op(l: &RwLock<u64>, o: &Occupancy, m: &Misses, rng: &mut Rng) -> u64 {
    let us = |rng: &mut Rng| Duration::from_micros(rng.below(51));
    match rng.below(10) {
        0 => {
            o.read(&l.read());
            0
        }
        1 => {
            o.write(&mut l.write());
            1
        }
        2 => l.try_read().map_or_else(
            || Misses::count(&m.try_),
            |g| {
                o.read(&g);
                0
            },
        ),
        3 => l.try_write().map_or_else(
            || Misses::count(&m.try_),
            |mut g| {
                o.write(&mut g);
                1
            },
        ),
        4 => l.read_timeout(us(rng)).map_or_else(
            || Misses::count(&m.timeout),
            |g| {
                o.read(&g);
                0
            },
        ),
        5 => l.write_timeout(us(rng)).map_or_else(
            || Misses::count(&m.timeout),
            |mut g| {
                o.write(&mut g);
                1
            },
        ),
        // Futures dropped after one poll: cancelled while queued, draining, or being granted.
        6 => {
            let mut f = l.read_async();
            match poll_once(&mut f) {
                std::task::Poll::Ready(g) => {
                    o.read(&g);
                    0
                }
                std::task::Poll::Pending => {
                    thread::yield_now(); // a release may grant it before the drop
                    Misses::count(&m.pending)
                }
            }
        }
        7 => {
            let mut f = l.write_async();
            match poll_once(&mut f) {
                std::task::Poll::Ready(mut g) => {
                    o.write(&mut g);
                    1
                }
                std::task::Poll::Pending => {
                    thread::yield_now();
                    Misses::count(&m.pending)
                }
            }
        }
        8 => {
            futures::executor::block_on(async { o.read(&*l.read_async().await) });
            0
        }
        _ => {
            futures::executor::block_on(async { o.write(&mut *l.write_async().await) });
            1
        }
    }
}

/// `threads` threads doing `n` random operations each; checks exclusion throughout, and that
/// no write is lost and the lock ends free.
fn stress(threads: u64, n: usize, seed: u64) {
    let l = Arc::new(RwLock::new(0u64));
    let o = Arc::new(Occupancy::default());
    let m = Arc::new(Misses::default());
    let hs: Vec<_> = (0..threads)
        .map(|i| {
            let (l, o, m) = (l.clone(), o.clone(), m.clone());
            thread::spawn(move || {
                let mut rng = Rng(seed ^ (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                (0..n).map(|_| random_op(&l, &o, &m, &mut rng)).sum::<u64>()
            })
        })
        .collect();
    let writes: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(*l.read(), writes, "a write was lost or doubled");
    assert_free(&l);
    eprintln!(
        "{writes} writes; failed try_*: {}, expired timeouts: {}, futures dropped pending: {}",
        m.try_.load(Ordering::Relaxed),
        m.timeout.load(Ordering::Relaxed),
        m.pending.load(Ordering::Relaxed)
    );
}

#[test]
#[cfg_attr(miri, ignore = "heavy stress; the small one runs under miri")]
fn stress_every_operation_mixed() {
    stress(4, 20_000, 0x2545_F491_4F6C_DD1D);
}

/// The same mix, few iterations, small enough for miri.
#[test]
fn stress_every_operation_mixed_small() {
    stress(3, if cfg!(miri) { 15 } else { 500 }, 0xDEAD_BEEF);
}

// ---- writer preference ---------------------------------------------------------------------

/// Waits until a writer has claimed the lock (new readers are shut out), or until `done`.
fn wait_for_claim<T>(l: &RwLock<T>, done: impl Fn() -> bool) {
    while l.try_read().is_some() && !done() {
        thread::yield_now();
    }
}

#[test]
fn reader_arriving_after_a_waiting_writer_gets_in_after_it() {
    let l = Arc::new(RwLock::new(0u64));
    let r1 = l.read();
    let l2 = l.clone();
    let w = thread::spawn(move || *l2.write() += 1);
    wait_for_claim(&l, || false); // the writer waits for r1, without a deadline
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let l = l.clone();
            thread::spawn(move || *l.read())
        })
        .collect();
    // Give the readers time to queue (not needed for the outcome, only for coverage).
    thread::sleep(ms(if cfg!(miri) { 1 } else { 10 }));
    assert_eq!(*r1, 0);
    drop(r1);
    w.join().unwrap();
    for r in readers {
        assert_eq!(
            r.join().unwrap(),
            1,
            "a reader got in ahead of the waiting writer"
        );
    }
    assert_free(&l);
}

#[test]
#[cfg_attr(miri, ignore = "a stream of readers for a while")]
fn writers_not_starved_by_a_stream_of_readers() {
    let l = Arc::new(RwLock::new(0u64));
    let o = Arc::new(Occupancy::default());
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Readers that overlap, so the reader count (without writer preference) would rarely
    // drop to zero.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (l, o, stop) = (l.clone(), o.clone(), stop.clone());
            thread::spawn(move || {
                let mut reads = 0u64;
                let mut last = 0;
                while !stop.load(Ordering::Relaxed) {
                    let g = l.read();
                    let v = o.read(&g);
                    assert!(v >= last, "the value went backwards");
                    last = v;
                    for _ in 0..4 {
                        thread::yield_now();
                    }
                    drop(g);
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    // Let the stream get going first.
    while o.readers.load(Ordering::SeqCst) == 0 && *l.read() == 0 {
        thread::yield_now();
    }
    let writers: Vec<_> = (0..2)
        .map(|i| {
            let (l, o) = (l.clone(), o.clone());
            thread::spawn(move || {
                for j in 0..200 {
                    if (i + j) % 2 == 0 {
                        o.write(&mut l.write());
                    } else {
                        futures::executor::block_on(async {
                            o.write(&mut *l.write_async().await);
                        });
                    }
                }
            })
        })
        .collect();
    // Each writer finishing while readers stream in is the check: starved, it would hang.
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(*l.read(), 400);
    assert_free(&l);
}

// ---- a writer giving up with readers queued behind it ---------------------------------------

#[test]
fn write_timeout_expiring_while_readers_hold_admits_readers_queued_behind() {
    for _ in 0..if cfg!(miri) { 1 } else { 5 } {
        let l = Arc::new(RwLock::new(0u64));
        let r1 = l.read();
        let l2 = l.clone();
        // r1 is held until after the writer returns: it must time out.
        let w = thread::spawn(move || l2.write_timeout(ms(30)).is_some());
        wait_for_claim(&l, || w.is_finished());
        // Readers behind the claim: blocking, timed (long), and async.
        let mut queued: Vec<thread::JoinHandle<u64>> = Vec::new();
        for k in 0..3 {
            let l = l.clone();
            queued.push(thread::spawn(move || match k {
                0 => *l.read(),
                1 => *l
                    .read_timeout(Duration::from_secs(600))
                    .expect("reader timed out"),
                _ => futures::executor::block_on(async { *l.read_async().await }),
            }));
        }
        assert!(!w.join().unwrap(), "the writer got in while a reader held");
        // All get in while r1 still holds: they were admitted, not stranded.
        for q in queued {
            assert_eq!(q.join().unwrap(), 0);
        }
        drop(r1);
        assert_free(&l);
    }
}

#[test]
fn dropped_draining_write_future_admits_blocked_readers() {
    let l = Arc::new(RwLock::new(0u64));
    let r1 = l.read();
    let mut w = l.write_async();
    assert!(poll_once(&mut w).is_pending(), "claimed, draining r1");
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let l = l.clone();
            thread::spawn(move || *l.read())
        })
        .collect();
    thread::sleep(ms(if cfg!(miri) { 1 } else { 10 })); // let them queue (coverage only)
    drop(w);
    for r in readers {
        assert_eq!(r.join().unwrap(), 0);
    }
    drop(r1);
    assert_free(&l);
}

/// The queue is served in order, checked step by step with futures polled by hand: a release
/// admits the front readers together and makes the next writer the claimer.
#[test]
fn release_serves_the_queue_in_order() {
    let l = RwLock::new(0u64);
    let mut w1 = l.write();
    let mut r1 = l.read_async();
    let mut r2 = l.read_async();
    let mut w2 = l.write_async();
    let mut r3 = l.read_async();
    let mut w3 = l.write_async();
    for p in [
        poll_once(&mut r1).is_pending(),
        poll_once(&mut r2).is_pending(),
        poll_once(&mut w2).is_pending(),
        poll_once(&mut r3).is_pending(),
        poll_once(&mut w3).is_pending(),
    ] {
        assert!(p, "everyone queues behind the writer");
    }
    *w1 = 1;
    drop(w1);
    // r1 and r2 are in; w2 claims (draining them), so r3 and new readers wait.
    let std::task::Poll::Ready(g1) = poll_once(&mut r1) else {
        panic!("front reader not admitted")
    };
    let std::task::Poll::Ready(g2) = poll_once(&mut r2) else {
        panic!("second front reader not admitted with the first")
    };
    assert_eq!((*g1, *g2), (1, 1));
    assert!(poll_once(&mut w2).is_pending());
    assert!(poll_once(&mut r3).is_pending());
    assert!(
        l.try_read().is_none(),
        "a new reader got past the promoted writer"
    );
    drop(g1);
    assert!(
        poll_once(&mut w2).is_pending(),
        "granted with a reader inside"
    );
    drop(g2);
    let std::task::Poll::Ready(mut g) = poll_once(&mut w2) else {
        panic!("the last reader out did not grant the promoted writer")
    };
    *g = 2;
    drop(g);
    // r3 is admitted alone and w3 claims behind it.
    let std::task::Poll::Ready(g3) = poll_once(&mut r3) else {
        panic!("reader behind w2 not admitted")
    };
    assert_eq!(*g3, 2);
    assert!(poll_once(&mut w3).is_pending());
    drop(g3);
    let std::task::Poll::Ready(g) = poll_once(&mut w3) else {
        panic!("w3 not granted")
    };
    drop(g);
    drop((r1, r2, w2, r3, w3)); // completed futures: dropping them does nothing
    assert_free(&l);
}

/// A promoted writer's future dropped while it drains: the readers behind it are admitted
/// alongside the ones it was draining.
#[test]
fn dropped_promoted_writer_admits_readers_behind_it() {
    let l = RwLock::new(0u64);
    let w1 = l.write();
    let mut r1 = l.read_async();
    let mut w2 = l.write_async();
    let mut r2 = l.read_async();
    assert!(poll_once(&mut r1).is_pending());
    assert!(poll_once(&mut w2).is_pending());
    assert!(poll_once(&mut r2).is_pending());
    drop(w1);
    let std::task::Poll::Ready(g1) = poll_once(&mut r1) else {
        panic!("front reader not admitted")
    };
    assert!(poll_once(&mut r2).is_pending(), "w2 claims ahead of r2");
    drop(w2);
    let std::task::Poll::Ready(g2) = poll_once(&mut r2) else {
        panic!("reader behind a dropped writer stranded")
    };
    drop((g1, g2));
    assert_free(&l);
}

// ---- runtimes ------------------------------------------------------------------------------

#[cfg(not(miri))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_under_tokio_with_blocking_threads() {
    let l = Arc::new(RwLock::new(0u64));
    let o = Arc::new(Occupancy::default());
    let n = 2_000u64;
    let mut tasks = Vec::new();
    for i in 0..4u64 {
        let (l, o) = (l.clone(), o.clone());
        tasks.push(tokio::spawn(async move {
            let mut writes = 0;
            for j in 0..n {
                match (i + j) % 4 {
                    0 => {
                        o.write(&mut *l.write_async().await);
                        writes += 1;
                    }
                    1 => {
                        // Cancelled by the timeout (or not): either way nothing leaks.
                        let w = tokio::time::timeout(Duration::from_micros(20), l.write_async());
                        if let Ok(mut g) = w.await {
                            o.write(&mut g);
                            writes += 1;
                        }
                    }
                    2 => {
                        let r = tokio::time::timeout(Duration::from_micros(20), l.read_async());
                        if let Ok(g) = r.await {
                            o.read(&g);
                        }
                    }
                    _ => {
                        let g = l.read_async().await;
                        o.read(&g);
                        tokio::task::yield_now().await; // hold it across a yield
                        o.read(&g);
                    }
                }
            }
            writes
        }));
    }
    let threads: Vec<_> = (0..2u64)
        .map(|i| {
            let (l, o) = (l.clone(), o.clone());
            thread::spawn(move || {
                let mut writes = 0;
                for j in 0..n {
                    if (i + j) % 3 == 0 {
                        o.write(&mut l.write());
                        writes += 1;
                    } else {
                        o.read(&l.read());
                    }
                }
                writes
            })
        })
        .collect();
    let mut writes = 0;
    for t in tasks {
        writes += t.await.unwrap();
    }
    for t in threads {
        writes += t.join().unwrap();
    }
    assert_eq!(*l.read_async().await, writes);
    assert_free(&l);
}

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn async_under_smol_with_blocking_threads() {
    let l = Arc::new(RwLock::new(0u64));
    let o = Arc::new(Occupancy::default());
    let n = 2_000u64;
    let threads: Vec<_> = (0..2u64)
        .map(|i| {
            let (l, o) = (l.clone(), o.clone());
            thread::spawn(move || {
                let mut writes = 0;
                for j in 0..n {
                    if (i + j) % 3 == 0 {
                        o.write(&mut l.write());
                        writes += 1;
                    } else {
                        o.read(&l.read());
                    }
                }
                writes
            })
        })
        .collect();
    let task_writes = smol::block_on(async {
        let tasks: Vec<_> = (0..4u64)
            .map(|i| {
                let (l, o) = (l.clone(), o.clone());
                smol::spawn(async move {
                    let mut writes = 0;
                    for j in 0..n {
                        match (i + j) % 4 {
                            0 => {
                                o.write(&mut *l.write_async().await);
                                writes += 1;
                            }
                            1 => {
                                // A write raced against a short timer: the loser is dropped.
                                let w = async { Some(l.write_async().await) };
                                let t = async {
                                    smol::Timer::after(Duration::from_micros(20)).await;
                                    None
                                };
                                if let Some(mut g) = smol::future::or(w, t).await {
                                    o.write(&mut g);
                                    writes += 1;
                                }
                            }
                            2 => {
                                let g = l.read_async().await;
                                o.read(&g);
                                smol::future::yield_now().await;
                                o.read(&g);
                            }
                            _ => {
                                o.read(&*l.read_async().await);
                            }
                        }
                    }
                    writes
                })
            })
            .collect();
        let mut writes = 0;
        for t in tasks {
            writes += t.await;
        }
        writes
    });
    let writes = task_writes + threads.into_iter().map(|t| t.join().unwrap()).sum::<u64>();
    assert_eq!(*l.read(), writes);
    assert_free(&l);
}
