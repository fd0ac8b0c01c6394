//! Model-based test of a channel: random sequences of operations, run on one thread from
//! several handles (senders and receivers cloned and dropped during the run) and from pending
//! `send_async` / `recv_async` futures polled by hand, each result checked against a reference
//! model: a `VecDeque` buffer, the closed flag, and the queues of pending async sends and
//! receives. Every value carries a unique id and records it if the channel drops it, so a lost
//! or duplicated value is caught at the step where it happens and again in the final tally.
//!
//! Everything outside `mod props` is the harness, shared with the cargo-fuzz target
//! `fuzz/fuzz_targets/chan_ops.rs` (which includes this file as a module).
//!
//! What the model encodes, beyond the contract (FIFO, rendezvous, close, last-handle drops):
//! - Pending async sends form a FIFO after the buffer. A receive on an empty buffer takes the
//!   first pending send's value directly; a receive from a full buffer moves the first pending
//!   send's value into the buffer. Either way that send completes `Ok` on its next poll and
//!   `cancel()` returns `None`.
//! - A pending async receive is only *notified*: a send that buffers a value (or that an async
//!   sender is about to queue) removes the first queued receive and notifies it; on its next poll
//!   it retries (and queues again at the back if there is nothing). A notified receive that is
//!   dropped passes the notification on if a value is there. After every step the model checks
//!   that no queued receive is left un-notified while a value is waiting (no lost wake-up).
//! - `send_timeout` with a non-zero timeout that finds no room notifies the first queued receive
//!   before waiting, but only if its deadline had not passed yet when it looked; which of the
//!   two happened cannot be observed directly, so the checker keeps both candidate models until
//!   a later result tells them apart.
#![cfg(not(miri))]

use csp_chan::{
    Receiver, RecvFut, RecvTimeoutError, SendFut, SendTimeoutError, Sender, TryRecvError,
    TrySendError,
};
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The capacities under test (`None`: unbounded).
pub(crate) const CAPS: [Option<usize>; 5] = [Some(0), Some(1), Some(2), Some(5), None];

/// At most this many clones of each end, and this many pending futures of each kind.
const MAX_HANDLES: usize = 4;
const MAX_FUTS: usize = 8;

// ------------------------------------------------------------------------------------- ops

/// One operation, as generated. Indices (`u8`) pick among the live handles or pending futures
/// (modulo their number); an operation with nothing to act on is skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `Sender::try_send` from sender `.0`.
    TrySend(u8),
    /// `Sender::send_timeout` with the short timeout (`wait`) or `Duration::ZERO`.
    SendTimeout { s: u8, wait: bool },
    /// `Receiver::try_recv` from receiver `.0`.
    TryRecv(u8),
    /// `Receiver::recv_timeout` with the short timeout (`wait`) or `Duration::ZERO`.
    RecvTimeout { r: u8, wait: bool },
    /// `Receiver::try_recv_many(out, max)`.
    TryRecvMany { r: u8, max: u8 },
    /// `len`, `is_empty`, `is_full`, `capacity`, `is_closed`, the handle counts and the
    /// wait-queue lengths, from a sender or a receiver.
    Check { h: u8, sender: bool },
    /// `close()` from a sender or a receiver.
    Close { h: u8, sender: bool },
    /// Drops a sender that no pending future borrows.
    DropSender(u8),
    /// Drops a receiver that no pending future borrows.
    DropReceiver(u8),
    /// Clones a sender.
    CloneSender(u8),
    /// Clones a receiver.
    CloneReceiver(u8),
    /// `send_async` from sender `s`, polled once right away if `poll`.
    StartSend { s: u8, poll: bool },
    /// Polls a pending send future again.
    PollSend(u8),
    /// `SendFut::cancel` on a pending send future.
    CancelSend(u8),
    /// Drops a pending send future.
    DropSend(u8),
    /// `recv_async` from receiver `r`, polled once right away if `poll`.
    StartRecv { r: u8, poll: bool },
    /// Polls a pending receive future again.
    PollRecv(u8),
    /// Drops a pending receive future.
    DropRecv(u8),
}

impl Op {
    /// Decodes two bytes into an operation (weights out of 64 for the kind byte).
    pub(crate) fn decode(kind: u8, arg: u8) -> Op {
        let i = arg & 0x7f;
        let flag = arg & 0x80 != 0;
        match kind % 64 {
            0..=7 => Op::TrySend(i),
            8..=10 => Op::SendTimeout { s: i, wait: flag },
            11..=17 => Op::TryRecv(i),
            18..=20 => Op::RecvTimeout { r: i, wait: flag },
            21..=22 => Op::TryRecvMany {
                r: i,
                max: (arg >> 5) % 5,
            },
            // Closing ends most of the interesting behaviour: keep it rarer than the rest.
            27 if arg & 0x40 == 0 => Op::Close { h: i, sender: flag },
            23..=27 => Op::Check { h: i, sender: flag },
            28 => Op::DropSender(i),
            29 => Op::DropReceiver(i),
            30..=31 => Op::CloneSender(i),
            32..=33 => Op::CloneReceiver(i),
            34..=41 => Op::StartSend {
                s: i,
                poll: arg & 7 != 0,
            },
            42..=46 => Op::PollSend(i),
            47..=48 => Op::CancelSend(i),
            49..=50 => Op::DropSend(i),
            51..=57 => Op::StartRecv {
                r: i,
                poll: arg & 7 != 0,
            },
            58..=61 => Op::PollRecv(i),
            _ => Op::DropRecv(i),
        }
    }
}

/// An operation resolved against the current handles and futures: what the model executes.
/// Values and futures are named by unique ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MOp {
    Skip,
    TrySend(u32),
    SendTimeout(u32, bool),
    TryRecv,
    RecvTimeout(bool),
    TryRecvMany(usize),
    Check,
    Close,
    DropSender,
    DropReceiver,
    CloneSender,
    CloneReceiver,
    StartSend { fid: u32, v: u32, poll: bool },
    PollSend(u32),
    CancelSend(u32),
    DropSend(u32),
    StartRecv { fid: u32, poll: bool },
    PollRecv(u32),
    DropRecv(u32),
}

// --------------------------------------------------------------------------------- outcomes

/// A failed send, with the id of the value handed back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendErr {
    Full(u32),
    Closed(u32),
    Timeout(u32),
}

/// A failed receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecvErr {
    Empty,
    Closed,
    Timeout,
}

/// Everything a handle reports about the channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Status {
    len: usize,
    is_empty: bool,
    is_full: bool,
    capacity: Option<usize>,
    is_closed: bool,
    senders: usize,
    receivers: usize,
    /// `queue_lens()`: (blocked senders, blocked receivers).
    queues: (usize, usize),
}

/// The observable result of one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Out {
    Skip,
    Unit,
    Send(Result<(), SendErr>),
    Recv(Result<u32, RecvErr>),
    /// `try_recv_many`: the count it returned and the ids appended.
    Many(usize, Vec<u32>),
    Status(Status),
    Close(bool),
    /// `None`: pending; `Err(id)`: closed, value handed back.
    SendPoll(Option<Result<(), u32>>),
    /// `None`: pending; `Err(())`: closed and drained.
    RecvPoll(Option<Result<u32, ()>>),
    Cancel(Option<u32>),
}

/// One step's result plus the ids the channel (or a future) dropped during it, sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    out: Out,
    dropped: Vec<u32>,
}

// ------------------------------------------------------------------------------------ model

#[derive(Clone, Debug, PartialEq, Eq)]
enum SendSt {
    /// Created, not polled yet: holds its value.
    Fresh(u32),
    /// In the send queue with its value.
    Queued(u32),
    /// A receiver took the value (or moved it into the buffer): `Ok` on the next poll.
    Delivered,
    /// Was queued when the channel closed: still holds its value, `Err` on the next poll.
    Closed(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RecvSt {
    Fresh,
    /// In the receive queue, not notified.
    Queued,
    /// Taken out of the queue and notified (a value came, or the channel closed).
    Notified,
}

/// The reference model of one channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Model {
    cap: Option<usize>,
    buf: VecDeque<u32>,
    closed: bool,
    senders: usize,
    receivers: usize,
    sendq: VecDeque<u32>,
    recvq: VecDeque<u32>,
    sends: BTreeMap<u32, SendSt>,
    recvs: BTreeMap<u32, RecvSt>,
}

impl Model {
    fn new(cap: Option<usize>, senders: usize, receivers: usize) -> Self {
        Model {
            cap,
            buf: VecDeque::new(),
            closed: false,
            senders,
            receivers,
            sendq: VecDeque::new(),
            recvq: VecDeque::new(),
            sends: BTreeMap::new(),
            recvs: BTreeMap::new(),
        }
    }

    fn room(&self) -> bool {
        self.cap.is_none_or(|c| self.buf.len() < c)
    }

    fn notify_first(&mut self) {
        if let Some(f) = self.recvq.pop_front() {
            self.recvs.insert(f, RecvSt::Notified);
        }
    }

    /// A send attempt. `will_wait`: the sender queues itself if there is no room (so the first
    /// queued receive is notified either way). `Err((full, v))`.
    fn send(&mut self, v: u32, will_wait: bool) -> Result<(), (bool, u32)> {
        if self.closed {
            return Err((false, v));
        }
        let room = self.room();
        if room || will_wait {
            self.notify_first();
        }
        if room {
            self.buf.push_back(v);
            Ok(())
        } else {
            Err((true, v))
        }
    }

    /// Takes the value of the first queued send.
    fn take_first_send(&mut self) -> Option<u32> {
        let f = self.sendq.pop_front()?;
        match self.sends.insert(f, SendSt::Delivered) {
            Some(SendSt::Queued(w)) => Some(w),
            other => panic!("model: send {f} in the queue in state {other:?}"),
        }
    }

    fn recv(&mut self) -> Result<u32, RecvErr> {
        if let Some(v) = self.buf.pop_front() {
            if let Some(w) = self.take_first_send() {
                self.buf.push_back(w);
            }
            return Ok(v);
        }
        if let Some(w) = self.take_first_send() {
            return Ok(w);
        }
        Err(if self.closed {
            RecvErr::Closed
        } else {
            RecvErr::Empty
        })
    }

    fn close(&mut self) -> bool {
        if self.closed {
            return false;
        }
        self.closed = true;
        for f in std::mem::take(&mut self.sendq) {
            match self.sends.get_mut(&f) {
                Some(st @ SendSt::Queued(_)) => {
                    let SendSt::Queued(v) = *st else {
                        unreachable!()
                    };
                    *st = SendSt::Closed(v);
                }
                other => panic!("model: send {f} in the queue in state {other:?}"),
            }
        }
        for f in std::mem::take(&mut self.recvq) {
            self.recvs.insert(f, RecvSt::Notified);
        }
        true
    }

    fn poll_send(&mut self, fid: u32) -> Option<Result<(), u32>> {
        let st = self.sends[&fid].clone();
        let v = match st {
            SendSt::Queued(_) => return None,
            SendSt::Delivered => {
                self.sends.remove(&fid);
                return Some(Ok(()));
            }
            SendSt::Fresh(v) | SendSt::Closed(v) => v,
        };
        match self.send(v, true) {
            Ok(()) => {
                self.sends.remove(&fid);
                Some(Ok(()))
            }
            Err((false, v)) => {
                self.sends.remove(&fid);
                Some(Err(v))
            }
            Err((true, v)) => {
                self.sendq.push_back(fid);
                self.sends.insert(fid, SendSt::Queued(v));
                None
            }
        }
    }

    /// Cancels or drops a send future: the value it still holds, if any.
    fn withdraw_send(&mut self, fid: u32) -> Option<u32> {
        match self.sends.remove(&fid).expect("model: unknown send future") {
            SendSt::Fresh(v) | SendSt::Closed(v) => Some(v),
            SendSt::Queued(v) => {
                self.sendq.retain(|&f| f != fid);
                Some(v)
            }
            SendSt::Delivered => None,
        }
    }

    fn poll_recv(&mut self, fid: u32) -> Option<Result<u32, ()>> {
        if self.recvs[&fid] == RecvSt::Queued {
            return None;
        }
        match self.recv() {
            Ok(v) => {
                self.recvs.remove(&fid);
                Some(Ok(v))
            }
            Err(RecvErr::Closed) => {
                self.recvs.remove(&fid);
                Some(Err(()))
            }
            Err(_) => {
                self.recvq.push_back(fid);
                self.recvs.insert(fid, RecvSt::Queued);
                None
            }
        }
    }

    fn drop_recv(&mut self, fid: u32) {
        match self.recvs.remove(&fid).expect("model: unknown recv future") {
            RecvSt::Fresh => {}
            RecvSt::Queued => self.recvq.retain(|&f| f != fid),
            RecvSt::Notified => {
                // Pass the notification on, if there is anything to come for.
                if !self.buf.is_empty() || !self.sendq.is_empty() || self.closed {
                    self.notify_first();
                }
            }
        }
    }

    fn status(&self) -> Status {
        Status {
            len: self.buf.len(),
            is_empty: self.buf.is_empty(),
            is_full: self.cap.is_some_and(|c| self.buf.len() >= c),
            capacity: self.cap,
            is_closed: self.closed,
            senders: self.senders,
            receivers: self.receivers,
            queues: (self.sendq.len(), self.recvq.len()),
        }
    }

    /// Executes `op`. `will_wait` only matters for `SendTimeout(_, true)`: whether the
    /// deadline had not passed yet when the send found no room.
    fn apply(&mut self, op: MOp, will_wait: bool) -> Step {
        let mut dropped = Vec::new();
        let out = match op {
            MOp::Skip => Out::Skip,
            MOp::TrySend(v) => Out::Send(self.send(v, false).map_err(|(full, v)| {
                if full {
                    SendErr::Full(v)
                } else {
                    SendErr::Closed(v)
                }
            })),
            MOp::SendTimeout(v, wait) => {
                Out::Send(self.send(v, wait && will_wait).map_err(|(full, v)| {
                    if full {
                        SendErr::Timeout(v)
                    } else {
                        SendErr::Closed(v)
                    }
                }))
            }
            MOp::TryRecv => Out::Recv(self.recv()),
            MOp::RecvTimeout(_) => Out::Recv(self.recv().map_err(|e| match e {
                RecvErr::Empty => RecvErr::Timeout,
                e => e,
            })),
            MOp::TryRecvMany(max) => {
                let mut ids = Vec::new();
                while ids.len() < max {
                    match self.recv() {
                        Ok(v) => ids.push(v),
                        Err(_) => break,
                    }
                }
                Out::Many(ids.len(), ids)
            }
            MOp::Check => Out::Status(self.status()),
            MOp::Close => Out::Close(self.close()),
            MOp::DropSender => {
                self.senders -= 1;
                if self.senders == 0 {
                    self.close();
                }
                Out::Unit
            }
            MOp::DropReceiver => {
                self.receivers -= 1;
                if self.receivers == 0 {
                    self.close();
                    dropped.extend(self.buf.drain(..));
                }
                Out::Unit
            }
            MOp::CloneSender => {
                self.senders += 1;
                Out::Unit
            }
            MOp::CloneReceiver => {
                self.receivers += 1;
                Out::Unit
            }
            MOp::StartSend { fid, v, poll } => {
                self.sends.insert(fid, SendSt::Fresh(v));
                if poll {
                    Out::SendPoll(self.poll_send(fid))
                } else {
                    Out::Unit
                }
            }
            MOp::PollSend(fid) => Out::SendPoll(self.poll_send(fid)),
            MOp::CancelSend(fid) => Out::Cancel(self.withdraw_send(fid)),
            MOp::DropSend(fid) => {
                dropped.extend(self.withdraw_send(fid));
                Out::Unit
            }
            MOp::StartRecv { fid, poll } => {
                self.recvs.insert(fid, RecvSt::Fresh);
                if poll {
                    Out::RecvPoll(self.poll_recv(fid))
                } else {
                    Out::Unit
                }
            }
            MOp::PollRecv(fid) => Out::RecvPoll(self.poll_recv(fid)),
            MOp::DropRecv(fid) => {
                self.drop_recv(fid);
                Out::Unit
            }
        };
        dropped.sort_unstable();
        Step { out, dropped }
    }

    /// No lost wake-up: while a value is waiting, some pending receive has been notified (and
    /// will take it, or pass the notification on, when its task runs).
    fn check_no_lost_wakeup(&self) -> Result<(), String> {
        let available = !self.buf.is_empty() || !self.sendq.is_empty();
        if available
            && !self.recvq.is_empty()
            && !self.recvs.values().any(|s| *s == RecvSt::Notified)
        {
            return Err(format!(
                "lost wake-up: values are waiting but no queued receive was notified: {self:?}"
            ));
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------ real channel

/// A value with a unique id. If the channel (or a future) drops it, its id goes to `log`; the
/// test takes it out with `into_id`, which disarms it.
pub(crate) struct Val {
    id: u32,
    log: Rc<RefCell<Vec<u32>>>,
    armed: bool,
}

impl Val {
    fn into_id(mut self) -> u32 {
        self.armed = false;
        self.id
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        if self.armed {
            self.log.borrow_mut().push(self.id);
        }
    }
}

/// A handle at a fixed heap address, so pending futures can borrow it as `'static`. The
/// runner drops a `Held` only when no future borrows it (it checks the futures' `hid`s), and
/// drops every future before the handles when it is dropped itself.
struct Held<H> {
    hid: u32,
    ptr: NonNull<H>,
}

impl<H> Held<H> {
    fn new(hid: u32, h: H) -> Self {
        Held {
            hid,
            ptr: NonNull::from(Box::leak(Box::new(h))),
        }
    }

    fn get(&self) -> &H {
        // SAFETY: `ptr` came from `Box::leak` and is freed only in `drop`.
        unsafe { self.ptr.as_ref() }
    }

    /// # Safety
    ///
    /// Every use of the returned reference must end before `self` is dropped.
    unsafe fn get_static(&self) -> &'static H {
        // SAFETY: valid until `drop`; the caller ends its borrows before that.
        unsafe { &*self.ptr.as_ptr() }
    }
}

impl<H> Drop for Held<H> {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from `Box::leak`; no borrow outlives `self` (see `get_static`).
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

struct PendingSend {
    fid: u32,
    hid: u32,
    fut: SendFut<'static, Val>,
}

struct PendingRecv {
    fid: u32,
    hid: u32,
    fut: RecvFut<'static, Val>,
}

/// What a handle (a `Held` sender or receiver) reports.
macro_rules! status_of {
    ($held:expr) => {{
        let h = $held.get();
        Status {
            len: h.len(),
            is_empty: h.is_empty(),
            is_full: h.is_full(),
            capacity: h.capacity(),
            is_closed: h.is_closed(),
            senders: h.sender_count(),
            receivers: h.receiver_count(),
            queues: h.queue_lens(),
        }
    }};
}

fn pick<T>(v: &[T], i: u8) -> Option<usize> {
    (!v.is_empty()).then(|| i as usize % v.len())
}

/// Runs operations on a real channel and checks each against the model.
pub(crate) struct Runner {
    // The futures borrow the handles below: `Drop` clears them first.
    sends: Vec<PendingSend>,
    recvs: Vec<PendingRecv>,
    senders: Vec<Held<Sender<Val>>>,
    receivers: Vec<Held<Receiver<Val>>>,
    /// Every model state consistent with what was observed so far (usually one).
    models: Vec<Model>,
    log: Rc<RefCell<Vec<u32>>>,
    short: Duration,
    next_val: u32,
    next_hid: u32,
    next_fid: u32,
    steps: usize,
    /// Ids the test got back: received, or handed back by an error or `cancel`.
    got: Vec<u32>,
    /// Ids the channel or a future dropped.
    dropped: Vec<u32>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.sends.clear();
        self.recvs.clear();
    }
}

impl Runner {
    /// A channel of capacity `cap` (`None`: unbounded) with two senders and two receivers.
    /// `short` is the non-zero timeout of `send_timeout` / `recv_timeout`.
    pub(crate) fn new(cap: Option<usize>, short: Duration) -> Self {
        let (tx, rx) = match cap {
            Some(c) => csp_chan::bounded(c),
            None => csp_chan::unbounded(),
        };
        let (tx2, rx2) = (tx.clone(), rx.clone());
        Runner {
            sends: Vec::new(),
            recvs: Vec::new(),
            senders: vec![Held::new(0, tx), Held::new(1, tx2)],
            receivers: vec![Held::new(2, rx), Held::new(3, rx2)],
            models: vec![Model::new(cap, 2, 2)],
            log: Rc::default(),
            short,
            next_val: 0,
            next_hid: 4,
            next_fid: 0,
            steps: 0,
            got: Vec::new(),
            dropped: Vec::new(),
        }
    }

    fn new_val(&mut self) -> Val {
        let id = self.next_val;
        self.next_val += 1;
        Val {
            id,
            log: self.log.clone(),
            armed: true,
        }
    }

    /// The test takes a value back.
    fn give(&mut self, v: Val) -> u32 {
        let id = v.into_id();
        self.got.push(id);
        id
    }

    fn send_err_full(&mut self, e: TrySendError<Val>) -> SendErr {
        match e {
            TrySendError::Full(v) => SendErr::Full(self.give(v)),
            TrySendError::Closed(v) => SendErr::Closed(self.give(v)),
        }
    }

    /// Runs `op` on the real channel: the resolved operation and what it returned.
    fn exec(&mut self, op: Op) -> (MOp, Out) {
        let mut cx = Context::from_waker(Waker::noop());
        match op {
            Op::TrySend(i) => {
                let Some(k) = pick(&self.senders, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                let v = self.new_val();
                let id = v.id;
                let r = self.senders[k].get().try_send(v);
                let out = Out::Send(r.map_err(|e| self.send_err_full(e)));
                (MOp::TrySend(id), out)
            }
            Op::SendTimeout { s, wait } => {
                let Some(k) = pick(&self.senders, s) else {
                    return (MOp::Skip, Out::Skip);
                };
                let v = self.new_val();
                let id = v.id;
                let d = if wait { self.short } else { Duration::ZERO };
                let r = self.senders[k].get().send_timeout(v, d);
                let out = Out::Send(r.map_err(|e| match e {
                    SendTimeoutError::Timeout(v) => SendErr::Timeout(self.give(v)),
                    SendTimeoutError::Closed(v) => SendErr::Closed(self.give(v)),
                }));
                (MOp::SendTimeout(id, wait), out)
            }
            Op::TryRecv(i) => {
                let Some(k) = pick(&self.receivers, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                let r = self.receivers[k].get().try_recv();
                let out = Out::Recv(match r {
                    Ok(v) => Ok(self.give(v)),
                    Err(TryRecvError::Empty) => Err(RecvErr::Empty),
                    Err(TryRecvError::Closed) => Err(RecvErr::Closed),
                });
                (MOp::TryRecv, out)
            }
            Op::RecvTimeout { r, wait } => {
                let Some(k) = pick(&self.receivers, r) else {
                    return (MOp::Skip, Out::Skip);
                };
                let d = if wait { self.short } else { Duration::ZERO };
                let r = self.receivers[k].get().recv_timeout(d);
                let out = Out::Recv(match r {
                    Ok(v) => Ok(self.give(v)),
                    Err(RecvTimeoutError::Timeout) => Err(RecvErr::Timeout),
                    Err(RecvTimeoutError::Closed) => Err(RecvErr::Closed),
                });
                (MOp::RecvTimeout(wait), out)
            }
            Op::TryRecvMany { r, max } => {
                let Some(k) = pick(&self.receivers, r) else {
                    return (MOp::Skip, Out::Skip);
                };
                let mut vals = Vec::new();
                let n = self.receivers[k]
                    .get()
                    .try_recv_many(&mut vals, max as usize);
                let ids = vals.into_iter().map(|v| self.give(v)).collect();
                (MOp::TryRecvMany(max as usize), Out::Many(n, ids))
            }
            Op::Check { h, sender } => {
                let st = match (sender, pick(&self.senders, h), pick(&self.receivers, h)) {
                    (true, Some(k), _) | (false, Some(k), None) => status_of!(self.senders[k]),
                    (_, _, Some(k)) => status_of!(self.receivers[k]),
                    _ => return (MOp::Skip, Out::Skip),
                };
                (MOp::Check, Out::Status(st))
            }
            Op::Close { h, sender } => {
                let closed = match (sender, pick(&self.senders, h), pick(&self.receivers, h)) {
                    (true, Some(k), _) | (false, Some(k), None) => self.senders[k].get().close(),
                    (_, _, Some(k)) => self.receivers[k].get().close(),
                    _ => return (MOp::Skip, Out::Skip),
                };
                (MOp::Close, Out::Close(closed))
            }
            Op::DropSender(i) => {
                let free: Vec<usize> = (0..self.senders.len())
                    .filter(|&k| self.sends.iter().all(|f| f.hid != self.senders[k].hid))
                    .collect();
                let Some(j) = pick(&free, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                drop(self.senders.remove(free[j]));
                (MOp::DropSender, Out::Unit)
            }
            Op::DropReceiver(i) => {
                let free: Vec<usize> = (0..self.receivers.len())
                    .filter(|&k| self.recvs.iter().all(|f| f.hid != self.receivers[k].hid))
                    .collect();
                let Some(j) = pick(&free, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                drop(self.receivers.remove(free[j]));
                (MOp::DropReceiver, Out::Unit)
            }
            Op::CloneSender(i) => {
                let Some(k) = pick(&self.senders, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                if self.senders.len() >= MAX_HANDLES {
                    return (MOp::Skip, Out::Skip);
                }
                let tx = self.senders[k].get().clone();
                self.senders.push(Held::new(self.next_hid, tx));
                self.next_hid += 1;
                (MOp::CloneSender, Out::Unit)
            }
            Op::CloneReceiver(i) => {
                let Some(k) = pick(&self.receivers, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                if self.receivers.len() >= MAX_HANDLES {
                    return (MOp::Skip, Out::Skip);
                }
                let rx = self.receivers[k].get().clone();
                self.receivers.push(Held::new(self.next_hid, rx));
                self.next_hid += 1;
                (MOp::CloneReceiver, Out::Unit)
            }
            Op::StartSend { s, poll } => {
                let Some(k) = pick(&self.senders, s) else {
                    return (MOp::Skip, Out::Skip);
                };
                if self.sends.len() >= MAX_FUTS {
                    return (MOp::Skip, Out::Skip);
                }
                let v = self.new_val();
                let (fid, vid) = (self.next_fid, v.id);
                self.next_fid += 1;
                let held = &self.senders[k];
                // SAFETY: the future is stored in `self.sends` with this handle's `hid`, so the
                // handle is not dropped before it (see `Held`).
                let tx = unsafe { held.get_static() };
                let mut p = PendingSend {
                    fid,
                    hid: held.hid,
                    fut: tx.send_async(v),
                };
                let mop = MOp::StartSend { fid, v: vid, poll };
                if !poll {
                    self.sends.push(p);
                    return (mop, Out::Unit);
                }
                let r = self.poll_send(&mut p, &mut cx);
                if r.is_none() {
                    self.sends.push(p);
                }
                (mop, Out::SendPoll(r))
            }
            Op::PollSend(i) => {
                let Some(k) = pick(&self.sends, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                let mut p = self.sends.remove(k);
                let fid = p.fid;
                let r = self.poll_send(&mut p, &mut cx);
                if r.is_none() {
                    self.sends.insert(k, p);
                }
                (MOp::PollSend(fid), Out::SendPoll(r))
            }
            Op::CancelSend(i) => {
                let Some(k) = pick(&self.sends, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                let p = self.sends.remove(k);
                let r = p.fut.cancel().map(|v| self.give(v));
                (MOp::CancelSend(p.fid), Out::Cancel(r))
            }
            Op::DropSend(i) => {
                let Some(k) = pick(&self.sends, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                let p = self.sends.remove(k);
                let fid = p.fid;
                drop(p);
                (MOp::DropSend(fid), Out::Unit)
            }
            Op::StartRecv { r, poll } => {
                let Some(k) = pick(&self.receivers, r) else {
                    return (MOp::Skip, Out::Skip);
                };
                if self.recvs.len() >= MAX_FUTS {
                    return (MOp::Skip, Out::Skip);
                }
                let fid = self.next_fid;
                self.next_fid += 1;
                let held = &self.receivers[k];
                // SAFETY: the future is stored in `self.recvs` with this handle's `hid`, so the
                // handle is not dropped before it (see `Held`).
                let rx = unsafe { held.get_static() };
                let mut p = PendingRecv {
                    fid,
                    hid: held.hid,
                    fut: rx.recv_async(),
                };
                let mop = MOp::StartRecv { fid, poll };
                if !poll {
                    self.recvs.push(p);
                    return (mop, Out::Unit);
                }
                let r = self.poll_recv(&mut p, &mut cx);
                if r.is_none() {
                    self.recvs.push(p);
                }
                (mop, Out::RecvPoll(r))
            }
            Op::PollRecv(i) => {
                let Some(k) = pick(&self.recvs, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                let mut p = self.recvs.remove(k);
                let fid = p.fid;
                let r = self.poll_recv(&mut p, &mut cx);
                if r.is_none() {
                    self.recvs.insert(k, p);
                }
                (MOp::PollRecv(fid), Out::RecvPoll(r))
            }
            Op::DropRecv(i) => {
                let Some(k) = pick(&self.recvs, i) else {
                    return (MOp::Skip, Out::Skip);
                };
                let p = self.recvs.remove(k);
                let fid = p.fid;
                drop(p);
                (MOp::DropRecv(fid), Out::Unit)
            }
        }
    }

    fn poll_send(&mut self, p: &mut PendingSend, cx: &mut Context<'_>) -> Option<Result<(), u32>> {
        match Pin::new(&mut p.fut).poll(cx) {
            Poll::Pending => None,
            Poll::Ready(Ok(())) => Some(Ok(())),
            Poll::Ready(Err(e)) => Some(Err(self.give(e.into_inner()))),
        }
    }

    fn poll_recv(&mut self, p: &mut PendingRecv, cx: &mut Context<'_>) -> Option<Result<u32, ()>> {
        match Pin::new(&mut p.fut).poll(cx) {
            Poll::Pending => None,
            Poll::Ready(Ok(v)) => Some(Ok(self.give(v))),
            Poll::Ready(Err(_)) => Some(Err(())),
        }
    }

    /// Runs one operation on the channel and on every candidate model; fails on a mismatch.
    pub(crate) fn step(&mut self, op: Op) {
        let (mop, out) = self.exec(op);
        let mut dropped = std::mem::take(&mut *self.log.borrow_mut());
        dropped.sort_unstable();
        self.dropped.extend_from_slice(&dropped);
        let real = Step { out, dropped };

        let choices: &[bool] = match mop {
            MOp::SendTimeout(_, true) => &[true, false],
            _ => &[true],
        };
        let mut next: Vec<Model> = Vec::new();
        let mut expected = Vec::new();
        for m in &self.models {
            for &will_wait in choices {
                let mut m = m.clone();
                let s = m.apply(mop, will_wait);
                if s == real {
                    if !next.contains(&m) {
                        next.push(m);
                    }
                } else {
                    expected.push(s);
                }
            }
        }
        assert!(
            !next.is_empty(),
            "step {}: {op:?} = {mop:?}\n  channel: {real:?}\n  model:   {expected:?}\n  model state before: {:?}",
            self.steps,
            self.models,
        );
        for m in &next {
            if let Err(e) = m.check_no_lost_wakeup() {
                panic!("step {}: after {op:?} = {mop:?}: {e}", self.steps);
            }
        }
        self.models = next;
        self.steps += 1;
    }

    /// Drops the pending futures, drains the channel, drops every handle (each a checked
    /// step), then checks that every value went exactly once to the test or to a drop.
    pub(crate) fn finish(&mut self) {
        while !self.sends.is_empty() {
            self.step(Op::DropSend(0));
        }
        while !self.recvs.is_empty() {
            self.step(Op::DropRecv(0));
        }
        while !self.receivers.is_empty() && self.models.iter().any(|m| !m.buf.is_empty()) {
            self.step(Op::TryRecvMany { r: 0, max: u8::MAX });
        }
        self.step(Op::Check {
            h: 0,
            sender: false,
        });
        while !self.receivers.is_empty() {
            self.step(Op::DropReceiver(0));
        }
        while !self.senders.is_empty() {
            self.step(Op::DropSender(0));
        }
        assert!(self.log.borrow().is_empty(), "drops after the last handle");
        let mut all: Vec<u32> = self.got.iter().chain(&self.dropped).copied().collect();
        all.sort_unstable();
        let expect: Vec<u32> = (0..self.next_val).collect();
        assert_eq!(
            all, expect,
            "every value must end exactly once: received / handed back {:?}, dropped {:?}",
            self.got, self.dropped
        );
    }
}

/// Runs `ops` on a fresh channel of capacity `cap` and checks everything against the model.
pub(crate) fn run(cap: Option<usize>, ops: &[Op], short: Duration) {
    let mut r = Runner::new(cap, short);
    for &op in ops {
        r.step(op);
    }
    r.finish();
}

// ------------------------------------------------------------------------------- proptest

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    fn ops() -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            (any::<u8>(), any::<u8>()).prop_map(|(k, a)| Op::decode(k, a)),
            0..120,
        )
    }

    /// 256 cases per capacity, or `PROPTEST_CASES`.
    fn config() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(256);
        ProptestConfig {
            cases,
            ..ProptestConfig::default()
        }
    }

    fn check(cap: Option<usize>, ops: &[Op]) {
        run(cap, ops, Duration::from_millis(1));
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn unbuffered_matches_model(ops in ops()) {
            check(Some(0), &ops);
        }

        #[test]
        fn cap1_matches_model(ops in ops()) {
            check(Some(1), &ops);
        }

        #[test]
        fn cap2_matches_model(ops in ops()) {
            check(Some(2), &ops);
        }

        #[test]
        fn cap5_matches_model(ops in ops()) {
            check(Some(5), &ops);
        }

        #[test]
        fn unbounded_matches_model(ops in ops()) {
            check(None, &ops);
        }
    }

    /// The scenarios the model's less obvious rules come from, spelled out.
    #[test]
    fn pending_send_is_taken_directly_and_cancel_returns_none() {
        use Op::*;
        for cap in CAPS {
            run(
                cap,
                &[
                    StartSend { s: 0, poll: true },
                    TryRecv(0),
                    CancelSend(0),
                    StartSend { s: 1, poll: true },
                    StartRecv { r: 0, poll: true },
                    PollRecv(0),
                    PollSend(0),
                    Check { h: 0, sender: true },
                ],
                Duration::from_millis(1),
            );
        }
    }

    #[test]
    fn notified_receive_dropped_passes_it_on() {
        use Op::*;
        for cap in CAPS {
            run(
                cap,
                &[
                    StartRecv { r: 0, poll: true },
                    StartRecv { r: 1, poll: true },
                    StartSend { s: 0, poll: true },
                    TrySend(0),
                    DropRecv(0),
                    Check {
                        h: 0,
                        sender: false,
                    },
                    PollRecv(0),
                    SendTimeout { s: 0, wait: true },
                    PollRecv(0),
                    Close {
                        h: 0,
                        sender: false,
                    },
                    PollSend(0),
                ],
                Duration::from_millis(1),
            );
        }
    }
}
