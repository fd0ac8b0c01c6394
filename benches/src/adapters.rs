//! One adapter per channel implementation. Each forwards to the implementation's own blocking
//! or async calls and nothing else.

use crate::{AsyncChan, SelectChan, SyncChan};

/// csp-chan.
pub struct Csp;
/// crossbeam-channel.
pub struct Crossbeam;
/// flume.
pub struct Flume;
/// kanal.
pub struct Kanal;
/// `std::sync::mpsc` (`sync_channel` for bounded, `channel` for unbounded).
pub struct Std;
/// async-channel.
pub struct AsyncChannel;
/// `tokio::sync::mpsc`.
pub struct Tokio;

impl SyncChan for Csp {
    type S = csp_chan::Sender<u64>;
    type R = csp_chan::Receiver<u64>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        match cap {
            Some(c) => csp_chan::bounded(c),
            None => csp_chan::unbounded(),
        }
    }
    fn clone_r(r: &Self::R) -> Option<Self::R> {
        Some(r.clone())
    }
    fn supports(_: Option<usize>) -> bool {
        true
    }
    fn send(s: &Self::S, v: u64) {
        s.send(v).unwrap()
    }
    fn recv(r: &mut Self::R) -> u64 {
        r.recv().unwrap()
    }
}

impl AsyncChan for Csp {
    type S = csp_chan::Sender<u64>;
    type R = csp_chan::Receiver<u64>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        <Csp as SyncChan>::make(cap)
    }
    fn clone_r(r: &Self::R) -> Option<Self::R> {
        Some(r.clone())
    }
    fn supports(_: Option<usize>) -> bool {
        true
    }
    async fn send(s: &Self::S, v: u64) {
        s.send_async(v).await.unwrap()
    }
    async fn recv(r: &mut Self::R) -> u64 {
        r.recv_async().await.unwrap()
    }
}

impl SyncChan for Crossbeam {
    type S = crossbeam_channel::Sender<u64>;
    type R = crossbeam_channel::Receiver<u64>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        match cap {
            Some(c) => crossbeam_channel::bounded(c),
            None => crossbeam_channel::unbounded(),
        }
    }
    fn clone_r(r: &Self::R) -> Option<Self::R> {
        Some(r.clone())
    }
    fn supports(_: Option<usize>) -> bool {
        true
    }
    fn send(s: &Self::S, v: u64) {
        s.send(v).unwrap()
    }
    fn recv(r: &mut Self::R) -> u64 {
        r.recv().unwrap()
    }
}

impl SyncChan for Flume {
    type S = flume::Sender<u64>;
    type R = flume::Receiver<u64>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        match cap {
            Some(c) => flume::bounded(c),
            None => flume::unbounded(),
        }
    }
    fn clone_r(r: &Self::R) -> Option<Self::R> {
        Some(r.clone())
    }
    fn supports(_: Option<usize>) -> bool {
        true
    }
    fn send(s: &Self::S, v: u64) {
        s.send(v).unwrap()
    }
    fn recv(r: &mut Self::R) -> u64 {
        r.recv().unwrap()
    }
}

impl AsyncChan for Flume {
    type S = flume::Sender<u64>;
    type R = flume::Receiver<u64>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        <Flume as SyncChan>::make(cap)
    }
    fn clone_r(r: &Self::R) -> Option<Self::R> {
        Some(r.clone())
    }
    fn supports(_: Option<usize>) -> bool {
        true
    }
    async fn send(s: &Self::S, v: u64) {
        s.send_async(v).await.unwrap()
    }
    async fn recv(r: &mut Self::R) -> u64 {
        r.recv_async().await.unwrap()
    }
}

impl SyncChan for Kanal {
    type S = kanal::Sender<u64>;
    type R = kanal::Receiver<u64>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        match cap {
            Some(c) => kanal::bounded(c),
            None => kanal::unbounded(),
        }
    }
    fn clone_r(r: &Self::R) -> Option<Self::R> {
        Some(r.clone())
    }
    fn supports(_: Option<usize>) -> bool {
        true
    }
    fn send(s: &Self::S, v: u64) {
        s.send(v).unwrap()
    }
    fn recv(r: &mut Self::R) -> u64 {
        r.recv().unwrap()
    }
}

impl AsyncChan for Kanal {
    type S = kanal::AsyncSender<u64>;
    type R = kanal::AsyncReceiver<u64>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        match cap {
            Some(c) => kanal::bounded_async(c),
            None => kanal::unbounded_async(),
        }
    }
    fn clone_r(r: &Self::R) -> Option<Self::R> {
        Some(r.clone())
    }
    fn supports(_: Option<usize>) -> bool {
        true
    }
    async fn send(s: &Self::S, v: u64) {
        s.send(v).await.unwrap()
    }
    async fn recv(r: &mut Self::R) -> u64 {
        r.recv().await.unwrap()
    }
}

/// `std::sync::mpsc`'s two sender types behind one.
#[derive(Clone)]
pub enum StdSender {
    /// From `sync_channel`.
    Sync(std::sync::mpsc::SyncSender<u64>),
    /// From `channel`.
    Unbounded(std::sync::mpsc::Sender<u64>),
}

impl SyncChan for Std {
    type S = StdSender;
    type R = std::sync::mpsc::Receiver<u64>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        match cap {
            Some(c) => {
                let (s, r) = std::sync::mpsc::sync_channel(c);
                (StdSender::Sync(s), r)
            }
            None => {
                let (s, r) = std::sync::mpsc::channel();
                (StdSender::Unbounded(s), r)
            }
        }
    }
    fn clone_r(_: &Self::R) -> Option<Self::R> {
        None
    }
    fn supports(_: Option<usize>) -> bool {
        true
    }
    fn send(s: &Self::S, v: u64) {
        match s {
            StdSender::Sync(s) => s.send(v).unwrap(),
            StdSender::Unbounded(s) => s.send(v).unwrap(),
        }
    }
    fn recv(r: &mut Self::R) -> u64 {
        r.recv().unwrap()
    }
}

impl AsyncChan for AsyncChannel {
    type S = async_channel::Sender<u64>;
    type R = async_channel::Receiver<u64>;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        match cap {
            Some(c) => async_channel::bounded(c),
            None => async_channel::unbounded(),
        }
    }
    fn clone_r(r: &Self::R) -> Option<Self::R> {
        Some(r.clone())
    }
    fn supports(cap: Option<usize>) -> bool {
        cap != Some(0)
    }
    async fn send(s: &Self::S, v: u64) {
        s.send(v).await.unwrap()
    }
    async fn recv(r: &mut Self::R) -> u64 {
        r.recv().await.unwrap()
    }
}

/// `tokio::sync::mpsc`'s two sender types behind one.
#[derive(Clone)]
pub enum TokioSender {
    /// From `channel`.
    Bounded(tokio::sync::mpsc::Sender<u64>),
    /// From `unbounded_channel`.
    Unbounded(tokio::sync::mpsc::UnboundedSender<u64>),
}

/// `tokio::sync::mpsc`'s two receiver types behind one.
pub enum TokioReceiver {
    /// From `channel`.
    Bounded(tokio::sync::mpsc::Receiver<u64>),
    /// From `unbounded_channel`.
    Unbounded(tokio::sync::mpsc::UnboundedReceiver<u64>),
}

impl AsyncChan for Tokio {
    type S = TokioSender;
    type R = TokioReceiver;
    fn make(cap: Option<usize>) -> (Self::S, Self::R) {
        match cap {
            Some(c) => {
                let (s, r) = tokio::sync::mpsc::channel(c);
                (TokioSender::Bounded(s), TokioReceiver::Bounded(r))
            }
            None => {
                let (s, r) = tokio::sync::mpsc::unbounded_channel();
                (TokioSender::Unbounded(s), TokioReceiver::Unbounded(r))
            }
        }
    }
    fn clone_r(_: &Self::R) -> Option<Self::R> {
        None
    }
    fn supports(cap: Option<usize>) -> bool {
        cap != Some(0)
    }
    async fn send(s: &Self::S, v: u64) {
        match s {
            TokioSender::Bounded(s) => s.send(v).await.unwrap(),
            TokioSender::Unbounded(s) => s.send(v).unwrap(),
        }
    }
    async fn recv(r: &mut Self::R) -> u64 {
        match r {
            TokioReceiver::Bounded(r) => r.recv().await.unwrap(),
            TokioReceiver::Unbounded(r) => r.recv().await.unwrap(),
        }
    }
}

impl SelectChan for Csp {
    fn select_recv4(rs: &[Self::R; 4]) -> u64 {
        csp_chan::select! {
            recv(rs[0]) -> m => m.unwrap(),
            recv(rs[1]) -> m => m.unwrap(),
            recv(rs[2]) -> m => m.unwrap(),
            recv(rs[3]) -> m => m.unwrap(),
        }
    }
    fn select_send4(ss: &[Self::S; 4], v: u64) {
        csp_chan::select! {
            send(ss[0], v) -> r => r.unwrap(),
            send(ss[1], v) -> r => r.unwrap(),
            send(ss[2], v) -> r => r.unwrap(),
            send(ss[3], v) -> r => r.unwrap(),
        }
    }
}

impl SelectChan for Crossbeam {
    fn select_recv4(rs: &[Self::R; 4]) -> u64 {
        crossbeam_channel::select! {
            recv(rs[0]) -> m => m.unwrap(),
            recv(rs[1]) -> m => m.unwrap(),
            recv(rs[2]) -> m => m.unwrap(),
            recv(rs[3]) -> m => m.unwrap(),
        }
    }
    fn select_send4(ss: &[Self::S; 4], v: u64) {
        crossbeam_channel::select! {
            send(ss[0], v) -> r => r.unwrap(),
            send(ss[1], v) -> r => r.unwrap(),
            send(ss[2], v) -> r => r.unwrap(),
            send(ss[3], v) -> r => r.unwrap(),
        }
    }
}

/// flume's `Selector` on the receiving side only: with selecting senders it is known to lose
/// wake-ups (and to deliver twice on bounded(0) send arms), so `compare` runs flume in
/// `select_rx` only.
impl SelectChan for Flume {
    fn select_recv4(rs: &[Self::R; 4]) -> u64 {
        flume::Selector::new()
            .recv(&rs[0], |m| m.unwrap())
            .recv(&rs[1], |m| m.unwrap())
            .recv(&rs[2], |m| m.unwrap())
            .recv(&rs[3], |m| m.unwrap())
            .wait()
    }
    fn select_send4(_: &[Self::S; 4], _: u64) {
        unreachable!("compare does not run flume's selecting senders")
    }
}
