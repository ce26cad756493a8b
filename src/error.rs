//! The one error type, [`ApiError`], rendered as an RFC 9457 problem (`application/problem+json`).
//!
//! Handlers return it (through `api::contract::Failure`), `api::rejections` makes one of every
//! error poem and poem-openapi raise themselves, and the database's errors arrive already
//! classified as [`db::Error`]. Each is rendered once, where it is turned into a `poem::Error`.

use poem::{
    IntoResponse, Response,
    http::{
        HeaderValue, StatusCode,
        header::{RETRY_AFTER, WWW_AUTHENTICATE},
    },
};
use poem_openapi::{
    Object,
    payload::Payload,
    registry::{MetaSchemaRef, Registry},
    types::Type,
};

use crate::{
    db,
    domain::{Scope, Violation},
    request_id,
};

/// The media type of every error body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The prefix of every problem `type`.
const PROBLEM_TYPE_PREFIX: &str = "urn:students-api:problem:";

/// What a problem holds at most (the spec publishes these limits): longer text is cut, with
/// `…`, so an echo of a huge input never makes a huge answer.
const MAX_DETAIL_CHARS: usize = 1000;
const MAX_LOCATION_CHARS: usize = 200;
const MAX_MESSAGE_CHARS: usize = 500;
const MAX_FIELD_ERRORS: usize = 1000;

/// What a 401 says the operation needs.
fn bearer_with(needed: Option<Scope>) -> String {
    match needed {
        Some(scope) => format!("a bearer token with the scope `{}`", scope.as_str()),
        None => "a bearer token".to_owned(),
    }
}

/// `text`, cut to `max` characters (the last one `…`) if it is longer.
fn clamp(mut text: String, max: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max.saturating_sub(1))
        && text[cut..].chars().nth(1).is_some()
    {
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// What a `taken` e-mail error says: one create's, or an import row's.
pub const TAKEN: &str = "is already used by another student (compared case-insensitively)";

/// What a `409` `email-taken` says: a write's, or a restore's of a version.
fn email_taken(restored_version: Option<i32>) -> String {
    match restored_version {
        None => "another student already has this e-mail address".to_owned(),
        Some(version) => format!(
            "version {version}'s e-mail address is now another student's (compared \
             case-insensitively), so nothing was restored; change or clear that student's \
             address first, or restore another version"
        ),
    }
}

/// One thing wrong with a request, precise enough to show next to the input that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Object, serde::Serialize, serde::Deserialize)]
pub struct FieldError {
    /// Where: a JSON pointer into the body (`/name`), or `query.<name>`, `path.<name>`,
    /// `header.<name>`.
    #[oai(validator(max_length = 200))] // MAX_LOCATION_CHARS
    pub location: String,
    /// What is wrong, for people.
    #[oai(validator(max_length = 500))] // MAX_MESSAGE_CHARS
    pub message: String,
    /// What is wrong, for programs: `required`, `type`, `too_long`, `invalid_email`, …
    #[oai(validator(max_length = 50, pattern = "^[a-z_]+$"))]
    pub code: String,
    /// The line of an imported file where the bad row starts (counting from 1, the CSV
    /// header included); only in an import's errors.
    #[oai(
        skip_serializing_if_is_none,
        validator(minimum(value = "1"), maximum(value = "9223372036854775807"))
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<i64>,
    /// With `line`, for a CSV file whose quoting is broken: the column on that line (counting
    /// characters from 1) where it breaks.
    #[oai(
        skip_serializing_if_is_none,
        validator(minimum(value = "1"), maximum(value = "9223372036854775807"))
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<i64>,
}

impl FieldError {
    pub fn new(location: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            message: message.into(),
            code: code.to_owned(),
            line: None,
            column: None,
        }
    }

    /// The same error, placed on a line of an imported file.
    pub fn on_line(mut self, line: u64) -> Self {
        self.line = i64::try_from(line).ok();
        self
    }

    /// The same error, placed on a line and column of an imported file.
    pub fn at(self, line: u64, column: u64) -> Self {
        let mut placed = self.on_line(line);
        placed.column = i64::try_from(column).ok();
        placed
    }

    /// A domain rule's violation, at `location`.
    pub fn violation(location: impl Into<String>, violation: Violation) -> Self {
        Self {
            location: location.into(),
            message: violation.message,
            code: violation.code.as_str().to_owned(),
            line: None,
            column: None,
        }
    }
}

/// An RFC 9457 problem details object. `type` is a stable URN per kind of problem.
#[derive(Debug, Clone, Object, serde::Serialize)]
pub struct Problem {
    /// Identifies the kind of problem; stable, safe to switch on (the API's description lists
    /// them all).
    #[oai(rename = "type", validator(max_length = 100))]
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    #[oai(validator(max_length = 100))]
    pub title: String,
    /// The HTTP status code.
    #[oai(validator(minimum(value = "400"), maximum(value = "599")))]
    pub status: i32,
    /// What happened in this occurrence.
    #[oai(validator(max_length = 1000))] // MAX_DETAIL_CHARS
    pub detail: String,
    /// One entry per bad field or parameter (validation and conflict problems), the first
    /// 1,000; else empty.
    #[oai(validator(max_items = 1000))] // MAX_FIELD_ERRORS
    pub errors: Vec<FieldError>,
    /// This request's id, as in the `X-Request-Id` header and the server's log; quote it when
    /// reporting a problem.
    #[oai(validator(max_length = 64, pattern = "^[A-Za-z0-9._:-]+$"))] // request_id::MAX_LEN
    pub request_id: String,
    /// Only from the sign-in (`POST /api/auth/token`): the OAuth 2.0 error code (RFC 6749
    /// §5.2), for OAuth clients: `invalid_request`, `invalid_grant`, `invalid_scope` or
    /// `unsupported_grant_type`.
    #[oai(
        skip_serializing_if_is_none,
        validator(max_length = 30, pattern = "^[a-z_]+$")
    )]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With `error`: what was wrong, for people (the same as `detail`).
    #[oai(skip_serializing_if_is_none, validator(max_length = 1000))] // MAX_DETAIL_CHARS
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// The realm every `WWW-Authenticate` challenge names.
pub const REALM: &str = "students-api";

/// Why a request's credentials were not accepted (RFC 6750 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header.
    Missing,
    /// An `Authorization` header of another scheme (`Basic …`), or two of them.
    NotBearer,
    /// A bearer credential that is not shaped like a token.
    Malformed,
    /// Shaped like a token, but its checksum is wrong: mistyped or cut short.
    Mistyped,
    Unknown,
    Expired,
    Revoked,
}

impl AuthFailure {
    /// A name for metrics: `auth_failures_total{reason="revoked"}`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailure::Missing => "missing",
            AuthFailure::NotBearer => "not_bearer",
            AuthFailure::Malformed => "malformed",
            AuthFailure::Mistyped => "mistyped",
            AuthFailure::Unknown => "unknown",
            AuthFailure::Expired => "expired",
            AuthFailure::Revoked => "revoked",
        }
    }

    /// What the client sent wrong, in a sentence.
    pub fn explain(self) -> &'static str {
        match self {
            AuthFailure::Missing => "the request has no `Authorization` header",
            AuthFailure::NotBearer => {
                "the `Authorization` header is not one bearer token (`Authorization: Bearer sat_…`)"
            }
            AuthFailure::Malformed => {
                "the bearer token is not an API token: those are `sat_` and 28 letters or digits"
            }
            AuthFailure::Mistyped => {
                "the bearer token's checksum does not match: it was mistyped or cut short"
            }
            AuthFailure::Unknown => "no such token: it was never issued here, or was deleted",
            AuthFailure::Expired => "the token has expired",
            AuthFailure::Revoked => "the token has been revoked",
        }
    }

    /// Whether the client presented a token at all (RFC 6750: then the challenge says
    /// `error="invalid_token"`; without one it names only the realm).
    fn presented_a_token(self) -> bool {
        !matches!(self, AuthFailure::Missing | AuthFailure::NotBearer)
    }
}

/// Everything that can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request has {} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    #[error("the request body is not valid JSON: {0}")]
    MalformedBody(String),
    #[error("the upload broke off before its end ({0}); nothing was written")]
    UploadIncomplete(String),
    #[error(
        "{invalid} of the file's {rows} rows break the rules ({errors} {}{}); nothing was \
         written. Fix them, or import with `on_error=skip` to write the other rows",
        if *.errors == 1 { "error" } else { "errors" },
        if .errors > &(MAX_FIELD_ERRORS as u64) { "; the first 1,000 are listed" } else { "" }
    )]
    InvalidRows {
        rows: u64,
        invalid: u64,
        errors: u64,
        listed: Vec<FieldError>,
    },
    #[error("student {0} does not exist")]
    StudentNotFound(i64),
    #[error("no route matches this path")]
    RouteNotFound,
    #[error("the method is not allowed on this resource")]
    MethodNotAllowed,
    #[error("{}", email_taken(*.restored_version))]
    EmailTaken {
        /// A restore's: the version whose e-mail address another student now has.
        restored_version: Option<i32>,
    },
    #[error("the student has changed since the version `If-Match` names")]
    PreconditionFailed,
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    IdempotencyKeyInUse,
    #[error("the request body is larger than {limit_bytes} bytes")]
    PayloadTooLarge { limit_bytes: usize },
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    InvalidHost(String),
    #[error("{}; this operation needs {}", .why.explain(), bearer_with(*.needed))]
    Unauthorized {
        why: AuthFailure,
        /// `None`: any valid token.
        needed: Option<Scope>,
    },
    #[error("this operation needs the scope `{}`, which the token does not have", .0.as_str())]
    InsufficientScope(Scope),
    #[error(
        "more than {limit} requests in a minute from this {client}; retry after `Retry-After` \
         seconds"
    )]
    RateLimited {
        limit: u32,
        /// `token`, or `address` for requests without a valid token.
        client: &'static str,
        retry_after_secs: u64,
    },
    #[error("token {0} does not exist")]
    TokenNotFound(i64),
    #[error("account {0} does not exist")]
    AccountNotFound(i64),
    #[error("webhook endpoint {0} does not exist")]
    WebhookNotFound(i64),
    #[error("another account already has this username")]
    UsernameTaken,
    #[error(
        "account {0} is the last active admin: lowering its role or disabling it would leave \
         nobody to manage accounts and tokens; make another account admin first"
    )]
    LastAdmin(i64),
    #[error(
        "this is an API token, which has no account and so no password; sign in (signIn) to \
         change your own password"
    )]
    NotASignIn,
    /// A sign-in (the OAuth 2.0 password grant) refused; RFC 6749 §5.2 says 400 for each.
    #[error("{0}")]
    SignIn(SignInError),
    #[error(
        "too many failed sign-ins for this {} in the last {window_minutes} minutes; retry \
         after `Retry-After` seconds", .by.as_str()
    )]
    TooManySignIns {
        by: db::sign_ins::LimitedBy,
        window_minutes: u64,
        retry_after_secs: u64,
    },
    #[error(
        "the changes after this position were pruned (they are kept for {retention}); to \
         resync, take the feed's position (pollChanges with after=now and wait=0), list the \
         students, then follow from that position"
    )]
    PositionExpired { retention: String },
    /// hyper could not read the request head; the status is the one it chose (400, 414, 431).
    #[error("the request head could not be read")]
    UnreadableHead(StatusCode),
    #[error("the database is unavailable")]
    Unavailable(#[source] db::Error),
    #[error(
        "searches, exact counts, exports and imports may use {slots} database connections at \
         once, and all are in use; retry after `Retry-After` seconds, or narrow the request"
    )]
    Busy { slots: usize },
    #[error("the database is not migrated yet")]
    NotReady,
    /// SIGTERM arrived: this instance is draining, so a balancer sends the request elsewhere.
    #[error("this instance is shutting down")]
    ShuttingDown,
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Why a sign-in was refused, as RFC 6749 §5.2 names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// A parameter missing, repeated or too long: the field it names.
    #[error("the sign-in form's `{}` {}", .0.location, .0.message)]
    InvalidRequest(FieldError),
    #[error(
        "`grant_type` must be `password`: this server grants tokens for a username and password only"
    )]
    UnsupportedGrantType,
    #[error("{0}")]
    InvalidScope(String),
    /// Every refusal of the credentials alike: which usernames exist is not told.
    #[error("the username or password is wrong, or the account is disabled")]
    InvalidGrant,
}

impl SignInError {
    /// The OAuth 2.0 error code.
    pub fn code(&self) -> &'static str {
        match self {
            SignInError::InvalidRequest(_) => "invalid_request",
            SignInError::UnsupportedGrantType => "unsupported_grant_type",
            SignInError::InvalidScope(_) => "invalid_scope",
            SignInError::InvalidGrant => "invalid_grant",
        }
    }
}

/// Every problem `type` (after `urn:students-api:problem:`) and what it means: published in the
/// API's description, listed in docs/errors.md (tests/api/docs.rs holds it to this table), and the only ones [`ApiError`] produces.
pub const PROBLEM_TYPES: &[(&str, &str)] = &[
    (
        "validation-failed",
        "422: the request is well-formed but breaks the contract; `errors` names every bad \
         field, parameter or header",
    ),
    (
        "invalid-rows",
        "422: rows of an import break the rules; `errors` names each bad row and field \
         (`/rows/17/email`) with its `line`, and nothing was written",
    ),
    (
        "malformed-body",
        "400: the body is not JSON (or repeats a key)",
    ),
    (
        "upload-incomplete",
        "400: an import's upload broke off (the connection closed before the declared length, \
         or its chunked encoding broke); nothing was written",
    ),
    ("student-not-found", "404: no student has this id"),
    ("not-found", "404: no route has this path"),
    (
        "method-not-allowed",
        "405: the path exists, the method does not (`Allow` lists them)",
    ),
    (
        "email-taken",
        "409: another student has this e-mail address, ignoring case",
    ),
    (
        "idempotency-key-in-use",
        "409: a request with this `Idempotency-Key` is still running; retry after `Retry-After`",
    ),
    (
        "precondition-failed",
        "412: `If-Match` is not the student's current ETag",
    ),
    (
        "payload-too-large",
        "413: the body is larger than 64 KiB (an import's: than `IMPORT_MAX_BYTES`, default \
         100 MiB)",
    ),
    (
        "request-timeout",
        "408: the body took more than 10 seconds to arrive (an import's: 10 seconds passed \
         without a byte, or with less than 10 KiB)",
    ),
    (
        "unsupported-media-type",
        "415: the body is not `application/json` (an import's: not `text/csv` or \
         `application/x-ndjson`)",
    ),
    (
        "malformed-request",
        "400: the request line or a header breaks HTTP/1.1 (obs-fold, two different `Content-Length`s, \
         an unknown version, NUL or a bare CR in a header); the connection is closed",
    ),
    (
        "uri-too-long",
        "414: the request target is longer than the server reads; the connection is closed",
    ),
    (
        "headers-too-large",
        "431: more than 100 header fields, or a head over about 400 KiB; the connection is \
         closed",
    ),
    (
        "invalid-host",
        "400: the `Host` header is missing, repeated, or names a host this service does not \
         answer to (`ALLOWED_HOSTS`)",
    ),
    (
        "forbidden",
        "403: a browser request from an origin outside the CORS allow-list",
    ),
    (
        "unauthorized",
        "401: no bearer token (`WWW-Authenticate` names the realm); send \
         `Authorization: Bearer sat_…`",
    ),
    (
        "invalid-token",
        "401: the bearer token is malformed, mistyped, unknown, expired or revoked \
         (`WWW-Authenticate: Bearer error=\"invalid_token\"`)",
    ),
    (
        "insufficient-scope",
        "403: the token lacks the scope the operation needs (`WWW-Authenticate` and `detail` \
         name it)",
    ),
    (
        "rate-limited",
        "429: more requests in a minute than this token or address may make; retry after \
         `Retry-After` seconds (`RateLimit-*` headers)",
    ),
    ("token-not-found", "404: no token has this id"),
    ("account-not-found", "404: no account has this id"),
    ("webhook-not-found", "404: no webhook endpoint has this id"),
    (
        "username-taken",
        "409: another account already has this username (`errors` names `/username`)",
    ),
    (
        "last-admin",
        "409: the change would leave no active admin account; make another account admin first",
    ),
    (
        "not-a-sign-in",
        "403: only a signed-in person can change their own password; an API token has none",
    ),
    (
        "sign-in-refused",
        "400: the username or password is wrong, or the account is disabled (which of them is \
         not told); `error` is `invalid_grant`",
    ),
    (
        "sign-in-invalid",
        "400: the sign-in form lacks a parameter, repeats one, or has one too long; `error` is \
         `invalid_request`",
    ),
    (
        "unsupported-grant-type",
        "400: `grant_type` is not `password`; `error` is `unsupported_grant_type`",
    ),
    (
        "invalid-scope",
        "400: the sign-in asked for a scope that is unknown or that the account's role does \
         not give; `error` is `invalid_scope`",
    ),
    (
        "too-many-sign-ins",
        "429: too many failed sign-ins for this username or from this address within 15 \
         minutes; retry after `Retry-After` seconds",
    ),
    (
        "position-expired",
        "410: the change feed's position is older than the retention (`CHANGE_RETENTION`); \
         resync: take the feed's position (`pollChanges?after=now&wait=0`), list the students, \
         then follow from that position",
    ),
    (
        "service-unavailable",
        "503: the database cannot be reached or is not migrated yet; retry after `Retry-After`",
    ),
    (
        "busy",
        "503: every database connection set aside for expensive work (searches, exact \
         counts, exports, imports) is in use; retry after `Retry-After`",
    ),
    (
        "internal-error",
        "500: a fault on our side, logged with the request id",
    ),
];

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) | ApiError::InvalidRows { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::MalformedBody(_)
            | ApiError::UploadIncomplete(_)
            | ApiError::InvalidHost(_)
            | ApiError::SignIn(_) => StatusCode::BAD_REQUEST,
            ApiError::UnreadableHead(status) => *status,
            ApiError::StudentNotFound(_)
            | ApiError::RouteNotFound
            | ApiError::TokenNotFound(_)
            | ApiError::AccountNotFound(_)
            | ApiError::WebhookNotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::InsufficientScope(_) | ApiError::NotASignIn => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } | ApiError::TooManySignIns { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::PositionExpired { .. } => StatusCode::GONE,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::EmailTaken { .. }
            | ApiError::UsernameTaken
            | ApiError::LastAdmin(_)
            | ApiError::IdempotencyKeyInUse => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Unavailable(_)
            | ApiError::NotReady
            | ApiError::ShuttingDown
            | ApiError::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::Validation(_) => ("validation-failed", "Your request is not valid"),
            ApiError::InvalidRows { .. } => ("invalid-rows", "Rows of the file are not valid"),
            ApiError::MalformedBody(_) => ("malformed-body", "The request body is not valid JSON"),
            ApiError::UploadIncomplete(_) => ("upload-incomplete", "The upload is incomplete"),
            ApiError::StudentNotFound(_) => ("student-not-found", "Student not found"),
            ApiError::RouteNotFound => ("not-found", "Not found"),
            ApiError::MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
            ApiError::EmailTaken { .. } => ("email-taken", "E-mail address already in use"),
            ApiError::PreconditionFailed => ("precondition-failed", "The student has changed"),
            ApiError::IdempotencyKeyInUse => ("idempotency-key-in-use", "Request in progress"),
            ApiError::PayloadTooLarge { .. } => ("payload-too-large", "Request body too large"),
            ApiError::RequestTimeout => ("request-timeout", "Request body too slow"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            ApiError::Forbidden(_) => ("forbidden", "Forbidden"),
            ApiError::InvalidHost(_) => ("invalid-host", "Host not accepted"),
            ApiError::Unauthorized { why, .. } if why.presented_a_token() => {
                ("invalid-token", "Invalid token")
            }
            ApiError::Unauthorized { .. } => ("unauthorized", "Authentication required"),
            ApiError::InsufficientScope(_) => ("insufficient-scope", "Insufficient scope"),
            ApiError::RateLimited { .. } => ("rate-limited", "Too many requests"),
            ApiError::TokenNotFound(_) => ("token-not-found", "Token not found"),
            ApiError::AccountNotFound(_) => ("account-not-found", "Account not found"),
            ApiError::WebhookNotFound(_) => ("webhook-not-found", "Webhook endpoint not found"),
            ApiError::UsernameTaken => ("username-taken", "Username already in use"),
            ApiError::LastAdmin(_) => ("last-admin", "The last admin account"),
            ApiError::NotASignIn => ("not-a-sign-in", "Not a sign-in"),
            ApiError::SignIn(why) => match why {
                SignInError::InvalidGrant => ("sign-in-refused", "Sign-in refused"),
                SignInError::InvalidRequest(_) => ("sign-in-invalid", "The sign-in is not valid"),
                SignInError::UnsupportedGrantType => {
                    ("unsupported-grant-type", "Unsupported grant type")
                }
                SignInError::InvalidScope(_) => ("invalid-scope", "Invalid scope"),
            },
            ApiError::TooManySignIns { .. } => ("too-many-sign-ins", "Too many failed sign-ins"),
            ApiError::PositionExpired { .. } => ("position-expired", "Position expired"),
            ApiError::UnreadableHead(status) => match status.as_u16() {
                414 => ("uri-too-long", "Request target too long"),
                431 => ("headers-too-large", "Request headers too large"),
                _ => ("malformed-request", "The request is not valid HTTP"),
            },
            ApiError::Unavailable(_) | ApiError::NotReady | ApiError::ShuttingDown => {
                ("service-unavailable", "Service temporarily unavailable")
            }
            ApiError::Busy { .. } => ("busy", "Too busy for expensive queries"),
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
            ApiError::ShuttingDown => {
                "This instance is shutting down; retry, and another will answer.".to_owned()
            }
            ApiError::Internal(_) => {
                "Something went wrong on our side; it has been logged.".to_owned()
            }
            ApiError::UnreadableHead(status) => match status.as_u16() {
                414 => "The request target (path and query) is too long; the connection is closed.",
                431 => {
                    "The request has more than 100 header fields, or a head over about 400 KiB; \
                     the connection is closed."
                }
                _ => {
                    "The request line or a header breaks HTTP/1.1 (a folded header, two different \
                     Content-Length headers, an unknown HTTP version, NUL or a bare CR in a \
                     header); the connection is closed."
                }
            }
            .to_owned(),
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::Validation(errors) | ApiError::InvalidRows { listed: errors, .. } => errors
                .iter()
                .take(MAX_FIELD_ERRORS)
                .map(|error| FieldError {
                    location: clamp(error.location.clone(), MAX_LOCATION_CHARS),
                    message: clamp(error.message.clone(), MAX_MESSAGE_CHARS),
                    code: error.code.clone(),
                    line: error.line,
                    column: error.column,
                })
                .collect(),
            ApiError::EmailTaken {
                restored_version: None,
            } => vec![FieldError::new("/email", "taken", TAKEN)],
            ApiError::EmailTaken {
                restored_version: Some(_),
            } => vec![FieldError::new(
                "/version",
                "taken",
                "names a version whose e-mail address another student now has",
            )],
            ApiError::UsernameTaken => vec![FieldError::new(
                "/username",
                "taken",
                "another account has this username",
            )],
            ApiError::SignIn(SignInError::InvalidRequest(field)) => vec![field.clone()],
            ApiError::PreconditionFailed => vec![FieldError::new(
                "header.If-Match",
                "stale",
                "is not the student's current ETag; GET it again and retry with that one",
            )],
            _ => Vec::new(),
        };
        let detail = clamp(detail, MAX_DETAIL_CHARS);
        let (error, error_description) = match self {
            ApiError::SignIn(why) => (Some(why.code().to_owned()), Some(detail.clone())),
            _ => (None, None),
        };
        Problem {
            kind: format!("{PROBLEM_TYPE_PREFIX}{kind}"),
            title: title.to_owned(),
            status: i32::from(self.status().as_u16()),
            detail,
            errors,
            request_id: request_id::current(),
            error,
            error_description,
        }
    }

    /// Logs server-side failures, then renders the problem. Called once per error response.
    pub fn into_problem_response(self) -> Response {
        match &self {
            ApiError::Internal(source) => tracing::error!(error = %source, "internal error"),
            // The breaker's own refusals are not news: it logged the outage once.
            ApiError::Unavailable(db::Error::Down) => {}
            ApiError::Unavailable(source) => {
                tracing::warn!(error = %source, "database unavailable")
            }
            _ => {}
        }
        let retry = matches!(
            self,
            ApiError::Unavailable(_)
                | ApiError::NotReady
                | ApiError::ShuttingDown
                | ApiError::Busy { .. }
                | ApiError::IdempotencyKeyInUse
        );
        let challenge = self.challenge();
        let retry_after = match &self {
            ApiError::RateLimited {
                retry_after_secs, ..
            }
            | ApiError::TooManySignIns {
                retry_after_secs, ..
            } => Some(HeaderValue::from(*retry_after_secs)),
            _ => retry.then(|| HeaderValue::from_static("1")),
        };
        let mut response = ProblemJson(self.problem()).into_response();
        let headers = response.headers_mut();
        if let Some(retry_after) = retry_after {
            headers.insert(RETRY_AFTER, retry_after);
        }
        if let Some(challenge) = challenge.and_then(|c| HeaderValue::try_from(c).ok()) {
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }

    /// The `WWW-Authenticate` challenge of a 401 or 403 (RFC 6750 §3).
    fn challenge(&self) -> Option<String> {
        match self {
            ApiError::Unauthorized { why, .. } if why.presented_a_token() => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                // A quoted-string cannot hold `"` unescaped; the sentences use backticks.
                why.explain().replace('"', "'")
            )),
            ApiError::Unauthorized { .. } => Some(format!("Bearer realm=\"{REALM}\"")),
            ApiError::InsufficientScope(scope) => Some(format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", scope=\"{}\"",
                scope.as_str()
            )),
            _ => None,
        }
    }
}

impl ApiError {
    /// The whole HTTP/1.1 response for this error as bytes, with `Connection: close`: for the
    /// connection layer, which answers in place of hyper before any middleware runs.
    pub fn into_raw_response(self, request_id: &str) -> Vec<u8> {
        let status = self.status();
        let mut problem = self.problem();
        problem.request_id = request_id.to_owned();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = format!(
            "HTTP/1.1 {} {}\r\ncontent-type: {PROBLEM_CONTENT_TYPE}\r\ncontent-length: {}\r\n\
             connection: close\r\n{}: {request_id}\r\nx-content-type-options: nosniff\r\n\r\n",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            body.len(),
            request_id::HEADER,
        )
        .into_bytes();
        response.extend_from_slice(&body);
        response
    }
}

/// Rendered here, once: the middleware passes a rendered error through untouched.
impl From<ApiError> for poem::Error {
    fn from(err: ApiError) -> Self {
        poem::Error::from_response(err.into_problem_response())
    }
}

impl From<db::Error> for ApiError {
    fn from(err: db::Error) -> Self {
        match err {
            db::Error::NotFound(id) => ApiError::StudentNotFound(id),
            db::Error::Stale(_) => ApiError::PreconditionFailed,
            db::Error::NoSuchVersion { id, version } => {
                ApiError::Validation(vec![FieldError::new(
                    "/version",
                    "no_such_version",
                    format!(
                        "student {id} has no version {version} in its history (changes are kept for \
                     the change retention; getStudentHistory lists the versions there are)"
                    ),
                )])
            }
            db::Error::EmailTaken => ApiError::EmailTaken {
                restored_version: None,
            },
            db::Error::RestoredEmailTaken { version, .. } => ApiError::EmailTaken {
                restored_version: Some(version),
            },
            db::Error::UsernameTaken => ApiError::UsernameTaken,
            db::Error::KeyInUse => ApiError::IdempotencyKeyInUse,
            db::Error::CallerRevoked => ApiError::Unauthorized {
                why: AuthFailure::Revoked,
                needed: None,
            },
            db::Error::KeyReused => ApiError::Validation(vec![FieldError::new(
                "header.Idempotency-Key",
                "reused",
                "was already used with a different body; use a new key for a new request",
            )]),
            // A CHECK mirrors a type's rule, so the types should have refused this value first;
            // if they did not, it is still the client's value: a 422, logged so we fix the type.
            db::Error::Check { constraint, column } => {
                tracing::warn!(constraint, "a CHECK refused a value the API types accepted");
                ApiError::Validation(vec![FieldError::new(
                    format!("/{column}"),
                    "constraint",
                    format!("breaks the database rule `{constraint}`"),
                )])
            }
            err @ (db::Error::Unavailable(_) | db::Error::Down) => ApiError::Unavailable(err),
            err @ (db::Error::Corrupt(_) | db::Error::Query(_)) => {
                ApiError::Internal(Box::new(err))
            }
        }
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
        let status = u16::try_from(self.0.status)
            .ok()
            .and_then(|status| StatusCode::from_u16(status).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // Serializing our own types cannot fail (no maps with non-string keys, no I/O).
        let body = serde_json::to_vec(&self.0).unwrap_or_default();
        Response::builder()
            .status(status)
            .content_type(PROBLEM_CONTENT_TYPE)
            .body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of every kind: a new variant must be added here and to [`PROBLEM_TYPES`].
    fn one_of_each() -> Vec<ApiError> {
        vec![
            ApiError::Validation(vec![]),
            ApiError::InvalidRows {
                rows: 2,
                invalid: 1,
                errors: 1,
                listed: vec![],
            },
            ApiError::MalformedBody(String::new()),
            ApiError::UploadIncomplete(String::new()),
            ApiError::StudentNotFound(1),
            ApiError::RouteNotFound,
            ApiError::MethodNotAllowed,
            ApiError::EmailTaken {
                restored_version: None,
            },
            ApiError::IdempotencyKeyInUse,
            ApiError::PreconditionFailed,
            ApiError::PayloadTooLarge { limit_bytes: 1 },
            ApiError::RequestTimeout,
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::Forbidden(String::new()),
            ApiError::InvalidHost(String::new()),
            ApiError::Unauthorized {
                why: AuthFailure::Missing,
                needed: Some(Scope::StudentsRead),
            },
            ApiError::Unauthorized {
                why: AuthFailure::Revoked,
                needed: Some(Scope::StudentsRead),
            },
            ApiError::InsufficientScope(Scope::StudentsWrite),
            ApiError::RateLimited {
                limit: 1,
                client: "token",
                retry_after_secs: 1,
            },
            ApiError::TokenNotFound(1),
            ApiError::AccountNotFound(1),
            ApiError::WebhookNotFound(1),
            ApiError::UsernameTaken,
            ApiError::LastAdmin(1),
            ApiError::NotASignIn,
            ApiError::SignIn(SignInError::InvalidGrant),
            ApiError::SignIn(SignInError::InvalidRequest(FieldError::new(
                "username",
                "required",
                "is required",
            ))),
            ApiError::SignIn(SignInError::UnsupportedGrantType),
            ApiError::SignIn(SignInError::InvalidScope(String::new())),
            ApiError::TooManySignIns {
                by: db::sign_ins::LimitedBy::Username,
                window_minutes: 15,
                retry_after_secs: 1,
            },
            ApiError::PositionExpired {
                retention: "7d".into(),
            },
            ApiError::UnreadableHead(StatusCode::BAD_REQUEST),
            ApiError::UnreadableHead(StatusCode::URI_TOO_LONG),
            ApiError::UnreadableHead(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE),
            ApiError::NotReady,
            ApiError::Busy { slots: 1 },
            ApiError::Internal("x".into()),
        ]
    }

    #[test]
    fn long_text_is_cut_to_its_published_limit() {
        assert_eq!(clamp("abc".into(), 3), "abc");
        assert_eq!(clamp("abcd".into(), 3), "ab…");
        assert_eq!(clamp("ééééé".into(), 4).chars().count(), 4);
        let many = vec![FieldError::new("x".repeat(300), "code", "y".repeat(900)); 1200];
        let problem = ApiError::Validation(many).problem();
        assert_eq!(problem.errors.len(), MAX_FIELD_ERRORS);
        assert_eq!(
            problem.errors[0].location.chars().count(),
            MAX_LOCATION_CHARS
        );
        assert_eq!(problem.errors[0].message.chars().count(), MAX_MESSAGE_CHARS);
        let detail = ApiError::InvalidHost("h".repeat(5000)).problem().detail;
        assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS);
    }

    #[test]
    fn every_problem_type_is_documented_with_its_status() {
        for err in one_of_each() {
            let (kind, _) = err.kind_and_title();
            let documented = PROBLEM_TYPES.iter().find(|(k, _)| *k == kind);
            let status = err.status().as_u16().to_string();
            assert!(
                documented.is_some_and(|(_, meaning)| meaning.starts_with(&status)),
                "{kind} ({status}) is in PROBLEM_TYPES"
            );
        }
        assert_eq!(PROBLEM_TYPES.len(), one_of_each().len());
    }
}
