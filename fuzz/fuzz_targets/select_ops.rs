// Run: `cargo install cargo-fuzz`, then `cd fuzz && cargo +nightly fuzz run select_ops`
// (bound it with `-- -max_total_time=60`). Checks select over three csp-chan channels against
// the model in crates/csp-chan/tests/proptest_select.rs: byte 0 picks the three capacities
// (bits 0..6) and the operation mix (bit 6: weighted towards the pending `select_async!`),
// then 2 bytes per op.
#![no_main]
// The model file says `#![cfg(not(loom))]`; this crate declares no `loom` cfg.
#![allow(unexpected_cfgs)]

#[allow(dead_code)]
#[path = "../../crates/csp-chan/tests/proptest_select.rs"]
mod model;

/// Longer inputs add little: the model's state space is small.
const MAX_OPS: usize = 256;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&c, rest)) = data.split_first() else {
        return;
    };
    let caps = model::caps_from_byte(c & 0x3f);
    let async_mix = c & 0x40 != 0;
    let ops: Vec<model::Op> = rest
        .chunks_exact(2)
        .take(MAX_OPS)
        .map(|b| model::Op::decode(b[0], b[1], async_mix))
        .collect();
    model::run(caps, &ops);
});
