//! Loom model checks of `RwLock` admission: a writer racing readers, and a waiting writer
//! keeping new readers out.
#![cfg(loom)]

use csp_sync::RwLock;
use loom::sync::Arc;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    if b.preemption_bound.is_none() {
        b.preemption_bound = Some(2);
    }
    b.check(f);
}

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
