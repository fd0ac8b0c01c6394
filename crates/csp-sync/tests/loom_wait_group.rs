//! Loom model checks of `WaitGroup` (`wait_group.rs`): the zero transition racing blocking,
//! timed and async waiters, a reused group (a new `add` and `wait` racing the previous zero),
//! and a dropped async wait racing the last `done`.
//!
//! Every worker writes a loom `UnsafeCell` before its `done`, and every waiter reads it after
//! its wait returns, so a missing happens-before edge shows up as a data race; a lost wake-up
//! shows up as a loom deadlock.
//!
//! Run with
//! `CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" cargo test --release -p csp-sync --test loom_wait_group`.
#![cfg(loom)]

use csp_park::sync::atomic::{AtomicUsize, Ordering};
use csp_park::sync::{Arc, thread};
use csp_sync::WaitGroup;
use loom::cell::UnsafeCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// Long enough never to pass in real time; under loom a timed wait expires as soon as it
/// would sleep, whatever the deadline.
const TIMEOUT: Duration = Duration::from_secs(60);

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

/// A waker that counts its wake-ups.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (std::sync::Arc<Count>, Waker) {
    let c = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    let w = Waker::from(c.clone());
    (c, w)
}

fn woken(c: &Count) -> usize {
    c.0.load(Ordering::SeqCst)
}

/// A minimal executor: polls `fut`, and after `Pending` polls again only once its waker has
/// been called. So a lost wake-up fails the model instead of being papered over by a re-poll.
fn block_on<F: Future + Unpin>(mut fut: F) -> F::Output {
    let (count, waker) = counting_waker();
    loop {
        let seen = woken(&count);
        if let Poll::Ready(v) = Pin::new(&mut fut).poll(&mut Context::from_waker(&waker)) {
            return v;
        }
        while woken(&count) == seen {
            thread::yield_now();
        }
    }
}

/// Work published by a worker before its `done`.
struct Slot(UnsafeCell<usize>);

// SAFETY: accesses are ordered by the wait group under test; loom checks that they are.
unsafe impl Sync for Slot {}

impl Slot {
    fn new() -> Arc<Slot> {
        Arc::new(Slot(UnsafeCell::new(0)))
    }

    fn write(&self, v: usize) {
        // SAFETY: only one worker writes, before its `done`; readers read after `wait`.
        self.0.with_mut(|p| unsafe { *p = v });
    }

    fn read(&self) -> usize {
        // SAFETY: as above (loom reports a race if the wait group does not order them).
        self.0.with(|p| unsafe { *p })
    }
}

/// A worker's `done` (the 1 → 0 transition) vs a thread blocking in `wait`.
#[test]
fn done_vs_blocking_wait() {
    model(|| {
        let wg = WaitGroup::new();
        let slot = Slot::new();
        wg.add(1);
        let worker = {
            let (wg, slot) = (wg.clone(), slot.clone());
            thread::spawn(move || {
                slot.write(1);
                wg.done();
            })
        };
        wg.wait();
        assert_eq!(slot.read(), 1);
        assert_eq!(wg.count(), 0);
        worker.join().unwrap();
    });
}

/// Two workers, each publishing before its `done`; the waiter sees both.
#[test]
fn two_dones_vs_wait() {
    model(|| {
        let wg = WaitGroup::new();
        let (a, b) = (Slot::new(), Slot::new());
        wg.add(2);
        let workers: Vec<_> = [a.clone(), b.clone()]
            .into_iter()
            .map(|slot| {
                let wg = wg.clone();
                thread::spawn(move || {
                    slot.write(1);
                    wg.done();
                })
            })
            .collect();
        wg.wait();
        assert_eq!(a.read() + b.read(), 2);
        for w in workers {
            w.join().unwrap();
        }
    });
}

/// The group reaches zero while a new `add` and `wait` race in: the new wait must not be
/// released by the earlier zero, only after the new work's `done`.
#[test]
fn zero_vs_new_add_and_wait() {
    model(|| {
        let wg = WaitGroup::new();
        wg.add(1);
        let first = {
            let wg = wg.clone();
            thread::spawn(move || wg.done())
        };
        wg.add(1);
        let slot = Slot::new();
        let second = {
            let (wg, slot) = (wg.clone(), slot.clone());
            thread::spawn(move || {
                slot.write(2);
                wg.done();
            })
        };
        wg.wait();
        assert_eq!(slot.read(), 2);
        first.join().unwrap();
        second.join().unwrap();
    });
}

/// As above, with a waiter already queued for the first zero, so the last `done` has waiters
/// to claim while the group is being reused: that claim must not reach a wait that started
/// after the new `add`. The new wait is an async one, polled by hand, so the model can look
/// at it right after the worker finished (one preemption is enough to expose a group that
/// claims its waiters after, rather than together with, the 1 → 0 transition).
#[test]
fn zero_with_waiters_vs_new_add_and_wait() {
    model(|| {
        let wg = WaitGroup::new();
        wg.add(1);
        let first_waiter = {
            let wg = wg.clone();
            thread::spawn(move || wg.wait())
        };
        let worker = {
            let wg = wg.clone();
            thread::spawn(move || wg.done())
        };
        // Before or after the worker's `done`: either way the count stays above zero until
        // this thread's own `done` below.
        wg.add(1);
        let (_count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut fut = wg.wait_async();
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        worker.join().unwrap();
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        wg.done();
        assert!(Pin::new(&mut fut).poll(&mut cx).is_ready());
        first_waiter.join().unwrap();
        assert_eq!(wg.count(), 0);
    });
}

/// A timed wait (which loom lets expire whenever it would sleep) vs the last `done`: either it
/// saw zero (and the worker's write), or it withdrew cleanly and a second wait succeeds.
#[test]
fn wait_timeout_vs_done() {
    model(|| {
        let wg = WaitGroup::new();
        let slot = Slot::new();
        wg.add(1);
        let worker = {
            let (wg, slot) = (wg.clone(), slot.clone());
            thread::spawn(move || {
                slot.write(1);
                wg.done();
            })
        };
        if wg.wait_timeout(TIMEOUT) {
            assert_eq!(slot.read(), 1);
        }
        wg.wait();
        assert_eq!(slot.read(), 1);
        worker.join().unwrap();
    });
}

/// An async waiter (woken-only executor) vs the last `done` on another thread.
#[test]
fn async_wait_vs_done() {
    model(|| {
        let wg = WaitGroup::new();
        let slot = Slot::new();
        wg.add(1);
        let worker = {
            let (wg, slot) = (wg.clone(), slot.clone());
            thread::spawn(move || {
                slot.write(1);
                wg.done();
            })
        };
        block_on(wg.wait_async());
        assert_eq!(slot.read(), 1);
        worker.join().unwrap();
    });
}

/// An async wait dropped while the last `done` runs on another thread: whichever wins (the
/// abort or the claim), the group stays consistent and reusable.
#[test]
fn dropped_async_wait_vs_done() {
    model(|| {
        let wg = WaitGroup::new();
        wg.add(1);
        let (_count, waker) = counting_waker();
        let mut fut = wg.wait_async();
        assert!(
            Pin::new(&mut fut)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        let worker = {
            let wg = wg.clone();
            thread::spawn(move || wg.done())
        };
        drop(fut);
        wg.wait();
        worker.join().unwrap();
        assert_eq!(wg.count(), 0);
        // A fresh cycle works.
        wg.add(1);
        wg.done();
        wg.wait();
    });
}

/// An async wait is dropped (withdrawing its waiter) while a thread queues a blocking wait
/// beside it: the withdrawal must not hide the blocking waiter from the last `done`.
#[test]
fn dropped_async_wait_vs_blocking_waiter() {
    model(|| {
        let wg = WaitGroup::new();
        wg.add(1);
        let (_count, waker) = counting_waker();
        let mut fut = wg.wait_async();
        assert!(
            Pin::new(&mut fut)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        let waiter = {
            let wg = wg.clone();
            thread::spawn(move || wg.wait())
        };
        drop(fut);
        wg.done();
        waiter.join().unwrap();
        assert_eq!(wg.count(), 0);
    });
}
