//! Background tasks: migrating once the database is back, expiring idempotency keys and old
//! sign-in attempts, pruning recorded changes.

use std::time::Duration;

use sqlx::PgPool;

use crate::{
    db::sign_ins::SIGN_IN_WINDOW,
    db::{self, MigrationState},
};

/// Retries [`db::prepare`] until the database is back, then marks the migrations applied.
pub async fn migrate_when_back(url: String, pool: PgPool, migrations: MigrationState) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        match db::prepare(&url, &pool).await {
            Ok(secret) => {
                migrations.mark_applied(secret);
                tracing::info!("the database is back and migrated; serving");
                return;
            }
            Err(err) if err.is_unavailable() => {
                tracing::debug!(error = %err, "the database is still unreachable");
            }
            Err(err) => tracing::error!(error = %err, "cannot prepare the database; retrying"),
        }
    }
}

/// Deletes idempotency keys past their 24 hours, and sign-in attempts older than the window
/// they count in, every ten minutes, for as long as it runs.
pub async fn expire_old_records(pool: PgPool) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        match db::expire_idempotency_keys(&pool).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "expired idempotency keys"),
            Err(err) => tracing::warn!(error = %err, "could not expire idempotency keys"),
        }
        match db::sign_ins::forget_old_attempts(&pool, SIGN_IN_WINDOW).await {
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not forget old sign-in attempts"),
        }
    }
}

/// Deletes recorded changes (and webhook attempts) older than `retention`, every minute, for as long as it runs.
pub async fn prune_changes(pool: PgPool, retention: Duration) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    loop {
        every.tick().await;
        match db::prune_changes(&pool, retention).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "pruned recorded changes past their retention"),
            Err(err) => tracing::warn!(error = %err, "could not prune recorded changes"),
        }
        match db::webhooks::prune(&pool, retention).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "pruned webhook attempts past the retention"),
            Err(err) => tracing::warn!(error = %err, "could not prune webhook attempts"),
        }
    }
}
