//! Go's channel tests (`runtime/chan_test.go`: TestChan, TestNonblockRecvRace,
//! TestMultiConsumer, TestChanSendBarrier, ...), written fresh from their descriptions for
//! csp-chan's API. Where Go yields a zero value on a closed channel, csp returns `Err`.
#![cfg(not(loom))]

use csp_chan::{Receiver, Sender, TryRecvError, TrySendError, bounded};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

const N: usize = if cfg!(miri) { 20 } else { 200 };
const CAPS: [usize; 5] = [0, 1, 2, 10, 100];

#[test]
fn receive_from_empty_channel_blocks() {
    for cap in CAPS {
        let (tx, rx) = bounded::<usize>(cap);
        let got = Arc::new(AtomicUsize::new(0));
        let g = got.clone();
        let t = thread::spawn(move || {
            let v = rx.recv().unwrap();
            g.store(v, Ordering::SeqCst);
        });
        thread::sleep(Duration::from_millis(2));
        assert_eq!(
            got.load(Ordering::SeqCst),
            0,
            "cap {cap}: receive from empty chan"
        );
        tx.send(1).unwrap();
        t.join().unwrap();
        assert_eq!(got.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn nonblocking_ops_do_not_block() {
    for cap in CAPS {
        let (tx, rx) = bounded::<usize>(cap);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        for i in 0..cap {
            tx.try_send(i).unwrap();
        }
        assert_eq!(tx.try_send(cap), Err(TrySendError::Full(cap)), "cap {cap}");
        assert_eq!(tx.len(), cap);
        assert_eq!(tx.capacity(), Some(cap));
    }
}

#[test]
fn send_to_full_channel_blocks() {
    for cap in CAPS {
        let (tx, rx) = bounded::<usize>(cap);
        for i in 0..cap {
            tx.send(i).unwrap();
        }
        let sent = Arc::new(AtomicUsize::new(0));
        let s = sent.clone();
        let t = thread::spawn(move || {
            tx.send(1).unwrap();
            s.store(1, Ordering::SeqCst);
        });
        thread::sleep(Duration::from_millis(2));
        assert_eq!(
            sent.load(Ordering::SeqCst),
            0,
            "cap {cap}: send to full chan"
        );
        rx.recv().unwrap();
        t.join().unwrap();
        assert_eq!(sent.load(Ordering::SeqCst), 1);
    }
}

#[test]
fn closed_channel_yields_closed_repeatedly_and_close_unblocks() {
    for cap in CAPS {
        let (tx, rx) = bounded::<usize>(cap);
        let rx2 = rx.clone();
        let t = thread::spawn(move || rx2.recv());
        thread::sleep(Duration::from_millis(1));
        tx.close();
        assert!(
            t.join().unwrap().is_err(),
            "cap {cap}: close unblocks receive"
        );
        for _ in 0..3 {
            assert!(rx.recv().is_err());
            assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
        }
    }
}

#[test]
fn fifo_uncorrupted_100_values() {
    for cap in CAPS {
        let (tx, rx) = bounded::<usize>(cap);
        let t = thread::spawn(move || {
            for i in 0..100 {
                tx.send(i).unwrap();
            }
        });
        for i in 0..100 {
            assert_eq!(rx.recv(), Ok(i), "cap {cap}");
        }
        t.join().unwrap();
    }
}

#[test]
fn four_senders_four_receivers_receive_what_was_sent() {
    for cap in CAPS {
        let (tx, rx) = bounded::<usize>(cap);
        let (done_tx, done_rx) = bounded::<Vec<usize>>(0);
        for _ in 0..4 {
            let tx = tx.clone();
            thread::spawn(move || {
                for i in 0..N {
                    tx.send(i).unwrap();
                }
            });
        }
        for _ in 0..4 {
            let rx = rx.clone();
            let done_tx = done_tx.clone();
            thread::spawn(move || {
                let mut recv = vec![0; N];
                for _ in 0..N {
                    recv[rx.recv().unwrap()] += 1;
                }
                done_tx.send(recv).unwrap();
            });
        }
        let mut total = vec![0; N];
        for _ in 0..4 {
            for (t, r) in total.iter_mut().zip(done_rx.recv().unwrap()) {
                *t += r;
            }
        }
        assert!(total.iter().all(|&c| c == 4), "cap {cap}: {total:?}");
    }
}

#[test]
fn len_and_cap() {
    for cap in CAPS {
        let (tx, _rx) = bounded::<usize>(cap);
        assert_eq!(tx.len(), 0);
        assert_eq!(tx.capacity(), Some(cap));
        for i in 0..cap {
            tx.send(i).unwrap();
        }
        assert_eq!(tx.len(), cap);
    }
}

/// TestNonblockRecvRace: a value sent and then the channel closed; a concurrent try_recv must
/// never report Empty (it sees the value or, after it was taken, Closed).
#[test]
fn nonblock_recv_race() {
    let n = if cfg!(miri) { 10 } else { 1000 };
    for _ in 0..n {
        let (tx, rx) = bounded::<usize>(1);
        tx.send(1).unwrap();
        let rx2 = rx.clone();
        let t = thread::spawn(move || {
            let r = rx2.try_recv();
            assert_ne!(
                r,
                Err(TryRecvError::Empty),
                "try_recv saw an empty closed channel"
            );
        });
        tx.close();
        let _ = rx.try_recv();
        t.join().unwrap();
    }
}

/// TestMultiConsumer: one producer feeds many consumers through a pipe; totals add up.
#[test]
fn multi_consumer() {
    let nwork = 23;
    let niter = if cfg!(miri) { 50 } else { 271_828 };
    let pn = [2usize, 3, 7, 11, 13, 17, 19, 23, 27, 31];
    let (q_tx, q_rx) = bounded::<usize>(nwork * 3);
    let (r_tx, r_rx) = bounded::<usize>(nwork * 3);
    let mut workers = Vec::new();
    for w in 0..nwork {
        let q_rx: Receiver<usize> = q_rx.clone();
        let r_tx: Sender<usize> = r_tx.clone();
        workers.push(thread::spawn(move || {
            for v in &q_rx {
                // mess with the fifo-ish nature of range
                if pn[w % pn.len()] == v {
                    thread::yield_now();
                }
                r_tx.send(v).unwrap();
            }
        }));
    }
    drop((q_rx, r_tx));
    let producer = thread::spawn(move || {
        let mut expect = 0usize;
        for i in 0..niter {
            let v = pn[i % pn.len()];
            expect += v;
            q_tx.send(v).unwrap();
        }
        expect
    });
    let (mut n, mut s) = (0usize, 0usize);
    for v in &r_rx {
        n += 1;
        s += v;
    }
    let expect = producer.join().unwrap();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(n, niter);
    assert_eq!(s, expect);
}

/// TestChanSendBarrier-like: many threads ping-pong through unbuffered channels; all finish.
#[test]
fn send_barrier() {
    let (tx, rx) = bounded::<()>(0);
    let m = if cfg!(miri) { 4 } else { 100 };
    let mut ts = Vec::new();
    for _ in 0..4 {
        let tx = tx.clone();
        ts.push(thread::spawn(move || {
            for _ in 0..m {
                tx.send(()).unwrap();
            }
        }));
    }
    for _ in 0..4 * m {
        rx.recv().unwrap();
    }
    for t in ts {
        t.join().unwrap();
    }
}

/// Go's TestChanSendInterface-like: values of heap types survive the trip intact.
#[test]
fn heap_values_survive() {
    for cap in [0, 1, 8] {
        let (tx, rx) = bounded::<Box<dyn std::any::Any + Send>>(cap);
        let t = thread::spawn(move || {
            tx.send(Box::new(String::from("x"))).unwrap();
            tx.send(Box::new(7u64)).unwrap();
        });
        let a = rx.recv().unwrap();
        let b = rx.recv().unwrap();
        assert_eq!(a.downcast_ref::<String>().map(|s| s.as_str()), Some("x"));
        assert_eq!(b.downcast_ref::<u64>(), Some(&7));
        t.join().unwrap();
    }
}
