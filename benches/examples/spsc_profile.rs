//! Profiling target: `spsc` on csp-chan's bounded(0) and bounded(1), for strace / perf.
//!
//! `strace -c -f target/release/examples/spsc_profile 0`

fn main() {
    let cap: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let n = 100_000u64;
    let (tx, rx) = csp_chan::bounded(cap);
    let start = std::time::Instant::now();
    let t = std::thread::spawn(move || {
        for i in 0..n {
            tx.send(i).unwrap();
        }
    });
    let mut sum = 0;
    for _ in 0..n {
        sum += rx.recv().unwrap();
    }
    t.join().unwrap();
    assert_eq!(sum, (0..n).sum::<u64>());
    println!(
        "bounded({cap}): {:.0} ns/msg",
        start.elapsed().as_nanos() as f64 / n as f64
    );
}
