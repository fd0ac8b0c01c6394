//! Futex-style parking: sleep on a 32-bit atomic until it changes, a wake arrives, or a
//! deadline passes.
//!
//! # How a timed wait is done, and why
//!
//! - **Linux**: the `futex(2)` system call, `FUTEX_WAIT | FUTEX_PRIVATE_FLAG` with a relative
//!   timeout recomputed from the deadline on every call, and `FUTEX_WAKE`. This is what
//!   `atomic-wait` does for untimed waits and what `std`'s own parker does for
//!   `park_timeout`; calling it directly gives us the timeout that `atomic-wait` lacks, with no
//!   extra hash-table lookup (as `parking_lot_core` needs) and no per-thread handle to find
//!   (as `std::thread::park_timeout` needs: the waker would have to know *which* thread). A
//!   measured round trip (see `docs/architecture.md`) puts futex and `park`/`unpark` within noise
//!   of each other; the futex wins on simplicity because the waker needs only the address.
//! - **Other platforms**: a global parking table (address → parked threads) behind a lock;
//!   the value is compared under that lock, so no wake can be lost, and each thread sleeps in
//!   `std::thread::park_timeout`.
//! - **loom**: the same table with loom's `park`/`unpark`, so that a lost wake-up shows up as
//!   a deadlock in the model. A timed wait under loom times out at once (when the value still
//!   equals `expected`), which makes the model explore "the deadline passed while the wake was
//!   on its way".
//!
//! Spurious returns are allowed: callers re-check their condition in a loop.
//!
//! ```
//! use csp_park::futex;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::sync::Arc;
//! use std::time::{Duration, Instant};
//!
//! let word = Arc::new(AtomicU32::new(0));
//! let w = word.clone();
//! let t = std::thread::spawn(move || {
//!     w.store(1, Ordering::Release);
//!     futex::wake_all(&w);
//! });
//! while word.load(Ordering::Acquire) == 0 {
//!     futex::wait(&word, 0, None);
//! }
//! t.join().unwrap();
//!
//! // A timed wait returns false once the deadline has passed.
//! let deadline = Instant::now() + Duration::from_millis(5);
//! while futex::wait(&word, 1, Some(deadline)) {}
//! assert!(Instant::now() >= deadline);
//! ```

use crate::sync::atomic::AtomicU32;
use std::time::Instant;

/// Blocks the thread while `atomic` holds `expected`, at most until `deadline`.
///
/// Returns `false` if the deadline had passed (nothing was waited for), `true` otherwise: the
/// value differed, a wake arrived, or the return was spurious. Callers loop on their condition.
#[inline]
pub fn wait(atomic: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
    imp::wait(atomic, expected, deadline)
}

/// Wakes one thread blocked in [`wait`] on `atomic`.
#[inline]
pub fn wake_one(atomic: &AtomicU32) {
    imp::wake(atomic, false)
}

/// Wakes every thread blocked in [`wait`] on `atomic`.
#[inline]
pub fn wake_all(atomic: &AtomicU32) {
    imp::wake(atomic, true)
}

#[cfg(all(target_os = "linux", not(loom)))]
mod imp {
    use super::AtomicU32;
    use std::time::Instant;

    pub(super) fn wait(atomic: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
        let ts;
        let ts_ptr = match deadline {
            None => std::ptr::null(),
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                ts = libc::timespec {
                    tv_sec: left.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                    tv_nsec: left.subsec_nanos() as libc::c_long,
                };
                &ts as *const libc::timespec
            }
        };
        // SAFETY: `atomic` is a live, aligned 32-bit word for the duration of the call; the
        // kernel only reads it (compare with `expected`) and uses its address as a key.
        // `ts_ptr` is null or points to `ts`, which outlives the call.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                atomic as *const AtomicU32,
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                expected,
                ts_ptr,
            )
        };
        if r < 0 {
            let errno = std::io::Error::last_os_error().raw_os_error();
            debug_assert!(
                matches!(
                    errno,
                    Some(libc::EAGAIN) | Some(libc::EINTR) | Some(libc::ETIMEDOUT)
                ),
                "unexpected futex wait error {errno:?}"
            );
            if errno == Some(libc::ETIMEDOUT) {
                return false;
            }
        }
        true
    }

    pub(super) fn wake(atomic: &AtomicU32, all: bool) {
        let n: libc::c_int = if all { libc::c_int::MAX } else { 1 };
        // SAFETY: FUTEX_WAKE only uses the address of `atomic` as a key; it is live and aligned.
        let r = unsafe {
            libc::syscall(
                libc::SYS_futex,
                atomic as *const AtomicU32,
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                n,
            )
        };
        debug_assert!(r >= 0, "futex wake failed");
    }
}

/// The parking table: portable fallback, and the loom model.
#[cfg(any(not(target_os = "linux"), loom))]
mod imp {
    use super::AtomicU32;
    use crate::sync::atomic::Ordering;
    use crate::sync::thread::{self, Thread};
    use crate::sync::{Arc, Mutex};
    use std::time::Instant;

    struct Parked {
        addr: usize,
        thread: Thread,
        woken: Arc<crate::sync::atomic::AtomicBool>,
    }

    #[cfg(not(loom))]
    fn table() -> &'static Mutex<Vec<Parked>> {
        static TABLE: std::sync::OnceLock<Mutex<Vec<Parked>>> = std::sync::OnceLock::new();
        TABLE.get_or_init(|| Mutex::new(Vec::new()))
    }

    #[cfg(loom)]
    fn table() -> &'static Mutex<Vec<Parked>> {
        loom::lazy_static! {
            static ref TABLE: Mutex<Vec<Parked>> = Mutex::new(Vec::new());
        }
        &TABLE
    }

    pub(super) fn wait(atomic: &AtomicU32, expected: u32, deadline: Option<Instant>) -> bool {
        let addr = atomic as *const AtomicU32 as usize;
        let woken = Arc::new(crate::sync::atomic::AtomicBool::new(false));
        {
            let mut t = table().lock();
            if atomic.load(Ordering::SeqCst) != expected {
                return true;
            }
            if cfg!(loom) && deadline.is_some() {
                // The model's clock: a timed wait expires as soon as it would sleep.
                return false;
            }
            if let Some(d) = deadline {
                if Instant::now() >= d {
                    return false;
                }
            }
            t.push(Parked {
                addr,
                thread: thread::current(),
                woken: woken.clone(),
            });
        }
        // Under loom, park *before* looking at `woken`. `wake` unparks after releasing the
        // table lock, so a thread that saw `woken` and returned at once could get that unpark
        // later, while blocked in a loom `join` or `Mutex::lock`; loom does not model that
        // (it aborts with "assertion failed: state.notified", tokio-rs/loom#249). Parking
        // first consumes the single unpark that goes with each removal from the table (loom
        // keeps an unpark that arrives before `park` as a token, and has no spurious ones).
        #[cfg(loom)]
        loop {
            thread::park();
            if woken.load(Ordering::Acquire) {
                return true;
            }
        }
        #[cfg(not(loom))]
        loop {
            if woken.load(Ordering::Acquire) {
                return true;
            }
            match deadline {
                None => thread::park(),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        let mut t = table().lock();
                        if woken.load(Ordering::Acquire) {
                            return true;
                        }
                        t.retain(|p| !Arc::ptr_eq(&p.woken, &woken));
                        return false;
                    }
                    std::thread::park_timeout(d - now);
                }
            }
        }
    }

    pub(super) fn wake(atomic: &AtomicU32, all: bool) {
        let addr = atomic as *const AtomicU32 as usize;
        let mut woken = Vec::new();
        {
            let mut t = table().lock();
            let mut i = 0;
            while i < t.len() {
                if t[i].addr == addr {
                    let p = t.remove(i);
                    p.woken.store(true, Ordering::Release);
                    woken.push(p.thread);
                    if !all {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        }
        for th in woken {
            th.unpark();
        }
    }
}
