//! Loom model checks of `select!` / `select_async!` (`select.rs`): two selects racing for one
//! value, a close racing a blocked select, a claim racing a select's timeout, an async select
//! dropped while a counterpart completes one of its arms, and selects meeting selects.
//!
//! Every check is an exactly-once accounting: each value sent ends up received by exactly one
//! party, still in its channel, or handed back to its sender. A lost wake-up shows up as a loom
//! deadlock (or as a `wait_for_wake` that never returns).
//!
//! Run with
//! `CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" cargo test --release -p csp-chan --test loom_select`.
#![cfg(loom)]

use csp_chan::{
    RecvError, RecvTimeoutError, Select, SendError, TryRecvError, TrySendError, bounded, select,
    select_async,
};
use csp_park::sync::atomic::{AtomicUsize, Ordering};
use csp_park::sync::thread;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// Long enough never to pass in real time; under loom a timed wait expires as soon as it
/// would sleep, whatever the deadline.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `f` under loom, bounding preemptions at 2 unless `LOOM_MAX_PREEMPTIONS` says otherwise,
/// and reports how many interleavings were explored (visible with `--nocapture`).
fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = runs.clone();
    b.check(move || {
        r.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    eprintln!(
        "{}: {} interleavings (preemption bound {:?})",
        std::thread::current().name().unwrap_or("?"),
        runs.load(std::sync::atomic::Ordering::Relaxed),
        b.preemption_bound
    );
}

/// A waker that counts its wake-ups.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (std::sync::Arc<Count>, Waker) {
    let c = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    let w = Waker::from(c.clone());
    (c, w)
}

fn woken(c: &Count) -> usize {
    c.0.load(Ordering::SeqCst)
}

fn poll_once<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(waker))
}

/// Yields to the other model threads until `c` has been woken more than `seen` times. A wake
/// that never comes makes this spin until loom gives up on the execution (a failure).
fn wait_for_wake(c: &Count, seen: usize) {
    while woken(c) == seen {
        thread::yield_now();
    }
}

/// A minimal executor: polls `fut`, and after `Pending` polls again only once its waker has
/// been called. So a lost wake-up fails the model instead of being papered over by a re-poll.
fn block_on<F: Future + Unpin>(mut fut: F) -> F::Output {
    let (count, waker) = counting_waker();
    loop {
        let seen = woken(&count);
        if let Poll::Ready(v) = poll_once(&mut fut, &waker) {
            return v;
        }
        wait_for_wake(&count, seen);
    }
}

/// A value that counts its drops, so that "handed back" and "dropped with the select" can be
/// told from "lost" or "duplicated".
struct Tracked {
    v: i32,
    drops: std::sync::Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn tracked(v: i32) -> (Tracked, std::sync::Arc<AtomicUsize>) {
    let drops = std::sync::Arc::new(AtomicUsize::new(0));
    (
        Tracked {
            v,
            drops: drops.clone(),
        },
        drops,
    )
}

// ------------------------------------------------------------------ two selects, one value

/// Two threads each block in `select! { recv(rx), recv(other) }` while main sends one value
/// on `bounded(0)` and then closes both channels: exactly one select gets the value, the
/// other wakes from the close with `Err` on one of its arms.
#[test]
fn two_selects_race_for_one_value() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let (otx, orx) = bounded::<i32>(0);
        let spawn_select = |rx: csp_chan::Receiver<i32>, orx: csp_chan::Receiver<i32>| {
            thread::spawn(move || {
                select! {
                    recv(rx) -> m => m.ok(),
                    recv(orx) -> m => {
                        assert_eq!(m, Err(RecvError), "nothing is ever sent on `other`");
                        None
                    }
                }
            })
        };
        let s1 = spawn_select(rx.clone(), orx.clone());
        let s2 = spawn_select(rx.clone(), orx.clone());
        tx.send(1).unwrap();
        assert!(tx.close());
        assert!(otx.close());
        let mut got: Vec<i32> = [s1.join().unwrap(), s2.join().unwrap()]
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(got, [1], "exactly one select receives the value");
        got.clear();
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// As above on `bounded(1)` pre-filled, with both channels closed right away: a closed
/// channel's buffered value is still received, but a select may pick the other (closed) arm,
/// so the value is received by one select or left in the buffer, exactly once.
#[test]
fn two_selects_race_for_one_buffered_value() {
    model(|| {
        let (tx, rx) = bounded::<i32>(1);
        let (otx, orx) = bounded::<i32>(1);
        tx.send(1).unwrap();
        let spawn_select = |rx: csp_chan::Receiver<i32>, orx: csp_chan::Receiver<i32>| {
            thread::spawn(move || {
                select! {
                    recv(rx) -> m => m.ok(),
                    recv(orx) -> m => {
                        assert_eq!(m, Err(RecvError), "nothing is ever sent on `other`");
                        None
                    }
                }
            })
        };
        let s1 = spawn_select(rx.clone(), orx.clone());
        let s2 = spawn_select(rx.clone(), orx.clone());
        assert!(otx.close());
        assert!(tx.close());
        let mut got: Vec<i32> = [s1.join().unwrap(), s2.join().unwrap()]
            .into_iter()
            .flatten()
            .collect();
        got.extend(rx.try_recv());
        assert_eq!(got, [1], "received once, or still buffered");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

// ------------------------------------------------------------------ select vs close

/// A thread blocked in `select!` over two `bounded(0)` channels while main closes one: the
/// select returns that arm with `Err(RecvError)`.
#[test]
fn select_recv_vs_close() {
    model(|| {
        let (tx1, rx1) = bounded::<i32>(0);
        let (_tx2, rx2) = bounded::<i32>(0);
        let s = thread::spawn(move || {
            select! {
                recv(rx1) -> m => (1, m),
                recv(rx2) -> m => (2, m),
            }
        });
        assert!(tx1.close());
        assert_eq!(s.join().unwrap(), (1, Err(RecvError)));
    });
}

/// A blocked select vs `try_send` then close on one channel (`bounded(0)`): the select gets
/// the value iff the `try_send` handed it over (before the close), else `Err(RecvError)`.
#[test]
fn select_recv_vs_try_send_then_close() {
    model(|| {
        let (tx1, rx1) = bounded::<i32>(0);
        let (_tx2, rx2) = bounded::<i32>(0);
        let s = thread::spawn(move || {
            select! {
                recv(rx1) -> m => (1, m),
                recv(rx2) -> m => (2, m),
            }
        });
        let sent = tx1.try_send(7);
        assert!(tx1.close());
        match s.join().unwrap() {
            (1, Ok(v)) => {
                assert_eq!(v, 7);
                assert_eq!(sent, Ok(()));
            }
            (1, Err(RecvError)) => assert_eq!(sent, Err(TrySendError::Full(7))),
            other => panic!("unexpected select outcome {other:?}"),
        }
    });
}

/// A select blocked on a send arm (`bounded(0)`, nobody receiving) and a receive arm, while
/// main closes the send arm's channel: the send arm is chosen with its value handed back.
#[test]
fn select_send_vs_close() {
    model(|| {
        let (tx1, rx1) = bounded::<i32>(0);
        let (_tx2, rx2) = bounded::<i32>(0);
        let s = thread::spawn(move || {
            select! {
                send(tx1, 5) -> r => Some(r),
                recv(rx2) -> _ => None,
            }
        });
        assert!(rx1.close());
        assert_eq!(s.join().unwrap(), Some(Err(SendError(5))));
    });
}

// ------------------------------------------------------------------ claim vs timeout

/// `select! { recv, default(timeout) }` on `bounded(0)` vs a thread's `try_send`: the select
/// gets the value iff the `try_send` succeeded; a timed-out select leaves it with the sender.
#[test]
fn select_recv_timeout_vs_try_send() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let tx2 = tx.clone(); // keep `tx`: the sender thread's drop must not close the channel
        let sender = thread::spawn(move || tx2.try_send(5));
        let got = select! {
            recv(rx) -> m => Some(m),
            default(TIMEOUT) => None,
        };
        let sent = sender.join().unwrap();
        match got {
            Some(m) => {
                assert_eq!(m, Ok(5));
                assert_eq!(sent, Ok(()));
            }
            None => assert_eq!(sent, Err(TrySendError::Full(5))),
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

/// `select! { recv, default(timeout) }` on `bounded(0)` vs a thread's blocking `send`: if the
/// select timed out, the value is still with the blocked sender and a `recv` gets it.
#[test]
fn select_recv_timeout_vs_send() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let tx2 = tx.clone(); // keep `tx`: see above
        let sender = thread::spawn(move || tx2.send(5));
        let got = select! {
            recv(rx) -> m => Some(m),
            default(TIMEOUT) => None,
        };
        match got {
            Some(m) => assert_eq!(m, Ok(5)),
            None => assert_eq!(rx.recv(), Ok(5)),
        }
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

/// `select! { send(tx, v), default(timeout) }` on `bounded(0)` vs a thread's `recv_timeout`:
/// the value is delivered iff the send arm was chosen, and otherwise dropped exactly once
/// with the select.
#[test]
fn select_send_timeout_vs_recv_timeout() {
    model(|| {
        let (tx, rx) = bounded::<Tracked>(0);
        let rx2 = rx.clone(); // keep `rx`: the receiver thread's drop must not close the channel
        let receiver = thread::spawn(move || rx2.recv_timeout(TIMEOUT));
        let (value, drops) = tracked(5);
        let sent = select! {
            send(tx, value) -> r => Some(r.is_ok()),
            default(TIMEOUT) => None,
        };
        let got = receiver.join().unwrap();
        match sent {
            Some(ok) => {
                assert!(ok, "nobody closed the channel");
                let v = got.expect("the send arm was chosen: the receiver has the value");
                assert_eq!(v.v, 5);
                assert_eq!(drops.load(Ordering::SeqCst), 0);
                drop(v);
            }
            None => {
                assert!(matches!(got, Err(RecvTimeoutError::Timeout)));
                assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped with the select");
            }
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1, "exactly once");
    });
}

/// `select! { send(tx, v), default(timeout) }` on `bounded(0)` vs a thread's `try_recv`.
#[test]
fn select_send_timeout_vs_try_recv() {
    model(|| {
        let (tx, rx) = bounded::<Tracked>(0);
        let rx2 = rx.clone(); // keep `rx`: see above
        let receiver = thread::spawn(move || rx2.try_recv());
        let (value, drops) = tracked(5);
        let sent = select! {
            send(tx, value) -> r => r.is_ok(),
            default(TIMEOUT) => false,
        };
        let got = receiver.join().unwrap();
        if sent {
            assert_eq!(got.expect("delivered").v, 5);
        } else {
            assert!(matches!(got, Err(TryRecvError::Empty)));
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1, "exactly once");
    });
}

// ------------------------------------------------------------------ async cancellation

/// A `select_async!` over two `bounded(1)` channels is polled once (pending), then dropped
/// while a thread `try_send`s on the first: the value is buffered, never taken by the dead
/// select, and `try_recv` finds it.
#[test]
fn async_select_recv_drop_vs_try_send() {
    model(|| {
        let (tx1, rx1) = bounded::<i32>(1);
        let (_tx2, rx2) = bounded::<i32>(1);
        let (_c, waker) = counting_waker();
        let mut fut = Box::pin(async {
            select_async! {
                recv(rx1) -> m => m.ok(),
                recv(rx2) -> m => m.ok(),
            }
        });
        assert!(poll_once(&mut fut, &waker).is_pending());
        let tx = tx1.clone(); // keep `tx1`: a close would hide a lost value
        let sender = thread::spawn(move || tx.try_send(1));
        drop(fut);
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(rx1.try_recv(), Ok(1));
        assert_eq!(rx1.try_recv(), Err(TryRecvError::Empty));
    });
}

/// A pending `select_async!` and a pending `recv_async` on the same `bounded(1)` channel; a
/// thread sends one value while main drops the select (which may have been notified). The
/// notification must be passed on: the `recv_async` is woken and takes the value.
#[test]
fn async_select_drop_passes_notification_on() {
    model(|| {
        let (tx1, rx1) = bounded::<i32>(1);
        let (_tx2, rx2) = bounded::<i32>(1);
        let (_c1, waker1) = counting_waker();
        let (c2, waker2) = counting_waker();
        let mut sel = Box::pin(async {
            select_async! {
                recv(rx1) -> m => m.ok(),
                recv(rx2) -> m => m.ok(),
            }
        });
        let mut f2 = rx1.recv_async();
        assert!(poll_once(&mut sel, &waker1).is_pending());
        assert!(poll_once(&mut f2, &waker2).is_pending());
        let tx = tx1.clone(); // keep `tx1`: a close would wake everyone and hide a lost wake
        let sender = thread::spawn(move || tx.send(1));
        drop(sel);
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(
            woken(&c2),
            1,
            "the second receiver was never woken: value stranded"
        );
        assert_eq!(poll_once(&mut f2, &waker2), Poll::Ready(Ok(1)));
    });
}

/// A pending `select_async! { send(tx, v) }` on `bounded(0)` is dropped while a thread
/// `try_recv`s: either the receiver got the value (once), or nothing was delivered and the
/// value was dropped with the future, exactly once.
#[test]
fn async_select_send_drop_vs_try_recv() {
    model(|| {
        let (tx, rx) = bounded::<Tracked>(0);
        let (_c, waker) = counting_waker();
        let (value, drops) = tracked(5);
        let mut fut = Box::pin(async {
            select_async! {
                send(tx, value) -> r => r.is_ok(),
            }
        });
        assert!(poll_once(&mut fut, &waker).is_pending());
        let rx2 = rx.clone(); // keep `rx`: a close would hand the value back
        let receiver = thread::spawn(move || rx2.try_recv());
        drop(fut);
        match receiver.join().unwrap() {
            Ok(v) => {
                assert_eq!(v.v, 5);
                assert_eq!(drops.load(Ordering::SeqCst), 0, "delivered and dropped too");
            }
            Err(e) => {
                assert_eq!(e, TryRecvError::Empty);
                assert_eq!(
                    drops.load(Ordering::SeqCst),
                    1,
                    "neither delivered nor dropped"
                );
            }
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1, "exactly once");
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    });
}

/// A `select_async!` over two `bounded(0)` channels, driven by an executor that polls only
/// when woken, vs a sender thread: the async arm is only notified and takes the value itself;
/// no wake-up may be lost.
#[test]
fn async_select_recv_vs_send() {
    model(|| {
        let (tx1, rx1) = bounded::<i32>(0);
        let (_tx2, rx2) = bounded::<i32>(0);
        let tx = tx1.clone(); // keep `tx1`: a close would wake everyone and hide a lost wake
        let sender = thread::spawn(move || tx.send(1));
        let got = block_on(Box::pin(async {
            select_async! {
                recv(rx1) -> m => m.ok(),
                recv(rx2) -> m => m.ok(),
            }
        }));
        assert_eq!(got, Some(1));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

// ------------------------------------------------------------------ select meets select

/// Thread A in `select! { send(tx, 1) }`, main in `select! { recv(rx) }`, on `bounded(0)`:
/// both complete and main gets 1.
#[test]
fn select_send_meets_select_recv() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let rx2 = rx.clone(); // keep `rx`: A's channel must not close under it
        let a = thread::spawn(move || {
            select! {
                send(tx, 1) -> r => r,
            }
        });
        let got = select! {
            recv(rx2) -> m => m,
        };
        assert_eq!(got, Ok(1));
        assert_eq!(a.join().unwrap(), Ok(()));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// A builder `Select::send` arm (deferred: no value until chosen) in thread A, a `select!`
/// receive in main, on `bounded(0)`: the receiver invites the deferred sender, which then
/// sends; main gets 1.
#[test]
fn deferred_send_meets_select_recv() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let a = thread::spawn(move || {
            let mut sel = Select::new();
            let i = sel.send(&tx);
            let op = sel.select();
            assert_eq!(op.index(), i);
            op.send(&tx, 1)
        });
        let got = select! {
            recv(rx) -> m => m,
        };
        assert_eq!(got, Ok(1));
        assert_eq!(a.join().unwrap(), Ok(()));
    });
}
