//! Model-based test of `select`: random programs over three channels (capacities drawn from
//! 0, 1, 2 and unbounded), run on one thread and checked step by step against a reference
//! model (a `VecDeque` buffer and a closed flag per channel, plus the one pending async select).
//!
//! Operations: `try_send` / `try_recv` / `close` on one channel; a `Select` builder with a
//! random list of receive arms and value-free send arms, run with `try_select()` (a chosen send
//! arm is completed with `op.send(&tx, v)`); `select!` with `default` over a few fixed shapes
//! whose channels are picked at run time (`recv(rxs[c])`); and a `select_async!` future (no
//! `default`), polled by hand with a waker that counts its wake-ups, re-polled and dropped
//! later. At most one async select is pending at a time.
//!
//! Every value carries a unique id and records it if it is dropped, so each step checks:
//! - the chosen arm is one the model says is ready (receive: a value buffered, a pending send
//!   arm to take from, or closed; value-carrying send: room or closed; value-free send: room,
//!   closed, or a waiting receiver), and when any arm is ready the select does not fail;
//! - a receive gets the model's FIFO head; a send on a closed channel hands its value back;
//! - the values of send arms that were not chosen are dropped in that very step, never
//!   delivered (the buffers' lengths match the model after every step);
//! - the pending async select is woken exactly when the model claims it, and no pending
//!   select is left unwoken while one of its arms is ready.
//!
//! At the end the pending select is dropped, channels 0 and 1 are drained, channel 2 is
//! dropped with whatever it holds, and every id must have ended exactly once: received,
//! handed back, or dropped.
//!
//! What the model encodes about the pending async select (Go's `selectgo` with async waiters):
//! - While it waits, each arm is queued on its channel. A send that buffers a value on a
//!   channel it receives from, or a close of any of its channels, only *notifies* it (async
//!   receivers are never handed a value): on its next poll it polls every arm again and takes
//!   a random ready one, or waits again.
//! - A receive on a channel where it waits to send takes its value (straight, or moving it
//!   into the buffer behind the head): it completes with that send arm on its next poll.
//! - Dropping it loses nothing: values stay in the channels, its unsent values are dropped.
//!
//! Everything outside `mod props` is the harness, shared with the cargo-fuzz target
//! `fuzz/fuzz_targets/select_ops.rs` (which includes this file as a module).
//!
//! A `Select::send` arm (no value) is ready only with room, a waiting receiver *thread*, or a
//! closed channel: a waiting async receiver does not count (test
//! `builder_send_arm_ready_for_async_receiver`), as for `try_send`.
#![cfg(not(loom))]
#![cfg(not(miri))]

use csp_chan::{
    Receiver, Select, SendError, Sender, TryRecvError, TrySendError, select, select_async,
};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// The capacities under test (`None`: unbounded).
pub(crate) const CAPS: [Option<usize>; 4] = [Some(0), Some(1), Some(2), None];

/// The number of channels.
const N: usize = 3;

/// Three capacities from one byte.
pub(crate) fn caps_from_byte(b: u8) -> [Option<usize>; N] {
    let b = b as usize;
    [CAPS[b % 4], CAPS[b / 4 % 4], CAPS[b / 16 % 4]]
}

// ------------------------------------------------------------------------------------- ops

/// One operation, as generated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    /// `try_send` of a fresh value on channel `.0`.
    TrySend(u8),
    /// `try_recv` on channel `.0`.
    TryRecv(u8),
    /// `close` of channel `.0` (from the sender or the receiver, by parity of `by_rx`).
    Close { ch: u8, by_rx: bool },
    /// `Select` builder + `try_select()`: the arms come from `mask` (see [`builder_arms`]).
    Builder { mask: u8, rot: u8 },
    /// `select!` with `default`, shape `shape % 8` of [`SYNC_SHAPES`], channels from `chans`.
    Macro { shape: u8, chans: u8 },
    /// Starts a `select_async!` future (shape of [`ASYNC_SHAPES`]) and polls it once; skipped
    /// while one is pending.
    Start { shape: u8, chans: u8 },
    /// Polls the pending async select again.
    Poll,
    /// Drops the pending async select.
    Drop,
}

impl Op {
    /// Decodes two bytes into an operation (weights out of 32 for the low bits of `kind`).
    /// `async_mix` weights the mix towards the pending async select (starts and polls).
    pub(crate) fn decode(kind: u8, arg: u8, async_mix: bool) -> Op {
        let hi = kind >> 5;
        let ch = arg % 3;
        let k = kind & 31;
        // The boundaries of each kind's range: try_send, try_recv, close, builder, macro,
        // start, poll; the rest drops.
        let [s, r, c, b, m, st, p] = if async_mix {
            [5, 11, 12, 15, 18, 25, 30]
        } else {
            [4, 9, 10, 15, 21, 25, 29]
        };
        if k <= s {
            Op::TrySend(ch)
        } else if k <= r {
            Op::TryRecv(ch)
        } else if k <= c {
            // Closing ends most of the interesting behaviour: keep it rare.
            if arg & 0x30 == 0 {
                Op::Close {
                    ch,
                    by_rx: arg & 0x40 != 0,
                }
            } else {
                Op::TryRecv(ch)
            }
        } else if k <= b {
            Op::Builder { mask: arg, rot: hi }
        } else if k <= m {
            Op::Macro {
                shape: hi,
                chans: arg,
            }
        } else if k <= st {
            Op::Start {
                shape: hi,
                chans: arg,
            }
        } else if k <= p {
            Op::Poll
        } else {
            Op::Drop
        }
    }

    /// The same operation with closes turned into receives.
    pub(crate) fn without_close(self) -> Op {
        match self {
            Op::Close { ch, .. } => Op::TryRecv(ch),
            op => op,
        }
    }
}

/// Arm kinds of the fixed macro shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum K {
    R,
    S,
}

/// The `select!` shapes (each with `default`); the code in `Runner::exec_macro` spells them
/// out in this order.
const SYNC_SHAPES: [&[K]; 8] = [
    &[K::R, K::R, K::S],
    &[K::S, K::S, K::R],
    &[K::R, K::S],
    &[K::S, K::S, K::S],
    &[K::R, K::R, K::R],
    &[K::R],
    &[K::S],
    &[],
];

/// The `select_async!` shapes (no `default`); spelled out in `Runner::exec_start`.
const ASYNC_SHAPES: [&[K]; 8] = [
    &[K::R, K::R, K::S],
    &[K::S, K::S, K::R],
    &[K::R, K::S],
    &[K::R, K::R],
    &[K::S, K::S],
    &[K::R],
    &[K::S],
    &[K::R, K::R, K::R],
];

/// Three channel indices (repeats allowed) from one byte.
fn chans3(a: u8) -> [usize; 3] {
    let a = a as usize;
    [a % 3, a / 3 % 3, a / 9 % 3]
}

/// One select arm, as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arm {
    /// A receive on channel `.0`.
    Recv(usize),
    /// A value-carrying send (`select!`) of id `.1` on channel `.0`.
    Send(usize, u32),
    /// A value-free send arm (`Select::send`) on channel `.0`.
    DSend(usize),
}

/// The builder's arms: bits 0..3 of `mask` receive on channels 0..3, bits 3..6 send; bit 6
/// adds another receive on `rot % 3`, bit 7 another send on `(rot + 1) % 3` (the same channel
/// twice); the list is then rotated left by `rot`.
pub(crate) fn builder_arms(mask: u8, rot: u8) -> Vec<Arm> {
    let mut arms = Vec::new();
    for c in 0..N {
        if mask >> c & 1 != 0 {
            arms.push(Arm::Recv(c));
        }
    }
    for c in 0..N {
        if mask >> (3 + c) & 1 != 0 {
            arms.push(Arm::DSend(c));
        }
    }
    let rot = rot as usize;
    if mask & 0x40 != 0 {
        arms.push(Arm::Recv(rot % 3));
    }
    if mask & 0x80 != 0 {
        arms.push(Arm::DSend((rot + 1) % 3));
    }
    if !arms.is_empty() {
        let n = arms.len();
        arms.rotate_left(rot % n);
    }
    arms
}

/// An operation resolved against the runner's state: what the model executes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MOp {
    Skip,
    TrySend(usize, u32),
    TryRecv(usize),
    Close(usize),
    /// A non-blocking select (`try_select()` or `select!` with `default`).
    TrySelect(Vec<Arm>),
    /// A new async select, polled once.
    Start(Vec<Arm>),
    Poll,
    Drop,
}

// --------------------------------------------------------------------------------- outcomes

/// A failed send, with the id of the value handed back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendErr {
    Full(u32),
    Closed(u32),
}

/// A failed receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecvErr {
    Empty,
    Closed,
}

/// What the chosen arm did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArmOut {
    /// `Some(id)`: received; `None`: closed and drained.
    Recv(Option<u32>),
    /// A value-carrying send: `None`: sent; `Some(id)`: closed, value handed back.
    Send(Option<u32>),
    /// A value-free send arm completed with `op.send(v)`: `back` is the value handed back.
    DSent { v: u32, back: Option<u32> },
    /// A value-free send arm chosen although the channel has no room and is open (a waiting
    /// async receiver): `op.send` would block, so the harness drops the operation.
    DSkipped,
}

/// The observable result of one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Out {
    Skip,
    Unit,
    Send(Result<(), SendErr>),
    Recv(Result<u32, RecvErr>),
    Close(bool),
    /// A select: the chosen arm, or `None` (no arm ready / `default` ran / still pending).
    Sel(Option<(usize, ArmOut)>),
}

/// One step's result, the ids dropped during it (sorted), each channel's `(len, is_closed)`
/// afterwards, and whether the pending async select's waker was called.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    out: Out,
    dropped: Vec<u32>,
    status: [(usize, bool); N],
    woken: bool,
}

// ------------------------------------------------------------------------------------ model

#[derive(Clone, Debug, PartialEq, Eq)]
struct ChanM {
    cap: Option<usize>,
    buf: VecDeque<u32>,
    closed: bool,
}

impl ChanM {
    fn room(&self) -> bool {
        self.cap.is_none_or(|c| self.buf.len() < c)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PSt {
    /// Queued on every arm's channel, not claimed.
    Waiting,
    /// Claimed by a notification (a value came, or a close): polls every arm again.
    Notified,
    /// A receiver took the value of send arm `.0`: completes with it.
    Delivered(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct PendM {
    arms: Vec<Arm>,
    st: PSt,
}

/// The reference model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Model {
    ch: Vec<ChanM>,
    pending: Option<PendM>,
    /// Whether this step claimed the pending select (and so must have woken it).
    woke: bool,
}

/// The ids of the send arms other than `keep`.
fn send_ids(arms: &[Arm], keep: Option<usize>) -> Vec<u32> {
    arms.iter()
        .enumerate()
        .filter_map(|(i, a)| match a {
            Arm::Send(_, v) if Some(i) != keep => Some(*v),
            _ => None,
        })
        .collect()
}

impl Model {
    fn new(caps: [Option<usize>; N]) -> Self {
        Model {
            ch: caps
                .iter()
                .map(|&cap| ChanM {
                    cap,
                    buf: VecDeque::new(),
                    closed: false,
                })
                .collect(),
            pending: None,
            woke: false,
        }
    }

    fn waiting(&self) -> Option<&PendM> {
        self.pending.as_ref().filter(|p| p.st == PSt::Waiting)
    }

    /// The first send arm of the waiting select on channel `c` (arms queue in index order).
    fn live_send(&self, c: usize) -> Option<(usize, u32)> {
        self.waiting()?
            .arms
            .iter()
            .enumerate()
            .find_map(|(i, a)| match *a {
                Arm::Send(d, v) if d == c => Some((i, v)),
                _ => None,
            })
    }

    /// Whether the waiting select receives on channel `c`.
    fn live_recv(&self, c: usize) -> bool {
        self.waiting()
            .is_some_and(|p| p.arms.contains(&Arm::Recv(c)))
    }

    /// Claims the waiting select (the first claim wins; later ones find it taken).
    fn claim(&mut self, st: PSt) {
        if let Some(p) = self.pending.as_mut().filter(|p| p.st == PSt::Waiting) {
            p.st = st;
            self.woke = true;
        }
    }

    fn recv(&mut self, c: usize) -> Result<u32, RecvErr> {
        if let Some(v) = self.ch[c].buf.pop_front() {
            // Room was made: a waiting send arm's value moves into the buffer.
            if let Some((i, w)) = self.live_send(c) {
                self.ch[c].buf.push_back(w);
                self.claim(PSt::Delivered(i));
            }
            return Ok(v);
        }
        if let Some((i, w)) = self.live_send(c) {
            self.claim(PSt::Delivered(i));
            return Ok(w);
        }
        Err(if self.ch[c].closed {
            RecvErr::Closed
        } else {
            RecvErr::Empty
        })
    }

    /// A send that does not wait (`try_send`, a `select!` send arm, `op.send` with room).
    fn send(&mut self, c: usize, v: u32) -> Result<(), SendErr> {
        if self.ch[c].closed {
            return Err(SendErr::Closed(v));
        }
        if !self.ch[c].room() {
            return Err(SendErr::Full(v));
        }
        if self.live_recv(c) {
            self.claim(PSt::Notified);
        }
        self.ch[c].buf.push_back(v);
        Ok(())
    }

    fn close(&mut self, c: usize) -> bool {
        if self.ch[c].closed {
            return false;
        }
        self.ch[c].closed = true;
        let on_c = self.waiting().is_some_and(|p| {
            p.arms.iter().any(|a| match *a {
                Arm::Recv(d) | Arm::Send(d, _) | Arm::DSend(d) => d == c,
            })
        });
        if on_c {
            self.claim(PSt::Notified);
        }
        true
    }

    fn ready(&self, arm: Arm) -> bool {
        match arm {
            Arm::Recv(c) => {
                let ch = &self.ch[c];
                !ch.buf.is_empty() || ch.closed || self.live_send(c).is_some()
            }
            Arm::Send(c, _) => self.ch[c].closed || self.ch[c].room(),
            // A waiting async receiver does not count: it is only notified (like `try_send`).
            Arm::DSend(c) => self.ch[c].closed || self.ch[c].room(),
        }
    }

    /// Completes a ready arm. `real`: what the channel reported, for the id of a value-free
    /// send (the model cannot know which fresh id the harness used).
    fn complete(&mut self, arm: Arm, real: Option<&ArmOut>) -> ArmOut {
        match arm {
            Arm::Recv(c) => match self.recv(c) {
                Ok(v) => ArmOut::Recv(Some(v)),
                Err(RecvErr::Closed) => ArmOut::Recv(None),
                Err(RecvErr::Empty) => unreachable!("model: a ready receive arm found nothing"),
            },
            Arm::Send(c, v) => match self.send(c, v) {
                Ok(()) => ArmOut::Send(None),
                Err(SendErr::Closed(v)) => ArmOut::Send(Some(v)),
                Err(SendErr::Full(_)) => unreachable!("model: a ready send arm found no room"),
            },
            Arm::DSend(c) => {
                let v = match real {
                    Some(ArmOut::DSent { v, .. }) => *v,
                    _ => u32::MAX, // mismatch either way: the channel did not send
                };
                if self.ch[c].closed {
                    ArmOut::DSent { v, back: Some(v) }
                } else if self.ch[c].room() {
                    let r = self.send(c, v);
                    debug_assert_eq!(r, Ok(()));
                    ArmOut::DSent { v, back: None }
                } else {
                    ArmOut::DSkipped
                }
            }
        }
    }

    /// A select that does not wait, given the arm the channel chose: checks the choice and
    /// returns what it should have done and the ids it should have dropped.
    #[allow(clippy::type_complexity)]
    fn try_select(
        &mut self,
        arms: &[Arm],
        real: &Out,
    ) -> Result<(Option<(usize, ArmOut)>, Vec<u32>), String> {
        let ready: Vec<usize> = (0..arms.len()).filter(|&i| self.ready(arms[i])).collect();
        match real {
            Out::Sel(Some((i, a))) => {
                let i = *i;
                if !ready.contains(&i) {
                    return Err(format!(
                        "arm {i} ({:?}) chosen, but the ready arms are {ready:?}",
                        arms.get(i)
                    ));
                }
                let o = self.complete(arms[i], Some(a));
                Ok((Some((i, o)), send_ids(arms, Some(i))))
            }
            _ => {
                if !ready.is_empty() {
                    return Err(format!("no arm chosen, but arms {ready:?} are ready"));
                }
                Ok((None, send_ids(arms, None)))
            }
        }
    }

    /// Executes `mop`; `real` is what the channel reported (the model checks the chosen arm
    /// of a select against its own ready set and follows it).
    fn apply(&mut self, mop: &MOp, real: &Out) -> Result<Step, String> {
        self.woke = false;
        let mut dropped = Vec::new();
        let out = match mop {
            MOp::Skip => Out::Skip,
            MOp::TrySend(c, v) => Out::Send(self.send(*c, *v)),
            MOp::TryRecv(c) => Out::Recv(self.recv(*c)),
            MOp::Close(c) => Out::Close(self.close(*c)),
            MOp::TrySelect(arms) => {
                let (o, d) = self.try_select(arms, real)?;
                dropped = d;
                Out::Sel(o)
            }
            MOp::Start(arms) => {
                assert!(self.pending.is_none(), "model: two pending selects");
                let (o, d) = self.try_select(arms, real)?;
                if o.is_none() {
                    // It waits, holding its values.
                    self.pending = Some(PendM {
                        arms: arms.clone(),
                        st: PSt::Waiting,
                    });
                } else {
                    dropped = d;
                }
                Out::Sel(o)
            }
            MOp::Poll => {
                let p = self
                    .pending
                    .take()
                    .expect("model: poll without a pending select");
                match p.st {
                    PSt::Waiting => {
                        self.pending = Some(p);
                        Out::Sel(None)
                    }
                    PSt::Delivered(i) => {
                        dropped = send_ids(&p.arms, Some(i));
                        Out::Sel(Some((i, ArmOut::Send(None))))
                    }
                    PSt::Notified => {
                        // Its entries are withdrawn: it polls its arms again, on its own.
                        let (o, d) = self.try_select(&p.arms, real)?;
                        if o.is_none() {
                            self.pending = Some(PendM {
                                arms: p.arms,
                                st: PSt::Waiting,
                            });
                        } else {
                            dropped = d;
                        }
                        Out::Sel(o)
                    }
                }
            }
            MOp::Drop => {
                let p = self
                    .pending
                    .take()
                    .expect("model: drop without a pending select");
                let keep = match p.st {
                    PSt::Delivered(i) => Some(i),
                    _ => None,
                };
                dropped = send_ids(&p.arms, keep);
                Out::Unit
            }
        };
        dropped.sort_unstable();
        let status = std::array::from_fn(|c| (self.ch[c].buf.len(), self.ch[c].closed));
        Ok(Step {
            out,
            dropped,
            status,
            woken: self.woke,
        })
    }

    /// No lost wake-up: a select still waiting has no arm that could complete now (else it
    /// should have been claimed and woken). Its own send arm does not count for its receive
    /// arm on the same channel.
    fn check_no_lost_wakeup(&self) -> Result<(), String> {
        let Some(p) = self.waiting() else {
            return Ok(());
        };
        for (i, a) in p.arms.iter().enumerate() {
            let ready = match *a {
                Arm::Recv(c) => !self.ch[c].buf.is_empty() || self.ch[c].closed,
                Arm::Send(c, _) | Arm::DSend(c) => self.ch[c].closed || self.ch[c].room(),
            };
            if ready {
                return Err(format!(
                    "lost wake-up: the pending select's arm {i} ({a:?}) is ready but it was \
                     not woken: {self:?}"
                ));
            }
        }
        Ok(())
    }
}

// ------------------------------------------------------------------------------ real channels

/// A value with a unique id. If the channel (or a select) drops it, its id goes to `log`; the
/// test takes it out with `into_id`, which disarms it. (`Send`, as select arms require.)
pub(crate) struct Val {
    id: u32,
    log: Arc<Mutex<Vec<u32>>>,
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
            self.log.lock().unwrap().push(self.id);
        }
    }
}

fn mk_val(next: &mut u32, log: &Arc<Mutex<Vec<u32>>>) -> Val {
    let id = *next;
    *next += 1;
    Val {
        id,
        log: log.clone(),
        armed: true,
    }
}

/// What an arm body returns, before the harness takes the ids out.
enum Raw {
    Recv(Option<Val>),
    Send(Option<Val>),
    DSent(u32, Option<Val>),
    DSkipped,
}

impl Raw {
    fn send(r: Result<(), SendError<Val>>) -> Raw {
        Raw::Send(r.err().map(SendError::into_inner))
    }
}

type SelFut = Pin<Box<dyn Future<Output = (usize, Raw)>>>;

/// A waker that counts its wake-ups.
struct CountWaker(AtomicUsize);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs operations on three real channels and checks each against the model.
pub(crate) struct Runner {
    /// Owns clones of the handles it uses (dropped first anyway).
    pending: Option<SelFut>,
    txs: Vec<Sender<Val>>,
    rxs: Vec<Receiver<Val>>,
    model: Model,
    log: Arc<Mutex<Vec<u32>>>,
    wakes: Arc<CountWaker>,
    waker: Waker,
    next_val: u32,
    steps: usize,
    /// Ids the test got back: received, or handed back by an error.
    got: Vec<u32>,
    /// Ids dropped by a channel or a select.
    dropped: Vec<u32>,
}

impl Runner {
    pub(crate) fn new(caps: [Option<usize>; N]) -> Self {
        let (txs, rxs) = caps
            .iter()
            .map(|&cap| match cap {
                Some(c) => csp_chan::bounded(c),
                None => csp_chan::unbounded(),
            })
            .unzip();
        let wakes = Arc::new(CountWaker(AtomicUsize::new(0)));
        Runner {
            pending: None,
            txs,
            rxs,
            model: Model::new(caps),
            log: Arc::default(),
            waker: Waker::from(wakes.clone()),
            wakes,
            next_val: 0,
            steps: 0,
            got: Vec::new(),
            dropped: Vec::new(),
        }
    }

    fn new_val(&mut self) -> Val {
        mk_val(&mut self.next_val, &self.log)
    }

    /// The test takes a value back.
    fn give(&mut self, v: Val) -> u32 {
        let id = v.into_id();
        self.got.push(id);
        id
    }

    fn arm_out(&mut self, raw: Raw) -> ArmOut {
        match raw {
            Raw::Recv(v) => ArmOut::Recv(v.map(|v| self.give(v))),
            Raw::Send(v) => ArmOut::Send(v.map(|v| self.give(v))),
            Raw::DSent(v, back) => ArmOut::DSent {
                v,
                back: back.map(|b| self.give(b)),
            },
            Raw::DSkipped => ArmOut::DSkipped,
        }
    }

    fn sel_out(&mut self, r: Option<(usize, Raw)>) -> Out {
        Out::Sel(r.map(|(i, raw)| (i, self.arm_out(raw))))
    }

    /// Fresh values for the send positions of `shape`, and the model's arms.
    fn shape_arms(&mut self, shape: &[K], c: [usize; 3]) -> (Vec<Option<Val>>, Vec<Arm>) {
        let mut vals = Vec::new();
        let mut arms = Vec::new();
        for (i, k) in shape.iter().enumerate() {
            match k {
                K::R => {
                    vals.push(None);
                    arms.push(Arm::Recv(c[i]));
                }
                K::S => {
                    let v = self.new_val();
                    arms.push(Arm::Send(c[i], v.id));
                    vals.push(Some(v));
                }
            }
        }
        (vals, arms)
    }

    fn exec_builder(&mut self, mask: u8, rot: u8) -> (MOp, Out) {
        let arms = builder_arms(mask, rot);
        let (rxs, txs) = (&self.rxs, &self.txs);
        let mut sel = Select::new();
        for (i, a) in arms.iter().enumerate() {
            let j = match *a {
                Arm::Recv(c) => sel.recv(&rxs[c]),
                Arm::DSend(c) => sel.send(&txs[c]),
                Arm::Send(..) => unreachable!("the builder's send arms carry no value"),
            };
            assert_eq!(i, j, "Select arm indices are positions");
        }
        let r = match sel.try_select() {
            Err(_) => None,
            Ok(op) => {
                let i = op.index();
                let raw = match arms[i] {
                    Arm::Recv(c) => Raw::Recv(op.recv(&rxs[c]).ok()),
                    Arm::DSend(c) => {
                        let tx = &txs[c];
                        // Only when it cannot block this (the only) thread.
                        if tx.is_closed() || !tx.is_full() {
                            let v = mk_val(&mut self.next_val, &self.log);
                            let id = v.id;
                            Raw::DSent(id, op.send(tx, v).err().map(SendError::into_inner))
                        } else {
                            let _ = op; // not completed: nothing is sent
                            Raw::DSkipped
                        }
                    }
                    Arm::Send(..) => unreachable!(),
                };
                Some((i, raw))
            }
        };
        drop(sel);
        let out = self.sel_out(r);
        (MOp::TrySelect(arms), out)
    }

    fn exec_macro(&mut self, shape: u8, chans: u8) -> (MOp, Out) {
        let s = shape as usize % SYNC_SHAPES.len();
        let c = chans3(chans);
        let (mut v, arms) = self.shape_arms(SYNC_SHAPES[s], c);
        let (rx, tx) = (&self.rxs, &self.txs);
        let r: Option<(usize, Raw)> = match s {
            0 => select! {
                recv(rx[c[0]]) -> m => Some((0, Raw::Recv(m.ok()))),
                recv(rx[c[1]]) -> m => Some((1, Raw::Recv(m.ok()))),
                send(tx[c[2]], v[2].take().unwrap()) -> r => Some((2, Raw::send(r))),
                default => None,
            },
            1 => select! {
                send(tx[c[0]], v[0].take().unwrap()) -> r => Some((0, Raw::send(r))),
                send(tx[c[1]], v[1].take().unwrap()) -> r => Some((1, Raw::send(r))),
                recv(rx[c[2]]) -> m => Some((2, Raw::Recv(m.ok()))),
                default => None,
            },
            2 => select! {
                recv(rx[c[0]]) -> m => Some((0, Raw::Recv(m.ok()))),
                send(tx[c[1]], v[1].take().unwrap()) -> r => Some((1, Raw::send(r))),
                default => None,
            },
            3 => select! {
                send(tx[c[0]], v[0].take().unwrap()) -> r => Some((0, Raw::send(r))),
                send(tx[c[1]], v[1].take().unwrap()) -> r => Some((1, Raw::send(r))),
                send(tx[c[2]], v[2].take().unwrap()) -> r => Some((2, Raw::send(r))),
                default => None,
            },
            4 => select! {
                recv(rx[c[0]]) -> m => Some((0, Raw::Recv(m.ok()))),
                recv(rx[c[1]]) -> m => Some((1, Raw::Recv(m.ok()))),
                recv(rx[c[2]]) -> m => Some((2, Raw::Recv(m.ok()))),
                default => None,
            },
            5 => select! {
                recv(rx[c[0]]) -> m => Some((0, Raw::Recv(m.ok()))),
                default => None,
            },
            6 => select! {
                send(tx[c[0]], v[0].take().unwrap()) -> r => Some((0, Raw::send(r))),
                default => None,
            },
            _ => select! {
                default => None,
            },
        };
        assert!(v.iter().all(Option::is_none), "every value went to its arm");
        let out = self.sel_out(r);
        (MOp::TrySelect(arms), out)
    }

    fn exec_start(&mut self, shape: u8, chans: u8) -> (MOp, Out) {
        if self.pending.is_some() {
            return (MOp::Skip, Out::Skip);
        }
        let s = shape as usize % ASYNC_SHAPES.len();
        let c = chans3(chans);
        let (mut v, arms) = self.shape_arms(ASYNC_SHAPES[s], c);
        let (rx, tx) = (self.rxs.clone(), self.txs.clone());
        let fut: SelFut = match s {
            0 => {
                let v2 = v[2].take().unwrap();
                Box::pin(async move {
                    select_async! {
                        recv(rx[c[0]]) -> m => (0, Raw::Recv(m.ok())),
                        recv(rx[c[1]]) -> m => (1, Raw::Recv(m.ok())),
                        send(tx[c[2]], v2) -> r => (2, Raw::send(r)),
                    }
                })
            }
            1 => {
                let (v0, v1) = (v[0].take().unwrap(), v[1].take().unwrap());
                Box::pin(async move {
                    select_async! {
                        send(tx[c[0]], v0) -> r => (0, Raw::send(r)),
                        send(tx[c[1]], v1) -> r => (1, Raw::send(r)),
                        recv(rx[c[2]]) -> m => (2, Raw::Recv(m.ok())),
                    }
                })
            }
            2 => {
                let v1 = v[1].take().unwrap();
                Box::pin(async move {
                    select_async! {
                        recv(rx[c[0]]) -> m => (0, Raw::Recv(m.ok())),
                        send(tx[c[1]], v1) -> r => (1, Raw::send(r)),
                    }
                })
            }
            3 => Box::pin(async move {
                select_async! {
                    recv(rx[c[0]]) -> m => (0, Raw::Recv(m.ok())),
                    recv(rx[c[1]]) -> m => (1, Raw::Recv(m.ok())),
                }
            }),
            4 => {
                let (v0, v1) = (v[0].take().unwrap(), v[1].take().unwrap());
                Box::pin(async move {
                    select_async! {
                        send(tx[c[0]], v0) -> r => (0, Raw::send(r)),
                        send(tx[c[1]], v1) -> r => (1, Raw::send(r)),
                    }
                })
            }
            5 => Box::pin(async move {
                select_async! {
                    recv(rx[c[0]]) -> m => (0, Raw::Recv(m.ok())),
                }
            }),
            6 => {
                let v0 = v[0].take().unwrap();
                Box::pin(async move {
                    select_async! {
                        send(tx[c[0]], v0) -> r => (0, Raw::send(r)),
                    }
                })
            }
            _ => Box::pin(async move {
                select_async! {
                    recv(rx[c[0]]) -> m => (0, Raw::Recv(m.ok())),
                    recv(rx[c[1]]) -> m => (1, Raw::Recv(m.ok())),
                    recv(rx[c[2]]) -> m => (2, Raw::Recv(m.ok())),
                }
            }),
        };
        assert!(v.iter().all(Option::is_none), "every value went to its arm");
        self.pending = Some(fut);
        let out = self.poll_pending();
        (MOp::Start(arms), out)
    }

    fn poll_pending(&mut self) -> Out {
        let fut = self.pending.as_mut().expect("a pending select");
        let mut cx = Context::from_waker(&self.waker);
        match fut.as_mut().poll(&mut cx) {
            Poll::Pending => Out::Sel(None),
            Poll::Ready(r) => {
                self.pending = None;
                self.sel_out(Some(r))
            }
        }
    }

    /// Runs `op` on the real channels: the resolved operation and what it returned.
    fn exec(&mut self, op: Op) -> (MOp, Out) {
        match op {
            Op::TrySend(c) => {
                let c = c as usize % N;
                let v = self.new_val();
                let id = v.id;
                let out = Out::Send(self.txs[c].try_send(v).map_err(|e| match e {
                    TrySendError::Full(v) => SendErr::Full(self.give(v)),
                    TrySendError::Closed(v) => SendErr::Closed(self.give(v)),
                }));
                (MOp::TrySend(c, id), out)
            }
            Op::TryRecv(c) => {
                let c = c as usize % N;
                let out = Out::Recv(match self.rxs[c].try_recv() {
                    Ok(v) => Ok(self.give(v)),
                    Err(TryRecvError::Empty) => Err(RecvErr::Empty),
                    Err(TryRecvError::Closed) => Err(RecvErr::Closed),
                });
                (MOp::TryRecv(c), out)
            }
            Op::Close { ch, by_rx } => {
                let c = ch as usize % N;
                let closed = if by_rx {
                    self.rxs[c].close()
                } else {
                    self.txs[c].close()
                };
                (MOp::Close(c), Out::Close(closed))
            }
            Op::Builder { mask, rot } => self.exec_builder(mask, rot),
            Op::Macro { shape, chans } => self.exec_macro(shape, chans),
            Op::Start { shape, chans } => self.exec_start(shape, chans),
            Op::Poll => {
                if self.pending.is_none() {
                    return (MOp::Skip, Out::Skip);
                }
                (MOp::Poll, self.poll_pending())
            }
            Op::Drop => match self.pending.take() {
                None => (MOp::Skip, Out::Skip),
                Some(f) => {
                    drop(f);
                    (MOp::Drop, Out::Unit)
                }
            },
        }
    }

    /// Runs one operation on the channels and on the model; fails on a mismatch.
    pub(crate) fn step(&mut self, op: Op) {
        let wakes = self.wakes.0.load(Ordering::Relaxed);
        let (mop, out) = self.exec(op);
        let woken = self.wakes.0.load(Ordering::Relaxed) != wakes;
        let mut dropped = std::mem::take(&mut *self.log.lock().unwrap());
        dropped.sort_unstable();
        self.dropped.extend_from_slice(&dropped);
        let status = std::array::from_fn(|c| (self.rxs[c].len(), self.rxs[c].is_closed()));
        let real = Step {
            out,
            dropped,
            status,
            woken,
        };
        let before = self.model.clone();
        match self.model.apply(&mop, &real.out) {
            Err(e) => panic!(
                "step {}: {op:?} = {mop:?}: {e}\n  channels: {real:?}\n  model before: {before:?}",
                self.steps
            ),
            Ok(expected) => assert!(
                expected == real,
                "step {}: {op:?} = {mop:?}\n  channels: {real:?}\n  model:    {expected:?}\n  \
                 model before: {before:?}",
                self.steps
            ),
        }
        if let Err(e) = self.model.check_no_lost_wakeup() {
            panic!("step {}: after {op:?} = {mop:?}: {e}", self.steps);
        }
        self.steps += 1;
    }

    /// Drops the pending select, drains channels 0 and 1 (each a checked step), drops every
    /// handle (channel 2 drops what it holds), then checks that every value ended exactly once.
    pub(crate) fn finish(&mut self) {
        self.step(Op::Drop);
        for c in 0..2 {
            while !self.model.ch[c].buf.is_empty() {
                self.step(Op::TryRecv(c as u8));
            }
            self.step(Op::TryRecv(c as u8)); // Empty, or Closed
        }
        let mut left: Vec<u32> = self.model.ch[2].buf.iter().copied().collect();
        left.sort_unstable();
        assert!(self.log.lock().unwrap().is_empty());
        self.txs.clear();
        self.rxs.clear();
        let mut dropped = std::mem::take(&mut *self.log.lock().unwrap());
        dropped.sort_unstable();
        assert_eq!(dropped, left, "the last receiver drops what is buffered");
        self.dropped.extend_from_slice(&dropped);
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

/// Runs `ops` on fresh channels of capacities `caps` and checks everything against the model.
pub(crate) fn run(caps: [Option<usize>; N], ops: &[Op]) {
    let mut r = Runner::new(caps);
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

    fn caps() -> impl Strategy<Value = [Option<usize>; N]> {
        any::<u8>().prop_map(caps_from_byte)
    }

    fn ops(close: bool, async_mix: bool) -> impl Strategy<Value = Vec<Op>> {
        prop::collection::vec(
            (any::<u8>(), any::<u8>()).prop_map(move |(k, a)| {
                let op = Op::decode(k, a, async_mix);
                if close { op } else { op.without_close() }
            }),
            0..120,
        )
    }

    /// 256 cases per property, or `PROPTEST_CASES`.
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

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn select_programs_match_model(caps in caps(), ops in ops(true, false)) {
            run(caps, &ops);
        }

        #[test]
        fn select_programs_without_close_match_model(caps in caps(), ops in ops(false, false)) {
            run(caps, &ops);
        }

        #[test]
        fn async_select_programs_match_model(caps in caps(), ops in ops(true, true)) {
            run(caps, &ops);
        }
    }

    const R0: Option<usize> = Some(0);
    const R1: Option<usize> = Some(1);

    fn start(shape: u8, c: [u8; 3]) -> Op {
        Op::Start {
            shape,
            chans: c[0] + 3 * c[1] + 9 * c[2],
        }
    }

    fn mac(shape: u8, c: [u8; 3]) -> Op {
        Op::Macro {
            shape,
            chans: c[0] + 3 * c[1] + 9 * c[2],
        }
    }

    /// The model's async rules, spelled out.
    #[test]
    fn pending_recv_is_notified_and_takes_the_value_on_its_next_poll() {
        use Op::*;
        for cap in [R1, None] {
            run(
                [cap, cap, cap],
                &[
                    start(3, [0, 1, 0]), // recv ch0, recv ch1: waits
                    Poll,                // still waiting
                    TrySend(1),          // notifies it
                    Poll,                // takes the value
                    start(5, [2, 0, 0]),
                    TrySend(2),
                    TryRecv(2), // the value is taken before the select runs
                    Poll,       // waits again
                    TrySend(2),
                    Drop, // notified, dropped: the value stays
                    TryRecv(2),
                ],
            );
        }
    }

    #[test]
    fn pending_send_arm_is_taken_by_a_receive() {
        use Op::*;
        // Unbuffered: taken straight; cap 1 (filled first): moved into the buffer.
        for (cap, pre) in [(R0, &[][..]), (R1, &[TrySend(1)][..])] {
            let mut ops = pre.to_vec();
            ops.extend([
                start(2, [0, 1, 0]), // recv ch0, send ch1: waits
                TryRecv(1),
                TrySend(0), // the select is already claimed: no notification
                Poll,       // completes with the send arm
                TryRecv(1),
                TryRecv(0),
            ]);
            run([cap, cap, cap], &ops);
        }
    }

    #[test]
    fn close_wakes_a_pending_select() {
        use Op::*;
        run(
            [R0, R0, R0],
            &[
                start(1, [0, 1, 2]), // send ch0, send ch1, recv ch2: waits
                Close { ch: 1, by_rx: true },
                Poll, // send arm 1 fails with its value
                start(0, [0, 0, 2]),
                Close {
                    ch: 2,
                    by_rx: false,
                },
                Poll, // send arm on ch2 fails with its value
            ],
        );
    }

    #[test]
    fn select_macro_meets_pending_select() {
        use Op::*;
        run(
            [R0, R1, None],
            &[
                start(2, [1, 0, 0]), // recv ch1, send ch0 (unbuffered): waits
                mac(0, [0, 2, 1]),   // recv ch0 (takes the pending send), recv ch2, send ch1
                Poll,
                start(7, [1, 1, 1]), // three receives on ch1
                mac(6, [1, 0, 0]),   // send ch1: room, notifies
                Poll,
            ],
        );
    }

    /// A value-free `Select::send` arm on an unbuffered channel whose only receiver is a
    /// pending async select is not ready, exactly like `try_send` and `select!`'s send arm
    /// (the async receiver is only notified: an `op.send` there would wait for its task).
    #[test]
    fn builder_send_arm_ready_for_async_receiver() {
        use Op::*;
        let send0 = Builder {
            mask: 0b00_1000,
            rot: 0,
        };
        let recv0_send0 = Builder {
            mask: 0b00_1001,
            rot: 0,
        };
        run(
            [R0, R0, R0],
            &[
                start(5, [0, 0, 0]), // recv ch0: waits
                TrySend(0),          // Full
                mac(6, [0, 0, 0]),   // select! send ch0: default runs
                send0,               // Select::send(&tx0): not ready either
                Poll,                // still waiting: nothing was sent
                recv0_send0,         // recv ch0 not ready, send ch0 not ready
                Drop,
                send0, // no receiver now: not ready
            ],
        );
    }
}
