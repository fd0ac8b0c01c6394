//! `select!` and `select_async!`: Go's `select` statement as an expression.
//!
//! Both parse their arms into a normalised list (`__select_parse`), give each arm a fresh
//! name (`__select_name`), then expand to a [`Select`](crate::Select) with one arm each and a
//! dispatch on the chosen index (`__select_emit`). Channel expressions and send values are
//! evaluated once, in arm order, before anything blocks.

/// Waits on several channel operations and runs the arm of the one that completes; blocks the
/// thread. Go's `select`, as an expression.
///
/// ```text
/// select! {
///     recv(rx) -> msg => body,          // msg: Result<T, RecvError>
///     send(tx, value) -> res => body,   // res: Result<(), SendError<T>>
///     default => body,                  // optional: none ready now
///     default(timeout) => body,         // or: none ready within timeout
/// }
/// ```
///
/// - Exactly one arm runs. When several are ready, one is chosen uniformly at random.
/// - A send arm's value moves into its channel only if the arm is chosen; the values of the
///   other send arms are dropped.
/// - A receive arm on a closed, drained channel is ready (with `Err`); a send arm on a closed
///   channel is ready (with `Err(value)`); [`never()`](crate::never) is never ready.
/// - A body is a block, or an expression followed by a comma (optional after the last arm).
/// - A channel may be written as a place or a reference (`recv(rxs[0])`, `recv(&rx)`,
///   `recv(ctx.done())`): the macro borrows it. The same channel may appear in several arms.
/// - With no arm and no `default`, it blocks forever (Go's `select {}`).
///
/// # Examples
///
/// ```
/// use csp_chan::{bounded, select, after};
/// use std::time::Duration;
///
/// let (tx, rx) = bounded::<i32>(1);
/// let (done_tx, done_rx) = bounded::<()>(0);
/// tx.send(7).unwrap();
///
/// let got = select! {
///     recv(rx) -> msg => msg.ok(),
///     recv(done_rx) -> _ => None,
///     recv(after(Duration::from_secs(1))) -> _ => None,
/// };
/// assert_eq!(got, Some(7));
///
/// // Non-blocking send with `default`:
/// tx.send(1).unwrap(); // fill the buffer
/// let sent = select! {
///     send(tx, 2) -> res => res.is_ok(),
///     default => false,
/// };
/// assert!(!sent);
/// # drop(done_tx);
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(@sync [] [] $($tokens)*)
    };
}

/// [`select!`] for async code: the same syntax, inside an `async` block or function, and the
/// bodies may `.await`. Waits without blocking the thread, under any executor.
///
/// # Cancel safety
///
/// If the enclosing future is dropped while the select waits, every channel is left as if it
/// never ran: nothing is received, no send arm's value is delivered.
///
/// ```
/// use csp_chan::{bounded, select_async};
/// use std::time::Duration;
///
/// futures::executor::block_on(async {
///     let (tx, rx) = bounded::<u32>(0);
///     std::thread::spawn(move || tx.send(3).unwrap());
///     let v = select_async! {
///         recv(rx) -> msg => msg.unwrap() * 2,
///         default(Duration::from_secs(5)) => 0,
///     };
///     assert_eq!(v, 6);
/// });
/// ```
#[macro_export]
macro_rules! select_async {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(@async [] [] $($tokens)*)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // All arms parsed.
    (@$mode:ident [$($arms:tt)*] [$($default:tt)*]) => {
        $crate::__select_name!(
            @$mode [] [$($arms)*] [$($default)*]
            [__a0 __a1 __a2 __a3 __a4 __a5 __a6 __a7 __a8 __a9 __a10 __a11 __a12 __a13 __a14
             __a15 __a16 __a17 __a18 __a19 __a20 __a21 __a22 __a23 __a24 __a25 __a26 __a27
             __a28 __a29 __a30 __a31 __a32 __a33 __a34 __a35 __a36 __a37 __a38 __a39 __a40
             __a41 __a42 __a43 __a44 __a45 __a46 __a47 __a48 __a49 __a50 __a51 __a52 __a53
             __a54 __a55 __a56 __a57 __a58 __a59 __a60 __a61 __a62 __a63]
        )
    };
    // recv(rx) -> pat => body
    (@$mode:ident [$($arms:tt)*] [$($default:tt)*]
        recv($rx:expr) -> $p:pat => $body:block $(,)? $($rest:tt)*) => {
        $crate::__select_parse!(@$mode [$($arms)* (recv ($rx) $p => $body)] [$($default)*] $($rest)*)
    };
    (@$mode:ident [$($arms:tt)*] [$($default:tt)*]
        recv($rx:expr) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@$mode [$($arms)* (recv ($rx) $p => { $body })] [$($default)*] $($rest)*)
    };
    (@$mode:ident [$($arms:tt)*] [$($default:tt)*]
        recv($rx:expr) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(@$mode [$($arms)* (recv ($rx) $p => { $body })] [$($default)*])
    };
    // send(tx, value) -> pat => body
    (@$mode:ident [$($arms:tt)*] [$($default:tt)*]
        send($tx:expr, $v:expr) -> $p:pat => $body:block $(,)? $($rest:tt)*) => {
        $crate::__select_parse!(@$mode [$($arms)* (send ($tx, $v) $p => $body)] [$($default)*] $($rest)*)
    };
    (@$mode:ident [$($arms:tt)*] [$($default:tt)*]
        send($tx:expr, $v:expr) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@$mode [$($arms)* (send ($tx, $v) $p => { $body })] [$($default)*] $($rest)*)
    };
    (@$mode:ident [$($arms:tt)*] [$($default:tt)*]
        send($tx:expr, $v:expr) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(@$mode [$($arms)* (send ($tx, $v) $p => { $body })] [$($default)*])
    };
    // default => body / default(timeout) => body
    (@$mode:ident [$($arms:tt)*] [] default => $body:block $(,)? $($rest:tt)*) => {
        $crate::__select_parse!(@$mode [$($arms)*] [(now) $body] $($rest)*)
    };
    (@$mode:ident [$($arms:tt)*] [] default => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@$mode [$($arms)*] [(now) { $body }] $($rest)*)
    };
    (@$mode:ident [$($arms:tt)*] [] default => $body:expr) => {
        $crate::__select_parse!(@$mode [$($arms)*] [(now) { $body }])
    };
    (@$mode:ident [$($arms:tt)*] [] default($t:expr) => $body:block $(,)? $($rest:tt)*) => {
        $crate::__select_parse!(@$mode [$($arms)*] [(timeout $t) $body] $($rest)*)
    };
    (@$mode:ident [$($arms:tt)*] [] default($t:expr) => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@$mode [$($arms)*] [(timeout $t) { $body }] $($rest)*)
    };
    (@$mode:ident [$($arms:tt)*] [] default($t:expr) => $body:expr) => {
        $crate::__select_parse!(@$mode [$($arms)*] [(timeout $t) { $body }])
    };
    // Errors.
    (@$mode:ident [$($arms:tt)*] [$($default:tt)+] default $($rest:tt)*) => {
        ::core::compile_error!("select!: more than one `default` arm")
    };
    (@$mode:ident [$($arms:tt)*] [$($default:tt)*] $($rest:tt)+) => {
        ::core::compile_error!(
            "select!: expected `recv(rx) -> pat => body`, `send(tx, value) -> pat => body`, \
             `default => body` or `default(timeout) => body`, each body a block or an \
             expression followed by a comma"
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_name {
    (@$mode:ident [$($done:tt)*] [($($arm:tt)*) $($rest:tt)*] $default:tt [$n:ident $($names:ident)*]) => {
        $crate::__select_name!(@$mode [$($done)* ($n $($arm)*)] [$($rest)*] $default [$($names)*])
    };
    (@$mode:ident [$($done:tt)*] [$($arm:tt)+] $default:tt []) => {
        ::core::compile_error!("select!: at most 64 arms (use csp_chan::Select for more)")
    };
    (@$mode:ident [$($done:tt)*] [] $default:tt [$($names:ident)*]) => {
        $crate::__select_emit!(@$mode [$($done)*] $default)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_emit {
    (@$mode:ident [$(($n:ident $kind:ident $args:tt $p:pat => $body:block))*] [$($default:tt)*]) => {{
        // Evaluate every channel and value, in order, before anything blocks.
        $( $crate::__select_bind!($n $kind $args); )*
        let mut __sel = $crate::Select::new();
        $( let $n = $crate::__select_add!(__sel $n $kind); )*
        match $crate::__select_wait!(@$mode __sel [$($default)*]) {
            ::core::result::Result::Ok(__op) => {
                let __i = __op.index();
                $(
                    if __i == $n.0 {
                        let $p = $crate::__select_finish!(__op $n $kind);
                        $body
                    } else
                )*
                { ::core::unreachable!("select chose an arm it does not have") }
            }
            ::core::result::Result::Err(_) => $crate::__select_default!([$($default)*]),
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_bind {
    ($n:ident recv ($rx:expr)) => {
        let $n = (&$rx,);
    };
    ($n:ident send ($tx:expr, $v:expr)) => {
        let $n = (&$tx, $v);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_add {
    ($sel:ident $n:ident recv) => {{
        let __r = $crate::__private::receiver($n.0);
        ($sel.recv(__r), __r)
    }};
    ($sel:ident $n:ident send) => {{
        let (__t, __v) = $n;
        let __t = $crate::__private::sender(__t);
        ($sel.send_value(__t, __v), __t)
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_finish {
    ($op:ident $n:ident recv) => {
        $op.recv($n.1)
    };
    ($op:ident $n:ident send) => {
        $op.send_result($n.1)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_wait {
    (@sync $sel:ident []) => {
        ::core::result::Result::<_, ()>::Ok($sel.select())
    };
    (@sync $sel:ident [(now) $body:block]) => {
        $sel.try_select().map_err(|_| ())
    };
    (@sync $sel:ident [(timeout $t:expr) $body:block]) => {
        $sel.select_timeout($t).map_err(|_| ())
    };
    (@async $sel:ident []) => {
        ::core::result::Result::<_, ()>::Ok($sel.select_async().await)
    };
    (@async $sel:ident [(now) $body:block]) => {
        $sel.try_select().map_err(|_| ())
    };
    (@async $sel:ident [(timeout $t:expr) $body:block]) => {
        $sel.select_timeout_async($t).await.map_err(|_| ())
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_default {
    ([]) => {
        ::core::unreachable!("a select without default cannot fail")
    };
    ([$kind:tt $body:block]) => {
        $body
    };
}

/// Helpers for the macros: accept a channel end or any reference to one.
#[doc(hidden)]
pub mod __private {
    use crate::handles::{Receiver, Sender};

    /// A receiver, or a reference to something that is one.
    pub trait AsReceiver<T> {
        /// The receiver.
        fn as_receiver(&self) -> &Receiver<T>;
    }

    impl<T> AsReceiver<T> for Receiver<T> {
        fn as_receiver(&self) -> &Receiver<T> {
            self
        }
    }

    impl<T, R: AsReceiver<T> + ?Sized> AsReceiver<T> for &R {
        fn as_receiver(&self) -> &Receiver<T> {
            (**self).as_receiver()
        }
    }

    /// A sender, or a reference to something that is one.
    pub trait AsSender<T> {
        /// The sender.
        fn as_sender(&self) -> &Sender<T>;
    }

    impl<T> AsSender<T> for Sender<T> {
        fn as_sender(&self) -> &Sender<T> {
            self
        }
    }

    impl<T, S: AsSender<T> + ?Sized> AsSender<T> for &S {
        fn as_sender(&self) -> &Sender<T> {
            (**self).as_sender()
        }
    }

    /// `r` as a receiver.
    pub fn receiver<T, R: AsReceiver<T> + ?Sized>(r: &R) -> &Receiver<T> {
        r.as_receiver()
    }

    /// `s` as a sender.
    pub fn sender<T, S: AsSender<T> + ?Sized>(s: &S) -> &Sender<T> {
        s.as_sender()
    }
}
