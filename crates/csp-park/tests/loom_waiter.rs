//! Loom model checks of the `Waiter` claim protocol: exclusive claims, a deadline racing a
//! claimer, and a task re-registering its waker while it is being woken.
//!
//! Run with
//! `CARGO_TARGET_DIR=target/loom RUSTFLAGS="--cfg loom" cargo test --release -p csp-park --test loom_waiter`.
#![cfg(loom)]

use csp_park::sync::Arc;
use csp_park::sync::atomic::{AtomicUsize, Ordering};
use csp_park::sync::thread;
use csp_park::{Selected, Waiter};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant};

/// Runs `f` under loom, bounding preemptions at 2 unless `LOOM_MAX_PREEMPTIONS` says otherwise,
/// and reports how many interleavings were explored (visible with `--nocapture`).
fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = runs.clone();
    b.check(move || {
        r.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    eprintln!(
        "{}: {} interleavings (preemption bound {:?})",
        std::thread::current().name().unwrap_or("?"),
        runs.load(std::sync::atomic::Ordering::Relaxed),
        b.preemption_bound
    );
}

/// A waker that counts its wake-ups.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (std::sync::Arc<Count>, Waker) {
    let c = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    let w = Waker::from(c.clone());
    (c, w)
}

/// Two claimers race for one thread waiter: exactly one wins, and the parked owner returns
/// the winner's operation (its wake is never lost).
#[test]
fn two_claimers_one_winner() {
    model(|| {
        let w = Arc::new(Waiter::thread());
        let claimers: Vec<_> = (0..2)
            .map(|op| {
                let w = w.clone();
                thread::spawn(move || {
                    let won = w.try_claim(op);
                    if won {
                        w.wake();
                    }
                    won
                })
            })
            .collect();
        let got = w.wait_until(None);
        let wins: Vec<bool> = claimers.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(
            wins.iter().filter(|&&b| b).count(),
            1,
            "exactly one claim wins"
        );
        let winner = wins.iter().position(|&b| b).unwrap();
        assert_eq!(got, Selected::Operation(winner));
        assert_eq!(w.selected(), Some(Selected::Operation(winner)));
    });
}

/// A timed wait (which under loom expires as soon as it would sleep) races a claimer: the
/// owner sees `Aborted` exactly when the claimer lost, `Operation(3)` exactly when it won.
#[test]
fn timed_wait_vs_claimer() {
    model(|| {
        let w = Arc::new(Waiter::thread());
        let w2 = w.clone();
        let claimer = thread::spawn(move || {
            let won = w2.try_claim(3);
            if won {
                w2.wake();
            }
            won
        });
        let got = w.wait_until(Some(Instant::now() + Duration::from_secs(10)));
        let won = claimer.join().unwrap();
        match got {
            Selected::Aborted => assert!(!won, "aborted, yet the claimer won"),
            Selected::Operation(n) => {
                assert_eq!(n, 3);
                assert!(won, "the owner saw a claim the claimer did not win");
            }
        }
        assert_eq!(w.selected(), Some(got));
    });
}

/// The owner aborting (a dropped future) races a claimer: exactly one of them wins.
#[test]
fn abort_vs_claimer() {
    model(|| {
        let (_c, waker) = counting_waker();
        let w = Arc::new(Waiter::task(&waker));
        let w2 = w.clone();
        let claimer = thread::spawn(move || {
            let won = w2.try_claim(1);
            if won {
                w2.wake();
            }
            won
        });
        let got = w.abort();
        let won = claimer.join().unwrap();
        assert_eq!(got == Selected::Operation(1), won);
        assert_eq!(got == Selected::Aborted, !won);
    });
}

/// A task re-registers a new waker (a later poll) while a claimer claims and wakes it. No
/// wake-up may be lost: either the new waker is woken, or the owner's check of `selected()`
/// after registering sees the claim (and so it would not return `Pending`). Exactly one
/// waker is called, once.
#[test]
fn register_vs_claim_and_wake() {
    model(|| {
        let (old_count, old_waker) = counting_waker();
        let (new_count, new_waker) = counting_waker();
        let w = Arc::new(Waiter::task(&old_waker));
        let w2 = w.clone();
        let claimer = thread::spawn(move || {
            assert!(w2.try_claim(0));
            w2.wake();
        });
        // The owner's poll: register, then re-check (what `RecvWait::poll` does).
        w.register(&new_waker);
        let saw_claim = w.selected().is_some();
        claimer.join().unwrap();

        let old = old_count.0.load(Ordering::SeqCst);
        let new = new_count.0.load(Ordering::SeqCst);
        assert!(
            new == 1 || saw_claim,
            "lost wake-up: the registered waker was not woken and the claim was not seen"
        );
        assert_eq!(old + new, 1, "the claimer calls exactly one waker once");
        assert_eq!(w.selected(), Some(Selected::Operation(0)));
    });
}

/// A thread owner parks in `wait_until(None)` while a claimer claims and wakes it: the
/// PARKED-bit handshake (owner sets it by CAS, claimer's CAS keeps it) never loses the wake.
#[test]
fn parked_owner_is_woken() {
    model(|| {
        let w = Arc::new(Waiter::thread());
        let w2 = w.clone();
        let owner = thread::spawn(move || w2.wait_until(None));
        assert!(w.try_claim(5));
        w.wake();
        assert_eq!(owner.join().unwrap(), Selected::Operation(5));
    });
}
