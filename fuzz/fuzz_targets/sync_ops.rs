//! Fuzz csp-sync against models: bytes decode into operations on a Semaphore, a WaitGroup, a
//! Mutex and an RwLock (one thread, non-blocking forms), checked after every step.
//! Run: `cd fuzz && cargo +nightly fuzz run sync_ops -- -max_total_time=60`
#![no_main]

use csp_sync::{Mutex, RwLock, Semaphore, WaitGroup};
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

fuzz_target!(|data: &[u8]| {
    let Some((&first, ops)) = data.split_first() else {
        return;
    };
    let size = usize::from(first % 6) + 1;
    let sem = Semaphore::new(size);
    let mut permits = Vec::new();
    let mut avail = size;
    let wg = WaitGroup::new();
    let mut count = 0usize;
    let mutex = Mutex::new(0u32);
    let mut mutex_guard = None;
    let rw = RwLock::new(0u32);
    let mut readers = Vec::new();
    let mut writer = None;
    for pair in ops.chunks(2) {
        let (op, arg) = (pair[0] % 10, usize::from(*pair.get(1).unwrap_or(&0)));
        match op {
            0 => {
                let k = arg % (size + 2);
                let got = sem.try_acquire(k);
                assert_eq!(got.is_some(), k <= size && avail >= k, "try_acquire({k})");
                if let Some(p) = got {
                    avail -= k;
                    permits.push(p);
                }
            }
            1 => {
                if !permits.is_empty() {
                    let p = permits.swap_remove(arg % permits.len());
                    avail += p.permits();
                }
            }
            2 => {
                let k = arg % (size + 2);
                let got = sem.acquire_timeout(k, Duration::ZERO);
                assert_eq!(got.is_some(), k <= size && avail >= k, "acquire_timeout({k})");
                if let Some(p) = got {
                    avail -= k;
                    permits.push(p);
                }
            }
            3 => {
                wg.add(arg % 3);
                count += arg % 3;
            }
            4 => {
                if count > 0 {
                    wg.done();
                    count -= 1;
                }
            }
            5 => assert_eq!(wg.wait_timeout(Duration::ZERO), count == 0),
            6 => match mutex_guard.take() {
                Some(g) => drop(g),
                None => {
                    let g = mutex.try_lock().expect("an unheld mutex locks");
                    assert!(mutex.try_lock().is_none());
                    mutex_guard = Some(g);
                }
            },
            7 => {
                let got = rw.try_read();
                assert_eq!(got.is_some(), writer.is_none(), "try_read");
                readers.extend(got);
            }
            8 => {
                let got = rw.try_write();
                assert_eq!(
                    got.is_some(),
                    writer.is_none() && readers.is_empty(),
                    "try_write"
                );
                if got.is_some() {
                    writer = got;
                }
            }
            _ => {
                if writer.take().is_none() && !readers.is_empty() {
                    readers.swap_remove(arg % readers.len());
                }
            }
        }
        assert_eq!(sem.available(), avail);
        assert_eq!(wg.count(), count);
    }
});
