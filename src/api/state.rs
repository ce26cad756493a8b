//! What the operations share: the pools, caches and budgets of one running service.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use sqlx::PgPool;

use crate::{
    api::budget::ExpensiveWork,
    db::{ChangeFeed, Creates, MigrationState, ReadPool, TokenCache, sign_ins::SignIns},
    sender::Sender,
};

/// One value in each request's extensions (`Data<&Arc<State>>`), not one per field: each was a
/// boxed clone and a reference count bumped on every request.
#[derive(Debug)]
pub struct State {
    pub pool: PgPool,
    /// Lists and exports read here: a replica's pool, or `pool` again.
    pub read_pool: ReadPool,
    pub tokens: TokenCache,
    pub feed: ChangeFeed,
    /// Creates waiting for a connection, written together.
    pub creates: Creates,
    pub work: ExpensiveWork,
    pub sign_ins: SignIns,
    /// Sends webhooks (`testWebhook`; the deliveries have their own clone).
    pub sender: Sender,
    pub migrations: MigrationState,
    pub draining: Draining,
}

/// Whether this instance has been told to stop (SIGTERM) and is draining: `/readyz` answers
/// 503 so balancers stop sending it requests, and every HTTP/1 response closes its connection
/// so none is left idle in a balancer's pool when the listener closes. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Draining(Arc<AtomicBool>);

impl Draining {
    pub fn start(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_on(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
