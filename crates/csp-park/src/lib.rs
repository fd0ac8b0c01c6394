//! csp-park: the one waiting mechanism of the csp family.
//!
//! Every blocking operation in csp (a channel send, a `select!`, a lock) ends up here. This
//! crate owns the few things every primitive shares, one module each:
//!
//! - [`futex`]: put a thread to sleep on a 32-bit atomic until it changes or a deadline passes,
//!   and wake it (Linux `futex(2)` directly; a portable parking table elsewhere).
//! - [`Waiter`]: the record a blocked operation leaves in a wait queue. It is either a parked
//!   thread or an async task's [`Waker`](std::task::Waker), and it carries one atomic *claim*
//!   state so that exactly one party completes it: a counterpart that hands it a value, a
//!   `close`, another arm of the same `select`, or the owner itself giving up at its deadline.
//!   This is Go's `selectDone`, generalised.
//! - [`timer`]: one lazily started timer thread that runs short callbacks at their deadlines,
//!   so async code gets deadlines, `after` and `tick` under any executor, with no thread per
//!   timer.
//! - [`lock`]: the small spin-then-futex mutex that guards each channel (`sync::Mutex` is this
//!   lock normally and loom's mutex under loom).
//! - [`spin`]: [`SpinWait`](spin::SpinWait), the bounded spin-then-yield a contended acquire
//!   tries before it queues.
//! - [`sync`]: the loom shim. Atomics, `UnsafeCell`, `Arc`, `Mutex` and `thread` are `std`
//!   normally and `loom` under `--cfg loom`; every crate of the family imports them from here.
//!
//! # Example
//!
//! A thread waits on a [`Waiter`] until another thread claims it:
//!
//! ```
//! use csp_park::{Selected, Waiter};
//! use std::sync::Arc;
//!
//! let waiter = Arc::new(Waiter::thread());
//! let w = waiter.clone();
//! let t = std::thread::spawn(move || {
//!     if w.try_claim(7) {
//!         w.wake();
//!     }
//! });
//! assert_eq!(waiter.wait_until(None), Selected::Operation(7));
//! t.join().unwrap();
//! ```

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod futex;
pub mod lock;
pub mod spin;
pub mod sync;
#[cfg(not(loom))]
pub mod timer;
mod waiter;

pub use waiter::{Selected, Waiter};
