//! PostgreSQL access: the pool, migrations, readiness, and one file per table or concern.

mod error;
mod health;
mod idempotency;
mod listing;
mod students;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{
    Connection, PgPool, Postgres,
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
};

pub use error::{EMAIL_UNIQUE_INDEX, Error, is_unavailable};
pub use health::{CHECK_INTERVAL, Health, RETRY_INTERVAL};
pub use idempotency::{IDEMPOTENCY_TTL_HOURS, expire_idempotency_keys, insert_once};
pub use listing::{count, export_page, list};
pub use students::{Expected, Fetched, delete, get, insert, replace, update};

/// The migrations in `migrations/`, embedded in the binary and applied at start-up.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a request waits for a pooled connection before answering 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest one statement may run; past it PostgreSQL cancels it and the request gets a 503,
/// so a stuck query holds a connection for seconds, not forever.
pub const STATEMENT_TIMEOUT: &str = "5s";

/// The longest a statement of expensive work (a search, an exact count, an export's page) may
/// run: a share of the pool is set aside for such work (`api::budget`), and this keeps it
/// turning over.
pub const EXPENSIVE_STATEMENT_TIMEOUT: &str = "2s";

/// Whether the migrations have been applied. Set at start-up, or later, when the database was
/// down at start-up, by `jobs::migrate_when_back`; until then the API answers 503.
#[derive(Debug, Clone, Default)]
pub struct MigrationState(Arc<AtomicBool>);

impl MigrationState {
    /// For a pool whose database is known to be migrated.
    pub fn applied() -> Self {
        let state = Self::default();
        state.mark_applied();
        state
    }

    pub fn mark_applied(&self) {
        self.0.store(true, Ordering::Release);
    }

    pub fn is_applied(&self) -> bool {
        self.0.load(Ordering::Acquire)
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

/// Creates the database if missing, applies the migrations, and reports constraints that rows
/// written before them still break (migration 5 adds its CHECKs `NOT VALID` when they do).
pub async fn prepare(url: &str, pool: &PgPool) -> Result<(), PrepareError> {
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
    Ok(())
}

/// Creates the database named in `url` when it does not exist yet.
pub async fn ensure_database(url: &str) -> Result<(), sqlx::Error> {
    if !Postgres::database_exists(url).await? {
        Postgres::create_database(url).await?;
    }
    Ok(())
}

/// A pool of up to `size` connections to `url`. Lazy: the service starts even while the
/// database is still coming up.
pub fn pool(url: &str, size: u32) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    Ok(PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(
            options
                .application_name("students-api")
                .options([("statement_timeout", STATEMENT_TIMEOUT)]),
        ))
}

/// Answers whether the database takes queries right now (for `/readyz`).
pub async fn ping(pool: &PgPool) -> Result<(), Error> {
    let mut conn = pool.acquire().await?;
    conn.ping().await?;
    Ok(())
}
