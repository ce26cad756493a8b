//! The students queries. Every write is one statement, so no error leaves half a row behind.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool};

use crate::domain::{Email, Grade, NewStudent, Student, StudentChanges, StudentName};

/// A row as PostgreSQL returns it; turned into a [`Student`] by re-checking the domain rules.
#[derive(Debug, FromRow)]
pub struct StudentRow {
    pub id: i64,
    pub name: String,
    pub grade: String,
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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
        })
    }
}

/// Either the database failed, or it returned a row the domain refuses.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Corrupt(#[from] CorruptRow),
}

/// The columns every query returns, in `StudentRow` order (a macro so `concat!` can use it).
macro_rules! columns {
    () => {
        "id, name, grade, email, created_at, updated_at"
    };
}

fn to_students(rows: Vec<StudentRow>) -> Result<Vec<Student>, QueryError> {
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
pub async fn list(
    pool: &PgPool,
    after: Option<i64>,
    limit: i64,
) -> Result<Vec<Student>, QueryError> {
    let rows = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM students WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    to_students(rows)
}

/// Writes every field; `None` when no student has `id`.
pub async fn replace(
    pool: &PgPool,
    id: i64,
    student: &NewStudent,
) -> Result<Option<Student>, QueryError> {
    let row = sqlx::query_as(concat!(
        "UPDATE students SET name = $2, grade = $3, email = $4 WHERE id = $1 RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(student.name.as_str())
    .bind(student.grade.as_str())
    .bind(student.email.as_ref().map(Email::as_str))
    .fetch_optional(pool)
    .await?;
    to_student(row)
}

/// Writes only the fields present in `changes`, in one statement; `None` when no student has `id`.
pub async fn update(
    pool: &PgPool,
    id: i64,
    changes: &StudentChanges,
) -> Result<Option<Student>, QueryError> {
    let row = sqlx::query_as(concat!(
        "UPDATE students SET \
             name = COALESCE($2, name), \
             grade = COALESCE($3, grade), \
             email = CASE WHEN $4 THEN $5 ELSE email END \
         WHERE id = $1 RETURNING ",
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
    .fetch_optional(pool)
    .await?;
    to_student(row)
}

/// `true` when a student was deleted, `false` when none had `id`.
pub async fn delete(pool: &PgPool, id: i64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM students WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(result.rows_affected() > 0)
}
