//! Wire types: one schema per direction (create, replace, patch, read), and their conversions
//! to and from the domain.

use std::borrow::Cow;

use chrono::DateTime;
use poem_openapi::{
    Object,
    types::{Example, MaybeUndefined},
};
use serde::Serialize;

use super::cursor::Cursor;
use crate::{
    api::{
        json::{Body, valid_field},
        types::{Nullable, Timestamp},
    },
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

/// A create body as sent, borrowed from the request's bytes: the shape serde can check in one
/// pass (each field once, nothing else, the right JSON types), values not judged yet.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StudentCreateFields<'a> {
    #[serde(borrow)]
    name: Cow<'a, str>,
    #[serde(borrow)]
    grade: Cow<'a, str>,
    /// Absent and `null` are both "no e-mail", as in the schema.
    #[serde(borrow, default)]
    email: Option<Cow<'a, str>>,
}

/// Every create passes here, so a valid one is read in one pass; the full path's three (a JSON
/// tree with duplicate keys refused, the schema walk, poem-openapi's build from the tree) were
/// 5% of a create's CPU. Each field is still judged by its schema and its parse
/// ([`valid_field`]); whatever this refuses, the full path reports in full.
impl Body for StudentCreate {
    fn read_valid(bytes: &[u8]) -> Option<Self> {
        let fields: StudentCreateFields<'_> = serde_json::from_slice(bytes).ok()?;
        Some(Self {
            name: valid_field(&fields.name)?,
            grade: valid_field(&fields.grade)?,
            email: match fields.email {
                Some(email) => Some(valid_field(&email)?),
                None => None,
            },
        })
    }
}

impl Body for StudentReplace {}

impl Body for StudentPatch {}

impl Body for StudentRestore {}

/// Every writable field of a student, replacing all of them. `email` must be present; `null`
/// clears it. Unknown fields are refused with 422.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example)]
pub struct StudentReplace {
    pub name: StudentName,
    pub grade: Grade,
    pub email: Nullable<Email>,
}

/// Which version of a student to bring back, from its history.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example)]
pub struct StudentRestore {
    /// A `version` from the student's history (`getStudentHistory`): the student gets the
    /// name, grade and e-mail it had then. For a deleted student, its last version is the
    /// state it was deleted in.
    #[oai(validator(minimum(value = "1"), maximum(value = "2147483647")))]
    pub version: i32,
}

impl Example for StudentRestore {
    fn example() -> Self {
        StudentRestore { version: 2 }
    }
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
    /// About how many students match the filter, across all pages: the planner's row estimate
    /// (as PostgREST's `count=estimated`), which reads no rows; only with `count=estimated`.
    /// Ask `count=exact` for the number itself.
    #[oai(
        skip_serializing_if_is_none,
        validator(minimum(value = "0"), maximum(value = "9223372036854775807"))
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_total: Option<i64>,
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

#[cfg(test)]
mod tests {
    use super::StudentCreate;
    use crate::api::json::{Body, parse, validated};

    /// Every create body is read by the one pass or, when that declines, by the full path: the
    /// one pass must accept exactly the bodies the full path accepts, and build the same value.
    #[test]
    fn one_pass_reading_of_a_create_agrees_with_the_full_path() {
        let names = [
            r#""Ada Lovelace""#,
            r#""  Zoë \"Z\" O'Brien, Jr. \\ 李  ""#,
            r#""\u0041da""#,
            r#""""#,
            r#""   ""#,
            r#""Ada\u0000""#,
            r#""Ada\u200b""#,
            r#""\u200b""#,
            r#""A\u202eda""#,
            r#""\ud83d\ude00""#,
            r#""\udb40\udc41""#,
            r#""\ud800""#,
            r#""\tAda""#,
            r#""Ada\n""#,
            r#""\u0301""#,
            "\"Ada\u{3000}\"",
            "\"\u{3164}\"",
            repeated(100, 'a'),
            repeated(101, 'a'),
            repeated(100, 'é'),
            "null",
            "42",
            "[\"Ada\"]",
            "{}",
        ];
        let grades = [
            r#""A""#, r#""B+""#, r#""F""#, r#""a""#, r#"" A""#, r#""E""#, "null", "1",
        ];
        let emails = [
            None,
            Some("null"),
            Some(r#""ada@example.com""#),
            Some(r#""  ADA@Example.COM ""#),
            Some(r#""ada@""#),
            Some(r#""ada@exa mple.com""#),
            Some(r#""ada@xn--bcher-kva.de""#),
            Some(r#""ada@bücher.de""#),
            Some(r#""ada\u200b@example.com""#),
            Some(r#""""#),
            Some("7"),
        ];
        let mut bodies = Vec::new();
        for name in names {
            for grade in grades {
                for email in emails {
                    let email = email.map_or(String::new(), |e| format!(r#", "email": {e}"#));
                    bodies.push(format!(r#"{{"name": {name}, "grade": {grade}{email}}}"#));
                }
            }
        }
        bodies.extend(
            [
                r#"{"name": "Ada", "grade": "A", "id": 7}"#,
                r#"{"name": "Ada", "grade": "A", "nickname": "A"}"#,
                r#"{"name": "Ada", "grade": "A", "name": "Eve"}"#,
                r#"{"name": "Ada", "grade": "A", "n\u0061me": "Eve"}"#,
                r#"{"name": "Ada", "grade": "A", "email": null, "email": null}"#,
                r#"{"name": "Ada"}"#,
                r#"{"grade": "A"}"#,
                r#"{"name": "Ada", "grade": "A"} trailing"#,
                r#"{"name": "Ada", "grade": "A"}   "#,
                r#"[{"name": "Ada", "grade": "A"}]"#,
                r#""name""#,
                "null",
                "{}",
                "\u{feff}{\"name\": \"Ada\", \"grade\": \"A\"}",
            ]
            .map(str::to_owned),
        );
        let mut accepted = 0;
        for body in &bodies {
            let full = parse(body.as_bytes())
                .ok()
                .and_then(|value| validated::<StudentCreate>(value).ok());
            let one_pass = StudentCreate::read_valid(body.as_bytes());
            assert_eq!(
                format!("{one_pass:?}"),
                format!("{full:?}"),
                "the two readings disagree on {body}"
            );
            accepted += usize::from(full.is_some());
        }
        // Both outcomes are exercised, many times.
        assert!(
            accepted > 100 && bodies.len() - accepted > 1_000,
            "{accepted}"
        );
    }

    /// A JSON string of `n` times `c`.
    fn repeated(n: usize, c: char) -> &'static str {
        Box::leak(format!("\"{}\"", c.to_string().repeat(n)).into_boxed_str())
    }
}
