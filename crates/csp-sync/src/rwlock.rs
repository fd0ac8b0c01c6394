//! `RwLock<T>`: a reader-writer lock that prefers writers (Go's `RWMutex`): the guards and
//! futures around [`RawRwLock`](crate::raw_rwlock::RawRwLock), which owns the protocol.

use crate::raw_rwlock::{RawRwLock, RwWait};
use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A reader-writer lock: many readers or one writer.
///
/// Writers are preferred, as in Go: once a writer waits, readers that arrive after it wait
/// behind it, so a steady stream of readers cannot starve writers. The wait queue is FIFO, so
/// the readers queued behind a writer get the lock together when it is done, and readers do
/// not starve either. The trade-off: a read-mostly workload with occasional writers sees
/// reads pause while a writer waits for the current readers to finish.
///
/// Uncontended `read` / `write` and their releases are one atomic read-modify-write each.
/// No poisoning: a panic while holding a guard releases the lock.
///
/// ```
/// use csp_sync::RwLock;
///
/// let lock = RwLock::new(5);
/// {
///     let r1 = lock.read();
///     let r2 = lock.read();
///     assert_eq!(*r1 + *r2, 10);
///     assert!(lock.try_write().is_none());
/// }
/// *lock.write() += 1;
/// assert_eq!(*lock.read(), 6);
/// ```
pub struct RwLock<T: ?Sized> {
    raw: RawRwLock,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` to one thread at a time (needs `T: Send` to move access
// between threads) and `&T` to many at once (needs `T: Sync`), as `std::sync::RwLock` does.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// An unlocked lock holding `value`.
    ///
    /// ```
    /// static CONFIG: csp_sync::RwLock<u32> = csp_sync::RwLock::new(1);
    /// assert_eq!(*CONFIG.read(), 1);
    /// ```
    #[cfg(not(loom))]
    pub const fn new(value: T) -> Self {
        RwLock {
            raw: RawRwLock::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// An unlocked lock holding `value`.
    #[cfg(loom)]
    pub fn new(value: T) -> Self {
        RwLock {
            raw: RawRwLock::new(),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the value.
    ///
    /// ```
    /// assert_eq!(csp_sync::RwLock::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    fn read_guard(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard { lock: self }
    }

    fn write_guard(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard { lock: self }
    }

    /// Shared access, blocking the thread while a writer holds or waits for the lock.
    ///
    /// ```
    /// let lock = csp_sync::RwLock::new(vec![1]);
    /// assert_eq!(lock.read().len(), 1);
    /// ```
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.raw.read_until(None);
        self.read_guard()
    }

    /// Exclusive access, blocking the thread until every reader and writer is done.
    ///
    /// ```
    /// let lock = csp_sync::RwLock::new(vec![1]);
    /// lock.write().push(2);
    /// assert_eq!(*lock.read(), vec![1, 2]);
    /// ```
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.raw.write_until(None);
        self.write_guard()
    }

    /// Shared access if available now (no writer holds or waits for the lock).
    ///
    /// ```
    /// let lock = csp_sync::RwLock::new(0);
    /// let w = lock.write();
    /// assert!(lock.try_read().is_none());
    /// drop(w);
    /// assert!(lock.try_read().is_some());
    /// ```
    pub fn try_read(&self) -> Option<RwLockReadGuard<'_, T>> {
        self.raw.try_read().then(|| self.read_guard())
    }

    /// Exclusive access if available now.
    ///
    /// ```
    /// let lock = csp_sync::RwLock::new(0);
    /// let r = lock.read();
    /// assert!(lock.try_write().is_none());
    /// drop(r);
    /// assert!(lock.try_write().is_some());
    /// ```
    pub fn try_write(&self) -> Option<RwLockWriteGuard<'_, T>> {
        self.raw.try_write().then(|| self.write_guard())
    }

    /// Shared access, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = csp_sync::RwLock::new(0);
    /// let _w = lock.write();
    /// assert!(lock.read_timeout(Duration::from_millis(5)).is_none());
    /// ```
    pub fn read_timeout(&self, timeout: Duration) -> Option<RwLockReadGuard<'_, T>> {
        self.raw
            .read_until(Instant::now().checked_add(timeout))
            .then(|| self.read_guard())
    }

    /// Exclusive access, waiting at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = csp_sync::RwLock::new(0);
    /// let _r = lock.read();
    /// assert!(lock.write_timeout(Duration::from_millis(5)).is_none());
    /// ```
    pub fn write_timeout(&self, timeout: Duration) -> Option<RwLockWriteGuard<'_, T>> {
        self.raw
            .write_until(Instant::now().checked_add(timeout))
            .then(|| self.write_guard())
    }

    /// Shared access from async code, under any executor.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the queue (and gives back access granted meanwhile).
    ///
    /// ```
    /// let lock = csp_sync::RwLock::new(2);
    /// futures::executor::block_on(async {
    ///     assert_eq!(*lock.read_async().await, 2);
    /// });
    /// ```
    pub fn read_async(&self) -> RwLockReadFut<'_, T> {
        RwLockReadFut {
            lock: self,
            wait: RwWait::read(),
        }
    }

    /// Exclusive access from async code, under any executor.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the queue (and gives back access granted meanwhile).
    ///
    /// ```
    /// let lock = csp_sync::RwLock::new(2);
    /// futures::executor::block_on(async {
    ///     *lock.write_async().await += 1;
    /// });
    /// assert_eq!(*lock.read(), 3);
    /// ```
    pub fn write_async(&self) -> RwLockWriteFut<'_, T> {
        RwLockWriteFut {
            lock: self,
            wait: RwWait::write(),
        }
    }

    /// The value, through a unique borrow (no locking needed).
    ///
    /// ```
    /// let mut lock = csp_sync::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Some(g) => d.field("data", &&*g),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Shared access to an [`RwLock`]; releases it when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

// SAFETY: the guard only gives `&T`, shareable across threads when `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read permit is held while the guard lives: no writer has access.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.raw.read_unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// Exclusive access to an [`RwLock`]; releases it when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

// SAFETY: the guard gives `&T` to whoever shares it, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: every permit is held while the guard lives: exclusive access.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: every permit is held while the guard lives, and `&mut self` makes this the
        // only access through it.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.raw.write_unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

/// The two futures differ only in the guard they complete with.
macro_rules! rwlock_future {
    ($(#[$doc:meta])* $name:ident, $guard:ident, $make:ident) => {
        $(#[$doc])*
        ///
        /// # Cancel safety
        ///
        /// Dropping it leaves the queue (and gives back access granted meanwhile).
        #[must_use = "futures do nothing unless polled"]
        pub struct $name<'a, T: ?Sized> {
            lock: &'a RwLock<T>,
            wait: RwWait,
        }

        impl<'a, T: ?Sized> Future for $name<'a, T> {
            type Output = $guard<'a, T>;

            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
                let this = self.get_mut();
                this.wait
                    .poll(&this.lock.raw, cx)
                    .map(|()| this.lock.$make())
            }
        }

        impl<T: ?Sized> Drop for $name<'_, T> {
            fn drop(&mut self) {
                // Does nothing once the guard was handed out.
                self.wait.cancel(&self.lock.raw);
            }
        }

        impl<T: ?Sized> fmt::Debug for $name<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), " { .. }"))
            }
        }
    };
}

rwlock_future!(
    /// The future of [`RwLock::read_async`].
    RwLockReadFut,
    RwLockReadGuard,
    read_guard
);
rwlock_future!(
    /// The future of [`RwLock::write_async`].
    RwLockWriteFut,
    RwLockWriteGuard,
    write_guard
);
