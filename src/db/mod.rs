//! PostgreSQL access: the pool, migrations and the students queries.

mod students;

use std::time::Duration;

use sqlx::{
    Connection, PgPool, Postgres,
    migrate::{MigrateDatabase, Migrator},
    postgres::{PgConnectOptions, PgPoolOptions},
};

pub use students::{
    CorruptRow, Expected, IDEMPOTENCY_TTL_HOURS, QueryError, StudentRow, expire_idempotency_keys,
    insert_once,
};
pub use students::{delete, get, insert, list, replace, update};

/// The migrations in `migrations/`, embedded in the binary and applied at start-up.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The unique index behind "one student per e-mail address"; a violation is a 409, not a 500.
pub const EMAIL_UNIQUE_INDEX: &str = "students_email_key";

/// How long a request waits for a pooled connection before answering 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The longest one statement may run; past it PostgreSQL cancels it and the request gets a 503,
/// so a stuck query holds a connection for seconds, not forever.
pub const STATEMENT_TIMEOUT: &str = "5s";

/// Creates the database named in `url` when it does not exist yet.
pub async fn ensure_database(url: &str) -> Result<(), sqlx::Error> {
    if !Postgres::database_exists(url).await? {
        Postgres::create_database(url).await?;
    }
    Ok(())
}

/// A pool for `url`. Lazy: the service starts even while the database is still coming up.
pub fn pool(url: &str) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = url.parse()?;
    Ok(PgPoolOptions::new()
        .max_connections(10)
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
