//! `WaitGroup`: counting, misuse, reuse, guards and `spawn` through panics, timeouts, and
//! blocking threads and async tasks (tokio, smol, futures' executor) waiting on one group.
#![cfg(not(loom))]

use csp_sync::{WaitGroup, WaitGroupGuard, WaitGroupWaitFut};
use std::future::Future;
use std::panic::catch_unwind;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

const ROUNDS: usize = if cfg!(miri) { 5 } else { 500 };
const WORKERS: usize = if cfg!(miri) { 3 } else { 8 };

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn public_types_are_send_sync_and_the_future_unpin() {
    fn send_sync<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    send_sync::<WaitGroup>();
    send_sync::<WaitGroupGuard>();
    send_sync::<WaitGroupWaitFut<'static>>();
    unpin::<WaitGroupWaitFut<'static>>();
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    unwind_safe::<WaitGroup>();
}

#[test]
#[should_panic(expected = "negative counter")]
fn done_on_a_new_group_panics() {
    WaitGroup::new().done();
}

#[test]
fn done_below_zero_panics_and_leaves_the_group_usable() {
    let wg = WaitGroup::new();
    wg.add(1);
    wg.done();
    assert!(catch_unwind(|| wg.done()).is_err());
    assert_eq!(wg.count(), 0);
    // Also on the path that holds the queue lock (a waiter is queued when the count is 1).
    wg.add(1);
    let waiter = {
        let wg = wg.clone();
        thread::spawn(move || wg.wait())
    };
    thread::sleep(ms(20));
    wg.done();
    waiter.join().unwrap();
    assert!(catch_unwind(|| wg.done()).is_err());
    wg.add(2);
    assert_eq!(wg.count(), 2);
    wg.done();
    wg.done();
    wg.wait();
}

#[test]
fn add_overflow_panics() {
    let wg = WaitGroup::new();
    wg.add(usize::MAX >> 1);
    assert!(catch_unwind(|| wg.add(1)).is_err());
    assert_eq!(wg.count(), usize::MAX >> 1);
}

#[test]
fn wait_returns_after_every_done_and_sees_their_writes() {
    let wg = WaitGroup::new();
    let slots: Arc<Vec<AtomicUsize>> =
        Arc::new((0..WORKERS).map(|_| AtomicUsize::new(0)).collect());
    for i in 0..WORKERS {
        let slots = slots.clone();
        wg.spawn(move || {
            thread::sleep(ms(i as u64));
            // Relaxed: the group's done → wait edge must make it visible.
            slots[i].store(i + 1, Ordering::Relaxed);
        });
    }
    wg.wait();
    assert_eq!(wg.count(), 0);
    for (i, s) in slots.iter().enumerate() {
        assert_eq!(s.load(Ordering::Relaxed), i + 1);
    }
}

#[test]
fn add_and_done_by_hand_with_several_waiters() {
    let wg = WaitGroup::new();
    wg.add(WORKERS);
    let finished = Arc::new(AtomicUsize::new(0));
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let (wg, finished) = (wg.clone(), finished.clone());
            thread::spawn(move || {
                wg.wait();
                assert_eq!(finished.load(Ordering::Relaxed), WORKERS);
            })
        })
        .collect();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (wg, finished) = (wg.clone(), finished.clone());
            thread::spawn(move || {
                finished.fetch_add(1, Ordering::Relaxed);
                wg.done();
            })
        })
        .collect();
    for t in waiters.into_iter().chain(workers) {
        t.join().unwrap();
    }
}

#[test]
fn reusable_after_reaching_zero() {
    let wg = WaitGroup::new();
    let total = Arc::new(AtomicUsize::new(0));
    for round in 0..ROUNDS {
        for _ in 0..3 {
            let total = total.clone();
            wg.spawn(move || {
                total.fetch_add(1, Ordering::Relaxed);
            });
        }
        wg.wait();
        assert_eq!(total.load(Ordering::Relaxed), 3 * (round + 1));
        assert_eq!(wg.count(), 0);
    }
}

/// The counter reaches zero while a new `add` and `wait` race in: the new wait must wait for
/// the new work, never be released by the old zero.
#[test]
fn a_new_wait_is_not_released_by_an_earlier_zero() {
    for _ in 0..ROUNDS {
        let wg = WaitGroup::new();
        wg.add(1);
        let first = {
            let wg = wg.clone();
            thread::spawn(move || wg.done())
        };
        wg.add(1);
        let second_done = Arc::new(AtomicBool::new(false));
        let second = {
            let (wg, flag) = (wg.clone(), second_done.clone());
            thread::spawn(move || {
                thread::yield_now();
                flag.store(true, Ordering::Relaxed);
                wg.done();
            })
        };
        wg.wait();
        assert!(second_done.load(Ordering::Relaxed));
        first.join().unwrap();
        second.join().unwrap();
    }
}

#[test]
fn guard_adds_one_and_counts_down_on_drop() {
    let wg = WaitGroup::new();
    let g1 = wg.guard();
    let g2 = wg.guard();
    assert_eq!(wg.count(), 2);
    assert_eq!(g1.wait_group().count(), 2);
    drop(g1);
    assert_eq!(wg.count(), 1);
    drop(g2);
    assert_eq!(wg.count(), 0);
    wg.wait();
}

#[test]
fn guard_counts_down_when_its_worker_panics() {
    let wg = WaitGroup::new();
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let guard = wg.guard();
            thread::spawn(move || {
                let _guard = guard;
                if i % 2 == 0 {
                    panic!("worker {i} crashed");
                }
            })
        })
        .collect();
    assert!(wg.wait_timeout(Duration::from_secs(60)));
    let panicked = workers.into_iter();
    assert_eq!(panicked.map(|t| t.join()).filter(Result::is_err).count(), 2);
}

#[test]
fn spawn_counts_down_when_f_panics_and_returns_fs_result() {
    let wg = WaitGroup::new();
    let ok = wg.spawn(|| 7);
    let bad = wg.spawn(|| -> u32 { panic!("spawned task crashed") });
    wg.wait();
    assert_eq!(ok.join().unwrap(), 7);
    assert!(bad.join().is_err());
    assert_eq!(wg.count(), 0);
}

#[test]
fn guard_within_catch_unwind() {
    let wg = WaitGroup::new();
    let r = catch_unwind(|| {
        let _g = wg.guard();
        panic!("boom");
    });
    assert!(r.is_err());
    assert_eq!(wg.count(), 0);
}

#[test]
fn wait_timeout_false_then_true() {
    let wg = WaitGroup::new();
    wg.add(1);
    let start = Instant::now();
    assert!(!wg.wait_timeout(ms(20)));
    assert!(start.elapsed() >= ms(20));
    assert_eq!(wg.count(), 1);
    let worker = {
        let wg = wg.clone();
        thread::spawn(move || {
            thread::sleep(ms(10));
            wg.done();
        })
    };
    assert!(wg.wait_timeout(Duration::from_secs(60)));
    worker.join().unwrap();
    // At zero, a zero timeout succeeds.
    assert!(wg.wait_timeout(Duration::ZERO));
    // A timeout too large for an Instant means no timeout.
    assert!(wg.wait_timeout(Duration::MAX));
}

#[test]
fn wait_deadline_in_the_past_returns_at_once() {
    let wg = WaitGroup::new();
    wg.add(1);
    assert!(!wg.wait_deadline(Instant::now() - ms(1)));
    wg.done();
    assert!(wg.wait_deadline(Instant::now() - ms(1)));
}

#[test]
fn timed_out_waiters_leave_the_group_working() {
    let wg = WaitGroup::new();
    for _ in 0..if cfg!(miri) { 3 } else { 50 } {
        wg.add(1);
        // Several waiters time out (and withdraw) while one waits for good.
        let timers: Vec<_> = (0..3)
            .map(|_| {
                let wg = wg.clone();
                thread::spawn(move || wg.wait_timeout(ms(1)))
            })
            .collect();
        let patient = {
            let wg = wg.clone();
            thread::spawn(move || wg.wait())
        };
        for t in timers {
            // Either outcome is legal: the done below may come first.
            let _ = t.join().unwrap();
        }
        wg.done();
        patient.join().unwrap();
    }
}

#[test]
fn dropped_async_wait_is_withdrawn() {
    let wg = WaitGroup::new();
    wg.add(1);
    let mut fut = wg.wait_async();
    assert!(poll_once(&mut fut).is_pending());
    assert!(poll_once(&mut fut).is_pending());
    drop(fut);
    wg.done();
    // The group still works both ways after the withdrawn waiter.
    wg.add(1);
    let mut fut = wg.wait_async();
    assert!(poll_once(&mut fut).is_pending());
    wg.done();
    assert!(poll_once(&mut fut).is_ready());
    assert!(poll_once(&mut wg.wait_async()).is_ready());
}

#[test]
fn async_wait_on_a_zero_group_is_ready_at_once() {
    let wg = WaitGroup::new();
    assert!(poll_once(&mut wg.wait_async()).is_ready());
}

/// Tokio tasks (2 workers) and blocking threads wait on the same group while plain threads
/// count it down.
#[cfg(not(miri))]
#[test]
fn tokio_tasks_and_threads_wait_together() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..20 {
        let wg = WaitGroup::new();
        wg.add(WORKERS);
        let done = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (wg, done) = (wg.clone(), done.clone());
                rt.spawn(async move {
                    wg.wait_async().await;
                    assert_eq!(done.load(Ordering::Relaxed), WORKERS);
                })
            })
            .collect();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (wg, done) = (wg.clone(), done.clone());
                thread::spawn(move || {
                    wg.wait();
                    assert_eq!(done.load(Ordering::Relaxed), WORKERS);
                })
            })
            .collect();
        for _ in 0..WORKERS {
            let (wg, done) = (wg.clone(), done.clone());
            thread::spawn(move || {
                done.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        rt.block_on(async {
            for t in tasks {
                t.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
    }
}

/// Tokio tasks count down (through guards) while other tasks wait.
#[cfg(not(miri))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_tasks_count_down_with_guards() {
    let wg = WaitGroup::new();
    let done = Arc::new(AtomicUsize::new(0));
    for i in 0..16u64 {
        let guard = wg.guard();
        let done = done.clone();
        tokio::spawn(async move {
            let _guard = guard;
            tokio::time::sleep(ms(i % 4)).await;
            done.fetch_add(1, Ordering::Relaxed);
        });
    }
    wg.wait_async().await;
    assert_eq!(done.load(Ordering::Relaxed), 16);
}

#[cfg(not(miri))]
#[test]
fn smol_tasks_and_threads_wait_together() {
    smol::block_on(async {
        let wg = WaitGroup::new();
        wg.add(WORKERS);
        let done = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (wg, done) = (wg.clone(), done.clone());
                smol::spawn(async move {
                    wg.wait_async().await;
                    assert_eq!(done.load(Ordering::Relaxed), WORKERS);
                })
            })
            .collect();
        let blocking = {
            let wg = wg.clone();
            thread::spawn(move || wg.wait())
        };
        for _ in 0..WORKERS {
            let (wg, done) = (wg.clone(), done.clone());
            thread::spawn(move || {
                thread::sleep(ms(1));
                done.fetch_add(1, Ordering::Relaxed);
                wg.done();
            });
        }
        for t in tasks {
            t.await;
        }
        blocking.join().unwrap();
    });
}

/// futures' `block_on` on several threads, blocking waiters and timed waiters, all on one group.
#[test]
fn futures_executor_mixed_with_blocking_waiters() {
    for _ in 0..if cfg!(miri) { 2 } else { 50 } {
        let wg = WaitGroup::new();
        wg.add(2);
        let released = Arc::new(AtomicUsize::new(0));
        let mut waiters = Vec::new();
        for kind in 0..6 {
            let (wg, released) = (wg.clone(), released.clone());
            waiters.push(thread::spawn(move || {
                match kind % 3 {
                    0 => futures::executor::block_on(wg.wait_async()),
                    1 => wg.wait(),
                    _ => assert!(wg.wait_timeout(Duration::from_secs(60))),
                }
                released.fetch_add(1, Ordering::Relaxed);
            }));
        }
        thread::yield_now();
        assert_eq!(released.load(Ordering::Relaxed), 0);
        wg.done();
        let last = {
            let wg = wg.clone();
            thread::spawn(move || wg.done())
        };
        for w in waiters {
            w.join().unwrap();
        }
        last.join().unwrap();
        assert_eq!(released.load(Ordering::Relaxed), 6);
    }
}

#[test]
fn clones_share_one_counter_and_debug_shows_it() {
    let wg = WaitGroup::default();
    let other = wg.clone();
    other.add(3);
    assert_eq!(wg.count(), 3);
    assert_eq!(format!("{wg:?}"), "WaitGroup { count: 3 }");
    wg.done();
    other.done();
    wg.done();
    assert_eq!(other.count(), 0);
}
