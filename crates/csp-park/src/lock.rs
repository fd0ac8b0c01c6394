//! `Lock<T>`: the small futex mutex that guards every channel's state.
//!
//! Critical sections in csp are a few dozen instructions (push or pop a value, claim a
//! waiter), so the lock is built for that: an uncontended acquire is one CAS and a release is
//! a plain store plus a load of the sleeper count on the same cache line, no second
//! read-modify-write. (Measured: the `seq` workload, one lock and one unlock per operation,
//! goes from 41 to 25 ns per message when the release swap becomes a store.) A contended
//! acquire spins briefly (the holder is about to release), then yields (on a machine with
//! fewer cores than threads the holder may have been preempted: give it the core), and only
//! then sleeps on the futex.
//!
//! # Protocol
//!
//! - `state`: 0 unlocked, 1 locked. Acquire: CAS 0 → 1. Release: store 0.
//! - `sleepers`: how many threads are in (or about to enter) a futex wait on `state`. A
//!   releaser that sees it non-zero wakes one.
//! - The release is a store followed by a load, with no fence between them, so a releaser
//!   can read a stale `sleepers == 0` while a sleeper that just registered goes to sleep: the
//!   wake is missed. That race is deliberate (a fence would cost what the store saves), and it
//!   is bounded: sleepers wait with a 100 µs timeout and retry. Mutual exclusion never
//!   depends on it, only the latency of that rare hand-off does.
//!
//! Under `--cfg loom`, `RawLock` is a blocking lock made of loom's `Mutex` and `Condvar`, which
//! loom models without spinning, so the channel, select and sync models (which lock through
//! this type) stay small; `tests/loom_lock.rs` checks `Lock` under loom. The futex word's own
//! protocol above (including its bounded missed-wake race) is argued here, not model-checked.
//!
//! ```
//! use csp_park::lock::Lock;
//!
//! let l = Lock::new(vec![1]);
//! l.lock().push(2);
//! assert_eq!(*l.lock(), vec![1, 2]);
//! ```

#[cfg(not(loom))]
use crate::futex;
#[cfg(not(loom))]
use crate::sync::atomic::{AtomicU32, Ordering};
#[cfg(not(loom))]
use crate::sync::{hint, thread};
use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
#[cfg(not(loom))]
use std::time::{Duration, Instant};

#[cfg(not(loom))]
const UNLOCKED: u32 = 0;
#[cfg(not(loom))]
const LOCKED: u32 = 1;

/// How long a sleeper sleeps before it checks again on its own (bounds a missed wake).
#[cfg(not(loom))]
const SLEEP: Duration = Duration::from_micros(100);

/// Spin rounds before yielding (round k spins 2^k times).
#[cfg(not(loom))]
const SPIN_ROUNDS: u32 = 6;
/// Yields before sleeping.
#[cfg(not(loom))]
const YIELDS: u32 = 4;

/// A futex mutex word without data (see the [module docs](self)).
#[cfg(not(loom))]
pub struct RawLock {
    state: AtomicU32,
    sleepers: AtomicU32,
}

/// Under loom: a blocking lock from loom's `Mutex` and `Condvar`, which loom models without
/// spinning. The futex lock's own protocol is argued in the module docs; what the channel and
/// sync models check is everything built on top of the lock.
#[cfg(loom)]
pub struct RawLock {
    locked: loom::sync::Mutex<bool>,
    released: loom::sync::Condvar,
}

#[cfg(loom)]
impl RawLock {
    /// An unlocked lock.
    pub fn new() -> Self {
        RawLock {
            locked: loom::sync::Mutex::new(false),
            released: loom::sync::Condvar::new(),
        }
    }

    /// Acquires the lock, blocking the thread while another holds it.
    pub fn lock(&self) {
        let mut g = self.locked.lock().unwrap();
        while *g {
            g = self.released.wait(g).unwrap();
        }
        *g = true;
    }

    /// Acquires the lock if it is free.
    pub fn try_lock(&self) -> bool {
        let mut g = self.locked.lock().unwrap();
        !std::mem::replace(&mut *g, true)
    }

    /// Releases the lock.
    ///
    /// # Safety
    ///
    /// The calling thread holds the lock.
    pub unsafe fn unlock(&self) {
        *self.locked.lock().unwrap() = false;
        self.released.notify_one();
    }
}

#[cfg(not(loom))]
impl RawLock {
    /// An unlocked lock.
    pub const fn new() -> Self {
        RawLock {
            state: AtomicU32::new(UNLOCKED),
            sleepers: AtomicU32::new(0),
        }
    }

    /// Acquires the lock, blocking the thread while another holds it.
    #[inline]
    pub fn lock(&self) {
        if self
            .state
            .compare_exchange_weak(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    /// Acquires the lock if it is free.
    #[inline]
    pub fn try_lock(&self) -> bool {
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    #[cold]
    fn lock_contended(&self) {
        // Spin, then yield, while the holder is likely to release soon. Only read while
        // waiting, so the holder's cache line is not stolen on every iteration.
        let mut round = 0;
        loop {
            if self.state.load(Ordering::Relaxed) == UNLOCKED {
                if self.try_lock() {
                    return;
                }
                continue;
            }
            if round >= SPIN_ROUNDS + YIELDS {
                break;
            }
            if round < SPIN_ROUNDS {
                for _ in 0..1u32 << round {
                    hint::spin_loop();
                }
            } else {
                thread::yield_now();
            }
            round += 1;
        }
        // Sleep until woken (or, if the wake was missed, for at most SLEEP), then try again.
        loop {
            // SeqCst: the registration is ordered before the kernel's check of `state`.
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            futex::wait(&self.state, LOCKED, Some(Instant::now() + SLEEP));
            self.sleepers.fetch_sub(1, Ordering::Relaxed);
            if self.state.load(Ordering::Relaxed) == UNLOCKED && self.try_lock() {
                return;
            }
        }
    }

    /// Releases the lock.
    ///
    /// # Safety
    ///
    /// The calling thread holds the lock (acquired by `lock` or a successful `try_lock`).
    #[inline]
    pub unsafe fn unlock(&self) {
        self.state.store(UNLOCKED, Ordering::Release);
        // Reading `sleepers` after the release is sound: `&self` keeps the lock alive for the
        // whole call (whoever frees it needs it unborrowed first), unlike a lock that frees
        // itself on release.
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            futex::wake_one(&self.state);
        }
    }
}

impl Default for RawLock {
    fn default() -> Self {
        RawLock::new()
    }
}

impl fmt::Debug for RawLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawLock { .. }")
    }
}

/// A mutual-exclusion lock around a value, on [`RawLock`]. No poisoning: csp never runs user
/// code while holding one.
pub struct Lock<T: ?Sized> {
    raw: RawLock,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one thread at a time; moving that access
// between threads needs `T: Send`, exactly as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Send for Lock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send> Sync for Lock<T> {}

impl<T> Lock<T> {
    /// An unlocked lock holding `value`.
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        Lock {
            raw: RawLock::new(),
            value: UnsafeCell::new(value),
        }
    }

    /// An unlocked lock holding `value`.
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        Lock {
            raw: RawLock::new(),
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns its value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Lock<T> {
    /// Locks, blocking the thread until the lock is free.
    #[inline]
    pub fn lock(&self) -> LockGuard<'_, T> {
        self.raw.lock();
        LockGuard { lock: self }
    }

    /// Locks if the lock is free now.
    #[inline]
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        self.raw.try_lock().then_some(LockGuard { lock: self })
    }

    /// The value, through a unique borrow (no locking needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The lock word, for callers that must hold several locks at once (a `select` locks every
    /// channel it involves, in address order) and so cannot keep guards of different types.
    /// Pair with [`data_ptr`](Self::data_ptr).
    pub fn raw(&self) -> &RawLock {
        &self.raw
    }

    /// A pointer to the value. Dereferencing it is sound only while the caller holds the lock
    /// through [`raw`](Self::raw), and only as long as it does.
    pub fn data_ptr(&self) -> *mut T {
        self.value.get()
    }
}

impl<T: Default> Default for Lock<T> {
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T: ?Sized> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock").field("raw", &self.raw).finish()
    }
}

/// Access to a [`Lock`]'s value; unlocks when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a, T: ?Sized> {
    lock: &'a Lock<T>,
}

// SAFETY: a guard only gives `&T` across threads when shared, like `std::sync::MutexGuard`.
unsafe impl<T: ?Sized + Sync> Sync for LockGuard<'_, T> {}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while this thread holds the lock, and `&mut self`
        // makes this the only access through it.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T: ?Sized> Drop for LockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the guard was created by a successful lock and is dropped once.
        unsafe { self.lock.raw.unlock() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn mutual_exclusion_under_contention() {
        let threads = 4;
        let iters = if cfg!(miri) { 50 } else { 50_000 };
        let l = Arc::new(Lock::new(0u64));
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                let l = l.clone();
                std::thread::spawn(move || {
                    for _ in 0..iters {
                        let mut g = l.lock();
                        // A non-atomic read-modify-write: lost updates would show.
                        let v = *g;
                        std::hint::black_box(&mut *g);
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*l.lock(), threads * iters);
    }

    #[test]
    fn try_lock_fails_while_held() {
        let l = Lock::new(1);
        let g = l.lock();
        assert!(l.try_lock().is_none());
        drop(g);
        assert_eq!(*l.try_lock().unwrap(), 1);
        let mut l = l;
        *l.get_mut() = 5;
        assert_eq!(l.into_inner(), 5);
    }
}
