//! RwLock: many readers or one writer, writer preference, timeouts, async, cancel safety.
#![cfg(not(loom))]

use csp_sync::RwLock;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn readers_share_writers_exclude() {
    let l = RwLock::new(0);
    let r1 = l.read();
    let r2 = l.try_read().unwrap();
    assert!(l.try_write().is_none());
    drop((r1, r2));
    let w = l.write();
    assert!(l.try_read().is_none());
    assert!(l.try_write().is_none());
    drop(w);
}

#[test]
fn waiting_writer_blocks_new_readers() {
    let l = Arc::new(RwLock::new(0));
    let r = l.read();
    let l2 = l.clone();
    let writer = thread::spawn(move || {
        *l2.write() += 1;
    });
    // Wait until the writer is queued.
    while l.try_read().is_some() {
        thread::yield_now();
    }
    // A new reader must not get in ahead of the waiting writer.
    assert!(l.try_read().is_none());
    assert!(l.read_timeout(ms(5)).is_none());
    drop(r);
    writer.join().unwrap();
    assert_eq!(*l.read(), 1);
}

#[test]
fn readers_queued_behind_a_writer_get_in_together() {
    let l = Arc::new(RwLock::new(0));
    let w = l.write();
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (l, inside, max) = (l.clone(), inside.clone(), max.clone());
            thread::spawn(move || {
                let _r = l.read();
                let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                max.fetch_max(n, Ordering::SeqCst);
                thread::sleep(ms(20));
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    thread::sleep(ms(10));
    drop(w);
    for h in hs {
        h.join().unwrap();
    }
    assert!(
        max.load(Ordering::SeqCst) >= 2,
        "readers did not share the lock"
    );
}

#[test]
fn write_timeout_and_read_timeout() {
    let l = RwLock::new(1);
    let r = l.read();
    assert!(l.write_timeout(ms(5)).is_none());
    // The timed-out writer left the queue: readers get in again.
    assert!(l.try_read().is_some());
    drop(r);
    assert!(l.write_timeout(ms(5)).is_some());
}

#[test]
fn read_heavy_mixed_threads_and_tasks() {
    let l = Arc::new(RwLock::new(0usize));
    let n = if cfg!(miri) { 20 } else { 5_000 };
    let mut hs = Vec::new();
    for i in 0..4 {
        let l = l.clone();
        hs.push(thread::spawn(move || {
            for j in 0..n {
                if (i + j) % 20 == 0 {
                    *l.write() += 1;
                } else {
                    let v = *l.read();
                    assert!(v <= 4 * n);
                }
            }
        }));
    }
    let l2 = l.clone();
    let t = thread::spawn(move || {
        futures::executor::block_on(async {
            for j in 0..n {
                if j % 20 == 0 {
                    *l2.write_async().await += 1;
                } else {
                    let _ = *l2.read_async().await;
                }
            }
        })
    });
    for h in hs {
        h.join().unwrap();
    }
    t.join().unwrap();
    let writes = (0..4)
        .map(|i| (0..n).filter(|j| (i + j) % 20 == 0).count())
        .sum::<usize>()
        + (0..n).filter(|j| j % 20 == 0).count();
    assert_eq!(*l.read(), writes);
}

#[test]
fn dropped_pending_write_future_lets_readers_in() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let l = RwLock::new(0);
    let r = l.read();
    {
        let mut f = l.write_async();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending());
        assert!(l.try_read().is_none(), "a queued writer blocks new readers");
    }
    assert!(l.try_read().is_some(), "the dropped writer left the queue");
    drop(r);
    assert!(l.try_write().is_some());
}

#[test]
fn guard_released_on_panic() {
    let l = Arc::new(RwLock::new(0));
    let l2 = l.clone();
    assert!(
        thread::spawn(move || {
            let _w = l2.write();
            panic!("boom");
        })
        .join()
        .is_err()
    );
    assert!(l.try_write().is_some());
}
