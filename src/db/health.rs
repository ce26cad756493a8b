//! Whether the database answers: a circuit breaker, so that during an outage requests get a
//! `503` at once instead of each waiting out the pool's acquire timeout.
//!
//! A background task ([`Health::watch`]) pings PostgreSQL over a connection of its own: every
//! [`CHECK_INTERVAL`] while it answers, at once when a request reports trouble
//! ([`Health::suspect`]), and every [`RETRY_INTERVAL`] while it does not. Requests only read a
//! flag ([`Health::is_down`]). It takes two failed checks in a row to call the database away
//! (one slow ping under load must not take the service down), and a server that answers at all,
//! even "too many connections", is not away.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{Connection, PgConnection, PgPool, postgres::PgConnectOptions};
use tokio::sync::Notify;

/// How often the database is checked while it answers.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// How often it is checked while it does not: the service serves again at most this long
/// (plus a connection set-up) after the database returns.
pub const RETRY_INTERVAL: Duration = Duration::from_millis(200);

/// A check that takes longer than this counts as a failure.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Failed checks in a row before the database is called away.
const FAILURES_TO_OPEN: u32 = 2;

/// The database's health as last checked; cheap to clone and to read.
#[derive(Debug, Clone)]
pub struct Health(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    down: AtomicBool,
    suspect: Notify,
    options: PgConnectOptions,
}

impl Health {
    /// Starts out healthy (a service that starts with the database away learns it within one
    /// check).
    pub fn new(pool: &PgPool) -> Self {
        Self(Arc::new(Inner {
            down: AtomicBool::new(false),
            suspect: Notify::new(),
            options: (*pool.connect_options()).clone(),
        }))
    }

    /// Whether the last check failed: requests that need the database can answer 503 now.
    pub fn is_down(&self) -> bool {
        self.0.down.load(Ordering::Acquire)
    }

    /// A request could not use the database: check now rather than at the next interval.
    pub fn suspect(&self) {
        self.0.suspect.notify_one();
    }

    /// Checks the database for as long as it runs (spawn it once per service).
    pub async fn watch(self) {
        let mut connection: Option<PgConnection> = None;
        let mut failures = 0u32;
        loop {
            let answered = tokio::time::timeout(CHECK_TIMEOUT, check(&mut connection, &self))
                .await
                .is_ok_and(|answered| answered);
            if !answered {
                connection = None;
                failures += 1;
            } else {
                failures = 0;
            }
            let away = failures >= FAILURES_TO_OPEN;
            if !answered && !away {
                tokio::time::sleep(RETRY_INTERVAL).await;
                continue;
            }
            let was_down = self.0.down.swap(away, Ordering::AcqRel);
            match (was_down, answered) {
                (false, false) => {
                    tracing::warn!("the database does not answer; answering 503 until it does")
                }
                (true, true) => tracing::info!("the database answers again; serving"),
                _ => {}
            }
            if answered {
                // A flood of suspicions (every 503 is one) costs at most one check per pause.
                tokio::time::sleep(RETRY_INTERVAL).await;
                let rest = CHECK_INTERVAL.saturating_sub(RETRY_INTERVAL);
                let _ = tokio::time::timeout(rest, self.0.suspect.notified()).await;
            } else {
                tokio::time::sleep(RETRY_INTERVAL).await;
            }
        }
    }
}

/// One round trip over the checker's connection, opening it first if needed.
async fn check(connection: &mut Option<PgConnection>, health: &Health) -> bool {
    if connection.is_none() {
        match PgConnection::connect_with(&health.0.options).await {
            Ok(opened) => *connection = Some(opened),
            // The server answered (too many connections, a password problem): it is there.
            Err(sqlx::Error::Database(err)) => {
                tracing::debug!(error = %err, "health check: the server refused a connection");
                return true;
            }
            Err(err) => {
                tracing::debug!(error = %err, "health check: cannot connect");
                return false;
            }
        }
    }
    match connection.as_mut() {
        Some(open) => open.ping().await.is_ok(),
        None => false,
    }
}
