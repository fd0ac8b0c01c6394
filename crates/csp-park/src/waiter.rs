//! `Waiter`: what a blocked operation leaves in a wait queue.
//!
//! # Invariants
//!
//! - A waiter's `state` word moves from *waiting* to *claimed* exactly once, by one
//!   compare-and-swap. Whoever wins that CAS owns the outcome: a counterpart that exchanged a
//!   value (claiming with the operation's index), a close (same), or the owner itself at its
//!   deadline or on cancellation (claiming [`Selected::Aborted`]). Losers leave the waiter
//!   alone. This single claim is what lets one waiter sit in several queues at once (one per
//!   `select` arm): only one arm can ever win.
//! - After it is claimed the state never changes again, except that the PARKED bit is never
//!   cleared: the owner sets PARKED (with a CAS from plain *waiting*) before it sleeps, and the
//!   claimer's CAS keeps the bit, so the claimer knows whether a futex wake is needed.
//! - Data handed over with a claim is written *before* the claiming CAS (Release) and read by
//!   the owner only after it observed the claim (Acquire).
//!
//! State word layout: bit 0 = PARKED; bits 1.. = 0 waiting, 1 aborted, `n + 2` operation `n`.

use crate::futex;
use crate::sync::Mutex;
use crate::sync::atomic::{AtomicU32, Ordering};
use std::fmt;
use std::task::Waker;
use std::time::Instant;

const PARKED: u32 = 1;
const WAITING: u32 = 0;
const ABORTED: u32 = 1 << 1;
const FIRST_OP: u32 = 2;
const MAX_OP: usize = ((u32::MAX >> 1) - FIRST_OP) as usize;

/// Before sleeping, a blocked thread spins `SPIN_ROUNDS` rounds (round k: 2^min(k,6) pause
/// instructions, about 2 µs in all), then yields `YIELDS` times. Measured with `compare` on
/// 2 cores: a counterpart usually arrives within tens of µs, and a futex sleep plus wake costs
/// 5-30 µs here; yielding (rather than spinning longer) keeps oversubscribed workloads (mpmc,
/// 8 threads) from starving the thread they wait for. Spins 7 / yields 4 gave 1.4-6 µs per
/// message on spsc bounded(0); 7 / 64 gives 0.2-0.7 µs; 10 / 32 slowed mpsc by 60%.
#[cfg(not(loom))]
const SPIN_ROUNDS: u32 = 7;
#[cfg(not(loom))]
const YIELDS: u32 = 64;

/// Who claimed a [`Waiter`], as seen by its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Selected {
    /// A counterpart (or a close) claimed the operation with this index.
    Operation(usize),
    /// The owner gave up (deadline passed, or its future was dropped) before anyone claimed it.
    Aborted,
}

/// A blocked operation's record: a parked thread or an async task, with one claim flag.
///
/// A waiter is created by the blocked party (its *owner*), shared (in an `Arc`) with the wait
/// queues it is enqueued in, and claimed exactly once. The typical life:
///
/// 1. The owner creates it ([`Waiter::thread`] or [`Waiter::task`]) and enqueues it.
/// 2. A counterpart dequeues it, exchanges data with it, and calls [`try_claim`](Self::try_claim);
///    if that returns `true` it calls [`wake`](Self::wake) (after releasing its locks).
/// 3. The owner learns the outcome from [`wait_until`](Self::wait_until) (threads) or
///    [`selected`](Self::selected) (tasks), or gives up with [`abort`](Self::abort).
///
/// # Example
///
/// An owner giving up races a counterpart claiming: exactly one wins.
///
/// ```
/// use csp_park::{Selected, Waiter};
///
/// let w = Waiter::thread();
/// assert_eq!(w.abort(), Selected::Aborted);
/// assert!(!w.try_claim(0)); // too late
/// assert_eq!(w.selected(), Some(Selected::Aborted));
/// ```
pub struct Waiter {
    state: AtomicU32,
    /// `Some` for an async task: the waker to call. Guarded by its own lock because the owner
    /// may replace it on every poll while a claimer on another channel reads it.
    task: Option<Mutex<Option<Waker>>>,
}

impl Waiter {
    /// A waiter for the current thread, which will block in [`wait_until`](Self::wait_until).
    pub fn thread() -> Waiter {
        Waiter {
            state: AtomicU32::new(WAITING),
            task: None,
        }
    }

    /// A waiter for an async task, woken through `waker` (or the latest one given to
    /// [`register`](Self::register)).
    pub fn task(waker: &Waker) -> Waiter {
        Waiter {
            state: AtomicU32::new(WAITING),
            task: Some(Mutex::new(Some(waker.clone()))),
        }
    }

    /// Whether this waiter belongs to an async task.
    pub fn is_task(&self) -> bool {
        self.task.is_some()
    }

    /// Claims the waiter for operation `op`; `true` if this call won.
    ///
    /// Data for the owner must be written before this call. The winner must then call
    /// [`wake`](Self::wake).
    ///
    /// # Panics
    ///
    /// Panics if `op` is larger than `u32::MAX / 2 - 2` (no select has that many arms).
    #[inline]
    pub fn try_claim(&self, op: usize) -> bool {
        assert!(op <= MAX_OP, "operation index {op} out of range");
        self.claim_with((op as u32 + FIRST_OP) << 1)
    }

    #[inline]
    fn claim_with(&self, claimed: u32) -> bool {
        let mut cur = self.state.load(Ordering::Relaxed);
        loop {
            if cur >> 1 != WAITING {
                return false;
            }
            match self.state.compare_exchange_weak(
                cur,
                claimed | (cur & PARKED),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => cur = now,
            }
        }
    }

    /// The owner gives up: claims the waiter as [`Selected::Aborted`] unless someone claimed it
    /// first. Returns whoever won (so `Aborted` means nobody else will ever touch it).
    #[inline]
    pub fn abort(&self) -> Selected {
        if self.claim_with(ABORTED) {
            Selected::Aborted
        } else {
            self.selected()
                .expect("a waiter that cannot be aborted is claimed")
        }
    }

    /// The claim, if any (Acquire: data written before the claim is visible after this).
    #[inline]
    pub fn selected(&self) -> Option<Selected> {
        decode(self.state.load(Ordering::Acquire))
    }

    /// Wakes the owner after a successful [`try_claim`](Self::try_claim).
    ///
    /// For a thread this is a futex wake, issued only if the thread went to sleep; for a task it
    /// calls the waker.
    #[inline]
    pub fn wake(&self) {
        match &self.task {
            Some(waker) => {
                let w = waker.lock().take();
                if let Some(w) = w {
                    w.wake();
                }
            }
            None => {
                // The claim CAS kept the PARKED bit, and the state is final now: the owner only
                // sets PARKED on a waiting state.
                if self.state.load(Ordering::Relaxed) & PARKED != 0 {
                    futex::wake_one(&self.state);
                }
            }
        }
    }

    /// Replaces the task's waker (call on every poll that returns `Pending`, then check
    /// [`selected`](Self::selected) again).
    ///
    /// # Panics
    ///
    /// Panics if this is a thread waiter.
    pub fn register(&self, waker: &Waker) {
        let slot = self.task.as_ref().expect("register on a thread waiter");
        let mut slot = slot.lock();
        match &*slot {
            Some(old) if old.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Blocks the owner thread until the waiter is claimed, or until `deadline`, at which point
    /// it tries to abort. Returns the final claim (an operation can win over the deadline).
    ///
    /// Spins and yields briefly before sleeping: a counterpart that is about to arrive is far
    /// cheaper to wait for than a futex sleep and wake.
    pub fn wait_until(&self, deadline: Option<Instant>) -> Selected {
        debug_assert!(self.task.is_none(), "wait_until on a task waiter");
        #[cfg(not(loom))]
        {
            if let Some(s) = self.spin_for_claim() {
                return s;
            }
        }
        self.sleep_until(deadline)
    }

    /// Like [`wait_until`](Self::wait_until), but goes to sleep at once: for callers that
    /// already spun before they queued (a lock's waiter that stays awake would keep being woken
    /// to compete, and keep the lock's cache line moving, instead of letting the holder run).
    pub fn park_until(&self, deadline: Option<Instant>) -> Selected {
        debug_assert!(self.task.is_none(), "park_until on a task waiter");
        if let Some(s) = self.selected() {
            return s;
        }
        self.sleep_until(deadline)
    }

    /// The spin-then-yield phase of [`wait_until`](Self::wait_until).
    #[cfg(not(loom))]
    fn spin_for_claim(&self) -> Option<Selected> {
        for k in 0..SPIN_ROUNDS {
            for _ in 0..1u32 << k.min(6) {
                std::hint::spin_loop();
            }
            if let Some(s) = self.selected() {
                return Some(s);
            }
        }
        for _ in 0..YIELDS {
            std::thread::yield_now();
            if let Some(s) = self.selected() {
                return Some(s);
            }
        }
        None
    }

    /// Announces the sleep (`PARKED`) and sleeps on the futex until claimed or `deadline`.
    fn sleep_until(&self, deadline: Option<Instant>) -> Selected {
        if let Err(now) = self.state.compare_exchange(
            WAITING,
            WAITING | PARKED,
            Ordering::Acquire,
            Ordering::Acquire,
        ) {
            return decode(now).expect("only the owner changes a waiting state's PARKED bit");
        }
        loop {
            let timed_out = !futex::wait(&self.state, WAITING | PARKED, deadline);
            if let Some(s) = self.selected() {
                return s;
            }
            if timed_out {
                return self.abort();
            }
        }
    }
}

#[inline]
fn decode(state: u32) -> Option<Selected> {
    match state >> 1 {
        WAITING => None,
        1 => Some(Selected::Aborted),
        n => Some(Selected::Operation((n - FIRST_OP) as usize)),
    }
}

impl fmt::Debug for Waiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("task", &self.is_task())
            .field("selected", &self.selected())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn claim_is_exclusive() {
        let w = Waiter::thread();
        assert_eq!(w.selected(), None);
        assert!(w.try_claim(3));
        assert!(!w.try_claim(4));
        assert_eq!(w.abort(), Selected::Operation(3));
        assert_eq!(w.selected(), Some(Selected::Operation(3)));
    }

    #[test]
    fn wait_until_times_out_with_abort() {
        let w = Waiter::thread();
        let d = Instant::now() + Duration::from_millis(5);
        assert_eq!(w.wait_until(Some(d)), Selected::Aborted);
        assert!(Instant::now() >= d);
        assert!(!w.try_claim(0));
    }

    #[test]
    fn sleeping_thread_is_woken() {
        let w = Arc::new(Waiter::thread());
        let w2 = w.clone();
        let t = std::thread::spawn(move || w2.wait_until(None));
        std::thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
        assert!(w.try_claim(1));
        w.wake();
        assert_eq!(t.join().unwrap(), Selected::Operation(1));
    }

    #[test]
    fn task_waiter_calls_latest_waker() {
        use std::sync::atomic::AtomicUsize;
        use std::task::Wake;
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let a = Arc::new(Count(AtomicUsize::new(0)));
        let b = Arc::new(Count(AtomicUsize::new(0)));
        let w = Waiter::task(&Waker::from(a.clone()));
        w.register(&Waker::from(b.clone()));
        assert!(w.try_claim(0));
        w.wake();
        assert_eq!(a.0.load(Ordering::SeqCst), 0);
        assert_eq!(b.0.load(Ordering::SeqCst), 1);
    }
}
