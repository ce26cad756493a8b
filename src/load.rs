//! How busy this instance is serving requests, for work that can wait: webhook deliveries and
//! the change feed's reads make way while it is high.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

/// Requests being handled by one server, all connections together: until the handler has its
/// answer, not while a body streams (an open change stream or export is not load).
#[derive(Debug, Clone, Default)]
pub struct Load(Arc<AtomicUsize>);

impl Load {
    pub fn handling(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// Counts one request until the returned guard is dropped (also when its future is
    /// cancelled).
    pub fn begin(&self) -> Handling {
        self.0.fetch_add(1, Ordering::Relaxed);
        Handling(self.clone())
    }
}

/// One request counted in [`Load`].
#[derive(Debug)]
pub struct Handling(Load);

impl Drop for Handling {
    fn drop(&mut self) {
        (self.0).0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The service is busy serving when more requests are being handled than the requests' pool
/// has connections: some of them wait for one. The pool's own "no connection idle" is a weak
/// sign: creates share statements, so a pool of 10 serves thousands of creates a second with
/// connections idle between them (1,700–2,600 deliveries a second still went at full POST
/// speed with 5 endpoints; ~400 on this one; docs/performance.md).
#[derive(Debug, Clone, Default)]
pub struct Busy {
    load: Load,
    over: usize,
}

impl Busy {
    pub fn new(load: Load, connections: u32) -> Self {
        Self {
            load,
            over: usize::try_from(connections).unwrap_or(usize::MAX),
        }
    }

    pub fn now(&self) -> bool {
        self.load.handling() > self.over
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busy_once_more_requests_are_handled_than_the_pool_has_connections() {
        let load = Load::default();
        let busy = Busy::new(load.clone(), 2);
        let first = load.begin();
        let second = load.begin();
        assert!(!busy.now(), "as many requests as connections is not busy");
        let third = load.begin();
        assert!(busy.now());
        drop(third);
        assert!(!busy.now(), "a finished request is no longer counted");
        drop((first, second));
        assert_eq!(load.handling(), 0);
    }
}
