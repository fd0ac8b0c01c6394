//! `Stream` and `Sink` adapters (feature `futures`).

use crate::chan::{RecvWait, SendWait};
use crate::error::SendError;
use crate::handles::{Receiver, Sender};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A [`futures_core::Stream`] of a channel's values, from [`Receiver::stream`].
///
/// # Cancel safety
///
/// Dropping it loses no value.
#[must_use = "streams do nothing unless polled"]
pub struct RecvStream<T> {
    rx: Receiver<T>,
    wait: RecvWait<T>,
    done: bool,
}

impl<T> RecvStream<T> {
    pub(crate) fn new(rx: Receiver<T>) -> Self {
        RecvStream {
            rx,
            wait: RecvWait::new(),
            done: false,
        }
    }
}

impl<T> futures_core::Stream for RecvStream<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        this.wait.poll(&this.rx.chan, cx).map(|r| match r {
            Ok(v) => Some(v),
            Err(()) => {
                this.done = true;
                None
            }
        })
    }
}

impl<T> futures_core::FusedStream for RecvStream<T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T> Unpin for RecvStream<T> {}

impl<T> Drop for RecvStream<T> {
    fn drop(&mut self) {
        self.wait.cancel(&self.rx.chan);
    }
}

impl<T> fmt::Debug for RecvStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecvStream { .. }")
    }
}

/// A [`futures_sink::Sink`] into a channel, from [`Sender::sink`].
///
/// Holds at most one value in flight: `poll_ready` waits for the previous one to be sent.
/// Dropping the sink with a value in flight withdraws that send like dropping a
/// [`SendFut`](crate::SendFut) does.
#[must_use = "sinks do nothing unless polled"]
pub struct SendSink<T> {
    tx: Sender<T>,
    wait: SendWait<T>,
}

impl<T> SendSink<T> {
    pub(crate) fn new(tx: Sender<T>) -> Self {
        SendSink {
            tx,
            wait: SendWait::empty(),
        }
    }

    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        if self.wait.is_idle() {
            return Poll::Ready(Ok(()));
        }
        self.wait.poll(&self.tx.chan, cx).map_err(SendError)
    }
}

impl<T> futures_sink::Sink<T> for SendSink<T> {
    type Error = SendError<T>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().drive(cx)
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
        let this = self.get_mut();
        debug_assert!(this.wait.is_idle(), "start_send without poll_ready");
        this.wait = SendWait::new(item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().drive(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().drive(cx)
    }
}

impl<T> Unpin for SendSink<T> {}

impl<T> Drop for SendSink<T> {
    fn drop(&mut self) {
        drop(self.wait.cancel(&self.tx.chan));
    }
}

impl<T> fmt::Debug for SendSink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendSink { .. }")
    }
}
