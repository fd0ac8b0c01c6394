//! Go's `sync` for Rust threads and async tasks alike: [`WaitGroup`], [`Once`], [`OnceCell`],
//! [`Mutex`], [`RwLock`], [`Semaphore`] and [`RateLimiter`].
//!
//! Every primitive is a small state machine over one atomic word, with a FIFO queue of
//! [`csp_park::Waiter`]s for the slow path — the same waiter record that channels use, so a
//! thread and an async task can wait on the same lock at the same time. Nothing here uses
//! `std::sync::Mutex`/`Condvar` or another crate's lock, and nothing depends on an async
//! runtime.
//!
//! Every blocking operation comes in four forms: `try_*` (never waits), blocking,
//! `*_timeout` (returns `None` / `false` when the time is up), and `*_async` (a future that
//! any executor can drive, cancel safe).
//!
//! # Guarantees
//!
//! - [`Mutex`]: uncontended lock and unlock are one atomic read-modify-write each. Under
//!   contention a newly arriving thread may take the lock before a woken waiter (throughput),
//!   but a waiter that has waited more than 1 ms and is then beaten to the lock switches the
//!   mutex to hand-off: from then on each unlock hands the lock directly to the head of the
//!   queue, and nobody barges (Go's starvation mode), so no waiter starves.
//! - [`RwLock`]: prefers writers like Go's `RWMutex`: once a writer waits, new readers queue
//!   behind it, so writers never starve; the queue is FIFO, so readers do not starve either.
//! - [`Semaphore`]: FIFO: a large request at the head of the queue is not overtaken by later
//!   small ones.
//! - No poisoning: a panic while holding a guard releases it.
//!
//! # Example
//!
//! ```
//! use csp_sync::{Mutex, WaitGroup};
//! use std::sync::Arc;
//!
//! let counter = Arc::new(Mutex::new(0));
//! let wg = WaitGroup::new();
//! for _ in 0..4 {
//!     let counter = counter.clone();
//!     wg.spawn(move || *counter.lock() += 1);
//! }
//! wg.wait();
//! assert_eq!(*counter.lock(), 4);
//! ```

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod mutex;
mod once;
mod queue;
#[cfg(not(loom))]
mod rate_limiter;
mod raw_rwlock;
mod rwlock;
mod sema;
mod semaphore;
mod wait_group;

#[cfg(loom)]
#[doc(hidden)]
pub use mutex::{LOOM_ALL_STARVING, LOOM_WOKEN_STARVING};
pub use mutex::{Mutex, MutexGuard, MutexLockFut};
pub use once::{Once, OnceCell};
#[cfg(not(loom))]
pub use rate_limiter::{RateLimitError, RateLimiter, Reservation};
pub use rwlock::{RwLock, RwLockReadFut, RwLockReadGuard, RwLockWriteFut, RwLockWriteGuard};
pub use semaphore::{AcquireError, AcquireFut, Semaphore, SemaphorePermit};
pub use wait_group::{WaitGroup, WaitGroupGuard, WaitGroupWaitFut};
