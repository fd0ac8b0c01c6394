//! Channel semantics with threads: rendezvous, FIFO, close, drop, timeouts, batches.
#![cfg(not(loom))]

use csp_chan::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError, bounded,
    unbounded,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Waits (without a deadline) until `cond` holds; used to order threads deterministically.
fn wait_for(cond: impl Fn() -> bool) {
    while !cond() {
        thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn rendezvous_send_completes_only_after_receiver_takes_value() {
    for _ in 0..20 {
        let (tx, rx) = bounded(0);
        let receiving = Arc::new(AtomicBool::new(false));
        let r = receiving.clone();
        let t = thread::spawn(move || {
            thread::sleep(ms(2));
            r.store(true, Ordering::SeqCst);
            rx.recv().unwrap()
        });
        tx.send(7).unwrap();
        // The send returned: the receiver must already have been inside `recv`.
        assert!(receiving.load(Ordering::SeqCst));
        assert_eq!(t.join().unwrap(), 7);
    }
}

#[test]
fn rendezvous_try_send_fails_without_receiver() {
    let (tx, rx) = bounded(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.len(), 0);
    assert!(tx.is_full());
    assert!(tx.is_empty());
}

#[test]
fn rendezvous_try_send_succeeds_with_blocked_receiver_thread() {
    let (tx, rx) = bounded(0);
    let rx2 = rx.clone();
    let t = thread::spawn(move || rx2.recv());
    wait_for(|| rx.queue_lens().1 == 1);
    assert_eq!(tx.try_send(3), Ok(()));
    assert_eq!(t.join().unwrap(), Ok(3));
}

#[test]
fn buffer_is_fifo() {
    let (tx, rx) = bounded(100);
    for i in 0..100 {
        tx.send(i).unwrap();
    }
    assert!(tx.is_full());
    assert_eq!(tx.try_send(100), Err(TrySendError::Full(100)));
    for i in 0..100 {
        assert_eq!(rx.recv(), Ok(i));
    }
}

#[test]
fn blocked_senders_are_served_fifo() {
    for cap in [0usize, 1] {
        let (tx, rx) = bounded(cap);
        for i in 0..cap {
            tx.send(1000 + i).unwrap();
        }
        let mut ts = Vec::new();
        for i in 0..5 {
            let tx = tx.clone();
            ts.push(thread::spawn(move || tx.send(i).unwrap()));
            wait_for(|| rx.queue_lens().0 == i + 1);
        }
        let mut got = Vec::new();
        for _ in 0..5 + cap {
            got.push(rx.recv().unwrap());
        }
        let mut want: Vec<usize> = (0..cap).map(|i| 1000 + i).collect();
        want.extend(0..5);
        assert_eq!(got, want, "cap {cap}");
        for t in ts {
            t.join().unwrap();
        }
    }
}

#[test]
fn blocked_receivers_are_served_fifo() {
    for cap in [0usize, 1, 8] {
        let (tx, rx) = bounded(cap);
        let order = Arc::new(csp_park::sync::Mutex::new(Vec::new()));
        let mut ts = Vec::new();
        for i in 0..5 {
            let rx = rx.clone();
            let order = order.clone();
            ts.push(thread::spawn(move || {
                let v = rx.recv().unwrap();
                order.lock().push((i, v));
            }));
            wait_for(|| tx.queue_lens().1 == i + 1);
        }
        for v in 0..5 {
            tx.send(v).unwrap();
        }
        for t in ts {
            t.join().unwrap();
        }
        let mut got = order.lock().clone();
        got.sort();
        // Receiver i (the i-th to block) got the i-th value.
        assert_eq!(got, (0..5).map(|i| (i, i)).collect::<Vec<_>>(), "cap {cap}");
    }
}

#[test]
fn receiver_takes_blocked_senders_value_into_buffer() {
    // Go: a receiver on a full buffer takes the head and moves the first blocked sender's
    // value to the tail.
    let (tx, rx) = bounded(2);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    let tx2 = tx.clone();
    let t = thread::spawn(move || tx2.send(3));
    wait_for(|| rx.queue_lens().0 == 1);
    assert_eq!(rx.recv(), Ok(1));
    assert_eq!(t.join().unwrap(), Ok(()));
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![2, 3]);
}

#[test]
fn close_wakes_every_blocked_sender_with_its_value() {
    for cap in [0usize, 2] {
        let (tx, rx) = bounded(cap);
        for i in 0..cap {
            tx.send(100 + i).unwrap();
        }
        let ts: Vec<_> = (0..4)
            .map(|i| {
                let tx = tx.clone();
                thread::spawn(move || tx.send(i))
            })
            .collect();
        wait_for(|| rx.queue_lens().0 == 4);
        assert!(rx.close());
        let mut back: Vec<usize> = ts
            .into_iter()
            .map(|t| t.join().unwrap().unwrap_err().into_inner())
            .collect();
        back.sort();
        assert_eq!(back, vec![0, 1, 2, 3]);
        // Buffered values are still drained after close.
        for i in 0..cap {
            assert_eq!(rx.recv(), Ok(100 + i));
        }
        assert_eq!(rx.recv(), Err(RecvError));
    }
}

#[test]
fn close_wakes_every_blocked_receiver() {
    for cap in [Some(0), Some(3), None] {
        let (tx, rx) = match cap {
            Some(c) => bounded::<i32>(c),
            None => unbounded(),
        };
        let ts: Vec<_> = (0..4)
            .map(|_| {
                let rx = rx.clone();
                thread::spawn(move || rx.recv())
            })
            .collect();
        wait_for(|| tx.queue_lens().1 == 4);
        assert!(tx.close());
        for t in ts {
            assert_eq!(t.join().unwrap(), Err(RecvError));
        }
    }
}

#[test]
fn drain_after_close() {
    let (tx, rx) = unbounded();
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    assert!(tx.close());
    assert!(!tx.close());
    assert!(!rx.close());
    assert!(tx.is_closed() && rx.is_closed());
    assert_eq!(tx.send(99), Err(SendError(99)));
    assert_eq!(tx.try_send(99), Err(TrySendError::Closed(99)));
    assert_eq!(
        tx.send_timeout(99, ms(1)),
        Err(SendTimeoutError::Closed(99))
    );
    assert_eq!(rx.iter().collect::<Vec<_>>(), (0..10).collect::<Vec<_>>());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(rx.recv_timeout(ms(1)), Err(RecvTimeoutError::Closed));
}

#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn dropping_last_sender_closes_but_keeps_buffer() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = bounded(4);
    let tx2 = tx.clone();
    tx.send(Counted(drops.clone())).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    assert!(rx.recv().is_ok());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(rx.recv().is_err());
}

#[test]
fn dropping_last_receiver_closes_and_drops_buffer() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = bounded(4);
    for _ in 0..3 {
        tx.send(Counted(drops.clone())).unwrap();
    }
    let rx2 = rx.clone();
    drop(rx);
    assert!(!tx.is_closed());
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx2);
    assert!(tx.is_closed());
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    let e = tx.send(Counted(drops.clone())).unwrap_err();
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    drop(e);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn dropping_last_receiver_wakes_blocked_sender_with_value() {
    let (tx, rx) = bounded(0);
    let rx2 = rx.clone();
    let t = thread::spawn(move || tx.send(5));
    wait_for(|| rx.queue_lens().0 == 1);
    drop(rx);
    drop(rx2);
    assert_eq!(t.join().unwrap(), Err(SendError(5)));
}

#[test]
fn channel_drop_drops_everything_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let (tx, _rx) = unbounded();
        for _ in 0..10 {
            tx.send(Counted(drops.clone())).unwrap();
        }
    }
    assert_eq!(drops.load(Ordering::SeqCst), 10);
}

#[test]
fn counts_and_identity() {
    let (tx, rx) = bounded::<u8>(3);
    assert_eq!((tx.sender_count(), tx.receiver_count()), (1, 1));
    let tx2 = tx.clone();
    let rx2 = rx.clone();
    let rx3 = rx.clone();
    assert_eq!((rx.sender_count(), rx.receiver_count()), (2, 3));
    drop(rx3);
    assert_eq!(tx2.receiver_count(), 2);
    assert!(tx.same_channel(&tx2));
    assert!(tx.same_channel(&rx2));
    assert!(rx.same_channel(&tx));
    let (other, _orx) = bounded::<u8>(3);
    assert!(!tx.same_channel(&other));
    assert_eq!(tx.capacity(), Some(3));
    assert_eq!(unbounded::<u8>().0.capacity(), None);
    assert!(!unbounded::<u8>().0.is_full());
    let dbg = format!("{tx:?}");
    assert!(dbg.contains("capacity"), "{dbg}");
}

#[test]
fn zero_sized_values() {
    for cap in [Some(0), Some(1), Some(1000), None] {
        let (tx, rx) = match cap {
            Some(c) => bounded::<()>(c),
            None => unbounded(),
        };
        let t = thread::spawn(move || {
            for _ in 0..1000 {
                tx.send(()).unwrap();
            }
        });
        assert_eq!(rx.iter().count(), 1000);
        t.join().unwrap();
    }
}

#[test]
fn huge_capacity_allocates_lazily() {
    let (tx, rx) = bounded::<[u64; 16]>(usize::MAX);
    assert_eq!(tx.capacity(), Some(usize::MAX));
    for i in 0..2000u64 {
        tx.send([i; 16]).unwrap();
    }
    assert_eq!(rx.len(), 2000);
    assert_eq!(rx.recv().unwrap()[0], 0);
}

#[test]
fn timeouts_expire_and_return_the_value() {
    let (tx, rx) = bounded(0);
    let start = Instant::now();
    assert_eq!(
        tx.send_timeout(1, ms(20)),
        Err(SendTimeoutError::Timeout(1))
    );
    assert!(start.elapsed() >= ms(20));
    let start = Instant::now();
    assert_eq!(rx.recv_timeout(ms(20)), Err(RecvTimeoutError::Timeout));
    assert!(start.elapsed() >= ms(20));
    let deadline = Instant::now() + ms(10);
    assert_eq!(
        tx.send_deadline(2, deadline),
        Err(SendTimeoutError::Timeout(2))
    );
    assert!(Instant::now() >= deadline);
    assert_eq!(
        rx.recv_deadline(Instant::now()),
        Err(RecvTimeoutError::Timeout)
    );
    // Timed-out waiters leave the queues.
    assert_eq!(tx.queue_lens(), (0, 0));
}

#[test]
fn timeout_succeeds_when_counterpart_arrives() {
    let (tx, rx) = bounded(0);
    let t = thread::spawn(move || {
        thread::sleep(ms(5));
        rx.recv().unwrap()
    });
    assert_eq!(tx.send_timeout(9, Duration::from_secs(30)), Ok(()));
    assert_eq!(t.join().unwrap(), 9);
    // A huge timeout means "forever", not an overflow panic.
    let (tx, rx) = bounded(1);
    tx.send_timeout(1, Duration::MAX).unwrap();
    assert_eq!(rx.recv_timeout(Duration::MAX), Ok(1));
}

#[test]
fn timed_out_senders_never_deliver_later() {
    let (tx, rx) = bounded(0);
    for i in 0..50 {
        assert!(tx.send_timeout(i, Duration::from_micros(50)).is_err());
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.queue_lens(), (0, 0));
}

#[test]
fn recv_many_batches() {
    let (tx, rx) = bounded(10);
    let mut out = Vec::new();
    assert_eq!(rx.try_recv_many(&mut out, 5), 0);
    assert_eq!(rx.recv_many(&mut out, 0), 0);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    // Two blocked senders are moved into the buffer as room is made.
    let t = {
        let tx = tx.clone();
        thread::spawn(move || {
            tx.send(10).unwrap();
            tx.send(11).unwrap();
        })
    };
    wait_for(|| rx.queue_lens().0 == 1);
    assert_eq!(rx.recv_many(&mut out, 4), 4);
    assert_eq!(out, vec![0, 1, 2, 3]);
    t.join().unwrap();
    out.clear();
    drop(tx);
    assert_eq!(rx.recv_many(&mut out, 100), 8);
    assert_eq!(out, (4..12).collect::<Vec<_>>());
    assert_eq!(rx.recv_many(&mut out, 100), 0);
}

#[test]
fn recv_many_blocks_until_a_value() {
    let (tx, rx) = bounded(0);
    let t = thread::spawn(move || {
        thread::sleep(ms(5));
        tx.send(1).unwrap();
    });
    let mut out = Vec::new();
    assert_eq!(rx.recv_many(&mut out, 3), 1);
    assert_eq!(out, vec![1]);
    t.join().unwrap();
}

#[test]
fn iterators() {
    let (tx, rx) = unbounded();
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(rx.try_iter().next(), None);
    tx.send(3).unwrap();
    drop(tx);
    let mut n = 0;
    for v in &rx {
        assert_eq!(v, 3);
        n += 1;
    }
    assert_eq!(n, 1);
    let (tx, rx) = bounded(0);
    thread::spawn(move || (0..5).for_each(|i| tx.send(i).unwrap()));
    assert_eq!(rx.into_iter().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
}

#[test]
fn errors_are_std_errors_with_debug_for_any_t() {
    struct NoDebug;
    fn is_error<E: std::error::Error>(_: &E) {}
    let e = SendError(NoDebug);
    is_error(&e);
    assert_eq!(format!("{e:?}"), "SendError(..)");
    assert_eq!(e.to_string(), "sending on a closed channel");
    let e = TrySendError::Full(NoDebug);
    is_error(&e);
    assert_eq!(format!("{e:?}"), "Full(..)");
    let e = SendTimeoutError::Timeout(NoDebug);
    is_error(&e);
    assert!(e.is_timeout());
    is_error(&RecvError);
    is_error(&TryRecvError::Empty);
    is_error(&RecvTimeoutError::Timeout);
    let (tx, _rx) = bounded::<NoDebug>(0);
    let _ = tx.try_send(NoDebug).unwrap_err().into_inner();
}

#[test]
fn handles_are_send_sync_clone() {
    fn assert_all<T: Send + Sync + Clone>() {}
    fn assert_send<T: Send>() {}
    assert_all::<csp_chan::Sender<String>>();
    assert_all::<csp_chan::Receiver<String>>();
    assert_send::<csp_chan::SendFut<'static, String>>();
    assert_send::<csp_chan::RecvFut<'static, String>>();
    assert_send::<csp_chan::RecvStream<String>>();
    assert_send::<csp_chan::SendSink<String>>();
    assert_send::<csp_chan::SendError<String>>();
}
