//! Loom model checks of `Semaphore`: a release racing a queued acquire, a timed acquire
//! racing the grant, and an async acquire cancelled while being granted.
#![cfg(loom)]

use csp_sync::Semaphore;
use loom::sync::Arc;
use std::future::Future;
use std::task::{Context, Waker};
use std::time::Duration;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(f);
}

#[test]
fn release_races_queued_acquire() {
    model(|| {
        let s = Arc::new(Semaphore::new(1));
        let p = s.acquire(1).unwrap();
        let s2 = s.clone();
        let t = loom::thread::spawn(move || {
            let _p = s2.acquire(1).unwrap();
        });
        drop(p);
        t.join().unwrap();
        assert_eq!(s.available(), 1);
    });
}

#[test]
fn timed_acquire_races_grant() {
    model(|| {
        let s = Arc::new(Semaphore::new(1));
        let p = s.acquire(1).unwrap();
        let s2 = s.clone();
        let t =
            loom::thread::spawn(move || s2.acquire_timeout(1, Duration::from_secs(1)).is_some());
        drop(p);
        let _ = t.join().unwrap();
        assert_eq!(s.available(), 1, "permits lost or duplicated");
    });
}

#[test]
fn cancelled_async_acquire_returns_granted_permits() {
    model(|| {
        let s = Arc::new(Semaphore::new(1));
        let p = s.acquire(1).unwrap();
        let (ready_tx, ready_rx) = loom::sync::mpsc::channel();
        let s2 = s.clone();
        let t = loom::thread::spawn(move || {
            let mut f = Box::pin(s2.acquire_async(1));
            let pending = f
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending();
            ready_tx.send(()).unwrap();
            drop(f); // races the grant below
            pending
        });
        ready_rx.recv().unwrap();
        drop(p);
        assert!(t.join().unwrap());
        assert_eq!(s.available(), 1, "permits lost or duplicated");
    });
}
