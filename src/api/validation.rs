//! Checks a JSON request body against the very schema the OpenAPI document publishes.
//!
//! Why this exists: poem-openapi's generated parsers stop at the first bad field, answer 400 and
//! do not say which field failed. FastAPI users expect one 422 listing every bad field. So this
//! walker follows the wire type's published schema, collecting every violation with a JSON
//! pointer. The shape (objects, required and unknown fields, JSON types, `null`) is the
//! walker's; every value rule and its code is the domain's: strings go through the domain's
//! `TextRule` (with the schema's bounds, which the domain types published), `Email::parse`
//! for the schema that publishes `Email::PATTERN`, or `Password::parse` for a new password.
//! Only when it finds nothing does poem-openapi build the typed value.

use std::{
    any::TypeId,
    collections::HashMap,
    sync::{Arc, LazyLock, RwLock},
};

use poem_openapi::{
    registry::{MetaSchema, MetaSchemaRef, Registry},
    types::Type,
};
use serde_json::Value;

use crate::{
    domain::{Code, Email, Password, TextRule, Violation},
    error::FieldError,
};

/// Every violation of `T`'s published schema in `value`, in document order. Empty means valid.
pub fn check<T: Type + 'static>(value: &Value) -> Vec<FieldError> {
    let registry = registry_of::<T>();
    let mut errors = Vec::new();
    Walker {
        registry: &registry,
    }
    .check(&T::schema_ref(), value, "", &mut errors);
    errors
}

/// Whether `value` passes the published schema of the field type `T`, judged exactly as
/// [`check`] judges a field of that type: the one-pass reading of a create body
/// ([`Body::read_valid`](super::json::Body::read_valid)) asks this, so it accepts nothing the
/// full check would refuse.
pub fn field_passes<T: Type + 'static>(value: &Value) -> bool {
    let registry = registry_of::<T>();
    let mut errors = Vec::new();
    Walker {
        registry: &registry,
    }
    .check(&T::schema_ref(), value, "", &mut errors);
    errors.is_empty()
}

/// Schemas are built once per type: registering walks every nested type.
fn registry_of<T: Type + 'static>() -> Arc<Registry> {
    static CACHE: LazyLock<RwLock<HashMap<TypeId, Arc<Registry>>>> =
        LazyLock::new(Default::default);
    let key = TypeId::of::<T>();
    if let Some(registry) = CACHE.read().ok().and_then(|cache| cache.get(&key).cloned()) {
        return registry;
    }
    let mut registry = Registry::new();
    T::register(&mut registry);
    let registry = Arc::new(registry);
    if let Ok(mut cache) = CACHE.write() {
        cache.insert(key, Arc::clone(&registry));
    }
    registry
}

struct Walker<'a> {
    registry: &'a Registry,
}

impl Walker<'_> {
    fn resolve<'s>(&'s self, schema: &'s MetaSchemaRef) -> Option<&'s MetaSchema> {
        match schema {
            MetaSchemaRef::Inline(schema) => Some(schema),
            MetaSchemaRef::Reference(name) => self.registry.schemas.get(name),
        }
    }

    fn check(&self, schema: &MetaSchemaRef, value: &Value, at: &str, errors: &mut Vec<FieldError>) {
        let Some(schema) = self.resolve(schema) else {
            return;
        };
        if value.is_null() {
            if !schema.nullable {
                errors.push(FieldError::new(at, "null", "must not be null"));
            }
            return;
        }
        // poem-openapi expresses a nullable `$ref` as `allOf: [$ref]` plus `nullable`.
        for part in &schema.all_of {
            self.check(part, value, at, errors);
        }
        match schema.ty {
            "object" => self.check_object(schema, value, at, errors),
            "array" => self.check_array(schema, value, at, errors),
            "string" => check_string(schema, value, at, errors),
            "integer" => check_integer(schema, value, at, errors),
            "number" => check_number(schema, value, at, errors),
            "boolean" if !value.is_boolean() => {
                errors.push(FieldError::new(at, "type", "must be a boolean"));
            }
            _ => {}
        }
    }

    fn check_object(
        &self,
        schema: &MetaSchema,
        value: &Value,
        at: &str,
        errors: &mut Vec<FieldError>,
    ) {
        let Some(object) = value.as_object() else {
            errors.push(FieldError::new(at, "type", "must be a JSON object"));
            return;
        };
        for required in &schema.required {
            if !object.contains_key(*required) {
                errors.push(FieldError::new(
                    pointer(at, required),
                    "required",
                    "is required",
                ));
            }
        }
        for (key, field_value) in object {
            let location = pointer(at, key);
            match schema.properties.iter().find(|(name, _)| name == key) {
                Some((_, field_schema)) => {
                    if self.resolve(field_schema).is_some_and(|s| s.read_only) {
                        errors.push(FieldError::new(
                            location,
                            "read_only",
                            "is set by the server and cannot be written",
                        ));
                    } else {
                        self.check(field_schema, field_value, &location, errors);
                    }
                }
                None => {
                    let known: Vec<&str> = schema.properties.iter().map(|(n, _)| *n).collect();
                    errors.push(FieldError::new(
                        location,
                        "unknown_field",
                        format!(
                            "is not a field of this request; allowed: {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
    }

    fn check_array(
        &self,
        schema: &MetaSchema,
        value: &Value,
        at: &str,
        errors: &mut Vec<FieldError>,
    ) {
        let Some(items) = value.as_array() else {
            errors.push(FieldError::new(at, "type", "must be an array"));
            return;
        };
        if let Some(min) = schema.min_items.filter(|min| items.len() < *min) {
            errors.push(FieldError::new(
                at,
                "too_few",
                format!("must have at least {min} items"),
            ));
        }
        if let Some(max) = schema.max_items.filter(|max| items.len() > *max) {
            errors.push(FieldError::new(
                at,
                "too_many",
                format!("must have at most {max} items"),
            ));
        }
        if schema.unique_items == Some(true)
            && items
                .iter()
                .enumerate()
                .any(|(i, item)| items[..i].contains(item))
        {
            errors.push(FieldError::new(
                at,
                "duplicate",
                "must not hold the same item twice",
            ));
        }
        if let Some(item_schema) = &schema.items {
            for (index, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{at}/{index}"), errors);
            }
        }
    }
}

/// A schema's pattern, compiled once (patterns come from constants, so the set is small).
/// Shared, never cloned: a cloned `Regex` gets a fresh pool of search caches, and building one
/// on each request was 4% of a create's CPU.
fn compiled(pattern: &str) -> Option<Arc<regex::Regex>> {
    static CACHE: LazyLock<RwLock<HashMap<String, Option<Arc<regex::Regex>>>>> =
        LazyLock::new(Default::default);
    if let Some(re) = CACHE.read().ok().and_then(|c| c.get(pattern).cloned()) {
        return re;
    }
    let re = regex::Regex::new(pattern).ok().map(Arc::new);
    if let Ok(mut cache) = CACHE.write() {
        cache.insert(pattern.to_owned(), re.clone());
    }
    re
}

fn check_string(schema: &MetaSchema, value: &Value, at: &str, errors: &mut Vec<FieldError>) {
    let Some(raw) = value.as_str() else {
        errors.push(FieldError::new(at, "type", "must be a string"));
        return;
    };
    if let Err(violation) = check_text(schema, raw) {
        errors.push(FieldError::violation(at, violation));
    }
}

/// The domain's rules for a string with `schema`'s bounds, enum and pattern. An `Email` (known
/// by the pattern it publishes) is the domain's `Email::parse`, with its own error code.
fn check_text(schema: &MetaSchema, raw: &str) -> Result<(), Violation> {
    if schema.pattern.as_deref() == Some(Email::PATTERN) {
        return Email::parse(raw).map(drop);
    }
    // A password is not text to tidy: no trimming, any character but control ones. A new
    // one (published with the rules' bounds) is the domain's `Password::parse`; a current
    // one is only bounded, since the stored hash is what judges it.
    if schema.format == Some("password") {
        if schema.min_length == Some(Password::MIN_CHARS) {
            return Password::parse(raw).map(drop);
        }
        return match schema.max_length {
            Some(max) if raw.chars().count() > max => Err(Violation::new(
                Code::TooLong,
                format!("must be at most {max} characters"),
            )),
            _ if raw.is_empty() => Err(Violation::new(Code::TooShort, "must not be empty")),
            _ => Ok(()),
        };
    }
    TextRule {
        min_chars: schema.min_length.unwrap_or(0),
        max_chars: schema.max_length,
    }
    .check(raw)?;
    if !schema.enum_items.is_empty()
        && !schema
            .enum_items
            .iter()
            .any(|item| item.as_str() == Some(raw))
    {
        let allowed: Vec<&str> = schema.enum_items.iter().filter_map(Value::as_str).collect();
        return Err(Violation::new(
            Code::InvalidEnum,
            format!("must be one of {}", allowed.join(", ")),
        ));
    }
    if let Some(pattern) = &schema.pattern
        && compiled(pattern).is_some_and(|re| !re.is_match(raw))
    {
        return Err(Violation::new(
            Code::Pattern,
            format!("must match `{pattern}`"),
        ));
    }
    Ok(())
}

fn check_integer(schema: &MetaSchema, value: &Value, at: &str, errors: &mut Vec<FieldError>) {
    match value.as_i64() {
        Some(number) => check_bounds(schema, number as f64, at, errors),
        None => errors.push(FieldError::new(at, "type", "must be an integer")),
    }
}

fn check_number(schema: &MetaSchema, value: &Value, at: &str, errors: &mut Vec<FieldError>) {
    match value.as_f64() {
        Some(number) => check_bounds(schema, number, at, errors),
        None => errors.push(FieldError::new(at, "type", "must be a number")),
    }
}

fn check_bounds(schema: &MetaSchema, number: f64, at: &str, errors: &mut Vec<FieldError>) {
    if let Some(min) = schema.minimum.filter(|min| number < *min) {
        errors.push(FieldError::violation(
            at,
            Violation::new(Code::TooSmall, format!("must be at least {min}")),
        ));
    }
    if let Some(max) = schema.maximum.filter(|max| number > *max) {
        errors.push(FieldError::violation(
            at,
            Violation::new(Code::TooLarge, format!("must be at most {max}")),
        ));
    }
}

/// Appends `key` to a JSON pointer, escaping per RFC 6901.
fn pointer(at: &str, key: &str) -> String {
    format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"))
}
