//! Loom model checks of `Mutex`'s hand-off (starvation) mode: the slow unlock takes the lock
//! back (`LOCKED | STARVING`) and hands it to the head of the queue, claimed `GRANTED`, while
//! bargers are kept out.
//!
//! Time does not pass under loom, so every model sets the hidden global
//! `csp_sync::LOOM_ALL_STARVING` first (in [`model`]): every queued waiter then counts as
//! starving and every slow unlock takes the hand-off path. The flag is process-wide, hence
//! this test binary of its own (the normal mode is modelled in `loom_mutex.rs`).
//!
//! The models:
//!
//! - hand-off among two blocked threads and the main thread, which locks again meanwhile;
//! - a barger (`try_lock`, then `lock`) racing the hand-off to a blocked thread;
//! - no barging past a hand-off: once the unlock that served a queued async waiter has
//!   returned, nobody else gets the lock before that waiter has had it;
//! - an async waiter cancelled concurrently with the unlock that hands it the lock (cancel vs
//!   `GRANTED`), and one cancelled after the hand-off, with a blocked thread behind it;
//! - a timed lock racing the hand-off, with and without another locker behind it.
//!
//! What every model checks:
//!
//! - **Exclusion**: the data is a loom `UnsafeCell`, so an access that the lock does not order
//!   after the previous holder's is a loom causality failure; each holder also returns the
//!   count it saw, and these must be distinct.
//! - **No lost wake-up**: blocked threads sleep in loom's `park` and async waiters run on
//!   [`Task`], which re-polls only after its waker was called: a missing wake is a deadlock
//!   (or a [`Task::run`] that never returns), which loom reports.
//! - **No leaked state**: at the end `is_locked()` is false and `try_lock` succeeds, which
//!   needs both `LOCKED` and `STARVING` clear. Locks shared with futures are leaked
//!   (`Box::leak`, so futures and guards can move into model threads), which keeps the queue
//!   alive: a node left in it is a loom `Arc` leak.
//!
//! Under loom a timed wait expires as soon as it would sleep (csp-park's futex model), so
//! `lock_timeout` races its grant; dropping a future that was polled once models async
//! cancellation.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom-mx cargo test --release -p csp-sync --test loom_mutex_handoff`.
#![cfg(loom)]

use csp_sync::LOOM_ALL_STARVING;
use loom::sync::Arc;
use loom::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;

mod loom_support;
use loom_support::Task;
use loom_support::counter::{
    assert_distinct, assert_free, bump, leaked, model_with_flag, new_lock,
};
use std::time::Duration;

/// Long enough never to pass in real time; under loom a timed wait expires as soon as it
/// would sleep, whatever the deadline.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `f` under loom with every waiter starving (hand-off mode).
fn model(f: impl Fn() + Sync + Send + 'static) {
    model_with_flag(&LOOM_ALL_STARVING, f);
}

/// (a) The main thread holds while two threads block; its unlock hands off to the head of the
/// queue while it locks again itself (queueing behind, or barging before the hand-off), and
/// every later unlock hands off again. All four critical sections exclude each other, all
/// finish, and the lock ends free.
#[test]
fn handoff_among_blocked_threads_and_main() {
    model(|| {
        let m = Arc::new(new_lock());
        let mut g = m.lock();
        let mut seen = vec![bump(&mut g)];
        let ts: Vec<_> = (0..2)
            .map(|_| {
                let m = m.clone();
                loom::thread::spawn(move || bump(&mut m.lock()))
            })
            .collect();
        drop(g);
        seen.push(bump(&mut m.lock()));
        seen.extend(ts.into_iter().map(|t| t.join().unwrap()));
        assert_distinct(seen);
        assert_eq!(assert_free(&m), 4);
    });
}

/// (b) A barger racing the hand-off: the main thread holds, one thread blocks in `lock`, and
/// another tries `try_lock` twice (yielding between) and then `lock`s, around the moment the
/// main thread unlocks. Exclusion holds, the blocked thread gets the lock, nothing deadlocks.
#[test]
fn barger_races_handoff_to_blocked_thread() {
    model(|| {
        let m = Arc::new(new_lock());
        let mut g = m.lock();
        let mut seen = vec![bump(&mut g)];
        let m2 = m.clone();
        let waiter = loom::thread::spawn(move || bump(&mut m2.lock()));
        let m3 = m.clone();
        let barger = loom::thread::spawn(move || {
            let mut g = match m3.try_lock() {
                Some(g) => g,
                None => {
                    loom::thread::yield_now();
                    m3.try_lock().unwrap_or_else(|| m3.lock())
                }
            };
            bump(&mut g)
        });
        drop(g);
        seen.push(waiter.join().unwrap());
        seen.push(barger.join().unwrap());
        assert_distinct(seen);
        assert_eq!(assert_free(&m), 3);
    });
}

/// (b') The hand-off keeps bargers out: an async waiter is queued (its poll returned
/// `Pending`) while the main thread holds; once the main thread's unlock has returned, the
/// lock belongs to that waiter, so a barger (`try_lock`, then `lock`) that starts after it
/// gets the lock only after the waiter has had it, and a `try_lock` right after the unlock
/// fails. (In normal mode the unlock would only wake the waiter, and the barger could take the
/// free lock first.)
#[test]
fn no_barging_past_handoff() {
    model(|| {
        let m = leaked();
        let released = Arc::new(AtomicBool::new(false));
        let waiter_done = Arc::new(AtomicBool::new(false));
        let mut g = m.lock();
        let mut seen = vec![bump(&mut g)];
        let mut task = Task::new(m.lock_async());
        task.pending();
        let (r2, d2) = (released.clone(), waiter_done.clone());
        let barger = loom::thread::spawn(move || {
            let after = r2.load(Ordering::SeqCst);
            let (mut g, after) = match m.try_lock() {
                Some(g) => (g, after),
                None => {
                    let after = r2.load(Ordering::SeqCst);
                    (m.lock(), after)
                }
            };
            if after {
                assert!(
                    d2.load(Ordering::SeqCst),
                    "a barger got the lock ahead of the waiter it was handed to"
                );
            }
            bump(&mut g)
        });
        drop(g);
        released.store(true, Ordering::SeqCst);
        // The lock is the waiter's now (or a barger's that got in before the unlock was done,
        // and whose own unlock hands it on): nobody else gets in, even between that barger's
        // release and its hand-off (`STARVING` keeps them out).
        assert!(m.try_lock().is_none(), "barged past a hand-off");
        let mut g = task.run();
        // Set while holding, so whoever locks after this guard's release sees it.
        waiter_done.store(true, Ordering::SeqCst);
        seen.push(bump(&mut g));
        drop(g);
        seen.push(barger.join().unwrap());
        assert_distinct(seen);
        assert_eq!(assert_free(m), 3);
    });
}

/// (c) Cancel vs `GRANTED`: an async waiter is queued while the main thread holds; another
/// thread drops its future while the main thread's unlock hands it the lock, and a third
/// thread blocks in `lock` meanwhile. Whoever wins the waiter's claim, the lock is not lost:
/// a granted-then-dropped future unlocks (handing on to the blocked thread), an aborted one
/// leaves the queue, the blocked thread gets the lock and the lock ends free.
#[test]
fn handoff_races_cancelled_async_waiter() {
    model(|| {
        let m = leaked();
        let mut g = m.lock();
        let mut seen = vec![bump(&mut g)];
        let mut task = Task::new(m.lock_async());
        task.pending();
        let canceller = loom::thread::spawn(move || drop(task));
        let blocked = loom::thread::spawn(move || bump(&mut m.lock()));
        drop(g);
        canceller.join().unwrap();
        seen.push(blocked.join().unwrap());
        assert_distinct(seen);
        assert_eq!(assert_free(m), 2);
    });
}

/// (c') The future is dropped after the unlock returned (so it was handed the lock, unless the
/// other thread barged in before the unlock was done, and then that thread's unlock hands it
/// on): meanwhile `try_lock` fails, and the future's drop must unlock, handing on to the
/// thread blocked behind it.
#[test]
fn async_waiter_cancelled_after_handoff() {
    model(|| {
        let m = leaked();
        let mut g = m.lock();
        let mut seen = vec![bump(&mut g)];
        let mut task = Task::new(m.lock_async());
        task.pending();
        let blocked = loom::thread::spawn(move || bump(&mut m.lock()));
        drop(g);
        assert!(m.try_lock().is_none(), "barged past a hand-off");
        drop(task);
        seen.push(blocked.join().unwrap());
        assert_distinct(seen);
        assert_eq!(assert_free(m), 2);
    });
}

/// (d) A timed lock racing the hand-off (its wait expires as soon as it would sleep), with a
/// blocking locker behind it: either it is handed the lock (and its guard unlocks, handing
/// on), or it times out and the lock passes on to the other locker. Both finish; the lock
/// ends free.
#[test]
fn timed_lock_races_handoff() {
    model(|| {
        let m = Arc::new(new_lock());
        let mut g = m.lock();
        let mut seen = vec![bump(&mut g)];
        let m2 = m.clone();
        let timed = loom::thread::spawn(move || m2.lock_timeout(TIMEOUT).map(|mut g| bump(&mut g)));
        let m3 = m.clone();
        let blocked = loom::thread::spawn(move || bump(&mut m3.lock()));
        drop(g);
        seen.extend(timed.join().unwrap());
        seen.push(blocked.join().unwrap());
        let n = seen.len();
        assert_distinct(seen);
        assert_eq!(assert_free(&m), n);
    });
}

/// (d') A timed lock alone racing the hand-off: if it gives up between the unlock's look at
/// the queue and its `GRANTED` claim, the unlock must release the lock it took back.
#[test]
fn lone_timed_lock_races_handoff() {
    model(|| {
        let m = Arc::new(new_lock());
        let mut g = m.lock();
        let mut seen = vec![bump(&mut g)];
        let m2 = m.clone();
        let timed = loom::thread::spawn(move || m2.lock_timeout(TIMEOUT).map(|mut g| bump(&mut g)));
        drop(g);
        seen.extend(timed.join().unwrap());
        let n = seen.len();
        assert_distinct(seen);
        assert_eq!(assert_free(&m), n);
    });
}
