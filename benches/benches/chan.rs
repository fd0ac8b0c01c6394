//! Criterion micro benchmarks: uncontended try_send + try_recv, ping-pong round trips on
//! bounded(0) and bounded(1) between two threads and between two tasks, select over 1, 2, 4
//! and 8 ready / unready arms, channel creation.
//! csp beside crossbeam-channel, flume and kanal.
//!
//! `cargo bench -p csp-bench --bench chan`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::thread;

fn try_send_recv(c: &mut Criterion) {
    let mut g = c.benchmark_group("try_send+try_recv (uncontended, bounded(16))");
    g.bench_function("csp", |b| {
        let (tx, rx) = csp_chan::bounded(16);
        b.iter(|| {
            tx.try_send(black_box(1u64)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    g.bench_function("crossbeam", |b| {
        let (tx, rx) = crossbeam_channel::bounded(16);
        b.iter(|| {
            tx.try_send(black_box(1u64)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    g.bench_function("flume", |b| {
        let (tx, rx) = flume::bounded(16);
        b.iter(|| {
            tx.try_send(black_box(1u64)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    g.bench_function("kanal", |b| {
        let (tx, rx) = kanal::bounded(16);
        b.iter(|| {
            tx.try_send(black_box(1u64)).unwrap();
            black_box(rx.try_recv().unwrap())
        })
    });
    g.finish();
}

macro_rules! pingpong_threads {
    ($g:expr, $name:literal, $cap:expr, $make:expr) => {
        $g.bench_function($name, |b| {
            b.iter_custom(|iters| {
                let (tx1, rx1) = $make($cap);
                let (tx2, rx2) = $make($cap);
                let echo = thread::spawn(move || {
                    while let Ok(v) = rx1.recv() {
                        if tx2.send(v).is_err() {
                            break;
                        }
                    }
                });
                let start = std::time::Instant::now();
                for i in 0..iters {
                    tx1.send(i).unwrap();
                    black_box(rx2.recv().unwrap());
                }
                let el = start.elapsed();
                drop(tx1);
                echo.join().unwrap();
                el
            })
        });
    };
}

fn pingpong_thread(c: &mut Criterion) {
    for cap in [0usize, 1] {
        let mut g = c.benchmark_group(format!("ping-pong round trip, threads, bounded({cap})"));
        pingpong_threads!(g, "csp", cap, csp_chan::bounded::<u64>);
        pingpong_threads!(g, "crossbeam", cap, crossbeam_channel::bounded::<u64>);
        pingpong_threads!(g, "flume", cap, flume::bounded::<u64>);
        pingpong_threads!(g, "kanal", cap, kanal::bounded::<u64>);
        g.finish();
    }
}

fn pingpong_task(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for cap in [0usize, 1] {
        let mut g = c.benchmark_group(format!("ping-pong round trip, tokio tasks, bounded({cap})"));
        g.bench_function("csp", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let (tx1, rx1) = csp_chan::bounded::<u64>(cap);
                    let (tx2, rx2) = csp_chan::bounded::<u64>(cap);
                    let echo = tokio::spawn(async move {
                        while let Ok(v) = rx1.recv_async().await {
                            if tx2.send_async(v).await.is_err() {
                                break;
                            }
                        }
                    });
                    let start = std::time::Instant::now();
                    for i in 0..iters {
                        tx1.send_async(i).await.unwrap();
                        black_box(rx2.recv_async().await.unwrap());
                    }
                    let el = start.elapsed();
                    drop(tx1);
                    echo.await.unwrap();
                    el
                })
            })
        });
        g.bench_function("flume", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let (tx1, rx1) = flume::bounded::<u64>(cap);
                    let (tx2, rx2) = flume::bounded::<u64>(cap);
                    let echo = tokio::spawn(async move {
                        while let Ok(v) = rx1.recv_async().await {
                            if tx2.send_async(v).await.is_err() {
                                break;
                            }
                        }
                    });
                    let start = std::time::Instant::now();
                    for i in 0..iters {
                        tx1.send_async(i).await.unwrap();
                        black_box(rx2.recv_async().await.unwrap());
                    }
                    let el = start.elapsed();
                    drop(tx1);
                    echo.await.unwrap();
                    el
                })
            })
        });
        g.bench_function("kanal", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let (tx1, rx1) = kanal::bounded_async::<u64>(cap);
                    let (tx2, rx2) = kanal::bounded_async::<u64>(cap);
                    let echo = tokio::spawn(async move {
                        while let Ok(v) = rx1.recv().await {
                            if tx2.send(v).await.is_err() {
                                break;
                            }
                        }
                    });
                    let start = std::time::Instant::now();
                    for i in 0..iters {
                        tx1.send(i).await.unwrap();
                        black_box(rx2.recv().await.unwrap());
                    }
                    let el = start.elapsed();
                    drop(tx1);
                    echo.await.unwrap();
                    el
                })
            })
        });
        g.finish();
    }
}

/// One select over `n` arms: "ready" (every channel holds a value; the chosen one is refilled)
/// and "unready" (every channel empty: the select finds nothing and returns at once).
fn select_arms(c: &mut Criterion) {
    for n in [1usize, 2, 4, 8] {
        let mut g = c.benchmark_group(format!("select over {n} arms"));
        g.bench_function("csp ready", |b| {
            let chans: Vec<_> = (0..n).map(|_| csp_chan::bounded::<u64>(1)).collect();
            for (tx, _) in &chans {
                tx.send(1).unwrap();
            }
            b.iter(|| {
                let mut sel = csp_chan::Select::new();
                for (_, rx) in &chans {
                    sel.recv(rx);
                }
                let op = sel.select();
                let i = op.index();
                black_box(op.recv(&chans[i].1).unwrap());
                chans[i].0.try_send(1).unwrap();
            })
        });
        g.bench_function("crossbeam ready", |b| {
            let chans: Vec<_> = (0..n)
                .map(|_| crossbeam_channel::bounded::<u64>(1))
                .collect();
            for (tx, _) in &chans {
                tx.send(1).unwrap();
            }
            b.iter(|| {
                let mut sel = crossbeam_channel::Select::new();
                for (_, rx) in &chans {
                    sel.recv(rx);
                }
                let op = sel.select();
                let i = op.index();
                black_box(op.recv(&chans[i].1).unwrap());
                chans[i].0.try_send(1).unwrap();
            })
        });
        g.bench_function("csp unready", |b| {
            let chans: Vec<_> = (0..n).map(|_| csp_chan::bounded::<u64>(1)).collect();
            b.iter(|| {
                let mut sel = csp_chan::Select::new();
                for (_, rx) in &chans {
                    sel.recv(rx);
                }
                black_box(sel.try_select().is_err())
            })
        });
        g.bench_function("crossbeam unready", |b| {
            let chans: Vec<_> = (0..n)
                .map(|_| crossbeam_channel::bounded::<u64>(1))
                .collect();
            b.iter(|| {
                let mut sel = crossbeam_channel::Select::new();
                for (_, rx) in &chans {
                    sel.recv(rx);
                }
                black_box(sel.try_select().is_err())
            })
        });
        g.finish();
    }
}

fn create(c: &mut Criterion) {
    let mut g = c.benchmark_group("create bounded(16)");
    g.bench_function("csp", |b| {
        b.iter(|| black_box(csp_chan::bounded::<u64>(16)))
    });
    g.bench_function("crossbeam", |b| {
        b.iter(|| black_box(crossbeam_channel::bounded::<u64>(16)))
    });
    g.bench_function("flume", |b| b.iter(|| black_box(flume::bounded::<u64>(16))));
    g.bench_function("kanal", |b| b.iter(|| black_box(kanal::bounded::<u64>(16))));
    g.finish();
}

criterion_group!(
    benches,
    try_send_recv,
    pingpong_thread,
    pingpong_task,
    select_arms,
    create
);
criterion_main!(benches);
