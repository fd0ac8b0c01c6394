//! The global timer: one lazily started thread that runs short callbacks at their deadlines.
//!
//! Async code cannot block a thread to wait for a deadline, and csp must not depend on any
//! executor's timer. So every async deadline in the csp family (`select_async!` timeouts,
//! `after`, `tick`, contexts with a deadline, [`Sleep`]) registers a callback here. The thread
//! is started by the first [`schedule`] and then lives for the rest of the process; it keeps
//! a binary heap ordered by deadline and sleeps on a condition variable until the earliest one.
//!
//! # Invariants
//!
//! - Callbacks run on the timer thread, one at a time, outside the heap lock. They must be
//!   short and must not block (waking a `Waker` or claiming a [`Waiter`](crate::Waiter) is
//!   what they are for). A panicking callback is caught and does not stop the timer.
//! - A callback runs at most once, never before its deadline; [`TimerHandle::cancel`] (or
//!   dropping the handle) guarantees it will not start after `cancel` returns.
//! - Cancelled entries stay in the heap until they come due, unless they become more than half
//!   of it, when the heap is rebuilt without them (so cancelling in a loop cannot grow it
//!   without bound).
//!
//! The timer uses `std`'s `Mutex` and `Condvar` rather than the [`sync`](crate::sync) shim: it
//! is one long-lived thread that loom could not model anyway, and it is not compiled under loom.
//!
//! ```
//! use csp_park::timer;
//! use std::sync::mpsc;
//! use std::time::{Duration, Instant};
//!
//! let (tx, rx) = mpsc::channel();
//! let start = Instant::now();
//! let handle = timer::schedule(start + Duration::from_millis(10), move || {
//!     tx.send(Instant::now()).unwrap();
//! });
//! let fired = rx.recv().unwrap();
//! assert!(fired >= start + Duration::from_millis(10));
//! assert!(handle.is_fired());
//! ```

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

type Callback = Box<dyn FnOnce() + Send + 'static>;

struct Entry {
    /// `None` once run or cancelled. Taking it out under this lock is what makes "run" and
    /// "cancel" mutually exclusive.
    callback: Mutex<Option<Callback>>,
    fired: AtomicBool,
}

struct Item {
    deadline: Instant,
    seq: u64,
    entry: Arc<Entry>,
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Item {}
impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Item {
    // Reversed: BinaryHeap is a max-heap, we want the earliest deadline on top.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}

struct Heap {
    items: BinaryHeap<Item>,
    seq: u64,
    /// Heap entries whose callback was cancelled.
    cancelled: usize,
}

struct Timer {
    heap: Mutex<Heap>,
    cond: Condvar,
    callbacks_run: AtomicUsize,
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let t: &'static Timer = Box::leak(Box::new(Timer {
            heap: Mutex::new(Heap {
                items: BinaryHeap::new(),
                seq: 0,
                cancelled: 0,
            }),
            cond: Condvar::new(),
            callbacks_run: AtomicUsize::new(0),
        }));
        std::thread::Builder::new()
            .name("csp-timer".into())
            .spawn(move || t.run())
            .expect("csp-park: cannot start the timer thread");
        t
    })
}

impl Timer {
    fn lock(&self) -> std::sync::MutexGuard<'_, Heap> {
        self.heap.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn run(&self) {
        let mut due: Vec<Arc<Entry>> = Vec::new();
        let mut heap = self.lock();
        loop {
            let now = Instant::now();
            while let Some(top) = heap.items.peek() {
                if top.deadline > now {
                    break;
                }
                let item = heap.items.pop().expect("peeked");
                due.push(item.entry);
            }
            if !due.is_empty() {
                drop(heap);
                for entry in due.drain(..) {
                    let cb = entry
                        .callback
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take();
                    if let Some(cb) = cb {
                        entry.fired.store(true, Ordering::Release);
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(cb));
                        self.callbacks_run.fetch_add(1, Ordering::Relaxed);
                    }
                }
                heap = self.lock();
                continue;
            }
            heap = match heap.items.peek().map(|i| i.deadline) {
                None => self.cond.wait(heap).unwrap_or_else(PoisonError::into_inner),
                Some(d) => {
                    self.cond
                        .wait_timeout(heap, d.saturating_duration_since(now))
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
            };
        }
    }
}

/// A scheduled callback. Dropping the handle cancels the callback if it has not started.
///
/// Use [`TimerHandle::detach`] to let it run anyway.
#[must_use = "dropping a TimerHandle cancels its callback; call detach() to keep it"]
pub struct TimerHandle {
    entry: Option<Arc<Entry>>,
}

impl TimerHandle {
    /// Cancels the callback. Returns `true` if this call prevented it from running, `false` if
    /// it had already run (or been cancelled). After `cancel` returns the callback is not
    /// running and will not start, unless it is running right now on the timer thread.
    pub fn cancel(&self) -> bool {
        let Some(entry) = &self.entry else {
            return false;
        };
        let cb = entry
            .callback
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match cb {
            None => false,
            Some(cb) => {
                let t = timer();
                let mut heap = t.lock();
                heap.cancelled += 1;
                if heap.items.len() > 64 && heap.cancelled * 2 > heap.items.len() {
                    let items = std::mem::take(&mut heap.items);
                    heap.items = items
                        .into_iter()
                        .filter(|i| {
                            i.entry
                                .callback
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .is_some()
                        })
                        .collect();
                    heap.cancelled = 0;
                }
                drop(heap);
                drop(cb);
                true
            }
        }
    }

    /// Whether the callback has been started by the timer thread.
    pub fn is_fired(&self) -> bool {
        self.entry
            .as_ref()
            .is_some_and(|e| e.fired.load(Ordering::Acquire))
    }

    /// Lets the callback run even though the handle is dropped.
    pub fn detach(mut self) {
        self.entry = None;
    }
}

impl Drop for TimerHandle {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerHandle")
            .field("fired", &self.is_fired())
            .finish()
    }
}

/// Runs `callback` on the timer thread at (or soon after) `deadline`.
///
/// A deadline in the past runs the callback as soon as the timer thread gets to it (never on
/// the calling thread). The callback must be short and must not block.
///
/// # Panics
///
/// Panics if the timer thread cannot be started (the first call only).
pub fn schedule(deadline: Instant, callback: impl FnOnce() + Send + 'static) -> TimerHandle {
    let entry = Arc::new(Entry {
        callback: Mutex::new(Some(Box::new(callback))),
        fired: AtomicBool::new(false),
    });
    let t = timer();
    let mut heap = t.lock();
    let seq = heap.seq;
    heap.seq += 1;
    let earliest = heap.items.peek().is_none_or(|top| deadline < top.deadline);
    heap.items.push(Item {
        deadline,
        seq,
        entry: entry.clone(),
    });
    drop(heap);
    if earliest {
        t.cond.notify_one();
    }
    TimerHandle { entry: Some(entry) }
}

/// How many callbacks the timer thread has run so far (for tests and diagnostics).
pub fn callbacks_run() -> usize {
    timer().callbacks_run.load(Ordering::Relaxed)
}

struct SleepShared {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

/// A future that completes at a deadline, driven by the global timer (works under any
/// executor). Created by [`sleep`] and [`sleep_until`].
///
/// # Cancel safety
///
/// Dropping it cancels its timer entry.
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// futures::executor::block_on(csp_park::timer::sleep(Duration::from_millis(5)));
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// ```
pub struct Sleep {
    deadline: Instant,
    state: Option<(Arc<SleepShared>, TimerHandle)>,
}

impl Sleep {
    /// The instant this future completes at.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .finish()
    }
}

/// A future that completes after `duration`.
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    sleep_until(
        now.checked_add(duration)
            .unwrap_or(now + Duration::from_secs(86400 * 365 * 30)),
    )
}

/// A future that completes at `deadline`.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        state: None,
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if Instant::now() >= this.deadline {
            return Poll::Ready(());
        }
        match &this.state {
            None => {
                let shared = Arc::new(SleepShared {
                    fired: AtomicBool::new(false),
                    waker: Mutex::new(Some(cx.waker().clone())),
                });
                let s = shared.clone();
                let handle = schedule(this.deadline, move || {
                    s.fired.store(true, Ordering::Release);
                    let w = s
                        .waker
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .take();
                    if let Some(w) = w {
                        w.wake();
                    }
                });
                this.state = Some((shared, handle));
                Poll::Pending
            }
            Some((shared, _)) => {
                if shared.fired.load(Ordering::Acquire) {
                    return Poll::Ready(());
                }
                let mut w = shared.waker.lock().unwrap_or_else(PoisonError::into_inner);
                if !w.as_ref().is_some_and(|old| old.will_wake(cx.waker())) {
                    *w = Some(cx.waker().clone());
                }
                drop(w);
                if shared.fired.load(Ordering::Acquire) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_run_in_deadline_order() {
        let (tx, rx) = std::sync::mpsc::channel();
        // Far enough ahead that all three are scheduled before the first comes due.
        let base = Instant::now() + Duration::from_millis(if cfg!(miri) { 300 } else { 20 });
        let mut hs = Vec::new();
        for i in [3u64, 1, 2] {
            let tx = tx.clone();
            hs.push(schedule(base + Duration::from_millis(5 * i), move || {
                tx.send(i).unwrap();
            }));
        }
        let got: Vec<u64> = (0..3).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(got, vec![1, 2, 3]);
    }

    #[test]
    fn cancelled_callback_never_runs() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let h = schedule(Instant::now() + Duration::from_millis(5), move || {
            tx.send(()).unwrap();
        });
        assert!(h.cancel());
        assert!(!h.cancel());
        // The callback (and its sender) were dropped by cancel: the channel is disconnected.
        assert!(rx.recv().is_err());
    }

    #[test]
    fn mass_cancel_shrinks_heap() {
        let far = Instant::now() + Duration::from_secs(3600);
        let hs: Vec<_> = (0..1000).map(|_| schedule(far, || {})).collect();
        drop(hs);
        assert!(timer().lock().items.len() < 600);
    }
}
