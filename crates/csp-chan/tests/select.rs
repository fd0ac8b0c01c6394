//! select!, select_async!, Select, after, tick, never.
#![cfg(not(loom))]

use csp_chan::{
    Receiver, RecvError, Select, SendError, Sender, after, bounded, never, select, select_async,
    tick, unbounded,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn uniform_choice_between_two_ready_arms() {
    let (tx1, rx1) = unbounded::<u8>();
    let (tx2, rx2) = unbounded::<u8>();
    let n = if cfg!(miri) { 200 } else { 20_000 };
    let mut first = 0usize;
    for _ in 0..n {
        tx1.send(1).unwrap();
        tx2.send(2).unwrap();
        let v = select! {
            recv(rx1) -> m => m.unwrap(),
            recv(rx2) -> m => m.unwrap(),
        };
        if v == 1 {
            first += 1;
            rx2.recv().unwrap();
        } else {
            rx1.recv().unwrap();
        }
    }
    let share = first as f64 / n as f64;
    if !cfg!(miri) {
        assert!(
            (0.45..=0.55).contains(&share),
            "first arm chosen {share:.3} of the time"
        );
    }
}

#[test]
fn default_runs_when_nothing_is_ready() {
    let (_tx, rx) = bounded::<i32>(0);
    let r = select! {
        recv(rx) -> _ => "recv",
        default => "default",
    };
    assert_eq!(r, "default");
    let start = Instant::now();
    let r = select! {
        recv(rx) -> _ => "recv",
        default(ms(20)) => "timeout",
    };
    assert_eq!(r, "timeout");
    assert!(start.elapsed() >= ms(20));
    assert_eq!(
        rx.queue_lens(),
        (0, 0),
        "a timed-out select left an entry behind"
    );
}

#[test]
fn default_timeout_loses_to_a_ready_arm() {
    let (tx, rx) = bounded::<i32>(0);
    let t = thread::spawn(move || {
        thread::sleep(ms(5));
        tx.send(4).unwrap();
    });
    let r = select! {
        recv(rx) -> m => m.unwrap(),
        default(Duration::from_secs(30)) => -1,
    };
    assert_eq!(r, 4);
    t.join().unwrap();
}

#[test]
fn closed_channels_make_arms_ready_with_errors() {
    let (tx, rx) = bounded::<i32>(0);
    drop(tx);
    let r = select! {
        recv(rx) -> m => m,
        default => Ok(0),
    };
    assert_eq!(r, Err(RecvError));

    let (tx, rx) = bounded::<String>(0);
    rx.close();
    let r = select! {
        send(tx, "v".to_string()) -> res => res,
        default => Ok(()),
    };
    assert_eq!(r.unwrap_err().into_inner(), "v");
}

#[test]
fn close_wakes_a_blocked_select() {
    let (tx, rx) = bounded::<i32>(0);
    let (_tx2, rx2) = bounded::<i32>(0);
    let t = thread::spawn(move || {
        select! {
            recv(rx) -> m => m,
            recv(rx2) -> m => m,
        }
    });
    thread::sleep(ms(5));
    tx.close();
    assert_eq!(t.join().unwrap(), Err(RecvError));
}

#[test]
fn only_the_chosen_send_arms_value_moves() {
    for _ in 0..100 {
        let (tx1, rx1) = bounded::<i32>(1);
        let (tx2, rx2) = bounded::<i32>(1);
        let r = select! {
            send(tx1, 1) -> res => { res.unwrap(); 1 }
            send(tx2, 2) -> res => { res.unwrap(); 2 }
        };
        let (got1, got2) = (rx1.try_recv().ok(), rx2.try_recv().ok());
        match r {
            1 => assert_eq!((got1, got2), (Some(1), None)),
            _ => assert_eq!((got1, got2), (None, Some(2))),
        }
    }
}

#[test]
fn unchosen_send_values_are_dropped_once() {
    struct D(Arc<AtomicUsize>);
    impl Drop for D {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx1, _rx1) = bounded::<D>(0);
    let (tx2, rx2) = bounded::<D>(1);
    let r = select! {
        send(tx1, D(drops.clone())) -> _ => 1,
        send(tx2, D(drops.clone())) -> _ => 2,
    };
    assert_eq!(r, 2);
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the unchosen value is dropped"
    );
    drop(rx2.recv().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn same_channel_in_two_arms() {
    let (tx, rx) = bounded::<i32>(2);
    tx.send(1).unwrap();
    let mut seen = [0; 2];
    for _ in 0..if cfg!(miri) { 20 } else { 2000 } {
        let r = select! {
            recv(rx) -> m => { assert_eq!(m, Ok(1)); 0 }
            recv(rx) -> m => { assert_eq!(m, Ok(1)); 1 }
            send(tx, 1) -> _ => { 9 }
        };
        if r == 9 {
            rx.recv().unwrap();
        } else {
            seen[r] += 1;
            tx.send(1).unwrap();
        }
    }
    assert!(seen[0] > 0 && seen[1] > 0, "{seen:?}");
}

#[test]
fn channel_expressions_may_be_places_references_and_calls() {
    let chans: Vec<(Sender<i32>, Receiver<i32>)> = (0..3).map(|_| bounded(1)).collect();
    chans[1].0.send(5).unwrap();
    let rxs: Vec<Receiver<i32>> = chans.iter().map(|c| c.1.clone()).collect();
    let r = select! {
        recv(rxs[0]) -> m => m.unwrap(),
        recv(&rxs[1]) -> m => m.unwrap(),
        recv(chans.get(2).unwrap().1) -> m => m.unwrap(),
    };
    assert_eq!(r, 5);
    struct Ctx(Receiver<()>);
    impl Ctx {
        fn done(&self) -> &Receiver<()> {
            &self.0
        }
    }
    let ctx = Ctx(never());
    let r = select! {
        recv(ctx.done()) -> _ => 0,
        recv(after(ms(1))) -> _ => 1,
    };
    assert_eq!(r, 1);
}

#[test]
fn arm_expressions_evaluate_once_in_order() {
    let order = std::cell::RefCell::new(Vec::new());
    let (tx, rx) = bounded::<i32>(1);
    let pick = |name: &'static str| {
        order.borrow_mut().push(name);
    };
    let r = select! {
        recv({ pick("rx"); &rx }) -> _ => 0,
        send({ pick("tx"); &tx }, { pick("value"); 7 }) -> res => { res.unwrap(); 1 }
    };
    assert_eq!(r, 1);
    assert_eq!(*order.borrow(), vec!["rx", "tx", "value"]);
}

/// Go's TestSelectDuplicateChannel / doubleselect: senders select-send over several
/// unbuffered channels into receivers: every value arrives exactly once.
#[test]
fn doubleselect_every_value_exactly_once() {
    let n = if cfg!(miri) { 30 } else { 20_000 };
    let chans: Vec<(Sender<usize>, Receiver<usize>)> = (0..4).map(|_| bounded(0)).collect();
    let senders: Vec<_> = (0..4)
        .map(|s| {
            let txs: Vec<Sender<usize>> = chans.iter().map(|c| c.0.clone()).collect();
            thread::spawn(move || {
                for i in (s..n).step_by(4) {
                    select! {
                        send(txs[0], i) -> r => r.unwrap(),
                        send(txs[1], i) -> r => r.unwrap(),
                        send(txs[2], i) -> r => r.unwrap(),
                        send(txs[3], i) -> r => r.unwrap(),
                    }
                }
            })
        })
        .collect();
    let rxs: Vec<Receiver<usize>> = chans.iter().map(|c| c.1.clone()).collect();
    drop(chans);
    let receivers: Vec<_> = rxs
        .iter()
        .map(|rx| {
            let rx = rx.clone();
            thread::spawn(move || rx.iter().collect::<Vec<_>>())
        })
        .collect();
    drop(rxs);
    for s in senders {
        s.join().unwrap();
    }
    let mut all: Vec<usize> = receivers
        .into_iter()
        .flat_map(|r| r.join().unwrap())
        .collect();
    all.sort();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
}

#[test]
fn select_send_meets_select_recv_on_unbuffered_channel() {
    let n = if cfg!(miri) { 20 } else { 5_000 };
    let (tx, rx) = bounded::<usize>(0);
    let (_otx, orx) = bounded::<usize>(0);
    let (otx2, _orx2) = bounded::<usize>(0);
    let t = thread::spawn(move || {
        for i in 0..n {
            select! {
                send(tx, i) -> r => r.unwrap(),
                send(otx2, i) -> _ => unreachable!(),
            }
        }
    });
    for i in 0..n {
        let v = select! {
            recv(rx) -> m => m.unwrap(),
            recv(orx) -> _ => unreachable!(),
        };
        assert_eq!(v, i);
    }
    t.join().unwrap();
}

#[test]
fn builder_recv_send_and_value_free_send_arms() {
    let (tx, rx) = bounded::<i32>(0);
    let t = thread::spawn(move || rx.recv().unwrap());
    let mut sel = Select::new();
    let s = sel.send(&tx);
    let op = sel.select();
    assert_eq!(op.index(), s);
    op.send(&tx, 11).unwrap();
    assert_eq!(t.join().unwrap(), 11);

    // A value-free send arm that is not chosen never took a value.
    let (tx, rx) = bounded::<String>(0);
    let (tx2, rx2) = bounded::<i32>(1);
    tx2.send(1).unwrap();
    let mut sel = Select::new();
    let a = sel.send(&tx);
    let b = sel.recv(&rx2);
    let op = sel.select();
    assert_eq!(op.index(), b);
    assert_ne!(a, b);
    assert_eq!(op.recv(&rx2), Ok(1));
    assert!(rx.try_recv().is_err());
}

#[test]
fn builder_blocked_send_arm_meets_receiver_thread() {
    let (tx, rx) = bounded::<i32>(0);
    let t = thread::spawn(move || {
        let mut sel = Select::new();
        sel.send(&tx);
        let op = sel.select();
        op.send(&tx, 5)
    });
    thread::sleep(ms(5));
    assert_eq!(rx.recv(), Ok(5));
    assert_eq!(t.join().unwrap(), Ok(()));
}

#[test]
fn builder_timeouts_and_try() {
    let (tx, rx) = bounded::<i32>(0);
    let mut sel = Select::new();
    sel.recv(&rx);
    sel.send(&tx);
    assert!(sel.try_select().is_err());
    let start = Instant::now();
    assert!(sel.select_timeout(ms(10)).is_err());
    assert!(start.elapsed() >= ms(10));
    assert!(sel.select_deadline(Instant::now() + ms(1)).is_err());
    assert_eq!(rx.queue_lens(), (0, 0));
}

#[test]
fn many_arms() {
    let chans: Vec<(Sender<usize>, Receiver<usize>)> = (0..100).map(|_| bounded(1)).collect();
    chans[77].0.send(77).unwrap();
    let mut sel = Select::new();
    for c in &chans {
        sel.recv(&c.1);
    }
    let op = sel.select();
    assert_eq!(op.index(), 77);
    assert_eq!(op.recv(&chans[77].1), Ok(77));
}

#[test]
fn never_is_never_ready_and_after_fires_once() {
    let n: Receiver<i32> = never();
    assert!(n.try_recv().unwrap_err().is_empty());
    assert!(n.recv_timeout(ms(5)).unwrap_err().is_timeout());
    let a = after(ms(5));
    let start = Instant::now();
    let r = select! {
        recv(n) -> _ => 0,
        recv(a) -> m => { assert!(m.unwrap() >= start); 1 }
    };
    assert_eq!(r, 1);
    assert!(a.recv().is_err(), "after is closed after its value");
}

#[test]
fn tick_ticks_and_drops_missed_ticks() {
    let t = tick(ms(2));
    let first = t.recv().unwrap();
    let second = t.recv().unwrap();
    assert!(second > first);
    thread::sleep(ms(20));
    // Only one tick was kept while we slept.
    assert_eq!(t.len(), 1);
    assert!(tick(Duration::ZERO).recv_timeout(ms(5)).is_err());
}

#[test]
fn select_with_timeout_and_tick_loop() {
    let ticks = tick(ms(1));
    ticks.recv().unwrap(); // ticking
    let start = Instant::now();
    let timeout = after(ms(30));
    let mut n = 0u128;
    loop {
        select! {
            recv(ticks) -> t => { assert!(t.is_ok()); n += 1 }
            recv(timeout) -> _ => break,
        }
    }
    let elapsed = start.elapsed();
    assert!(elapsed >= ms(30));
    // A ticker never queues: at most one tick per period (plus the one buffered).
    assert!(n <= elapsed.as_millis() + 2, "{n} ticks in {elapsed:?}");
}

fn async_mixed(
    spawn: impl Fn(
        std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>>,
    ) -> Box<dyn FnOnce() -> usize>,
) {
    // Two async selectors and two blocking selectors receive from two channels fed by a
    // thread: every value exactly once.
    let n = if cfg!(miri) { 20 } else { 4_000 };
    let (tx1, rx1) = bounded::<usize>(0);
    let (tx2, rx2) = bounded::<usize>(1);
    let feeder = thread::spawn(move || {
        for i in 0..n {
            if i % 2 == 0 {
                tx1.send(i).unwrap();
            } else {
                tx2.send(i).unwrap();
            }
        }
    });
    let total = Arc::new(AtomicUsize::new(0));
    let mut joins: Vec<Box<dyn FnOnce() -> usize>> = Vec::new();
    for _ in 0..2 {
        let (rx1, rx2, total) = (rx1.clone(), rx2.clone(), total.clone());
        joins.push(spawn(Box::pin(async move {
            let mut count = 0;
            loop {
                let v = select_async! {
                    recv(rx1) -> m => m.ok(),
                    recv(rx2) -> m => m.ok(),
                };
                match v {
                    Some(v) => {
                        total.fetch_add(v, Ordering::SeqCst);
                        count += 1;
                    }
                    None => {
                        if rx1.is_closed() && rx2.is_closed() && rx1.is_empty() && rx2.is_empty() {
                            return count;
                        }
                    }
                }
            }
        })));
    }
    for _ in 0..2 {
        let (rx1, rx2, total) = (rx1.clone(), rx2.clone(), total.clone());
        let t = thread::spawn(move || {
            let mut count = 0;
            loop {
                let v = select! {
                    recv(rx1) -> m => m.ok(),
                    recv(rx2) -> m => m.ok(),
                };
                match v {
                    Some(v) => {
                        total.fetch_add(v, Ordering::SeqCst);
                        count += 1;
                    }
                    None => {
                        if rx1.is_closed() && rx2.is_closed() && rx1.is_empty() && rx2.is_empty() {
                            return count;
                        }
                    }
                }
            }
        });
        joins.push(Box::new(move || t.join().unwrap()));
    }
    drop((rx1, rx2));
    feeder.join().unwrap();
    let count: usize = joins.into_iter().map(|j| j()).sum();
    assert_eq!(count, n);
    assert_eq!(total.load(Ordering::SeqCst), (0..n).sum::<usize>());
}

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn select_async_under_tokio_mixed_with_blocking_selects() {
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap(),
    );
    async_mixed(|f| {
        let h = rt.spawn(f);
        let rt = rt.clone();
        Box::new(move || rt.block_on(h).unwrap())
    });
}

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn select_async_under_smol_mixed_with_blocking_selects() {
    async_mixed(|f| {
        let task = smol::spawn(f);
        Box::new(move || smol::block_on(task))
    });
}

#[test]
fn select_async_under_futures_executor_mixed_with_blocking_selects() {
    async_mixed(|f| {
        let t = thread::spawn(move || futures::executor::block_on(f));
        Box::new(move || t.join().unwrap())
    });
}

#[test]
fn select_async_send_arm_and_timeout() {
    futures::executor::block_on(async {
        let (tx, rx) = bounded::<i32>(0);
        let t = thread::spawn(move || rx.recv().unwrap());
        let r = select_async! {
            send(tx, 8) -> res => res.is_ok(),
            default(Duration::from_secs(30)) => false,
        };
        assert!(r);
        assert_eq!(t.join().unwrap(), 8);

        let (tx, rx) = bounded::<i32>(0);
        let start = Instant::now();
        let r = select_async! {
            send(tx, 1) -> _ => "sent",
            default(ms(15)) => "timeout",
        };
        assert_eq!(r, "timeout");
        assert!(start.elapsed() >= ms(15));
        assert!(rx.try_recv().is_err());
        assert_eq!(rx.queue_lens(), (0, 0));
    });
}

#[test]
fn dropping_a_pending_select_async_leaves_channels_untouched() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let (tx1, rx1) = bounded::<i32>(0);
    let (tx2, rx2) = bounded::<i32>(1);
    tx2.send(100).unwrap(); // full: the send arm must wait
    {
        let mut fut = Box::pin(async {
            select_async! {
                recv(rx1) -> m => m.ok(),
                send(tx2, 5) -> _ => None,
            }
        });
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        assert_eq!(rx1.queue_lens(), (0, 1));
        assert_eq!(tx2.queue_lens(), (1, 0));
    }
    // Gone without a trace: no waiter left, the send arm's value was never delivered.
    assert_eq!(rx1.queue_lens(), (0, 0));
    assert_eq!(tx2.queue_lens(), (0, 0));
    assert_eq!(rx2.try_recv(), Ok(100));
    assert!(rx2.try_recv().is_err());
    // And a value sent now is not lost.
    let t = thread::spawn(move || tx1.send(1));
    assert_eq!(rx1.recv(), Ok(1));
    t.join().unwrap().unwrap();
}

#[test]
fn dropped_notified_select_async_passes_the_value_on() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let (tx, rx) = bounded::<i32>(1);
    let mut fut = Box::pin(async {
        select_async! {
            recv(rx) -> m => m.ok(),
        }
    });
    let mut cx = Context::from_waker(Waker::noop());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    let rx2 = rx.clone();
    let t = thread::spawn(move || rx2.recv());
    while tx.queue_lens().1 < 2 {
        thread::yield_now();
    }
    tx.send(9).unwrap(); // notifies the select (first in line)
    drop(fut); // ... which passes it on to the thread
    assert_eq!(t.join().unwrap(), Ok(9));
}

#[test]
fn select_async_builder_and_errors_are_values() {
    futures::executor::block_on(async {
        let (tx, rx) = bounded::<i32>(1);
        let mut sel = Select::new();
        let i = sel.recv(&rx);
        tx.send(2).unwrap();
        let op = sel.select_async().await;
        assert_eq!(op.index(), i);
        assert_eq!(op.recv(&rx), Ok(2));
    });
    let e: SendError<i32> = SendError(1);
    assert_eq!(e.into_inner(), 1);
}

#[test]
fn builder_send_arm_meets_a_waiting_async_receiver() {
    // The async receiver waits first; the value-free send arm then waits and invites it.
    let (tx, rx) = bounded::<i32>(0);
    let (started_tx, started_rx) = bounded::<()>(1);
    let receiver = thread::spawn(move || {
        futures::executor::block_on(async {
            started_tx.send(()).unwrap();
            rx.recv_async().await
        })
    });
    started_rx.recv().unwrap();
    thread::sleep(ms(5)); // let the receiver queue itself
    let mut sel = Select::new();
    sel.send(&tx);
    let op = sel.select();
    op.send(&tx, 42).unwrap();
    assert_eq!(receiver.join().unwrap(), Ok(42));
}

#[test]
fn select_async_timeout_that_expires_while_registering_still_fires() {
    // Deadlines of a few µs often pass between the select's "expired?" check and its timer
    // registration; a select that then waited for a timer that was never scheduled would hang.
    // A watchdog turns a hang into a failure.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let (tx, _rx) = bounded::<i32>(0);
        for i in 0..if cfg!(miri) { 20 } else { 3000 } {
            let r = futures::executor::block_on(async {
                select_async! {
                    send(tx, 1) -> _ => "sent",
                    default(Duration::from_nanos(i % 40 * 250)) => "timeout",
                }
            });
            assert_eq!(r, "timeout");
        }
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("an async select whose deadline passed while it registered never woke");
}
