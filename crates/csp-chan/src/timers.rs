//! `after`, `tick` and `never`: receivers for timeouts, tickers and disabled `select` arms.
//!
//! They are ordinary channels, so they work in every arm and every form (blocking, timeout,
//! async, `select!`, `Select`). `after` and `tick` are fed by csp-park's global timer thread:
//! no thread per timer. The timer holds only a weak reference, so dropping the receiver frees
//! the channel at once (the timer entry itself goes when it comes due).

use crate::chan::Chan;
use crate::handles::Receiver;
use csp_park::sync::Arc;
use std::sync::Weak;
use std::time::{Duration, Instant};

/// A receiver with no `Sender`: the channel counts one phantom sender that is never dropped,
/// so only an explicit `close` ends it.
fn receiver_only<T>(cap: usize) -> (Receiver<T>, Weak<Chan<T>>) {
    let chan = Arc::new(Chan::new(Some(cap)));
    let weak = Arc::downgrade(&chan);
    (Receiver { chan }, weak)
}

/// A receiver that gets one value, the current instant, after `d`, and is then closed
/// (Go's `time.After`).
///
/// ```
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// let rx = csp_chan::after(Duration::from_millis(10));
/// let fired = rx.recv().unwrap();
/// assert!(fired >= start + Duration::from_millis(10));
/// assert!(rx.recv().is_err()); // closed after its one value
/// ```
pub fn after(d: Duration) -> Receiver<Instant> {
    let (rx, weak) = receiver_only(1);
    // A deadline past the end of time never comes: the receiver then behaves like `never()`.
    if let Some(deadline) = Instant::now().checked_add(d) {
        csp_park::timer::schedule(deadline, move || {
            if let Some(chan) = weak.upgrade() {
                let _ = chan.try_send(Instant::now());
                chan.close();
            }
        })
        .detach();
    }
    rx
}

/// A receiver that gets the current instant every `d` (Go's `time.Tick`). Like Go's ticker it
/// has room for one value: a reader that falls behind misses ticks instead of queueing them.
/// Ticks stop when the receiver is dropped. A zero `d` gives a receiver that never ticks
/// (Go's `time.Tick` returns nil for `d <= 0`).
///
/// ```
/// use std::time::Duration;
///
/// let ticks = csp_chan::tick(Duration::from_millis(2));
/// let a = ticks.recv().unwrap();
/// let b = ticks.recv().unwrap();
/// assert!(b > a);
/// ```
pub fn tick(d: Duration) -> Receiver<Instant> {
    let (rx, weak) = receiver_only(1);
    if !d.is_zero() {
        if let Some(first) = Instant::now().checked_add(d) {
            schedule_tick(weak, first, d);
        }
    }
    rx
}

fn schedule_tick(weak: Weak<Chan<Instant>>, at: Instant, period: Duration) {
    csp_park::timer::schedule(at, move || {
        let Some(chan) = weak.upgrade() else {
            return; // the receiver is gone: stop ticking
        };
        if chan.is_closed() {
            return;
        }
        let now = Instant::now();
        let _ = chan.try_send(now); // full: the reader is behind, drop this tick
        drop(chan);
        // The next tick on the original grid, skipping the ones already missed.
        let mut next = at + period;
        while next <= now {
            next += period;
        }
        schedule_tick(weak, next, period);
    })
    .detach();
}

/// A receiver that is never ready (Go's nil channel): use it to disable a `select!` arm.
/// Receiving blocks forever, unless the receiver itself is closed.
///
/// ```
/// use csp_chan::{bounded, never, select, Receiver};
///
/// let (tx, rx) = bounded(1);
/// tx.send(1).unwrap();
/// let disabled: Receiver<i32> = never();
/// let v = select! {
///     recv(rx) -> m => m.unwrap(),
///     recv(disabled) -> _ => unreachable!(),
/// };
/// assert_eq!(v, 1);
/// assert!(never::<i32>().try_recv().is_err());
/// ```
pub fn never<T>() -> Receiver<T> {
    receiver_only(0).0
}
