//! Requests per minute per client, in memory, per instance: a fixed one-minute window that
//! starts at a client's first request. With several instances each counts on its own, so a
//! client spread over N instances may make up to N times the limit (docs/auth.md says so).

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

/// The window every limit counts in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Where a client stands after one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Requests allowed per window.
    pub limit: u32,
    /// Requests left in this window after this one.
    pub remaining: u32,
    /// Whole seconds until the window ends (at least 1).
    pub reset_secs: u64,
    /// Whether this request is within the limit.
    pub allowed: bool,
}

struct Window {
    started: Instant,
    used: u32,
}

struct Windows<K> {
    by_client: HashMap<K, Window>,
    /// Once a window's length after this, windows that are over are dropped (and the map's
    /// spare room given back): memory holds the clients of the last two minutes at most.
    last_sweep: Instant,
}

/// Counts requests per client `K` against `limit` per [`WINDOW`].
pub struct RateLimiter<K> {
    limit: u32,
    windows: Mutex<Windows<K>>,
}

impl<K> std::fmt::Debug for RateLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// `limit` requests per minute; 0 means no limit (`take` always says `None`).
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            windows: Mutex::new(Windows {
                by_client: HashMap::new(),
                last_sweep: Instant::now(),
            }),
        }
    }

    /// Counts one request of `client`; `None` when there is no limit.
    pub fn take(&self, client: K) -> Option<Quota> {
        self.take_at(client, Instant::now())
    }

    fn take_at(&self, client: K, now: Instant) -> Option<Quota> {
        if self.limit == 0 {
            return None;
        }
        let mut windows = match self.windows.lock() {
            Ok(windows) => windows,
            Err(poisoned) => poisoned.into_inner(),
        };
        if now.duration_since(windows.last_sweep) >= WINDOW {
            windows
                .by_client
                .retain(|_, window| now.duration_since(window.started) < WINDOW);
            windows.by_client.shrink_to_fit();
            windows.last_sweep = now;
        }
        let window = windows.by_client.entry(client).or_insert(Window {
            started: now,
            used: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            *window = Window {
                started: now,
                used: 0,
            };
        }
        let allowed = window.used < self.limit;
        if allowed {
            window.used += 1;
        }
        let left = WINDOW.saturating_sub(now.duration_since(window.started));
        Some(Quota {
            limit: self.limit,
            remaining: self.limit - window.used,
            reset_secs: left.as_secs_f64().ceil().max(1.0) as u64,
            allowed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_limit_per_window_and_no_more() {
        let limiter = RateLimiter::per_minute(3);
        let start = Instant::now();
        let quotas: Vec<_> = (0..4).filter_map(|_| limiter.take_at("a", start)).collect();
        assert_eq!(
            quotas
                .iter()
                .map(|q| (q.allowed, q.remaining))
                .collect::<Vec<_>>(),
            [(true, 2), (true, 1), (true, 0), (false, 0)]
        );
        assert_eq!(quotas[3].reset_secs, 60);
        // Another client has its own window.
        assert_eq!(limiter.take_at("b", start).map(|q| q.allowed), Some(true));
        // Still refused 59 s in; a new window after 60 s.
        let later = start + Duration::from_secs(59);
        assert_eq!(
            limiter
                .take_at("a", later)
                .map(|q| (q.allowed, q.reset_secs)),
            Some((false, 1))
        );
        let next = start + WINDOW;
        assert_eq!(
            limiter.take_at("a", next).map(|q| (q.allowed, q.remaining)),
            Some((true, 2))
        );
    }

    #[test]
    fn no_limit_counts_nothing() {
        assert_eq!(RateLimiter::per_minute(0).take("a"), None);
    }

    #[test]
    fn windows_that_are_over_are_swept() {
        let limiter = RateLimiter::per_minute(1);
        let start = Instant::now();
        for client in 0..10_000 {
            limiter.take_at(client, start);
        }
        limiter.take_at(usize::MAX, start + WINDOW);
        let windows = limiter.windows.lock().map(|w| w.by_client.len());
        assert_eq!(windows.ok(), Some(1));
    }
}
