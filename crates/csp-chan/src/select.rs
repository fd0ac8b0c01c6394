//! `Select`: waiting on several channel operations at once (Go's `selectgo`), for threads and
//! tasks. The `select!` and `select_async!` macros (in `macros.rs`) are built on it.
//!
//! # Algorithm
//!
//! 1. **Lock** every channel involved, in address order (each once, however many arms use
//!    it), so two selects over the same channels cannot deadlock and every arm sees one
//!    consistent moment.
//! 2. **Poll** the arms in a random order (Go's `pollorder`). The first arm whose operation can
//!    complete now completes, under the locks: when several are ready, each is chosen with
//!    equal probability.
//! 3. Otherwise **enqueue** one entry per arm, all sharing one [`Waiter`], unlock, and wait.
//!    A counterpart that completes an entry claims the shared waiter with that arm's index:
//!    the claim is the only decision, so one arm wins, the others' entries are dead from then
//!    on and every channel skips them (invariants in `chan.rs`).
//! 4. **Withdraw**: lock all channels again and remove every entry. The chosen arm's entry
//!    tells the outcome; a claim that exchanged nothing (a close, or a notification to an
//!    async or deferred arm) means "poll again".
//!
//! Send arms of `select!` carry their value: it moves into the channel only if the arm is
//! chosen and is otherwise given back to the arm (and dropped with the `Select`). Send arms of
//! the builder ([`Select::send`]) carry no value: the arm is chosen when the channel can take
//! one, and [`SelectedOperation::send`] sends it.

use crate::chan::{Chan, Entry, WaiterRef, Wake, wake};
use crate::error::{RecvError, SendError, TryRecvError, TrySendError};
use crate::handles::{Receiver, Sender};
use csp_park::sync::Arc;
use csp_park::{Selected, Waiter};
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ArmKind {
    Recv,
    Send,
    DeferredSend,
}

/// One arm, with its channel's element type erased. Methods named `*_locked` require the
/// arm's channel to be locked by this thread (through `Chan::raw_lock`).
trait Arm {
    fn kind(&self) -> ArmKind;
    fn addr(&self) -> usize;
    fn lock(&self);
    /// # Safety
    /// This thread holds the arm's channel lock.
    unsafe fn unlock(&self);
    /// Completes the operation now if it can; `true` if the arm is ready (outcome stored).
    ///
    /// # Safety
    /// The channel is locked.
    unsafe fn poll_locked(&mut self, will_wait: bool) -> bool;
    /// # Safety
    /// The channel is locked.
    unsafe fn register_locked(&mut self, waiter: &Arc<Waiter>, op: usize);
    /// Removes the entry; `chosen`: this arm's op claimed the waiter (read the outcome).
    ///
    /// # Safety
    /// The channel is locked, and the waiter is claimed (or aborted).
    unsafe fn unregister_locked(&mut self, chosen: bool);
    /// After `unregister_locked(true)`: whether the outcome is final (else poll again).
    fn finish_claimed(&mut self) -> bool;
    /// Wakes the counterpart this arm claimed while polling, if any (after unlocking).
    fn wake_counterpart(&mut self);
    /// A claim this arm received will never be acted on (an async select was dropped): let
    /// the next waiter have it.
    fn pass_on(&mut self);
}

/// The `Arm` methods that only forward to the arm's channel (every arm has a `chan` field).
macro_rules! arm_channel_methods {
    () => {
        fn addr(&self) -> usize {
            self.chan.addr()
        }
        fn lock(&self) {
            self.chan.raw_lock()
        }
        unsafe fn unlock(&self) {
            // SAFETY: the caller holds the lock.
            unsafe { self.chan.raw_unlock() }
        }
    };
}

struct RecvArm<'a, T> {
    chan: &'a Chan<T>,
    entry: Option<Arc<Entry<T>>>,
    wake: Wake<T>,
    result: Option<Result<T, RecvError>>,
}

struct SendArm<'a, T> {
    chan: &'a Chan<T>,
    value: Option<T>,
    entry: Option<Arc<Entry<T>>>,
    wake: Wake<T>,
    result: Option<Result<(), SendError<T>>>,
}

struct DeferredSendArm<'a, T> {
    chan: &'a Chan<T>,
    entry: Option<Arc<Entry<T>>>,
    wake: Wake<T>,
}

impl<T> Arm for RecvArm<'_, T> {
    fn kind(&self) -> ArmKind {
        ArmKind::Recv
    }
    arm_channel_methods!();
    unsafe fn poll_locked(&mut self, will_wait: bool) -> bool {
        // SAFETY: locked (caller); the reference ends with this call.
        let st = unsafe { self.chan.state_locked() };
        let (r, w) = self.chan.recv_locked(st, will_wait);
        if w.is_some() {
            self.wake = w;
        }
        match r {
            Ok(v) => self.result = Some(Ok(v)),
            Err(TryRecvError::Closed) => self.result = Some(Err(RecvError)),
            Err(TryRecvError::Empty) => return false,
        }
        true
    }
    unsafe fn register_locked(&mut self, waiter: &Arc<Waiter>, op: usize) {
        let e = Entry::new(WaiterRef::Shared(waiter.clone()), op, None);
        // SAFETY: locked (caller).
        unsafe { self.chan.state_locked() }.recvq.push(e.clone());
        self.entry = Some(e);
    }
    unsafe fn unregister_locked(&mut self, chosen: bool) {
        if let Some(e) = self.entry.take() {
            // SAFETY: locked (caller).
            unsafe { self.chan.state_locked() }.recvq.remove(&e);
            if chosen {
                // SAFETY: claimed (observed by the caller) and out of the queue.
                self.result = unsafe { e.take() }.map(Ok);
            }
        }
    }
    fn finish_claimed(&mut self) -> bool {
        self.result.is_some()
    }
    fn wake_counterpart(&mut self) {
        wake(self.wake.take());
    }
    fn pass_on(&mut self) {
        self.chan.pass_on_notification();
    }
}

impl<T> Arm for SendArm<'_, T> {
    fn kind(&self) -> ArmKind {
        ArmKind::Send
    }
    arm_channel_methods!();
    unsafe fn poll_locked(&mut self, will_wait: bool) -> bool {
        let Some(v) = self.value.take() else {
            return false;
        };
        // SAFETY: locked (caller); the reference ends with this call.
        let st = unsafe { self.chan.state_locked() };
        let (r, w) = self.chan.send_locked(st, v, will_wait);
        if w.is_some() {
            self.wake = w;
        }
        match r {
            Ok(()) => self.result = Some(Ok(())),
            Err(TrySendError::Closed(v)) => self.result = Some(Err(SendError(v))),
            Err(TrySendError::Full(v)) => {
                self.value = Some(v);
                return false;
            }
        }
        true
    }
    unsafe fn register_locked(&mut self, waiter: &Arc<Waiter>, op: usize) {
        let e = Entry::new(WaiterRef::Shared(waiter.clone()), op, self.value.take());
        // SAFETY: locked (caller).
        unsafe { self.chan.state_locked() }.sendq.push(e.clone());
        self.entry = Some(e);
    }
    unsafe fn unregister_locked(&mut self, _chosen: bool) {
        if let Some(e) = self.entry.take() {
            // SAFETY: locked (caller).
            unsafe { self.chan.state_locked() }.sendq.remove(&e);
            // SAFETY: claimed or aborted (observed by the caller), and out of the queue: the
            // value is back unless a receiver took it.
            self.value = unsafe { e.take() };
        }
    }
    fn finish_claimed(&mut self) -> bool {
        if self.value.is_none() {
            self.result = Some(Ok(()));
            true
        } else {
            false // closed while waiting: poll again to report it
        }
    }
    fn wake_counterpart(&mut self) {
        wake(self.wake.take());
    }
    fn pass_on(&mut self) {}
}

impl<T> Arm for DeferredSendArm<'_, T> {
    fn kind(&self) -> ArmKind {
        ArmKind::DeferredSend
    }
    arm_channel_methods!();
    unsafe fn poll_locked(&mut self, _will_wait: bool) -> bool {
        // SAFETY: locked (caller).
        self.chan
            .send_ready_locked(unsafe { self.chan.state_locked() })
    }
    unsafe fn register_locked(&mut self, waiter: &Arc<Waiter>, op: usize) {
        let e = Entry::deferred(WaiterRef::Shared(waiter.clone()), op);
        // SAFETY: locked (caller).
        let st = unsafe { self.chan.state_locked() };
        st.sendq.push(e.clone());
        self.wake = self.chan.invite_async_receiver_locked(st);
        self.entry = Some(e);
    }
    unsafe fn unregister_locked(&mut self, _chosen: bool) {
        if let Some(e) = self.entry.take() {
            // SAFETY: locked (caller).
            unsafe { self.chan.state_locked() }.sendq.remove(&e);
        }
    }
    fn finish_claimed(&mut self) -> bool {
        true // told that the channel can take a value (or is closed)
    }
    fn wake_counterpart(&mut self) {
        wake(self.wake.take());
    }
    fn pass_on(&mut self) {
        self.chan.pass_on_send_notification();
    }
}

#[cfg(not(loom))]
use csp_park::timer::{Sleep, sleep_until};

/// Under loom there is no timer thread: a deadline is only noticed when polled (loom models
/// do not use async select timeouts).
#[cfg(loom)]
struct Sleep(Instant);

#[cfg(loom)]
fn sleep_until(deadline: Instant) -> Sleep {
    Sleep(deadline)
}

#[cfg(loom)]
impl Sleep {
    fn deadline(&self) -> Instant {
        self.0
    }
}

#[cfg(loom)]
impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(not(loom))]
thread_local! {
    static RNG: Cell<u64> = Cell::new({
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(&h as *const _ as usize);
        h.finish() | 1
    });
}

// Loom replays every execution on one OS thread: the poll order (and so the lock order of
// `try_each`) must be the same on every replay, so each model thread starts from a fixed seed.
#[cfg(loom)]
loom::thread_local! {
    static RNG: Cell<u64> = Cell::new(0x9E37_79B9_7F4A_7C15);
}

/// A uniformly random number below `n` (xorshift64*, per thread).
fn random_below(n: usize) -> usize {
    RNG.with(|c| {
        let mut x = c.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        c.set(x);
        ((x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as usize * n) >> 32
    })
}

/// How long a select may wait.
#[derive(Clone, Copy)]
enum Wait {
    /// Not at all (`try_select`, `select!` with `default`).
    Never,
    /// Until the deadline (`None`: forever).
    Until(Option<Instant>),
}

/// The dynamic select: a list of receive and send operations, of which exactly one is
/// completed. Go's `reflect.Select`, crossbeam's `Select`.
///
/// Add arms with [`recv`](Self::recv) and [`send`](Self::send) (each returns the arm's index),
/// then wait with [`select`](Self::select), [`try_select`](Self::try_select),
/// [`select_timeout`](Self::select_timeout), [`select_deadline`](Self::select_deadline) or
/// [`select_async`](Self::select_async). The result names the chosen arm; complete it with
/// [`SelectedOperation::recv`] or [`SelectedOperation::send`]. The number of arms is not
/// limited, and a channel may appear in several arms. A `Select` can be used again. Element
/// types must be `Send` (so that `select_async` futures are `Send`).
///
/// ```
/// use csp_chan::{Select, bounded};
///
/// let (tx1, rx1) = bounded::<i32>(1);
/// let (tx2, rx2) = bounded::<&str>(1);
/// tx2.send("two").unwrap();
///
/// let mut sel = Select::new();
/// let a = sel.recv(&rx1);
/// let b = sel.recv(&rx2);
/// let c = sel.send(&tx1);
/// let op = sel.select();
/// match op.index() {
///     i if i == a => println!("rx1: {:?}", op.recv(&rx1)),
///     i if i == b => assert_eq!(op.recv(&rx2), Ok("two")),
///     i if i == c => op.send(&tx1, 1).unwrap(),
///     _ => unreachable!(),
/// }
/// ```
pub struct Select<'a> {
    arms: Vec<Box<dyn Arm + Send + 'a>>,
    /// Indices of arms whose channels to lock, one per channel, in address order.
    lock_order: Vec<usize>,
    order_valid: bool,
    /// Scratch: the random poll order.
    order: Vec<usize>,
}

impl Default for Select<'_> {
    fn default() -> Self {
        Select::new()
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("arms", &self.arms.len())
            .finish()
    }
}

/// [`Select::try_select`] found no arm ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrySelectError;

impl fmt::Display for TrySelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no select arm was ready")
    }
}

impl std::error::Error for TrySelectError {}

/// [`Select::select_timeout`] / [`Select::select_deadline`] ran out of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelectTimeoutError;

impl fmt::Display for SelectTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out waiting on select")
    }
}

impl std::error::Error for SelectTimeoutError {}

impl<'a> Select<'a> {
    /// An empty select.
    pub fn new() -> Self {
        Select {
            arms: Vec::new(),
            lock_order: Vec::new(),
            order_valid: true,
            order: Vec::new(),
        }
    }

    fn push(&mut self, arm: Box<dyn Arm + Send + 'a>) -> usize {
        self.arms.push(arm);
        self.order_valid = false;
        self.arms.len() - 1
    }

    /// Adds a receive arm; returns its index. It is ready when a value can be received, or
    /// when the channel is closed and drained (the receive then yields `Err(RecvError)`).
    pub fn recv<T: Send>(&mut self, r: &'a Receiver<T>) -> usize {
        self.push(Box::new(RecvArm {
            chan: &r.chan,
            entry: None,
            wake: None,
            result: None,
        }))
    }

    /// Adds a send arm; returns its index. It is ready when the channel can take a value now
    /// (buffer room or a receiver thread waiting), or is closed; a waiting async receiver is
    /// invited to come and take it once the select waits; the value is given to
    /// [`SelectedOperation::send`] once the arm is chosen, so an arm that is not chosen never
    /// takes a value at all.
    pub fn send<T: Send>(&mut self, s: &'a Sender<T>) -> usize {
        self.push(Box::new(DeferredSendArm {
            chan: &s.chan,
            entry: None,
            wake: None,
        }))
    }

    /// Adds a send arm that carries its value (what `select!` uses): the value moves into
    /// the channel only if this arm is chosen. Complete it with
    /// [`SelectedOperation::send_result`]; the value of an arm that was not chosen can be
    /// taken back with [`Select::take_unsent`].
    #[doc(hidden)]
    pub fn send_value<T: Send>(&mut self, s: &'a Sender<T>, value: T) -> usize {
        self.push(Box::new(SendArm {
            chan: &s.chan,
            value: Some(value),
            entry: None,
            wake: None,
            result: None,
        }))
    }

    /// The value of a [`send_value`](Self::send_value) arm that was not chosen.
    ///
    /// # Panics
    ///
    /// Panics if `index` is not a `send_value` arm on `s`'s channel.
    #[doc(hidden)]
    pub fn take_unsent<T: 'a>(&mut self, index: usize, s: &Sender<T>) -> Option<T> {
        let arm = self.arm_mut::<SendArm<'a, T>>(index, ArmKind::Send, s.chan.addr());
        arm.value.take()
    }

    /// The arm at `index`, as its concrete type.
    fn arm_mut<A>(&mut self, index: usize, kind: ArmKind, addr: usize) -> &mut A {
        let arm = &mut self.arms[index];
        assert!(
            arm.kind() == kind && arm.addr() == addr,
            "select arm {index} is not a {kind:?} arm on this channel"
        );
        // SAFETY: the arm was created by the method for `kind` on a channel at `addr`. A live
        // channel's address identifies it, hence its element type: `A` is the arm's type.
        unsafe { &mut *(&mut **arm as *mut (dyn Arm + Send) as *mut A) }
    }

    fn prepare(&mut self) {
        if self.order_valid {
            return;
        }
        let mut order: Vec<usize> = (0..self.arms.len()).collect();
        order.sort_by_key(|&i| self.arms[i].addr());
        order.dedup_by_key(|i| self.arms[*i].addr());
        self.lock_order = order;
        self.order_valid = true;
    }

    fn lock_all(&self) {
        for &i in &self.lock_order {
            self.arms[i].lock();
        }
    }

    /// # Safety
    /// This thread holds every lock, taken by `lock_all`.
    unsafe fn unlock_all(&mut self) {
        for &i in self.lock_order.iter().rev() {
            // SAFETY: locked by `lock_all` (caller).
            unsafe { self.arms[i].unlock() };
        }
        for arm in &mut self.arms {
            arm.wake_counterpart();
        }
    }

    /// Locks everything and polls in a random order; `Some(i)` if arm `i` completed.
    /// Leaves the channels locked.
    fn poll_all(&mut self, will_wait: bool) -> Option<usize> {
        self.prepare();
        self.shuffle();
        self.lock_all();
        let order = std::mem::take(&mut self.order);
        // SAFETY: every channel is locked.
        let ready = order
            .iter()
            .copied()
            .find(|&i| unsafe { self.arms[i].poll_locked(will_wait) });
        self.order = order;
        ready
    }

    /// A random permutation of the arms in `self.order` (Go's pollorder).
    fn shuffle(&mut self) {
        let n = self.arms.len();
        self.order.clear();
        self.order.extend(0..n);
        for i in (1..n).rev() {
            self.order.swap(i, random_below(i + 1));
        }
    }

    /// The fast path when some arm is ready: try each arm alone, in a random order, locking
    /// only its own channel. Nothing of ours is enqueued yet, so no one can claim us and the
    /// arms need not be checked at one common instant; the locked pass in `poll_all` is only
    /// needed before enqueueing (so no wake-up is missed between the check and the enqueue).
    fn try_each(&mut self) -> Option<usize> {
        self.shuffle();
        let order = std::mem::take(&mut self.order);
        let mut ready = None;
        for &i in &order {
            let arm = &mut self.arms[i];
            arm.lock();
            // SAFETY: locked just above, unlocked just below.
            let done = unsafe { arm.poll_locked(false) };
            // SAFETY: locked above.
            unsafe { arm.unlock() };
            arm.wake_counterpart();
            if done {
                ready = Some(i);
                break;
            }
        }
        self.order = order;
        ready
    }

    /// Locks everything and withdraws every entry; returns whether the chosen arm is final.
    fn withdraw_all(&mut self, sel: Selected) -> bool {
        self.lock_all();
        let chosen = match sel {
            Selected::Operation(i) => Some(i),
            Selected::Aborted => None,
        };
        for (i, arm) in self.arms.iter_mut().enumerate() {
            // SAFETY: every channel is locked; the waiter is claimed or aborted.
            unsafe { arm.unregister_locked(chosen == Some(i)) };
        }
        let fin = chosen.is_some_and(|i| self.arms[i].finish_claimed());
        // SAFETY: locked above.
        unsafe { self.unlock_all() };
        fin
    }

    fn run(&mut self, wait: Wait) -> Option<usize> {
        loop {
            let will_wait = match wait {
                Wait::Never => false,
                Wait::Until(d) => d.is_none_or(|d| Instant::now() < d),
            };
            if let Some(i) = self.try_each() {
                return Some(i);
            }
            if !will_wait {
                return None;
            }
            let ready = self.poll_all(will_wait);
            if ready.is_some() || !will_wait {
                // SAFETY: `poll_all` left every channel locked.
                unsafe { self.unlock_all() };
                return ready;
            }
            let deadline = match wait {
                Wait::Until(d) => d,
                Wait::Never => unreachable!("handled above"),
            };
            let waiter = Arc::new(Waiter::thread());
            for (i, arm) in self.arms.iter_mut().enumerate() {
                // SAFETY: every channel is locked (by `poll_all`).
                unsafe { arm.register_locked(&waiter, i) };
            }
            // SAFETY: `poll_all` left every channel locked.
            unsafe { self.unlock_all() };
            let sel = waiter.wait_until(deadline);
            let fin = self.withdraw_all(sel);
            match sel {
                Selected::Aborted => return None,
                Selected::Operation(i) if fin => return Some(i),
                Selected::Operation(_) => {} // closed or notified: poll again
            }
        }
    }

    /// Blocks until one arm completes and returns it. With no arms, blocks forever (Go's
    /// `select {}`).
    ///
    /// ```
    /// use csp_chan::{Select, bounded};
    ///
    /// let (tx, rx) = bounded(0);
    /// std::thread::spawn(move || tx.send(5).unwrap());
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// let op = sel.select();
    /// assert_eq!(op.recv(&rx), Ok(5));
    /// ```
    pub fn select(&mut self) -> SelectedOperation<'_, 'a> {
        let index = self
            .run(Wait::Until(None))
            .expect("an untimed select returns an arm");
        SelectedOperation { sel: self, index }
    }

    /// Completes an arm that is ready now, if any.
    ///
    /// # Errors
    ///
    /// [`TrySelectError`] if no arm is ready.
    ///
    /// ```
    /// use csp_chan::{Select, bounded};
    ///
    /// let (tx, rx) = bounded::<i32>(1);
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.try_select().is_err());
    /// tx.send(1).unwrap();
    /// assert_eq!(sel.try_select().unwrap().recv(&rx), Ok(1));
    /// ```
    pub fn try_select(&mut self) -> Result<SelectedOperation<'_, 'a>, TrySelectError> {
        match self.run(Wait::Never) {
            Some(index) => Ok(SelectedOperation { sel: self, index }),
            None => Err(TrySelectError),
        }
    }

    /// Blocks until an arm completes or `timeout` passes.
    ///
    /// # Errors
    ///
    /// [`SelectTimeoutError`] when the time is up.
    ///
    /// ```
    /// use csp_chan::{Select, bounded};
    /// use std::time::Duration;
    ///
    /// let (_tx, rx) = bounded::<i32>(0);
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.select_timeout(Duration::from_millis(5)).is_err());
    /// ```
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'_, 'a>, SelectTimeoutError> {
        self.select_until(Instant::now().checked_add(timeout))
    }

    /// Blocks until an arm completes or `deadline` passes.
    ///
    /// # Errors
    ///
    /// [`SelectTimeoutError`] when the time is up.
    ///
    /// ```
    /// use csp_chan::{Select, bounded};
    /// use std::time::{Duration, Instant};
    ///
    /// let (tx, _rx) = bounded::<i32>(0);
    /// let mut sel = Select::new();
    /// sel.send(&tx);
    /// let deadline = Instant::now() + Duration::from_millis(5);
    /// assert!(sel.select_deadline(deadline).is_err());
    /// ```
    pub fn select_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<SelectedOperation<'_, 'a>, SelectTimeoutError> {
        self.select_until(Some(deadline))
    }

    fn select_until(
        &mut self,
        deadline: Option<Instant>,
    ) -> Result<SelectedOperation<'_, 'a>, SelectTimeoutError> {
        match self.run(Wait::Until(deadline)) {
            Some(index) => Ok(SelectedOperation { sel: self, index }),
            None => Err(SelectTimeoutError),
        }
    }

    /// Waits from async code, under any executor: a future of the chosen arm.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes leaves every channel as if it never ran: its
    /// entries are withdrawn, a value-carrying send arm keeps its value, and a notification
    /// it received is passed on to the next waiter.
    ///
    /// ```
    /// use csp_chan::{Select, bounded};
    ///
    /// let (tx, rx) = bounded(0);
    /// std::thread::spawn(move || tx.send("hi").unwrap());
    /// futures::executor::block_on(async {
    ///     let mut sel = Select::new();
    ///     sel.recv(&rx);
    ///     let op = sel.select_async().await;
    ///     assert_eq!(op.recv(&rx), Ok("hi"));
    /// });
    /// ```
    pub fn select_async(&mut self) -> SelectFut<'_, 'a> {
        SelectFut {
            inner: SelectTimeoutFut {
                sel: Some(self),
                waiter: None,
                sleep: None,
            },
        }
    }

    /// As [`select_async`](Self::select_async), giving up after `timeout` (the future then
    /// yields `Err(SelectTimeoutError)`); the timeout runs on csp-park's timer, so it works
    /// under any executor. Used by `select_async!` with `default(timeout)`.
    #[doc(hidden)]
    pub fn select_timeout_async(&mut self, timeout: Duration) -> SelectTimeoutFut<'_, 'a> {
        let deadline = Instant::now().checked_add(timeout);
        SelectTimeoutFut {
            sel: Some(self),
            waiter: None,
            sleep: deadline.map(sleep_until),
        }
    }
}

/// The arm a select chose; complete it with [`recv`](Self::recv) or [`send`](Self::send).
///
/// A receive arm has already received (the value waits here); a send arm of
/// [`Select::send`] sends when [`send`](Self::send) is called. Dropping a
/// `SelectedOperation` of a receive arm drops the received value.
pub struct SelectedOperation<'s, 'a> {
    sel: &'s mut Select<'a>,
    index: usize,
}

impl fmt::Debug for SelectedOperation<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectedOperation")
            .field("index", &self.index)
            .finish()
    }
}

impl SelectedOperation<'_, '_> {
    /// The index of the chosen arm (as returned by `Select::recv` / `Select::send`).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The result of the chosen receive arm: the value, or `Err` if the channel was closed
    /// and drained.
    ///
    /// # Errors
    ///
    /// [`RecvError`] when the channel is closed and drained.
    ///
    /// # Panics
    ///
    /// Panics if the chosen arm is not a receive arm on `r`'s channel.
    pub fn recv<T>(self, r: &Receiver<T>) -> Result<T, RecvError> {
        let arm = self
            .sel
            .arm_mut::<RecvArm<'_, T>>(self.index, ArmKind::Recv, r.chan.addr());
        arm.result
            .take()
            .expect("a chosen receive arm has a result")
    }

    /// Sends `value` on the chosen send arm's channel. The channel was ready when the arm was
    /// chosen, so this normally completes at once; if another sender took the room (or the
    /// waiting receiver) in between, it waits like [`Sender::send`].
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the channel is closed.
    ///
    /// # Panics
    ///
    /// Panics if the chosen arm is not a [`Select::send`] arm on `s`'s channel.
    pub fn send<T>(self, s: &Sender<T>, value: T) -> Result<(), SendError<T>> {
        let _ = self.sel.arm_mut::<DeferredSendArm<'_, T>>(
            self.index,
            ArmKind::DeferredSend,
            s.chan.addr(),
        );
        s.send(value)
    }

    /// The result of a chosen value-carrying send arm (`select!`'s `send(tx, v)`).
    ///
    /// # Panics
    ///
    /// Panics if the chosen arm is not a value-carrying send arm on `s`'s channel.
    #[doc(hidden)]
    pub fn send_result<T>(self, s: &Sender<T>) -> Result<(), SendError<T>> {
        let arm = self
            .sel
            .arm_mut::<SendArm<'_, T>>(self.index, ArmKind::Send, s.chan.addr());
        arm.result.take().expect("a chosen send arm has a result")
    }
}

/// The future of [`Select::select_async`].
///
/// # Cancel safety
///
/// Dropping it leaves every channel as if it never ran (see [`Select::select_async`]).
#[must_use = "futures do nothing unless polled"]
pub struct SelectFut<'s, 'a> {
    inner: SelectTimeoutFut<'s, 'a>,
}

impl fmt::Debug for SelectFut<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SelectFut { .. }")
    }
}

impl<'s, 'a> Future for SelectFut<'s, 'a> {
    type Output = SelectedOperation<'s, 'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.get_mut().inner)
            .poll(cx)
            .map(|r| r.expect("an untimed select returns an arm"))
    }
}

/// The future of `Select::select_timeout_async` (what `select_async!` uses with
/// `default(timeout)`).
#[doc(hidden)]
#[must_use = "futures do nothing unless polled"]
pub struct SelectTimeoutFut<'s, 'a> {
    sel: Option<&'s mut Select<'a>>,
    waiter: Option<Arc<Waiter>>,
    sleep: Option<Sleep>,
}

impl fmt::Debug for SelectTimeoutFut<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SelectTimeoutFut { .. }")
    }
}

impl<'s, 'a> SelectTimeoutFut<'s, 'a> {
    fn ready(&mut self, index: usize) -> SelectedOperation<'s, 'a> {
        SelectedOperation {
            sel: self.sel.take().expect("polled after completion"),
            index,
        }
    }
}

impl<'s, 'a> Future for SelectTimeoutFut<'s, 'a> {
    type Output = Result<SelectedOperation<'s, 'a>, SelectTimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(w) = this.waiter.clone() {
            let mut claimed = w.selected();
            if claimed.is_none() {
                let timed_out = this
                    .sleep
                    .as_mut()
                    .is_some_and(|s| Pin::new(s).poll(cx).is_ready());
                if !timed_out {
                    w.register(cx.waker());
                    claimed = w.selected();
                    if claimed.is_none() {
                        return Poll::Pending;
                    }
                } else {
                    claimed = Some(w.abort());
                }
            }
            let sel = claimed.expect("claimed or aborted");
            this.waiter = None;
            let s = this.sel.as_mut().expect("polled after completion");
            let fin = s.withdraw_all(sel);
            match sel {
                Selected::Aborted => {
                    this.sel = None;
                    return Poll::Ready(Err(SelectTimeoutError));
                }
                Selected::Operation(i) if fin => return Poll::Ready(Ok(this.ready(i))),
                Selected::Operation(_) => {} // closed or notified: poll again
            }
        }
        let s = this.sel.as_mut().expect("polled after completion");
        let expired = this
            .sleep
            .as_ref()
            .is_some_and(|sl| Instant::now() >= sl.deadline());
        let ready = s.poll_all(!expired);
        if ready.is_some() || expired {
            // SAFETY: `poll_all` left every channel locked.
            unsafe { s.unlock_all() };
            return Poll::Ready(match ready {
                Some(i) => Ok(this.ready(i)),
                None => {
                    this.sel = None;
                    Err(SelectTimeoutError)
                }
            });
        }
        let waiter = Arc::new(Waiter::task(cx.waker()));
        for (i, arm) in s.arms.iter_mut().enumerate() {
            // SAFETY: every channel is locked (by `poll_all`).
            unsafe { arm.register_locked(&waiter, i) };
        }
        // SAFETY: `poll_all` left every channel locked.
        unsafe { s.unlock_all() };
        this.waiter = Some(waiter);
        if let Some(sl) = this.sleep.as_mut() {
            // Registers the timer with this task's waker. If the deadline passed since the
            // `expired` check above, no timer is scheduled (the sleep is simply ready), so
            // nothing would wake this task: wake it now, and the next poll takes the timeout
            // path (it aborts the waiter, or finds the arm that won meanwhile).
            if Pin::new(sl).poll(cx).is_ready() {
                cx.waker().wake_by_ref();
            }
        }
        Poll::Pending
    }
}

impl Drop for SelectTimeoutFut<'_, '_> {
    fn drop(&mut self) {
        let (Some(w), Some(s)) = (self.waiter.take(), self.sel.as_mut()) else {
            return;
        };
        let sel = w.abort();
        s.withdraw_all(sel);
        if let Selected::Operation(i) = sel {
            // A notification nobody will act on: pass it on. (A send arm whose value was
            // taken was delivered; nothing to undo.)
            s.arms[i].pass_on();
        }
    }
}
