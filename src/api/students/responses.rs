//! What each students operation answers: its success shape, and exactly the error statuses it
//! can produce (listed in the spec with the problem schema).

use poem_openapi::ApiResponse;

use super::schemas::{StudentPage, StudentRead};
use crate::api::{
    contract::{ErrorStatuses, statuses::*},
    json::JsonBody,
};

#[derive(Debug, ApiResponse)]
pub enum ListResponse {
    /// A page of students; `Link` holds the next page's URL (`rel="next"`) when there is one.
    #[oai(status = 200)]
    Ok(
        JsonBody<StudentPage>,
        #[oai(header = "Link")] Option<String>,
    ),
}

#[derive(Debug, ApiResponse)]
pub enum CreatedResponse {
    /// The student was created; `Location` is its URL, `ETag` its version.
    #[oai(status = 201)]
    Created(
        JsonBody<StudentRead>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(Debug, ApiResponse)]
pub enum UpdatedResponse {
    /// The student as written; `ETag` is its version, for `If-Match` on the next write.
    #[oai(status = 200)]
    Ok(JsonBody<StudentRead>, #[oai(header = "ETag")] String),
}

#[derive(Debug, ApiResponse)]
pub enum RestoredResponse {
    /// The student was brought back to that version (a new version of its own); `ETag` is it.
    #[oai(status = 200)]
    Ok(JsonBody<StudentRead>, #[oai(header = "ETag")] String),
    /// The student had been deleted and is created again, with its id; `Location` is its URL.
    #[oai(status = 201)]
    Created(
        JsonBody<StudentRead>,
        #[oai(header = "Location")] String,
        #[oai(header = "ETag")] String,
    ),
}

#[derive(Debug, ApiResponse)]
pub enum ReadResponse {
    /// The student; `ETag` is its version, for `If-None-Match` and `If-Match`.
    #[oai(status = 200)]
    Ok(JsonBody<StudentRead>, #[oai(header = "ETag")] String),
    /// `If-None-Match` names the current version: the copy you hold is still good.
    #[oai(status = 304)]
    NotModified(#[oai(header = "ETag")] String),
}

#[derive(Debug, ApiResponse)]
pub enum DeletedResponse {
    /// The student was deleted.
    #[oai(status = 204)]
    NoContent,
}

/// `listStudents`: bad `limit` or `cursor`, or the database.
#[derive(Debug)]
pub struct ListErrors;
impl ErrorStatuses for ListErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[INVALID, INTERNAL, UNAVAILABLE];
}

/// `exportStudents`: a bad parameter, or the database (before the first byte is sent).
#[derive(Debug)]
pub struct ExportErrors;
impl ErrorStatuses for ExportErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[INVALID, INTERNAL, UNAVAILABLE];
}

/// `createStudent`: everything a body can get wrong, a taken e-mail, a busy or reused key.
#[derive(Debug)]
pub struct CreateErrors;
impl ErrorStatuses for CreateErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        TOO_SLOW,
        CONFLICT_ON_CREATE,
        TOO_LARGE,
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}

/// `getStudent`: an id that is not a number or a bad `If-None-Match` (422), or not a student
/// (404).
#[derive(Debug)]
pub struct GetErrors;
impl ErrorStatuses for GetErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[NOT_FOUND, INVALID, INTERNAL, UNAVAILABLE];
}

/// `deleteStudent`: a missing student, or a stale `If-Match`.
#[derive(Debug)]
pub struct DeleteErrors;
impl ErrorStatuses for DeleteErrors {
    const STATUSES: &'static [(u16, &'static str)] =
        &[NOT_FOUND, PRECONDITION, INVALID, INTERNAL, UNAVAILABLE];
}

/// `replaceStudent`, `updateStudent`: a body, an id and a stale `If-Match`.
#[derive(Debug)]
pub struct WriteErrors;
impl ErrorStatuses for WriteErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        NOT_FOUND,
        TOO_SLOW,
        CONFLICT,
        PRECONDITION,
        TOO_LARGE,
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}
