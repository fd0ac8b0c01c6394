// Run: `cargo install cargo-fuzz`, then `cd fuzz && cargo +nightly fuzz run chan_ops`
// (bound it with `-- -max_total_time=60`). Checks csp-chan against the model in
// crates/csp-chan/tests/proptest_model.rs: byte 0 picks the capacity, then 2 bytes per op.
#![no_main]

use std::time::Duration;

#[allow(dead_code)]
#[path = "../../crates/csp-chan/tests/proptest_model.rs"]
mod model;

/// Longer inputs add little: the model's state space is small.
const MAX_OPS: usize = 256;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&c, rest)) = data.split_first() else {
        return;
    };
    let cap = model::CAPS[c as usize % model::CAPS.len()];
    let ops: Vec<model::Op> = rest
        .chunks_exact(2)
        .take(MAX_OPS)
        .map(|b| model::Op::decode(b[0], b[1]))
        .collect();
    // A short timeout keeps the executions fast; the model accepts either outcome of the
    // race it opens in `send_timeout` (deadline passed or not before the send looks).
    model::run(cap, &ops, Duration::from_micros(1));
});
