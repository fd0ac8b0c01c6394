//! A `Mutex` around a counter in a loom cell, shared by the Mutex loom binaries: loom fails a
//! model on an access to the counter that no lock hand-over orders after the previous one.

use csp_sync::{Mutex, MutexGuard};
use loom::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs `f` under loom (preemption bound 2 unless `LOOM_MAX_PREEMPTIONS` says otherwise) with
/// one of the hidden process-wide `LOOM_*_STARVING` flags set, hence one binary per flag.
pub fn model_with_flag(flag: &'static AtomicBool, f: impl Fn() + Sync + Send + 'static) {
    // Every test of the binary wants it: set before each model.
    flag.store(true, Ordering::SeqCst);
    super::model(move || {
        assert!(flag.load(Ordering::SeqCst));
        f();
    });
}

/// A counter in a loom cell: loom fails the model on an access that no lock hand-over orders
/// after the previous one.
pub struct Counter(UnsafeCell<usize>);

// SAFETY: the models reach the cell only through a `MutexGuard` (`bump`); loom checks that
// the lock orders those accesses.
unsafe impl Sync for Counter {}

pub type Lock = Mutex<Counter>;

pub fn new_lock() -> Lock {
    Mutex::new(Counter(UnsafeCell::new(0)))
}

/// A lock that lives for the rest of the process, so guards and futures borrowing it can move
/// into model threads. Its queue is never dropped: a node left in it is an `Arc` leak to loom.
pub fn leaked() -> &'static Lock {
    Box::leak(Box::new(new_lock()))
}

/// Increments the counter under the guard; returns the value it saw.
pub fn bump(g: &mut MutexGuard<'_, Counter>) -> usize {
    g.0.with_mut(|p| {
        // SAFETY: called with the guard held; loom reports any access it does not order.
        unsafe {
            let v = *p;
            *p = v + 1;
            v
        }
    })
}

/// Checks that the lock is entirely free and returns the count.
pub fn assert_free(m: &Lock) -> usize {
    assert!(!m.is_locked(), "the lock was left held");
    let mut g = m
        .try_lock()
        .expect("the lock was left held or reserved (STARVING leaked)");
    let v = bump(&mut g);
    drop(g);
    assert!(!m.is_locked());
    v
}

/// Checks that every holder saw a different count: `0..n` in some order.
pub fn assert_distinct(mut seen: Vec<usize>) {
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..seen.len()).collect::<Vec<_>>(),
        "two holders at once"
    );
}
