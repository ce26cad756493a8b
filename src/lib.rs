//! students-api: a typed-contract REST API for students.
//!
//! Modules import downwards only: [`cli`] → `startup` → `middleware` → `openapi` → [`api`] →
//! [`error`] → [`db`] → [`domain`]. [`server`] (the connection loop) sits beside `middleware`
//! and uses [`slow_clients`], [`error`] and [`request_id`]; [`jobs`] sits beside `startup` and
//! uses only [`db`]; [`webhooks`] (the deliveries) sits beside `startup` too and uses [`api`]
//! (the body's type), [`db`] and [`sender`]. [`sender`] (one webhook send) imports only
//! [`domain`]; [`db`] names its outcome. [`remote`] (`students-api import`, a client of a running server) uses
//! only [`config`]. [`api::auth`] counts requests with [`rate_limit`]. [`request_id`],
//! [`config`], [`telemetry`], [`embedded_pg`], [`rate_limit`], [`slow_clients`], [`load`] (how busy
//! the server is: [`server`] counts, the feed and [`webhooks`] make way) and [`admin`]
//! (the console's embedded files) are leaves that import nothing of ours. `../shared/tools/module-cycles` (run
//! by CI) checks the direction.

pub mod admin;
pub mod api;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod embedded_pg;
pub mod error;
pub mod jobs;
pub mod load;
pub mod middleware;
pub mod openapi;
pub mod rate_limit;
pub mod remote;
pub mod request_id;
pub mod sender;
pub mod server;
pub mod slow_clients;
pub mod startup;
pub mod telemetry;
pub mod webhooks;
