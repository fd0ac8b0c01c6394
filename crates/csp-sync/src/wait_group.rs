//! `WaitGroup`: Go's `sync.WaitGroup` — wait for a counter of outstanding tasks to reach zero.
//!
//! # Invariants
//!
//! - `state` is `count << 1 | WAITERS`: `count` is the number of `done` calls still expected.
//! - WAITERS is set only under the queue lock, by a waiter that saw `count > 0` and is about to
//!   enqueue, and cleared only under the queue lock: by the `done` that takes `count` from 1 to
//!   0 (which claims every queued waiter in the same critical section), or by the last waiter
//!   leaving the queue on a timeout or a dropped future. So a non-empty queue implies WAITERS,
//!   and WAITERS implies `count > 0`.
//! - While WAITERS is set, `count` goes from 1 to 0 only under the queue lock. So a waiter
//!   that enqueued while `count > 0` is granted by the very transition that ends that stretch
//!   of non-zero counts, never by an earlier one whose claim was still on its way: a waiter
//!   never returns early when the group is reused (`add` right after reaching zero).
//! - Every `done` is a release read-modify-write of `state`, and every waiter either observes
//!   `count == 0` with an acquire load or is woken by a claim made after that transition, so
//!   all the work before each `done` happens before `wait` returns (Go's guarantee).

use crate::queue::{self, GRANTED, Node, Queue};
use csp_park::Selected;
use csp_park::sync::Arc;
use csp_park::sync::atomic::{AtomicUsize, Ordering};
use csp_park::sync::thread;
use std::fmt;
use std::future::Future;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// The WAITERS bit of `state`: some waiter may be queued.
const WAITERS: usize = 1;
/// One unit of `count` in `state`.
const ONE: usize = 2;
/// The largest count `state` can hold.
const MAX_COUNT: usize = usize::MAX >> 1;

struct Inner {
    /// `count << 1 | WAITERS` (see the module invariants).
    state: AtomicUsize,
    /// Blocked `wait`s, all waiting for the same zero. Its lock orders enqueueing against the
    /// 1 → 0 transition when WAITERS is set.
    waiters: Queue,
}

/// Waits for a collection of threads or tasks to finish: Go's `sync.WaitGroup`.
///
/// A counter of outstanding work: [`add`](Self::add) raises it, [`done`](Self::done) lowers
/// it, and [`wait`](Self::wait) (or [`wait_timeout`](Self::wait_timeout),
/// [`wait_deadline`](Self::wait_deadline), [`wait_async`](Self::wait_async)) blocks until it
/// is zero. Threads and async tasks may wait on the same group at the same time.
///
/// `WaitGroup` is a handle to shared state: [`Clone`] gives another handle to the *same*
/// group (it does not touch the counter, unlike crossbeam's `WaitGroup`), so a clone can be
/// moved into a worker. [`guard`](Self::guard) and [`spawn`](Self::spawn) pair `add` and
/// `done` for you, also when the worker panics.
///
/// Differences from Go:
///
/// - `add` takes a `usize`: the counter only goes down through `done`, which panics below
///   zero (as Go's `Add(-1)` does).
/// - A group may be reused at any time: `add` may race with `wait` freely. A `wait` returns
///   once the counter has been zero at some moment after the call began; Go asks that new
///   `Add` calls happen after all previous `Wait`s have returned.
/// - [`new`](Self::new) allocates (the state is shared between handles), so it is not a
///   `const fn`; for a `static`, use `std::sync::LazyLock<WaitGroup>`.
///
/// Happens-before as in Go: everything a worker did before its `done` is visible to a thread
/// or task once its `wait` returns.
///
/// # Example
///
/// ```
/// use csp_sync::WaitGroup;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let hits = Arc::new(AtomicUsize::new(0));
/// let wg = WaitGroup::new();
/// for _ in 0..8 {
///     let hits = hits.clone();
///     wg.spawn(move || {
///         hits.fetch_add(1, Ordering::Relaxed);
///     });
/// }
/// wg.wait();
/// assert_eq!(hits.load(Ordering::Relaxed), 8);
/// ```
#[derive(Clone)]
pub struct WaitGroup {
    inner: Arc<Inner>,
}

// A panic can never leave a group inconsistent: every change of state is a single atomic
// operation or a short critical section that runs no user code.
impl UnwindSafe for WaitGroup {}
impl RefUnwindSafe for WaitGroup {}

impl WaitGroup {
    /// A new group with a counter of zero.
    ///
    /// ```
    /// let wg = csp_sync::WaitGroup::new();
    /// assert_eq!(wg.count(), 0);
    /// wg.wait(); // zero already: returns at once
    /// ```
    pub fn new() -> WaitGroup {
        WaitGroup {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(0),
                waiters: queue::new_queue(),
            }),
        }
    }

    /// Adds `n` to the counter (`add(0)` does nothing).
    ///
    /// Call it before starting the work that will call [`done`](Self::done), so that a
    /// concurrent [`wait`](Self::wait) cannot see zero in between.
    ///
    /// # Panics
    ///
    /// Panics if the counter would exceed `usize::MAX / 2`.
    ///
    /// ```
    /// let wg = csp_sync::WaitGroup::new();
    /// wg.add(2);
    /// assert_eq!(wg.count(), 2);
    /// wg.done();
    /// wg.done();
    /// wg.wait();
    /// ```
    pub fn add(&self, n: usize) {
        if n == 0 {
            return;
        }
        let state = &self.inner.state;
        let mut s = state.load(Ordering::Relaxed);
        loop {
            assert!(n <= MAX_COUNT - (s >> 1), "WaitGroup counter overflow");
            match state.compare_exchange_weak(s, s + n * ONE, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
    }

    /// Subtracts one from the counter; at zero, wakes every waiter.
    ///
    /// # Panics
    ///
    /// Panics if the counter is already zero (more `done`s than `add`s), as Go does.
    ///
    /// ```
    /// let wg = csp_sync::WaitGroup::new();
    /// wg.add(1);
    /// let worker = wg.clone();
    /// std::thread::spawn(move || worker.done());
    /// wg.wait();
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub fn done(&self) {
        let state = &self.inner.state;
        let mut s = state.load(Ordering::Relaxed);
        loop {
            if s >> 1 == 0 {
                negative_counter();
            }
            // The last `done` with waiters queued must claim them under the queue lock (see
            // the module invariants); every other `done` is one CAS.
            if s == ONE | WAITERS {
                return self.done_and_release();
            }
            match state.compare_exchange_weak(s, s - ONE, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return,
                Err(now) => s = now,
            }
        }
    }

    /// `done` when it may take the counter to zero with waiters queued.
    #[cold]
    fn done_and_release(&self) {
        let state = &self.inner.state;
        let mut q = self.inner.waiters.lock();
        // WAITERS only changes under this lock, so it is stable here; `count` is not (`add`
        // and other `done`s do not lock).
        let mut s = state.load(Ordering::Relaxed);
        let reached_zero = loop {
            if s >> 1 == 0 {
                drop(q);
                negative_counter();
            }
            // Count 1 → 0 clears WAITERS too: the queue is drained below.
            let next = if s >> 1 == 1 { 0 } else { s - ONE };
            match state.compare_exchange_weak(s, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => break next == 0,
                Err(now) => s = now,
            }
        };
        if reached_zero {
            let woken = queue::claim_all(&mut q, GRANTED);
            drop(q);
            queue::wake_all(woken);
        }
    }

    /// The counter: how many [`done`](Self::done) calls are still expected.
    ///
    /// Only a snapshot: other threads may change it at any time.
    ///
    /// ```
    /// let wg = csp_sync::WaitGroup::new();
    /// wg.add(3);
    /// wg.done();
    /// assert_eq!(wg.count(), 2);
    /// ```
    pub fn count(&self) -> usize {
        self.inner.state.load(Ordering::Acquire) >> 1
    }

    /// Blocks the thread until the counter is zero.
    ///
    /// Returns at once if it is zero now. Otherwise it returns after the counter next
    /// reaches zero, even if an `add` raises it again before this thread runs.
    ///
    /// ```
    /// use csp_sync::WaitGroup;
    /// use std::sync::{Arc, Mutex};
    ///
    /// let wg = WaitGroup::new();
    /// let results = Arc::new(Mutex::new(Vec::new()));
    /// for i in 0..3 {
    ///     let results = results.clone();
    ///     wg.spawn(move || results.lock().unwrap().push(i));
    /// }
    /// wg.wait();
    /// assert_eq!(results.lock().unwrap().len(), 3);
    /// ```
    pub fn wait(&self) {
        self.wait_until(None);
    }

    /// Blocks the thread until the counter is zero or `timeout` has passed; `true` if it
    /// reached zero. A timeout too large to represent as an `Instant` means no timeout.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let wg = csp_sync::WaitGroup::new();
    /// wg.add(1);
    /// assert!(!wg.wait_timeout(Duration::from_millis(5))); // nobody calls done
    /// wg.done();
    /// assert!(wg.wait_timeout(Duration::from_millis(5)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        // A timeout too far to represent is no timeout.
        self.wait_until(Instant::now().checked_add(timeout))
    }

    /// Blocks the thread until the counter is zero or `deadline` has passed; `true` if it
    /// reached zero.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let wg = csp_sync::WaitGroup::new();
    /// wg.add(1);
    /// let worker = wg.clone();
    /// std::thread::spawn(move || worker.done());
    /// assert!(wg.wait_deadline(Instant::now() + Duration::from_secs(60)));
    /// ```
    pub fn wait_deadline(&self, deadline: Instant) -> bool {
        self.wait_until(Some(deadline))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> bool {
        if self.count() == 0 {
            return true;
        }
        let node = Node::thread(1, None);
        if !self.enqueue(&node) {
            return true;
        }
        match node.waiter.wait_until(deadline) {
            Selected::Operation(_) => true,
            Selected::Aborted => {
                self.withdraw(&node);
                false
            }
        }
    }

    /// Waits for the counter to reach zero, from async code (any executor).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes removes its waiter and has no
    /// other effect on the group.
    ///
    /// ```
    /// use csp_sync::WaitGroup;
    ///
    /// let wg = WaitGroup::new();
    /// for _ in 0..4 {
    ///     wg.spawn(|| std::thread::sleep(std::time::Duration::from_millis(1)));
    /// }
    /// futures::executor::block_on(wg.wait_async());
    /// assert_eq!(wg.count(), 0);
    /// ```
    pub fn wait_async(&self) -> WaitGroupWaitFut<'_> {
        WaitGroupWaitFut {
            wg: self,
            node: None,
        }
    }

    /// Adds one to the counter and returns a guard that calls [`done`](Self::done) when
    /// dropped — also when the worker holding it panics, so a crashed worker cannot leave
    /// [`wait`](Self::wait) blocked forever.
    ///
    /// The guard owns a handle to the group (it is `'static` and `Send`), so it can be moved
    /// into a thread or a spawned task.
    ///
    /// # Panics
    ///
    /// Panics if the counter would exceed `usize::MAX / 2`.
    ///
    /// ```
    /// use csp_sync::WaitGroup;
    ///
    /// let wg = WaitGroup::new();
    /// let guard = wg.guard();
    /// let worker = std::thread::spawn(move || {
    ///     let _guard = guard;
    ///     panic!("worker crashed");
    /// });
    /// wg.wait(); // returns: the guard counted down while the worker unwound
    /// assert!(worker.join().is_err());
    /// ```
    pub fn guard(&self) -> WaitGroupGuard {
        self.add(1);
        WaitGroupGuard { wg: self.clone() }
    }

    /// Go 1.25's `WaitGroup.Go`: adds one to the counter and runs `f` on a new thread, calling
    /// [`done`](Self::done) when `f` returns or panics.
    ///
    /// The returned handle may be dropped (the thread keeps running) or joined for `f`'s
    /// result; a panic in `f` shows up there, after the counter has been decremented.
    ///
    /// # Panics
    ///
    /// Panics if the thread cannot be created (as [`std::thread::spawn`] does; the counter is
    /// decremented again first) or if the counter would exceed `usize::MAX / 2`.
    ///
    /// ```
    /// use csp_sync::WaitGroup;
    ///
    /// let wg = WaitGroup::new();
    /// let answer = wg.spawn(|| 6 * 7);
    /// wg.wait();
    /// assert_eq!(answer.join().unwrap(), 42);
    /// ```
    pub fn spawn<F, T>(&self, f: F) -> thread::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let guard = self.guard();
        thread::spawn(move || {
            // Dropped after `f` returns or while it unwinds.
            let _guard = guard;
            f()
        })
    }

    /// Under the queue lock: if the count is zero, `false`; otherwise sets WAITERS and queues
    /// `node`.
    fn enqueue(&self, node: &Arc<Node>) -> bool {
        let state = &self.inner.state;
        let mut q = self.inner.waiters.lock();
        // Acquire: a zero seen here is the last `done`'s release.
        let mut s = state.load(Ordering::Acquire);
        loop {
            if s >> 1 == 0 {
                return false;
            }
            if s & WAITERS != 0 {
                break;
            }
            // A CAS rather than a `fetch_or`: a `done` taking the count 1 → 0 without the lock
            // (WAITERS clear) makes it fail, and we see the zero.
            match state.compare_exchange_weak(s, s | WAITERS, Ordering::Acquire, Ordering::Acquire)
            {
                Ok(_) => break,
                Err(now) => s = now,
            }
        }
        q.push_back(node.clone());
        true
    }

    /// Removes an aborted waiter; the last one out clears WAITERS.
    fn withdraw(&self, node: &Arc<Node>) {
        let mut q = self.inner.waiters.lock();
        queue::remove(&mut q, node);
        if q.is_empty() {
            self.inner.state.fetch_and(!WAITERS, Ordering::Relaxed);
        }
    }
}

#[cold]
#[track_caller]
fn negative_counter() -> ! {
    panic!("WaitGroup::done called more times than add: negative counter")
}

impl Default for WaitGroup {
    fn default() -> Self {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("count", &self.count())
            .finish()
    }
}

/// Calls [`WaitGroup::done`] when dropped. Created by [`WaitGroup::guard`], which adds one
/// to the counter.
///
/// ```
/// use csp_sync::WaitGroup;
///
/// let wg = WaitGroup::new();
/// let guard = wg.guard();
/// assert_eq!(wg.count(), 1);
/// drop(guard);
/// assert_eq!(wg.count(), 0);
/// ```
#[must_use = "dropping the guard calls done() at once"]
pub struct WaitGroupGuard {
    wg: WaitGroup,
}

impl WaitGroupGuard {
    /// The group this guard counts down.
    ///
    /// ```
    /// let wg = csp_sync::WaitGroup::new();
    /// let guard = wg.guard();
    /// assert_eq!(guard.wait_group().count(), 1);
    /// ```
    pub fn wait_group(&self) -> &WaitGroup {
        &self.wg
    }
}

impl Drop for WaitGroupGuard {
    fn drop(&mut self) {
        self.wg.done();
    }
}

impl fmt::Debug for WaitGroupGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroupGuard")
            .field("wait_group", &self.wg)
            .finish()
    }
}

/// The future of [`WaitGroup::wait_async`]: completes once the counter is zero.
///
/// # Cancel safety
///
/// Cancel safe: dropping it removes its waiter and has no other effect on the group.
///
/// ```
/// # futures::executor::block_on(async {
/// let wg = csp_sync::WaitGroup::new();
/// let guard = wg.guard();
/// std::thread::spawn(move || drop(guard));
/// wg.wait_async().await;
/// # });
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct WaitGroupWaitFut<'a> {
    wg: &'a WaitGroup,
    /// Our queued waiter, once the first poll found the count non-zero.
    node: Option<Arc<Node>>,
}

impl Future for WaitGroupWaitFut<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match &this.node {
            Some(node) => match node.poll_claim(cx) {
                Poll::Ready(_) => {
                    // Only the zero transition claims a wait-group waiter, and only `drop`
                    // aborts one.
                    this.node = None;
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            },
            None => {
                if this.wg.count() == 0 {
                    return Poll::Ready(());
                }
                let node = Node::task(1, None, cx.waker());
                if !this.wg.enqueue(&node) {
                    return Poll::Ready(());
                }
                // The node carries this poll's waker: a claim from now on wakes us.
                this.node = Some(node);
                Poll::Pending
            }
        }
    }
}

impl Drop for WaitGroupWaitFut<'_> {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            if node.waiter.abort() == Selected::Aborted {
                self.wg.withdraw(&node);
            }
        }
    }
}

impl fmt::Debug for WaitGroupWaitFut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroupWaitFut")
            .field("wait_group", self.wg)
            .field("queued", &self.node.is_some())
            .finish()
    }
}
