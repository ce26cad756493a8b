//! What each students operation answers: its success shape, and exactly the error statuses it
//! can produce (listed in the spec with the problem schema).

use poem_openapi::ApiResponse;

use super::schemas::{Student, StudentPage};
use crate::{
    api::json::JsonBody,
    error::{ErrorStatuses, statuses::*},
};

#[derive(Debug, ApiResponse)]
pub enum ListResponse {
    /// A page of students.
    #[oai(status = 200)]
    Ok(JsonBody<StudentPage>),
}

#[derive(Debug, ApiResponse)]
pub enum CreatedResponse {
    /// The student was created; `Location` is its URL.
    #[oai(status = 201)]
    Created(JsonBody<Student>, #[oai(header = "Location")] String),
}

#[derive(Debug, ApiResponse)]
pub enum StudentResponse {
    /// The student.
    #[oai(status = 200)]
    Ok(JsonBody<Student>),
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

/// `createStudent`: everything a body can get wrong, plus a taken e-mail.
#[derive(Debug)]
pub struct CreateErrors;
impl ErrorStatuses for CreateErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        CONFLICT,
        TOO_LARGE,
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}

/// `getStudent`, `deleteStudent`: an id that is not a number (422) or not a student (404).
#[derive(Debug)]
pub struct ByIdErrors;
impl ErrorStatuses for ByIdErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[NOT_FOUND, INVALID, INTERNAL, UNAVAILABLE];
}

/// `replaceStudent`, `updateStudent`: a body and an id.
#[derive(Debug)]
pub struct WriteErrors;
impl ErrorStatuses for WriteErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        NOT_FOUND,
        CONFLICT,
        TOO_LARGE,
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}
