//! PostgreSQL access: the pool, migrations, readiness, and one file per table or concern.

mod accounts;
mod caller;
mod change_feed;
mod changes;
mod creates;
mod error;
mod health;
mod idempotency;
mod import;
mod listing;
mod restore;
pub mod sign_ins;
mod students;
mod token_cache;
mod tokens;
pub mod webhooks;

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{
    ConnectOptions, Connection, Executor, PgConnection, PgPool, Postgres,
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};

pub use crate::config::Pooler;
pub use accounts::{
    AccountChange, AccountRecord, ChangeRefused, Changed, PasswordChecks, SignIn, SignedIn,
    any_account, change_own_password, checked_password, create_account, disable_account,
    get_account, list_accounts, reset_password, set_password, sign_in, stored_password_hash,
    update_account,
};
pub use change_feed::{
    ANNOUNCE_EVERY, CHANGES_CHANNEL, ChangeFeed, FeedError, FeedFilter, FeedItem, OnLag,
    POLL_INTERVAL, Subscription,
};
pub use changes::{FeedRead, HistoryPage, history, prune_changes, read_feed};
pub use creates::{Creates, MAX_BATCH};
pub use error::{EMAIL_UNIQUE_INDEX, Error, is_unavailable};
pub use health::{CHECK_INTERVAL, Health, RETRY_INTERVAL};
pub use idempotency::{
    IDEMPOTENCY_TTL_HOURS, claim as claim_idempotency_key, expire_idempotency_keys, insert_once,
    remember as remember_idempotency_key,
};
pub use import::{Duplicate, Duplicates, Import};
pub use listing::{count, estimate, export_page, list};
pub use restore::{Restored, restore};
pub use students::{Actor, Expected, Fetched, delete, get, insert, replace, update};
pub use token_cache::{CachedToken, Holder, RELOAD_INTERVAL, TOKENS_CHANNEL, TokenCache, Verdict};
pub use tokens::{
    TOKEN_LIST_LIMIT, TokenRecord, any_token, create_token, create_token_with, insert_token,
    list_tokens, revoke_token, touch_token,
};

/// The migrations in `migrations/`, embedded in the binary and applied at start-up.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a request waits for a pooled connection before answering 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest one statement may run; past it PostgreSQL cancels it and the request gets a 503,
/// so a stuck query holds a connection for seconds, not forever.
pub const STATEMENT_TIMEOUT: &str = "5s";

/// A connection idle longer than this is pinged before it is lent (one that fails is replaced
/// unseen): the server, a firewall or a pooler may have closed it meanwhile. One lent again
/// sooner is not: under load that saves a round trip per request (sqlx pings every time by
/// default); a connection lost in between costs its request a `503`, with nothing written.
pub const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// The longest a statement of expensive work (a search, an exact count, an export's page) may
/// run: a share of the pool is set aside for such work (`api::budget`), and this keeps it
/// turning over.
pub const EXPENSIVE_STATEMENT_TIMEOUT: &str = "2s";

/// Whether the database is prepared (migrations applied), and what preparing it read: the
/// secret that signs list cursors. Set at start-up, or later, when the database was down at
/// start-up, by `jobs::migrate_when_back`; until then the API answers 503.
#[derive(Debug, Clone, Default)]
pub struct MigrationState(Arc<OnceLock<CursorSecret>>);

impl MigrationState {
    pub fn mark_applied(&self, secret: CursorSecret) {
        let _ = self.0.set(secret);
    }

    pub fn is_applied(&self) -> bool {
        self.0.get().is_some()
    }

    /// The cursor secret, once the database is prepared.
    pub fn cursor_secret(&self) -> Option<&CursorSecret> {
        self.0.get()
    }
}

/// The key list cursors are signed with (HMAC-SHA256), from the `cursor_signing_key` table, so
/// every instance on one database signs alike and a restart keeps cursors valid.
#[derive(Clone, PartialEq, Eq)]
pub struct CursorSecret(Vec<u8>);

impl CursorSecret {
    pub fn new(key: Vec<u8>) -> Self {
        Self(key)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for CursorSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorSecret(..)")
    }
}

/// Why the database could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("cannot prepare the database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl PrepareError {
    /// The database is away (worth waiting for), rather than refusing what we asked.
    pub fn is_unavailable(&self) -> bool {
        use sqlx::migrate::MigrateError as M;
        match self {
            PrepareError::Database(err)
            | PrepareError::Migrate(M::Execute(err) | M::ExecuteMigration(err, _)) => {
                is_unavailable(err)
            }
            PrepareError::Migrate(_) => false,
        }
    }
}

/// Creates the database if missing, applies the migrations, reports constraints that rows
/// written before them still break (migrations 5 and 6 add CHECKs `NOT VALID` when they do),
/// and reads the cursor secret.
pub async fn prepare(url: &str, pool: &PgPool) -> Result<CursorSecret, PrepareError> {
    ensure_database(url).await?;
    MIGRATOR.run(pool).await?;
    let unvalidated: Vec<String> = sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint \
         WHERE conrelid = 'students'::regclass AND NOT convalidated ORDER BY conname",
    )
    .fetch_all(pool)
    .await?;
    if !unvalidated.is_empty() {
        tracing::warn!(
            constraints = ?unvalidated,
            "rows written before these constraints break them; they hold for every new write. \
             Fix the rows, then run ALTER TABLE students VALIDATE CONSTRAINT <name> \
             (migrations/README.md)"
        );
    }
    let key: Vec<u8> = sqlx::query_scalar("SELECT key FROM cursor_signing_key")
        .fetch_one(pool)
        .await?;
    Ok(CursorSecret(key))
}

/// Creates the database named in `url` when it does not exist yet. Several instances starting
/// at once race to create it: losing that race (`duplicate_database`, or the catalog's unique
/// index) means it exists, which is all we wanted.
pub async fn ensure_database(url: &str) -> Result<(), sqlx::Error> {
    if Postgres::database_exists(url).await? {
        return Ok(());
    }
    match Postgres::create_database(url).await {
        Err(sqlx::Error::Database(err))
            if matches!(err.code().as_deref(), Some("42P04" | "23505")) =>
        {
            Ok(())
        }
        result => result,
    }
}

/// A pool of up to `size` connections to `url`. Lazy: the service starts even while the
/// database is still coming up.
///
/// Behind a transaction pooler (`Pooler::Transaction`; docs/operations.md) sqlx's
/// prepare-then-bind round trips must not straddle two server connections, so every use of a
/// pooled connection is one transaction: `BEGIN` when it is handed out, `COMMIT` when it comes
/// back. A write the client is told about is committed before that, by [`settle`]. The pooler
/// deallocates sqlx's named statements between leases (`server_reset_query`), and PgBouncer
/// refuses the `options` startup parameter, so its `connect_query` sets the statement timeout.
pub fn pool(url: &str, size: u32, pooler: Pooler) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    let options = options
        .application_name("students-api")
        // Not every statement at DEBUG: sqlx asks the logger on each one whether it would
        // print it, 1.5% of a GET's CPU. Slow ones (over a second) still come at WARN.
        .log_statements(tracing::log::LevelFilter::Off);
    let pool = PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // Emitted as a tracing event, which telemetry turns into db_pool_acquire_duration_seconds.
        .acquire_time_level(tracing::log::LevelFilter::Trace);
    Ok(match pooler {
        Pooler::Direct => pool
            // sqlx's default pings every connection it lends: one more round trip per request.
            .test_before_acquire(false)
            .before_acquire(|conn, lent| {
                Box::pin(async move {
                    if lent.idle_for < PING_AFTER_IDLE {
                        return Ok(true);
                    }
                    conn.ping().await.map(|()| true)
                })
            })
            .connect_lazy_with(options.options([("statement_timeout", STATEMENT_TIMEOUT)])),
        Pooler::Transaction => {
            TRANSACTION_POOLER.store(true, Ordering::Relaxed);
            pool
                // `BEGIN` tests the connection: no separate ping.
                .test_before_acquire(false)
                // A connection past its lifetime is closed without `after_release`: what its
                // lease wrote and did not settle would be rolled back.
                .max_lifetime(None)
                .after_connect(|conn, _| {
                    Box::pin(async move { conn.execute("BEGIN").await.map(drop) })
                })
                .before_acquire(|conn, _| {
                    Box::pin(async move { conn.execute("BEGIN").await.map(|_| true) })
                })
                // A lease that ended its own transaction (`tx.commit()`) gets a warning here.
                .after_release(|conn, _| {
                    Box::pin(async move { Ok(conn.execute("COMMIT").await.is_ok()) })
                })
                .connect_lazy_with(options.statement_cache_capacity(0))
        }
    })
}

/// Whether a pool was made for a transaction pooler (one mode per process).
static TRANSACTION_POOLER: AtomicBool = AtomicBool::new(false);

/// Makes what `conn` wrote durable before the caller answers. On a direct connection each
/// statement committed itself; behind a transaction pooler the lease's transaction is committed
/// now (not when the connection comes back, after the answer) and the next one opened in the
/// same round trip, so the lease keeps its server connection.
async fn settle(conn: &mut PgConnection) -> Result<(), Error> {
    Ok(settle_raw(conn).await?)
}

/// [`settle`], with sqlx's error as it came.
async fn settle_raw(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    if TRANSACTION_POOLER.load(Ordering::Relaxed) {
        conn.execute("COMMIT; BEGIN").await?;
    }
    Ok(())
}

/// The pool that serves listing and export: a read replica's when `DATABASE_READ_URL` is set,
/// else the primary's.
#[derive(Debug, Clone)]
pub struct ReadPool(pub PgPool);

/// A direct connection's settings, for LISTEN and migrations (`DATABASE_LISTEN_URL`): the
/// follower pools of the change feed and the token cache copy them.
#[derive(Debug, Clone)]
pub struct ListenPool(pub PgPool);

/// `rows` read as `T`, leaving out (and logging) any that cannot be read: one bad row a
/// hand-made insert left must not cost the page, or stop the feed.
fn readable<R, T: TryFrom<R, Error = Error>>(rows: impl IntoIterator<Item = R>) -> Vec<T> {
    rows.into_iter()
        .filter_map(|row| {
            T::try_from(row)
                .inspect_err(|err| {
                    tracing::error!(
                        error = %err,
                        of = std::any::type_name::<T>(),
                        "left an unreadable row out"
                    )
                })
                .ok()
        })
        .collect()
}

/// A pool of two connections of its own, with `direct`'s settings, for a follower of
/// notifications (the token cache, the change feed): one holds the LISTEN, the other reads, so a
/// request pool full of slow work cannot delay it.
fn follower_pool(direct: &ListenPool) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .connect_lazy_with((*direct.0.connect_options()).clone())
}

/// A LISTEN on `channel`, tried again every second until it holds (the database may be away).
async fn listen(pool: &PgPool, channel: &str) -> PgListener {
    loop {
        let listening = match PgListener::connect_with(pool).await {
            Ok(mut listener) => listener.listen(channel).await.map(|()| listener),
            Err(err) => Err(err),
        };
        match listening {
            Ok(listener) => return listener,
            Err(err) => {
                tracing::warn!(error = %err, channel, "cannot LISTEN; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Answers whether the database takes queries right now (for `/readyz`).
pub async fn ping(pool: &PgPool) -> Result<(), Error> {
    let mut conn = pool.acquire().await?;
    conn.ping().await?;
    Ok(())
}
