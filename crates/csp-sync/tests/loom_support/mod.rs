//! Shared by the csp-sync loom test binaries (`mod loom_support;`): a hand-polled task that
//! re-polls only after its waker fired, so a lost wake-up fails the model.
#![allow(dead_code)] // each binary uses what it needs

pub mod counter;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wake-ups.
pub struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future with its own counting waker, polled by hand. After a `Pending` it is polled again
/// only once its waker was called, so a lost wake-up fails the model instead of being papered
/// over by a re-poll. Dropping it drops (cancels) the future.
pub struct Task<F: Future> {
    fut: Pin<Box<F>>,
    count: Arc<Count>,
    waker: Waker,
    /// The wake count before the last `Pending` poll (`None`: not polled yet).
    seen: Option<usize>,
}

impl<F: Future> Task<F> {
    pub fn new(fut: F) -> Self {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        Task {
            fut: Box::pin(fut),
            waker: Waker::from(count.clone()),
            count,
            seen: None,
        }
    }

    pub fn woken(&self) -> usize {
        self.count.0.load(Ordering::SeqCst)
    }

    /// Polls once.
    pub fn poll(&mut self) -> Poll<F::Output> {
        let before = self.woken();
        let r = self
            .fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker));
        if r.is_pending() {
            self.seen = Some(before);
        }
        r
    }

    /// Polls once and checks that the future is waiting.
    pub fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected the future to wait");
    }

    /// Drives the future to completion, polling only after wake-ups. A wake that never comes
    /// makes this yield until loom gives up on the execution (a failure).
    pub fn run(mut self) -> F::Output {
        loop {
            if let Some(seen) = self.seen {
                while self.woken() == seen {
                    loom::thread::yield_now();
                }
            }
            if let Poll::Ready(v) = self.poll() {
                return v;
            }
        }
    }
}

/// Runs `f` under loom (preemption bound 2 unless `LOOM_MAX_PREEMPTIONS` says otherwise) and
/// prints how many interleavings it explored.
pub fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    b.check(move || {
        r.fetch_add(1, Ordering::Relaxed);
        f();
    });
    eprintln!(
        "{}: {} interleavings (preemption bound {:?})",
        std::thread::current().name().unwrap_or("?"),
        runs.load(Ordering::Relaxed),
        b.preemption_bound
    );
}
