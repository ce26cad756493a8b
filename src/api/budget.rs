//! A share of the database for expensive work, so one client's searches cannot take the pool
//! from everyone else.
//!
//! Searches (`q`), exact counts and exports read many rows. Each takes a slot here first; there
//! are half as many slots as pooled connections, so the other half always serves cheap
//! requests (a student by id, a page without `q`). A request that finds every slot taken is
//! refused at once with a `503` `busy` problem and `Retry-After`, rather than queueing for the
//! pool. Searches and exact counts also run under a tighter statement timeout
//! (`db::EXPENSIVE_STATEMENT_TIMEOUT`), as do an export's pages when it searches.

use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// How long an export may wait for its client to take one chunk (1,000 rows, about 90 KB of
/// CSV) before it is ended: a client reading slower than about 3 KB/s holds a slot no longer.
pub const EXPORT_STALL_LIMIT: Duration = Duration::from_secs(30);

/// The slots for expensive work, and the limits that keep them turning over.
#[derive(Debug, Clone)]
pub struct ExpensiveWork {
    slots: Arc<Semaphore>,
    size: usize,
    /// See [`EXPORT_STALL_LIMIT`].
    pub export_stall: Duration,
    /// The largest import upload, in bytes (`IMPORT_MAX_BYTES`).
    pub import_max_bytes: u64,
}

/// Held for as long as the expensive work runs.
pub type Slot = OwnedSemaphorePermit;

impl ExpensiveWork {
    /// Half of a pool of `pool_size` connections (at least one); imports up to
    /// `import_max_bytes`.
    pub fn for_pool(pool_size: u32, import_max_bytes: u64) -> Self {
        let size = usize::try_from(pool_size / 2).unwrap_or(1).max(1);
        Self {
            slots: Arc::new(Semaphore::new(size)),
            size,
            export_stall: EXPORT_STALL_LIMIT,
            import_max_bytes,
        }
    }

    /// A slot, or the `busy` problem when all are taken.
    pub fn begin(&self) -> Result<Slot, ApiError> {
        Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy { slots: self.size })
    }
}
