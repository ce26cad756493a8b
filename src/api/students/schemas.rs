//! Wire types: one schema per direction (create, replace, patch, read), built from domain types.
//!
//! The domain types publish their own schemas here (their constants become `minLength`,
//! `maxLength`, `format`, `enum`), so the rule a client reads in the spec is the rule enforced.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use poem_openapi::{
    Object,
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{
        Example, MaybeUndefined, ParseError, ParseFromJSON, ParseFromParameter, ParseResult,
        ToJSON, Type,
    },
};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::listing::Cursor;
use crate::{
    domain::{Email, GRADES, Grade, StudentName, Violation},
    error::{ApiError, FieldError},
};

/// Implements poem-openapi's `Type` for a single value whose schema is the inline `$schema`.
macro_rules! inline_scalar_type {
    ($ty:ty, $name:literal, $schema:expr) => {
        $crate::api::students::schemas::scalar_type!(
            $ty,
            $name,
            ::poem_openapi::registry::MetaSchemaRef::Inline(Box::new($schema)),
            |_registry| {}
        );
    };
}
pub(crate) use inline_scalar_type;

/// Implements poem-openapi's `Type` for a single value published as the named component
/// `#/components/schemas/$name` with `$schema` (so generated clients get a named type).
macro_rules! named_scalar_type {
    ($ty:ty, $name:literal, $schema:expr) => {
        $crate::api::students::schemas::scalar_type!(
            $ty,
            $name,
            ::poem_openapi::registry::MetaSchemaRef::Reference($name.into()),
            |registry: &mut ::poem_openapi::registry::Registry| {
                registry.create_schema::<Self, _>($name.into(), |_| $schema);
            }
        );
    };
}
pub(crate) use named_scalar_type;

/// The `Type` impl both macros above share.
macro_rules! scalar_type {
    ($ty:ty, $name:literal, $schema_ref:expr, $register:expr) => {
        impl ::poem_openapi::types::Type for $ty {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> ::std::borrow::Cow<'static, str> {
                $name.into()
            }

            fn schema_ref() -> ::poem_openapi::registry::MetaSchemaRef {
                $schema_ref
            }

            fn register(registry: &mut ::poem_openapi::registry::Registry) {
                let register: fn(&mut ::poem_openapi::registry::Registry) = $register;
                register(registry);
            }

            fn as_raw_value(&self) -> Option<&Self> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }
    };
}
pub(crate) use scalar_type;

/// Also implements `ParseFromJSON` and `ToJSON` for a domain string type parsed by `$ty::parse`.
macro_rules! string_schema_type {
    ($ty:ty, $name:literal, $schema:expr) => {
        inline_scalar_type!($ty, $name, $schema);

        impl ParseFromJSON for $ty {
            fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
                match value {
                    Some(Value::String(raw)) => {
                        <$ty>::parse(&raw).map_err(|v: Violation| ParseError::custom(v.message))
                    }
                    other => Err(ParseError::expected_type(other.unwrap_or_default())),
                }
            }
        }

        impl ToJSON for $ty {
            fn to_json(&self) -> Option<Value> {
                Some(Value::String(self.as_str().to_owned()))
            }
        }

        impl ParseFromParameter for $ty {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                <$ty>::parse(value).map_err(|v: Violation| ParseError::custom(v.message))
            }
        }

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}

string_schema_type!(
    StudentName,
    "StudentName",
    MetaSchema {
        description: Some(
            "Full name. Surrounding whitespace is trimmed; control characters are refused."
        ),
        min_length: Some(StudentName::MIN_CHARS),
        max_length: Some(StudentName::MAX_CHARS),
        pattern: Some(StudentName::PATTERN.to_owned()),
        example: Some("Ada Lovelace".into()),
        ..MetaSchema::new("string")
    }
);

string_schema_type!(
    Email,
    "Email",
    MetaSchema {
        description: Some(
            "E-mail address, stored lower-cased; unique across students, ignoring case."
        ),
        max_length: Some(Email::MAX_CHARS),
        example: Some("ada@example.com".into()),
        ..MetaSchema::new_with_format("string", "email")
    }
);

// `Grade` is a named component (`#/components/schemas/Grade`), so generated clients get an enum.
named_scalar_type!(
    Grade,
    "Grade",
    MetaSchema {
        description: Some("A letter grade, best first."),
        enum_items: GRADES.iter().map(|g| Value::from(g.as_str())).collect(),
        example: Some("A-".into()),
        ..MetaSchema::new("string")
    }
);

/// Identifiers for the `Grade` values in generated code (`A+` → `A_PLUS`), published as
/// `x-enum-varnames`: generators cannot make identifiers of `+`/`-`, and without this some
/// (openapi-python-client) collapse `A+`, `A` and `A-` into one `A` and give up.
pub fn grade_variant_names() -> Vec<String> {
    GRADES
        .iter()
        .map(|g| g.as_str().replace('+', "_PLUS").replace('-', "_MINUS"))
        .collect()
}

impl ParseFromJSON for Grade {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(raw)) => {
                Grade::parse(&raw).map_err(|v| ParseError::custom(v.message))
            }
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ParseFromParameter for Grade {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Grade::parse(value).map_err(|v| ParseError::custom(v.message))
    }
}

impl ToJSON for Grade {
    fn to_json(&self) -> Option<Value> {
        Some(Value::from(self.as_str()))
    }
}

impl Serialize for Grade {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A field that must be present but may be `null` (PUT's `email`). poem-openapi's `Option<T>`
/// would make the field optional, which is PATCH's job, not PUT's.
#[derive(Debug, Clone, PartialEq)]
pub struct Nullable<T>(pub Option<T>);

impl<T: Type> Type for Nullable<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = T::RawValueType;
    type RawElementValueType = T::RawElementValueType;

    fn name() -> Cow<'static, str> {
        format!("nullable_{}", T::name()).into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let nullable = MetaSchema {
            nullable: true,
            ..MetaSchema::ANY
        };
        match T::schema_ref() {
            MetaSchemaRef::Inline(schema) => {
                MetaSchemaRef::Inline(Box::new(schema.merge(nullable)))
            }
            reference => MetaSchemaRef::Inline(Box::new(MetaSchema {
                all_of: vec![reference],
                ..nullable
            })),
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        self.0.as_ref().and_then(T::as_raw_value)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        match &self.0 {
            Some(value) => value.raw_element_iter(),
            None => Box::new(std::iter::empty()),
        }
    }
}

impl<T: ParseFromJSON> ParseFromJSON for Nullable<T> {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::Null) => Ok(Self(None)),
            Some(value) => T::parse_from_json(Some(value))
                .map(|v| Self(Some(v)))
                .map_err(ParseError::propagate),
            None => Err(ParseError::expected_input()),
        }
    }
}

impl<T: ToJSON> ToJSON for Nullable<T> {
    fn to_json(&self) -> Option<Value> {
        Some(self.0.as_ref().and_then(T::to_json).unwrap_or(Value::Null))
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// An instant in UTC, written as RFC 3339 with a `Z` (`2026-01-31T09:30:00.123456Z`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub DateTime<Utc>);

inline_scalar_type!(
    Timestamp,
    "string_date-time",
    MetaSchema {
        read_only: true,
        ..MetaSchema::new_with_format("string", "date-time")
    }
);

impl ParseFromJSON for Timestamp {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(raw)) => DateTime::parse_from_rfc3339(&raw)
                .map(|at| Self(at.to_utc()))
                .map_err(|_| ParseError::custom("must be an RFC 3339 timestamp")),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl Timestamp {
    pub fn to_rfc3339(self) -> String {
        self.0.to_rfc3339_opts(SecondsFormat::Micros, true)
    }
}

impl ToJSON for Timestamp {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.to_rfc3339()))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

/// A student as stored. `id`, `created_at` and `updated_at` are set by the server.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(example)]
pub struct Student {
    /// Server-assigned identifier.
    #[oai(read_only)]
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
    pub items: Vec<Student>,
    /// Pass as `cursor`, with the same filter and sort, to get the next page; `null` on the
    /// last page. The `Link` header holds the whole URL of the next page.
    pub next_cursor: Nullable<Cursor>,
    /// How many students match the filter, across all pages; only with `count=exact`.
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// The `{id}` in `/api/students/{id}`.
///
/// Its parsing never fails in poem-openapi's extractor: poem-openapi renames path parameters
/// internally (`param0`), so its own error could not name `id`. The handler calls [`Self::get`],
/// which reports a bad id as `path.id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentId(Result<i64, String>);

impl StudentId {
    pub fn get(&self) -> Result<i64, ApiError> {
        self.0.clone().map_err(|message| {
            ApiError::Validation(vec![FieldError::new(
                "path.id",
                "invalid_parameter",
                message,
            )])
        })
    }
}

inline_scalar_type!(
    StudentId,
    "integer_int64",
    MetaSchema::new_with_format("integer", "int64")
);

impl ParseFromParameter for StudentId {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Ok(Self(value.parse().map_err(|_| {
            format!("must be an integer from {} to {}", i64::MIN, i64::MAX)
        })))
    }
}

/// The `Idempotency-Key` header: 1–255 visible ASCII characters. Like [`StudentId`], parsing
/// never fails in the extractor (whose error could not name a header); [`Self::get`] reports a
/// bad key as `header.Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(Result<String, String>);

impl IdempotencyKey {
    pub const MAX_CHARS: usize = 255;
    /// Visible ASCII only, as the parser below checks it.
    pub const PATTERN: &str = "^[!-~]+$";

    pub fn get(&self) -> Result<&str, ApiError> {
        self.0.as_deref().map_err(|message| {
            ApiError::Validation(vec![FieldError::new(
                "header.Idempotency-Key",
                "invalid_parameter",
                message,
            )])
        })
    }
}

inline_scalar_type!(
    IdempotencyKey,
    "IdempotencyKey",
    MetaSchema {
        min_length: Some(1),
        max_length: Some(IdempotencyKey::MAX_CHARS),
        pattern: Some(IdempotencyKey::PATTERN.to_owned()),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for IdempotencyKey {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        let valid = !value.is_empty()
            && value.len() <= Self::MAX_CHARS
            && value.bytes().all(|b| b.is_ascii_graphic());
        Ok(Self(if valid {
            Ok(value.to_owned())
        } else {
            Err(format!(
                "must be 1 to {} visible ASCII characters, such as a UUID",
                Self::MAX_CHARS
            ))
        }))
    }
}

/// How many students a page holds: 1–100, default 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(pub i64);

impl PageLimit {
    pub const MIN: i64 = 1;
    pub const MAX: i64 = 100;
    pub const DEFAULT: i64 = 20;
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

inline_scalar_type!(
    PageLimit,
    "PageLimit",
    MetaSchema {
        minimum: Some(Self::MIN as f64),
        maximum: Some(Self::MAX as f64),
        default: Some(Self::DEFAULT.into()),
        ..MetaSchema::new_with_format("integer", "int32")
    }
);

impl ParseFromParameter for PageLimit {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        let out_of_range = || {
            ParseError::custom(format!(
                "must be an integer from {} to {}",
                Self::MIN,
                Self::MAX
            ))
        };
        let limit: i64 = value.trim().parse().map_err(|_| out_of_range())?;
        if (Self::MIN..=Self::MAX).contains(&limit) {
            Ok(Self(limit))
        } else {
            Err(out_of_range())
        }
    }
}

impl Example for Student {
    fn example() -> Self {
        let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
        Student {
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
