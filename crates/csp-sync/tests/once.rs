//! `Once` and `OnceCell`: exactly one initializer under racing threads and tasks, retry after
//! a panicking, failing or dropped initializer, and the cell's accessors.
#![cfg(not(loom))]

use csp_sync::{Once, OnceCell};
use std::future::Future;
use std::panic::catch_unwind;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

const ROUNDS: usize = if cfg!(miri) { 3 } else { 200 };
const THREADS: usize = 8;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn poll_once<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

/// A future that stays pending forever.
async fn forever() {
    std::future::pending::<()>().await
}

#[test]
fn public_types_are_send_sync_and_futures_send() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<Once>();
    send_sync::<OnceCell<String>>();
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    unwind_safe::<Once>();
    unwind_safe::<OnceCell<u32>>();
    let once = Once::new();
    send(&once.call_once_async(|| async {}));
    let cell = OnceCell::<u32>::new();
    send(&cell.get_or_init_async(|| async { 1 }));
    send(&cell.get_or_try_init_async(|| async { Ok::<u32, ()>(1) }));
}

#[test]
fn once_runs_exactly_once_under_8_racing_threads_and_everyone_sees_its_effect() {
    for _ in 0..ROUNDS {
        let once = Arc::new(Once::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let effect = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (once, runs, effect, barrier) =
                    (once.clone(), runs.clone(), effect.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    once.call_once(|| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        thread::yield_now();
                        // Relaxed: the Once itself must publish it.
                        effect.store(42, Ordering::Relaxed);
                    });
                    assert!(once.is_completed());
                    assert_eq!(effect.load(Ordering::Relaxed), 42);
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    }
}

#[test]
fn waiters_block_until_the_running_call_returns() {
    let once = Arc::new(Once::new());
    let finished = Arc::new(AtomicBool::new(false));
    let started = Arc::new(Barrier::new(2));
    let runner = {
        let (once, finished, started) = (once.clone(), finished.clone(), started.clone());
        thread::spawn(move || {
            once.call_once(|| {
                started.wait();
                thread::sleep(ms(30));
                finished.store(true, Ordering::Relaxed);
            })
        })
    };
    started.wait();
    once.call_once(|| unreachable!("the running call completes"));
    assert!(finished.load(Ordering::Relaxed));
    runner.join().unwrap();
}

#[test]
fn a_panicking_initializer_leaves_the_once_retryable() {
    let once = Once::new();
    let r = catch_unwind(|| once.call_once(|| panic!("init failed")));
    assert!(r.is_err());
    assert!(!once.is_completed());
    let mut ran = false;
    once.call_once(|| ran = true);
    assert!(ran);
    assert!(once.is_completed());
}

#[test]
fn a_panic_wakes_a_waiter_which_runs_its_own_initializer() {
    let once = Arc::new(Once::new());
    let started = Arc::new(Barrier::new(2));
    let runner = {
        let (once, started) = (once.clone(), started.clone());
        thread::spawn(move || {
            once.call_once(|| {
                started.wait();
                thread::sleep(ms(30));
                panic!("first initializer crashed");
            })
        })
    };
    started.wait();
    // Blocks behind the panicking call, then runs its own.
    let mut ran = false;
    once.call_once(|| ran = true);
    assert!(ran);
    assert!(runner.join().is_err());
}

#[test]
fn call_once_async_runs_once() {
    let once = Once::new();
    let runs = AtomicUsize::new(0);
    futures::executor::block_on(async {
        for _ in 0..3 {
            once.call_once_async(|| async {
                runs.fetch_add(1, Ordering::Relaxed);
            })
            .await;
        }
    });
    assert_eq!(runs.load(Ordering::Relaxed), 1);
    assert!(once.is_completed());
}

/// Tokio tasks (2 workers), each awaiting inside its initializer, race blocking threads.
#[cfg(not(miri))]
#[test]
fn call_once_async_under_tokio_races_threads() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for _ in 0..50 {
        let once = Arc::new(Once::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let effect = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..6)
            .map(|_| {
                let (once, runs, effect) = (once.clone(), runs.clone(), effect.clone());
                rt.spawn(async move {
                    once.call_once_async(|| async {
                        runs.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(ms(1)).await;
                        effect.store(7, Ordering::Relaxed);
                    })
                    .await;
                    assert_eq!(effect.load(Ordering::Relaxed), 7);
                })
            })
            .collect();
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (once, runs, effect) = (once.clone(), runs.clone(), effect.clone());
                thread::spawn(move || {
                    once.call_once(|| {
                        runs.fetch_add(1, Ordering::Relaxed);
                        effect.store(7, Ordering::Relaxed);
                    });
                    assert_eq!(effect.load(Ordering::Relaxed), 7);
                })
            })
            .collect();
        rt.block_on(async {
            for t in tasks {
                t.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    }
}

#[cfg(not(miri))]
#[test]
fn get_or_init_async_under_smol() {
    smol::block_on(async {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let (cell, runs) = (cell.clone(), runs.clone());
                smol::spawn(async move {
                    *cell
                        .get_or_init_async(|| async move {
                            runs.fetch_add(1, Ordering::Relaxed);
                            smol::Timer::after(ms(2)).await;
                            i
                        })
                        .await
                })
            })
            .collect();
        let mut seen = Vec::new();
        for t in tasks {
            seen.push(t.await);
        }
        assert!(seen.iter().all(|&v| v == seen[0]));
        assert_eq!(cell.get(), Some(&seen[0]));
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    });
}

/// A `call_once_async` future dropped while running its initializer leaves the `Once`
/// uncompleted and wakes a blocked thread, which then runs its own.
#[test]
fn dropped_call_once_async_lets_a_waiter_retry() {
    let once = Arc::new(Once::new());
    let mut fut = Box::pin(once.call_once_async(forever));
    assert!(poll_once(fut.as_mut()).is_pending()); // now running `forever`
    let waiter = {
        let once = once.clone();
        thread::spawn(move || {
            let mut ran = false;
            once.call_once(|| ran = true);
            ran
        })
    };
    thread::sleep(ms(20)); // let it block
    assert!(!once.is_completed());
    drop(fut);
    assert!(waiter.join().unwrap());
    assert!(once.is_completed());
}

/// Same with an async waiter: it is woken and becomes the runner.
#[test]
fn dropped_initializer_wakes_an_async_waiter() {
    let cell = OnceCell::new();
    let mut first = Box::pin(cell.get_or_init_async(|| async {
        forever().await;
        1
    }));
    assert!(poll_once(first.as_mut()).is_pending());
    let mut second = pin!(cell.get_or_init_async(|| async { 2 }));
    assert!(poll_once(second.as_mut()).is_pending()); // queued behind `first`
    // A third waiter gives up: that has no effect on anyone.
    let mut third = Box::pin(cell.get_or_init_async(|| async { 3 }));
    assert!(poll_once(third.as_mut()).is_pending());
    drop(third);
    drop(first);
    assert_eq!(poll_once(second.as_mut()), Poll::Ready(&2));
    assert_eq!(cell.get(), Some(&2));
}

#[test]
fn cell_set_and_get() {
    let cell = OnceCell::new();
    assert_eq!(cell.get(), None);
    assert_eq!(format!("{cell:?}"), "OnceCell(<uninit>)");
    assert_eq!(cell.set(String::from("a")), Ok(()));
    assert_eq!(cell.set(String::from("b")), Err(String::from("b")));
    assert_eq!(cell.get().map(String::as_str), Some("a"));
    assert_eq!(cell.get_or_init(|| unreachable!()), "a");
    assert_eq!(format!("{cell:?}"), "OnceCell(\"a\")");
}

#[test]
fn cell_get_or_init_race_runs_exactly_one_initializer() {
    for _ in 0..ROUNDS {
        let cell = Arc::new(OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|i| {
                let (cell, runs, barrier) = (cell.clone(), runs.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    *cell
                        .get_or_init(|| {
                            runs.fetch_add(1, Ordering::Relaxed);
                            thread::yield_now();
                            vec![i; 4]
                        })
                        .first()
                        .unwrap()
                })
            })
            .collect();
        let seen: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(seen.iter().all(|&v| v == seen[0]));
        assert_eq!(runs.load(Ordering::Relaxed), 1);
        assert_eq!(cell.get(), Some(&vec![seen[0]; 4]));
    }
}

/// Racing `set`s and `get_or_init`s: exactly one of them stores its value, and everyone ends
/// up seeing that value.
#[test]
fn cell_set_races_get_or_init() {
    for _ in 0..ROUNDS {
        let cell = Arc::new(OnceCell::new());
        let stored = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new(Barrier::new(THREADS));
        let threads: Vec<_> = (0..THREADS)
            .map(|i| {
                let (cell, stored, barrier) = (cell.clone(), stored.clone(), barrier.clone());
                thread::spawn(move || {
                    barrier.wait();
                    if i % 2 == 0 {
                        if cell.set(i).is_ok() {
                            stored.fetch_add(1, Ordering::Relaxed);
                        }
                        // `set` returns with the cell full, whoever filled it.
                        *cell.get().unwrap()
                    } else {
                        *cell.get_or_init(|| {
                            stored.fetch_add(1, Ordering::Relaxed);
                            i
                        })
                    }
                })
            })
            .collect();
        let seen: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert!(seen.iter().all(|&v| v == seen[0]));
        assert_eq!(stored.load(Ordering::Relaxed), 1);
    }
}

#[test]
fn get_or_try_init_error_leaves_the_cell_empty() {
    let cell = OnceCell::<u32>::new();
    assert_eq!(cell.get_or_try_init(|| Err("no")), Err("no"));
    assert_eq!(cell.get(), None);
    assert_eq!(cell.get_or_try_init(|| Ok::<_, &str>(5)), Ok(&5));
    assert_eq!(cell.get_or_try_init(|| Err("ignored")), Ok(&5));
}

/// A failing initializer wakes the blocked callers; one of them initializes the cell.
#[test]
fn a_failed_initializer_hands_over_to_waiters() {
    let cell = Arc::new(OnceCell::new());
    let started = Arc::new(Barrier::new(4));
    let failing = {
        let (cell, started) = (cell.clone(), started.clone());
        thread::spawn(move || {
            cell.get_or_try_init(|| {
                started.wait();
                thread::sleep(ms(30));
                Err("failed")
            })
            .copied()
        })
    };
    let waiters: Vec<_> = (0..3)
        .map(|i| {
            let (cell, started) = (cell.clone(), started.clone());
            thread::spawn(move || {
                started.wait();
                *cell.get_or_init(|| i)
            })
        })
        .collect();
    let seen: Vec<i32> = waiters.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(seen.iter().all(|&v| v == seen[0]));
    assert_eq!(failing.join().unwrap(), Err("failed"));
}

#[test]
fn cell_panicking_initializer_leaves_it_empty() {
    let cell = OnceCell::new();
    assert!(catch_unwind(|| cell.get_or_init(|| -> u8 { panic!("boom") })).is_err());
    assert_eq!(cell.get(), None);
    assert_eq!(cell.get_or_init(|| 3), &3);
}

#[test]
fn get_or_try_init_async_error_leaves_the_cell_empty() {
    futures::executor::block_on(async {
        let cell = OnceCell::<u32>::new();
        let r = cell.get_or_try_init_async(|| async { Err("no") }).await;
        assert_eq!(r, Err("no"));
        assert_eq!(cell.get(), None);
        assert_eq!(cell.get_or_init_async(|| async { 4 }).await, &4);
    });
}

#[test]
fn into_inner_take_get_mut_and_drop() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));

    let cell = OnceCell::new();
    assert!(cell.set(Counted(drops.clone())).is_ok());
    let v = cell.into_inner().unwrap();
    assert_eq!(drops.load(Ordering::Relaxed), 0);
    drop(v);
    assert_eq!(drops.load(Ordering::Relaxed), 1);

    let cell = OnceCell::new();
    let _ = cell.get_or_init(|| Counted(drops.clone()));
    drop(cell); // drops the value once
    assert_eq!(drops.load(Ordering::Relaxed), 2);

    drop(OnceCell::<Counted>::new()); // nothing to drop
    assert_eq!(drops.load(Ordering::Relaxed), 2);

    let mut cell = OnceCell::from(Counted(drops.clone()));
    assert!(cell.get_mut().is_some());
    let taken = cell.take();
    assert!(taken.is_some() && cell.get().is_none() && cell.take().is_none());
    drop(cell);
    assert_eq!(drops.load(Ordering::Relaxed), 2);
    drop(taken);
    assert_eq!(drops.load(Ordering::Relaxed), 3);
    // Refillable after `take`.
    let mut cell = OnceCell::new();
    cell.set(1).unwrap();
    assert_eq!(cell.take(), Some(1));
    cell.set(2).unwrap();
    assert_eq!(cell.get(), Some(&2));
}

#[test]
fn clone_eq_default_and_statics() {
    static CELL: OnceCell<&str> = OnceCell::new();
    static ONCE: Once = Once::new();
    assert_eq!(CELL.get_or_init(|| "static"), &"static");
    ONCE.call_once(|| {});
    assert!(ONCE.is_completed());
    assert_eq!(format!("{ONCE:?}"), "Once { completed: true }");

    let a = OnceCell::from(vec![1]);
    let b = a.clone();
    assert_eq!(a, b);
    assert_ne!(a, OnceCell::default());
    assert_eq!(OnceCell::<u8>::default().clone(), OnceCell::new());
    assert!(!Once::default().is_completed());
}
