//! `Sema`: the FIFO counting-semaphore engine under [`Semaphore`](crate::Semaphore).
//!
//! # State word
//!
//! `state = permits << 1 | WAITERS`. WAITERS is set while the queue may be non-empty.
//!
//! # Invariants
//!
//! - The fast paths never overtake the queue: `try_acquire` fails while WAITERS is set, so
//!   once a request waits, later ones wait behind it (FIFO).
//! - WAITERS is set (by CAS, together with the permit check that failed) only while holding
//!   the queue lock, and cleared only while holding it with the queue empty. A release that
//!   sees WAITERS takes the queue lock and hands permits to the head of the queue while they
//!   suffice; so a release that happens while a request is being queued either is seen by
//!   the request's CAS (which then takes the permits) or sees WAITERS and serves the queue.
//! - Permits handed to a node are subtracted before the node is claimed (GRANTED); if the
//!   claim fails (the owner gave up at that moment), they are given back.
//! - A node that gives up removes itself and serves the queue again: it may have been the
//!   head that blocked smaller requests behind it.

use crate::queue::{GRANTED, Node, Queue, new_queue, remove};
use csp_park::Selected;
use csp_park::sync::Arc;
use csp_park::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

const WAITERS: usize = 1;

/// The most permits a `Sema` can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 2;

pub(crate) struct Sema {
    state: AtomicUsize,
    queue: Queue,
}

impl Sema {
    #[cfg(not(loom))]
    pub(crate) const fn new(permits: usize) -> Sema {
        assert!(permits <= MAX_PERMITS, "too many permits");
        Sema {
            state: AtomicUsize::new(permits << 1),
            queue: new_queue(),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(permits: usize) -> Sema {
        assert!(permits <= MAX_PERMITS, "too many permits");
        Sema {
            state: AtomicUsize::new(permits << 1),
            queue: new_queue(),
        }
    }

    /// Permits available now (racy: for `available()` and tests).
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Relaxed) >> 1
    }

    /// Whether requests are queued (racy).
    pub(crate) fn has_waiters(&self) -> bool {
        self.state.load(Ordering::Relaxed) & WAITERS != 0
    }

    /// Takes `k` permits if that needs no waiting and nobody is queued. One CAS.
    #[inline]
    pub(crate) fn try_acquire(&self, k: usize) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & WAITERS != 0 || s >> 1 < k {
                return false;
            }
            match self.state.compare_exchange_weak(
                s,
                s - (k << 1),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// Returns `k` permits. One RMW when nobody waits.
    #[inline]
    pub(crate) fn release(&self, k: usize) {
        let prev = self.state.fetch_add(k << 1, Ordering::AcqRel);
        if prev & WAITERS != 0 {
            self.serve();
        }
    }

    /// Hands permits to the head of the queue while they suffice.
    #[cold]
    fn serve(&self) {
        let mut granted = Vec::new();
        {
            let mut q = self.queue.lock();
            loop {
                let Some(front) = q.front() else {
                    self.state.fetch_and(!WAITERS, Ordering::Relaxed);
                    break;
                };
                if !front.is_waiting() {
                    q.pop_front(); // gave up; it removes itself too, whoever is first
                    continue;
                }
                let need = front.need;
                let s = self.state.load(Ordering::Acquire);
                if s >> 1 < need {
                    break; // FIFO: nobody overtakes the head
                }
                if self
                    .state
                    .compare_exchange(s, s - (need << 1), Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
                {
                    continue;
                }
                let node = q.pop_front().expect("front exists");
                if node.waiter.try_claim(GRANTED) {
                    granted.push(node);
                } else {
                    self.state.fetch_add(need << 1, Ordering::Release);
                }
            }
        }
        for n in granted {
            n.waiter.wake();
        }
    }

    /// Takes `k` permits now if nobody is ahead (returns `None`), or queues a node made by
    /// `make` and returns it.
    pub(crate) fn acquire_or_enqueue(
        &self,
        k: usize,
        make: impl FnOnce() -> Arc<Node>,
    ) -> Option<Arc<Node>> {
        let mut q = self.queue.lock();
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if q.is_empty() && s >> 1 >= k {
                match self.state.compare_exchange_weak(
                    s,
                    s - (k << 1),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return None,
                    Err(now) => {
                        s = now;
                        continue;
                    }
                }
            }
            match self.state.compare_exchange_weak(
                s,
                s | WAITERS,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        let node = make();
        q.push_back(node.clone());
        Some(node)
    }

    /// A node's owner gives up (deadline or cancellation). Returns `true` if the permits were
    /// granted anyway (the grant won the race): the caller then owns them.
    pub(crate) fn abandon(&self, node: &Arc<Node>) -> bool {
        match node.waiter.abort() {
            Selected::Aborted => {
                let was_head = {
                    let mut q = self.queue.lock();
                    let head = q.front().is_some_and(|f| Arc::ptr_eq(f, node));
                    remove(&mut q, node);
                    head
                };
                if was_head {
                    // It may have blocked smaller requests behind it.
                    self.serve();
                }
                false
            }
            Selected::Operation(_) => true,
        }
    }

    /// Blocks the thread until `k` permits are granted or `deadline` passes.
    pub(crate) fn acquire_until(&self, k: usize, deadline: Option<Instant>) -> bool {
        if self.try_acquire(k) {
            return true;
        }
        let Some(node) = self.acquire_or_enqueue(k, || Node::thread(k, None)) else {
            return true;
        };
        match node.waiter.wait_until(deadline) {
            Selected::Operation(_) => true,
            Selected::Aborted => {
                // `wait_until` already won the abort; take the node out and serve the rest.
                let was_head = {
                    let mut q = self.queue.lock();
                    let head = q.front().is_some_and(|f| Arc::ptr_eq(f, &node));
                    remove(&mut q, &node);
                    head
                };
                if was_head {
                    self.serve();
                }
                false
            }
        }
    }
}

/// The waiting part of an async acquire of `k` permits.
pub(crate) struct AcquireWait {
    pub(crate) k: usize,
    node: Option<Arc<Node>>,
    done: bool,
}

impl AcquireWait {
    pub(crate) fn new(k: usize) -> Self {
        AcquireWait {
            k,
            node: None,
            done: false,
        }
    }

    /// `Ready` once the permits are ours.
    pub(crate) fn poll(&mut self, sema: &Sema, cx: &mut Context<'_>) -> Poll<()> {
        // A second `Ready` would hand out a second guard for the same permits.
        assert!(!self.done, "future polled after completion");
        if let Some(node) = &self.node {
            match node.poll_claim(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(_) => {
                    self.node = None;
                    self.done = true;
                    return Poll::Ready(());
                }
            }
        }
        let k = self.k;
        if sema.try_acquire(k) {
            self.done = true;
            return Poll::Ready(());
        }
        let waker = cx.waker();
        match sema.acquire_or_enqueue(k, || Node::task(k, None, waker)) {
            None => {
                self.done = true;
                Poll::Ready(())
            }
            Some(node) => {
                self.node = Some(node);
                Poll::Pending
            }
        }
    }

    /// The future is dropped: if it was still waiting, leave the queue and give back permits
    /// granted in the meantime. After `poll` returned `Ready` this does nothing (the permits
    /// belong to the guard or permit that was handed out).
    pub(crate) fn cancel(&mut self, sema: &Sema) {
        if let Some(node) = self.node.take() {
            if sema.abandon(&node) {
                sema.release(self.k);
            }
        }
    }
}
