//! Iterators over a `Receiver`.

use crate::handles::Receiver;
use std::fmt;
use std::iter::FusedIterator;

/// Blocking iterator, from [`Receiver::iter`]: ends when the channel is closed and drained.
pub struct Iter<'a, T> {
    pub(crate) rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> FusedIterator for Iter<'_, T> {}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Iter { .. }")
    }
}

/// Non-blocking iterator, from [`Receiver::try_iter`]: ends when nothing is available now.
pub struct TryIter<'a, T> {
    pub(crate) rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

impl<T> fmt::Debug for TryIter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TryIter { .. }")
    }
}

/// Owning blocking iterator, from `Receiver`'s `IntoIterator`.
///
/// ```
/// let (tx, rx) = csp_chan::unbounded();
/// tx.send(1).unwrap();
/// drop(tx);
/// let v: Vec<i32> = rx.into_iter().collect();
/// assert_eq!(v, vec![1]);
/// ```
pub struct IntoIter<T> {
    pub(crate) rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> FusedIterator for IntoIter<T> {}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IntoIter { .. }")
    }
}
