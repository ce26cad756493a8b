//! The HTTP contract: wire types, operations and the JSON payload that validates against the spec.

pub mod health;
pub mod json;
pub mod students;
pub mod validation;

use poem_openapi::Tags;

/// Groups of operations in the docs and in generated clients.
#[derive(Debug, Tags)]
pub enum ApiTags {
    /// Create, read, update and delete students.
    Students,
    /// Whether the service is up and can reach its database.
    Health,
}
