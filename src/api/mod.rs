//! The HTTP contract: operations, wire types, and the glue that makes poem-openapi publish and
//! enforce exactly the domain's rules.

pub mod accounts;
pub mod auth;
pub mod budget;
pub mod changes;
pub mod contract;
pub mod health;
pub mod json;
pub mod metrics;
pub mod rejections;
pub mod sign_in;
pub mod state;
pub mod students;
pub mod tokens;
pub mod types;
pub mod validation;
pub mod webhooks;

use poem_openapi::Tags;

/// Groups of operations in the docs and in generated clients.
#[derive(Debug, Tags)]
pub enum ApiTags {
    /// Create, read, update and delete students.
    Students,
    /// What changed, as it happens: the change feed and each student's history.
    Changes,
    /// API tokens: who may do what.
    Tokens,
    /// People: sign in and out, who am I, accounts.
    Accounts,
    /// Other services told of every change: webhook endpoints, their delivery logs, replays.
    Webhooks,
    /// Whether the service is up and can reach its database.
    Health,
}
