//! `/healthz` (the process answers) and `/readyz` (and can reach PostgreSQL).

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::{
    api::{
        ApiTags,
        contract::{ErrorStatuses, Failure, statuses::UNAVAILABLE},
        json::JsonBody,
        state::State,
    },
    db,
    error::ApiError,
};

/// The service's own view of its health.
#[derive(Debug, Object, serde::Serialize)]
pub struct HealthStatus {
    /// `ok` when the check passed.
    #[oai(validator(max_length = 2, pattern = "^ok$"))]
    pub status: String,
}

#[derive(Debug, ApiResponse)]
pub enum HealthResponse {
    /// The check passed.
    #[oai(status = 200)]
    Ok(JsonBody<HealthStatus>),
}

impl HealthResponse {
    fn ok() -> Self {
        HealthResponse::Ok(JsonBody(HealthStatus {
            status: "ok".to_owned(),
        }))
    }
}

/// The longest `/readyz` takes.
const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(900);

/// `/readyz` fails only one way: the database does not answer.
#[derive(Debug)]
pub struct ReadyErrors;
impl ErrorStatuses for ReadyErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[UNAVAILABLE];
}

#[derive(Debug, Default, Clone, Copy)]
pub struct HealthApi;

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    /// Liveness
    ///
    /// Answers `200` whenever the process can serve HTTP; it does not touch the database.
    #[oai(path = "/healthz", method = "get", operation_id = "getHealth")]
    async fn healthz(&self) -> HealthResponse {
        HealthResponse::ok()
    }

    /// Readiness
    ///
    /// Answers `200` when the database takes queries, `503` problem+json when it does not:
    /// at once while the database is known to be away, else within 1 s. Also `503` from the
    /// moment the instance is told to stop (SIGTERM), so a balancer drains it first.
    #[oai(path = "/readyz", method = "get", operation_id = "getReadiness")]
    async fn readyz(
        &self,
        Data(state): Data<&Arc<State>>,
    ) -> Result<HealthResponse, Failure<ReadyErrors>> {
        let pool = &state.pool;
        let draining = &state.draining;
        if draining.is_on() {
            return Err(ApiError::ShuttingDown.into());
        }
        // A probe with a 1 s timeout must see a 503, not a timeout of its own.
        match tokio::time::timeout(READY_TIMEOUT, db::ping(pool)).await {
            Ok(Ok(())) => Ok(HealthResponse::ok()),
            Ok(Err(err)) => Err(ApiError::Unavailable(err).into()),
            Err(_) => Err(ApiError::Unavailable(db::Error::Down).into()),
        }
    }
}
