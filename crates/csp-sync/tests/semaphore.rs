//! Semaphore: weights, FIFO (no overtaking), errors, timeouts, async, cancel safety.
#![cfg(not(loom))]

use csp_sync::Semaphore;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

#[test]
fn weights_and_available() {
    let s = Semaphore::new(5);
    let a = s.acquire(2).unwrap();
    let b = s.try_acquire(3).unwrap();
    assert_eq!(s.available(), 0);
    assert!(s.try_acquire(1).is_none());
    drop(a);
    assert_eq!(s.available(), 2);
    b.forget();
    assert_eq!(s.available(), 2);
    assert!(s.try_acquire(0).is_some());
}

#[test]
fn request_larger_than_the_semaphore_fails_at_once() {
    let s = Semaphore::new(2);
    let e = s.acquire(3).unwrap_err();
    assert_eq!((e.requested, e.size), (3, 2));
    assert!(s.try_acquire(3).is_none());
    assert!(s.acquire_timeout(3, Duration::from_secs(10)).is_none());
    assert!(futures::executor::block_on(s.acquire_async(3)).is_err());
}

#[test]
fn big_request_is_not_overtaken_by_small_ones() {
    let s = Arc::new(Semaphore::new(4));
    let held = s.acquire(3).unwrap(); // 1 left
    let order = Arc::new(csp_sync::Mutex::new(Vec::new()));
    let big = {
        let (s, order) = (s.clone(), order.clone());
        thread::spawn(move || {
            // All 4: the small request below cannot be served alongside it.
            let p = s.acquire(4).unwrap();
            order.lock().push("big");
            thread::sleep(Duration::from_millis(5));
            drop(p);
        })
    };
    // Wait until the big request is queued: then even 1 free permit is not handed out.
    while s.try_acquire(1).is_some() {
        thread::yield_now();
    }
    let small = {
        let (s, order) = (s.clone(), order.clone());
        thread::spawn(move || {
            let _p = s.acquire(1).unwrap();
            order.lock().push("small");
        })
    };
    thread::sleep(Duration::from_millis(10));
    assert!(
        order.lock().is_empty(),
        "the small request overtook the big one"
    );
    drop(held);
    big.join().unwrap();
    small.join().unwrap();
    assert_eq!(*order.lock(), vec!["big", "small"]);
}

#[test]
fn timed_out_head_unblocks_the_requests_behind_it() {
    let s = Arc::new(Semaphore::new(2));
    let held = s.acquire(1).unwrap(); // 1 left
    let s2 = s.clone();
    let big = thread::spawn(move || s2.acquire_timeout(2, Duration::from_millis(20)).is_none());
    while s.try_acquire(1).is_some() {
        thread::yield_now();
    }
    let s3 = s.clone();
    let small = thread::spawn(move || s3.acquire(1).map(|p| p.permits()));
    assert!(big.join().unwrap());
    assert_eq!(small.join().unwrap(), Ok(1));
    drop(held);
    assert_eq!(s.available(), 2);
}

#[test]
fn async_acquire_and_cancel_returns_permits() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let s = Semaphore::new(2);
    let p = s.acquire(2).unwrap();
    let mut f = s.acquire_async(1);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending());
    drop(p); // the permit is granted to the pending future ...
    drop(f); // ... which is dropped: it goes back
    assert_eq!(s.available(), 2);
    let n = futures::executor::block_on(async {
        let a = s.acquire_async(1).await.unwrap();
        let b = s.acquire_async(1).await.unwrap();
        a.permits() + b.permits()
    });
    assert_eq!(n, 2);
}

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn limits_concurrency_across_threads_and_tasks() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let s = Arc::new(Semaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (s, inside) = (s.clone(), inside.clone());
        tasks.push(rt.spawn(async move {
            for _ in 0..200 {
                let _p = s.acquire_async(1).await.unwrap();
                assert!(inside.fetch_add(1, Ordering::SeqCst) < 3);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }
        }));
    }
    let ts: Vec<_> = (0..2)
        .map(|_| {
            let (s, inside) = (s.clone(), inside.clone());
            thread::spawn(move || {
                for _ in 0..200 {
                    let _p = s.acquire(1).unwrap();
                    assert!(inside.fetch_add(1, Ordering::SeqCst) < 3);
                    thread::yield_now();
                    inside.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    for t in ts {
        t.join().unwrap();
    }
    assert_eq!(s.available(), 3);
}
