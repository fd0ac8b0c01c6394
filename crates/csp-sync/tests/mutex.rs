//! Mutex: exclusion, starvation hand-off, timeouts, async under three executors mixed with
//! threads, cancel safety, release on panic.
#![cfg(not(loom))]

use csp_sync::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

const N: usize = if cfg!(miri) { 50 } else { 20_000 };

#[test]
fn mutual_exclusion_threads() {
    let m = Arc::new(Mutex::new(0usize));
    let inside = Arc::new(AtomicBool::new(false));
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (m, inside) = (m.clone(), inside.clone());
            thread::spawn(move || {
                for _ in 0..N {
                    let mut g = m.lock();
                    assert!(!inside.swap(true, Ordering::SeqCst));
                    *g += 1;
                    inside.store(false, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(*m.lock(), 4 * N);
}

#[test]
fn starving_waiter_gets_the_lock_handed_over() {
    // A thread re-locks in a tight loop (it would always win a barging race); a second thread
    // that has waited more than 1 ms must still get the lock.
    let m = Arc::new(Mutex::new(()));
    let stop = Arc::new(AtomicBool::new(false));
    let hog = {
        let (m, stop) = (m.clone(), stop.clone());
        thread::spawn(move || {
            let start = Instant::now();
            while !stop.load(Ordering::SeqCst) {
                let g = m.lock();
                // Hold it a little so the waiter really waits.
                let t = Instant::now();
                while t.elapsed() < Duration::from_micros(50) {}
                drop(g);
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "the waiter starved"
                );
            }
        })
    };
    thread::sleep(Duration::from_millis(5));
    for _ in 0..if cfg!(miri) { 2 } else { 20 } {
        drop(m.lock());
    }
    stop.store(true, Ordering::SeqCst);
    hog.join().unwrap();
}

#[test]
fn try_lock_and_timeout() {
    let m = Mutex::new(1);
    let g = m.lock();
    assert!(m.try_lock().is_none());
    let start = Instant::now();
    assert!(m.lock_timeout(Duration::from_millis(10)).is_none());
    assert!(start.elapsed() >= Duration::from_millis(10));
    drop(g);
    assert_eq!(*m.lock_timeout(Duration::from_millis(10)).unwrap(), 1);
    assert!(!m.is_locked());
}

#[test]
fn timed_out_waiter_does_not_block_others() {
    let m = Arc::new(Mutex::new(0));
    let g = m.lock();
    let m2 = m.clone();
    let t = thread::spawn(move || m2.lock_timeout(Duration::from_millis(5)).is_none());
    assert!(t.join().unwrap());
    let m3 = m.clone();
    let t = thread::spawn(move || *m3.lock() + 1);
    thread::sleep(Duration::from_millis(5));
    drop(g);
    assert_eq!(t.join().unwrap(), 1);
}

#[test]
fn guard_released_on_panic() {
    let m = Arc::new(Mutex::new(0));
    let m2 = m.clone();
    let r = thread::spawn(move || {
        let _g = m2.lock();
        panic!("boom");
    })
    .join();
    assert!(r.is_err());
    *m.lock() += 1; // not poisoned, not held
    assert_eq!(*m.lock(), 1);
}

fn mixed(
    spawn: impl Fn(std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) -> Box<dyn FnOnce()>,
) {
    let m = Arc::new(Mutex::new(0usize));
    let n = N / 4;
    let mut joins: Vec<Box<dyn FnOnce()>> = Vec::new();
    for _ in 0..2 {
        let m = m.clone();
        joins.push(spawn(Box::pin(async move {
            for _ in 0..n {
                *m.lock_async().await += 1;
            }
        })));
    }
    for _ in 0..2 {
        let m = m.clone();
        let t = thread::spawn(move || {
            for _ in 0..n {
                *m.lock() += 1;
            }
        });
        joins.push(Box::new(move || t.join().unwrap()));
    }
    for j in joins {
        j();
    }
    assert_eq!(*m.lock(), 4 * n);
}

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn async_under_tokio_mixed_with_threads() {
    let rt = Arc::new(
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    );
    mixed(|f| {
        let h = rt.spawn(f);
        let rt = rt.clone();
        Box::new(move || rt.block_on(h).unwrap())
    });
}

#[test]
#[cfg_attr(miri, ignore = "runtime I/O drivers are not supported by miri")]
fn async_under_smol_mixed_with_threads() {
    mixed(|f| {
        let t = smol::spawn(f);
        Box::new(move || smol::block_on(t))
    });
}

#[test]
fn async_under_futures_executor_mixed_with_threads() {
    mixed(|f| {
        let t = thread::spawn(move || futures::executor::block_on(f));
        Box::new(move || t.join().unwrap())
    });
}

#[test]
fn dropped_pending_lock_future_leaves_no_trace() {
    use std::future::Future;
    use std::task::{Context, Waker};
    let m = Mutex::new(0);
    let g = m.lock();
    {
        let mut f = m.lock_async();
        let mut cx = Context::from_waker(Waker::noop());
        assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending());
    }
    drop(g);
    assert!(m.try_lock().is_some());
    // A future that was handed the lock, then dropped, releases it. To be handed the lock it
    // must be starving: waited more than 1 ms, been woken, and lost the race to a barger.
    let m = Arc::new(Mutex::new(0));
    let g = m.lock();
    let mut f = m.lock_async();
    let mut cx = Context::from_waker(Waker::noop());
    assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending());
    thread::sleep(Duration::from_millis(2));
    drop(g); // wakes `f` to compete
    let g = m.lock(); // ... and barges past it
    assert!(std::pin::Pin::new(&mut f).poll(&mut cx).is_pending()); // lost: now starving
    drop(g); // hands the lock to `f`
    assert!(
        m.is_locked(),
        "the unlock did not hand the lock to the starving future"
    );
    assert!(m.try_lock().is_none());
    drop(f);
    assert!(
        m.try_lock().is_some(),
        "a handed-over lock was not released by the dropped future"
    );
}

#[test]
fn types_are_send_sync() {
    fn ss<T: Send + Sync>() {}
    fn s<T: Send>(_: &T) {}
    ss::<Mutex<Vec<u8>>>();
    ss::<csp_sync::MutexGuard<'static, Vec<u8>>>();
    let m = Mutex::new(1);
    s(&m.lock_async());
}
