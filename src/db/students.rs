//! The students queries. Every write is one statement, so no error leaves half a row behind.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool};

use crate::domain::{Email, Grade, NewStudent, Student, StudentChanges, StudentName};

/// A row as PostgreSQL returns it; turned into a [`Student`] by re-checking the domain rules.
#[derive(Debug, FromRow, serde::Deserialize)]
pub struct StudentRow {
    pub id: i64,
    pub name: String,
    pub grade: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// A row that breaks a domain rule means the table's CHECKs and the types disagree: a bug.
#[derive(Debug, thiserror::Error)]
#[error("student {id} in the database breaks a domain rule: {message}")]
pub struct CorruptRow {
    pub id: i64,
    pub message: String,
}

impl TryFrom<StudentRow> for Student {
    type Error = CorruptRow;

    fn try_from(row: StudentRow) -> Result<Self, CorruptRow> {
        let corrupt = |v: crate::domain::Violation| CorruptRow {
            id: row.id,
            message: v.message,
        };
        Ok(Student {
            id: row.id,
            name: StudentName::parse(&row.name).map_err(corrupt)?,
            grade: Grade::parse(&row.grade).map_err(corrupt)?,
            email: row
                .email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(corrupt)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        })
    }
}

/// Why a query gave no student: the database failed, returned a row the domain refuses, has no
/// such student, or (for a conditional write) holds another version than the one expected.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Corrupt(#[from] CorruptRow),
    #[error("student {0} does not exist")]
    NotFound(i64),
    #[error("student {0} is not at an expected version")]
    Stale(i64),
    #[error("another request with this idempotency key is still running")]
    KeyInUse,
    #[error("this idempotency key was used with a different request")]
    KeyReused,
}

/// The versions a conditional write accepts (`If-Match`); `None` writes whatever the version.
pub type Expected<'a> = Option<&'a [i32]>;

/// After a conditional write matched no row: was the student missing, or at another version?
async fn miss(pool: &PgPool, id: i64) -> QueryError {
    match sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM students WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
    {
        Ok(true) => QueryError::Stale(id),
        Ok(false) => QueryError::NotFound(id),
        Err(err) => err.into(),
    }
}

async fn written(pool: &PgPool, id: i64, row: Option<StudentRow>) -> Result<Student, QueryError> {
    match row {
        Some(row) => Ok(Student::try_from(row)?),
        None => Err(miss(pool, id).await),
    }
}

/// The columns every query returns, in `StudentRow` order (a macro so `concat!` can use it).
macro_rules! columns {
    () => {
        "id, name, grade, email, created_at, updated_at, version"
    };
}
pub(super) use columns;

pub(super) fn to_students(rows: Vec<StudentRow>) -> Result<Vec<Student>, QueryError> {
    rows.into_iter()
        .map(|row| Student::try_from(row).map_err(QueryError::from))
        .collect()
}

fn to_student(row: Option<StudentRow>) -> Result<Option<Student>, QueryError> {
    Ok(row.map(Student::try_from).transpose()?)
}

pub async fn insert(pool: &PgPool, student: &NewStudent) -> Result<Student, QueryError> {
    let row: StudentRow = sqlx::query_as(concat!(
        "INSERT INTO students (name, grade, email) VALUES ($1, $2, $3) RETURNING ",
        columns!()
    ))
    .bind(student.name.as_str())
    .bind(student.grade.as_str())
    .bind(student.email.as_ref().map(Email::as_str))
    .fetch_one(pool)
    .await?;
    Ok(Student::try_from(row)?)
}

/// How long an idempotency key answers retries.
pub const IDEMPOTENCY_TTL_HOURS: i32 = 24;

/// Creates a student once per idempotency key, in one transaction with the key's record; a
/// retry with the same key and body gets the student as first created.
/// A transaction-scoped advisory lock on the key serialises requests carrying it: while one
/// runs, another gets [`QueryError::KeyInUse`] at once instead of waiting; a crash releases
/// the lock and leaves neither the student nor the key.
pub async fn insert_once(
    pool: &PgPool,
    key: &str,
    student: &NewStudent,
) -> Result<Student, QueryError> {
    let request = serde_json::json!({
        "name": student.name.as_str(),
        "grade": student.grade.as_str(),
        "email": student.email.as_ref().map(Email::as_str),
    });
    let mut tx = pool.begin().await?;
    let locked: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .fetch_one(&mut *tx)
            .await?;
    if !locked {
        return Err(QueryError::KeyInUse);
    }
    let earlier: Option<(serde_json::Value, serde_json::Value)> = sqlx::query_as(
        "SELECT request, response FROM idempotency_keys \
         WHERE key = $1 AND created_at > now() - make_interval(hours => $2)",
    )
    .bind(key)
    .bind(IDEMPOTENCY_TTL_HOURS)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((earlier_request, response)) = earlier {
        if earlier_request != request {
            return Err(QueryError::KeyReused);
        }
        let row: StudentRow = serde_json::from_value(response).map_err(|err| CorruptRow {
            id: 0,
            message: format!("idempotency key {key:?} holds an unreadable response: {err}"),
        })?;
        tracing::info!(key, "replaying an idempotent create");
        return Ok(Student::try_from(row)?);
    }
    // An expired record of the same key is overwritten: the key starts a new life.
    let row: StudentRow = sqlx::query_as(concat!(
        "WITH created AS (INSERT INTO students (name, grade, email) VALUES ($2, $3, $4) RETURNING ",
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
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Student::try_from(row)?)
}

/// Deletes idempotency keys past their 24 hours; returns how many.
pub async fn expire_idempotency_keys(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "DELETE FROM idempotency_keys WHERE created_at <= now() - make_interval(hours => $1)",
    )
    .bind(IDEMPOTENCY_TTL_HOURS)
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Option<Student>, QueryError> {
    let row = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM students WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    to_student(row)
}

/// Up to `limit` students with an id above `after`, in id order (keyset pagination).
/// Writes every field, if the stored version is `expected`.
pub async fn replace(
    pool: &PgPool,
    id: i64,
    student: &NewStudent,
    expected: Expected<'_>,
) -> Result<Student, QueryError> {
    let row = sqlx::query_as(concat!(
        "UPDATE students SET name = $2, grade = $3, email = $4 \
         WHERE id = $1 AND ($5::int4[] IS NULL OR version = ANY($5)) RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(student.name.as_str())
    .bind(student.grade.as_str())
    .bind(student.email.as_ref().map(Email::as_str))
    .bind(expected)
    .fetch_optional(pool)
    .await?;
    written(pool, id, row).await
}

/// Writes only the fields present in `changes`, in one statement, if the stored version is
/// `expected`.
pub async fn update(
    pool: &PgPool,
    id: i64,
    changes: &StudentChanges,
    expected: Expected<'_>,
) -> Result<Student, QueryError> {
    let row = sqlx::query_as(concat!(
        "UPDATE students SET \
             name = COALESCE($2, name), \
             grade = COALESCE($3, grade), \
             email = CASE WHEN $4 THEN $5 ELSE email END \
         WHERE id = $1 AND ($6::int4[] IS NULL OR version = ANY($6)) RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(changes.name.as_ref().map(StudentName::as_str))
    .bind(changes.grade.map(Grade::as_str))
    .bind(changes.email.is_some())
    .bind(
        changes
            .email
            .as_ref()
            .and_then(|e| e.as_ref().map(Email::as_str)),
    )
    .bind(expected)
    .fetch_optional(pool)
    .await?;
    written(pool, id, row).await
}

/// Deletes the student, if the stored version is `expected`.
pub async fn delete(pool: &PgPool, id: i64, expected: Expected<'_>) -> Result<(), QueryError> {
    let result = sqlx::query(
        "DELETE FROM students WHERE id = $1 AND ($2::int4[] IS NULL OR version = ANY($2))",
    )
    .bind(id)
    .bind(expected)
    .execute(pool)
    .await?;
    if result.rows_affected() > 0 {
        Ok(())
    } else {
        Err(miss(pool, id).await)
    }
}
