//! Whether the database answers: a circuit breaker, so that during an outage requests get a
//! `503` at once instead of each waiting out the pool's acquire timeout.
//!
//! A background task ([`Health::watch`]) checks PostgreSQL over a connection of its own: every
//! [`CHECK_INTERVAL`] while it answers, at once when a request reports trouble
//! ([`Health::suspect`]), and every [`RETRY_INTERVAL`] while it does not. Requests read a flag
//! ([`Health::is_down`]), and those already waiting are let go when it flips
//! ([`Health::unless_down`]). A **definite** failure opens the breaker at once: the server
//! refused the connection (nothing listens, "the database system is shutting down / starting
//! up"), or reset it. An ambiguous one (a check that timed out) must happen twice in a row: one
//! slow ping under load must not take the service down. A server that answers at all, even
//! "too many connections", is not away.

use std::{
    future::Future,
    io::ErrorKind,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::Poll,
    time::Duration,
};

use sqlx::{Connection, PgConnection, PgPool, postgres::PgConnectOptions};
use tokio::{sync::Notify, time::Instant};

/// How often the database is checked while it answers.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// How often it is checked while it does not: the service serves again at most this long
/// (plus a connection set-up) after the database returns.
pub const RETRY_INTERVAL: Duration = Duration::from_millis(200);

/// The shortest pause between two checks, however many requests suspect the database: a flood
/// of suspicions costs at most this many round trips a second on the checker's connection.
const MIN_CHECK_GAP: Duration = Duration::from_millis(50);

/// A check that takes longer than this counts as an (ambiguous) failure.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// Ambiguous failed checks in a row before the database is called away.
const UNSURE_FAILURES_TO_OPEN: u32 = 2;

/// The database's health as last checked; cheap to clone and to read.
#[derive(Debug, Clone)]
pub struct Health(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    down: AtomicBool,
    /// Woken when the breaker opens, so requests already waiting for the database stop.
    opened: Notify,
    suspect: Notify,
    options: PgConnectOptions,
}

/// What one check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    Answers,
    /// Refused or reset: the database is away, no second opinion needed.
    Away,
    /// No answer in time, or an error that does not say: counts, but alone opens nothing.
    Unsure,
}

impl Health {
    /// Starts out healthy (a service that starts with the database away learns it within one
    /// check).
    pub fn new(pool: &PgPool) -> Self {
        Self(Arc::new(Inner {
            down: AtomicBool::new(false),
            opened: Notify::new(),
            suspect: Notify::new(),
            options: (*pool.connect_options()).clone(),
        }))
    }

    /// Whether the breaker is open: requests that need the database can answer 503 now.
    pub fn is_down(&self) -> bool {
        self.0.down.load(Ordering::Acquire)
    }

    /// A request could not use the database, or is taking long: check now rather than at the
    /// next interval.
    pub fn suspect(&self) {
        self.0.suspect.notify_one();
    }

    /// Runs `work` unless the breaker is open, or opens before it is done (then `None`, and
    /// `work` is dropped): nothing waits out a timeout for a database known to be away.
    pub async fn unless_down<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        if self.is_down() {
            return None;
        }
        tokio::pin!(work);
        // Work done at its first poll needs no watching (and no place in the waiters' list).
        let first = std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await;
        if let Poll::Ready(done) = first {
            return Some(done);
        }
        let opened = self.0.opened.notified();
        tokio::pin!(opened);
        // Registered before the flag is read again: an opening in between is not missed.
        opened.as_mut().enable();
        if self.is_down() {
            return None;
        }
        tokio::select! {
            biased;
            done = &mut work => Some(done),
            () = opened => None,
        }
    }

    fn set_down(&self, down: bool) {
        let was_down = self.0.down.swap(down, Ordering::AcqRel);
        metrics::gauge!(crate::telemetry::DB_AWAY).set(f64::from(u8::from(down)));
        match (was_down, down) {
            (false, true) => {
                self.0.opened.notify_waiters();
                tracing::warn!("the database does not answer; answering 503 until it does");
            }
            (true, false) => tracing::info!("the database answers again; serving"),
            _ => {}
        }
    }

    /// Checks the database for as long as it runs (spawn it once per service).
    pub async fn watch(self) {
        let mut connection: Option<PgConnection> = None;
        let mut unsure = 0u32;
        loop {
            let finding = tokio::time::timeout(CHECK_TIMEOUT, check(&mut connection, &self))
                .await
                .unwrap_or(Finding::Unsure);
            let checked = Instant::now();
            match finding {
                Finding::Answers => {
                    unsure = 0;
                    self.set_down(false);
                }
                Finding::Away => {
                    connection = None;
                    self.set_down(true);
                }
                Finding::Unsure => {
                    connection = None;
                    unsure += 1;
                    if unsure >= UNSURE_FAILURES_TO_OPEN {
                        self.set_down(true);
                    }
                }
            }
            let next = if finding == Finding::Answers {
                CHECK_INTERVAL
            } else {
                RETRY_INTERVAL
            };
            // A suspicion brings the next check forward, but never closer than MIN_CHECK_GAP.
            let _ = tokio::time::timeout_at(checked + next, self.0.suspect.notified()).await;
            tokio::time::sleep_until(checked + MIN_CHECK_GAP).await;
        }
    }
}

/// One check over the checker's connection, opening it first if needed. A connection that
/// fails its ping may only have been closed (a pooler restarted, a backend terminated): the
/// server's answer to a new connection decides.
async fn check(connection: &mut Option<PgConnection>, health: &Health) -> Finding {
    if let Some(open) = connection.as_mut() {
        if open.ping().await.is_ok() {
            return Finding::Answers;
        }
        *connection = None;
    }
    match PgConnection::connect_with(&health.0.options).await {
        Ok(mut opened) => {
            let finding = match opened.ping().await {
                Ok(()) => Finding::Answers,
                Err(err) => classify(&err),
            };
            if finding == Finding::Answers {
                *connection = Some(opened);
            }
            finding
        }
        Err(err) => {
            tracing::debug!(error = %err, "health check: cannot connect");
            classify(&err)
        }
    }
}

/// What an error opening or using the checker's connection says of the database.
fn classify(err: &sqlx::Error) -> Finding {
    match err {
        sqlx::Error::Io(io) if is_refusal(io.kind()) => Finding::Away,
        sqlx::Error::Database(db) => match db.code().as_deref() {
            // admin_shutdown, cannot_connect_now (shutting down, starting up, in recovery),
            // crash_shutdown: the server itself says it is not serving.
            Some("57P01" | "57P02" | "57P03") => Finding::Away,
            // It answered (too many connections, a password problem): it is there.
            _ => Finding::Answers,
        },
        _ => Finding::Unsure,
    }
}

/// Socket errors that only a server that is not there (or just went) gives.
fn is_refusal(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConnectionRefused
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotFound
            | ErrorKind::BrokenPipe
            | ErrorKind::UnexpectedEof
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_definite_timeouts_and_tls_are_not() {
        let io = |kind| sqlx::Error::Io(std::io::Error::from(kind));
        assert_eq!(classify(&io(ErrorKind::ConnectionRefused)), Finding::Away);
        assert_eq!(classify(&io(ErrorKind::ConnectionReset)), Finding::Away);
        assert_eq!(classify(&io(ErrorKind::TimedOut)), Finding::Unsure);
        assert_eq!(classify(&sqlx::Error::PoolTimedOut), Finding::Unsure);
    }
}
