//! [`SpinWait`]: the bounded spin-then-yield a contended acquire tries before it queues.
//!
//! A lock held for a few nanoseconds is far cheaper to wait for by spinning than by a futex
//! sleep and wake (a few microseconds each way). But on a machine with more runnable threads
//! than cores the holder may be descheduled, and spinning then only burns the time slice it
//! needs; so after a few exponentially growing spin rounds the waiter yields its core instead,
//! and after a few yields it gives up and queues. Under loom a spin is pointless (every step is
//! already a scheduling point) and would multiply the states explored, so [`SpinWait::spin`]
//! gives up at once.

/// Spin rounds by default (round k: 2^(k+1) pause instructions: 2, 4, 8, 16; 30 in all).
const SPIN_ROUNDS: u32 = 4;
/// Yields after the spin rounds, by default. Measured with `compare` on 2 cores: the
/// read-heavy `RwLock` row needs them (without: 280 ns per operation instead of 45), because
/// with 4 threads on 2 cores the thread a waiter waits for is often descheduled.
const DEFAULT_YIELDS: u32 = 6;

/// Bounded exponential back-off: spin, then yield, then report that it is time to sleep.
///
/// ```
/// use csp_park::spin::SpinWait;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// let ready = AtomicBool::new(false);
/// let mut spin = SpinWait::new();
/// while !ready.load(Ordering::Acquire) {
///     if !spin.spin() {
///         // Budget spent: a real caller would queue and park here.
///         ready.store(true, Ordering::Release);
///     }
/// }
/// ```
#[derive(Debug)]
pub struct SpinWait {
    #[cfg_attr(loom, allow(dead_code))]
    round: u32,
    #[cfg_attr(loom, allow(dead_code))]
    spin_rounds: u32,
    #[cfg_attr(loom, allow(dead_code))] // under loom it never spins
    yields: u32,
}

impl Default for SpinWait {
    fn default() -> Self {
        SpinWait::new()
    }
}

impl SpinWait {
    /// A fresh budget: the spin rounds, then a few yields.
    pub const fn new() -> Self {
        SpinWait::with_budget(SPIN_ROUNDS, DEFAULT_YIELDS)
    }

    /// A fresh budget of `spin_rounds` spin rounds (round k: 2^(k+1) pause instructions), then
    /// `yields` yields.
    ///
    /// Fewer spin rounds suit a lock whose waiters should get off the lock's cache line: a
    /// waiter that yields (rather than re-reading the lock word every few pauses) lets the
    /// holder run on alone and gives the core to a descheduled holder. See `csp_sync::Mutex`
    /// for a measured example.
    ///
    /// ```
    /// use csp_park::spin::SpinWait;
    ///
    /// let mut spin = SpinWait::with_budget(0, 2);
    /// let mut waited = 0;
    /// while spin.spin() {
    ///     waited += 1;
    /// }
    /// assert_eq!(waited, 2);
    /// ```
    pub const fn with_budget(spin_rounds: u32, yields: u32) -> Self {
        SpinWait {
            round: 0,
            spin_rounds,
            yields,
        }
    }

    /// Waits a little (spins, or yields the core once the spin rounds are spent) and returns
    /// `true`, or returns `false` without waiting once the budget is spent.
    #[inline]
    pub fn spin(&mut self) -> bool {
        #[cfg(loom)]
        {
            false
        }
        #[cfg(not(loom))]
        {
            if self.round >= self.spin_rounds + self.yields {
                return false;
            }
            if self.round < self.spin_rounds {
                for _ in 0..2u32 << self.round {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
            self.round += 1;
            true
        }
    }

    /// Starts the budget over (after progress was made).
    pub fn reset(&mut self) {
        self.round = 0;
    }
}
