//! The error half of every operation's contract: which statuses it can answer with and why, so
//! the spec lists exactly those (and clients generate exactly those error cases), each with an
//! example of its own.

use std::marker::PhantomData;

use poem_openapi::{
    ApiResponse,
    registry::{MetaMediaType, MetaResponse, MetaResponses, Registry},
    types::Type,
};

use crate::{
    domain::Scope,
    error::{ApiError, AuthFailure, FieldError, PROBLEM_CONTENT_TYPE, Problem},
};

/// The error statuses one operation can answer with, and why.
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

/// What a client gets with `status`: the example the spec shows under that status.
pub fn example_problem(status: u16) -> Option<Problem> {
    let error = match status {
        400 => ApiError::MalformedBody("expected `,` or `}` at line 1 column 17".to_owned()),
        404 => ApiError::StudentNotFound(42),
        408 => ApiError::RequestTimeout,
        401 => ApiError::Unauthorized {
            why: AuthFailure::Missing,
            needed: Some(Scope::StudentsRead),
        },
        403 => ApiError::InsufficientScope(Scope::StudentsWrite),
        409 => ApiError::EmailTaken {
            restored_version: None,
        },
        410 => ApiError::PositionExpired {
            retention: "7d".into(),
        },
        412 => ApiError::PreconditionFailed,
        413 => ApiError::PayloadTooLarge {
            limit_bytes: super::json::MAX_BODY_BYTES,
        },
        415 => ApiError::UnsupportedMediaType(
            "the content type `text/plain` is not supported; send `Content-Type: \
             application/json`"
                .to_owned(),
        ),
        429 => ApiError::RateLimited {
            limit: 60,
            client: "address",
            retry_after_secs: 17,
        },
        422 => ApiError::Validation(vec![
            FieldError::new("/name", "too_long", "must be at most 100 characters"),
            FieldError::new(
                "/grade",
                "invalid_enum",
                "must be one of A+, A, A-, B+, B, B-, C+, C, C-, D, F",
            ),
        ]),
        500 => ApiError::Internal("example".into()),
        503 => ApiError::NotReady,
        _ => return None,
    };
    Some(example_of(&error))
}

/// `error` as the spec shows it.
pub fn example_of(error: &ApiError) -> Problem {
    Problem {
        request_id: "3f2b8c0e9d4a4b7e8c1d2e3f4a5b6c7d".to_owned(),
        ..error.problem()
    }
}

/// Descriptions shared by the per-operation status lists.
pub mod statuses {
    pub const BAD_REQUEST: (u16, &str) = (400, "The body is not valid JSON.");
    pub const NOT_FOUND: (u16, &str) = (404, "No student has this id.");
    pub const TOKEN_NOT_FOUND: (u16, &str) = (404, "No token has this id.");
    pub const WEBHOOK_NOT_FOUND: (u16, &str) = (404, "No webhook endpoint has this id.");
    pub const GONE: (u16, &str) = (
        410,
        "The position is older than the changes kept (`CHANGE_RETENTION`): take the feed's \
         position (`pollChanges?after=now&wait=0`), list the students, then follow from that \
         position.",
    );
    pub const UNAUTHORIZED: (u16, &str) = (
        401,
        "No bearer token, or one that is malformed, mistyped, unknown, expired or revoked \
         (`WWW-Authenticate` says which).",
    );
    pub const INSUFFICIENT_SCOPE: (u16, &str) = (
        403,
        "The token lacks the scope this operation needs (`WWW-Authenticate` names it).",
    );
    pub const RATE_LIMITED: (u16, &str) = (
        429,
        "More requests in a minute than this token (or, without one, this address) may make; \
         retry after `Retry-After` seconds.",
    );
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
        "The database is unreachable, or (`busy`) the connections set aside for searches, \
         exact counts and exports are all in use; retry after `Retry-After` seconds.",
    );
}
