//! Logs and metrics.
//!
//! Logs go through `tracing`, filtered by `RUST_LOG` (default: info for this crate and poem):
//! human-readable lines by default (colours only on a terminal), or with `LOG_FORMAT=json` one
//! JSON object per line for log shippers, each answer carrying its request's span (request id,
//! operation id, token id) beside its status and latency.
//!
//! Metrics go through the `metrics` facade into a Prometheus recorder, rendered by `GET /metrics`
//! (`api::metrics`). Every label value comes from a fixed set (route templates, never paths), so
//! a client cannot grow the series without bound.

use std::{cell::RefCell, collections::HashMap, io::IsTerminal, sync::OnceLock, time::Duration};

use metrics::{Gauge, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::http::StatusCode;
use tracing::field::{Field, Visit};
use tracing_subscriber::{
    EnvFilter, Layer, filter::Targets, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

/// Seconds from a request's head to its response's head, by `method`, `route` (the path
/// template) and `status`. Change streams stay out: they last as long as the client stays.
pub const REQUEST_DURATION: &str = "http_server_request_duration_seconds";
/// Requests being answered right now (until their response's head is sent).
pub const ACTIVE_REQUESTS: &str = "http_server_active_requests";
/// Connections of the request pool, by `state`: `idle` or `in_use`.
pub const POOL_CONNECTIONS: &str = "db_pool_connections";
/// The most connections the request pool opens (`DATABASE_POOL_SIZE`).
pub const POOL_MAX: &str = "db_pool_max_connections";
/// Seconds a query waited for a connection of the pool (sqlx's own measurement).
pub const POOL_ACQUIRE: &str = "db_pool_acquire_duration_seconds";
/// Failed database statements, by `kind` (`unavailable`, `pool_timeout`, `statement_timeout`,
/// `unique_violation`, …).
pub const DB_ERRORS: &str = "db_errors_total";
/// 1 while the circuit breaker holds the database away (every request needing it is a `503`),
/// else 0.
pub const DB_AWAY: &str = "db_away";
/// Creates written by each `INSERT` of a create (`db::Creates`): above 1 when creates waiting
/// at the same moment share a statement.
pub const CREATES_PER_STATEMENT: &str = "db_creates_per_statement";
/// Open change-feed subscriptions (streams and long polls) on this instance.
pub const FEED_SUBSCRIBERS: &str = "change_feed_subscribers";
/// Seconds from the start of a change's transaction to this instance's feed sharing it with its
/// subscribers (so a long transaction shows as lag).
pub const FEED_LAG: &str = "change_feed_lag_seconds";
/// Requests refused for their credentials, by `reason` (`missing`, `revoked`, `unknown`, …).
pub const AUTH_FAILURES: &str = "auth_failures_total";
/// Requests refused with 429, by `client` (`token` or `address`).
pub const RATE_LIMITED: &str = "rate_limited_total";
/// Sign-ins, by outcome: `signed_in`, `refused`, `limited`.
pub const SIGN_INS: &str = "sign_ins_total";
/// argon2 password verifications, an unknown username's placeholder included.
pub const PASSWORD_CHECKS: &str = "password_checks_total";

/// Webhook delivery attempts, by `outcome`: `delivered`, `retrying`, `failed`.
pub const WEBHOOK_ATTEMPTS: &str = "webhook_attempts_total";
/// Seconds a webhook attempt took, from sending to the answer's end (or the error).
pub const WEBHOOK_ATTEMPT_DURATION: &str = "webhook_attempt_duration_seconds";
/// Seconds from the start of a change's transaction to its delivery being answered 2xx.
pub const WEBHOOK_LAG: &str = "webhook_delivery_lag_seconds";
/// Webhook endpoints disabled, by `reason`: `gone` (410) or `failing` (5 days).
pub const WEBHOOK_DISABLED: &str = "webhook_endpoints_disabled_total";
/// Times an endpoint was found behind the changes kept: what was pruned was never delivered.
pub const WEBHOOK_MISSED: &str = "webhook_missed_changes_total";

/// Buckets of [`CREATES_PER_STATEMENT`], up to `db::MAX_BATCH`.
const STATEMENT_SIZES: [f64; 7] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];

/// Latency buckets, in seconds: 0.5 ms to 10 s.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Info for this crate and poem, warnings from sqlx. PostgreSQL's notices are left out: behind
/// a transaction pooler every lease that commits its own transaction draws "there is no
/// transaction in progress" (docs/operations.md).
const DEFAULT_FILTER: &str = "students_api=info,poem=info,sqlx=warn,sqlx::postgres::notice=error";

/// Starts logging. A second call (tests spawning several apps) keeps the first subscriber.
pub fn init(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let lines = if json {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed()
    } else {
        fmt::layer()
            .with_ansi(std::io::stdout().is_terminal())
            .boxed()
    };
    let _ =
        tracing_subscriber::registry()
            .with(lines.with_filter(filter))
            .with(PoolAcquireTimes.with_filter(
                Targets::new().with_target("sqlx::pool::acquire", tracing::Level::TRACE),
            ))
            .try_init();
}

/// The process's Prometheus recorder, installed on first use.
pub fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full(CREATES_PER_STATEMENT.to_owned()),
                    &STATEMENT_SIZES,
                )
            })
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        describe();
        handle
    })
}

/// Records one answered request in [`REQUEST_DURATION`]. The handle of each (method, route,
/// status) series is looked up in the recorder's registry once per thread, then kept: the hot
/// path neither builds a labelled key (an allocation for the labels and the status text) nor
/// hashes it into the shared registry. The labels come from fixed sets, so the cache is bounded.
pub fn record_request(method: &'static str, route: &'static str, status: StatusCode, seconds: f64) {
    thread_local! {
        static SERIES: RefCell<HashMap<(&'static str, &'static str, u16), Histogram>> =
            RefCell::new(HashMap::new());
    }
    SERIES.with(|series| {
        series
            .borrow_mut()
            .entry((method, route, status.as_u16()))
            .or_insert_with(|| {
                // A handle made before the recorder is installed would record nowhere.
                metrics();
                metrics::histogram!(
                    REQUEST_DURATION,
                    "method" => method,
                    "route" => route,
                    "status" => status.as_str().to_owned()
                )
            })
            .record(seconds);
    });
}

/// The [`ACTIVE_REQUESTS`] gauge, looked up once.
pub fn active_requests() -> &'static Gauge {
    static GAUGE: OnceLock<Gauge> = OnceLock::new();
    GAUGE.get_or_init(|| {
        metrics();
        metrics::gauge!(ACTIVE_REQUESTS)
    })
}

/// The [`POOL_ACQUIRE`] histogram, looked up once.
fn pool_acquire() -> &'static Histogram {
    static HISTOGRAM: OnceLock<Histogram> = OnceLock::new();
    HISTOGRAM.get_or_init(|| {
        metrics();
        metrics::histogram!(POOL_ACQUIRE)
    })
}

/// The [`CREATES_PER_STATEMENT`] histogram, looked up once (it is recorded on every create).
pub fn creates_per_statement() -> &'static Histogram {
    static HISTOGRAM: OnceLock<Histogram> = OnceLock::new();
    HISTOGRAM.get_or_init(|| {
        metrics();
        metrics::histogram!(CREATES_PER_STATEMENT)
    })
}

/// Drains the histograms' recent samples into their buckets, now and then, so they hold
/// no more memory however long nobody scrapes.
pub async fn keep_metrics_tidy() {
    let mut every = tokio::time::interval(Duration::from_secs(5));
    loop {
        every.tick().await;
        metrics().run_upkeep();
    }
}

/// The `# HELP` lines.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(
        REQUEST_DURATION,
        Unit::Seconds,
        "Time from a request's head to its response's head, by route template; change streams excluded."
    );
    describe_gauge!(ACTIVE_REQUESTS, "Requests being answered now.");
    describe_gauge!(
        POOL_CONNECTIONS,
        "Connections of the request pool to PostgreSQL, by state."
    );
    describe_gauge!(POOL_MAX, "The most connections the request pool opens.");
    describe_histogram!(
        POOL_ACQUIRE,
        Unit::Seconds,
        "Time a query waited for a pool connection."
    );
    describe_counter!(DB_ERRORS, "Failed database statements, by kind.");
    describe_gauge!(
        DB_AWAY,
        "1 while the circuit breaker holds the database away (503s at once), else 0."
    );
    describe_histogram!(
        CREATES_PER_STATEMENT,
        "Creates written by each INSERT of a create: above 1 when creates share a statement."
    );
    describe_gauge!(
        FEED_SUBSCRIBERS,
        "Open change-feed subscriptions on this instance."
    );
    describe_histogram!(
        FEED_LAG,
        Unit::Seconds,
        "Time from the start of a change's transaction to this instance's feed sharing it."
    );
    describe_counter!(
        AUTH_FAILURES,
        "Requests refused for their credentials, by reason."
    );
    describe_counter!(RATE_LIMITED, "Requests refused with 429, by client kind.");
    describe_counter!(
        WEBHOOK_ATTEMPTS,
        "Webhook delivery attempts, by outcome (delivered, retrying, failed)."
    );
    describe_histogram!(
        WEBHOOK_ATTEMPT_DURATION,
        Unit::Seconds,
        "Time a webhook attempt took, from sending to the answer (or the error)."
    );
    describe_histogram!(
        WEBHOOK_LAG,
        Unit::Seconds,
        "Time from the start of a change's transaction to its webhook delivery answered 2xx."
    );
    describe_counter!(
        WEBHOOK_DISABLED,
        "Webhook endpoints disabled, by reason (gone: 410, failing: 5 days)."
    );
    describe_counter!(
        WEBHOOK_MISSED,
        "Times a webhook endpoint was behind the changes kept (what was pruned was not sent)."
    );
    describe_counter!(
        SIGN_INS,
        "Sign-ins, by outcome: signed_in, refused, limited."
    );
    describe_counter!(
        PASSWORD_CHECKS,
        "argon2 password verifications, an unknown username's placeholder included."
    );
}

/// Feeds [`POOL_ACQUIRE`] from sqlx's own "acquired connection" events (`acquired_after_secs`),
/// which the pool emits when its `acquire_time_level` is on (`db::pool`): sqlx exposes the
/// measurement no other way.
struct PoolAcquireTimes;

impl<S: tracing::Subscriber> Layer<S> for PoolAcquireTimes {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Seconds(Option<f64>);
        impl Visit for Seconds {
            fn record_f64(&mut self, field: &Field, value: f64) {
                if field.name() == "acquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let mut seconds = Seconds(None);
        event.record(&mut seconds);
        if let Some(seconds) = seconds.0 {
            pool_acquire().record(seconds);
        }
    }
}
