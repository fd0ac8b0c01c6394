//! Model-checks `csp_park::lock::Lock` as loom sees it: under `--cfg loom` its `RawLock` is
//! loom's `Mutex` + `Condvar` (see `lock.rs`), so this checks the `Lock<T>` wrapper's mutual
//! exclusion and that a blocked locker is woken by the release. The futex word's own
//! protocol (a plain-store release and a sleeper count) is argued in `lock.rs`, not here.
#![cfg(loom)]

use csp_park::lock::Lock;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(f);
}

#[test]
fn lock_is_mutually_exclusive_and_wakes_sleepers() {
    model(|| {
        let lock = Arc::new(Lock::new(0usize));
        let inside = Arc::new(AtomicBool::new(false));
        let entries = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..1)
            .map(|_| {
                let (lock, inside, entries) = (lock.clone(), inside.clone(), entries.clone());
                loom::thread::spawn(move || {
                    let mut g = lock.lock();
                    assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
                    *g += 1;
                    entries.fetch_add(1, Ordering::SeqCst);
                    inside.store(false, Ordering::SeqCst);
                })
            })
            .collect();
        {
            let mut g = lock.lock();
            assert!(!inside.swap(true, Ordering::SeqCst), "two holders at once");
            *g += 1;
            inside.store(false, Ordering::SeqCst);
        }
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*lock.lock(), 2);
        assert_eq!(entries.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn try_lock_never_steals() {
    model(|| {
        let lock = Arc::new(Lock::new(()));
        let l2 = lock.clone();
        let t = loom::thread::spawn(move || {
            let _g = l2.lock();
        });
        if let Some(g) = lock.try_lock() {
            drop(g);
        }
        t.join().unwrap();
        assert!(lock.try_lock().is_some());
    });
}
