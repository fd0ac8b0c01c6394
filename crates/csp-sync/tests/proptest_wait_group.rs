//! WaitGroup against a model counter: random add / done / guard / wait_timeout sequences,
//! including `done` below zero (which must panic and leave the count unchanged), whether
//! called directly or by a guard's drop.
#![cfg(not(loom))]
#![cfg(not(miri))]

use csp_sync::{WaitGroup, WaitGroupGuard};
use proptest::prelude::*;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

#[derive(Clone, Debug)]
enum Op {
    Add(usize),
    Done,
    Guard,
    DropGuard(usize),
    WaitZero,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0usize..4).prop_map(Op::Add),
        Just(Op::Done),
        Just(Op::Guard),
        (0usize..8).prop_map(Op::DropGuard),
        Just(Op::WaitZero),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    #[test]
    fn wait_group_matches_model(ops in proptest::collection::vec(op(), 1..100)) {
        // The expected misuse panics would flood the output; this binary has no other test.
        std::panic::set_hook(Box::new(|_| {}));
        let wg = WaitGroup::new();
        let mut guards: Vec<WaitGroupGuard> = Vec::new();
        let mut count = 0usize;
        for op in ops {
            match op {
                Op::Add(n) => {
                    wg.add(n);
                    count += n;
                }
                Op::Done => {
                    let r = catch_unwind(AssertUnwindSafe(|| wg.done()));
                    if count == 0 {
                        prop_assert!(r.is_err(), "done() below zero must panic");
                    } else {
                        prop_assert!(r.is_ok());
                        count -= 1;
                    }
                }
                Op::Guard => {
                    guards.push(wg.guard());
                    count += 1;
                }
                Op::DropGuard(i) => {
                    if !guards.is_empty() {
                        // A guard's drop is a `done()`: below zero (after extra `done`s) it
                        // panics like one.
                        let g = guards.remove(i % guards.len());
                        let r = catch_unwind(AssertUnwindSafe(move || drop(g)));
                        if count == 0 {
                            prop_assert!(r.is_err(), "a guard dropped below zero must panic");
                        } else {
                            prop_assert!(r.is_ok());
                            count -= 1;
                        }
                    }
                }
                Op::WaitZero => {
                    prop_assert_eq!(wg.wait_timeout(Duration::ZERO), count == 0);
                }
            }
            prop_assert_eq!(wg.count(), count);
        }
        for g in guards {
            let r = catch_unwind(AssertUnwindSafe(move || drop(g)));
            prop_assert_eq!(r.is_ok(), count > 0);
            count = count.saturating_sub(1);
        }
        prop_assert_eq!(wg.count(), count);
    }
}
