//! Restoring a student to an earlier version from its history (`student_changes`): an update
//! when it exists, a create with its old id (and its old `created_at`) when it was deleted. The
//! change triggers record it as its own change, naming the version it brought back (migration
//! 19).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{
    Error,
    students::{Actor, Expected, StudentRow, columns, with_actor},
};
use crate::domain::Student;

/// A restore's outcome: the student as written, and whether it had to be created again.
#[derive(Debug)]
pub struct Restored {
    pub student: Student,
    pub recreated: bool,
}

/// The fields a version had, as the history recorded them.
#[derive(Debug, sqlx::FromRow)]
struct Snapshot {
    name: String,
    grade: String,
    email: Option<String>,
    created_at: DateTime<Utc>,
}

/// Two restores of one deleted student would both try to create it: they take turns on this
/// lock (with the student's id as the second key), so the second one finds it and updates.
const RESTORE_LOCK: i32 = 0x5245_5354; // "REST"

/// Brings student `id` back to `version`, in one transaction, if its current version is one of
/// `expected` (a deleted student has none, so `If-Match` fails on it). Refusals:
/// [`Error::NotFound`] (no history and no student), [`Error::NoSuchVersion`],
/// [`Error::Stale`], [`Error::RestoredEmailTaken`].
pub async fn restore(
    pool: &PgPool,
    id: i64,
    version: i32,
    expected: Expected<'_>,
    actor: &Actor,
) -> Result<Restored, Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2::int4)")
        .bind(RESTORE_LOCK)
        .bind(i32::try_from(id % i64::from(i32::MAX)).unwrap_or_default())
        .execute(&mut *tx)
        .await?;
    // A delete's entry holds the state it removed, which the version's own entry holds too.
    let snapshot: Option<Snapshot> = sqlx::query_as(
        "SELECT student->>'name' AS name, student->>'grade' AS grade, student->>'email' AS email, \
                (student->>'created_at')::timestamptz AS created_at \
         FROM student_changes WHERE student_id = $1 AND version = $2 LIMIT 1",
    )
    .bind(id)
    .bind(version)
    .fetch_optional(&mut *tx)
    .await?;
    let current: Option<i32> =
        sqlx::query_scalar("SELECT version FROM students WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(snapshot) = snapshot else {
        let known = current.is_some()
            || sqlx::query_scalar::<_, bool>(
                "SELECT EXISTS (SELECT 1 FROM student_changes WHERE student_id = $1)",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        return Err(if known {
            Error::NoSuchVersion { id, version }
        } else {
            Error::NotFound(id)
        });
    };
    if let Some(expected) = expected
        && !current.is_some_and(|current| expected.contains(&current))
    {
        return Err(Error::Stale(id));
    }
    let written: Result<StudentRow, sqlx::Error> = match current {
        Some(_) => {
            sqlx::query_as(concat!(
                with_actor!("$5", "$6", "$7", restoring "$8"),
                "UPDATE students SET name = $2, grade = $3, email = $4 FROM actor \
                 WHERE id = $1 RETURNING ",
                columns!()
            ))
            .bind(id)
            .bind(&snapshot.name)
            .bind(&snapshot.grade)
            .bind(&snapshot.email)
            .bind(actor.token_id)
            .bind(actor.account_id)
            .bind(&actor.name)
            .bind(version)
            .fetch_one(&mut *tx)
            .await
        }
        // Its version goes on from the last one it had, so an ETag from before the delete
        // never matches the restored student.
        None => {
            sqlx::query_as(concat!(
                with_actor!("$6", "$7", "$8", restoring "$9"),
                "INSERT INTO students (id, name, grade, email, created_at, version) \
                 OVERRIDING SYSTEM VALUE \
                 SELECT $1, $2, $3, $4, $5, \
                        (SELECT max(version) + 1 FROM student_changes WHERE student_id = $1) \
                 FROM actor RETURNING ",
                columns!()
            ))
            .bind(id)
            .bind(&snapshot.name)
            .bind(&snapshot.grade)
            .bind(&snapshot.email)
            .bind(snapshot.created_at)
            .bind(actor.token_id)
            .bind(actor.account_id)
            .bind(&actor.name)
            .bind(version)
            .fetch_one(&mut *tx)
            .await
        }
    };
    // The version's address may have gone to another student since.
    let row = written.map_err(|err| match Error::from(err) {
        Error::EmailTaken => Error::RestoredEmailTaken { id, version },
        other => other,
    })?;
    tx.commit().await?;
    Ok(Restored {
        student: Student::try_from(row)?,
        recreated: current.is_none(),
    })
}
