//! The futures returned by `send_async` and `recv_async`.

use crate::chan::{Chan, RecvWait, SendWait};
use crate::error::{RecvError, SendError};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The future of [`Sender::send_async`](crate::Sender::send_async).
///
/// # Cancel safety
///
/// Dropping it withdraws the send: the value was either delivered before the drop or is
/// dropped with the future, and is never delivered afterwards. [`cancel`](Self::cancel)
/// hands the value back instead.
#[must_use = "futures do nothing unless polled"]
pub struct SendFut<'a, T> {
    pub(crate) chan: &'a Chan<T>,
    pub(crate) wait: SendWait<T>,
}

impl<T> SendFut<'_, T> {
    /// Withdraws the send and returns the value if it was not delivered; `None` if a receiver
    /// already has it (or the future had completed).
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Poll, Waker};
    ///
    /// let (tx, rx) = csp_chan::bounded(0);
    /// let mut fut = tx.send_async(7);
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(std::pin::Pin::new(&mut fut).poll(&mut cx).is_pending()); // nobody receives
    /// assert_eq!(fut.cancel(), Some(7));
    /// assert!(rx.try_recv().is_err()); // and it never arrives
    /// ```
    pub fn cancel(mut self) -> Option<T> {
        self.wait.cancel(self.chan)
    }
}

impl<T> Future for SendFut<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.wait.poll(this.chan, cx).map_err(SendError)
    }
}

// The future never relies on its address: all shared state lives behind `Arc`s.
impl<T> Unpin for SendFut<'_, T> {}

impl<T> Drop for SendFut<'_, T> {
    fn drop(&mut self) {
        drop(self.wait.cancel(self.chan));
    }
}

impl<T> fmt::Debug for SendFut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendFut { .. }")
    }
}

/// The future of [`Receiver::recv_async`](crate::Receiver::recv_async).
///
/// # Cancel safety
///
/// Cancel safe: dropping it loses no value.
#[must_use = "futures do nothing unless polled"]
pub struct RecvFut<'a, T> {
    pub(crate) chan: &'a Chan<T>,
    pub(crate) wait: RecvWait<T>,
}

impl<T> Future for RecvFut<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.wait.poll(this.chan, cx).map_err(|()| RecvError)
    }
}

// The future never relies on its address: all shared state lives behind `Arc`s.
impl<T> Unpin for RecvFut<'_, T> {}

impl<T> Drop for RecvFut<'_, T> {
    fn drop(&mut self) {
        self.wait.cancel(self.chan);
    }
}

impl<T> fmt::Debug for RecvFut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecvFut { .. }")
    }
}
