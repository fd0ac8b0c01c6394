//! Loom model checks of `Mutex`: mutual exclusion with a sleeping waiter, a timed lock racing
//! the unlock, and an async lock cancelled while being woken.
#![cfg(loom)]

use csp_sync::Mutex;
use loom::sync::Arc;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(f);
}

#[test]
fn lock_excludes_and_wakes() {
    model(|| {
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        let t = loom::thread::spawn(move || {
            *m2.lock() += 1;
        });
        *m.lock() += 1;
        t.join().unwrap();
        assert_eq!(*m.lock(), 2);
    });
}

#[test]
fn timed_lock_races_unlock() {
    // Under loom a timed wait expires as soon as it would sleep: the timeout races the wake.
    model(|| {
        let m = Arc::new(Mutex::new(0));
        let g = m.lock();
        let m2 = m.clone();
        let t = loom::thread::spawn(move || {
            if let Some(mut g) = m2.lock_timeout(Duration::from_secs(1)) {
                *g += 1;
                1
            } else {
                0
            }
        });
        drop(g);
        let got = t.join().unwrap();
        // Whatever happened, the lock is free now and the count matches.
        let g = m.try_lock().expect("the lock was left held");
        assert_eq!(*g, got);
    });
}

struct Count(AtomicUsize);
impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn async_lock_cancelled_while_woken() {
    model(|| {
        let m = Arc::new(Mutex::new(0));
        let g = m.lock();
        let waker = Waker::from(std::sync::Arc::new(Count(AtomicUsize::new(0))));
        let mut fut = Box::pin(m.lock_async());
        assert!(
            fut.as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        let m2 = m.clone();
        let t = loom::thread::spawn(move || {
            // Another locker that must not be stranded.
            *m2.lock() += 1;
        });
        drop(g);
        drop(fut);
        t.join().unwrap();
        assert_eq!(*m.try_lock().expect("the lock was left held"), 1);
    });
}
