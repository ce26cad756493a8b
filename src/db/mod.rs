//! PostgreSQL access: the pool, migrations and the students queries.

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

pub use listing::{count, list};
pub use students::{
    CorruptRow, Expected, IDEMPOTENCY_TTL_HOURS, QueryError, StudentRow, expire_idempotency_keys,
    insert_once,
};
pub use students::{delete, get, insert, replace, update};

/// The migrations in `migrations/`, embedded in the binary and applied at start-up.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The unique index behind "one student per e-mail address"; a violation is a 409, not a 500.
pub const EMAIL_UNIQUE_INDEX: &str = "students_email_key";

/// How long a request waits for a pooled connection before answering 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest one statement may run; past it PostgreSQL cancels it and the request gets a 503,
/// so a stuck query holds a connection for seconds, not forever.
pub const STATEMENT_TIMEOUT: &str = "5s";

/// Whether the schema is in place. Set at start-up, or later, when the database was down at
/// start-up, by [`prepare_when_back`]; until then the API answers 503.
#[derive(Debug, Clone, Default)]
pub struct SchemaState(Arc<AtomicBool>);

impl SchemaState {
    /// For a pool whose database is known to be prepared.
    pub fn ready() -> Self {
        let state = Self::default();
        state.0.store(true, Ordering::Release);
        state
    }

    pub fn is_ready(&self) -> bool {
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
                crate::error::is_unavailable(err)
            }
            PrepareError::Migrate(_) => false,
        }
    }
}

/// Creates the database if missing and applies the migrations.
pub async fn prepare(url: &str, pool: &PgPool) -> Result<(), PrepareError> {
    ensure_database(url).await?;
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Retries [`prepare`] until the database is back, then marks the schema ready.
pub async fn prepare_when_back(url: String, pool: PgPool, schema: SchemaState) {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        match prepare(&url, &pool).await {
            Ok(()) => {
                schema.0.store(true, Ordering::Release);
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
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    conn.ping().await
}
