//! `Sender` and `Receiver`: the two ends of a channel, and what they share.

use crate::chan::{Chan, RecvWait, SendWait};
use crate::error::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
use crate::future::{RecvFut, SendFut};
use crate::iter::{IntoIter, Iter, TryIter};
use csp_park::sync::Arc;
use csp_park::sync::atomic::Ordering;
use std::fmt;
use std::time::{Duration, Instant};

/// The sending end of a channel. Clone it for more producers.
///
/// Dropping the last `Sender` closes the channel; receivers drain what is buffered, then get
/// `Closed`.
///
/// ```
/// let (tx, rx) = csp_chan::bounded(4);
/// let tx2 = tx.clone();
/// std::thread::spawn(move || tx2.send("hi").unwrap());
/// assert_eq!(rx.recv(), Ok("hi"));
/// # drop(tx);
/// ```
pub struct Sender<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

/// The receiving end of a channel. Clone it for more consumers.
///
/// Dropping the last `Receiver` closes the channel and drops what is buffered; blocked
/// senders wake with their values.
///
/// ```
/// let (tx, rx) = csp_chan::unbounded();
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// assert_eq!(rx.iter().collect::<Vec<_>>(), vec![0, 1, 2]);
/// ```
pub struct Receiver<T> {
    pub(crate) chan: Arc<Chan<T>>,
}

/// `Instant::now() + d`, or `None` (wait forever) when that is not representable.
pub(crate) fn deadline_after(d: Duration) -> Option<Instant> {
    Instant::now().checked_add(d)
}

macro_rules! shared_methods {
    ($handle:ident) => {
        impl<T> $handle<T> {
            /// Closes the channel. Returns `true` if this call closed it, `false` if it was
            /// already closed (Go panics on a double close; csp does not).
            ///
            /// After close every send fails at once and hands its value back (blocked
            /// senders wake with theirs), and receivers drain what is buffered, then get
            /// `Closed`. Either end may close.
            ///
            /// ```
            /// let (tx, rx) = csp_chan::bounded(2);
            /// tx.send(1).unwrap();
            /// assert!(rx.close());
            /// assert!(!tx.close());
            /// assert!(tx.send(2).is_err());
            /// assert_eq!(rx.recv(), Ok(1));
            /// assert!(rx.recv().is_err());
            /// ```
            pub fn close(&self) -> bool {
                self.chan.close()
            }

            /// Whether the channel is closed (values may still be buffered).
            ///
            /// ```
            /// let (tx, rx) = csp_chan::bounded::<()>(0);
            /// assert!(!rx.is_closed());
            /// drop(tx);
            /// assert!(rx.is_closed());
            /// ```
            pub fn is_closed(&self) -> bool {
                self.chan.is_closed()
            }

            /// The number of buffered values (always 0 for `bounded(0)`).
            ///
            /// ```
            /// let (tx, rx) = csp_chan::bounded(3);
            /// tx.send(1).unwrap();
            /// assert_eq!(tx.len(), 1);
            /// assert_eq!(rx.len(), 1);
            /// ```
            pub fn len(&self) -> usize {
                self.chan.len()
            }

            /// Whether no value is buffered (always true for `bounded(0)`).
            ///
            /// ```
            /// let (tx, rx) = csp_chan::unbounded::<i32>();
            /// assert!(rx.is_empty());
            /// tx.send(1).unwrap();
            /// assert!(!tx.is_empty());
            /// ```
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether the buffer is full (always true for `bounded(0)`, never for
            /// `unbounded()`).
            ///
            /// ```
            /// let (tx, _rx) = csp_chan::bounded(1);
            /// assert!(!tx.is_full());
            /// tx.send(1).unwrap();
            /// assert!(tx.is_full());
            /// ```
            pub fn is_full(&self) -> bool {
                match self.chan.capacity() {
                    None => false,
                    Some(c) => self.len() >= c,
                }
            }

            /// The buffer size: `Some(n)` for `bounded(n)`, `None` for `unbounded()`.
            ///
            /// ```
            /// assert_eq!(csp_chan::bounded::<i32>(0).0.capacity(), Some(0));
            /// assert_eq!(csp_chan::unbounded::<i32>().1.capacity(), None);
            /// ```
            pub fn capacity(&self) -> Option<usize> {
                self.chan.capacity()
            }

            /// How many `Sender`s of this channel exist.
            ///
            /// ```
            /// let (tx, rx) = csp_chan::unbounded::<i32>();
            /// let _tx2 = tx.clone();
            /// assert_eq!(rx.sender_count(), 2);
            /// ```
            pub fn sender_count(&self) -> usize {
                self.chan.senders.load(Ordering::Relaxed)
            }

            /// How many `Receiver`s of this channel exist.
            ///
            /// ```
            /// let (tx, rx) = csp_chan::unbounded::<i32>();
            /// let _rx2 = rx.clone();
            /// assert_eq!(tx.receiver_count(), 2);
            /// ```
            pub fn receiver_count(&self) -> usize {
                self.chan.receivers.load(Ordering::Relaxed)
            }

            /// Whether `other` is an end of the same channel (either end).
            ///
            /// ```
            /// let (tx, rx) = csp_chan::unbounded::<i32>();
            /// let (tx2, _rx2) = csp_chan::unbounded::<i32>();
            /// assert!(tx.same_channel(&rx));
            /// assert!(tx.same_channel(&tx.clone()));
            /// assert!(!tx.same_channel(&tx2));
            /// ```
            pub fn same_channel<E: ChannelEnd<T>>(&self, other: &E) -> bool {
                std::ptr::eq(Arc::as_ptr(&self.chan) as *const (), other.chan_addr())
            }
        }

        impl<T> $handle<T> {
            /// How many operations are blocked on the channel: `(senders, receivers)`,
            /// counting waiters that gave up but have not left the queue yet. For tests and
            /// diagnostics; not part of the stable API.
            #[doc(hidden)]
            pub fn queue_lens(&self) -> (usize, usize) {
                self.chan.queue_lens()
            }
        }

        impl<T> ChannelEnd<T> for $handle<T> {
            fn chan_addr(&self) -> *const () {
                Arc::as_ptr(&self.chan) as *const ()
            }
        }

        impl<T> fmt::Debug for $handle<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($handle))
                    .field("len", &self.len())
                    .field("capacity", &self.capacity())
                    .field("closed", &self.is_closed())
                    .finish()
            }
        }
    };
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for super::Sender<T> {}
    impl<T> Sealed for super::Receiver<T> {}
}

/// Either end of a channel (for [`Sender::same_channel`] and [`Receiver::same_channel`]).
/// Sealed: implemented by [`Sender`] and [`Receiver`] only.
pub trait ChannelEnd<T>: sealed::Sealed {
    #[doc(hidden)]
    fn chan_addr(&self) -> *const ();
}

shared_methods!(Sender);
shared_methods!(Receiver);

impl<T> Sender<T> {
    /// Sends `value`, blocking while the buffer is full (or, unbuffered, until a receiver
    /// takes it).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the channel is closed, before or while waiting.
    ///
    /// ```
    /// let (tx, rx) = csp_chan::bounded(0);
    /// let t = std::thread::spawn(move || rx.recv().unwrap());
    /// tx.send(42).unwrap(); // returns once the receiver has it
    /// assert_eq!(t.join().unwrap(), 42);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.send_until(value, None).map_err(|e| match e {
            SendTimeoutError::Closed(v) | SendTimeoutError::Timeout(v) => SendError(v),
        })
    }

    /// Sends `value` if that can be done without waiting.
    ///
    /// On an unbuffered channel this succeeds only if a receiver *thread* is blocked waiting
    /// (an async receiver is only notified, see `docs/semantics.md`).
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the buffer is full (or no receiver is waiting),
    /// [`TrySendError::Closed`] if the channel is closed; both hand the value back.
    ///
    /// ```
    /// use csp_chan::TrySendError;
    ///
    /// let (tx, rx) = csp_chan::bounded(1);
    /// assert_eq!(tx.try_send(1), Ok(()));
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Sends `value`, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] when the time is up, [`SendTimeoutError::Closed`] when the
    /// channel is closed; both hand the value back.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (tx, _rx) = csp_chan::bounded(1);
    /// tx.send_timeout(1, Duration::from_millis(10)).unwrap();
    /// let err = tx.send_timeout(2, Duration::from_millis(10)).unwrap_err();
    /// assert!(err.is_timeout());
    /// assert_eq!(err.into_inner(), 2);
    /// ```
    pub fn send_timeout(&self, value: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        self.chan.send_until(value, deadline_after(timeout))
    }

    /// Sends `value`, waiting at most until `deadline`.
    ///
    /// # Errors
    ///
    /// As [`send_timeout`](Self::send_timeout).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let (tx, rx) = csp_chan::bounded(0);
    /// let deadline = Instant::now() + Duration::from_millis(5);
    /// assert!(tx.send_deadline(1, deadline).unwrap_err().is_timeout());
    /// # drop(rx);
    /// ```
    pub fn send_deadline(&self, value: T, deadline: Instant) -> Result<(), SendTimeoutError<T>> {
        self.chan.send_until(value, Some(deadline))
    }

    /// Sends `value` from async code: a future that completes when the value is sent (for
    /// `bounded(0)`: taken by a receiver), under any executor.
    ///
    /// # Errors
    ///
    /// The future yields [`SendError`] with the value if the channel is closed.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes withdraws the send: the value is either
    /// already delivered (a receiver took it) or dropped with the future, never both, never
    /// delivered later. [`SendFut::cancel`] gets the value back instead of dropping it.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = csp_chan::bounded(1);
    /// tx.send_async(7).await.unwrap();
    /// assert_eq!(rx.recv_async().await, Ok(7));
    /// # });
    /// ```
    pub fn send_async(&self, value: T) -> SendFut<'_, T> {
        SendFut {
            chan: &self.chan,
            wait: SendWait::new(value),
        }
    }

    /// A [`futures_sink::Sink`] that sends into this channel (feature `futures`).
    ///
    /// It owns a clone of this sender. `poll_flush` completes when every value started has been
    /// sent; `poll_close` only flushes (drop the sink, or call `close`, to close the channel).
    ///
    /// ```
    /// use futures::SinkExt;
    ///
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = csp_chan::unbounded();
    /// let mut sink = tx.sink();
    /// sink.send(1).await.unwrap();
    /// sink.send(2).await.unwrap();
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![1, 2]);
    /// # });
    /// ```
    #[cfg(feature = "futures")]
    pub fn sink(&self) -> crate::stream::SendSink<T> {
        crate::stream::SendSink::new(self.clone())
    }
}

impl<T> Receiver<T> {
    /// Receives a value, blocking until one is there or the channel is closed and drained.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the channel is closed and nothing is left.
    ///
    /// ```
    /// let (tx, rx) = csp_chan::bounded(1);
    /// std::thread::spawn(move || tx.send(5).unwrap());
    /// assert_eq!(rx.recv(), Ok(5));
    /// assert!(rx.recv().is_err()); // the sender is gone
    /// ```
    pub fn recv(&self) -> Result<T, RecvError> {
        self.chan.recv_until(None).map_err(|_| RecvError)
    }

    /// Receives a value if one is there now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is there, [`TryRecvError::Closed`] if the channel
    /// is closed and drained.
    ///
    /// ```
    /// use csp_chan::TryRecvError;
    ///
    /// let (tx, rx) = csp_chan::bounded(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// Receives a value, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`RecvTimeoutError::Timeout`] when the time is up, [`RecvTimeoutError::Closed`] when
    /// the channel is closed and drained.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = csp_chan::bounded::<i32>(1);
    /// assert!(rx.recv_timeout(Duration::from_millis(5)).unwrap_err().is_timeout());
    /// drop(tx);
    /// assert!(rx.recv_timeout(Duration::from_millis(5)).unwrap_err().is_closed());
    /// ```
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.chan.recv_until(deadline_after(timeout))
    }

    /// Receives a value, waiting at most until `deadline`.
    ///
    /// # Errors
    ///
    /// As [`recv_timeout`](Self::recv_timeout).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let (_tx, rx) = csp_chan::bounded::<i32>(0);
    /// let deadline = Instant::now() + Duration::from_millis(5);
    /// assert!(rx.recv_deadline(deadline).unwrap_err().is_timeout());
    /// ```
    pub fn recv_deadline(&self, deadline: Instant) -> Result<T, RecvTimeoutError> {
        self.chan.recv_until(Some(deadline))
    }

    /// Receives a value from async code, under any executor.
    ///
    /// # Errors
    ///
    /// The future yields [`RecvError`] once the channel is closed and drained.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes loses no value. A pending async
    /// receive is only ever *notified* that a value is available; it takes the value itself
    /// when polled, and a dropped future passes its notification on to the next receiver.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = csp_chan::bounded(0);
    /// std::thread::spawn(move || tx.send("from a thread").unwrap());
    /// assert_eq!(rx.recv_async().await, Ok("from a thread"));
    /// # });
    /// ```
    pub fn recv_async(&self) -> RecvFut<'_, T> {
        RecvFut {
            chan: &self.chan,
            wait: RecvWait::new(),
        }
    }

    /// Appends up to `max` values to `out`, blocking until at least one is there. Returns how
    /// many were received: 0 only when the channel is closed and drained (or `max` is 0).
    ///
    /// Takes what is available under one lock, which is much cheaper per value than `recv`
    /// in a loop.
    ///
    /// ```
    /// let (tx, rx) = csp_chan::unbounded();
    /// for i in 0..5 {
    ///     tx.send(i).unwrap();
    /// }
    /// let mut batch = Vec::new();
    /// assert_eq!(rx.recv_many(&mut batch, 3), 3);
    /// assert_eq!(batch, vec![0, 1, 2]);
    /// drop(tx);
    /// assert_eq!(rx.recv_many(&mut batch, 10), 2);
    /// assert_eq!(rx.recv_many(&mut batch, 10), 0);
    /// ```
    pub fn recv_many(&self, out: &mut Vec<T>, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let n = self.chan.try_recv_many(out, max);
        if n > 0 {
            return n;
        }
        match self.recv() {
            Ok(v) => {
                out.push(v);
                1 + self.chan.try_recv_many(out, max - 1)
            }
            Err(RecvError) => 0,
        }
    }

    /// Appends up to `max` values that are available now to `out`; returns how many.
    ///
    /// ```
    /// let (tx, rx) = csp_chan::bounded(8);
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// let mut batch = Vec::new();
    /// assert_eq!(rx.try_recv_many(&mut batch, 8), 2);
    /// assert_eq!(rx.try_recv_many(&mut batch, 8), 0);
    /// ```
    pub fn try_recv_many(&self, out: &mut Vec<T>, max: usize) -> usize {
        self.chan.try_recv_many(out, max)
    }

    /// A blocking iterator over received values: ends when the channel is closed and drained
    /// (Go's `for v := range ch`).
    ///
    /// ```
    /// let (tx, rx) = csp_chan::bounded(0);
    /// std::thread::spawn(move || {
    ///     for i in 0..3 {
    ///         tx.send(i).unwrap();
    ///     }
    /// });
    /// assert_eq!(rx.iter().sum::<i32>(), 3);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// A non-blocking iterator over the values available now.
    ///
    /// ```
    /// let (tx, rx) = csp_chan::unbounded();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_iter().collect::<Vec<_>>(), vec![1, 2]);
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// A [`futures_core::Stream`] of received values (feature `futures`); it ends when the
    /// channel is closed and drained. It owns a clone of this receiver.
    ///
    /// # Cancel safety
    ///
    /// Dropping the stream between items loses nothing (see [`recv_async`](Self::recv_async)).
    ///
    /// ```
    /// use futures::StreamExt;
    ///
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = csp_chan::unbounded();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.stream().collect::<Vec<_>>().await, vec![1, 2]);
    /// # });
    /// ```
    #[cfg(feature = "futures")]
    pub fn stream(&self) -> crate::stream::RecvStream<T> {
        crate::stream::RecvStream::new(self.clone())
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Ordering::Relaxed);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.close();
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.chan.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.chan.disconnect_receivers();
        }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}
