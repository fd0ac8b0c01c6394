//! Loom model checks of `select!` / `select_async!` / `Select` (`select.rs`): two selects
//! racing for one value, a close racing a blocked select, a claim racing a select's timeout,
//! an async select dropped while a counterpart completes one of its arms, and selects meeting
//! selects (value-carrying and deferred send arms).
//!
//! Every check is an exactly-once accounting: each value sent ends up received by exactly one
//! party, still in its channel, or handed back to (or dropped with) its sender. A lost wake-up
//! shows up as a loom deadlock, or as a `wait_for_wake` that never returns.
//!
//! # Determinism
//!
//! Loom replays each execution from a recorded schedule, so the model must do the same
//! operations in the same order every time. Two things in a select are not like that:
//!
//! - The lock order is the channels' address order, and the allocator may hand out two
//!   channels in either order from one execution to the next. [`two_channels`] fixes the
//!   order per model, and models run with both orders.
//! - The poll order comes from a thread-local RNG; under `cfg(loom)` each model thread starts
//!   from a fixed seed, so a blocking select over two channels (which first tries each arm
//!   under its own lock, in that order) locks them in the same order on every replay. Some
//!   blocking models put both arms on one channel instead: two arms on the same channel also
//!   exercise two entries sharing one waiter in one queue.
//!
//! Run with
//! `CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" cargo test --release -p csp-chan --test loom_select`.
#![cfg(loom)]

use csp_chan::{
    ChannelEnd, Receiver, RecvError, RecvTimeoutError, Select, SendError, Sender, TryRecvError,
    TrySendError, bounded, select, select_async,
};
use csp_park::sync::atomic::{AtomicUsize, Ordering};
use csp_park::sync::thread;
use std::task::Poll;

mod loom_support;
use loom_support::*;

type Pair<T> = (Sender<T>, Receiver<T>);

/// Two `bounded(cap)` channels, the one at the lower address first (`swap`: last).
///
/// A select locks its channels in address order, and the allocator may hand out two channels
/// in either order from one execution to the next: loom would see a different sequence of
/// lock operations for the same schedule. Fixing the order per model keeps it deterministic;
/// running a model with both values of `swap` covers both lock orders.
fn two_channels<T>(cap: usize, swap: bool) -> (Pair<T>, Pair<T>) {
    let a = bounded(cap);
    let b = bounded(cap);
    let (lo, hi) = if a.1.chan_addr() < b.1.chan_addr() {
        (a, b)
    } else {
        (b, a)
    };
    if swap { (hi, lo) } else { (lo, hi) }
}

/// A value that counts its drops, so that "dropped with the select" can be told from "lost"
/// or "duplicated".
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

fn drops(d: &AtomicUsize) -> usize {
    d.load(Ordering::SeqCst)
}

// ------------------------------------------------------------------ two selects, one value

/// Two threads race in `select! { recv(rx), recv(rx) }` (two arms, one shared waiter, two
/// entries in the same queue) for one value buffered in `bounded(1)`; each closes the channel
/// after its select, which wakes the loser with `Err`. Exactly one select gets the value.
#[test]
fn two_selects_race_for_one_value() {
    model(|| {
        let (tx, rx) = bounded::<i32>(1);
        tx.send(1).unwrap();
        let run = |rx: &Receiver<i32>| {
            let got = select! {
                recv(rx) -> m => m.ok(),
                recv(rx) -> m => m.ok(),
            };
            rx.close();
            got
        };
        let rx2 = rx.clone();
        let other = thread::spawn(move || run(&rx2));
        let mine = run(&rx);
        let theirs = other.join().unwrap();
        let got: Vec<i32> = mine.into_iter().chain(theirs).collect();
        assert_eq!(got, [1], "exactly one select receives the value");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// As above on `bounded(0)`, the value offered by a blocked sender: a `send_async` polled
/// once (pending, its value in its wait entry). Both selects race to take it from the entry
/// (claiming the sender); the sender's task is woken and completes with `Ok`, once.
#[test]
fn two_selects_race_for_a_blocked_senders_value() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let (count, waker) = counting_waker();
        let mut send = tx.send_async(1);
        assert!(poll_once(&mut send, &waker).is_pending());
        let run = |rx: &Receiver<i32>| {
            let got = select! {
                recv(rx) -> m => m.ok(),
                recv(rx) -> m => m.ok(),
            };
            rx.close();
            got
        };
        let rx2 = rx.clone();
        let other = thread::spawn(move || run(&rx2));
        let mine = run(&rx);
        let theirs = other.join().unwrap();
        let got: Vec<i32> = mine.into_iter().chain(theirs).collect();
        assert_eq!(got, [1], "exactly one select receives the value");
        assert_eq!(woken(&count), 1, "the sender was never woken");
        assert_eq!(poll_once(&mut send, &waker), Poll::Ready(Ok(())));
    });
}

/// The same race with a sender thread (main) on `bounded(0)`: two selecting threads,
/// `select! { recv(rx), recv(rx) }`, and main sending one value, then closing. The sender hands
/// the value to exactly one select (skipping the dead second entry of a select already
/// claimed); the close wakes the other with `Err`. Three threads: preemption bound 1.
#[test]
fn two_selects_race_for_a_sender_threads_value() {
    model_bounded(1, || {
        let (tx, rx) = bounded::<i32>(0);
        let spawn_select = |rx: Receiver<i32>| {
            thread::spawn(move || {
                select! {
                    recv(rx) -> m => m.ok(),
                    recv(rx) -> m => m.ok(),
                }
            })
        };
        let s1 = spawn_select(rx.clone());
        let s2 = spawn_select(rx.clone());
        tx.send(1).unwrap();
        assert!(tx.close());
        let got: Vec<i32> = [s1.join().unwrap(), s2.join().unwrap()]
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(got, [1], "exactly one select receives the value");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// Two threads race in `select! { recv(rx), recv(other) }` for one value buffered in
/// `bounded(1)`; each closes both channels after its select. The value is received by exactly
/// one select, or (a select may pick the closed `other` arm) is still buffered: exactly once.
#[test]

fn two_selects_race_for_one_value_two_channels() {
    for swap in [false, true] {
        model(move || {
            let ((tx, rx), (_otx, orx)) = two_channels::<i32>(1, swap);
            tx.send(1).unwrap();
            let run = |rx: &Receiver<i32>, orx: &Receiver<i32>| {
                let got = select! {
                    recv(rx) -> m => m.ok(),
                    recv(orx) -> m => {
                        assert_eq!(m, Err(RecvError), "nothing is ever sent on `other`");
                        None
                    }
                };
                rx.close();
                orx.close();
                got
            };
            let (rx2, orx2) = (rx.clone(), orx.clone());
            let other = thread::spawn(move || run(&rx2, &orx2));
            let mine = run(&rx, &orx);
            let theirs = other.join().unwrap();
            let mut got: Vec<i32> = mine.into_iter().chain(theirs).collect();
            got.extend(rx.try_recv());
            assert_eq!(got, [1], "received once, or still buffered");
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        });
    }
}

// ------------------------------------------------------------------ select vs close

/// A thread blocked in `select! { recv(rx), recv(rx) }` on `bounded(0)` vs `try_send` then
/// close from main: the select gets the value iff the `try_send` handed it over (before the
/// close), else `Err(RecvError)`.
#[test]
fn select_recv_vs_try_send_then_close() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let rx2 = rx.clone(); // keep `rx`: the select thread's drop must not close the channel
        let s = thread::spawn(move || {
            select! {
                recv(rx2) -> m => m,
                recv(rx2) -> m => m,
            }
        });
        let sent = tx.try_send(7);
        assert!(tx.close());
        match s.join().unwrap() {
            Ok(v) => {
                assert_eq!(v, 7);
                assert_eq!(sent, Ok(()));
            }
            Err(RecvError) => assert_eq!(sent, Err(TrySendError::Full(7))),
        }
    });
}

/// A thread blocked in `select! { send(tx, 5), send(tx, 6) }` on `bounded(0)` (two send
/// entries with their own values, one waiter) vs `try_recv` then close from main: if main
/// received `v`, the select reports arm `v` sent; otherwise it reports a closed arm with that
/// arm's own value handed back.
#[test]
fn select_two_sends_vs_try_recv_then_close() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let tx2 = tx.clone(); // keep `tx`: the select thread's drop must not close the channel
        let s = thread::spawn(move || {
            select! {
                send(tx2, 5) -> r => (5, r),
                send(tx2, 6) -> r => (6, r),
            }
        });
        let got = rx.try_recv();
        assert!(rx.close());
        let (arm, r) = s.join().unwrap();
        match got {
            Ok(v) => {
                assert_eq!(
                    v, arm,
                    "the arm that ran is the one whose value was received"
                );
                assert_eq!(r, Ok(()));
            }
            Err(e) => {
                assert_eq!(e, TryRecvError::Empty);
                assert_eq!(
                    r,
                    Err(SendError(arm)),
                    "the chosen arm's own value comes back"
                );
            }
        }
    });
}

/// A thread blocked in `select!` over two `bounded(0)` channels while main closes the first:
/// the select returns that arm with `Err(RecvError)`.
#[test]

fn select_recv_vs_close_two_channels() {
    for swap in [false, true] {
        model(move || {
            let ((tx1, rx1), (_tx2, rx2)) = two_channels::<i32>(0, swap);
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
}

/// A select blocked over two `bounded(0)` channels vs `try_send` then close on the first: the
/// select gets the value iff the `try_send` handed it over, else that arm's `Err(RecvError)`.
#[test]

fn select_recv_vs_try_send_then_close_two_channels() {
    for swap in [false, true] {
        model(move || {
            let ((tx1, rx1), (_tx2, rx2)) = two_channels::<i32>(0, swap);
            let rx1b = rx1.clone(); // keep `rx1`: the select thread's drop must not close it
            let s = thread::spawn(move || {
                select! {
                    recv(rx1b) -> m => (1, m),
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
            drop(rx1);
        });
    }
}

/// A select blocked on a send arm (`bounded(0)`, nobody receiving) and a receive arm on
/// another channel, while main closes the send arm's channel: the send arm is chosen with its
/// value handed back.
#[test]

fn select_send_vs_close_two_channels() {
    for swap in [false, true] {
        model(move || {
            let ((tx1, rx1), (_tx2, rx2)) = two_channels::<i32>(0, swap);
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
}

/// A `select_async!` over two `bounded(0)` channels, pending, vs a close of the first from
/// another thread: the select is woken and returns that arm with `Err(RecvError)`.
#[test]
fn async_select_vs_close() {
    for swap in [false, true] {
        model(move || {
            let ((tx1, rx1), (_tx2, rx2)) = two_channels::<i32>(0, swap);
            let (count, waker) = counting_waker();
            let mut fut = Box::pin(async {
                select_async! {
                    recv(rx1) -> m => (1, m),
                    recv(rx2) -> m => (2, m),
                }
            });
            assert!(poll_once(&mut fut, &waker).is_pending());
            let closer = thread::spawn(move || assert!(tx1.close()));
            wait_for_wake(&count, 0);
            assert_eq!(
                poll_once(&mut fut, &waker),
                Poll::Ready((1, Err(RecvError)))
            );
            closer.join().unwrap();
        });
    }
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
        let (value, d) = tracked(5);
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
                assert_eq!(drops(&d), 0);
            }
            None => {
                assert!(matches!(got, Err(RecvTimeoutError::Timeout)));
                assert_eq!(drops(&d), 1, "dropped with the select");
            }
        }
        assert_eq!(drops(&d), 1, "exactly once");
    });
}

/// `select! { send(tx, v), default(timeout) }` on `bounded(0)` vs a thread's `try_recv`.
#[test]
fn select_send_timeout_vs_try_recv() {
    model(|| {
        let (tx, rx) = bounded::<Tracked>(0);
        let rx2 = rx.clone(); // keep `rx`: see above
        let receiver = thread::spawn(move || rx2.try_recv());
        let (value, d) = tracked(5);
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
        assert_eq!(drops(&d), 1, "exactly once");
    });
}

// ------------------------------------------------------------------ async cancellation

/// A `select_async!` over two `bounded(1)` channels is polled once (pending), then dropped
/// while a thread `try_send`s on the first: the value is buffered, never taken by the dead
/// select, and `try_recv` finds it.
#[test]
fn async_select_recv_drop_vs_try_send() {
    for swap in [false, true] {
        model(move || {
            let ((tx1, rx1), (_tx2, rx2)) = two_channels::<i32>(1, swap);
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
}

/// A pending `select_async!` over two `bounded(0)` channels is dropped while a thread blocks
/// in `send` on the first: the sender is still there for the next (blocking) receive.
#[test]
fn async_select_recv_drop_vs_blocking_send() {
    for swap in [false, true] {
        model(move || {
            let ((tx1, rx1), (_tx2, rx2)) = two_channels::<i32>(0, swap);
            let (_c, waker) = counting_waker();
            let mut fut = Box::pin(async {
                select_async! {
                    recv(rx1) -> m => m.ok(),
                    recv(rx2) -> m => m.ok(),
                }
            });
            assert!(poll_once(&mut fut, &waker).is_pending());
            let sender = thread::spawn(move || tx1.send(1));
            drop(fut);
            assert_eq!(rx1.recv(), Ok(1));
            assert_eq!(sender.join().unwrap(), Ok(()));
        });
    }
}

/// A pending `select_async!` and a pending `recv_async` on the same `bounded(1)` channel; a
/// thread sends one value while main drops the select (which may have been notified). The
/// notification must be passed on: the `recv_async` is woken and takes the value.
#[test]
fn async_select_drop_passes_notification_on() {
    for swap in [false, true] {
        model(move || {
            let ((tx1, rx1), (_tx2, rx2)) = two_channels::<i32>(1, swap);
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
            let tx = tx1.clone(); // keep `tx1`: a close would wake everyone, hiding a lost wake
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
}

/// A pending `select_async! { send(tx, v) }` on `bounded(0)` is dropped while a thread
/// `try_recv`s: either the receiver got the value (once), or nothing was delivered and the
/// value was dropped with the future, exactly once.
#[test]
fn async_select_send_drop_vs_try_recv() {
    model(|| {
        let (tx, rx) = bounded::<Tracked>(0);
        let (_c, waker) = counting_waker();
        let (value, d) = tracked(5);
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
                assert_eq!(drops(&d), 0, "delivered, and dropped by the select too");
            }
            Err(e) => {
                assert_eq!(e, TryRecvError::Empty);
                assert_eq!(drops(&d), 1, "neither delivered nor dropped");
            }
        }
        assert_eq!(drops(&d), 1, "exactly once");
        assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    });
}

/// A pending `select_async! { send(tx, v) }` on `bounded(0)` is dropped while a thread
/// blocks in `recv`; main then drops the last sender, so that a receiver left waiting wakes
/// with `Err`. The receiver gets the value iff the select delivered it before being dropped;
/// otherwise the value is dropped with the future; exactly once either way.
#[test]
fn async_select_send_drop_vs_blocking_recv() {
    model(|| {
        let (tx, rx) = bounded::<Tracked>(0);
        let (_c, waker) = counting_waker();
        let (value, d) = tracked(5);
        let receiver = thread::spawn(move || rx.recv().map(|v| v.v));
        let mut fut = Box::pin(async {
            select_async! {
                send(tx, value) -> r => r.is_ok(),
            }
        });
        let first = poll_once(&mut fut, &waker);
        drop(fut);
        drop(tx);
        let got = receiver.join().unwrap();
        assert_eq!(drops(&d), 1, "exactly once");
        match first {
            Poll::Ready(sent) => {
                assert!(
                    sent,
                    "nobody closed the channel before the select completed"
                );
                assert_eq!(got, Ok(5));
            }
            Poll::Pending => assert!(got == Ok(5) || got == Err(RecvError)),
        }
    });
}

/// A `select_async!` over two `bounded(0)` channels, driven by an executor that polls only
/// when woken, vs a sender thread: the async arm is only notified and takes the value itself;
/// no wake-up may be lost.
#[test]
fn async_select_recv_vs_send() {
    for swap in [false, true] {
        model(move || {
            let ((tx1, rx1), (_tx2, rx2)) = two_channels::<i32>(0, swap);
            let tx = tx1.clone(); // keep `tx1`: a close would wake everyone, hiding a lost wake
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
/// receive in main, on `bounded(0)`: a waiting receiver makes the deferred arm ready, or the
/// receiver invites the waiting deferred sender; either way main gets 1.
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

/// A deferred `Select::send` arm in thread A vs an async receiver on `bounded(0)` driven by a
/// woken-only executor: the receiver is notified (an async receive entry never takes a value
/// handed over), the deferred arm invites it when it waits; neither wake-up may be lost.
#[test]
fn deferred_send_meets_async_recv() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let rx2 = rx.clone(); // keep `rx`: a close would wake everyone, hiding a lost wake
        let a = thread::spawn(move || {
            let mut sel = Select::new();
            sel.send(&tx);
            let op = sel.select();
            op.send(&tx, 1)
        });
        assert_eq!(block_on(rx2.recv_async()), Ok(1));
        assert_eq!(a.join().unwrap(), Ok(()));
        drop(rx);
    });
}

/// Thread A in `select! { send(tx, 1) }` vs an async receiver on `bounded(0)` driven by a
/// woken-only executor: the async receive entry is only notified (never handed the value),
/// so the select's send arm waits with its value until the receiver comes to take it.
#[test]
fn select_send_meets_async_recv() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let rx2 = rx.clone(); // keep `rx`: a close would wake everyone, hiding a lost wake
        let a = thread::spawn(move || {
            select! {
                send(tx, 1) -> r => r,
            }
        });
        assert_eq!(block_on(rx2.recv_async()), Ok(1));
        assert_eq!(a.join().unwrap(), Ok(()));
        drop(rx);
    });
}

/// `select_async! { send(tx, 1) }` under a woken-only executor vs thread A in
/// `select! { recv(rx) }` on `bounded(0)`: the blocking select takes the value from the async
/// send entry (or is handed it), and the async select is woken to complete.
#[test]
fn async_select_send_meets_select_recv() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let tx2 = tx.clone(); // keep `tx`: a close would wake everyone, hiding a lost wake
        let a = thread::spawn(move || {
            select! {
                recv(rx) -> m => m,
            }
        });
        let sent = block_on(Box::pin(async {
            select_async! {
                send(tx2, 1) -> r => r,
            }
        }));
        assert_eq!(sent, Ok(()));
        assert_eq!(a.join().unwrap(), Ok(1));
        drop(tx);
    });
}
