//! `RateLimiter`: a token bucket, like Go's `golang.org/x/time/rate.Limiter`.
//!
//! # Invariants
//!
//! - The bucket (`Bucket`, under one [`Lock`]) holds `tokens` as of the instant `last`; tokens
//!   accrue at `limit` per second up to `burst`, and are brought up to date (`advance`) at
//!   the start of every operation, with `Instant::now()` read *under the lock*, so `last` never
//!   goes backwards.
//! - A reservation takes its tokens at once, even if that makes `tokens` negative: the
//!   deficit is the queue of reservations that have to wait, and a new reservation's time to
//!   act is when the deficit (its own tokens included) will have been paid back. So
//!   reservations are served in order and nothing is promised twice.
//! - Waiting is done by the waiter, after the lock is released: a thread sleeps until its
//!   time (`std::thread::sleep`), a task awaits a [`csp_park::timer::Sleep`]. No thread or
//!   timer exists per limiter, and none per waiting thread.
//! - `last_event` is the latest time to act of any reservation that had to wait; `cancel` uses
//!   it to tell how many tokens later reservations have been scheduled on (those are not
//!   given back).

use csp_park::lock::Lock;
use csp_park::timer;
use std::error::Error;
use std::fmt;
use std::time::{Duration, Instant};

/// The token bucket's state.
struct Bucket {
    /// Tokens per second: finite and `>= 0`, or infinite (everything is allowed).
    limit: f64,
    /// The bucket's size: the most tokens it holds, and the largest admissible request.
    burst: u32,
    /// Tokens as of `last`; negative while reservations are waiting for their time.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    last: Instant,
    /// The latest time to act of a reservation that had to wait.
    last_event: Instant,
}

impl Bucket {
    /// Brings `tokens` up to date at `now` (which is not before `last`).
    fn advance(&mut self, now: Instant) {
        let burst = f64::from(self.burst);
        if self.limit.is_infinite() {
            // An infinite rate keeps the bucket full.
            self.tokens = burst;
        } else {
            let elapsed = now.saturating_duration_since(self.last);
            self.tokens = (self.tokens + tokens_for(elapsed, self.limit)).min(burst);
        }
        self.last = self.last.max(now);
    }
}

/// Tokens accrued over `d` at `limit` per second (`limit` finite).
fn tokens_for(d: Duration, limit: f64) -> f64 {
    d.as_secs_f64() * limit
}

/// How long `tokens` (> 0) take to accrue at `limit` per second; `None` if never (a zero
/// rate, or too long to represent).
fn duration_for(tokens: f64, limit: f64) -> Option<Duration> {
    if limit.is_infinite() {
        return Some(Duration::ZERO);
    }
    Duration::try_from_secs_f64(tokens / limit).ok()
}

/// How far ahead a reservation may be scheduled.
#[derive(Clone, Copy)]
enum MaxWait {
    /// Not at all: only tokens in the bucket now.
    Zero,
    /// At most this long from now.
    For(Duration),
    /// Not after this instant.
    Until(Instant),
    /// However long it takes (but not forever).
    Forever,
}

/// Why a reservation was not made.
enum Refused {
    /// It can never be made (or at least not at the current rate).
    Error(RateLimitError),
    /// It would have to wait longer than allowed.
    TooLate,
}

/// A token bucket rate limiter, like Go's `rate.Limiter`: events are admitted at `per_second`
/// on average, with bursts of up to `burst` at once.
///
/// The bucket starts full (`burst` tokens) and refills at `per_second` tokens per second, up
/// to `burst`. An event of `n` tokens is admitted when the bucket holds them. The ways to ask
/// mirror Go's:
///
/// - [`allow_n`](Self::allow_n): take the tokens if they are there now, else do nothing.
/// - [`reserve_n`](Self::reserve_n): take them now, possibly on credit, and get a
///   [`Reservation`] saying how long to wait before acting; it can be cancelled.
/// - [`wait_n`](Self::wait_n) (blocks the thread), [`wait_n_timeout`](Self::wait_n_timeout) /
///   [`wait_n_deadline`](Self::wait_n_deadline) (gives up at once, taking nothing, if the wait
///   would end too late), [`wait_n_async`](Self::wait_n_async) (any executor).
///
/// Waiters are served in the order they reserved. A thread waits in `std::thread::sleep`
/// and a task on csp-park's global timer: the limiter has no thread of its own.
///
/// A rate of `f64::INFINITY` admits everything (any `n`, even above the burst) at once.
/// A rate of zero admits what is in the bucket and nothing more.
///
/// # Example
///
/// ```
/// use csp_sync::RateLimiter;
/// use std::time::{Duration, Instant};
///
/// let limiter = RateLimiter::new(10.0, 2); // 10 events a second, bursts of 2
/// assert!(limiter.allow());
/// assert!(limiter.allow());
/// assert!(!limiter.allow()); // the burst is spent
///
/// let start = Instant::now();
/// limiter.wait_n(1).unwrap(); // a token every 100 ms
/// assert!(start.elapsed() >= Duration::from_millis(50));
/// ```
pub struct RateLimiter {
    bucket: Lock<Bucket>,
}

impl RateLimiter {
    /// A limiter admitting `per_second` tokens per second on average and up to `burst` at
    /// once, with a full bucket.
    ///
    /// # Panics
    ///
    /// Panics if `per_second` is negative or NaN.
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(10.0, 5);
    /// assert_eq!(limiter.limit(), 10.0);
    /// assert_eq!(limiter.burst(), 5);
    /// assert_eq!(limiter.tokens(), 5.0);
    /// ```
    pub fn new(per_second: f64, burst: u32) -> RateLimiter {
        check_limit(per_second);
        let now = Instant::now();
        RateLimiter {
            bucket: Lock::new(Bucket {
                limit: per_second,
                burst,
                tokens: f64::from(burst),
                last: now,
                last_event: now,
            }),
        }
    }

    /// The rate: tokens per second.
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(f64::INFINITY, 0);
    /// assert!(limiter.limit().is_infinite());
    /// ```
    pub fn limit(&self) -> f64 {
        self.bucket.lock().limit
    }

    /// The bucket's size: the most tokens an event can take.
    ///
    /// ```
    /// assert_eq!(csp_sync::RateLimiter::new(1.0, 3).burst(), 3);
    /// ```
    pub fn burst(&self) -> u32 {
        self.bucket.lock().burst
    }

    /// Tokens in the bucket now: up to the burst, negative while reservations are waiting
    /// for their time. With an infinite rate, the burst.
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(1.0, 4);
    /// assert!(limiter.allow_n(3));
    /// assert!(limiter.tokens() < 1.5);
    /// ```
    pub fn tokens(&self) -> f64 {
        let mut b = self.bucket.lock();
        b.advance(Instant::now());
        b.tokens
    }

    /// Changes the rate. Tokens accrued so far at the old rate are kept; reservations already
    /// made keep their times.
    ///
    /// # Panics
    ///
    /// Panics if `per_second` is negative or NaN.
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(0.0, 1);
    /// assert!(limiter.allow());
    /// assert!(!limiter.allow()); // a zero rate never refills
    /// limiter.set_limit(f64::INFINITY);
    /// assert!(limiter.allow());
    /// ```
    pub fn set_limit(&self, per_second: f64) {
        check_limit(per_second);
        let mut b = self.bucket.lock();
        b.advance(Instant::now());
        b.limit = per_second;
    }

    /// Changes the bucket's size; tokens above the new size are dropped.
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(1.0, 5);
    /// limiter.set_burst(2);
    /// assert_eq!(limiter.burst(), 2);
    /// assert!(limiter.tokens() <= 2.0);
    /// ```
    pub fn set_burst(&self, burst: u32) {
        let mut b = self.bucket.lock();
        b.advance(Instant::now());
        b.burst = burst;
        b.tokens = b.tokens.min(f64::from(burst));
    }

    /// Takes one token if there is one now: [`allow_n(1)`](Self::allow_n).
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(1.0, 1);
    /// assert!(limiter.allow());
    /// assert!(!limiter.allow());
    /// ```
    pub fn allow(&self) -> bool {
        self.allow_n(1)
    }

    /// Takes `n` tokens if the bucket holds them now (and no reservation is waiting); `false`
    /// otherwise, taking nothing. Never waits. `false` if `n` exceeds the burst (unless the
    /// rate is infinite).
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(1.0, 3);
    /// assert!(limiter.allow_n(2));
    /// assert!(!limiter.allow_n(2)); // one left
    /// assert!(limiter.allow_n(1));
    /// ```
    pub fn allow_n(&self, n: u32) -> bool {
        self.make_reservation(n, MaxWait::Zero).is_ok()
    }

    /// Reserves one token: [`reserve_n(1)`](Self::reserve_n).
    ///
    /// # Errors
    ///
    /// As [`reserve_n`](Self::reserve_n).
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(10.0, 1);
    /// assert_eq!(limiter.reserve().unwrap().delay(), std::time::Duration::ZERO);
    /// ```
    pub fn reserve(&self) -> Result<Reservation<'_>, RateLimitError> {
        self.reserve_n(1)
    }

    /// Takes `n` tokens now, on credit if the bucket does not hold them, and returns a
    /// [`Reservation`] whose [`delay`](Reservation::delay) says how long the caller must wait
    /// before acting. If the caller will not act, it should [`cancel`](Reservation::cancel)
    /// the reservation to give the tokens back.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::ExceedsBurst`] if `n` exceeds the burst (and the rate is finite):
    /// such a request could never be admitted. [`RateLimitError::ZeroRate`] if the rate is
    /// zero and the bucket does not hold `n` tokens.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let limiter = csp_sync::RateLimiter::new(10.0, 1);
    /// let first = limiter.reserve_n(1).unwrap();
    /// assert_eq!(first.delay(), Duration::ZERO);
    /// let second = limiter.reserve_n(1).unwrap();
    /// assert!(second.delay() > Duration::from_millis(50)); // about 100 ms
    /// second.cancel(); // not going to act after all
    /// assert!(limiter.reserve_n(2).is_err()); // above the burst
    /// ```
    pub fn reserve_n(&self, n: u32) -> Result<Reservation<'_>, RateLimitError> {
        match self.make_reservation(n, MaxWait::Forever) {
            Ok(r) => Ok(r),
            Err(Refused::Error(e)) => Err(e),
            Err(Refused::TooLate) => {
                unreachable!("no reservation is too late when waiting forever")
            }
        }
    }

    /// Waits (blocking the thread) for one token: [`wait_n(1)`](Self::wait_n).
    ///
    /// # Errors
    ///
    /// As [`wait_n`](Self::wait_n).
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(1000.0, 1);
    /// for _ in 0..3 {
    ///     limiter.wait().unwrap();
    /// }
    /// ```
    pub fn wait(&self) -> Result<(), RateLimitError> {
        self.wait_n(1)
    }

    /// Takes `n` tokens, blocking the thread until they are due. Waiting threads are served
    /// in the order they called.
    ///
    /// # Errors
    ///
    /// As [`reserve_n`](Self::reserve_n), at once and without waiting.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let limiter = csp_sync::RateLimiter::new(100.0, 5);
    /// let start = Instant::now();
    /// limiter.wait_n(5).unwrap(); // the bucket was full
    /// limiter.wait_n(5).unwrap(); // five more tokens take 50 ms
    /// assert!(start.elapsed() >= Duration::from_millis(40));
    /// assert!(limiter.wait_n(6).is_err());
    /// ```
    pub fn wait_n(&self, n: u32) -> Result<(), RateLimitError> {
        let r = self.reserve_n(n)?;
        sleep_until(r.ready_at);
        Ok(())
    }

    /// Takes `n` tokens, blocking the thread until they are due, if that is within
    /// `timeout`. If it would take longer, returns `Ok(false)` at once and takes nothing.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::ExceedsBurst`] if `n` exceeds the burst (and the rate is finite).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let limiter = csp_sync::RateLimiter::new(1.0, 1);
    /// assert_eq!(limiter.wait_n_timeout(1, Duration::ZERO), Ok(true));
    /// // The next token is a second away.
    /// assert_eq!(limiter.wait_n_timeout(1, Duration::from_millis(10)), Ok(false));
    /// ```
    pub fn wait_n_timeout(&self, n: u32, timeout: Duration) -> Result<bool, RateLimitError> {
        self.wait_bounded(n, MaxWait::For(timeout))
    }

    /// Takes `n` tokens, blocking the thread until they are due, if that is no later than
    /// `deadline`. If it would be later, returns `Ok(false)` at once and takes nothing.
    ///
    /// # Errors
    ///
    /// [`RateLimitError::ExceedsBurst`] if `n` exceeds the burst (and the rate is finite).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let limiter = csp_sync::RateLimiter::new(1.0, 1);
    /// let deadline = Instant::now() + Duration::from_millis(10);
    /// assert_eq!(limiter.wait_n_deadline(1, deadline), Ok(true));
    /// assert_eq!(limiter.wait_n_deadline(1, deadline), Ok(false));
    /// ```
    pub fn wait_n_deadline(&self, n: u32, deadline: Instant) -> Result<bool, RateLimitError> {
        self.wait_bounded(n, MaxWait::Until(deadline))
    }

    fn wait_bounded(&self, n: u32, max: MaxWait) -> Result<bool, RateLimitError> {
        match self.make_reservation(n, max) {
            Ok(r) => {
                sleep_until(r.ready_at);
                Ok(true)
            }
            Err(Refused::TooLate) => Ok(false),
            Err(Refused::Error(e)) => Err(e),
        }
    }

    /// Waits (async) for one token: [`wait_n_async(1)`](Self::wait_n_async).
    ///
    /// # Errors
    ///
    /// As [`wait_n`](Self::wait_n).
    ///
    /// # Cancel safety
    ///
    /// As [`wait_n_async`](Self::wait_n_async).
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(1000.0, 1);
    /// futures::executor::block_on(async {
    ///     limiter.wait_async().await.unwrap();
    ///     limiter.wait_async().await.unwrap();
    /// });
    /// ```
    pub async fn wait_async(&self) -> Result<(), RateLimitError> {
        self.wait_n_async(1).await
    }

    /// Takes `n` tokens, completing when they are due; works under any executor (the wait
    /// is a [`csp_park::timer::Sleep`]). The reservation is made when the future is first
    /// polled.
    ///
    /// # Errors
    ///
    /// As [`reserve_n`](Self::reserve_n), without waiting.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes cancels its reservation
    /// ([`Reservation::cancel`]): the tokens go back to the bucket, except those that later
    /// reservations have been scheduled on.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let limiter = csp_sync::RateLimiter::new(100.0, 1);
    /// let start = Instant::now();
    /// futures::executor::block_on(async {
    ///     limiter.wait_n_async(1).await.unwrap();
    ///     limiter.wait_n_async(1).await.unwrap(); // 10 ms later
    /// });
    /// assert!(start.elapsed() >= Duration::from_millis(5));
    /// ```
    pub async fn wait_n_async(&self, n: u32) -> Result<(), RateLimitError> {
        let r = self.reserve_n(n)?;
        let ready_at = r.ready_at;
        let mut pending = CancelOnDrop(Some(r));
        timer::sleep_until(ready_at).await;
        // Acted on: keep the tokens.
        pending.0 = None;
        Ok(())
    }

    /// Makes a reservation of `n` tokens due no later than `max` allows.
    fn make_reservation(&self, n: u32, max: MaxWait) -> Result<Reservation<'_>, Refused> {
        let mut b = self.bucket.lock();
        let now = Instant::now();
        if b.limit.is_infinite() {
            return Ok(Reservation {
                limiter: self,
                tokens: 0,
                ready_at: now,
                limit: b.limit,
            });
        }
        if n > b.burst {
            return Err(Refused::Error(RateLimitError::ExceedsBurst {
                n,
                burst: b.burst,
            }));
        }
        b.advance(now);
        let left = b.tokens - f64::from(n);
        let ready_at = if left >= 0.0 {
            Some(now)
        } else {
            duration_for(-left, b.limit).and_then(|d| now.checked_add(d))
        };
        let latest = match max {
            MaxWait::Zero => Some(now),
            MaxWait::For(d) => now.checked_add(d),
            MaxWait::Until(t) => Some(t),
            MaxWait::Forever => None,
        };
        let ready_at = match (ready_at, latest) {
            (None, None) => return Err(Refused::Error(RateLimitError::ZeroRate { n })),
            (None, Some(_)) => return Err(Refused::TooLate),
            (Some(at), Some(latest)) if at > latest => return Err(Refused::TooLate),
            (Some(at), _) => at,
        };
        b.tokens = left;
        if ready_at > now {
            b.last_event = b.last_event.max(ready_at);
        }
        Ok(Reservation {
            limiter: self,
            tokens: n,
            ready_at,
            limit: b.limit,
        })
    }
}

#[track_caller]
fn check_limit(per_second: f64) {
    assert!(
        per_second >= 0.0,
        "RateLimiter: the rate must be >= 0 (or infinite), got {per_second}"
    );
}

/// Blocks the thread until `t`.
fn sleep_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        std::thread::sleep(t - now);
    }
}

/// Cancels the reservation it holds when dropped (an abandoned `wait_n_async`).
struct CancelOnDrop<'a>(Option<Reservation<'a>>);

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.0.take() {
            r.cancel();
        }
    }
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (limit, burst, tokens) = {
            let mut b = self.bucket.lock();
            b.advance(Instant::now());
            (b.limit, b.burst, b.tokens)
        };
        f.debug_struct("RateLimiter")
            .field("limit", &limit)
            .field("burst", &burst)
            .field("tokens", &tokens)
            .finish()
    }
}

/// Tokens taken from a [`RateLimiter`] by [`reserve_n`](RateLimiter::reserve_n), to be used
/// after [`delay`](Self::delay) — or given back with [`cancel`](Self::cancel).
///
/// Dropping a reservation keeps it: the tokens stay taken.
///
/// ```
/// let limiter = csp_sync::RateLimiter::new(50.0, 5);
/// let r = limiter.reserve_n(5).unwrap();
/// std::thread::sleep(r.delay()); // zero: the bucket was full
/// // ... act ...
/// ```
#[must_use = "a reservation takes tokens: wait for its delay and act, or cancel it"]
pub struct Reservation<'a> {
    limiter: &'a RateLimiter,
    /// Tokens taken (0 under an infinite rate: nothing to give back).
    tokens: u32,
    /// When the caller may act.
    ready_at: Instant,
    /// The rate when it was made.
    limit: f64,
}

impl Reservation<'_> {
    /// How long from now until the caller may act (zero if that time has come).
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(1.0, 1);
    /// assert!(limiter.reserve().unwrap().delay().is_zero());
    /// assert!(limiter.reserve().unwrap().delay() > std::time::Duration::from_millis(500));
    /// ```
    pub fn delay(&self) -> std::time::Duration {
        self.ready_at.saturating_duration_since(Instant::now())
    }

    /// The instant from which the caller may act.
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(1.0, 1);
    /// let r = limiter.reserve().unwrap();
    /// assert!(r.ready_at() <= std::time::Instant::now());
    /// ```
    pub fn ready_at(&self) -> Instant {
        self.ready_at
    }

    /// Gives the tokens back: the caller will not act on this reservation.
    ///
    /// The bucket gets back the reservation's tokens (up to the burst), minus as many as
    /// reservations made *after* this one and scheduled later have been counted on: those
    /// keep their times, so handing their tokens out again would admit more than the rate.
    /// This is Go's `Reservation.Cancel`, with one difference: Go gives nothing back once
    /// the reservation's time has come, while here the tokens are returned whenever
    /// `cancel` is called — so call it only if you did not act. The count of later
    /// reservations' tokens is Go's estimate (time between their times and this one's, at
    /// this one's rate), which can only make `cancel` return too little, never too much.
    ///
    /// ```
    /// let limiter = csp_sync::RateLimiter::new(1.0, 3);
    /// let r = limiter.reserve_n(3).unwrap();
    /// assert!(limiter.tokens() < 1.0);
    /// r.cancel();
    /// assert!(limiter.tokens() > 2.5);
    /// ```
    pub fn cancel(self) {
        if self.tokens == 0 {
            return;
        }
        let mut b = self.limiter.bucket.lock();
        if b.limit.is_infinite() {
            // The bucket is full anyway.
            return;
        }
        let now = Instant::now();
        let later = tokens_for(
            b.last_event.saturating_duration_since(self.ready_at),
            self.limit,
        );
        let restore = f64::from(self.tokens) - later;
        if restore <= 0.0 {
            return;
        }
        b.advance(now);
        b.tokens = (b.tokens + restore).min(f64::from(b.burst));
        if b.last_event == self.ready_at {
            // This was the latest waiting reservation: the latest is now the one before it.
            let before = duration_for(f64::from(self.tokens), self.limit)
                .and_then(|d| self.ready_at.checked_sub(d));
            if let Some(before) = before.filter(|&t| t >= now) {
                b.last_event = before;
            }
        }
    }
}

impl fmt::Debug for Reservation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("tokens", &self.tokens)
            .field("delay", &self.delay())
            .finish()
    }
}

/// Why a [`RateLimiter`] cannot admit a request.
///
/// ```
/// use csp_sync::{RateLimitError, RateLimiter};
///
/// let limiter = RateLimiter::new(1.0, 2);
/// let err = limiter.wait_n(3).unwrap_err();
/// assert_eq!(err, RateLimitError::ExceedsBurst { n: 3, burst: 2 });
/// assert_eq!(err.to_string(), "rate limiter: 3 tokens exceed the burst of 2");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RateLimitError {
    /// More tokens than the bucket holds were asked for: no wait could ever admit them.
    ExceedsBurst {
        /// Tokens asked for.
        n: u32,
        /// The limiter's burst.
        burst: u32,
    },
    /// The rate is zero (or so small that the wait cannot be represented) and the bucket
    /// does not hold the tokens asked for.
    ZeroRate {
        /// Tokens asked for.
        n: u32,
    },
}

impl fmt::Display for RateLimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateLimitError::ExceedsBurst { n, burst } => {
                write!(f, "rate limiter: {n} tokens exceed the burst of {burst}")
            }
            RateLimitError::ZeroRate { n } => {
                write!(
                    f,
                    "rate limiter: {n} tokens will never be available at a zero rate"
                )
            }
        }
    }
}

impl Error for RateLimitError {}
