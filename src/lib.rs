//! students-api: a typed-contract REST API for students.
//!
//! Data flows one way: HTTP → [`api`] (wire types, the contract) → [`domain`] (rules) →
//! [`db`] (SQL) → PostgreSQL.

pub mod api;
pub mod config;
pub mod db;
pub mod domain;
pub mod embedded_pg;
pub mod error;
pub mod middleware;
pub mod openapi;
pub mod slow_clients;
pub mod startup;
pub mod telemetry;
