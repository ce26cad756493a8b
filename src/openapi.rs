//! The OpenAPI document: built from the code, served at `/openapi.{json,yaml}`, committed as
//! `openapi.yaml` (regenerate it and the SDKs with `scripts/generate`).

use std::{collections::HashMap, sync::LazyLock};

use poem_openapi::{
    ContactObject, ExternalDocumentObject, LicenseObject, OpenApiService, ServerObject,
};
use regex::Regex;
use serde_json::Value;

use crate::{
    api::{
        accounts::AccountsApi,
        auth::SIGN_IN_SCHEME,
        changes::ChangesApi,
        contract::{example_of, example_problem, statuses},
        health::HealthApi,
        rejections::SpecFacts,
        sign_in::SignInApi,
        students::{StudentsApi, grade_variant_names, sort_variant_names},
        tokens::{TokensApi, scope_variant_names},
        webhooks::{WebhooksApi, event_type_variant_names},
    },
    domain::Scope,
    error::{ApiError, AuthFailure, FieldError, PROBLEM_CONTENT_TYPE, PROBLEM_TYPES, SignInError},
};

pub type Api = (
    StudentsApi,
    ChangesApi,
    TokensApi,
    SignInApi,
    AccountsApi,
    WebhooksApi,
    HealthApi,
);

/// Where the guide's pages are read: the repository's `docs/`, on its code host.
/// `scripts/check-docs` checks every link under it in `openapi.yaml` against the files here.
pub const GUIDE_URL: &str = "https://github.com/students-api/students-api/blob/main/docs/";

const DESCRIPTION: &str = "\
Manage students: create, list, read, replace, update and delete; import and export files; \
follow every change as it happens. People keeping the records use [the admin console](/admin) \
(sign in with a username and password), a client of this API like any other.

**The guide** explains more than this page can: \
[the students resource]({guide}guide.md) \
(fields, listing, cursors, ETags, safe retries), \
[errors]({guide}errors.md) \
(every status and problem type, and what to do about each), \
[signing in]({guide}auth.md) \
(tokens, scopes, rate limits), \
[the change feed]({guide}real-time.md), \
[import and export]({guide}import-export.md) \
and [the client SDKs]({guide}clients.md).

**Contract.** Every request and response type is published below with its rules \
(`minLength`, `maxLength`, `pattern`, `format`, `enum`, `nullable`), and the server enforces \
exactly those. In every string, control characters (NUL included) and invisible formatting \
characters (bidi overrides, zero-width space, byte-order mark) are refused, and `maxLength` \
counts the Unicode code points sent (JavaScript counts UTF-16 units: an emoji is 1 here, 2 \
there); names are stored with surrounding whitespace trimmed and must show something. \
Patterns use `\\uXXXX` escapes only, never `\\s`, so every regex engine reads them alike. \
Unknown fields in a body are refused, never ignored.

**Errors** are RFC 9457 problem details (`application/problem+json`) with a stable `type`. \
A `422` lists every invalid field at once in `errors`, each with a `location` (a JSON pointer \
into the body such as `/name`, or `query.limit`, `path.id`, `header.If-Match`), a `message` \
and a `code`. Request bodies are limited to 64 KiB (`413`).

**Problem types** (`type` is `urn:students-api:problem:` and one of these; \
[errors.md]({guide}errors.md#the-problem-types) \
says what to do about each):
";

/// The service that serves the operations and produces the document.
pub fn api_service() -> OpenApiService<Api, ()> {
    // `{guide}` in the text: the pages' links, spelled once.
    let mut description = DESCRIPTION.replace("{guide}", GUIDE_URL);
    for (kind, meaning) in PROBLEM_TYPES {
        description.push_str(&format!("\n- `{kind}`: {meaning}"));
    }
    OpenApiService::new(
        (
            StudentsApi,
            ChangesApi,
            TokensApi,
            SignInApi,
            AccountsApi,
            WebhooksApi,
            HealthApi,
        ),
        "Students API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(description)
    // Relative: "this server", wherever the document is served from (Swagger UI's "Try it
    // out" and schemathesis call the server that served them).
    .server(ServerObject::new("/").description("the server this document came from"))
    .contact(
        ContactObject::new()
            .name("students-api maintainers")
            .url("https://github.com/students-api/students-api/issues"),
    )
    .license(LicenseObject::new("MIT"))
    .external_document(
        ExternalDocumentObject::new(format!("{GUIDE_URL}guide.md"))
            .description("The guide: the students resource, errors, signing in, the change feed"),
    )
}

/// The document as JSON, normalised for client generators (see [`normalise`]).
pub fn spec_json() -> String {
    serde_json::to_string_pretty(document()).unwrap_or_default()
}

/// The document as YAML: what `students-api openapi` prints and `openapi.yaml` holds.
pub fn spec_yaml() -> String {
    quote_timestamps(&serde_yaml::to_string(document()).unwrap_or_default())
}

/// serde_yaml writes a string such as `2026-01-01T00:00:00Z` unquoted, which YAML 1.1 readers
/// (PyYAML, many generators) load as a datetime where the JSON document has a string. Quoting
/// it keeps the two documents the same for every reader.
fn quote_timestamps(yaml: &str) -> String {
    static TIMESTAMP: LazyLock<Option<Regex>> = LazyLock::new(|| {
        Regex::new(
            r"(?m)^(\s*(?:- )?(?:[A-Za-z0-9_$.-]+: )?)(\d{4}-\d{1,2}-\d{1,2}(?:[Tt ][0-9:.]+(?:Z|[+-][0-9:]+)?)?)$",
        )
        .ok()
    });
    match TIMESTAMP.as_ref() {
        Some(re) => re.replace_all(yaml, "$1'$2'").into_owned(),
        None => yaml.to_owned(),
    }
}

/// Swagger UI at `/docs`, showing this document (normalised, with every example).
pub fn swagger_ui_html() -> String {
    docs_page(
        api_service().swagger_ui_html(),
        "<title>Swagger UI</title>",
        "Students API — Swagger UI",
    )
}

/// ReDoc at `/redoc`, showing this document, with no fonts fetched from the internet.
pub fn redoc_html() -> String {
    docs_page(
        api_service().redoc_html(),
        "<title>Redoc</title>",
        "Students API — reference",
    )
    .replacen(
        r#"<link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700" rel="stylesheet">"#,
        "",
        1,
    )
}

/// An "S" on blue, inline, so the pages need nothing from elsewhere.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' \
    viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%232b6cb0'/%3E%3Ctext \
    x='8' y='12' font-size='11' text-anchor='middle' fill='white' \
    font-family='sans-serif'%3ES%3C/text%3E%3C/svg%3E";

/// poem-openapi's page with our title and favicon, embedding our document instead of its own
/// (which lacks the normalisation and the per-status examples).
fn docs_page(html: String, old_title: &str, title: &str) -> String {
    html.replacen(
        old_title,
        &format!("<title>{title}</title>\n    <link rel=\"icon\" href=\"{FAVICON}\">"),
        1,
    )
    .replacen(&api_service().spec(), &spec_json(), 1)
}

/// The path template of the document that serves `path` (`/api/students/{id}` for
/// `/api/students/7`), as the router picks it: a literal segment beats a template one
/// (`/api/students/export` is the export, not student "export"), and a template segment
/// matches one non-empty path segment (`/api/students/` has no id).
fn route_of(path: &str) -> Option<&'static str> {
    /// A template split at `/`: `Some(literal)` or `None` for a `{parameter}`.
    type Segments = Vec<Option<String>>;
    // The most literal segments first: `/api/students/export` before `/api/students/{id}`.
    static TEMPLATES: LazyLock<Vec<(String, Segments)>> = LazyLock::new(|| {
        let mut templates: Vec<(String, Segments)> = document()["paths"]
            .as_object()
            .into_iter()
            .flat_map(|paths| paths.keys())
            .map(|template| {
                let segments = template
                    .split('/')
                    .map(|t| (!(t.starts_with('{') && t.ends_with('}'))).then(|| t.to_owned()))
                    .collect();
                (template.clone(), segments)
            })
            .collect();
        templates.sort_by_key(|(_, segments)| std::cmp::Reverse(segments.iter().flatten().count()));
        templates
    });
    const MOST_SEGMENTS: usize = 16;
    // Per request: the path split once, on the stack; nothing allocated.
    let mut parts = [""; MOST_SEGMENTS];
    let mut count = 0;
    for part in path.split('/') {
        *parts.get_mut(count)? = part; // longer than any template
        count += 1;
    }
    let parts = &parts[..count];
    TEMPLATES
        .iter()
        .find(|(_, segments)| {
            segments.len() == count
                && segments
                    .iter()
                    .zip(parts)
                    .all(|(segment, part)| match segment {
                        Some(literal) => literal == part,
                        None => !part.is_empty(),
                    })
        })
        .map(|(template, _)| template.as_str())
}

/// The routes served beside the document's operations, as metrics and logs name them.
const OTHER_ROUTES: [&str; 6] = [
    "/docs",
    "/redoc",
    "/openapi.json",
    "/openapi.yaml",
    "/metrics",
    "/",
];

/// The route `path` is served by, as a bounded label for metrics: its template in the
/// document (`/api/students/{id}`), one of the other routes, or `unmatched` (a 404). Never the
/// path itself: ids would make a series per student.
pub fn route_label(path: &str) -> &'static str {
    route_of(path)
        .or_else(|| {
            // The docs pages are served with and without a trailing slash.
            let page = match path {
                "/docs/" | "/redoc/" => &path[..path.len() - 1],
                _ => path,
            };
            OTHER_ROUTES.iter().copied().find(|route| *route == page)
        })
        .unwrap_or("unmatched")
}

/// The methods the spec lists for the path that `path` matches, as an `Allow` header value
/// (`GET, POST`); `None` when no path matches. A 405 must say what is allowed (RFC 9110).
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    static ALLOWED: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
        let Some(paths) = document()["paths"].as_object() else {
            return HashMap::new();
        };
        paths
            .iter()
            .map(|(template, operations)| {
                let mut methods: Vec<String> = operations
                    .as_object()
                    .map(|o| o.keys().map(|m| m.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                if methods.iter().any(|m| m == "GET") {
                    methods.push("HEAD".to_owned());
                }
                (template.clone(), methods.join(", "))
            })
            .collect()
    });
    ALLOWED.get(route_of(path)?).map(String::as_str)
}

/// The names of every header parameter an operation declares (`If-Match`, `Idempotency-Key`,
/// …), as the spec spells them.
pub fn header_parameters() -> &'static [String] {
    static NAMES: LazyLock<Vec<String>> =
        LazyLock::new(|| parameter_names(|parameter| parameter["in"] == "header"));
    &NAMES
}

/// The names of the query parameters that take one value (all but arrays such as `grade`).
pub fn single_value_query_parameters() -> &'static [String] {
    static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
        parameter_names(|parameter| {
            parameter["in"] == "query" && parameter["schema"]["type"] != "array"
        })
    });
    &NAMES
}

/// The published document, as poem's rejections need it (`api::rejections`).
#[derive(Debug, Clone, Copy)]
pub struct PublishedSpec;

impl SpecFacts for PublishedSpec {
    fn is_header(&self, name: &str) -> bool {
        header_parameters()
            .iter()
            .any(|header| header.eq_ignore_ascii_case(name))
    }

    fn enum_values(&self, schema: &str) -> Option<&[String]> {
        static ENUMS: LazyLock<HashMap<String, Vec<String>>> = LazyLock::new(|| {
            document()["components"]["schemas"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(name, schema)| {
                    let values = schema["enum"].as_array()?;
                    let values = values.iter().filter_map(|v| Some(v.as_str()?.to_owned()));
                    Some((name.clone(), values.collect()))
                })
                .collect()
        });
        ENUMS.get(schema).map(Vec::as_slice)
    }
}

/// What the middleware reads of one operation of the document.
#[derive(Debug)]
struct Operation {
    id: Option<String>,
    /// The query parameters it declares.
    query: Vec<String>,
}

/// The operation of `method` on the route `template` (from [`route_label`]), if the document
/// has one (`HEAD` is its `GET`). Looked up per request without building a key.
fn operation(method: &str, template: &str) -> Option<&'static Operation> {
    // Template → method → operation.
    static OPERATIONS: LazyLock<HashMap<String, HashMap<String, Operation>>> =
        LazyLock::new(|| {
            let Some(paths) = document()["paths"].as_object() else {
                return HashMap::new();
            };
            paths
                .iter()
                .map(|(template, methods)| {
                    let by_method = methods
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(method, operation)| {
                            let query = operation["parameters"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter(|parameter| parameter["in"] == "query")
                                .filter_map(|parameter| {
                                    Some(parameter["name"].as_str()?.to_owned())
                                })
                                .collect();
                            let id = operation["operationId"].as_str().map(str::to_owned);
                            (method.to_ascii_uppercase(), Operation { id, query })
                        })
                        .collect();
                    (template.clone(), by_method)
                })
                .collect()
        });
    let method = if method == "HEAD" { "GET" } else { method };
    OPERATIONS.get(template)?.get(method)
}

/// The operation id of `method` on the route `template` (from [`route_label`]).
pub fn operation_id(method: &str, template: &str) -> Option<&'static str> {
    operation(method, template)?.id.as_deref()
}

/// The query parameters the operation of `method` on the route `template` (from
/// [`route_label`]) declares, or `None` when no operation of the document serves them (the
/// docs pages, the spec documents, a method the path lacks: that is routing's 405, not a
/// parameter problem).
pub fn query_parameters(method: &str, template: &str) -> Option<&'static [String]> {
    operation(method, template).map(|operation| operation.query.as_slice())
}

/// The names of the parameters, of any operation, that `select` picks; sorted, once each.
fn parameter_names(select: impl Fn(&Value) -> bool) -> Vec<String> {
    let mut names: Vec<String> = operations(document())
        .filter_map(|operation| operation["parameters"].as_array())
        .flatten()
        .filter(|parameter| select(parameter))
        .filter_map(|parameter| Some(parameter["name"].as_str()?.to_owned()))
        .collect();
    names.sort();
    names.dedup();
    names
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
    publish_security(&mut document);
    publish_header_lengths(&mut document);
    publish_closed_request_bodies(&mut document);
    // The API is meant for callers outside the deployment (OWASP API9: say who a server is for).
    if let Some(Value::Object(server)) = document.pointer_mut("/servers/0") {
        server.insert("x-internal".into(), Value::Bool(false));
    }
    publish_problem_examples(&mut document);
    for (schema, names) in [
        ("Grade", grade_variant_names()),
        ("Scope", scope_variant_names()),
        ("StudentSort", sort_variant_names()),
        ("WebhookEventType", event_type_variant_names()),
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

/// Every error status of every operation shows its own example problem (poem-openapi can only
/// give the `Problem` schema one example, which would show a 422 under a 404).
fn publish_problem_examples(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
        .filter_map(Value::as_object_mut);
    for operation in operations {
        let id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let Some(Value::Object(responses)) = operation.get_mut("responses") else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            let Ok(status) = status.parse::<u16>() else {
                continue;
            };
            let example = own_example(&id, status)
                .map(|error| example_of(&error))
                .or_else(|| example_problem(status))
                .and_then(|problem| serde_json::to_value(problem).ok());
            if let (Some(example), Some(Value::Object(media))) = (
                example,
                response.pointer_mut(&format!(
                    "/content/{}",
                    PROBLEM_CONTENT_TYPE.replace('/', "~1")
                )),
            ) {
                media.entry("example").or_insert(example);
            }
        }
    }
}

/// An operation whose answer under `status` is not the one most operations give.
fn own_example(operation_id: &str, status: u16) -> Option<ApiError> {
    match (operation_id, status) {
        ("signIn", 400) => Some(ApiError::SignIn(SignInError::InvalidGrant)),
        ("signIn", 415) => Some(ApiError::UnsupportedMediaType(
            "the content type `application/json` is not supported; send `Content-Type: \
             application/x-www-form-urlencoded`"
                .to_owned(),
        )),
        ("changeMyPassword", 403) => Some(ApiError::NotASignIn),
        ("changeMyPassword", 422) => Some(ApiError::Validation(vec![FieldError::new(
            "/current_password",
            "wrong",
            "is not the account's password",
        )])),
        ("updateAccount", 422) => Some(ApiError::Validation(vec![FieldError::new(
            "/role",
            "invalid_enum",
            "must be one of viewer, editor, admin",
        )])),
        ("createAccount" | "resetPassword", 422) => {
            Some(ApiError::Validation(vec![FieldError::new(
                "/password",
                "common_password",
                "is one of the 10,000 most common passwords; choose another",
            )]))
        }
        ("createAccount", 409) => Some(ApiError::UsernameTaken),
        ("restoreStudent", 409) => Some(ApiError::EmailTaken {
            restored_version: Some(2),
        }),
        ("restoreStudent", 422) => {
            Some(crate::db::Error::NoSuchVersion { id: 42, version: 9 }.into())
        }
        ("updateAccount", 409) => Some(ApiError::LastAdmin(1)),
        ("getAccount" | "updateAccount" | "resetPassword", 404) => {
            Some(ApiError::AccountNotFound(42))
        }
        ("signIn" | "changeMyPassword", 429) => Some(ApiError::TooManySignIns {
            by: crate::db::sign_ins::LimitedBy::Username,
            window_minutes: 15,
            retry_after_secs: 840,
        }),
        _ => None,
    }
}

/// The longest value of each response header an operation declares as a plain string
/// (poem-openapi's `#[oai(header)]` takes no schema): an ETag is a quoted `bigint`, a
/// Location a student's path, a Link the next page's URL (every filter, percent-encoded, and a
/// cursor of up to 1,024 characters), a Content-Disposition the export's file name, a
/// sign-in's Cache-Control and Pragma `no-store` and `no-cache`.
const RESPONSE_HEADER_LENGTHS: [(&str, usize); 6] = [
    ("ETag", 22),
    ("Cache-Control", 8),
    ("Pragma", 8),
    ("Location", 40),
    ("Link", 4096),
    ("Content-Disposition", 64),
];

fn publish_header_lengths(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let headers = paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|operations| operations.values_mut())
        .filter_map(|operation| operation.get_mut("responses")?.as_object_mut())
        .flat_map(|responses| responses.values_mut())
        .filter_map(|response| response.get_mut("headers")?.as_object_mut())
        .flat_map(|headers| headers.iter_mut());
    for (name, header) in headers {
        let Some(Value::Object(schema)) = header.get_mut("schema") else {
            continue;
        };
        if let Some((_, max)) = RESPONSE_HEADER_LENGTHS.iter().find(|(n, _)| n == name)
            && schema.get("type") == Some(&Value::from("string"))
        {
            schema.insert("maxLength".into(), Value::from(*max));
        }
    }
}

/// What `Authorized<R>` declares, completed. Its sign-in scheme's name carries the scope
/// (`signIn students:write`, see `api::auth::security_key`): here it becomes
/// `signIn: [students:write]`, and the operation gets the answers every protected operation
/// can give: 401 and 403 (with `WWW-Authenticate`; no 403 where any token will do), 429 (with
/// `Retry-After`), and the `RateLimit-*` headers on every 2xx and 4xx answer.
fn publish_security(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let operations = paths
        .iter_mut()
        .filter_map(|(path, operations)| {
            Some((path.starts_with("/api/"), operations.as_object_mut()?))
        })
        .flat_map(|(api, operations)| {
            operations
                .values_mut()
                .map(move |operation| (api, operation))
        })
        .filter_map(|(api, operation)| Some((api, operation.as_object_mut()?)));
    for (api, operation) in operations {
        let Some(Value::Array(requirements)) = operation.get_mut("security") else {
            if let (true, Some(Value::Object(responses))) = (api, operation.get_mut("responses")) {
                publish_gatekeeper_headers(responses);
            }
            continue;
        };
        // `None`: not protected; `Some(None)`: any token.
        let mut needed: Option<Option<Scope>> = None;
        for requirement in requirements.iter_mut() {
            let Some(requirement) = requirement.as_object_mut() else {
                continue;
            };
            let keys: Vec<String> = requirement.keys().cloned().collect();
            for key in keys {
                let Some(rest) = key.strip_prefix(SIGN_IN_SCHEME) else {
                    continue;
                };
                let scope = rest.strip_prefix(' ');
                needed = Some(scope.and_then(|scope| Scope::parse(scope).ok()));
                requirement.remove(&key);
                requirement.insert(SIGN_IN_SCHEME.into(), Value::from(Vec::from_iter(scope)));
            }
        }
        let (Some(needed), Some(Value::Object(responses))) =
            (needed, operation.get_mut("responses"))
        else {
            continue;
        };
        let mut answers = vec![
            (
                statuses::UNAUTHORIZED,
                ApiError::Unauthorized {
                    why: AuthFailure::Missing,
                    needed,
                },
            ),
            (
                statuses::RATE_LIMITED,
                ApiError::RateLimited {
                    limit: 60,
                    client: "address",
                    retry_after_secs: 17,
                },
            ),
        ];
        if let Some(scope) = needed {
            answers.push((
                statuses::INSUFFICIENT_SCOPE,
                ApiError::InsufficientScope(scope),
            ));
        }
        for ((status, description), error) in answers {
            let example = serde_json::to_value(example_of(&error)).unwrap_or_default();
            // An operation that declares the status itself says more (`changeMyPassword`'s
            // 429 is also its failed-sign-in limit).
            responses.entry(status.to_string()).or_insert_with(|| {
                serde_json::json!({
                    "description": description,
                    "content": {
                        PROBLEM_CONTENT_TYPE: {
                            "schema": { "$ref": "#/components/schemas/Problem" },
                            "example": example,
                        }
                    }
                })
            });
        }
        publish_gatekeeper_headers(responses);
    }
}

/// Every `/api/` answer passed through the gatekeeper, protected or not (`signIn` is limited
/// per address like any request without a token): its headers go on each response, which are
/// sorted by status.
fn publish_gatekeeper_headers(responses: &mut serde_json::Map<String, Value>) {
    let mut sorted: Vec<(String, Value)> = std::mem::take(responses).into_iter().collect();
    sorted.sort_by(|(a, _), (b, _)| a.cmp(b));
    for (status, mut response) in sorted {
        if let Some(response) = response.as_object_mut() {
            let headers = response
                .entry("headers")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(headers) = headers.as_object_mut() {
                for (name, description) in response_headers(&status) {
                    headers.insert(
                        name.to_owned(),
                        serde_json::json!({
                            "description": description,
                            "schema": header_schema(name),
                        }),
                    );
                }
                if headers.is_empty() {
                    response.remove("headers");
                }
            }
        }
        responses.insert(status, response);
    }
}

/// The headers a protected operation's answer with `status` carries besides its own.
fn response_headers(status: &str) -> Vec<(&'static str, &'static str)> {
    let mut headers = Vec::new();
    // Every answer the gatekeeper let through or refused (not a 304, which repeats only the
    // validators).
    if !status.starts_with('3') {
        headers.extend([
            (
                "RateLimit-Limit",
                "Requests allowed per minute to this token (or, without a valid token, this \
                 address) on this instance.",
            ),
            (
                "RateLimit-Remaining",
                "Requests left in the current minute.",
            ),
            (
                "RateLimit-Reset",
                "Seconds until the current minute's window ends.",
            ),
        ]);
    }
    if matches!(status, "401" | "403") {
        headers.push((
            "WWW-Authenticate",
            "The bearer challenge (RFC 6750): `error` and `scope` say what was wrong.",
        ));
    }
    if matches!(status, "429" | "503") {
        headers.push(("Retry-After", "Seconds to wait before retrying."));
    }
    headers
}

fn header_schema(name: &str) -> Value {
    if name == "WWW-Authenticate" {
        serde_json::json!({ "type": "string", "maxLength": 400 })
    } else {
        serde_json::json!({ "type": "integer", "format": "int32", "minimum": 0, "maximum": 1_000_000_000 })
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
            } else if number.as_f64() == Some(i64::MAX as f64) && number.is_f64() {
                // int64's largest value, which an f64 cannot hold exactly.
                *number = serde_json::Number::from(i64::MAX);
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
