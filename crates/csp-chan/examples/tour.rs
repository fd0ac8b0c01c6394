//! A short tour of csp-chan: run it with `cargo run --release --example tour`.
//!
//! Each section is a Go idiom written with csp: a pipeline, fan-in, closing, timeouts,
//! `select!` with a timeout and a ticker, async receive and `select_async!` (mixed with
//! threads), cancel-safe async, and batch receive.

use csp_chan::{RecvTimeoutError, after, bounded, select, select_async, tick, unbounded};
use std::thread;
use std::time::{Duration, Instant};

fn main() {
    pipeline();
    fan_in();
    close_hands_values_back();
    timeouts();
    select_with_timeout_and_tick();
    async_receive();
    async_select();
    cancel_safety();
    batches();
    println!("tour complete");
}

/// Three stages connected by unbuffered channels; dropping a stage's sender closes the next
/// stage's input, so `for v in rx` ends like Go's `range ch`.
fn pipeline() {
    println!("== pipeline: generate -> square -> sum");
    let (nums_tx, nums_rx) = bounded(0);
    let (sq_tx, sq_rx) = bounded(0);
    thread::spawn(move || {
        for i in 1..=10u64 {
            nums_tx.send(i).unwrap();
        }
    });
    thread::spawn(move || {
        for n in nums_rx {
            sq_tx.send(n * n).unwrap();
        }
    });
    let sum: u64 = sq_rx.iter().sum();
    println!("   sum of squares 1..=10 = {sum}");
}

/// Several producers, one consumer: clone the sender; the channel closes when the last clone
/// is dropped.
fn fan_in() {
    println!("== fan-in: 3 workers, 1 collector");
    let (tx, rx) = bounded(4);
    for w in 0..3 {
        let tx = tx.clone();
        thread::spawn(move || {
            for j in 0..3 {
                tx.send(format!("worker {w} item {j}")).unwrap();
            }
        });
    }
    drop(tx);
    let mut items: Vec<String> = rx.iter().collect();
    items.sort();
    println!(
        "   collected {} items, first {:?}, last {:?}",
        items.len(),
        items[0],
        items[8]
    );
}

/// Close from either end: a blocked sender gets its value back (Go would panic), buffered
/// values are still drained, a second close just returns false.
fn close_hands_values_back() {
    println!("== close: nothing is lost");
    let (tx, rx) = bounded(1);
    tx.send("buffered").unwrap();
    let blocked = {
        let tx = tx.clone();
        thread::spawn(move || tx.send("blocked"))
    };
    thread::sleep(Duration::from_millis(20));
    println!("   rx.close() = {}, again = {}", rx.close(), rx.close());
    let back = blocked.join().unwrap().unwrap_err().into_inner();
    println!("   the blocked sender got {back:?} back");
    println!(
        "   drained after close: {:?}, then {:?}",
        rx.recv(),
        rx.recv()
    );
}

/// Deadlines: recv_timeout / send_timeout hand the value back on timeout.
fn timeouts() {
    println!("== timeouts");
    let (tx, rx) = bounded::<&str>(0);
    let start = Instant::now();
    match rx.recv_timeout(Duration::from_millis(50)) {
        Err(RecvTimeoutError::Timeout) => {
            println!("   recv timed out after {:?}", round(start.elapsed()))
        }
        other => println!("   unexpected: {other:?}"),
    }
    let err = tx
        .send_timeout("late", Duration::from_millis(10))
        .unwrap_err();
    println!(
        "   send timed out, value handed back: {:?}",
        err.into_inner()
    );
}

/// Go's `for { select { ... } }` loop: work arrives on one channel, a ticker reports
/// progress, and a timeout ends it all. Exactly one arm runs per iteration; when several are
/// ready, one is picked at random, so none starves.
fn select_with_timeout_and_tick() {
    println!("== select! with a ticker and a timeout");
    let (work_tx, work_rx) = bounded(0);
    thread::spawn(move || {
        for job in 1..=5 {
            thread::sleep(Duration::from_millis(7));
            work_tx.send(job).unwrap();
        }
    });
    let ticker = tick(Duration::from_millis(10));
    let deadline = after(Duration::from_millis(100));
    let (mut done, mut ticks) = (Vec::new(), 0);
    loop {
        select! {
            recv(work_rx) -> job => match job {
                Ok(job) => done.push(job),
                Err(_) => break, // the producer is finished
            },
            recv(ticker) -> _ => ticks += 1,
            recv(deadline) -> _ => {
                println!("   timeout!");
                break;
            }
        }
    }
    println!("   jobs done {done:?}, progress ticks seen: {ticks}");
    let (tx, _rx) = bounded::<&str>(0);
    let r = select! {
        send(tx, "nobody listens") -> res => format!("sent: {res:?}"),
        default(Duration::from_millis(20)) => "send arm not ready within 20ms: default ran".to_string(),
    };
    println!("   {r}");
}

/// The same channel from a thread and an async task, under any executor (here the tiny
/// `futures::executor`).
fn async_receive() {
    println!("== async receive from a blocking sender thread");
    let (tx, rx) = bounded(0);
    let producer = thread::spawn(move || {
        for word in ["hello", "from", "a", "thread"] {
            tx.send(word).unwrap();
        }
    });
    let words = futures::executor::block_on(async {
        let mut words = Vec::new();
        while let Ok(w) = rx.recv_async().await {
            words.push(w);
        }
        words
    });
    producer.join().unwrap();
    println!("   task received: {}", words.join(" "));
}

/// `select_async!`: the same syntax in async code, waiting without blocking the thread.
fn async_select() {
    println!("== select_async!");
    let (tx, rx) = bounded::<u32>(0);
    let (_quit_tx, quit_rx) = bounded::<()>(0);
    let producer = thread::spawn(move || {
        for i in 1..=3 {
            tx.send(i * 10).unwrap();
        }
    });
    let got = futures::executor::block_on(async {
        let mut got = Vec::new();
        loop {
            select_async! {
                recv(rx) -> v => match v {
                    Ok(v) => got.push(v),
                    Err(_) => break,
                },
                recv(quit_rx) -> _ => break,
                default(Duration::from_secs(5)) => break,
            }
        }
        got
    });
    producer.join().unwrap();
    println!("   task selected {got:?}");
}

/// A pending async send can be cancelled and gives its value back; a dropped pending receive
/// loses nothing.
fn cancel_safety() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Waker};

    println!("== cancel safety");
    let (tx, rx) = bounded(0);
    let mut cx = Context::from_waker(Waker::noop());
    let mut send = tx.send_async(String::from("precious"));
    let pending = Pin::new(&mut send).poll(&mut cx).is_pending();
    println!(
        "   send pending: {pending}; cancel() gives back {:?}",
        send.cancel()
    );
    let mut recv = rx.recv_async();
    let _ = Pin::new(&mut recv).poll(&mut cx);
    drop(recv);
    let (tx2, rx2) = (tx.clone(), rx.clone());
    let t = thread::spawn(move || tx2.send(String::from("still here")).unwrap());
    println!(
        "   after a dropped receive, the next one gets {:?}",
        rx2.recv().unwrap()
    );
    t.join().unwrap();
}

/// recv_many takes what is there under one lock.
fn batches() {
    println!("== batch receive");
    let (tx, rx) = unbounded();
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    let mut batch = Vec::new();
    let n = rx.recv_many(&mut batch, 4);
    println!("   recv_many(4) -> {n} values {batch:?}, {} left", rx.len());
}

fn round(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}
