//! The channel state (Go's `hchan`) and every operation on it.
//!
//! # Invariants (all under `Chan::state`'s lock)
//!
//! 1. `buf.len() <= cap` (bounded); an unbuffered channel's `buf` is always empty.
//! 2. Every entry *in* `sendq` holds its value in its slot. An entry leaves a queue only under
//!    the lock: popped by a counterpart (who then claims it or finds it dead), by `close`, or
//!    removed by its owner after aborting.
//! 3. A counterpart exchanges data with an entry *before* its claiming CAS and undoes the
//!    exchange if the CAS fails, all without releasing the lock; the owner reads its slot only
//!    after observing the claim. So a slot is touched by one party at a time.
//! 4. Outcome of a claimed entry, read by its owner from the slot: a send entry whose slot is
//!    empty was delivered; a receive entry whose slot is full received. Anything else (closed,
//!    or a receiver merely notified that a value is available) means *retry the operation*,
//!    which then sees the new state of the channel.
//! 5. Receive entries of async tasks never get a value put in their slot (`handoff == false`):
//!    they are only notified and come to take the value themselves. A dropped future can then
//!    never take a value with it; it passes its notification on instead (see
//!    `RecvWait::cancel`). Threads cannot be cancelled, so they get the value handed over
//!    directly, as in Go.
//! 6. When `closed` is set, both queues are empty and stay empty.
//!
//! Go's own invariants follow from these: a live receiver waits only while `buf` is empty
//! (so "a non-empty buffer means no waiting receiver"), and a sender waits only while `buf` is
//! full. The two queues can both hold entries only in two harmless cases: dead entries that
//! their owners have not removed yet, and async receivers left behind while a notified one is
//! on its way.

use crate::error::{RecvTimeoutError, SendTimeoutError, TryRecvError, TrySendError};
use csp_park::lock::{Lock, LockGuard};
use csp_park::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use csp_park::sync::{Arc, UnsafeCell};
use csp_park::{Selected, Waiter};
use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::Instant;

/// The waiter of an entry: its own (one allocation per blocked operation), or shared by the
/// entries of one `select`, one per arm.
pub(crate) enum WaiterRef {
    Own(Waiter),
    Shared(Arc<Waiter>),
}

impl WaiterRef {
    #[inline]
    fn get(&self) -> &Waiter {
        match self {
            WaiterRef::Own(w) => w,
            WaiterRef::Shared(w) => w,
        }
    }
}

/// One blocked operation's place in a wait queue.
pub(crate) struct Entry<T> {
    waiter: WaiterRef,
    /// The index this entry claims its waiter with (the arm of a select; 0 otherwise).
    pub(crate) op: usize,
    /// Send entries: the value on offer. Receive entries: where a handed-over value lands.
    slot: UnsafeCell<Option<T>>,
    /// Whether a counterpart may put a value into this receive entry's slot.
    handoff: bool,
    /// A send entry without a value yet (a `Select::send` arm, whose value comes with
    /// `SelectedOperation::send`): receivers only notify it.
    deferred: bool,
}

// SAFETY: the slot is only accessed under the protocol of invariant 3: by one party at a time,
// with the claim's Release/Acquire ordering between them. Moving `T` between threads needs
// `T: Send`; nothing hands out `&T`, so `Sync` needs nothing more.
unsafe impl<T: Send> Send for Entry<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Entry<T> {}

impl<T> Entry<T> {
    pub(crate) fn new(waiter: WaiterRef, op: usize, value: Option<T>) -> Arc<Self> {
        let handoff = !waiter.get().is_task();
        Arc::new(Entry {
            waiter,
            op,
            slot: UnsafeCell::new(value),
            handoff,
            deferred: false,
        })
    }

    /// A send entry whose value will come later: counterparts notify it instead of taking a
    /// value (a `Select::send` arm).
    pub(crate) fn deferred(waiter: WaiterRef, op: usize) -> Arc<Self> {
        Arc::new(Entry {
            waiter,
            op,
            slot: UnsafeCell::new(None),
            handoff: false,
            deferred: true,
        })
    }

    #[inline]
    pub(crate) fn waiter(&self) -> &Waiter {
        self.waiter.get()
    }

    /// Takes the slot's value.
    ///
    /// # Safety
    ///
    /// The caller has exclusive access to the slot (invariant 3): it holds the channel lock and
    /// popped this entry from a queue, or it is the owner and the entry is claimed or out of
    /// every queue.
    pub(crate) unsafe fn take(&self) -> Option<T> {
        // SAFETY: exclusive access is the caller's contract.
        self.slot.with_mut(|p| unsafe { (*p).take() })
    }

    /// Puts a value into the slot.
    ///
    /// # Safety
    ///
    /// As for [`take`](Self::take).
    unsafe fn put(&self, v: T) {
        // SAFETY: exclusive access is the caller's contract.
        self.slot.with_mut(|p| unsafe { *p = Some(v) })
    }
}

/// A FIFO of blocked operations.
pub(crate) struct WaitQueue<T> {
    entries: VecDeque<Arc<Entry<T>>>,
}

impl<T> WaitQueue<T> {
    fn new() -> Self {
        WaitQueue {
            entries: VecDeque::new(),
        }
    }

    pub(crate) fn push(&mut self, e: Arc<Entry<T>>) {
        self.entries.push_back(e);
    }

    fn pop(&mut self) -> Option<Arc<Entry<T>>> {
        self.entries.pop_front()
    }

    pub(crate) fn remove(&mut self, e: &Arc<Entry<T>>) {
        if let Some(i) = self.entries.iter().position(|x| Arc::ptr_eq(x, e)) {
            self.entries.remove(i);
        }
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn drain(&mut self) -> impl Iterator<Item = Arc<Entry<T>>> + '_ {
        self.entries.drain(..)
    }
}

pub(crate) struct State<T> {
    /// Buffered values (lazily grown: a huge capacity allocates nothing up front).
    buf: VecDeque<T>,
    /// Blocked senders, FIFO.
    pub(crate) sendq: WaitQueue<T>,
    /// Blocked receivers, FIFO.
    pub(crate) recvq: WaitQueue<T>,
    closed: bool,
}

/// Entries claimed under the lock, to be woken after it is released.
pub(crate) type Wake<T> = Option<Arc<Entry<T>>>;

pub(crate) fn wake<T>(w: Wake<T>) {
    if let Some(e) = w {
        e.waiter().wake();
    }
}

/// The shared channel: one per `bounded`/`unbounded` call.
pub(crate) struct Chan<T> {
    /// Protects the buffer, both wait queues and the closed flag.
    state: Lock<State<T>>,
    /// `None`: unbounded.
    cap: Option<usize>,
    /// Mirror of `State::closed` for lock-free `is_closed` (set under the lock).
    closed: AtomicBool,
    pub(crate) senders: AtomicUsize,
    pub(crate) receivers: AtomicUsize,
}

/// Preallocate at most this many buffer slots; the rest grows on demand.
const PREALLOC: usize = 1024;

impl<T> Chan<T> {
    pub(crate) fn new(cap: Option<usize>) -> Self {
        let prealloc = if std::mem::size_of::<T>() == 0 {
            0
        } else {
            cap.unwrap_or(0).min(PREALLOC)
        };
        Chan {
            state: Lock::new(State {
                buf: VecDeque::with_capacity(prealloc),
                sendq: WaitQueue::new(),
                recvq: WaitQueue::new(),
                closed: false,
            }),
            cap,
            closed: AtomicBool::new(false),
            senders: AtomicUsize::new(1),
            receivers: AtomicUsize::new(1),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> LockGuard<'_, State<T>> {
        self.state.lock()
    }

    /// Locks without a guard (a select holds several channel locks at once).
    #[inline]
    pub(crate) fn raw_lock(&self) {
        self.state.raw().lock()
    }

    /// Releases a lock taken with [`raw_lock`](Self::raw_lock).
    ///
    /// # Safety
    ///
    /// This thread holds the lock through `raw_lock`, and no reference from
    /// [`state_locked`](Self::state_locked) outlives this call.
    #[inline]
    pub(crate) unsafe fn raw_unlock(&self) {
        // SAFETY: the caller holds the lock.
        unsafe { self.state.raw().unlock() }
    }

    /// The state, while locked through [`raw_lock`](Self::raw_lock).
    ///
    /// # Safety
    ///
    /// This thread holds the lock, the reference is dropped before `raw_unlock`, and no other
    /// reference to the state is live.
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn state_locked(&self) -> &mut State<T> {
        // SAFETY: the caller's contract: exclusive access under the lock.
        unsafe { &mut *self.state.data_ptr() }
    }

    /// The address that orders lock acquisition across channels (and identifies a channel).
    pub(crate) fn addr(&self) -> usize {
        self as *const Self as usize
    }

    pub(crate) fn capacity(&self) -> Option<usize> {
        self.cap
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().buf.len()
    }

    pub(crate) fn queue_lens(&self) -> (usize, usize) {
        let st = self.lock();
        (st.sendq.entries.len(), st.recvq.entries.len())
    }

    /// Whether a send could proceed now without waiting (closed counts: it fails at once).
    /// For a deferred select arm, which has no value to try with.
    ///
    /// Only a waiting *thread* receiver counts: an async receiver is only notified, so a send
    /// to it would wait until its task runs (`try_send` reports such a channel as full too).
    pub(crate) fn send_ready_locked(&self, st: &State<T>) -> bool {
        st.closed
            || self.has_room(st)
            || st
                .recvq
                .entries
                .iter()
                .any(|e| e.handoff && e.waiter().selected().is_none())
    }

    /// A deferred send arm is about to wait: invite one waiting async receiver to come and
    /// find it (the receiver then claims the arm, and the select's `op.send` meets it).
    pub(crate) fn invite_async_receiver_locked(&self, st: &mut State<T>) -> Wake<T> {
        let mut i = 0;
        while i < st.recvq.entries.len() {
            if st.recvq.entries[i].handoff {
                i += 1;
                continue;
            }
            let e = st.recvq.entries.remove(i).expect("index in range");
            if e.waiter().try_claim(e.op) {
                return Some(e);
            }
        }
        None
    }

    #[inline]
    fn has_room(&self, st: &State<T>) -> bool {
        match self.cap {
            None => true,
            Some(c) => st.buf.len() < c,
        }
    }

    /// Closes the channel; `true` if this call closed it. Every blocked operation is claimed
    /// and woken: senders find their value still in their slot, receivers find nothing, and
    /// both retry against the closed channel.
    pub(crate) fn close(&self) -> bool {
        let mut woken = Vec::new();
        {
            let mut st = self.lock();
            if st.closed {
                return false;
            }
            st.closed = true;
            self.closed.store(true, Ordering::Release);
            let State { sendq, recvq, .. } = &mut *st;
            for e in sendq.drain().chain(recvq.drain()) {
                if e.waiter().try_claim(e.op) {
                    woken.push(e);
                }
            }
        }
        for e in woken {
            e.waiter().wake();
        }
        true
    }

    /// Closes the channel and drops what is buffered (the last receiver is gone).
    pub(crate) fn disconnect_receivers(&self) {
        self.close();
        let buf = std::mem::take(&mut self.lock().buf);
        drop(buf); // outside the lock: `T::drop` is user code
    }

    // ---------------------------------------------------------------- send

    /// The send attempt, under the lock. `will_wait`: the caller enqueues itself if this
    /// returns `Full` (so it may wake an async receiver to come and take the value).
    ///
    /// Returns the result and an entry to wake after unlocking.
    pub(crate) fn send_locked(
        &self,
        st: &mut State<T>,
        mut v: T,
        will_wait: bool,
    ) -> (Result<(), TrySendError<T>>, Wake<T>) {
        if st.closed {
            return (Err(TrySendError::Closed(v)), None);
        }
        // A waiting receiver gets the value directly (Go: `send` to `recvq.dequeue()`); an
        // async one is notified instead, provided the value will be somewhere it can find it.
        let room = self.has_room(st);
        let mut i = 0;
        while i < st.recvq.entries.len() {
            let e = &st.recvq.entries[i];
            if e.handoff {
                // SAFETY: we hold the lock and the entry is in the queue (invariant 3).
                unsafe { e.put(v) };
                let e = st.recvq.entries.remove(i).expect("index in range");
                if e.waiter().try_claim(e.op) {
                    return (Ok(()), Some(e));
                }
                // Dead entry (its owner gave up or chose another arm): undo, drop it.
                // SAFETY: as above; we popped it and still hold the lock.
                v = unsafe { e.take() }.expect("value we just put");
            } else if room || will_wait {
                let e = st.recvq.entries.remove(i).expect("index in range");
                if e.waiter().try_claim(e.op) {
                    return (self.buffer_or_full(st, v), Some(e));
                }
            } else {
                i += 1;
            }
        }
        (self.buffer_or_full(st, v), None)
    }

    #[inline]
    fn buffer_or_full(&self, st: &mut State<T>, v: T) -> Result<(), TrySendError<T>> {
        if self.has_room(st) {
            st.buf.push_back(v);
            Ok(())
        } else {
            Err(TrySendError::Full(v))
        }
    }

    pub(crate) fn try_send(&self, v: T) -> Result<(), TrySendError<T>> {
        let mut st = self.lock();
        let (r, w) = self.send_locked(&mut st, v, false);
        drop(st);
        wake(w);
        r
    }

    /// Blocking send, giving up at `deadline` (`None`: never).
    pub(crate) fn send_until(
        &self,
        mut v: T,
        deadline: Option<Instant>,
    ) -> Result<(), SendTimeoutError<T>> {
        loop {
            let mut st = self.lock();
            let (r, w) = self.send_locked(&mut st, v, deadline.is_none_or(|d| Instant::now() < d));
            let entry = match r {
                Ok(()) => {
                    drop(st);
                    wake(w);
                    return Ok(());
                }
                Err(TrySendError::Closed(v)) => return Err(SendTimeoutError::Closed(v)),
                Err(TrySendError::Full(v)) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        drop(st);
                        wake(w);
                        return Err(SendTimeoutError::Timeout(v));
                    }
                    let e = Entry::new(WaiterRef::Own(Waiter::thread()), 0, Some(v));
                    st.sendq.push(e.clone());
                    drop(st);
                    wake(w);
                    e
                }
            };
            match entry.waiter().wait_until(deadline) {
                Selected::Aborted => {
                    self.lock().sendq.remove(&entry);
                    // SAFETY: aborted and out of the queue: nobody else will touch the slot.
                    let v = unsafe { entry.take() }.expect("an aborted send keeps its value");
                    return Err(SendTimeoutError::Timeout(v));
                }
                // SAFETY: claimed; we observed the claim with Acquire (invariant 3).
                Selected::Operation(_) => match unsafe { entry.take() } {
                    None => return Ok(()),
                    Some(back) => v = back, // closed: retry to report it
                },
            }
        }
    }

    // ---------------------------------------------------------------- receive

    /// The receive attempt, under the lock. `will_wait`: the caller enqueues itself if this
    /// returns `Empty` (so it may invite a deferred sender to come and send).
    ///
    /// Returns the result and a sender to wake after unlocking (also with `Empty`).
    pub(crate) fn recv_locked(
        &self,
        st: &mut State<T>,
        will_wait: bool,
    ) -> (Result<T, TryRecvError>, Wake<T>) {
        if let Some(v) = st.buf.pop_front() {
            // Room was made: move the first live blocked sender's value into the buffer, or
            // tell a deferred sender there is room.
            while let Some(e) = st.sendq.pop() {
                if e.deferred {
                    if e.waiter().try_claim(e.op) {
                        return (Ok(v), Some(e));
                    }
                    continue;
                }
                // SAFETY: popped under the lock (invariant 3).
                let w = unsafe { e.take() }.expect("a queued send holds its value");
                if e.waiter().try_claim(e.op) {
                    st.buf.push_back(w);
                    return (Ok(v), Some(e));
                }
                // SAFETY: as above; undo on a dead entry.
                unsafe { e.put(w) };
            }
            return (Ok(v), None);
        }
        // Nothing buffered: take straight from a blocked sender (unbuffered channels).
        let mut i = 0;
        while i < st.sendq.entries.len() {
            if st.sendq.entries[i].deferred {
                if !will_wait {
                    i += 1;
                    continue;
                }
                // We are about to wait: invite the deferred sender to send to us.
                let e = st.sendq.entries.remove(i).expect("index in range");
                if e.waiter().try_claim(e.op) {
                    return (Err(TryRecvError::Empty), Some(e));
                }
                continue;
            }
            let e = st.sendq.entries.remove(i).expect("index in range");
            // SAFETY: removed under the lock (invariant 3).
            let w = unsafe { e.take() }.expect("a queued send holds its value");
            if e.waiter().try_claim(e.op) {
                return (Ok(w), Some(e));
            }
            // SAFETY: as above; undo on a dead entry (which is dropped from the queue).
            unsafe { e.put(w) };
        }
        if st.closed {
            (Err(TryRecvError::Closed), None)
        } else {
            (Err(TryRecvError::Empty), None)
        }
    }

    pub(crate) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut st = self.lock();
        let (r, w) = self.recv_locked(&mut st, false);
        drop(st);
        wake(w);
        r
    }

    /// Blocking receive, giving up at `deadline` (`None`: never).
    pub(crate) fn recv_until(&self, deadline: Option<Instant>) -> Result<T, RecvTimeoutError> {
        loop {
            let mut st = self.lock();
            let will_wait = deadline.is_none_or(|d| Instant::now() < d);
            let (r, w) = self.recv_locked(&mut st, will_wait);
            let entry = match r {
                Ok(v) => {
                    drop(st);
                    wake(w);
                    return Ok(v);
                }
                Err(TryRecvError::Closed) => return Err(RecvTimeoutError::Closed),
                Err(TryRecvError::Empty) => {
                    if !will_wait {
                        drop(st);
                        wake(w);
                        return Err(RecvTimeoutError::Timeout);
                    }
                    let e = Entry::new(WaiterRef::Own(Waiter::thread()), 0, None);
                    st.recvq.push(e.clone());
                    e
                }
            };
            drop(st);
            wake(w);
            match entry.waiter().wait_until(deadline) {
                Selected::Aborted => {
                    self.lock().recvq.remove(&entry);
                    return Err(RecvTimeoutError::Timeout);
                }
                Selected::Operation(_) => {
                    // SAFETY: claimed; we observed the claim with Acquire (invariant 3).
                    if let Some(v) = unsafe { entry.take() } {
                        return Ok(v);
                    }
                    // Closed, or notified: retry.
                }
            }
        }
    }

    /// Takes up to `max` values without blocking, under one lock.
    pub(crate) fn try_recv_many(&self, out: &mut Vec<T>, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let mut woken = Vec::new();
        let mut n = 0;
        {
            let mut st = self.lock();
            while n < max {
                let (r, w) = self.recv_locked(&mut st, false);
                match r {
                    Ok(v) => {
                        out.push(v);
                        n += 1;
                        woken.extend(w);
                    }
                    Err(_) => break,
                }
            }
        }
        for e in woken {
            e.waiter().wake();
        }
        n
    }

    /// Wakes one blocked receiver if a value is there to take (an async receiver that was
    /// notified is gone without taking it: pass the notification on).
    pub(crate) fn pass_on_notification(&self) {
        let mut st = self.lock();
        if st.buf.is_empty() && st.sendq.is_empty() && !st.closed {
            return;
        }
        while let Some(e) = st.recvq.pop() {
            if e.waiter().try_claim(e.op) {
                drop(st);
                e.waiter().wake();
                return;
            }
        }
    }
}

impl<T> Chan<T> {
    /// Wakes one blocked sender to retry (a notified deferred sender is gone without sending:
    /// the room or the waiting receiver it was told about is there for the next one).
    pub(crate) fn pass_on_send_notification(&self) {
        let mut st = self.lock();
        let mut i = 0;
        while i < st.sendq.entries.len() {
            if !st.sendq.entries[i].deferred {
                i += 1;
                continue;
            }
            let e = st.sendq.entries.remove(i).expect("index in range");
            if e.waiter().try_claim(e.op) {
                drop(st);
                e.waiter().wake();
                return;
            }
        }
    }
}

// -------------------------------------------------------------------- async state machines

/// The waiting part of an async receive: `None` until the first poll that had to wait.
pub(crate) struct RecvWait<T> {
    entry: Option<Arc<Entry<T>>>,
}

impl<T> RecvWait<T> {
    pub(crate) fn new() -> Self {
        RecvWait { entry: None }
    }

    pub(crate) fn poll(&mut self, chan: &Chan<T>, cx: &mut Context<'_>) -> Poll<Result<T, ()>> {
        if let Some(e) = &self.entry {
            match e.waiter().selected() {
                None => {
                    e.waiter().register(cx.waker());
                    if e.waiter().selected().is_none() {
                        return Poll::Pending;
                    }
                }
                Some(Selected::Aborted) => unreachable!("only the owner aborts"),
                Some(Selected::Operation(_)) => {}
            }
            // Claimed: notified (or closed). Async receive entries carry no value; retry.
            self.entry = None;
        }
        let mut st = chan.lock();
        let (r, w) = chan.recv_locked(&mut st, true);
        let out = match r {
            Ok(v) => Poll::Ready(Ok(v)),
            Err(TryRecvError::Closed) => Poll::Ready(Err(())),
            Err(TryRecvError::Empty) => {
                let e = Entry::new(WaiterRef::Own(Waiter::task(cx.waker())), 0, None);
                st.recvq.push(e.clone());
                self.entry = Some(e);
                Poll::Pending
            }
        };
        drop(st);
        wake(w);
        out
    }

    /// Withdraws a pending wait (the future is dropped). Nothing is lost: an async receive
    /// entry never holds a value, and a notification it consumed is passed on.
    pub(crate) fn cancel(&mut self, chan: &Chan<T>) {
        if let Some(e) = self.entry.take() {
            match e.waiter().abort() {
                Selected::Aborted => chan.lock().recvq.remove(&e),
                Selected::Operation(_) => chan.pass_on_notification(),
            }
        }
    }
}

/// The waiting part of an async send. The value is in `value` before the wait starts and in
/// the entry's slot while it waits.
pub(crate) struct SendWait<T> {
    value: Option<T>,
    entry: Option<Arc<Entry<T>>>,
}

impl<T> SendWait<T> {
    pub(crate) fn new(v: T) -> Self {
        SendWait {
            value: Some(v),
            entry: None,
        }
    }

    pub(crate) fn empty() -> Self {
        SendWait {
            value: None,
            entry: None,
        }
    }

    pub(crate) fn is_idle(&self) -> bool {
        self.value.is_none() && self.entry.is_none()
    }

    /// Drives the send; `Err(v)` when the channel is closed. Polling after completion returns
    /// `Ok(())` again (there is nothing left to send).
    pub(crate) fn poll(&mut self, chan: &Chan<T>, cx: &mut Context<'_>) -> Poll<Result<(), T>> {
        if let Some(e) = &self.entry {
            match e.waiter().selected() {
                None => {
                    e.waiter().register(cx.waker());
                    if e.waiter().selected().is_none() {
                        return Poll::Pending;
                    }
                }
                Some(Selected::Aborted) => unreachable!("only the owner aborts"),
                Some(Selected::Operation(_)) => {}
            }
            let e = self.entry.take().expect("checked");
            // SAFETY: claimed, and the claim was observed with Acquire (invariant 3).
            match unsafe { e.take() } {
                None => return Poll::Ready(Ok(())),
                Some(v) => self.value = Some(v), // closed: retry to report it
            }
        }
        let Some(v) = self.value.take() else {
            return Poll::Ready(Ok(()));
        };
        let mut st = chan.lock();
        let (r, w) = chan.send_locked(&mut st, v, true);
        let out = match r {
            Ok(()) => Poll::Ready(Ok(())),
            Err(TrySendError::Closed(v)) => Poll::Ready(Err(v)),
            Err(TrySendError::Full(v)) => {
                let e = Entry::new(WaiterRef::Own(Waiter::task(cx.waker())), 0, Some(v));
                st.sendq.push(e.clone());
                self.entry = Some(e);
                Poll::Pending
            }
        };
        drop(st);
        wake(w);
        out
    }

    /// Withdraws a pending send. Returns the value unless it was delivered.
    pub(crate) fn cancel(&mut self, chan: &Chan<T>) -> Option<T> {
        if let Some(e) = self.entry.take() {
            if e.waiter().abort() == Selected::Aborted {
                chan.lock().sendq.remove(&e);
            }
            // SAFETY: aborted and out of the queue, or claimed and observed (invariant 3).
            return unsafe { e.take() };
        }
        self.value.take()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn thread_entry<T>(v: Option<T>) -> Arc<Entry<T>> {
        Entry::new(WaiterRef::Own(Waiter::thread()), 0, v)
    }

    #[test]
    fn send_skips_dead_receiver_and_keeps_value() {
        let chan = Chan::new(Some(0));
        let dead = thread_entry::<String>(None);
        let live = thread_entry::<String>(None);
        {
            let mut st = chan.lock();
            st.recvq.push(dead.clone());
            st.recvq.push(live.clone());
        }
        assert_eq!(dead.waiter().abort(), Selected::Aborted);
        assert!(chan.try_send("v".to_string()).is_ok());
        assert_eq!(live.waiter().selected(), Some(Selected::Operation(0)));
        // SAFETY: claimed and observed; the channel no longer references it.
        assert_eq!(unsafe { live.take() }.as_deref(), Some("v"));
        // SAFETY: aborted and out of the queue.
        assert_eq!(unsafe { dead.take() }, None);
        assert_eq!(chan.queue_lens(), (0, 0));
    }

    #[test]
    fn recv_skips_dead_sender_and_undoes_take() {
        let chan = Chan::new(Some(0));
        let dead = thread_entry(Some(1));
        let live = thread_entry(Some(2));
        {
            let mut st = chan.lock();
            st.sendq.push(dead.clone());
            st.sendq.push(live.clone());
        }
        assert_eq!(dead.waiter().abort(), Selected::Aborted);
        assert_eq!(chan.try_recv(), Ok(2));
        // SAFETY: aborted and out of the queue: the owner gets its value back.
        assert_eq!(unsafe { dead.take() }, Some(1));
        // SAFETY: claimed and observed: the value was delivered.
        assert_eq!(unsafe { live.take() }, None);
    }

    #[test]
    fn close_claims_every_waiter_and_leaves_values() {
        let chan = Chan::new(Some(0));
        let s = thread_entry(Some(5));
        let r = thread_entry::<i32>(None);
        {
            let mut st = chan.lock();
            st.sendq.push(s.clone());
            st.recvq.push(r.clone());
        }
        assert!(chan.close());
        assert!(!chan.close());
        assert!(s.waiter().selected().is_some() && r.waiter().selected().is_some());
        // SAFETY: claimed and observed.
        assert_eq!(unsafe { s.take() }, Some(5));
        // SAFETY: claimed and observed.
        assert_eq!(unsafe { r.take() }, None);
        assert_eq!(chan.queue_lens(), (0, 0));
    }

    #[test]
    fn async_receiver_is_notified_not_handed_a_value() {
        let chan = Chan::new(Some(1));
        let e = Entry::new(
            WaiterRef::Own(Waiter::task(std::task::Waker::noop())),
            0,
            None,
        );
        chan.lock().recvq.push(e.clone());
        assert!(chan.try_send(9).is_ok());
        assert!(e.waiter().selected().is_some());
        // SAFETY: claimed and observed.
        assert_eq!(unsafe { e.take() }, None);
        assert_eq!(chan.len(), 1);
        assert_eq!(chan.try_recv(), Ok(9));
    }
}
