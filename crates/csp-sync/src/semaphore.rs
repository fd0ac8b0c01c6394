//! `Semaphore`: a weighted FIFO semaphore (like `golang.org/x/sync/semaphore`).

use crate::sema::{AcquireWait, MAX_PERMITS, Sema};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A weighted semaphore: `acquire(k)` takes `k` of its permits, the returned
/// [`SemaphorePermit`] gives them back when dropped.
///
/// Waiting is FIFO: once a request waits, later requests (even small ones that would fit)
/// wait behind it, so a large request is never starved by a stream of small ones. The
/// trade-off: a small request may wait although permits are free, while a large one ahead of
/// it waits for more.
///
/// ```
/// use csp_sync::Semaphore;
///
/// let sem = Semaphore::new(3);
/// let a = sem.acquire(2).unwrap();
/// assert_eq!(sem.available(), 1);
/// assert!(sem.try_acquire(2).is_none());
/// drop(a);
/// assert!(sem.try_acquire(3).is_some());
/// ```
pub struct Semaphore {
    sema: Sema,
    size: usize,
}

/// A request for more permits than the semaphore has: it could never succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcquireError {
    /// Permits requested.
    pub requested: usize,
    /// The semaphore's size.
    pub size: usize,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "requested {} permits from a semaphore of {}",
            self.requested, self.size
        )
    }
}

impl std::error::Error for AcquireError {}

impl Semaphore {
    /// A semaphore with `n` permits.
    ///
    /// # Panics
    ///
    /// Panics if `n` is larger than `usize::MAX / 4`.
    ///
    /// ```
    /// static LIMIT: csp_sync::Semaphore = csp_sync::Semaphore::new(8);
    /// assert_eq!(LIMIT.available(), 8);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(n: usize) -> Semaphore {
        Semaphore {
            sema: Sema::new(n),
            size: n,
        }
    }

    /// A semaphore with `n` permits.
    ///
    /// # Panics
    ///
    /// Panics if `n` is larger than `usize::MAX / 4`.
    #[cfg(loom)]
    pub fn new(n: usize) -> Semaphore {
        Semaphore {
            sema: Sema::new(n),
            size: n,
        }
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        self.sema.available()
    }

    /// The number of permits the semaphore was created with.
    pub fn size(&self) -> usize {
        self.size
    }

    fn check(&self, k: usize) -> Result<(), AcquireError> {
        if k > self.size {
            Err(AcquireError {
                requested: k,
                size: self.size,
            })
        } else {
            Ok(())
        }
    }

    fn permit(&self, k: usize) -> SemaphorePermit<'_> {
        SemaphorePermit { sem: self, k }
    }

    /// Takes `k` permits, blocking the thread until they are available.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] at once if `k` is larger than the semaphore's size.
    ///
    /// ```
    /// let sem = csp_sync::Semaphore::new(1);
    /// let p = sem.acquire(1).unwrap();
    /// assert!(sem.acquire(2).is_err());
    /// drop(p);
    /// ```
    pub fn acquire(&self, k: usize) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.check(k)?;
        self.sema.acquire_until(k, None);
        Ok(self.permit(k))
    }

    /// Takes `k` permits if they are available now and nobody is waiting ahead.
    ///
    /// ```
    /// let sem = csp_sync::Semaphore::new(2);
    /// let p = sem.try_acquire(2).unwrap();
    /// assert!(sem.try_acquire(1).is_none());
    /// drop(p);
    /// ```
    pub fn try_acquire(&self, k: usize) -> Option<SemaphorePermit<'_>> {
        (k <= self.size && self.sema.try_acquire(k)).then(|| self.permit(k))
    }

    /// Takes `k` permits, waiting at most `timeout`. `None` if the time ran out (or `k` is
    /// larger than the semaphore).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let sem = csp_sync::Semaphore::new(1);
    /// let _p = sem.acquire(1).unwrap();
    /// assert!(sem.acquire_timeout(1, Duration::from_millis(5)).is_none());
    /// ```
    pub fn acquire_timeout(&self, k: usize, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        if k > self.size {
            return None;
        }
        self.sema
            .acquire_until(k, Instant::now().checked_add(timeout))
            .then(|| self.permit(k))
    }

    /// Takes `k` permits from async code, under any executor.
    ///
    /// # Errors
    ///
    /// The future yields [`AcquireError`] at once if `k` is larger than the semaphore.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the queue; permits granted to it in the meantime are given
    /// back (and passed to the next waiter).
    ///
    /// ```
    /// let sem = csp_sync::Semaphore::new(2);
    /// futures::executor::block_on(async {
    ///     let p = sem.acquire_async(2).await.unwrap();
    ///     assert_eq!(p.permits(), 2);
    /// });
    /// ```
    pub fn acquire_async(&self, k: usize) -> AcquireFut<'_> {
        AcquireFut {
            sem: self,
            wait: AcquireWait::new(k),
        }
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("size", &self.size)
            .field("available", &self.available())
            .field("waiters", &self.sema.has_waiters())
            .finish()
    }
}

// The size bound is checked in `Sema::new`.
const _: () = assert!(MAX_PERMITS > 0);

/// Permits taken from a [`Semaphore`]; dropping it gives them back.
#[must_use = "dropping the permit releases it at once"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    k: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    pub fn permits(&self) -> usize {
        self.k
    }

    /// Keeps the permits taken for good (the semaphore shrinks by that much).
    pub fn forget(mut self) {
        self.k = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        if self.k > 0 {
            self.sem.sema.release(self.k);
        }
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.k)
            .finish()
    }
}

/// The future of [`Semaphore::acquire_async`].
///
/// # Cancel safety
///
/// Dropping it leaves the queue; permits granted in the meantime go back.
#[must_use = "futures do nothing unless polled"]
pub struct AcquireFut<'a> {
    sem: &'a Semaphore,
    wait: AcquireWait,
}

impl<'a> Future for AcquireFut<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let k = this.wait.k;
        if let Err(e) = this.sem.check(k) {
            return Poll::Ready(Err(e));
        }
        // Once ready, the permits belong to the permit: `cancel` on drop does nothing then.
        this.wait
            .poll(&this.sem.sema, cx)
            .map(|()| Ok(this.sem.permit(k)))
    }
}

impl Drop for AcquireFut<'_> {
    fn drop(&mut self) {
        self.wait.cancel(&self.sem.sema);
    }
}

impl fmt::Debug for AcquireFut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireFut")
            .field("permits", &self.wait.k)
            .finish()
    }
}
