//! `/api/webhooks`: endpoints other services receive changes at (`webhooks:admin`), their
//! delivery logs, replays and test events. Deliveries themselves run in `crate::webhooks`.

use std::sync::Arc;

use chrono::Utc;
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Path, Query},
    registry::MetaSchema,
};
use serde::Serialize;
use serde_json::Value;

use crate::{
    api::{
        ApiTags,
        auth::{AdminWebhooks, Authorized},
        changes::FeedPosition,
        contract::{ErrorStatuses, Failure, statuses::*},
        json::JsonBody,
        state::State,
        students::params::TimeBound,
        types::{
            IdOf, Nullable, PathId, Timestamp, domain_string_type, inline_scalar_type,
            named_scalar_type,
        },
    },
    db::{
        self,
        webhooks::{
            AttemptRecord, EndpointChanges, EndpointRecord, NewAttempt, NewEndpoint, Outcome,
            Replay, ReplayOutcome,
        },
    },
    domain::{
        DisabledReason, EVENT_TYPES, EventType, Grade, PageLimit, WebhookDescription, WebhookUrl,
    },
    error::{ApiError, FieldError},
    sender::Message,
};

domain_string_type!(
    WebhookUrl,
    inline_scalar_type!(
        "WebhookUrl",
        MetaSchema {
            description: Some(
                "Where deliveries are POSTed: an `https` URL (plain `http` only to a host in \
                 the server's `WEBHOOK_ALLOWED_HOSTS`), without credentials or a fragment. A \
                 host that is, or resolves to, a loopback, private, link-local or other \
                 internal address is refused unless that setting names it; this is checked \
                 when the URL is set and again at every connection. Stored normalised \
                 (`HTTPS://Example.COM` is `https://example.com/`)."
            ),
            max_length: Some(WebhookUrl::MAX_CHARS),
            pattern: Some(WebhookUrl::PATTERN.to_owned()),
            ..MetaSchema::new_with_format("string", "uri")
        }
    )
);

domain_string_type!(
    WebhookDescription,
    inline_scalar_type!(
        "WebhookDescription",
        MetaSchema {
            description: Some(
                "What the endpoint is for, for people: up to 500 characters, stored trimmed; \
                 may be empty."
            ),
            max_length: WebhookDescription::RULE.max_chars,
            pattern: Some("^[^\\u0000-\\u001F\\u007F-\\u009F]*$".to_owned()),
            ..MetaSchema::new("string")
        }
    )
);

domain_string_type!(
    EventType,
    named_scalar_type!(
        "WebhookEventType",
        MetaSchema {
            description: Some(
                "A kind of change an endpoint can receive: `student.created`, \
                 `student.updated`, `student.deleted` (the body's `op` says the same)."
            ),
            enum_items: EVENT_TYPES
                .iter()
                .map(|e| Value::from(e.as_str()))
                .collect(),
            ..MetaSchema::new("string")
        }
    )
);

/// Identifiers for the `WebhookEventType` values in generated code (`student.created` →
/// `STUDENT_CREATED`), published as `x-enum-varnames`.
pub fn event_type_variant_names() -> Vec<String> {
    EVENT_TYPES
        .iter()
        .map(|e| e.as_str().replace('.', "_").to_ascii_uppercase())
        .collect()
}

/// An endpoint to make. Unknown fields are refused with 422.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example, rename = "WebhookCreate")]
pub struct WebhookCreate {
    pub url: WebhookUrl,
    /// Default: empty.
    pub description: Option<WebhookDescription>,
    /// Which changes it receives; default: all three.
    #[oai(validator(min_items = 1, max_items = 3, unique_items))] // EVENT_TYPES.len()
    pub events: Option<Vec<EventType>>,
    /// Only changes to students in these grades, before or after the change (a student moved
    /// out of a grade is one's last change there); empty or absent: every grade.
    #[oai(validator(max_items = 11, unique_items))] // GRADES.len()
    pub grades: Option<Vec<Grade>>,
}

impl super::json::Body for WebhookCreate {}

impl poem_openapi::types::Example for WebhookCreate {
    fn example() -> Self {
        Self {
            url: WebhookUrl::parse("https://billing.example.com/hooks/students")
                .unwrap_or_else(|_| unreachable!()),
            description: WebhookDescription::parse("billing sync").ok(),
            events: Some(EVENT_TYPES.to_vec()),
            // Empty: every grade (an absent field would show as `null` in the example).
            grades: Some(Vec::new()),
        }
    }
}

/// What to change about an endpoint; absent fields stay. Unknown fields: 422.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, rename = "WebhookUpdate")]
pub struct WebhookUpdate {
    pub url: Option<WebhookUrl>,
    pub description: Option<WebhookDescription>,
    #[oai(validator(min_items = 1, max_items = 3, unique_items))] // EVENT_TYPES.len()
    pub events: Option<Vec<EventType>>,
    #[oai(validator(max_items = 11, unique_items))] // GRADES.len()
    pub grades: Option<Vec<Grade>>,
    /// `false` pauses deliveries (the endpoint keeps its place in the feed); `true` resumes
    /// them from that place, whatever disabled it, and starts the 5-day failing clock again.
    pub enabled: Option<bool>,
}

impl super::json::Body for WebhookUpdate {}

/// Why an endpoint is disabled.
#[derive(Debug, Clone, Copy, Enum, Serialize)]
#[oai(rename = "WebhookDisabledReason", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum DisabledReasonRead {
    /// Someone set `enabled: false`.
    Paused,
    /// The receiver answered `410 Gone`.
    Gone,
    /// Every attempt failed for 5 days.
    Failing,
}

impl From<DisabledReason> for DisabledReasonRead {
    fn from(reason: DisabledReason) -> Self {
        match reason {
            DisabledReason::Paused => Self::Paused,
            DisabledReason::Gone => Self::Gone,
            DisabledReason::Failing => Self::Failing,
        }
    }
}

/// How deliveries to an endpoint are going.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "WebhookHealth")]
pub struct HealthRead {
    /// The first failed attempt since the last delivered one; `null` while deliveries
    /// succeed. Failing for 5 days disables the endpoint.
    pub failing_since: Nullable<Timestamp>,
    /// The last delivered event; `null`: none yet.
    pub last_delivered_at: Nullable<Timestamp>,
    /// Events waiting for an attempt (retries, replays, and later events of the same students).
    #[oai(validator(minimum(value = "0"), maximum(value = "9223372036854775807")))]
    pub pending: i64,
    /// Events that failed every attempt (replay sends them again).
    #[oai(validator(minimum(value = "0"), maximum(value = "9223372036854775807")))]
    pub failed: i64,
}

/// An endpoint as listed: never its secret.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "WebhookEndpoint")]
pub struct EndpointRead {
    #[oai(
        read_only,
        validator(minimum(value = "1"), maximum(value = "9223372036854775807"))
    )]
    pub id: i64,
    #[oai(validator(max_length = 2000))]
    pub url: String,
    #[oai(validator(max_length = 500))]
    pub description: String,
    #[oai(validator(min_items = 1, max_items = 3))]
    pub events: Vec<EventType>,
    /// Empty: every grade.
    #[oai(validator(max_items = 11))]
    pub grades: Vec<Grade>,
    pub enabled: bool,
    /// Why it is disabled; `null` while enabled.
    pub disabled_reason: Nullable<DisabledReasonRead>,
    pub disabled_at: Nullable<Timestamp>,
    /// After `rotateWebhookSecret`: until when the old secret signs too; `null`: one secret.
    pub previous_secret_expires_at: Nullable<Timestamp>,
    pub health: HealthRead,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<EndpointRecord> for EndpointRead {
    fn from(endpoint: EndpointRecord) -> Self {
        let now = Utc::now();
        Self {
            id: endpoint.id,
            url: endpoint.url,
            description: endpoint.description,
            events: endpoint.events,
            grades: endpoint.grades,
            enabled: endpoint.enabled,
            disabled_reason: Nullable(endpoint.disabled_reason.map(Into::into)),
            disabled_at: Nullable(endpoint.disabled_at.map(Timestamp)),
            previous_secret_expires_at: Nullable(
                endpoint
                    .previous_secret
                    .map(|(_, until)| until)
                    .filter(|until| *until > now)
                    .map(Timestamp),
            ),
            health: HealthRead {
                failing_since: Nullable(endpoint.failing_since.map(Timestamp)),
                last_delivered_at: Nullable(endpoint.last_delivered_at.map(Timestamp)),
                pending: endpoint.pending,
                failed: endpoint.failed,
            },
            created_at: Timestamp(endpoint.created_at),
            updated_at: Timestamp(endpoint.updated_at),
        }
    }
}

/// The signing secret of a new endpoint, or of a rotation: shown this once.
#[derive(Clone, Object, Serialize)]
#[oai(rename = "WebhookCreated")]
pub struct WebhookCreated {
    /// Verify deliveries with it (`webhook-signature`, Standard Webhooks): the
    /// `standardwebhooks` libraries take it as it is.
    #[oai(validator(
        min_length = 50,
        max_length = 50,
        pattern = "^whsec_[A-Za-z0-9+/]{43}=$"
    ))]
    pub secret: String,
    pub endpoint: EndpointRead,
}

/// Never prints the secret, should it ever be logged.
impl std::fmt::Debug for WebhookCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookCreated")
            .field("secret", &"<redacted>")
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

/// Every endpoint, oldest first.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "WebhookList")]
pub struct EndpointList {
    /// The first 1,000 endpoints.
    #[oai(validator(max_items = 1000))]
    pub items: Vec<EndpointRead>,
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, Enum, Serialize)]
#[oai(rename = "WebhookAttemptOutcome", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum OutcomeRead {
    /// The receiver answered 2xx.
    Delivered,
    /// Another attempt is due (see the endpoint's `pending`).
    Retrying,
    /// No more attempts: the schedule ran out, the endpoint was disabled, or a test event.
    Failed,
}

/// One delivery attempt.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "WebhookAttempt")]
pub struct AttemptRead {
    /// `before` for the next page.
    #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
    pub id: i64,
    /// The `webhook-id` sent: the change's feed `position`, or `test_…` for a test event.
    #[oai(validator(max_length = 64))]
    pub event_id: String,
    /// `student.created`, `student.updated`, `student.deleted`, or `webhook.test`.
    #[oai(validator(max_length = 32))]
    pub event_type: String,
    #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
    pub student_id: Nullable<i64>,
    /// 1 for the first attempt at this event.
    #[oai(validator(minimum(value = "1"), maximum(value = "2147483647")))]
    pub attempt: i32,
    pub attempted_at: Timestamp,
    /// The receiver's status; `null`: no answer (see `error`).
    #[oai(validator(minimum(value = "100"), maximum(value = "599")))]
    pub status_code: Nullable<i16>,
    /// From sending the request to the answer's end (or the error).
    #[oai(validator(minimum(value = "0"), maximum(value = "2147483647")))]
    pub latency_ms: i32,
    /// The answer body's first 1 KiB, as text.
    #[oai(validator(max_length = 1024))]
    pub response: String,
    /// Why there was no (good) answer: a timeout, a refused connection, an address the
    /// policy refuses; `null` for an answer that came whole.
    #[oai(validator(max_length = 600))]
    pub error: Nullable<String>,
    pub outcome: OutcomeRead,
}

impl From<AttemptRecord> for AttemptRead {
    fn from(attempt: AttemptRecord) -> Self {
        Self {
            id: attempt.id,
            event_id: attempt.event_id,
            event_type: attempt.event_type,
            student_id: Nullable(attempt.student_id),
            attempt: attempt.attempt,
            attempted_at: Timestamp(attempt.attempted_at),
            status_code: Nullable(attempt.status_code),
            latency_ms: attempt.latency_ms,
            response: attempt.response,
            error: Nullable(attempt.error),
            outcome: match attempt.outcome.as_str() {
                "delivered" => OutcomeRead::Delivered,
                "retrying" => OutcomeRead::Retrying,
                _ => OutcomeRead::Failed,
            },
        }
    }
}

/// A page of the delivery log, newest first.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "WebhookAttemptPage")]
pub struct AttemptPage {
    #[oai(validator(max_items = 100))] // PageLimit::MAX
    pub items: Vec<AttemptRead>,
    /// `before` for older attempts; `null`: this is the oldest page.
    #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
    pub next_before: Nullable<i64>,
}

/// What to send again: one event, or every event since a time. Exactly one of the two.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, rename = "WebhookReplay")]
pub struct ReplayRequest {
    /// The event's `webhook-id` (its feed `position`).
    pub event_id: Option<FeedPosition>,
    /// Every event the endpoint gets whose change was made at or after this time.
    pub since: Option<TimeBound>,
}

impl super::json::Body for ReplayRequest {}

/// What a replay queued.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "WebhookReplayed")]
pub struct Replayed {
    /// Events queued; each goes out in feed order per student, like any other.
    #[oai(validator(minimum(value = "0"), maximum(value = "9223372036854775807")))]
    pub queued: i64,
}

/// Names endpoints in [`WebhookId`] messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfWebhook;
impl IdOf for OfWebhook {
    const A_NOUN: &'static str = "a webhook endpoint";
}

/// The `{id}` in `/api/webhooks/{id}`.
pub type WebhookId = PathId<OfWebhook>;

#[derive(Debug, ApiResponse)]
pub enum CreatedResponse {
    /// The endpoint was made and gets every change from now on; `secret` is shown only now.
    #[oai(status = 201)]
    Created(JsonBody<WebhookCreated>),
}

#[derive(Debug, ApiResponse)]
pub enum ListResponse {
    /// The endpoints, oldest first, with their health.
    #[oai(status = 200)]
    Ok(JsonBody<EndpointList>),
}

#[derive(Debug, ApiResponse)]
pub enum EndpointResponse {
    /// The endpoint, with its health.
    #[oai(status = 200)]
    Ok(JsonBody<EndpointRead>),
}

#[derive(Debug, ApiResponse)]
pub enum RotatedResponse {
    /// The new secret, shown only now; the old one signs beside it for 24 hours.
    #[oai(status = 200)]
    Ok(JsonBody<WebhookCreated>),
}

#[derive(Debug, ApiResponse)]
pub enum DeletedResponse {
    /// The endpoint is gone, with its queue and its log; nothing more is sent to it.
    #[oai(status = 204)]
    NoContent,
}

#[derive(Debug, ApiResponse)]
pub enum AttemptsResponse {
    /// The attempts, newest first.
    #[oai(status = 200)]
    Ok(JsonBody<AttemptPage>),
}

#[derive(Debug, ApiResponse)]
pub enum ReplayResponse {
    /// Queued: the events go out shortly, signed anew, with their original `webhook-id`.
    #[oai(status = 202)]
    Accepted(JsonBody<Replayed>),
}

#[derive(Debug, ApiResponse)]
pub enum TestResponse {
    /// The test event was sent; the attempt says how the receiver answered (a failed
    /// attempt is still a 200: the test ran).
    #[oai(status = 200)]
    Ok(JsonBody<AttemptRead>),
}

/// `createWebhook`: a bad body, or a URL the policy refuses.
#[derive(Debug)]
pub struct CreateErrors;
impl ErrorStatuses for CreateErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        TOO_SLOW,
        TOO_LARGE,
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}

/// `listWebhooks`: only the database.
#[derive(Debug)]
pub struct ListErrors;
impl ErrorStatuses for ListErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[INTERNAL, UNAVAILABLE];
}

/// Operations on one endpoint without a body.
#[derive(Debug)]
pub struct OneErrors;
impl ErrorStatuses for OneErrors {
    const STATUSES: &'static [(u16, &'static str)] =
        &[WEBHOOK_NOT_FOUND, INVALID, INTERNAL, UNAVAILABLE];
}

/// Operations on one endpoint with a body.
#[derive(Debug)]
pub struct ChangeErrors;
impl ErrorStatuses for ChangeErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        WEBHOOK_NOT_FOUND,
        TOO_SLOW,
        TOO_LARGE,
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}

/// Refuses a URL the sender's policy would not call, naming `/url`.
async fn callable(state: &State, url: &WebhookUrl) -> Result<(), ApiError> {
    state
        .sender
        .policy()
        .check_resolved(url)
        .await
        .map_err(|refusal| {
            ApiError::Validation(vec![FieldError::new(
                "/url",
                "url_not_allowed",
                refusal.to_string(),
            )])
        })
}

#[derive(Debug, Default, Clone, Copy)]
pub struct WebhooksApi;

#[OpenApi(tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Create a webhook endpoint
    ///
    /// From now on every change to a student that the endpoint's `events` and `grades` select
    /// is POSTed to `url`, signed (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`), in order per student, at least once. The answer holds the
    /// signing secret, this once.
    #[oai(
        path = "/api/webhooks",
        method = "post",
        operation_id = "createWebhook",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/webhooks.md"
    )]
    async fn create(
        &self,
        _caller: Authorized<AdminWebhooks>,
        Data(state): Data<&Arc<State>>,
        body: JsonBody<WebhookCreate>,
    ) -> Result<CreatedResponse, Failure<CreateErrors>> {
        let WebhookCreate {
            url,
            description,
            events,
            grades,
        } = body.0;
        callable(state, &url).await?;
        let new = NewEndpoint {
            url,
            description: description.unwrap_or_else(|| {
                WebhookDescription::parse("").unwrap_or_else(|_| unreachable!())
            }),
            events: events.unwrap_or_else(|| EVENT_TYPES.to_vec()),
            grades: grades.unwrap_or_default(),
        };
        let endpoint = db::webhooks::create_endpoint(&state.pool, &new).await?;
        tracing::info!(endpoint = endpoint.id, url = %endpoint.url, "made a webhook endpoint");
        Ok(CreatedResponse::Created(JsonBody(WebhookCreated {
            secret: endpoint.secret.expose().to_owned(),
            endpoint: endpoint.into(),
        })))
    }

    /// List webhook endpoints
    ///
    /// Every endpoint (the first 1,000), oldest first, with its health: failing since when,
    /// last delivered, events waiting and failed; never a secret.
    #[oai(path = "/api/webhooks", method = "get", operation_id = "listWebhooks")]
    async fn list(
        &self,
        _caller: Authorized<AdminWebhooks>,
        Data(state): Data<&Arc<State>>,
    ) -> Result<ListResponse, Failure<ListErrors>> {
        let endpoints = db::webhooks::list_endpoints(&state.pool).await?;
        Ok(ListResponse::Ok(JsonBody(EndpointList {
            items: endpoints.into_iter().map(Into::into).collect(),
        })))
    }

    /// Get a webhook endpoint
    ///
    /// One endpoint with its health: failing since when, last delivered, events waiting and
    /// failed; never its secret.
    #[oai(
        path = "/api/webhooks/:id",
        method = "get",
        operation_id = "getWebhook"
    )]
    async fn get(
        &self,
        _caller: Authorized<AdminWebhooks>,
        Data(state): Data<&Arc<State>>,
        /// The endpoint's id.
        id: Path<WebhookId>,
    ) -> Result<EndpointResponse, Failure<OneErrors>> {
        let id = id.0.get()?;
        let endpoint = db::webhooks::get_endpoint(&state.pool, id)
            .await?
            .ok_or(ApiError::WebhookNotFound(id))?;
        Ok(EndpointResponse::Ok(JsonBody(endpoint.into())))
    }

    /// Change a webhook endpoint
    ///
    /// Changes its URL, description, events or grades (from the next delivery on), or
    /// pauses (`enabled: false`) and resumes it. A resumed endpoint goes on from where it
    /// stopped, as far back as the changes are kept.
    #[oai(
        path = "/api/webhooks/:id",
        method = "patch",
        operation_id = "updateWebhook"
    )]
    async fn update(
        &self,
        _caller: Authorized<AdminWebhooks>,
        Data(state): Data<&Arc<State>>,
        /// The endpoint's id.
        id: Path<WebhookId>,
        body: JsonBody<WebhookUpdate>,
    ) -> Result<EndpointResponse, Failure<ChangeErrors>> {
        let id = id.0.get()?;
        let WebhookUpdate {
            url,
            description,
            events,
            grades,
            enabled,
        } = body.0;
        if let Some(url) = &url {
            callable(state, url).await?;
        }
        let changes = EndpointChanges {
            url,
            description,
            events,
            grades,
            enabled,
        };
        let endpoint = db::webhooks::update_endpoint(&state.pool, id, &changes)
            .await?
            .ok_or(ApiError::WebhookNotFound(id))?;
        Ok(EndpointResponse::Ok(JsonBody(endpoint.into())))
    }

    /// Delete a webhook endpoint
    ///
    /// With its queue and its delivery log. An attempt in flight may still arrive.
    #[oai(
        path = "/api/webhooks/:id",
        method = "delete",
        operation_id = "deleteWebhook"
    )]
    async fn delete(
        &self,
        _caller: Authorized<AdminWebhooks>,
        Data(state): Data<&Arc<State>>,
        /// The endpoint's id.
        id: Path<WebhookId>,
    ) -> Result<DeletedResponse, Failure<OneErrors>> {
        let id = id.0.get()?;
        if db::webhooks::delete_endpoint(&state.pool, id).await? {
            Ok(DeletedResponse::NoContent)
        } else {
            Err(ApiError::WebhookNotFound(id).into())
        }
    }

    /// Rotate a webhook endpoint's secret
    ///
    /// Answers a new secret, this once. For 24 hours deliveries carry two signatures, the new
    /// secret's and the old one's (`webhook-signature: v1,… v1,…`), so receivers can switch
    /// without missing one; then only the new.
    #[oai(
        path = "/api/webhooks/:id/rotate-secret",
        method = "post",
        operation_id = "rotateWebhookSecret",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/webhooks.md#rotating-the-secret"
    )]
    async fn rotate(
        &self,
        _caller: Authorized<AdminWebhooks>,
        Data(state): Data<&Arc<State>>,
        /// The endpoint's id.
        id: Path<WebhookId>,
    ) -> Result<RotatedResponse, Failure<OneErrors>> {
        let id = id.0.get()?;
        let endpoint = db::webhooks::rotate_secret(&state.pool, id)
            .await?
            .ok_or(ApiError::WebhookNotFound(id))?;
        tracing::info!(endpoint = id, "rotated a webhook secret");
        Ok(RotatedResponse::Ok(JsonBody(WebhookCreated {
            secret: endpoint.secret.expose().to_owned(),
            endpoint: endpoint.into(),
        })))
    }

    /// List a webhook endpoint's delivery attempts
    ///
    /// The delivery log, newest first: every attempt's time, status, latency and the
    /// answer's first 1 KiB, kept as long as the changes (`CHANGE_RETENTION`, 7 days by
    /// default). Follow `next_before` for older attempts.
    #[oai(
        path = "/api/webhooks/:id/attempts",
        method = "get",
        operation_id = "listWebhookAttempts"
    )]
    async fn attempts(
        &self,
        _caller: Authorized<AdminWebhooks>,
        Data(state): Data<&Arc<State>>,
        /// The endpoint's id.
        id: Path<WebhookId>,
        /// At most this many attempts.
        limit: Query<Option<PageLimit>>,
        /// `next_before` from the previous page: attempts older than this one.
        #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
        before: Query<Option<i64>>,
        /// Only the attempts at this event (its `webhook-id`).
        event_id: Query<Option<FeedPosition>>,
    ) -> Result<AttemptsResponse, Failure<OneErrors>> {
        let id = id.0.get()?;
        let limit = limit.0.unwrap_or_default().get();
        let event = event_id.0.map(|FeedPosition(position)| position.encode());
        let attempts =
            db::webhooks::list_attempts(&state.pool, id, before.0, event.as_deref(), limit + 1)
                .await?
                .ok_or(ApiError::WebhookNotFound(id))?;
        let more = i64::try_from(attempts.len()).is_ok_and(|n| n > limit);
        let mut items: Vec<AttemptRead> = attempts.into_iter().map(Into::into).collect();
        items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next_before = more.then(|| items.last().map(|last| last.id)).flatten();
        Ok(AttemptsResponse::Ok(JsonBody(AttemptPage {
            items,
            next_before: Nullable(next_before),
        })))
    }

    /// Replay webhook events
    ///
    /// Sends again one event (`event_id`), or every event the endpoint gets since a time
    /// (`since`), as far back as the changes are kept (`CHANGE_RETENTION`, 7 days by
    /// default). An event already waiting is not queued twice; a failed one starts its
    /// attempts over. Events the endpoint has not reached yet are not queued: they come
    /// anyway. An `event_id` at which no change is kept is a 422 (`unknown_event`).
    #[oai(
        path = "/api/webhooks/:id/replay",
        method = "post",
        operation_id = "replayWebhookEvents",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/webhooks.md#the-delivery-log-and-replays"
    )]
    async fn replay(
        &self,
        _caller: Authorized<AdminWebhooks>,
        Data(state): Data<&Arc<State>>,
        /// The endpoint's id.
        id: Path<WebhookId>,
        body: JsonBody<ReplayRequest>,
    ) -> Result<ReplayResponse, Failure<ChangeErrors>> {
        let id = id.0.get()?;
        let which = match (body.0.event_id, body.0.since) {
            (Some(FeedPosition(position)), None) => Replay::One(position),
            (None, Some(TimeBound(at))) => Replay::Since(at),
            _ => {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "/event_id",
                    "required",
                    "send exactly one of `event_id` (one event) and `since` (every event \
                     since then)",
                )])
                .into());
            }
        };
        let queued = match db::webhooks::replay(&state.pool, id, which).await? {
            ReplayOutcome::Queued(queued) => queued,
            ReplayOutcome::NoEndpoint => return Err(ApiError::WebhookNotFound(id).into()),
            ReplayOutcome::NoEvent => {
                return Err(ApiError::Validation(vec![FieldError::new(
                    "/event_id",
                    "unknown_event",
                    "no change is kept at this position: it never was one, or it is older \
                     than the change retention (`CHANGE_RETENTION`)",
                )])
                .into());
            }
        };
        tracing::info!(endpoint = id, queued, "replaying webhook events");
        Ok(ReplayResponse::Accepted(JsonBody(Replayed {
            queued: i64::try_from(queued).unwrap_or(i64::MAX),
        })))
    }

    /// Send a test event
    ///
    /// POSTs `{"type": "webhook.test", …}` to the endpoint now, signed like every delivery
    /// (`webhook-id` starts with `test_`), and answers how the receiver answered, within 8
    /// seconds (a receiver slower than that is a failed attempt here). Logged
    /// with the attempts; never retried; it does not count towards the endpoint's health.
    #[oai(
        path = "/api/webhooks/:id/test",
        method = "post",
        operation_id = "testWebhook"
    )]
    async fn test(
        &self,
        _caller: Authorized<AdminWebhooks>,
        Data(state): Data<&Arc<State>>,
        /// The endpoint's id.
        id: Path<WebhookId>,
    ) -> Result<TestResponse, Failure<OneErrors>> {
        let id = id.0.get()?;
        let endpoint = db::webhooks::get_endpoint(&state.pool, id)
            .await?
            .ok_or(ApiError::WebhookNotFound(id))?;
        let event_id = format!("test_{}", uuid::Uuid::new_v4().simple());
        let now = Utc::now();
        let body = serde_json::json!({
            "type": "webhook.test",
            "endpoint_id": id,
            "sent_at": Timestamp(now).to_rfc3339(),
        });
        let message = Message {
            id: event_id.clone(),
            body: bytes::Bytes::from(body.to_string()),
        };
        let outcome = state
            .sender
            .send(
                &endpoint.url,
                &endpoint.signing_secrets(now),
                &message,
                crate::sender::TEST_TIMEOUT,
            )
            .await;
        let attempt = NewAttempt::from_outcome(
            event_id,
            "webhook.test",
            None,
            1,
            &outcome,
            if outcome.delivered() {
                Outcome::Delivered
            } else {
                Outcome::Failed
            },
        );
        let logged = db::webhooks::log_attempt(&state.pool, id, &attempt).await?;
        Ok(TestResponse::Ok(JsonBody(logged.into())))
    }
}
