//! `Mutex<T>`: Go's `sync.Mutex` (barging in normal mode, direct hand-off to a waiter that has
//! waited more than 1 ms), for threads and tasks.
//!
//! # State word
//!
//! | bit | meaning |
//! |---|---|
//! | `LOCKED` (1) | someone holds the lock |
//! | `WAITERS` (2) | the queue may be non-empty: unlock must take the slow path |
//! | `STARVING` (4) | hand-off mode: the lock goes to the head of the queue, nobody barges |
//!
//! # Invariants
//!
//! - Lock is one CAS (`0 -> LOCKED`); unlock is one `fetch_sub(LOCKED)`, which releases the
//!   lock at once, and takes the slow path only if it saw `WAITERS` (Go's `Unlock`).
//! - `WAITERS` and `STARVING` are set and cleared only under the queue lock. `WAITERS` is set
//!   by a CAS that also checks the lock is held (or reserved by `STARVING`), so an unlock
//!   either sees `WAITERS` and serves the queue, or the waiter's CAS sees the lock free and
//!   takes it. `STARVING` implies `WAITERS`.
//! - Normal mode: the slow unlock claims the first live node `RETRY`: it competes with newly
//!   arriving lockers (which keeps the lock on a core that is running), and if it loses it
//!   goes back to the *front* of the queue keeping its original start time.
//! - Starvation (Go's rule): a woken waiter that loses the race after having waited at least
//!   [`STARVATION`] goes back to the front of the queue and sets `STARVING` as it does. From
//!   then on the slow unlock takes the lock back (`LOCKED | STARVING`) and hands it to the head
//!   (claimed `GRANTED`): bargers see `STARVING` and queue instead. If a barger got in between
//!   the `fetch_sub` and the queue lock, the unlocker only keeps `STARVING`, and the barger's
//!   own unlock hands off. The mode ends when the queue empties or its new head has waited less
//!   than [`STARVATION`]. The waiter, not the unlocker, reads the clock: it has just woken up
//!   anyway, and a normal-mode unlock stays free of clock reads (they cost 20-50 ns here, more
//!   than the rest of a contended unlock).
//! - A waiter that gives up after being claimed `RETRY` passes the wake-up on; one claimed
//!   `GRANTED` owns the lock and unlocks it.

use crate::queue::{GRANTED, Node, Queue, RETRY, new_queue, remove};
use csp_park::Selected;
use csp_park::spin::SpinWait;
use csp_park::sync::Arc;
use csp_park::sync::atomic::{AtomicU32, Ordering};
use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

const LOCKED: u32 = 1;
const WAITERS: u32 = 2;
const STARVING: u32 = 4;

/// What a contended `lock` tries before it queues and sleeps: no spin rounds, then up to 7
/// yields. Measured on 2 cores (medians of 12 processes, 2 and 4 threads locking a counter,
/// ns per operation): 0 spin rounds + 7 yields 10.3-10.9; 1 + 7: 12.0-14.7; 4 + 1: 20.4-21.2
/// (parking_lot 14-18 in the same runs). A waiter that re-reads the lock word every few pauses
/// keeps taking the lock's cache line from the holder; one that yields stays off it for a
/// microsecond or so, lets the holder run on alone, and gives its core to a holder that was
/// descheduled.
const MUTEX_SPIN: (u32, u32) = (0, 7);

/// A waiter that has waited this long is handed the lock directly (Go's starvation mode).
#[cfg_attr(loom, allow(dead_code))] // loom models decide by the LOOM_* flags
pub(crate) const STARVATION: Duration = Duration::from_millis(1);

/// Under loom time does not pass, so models of the hand-off set this to make every waiter
/// count as starving from the moment it queues (a test binary of its own, since it is global).
#[cfg(loom)]
#[doc(hidden)]
pub static LOOM_ALL_STARVING: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Under loom: a waiter counts as starving once it was woken and lost the race (the moment
/// Go's rule switches modes, as if its wait had passed 1 ms just then).
#[cfg(loom)]
#[doc(hidden)]
pub static LOOM_WOKEN_STARVING: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Whether a waiter that started waiting at `since` (`None`: not queued yet) has waited long
/// enough to be handed the lock. Under loom only the flags decide: wall-clock time would make
/// the models nondeterministic.
fn starved(since: Option<Instant>) -> bool {
    #[cfg(loom)]
    {
        use std::sync::atomic::Ordering::Relaxed;
        LOOM_ALL_STARVING.load(Relaxed) || (since.is_some() && LOOM_WOKEN_STARVING.load(Relaxed))
    }
    #[cfg(not(loom))]
    {
        since.is_some_and(|t| t.elapsed() >= STARVATION)
    }
}

/// A mutual-exclusion lock around a value.
///
/// Uncontended `lock` and unlock are one atomic read-modify-write each. Under contention a
/// newly arriving locker may take the lock ahead of a waiter that was just woken (this keeps
/// throughput high: the lock changes hands without a sleep and a wake-up), but a waiter that
/// has waited more than 1 ms and is beaten to the lock once more switches the mutex to
/// hand-off mode: each unlock then gives the lock directly to the longest waiter, and new
/// lockers queue, so no waiter starves (Go's starvation mode; the mode ends when the queue
/// empties or its head has waited less than 1 ms). The trade-off is Go's: hand-off costs a
/// wake-up per lock, so it is kept for waiters that would otherwise wait on and on. No
/// poisoning: a panic while holding the guard releases the lock.
///
/// Threads and async tasks can wait for the same mutex at the same time.
///
/// ```
/// use csp_sync::Mutex;
/// use std::sync::Arc;
///
/// let m = Arc::new(Mutex::new(0));
/// let hs: Vec<_> = (0..4)
///     .map(|_| {
///         let m = m.clone();
///         std::thread::spawn(move || *m.lock() += 1)
///     })
///     .collect();
/// for h in hs {
///     h.join().unwrap();
/// }
/// assert_eq!(*m.lock(), 4);
/// ```
// `repr(C)` puts `state` at offset 0, so the inlined fast paths address it through the
// `&self` pointer itself: with the compiler's layout (`state` after the queue) a caller kept
// `&self.state` in a second callee-saved register across the slow-path call, and every
// `lock` paid two extra pushes and pops (measured: uncontended 1.02-1.09 of parking_lot
// before, 0.97-0.98 after).
#[repr(C)]
pub struct Mutex<T: ?Sized> {
    state: AtomicU32,
    queue: Queue,
    data: UnsafeCell<T>,
}

// SAFETY: the lock gives access to `T` to one thread at a time; moving that access between
// threads needs `T: Send`, as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    /// An unlocked mutex holding `value`.
    ///
    /// ```
    /// static COUNT: csp_sync::Mutex<u64> = csp_sync::Mutex::new(0);
    /// *COUNT.lock() += 1;
    /// assert_eq!(*COUNT.lock(), 1);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Mutex {
            state: AtomicU32::new(0),
            queue: new_queue(),
            data: UnsafeCell::new(value),
        }
    }

    /// An unlocked mutex holding `value`.
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Mutex {
            state: AtomicU32::new(0),
            queue: new_queue(),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the value.
    ///
    /// ```
    /// assert_eq!(csp_sync::Mutex::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    fn guard(&self) -> MutexGuard<'_, T> {
        MutexGuard { lock: self }
    }

    /// Locks, blocking the thread until the lock is available.
    ///
    /// ```
    /// let m = csp_sync::Mutex::new(vec![1]);
    /// m.lock().push(2);
    /// assert_eq!(*m.lock(), vec![1, 2]);
    /// ```
    pub fn lock(&self) -> MutexGuard<'_, T> {
        if !self.fast_lock() {
            self.lock_slow(None);
        }
        self.guard()
    }

    /// Locks if the lock is free now.
    ///
    /// ```
    /// let m = csp_sync::Mutex::new(1);
    /// let g = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert!(m.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.barge().then(|| self.guard())
    }

    /// Locks, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let m = csp_sync::Mutex::new(1);
    /// let _g = m.lock();
    /// assert!(m.lock_timeout(Duration::from_millis(5)).is_none());
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> Option<MutexGuard<'_, T>> {
        (self.fast_lock() || self.lock_slow(Instant::now().checked_add(timeout)))
            .then(|| self.guard())
    }

    /// Locks from async code, under any executor.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the queue; if the lock was handed to it meanwhile it is
    /// released at once (to the next waiter), and a wake-up it received is passed on.
    ///
    /// ```
    /// let m = csp_sync::Mutex::new(1);
    /// futures::executor::block_on(async {
    ///     *m.lock_async().await += 1;
    /// });
    /// assert_eq!(*m.lock(), 2);
    /// ```
    pub fn lock_async(&self) -> MutexLockFut<'_, T> {
        MutexLockFut {
            lock: self,
            node: None,
            since: None,
            front: false,
        }
    }

    /// The value, through a unique borrow (no locking needed).
    ///
    /// ```
    /// let mut m = csp_sync::Mutex::new(1);
    /// *m.get_mut() += 1;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Whether the lock is held right now (racy: for diagnostics).
    pub fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }

    #[inline]
    fn fast_lock(&self) -> bool {
        self.state
            .compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes the lock if it is not held, whether or not others wait (Go's normal mode), unless
    /// it is reserved for a starving waiter.
    fn barge(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & (LOCKED | STARVING) != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                s,
                s | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => s = now,
            }
        }
    }

    /// Takes the lock, or queues a node (at the front for a waiter that was woken and lost).
    /// A `starving` waiter switches the mutex to hand-off mode as it queues.
    fn lock_or_enqueue(
        &self,
        front: bool,
        starving: bool,
        make: impl FnOnce() -> Arc<Node>,
    ) -> Option<Arc<Node>> {
        let mut q = self.queue.lock();
        let mut s = self.state.load(Ordering::Relaxed);
        let queued = if starving {
            WAITERS | STARVING
        } else {
            WAITERS
        };
        loop {
            let free = s & (LOCKED | STARVING) == 0;
            let want = if free { s | LOCKED } else { s | queued };
            match self
                .state
                .compare_exchange_weak(s, want, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) if free => return None,
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        let node = make();
        if front {
            q.push_front(node.clone());
        } else {
            q.push_back(node.clone());
        }
        Some(node)
    }

    /// Removes an abandoned node; leaves waiting mode if the queue is empty.
    fn remove_node(&self, node: &Arc<Node>) {
        let mut q = self.queue.lock();
        remove(&mut q, node);
        if q.is_empty() {
            self.state
                .fetch_and(!(WAITERS | STARVING), Ordering::Relaxed);
        }
    }

    #[cold]
    fn lock_slow(&self, deadline: Option<Instant>) -> bool {
        // Read the clock only once this call queues: most contended locks never do.
        let mut since = None;
        let mut front = false;
        loop {
            // Yield (MUTEX_SPIN) while nobody is queued: the holder is likely to be done soon.
            // Once someone sleeps, queue behind it rather than take the core it may need.
            let mut spin = SpinWait::with_budget(MUTEX_SPIN.0, MUTEX_SPIN.1);
            loop {
                let s = self.state.load(Ordering::Relaxed);
                if s & (LOCKED | STARVING) == 0 {
                    if self.barge() {
                        return true;
                    }
                    continue;
                }
                if s & WAITERS != 0 || !spin.spin() {
                    break;
                }
            }
            let starving = starved(since);
            let Some(node) = self.lock_or_enqueue(front, starving, || {
                Node::thread(1, Some(*since.get_or_insert_with(Instant::now)))
            }) else {
                return true;
            };
            match node.waiter.park_until(deadline) {
                Selected::Operation(GRANTED) => return true,
                Selected::Operation(_) => {
                    // Woken to compete (RETRY).
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        if self.barge() {
                            return true;
                        }
                        self.wake_next();
                        return false;
                    }
                    front = true;
                }
                Selected::Aborted => {
                    self.remove_node(&node);
                    return false;
                }
            }
        }
    }

    /// Claims the first live waiter with RETRY (a wake-up that its receiver will not use).
    fn wake_next(&self) {
        let woken = {
            let mut q = self.queue.lock();
            let mut woken = None;
            while let Some(n) = q.pop_front() {
                if n.waiter.try_claim(RETRY) {
                    woken = Some(n);
                    break;
                }
            }
            if q.is_empty() {
                self.state
                    .fetch_and(!(WAITERS | STARVING), Ordering::Relaxed);
            }
            woken
        };
        if let Some(n) = woken {
            n.waiter.wake();
        }
    }

    /// Releases the lock: one RMW when nobody waits.
    #[inline]
    fn unlock(&self) {
        if self.state.fetch_sub(LOCKED, Ordering::Release) != LOCKED {
            self.unlock_slow();
        }
    }

    /// The lock was released with waiters queued: wake one to compete for it, or (starvation)
    /// take the lock back and hand it to the head of the queue.
    #[cold]
    fn unlock_slow(&self) {
        let woken = {
            let mut q = self.queue.lock();
            self.serve_locked(&mut q)
        };
        if let Some(n) = woken {
            n.waiter.wake();
        }
    }

    /// The queue half of [`unlock_slow`](Self::unlock_slow) (queue lock held). Returns the
    /// node to wake.
    fn serve_locked(&self, q: &mut VecDeque<Arc<Node>>) -> Option<Arc<Node>> {
        while q.front().is_some_and(|n| !n.is_waiting()) {
            q.pop_front(); // gave up; it removes itself too, whoever is first
        }
        if q.is_empty() {
            self.state
                .fetch_and(!(WAITERS | STARVING), Ordering::Relaxed);
            return None;
        }
        let mut s = self.state.load(Ordering::Relaxed);
        if s & STARVING == 0 {
            // Normal mode: the lock is free; wake the head to compete for it.
            while let Some(n) = q.pop_front() {
                if n.waiter.try_claim(RETRY) {
                    if q.is_empty() {
                        self.state.fetch_and(!WAITERS, Ordering::Relaxed);
                    }
                    return Some(n);
                }
            }
            self.state.fetch_and(!WAITERS, Ordering::Relaxed);
            return None;
        }
        // Starvation: take the lock back to hand it over, keeping bargers out.
        loop {
            if s & LOCKED != 0 {
                // A barger got in first. Keep the rest out: its unlock hands off.
                self.state.fetch_or(STARVING, Ordering::Relaxed);
                return None;
            }
            match self.state.compare_exchange_weak(
                s,
                s | LOCKED | STARVING,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        // We hold the lock: hand it to the first live node (LOCKED stays set).
        while let Some(n) = q.pop_front() {
            if n.waiter.try_claim(GRANTED) {
                // Leave hand-off mode when nobody is left, or the new head has not starved.
                match q.iter().find(|m| m.is_waiting()) {
                    None => {
                        q.clear();
                        self.state
                            .fetch_and(!(WAITERS | STARVING), Ordering::Relaxed);
                    }
                    Some(m) if !starved(m.since) => {
                        self.state.fetch_and(!STARVING, Ordering::Relaxed);
                    }
                    Some(_) => {}
                }
                return Some(n);
            }
        }
        // Everyone gave up meanwhile: release the lock we took back.
        self.state
            .fetch_and(!(LOCKED | WAITERS | STARVING), Ordering::Release);
        None
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(g) => d.field("data", &&*g),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Access to a [`Mutex`]'s value; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

// SAFETY: sharing the guard shares `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while its owner holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while its owner holds the lock, and `&mut self` makes
        // this the only access through it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// The future of [`Mutex::lock_async`].
///
/// # Cancel safety
///
/// Dropping it leaves the queue; a lock handed to it meanwhile is released to the next
/// waiter, and a wake-up it received is passed on.
#[must_use = "futures do nothing unless polled"]
pub struct MutexLockFut<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
    node: Option<Arc<Node>>,
    since: Option<Instant>,
    front: bool,
}

impl<'a, T: ?Sized> Future for MutexLockFut<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let lock = this.lock;
        if let Some(node) = &this.node {
            match node.poll_claim(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Selected::Operation(GRANTED)) => {
                    this.node = None;
                    return Poll::Ready(lock.guard());
                }
                Poll::Ready(_) => {
                    this.node = None;
                    this.front = true;
                }
            }
        }
        if lock.barge() {
            return Poll::Ready(lock.guard());
        }
        let waker = cx.waker();
        let since = &mut this.since;
        match lock.lock_or_enqueue(this.front, starved(*since), || {
            Node::task(1, Some(*since.get_or_insert_with(Instant::now)), waker)
        }) {
            None => Poll::Ready(lock.guard()),
            Some(node) => {
                this.node = Some(node);
                Poll::Pending
            }
        }
    }
}

impl<T: ?Sized> Drop for MutexLockFut<'_, T> {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            match node.waiter.abort() {
                Selected::Aborted => self.lock.remove_node(&node),
                Selected::Operation(GRANTED) => self.lock.unlock(),
                Selected::Operation(_) => self.lock.wake_next(),
            }
        }
    }
}

impl<T: ?Sized> fmt::Debug for MutexLockFut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MutexLockFut { .. }")
    }
}
