//! The OpenAPI document: built from the code, served at `/openapi.{json,yaml}`, committed as
//! `openapi.yaml` (regenerate it and the SDKs with `scripts/generate`).

use std::sync::LazyLock;

use poem_openapi::OpenApiService;
use serde_json::Value;

use crate::api::{
    health::HealthApi,
    students::{StudentsApi, grade_variant_names, sort_variant_names},
};

pub type Api = (StudentsApi, HealthApi);

const DESCRIPTION: &str = "\
Manage students: create, list, read, replace, update and delete.

**Contract.** Every request and response type is published below with its rules \
(`minLength`, `maxLength`, `pattern`, `format`, `enum`, `nullable`), and the server enforces \
exactly those. In every string, control characters (NUL included) are refused and `maxLength` \
counts the characters sent; names are stored with surrounding whitespace trimmed and must hold \
more than whitespace. Unknown fields in a body are refused, never ignored.

**Errors** are RFC 9457 problem details (`application/problem+json`) with a stable `type`. \
A `422` lists every invalid field at once in `errors`, each with a `location` (a JSON pointer \
into the body such as `/name`, or `query.limit`, `path.id`), a `message` and a `code`. \
Request bodies are limited to 64 KiB (`413`).";

/// The service that serves the operations and produces the document.
pub fn api_service() -> OpenApiService<Api, ()> {
    OpenApiService::new(
        (StudentsApi, HealthApi),
        "Students API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(DESCRIPTION)
}

/// The document as JSON, normalised for client generators (see [`normalise`]).
pub fn spec_json() -> String {
    serde_json::to_string_pretty(document()).unwrap_or_default()
}

/// The document as YAML: what `students-api openapi` prints and `openapi.yaml` holds.
pub fn spec_yaml() -> String {
    serde_yaml::to_string(document()).unwrap_or_default()
}

/// The methods the spec lists for the path that `path` matches, as an `Allow` header value
/// (`GET, POST`); `None` when no path matches. A 405 must say what is allowed (RFC 9110).
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    static ALLOWED: LazyLock<Vec<(Vec<String>, String)>> = LazyLock::new(|| {
        let Some(paths) = document()["paths"].as_object() else {
            return Vec::new();
        };
        paths
            .iter()
            .map(|(template, operations)| {
                let segments = template.split('/').map(str::to_owned).collect();
                let mut methods: Vec<String> = operations
                    .as_object()
                    .map(|o| o.keys().map(|m| m.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                if methods.iter().any(|m| m == "GET") {
                    methods.push("HEAD".to_owned());
                }
                (segments, methods.join(", "))
            })
            .collect()
    });
    let wanted: Vec<&str> = path.split('/').collect();
    ALLOWED.iter().find_map(|(template, methods)| {
        let matches = template.len() == wanted.len()
            && template
                .iter()
                .zip(&wanted)
                .all(|(t, w)| t == w || (t.starts_with('{') && t.ends_with('}')));
        matches.then_some(methods.as_str())
    })
}

/// The names of every header parameter an operation declares (`If-Match`, `Idempotency-Key`,
/// …), as the spec spells them.
pub fn header_parameters() -> &'static [String] {
    static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
        let mut names: Vec<String> = operations(document())
            .filter_map(|operation| operation["parameters"].as_array())
            .flatten()
            .filter(|parameter| parameter["in"] == "header")
            .filter_map(|parameter| Some(parameter["name"].as_str()?.to_owned()))
            .collect();
        names.sort();
        names.dedup();
        names
    });
    &NAMES
}

/// Every operation object of the document (`paths.*.*`).
fn operations(document: &Value) -> impl Iterator<Item = &Value> {
    document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|operations| operations.values())
}

/// The normalised document, built once: the served spec, `Allow` and the header list read it.
fn document() -> &'static Value {
    static DOCUMENT: LazyLock<Value> = LazyLock::new(build_document);
    &DOCUMENT
}

fn build_document() -> Value {
    let mut document: Value = serde_json::from_str(&api_service().spec()).unwrap_or_default();
    normalise(&mut document);
    publish_closed_request_bodies(&mut document);
    for (schema, names) in [
        ("Grade", grade_variant_names()),
        ("StudentSort", sort_variant_names()),
    ] {
        if let Some(Value::Object(schema)) =
            document.pointer_mut(&format!("/components/schemas/{schema}"))
        {
            schema.insert("x-enum-varnames".into(), names.into());
        }
    }
    document
}

/// `JsonBody` refuses unknown fields in every request body (`deny_unknown_fields`), but
/// poem-openapi does not say so in the schema; `additionalProperties: false` does, so generated
/// clients offer no "additional properties" bag the server would reject.
fn publish_closed_request_bodies(document: &mut Value) {
    let names: Vec<String> = operations(document)
        .filter_map(|operation| operation.pointer("/requestBody/content")?.as_object())
        .flat_map(|content| content.values())
        .filter_map(|media| media.pointer("/schema/$ref")?.as_str())
        .filter_map(|r| Some(r.strip_prefix("#/components/schemas/")?.to_owned()))
        .collect();
    for name in names {
        if let Some(Value::Object(schema)) =
            document.pointer_mut(&format!("/components/schemas/{name}"))
        {
            schema.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
}

/// Two fixes poem-openapi's output needs before generators read it: integral bounds come out as
/// floats (`maximum: 100.0`, which makes some generators type the value as a float), and
/// response header names come out upper-cased (`LOCATION`).
fn normalise(value: &mut Value) {
    match value {
        Value::Number(number) => {
            if let Some(float) = number
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                && number.is_f64()
            {
                *number = serde_json::Number::from(float as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        Value::Object(map) => {
            if let Some(Value::Object(headers)) = map.get_mut("headers") {
                let renamed: serde_json::Map<String, Value> = std::mem::take(headers)
                    .into_iter()
                    .map(|(name, header)| (canonical_header(&name), header))
                    .collect();
                *headers = renamed;
            }
            map.values_mut().for_each(normalise);
        }
        _ => {}
    }
}

/// `LOCATION` → `Location`, `RETRY-AFTER` → `Retry-After`, `ETAG` → `ETag`.
fn canonical_header(name: &str) -> String {
    if name.eq_ignore_ascii_case("etag") {
        return "ETag".to_owned();
    }
    name.split('-')
        .map(|part| {
            let lower = part.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}
