//! poem-openapi glue every resource shares: macros that publish a Rust type as a JSON Schema
//! scalar, [`Nullable`] (present but maybe `null`), and [`Timestamp`].

use std::{borrow::Cow, marker::PhantomData};

use chrono::{DateTime, SecondsFormat, Utc};
use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::{
    domain::{self, Code},
    error::{ApiError, FieldError},
};

/// Implements poem-openapi's `Type` for a single value whose schema is the inline `$schema`.
macro_rules! inline_scalar_type {
    ($ty:ty, $name:literal, $schema:expr) => {
        $crate::api::types::scalar_type!(
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
        $crate::api::types::scalar_type!(
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

/// Also implements `ParseFromJSON`, `ParseFromParameter`, `ToJSON` and `Serialize` for a domain
/// string type with `parse` and `as_str`.
macro_rules! domain_string_type {
    ($ty:ty, $register:ident!($name:literal, $schema:expr)) => {
        $register!($ty, $name, $schema);

        impl ::poem_openapi::types::ParseFromJSON for $ty {
            fn parse_from_json(
                value: Option<::serde_json::Value>,
            ) -> ::poem_openapi::types::ParseResult<Self> {
                match value {
                    Some(::serde_json::Value::String(raw)) => {
                        <$ty>::parse(&raw).map_err(|v: $crate::domain::Violation| {
                            ::poem_openapi::types::ParseError::custom(v.message)
                        })
                    }
                    other => Err(::poem_openapi::types::ParseError::expected_type(
                        other.unwrap_or_default(),
                    )),
                }
            }
        }

        impl ::poem_openapi::types::ParseFromParameter for $ty {
            fn parse_from_parameter(value: &str) -> ::poem_openapi::types::ParseResult<Self> {
                <$ty>::parse(value).map_err(|v: $crate::domain::Violation| {
                    ::poem_openapi::types::ParseError::custom(v.message)
                })
            }
        }

        impl ::poem_openapi::types::ToJSON for $ty {
            fn to_json(&self) -> Option<::serde_json::Value> {
                Some(::serde_json::Value::from(self.as_str()))
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
    };
}
pub(crate) use domain_string_type;

/// What a [`PathId`] names, for the message when it names nothing.
pub trait IdOf: Send + Sync + 'static {
    /// `a student`, `an account`: as the message says it.
    const A_NOUN: &'static str;
}

/// The `{id}` in `/api/students/{id}` or `/api/tokens/{id}`: a PostgreSQL `bigint` identity, 1
/// and up.
///
/// Its parsing never fails in poem-openapi's extractor: poem-openapi renames path parameters
/// internally (`param0`), so its own error could not name `id`. The handler calls [`Self::get`],
/// which reports a bad id as `path.id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathId<K>(Option<i64>, PhantomData<K>);

impl<K: IdOf> PathId<K> {
    pub fn get(&self) -> Result<i64, ApiError> {
        self.0.ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "path.id",
                Code::InvalidParameter.as_str(),
                format!("must be {} id: a whole number, such as 42", K::A_NOUN),
            )])
        })
    }

    fn schema() -> MetaSchema {
        MetaSchema {
            minimum: Some(1.0),
            maximum: Some(i64::MAX as f64),
            ..MetaSchema::new_with_format("integer", "int64")
        }
    }
}

impl<K: IdOf> Type for PathId<K> {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "integer_int64".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(Self::schema()))
    }

    fn as_raw_value(&self) -> Option<&Self> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<K: IdOf> ParseFromParameter for PathId<K> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        // Ids start at 1, as the schema says: 0 or -1 is a bad id (422), not a missing row.
        Ok(Self(
            domain::whole_number(value).filter(|id| *id >= 1),
            PhantomData,
        ))
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
        // `2026-01-31T09:30:00.000000Z`: always UTC, microseconds.
        max_length: Some(27),
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
