//! Wire types: one schema per direction (create, replace, patch, read), and their conversions
//! to and from the domain.

use chrono::DateTime;
use poem_openapi::{
    Object,
    types::{Example, MaybeUndefined},
};
use serde::Serialize;

use super::cursor::Cursor;
use crate::{
    api::types::{Nullable, Timestamp},
    domain::{Email, Grade, NewStudent, Student, StudentChanges, StudentName},
};

/// A student as stored. `id`, `created_at` and `updated_at` are set by the server.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Student", example)]
pub struct StudentRead {
    /// Server-assigned identifier.
    #[oai(
        read_only,
        validator(minimum(value = "1"), maximum(value = "9223372036854775807"))
    )]
    pub id: i64,
    pub name: StudentName,
    pub grade: Grade,
    pub email: Nullable<Email>,
    /// When the student was created.
    pub created_at: Timestamp,
    /// When any field last changed.
    pub updated_at: Timestamp,
}

/// Fields of a new student. Unknown fields, and `id` or timestamps, are refused with 422.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example)]
pub struct StudentCreate {
    pub name: StudentName,
    pub grade: Grade,
    /// Optional; omit it or send `null` for none.
    #[oai(nullable)]
    pub email: Option<Email>,
}

/// Every writable field of a student, replacing all of them. `email` must be present; `null`
/// clears it. Unknown fields are refused with 422.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example)]
pub struct StudentReplace {
    pub name: StudentName,
    pub grade: Grade,
    pub email: Nullable<Email>,
}

/// A partial update (JSON merge patch): an absent field is left as it is, `"email": null` clears
/// the e-mail, and `null` for `name` or `grade` is refused. Unknown fields are refused with 422.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example)]
pub struct StudentPatch {
    pub name: MaybeUndefined<StudentName>,
    pub grade: MaybeUndefined<Grade>,
    #[oai(nullable)]
    pub email: MaybeUndefined<Email>,
}

/// One page of students, in the order asked for.
#[derive(Debug, Clone, Object, Serialize)]
pub struct StudentPage {
    #[oai(validator(max_items = 100))] // PageLimit::MAX
    pub items: Vec<StudentRead>,
    /// Pass as `cursor`, with the same filter and sort, to get the next page; `null` on the
    /// last page. The `Link` header holds the whole URL of the next page.
    pub next_cursor: Nullable<Cursor>,
    /// How many students match the filter, across all pages; only with `count=exact`.
    #[oai(
        skip_serializing_if_is_none,
        validator(minimum(value = "0"), maximum(value = "9223372036854775807"))
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

impl From<Student> for StudentRead {
    fn from(student: Student) -> Self {
        StudentRead {
            id: student.id,
            name: student.name,
            grade: student.grade,
            email: Nullable(student.email),
            created_at: Timestamp(student.created_at),
            updated_at: Timestamp(student.updated_at),
        }
    }
}

impl From<StudentCreate> for NewStudent {
    fn from(body: StudentCreate) -> Self {
        NewStudent {
            name: body.name,
            grade: body.grade,
            email: body.email,
        }
    }
}

impl From<StudentReplace> for NewStudent {
    fn from(body: StudentReplace) -> Self {
        NewStudent {
            name: body.name,
            grade: body.grade,
            email: body.email.0,
        }
    }
}

impl From<StudentPatch> for StudentChanges {
    fn from(body: StudentPatch) -> Self {
        StudentChanges {
            name: defined(body.name),
            grade: defined(body.grade),
            email: match body.email {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(email) => Some(Some(email)),
            },
        }
    }
}

/// The value of a field that is not nullable: `null` never reaches here (the schema check
/// refused it), so only "absent" and "present" remain.
fn defined<T>(field: MaybeUndefined<T>) -> Option<T> {
    match field {
        MaybeUndefined::Value(value) => Some(value),
        MaybeUndefined::Undefined | MaybeUndefined::Null => None,
    }
}

impl Example for StudentRead {
    fn example() -> Self {
        let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
        StudentRead {
            id: 42,
            name: example_name(),
            grade: Grade::AMinus,
            email: Nullable(example_email()),
            created_at: Timestamp(at),
            updated_at: Timestamp(at),
        }
    }
}

impl Example for StudentCreate {
    fn example() -> Self {
        StudentCreate {
            name: example_name(),
            grade: Grade::AMinus,
            email: example_email(),
        }
    }
}

impl Example for StudentReplace {
    fn example() -> Self {
        StudentReplace {
            name: example_name(),
            grade: Grade::BPlus,
            email: Nullable(None),
        }
    }
}

impl Example for StudentPatch {
    fn example() -> Self {
        StudentPatch {
            name: MaybeUndefined::Undefined,
            grade: MaybeUndefined::Value(Grade::A),
            email: MaybeUndefined::Null,
        }
    }
}

fn example_name() -> StudentName {
    StudentName::parse("Ada Lovelace").unwrap_or_else(|_| unreachable!("a valid literal"))
}

fn example_email() -> Option<Email> {
    Email::parse("ada@example.com").ok()
}
