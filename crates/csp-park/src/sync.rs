//! The loom shim: `std` synchronisation types normally, `loom`'s under `--cfg loom`.
//!
//! Code in the csp crates imports atomics, cells, `Arc`, `Mutex` and `thread` from here and
//! nowhere else, so that `RUSTFLAGS="--cfg loom"` model-checks the real algorithms.
//!
//! The API is the intersection of the two: [`UnsafeCell`] exposes loom's `with` / `with_mut`
//! closures (the std version compiles them away), and [`Mutex::lock`] returns the guard
//! directly (csp never poisons: no user code runs while one of its locks is held).
//!
//! ```
//! use csp_park::sync::{Arc, Mutex};
//!
//! let m = Arc::new(Mutex::new(1));
//! *m.lock() += 1;
//! assert_eq!(*m.lock(), 2);
//! ```

#[cfg(not(loom))]
pub use std::sync::Arc;

#[cfg(loom)]
pub use loom::sync::Arc;

/// Atomic types: `std::sync::atomic` or `loom::sync::atomic`.
pub mod atomic {
    #[cfg(loom)]
    pub use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, fence};
    #[cfg(not(loom))]
    pub use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, fence};

    pub use std::sync::atomic::Ordering;
}

/// Spin-loop hints: `std::hint` or `loom::hint` (where a spin is a scheduling point).
pub mod hint {
    #[cfg(loom)]
    pub use loom::hint::spin_loop;
    #[cfg(not(loom))]
    pub use std::hint::spin_loop;
}

/// Threads: `std::thread` or `loom::thread`.
pub mod thread {
    #[cfg(loom)]
    pub use loom::thread::{JoinHandle, Thread, current, park, spawn, yield_now};
    #[cfg(not(loom))]
    pub use std::thread::{JoinHandle, Thread, current, park, spawn, yield_now};
}

/// The mutex of the csp crates: [`crate::lock::Lock`] normally (spin, yield, then futex),
/// loom's mutex under loom. `lock` returns the guard directly (no poisoning: no user code
/// runs while one of these is held).
#[cfg(not(loom))]
pub use crate::lock::{Lock as Mutex, LockGuard as MutexGuard};

/// A mutual-exclusion lock whose `lock` returns the guard directly (no poisoning).
#[cfg(loom)]
#[derive(Debug, Default)]
pub struct Mutex<T: ?Sized> {
    inner: loom::sync::Mutex<T>,
}

/// The guard of a [`Mutex`].
#[cfg(loom)]
pub type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

#[cfg(loom)]
impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub fn new(value: T) -> Self {
        Mutex {
            inner: loom::sync::Mutex::new(value),
        }
    }

    /// Consumes the mutex and returns its value.
    pub fn into_inner(self) -> T {
        self.inner
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(loom)]
impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, blocking the thread until it is available.
    #[inline]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `std::cell::UnsafeCell` with loom's closure-based access API.
#[cfg(not(loom))]
#[derive(Debug, Default)]
pub struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    /// Creates a cell holding `value`.
    #[inline]
    pub const fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }
}

#[cfg(not(loom))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Calls `f` with a shared pointer to the contents.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a unique pointer to the contents.
    #[inline]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// `loom::cell::UnsafeCell`: every access is checked by the model.
#[cfg(loom)]
pub use loom::cell::UnsafeCell;
