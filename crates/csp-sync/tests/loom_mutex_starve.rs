//! Loom model checks of how `Mutex` *enters* hand-off (starvation) mode, by Go's rule: a
//! waiter that was woken and lost the race to a barger after waiting 1 ms goes back to the
//! front of the queue and sets `STARVING` as it does; from then on unlocks hand the lock over.
//!
//! Time does not pass under loom, so every model sets the hidden global
//! `csp_sync::LOOM_WOKEN_STARVING`: a waiter counts as starving once it was woken and lost
//! (never when it first queues). The flag is process-wide, hence this test binary of its own
//! (`loom_mutex_handoff.rs` models the hand-off itself, with every waiter starving from the
//! start; `loom_mutex.rs` the normal mode).
//!
//! The models:
//!
//! - a blocked thread, woken by the unlock, races the unlocking thread locking again: either
//!   it wins, or it loses, switches the mutex to hand-off and is handed the lock by that
//!   thread's next unlock;
//! - an async waiter that was woken and lost is handed the lock by the next unlock, ahead of a
//!   thread that blocks meanwhile (no barging while `STARVING` is set);
//! - that waiter's future is dropped concurrently with the unlock that hands it the lock.
//!
//! Each checks exclusion (the data is a loom cell, and holders see distinct counts), that
//! nothing deadlocks (a lost wake-up is a loom deadlock), and that the lock ends free with
//! `STARVING` clear (`assert_free`).
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom cargo test --release -p csp-sync --test loom_mutex_starve`.
#![cfg(loom)]

use csp_sync::LOOM_WOKEN_STARVING;
use loom::sync::Arc;

mod loom_support;
use loom_support::Task;
use loom_support::counter::{
    assert_distinct, assert_free, bump, leaked, model_with_flag, new_lock,
};

/// Runs `f` under loom with woken-and-lost waiters starving.
fn model(f: impl Fn() + Sync + Send + 'static) {
    model_with_flag(&LOOM_WOKEN_STARVING, f);
}

/// (a) The main thread holds while a thread blocks; it unlocks (waking the thread) and locks
/// again at once. If the woken thread loses that race it re-queues starving, and the main
/// thread's second unlock must hand it the lock: all three critical sections exclude each
/// other, the thread finishes, the lock ends free.
#[test]
fn woken_waiter_that_loses_switches_to_handoff() {
    model(|| {
        let m = Arc::new(new_lock());
        let mut g = m.lock();
        let mut seen = vec![bump(&mut g)];
        let m2 = m.clone();
        let t = loom::thread::spawn(move || bump(&mut m2.lock()));
        drop(g);
        seen.push(bump(&mut m.lock()));
        seen.push(t.join().unwrap());
        assert_distinct(seen);
        assert_eq!(assert_free(&m), 3);
    });
}

/// Queues an async waiter on `m`, wakes it with an unlock and barges past it; returns the
/// waiter (re-queued at the front, starving: `STARVING` is set) and the barger's guard.
fn starving_waiter(
    m: &'static csp_sync::Mutex<loom_support::counter::Counter>,
    seen: &mut Vec<usize>,
) -> (
    Task<csp_sync::MutexLockFut<'static, loom_support::counter::Counter>>,
    csp_sync::MutexGuard<'static, loom_support::counter::Counter>,
) {
    let mut g = m.lock();
    seen.push(bump(&mut g));
    let mut task = Task::new(m.lock_async());
    task.pending();
    drop(g); // wakes the waiter to compete
    let mut g = m.try_lock().expect("the lock was free after the unlock");
    seen.push(bump(&mut g));
    task.pending(); // woken, lost: re-queued starving
    (task, g)
}

/// (b) A woken-and-lost async waiter is handed the lock by the next unlock: right after that
/// unlock nobody can take the lock, and a thread that blocks meanwhile gets it only after the
/// waiter (the waiter's unlock hands on to it).
#[test]
fn starving_async_waiter_is_handed_the_lock() {
    model(|| {
        let m = leaked();
        let mut seen = Vec::new();
        let (task, g) = starving_waiter(m, &mut seen);
        let blocked = loom::thread::spawn(move || bump(&mut m.lock()));
        drop(g);
        assert!(m.try_lock().is_none(), "barged past a starving waiter");
        let mut g = task.run();
        seen.push(bump(&mut g));
        drop(g);
        seen.push(blocked.join().unwrap());
        assert_distinct(seen);
        assert_eq!(assert_free(m), 4);
    });
}

/// (c) The starving waiter's future is dropped while the unlock hands it the lock, with a
/// thread blocking meanwhile: whoever wins the waiter's claim, the lock passes on to the
/// thread (a granted-then-dropped future unlocks; an aborted one leaves the queue) and ends
/// free.
#[test]
fn starving_async_waiter_cancelled_during_handoff() {
    model(|| {
        let m = leaked();
        let mut seen = Vec::new();
        let (task, g) = starving_waiter(m, &mut seen);
        let canceller = loom::thread::spawn(move || drop(task));
        let blocked = loom::thread::spawn(move || bump(&mut m.lock()));
        drop(g);
        canceller.join().unwrap();
        seen.push(blocked.join().unwrap());
        assert_distinct(seen);
        assert_eq!(assert_free(m), 3);
    });
}
