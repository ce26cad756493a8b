//! The students queries. Every write is one statement, so no error leaves half a row behind.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgPool};

use super::Error;
use crate::domain::{Email, Grade, NewStudent, Student, StudentChanges, StudentName};

/// A row as PostgreSQL returns it. The table's CHECK constraints mirror the domain's rules
/// (migrations 1 and 5), so its values are taken as they are, not parsed again on every read
/// (rows older than a constraint left `NOT VALID` are served as they are, too).
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

impl TryFrom<StudentRow> for Student {
    type Error = Error;

    /// Fails only for a grade outside [`Grade`]'s list, which `students_grade_valid` refuses:
    /// a schema and code out of step.
    fn try_from(row: StudentRow) -> Result<Self, Error> {
        let grade = Grade::parse(&row.grade).map_err(|violation| {
            Error::Corrupt(format!(
                "student {} has grade {:?}: {}",
                row.id, row.grade, violation.message
            ))
        })?;
        Ok(Student {
            id: row.id,
            name: StudentName::from_stored(row.name),
            grade,
            email: row.email.map(Email::from_stored),
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        })
    }
}

/// The columns every query returns, in `StudentRow` order (a macro so `concat!` can use it).
macro_rules! columns {
    () => {
        "id, name, grade, email, created_at, updated_at, version"
    };
}
pub(super) use columns;

/// The rows a list query returned: the students, and how many rows there were. A row that
/// cannot be read is logged and left out, so one bad row never costs the whole page; callers
/// decide whether more pages follow from `rows`, not from the students left.
#[derive(Debug)]
pub struct Fetched {
    pub students: Vec<Student>,
    pub rows: usize,
}

pub(super) fn to_students(rows: Vec<StudentRow>) -> Fetched {
    Fetched {
        rows: rows.len(),
        students: super::readable(rows),
    }
}

/// Who makes a change: recorded with it in `student_changes` (migration 10), for the change
/// feed and each student's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The API token that makes it (`None`: an anonymous caller, which only reads today).
    pub token_id: Option<i64>,
    /// The account whose sign-in makes it (`None`: a program's API token).
    pub account_id: Option<i64>,
    /// The username for a sign-in, else the token's name.
    pub name: String,
}

/// The start of every write: names the actor in three transaction-scoped settings that the
/// `students_record_change` trigger reads. The write selects `FROM actor`, so the settings are
/// made before any row changes (a volatile CTE runs once, before the rows that use it). A
/// restore adds a fourth, the version it brings back (migration 19); it lasts only as long as
/// its transaction, which ends with the statement (or with [`super::settle`] behind a pooler).
macro_rules! with_actor {
    ($token_id:literal, $account_id:literal, $name:literal) => {
        concat!(
            "WITH actor AS (SELECT ",
            $crate::db::students::actor_settings!($token_id, $account_id, $name),
            ") "
        )
    };
    ($token_id:literal, $account_id:literal, $name:literal, restoring $version:literal) => {
        concat!(
            "WITH actor AS (SELECT ",
            $crate::db::students::actor_settings!($token_id, $account_id, $name),
            ", set_config('students_api.restored_from_version', ",
            $version,
            "::text, true) AS restored_from) "
        )
    };
}

/// The actor's three settings, as columns of `with_actor!`'s CTE.
macro_rules! actor_settings {
    ($token_id:literal, $account_id:literal, $name:literal) => {
        concat!(
            "set_config('students_api.actor_token_id', coalesce(",
            $token_id,
            "::text, ''), true) AS actor_token_id, \
             set_config('students_api.actor_account_id', coalesce(",
            $account_id,
            "::text, ''), true) AS actor_account_id, set_config('students_api.actor', ",
            $name,
            ", true) AS actor_name"
        )
    };
}
pub(super) use actor_settings;
pub(super) use with_actor;

/// The versions a conditional write accepts (`If-Match`); `None` writes whatever the version.
pub type Expected<'a> = Option<&'a [i32]>;

/// After a write matched no row: was the student missing, or at another version? An
/// unconditional write misses only a missing student; asking would race a create of this id
/// (the row may exist by the time we look) and blame a precondition nobody sent.
async fn why_missed(pool: &PgPool, id: i64, expected: Expected<'_>) -> Error {
    if expected.is_none() {
        return Error::NotFound(id);
    }
    match sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM students WHERE id = $1)")
        .bind(id)
        .fetch_one(pool)
        .await
    {
        Ok(true) => Error::Stale(id),
        Ok(false) => Error::NotFound(id),
        Err(err) => err.into(),
    }
}

/// The student a conditional write returned, or why it returned none.
async fn written_or_why_not(
    pool: &PgPool,
    id: i64,
    row: Option<StudentRow>,
    expected: Expected<'_>,
) -> Result<Student, Error> {
    match row {
        Some(row) => Student::try_from(row),
        None => Err(why_missed(pool, id, expected).await),
    }
}

pub async fn insert(pool: &PgPool, student: &NewStudent, actor: &Actor) -> Result<Student, Error> {
    let mut conn = pool.acquire().await?;
    insert_on(&mut conn, student, actor).await
}

/// [`insert`] on a connection the caller holds.
pub(super) async fn insert_on(
    conn: &mut PgConnection,
    student: &NewStudent,
    actor: &Actor,
) -> Result<Student, Error> {
    let row: StudentRow = sqlx::query_as(concat!(
        with_actor!("$4", "$5", "$6"),
        "INSERT INTO students (name, grade, email) SELECT $1, $2, $3 FROM actor RETURNING ",
        columns!()
    ))
    .bind(student.name.as_str())
    .bind(student.grade.as_str())
    .bind(student.email.as_ref().map(Email::as_str))
    .bind(actor.token_id)
    .bind(actor.account_id)
    .bind(&actor.name)
    .fetch_one(&mut *conn)
    .await?;
    super::settle(conn).await?;
    Student::try_from(row)
}

pub async fn get(pool: &PgPool, id: i64) -> Result<Option<Student>, Error> {
    let row: Option<StudentRow> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM students WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(Student::try_from).transpose()
}

/// Writes every field, if the stored version is `expected`.
pub async fn replace(
    pool: &PgPool,
    id: i64,
    student: &NewStudent,
    expected: Expected<'_>,
    actor: &Actor,
) -> Result<Student, Error> {
    let mut conn = pool.acquire().await?;
    let row = sqlx::query_as(concat!(
        with_actor!("$6", "$7", "$8"),
        "UPDATE students SET name = $2, grade = $3, email = $4 FROM actor \
         WHERE id = $1 AND ($5::int4[] IS NULL OR version = ANY($5)) RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(student.name.as_str())
    .bind(student.grade.as_str())
    .bind(student.email.as_ref().map(Email::as_str))
    .bind(expected)
    .bind(actor.token_id)
    .bind(actor.account_id)
    .bind(&actor.name)
    .fetch_optional(&mut *conn)
    .await?;
    super::settle(&mut conn).await?;
    drop(conn); // before asking why a write missed, which takes a connection of its own
    written_or_why_not(pool, id, row, expected).await
}

/// Writes only the fields present in `changes`, in one statement, if the stored version is
/// `expected`.
pub async fn update(
    pool: &PgPool,
    id: i64,
    changes: &StudentChanges,
    expected: Expected<'_>,
    actor: &Actor,
) -> Result<Student, Error> {
    let mut conn = pool.acquire().await?;
    let row = sqlx::query_as(concat!(
        with_actor!("$7", "$8", "$9"),
        "UPDATE students SET \
             name = COALESCE($2, name), \
             grade = COALESCE($3, grade), \
             email = CASE WHEN $4 THEN $5 ELSE email END \
         FROM actor \
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
    .bind(actor.token_id)
    .bind(actor.account_id)
    .bind(&actor.name)
    .fetch_optional(&mut *conn)
    .await?;
    super::settle(&mut conn).await?;
    drop(conn); // before asking why a write missed, which takes a connection of its own
    written_or_why_not(pool, id, row, expected).await
}

/// Deletes the student, if the stored version is `expected`.
pub async fn delete(
    pool: &PgPool,
    id: i64,
    expected: Expected<'_>,
    actor: &Actor,
) -> Result<(), Error> {
    let mut conn = pool.acquire().await?;
    let result = sqlx::query(concat!(
        with_actor!("$3", "$4", "$5"),
        "DELETE FROM students USING actor \
         WHERE id = $1 AND ($2::int4[] IS NULL OR version = ANY($2))"
    ))
    .bind(id)
    .bind(expected)
    .bind(actor.token_id)
    .bind(actor.account_id)
    .bind(&actor.name)
    .execute(&mut *conn)
    .await?;
    super::settle(&mut conn).await?;
    drop(conn); // before asking why a write missed, which takes a connection of its own
    if result.rows_affected() > 0 {
        Ok(())
    } else {
        Err(why_missed(pool, id, expected).await)
    }
}
