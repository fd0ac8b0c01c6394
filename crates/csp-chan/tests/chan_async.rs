//! Async forms under tokio, smol and `futures::executor`, mixed with blocking threads on the
//! same channel, and cancel safety.
#![cfg(not(loom))]

use csp_chan::{RecvError, SendError, bounded, unbounded};
use futures::{SinkExt, StreamExt};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

const N: usize = if cfg!(miri) { 20 } else { 5_000 };

/// A waker that counts how often it was woken.
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn count_waker() -> (Arc<CountWaker>, Waker) {
    let c = Arc::new(CountWaker(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

fn poll_once<F: Future + Unpin>(f: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(f).poll(&mut Context::from_waker(waker))
}

/// Async senders and receivers plus one blocking sender thread and one blocking receiver
/// thread on one channel: every value exactly once. `spawn` runs a future to completion on
/// the executor under test and returns a join function.
fn mixed_exactly_once<S, J>(cap: Option<usize>, spawn: S)
where
    S: Fn(Pin<Box<dyn Future<Output = Vec<usize>> + Send>>) -> J,
    J: FnOnce() -> Vec<usize>,
{
    let (tx, rx) = match cap {
        Some(c) => bounded(c),
        None => unbounded(),
    };
    let mut joins = Vec::new();
    // Two async senders.
    for s in 0..2 {
        let tx = tx.clone();
        joins.push(spawn(Box::pin(async move {
            for i in 0..N {
                tx.send_async(s * N + i).await.unwrap();
            }
            Vec::new()
        })));
    }
    // One blocking sender thread.
    let t_send = {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..N {
                tx.send(2 * N + i).unwrap();
            }
        })
    };
    drop(tx);
    // Two async receivers.
    for _ in 0..2 {
        let rx = rx.clone();
        joins.push(spawn(Box::pin(async move {
            let mut got = Vec::new();
            while let Ok(v) = rx.recv_async().await {
                got.push(v);
            }
            got
        })));
    }
    // One blocking receiver thread.
    let t_recv = {
        let rx = rx.clone();
        thread::spawn(move || rx.iter().collect::<Vec<_>>())
    };
    drop(rx);
    let mut all: Vec<usize> = joins.into_iter().flat_map(|j| j()).collect();
    t_send.join().unwrap();
    all.extend(t_recv.join().unwrap());
    all.sort();
    assert_eq!(all, (0..3 * N).collect::<Vec<_>>(), "cap {cap:?}");
}

const CAPS: [Option<usize>; 4] = [Some(0), Some(1), Some(16), None];

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn tokio_multi_thread_mixed_with_threads() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for cap in CAPS {
        mixed_exactly_once(cap, |f| {
            let h = rt.spawn(f);
            let handle = rt.handle().clone();
            move || handle.block_on(h).unwrap()
        });
    }
}

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn tokio_current_thread_mixed_with_threads() {
    for cap in CAPS {
        let rt = Arc::new(
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
        );
        // Tasks run only while some `block_on` drives the runtime: the first join drives them
        // all, the threads are the other side.
        mixed_exactly_once(cap, |f| {
            let h = rt.spawn(f);
            let rt = rt.clone();
            move || rt.block_on(h).unwrap()
        });
    }
}

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn smol_mixed_with_threads() {
    for cap in CAPS {
        mixed_exactly_once(cap, |f| {
            let task = smol::spawn(f);
            move || smol::block_on(task)
        });
    }
}

#[test]
fn futures_executor_mixed_with_threads() {
    for cap in CAPS {
        mixed_exactly_once(cap, |f| {
            let t = thread::spawn(move || futures::executor::block_on(f));
            move || t.join().unwrap()
        });
    }
}

#[test]
fn async_rendezvous_between_tasks_on_one_thread() {
    // Capacity 0 in async, both ends on one single-threaded executor: works (async-channel
    // and tokio cannot do capacity 0 at all).
    futures::executor::block_on(async {
        let (tx, rx) = bounded(0);
        let send = async {
            for i in 0..100 {
                tx.send_async(i).await.unwrap();
            }
            drop(tx);
        };
        let recv = async {
            let mut v = Vec::new();
            while let Ok(x) = rx.recv_async().await {
                v.push(x);
            }
            v
        };
        let ((), got) = futures::join!(send, recv);
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn async_send_rendezvous_is_pending_until_received() {
    let (w, waker) = count_waker();
    let (tx, rx) = bounded(0);
    let mut fut = tx.send_async(1);
    assert!(poll_once(&mut fut, &waker).is_pending());
    assert!(poll_once(&mut fut, &waker).is_pending());
    assert_eq!(w.0.load(Ordering::SeqCst), 0);
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(w.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll_once(&mut fut, &waker), Poll::Ready(Ok(())));
}

#[test]
fn dropped_pending_recv_async_loses_nothing() {
    for cap in [0usize, 1, 4] {
        let (_w, waker) = count_waker();
        let (tx, rx) = bounded(cap);
        let mut a = rx.recv_async();
        assert!(poll_once(&mut a, &waker).is_pending());
        let mut b = rx.recv_async();
        assert!(poll_once(&mut b, &waker).is_pending());
        // A thread sends: the first pending receiver is notified ...
        let tx2 = tx.clone();
        let mut t = Some(thread::spawn(move || tx2.send(42).unwrap()));
        if cap > 0 {
            t.take().unwrap().join().unwrap();
        } else {
            while tx.queue_lens().0 == 0 {
                thread::yield_now();
            }
        }
        // ... but is dropped before it takes the value: the value is still there for `b`.
        drop(a);
        assert_eq!(poll_once(&mut b, &waker), Poll::Ready(Ok(42)), "cap {cap}");
        if let Some(t) = t {
            t.join().unwrap();
        }
        drop(b);
        assert_eq!(rx.try_recv(), Err(csp_chan::TryRecvError::Empty));
    }
}

#[test]
fn dropped_notified_recv_async_passes_value_to_blocked_thread() {
    let (_w, waker) = count_waker();
    let (tx, rx) = bounded(1);
    let mut a = rx.recv_async();
    assert!(poll_once(&mut a, &waker).is_pending());
    let rx2 = rx.clone();
    let t = thread::spawn(move || rx2.recv());
    while tx.queue_lens().1 < 2 {
        thread::yield_now();
    }
    tx.send(5).unwrap(); // notifies `a`, which is first in line
    drop(a); // ... which passes the notification to the thread
    assert_eq!(t.join().unwrap(), Ok(5));
}

#[test]
fn dropped_pending_send_async_delivers_nothing() {
    for cap in [0usize, 1] {
        let (_w, waker) = count_waker();
        let (tx, rx) = bounded(cap);
        for i in 0..cap {
            tx.send(100 + i).unwrap();
        }
        let mut fut = tx.send_async(1);
        assert!(poll_once(&mut fut, &waker).is_pending());
        drop(fut);
        for i in 0..cap {
            assert_eq!(rx.try_recv(), Ok(100 + i));
        }
        assert!(
            rx.try_recv().is_err(),
            "cap {cap}: the dropped send arrived"
        );
        assert_eq!(tx.queue_lens(), (0, 0));
    }
}

#[test]
fn send_fut_cancel_returns_undelivered_value() {
    let (_w, waker) = count_waker();
    let (tx, rx) = bounded(0);
    // Never polled: the value is simply handed back.
    assert_eq!(tx.send_async(1).cancel(), Some(1));
    // Pending: withdrawn and handed back.
    let mut fut = tx.send_async(2);
    assert!(poll_once(&mut fut, &waker).is_pending());
    assert_eq!(fut.cancel(), Some(2));
    assert!(rx.try_recv().is_err());
    // Taken by a receiver before cancel: nothing to hand back.
    let mut fut = tx.send_async(3);
    assert!(poll_once(&mut fut, &waker).is_pending());
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(fut.cancel(), None);
    // Closed while pending: handed back.
    let mut fut = tx.send_async(4);
    assert!(poll_once(&mut fut, &waker).is_pending());
    rx.close();
    assert_eq!(fut.cancel(), Some(4));
}

#[test]
fn async_close_wakes_pending_futures() {
    let (w, waker) = count_waker();
    let (tx, rx) = bounded::<i32>(0);
    let mut r = rx.recv_async();
    let mut s = tx.send_async(9);
    // On an unbuffered channel a pending receiver is notified by the pending sender, so poll
    // the receive of another channel end.
    assert!(poll_once(&mut s, &waker).is_pending());
    assert!(tx.close());
    assert_eq!(poll_once(&mut s, &waker), Poll::Ready(Err(SendError(9))));
    assert_eq!(poll_once(&mut r, &waker), Poll::Ready(Err(RecvError)));
    assert!(w.0.load(Ordering::SeqCst) >= 1);
}

#[test]
fn async_recv_wakes_on_close() {
    let (w, waker) = count_waker();
    let (tx, rx) = bounded::<i32>(3);
    let mut r = rx.recv_async();
    assert!(poll_once(&mut r, &waker).is_pending());
    drop(tx);
    assert_eq!(w.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll_once(&mut r, &waker), Poll::Ready(Err(RecvError)));
}

#[test]
fn repolling_with_a_new_waker_wakes_the_new_one() {
    let (w1, waker1) = count_waker();
    let (w2, waker2) = count_waker();
    let (tx, rx) = bounded::<i32>(1);
    let mut r = rx.recv_async();
    assert!(poll_once(&mut r, &waker1).is_pending());
    assert!(poll_once(&mut r, &waker2).is_pending());
    tx.send(1).unwrap();
    assert_eq!(w1.0.load(Ordering::SeqCst), 0);
    assert_eq!(w2.0.load(Ordering::SeqCst), 1);
    assert_eq!(poll_once(&mut r, &waker2), Poll::Ready(Ok(1)));
}

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn stream_and_sink() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, rx) = bounded(0);
        let producer = tokio::spawn(async move {
            let mut sink = tx.sink();
            for i in 0..N {
                sink.send(i).await.unwrap();
            }
        });
        let got: Vec<usize> = rx.stream().collect().await;
        producer.await.unwrap();
        assert_eq!(got, (0..N).collect::<Vec<_>>());
    });
}

#[test]
fn sink_reports_closed_with_value() {
    futures::executor::block_on(async {
        let (tx, rx) = bounded::<i32>(1);
        let mut sink = tx.sink();
        drop(rx);
        let err = sink.send(3).await.unwrap_err();
        assert_eq!(err.into_inner(), 3);
    });
}

#[test]
fn async_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let (tx, rx) = bounded::<String>(1);
    let f = async move {
        tx.send_async("a".into()).await.unwrap();
        rx.recv_async().await.unwrap()
    };
    assert_send(&f);
    assert_eq!(futures::executor::block_on(f), "a");
}

#[test]
fn select_like_race_with_timer_under_any_executor() {
    // An async receive raced against csp-park's timer (no runtime timer involved): the
    // receive loses, is dropped, and nothing is lost.
    use futures::future::{Either, select};
    let (tx, rx) = bounded::<i32>(0);
    let r = futures::executor::block_on(async {
        let recv = rx.recv_async();
        let sleep = csp_park::timer::sleep(std::time::Duration::from_millis(5));
        match select(recv, sleep).await {
            Either::Left(_) => "recv",
            Either::Right(_) => "timeout",
        }
    });
    assert_eq!(r, "timeout");
    assert_eq!(tx.queue_lens(), (0, 0));
    let t = thread::spawn(move || tx.send(1));
    assert_eq!(futures::executor::block_on(rx.recv_async()), Ok(1));
    t.join().unwrap().unwrap();
}
