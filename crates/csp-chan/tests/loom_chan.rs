//! Loom model checks of the channel protocol (`chan.rs`): rendezvous, close racing blocked
//! operations, async cancellation racing a counterpart, deadlines racing a wake, and the
//! hand-on of a notification consumed by a dropped async receiver.
//!
//! Every check is an exactly-once accounting: each value sent ends up received, drained, or
//! handed back to its sender, exactly once. A lost wake-up shows up as a loom deadlock.
//!
//! Run with
//! `CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" cargo test --release -p csp-chan --test loom_chan`.
#![cfg(loom)]

use csp_chan::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError, bounded,
};
use csp_park::sync::thread;
use std::task::Poll;

mod loom_support;
use loom_support::*;

// ------------------------------------------------------------------ send / recv

/// A sender thread and a receiving main thread meet on `bounded(0)`.
#[test]
fn unbuffered_send_recv() {
    model(|| {
        let (tx, rx) = bounded(0);
        let t = thread::spawn(move || tx.send(1).unwrap());
        assert_eq!(rx.recv(), Ok(1));
        t.join().unwrap();
    });
}

/// Two sender threads, one receiver receiving twice on `bounded(0)`: both values arrive
/// exactly once, then the channel is closed (both senders gone).
#[test]
fn unbuffered_two_senders() {
    model(|| {
        let (tx, rx) = bounded(0);
        let tx2 = tx.clone();
        let t1 = thread::spawn(move || tx.send(1).unwrap());
        let t2 = thread::spawn(move || tx2.send(2).unwrap());
        let mut got = [rx.recv().unwrap(), rx.recv().unwrap()];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(rx.recv(), Err(RecvError));
    });
}

/// A blocked sender moves its value into the buffer when a receiver makes room
/// (`bounded(1)`, full): FIFO is kept.
#[test]
fn buffered_blocked_sender_refills() {
    model(|| {
        let (tx, rx) = bounded(1);
        tx.send(1).unwrap();
        let t = thread::spawn(move || tx.send(2).unwrap());
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        t.join().unwrap();
    });
}

// ------------------------------------------------------------------ close

/// A sender blocked on `bounded(0)`, a receiver thread, and a close from main: the value is
/// either received (and the send succeeded) or handed back with the error, never both or
/// neither.
#[test]
fn unbuffered_send_vs_recv_vs_close() {
    model(|| {
        let (tx, rx) = bounded(0);
        let rx2 = rx.clone();
        let sender = thread::spawn(move || tx.send(1));
        let receiver = thread::spawn(move || rx2.recv());
        rx.close();
        let sent = sender.join().unwrap();
        let got = receiver.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(got, Ok(1)),
            Err(SendError(v)) => {
                assert_eq!(v, 1);
                assert_eq!(got, Err(RecvError));
            }
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// A sender blocked on a full `bounded(1)` vs a close: the blocked value either made it into
/// the buffer (send `Ok`, drained after the close) or came back (`Err`); the buffered value
/// is still drained.
#[test]
fn buffered_blocked_send_vs_close() {
    model(|| {
        let (tx, rx) = bounded(1);
        tx.send(0).unwrap();
        let tx2 = tx.clone();
        let sender = thread::spawn(move || tx2.send(1));
        assert!(rx.close());
        let sent = sender.join().unwrap();
        // Nobody received before the close, so the blocked send cannot have succeeded.
        assert_eq!(sent, Err(SendError(1)));
        assert_eq!(rx.try_recv(), Ok(0));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    });
}

/// Full `bounded(1)`, a blocked sender, a receiver thread taking one value and a close from
/// main: values 0 (buffered) and 1 (blocked) are each received, drained or returned, exactly
/// once.
#[test]
fn buffered_send_vs_recv_vs_close() {
    model(|| {
        let (tx, rx) = bounded(1);
        tx.send(0).unwrap();
        let rx2 = rx.clone();
        let sender = thread::spawn(move || tx.send(1));
        let receiver = thread::spawn(move || rx2.recv());
        rx.close();
        let sent = sender.join().unwrap();
        let got = receiver.join().unwrap();
        assert_eq!(got, Ok(0), "the buffered value is always there to receive");
        let mut seen = vec![0];
        while let Ok(v) = rx.try_recv() {
            seen.push(v);
        }
        match sent {
            Ok(()) => seen.sort_unstable(),
            Err(SendError(v)) => seen.push(v),
        }
        assert_eq!(seen, [0, 1], "each value exactly once");
    });
}

/// A blocked receiver vs `try_send` + close on `bounded(0)`: the receiver gets the value iff
/// the `try_send` succeeded (it handed the value to the blocked receiver before the close),
/// and `Err(RecvError)` otherwise.
#[test]
fn unbuffered_recv_vs_close() {
    model(|| {
        let (tx, rx) = bounded(0);
        let rx2 = rx.clone(); // keep `rx`: dropping the last receiver would close
        let receiver = thread::spawn(move || rx2.recv());
        let sent = tx.try_send(7);
        assert!(tx.close());
        match receiver.join().unwrap() {
            Ok(v) => {
                assert_eq!(v, 7);
                assert_eq!(sent, Ok(()));
            }
            Err(RecvError) => assert_eq!(sent, Err(TrySendError::Full(7))),
        }
    });
}

/// A blocked receiver vs send + close on `bounded(1)`: a value buffered before the close is
/// always received (close does not drop buffered values).
#[test]
fn buffered_recv_vs_close() {
    model(|| {
        let (tx, rx) = bounded(1);
        let receiver = thread::spawn(move || {
            let first = rx.recv();
            (first, rx.recv())
        });
        tx.send(7).unwrap();
        assert!(tx.close());
        let (first, second) = receiver.join().unwrap();
        assert_eq!(first, Ok(7));
        assert_eq!(second, Err(RecvError));
    });
}

// ------------------------------------------------------------------ async cancellation

/// A pending `recv_async` on `bounded(1)` is dropped while a thread `try_send`s: the value
/// is buffered (never taken by the dead future) and `try_recv` finds it.
#[test]
fn async_recv_drop_vs_try_send() {
    model(|| {
        let (tx, rx) = bounded(1);
        let (_c, waker) = counting_waker();
        let mut fut = rx.recv_async();
        assert!(poll_once(&mut fut, &waker).is_pending());
        let sender = thread::spawn(move || tx.try_send(1));
        drop(fut);
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(rx.try_recv(), Ok(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// A pending `recv_async` on `bounded(0)` is dropped while a thread blocks in `send`: the
/// sender is still there for the next (blocking) receive.
#[test]
fn async_recv_drop_vs_blocking_send() {
    model(|| {
        let (tx, rx) = bounded(0);
        let (_c, waker) = counting_waker();
        let mut fut = rx.recv_async();
        assert!(poll_once(&mut fut, &waker).is_pending());
        let sender = thread::spawn(move || tx.send(1));
        drop(fut);
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}

/// A pending `recv_async` is polled again, with a *new* waker (the task moved), while a
/// thread sends: the value is delivered once, either by this poll or after a wake of the new
/// waker (a wake that goes to the stale waker would be lost).
#[test]
fn async_recv_repoll_vs_send() {
    model(|| {
        let (tx, rx) = bounded(1);
        let (_c1, waker1) = counting_waker();
        let (c2, waker2) = counting_waker();
        let mut fut = rx.recv_async();
        assert!(poll_once(&mut fut, &waker1).is_pending());
        let tx2 = tx.clone(); // keep `tx`: a close would wake everyone and hide a lost wake
        let sender = thread::spawn(move || tx2.try_send(1));
        let second = poll_once(&mut fut, &waker2);
        assert_eq!(sender.join().unwrap(), Ok(()));
        match second {
            Poll::Ready(v) => assert_eq!(v, Ok(1)),
            Poll::Pending => {
                assert_eq!(woken(&c2), 1, "pending, and the new waker was never woken");
                assert_eq!(poll_once(&mut fut, &waker2), Poll::Ready(Ok(1)));
            }
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

/// A pending `send_async` on `bounded(0)` is polled again with a new waker while a thread
/// `try_recv`s: if the receiver took the value, the sender completes now or after a wake of
/// the new waker; otherwise it is still pending and `cancel` gives the value back.
#[test]
fn async_send_repoll_vs_try_recv() {
    model(|| {
        let (tx, rx) = bounded(0);
        let (_c1, waker1) = counting_waker();
        let (c2, waker2) = counting_waker();
        let mut fut = tx.send_async(5);
        assert!(poll_once(&mut fut, &waker1).is_pending());
        let rx2 = rx.clone(); // keep `rx`: a close would wake everyone and hide a lost wake
        let receiver = thread::spawn(move || rx2.try_recv());
        let second = poll_once(&mut fut, &waker2);
        let got = receiver.join().unwrap();
        match (got, second) {
            (Ok(v), Poll::Ready(r)) => {
                assert_eq!(v, 5);
                assert_eq!(r, Ok(()));
            }
            (Ok(v), Poll::Pending) => {
                assert_eq!(v, 5);
                assert_eq!(
                    woken(&c2),
                    1,
                    "delivered, but the new waker was never woken"
                );
                assert_eq!(poll_once(&mut fut, &waker2), Poll::Ready(Ok(())));
            }
            (Err(e), second) => {
                assert_eq!(e, TryRecvError::Empty);
                assert!(second.is_pending());
                assert_eq!(fut.cancel(), Some(5));
            }
        }
    });
}

/// A pending `send_async` on `bounded(0)` is cancelled while a thread `try_recv`s: exactly
/// one of "cancel returned the value" and "the receiver got it" holds.
#[test]
fn async_send_cancel_vs_try_recv() {
    model(|| {
        let (tx, rx) = bounded(0);
        let (_c, waker) = counting_waker();
        let mut fut = tx.send_async(5);
        assert!(poll_once(&mut fut, &waker).is_pending());
        let receiver = thread::spawn(move || rx.try_recv());
        let back = fut.cancel();
        let got = receiver.join().unwrap();
        match back {
            Some(v) => {
                assert_eq!(v, 5);
                assert_eq!(got, Err(TryRecvError::Empty));
            }
            None => assert_eq!(got, Ok(5)),
        }
    });
}

/// A pending `send_async` on `bounded(0)` is cancelled while a thread blocks in `recv`
/// (main then drops the sender so that a receiver left waiting wakes with `Closed`):
/// exactly once again.
#[test]
fn async_send_cancel_vs_blocking_recv() {
    model(|| {
        let (tx, rx) = bounded(0);
        let (_c, waker) = counting_waker();
        let receiver = thread::spawn(move || rx.recv());
        let mut fut = tx.send_async(5);
        let first = poll_once(&mut fut, &waker);
        let back = if first.is_ready() {
            assert_eq!(first, Poll::Ready(Ok(())));
            drop(fut);
            None
        } else {
            fut.cancel()
        };
        drop(tx);
        let got = receiver.join().unwrap();
        match back {
            Some(v) => {
                assert_eq!(v, 5);
                assert_eq!(got, Err(RecvError));
            }
            None => assert_eq!(got, Ok(5)),
        }
    });
}

/// An async sender and an async receiver meet on `bounded(0)`, each driven by an executor
/// that polls only when woken: the receiver is only notified and takes the value itself,
/// and neither wake-up may be lost.
#[test]
fn async_send_async_recv_rendezvous() {
    model(|| {
        let (tx, rx) = bounded(0);
        let rx2 = rx.clone(); // keep `rx`: a close would wake everyone and hide a lost wake
        let receiver = thread::spawn(move || block_on(rx2.recv_async()));
        assert_eq!(block_on(tx.send_async(1)), Ok(()));
        assert_eq!(receiver.join().unwrap(), Ok(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

/// Two sender threads and an async receiver (woken-only executor) on an unbounded channel:
/// both values arrive, once each.
#[test]
fn unbounded_async_recv_two_senders() {
    model(|| {
        let (tx, rx) = csp_chan::unbounded();
        let tx1 = tx.clone();
        let tx2 = tx.clone();
        let t1 = thread::spawn(move || tx1.send(1).unwrap());
        let t2 = thread::spawn(move || tx2.send(2).unwrap());
        let mut got = [
            block_on(rx.recv_async()).unwrap(),
            block_on(rx.recv_async()).unwrap(),
        ];
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        t1.join().unwrap();
        t2.join().unwrap();
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// A pending `recv_async` vs a close from another thread: the future is woken and yields
/// `RecvError`.
#[test]
fn async_recv_vs_close() {
    model(|| {
        let (tx, rx) = bounded::<i32>(0);
        let (count, waker) = counting_waker();
        let mut fut = rx.recv_async();
        let first = poll_once(&mut fut, &waker);
        let closer = thread::spawn(move || assert!(tx.close()));
        if first.is_pending() {
            wait_for_wake(&count, 0);
            assert_eq!(poll_once(&mut fut, &waker), Poll::Ready(Err(RecvError)));
        } else {
            assert_eq!(first, Poll::Ready(Err(RecvError)));
        }
        closer.join().unwrap();
    });
}

/// A pending `send_async` on `bounded(0)` vs a close from another thread: the future is
/// woken and hands the value back in `SendError`.
#[test]
fn async_send_vs_close() {
    model(|| {
        let (tx, rx) = bounded(0);
        let (count, waker) = counting_waker();
        let mut fut = tx.send_async(1);
        assert!(poll_once(&mut fut, &waker).is_pending());
        let closer = thread::spawn(move || assert!(rx.close()));
        wait_for_wake(&count, 0);
        assert_eq!(poll_once(&mut fut, &waker), Poll::Ready(Err(SendError(1))));
        closer.join().unwrap();
    });
}

// ------------------------------------------------------------------ deadlines

/// `send_timeout` on `bounded(0)` vs a thread's `try_recv`: the value is delivered exactly
/// once or handed back with `Timeout`.
#[test]
fn send_timeout_vs_try_recv() {
    model(|| {
        let (tx, rx) = bounded(0);
        let rx2 = rx.clone(); // keep `rx`: dropping the last receiver would close
        let receiver = thread::spawn(move || rx2.try_recv());
        let sent = tx.send_timeout(5, TIMEOUT);
        let got = receiver.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(got, Ok(5)),
            Err(SendTimeoutError::Timeout(v)) => {
                assert_eq!(v, 5);
                assert_eq!(got, Err(TryRecvError::Empty));
            }
            Err(SendTimeoutError::Closed(_)) => panic!("nobody closed the channel"),
        }
    });
}

/// `send_timeout` vs `recv_timeout` on `bounded(0)`: both may time out, but the value is
/// never lost nor duplicated.
#[test]
fn send_timeout_vs_recv_timeout() {
    model(|| {
        let (tx, rx) = bounded(0);
        let rx2 = rx.clone(); // keep `rx`: dropping the last receiver would close
        let receiver = thread::spawn(move || rx2.recv_timeout(TIMEOUT));
        let sent = tx.send_timeout(5, TIMEOUT);
        let got = receiver.join().unwrap();
        match sent {
            Ok(()) => assert_eq!(got, Ok(5)),
            Err(SendTimeoutError::Timeout(v)) => {
                assert_eq!(v, 5);
                assert_eq!(got, Err(RecvTimeoutError::Timeout));
            }
            Err(SendTimeoutError::Closed(_)) => panic!("nobody closed the channel"),
        }
    });
}

/// `recv_timeout` on `bounded(0)` vs a thread's `try_send`: the receiver gets the value iff
/// the `try_send` succeeded.
#[test]
fn recv_timeout_vs_try_send() {
    model(|| {
        let (tx, rx) = bounded(0);
        let sender = thread::spawn(move || tx.try_send(5));
        let got = rx.recv_timeout(TIMEOUT);
        let sent = sender.join().unwrap();
        match got {
            Ok(v) => {
                assert_eq!(v, 5);
                assert_eq!(sent, Ok(()));
            }
            Err(RecvTimeoutError::Timeout) => assert_eq!(sent, Err(TrySendError::Full(5))),
            Err(RecvTimeoutError::Closed) => {
                // The sender thread dropped its (only) Sender: closed, and the value must
                // have come back to it.
                assert_eq!(sent, Err(TrySendError::Full(5)));
            }
        }
    });
}

/// `send_timeout` on a full `bounded(1)` vs a thread's `recv`: the blocked value either moved
/// into the buffer (send `Ok`) or came back with `Timeout`; the receiver always gets 0 first.
#[test]
fn buffered_send_timeout_vs_recv() {
    model(|| {
        let (tx, rx) = bounded(1);
        tx.send(0).unwrap();
        let rx2 = rx.clone();
        let receiver = thread::spawn(move || rx2.recv());
        let sent = tx.send_timeout(1, TIMEOUT);
        assert_eq!(receiver.join().unwrap(), Ok(0));
        match sent {
            Ok(()) => assert_eq!(rx.try_recv(), Ok(1)),
            Err(SendTimeoutError::Timeout(v)) => {
                assert_eq!(v, 1);
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            }
            Err(SendTimeoutError::Closed(_)) => panic!("nobody closed the channel"),
        }
    });
}

// ------------------------------------------------------------------ notification hand-on

/// Two `recv_async` futures pending on `bounded(1)`; a thread sends one value while main
/// drops the first future (which may have been notified). The second future must be woken
/// (no lost wake-up) and must then find the value.
#[test]
fn dropped_notified_receiver_passes_it_on() {
    model(|| {
        let (tx, rx) = bounded(1);
        let (_c1, waker1) = counting_waker();
        let (c2, waker2) = counting_waker();
        let mut f1 = rx.recv_async();
        let mut f2 = rx.recv_async();
        assert!(poll_once(&mut f1, &waker1).is_pending());
        assert!(poll_once(&mut f2, &waker2).is_pending());
        // Keep `tx`: the last sender's drop would close the channel and wake everyone,
        // hiding a lost notification.
        let tx2 = tx.clone();
        let sender = thread::spawn(move || tx2.send(1));
        drop(f1);
        assert_eq!(sender.join().unwrap(), Ok(()));
        assert_eq!(
            woken(&c2),
            1,
            "the second receiver was never woken: value stranded"
        );
        assert_eq!(poll_once(&mut f2, &waker2), Poll::Ready(Ok(1)));
        drop(f2);
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// As above on `bounded(0)` with a blocked sender thread: the notification consumed by the
/// dropped first future reaches the second, which takes the value from the blocked sender.
#[test]
fn dropped_notified_receiver_passes_it_on_unbuffered() {
    model(|| {
        let (tx, rx) = bounded(0);
        let (_c1, waker1) = counting_waker();
        let (c2, waker2) = counting_waker();
        let mut f1 = rx.recv_async();
        let mut f2 = rx.recv_async();
        assert!(poll_once(&mut f1, &waker1).is_pending());
        assert!(poll_once(&mut f2, &waker2).is_pending());
        let tx2 = tx.clone(); // keep `tx`: see above
        let sender = thread::spawn(move || tx2.send(1));
        drop(f1);
        // The sender is blocked until f2 takes its value, so wait for f2's wake like an
        // executor would.
        wait_for_wake(&c2, 0);
        assert_eq!(poll_once(&mut f2, &waker2), Poll::Ready(Ok(1)));
        assert_eq!(sender.join().unwrap(), Ok(()));
    });
}
