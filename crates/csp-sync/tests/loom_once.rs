//! Loom model checks of `Once` / `OnceCell` (`once.rs`): racing initializers, a failing
//! initializer handing over to a waiter, `set` racing `get_or_init`, and an async initializer
//! dropped while a thread waits for it.
//!
//! Exactly one initializer completes in every interleaving, everyone returns its value, and
//! loom's cell checks prove the value is published before it is read; a waiter left behind
//! shows up as a loom deadlock.
//!
//! Run with
//! `CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" cargo test --release -p csp-sync --test loom_once`.
#![cfg(loom)]

use csp_park::sync::atomic::{AtomicUsize, Ordering};
use csp_park::sync::{Arc, thread};
use csp_sync::{Once, OnceCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

/// Runs `f` under loom, bounding preemptions at 2 unless `LOOM_MAX_PREEMPTIONS` says otherwise,
/// and reports how many interleavings were explored (visible with `--nocapture`).
fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = runs.clone();
    b.check(move || {
        r.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    eprintln!(
        "{}: {} interleavings (preemption bound {:?})",
        std::thread::current().name().unwrap_or("?"),
        runs.load(std::sync::atomic::Ordering::Relaxed),
        b.preemption_bound
    );
}

struct Noop;

impl Wake for Noop {
    fn wake(self: std::sync::Arc<Self>) {}
}

/// A waker that counts its wake-ups.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A minimal executor: polls `fut`, and after `Pending` polls again only once its waker has
/// been called. So a lost wake-up fails the model instead of being papered over by a re-poll.
fn block_on<F: Future>(fut: F) -> F::Output {
    let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(count.clone());
    let mut fut = Box::pin(fut);
    loop {
        let seen = count.0.load(Ordering::SeqCst);
        if let Poll::Ready(v) = fut.as_mut().poll(&mut Context::from_waker(&waker)) {
            return v;
        }
        while count.0.load(Ordering::SeqCst) == seen {
            thread::yield_now();
        }
    }
}

/// Two threads race `call_once`: one function runs, and both see its effect afterwards.
#[test]
fn once_racing_initializers() {
    model(|| {
        let once = Arc::new(Once::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let effect = Arc::new(AtomicUsize::new(0));
        let racer = |once: Arc<Once>, runs: Arc<AtomicUsize>, effect: Arc<AtomicUsize>| {
            move || {
                once.call_once(|| {
                    runs.fetch_add(1, Ordering::Relaxed);
                    // Relaxed: only the Once orders it before the other caller's read.
                    effect.store(7, Ordering::Relaxed);
                });
                assert!(once.is_completed());
                assert_eq!(effect.load(Ordering::Relaxed), 7);
            }
        };
        let t = thread::spawn(racer(once.clone(), runs.clone(), effect.clone()));
        racer(once.clone(), runs.clone(), effect.clone())();
        t.join().unwrap();
        assert_eq!(runs.load(Ordering::Relaxed), 1);
    });
}

/// Two threads race `get_or_init` with different values: both get the same one, written
/// once (loom checks the cell's accesses).
#[test]
fn cell_racing_initializers() {
    model(|| {
        let cell = Arc::new(OnceCell::new());
        let c = cell.clone();
        let t = thread::spawn(move || *c.get_or_init(|| 1));
        let mine = *cell.get_or_init(|| 2);
        let theirs = t.join().unwrap();
        assert_eq!(mine, theirs);
        assert_eq!(cell.get(), Some(&mine));
    });
}

/// A failing initializer vs a second caller: the second caller's value ends up in the cell
/// (it either ran first, or waited and was woken to retry).
#[test]
fn failing_initializer_hands_over() {
    model(|| {
        let cell = Arc::new(OnceCell::new());
        let c = cell.clone();
        let t = thread::spawn(move || c.get_or_try_init(|| Err(())).copied());
        assert_eq!(*cell.get_or_init(|| 2), 2);
        let failed = t.join().unwrap();
        assert!(failed == Err(()) || failed == Ok(2));
    });
}

/// A failing initializer on a thread vs an async caller (woken-only executor): if the task
/// queued behind the failing run, it is woken to retry and runs its own initializer.
#[test]
fn failing_initializer_hands_over_to_a_task() {
    model(|| {
        let cell = Arc::new(OnceCell::new());
        let c = cell.clone();
        let t = thread::spawn(move || c.get_or_try_init(|| Err(())).copied());
        assert_eq!(*block_on(cell.get_or_init_async(|| async { 2 })), 2);
        let failed = t.join().unwrap();
        assert!(failed == Err(()) || failed == Ok(2));
    });
}

/// `set` vs `get_or_init`: exactly one value is stored, and both callers agree on it.
#[test]
fn set_vs_get_or_init() {
    model(|| {
        let cell = Arc::new(OnceCell::new());
        let c = cell.clone();
        let t = thread::spawn(move || c.set(1).is_ok());
        let got = *cell.get_or_init(|| 2);
        let set_won = t.join().unwrap();
        assert_eq!(got, if set_won { 1 } else { 2 });
    });
}

/// An async initializer (which never finishes) is dropped while a thread waits: the thread
/// is woken and runs its own initializer.
#[test]
fn dropped_async_initializer_vs_blocking_waiter() {
    model(|| {
        let cell = Arc::new(OnceCell::new());
        let c = cell.clone();
        let t = thread::spawn(move || *c.get_or_init(|| 2));
        let waker = Waker::from(std::sync::Arc::new(Noop));
        let polled = {
            let mut fut = Box::pin(cell.get_or_init_async(std::future::pending::<i32>));
            match Pin::new(&mut fut).poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(v) => Some(*v),
                // Running `pending` (or queued behind the thread): dropped here.
                Poll::Pending => None,
            }
        };
        assert_eq!(t.join().unwrap(), 2);
        assert_eq!(polled.unwrap_or(2), 2);
        assert_eq!(cell.get(), Some(&2));
    });
}
