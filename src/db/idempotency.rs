//! Idempotent creates: the `idempotency_keys` table (migration 3) and its expiry.

use sqlx::{PgConnection, PgPool};

use super::{
    Error,
    students::{Actor, StudentRow, columns, with_actor},
};
use crate::domain::{Email, NewStudent, Student};

/// How long an idempotency key answers retries.
pub const IDEMPOTENCY_TTL_HOURS: i32 = 24;

/// Creates a student once per idempotency key, in one transaction with the key's record; a
/// retry with the same key and body gets the student as first created.
/// A transaction-scoped advisory lock on the key serialises requests carrying it: while one
/// runs, another gets [`Error::KeyInUse`] at once instead of waiting; a crash releases the
/// lock and leaves neither the student nor the key.
pub async fn insert_once(
    pool: &PgPool,
    key: &str,
    student: &NewStudent,
    actor: &Actor,
) -> Result<Student, Error> {
    let request = serde_json::json!({
        "name": student.name.as_str(),
        "grade": student.grade.as_str(),
        "email": student.email.as_ref().map(Email::as_str),
    });
    let mut tx = pool.begin().await?;
    let earlier = claim(&mut tx, key).await?;
    if let Some((earlier_request, response)) = earlier {
        if earlier_request != request {
            return Err(Error::KeyReused);
        }
        let row: StudentRow = serde_json::from_value(response).map_err(|err| {
            Error::Corrupt(format!(
                "idempotency key {key:?} holds an unreadable response: {err}"
            ))
        })?;
        tracing::info!(key, "replaying an idempotent create");
        return Student::try_from(row);
    }
    // An expired record of the same key is overwritten: the key starts a new life.
    let row: StudentRow = sqlx::query_as(concat!(
        with_actor!("$6", "$7", "$8"),
        ", created AS (INSERT INTO students (name, grade, email) SELECT $2, $3, $4 FROM actor \
         RETURNING ",
        columns!(),
        "), recorded AS (\
             INSERT INTO idempotency_keys (key, request, response) \
             SELECT $1, $5, to_jsonb(created) FROM created \
             ON CONFLICT (key) DO UPDATE SET request = EXCLUDED.request, \
                 response = EXCLUDED.response, created_at = now()) \
         SELECT * FROM created"
    ))
    .bind(key)
    .bind(student.name.as_str())
    .bind(student.grade.as_str())
    .bind(student.email.as_ref().map(Email::as_str))
    .bind(&request)
    .bind(actor.token_id)
    .bind(actor.account_id)
    .bind(&actor.name)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Student::try_from(row)
}

/// Takes `key` for the caller's transaction, and returns its live record (the request and the
/// answer it got), if any. A transaction-scoped advisory lock on the key serialises requests
/// carrying it: while one runs, another gets [`Error::KeyInUse`] at once instead of waiting.
pub async fn claim(
    conn: &mut PgConnection,
    key: &str,
) -> Result<Option<(serde_json::Value, serde_json::Value)>, Error> {
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
    if !locked {
        return Err(Error::KeyInUse);
    }
    Ok(sqlx::query_as(
        "SELECT request, response FROM idempotency_keys \
         WHERE key = $1 AND created_at > now() - make_interval(hours => $2)",
    )
    .bind(key)
    .bind(IDEMPOTENCY_TTL_HOURS)
    .fetch_optional(&mut *conn)
    .await?)
}

/// Records the answer `request` got under `key`, in the caller's transaction (which holds the
/// key from [`claim`]). An expired record of the same key is overwritten.
pub async fn remember(
    conn: &mut PgConnection,
    key: &str,
    request: &serde_json::Value,
    response: &serde_json::Value,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO idempotency_keys (key, request, response) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET request = EXCLUDED.request, \
             response = EXCLUDED.response, created_at = now()",
    )
    .bind(key)
    .bind(request)
    .bind(response)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes idempotency keys past their 24 hours; returns how many.
pub async fn expire_idempotency_keys(pool: &PgPool) -> Result<u64, Error> {
    let result = sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at <= now() - make_interval(hours => $1)",
    )
    .bind(IDEMPOTENCY_TTL_HOURS)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}
