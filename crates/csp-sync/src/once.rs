//! `Once` and `OnceCell`: run an initializer exactly once, however many threads and tasks
//! race for it.
//!
//! Both are one state word ([`RawOnce`]) plus a queue of callers waiting for a run in
//! progress; `Once` is a `OnceCell<()>`.
//!
//! # Invariants
//!
//! - `state` moves INCOMPLETE → RUNNING by a CAS (the winner, the *runner*, alone may write
//!   the value), and RUNNING → COMPLETE (after the value is written) or RUNNING → INCOMPLETE
//!   (the initializer failed, panicked or was dropped) by a store under the queue lock,
//!   followed in the same critical section by claiming every queued waiter. COMPLETE is final.
//! - A caller enqueues only under the queue lock, after seeing RUNNING there, so it is claimed
//!   by the end of that very run: no waiter is left behind.
//! - The value is written only by the runner while the state is RUNNING, and read only after
//!   an acquire load saw COMPLETE, which the runner stored with release after writing.
//! - When a run ends without a value, every waiter is woken to retry (not just one): one of
//!   them wins the next INCOMPLETE → RUNNING CAS, the others queue again behind it. Waking all
//!   means a woken waiter that goes away (a dropped future) never has to pass the turn on.

use crate::queue::{self, GRANTED, Node, Queue, RETRY};
use csp_park::Selected;
use csp_park::sync::Arc;
use csp_park::sync::UnsafeCell;
use csp_park::sync::atomic::{AtomicU32, Ordering};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::mem::{self, MaybeUninit};
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// No value, nobody running an initializer.
const INCOMPLETE: u32 = 0;
/// A runner is executing its initializer.
const RUNNING: u32 = 1;
/// The value is written (final).
const COMPLETE: u32 = 2;

/// The state machine shared by [`Once`] and [`OnceCell`] (see the module invariants).
struct RawOnce {
    state: AtomicU32,
    /// Callers waiting for the current run to end.
    waiters: Queue,
}

/// What [`RawOnce::try_start`] found.
enum Start {
    /// Already complete.
    Complete,
    /// This caller is now the runner.
    Started,
    /// Someone else is running an initializer.
    Running,
}

impl RawOnce {
    #[cfg(not(loom))]
    const fn new() -> RawOnce {
        RawOnce {
            state: AtomicU32::new(INCOMPLETE),
            waiters: queue::new_queue(),
        }
    }

    #[cfg(loom)]
    fn new() -> RawOnce {
        RawOnce {
            state: AtomicU32::new(INCOMPLETE),
            waiters: queue::new_queue(),
        }
    }

    /// Acquire: the value written before COMPLETE is visible after a `true`.
    #[inline]
    fn is_complete(&self) -> bool {
        self.state.load(Ordering::Acquire) == COMPLETE
    }

    fn try_start(&self) -> Start {
        match self
            .state
            .compare_exchange(INCOMPLETE, RUNNING, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => Start::Started,
            Err(COMPLETE) => Start::Complete,
            Err(_) => Start::Running,
        }
    }

    /// Ends a run with `outcome` (COMPLETE or INCOMPLETE) and wakes every waiter: granted if
    /// complete, to retry otherwise.
    fn finish(&self, outcome: u32) {
        let mut q = self.waiters.lock();
        self.state.store(outcome, Ordering::Release);
        let op = if outcome == COMPLETE { GRANTED } else { RETRY };
        let woken = queue::claim_all(&mut q, op);
        drop(q);
        queue::wake_all(woken);
    }

    /// Under the queue lock: queues `node` if a run is in progress (`false` if not).
    fn enqueue(&self, node: &Arc<Node>) -> bool {
        let mut q = self.waiters.lock();
        // Relaxed: the caller looks at the state again (with acquire) before using it.
        if self.state.load(Ordering::Relaxed) != RUNNING {
            return false;
        }
        q.push_back(node.clone());
        true
    }

    /// Blocks the thread until the run in progress (if any) ends.
    fn wait_thread(&self) {
        let node = Node::thread(1, None);
        if self.enqueue(&node) {
            // Nobody aborts a waiter without a deadline: the run's end claims it.
            node.waiter.wait_until(None);
        }
    }

    /// Waits (async) until the run in progress (if any) ends.
    fn wait_async(&self) -> WaitRun<'_> {
        WaitRun {
            raw: self,
            node: None,
        }
    }
}

/// The runner's token: ends the run as failed when dropped (the initializer returned an
/// error, panicked, or its future was dropped), unless [`complete`](Self::complete) is called.
struct Run<'a> {
    raw: &'a RawOnce,
}

impl Run<'_> {
    fn complete(self) {
        let raw = self.raw;
        mem::forget(self);
        raw.finish(COMPLETE);
    }
}

impl Drop for Run<'_> {
    fn drop(&mut self) {
        self.raw.finish(INCOMPLETE);
    }
}

/// Waits (async) for the end of a run. Dropping it withdraws its waiter.
struct WaitRun<'a> {
    raw: &'a RawOnce,
    node: Option<Arc<Node>>,
}

impl Future for WaitRun<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match &this.node {
            Some(node) => match node.poll_claim(cx) {
                Poll::Ready(_) => {
                    this.node = None;
                    Poll::Ready(())
                }
                Poll::Pending => Poll::Pending,
            },
            None => {
                let node = Node::task(1, None, cx.waker());
                if !this.raw.enqueue(&node) {
                    return Poll::Ready(());
                }
                // The node carries this poll's waker: the end of the run wakes us.
                this.node = Some(node);
                Poll::Pending
            }
        }
    }
}

impl Drop for WaitRun<'_> {
    fn drop(&mut self) {
        if let Some(node) = self.node.take() {
            // Claimed already: every waiter was woken, there is no turn to pass on.
            if node.waiter.abort() == Selected::Aborted {
                let mut q = self.raw.waiters.lock();
                queue::remove(&mut q, &node);
            }
        }
    }
}

/// A cell written at most once, by the first initializer that finishes: Go's
/// `sync.OnceValue`, `std::sync::OnceLock` for threads *and* async tasks.
///
/// Concurrent callers of [`get_or_init`](Self::get_or_init) and friends wait (blocking or
/// async) while one of them runs its initializer; exactly one initializer completes, and
/// everyone gets its value. If that initializer fails (an `Err`, a panic, a dropped future)
/// the cell stays empty and the next waiter runs its own.
///
/// # Example
///
/// ```
/// use csp_sync::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::new();
///
/// let threads: Vec<_> = (0..4)
///     .map(|i| std::thread::spawn(move || CONFIG.get_or_init(|| format!("from thread {i}")).len()))
///     .collect();
/// let lens: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
/// assert!(lens.iter().all(|&n| n == lens[0])); // everyone saw the same value
/// assert!(CONFIG.get().unwrap().starts_with("from thread"));
/// ```
pub struct OnceCell<T> {
    raw: RawOnce,
    /// Initialized iff `raw` is COMPLETE.
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: sharing a cell shares `&T` (needs `T: Sync`), and any sharing thread may be the one
// that creates the value which the owner later drops or takes (needs `T: Send`), as for
// `std::sync::OnceLock`. The state itself is atomics and a lock.
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}

// A panicking initializer leaves the cell empty and consistent (see `Run`).
impl<T: RefUnwindSafe + UnwindSafe> RefUnwindSafe for OnceCell<T> {}
impl<T: UnwindSafe> UnwindSafe for OnceCell<T> {}

impl<T> OnceCell<T> {
    /// An empty cell (usable in a `static`).
    ///
    /// ```
    /// let cell: csp_sync::OnceCell<u32> = csp_sync::OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> OnceCell<T> {
        OnceCell {
            raw: RawOnce::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// An empty cell.
    #[cfg(loom)]
    pub fn new() -> OnceCell<T> {
        OnceCell {
            raw: RawOnce::new(),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// The value, if the cell has been initialized. Never blocks.
    ///
    /// ```
    /// let cell = csp_sync::OnceCell::new();
    /// assert_eq!(cell.get(), None);
    /// cell.set(5).unwrap();
    /// assert_eq!(cell.get(), Some(&5));
    /// ```
    #[inline]
    pub fn get(&self) -> Option<&T> {
        if self.raw.is_complete() {
            // SAFETY: `is_complete` saw COMPLETE with acquire.
            Some(unsafe { self.get_unchecked() })
        } else {
            None
        }
    }

    /// The value, through a unique borrow (no synchronization needed).
    ///
    /// ```
    /// let mut cell = csp_sync::OnceCell::from(1);
    /// *cell.get_mut().unwrap() += 1;
    /// assert_eq!(cell.get(), Some(&2));
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if self.raw.is_complete() {
            // SAFETY: COMPLETE means the value is initialized, and `&mut self` makes this the
            // only access.
            Some(self.value.with_mut(|p| unsafe { (*p).assume_init_mut() }))
        } else {
            None
        }
    }

    /// Stores `value` if the cell is empty; otherwise hands it back in `Err`.
    ///
    /// If another caller is running an initializer right now, this waits (blocking the
    /// thread) for it to end, like `std::sync::OnceLock::set`: when `set` returns, the cell
    /// holds a value (this one if `Ok`).
    ///
    /// # Errors
    ///
    /// `Err(value)` if the cell already held a value.
    ///
    /// ```
    /// let cell = csp_sync::OnceCell::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(2));
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn set(&self, value: T) -> Result<(), T> {
        loop {
            match self.raw.try_start() {
                Start::Complete => return Err(value),
                Start::Started => break,
                Start::Running => self.raw.wait_thread(),
            }
        }
        self.publish(Run { raw: &self.raw }, value);
        Ok(())
    }

    /// The value, initializing the cell with `f` if it is empty.
    ///
    /// Of concurrent callers, one runs its `f` and the others block until it returns. If `f`
    /// panics, the panic propagates to this caller and the cell stays empty: another caller
    /// (a waiting one, or the next to come) runs its own initializer.
    ///
    /// Calling `get_or_init` on the same cell from inside `f` deadlocks.
    ///
    /// ```
    /// let cell = csp_sync::OnceCell::new();
    /// assert_eq!(*cell.get_or_init(|| 1), 1);
    /// assert_eq!(*cell.get_or_init(|| unreachable!()), 1);
    /// ```
    #[inline]
    pub fn get_or_init(&self, f: impl FnOnce() -> T) -> &T {
        match self.get_or_try_init(|| Ok::<T, Infallible>(f())) {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// The value, initializing the cell with `f` if it is empty; an error from `f` leaves the
    /// cell empty.
    ///
    /// Concurrency and panics as in [`get_or_init`](Self::get_or_init): after a failed
    /// initializer, a waiting caller runs its own.
    ///
    /// # Errors
    ///
    /// The error of this caller's `f`, if it ran and failed.
    ///
    /// ```
    /// let cell = csp_sync::OnceCell::new();
    /// assert_eq!(cell.get_or_try_init(|| "x".parse::<u32>()).is_err(), true);
    /// assert_eq!(cell.get(), None); // still empty
    /// assert_eq!(cell.get_or_try_init(|| "7".parse::<u32>()), Ok(&7));
    /// ```
    #[inline]
    pub fn get_or_try_init<E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<&T, E> {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        self.initialize(f)
    }

    #[cold]
    fn initialize<E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<&T, E> {
        loop {
            match self.raw.try_start() {
                // SAFETY: `try_start` saw COMPLETE with acquire.
                Start::Complete => return Ok(unsafe { self.get_unchecked() }),
                Start::Started => break,
                Start::Running => self.raw.wait_thread(),
            }
        }
        // Dropped (run failed) if `f` returns an error or panics.
        let run = Run { raw: &self.raw };
        let value = f()?;
        Ok(self.publish(run, value))
    }

    /// The value, initializing the cell with the future `f()` if it is empty (any executor).
    ///
    /// Of concurrent callers (threads or tasks), one runs its initializer and the others wait
    /// for it; a thread blocked in [`get_or_init`](Self::get_or_init) and a task awaiting
    /// this can race for the same cell.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it waits for another caller's initializer has no effect.
    /// Dropping it while it runs its own initializer drops that future and leaves the cell
    /// empty; waiting callers are woken and one of them runs its own initializer.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cell = csp_sync::OnceCell::new();
    /// let v = cell.get_or_init_async(|| async { 40 + 2 }).await;
    /// assert_eq!(*v, 42);
    /// # });
    /// ```
    pub async fn get_or_init_async<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let init = move || async move { Ok::<T, Infallible>(f().await) };
        match self.get_or_try_init_async(init).await {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// The value, initializing the cell with the future `f()` if it is empty; an error leaves
    /// the cell empty.
    ///
    /// # Errors
    ///
    /// The error of this caller's initializer, if it ran and failed.
    ///
    /// # Cancel safety
    ///
    /// As [`get_or_init_async`](Self::get_or_init_async).
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let cell = csp_sync::OnceCell::<u32>::new();
    /// assert!(cell.get_or_try_init_async(|| async { Err("unreachable host") }).await.is_err());
    /// assert_eq!(cell.get_or_try_init_async(|| async { Ok::<_, &str>(1) }).await, Ok(&1));
    /// # });
    /// ```
    pub async fn get_or_try_init_async<F, Fut, E>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        loop {
            match self.raw.try_start() {
                // SAFETY: `try_start` saw COMPLETE with acquire.
                Start::Complete => return Ok(unsafe { self.get_unchecked() }),
                Start::Started => break,
                Start::Running => self.raw.wait_async().await,
            }
        }
        // Dropped (run failed) on an error, a panic, or when this future is dropped.
        let run = Run { raw: &self.raw };
        let value = f().await?;
        Ok(self.publish(run, value))
    }

    /// Takes the value out, leaving the cell empty.
    ///
    /// ```
    /// let mut cell = csp_sync::OnceCell::from("x");
    /// assert_eq!(cell.take(), Some("x"));
    /// assert_eq!(cell.get(), None);
    /// ```
    pub fn take(&mut self) -> Option<T> {
        if self.raw.is_complete() {
            // `&mut self`: nobody else can look at the state or the value.
            self.raw.state.store(INCOMPLETE, Ordering::Relaxed);
            // SAFETY: it was COMPLETE, so the value is initialized; the state now says it is
            // not, so it is read out exactly once.
            Some(self.value.with_mut(|p| unsafe { (*p).assume_init_read() }))
        } else {
            None
        }
    }

    /// Consumes the cell and returns its value, if any.
    ///
    /// ```
    /// let cell = csp_sync::OnceCell::new();
    /// cell.set(vec![1, 2]).unwrap();
    /// assert_eq!(cell.into_inner(), Some(vec![1, 2]));
    /// ```
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Writes the runner's value and completes the run.
    fn publish(&self, run: Run<'_>, value: T) -> &T {
        // SAFETY: the caller is the runner (it holds `run`): the state is RUNNING, so nobody
        // reads the value, and no one else writes it.
        self.value.with_mut(|p| unsafe {
            (*p).write(value);
        });
        run.complete();
        // SAFETY: this thread wrote the value and then stored COMPLETE (final).
        unsafe { self.get_unchecked() }
    }

    /// # Safety
    ///
    /// The state is COMPLETE, observed with acquire (or written by this thread).
    unsafe fn get_unchecked(&self) -> &T {
        // SAFETY: the value is initialized (caller), and never written again while `self`
        // is shared.
        self.value.with(|p| unsafe { (*p).assume_init_ref() })
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        let cell = OnceCell::new();
        // A new cell is empty: `set` cannot fail.
        let _ = cell.set(value);
        cell
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        match self.get() {
            Some(value) => OnceCell::from(value.clone()),
            None => OnceCell::new(),
        }
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("OnceCell");
        match self.get() {
            Some(value) => d.field(value),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}

/// Runs an initialization routine exactly once: Go's `sync.Once`, for threads and async tasks.
///
/// [`call_once`](Self::call_once) runs its function only if no call has completed yet. Of
/// concurrent callers, one runs its function and the others block (or, with
/// [`call_once_async`](Self::call_once_async), wait asynchronously) until it returns, so
/// that when any call returns, the function has completed and its effects are visible.
///
/// **Difference from Go:** if the function panics, the panic propagates to its caller and the
/// `Once` stays *uncompleted*: a waiting caller, or the next one, runs its own function. (Go
/// considers the `Once` done once `f` has been called, even if it panicked.) The same holds
/// when a [`call_once_async`](Self::call_once_async) future is dropped while running its
/// function.
///
/// # Example
///
/// ```
/// use csp_sync::Once;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// static INIT: Once = Once::new();
/// static RUNS: AtomicUsize = AtomicUsize::new(0);
///
/// let threads: Vec<_> = (0..4)
///     .map(|_| std::thread::spawn(|| INIT.call_once(|| { RUNS.fetch_add(1, Ordering::Relaxed); })))
///     .collect();
/// for t in threads {
///     t.join().unwrap();
/// }
/// assert_eq!(RUNS.load(Ordering::Relaxed), 1);
/// assert!(INIT.is_completed());
/// ```
#[derive(Default)]
pub struct Once {
    cell: OnceCell<()>,
}

impl Once {
    /// A `Once` that has not run (usable in a `static`).
    ///
    /// ```
    /// static INIT: csp_sync::Once = csp_sync::Once::new();
    /// assert!(!INIT.is_completed());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Once {
        Once {
            cell: OnceCell::new(),
        }
    }

    /// A `Once` that has not run.
    #[cfg(loom)]
    pub fn new() -> Once {
        Once {
            cell: OnceCell::new(),
        }
    }

    /// Runs `f` if no call has completed yet; blocks while another caller's function runs.
    ///
    /// # Panics
    ///
    /// Re-raises a panic of `f`; the `Once` then stays uncompleted (see the
    /// [type docs](Self)). Calling `call_once` on the same `Once` from inside `f` deadlocks.
    ///
    /// ```
    /// let once = csp_sync::Once::new();
    /// let mut runs = 0;
    /// once.call_once(|| runs += 1);
    /// once.call_once(|| runs += 1);
    /// assert_eq!(runs, 1);
    /// ```
    #[inline]
    pub fn call_once(&self, f: impl FnOnce()) {
        self.cell.get_or_init(f);
    }

    /// Runs the future `f()` if no call has completed yet; waits (asynchronously) while
    /// another caller's function runs. Threads in [`call_once`](Self::call_once) and tasks
    /// here may race for the same `Once`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it waits for another caller has no effect. Dropping it while
    /// it runs its own function drops that function's future and leaves the `Once`
    /// uncompleted; a waiting caller then runs its own.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let once = csp_sync::Once::new();
    /// once.call_once_async(|| async { println!("connected") }).await;
    /// assert!(once.is_completed());
    /// # });
    /// ```
    pub async fn call_once_async<F, Fut>(&self, f: F)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ()>,
    {
        self.cell.get_or_init_async(f).await;
    }

    /// Whether a call has completed (its function returned).
    ///
    /// ```
    /// let once = csp_sync::Once::new();
    /// assert!(!once.is_completed());
    /// once.call_once(|| {});
    /// assert!(once.is_completed());
    /// ```
    #[inline]
    pub fn is_completed(&self) -> bool {
        self.cell.raw.is_complete()
    }
}

impl fmt::Debug for Once {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Once")
            .field("completed", &self.is_completed())
            .finish()
    }
}
