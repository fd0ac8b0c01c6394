//! The FIFO of blocked parties that every primitive of this crate keeps for its slow path.
//!
//! A blocked `lock`, `acquire`, `wait` or `call_once` leaves a [`Node`] — a csp-park
//! [`Waiter`] (parked thread or async task) plus what it asked for — in its primitive's queue.
//! The party that makes progress possible pops nodes and *claims* them; exactly one claim
//! wins (the owner's own abort at a deadline or on cancellation is a claim too), so a node is
//! either granted, told to retry, or abandoned, never two of these.
//!
//! Claim codes: [`GRANTED`] (what was asked for now belongs to the owner: the lock, the
//! permits, "the count reached zero") and [`RETRY`] (woken: look at the state again).

use csp_park::sync::Arc;
use csp_park::sync::Mutex;
use csp_park::{Selected, Waiter};
use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// Claim code: the request was granted to the owner.
pub(crate) const GRANTED: usize = 0;
/// Claim code: the owner should look at the state again.
pub(crate) const RETRY: usize = 1;

/// One blocked party.
pub(crate) struct Node {
    pub(crate) waiter: Waiter,
    /// What it asked for (permits; 1 for a lock).
    pub(crate) need: usize,
    /// When it first started waiting, for a `Mutex` waiter (kept across re-queues: starvation
    /// mode); `None` elsewhere, which saves a clock read per wait.
    #[cfg_attr(loom, allow(dead_code))] // under loom, starvation is a flag, not a clock
    pub(crate) since: Option<Instant>,
}

impl Node {
    pub(crate) fn thread(need: usize, since: Option<Instant>) -> Arc<Node> {
        Arc::new(Node {
            waiter: Waiter::thread(),
            need,
            since,
        })
    }

    pub(crate) fn task(need: usize, since: Option<Instant>, waker: &Waker) -> Arc<Node> {
        Arc::new(Node {
            waiter: Waiter::task(waker),
            need,
            since,
        })
    }

    /// Whether nobody has claimed it yet.
    pub(crate) fn is_waiting(&self) -> bool {
        self.waiter.selected().is_none()
    }

    /// Polls an async owner's node: `Ready` with the claim once claimed, else registers the
    /// task's waker and checks again (so a claim racing the registration is not missed).
    pub(crate) fn poll_claim(&self, cx: &mut Context<'_>) -> Poll<Selected> {
        if let Some(s) = self.waiter.selected() {
            return Poll::Ready(s);
        }
        self.waiter.register(cx.waker());
        match self.waiter.selected() {
            Some(s) => Poll::Ready(s),
            None => Poll::Pending,
        }
    }
}

/// A primitive's FIFO of blocked parties. The lock is csp-park's `Lock` normally and loom's
/// mutex under loom (the shim's `Mutex`), so models check the primitives' protocols without
/// also exploring every spin of the lock.
pub(crate) type Queue = Mutex<VecDeque<Arc<Node>>>;

/// A new, empty queue.
#[cfg(not(loom))]
pub(crate) const fn new_queue() -> Queue {
    Mutex::new(VecDeque::new())
}

/// A new, empty queue.
#[cfg(loom)]
pub(crate) fn new_queue() -> Queue {
    Mutex::new(VecDeque::new())
}

/// Removes `node` from `q` if it is still there.
pub(crate) fn remove(q: &mut VecDeque<Arc<Node>>, node: &Arc<Node>) -> bool {
    match q.iter().position(|n| Arc::ptr_eq(n, node)) {
        Some(i) => {
            q.remove(i);
            true
        }
        None => false,
    }
}

/// Claims every waiting node with `op` and returns them, to be woken after unlocking.
pub(crate) fn claim_all(q: &mut VecDeque<Arc<Node>>, op: usize) -> Vec<Arc<Node>> {
    q.drain(..).filter(|n| n.waiter.try_claim(op)).collect()
}

/// Wakes claimed nodes (call with no lock held).
pub(crate) fn wake_all(nodes: Vec<Arc<Node>>) {
    for n in nodes {
        n.waiter.wake();
    }
}
