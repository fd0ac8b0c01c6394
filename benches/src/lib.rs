//! csp-bench: the classic channel workloads, written once and run for csp and every peer.
//!
//! Each channel implementation is an adapter implementing [`SyncChan`] (threads) and/or
//! [`AsyncChan`] (tasks). The workloads ([`Workload`]) are generic over the adapter, so every
//! implementation runs exactly the same code around its channel calls. The `compare` binary
//! runs them side by side; `benches/chan.rs` holds the criterion micro benchmarks.
//! [`sync_bench`] holds the csp-sync workloads beside std, parking_lot, tokio and async-lock.

use std::future::Future;
use std::time::{Duration, Instant};

pub mod adapters;
pub mod sync_bench;

/// Which channel flavour a cell measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `bounded(0)`: rendezvous.
    Bounded0,
    /// `bounded(1)`.
    Bounded1,
    /// `bounded(n)` with room for every message of the run.
    BoundedN,
    /// `unbounded()`.
    Unbounded,
}

impl Kind {
    /// All kinds, in table order.
    pub const ALL: [Kind; 4] = [
        Kind::Bounded0,
        Kind::Bounded1,
        Kind::BoundedN,
        Kind::Unbounded,
    ];

    /// The capacity to create the channel with (`None`: unbounded).
    pub fn cap(self, n: usize) -> Option<usize> {
        match self {
            Kind::Bounded0 => Some(0),
            Kind::Bounded1 => Some(1),
            Kind::BoundedN => Some(n),
            Kind::Unbounded => None,
        }
    }

    /// The name used in tables and on the Go harness's command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bounded0 => "bounded0",
            Kind::Bounded1 => "bounded1",
            Kind::BoundedN => "boundedN",
            Kind::Unbounded => "unbounded",
        }
    }
}

/// The classic workloads (crossbeam's benchmark suite, minus select).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// One thread sends every message, then receives every message (buffered kinds only).
    Seq,
    /// One sender, one receiver.
    Spsc,
    /// Four senders, one receiver.
    Mpsc,
    /// Four senders, four receivers.
    Mpmc,
}

/// Threads (or tasks) on each side of the multi-party workloads.
pub const T: usize = 4;

impl Workload {
    /// All workloads, in table order.
    pub const ALL: [Workload; 4] = [
        Workload::Seq,
        Workload::Spsc,
        Workload::Mpsc,
        Workload::Mpmc,
    ];

    /// The name used in tables and on the Go harness's command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Seq => "seq",
            Workload::Spsc => "spsc",
            Workload::Mpsc => "mpsc",
            Workload::Mpmc => "mpmc",
        }
    }

    /// Whether the workload makes sense for `kind` (seq needs room for every message).
    pub fn fits(self, kind: Kind) -> bool {
        !(self == Workload::Seq && matches!(kind, Kind::Bounded0 | Kind::Bounded1))
    }

    fn senders(self) -> usize {
        match self {
            Workload::Seq | Workload::Spsc => 1,
            Workload::Mpsc | Workload::Mpmc => T,
        }
    }

    fn receivers(self) -> usize {
        match self {
            Workload::Mpmc => T,
            _ => 1,
        }
    }
}

/// A channel used from threads.
pub trait SyncChan {
    /// The sending end.
    type S: Clone + Send + 'static;
    /// The receiving end.
    type R: Send + 'static;
    /// Creates a channel (`None`: unbounded).
    fn make(cap: Option<usize>) -> (Self::S, Self::R);
    /// Another receiver of the same channel, if the implementation has multi-consumer.
    fn clone_r(r: &Self::R) -> Option<Self::R>;
    /// Whether the implementation can create this capacity.
    fn supports(cap: Option<usize>) -> bool;
    /// Blocking send.
    fn send(s: &Self::S, v: u64);
    /// Blocking receive.
    fn recv(r: &mut Self::R) -> u64;
}

/// A channel used from async tasks.
pub trait AsyncChan {
    /// The sending end.
    type S: Clone + Send + Sync + 'static;
    /// The receiving end.
    type R: Send + 'static;
    /// Creates a channel (`None`: unbounded).
    fn make(cap: Option<usize>) -> (Self::S, Self::R);
    /// Another receiver of the same channel, if the implementation has multi-consumer.
    fn clone_r(r: &Self::R) -> Option<Self::R>;
    /// Whether the implementation can create this capacity.
    fn supports(cap: Option<usize>) -> bool;
    /// Async send.
    fn send(s: &Self::S, v: u64) -> impl Future<Output = ()> + Send + '_;
    /// Async receive.
    fn recv(r: &mut Self::R) -> impl Future<Output = u64> + Send + '_;
}

/// Whether `C` can run workload `w` on `kind`.
pub fn sync_supported<C: SyncChan>(w: Workload, kind: Kind, n: usize) -> bool {
    if !w.fits(kind) || !C::supports(kind.cap(n)) {
        return false;
    }
    if w.receivers() > 1 {
        let (_s, r) = C::make(Some(1));
        return C::clone_r(&r).is_some();
    }
    true
}

/// Whether `C` can run workload `w` on `kind` in async mode.
pub fn async_supported<C: AsyncChan>(w: Workload, kind: Kind, n: usize) -> bool {
    if !w.fits(kind) || !C::supports(kind.cap(n)) {
        return false;
    }
    if w.receivers() > 1 {
        let (_s, r) = C::make(Some(1));
        return C::clone_r(&r).is_some();
    }
    true
}

/// Runs `n` messages of workload `w` through a fresh `C` channel on threads; returns the
/// elapsed time from the first send to the last receive, and checks the sum received.
pub fn run_sync<C: SyncChan>(w: Workload, kind: Kind, n: usize) -> Duration {
    let (s, mut r) = C::make(kind.cap(n));
    let expect: u64 = (0..n as u64).sum();
    if w == Workload::Seq {
        let start = Instant::now();
        for i in 0..n as u64 {
            C::send(&s, i);
        }
        let mut sum = 0;
        for _ in 0..n {
            sum += C::recv(&mut r);
        }
        let el = start.elapsed();
        assert_eq!(sum, expect);
        return el;
    }
    let (ns, nr) = (w.senders(), w.receivers());
    let mut rs: Vec<C::R> = (1..nr)
        .map(|_| C::clone_r(&r).expect("checked by sync_supported"))
        .collect();
    rs.push(r);
    let start = Instant::now();
    let sum: u64 = std::thread::scope(|scope| {
        for t in 0..ns {
            let s = s.clone();
            scope.spawn(move || {
                for i in (t..n).step_by(ns) {
                    C::send(&s, i as u64);
                }
            });
        }
        let handles: Vec<_> = rs
            .into_iter()
            .enumerate()
            .map(|(t, mut r)| {
                let count = n / nr + usize::from(t < n % nr);
                scope.spawn(move || (0..count).map(|_| C::recv(&mut r)).sum::<u64>())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let el = start.elapsed();
    assert_eq!(sum, expect);
    el
}

/// An executor for the async rows.
pub enum Executor {
    /// A tokio multi-thread runtime with 2 workers.
    Tokio(tokio::runtime::Runtime),
    /// A smol executor driven by 2 threads.
    /// (Dropping the senders stops the executor threads.)
    Smol(
        std::sync::Arc<smol::Executor<'static>>,
        Vec<async_channel::Sender<()>>,
    ),
}

impl Executor {
    /// A 2-worker tokio runtime.
    pub fn tokio() -> Executor {
        Executor::Tokio(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .expect("tokio runtime"),
        )
    }

    /// A smol executor on 2 threads.
    pub fn smol() -> Executor {
        let ex = std::sync::Arc::new(smol::Executor::new());
        let mut stops = Vec::new();
        for _ in 0..2 {
            let (tx, rx) = async_channel::bounded::<()>(1);
            let ex = ex.clone();
            std::thread::spawn(move || smol::block_on(ex.run(rx.recv())));
            stops.push(tx);
        }
        Executor::Smol(ex, stops)
    }

    /// The name used in tables.
    pub fn name(&self) -> &'static str {
        match self {
            Executor::Tokio(_) => "tokio",
            Executor::Smol(..) => "smol",
        }
    }

    fn run<F: Future<Output = u64> + Send + 'static>(&self, tasks: Vec<F>) -> u64 {
        match self {
            Executor::Tokio(rt) => {
                let hs: Vec<_> = tasks.into_iter().map(|f| rt.spawn(f)).collect();
                rt.block_on(async move {
                    let mut sum = 0;
                    for h in hs {
                        sum += h.await.unwrap();
                    }
                    sum
                })
            }
            Executor::Smol(ex, _) => {
                let hs: Vec<_> = tasks.into_iter().map(|f| ex.spawn(f)).collect();
                smol::block_on(async move {
                    let mut sum = 0;
                    for h in hs {
                        sum += h.await;
                    }
                    sum
                })
            }
        }
    }
}

/// Runs `n` messages of workload `w` through a fresh `C` channel as tasks on `ex`.
pub fn run_async<C: AsyncChan>(ex: &Executor, w: Workload, kind: Kind, n: usize) -> Duration
where
    C::R: Sync,
{
    let (s, r) = C::make(kind.cap(n));
    let expect: u64 = (0..n as u64).sum();
    let (ns, nr) = (w.senders(), w.receivers());
    let start = Instant::now();
    let sum = if w == Workload::Seq {
        let mut r = r;
        ex.run(vec![Box::pin(async move {
            for i in 0..n as u64 {
                C::send(&s, i).await;
            }
            let mut sum = 0;
            for _ in 0..n {
                sum += C::recv(&mut r).await;
            }
            sum
        })
            as std::pin::Pin<Box<dyn Future<Output = u64> + Send>>])
    } else {
        let mut tasks: Vec<std::pin::Pin<Box<dyn Future<Output = u64> + Send>>> = Vec::new();
        for t in 0..ns {
            let s = s.clone();
            tasks.push(Box::pin(async move {
                for i in (t..n).step_by(ns) {
                    C::send(&s, i as u64).await;
                }
                0
            }));
        }
        drop(s);
        let mut rs: Vec<C::R> = (1..nr)
            .map(|_| C::clone_r(&r).expect("checked by async_supported"))
            .collect();
        rs.push(r);
        for (t, mut r) in rs.into_iter().enumerate() {
            let count = n / nr + usize::from(t < n % nr);
            tasks.push(Box::pin(async move {
                let mut sum = 0;
                for _ in 0..count {
                    sum += C::recv(&mut r).await;
                }
                sum
            }));
        }
        ex.run(tasks)
    };
    let el = start.elapsed();
    assert_eq!(sum, expect);
    el
}

/// Channels that can select over four receivers or four senders (the `select_rx` and
/// `select_both` workloads).
pub trait SelectChan: SyncChan {
    /// Receives from whichever of the four is ready.
    fn select_recv4(rs: &[Self::R; 4]) -> u64;
    /// Sends `v` on whichever of the four is ready.
    fn select_send4(ss: &[Self::S; 4], v: u64);
}

/// The select workloads (crossbeam's benchmark suite).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectWorkload {
    /// Four senders, each on its own channel; one receiver selecting over the four.
    SelectRx,
    /// Four selecting senders and four selecting receivers over four shared channels.
    SelectBoth,
}

impl SelectWorkload {
    /// Both, in table order.
    pub const ALL: [SelectWorkload; 2] = [SelectWorkload::SelectRx, SelectWorkload::SelectBoth];

    /// The name used in tables and on the Go harness's command line.
    pub fn name(self) -> &'static str {
        match self {
            SelectWorkload::SelectRx => "select_rx",
            SelectWorkload::SelectBoth => "select_both",
        }
    }
}

/// Runs `n` messages of a select workload through four fresh `C` channels on threads.
pub fn run_select<C: SelectChan>(w: SelectWorkload, kind: Kind, n: usize) -> Duration
where
    C::R: Clone + Sync,
    C::S: Sync,
{
    let chans: Vec<(C::S, C::R)> = (0..4).map(|_| C::make(kind.cap(n))).collect();
    let ss: [C::S; 4] = std::array::from_fn(|i| chans[i].0.clone());
    let rs: [C::R; 4] = std::array::from_fn(|i| chans[i].1.clone());
    let expect: u64 = (0..n as u64).sum();
    let start = Instant::now();
    let sum: u64 = std::thread::scope(|scope| {
        let (ss, rs) = (&ss, &rs);
        match w {
            SelectWorkload::SelectRx => {
                for (t, s) in ss.iter().enumerate() {
                    scope.spawn(move || {
                        for i in (t..n).step_by(T) {
                            C::send(s, i as u64);
                        }
                    });
                }
                (0..n).map(|_| C::select_recv4(rs)).sum()
            }
            SelectWorkload::SelectBoth => {
                for t in 0..T {
                    scope.spawn(move || {
                        for i in (t..n).step_by(T) {
                            C::select_send4(ss, i as u64);
                        }
                    });
                }
                let hs: Vec<_> = (0..T)
                    .map(|t| {
                        let count = n / T + usize::from(t < n % T);
                        scope.spawn(move || (0..count).map(|_| C::select_recv4(rs)).sum::<u64>())
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            }
        }
    });
    let el = start.elapsed();
    assert_eq!(sum, expect);
    el
}
