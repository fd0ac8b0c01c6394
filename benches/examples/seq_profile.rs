//! Profiling target: `seq` on csp-chan's bounded(N) only, for callgrind / perf.
//!
//! `valgrind --tool=callgrind target/release/examples/seq_profile`

fn main() {
    let n = 200_000u64;
    let (tx, rx) = csp_chan::bounded(n as usize);
    let mut sum = 0;
    for _ in 0..5 {
        for i in 0..n {
            tx.send(i).unwrap();
        }
        for _ in 0..n {
            sum += rx.recv().unwrap();
        }
    }
    assert_eq!(sum, 5 * (0..n).sum::<u64>());
}
