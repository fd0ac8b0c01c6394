//! Loom model checks of `RwLock` (`raw_rwlock.rs`): admission of readers and writers, a
//! draining writer giving up while the last reader leaves, cancelled queued parties racing
//! the release that serves them, promotion of the next writer behind admitted readers, and
//! async futures mixed with blocking threads.
//!
//! What every model checks:
//!
//! - **Exclusion**: the data is a [`Pair`] in a loom `UnsafeCell`, so an access that the lock
//!   does not order after the previous writer's is a loom causality failure; writers keep the
//!   two halves equal.
//! - **No lost wake-up**: async parties run on [`Task`], which re-polls only after its waker
//!   was called, and blocking parties sleep in loom's `park`: a missing wake is a deadlock or
//!   a [`Task::run`] that never returns.
//! - **No leaked state**: at the end `try_write` succeeds, which is one CAS from a state word
//!   of exactly 0 (no reader count, no `WRITER`, `QUEUED` or `DRAINING` left behind). The
//!   lock is leaked (`Box::leak`, so futures and guards can move into model threads), which
//!   keeps its queue alive: a queue node left behind is a loom `Arc` leak.
//!
//! Under loom a timed wait expires as soon as it would sleep, so `*_timeout` calls race their
//! grant; dropping a future that was polled once models async cancellation.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom-rw cargo test --release -p csp-sync --test loom_rwlock`.
#![cfg(loom)]

use csp_sync::RwLock;
use loom::cell::UnsafeCell;
use loom::sync::Arc;

mod loom_support;
use loom_support::{Task, model};
use std::task::Poll;
use std::time::Duration;

/// Long enough never to pass in real time; under loom a timed wait expires as soon as it
/// would sleep, whatever the deadline.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A lock that lives for the rest of the process, so guards and futures borrowing it can move
/// into model threads. Its queue is never dropped: a node left in it is an `Arc` leak to loom.
fn leaked<T: Send + Sync + 'static>(v: T) -> &'static RwLock<T> {
    Box::leak(Box::new(RwLock::new(v)))
}

/// Two counters that writers keep equal, in a loom cell: loom fails the model on any access
/// not ordered after the last write (a reader inside with a writer, or two writers).
struct Pair(UnsafeCell<(usize, usize)>);

// SAFETY: the models reach the cell only through the lock's guards: `get` under a read or
// write guard, `bump` under a write guard (it takes `&mut`). Loom checks that this is so.
unsafe impl Sync for Pair {}

impl Pair {
    fn new() -> Self {
        Pair(UnsafeCell::new((0, 0)))
    }

    /// Reads both halves and checks they are equal (no half-done write is visible).
    fn get(&self) -> usize {
        // SAFETY: called under a guard; loom reports it if no guard orders this access.
        let (a, b) = self.0.with(|p| unsafe { *p });
        assert_eq!(a, b, "a half-done write is visible");
        a
    }

    /// Increments both halves, one at a time.
    fn bump(&mut self) {
        self.0.with_mut(|p| {
            // SAFETY: called under a write guard; loom reports any overlapping access.
            unsafe {
                (*p).0 += 1;
                (*p).1 += 1;
            }
        });
    }
}

/// Checks that the lock is entirely free (state word 0) and returns the pair's value.
fn assert_free(l: &RwLock<Pair>) -> usize {
    let g = l
        .try_write()
        .expect("the lock was left held or its state leaked");
    let v = g.get();
    drop(g);
    assert!(l.try_read().is_some(), "readers shut out of a free lock");
    v
}

// ---- admission -----------------------------------------------------------------------------

#[test]
fn writer_and_reader_exclude_each_other() {
    model(|| {
        let l = Arc::new(RwLock::new((0, 0)));
        let l2 = l.clone();
        let w = loom::thread::spawn(move || {
            let mut g = l2.write();
            g.0 += 1;
            g.1 += 1;
        });
        {
            let g = l.read();
            assert_eq!(g.0, g.1, "a reader saw a half-done write");
        }
        w.join().unwrap();
        assert_eq!(*l.read(), (1, 1));
    });
}

#[test]
fn writer_waits_for_reader_then_gets_in() {
    model(|| {
        let l = Arc::new(RwLock::new(0));
        let r = l.read();
        let l2 = l.clone();
        let w = loom::thread::spawn(move || {
            *l2.write() += 1;
        });
        drop(r);
        w.join().unwrap();
        assert_eq!(*l.read(), 1);
    });
}

#[test]
fn two_readers_and_a_writer() {
    model(|| {
        let l = Arc::new(RwLock::new(0));
        let l2 = l.clone();
        let r = loom::thread::spawn(move || *l2.read());
        *l.write() += 1;
        let seen = r.join().unwrap();
        assert!(seen == 0 || seen == 1);
        assert!(l.try_write().is_some());
    });
}

/// (e) With no writer around, `try_read` never fails (its CAS loop retries only while other
/// readers move the count), and `try_write` fails while any reader holds.
#[test]
fn try_read_never_fails_spuriously() {
    model(|| {
        let l = leaked(Pair::new());
        let t = loom::thread::spawn(move || {
            let r = l.try_read().expect("try_read failed with no writer");
            assert!(l.try_write().is_none(), "try_write got in with a reader");
            r.get();
        });
        let r = l.try_read().expect("try_read failed with no writer");
        assert!(l.try_write().is_none(), "try_write got in with a reader");
        r.get();
        drop(r);
        t.join().unwrap();
        assert_eq!(assert_free(l), 0);
    });
}

/// (e) `try_write` racing a `try_read`: at least one gets in (the other fails only because of
/// it), and the lock ends free.
#[test]
fn try_write_races_try_reads() {
    model(|| {
        let l = leaked(Pair::new());
        let t = loom::thread::spawn(move || match l.try_write() {
            Some(mut g) => {
                g.bump();
                true
            }
            None => false,
        });
        let got_read = match l.try_read() {
            Some(r) => {
                r.get();
                true
            }
            None => false,
        };
        let wrote = t.join().unwrap();
        // One of the two always gets in: a failure means the other one held the lock.
        assert!(
            wrote || got_read,
            "both failed with nobody holding the lock"
        );
        assert_eq!(assert_free(l), usize::from(wrote));
    });
}

// ---- a draining writer giving up -----------------------------------------------------------

/// (a) A writer that claimed the lock and drains (a reader holds) gives up — its future is
/// dropped — while the reader releases: either it got the lock first and released it, or its
/// claim is released; the lock ends free either way.
#[test]
fn draining_async_writer_dropped_while_reader_leaves() {
    model(|| {
        let l = leaked(Pair::new());
        let r = l.read();
        let t = loom::thread::spawn(move || {
            let mut w = Task::new(l.write_async());
            match w.poll() {
                Poll::Ready(mut g) => {
                    g.bump();
                    1
                }
                // Claimed, draining the reader: give up (the drop below).
                Poll::Pending => 0,
            }
        });
        r.get();
        drop(r);
        let wrote = t.join().unwrap();
        assert_eq!(assert_free(l), wrote);
    });
}

/// (a) As above with a blocking `write_timeout`, whose deadline (under loom) races the last
/// reader's grant.
#[test]
fn draining_timed_writer_races_reader_release() {
    model(|| {
        let l = leaked(Pair::new());
        let r = l.read();
        let t = loom::thread::spawn(move || match l.write_timeout(TIMEOUT) {
            Some(mut g) => {
                g.bump();
                1
            }
            None => 0,
        });
        r.get();
        drop(r);
        let wrote = t.join().unwrap();
        assert_eq!(assert_free(l), wrote);
    });
}

/// (a) A reader that arrives while a writer drains queues behind it; when that writer gives up
/// (its deadline passes: the first reader never leaves), the queued reader is admitted next to
/// the first one instead of being stranded.
#[test]
fn reader_queued_behind_a_timed_out_drainer_gets_in() {
    model(|| {
        let l = leaked(Pair::new());
        let r1 = l.read();
        let t = loom::thread::spawn(move || l.write_timeout(TIMEOUT).is_some());
        // Blocks while the writer claims the lock; must be let in once it gives up.
        let r2 = l.read();
        r1.get();
        r2.get();
        assert!(!t.join().unwrap(), "the writer got in while a reader held");
        drop((r1, r2));
        assert_eq!(assert_free(l), 0);
    });
}

/// (a) A draining async writer gives up while a reader is queued behind it and the first
/// reader leaves: the queued reader gets in, and the lock ends free.
#[test]
fn draining_writer_dropped_with_reader_queued_behind() {
    model(|| {
        let l = leaked(Pair::new());
        let r1 = l.read();
        let mut w = Task::new(l.write_async());
        w.pending(); // claimed, draining r1
        let mut r2 = Task::new(l.read_async());
        r2.pending(); // behind the claim
        let t = loom::thread::spawn(move || {
            r1.get();
            drop(r1);
        });
        drop(w); // races the last reader's grant
        let g = r2.run();
        assert_eq!(g.get(), 0);
        drop(g);
        t.join().unwrap();
        assert_eq!(assert_free(l), 0);
    });
}

/// (a) A draining writer gives up while the reader it drains leaves, with another writer W3
/// queued behind its claim: W3 is handed the lock (directly, or by draining nobody), never
/// stranded.
#[test]
fn draining_writer_dropped_hands_off_to_queued_writer() {
    model(|| {
        let l = leaked(Pair::new());
        let r = l.read();
        let mut w2 = Task::new(l.write_async());
        w2.pending(); // claimed, draining r
        let mut w3 = Task::new(l.write_async());
        w3.pending(); // queued behind the claim
        let t = loom::thread::spawn(move || {
            r.get();
            drop(r);
        });
        drop(w2); // races the last reader's grant
        let mut g = w3.run();
        assert_eq!(g.get(), 0, "W2 gave up without writing");
        g.bump();
        drop(g);
        t.join().unwrap();
        assert_eq!(assert_free(l), 1);
    });
}

// ---- cancelled queued parties racing the release -------------------------------------------

/// (b) W1 holds; a reader and then a writer W2 queue. W1 releases while the reader's future is
/// dropped: W2 still gets the lock (directly, or by draining the reader's abandoned count).
#[test]
fn queued_reader_dropped_while_writer_releases() {
    model(|| {
        let l = leaked(Pair::new());
        let mut g1 = l.write();
        g1.bump();
        let mut r = Task::new(l.read_async());
        r.pending();
        let mut w2 = Task::new(l.write_async());
        w2.pending();
        let t = loom::thread::spawn(move || drop(g1));
        drop(r); // races the release admitting it
        let mut g2 = w2.run();
        assert_eq!(g2.get(), 1);
        g2.bump();
        drop(g2);
        t.join().unwrap();
        assert_eq!(assert_free(l), 2);
    });
}

/// (b) As above with a blocking reader whose deadline races its admission: a reader counted in
/// by the release and then giving up must be subtracted again, or W2 drains forever.
#[test]
fn timed_reader_gives_up_while_admitted_ahead_of_writer() {
    model(|| {
        let l = leaked(Pair::new());
        let mut g1 = l.write();
        let t = loom::thread::spawn(move || l.read_timeout(TIMEOUT).map(|r| r.get()));
        // Queue a writer behind whatever the reader did; then release.
        let mut w2 = Task::new(l.write_async());
        w2.pending();
        g1.bump();
        drop(g1);
        let mut g2 = w2.run();
        let seen = g2.get();
        g2.bump();
        drop(g2);
        // The reader got in with W1's write (queued ahead of W2) or W2's (queued behind it, or
        // came late), or gave up; never anything else.
        assert!(matches!(t.join().unwrap(), None | Some(1) | Some(2)));
        assert_eq!(seen, 1);
        assert_eq!(assert_free(l), 2);
    });
}

/// (d) W1 holds; W2 queues, then a reader behind it. W1 releases exactly when W2's future is
/// dropped: the hand-off to W2 either wins (and the drop releases the lock again) or is
/// skipped; either way the reader behind it is admitted and the lock ends free.
#[test]
fn queued_writer_dropped_during_handoff() {
    model(|| {
        let l = leaked(Pair::new());
        let mut g1 = l.write();
        g1.bump();
        let mut w2 = Task::new(l.write_async());
        w2.pending();
        let mut r = Task::new(l.read_async());
        r.pending();
        let t = loom::thread::spawn(move || drop(g1));
        drop(w2); // races the hand-off
        let g = r.run();
        assert_eq!(g.get(), 1, "W2 was dropped: nobody else writes");
        drop(g);
        t.join().unwrap();
        assert_eq!(assert_free(l), 1);
    });
}

/// (d) W1 holds; R1, W2, R3 queue. W1 releases (R1 admitted, W2 promoted to drain R1) while
/// W2's future is dropped: R3 must then be admitted while R1 still holds.
#[test]
fn promoted_writer_dropped_lets_readers_behind_it_in() {
    model(|| {
        let l = leaked(Pair::new());
        let g1 = l.write();
        let mut r1 = Task::new(l.read_async());
        r1.pending();
        let mut w2 = Task::new(l.write_async());
        w2.pending();
        let mut r3 = Task::new(l.read_async());
        r3.pending();
        let t = loom::thread::spawn(move || drop(g1));
        drop(w2); // races the promotion
        let a = r1.run();
        let b = r3.run(); // both readers inside at once
        assert_eq!(a.get() + b.get(), 0);
        drop((a, b));
        t.join().unwrap();
        assert_eq!(assert_free(l), 0);
    });
}

// ---- promotion -----------------------------------------------------------------------------

/// (c) W1 holds; R queues, then W2. W1's release admits R and makes W2 the claimer (draining
/// R): new readers are shut out, R sees W1's write and not W2's, and R's release grants W2.
#[test]
fn release_admits_front_reader_and_promotes_next_writer() {
    model(|| {
        let l = leaked(Pair::new());
        let mut g1 = l.write();
        g1.bump();
        let mut r = Task::new(l.read_async());
        r.pending();
        let (tx, rx) = loom::sync::mpsc::channel();
        let t = loom::thread::spawn(move || {
            let mut w2 = Task::new(l.write_async());
            w2.pending(); // queued behind R
            tx.send(()).unwrap();
            let mut g = w2.run();
            assert_eq!(g.get(), 1, "W2 got in before the reader ahead of it");
            g.bump();
        });
        rx.recv().unwrap();
        drop(g1);
        let g = r.run();
        assert_eq!(
            g.get(),
            1,
            "the reader saw W2's write: promoted ahead of it"
        );
        assert!(
            l.try_read().is_none(),
            "a new reader got past the promoted writer"
        );
        assert!(l.try_write().is_none());
        drop(g);
        t.join().unwrap();
        assert_eq!(assert_free(l), 2);
    });
}

// ---- async and blocking together -----------------------------------------------------------

/// (f) An async task writing then reading, against a thread reading then writing: exclusion
/// holds and everything completes.
#[test]
fn async_and_blocking_parties_mixed() {
    model(|| {
        let l = leaked(Pair::new());
        let t = loom::thread::spawn(move || {
            l.read().get();
            l.write().bump();
        });
        Task::new(async {
            l.write_async().await.bump();
            l.read_async().await.get();
        })
        .run();
        t.join().unwrap();
        assert_eq!(assert_free(l), 2);
    });
}

/// (f) Three threads: two blocking writers and an async reader. Writes never overlap each
/// other or the read, and both land.
#[test]
fn two_writers_and_an_async_reader() {
    model(|| {
        let l = leaked(Pair::new());
        let t1 = loom::thread::spawn(move || l.write().bump());
        let t2 = loom::thread::spawn(move || l.write().bump());
        let seen = Task::new(async { l.read_async().await.get() }).run();
        assert!(seen <= 2);
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(assert_free(l), 2);
    });
}

/// (f) A blocking writer claims the lock while a blocking reader holds it, racing an async
/// reader: the async reader either gets in before the claim (and sees no write), or queues
/// behind the claim and is admitted only after the writer (writer preference).
#[test]
fn async_reader_and_blocking_writer_around_a_reader() {
    model(|| {
        let l = leaked(Pair::new());
        let r = l.read();
        let t = loom::thread::spawn(move || l.write().bump());
        let mut r2 = Task::new(l.read_async());
        let early = r2.poll();
        drop(r);
        match early {
            Poll::Ready(g) => assert_eq!(g.get(), 0),
            Poll::Pending => {
                let g = r2.run();
                assert_eq!(
                    g.get(),
                    1,
                    "a reader queued behind a writer's claim got in first"
                );
            }
        }
        t.join().unwrap();
        assert_eq!(assert_free(l), 1);
    });
}
