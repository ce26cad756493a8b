//! The brute-force limits on sign-ins (`sign_in_attempts`, migration 16): at most so many
//! failed attempts per username, and per client address, within [`SignInLimits::window`]. In
//! the database, so every instance counts the same attempts and a restart forgets none.

use std::{net::IpAddr, time::Duration};

use sqlx::PgPool;

use super::Error;
use crate::domain::Username;

/// How far back failed sign-ins count against a username or an address.
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// What the sign-ins of one service share.
#[derive(Debug, Clone)]
pub struct SignIns {
    /// How long a sign-in's token lasts.
    pub lifetime: Duration,
    pub limits: SignInLimits,
    pub checks: super::PasswordChecks,
}

/// How many failures a username, and an address, may have in a window; 0: no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    pub per_username: u32,
    pub per_address: u32,
    pub window: Duration,
}

/// Whether an attempt may check its password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// It may: its row is recorded, as a failure until [`forget_failures`] says otherwise.
    Admitted,
    /// Too many failures: the oldest that counts leaves the window in this many seconds.
    Refused {
        retry_after_secs: u64,
        by: LimitedBy,
    },
}

/// Which limit refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitedBy {
    Username,
    Address,
}

impl LimitedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            LimitedBy::Username => "username",
            LimitedBy::Address => "address",
        }
    }
}

/// Counts the failures of `username` (when it can be one) and of `address` within the window
/// and, when both are under their limits, records this attempt. Each key's count and insert
/// run under a transaction-scoped advisory lock on that key (username's before address's, so
/// two attempts never wait on each other in a cycle): a burst of parallel guesses is counted
/// one by one, not all against the same empty count.
pub async fn admit(
    pool: &PgPool,
    limits: SignInLimits,
    username: Option<&Username>,
    address: Option<IpAddr>,
) -> Result<Admission, Error> {
    let window_secs = limits.window.as_secs_f64();
    let username = username.map(Username::as_str);
    let address = address.map(|address| address.to_string());
    let mut tx = pool.begin().await?;
    for (key, value, limit, by) in [
        (
            "username",
            username.map(str::to_owned),
            limits.per_username,
            LimitedBy::Username,
        ),
        (
            "address",
            address.clone(),
            limits.per_address,
            LimitedBy::Address,
        ),
    ] {
        let Some(value) = value.filter(|_| limit > 0) else {
            continue;
        };
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("sign-in {key} {value}"))
            .execute(&mut *tx)
            .await?;
        // The one column named by `key` is compared; the two statements differ only there.
        let counted = match by {
            LimitedBy::Username => sqlx::query_as::<_, (i64, Option<f64>)>(
                "SELECT count(*), extract(epoch FROM min(at) + make_interval(secs => $2) - now())::float8 \
                 FROM sign_in_attempts WHERE username = $1 AND at > now() - make_interval(secs => $2)",
            ),
            LimitedBy::Address => sqlx::query_as::<_, (i64, Option<f64>)>(
                "SELECT count(*), extract(epoch FROM min(at) + make_interval(secs => $2) - now())::float8 \
                 FROM sign_in_attempts WHERE address = $1::inet AND at > now() - make_interval(secs => $2)",
            ),
        };
        let (failures, left) = counted
            .bind(&value)
            .bind(window_secs)
            .fetch_one(&mut *tx)
            .await?;
        if failures >= i64::from(limit) {
            let retry_after_secs = left.map_or(1, |left| left.ceil().max(1.0) as u64);
            return Ok(Admission::Refused {
                retry_after_secs,
                by,
            });
        }
    }
    sqlx::query("INSERT INTO sign_in_attempts (username, address) VALUES ($1, $2::inet)")
        .bind(username)
        .bind(address)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Admission::Admitted)
}

/// A sign-in of `username` worked: its failures no longer count (the address's others do).
pub async fn forget_failures(pool: &PgPool, username: &Username) -> Result<(), Error> {
    sqlx::query("DELETE FROM sign_in_attempts WHERE username = $1")
        .bind(username.as_str())
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes attempts older than `window`: they no longer count.
pub async fn forget_old_attempts(pool: &PgPool, window: Duration) -> Result<u64, Error> {
    let done =
        sqlx::query("DELETE FROM sign_in_attempts WHERE at <= now() - make_interval(secs => $1)")
            .bind(window.as_secs_f64())
            .execute(pool)
            .await?;
    Ok(done.rows_affected())
}
