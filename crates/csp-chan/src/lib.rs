//! Go's channels for Rust threads and async tasks alike.
//!
//! A channel is created by [`bounded`] (`bounded(0)` is Go's unbuffered rendezvous channel)
//! or [`unbounded`]. Both ends are `Clone + Send + Sync`: any number of senders and receivers,
//! on threads or in async tasks under any executor, can use the same channel at once.
//!
//! Every operation has four forms: `try_*` (never waits), blocking, `*_timeout` /
//! `*_deadline`, and `*_async` (a future). Semantics are Go's, without its panics:
//!
//! - unbuffered sends complete only when a receiver takes the value;
//! - buffered channels are FIFO; blocked senders and receivers are served FIFO;
//! - [`close`](Sender::close) works from either end, returns `false` on a second call instead
//!   of panicking, and hands every unsent value back to its sender;
//! - dropping the last sender closes the channel; dropping the last receiver closes it and
//!   drops what is buffered;
//! - async operations are cancel safe: a dropped future never loses or duplicates a value.
//!
//! See `docs/semantics.md` for every difference from Go, and `docs/architecture.md` for how a
//! value travels.
//!
//! # Example
//!
//! ```
//! use std::thread;
//!
//! // A pipeline: numbers -> squares -> sum.
//! let (nums_tx, nums_rx) = csp_chan::bounded(0);
//! let (sq_tx, sq_rx) = csp_chan::bounded(4);
//!
//! thread::spawn(move || {
//!     for i in 1..=10 {
//!         nums_tx.send(i).unwrap();
//!     }
//! }); // dropping nums_tx closes the channel
//! thread::spawn(move || {
//!     for n in nums_rx {
//!         sq_tx.send(n * n).unwrap();
//!     }
//! });
//! assert_eq!(sq_rx.iter().sum::<i32>(), 385);
//! ```
//!
//! The same channel from async code (any executor) and a thread at once:
//!
//! ```
//! let (tx, rx) = csp_chan::bounded(0);
//! let t = std::thread::spawn(move || tx.send("hello").unwrap());
//! let got = futures::executor::block_on(rx.recv_async());
//! assert_eq!(got, Ok("hello"));
//! t.join().unwrap();
//! ```

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod chan;
mod error;
mod future;
mod handles;
mod iter;
mod macros;
mod select;
#[cfg(feature = "futures")]
mod stream;
#[cfg(not(loom))]
mod timers;

pub use error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
pub use future::{RecvFut, SendFut};
pub use handles::{ChannelEnd, Receiver, Sender};
pub use iter::{IntoIter, Iter, TryIter};
#[doc(hidden)]
pub use macros::__private;
pub use select::{
    Select, SelectFut, SelectTimeoutError, SelectTimeoutFut, SelectedOperation, TrySelectError,
};
#[cfg(feature = "futures")]
pub use stream::{RecvStream, SendSink};
#[cfg(not(loom))]
pub use timers::{after, never, tick};

use chan::Chan;
use csp_park::sync::Arc;

/// Creates a channel with a buffer of `cap` values. `bounded(0)` is unbuffered: every send
/// waits until a receiver takes its value (Go's `make(chan T)`).
///
/// The buffer grows on demand up to `cap`, so a huge capacity costs nothing until it is used.
///
/// ```
/// let (tx, rx) = csp_chan::bounded(2);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// assert!(tx.try_send(3).is_err()); // full
/// assert_eq!(rx.recv(), Ok(1));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    channel(Some(cap))
}

/// Creates a channel with an unlimited buffer: sends never wait.
///
/// ```
/// let (tx, rx) = csp_chan::unbounded();
/// for i in 0..1000 {
///     tx.send(i).unwrap();
/// }
/// assert_eq!(rx.len(), 1000);
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    channel(None)
}

fn channel<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan::new(cap));
    (Sender { chan: chan.clone() }, Receiver { chan })
}
