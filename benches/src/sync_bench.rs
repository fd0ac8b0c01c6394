//! The sync workloads: csp-sync beside `std::sync`, parking_lot, tokio::sync and async-lock.
//!
//! Each function runs `n` operations and returns the elapsed time; `compare` divides by `n`.
//! Async peers (tokio, async-lock) are driven by `futures::executor::block_on` on plain
//! threads, so every implementation runs on the same threads and only the lock differs.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

/// A mutex as the workloads use it.
pub trait BenchMutex: Send + Sync + 'static {
    /// Creates one around 0.
    fn new() -> Self;
    /// Locks, adds one, unlocks.
    fn incr(&self);
}

/// A reader-writer lock as the workloads use it.
pub trait BenchRwLock: Send + Sync + 'static {
    /// Creates one around 0.
    fn new() -> Self;
    /// Reads the value.
    fn read(&self) -> u64;
    /// Adds one under the write lock.
    fn write(&self);
}

/// A concurrent map from `u64` to `u64` as the map workload uses it.
pub trait BenchMap: Send + Sync + 'static {
    /// Creates one holding `MAP_KEYS` keys.
    fn new() -> Self;
    /// The value under `k` (0 when absent).
    fn get(&self, k: u64) -> u64;
    /// Sets the value under `k`.
    fn insert(&self, k: u64, v: u64);
}

/// Keys in the map workload (all present from the start).
pub const MAP_KEYS: u64 = 1024;

macro_rules! map_impl {
    ($name:ident, $ty:ty, $new:expr, |$m:ident, $k:ident, $v:ident| get: $get:expr, insert: $insert:expr) => {
        /// Adapter.
        pub struct $name($ty);
        impl BenchMap for $name {
            fn new() -> Self {
                let m = $name($new);
                for k in 0..MAP_KEYS {
                    m.insert(k, k);
                }
                m
            }
            fn get(&self, $k: u64) -> u64 {
                let $m = &self.0;
                $get
            }
            fn insert(&self, $k: u64, $v: u64) {
                let $m = &self.0;
                $insert
            }
        }
    };
}

map_impl!(CspMap, csp_map::ShardedMap<u64, u64>, csp_map::ShardedMap::new(),
    |m, k, v| get: m.get(&k).map_or(0, |r| *r), insert: { m.insert(k, v); });
map_impl!(DashMapMap, dashmap::DashMap<u64, u64>, dashmap::DashMap::new(),
    |m, k, v| get: m.get(&k).map_or(0, |r| *r), insert: { m.insert(k, v); });
map_impl!(StdRwLockMap, std::sync::RwLock<std::collections::HashMap<u64, u64>>,
    std::sync::RwLock::new(std::collections::HashMap::new()),
    |m, k, v| get: m.read().unwrap().get(&k).copied().unwrap_or(0),
    insert: { m.write().unwrap().insert(k, v); });
map_impl!(ParkingLotRwLockMap, parking_lot::RwLock<std::collections::HashMap<u64, u64>>,
    parking_lot::RwLock::new(std::collections::HashMap::new()),
    |m, k, v| get: m.read().get(&k).copied().unwrap_or(0),
    insert: { m.write().insert(k, v); });

/// 4 threads, each doing `n / 4` operations on random keys of a `MAP_KEYS`-key map: 90%
/// `get`, 10% `insert` (a xorshift generator per thread picks the keys).
pub fn map_read_heavy<M: BenchMap>(n: usize) -> Duration {
    let m = M::new();
    run_together(4, |t| {
        let mut x = 0x9E37_79B9_7F4A_7C15u64 ^ (t as u64 + 1);
        let mut sum = 0u64;
        for i in 0..n / 4 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let k = x % MAP_KEYS;
            if i % 10 == 0 {
                m.insert(k, i as u64);
            } else {
                sum = sum.wrapping_add(m.get(k));
            }
        }
        black_box(sum);
    })
}

macro_rules! mutex_impl {
    ($name:ident, $ty:ty, $new:expr, |$m:ident| $incr:expr) => {
        /// Adapter.
        pub struct $name($ty);
        impl BenchMutex for $name {
            fn new() -> Self {
                $name($new)
            }
            fn incr(&self) {
                let $m = &self.0;
                $incr
            }
        }
    };
}

mutex_impl!(
    CspMutex,
    csp_sync::Mutex<u64>,
    csp_sync::Mutex::new(0),
    |m| *m.lock() += 1
);
mutex_impl!(
    StdMutex,
    std::sync::Mutex<u64>,
    std::sync::Mutex::new(0),
    |m| *m.lock().unwrap() += 1
);
mutex_impl!(
    ParkingLotMutex,
    parking_lot::Mutex<u64>,
    parking_lot::Mutex::new(0),
    |m| *m.lock() += 1
);
mutex_impl!(
    CspMutexAsync,
    csp_sync::Mutex<u64>,
    csp_sync::Mutex::new(0),
    |m| *futures::executor::block_on(m.lock_async()) += 1
);
mutex_impl!(
    TokioMutex,
    tokio::sync::Mutex<u64>,
    tokio::sync::Mutex::new(0),
    |m| *futures::executor::block_on(m.lock()) += 1
);
mutex_impl!(
    AsyncLockMutex,
    async_lock::Mutex<u64>,
    async_lock::Mutex::new(0),
    |m| *futures::executor::block_on(m.lock()) += 1
);

macro_rules! rwlock_impl {
    ($name:ident, $ty:ty, $new:expr, |$l:ident| read: $read:expr, write: $write:expr) => {
        /// Adapter.
        pub struct $name($ty);
        impl BenchRwLock for $name {
            fn new() -> Self {
                $name($new)
            }
            fn read(&self) -> u64 {
                let $l = &self.0;
                $read
            }
            fn write(&self) {
                let $l = &self.0;
                $write
            }
        }
    };
}

rwlock_impl!(CspRwLock, csp_sync::RwLock<u64>, csp_sync::RwLock::new(0),
    |l| read: *l.read(), write: *l.write() += 1);
rwlock_impl!(StdRwLock, std::sync::RwLock<u64>, std::sync::RwLock::new(0),
    |l| read: *l.read().unwrap(), write: *l.write().unwrap() += 1);
rwlock_impl!(ParkingLotRwLock, parking_lot::RwLock<u64>, parking_lot::RwLock::new(0),
    |l| read: *l.read(), write: *l.write() += 1);
rwlock_impl!(TokioRwLock, tokio::sync::RwLock<u64>, tokio::sync::RwLock::new(0),
    |l| read: *futures::executor::block_on(l.read()),
    write: *futures::executor::block_on(l.write()) += 1);
rwlock_impl!(AsyncLockRwLock, async_lock::RwLock<u64>, async_lock::RwLock::new(0),
    |l| read: *futures::executor::block_on(l.read()),
    write: *futures::executor::block_on(l.write()) += 1);

/// Runs `body(t)` on `threads` threads released together by a barrier, and returns the time
/// from the first thread's start to the last thread's end, as the threads themselves clock it
/// (thread start-up is not measured, no thread gets a head start that would leave it
/// uncontended, and a descheduled main thread cannot shorten or lengthen the measurement).
fn run_together(threads: usize, body: impl Fn(usize) + Sync) -> Duration {
    let go = Barrier::new(threads);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads)
            .map(|t| {
                let (go, body) = (&go, &body);
                s.spawn(move || {
                    go.wait();
                    let start = Instant::now();
                    body(t);
                    (start, Instant::now())
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let first = spans.iter().map(|s| s.0).min().unwrap();
    let last = spans.iter().map(|s| s.1).max().unwrap();
    last - first
}

/// `threads` threads each lock-increment-unlock `n / threads` times.
pub fn mutex_contended<M: BenchMutex>(threads: usize, n: usize) -> Duration {
    let m = M::new();
    run_together(threads, |_| {
        for _ in 0..n / threads {
            m.incr();
        }
    })
}

/// 4 threads, each doing `n / 4` operations, 95% reads and 5% writes.
pub fn rwlock_read_heavy<L: BenchRwLock>(n: usize) -> Duration {
    let l = L::new();
    run_together(4, |t| {
        for i in 0..n / 4 {
            if (i + t) % 20 == 0 {
                l.write();
            } else {
                black_box(l.read());
            }
        }
    })
}

/// One thread: `add(1)`, `done()`, `wait()`, `n` times.
pub fn waitgroup_round_csp(n: usize) -> Duration {
    let wg = csp_sync::WaitGroup::new();
    let start = Instant::now();
    for _ in 0..n {
        wg.add(1);
        wg.done();
        wg.wait();
    }
    start.elapsed()
}

/// The same round with crossbeam's `WaitGroup` (clone = add, drop = done, wait consumes).
pub fn waitgroup_round_crossbeam(n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let wg = crossbeam_utils::sync::WaitGroup::new();
        let w2 = wg.clone();
        drop(w2);
        wg.wait();
    }
    start.elapsed()
}

/// `n` calls on a completed once (the fast path).
pub fn once_fast_csp(n: usize) -> Duration {
    let once = csp_sync::Once::new();
    once.call_once(|| {});
    let start = Instant::now();
    for _ in 0..n {
        black_box(&once).call_once(|| {});
    }
    start.elapsed()
}

/// `n` calls on a completed `std::sync::Once`.
pub fn once_fast_std(n: usize) -> Duration {
    let once = std::sync::Once::new();
    once.call_once(|| {});
    let start = Instant::now();
    for _ in 0..n {
        black_box(&once).call_once(|| {});
    }
    start.elapsed()
}

/// `n` calls on a completed `parking_lot::Once`.
pub fn once_fast_parking_lot(n: usize) -> Duration {
    let once = parking_lot::Once::new();
    once.call_once(|| {});
    let start = Instant::now();
    for _ in 0..n {
        black_box(&once).call_once(|| {});
    }
    start.elapsed()
}

/// `n` `get_or_init` calls on an initialised `tokio::sync::OnceCell` (its once fast path).
pub fn once_fast_tokio(n: usize) -> Duration {
    let cell = tokio::sync::OnceCell::new();
    let _ = cell.set(1u64);
    let start = Instant::now();
    for _ in 0..n {
        black_box(black_box(&cell).get());
    }
    start.elapsed()
}

/// `n` uncontended acquire(1) + release on csp's semaphore.
pub fn semaphore_csp(n: usize) -> Duration {
    let s = csp_sync::Semaphore::new(4);
    let start = Instant::now();
    for _ in 0..n {
        drop(black_box(s.acquire(1).unwrap()));
    }
    start.elapsed()
}

/// `n` uncontended acquire(1) + release on tokio's semaphore (`try_acquire`: the same fast
/// path `acquire().await` takes when a permit is free).
pub fn semaphore_tokio(n: usize) -> Duration {
    let s = tokio::sync::Semaphore::new(4);
    let start = Instant::now();
    for _ in 0..n {
        drop(black_box(s.try_acquire().unwrap()));
    }
    start.elapsed()
}

/// `n` uncontended acquire + release on async-lock's semaphore.
pub fn semaphore_async_lock(n: usize) -> Duration {
    let s = async_lock::Semaphore::new(4);
    let start = Instant::now();
    for _ in 0..n {
        drop(black_box(s.try_acquire().unwrap()));
    }
    start.elapsed()
}
