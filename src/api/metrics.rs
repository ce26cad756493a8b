//! `GET /metrics`: the Prometheus text format, outside the OpenAPI document (it is for
//! scrapers, not clients). On the main listener it needs a `metrics:read` token; on
//! `METRICS_ADDRESS` it needs none (that address is meant to be reachable only in-cluster).

use poem::{
    Endpoint, Request, Response,
    http::{HeaderValue, header},
};
use sqlx::PgPool;

use crate::{
    api::auth,
    db::ChangeFeed,
    domain::Scope,
    error::ApiError,
    telemetry::{self, FEED_SUBSCRIBERS, POOL_CONNECTIONS, POOL_MAX},
};

/// The `/metrics` endpoint.
#[derive(Debug, Clone)]
pub struct Metrics {
    pool: PgPool,
    feed: ChangeFeed,
    token_required: bool,
}

impl Metrics {
    /// For the main listener: behind the gatekeeper, with `metrics:read`.
    pub fn with_token(pool: PgPool, feed: ChangeFeed) -> Self {
        Self {
            pool,
            feed,
            token_required: true,
        }
    }

    /// For `METRICS_ADDRESS`: no token.
    pub fn open(pool: PgPool, feed: ChangeFeed) -> Self {
        Self {
            pool,
            feed,
            token_required: false,
        }
    }

    /// The pool and the feed are read when scraped, not on every change.
    fn sample(&self) {
        let size = self.pool.size() as f64;
        let idle = self.pool.num_idle() as f64;
        metrics::gauge!(POOL_CONNECTIONS, "state" => "idle").set(idle);
        metrics::gauge!(POOL_CONNECTIONS, "state" => "in_use").set((size - idle).max(0.0));
        metrics::gauge!(POOL_MAX).set(f64::from(self.pool.options().get_max_connections()));
        metrics::gauge!(FEED_SUBSCRIBERS).set(self.feed.subscribers() as f64);
    }
}

impl Endpoint for Metrics {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if !matches!(request.method().as_str(), "GET" | "HEAD") {
            let mut refusal = ApiError::MethodNotAllowed.into_problem_response();
            refusal
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return Ok(refusal);
        }
        if self.token_required {
            auth::judge(&request, Some(Scope::MetricsRead))?;
        }
        self.sample();
        Ok(Response::builder()
            .header(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )
            .header(header::CACHE_CONTROL, "no-store")
            .body(telemetry::metrics().render()))
    }
}
