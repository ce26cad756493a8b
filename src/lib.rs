//! students-api: a typed-contract REST API for students.
//!
//! Modules import downwards only: `startup` → `middleware` → `openapi` → [`api`] → [`error`] →
//! [`db`] → [`domain`]. [`request_id`], [`config`], [`telemetry`], [`embedded_pg`] and
//! [`slow_clients`] are leaves that import nothing of ours ([`server`], the connection loop, sits above them and `error`); [`jobs`] sits beside `startup` and
//! uses only [`db`]. `../shared/tools/module-cycles` (run by CI) checks the direction.

pub mod api;
pub mod config;
pub mod db;
pub mod domain;
pub mod embedded_pg;
pub mod error;
pub mod jobs;
pub mod middleware;
pub mod openapi;
pub mod request_id;
pub mod server;
pub mod slow_clients;
pub mod startup;
pub mod telemetry;
