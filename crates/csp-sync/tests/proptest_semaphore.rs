//! Semaphore against a model: random sequences of try_acquire, release, and async acquires
//! that are polled, re-polled and dropped, checking the free permits and which request is
//! granted after every step (FIFO: nobody overtakes the head of the queue).
#![cfg(not(loom))]
#![cfg(not(miri))]

use csp_sync::{AcquireFut, Semaphore, SemaphorePermit};
use proptest::prelude::*;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Clone, Debug)]
enum Op {
    TryAcquire(usize),
    Release(usize),
    StartAsync(usize),
    Poll(usize),
    DropPending(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..6).prop_map(Op::TryAcquire),
        (0usize..8).prop_map(Op::Release),
        (0usize..6).prop_map(Op::StartAsync),
        (0usize..8).prop_map(Op::Poll),
        (0usize..8).prop_map(Op::DropPending),
    ]
}

struct Pending {
    need: usize,
    granted: bool,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn semaphore_matches_model(size in 1usize..5, ops in proptest::collection::vec(op(), 1..80)) {
        let sem = Semaphore::new(size);
        let mut held: Vec<SemaphorePermit<'_>> = Vec::new();
        let mut futs: Vec<(AcquireFut<'_>, Pending)> = Vec::new();
        let mut avail = size;
        let mut cx = Context::from_waker(Waker::noop());

        // Grants from the head of the model queue while permits suffice (the library's serve).
        fn serve(futs: &mut [(AcquireFut<'_>, Pending)], avail: &mut usize) {
            for (_, p) in futs.iter_mut() {
                if p.granted {
                    continue;
                }
                if p.need > *avail {
                    break;
                }
                *avail -= p.need;
                p.granted = true;
            }
        }

        for op in ops {
            let waiting = futs.iter().any(|(_, p)| !p.granted);
            match op {
                Op::TryAcquire(k) => {
                    let got = sem.try_acquire(k);
                    let expect = k <= size && !waiting && avail >= k;
                    prop_assert_eq!(got.is_some(), expect, "try_acquire({})", k);
                    if let Some(p) = got {
                        avail -= k;
                        held.push(p);
                    }
                }
                Op::Release(i) => {
                    if !held.is_empty() {
                        let p = held.remove(i % held.len());
                        avail += p.permits();
                        drop(p);
                        serve(&mut futs, &mut avail);
                    }
                }
                Op::StartAsync(k) => {
                    let k = k.min(size);
                    let mut f = sem.acquire_async(k);
                    match Pin::new(&mut f).poll(&mut cx) {
                        Poll::Ready(r) => {
                            prop_assert!(!waiting && avail >= k, "acquire_async({}) jumped the queue", k);
                            avail -= k;
                            held.push(r.unwrap());
                        }
                        Poll::Pending => {
                            prop_assert!(waiting || avail < k, "acquire_async({}) waited needlessly", k);
                            futs.push((f, Pending { need: k, granted: false }));
                        }
                    }
                }
                Op::Poll(i) => {
                    if !futs.is_empty() {
                        let i = i % futs.len();
                        let granted = futs[i].1.granted;
                        match Pin::new(&mut futs[i].0).poll(&mut cx) {
                            Poll::Ready(r) => {
                                prop_assert!(granted, "a request completed before the model granted it");
                                let (_, _) = futs.remove(i);
                                held.push(r.unwrap());
                            }
                            Poll::Pending => prop_assert!(!granted, "a granted request is still pending"),
                        }
                    }
                }
                Op::DropPending(i) => {
                    if !futs.is_empty() {
                        let (f, p) = futs.remove(i % futs.len());
                        drop(f);
                        if p.granted {
                            avail += p.need;
                        }
                        serve(&mut futs, &mut avail);
                    }
                }
            }
            prop_assert_eq!(sem.available(), avail, "free permits");
        }
        drop(futs);
        drop(held);
        prop_assert_eq!(sem.available(), size, "permits lost or duplicated");
    }
}
