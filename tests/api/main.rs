//! Integration tests: the real HTTP server against a real PostgreSQL, a fresh database per test.
//!
//! The server is `DATABASE_URL` when set, otherwise one throwaway embedded PostgreSQL for the
//! whole run. Set `TEST_LOG=1` to see the service's logs.

// A failed unwrap in a test is a failed test, with the line that failed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod accounts;
mod accounts_http;
mod auth;
mod binary;
mod budget;
mod changes;
mod compose;
mod concurrency;
mod connections;
mod creates;
mod docs;
mod embedded;
mod errors;
mod export;
mod faults;
mod feed;
mod feed_tokens;
mod hardening;
mod harness;
mod helpers;
mod idempotency;
mod import;
mod listing;
mod metrics;
mod openapi;
mod protocol;
mod restore;
mod rules;
mod search;
mod shutdown;
mod slow_clients;
mod students;
mod tokens;
mod webhooks;
