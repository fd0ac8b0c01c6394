//! `RateLimiter`: bursts, refill rate (generous bounds, lower bounds only for waits),
//! reservations and their cancellation, errors, infinite and zero rates, blocking, timed and
//! async waits under several executors.
#![cfg(not(loom))]

use csp_sync::{RateLimitError, RateLimiter, Reservation};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn poll_once<F: Future>(f: Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(Waker::noop()))
}

fn count_allowed(l: &RateLimiter) -> usize {
    let mut n = 0;
    while l.allow() {
        n += 1;
        assert!(n < 1000, "allow() never refused");
    }
    n
}

#[test]
fn public_types_are_send_sync_and_futures_send() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<RateLimiter>();
    send_sync::<Reservation<'static>>();
    send_sync::<RateLimitError>();
    let l = RateLimiter::new(1.0, 1);
    send(&l.wait_n_async(1));
    send(&l.wait_async());
}

#[test]
fn admits_the_burst_at_once_then_about_the_rate() {
    // Miri runs far slower: a slower rate keeps the bucket from refilling during the checks.
    let (rate, nap) = if cfg!(miri) {
        (5.0, ms(1000))
    } else {
        (50.0, ms(100))
    };
    let l = RateLimiter::new(rate, 5);
    for _ in 0..5 {
        assert!(l.allow());
    }
    assert!(!l.allow());
    thread::sleep(nap); // 50/s × 0.1 s = 5 tokens (the burst caps it there)
    let n = count_allowed(&l);
    assert!((3..=7).contains(&n), "{n} admitted after {nap:?}");
}

#[test]
fn refills_at_about_the_rate_over_a_longer_wait() {
    let l = RateLimiter::new(100.0, 50);
    // At least the burst (more if the bucket refills while it is drained, as under miri).
    assert!(count_allowed(&l) >= 50);
    let start = Instant::now();
    thread::sleep(ms(200)); // about 20 tokens
    let n = count_allowed(&l);
    let elapsed = start.elapsed().as_secs_f64();
    // Never more than the time elapsed allows (plus one for the token in progress).
    assert!(
        n as f64 <= elapsed * 100.0 + 1.0,
        "{n} admitted in {elapsed} s"
    );
    assert!(n >= 15, "only {n} admitted in {elapsed} s");
}

#[test]
fn allow_n_takes_all_or_nothing() {
    let l = RateLimiter::new(1.0, 5);
    assert!(l.allow_n(3));
    assert!(!l.allow_n(3)); // 2 left: takes nothing
    assert!(l.allow_n(2));
    assert!(l.allow_n(0));
    assert!(!l.allow_n(6)); // above the burst: never
}

#[test]
fn reserve_then_cancel_returns_the_tokens() {
    // A slow rate keeps the numbers steady while the test runs.
    let l = RateLimiter::new(1.0, 5);
    let r = l.reserve_n(3).unwrap();
    assert_eq!(r.delay(), Duration::ZERO);
    assert!(l.tokens() < 2.1);
    r.cancel();
    assert!(l.tokens() > 4.9, "tokens {}", l.tokens());

    // A reservation on credit: the bucket goes negative, then back.
    assert!(l.allow_n(5));
    let r = l.reserve_n(3).unwrap();
    assert!(r.delay() > Duration::from_secs(2), "delay {:?}", r.delay());
    assert!(l.tokens() < -2.8);
    r.cancel();
    assert!(l.tokens() > -0.5, "tokens {}", l.tokens());
}

#[test]
fn cancel_keeps_the_tokens_later_reservations_are_scheduled_on() {
    let l = RateLimiter::new(1.0, 5);
    assert!(l.allow_n(5));
    let first = l.reserve_n(3).unwrap(); // due in about 3 s
    let second = l.reserve_n(2).unwrap(); // due in about 5 s, counting on first's tokens
    assert!(second.delay() > first.delay());
    first.cancel();
    // Only 3 - 2 = 1 token comes back: `second` keeps its time.
    let t = l.tokens();
    assert!((-4.2..-3.7).contains(&t), "tokens {t}");
    second.cancel(); // the latest one: all of its tokens come back
    let t = l.tokens();
    assert!((-2.2..-1.7).contains(&t), "tokens {t}");
}

#[test]
fn a_dropped_reservation_keeps_its_tokens() {
    let l = RateLimiter::new(1.0, 2);
    drop(l.reserve_n(2).unwrap());
    assert!(l.tokens() < 0.5);
    assert!(!l.allow());
}

#[test]
fn more_than_the_burst_is_an_error() {
    let l = RateLimiter::new(10.0, 5);
    let e = RateLimitError::ExceedsBurst { n: 6, burst: 5 };
    assert_eq!(l.reserve_n(6).unwrap_err(), e);
    assert_eq!(l.wait_n(6), Err(e));
    assert_eq!(l.wait_n_timeout(6, ms(10)), Err(e));
    assert_eq!(l.wait_n_deadline(6, Instant::now()), Err(e));
    assert_eq!(futures::executor::block_on(l.wait_n_async(6)), Err(e));
    assert!(!l.allow_n(6));
    assert_eq!(
        e.to_string(),
        "rate limiter: 6 tokens exceed the burst of 5"
    );
    let _: &dyn std::error::Error = &e;
    // Nothing was taken by the refusals.
    assert!(l.tokens() > 4.9);
    // A burst of 0 admits nothing but zero-token events.
    let none = RateLimiter::new(10.0, 0);
    assert!(!none.allow());
    assert!(none.allow_n(0));
}

#[test]
fn infinite_rate_allows_everything() {
    let l = RateLimiter::new(f64::INFINITY, 0);
    for _ in 0..1000 {
        assert!(l.allow());
    }
    assert!(l.allow_n(u32::MAX));
    let start = Instant::now();
    l.wait_n(1_000_000).unwrap();
    assert_eq!(l.wait_n_timeout(7, Duration::ZERO), Ok(true));
    futures::executor::block_on(l.wait_n_async(u32::MAX)).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    let r = l.reserve_n(10).unwrap();
    assert_eq!(r.delay(), Duration::ZERO);
    r.cancel();
    assert_eq!(l.tokens(), 0.0); // the burst
}

#[test]
fn zero_rate_admits_only_the_bucket() {
    let l = RateLimiter::new(0.0, 2);
    assert!(l.allow());
    assert!(l.allow());
    assert!(!l.allow());
    assert_eq!(
        l.reserve_n(1).unwrap_err(),
        RateLimitError::ZeroRate { n: 1 }
    );
    assert_eq!(l.wait_n(1), Err(RateLimitError::ZeroRate { n: 1 }));
    let start = Instant::now();
    assert_eq!(l.wait_n_timeout(1, Duration::from_secs(60)), Ok(false));
    assert!(start.elapsed() < Duration::from_secs(30)); // refused at once
    l.set_limit(1000.0);
    l.wait_n(1).unwrap();
}

#[test]
fn wait_n_blocks_about_the_right_time() {
    // Lower bounds only, each derived from the limiter's own state, so a slow machine (or
    // miri) can only make the waits longer, never fail the test.
    let start = Instant::now(); // before the bucket exists: it fills from its creation
    let l = RateLimiter::new(100.0, 1);
    assert!(l.allow());
    for _ in 0..10 {
        l.wait().unwrap();
    }
    // 10 more tokens at 100/s take 100 ms from the bucket's creation.
    assert!(start.elapsed() >= ms(99), "took {:?}", start.elapsed());

    let start = Instant::now();
    let tokens = l.tokens(); // at least what the bucket held at `start`
    l.wait_n(1).unwrap();
    let need = Duration::from_secs_f64(((1.0 - tokens) / 100.0).max(0.0));
    assert!(
        start.elapsed() + Duration::from_micros(100) >= need,
        "waited {:?}, needed {need:?}",
        start.elapsed()
    );
}

#[test]
fn concurrent_waiters_together_respect_the_rate() {
    let l = Arc::new(RateLimiter::new(200.0, 1));
    let start = Instant::now();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let l = l.clone();
            thread::spawn(move || {
                for _ in 0..5 {
                    l.wait().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // 20 tokens with 1 in the bucket: at least 19 / 200 s.
    assert!(start.elapsed() >= ms(90), "took {:?}", start.elapsed());
}

#[test]
fn wait_n_timeout_does_not_reserve_when_the_wait_is_too_long() {
    let l = RateLimiter::new(1.0, 1);
    assert!(l.allow());
    let start = Instant::now();
    assert_eq!(l.wait_n_timeout(1, ms(10)), Ok(false)); // the next token is ~1 s away
    assert!(start.elapsed() < ms(900));
    assert!(l.tokens() > -0.1, "took tokens: {}", l.tokens());
    assert_eq!(
        l.wait_n_deadline(1, Instant::now() + ms(10)),
        Ok(false),
        "deadline form"
    );
    assert!(l.tokens() > -0.1);

    let fast = RateLimiter::new(100.0, 1);
    assert!(fast.allow());
    let start = Instant::now();
    assert_eq!(fast.wait_n_timeout(1, Duration::from_secs(60)), Ok(true));
    assert!(start.elapsed() >= ms(8));
    assert_eq!(fast.wait_n_timeout(1, Duration::MAX), Ok(true));
}

#[test]
fn set_limit_and_set_burst() {
    let l = RateLimiter::new(1.0, 5);
    l.set_burst(2);
    assert_eq!(l.burst(), 2);
    assert!(l.tokens() <= 2.0);
    assert!(l.allow_n(2));
    assert!(!l.allow());
    l.set_limit(f64::INFINITY);
    assert!(l.allow_n(100));
    l.set_limit(1000.0);
    assert_eq!(l.limit(), 1000.0);
    // Back from an infinite rate, the bucket is full.
    assert!(l.allow_n(2));
    assert!(catch(|| l.set_limit(-1.0)));
    assert!(catch(|| l.set_limit(f64::NAN)));
    assert!(catch(|| {
        RateLimiter::new(-0.5, 1);
    }));
    let dbg = format!("{l:?}");
    assert!(
        dbg.starts_with("RateLimiter { limit: 1000.0, burst: 2, tokens: "),
        "{dbg}"
    );
}

fn catch(f: impl FnOnce()) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).is_err()
}

#[test]
fn dropped_wait_n_async_returns_its_tokens() {
    let l = RateLimiter::new(1.0, 3);
    assert!(l.allow_n(3));
    let mut fut = Box::pin(l.wait_n_async(2));
    assert!(poll_once(fut.as_mut()).is_pending());
    assert!(l.tokens() < -1.8);
    drop(fut);
    assert!(l.tokens() > -0.2, "tokens {}", l.tokens());
}

#[test]
fn wait_n_async_under_futures_executor() {
    let l = RateLimiter::new(100.0, 2);
    let start = Instant::now();
    futures::executor::block_on(async {
        for _ in 0..6 {
            l.wait_async().await.unwrap();
        }
    });
    // 2 from the bucket, 4 more at 100/s.
    assert!(start.elapsed() >= ms(35), "took {:?}", start.elapsed());
}

#[cfg(not(miri))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_n_async_under_tokio_with_blocking_waiters() {
    let l = Arc::new(RateLimiter::new(200.0, 1));
    let start = Instant::now();
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let l = l.clone();
            tokio::spawn(async move {
                for _ in 0..3 {
                    l.wait_n_async(1).await.unwrap();
                }
            })
        })
        .collect();
    let blocking = {
        let l = l.clone();
        thread::spawn(move || {
            for _ in 0..4 {
                l.wait().unwrap();
            }
        })
    };
    for t in tasks {
        t.await.unwrap();
    }
    blocking.join().unwrap();
    // 16 tokens with 1 in the bucket: at least 15 / 200 s.
    assert!(start.elapsed() >= ms(70), "took {:?}", start.elapsed());
}

#[cfg(not(miri))]
#[test]
fn wait_n_async_under_smol() {
    let l = RateLimiter::new(100.0, 1);
    let start = Instant::now();
    smol::block_on(async {
        let a = l.wait_n_async(1);
        let b = l.wait_n_async(1);
        let c = l.wait_n_async(1);
        let (a, b, c) = futures::join!(a, b, c);
        a.and(b).and(c).unwrap();
    });
    assert!(start.elapsed() >= ms(15), "took {:?}", start.elapsed());
}
