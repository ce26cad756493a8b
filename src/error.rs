//! The one error type, rendered as RFC 9457 problem details (`application/problem+json`).
//!
//! Every non-2xx response goes through [`ApiError::into_problem_response`]: errors our handlers
//! return, and (via [`from_poem`], wired in `startup::app`) those poem and poem-openapi raise
//! themselves (unknown route, wrong method, wrong content type, bad path or query parameter).

use std::marker::PhantomData;

use poem::{
    IntoResponse, Response,
    http::{HeaderValue, StatusCode, header::RETRY_AFTER},
};
use poem_openapi::{
    ApiResponse, Object,
    error::{ContentTypeError, ParseParamError, ParsePathError},
    payload::Payload,
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::Type,
};

/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The largest request body we read, in bytes. A student is well under 1 KiB; 64 KiB leaves room
/// for generous names without letting one request hold megabytes of memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// One thing wrong with a request, precise enough to show next to the input that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Object, serde::Serialize)]
pub struct FieldError {
    /// Where: a JSON pointer into the body (`/name`), or `query.<name>` / `path.<name>`.
    pub location: String,
    /// What is wrong, for people.
    pub message: String,
    /// What is wrong, for programs: `required`, `type`, `too_long`, `invalid_email`, …
    pub code: String,
}

impl FieldError {
    pub fn new(location: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
            code: code.to_owned(),
        }
    }
}

/// An RFC 9457 problem details object. `type` is a stable URN per kind of problem.
#[derive(Debug, Clone, Object, serde::Serialize)]
#[oai(example)]
pub struct Problem {
    /// Identifies the kind of problem; stable, safe to switch on.
    #[oai(rename = "type")]
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: i32,
    /// What happened in this occurrence.
    pub detail: String,
    /// One entry per bad field or parameter (validation and conflict problems); else empty.
    pub errors: Vec<FieldError>,
    /// This request's id, as in the `X-Request-Id` header and the server's log; quote it when
    /// reporting a problem.
    pub request_id: String,
}

impl poem_openapi::types::Example for Problem {
    fn example() -> Self {
        let problem = ApiError::Validation(vec![
            FieldError::new("/name", "too_long", "must be at most 100 characters"),
            FieldError::new(
                "/grade",
                "invalid_enum",
                "must be one of A+, A, A-, B+, B, B-, C+, C, C-, D, F",
            ),
        ])
        .problem();
        Problem {
            request_id: "3f2b8c0e9d4a4b7e8c1d2e3f4a5b6c7d".to_owned(),
            ..problem
        }
    }
}

/// Everything that can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request has {} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    #[error("the request body is not valid JSON: {0}")]
    MalformedBody(String),
    #[error("student {0} does not exist")]
    StudentNotFound(i64),
    #[error("no route matches {0}")]
    RouteNotFound(String),
    #[error("the method is not allowed on this resource")]
    MethodNotAllowed,
    #[error("another student already has this e-mail address")]
    EmailTaken,
    #[error("the student has changed since the version `If-Match` names")]
    PreconditionFailed,
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    IdempotencyKeyInUse,
    #[error("the request body is larger than {MAX_BODY_BYTES} bytes")]
    PayloadTooLarge,
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("the database is not migrated yet")]
    NotReady,
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MalformedBody(_) => StatusCode::BAD_REQUEST,
            ApiError::StudentNotFound(_) | ApiError::RouteNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::EmailTaken | ApiError::IdempotencyKeyInUse => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Unavailable(_) | ApiError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Validation(_) => ("validation-failed", "Your request is not valid"),
            ApiError::MalformedBody(_) => ("malformed-body", "The request body is not valid JSON"),
            ApiError::StudentNotFound(_) => ("student-not-found", "Student not found"),
            ApiError::RouteNotFound(_) => ("not-found", "Not found"),
            ApiError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            ApiError::EmailTaken => ("email-taken", "E-mail address already in use"),
            ApiError::PreconditionFailed => ("precondition-failed", "The student has changed"),
            ApiError::IdempotencyKeyInUse => ("idempotency-key-in-use", "Request in progress"),
            ApiError::PayloadTooLarge => ("payload-too-large", "Request body too large"),
            ApiError::RequestTimeout => ("request-timeout", "Request body too slow"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::Unavailable(_) | ApiError::NotReady => {
                ("service-unavailable", "Service temporarily unavailable")
            }
            ApiError::Internal(_) => ("internal-error", "Internal server error"),
        }
    }

    /// The problem body. 5xx details stay generic: internals go to the log, never to clients.
    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        let detail = match self {
            ApiError::Unavailable(_) | ApiError::NotReady => {
                "The database cannot be reached; retry shortly.".to_owned()
            }
            ApiError::Internal(_) => {
                "Something went wrong on our side; it has been logged.".to_owned()
            }
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::Validation(errors) => errors.clone(),
            ApiError::EmailTaken => vec![FieldError::new(
                "/email",
                "taken",
                "is already used by another student (compared case-insensitively)",
            )],
            ApiError::PreconditionFailed => vec![FieldError::new(
                "header.If-Match",
                "stale",
                "is not the student's current ETag; GET it again and retry with that one",
            )],
            _ => Vec::new(),
        };
        Problem {
            kind: format!("urn:students-api:problem:{kind}"),
            title: title.to_owned(),
            status: i32::from(self.status().as_u16()),
            detail,
            errors,
            request_id: crate::middleware::current_request_id(),
        }
    }

    /// Logs server-side failures, then renders the problem. Called once per error response.
    pub fn into_problem_response(self) -> Response {
        match &self {
            ApiError::Internal(source) => tracing::error!(error = %source, "internal error"),
            ApiError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable")
            }
            _ => {}
        }
        self.to_response()
    }

    fn to_response(&self) -> Response {
        let mut response = ProblemJson(self.problem()).into_response();
        if matches!(
            self,
            ApiError::Unavailable(_) | ApiError::NotReady | ApiError::IdempotencyKeyInUse
        ) {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl poem::error::ResponseError for ApiError {
    fn status(&self) -> StatusCode {
        ApiError::status(self)
    }

    fn as_response(&self) -> Response {
        self.to_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &err {
            E::Database(db) if db.constraint() == Some(crate::db::EMAIL_UNIQUE_INDEX) => {
                ApiError::EmailTaken
            }
            // A CHECK mirrors a type's rule, so the types should have refused this value first;
            // if they did not, it is still the client's value: a 422, logged so we fix the type.
            E::Database(db) if db.code().as_deref() == Some(CHECK_VIOLATION) => {
                let constraint = db.constraint().unwrap_or("unknown");
                tracing::warn!(constraint, "a CHECK refused a value the API types accepted");
                ApiError::Validation(vec![FieldError::new(
                    constraint_location(constraint),
                    "constraint",
                    format!("breaks the database rule `{constraint}`"),
                )])
            }
            _ if is_unavailable(&err) => ApiError::Unavailable(err),
            _ => ApiError::Internal(Box::new(err)),
        }
    }
}

const CHECK_VIOLATION: &str = "23514";

/// `students_name_length` → `/name`: our constraints are named `<table>_<column>_<rule>`.
fn constraint_location(constraint: &str) -> String {
    let column = constraint
        .strip_prefix("students_")
        .and_then(|rest| rest.split('_').next())
        .unwrap_or_default();
    format!("/{column}")
}

/// Whether `err` means "the database cannot be reached or is overloaded" (a 503, retried at
/// start-up), as opposed to a fault in the query or the data.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match err {
        E::Database(db) => is_unavailable_sqlstate(db.code().as_deref()),
        E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) => true,
        _ => false,
    }
}

/// SQLSTATEs that mean "the server is going away or overloaded", not "your query is wrong":
/// class 08 connection exception, 57P operator intervention (shutdown), 53 insufficient
/// resources, and 57014 query canceled (our `statement_timeout` fired).
fn is_unavailable_sqlstate(code: Option<&str>) -> bool {
    code.is_some_and(|c| {
        c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") || c == "57014"
    })
}

/// Turns any error poem or poem-openapi raised into our problem response.
pub fn from_poem(err: poem::Error) -> ApiError {
    if err.is::<ApiError>() {
        return match err.downcast::<ApiError>() {
            Ok(api) => api,
            Err(other) => ApiError::Internal(other.to_string().into()),
        };
    }
    if let Some(param) = err.downcast_ref::<ParseParamError>() {
        return ApiError::Validation(vec![FieldError::new(
            format!("query.{}", param.name),
            "invalid_parameter",
            param.reason.clone(),
        )]);
    }
    if let Some(path) = err.downcast_ref::<ParsePathError>() {
        return ApiError::Validation(vec![FieldError::new(
            format!("path.{}", path.name),
            "invalid_parameter",
            path.reason.clone(),
        )]);
    }
    if let Some(content_type) = err.downcast_ref::<ContentTypeError>() {
        return ApiError::UnsupportedMediaType(format!(
            "{content_type}; send `Content-Type: application/json`"
        ));
    }
    match err.status() {
        StatusCode::NOT_FOUND => ApiError::RouteNotFound("this path".to_owned()),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::BAD_REQUEST => ApiError::MalformedBody(err.to_string()),
        // CORS: a browser request from an origin outside the allow-list.
        StatusCode::FORBIDDEN => ApiError::Forbidden(err.to_string()),
        _ => ApiError::Internal(err.to_string().into()),
    }
}

/// A problem details body with its own media type, for the spec and for responses.
#[derive(Debug)]
pub struct ProblemJson(pub Problem);

impl Payload for ProblemJson {
    const CONTENT_TYPE: &'static str = PROBLEM_CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        Problem::schema_ref()
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

impl IntoResponse for ProblemJson {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(u16::try_from(self.0.status).unwrap_or(500))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self.0).unwrap_or_default();
        Response::builder()
            .status(status)
            .content_type(PROBLEM_CONTENT_TYPE)
            .body(body)
    }
}

/// The error statuses one operation can answer with, and why; declared per operation so the
/// spec lists exactly those (and clients generate exactly those error cases).
pub trait ErrorStatuses: Send + Sync + 'static {
    const STATUSES: &'static [(u16, &'static str)];
}

/// An [`ApiError`] as the error half of an operation's result, documented with `S`'s statuses.
pub struct Failure<S>(pub ApiError, PhantomData<S>);

impl<S> std::fmt::Debug for Failure<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<S, E: Into<ApiError>> From<E> for Failure<S> {
    fn from(err: E) -> Self {
        Failure(err.into(), PhantomData)
    }
}

impl<S> From<Failure<S>> for poem::Error {
    fn from(failure: Failure<S>) -> Self {
        poem::Error::from(failure.0)
    }
}

impl<S: ErrorStatuses> ApiResponse for Failure<S> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: S::STATUSES
                .iter()
                .map(|&(status, description)| MetaResponse {
                    description,
                    status: Some(status),
                    status_range: None,
                    content: vec![MetaMediaType {
                        content_type: PROBLEM_CONTENT_TYPE,
                        schema: Problem::schema_ref(),
                    }],
                    headers: vec![],
                })
                .collect(),
        }
    }

    fn register(registry: &mut Registry) {
        Problem::register(registry);
    }
}

/// Descriptions shared by the per-operation status lists.
pub mod statuses {
    pub const BAD_REQUEST: (u16, &str) = (400, "The body is not valid JSON.");
    pub const NOT_FOUND: (u16, &str) = (404, "No student has this id.");
    pub const CONFLICT: (u16, &str) = (409, "Another student already has this e-mail address.");
    pub const CONFLICT_ON_CREATE: (u16, &str) = (
        409,
        "Another student already has this e-mail address, or a request with the same \
         `Idempotency-Key` is still running (retry after `Retry-After` seconds).",
    );
    pub const PRECONDITION: (u16, &str) = (
        412,
        "`If-Match` is not the student's current ETag: someone changed it since you read it.",
    );
    pub const TOO_SLOW: (u16, &str) = (408, "The body took more than 10 seconds to arrive.");
    pub const TOO_LARGE: (u16, &str) = (413, "The body is larger than 64 KiB.");
    pub const UNSUPPORTED: (u16, &str) = (415, "The body is not `application/json`.");
    pub const INVALID: (u16, &str) = (
        422,
        "The request is well-formed but invalid; `errors` lists every bad field at once.",
    );
    pub const INTERNAL: (u16, &str) = (
        500,
        "An unexpected error on our side; details are logged, not returned.",
    );
    pub const UNAVAILABLE: (u16, &str) = (
        503,
        "The database is unreachable; retry after `Retry-After` seconds.",
    );
}

impl From<crate::db::QueryError> for ApiError {
    fn from(err: crate::db::QueryError) -> Self {
        match err {
            crate::db::QueryError::Database(err) => err.into(),
            crate::db::QueryError::NotFound(id) => ApiError::StudentNotFound(id),
            crate::db::QueryError::Stale(_) => ApiError::PreconditionFailed,
            crate::db::QueryError::KeyInUse => ApiError::IdempotencyKeyInUse,
            crate::db::QueryError::KeyReused => ApiError::Validation(vec![FieldError::new(
                "header.Idempotency-Key",
                "reused",
                "was already used with a different body; use a new key for a new request",
            )]),
            corrupt @ crate::db::QueryError::Corrupt(_) => ApiError::Internal(Box::new(corrupt)),
        }
    }
}
