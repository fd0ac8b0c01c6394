//! Helpers shared by the loom model tests of this crate: the model runner and a minimal
//! executor that re-polls a future only after its waker was called.
#![allow(dead_code)] // each test file uses a subset

use loom::thread;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// Long enough never to pass in real time; under loom a timed wait expires as soon as it
/// would sleep, whatever the deadline.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `f` under loom, bounding preemptions at 2 unless `LOOM_MAX_PREEMPTIONS` says otherwise,
/// and reports how many interleavings were explored (visible with `--nocapture`).
pub fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    model_bounded(usize::MAX, f);
}

/// As [`model`], with the preemption bound capped at `max` (models of three threads, whose
/// state space at bound 2 takes minutes).
pub fn model_bounded<F: Fn() + Sync + Send + 'static>(max: usize, f: F) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(b.preemption_bound.unwrap_or(2).min(max));
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
pub struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

pub fn counting_waker() -> (std::sync::Arc<Count>, Waker) {
    let c = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    let w = Waker::from(c.clone());
    (c, w)
}

pub fn woken(c: &Count) -> usize {
    c.0.load(Ordering::SeqCst)
}

pub fn poll_once<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(waker))
}

/// Yields to the other model threads until `c` has been woken more than `seen` times. A wake
/// that never comes makes this spin until loom gives up on the execution (a failure).
pub fn wait_for_wake(c: &Count, seen: usize) {
    while woken(c) == seen {
        thread::yield_now();
    }
}

/// A minimal executor: polls `fut`, and after `Pending` polls again only once its waker has
/// been called. So a lost wake-up fails the model instead of being papered over by a re-poll.
pub fn block_on<F: Future + Unpin>(mut fut: F) -> F::Output {
    let (count, waker) = counting_waker();
    loop {
        let seen = woken(&count);
        if let Poll::Ready(v) = poll_once(&mut fut, &waker) {
            return v;
        }
        wait_for_wake(&count, seen);
    }
}
