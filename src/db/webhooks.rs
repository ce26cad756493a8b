//! `webhook_endpoints`, `webhook_deliveries` and `webhook_attempts` (migration 20): the
//! endpoints and their health, the lease that makes one instance deliver to each, what waits,
//! and the delivery log.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgPool};

use super::{Error, changes::changes_at, read_feed, readable};
use crate::domain::{
    DisabledReason, EventType, Grade, OLD_SECRET_LASTS, Position, RecordedChange,
    WebhookDescription, WebhookSecret, WebhookUrl,
};
use crate::sender::Outcome as Sent;

/// One endpoint, with its health.
#[derive(Debug, Clone)]
pub struct EndpointRecord {
    pub id: i64,
    /// As stored (a row written in psql is read as it is; the sender checks it again).
    pub url: String,
    pub description: String,
    pub events: Vec<EventType>,
    pub grades: Vec<Grade>,
    pub enabled: bool,
    pub disabled_reason: Option<DisabledReason>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub secret: WebhookSecret,
    /// The rotated-out secret and until when it still signs.
    pub previous_secret: Option<(WebhookSecret, DateTime<Utc>)>,
    pub position: Position,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Events waiting for an attempt.
    pub pending: i64,
    /// Events that failed every attempt (kept until replayed or past the retention).
    pub failed: i64,
}

impl EndpointRecord {
    /// The secrets that sign now: the current one, then the rotated-out one while it lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&WebhookSecret> {
        let mut secrets = vec![&self.secret];
        if let Some((old, until)) = &self.previous_secret
            && *until > now
        {
            secrets.push(old);
        }
        secrets
    }

    pub fn wants(&self, kind: EventType) -> bool {
        self.events.contains(&kind)
    }
}

#[derive(Debug, FromRow)]
struct EndpointRow {
    id: i64,
    url: String,
    description: String,
    events: Vec<String>,
    grades: Vec<String>,
    enabled: bool,
    disabled_reason: Option<String>,
    disabled_at: Option<DateTime<Utc>>,
    secret: String,
    previous_secret: Option<String>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    feed_xid: i64,
    feed_seq: i64,
    failing_since: Option<DateTime<Utc>>,
    last_delivered_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    pending: i64,
    failed: i64,
}

impl TryFrom<EndpointRow> for EndpointRecord {
    type Error = Error;

    fn try_from(row: EndpointRow) -> Result<Self, Error> {
        let id = row.id;
        let corrupt = |what: &str| Error::Corrupt(format!("webhook endpoint {id}: {what}"));
        let events = row
            .events
            .iter()
            .map(|raw| EventType::parse(raw).map_err(|_| corrupt("an unknown event type")))
            .collect::<Result<_, _>>()?;
        let grades = row
            .grades
            .iter()
            .map(|raw| Grade::parse(raw).map_err(|_| corrupt("an unknown grade")))
            .collect::<Result<_, _>>()?;
        let secret = WebhookSecret::from_stored(row.secret).ok_or_else(|| corrupt("secret"))?;
        let previous_secret = match (row.previous_secret, row.previous_secret_expires_at) {
            (Some(old), Some(until)) => Some((
                WebhookSecret::from_stored(old).ok_or_else(|| corrupt("previous_secret"))?,
                until,
            )),
            _ => None,
        };
        Ok(Self {
            id,
            url: row.url,
            description: row.description,
            events,
            grades,
            enabled: row.enabled,
            disabled_reason: row
                .disabled_reason
                .as_deref()
                .and_then(DisabledReason::parse),
            disabled_at: row.disabled_at,
            secret,
            previous_secret,
            position: Position::new(row.feed_xid, row.feed_seq),
            failing_since: row.failing_since,
            last_delivered_at: row.last_delivered_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            pending: row.pending,
            failed: row.failed,
        })
    }
}

/// The columns of [`EndpointRow`] from `webhook_endpoints e`, with its counts.
const ENDPOINT_COLUMNS: &str = "e.id, e.url, e.description, e.events, e.grades, e.enabled, \
     e.disabled_reason, e.disabled_at, e.secret, e.previous_secret, \
     e.previous_secret_expires_at, e.feed_xid, e.feed_seq, e.failing_since, \
     e.last_delivered_at, e.created_at, e.updated_at, \
     (SELECT count(*) FROM webhook_deliveries d \
      WHERE d.endpoint_id = e.id AND d.status = 'pending') AS pending, \
     (SELECT count(*) FROM webhook_deliveries d \
      WHERE d.endpoint_id = e.id AND d.status = 'failed') AS failed";

fn endpoint_query(condition: &str) -> String {
    format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e {condition}")
}

fn texts<T>(items: &[T], text: impl Fn(&T) -> &'static str) -> Vec<&'static str> {
    items.iter().map(text).collect()
}

/// What an endpoint is made with.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: WebhookUrl,
    pub description: WebhookDescription,
    pub events: Vec<EventType>,
    pub grades: Vec<Grade>,
}

/// Makes an endpoint that gets the changes from now on; returns it with its secret.
pub async fn create_endpoint(pool: &PgPool, new: &NewEndpoint) -> Result<EndpointRecord, Error> {
    let secret = WebhookSecret::generate()
        .map_err(|err| Error::Corrupt(format!("no randomness for a webhook secret: {err}")))?;
    // The feed's "now": every change after it is this endpoint's.
    let now = read_feed(pool, Position::START, 0).await?.through;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO webhook_endpoints (url, description, events, grades, secret, feed_xid, feed_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.url.as_str())
    .bind(new.description.as_str())
    .bind(texts(&new.events, |e| e.as_str()))
    .bind(texts(&new.grades, |g| g.as_str()))
    .bind(secret.expose())
    .bind(now.xid)
    .bind(now.seq)
    .fetch_one(pool)
    .await?;
    get_endpoint(pool, id)
        .await?
        .ok_or_else(|| Error::Corrupt(format!("webhook endpoint {id} vanished as it was made")))
}

/// Every endpoint, oldest first (at most 1,000).
pub async fn list_endpoints(pool: &PgPool) -> Result<Vec<EndpointRecord>, Error> {
    let rows: Vec<EndpointRow> = sqlx::query_as(sqlx::AssertSqlSafe(endpoint_query(
        "ORDER BY e.id LIMIT 1000",
    )))
    .fetch_all(pool)
    .await?;
    Ok(readable(rows))
}

pub async fn get_endpoint(pool: &PgPool, id: i64) -> Result<Option<EndpointRecord>, Error> {
    let row: Option<EndpointRow> =
        sqlx::query_as(sqlx::AssertSqlSafe(endpoint_query("WHERE e.id = $1")))
            .bind(id)
            .fetch_optional(pool)
            .await?;
    row.map(EndpointRecord::try_from).transpose()
}

/// A change to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<WebhookUrl>,
    pub description: Option<WebhookDescription>,
    pub events: Option<Vec<EventType>>,
    pub grades: Option<Vec<Grade>>,
    /// `true` re-enables (whatever disabled it: the failing clock starts again); `false`
    /// pauses.
    pub enabled: Option<bool>,
}

pub async fn update_endpoint(
    pool: &PgPool,
    id: i64,
    changes: &EndpointChanges,
) -> Result<Option<EndpointRecord>, Error> {
    let updated: Option<i64> = sqlx::query_scalar(
        "UPDATE webhook_endpoints SET \
             url = coalesce($2, url), \
             description = coalesce($3, description), \
             events = coalesce($4, events), \
             grades = coalesce($5, grades), \
             enabled = coalesce($6, enabled), \
             disabled_reason = CASE WHEN $6 THEN NULL \
                                    WHEN NOT $6 AND enabled THEN 'paused' \
                                    ELSE disabled_reason END, \
             disabled_at = CASE WHEN $6 THEN NULL \
                                WHEN NOT $6 AND enabled THEN now() \
                                ELSE disabled_at END, \
             failing_since = CASE WHEN $6 AND NOT enabled THEN NULL ELSE failing_since END, \
             updated_at = now() \
         WHERE id = $1 RETURNING id",
    )
    .bind(id)
    .bind(changes.url.as_ref().map(WebhookUrl::as_str))
    .bind(changes.description.as_ref().map(WebhookDescription::as_str))
    .bind(changes.events.as_ref().map(|e| texts(e, |e| e.as_str())))
    .bind(changes.grades.as_ref().map(|g| texts(g, |g| g.as_str())))
    .bind(changes.enabled)
    .fetch_optional(pool)
    .await?;
    match updated {
        Some(id) => get_endpoint(pool, id).await,
        None => Ok(None),
    }
}

/// Deletes an endpoint with its queue and log; whether there was one.
pub async fn delete_endpoint(pool: &PgPool, id: i64) -> Result<bool, Error> {
    let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(deleted.rows_affected() > 0)
}

/// A new secret for the endpoint; the current one keeps signing beside it for 24 hours.
pub async fn rotate_secret(pool: &PgPool, id: i64) -> Result<Option<EndpointRecord>, Error> {
    let secret = WebhookSecret::generate()
        .map_err(|err| Error::Corrupt(format!("no randomness for a webhook secret: {err}")))?;
    let rotated: Option<i64> = sqlx::query_scalar(
        "UPDATE webhook_endpoints SET previous_secret = secret, \
             previous_secret_expires_at = now() + make_interval(secs => $3), \
             secret = $2, updated_at = now() \
         WHERE id = $1 RETURNING id",
    )
    .bind(id)
    .bind(secret.expose())
    .bind(OLD_SECRET_LASTS.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    match rotated {
        Some(id) => get_endpoint(pool, id).await,
        None => Ok(None),
    }
}

/// One attempt, as the log keeps it.
#[derive(Debug, Clone, FromRow)]
pub struct AttemptRecord {
    pub id: i64,
    pub event_id: String,
    pub event_type: String,
    pub student_id: Option<i64>,
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i16>,
    pub latency_ms: i32,
    pub response: String,
    pub error: Option<String>,
    pub outcome: String,
}

/// An attempt to write to the log.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub event_id: String,
    pub event_type: &'static str,
    pub student_id: Option<i64>,
    pub attempt: i32,
    pub status_code: Option<i16>,
    pub latency_ms: i32,
    pub response: String,
    pub error: Option<String>,
    pub outcome: Outcome,
}

impl NewAttempt {
    /// The log's line for what `sent` got.
    pub fn from_outcome(
        event_id: String,
        event_type: &'static str,
        student_id: Option<i64>,
        attempt: i32,
        sent: &Sent,
        outcome: Outcome,
    ) -> Self {
        Self {
            event_id,
            event_type,
            student_id,
            attempt,
            status_code: sent.status.and_then(|status| i16::try_from(status).ok()),
            latency_ms: i32::try_from(sent.latency.as_millis()).unwrap_or(i32::MAX),
            response: sent.response.clone(),
            error: sent.error.clone(),
            outcome,
        }
    }
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retrying,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retrying => "retrying",
            Outcome::Failed => "failed",
        }
    }
}

/// The endpoint's attempts, newest first, before attempt `before`, optionally of one event;
/// `None` when there is no such endpoint.
pub async fn list_attempts(
    pool: &PgPool,
    endpoint: i64,
    before: Option<i64>,
    event_id: Option<&str>,
    limit: i64,
) -> Result<Option<Vec<AttemptRecord>>, Error> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $1)")
            .bind(endpoint)
            .fetch_one(pool)
            .await?;
    if !exists {
        return Ok(None);
    }
    let attempts = sqlx::query_as(
        "SELECT id, event_id, event_type, student_id, attempt, attempted_at, status_code, \
                latency_ms, response, error, outcome \
         FROM webhook_attempts \
         WHERE endpoint_id = $1 AND ($2::int8 IS NULL OR id < $2) \
           AND ($3::text IS NULL OR event_id = $3) \
         ORDER BY id DESC LIMIT $4",
    )
    .bind(endpoint)
    .bind(before)
    .bind(event_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(Some(attempts))
}

/// Writes one attempt that is not part of a delivery (a test event); returns it.
pub async fn log_attempt(
    pool: &PgPool,
    endpoint: i64,
    attempt: &NewAttempt,
) -> Result<AttemptRecord, Error> {
    let logged = sqlx::query_as(
        "INSERT INTO webhook_attempts (endpoint_id, event_id, event_type, student_id, attempt, \
             status_code, latency_ms, response, error, outcome) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         RETURNING id, event_id, event_type, student_id, attempt, attempted_at, status_code, \
                   latency_ms, response, error, outcome",
    )
    .bind(endpoint)
    .bind(&attempt.event_id)
    .bind(attempt.event_type)
    .bind(attempt.student_id)
    .bind(attempt.attempt)
    .bind(attempt.status_code)
    .bind(attempt.latency_ms)
    .bind(&attempt.response)
    .bind(&attempt.error)
    .bind(attempt.outcome.as_str())
    .fetch_one(pool)
    .await?;
    Ok(logged)
}

/// Which changes a replay sends again.
#[derive(Debug, Clone, Copy)]
pub enum Replay {
    One(Position),
    Since(DateTime<Utc>),
}

/// What a replay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayOutcome {
    /// This many events wait to be sent again (none, when the event is already waiting, is not
    /// one the endpoint gets, or is one it has not reached yet).
    Queued(u64),
    /// No endpoint has this id.
    NoEndpoint,
    /// No kept change is at the position asked for (`Replay::One`): it never was, or it is older
    /// than the change retention.
    NoEvent,
}

/// Queues again the kept changes the endpoint gets (its events and grades) that it has already
/// reached. An event already waiting is not queued twice; a failed one waits again, with its
/// attempts starting over.
pub async fn replay(pool: &PgPool, endpoint: i64, which: Replay) -> Result<ReplayOutcome, Error> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = $1)")
            .bind(endpoint)
            .fetch_one(pool)
            .await?;
    if !exists {
        return Ok(ReplayOutcome::NoEndpoint);
    }
    let (one, since) = match which {
        Replay::One(position) => (Some((position.xid.to_string(), position.seq)), None),
        Replay::Since(at) => (None, Some(at)),
    };
    let queued = sqlx::query(
        "INSERT INTO webhook_deliveries (endpoint_id, feed_xid, feed_seq, student_id) \
         SELECT e.id, c.feed_xid::text::int8, c.seq, c.student_id \
         FROM webhook_endpoints e JOIN student_changes c \
           ON (c.feed_xid, c.seq) <= (e.feed_xid::text::xid8, e.feed_seq) \
         WHERE e.id = $1 \
           AND ($2::text IS NULL OR (c.feed_xid = $2::xid8 AND c.seq = $3)) \
           AND ($4::timestamptz IS NULL OR c.changed_at >= $4) \
           AND ('student.' || c.op) = ANY (e.events) \
           AND (cardinality(e.grades) = 0 OR c.student->>'grade' = ANY (e.grades) \
                OR c.previous->>'grade' = ANY (e.grades)) \
         ORDER BY c.feed_xid, c.seq \
         ON CONFLICT (endpoint_id, feed_xid, feed_seq) DO UPDATE \
             SET status = 'pending', attempts = 0, next_attempt_at = now(), queued_at = now() \
             WHERE webhook_deliveries.status = 'failed'",
    )
    .bind(endpoint)
    .bind(one.as_ref().map(|(xid, _)| xid.as_str()))
    .bind(one.as_ref().map_or(0, |(_, seq)| *seq))
    .bind(since)
    .execute(pool)
    .await?
    .rows_affected();
    if queued == 0
        && let Some((xid, seq)) = &one
    {
        let kept: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM student_changes WHERE feed_xid = $1::xid8 AND seq = $2)",
        )
        .bind(xid)
        .bind(seq)
        .fetch_one(pool)
        .await?;
        if !kept {
            return Ok(ReplayOutcome::NoEvent);
        }
    }
    Ok(ReplayOutcome::Queued(queued))
}

/// The endpoints this instance may start delivering to: enabled, and nobody's lease is live.
pub async fn claimable(pool: &PgPool, me: uuid::Uuid) -> Result<Vec<i64>, Error> {
    let ids = sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints \
         WHERE enabled AND (lease_holder IS NULL OR lease_expires_at < now() OR lease_holder = $1::uuid) \
         ORDER BY id",
    )
    .bind(me.to_string())
    .fetch_all(pool)
    .await?;
    Ok(ids)
}

/// Takes the endpoint's lease for `lease`, if nobody else holds a live one; the endpoint as it
/// is now when it did. `FOR UPDATE SKIP LOCKED`: two instances claiming at once, one wins.
pub async fn claim(
    pool: &PgPool,
    id: i64,
    me: uuid::Uuid,
    lease: Duration,
) -> Result<Option<EndpointRecord>, Error> {
    let claimed: Option<i64> = sqlx::query_scalar(
        "UPDATE webhook_endpoints SET lease_holder = $2::uuid, \
             lease_expires_at = now() + make_interval(secs => $3) \
         WHERE id = (SELECT id FROM webhook_endpoints WHERE id = $1 AND enabled \
                     AND (lease_holder IS NULL OR lease_expires_at < now() OR lease_holder = $2::uuid) \
                     FOR UPDATE SKIP LOCKED) \
         RETURNING id",
    )
    .bind(id)
    .bind(me.to_string())
    .bind(lease.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    match claimed {
        Some(id) => get_endpoint(pool, id).await,
        None => Ok(None),
    }
}

/// Extends this instance's leases; returns the endpoints it still holds.
pub async fn renew(
    pool: &PgPool,
    ids: &[i64],
    me: uuid::Uuid,
    lease: Duration,
) -> Result<Vec<i64>, Error> {
    let held = sqlx::query_scalar(
        "UPDATE webhook_endpoints SET lease_expires_at = now() + make_interval(secs => $3) \
         WHERE id = ANY ($1) AND lease_holder = $2::uuid AND enabled RETURNING id",
    )
    .bind(ids)
    .bind(me.to_string())
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await?;
    Ok(held)
}

/// Gives up this instance's leases (shutting down): another instance takes over at once.
pub async fn release(pool: &PgPool, ids: &[i64], me: uuid::Uuid) -> Result<(), Error> {
    sqlx::query(
        "UPDATE webhook_endpoints SET lease_holder = NULL, lease_expires_at = NULL \
         WHERE id = ANY ($1) AND lease_holder = $2::uuid",
    )
    .bind(ids)
    .bind(me.to_string())
    .execute(pool)
    .await?;
    Ok(())
}

/// The endpoint as this instance's worker should see it: `None` when it is gone, disabled or
/// leased by another instance (the worker stops).
pub async fn held_endpoint(
    pool: &PgPool,
    id: i64,
    me: uuid::Uuid,
) -> Result<Option<EndpointRecord>, Error> {
    let row: Option<EndpointRow> = sqlx::query_as(sqlx::AssertSqlSafe(endpoint_query(
        "WHERE e.id = $1 AND e.enabled AND e.lease_holder = $2::uuid",
    )))
    .bind(id)
    .bind(me.to_string())
    .fetch_optional(pool)
    .await?;
    row.map(EndpointRecord::try_from).transpose()
}

/// Whether any event waits at the endpoint (due or not).
pub async fn anything_waiting(pool: &PgPool, endpoint: i64) -> Result<bool, Error> {
    let waiting = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM webhook_deliveries \
                        WHERE endpoint_id = $1 AND status = 'pending')",
    )
    .bind(endpoint)
    .fetch_one(pool)
    .await?;
    Ok(waiting)
}

/// An event waiting for an attempt, with its change (`None`: pruned meanwhile).
#[derive(Debug, Clone)]
pub struct Waiting {
    pub position: Position,
    pub student_id: i64,
    pub attempts: i32,
    pub change: Option<RecordedChange>,
}

/// Students whose earliest waiting event is due, with every waiting event of theirs in feed
/// order (at most `limit` events): what may be attempted now, a student's events one after
/// another.
pub async fn due(pool: &PgPool, endpoint: i64, limit: i64) -> Result<Vec<Waiting>, Error> {
    let rows: Vec<(i64, i64, i64, i32)> = sqlx::query_as(
        "WITH heads AS (\
             SELECT DISTINCT ON (student_id) student_id, next_attempt_at \
             FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending' \
             ORDER BY student_id, feed_xid, feed_seq) \
         SELECT d.feed_xid, d.feed_seq, d.student_id, d.attempts \
         FROM webhook_deliveries d JOIN heads h USING (student_id) \
         WHERE d.endpoint_id = $1 AND d.status = 'pending' AND h.next_attempt_at <= now() \
         ORDER BY d.student_id, d.feed_xid, d.feed_seq LIMIT $2",
    )
    .bind(endpoint)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let positions: Vec<Position> = rows
        .iter()
        .map(|(xid, seq, ..)| Position::new(*xid, *seq))
        .collect();
    let mut changes = changes_at(pool, &positions).await?;
    Ok(rows
        .into_iter()
        .map(|(xid, seq, student_id, attempts)| {
            let position = Position::new(xid, seq);
            let at = changes.iter().position(|c| c.position == position);
            Waiting {
                position,
                student_id,
                attempts,
                change: at.map(|at| changes.swap_remove(at)),
            }
        })
        .collect())
}

/// Which of `students` have an event waiting at the endpoint (their new events queue behind
/// it, to keep each student's order).
pub async fn students_waiting(
    pool: &PgPool,
    endpoint: i64,
    students: &[i64],
) -> Result<Vec<i64>, Error> {
    if students.is_empty() {
        return Ok(Vec::new());
    }
    let waiting = sqlx::query_scalar(
        "SELECT DISTINCT student_id FROM webhook_deliveries \
         WHERE endpoint_id = $1 AND status = 'pending' AND student_id = ANY ($2)",
    )
    .bind(endpoint)
    .bind(students)
    .fetch_all(pool)
    .await?;
    Ok(waiting)
}

/// Where an event stands after a round of attempts.
#[derive(Debug, Clone)]
pub struct DeliveryState {
    pub position: Position,
    pub student_id: i64,
    /// `Some`: waits until then; `None`: failed for good.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: i32,
}

/// What one round of an endpoint's deliveries did, recorded in one transaction.
#[derive(Debug, Clone, Default)]
pub struct Round {
    /// Every change up to here was delivered, queued or filtered out.
    pub position: Position,
    pub attempts: Vec<NewAttempt>,
    /// Waiting events that were delivered (their rows go).
    pub delivered: Vec<Position>,
    /// Events that wait (new, or again) or failed for good.
    pub waiting: Vec<DeliveryState>,
    /// The receiver answered 410: disable the endpoint.
    pub gone: bool,
}

/// What recording a round found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Done,
    /// The round disabled the endpoint.
    Disabled(DisabledReason),
    /// Another instance holds the endpoint now: nothing was recorded.
    LostLease,
}

/// Records a round: the attempts, what waits, what left, the endpoint's position and health,
/// all or nothing. Only while this instance holds the lease, so a worker that lost it (a
/// pause longer than the lease) cannot move the position back or forward.
pub async fn record(
    pool: &PgPool,
    endpoint: i64,
    me: uuid::Uuid,
    round: &Round,
    failing_disables_after: Duration,
) -> Result<Recorded, Error> {
    let any_delivered = round
        .attempts
        .iter()
        .any(|a| a.outcome == Outcome::Delivered);
    let any_failed = round
        .attempts
        .iter()
        .any(|a| a.outcome != Outcome::Delivered);
    let mut tx = pool.begin().await?;
    let failing: Option<Option<bool>> = sqlx::query_scalar(
        "UPDATE webhook_endpoints SET feed_xid = $3, feed_seq = $4, \
             last_delivered_at = CASE WHEN $5 THEN now() ELSE last_delivered_at END, \
             failing_since = CASE WHEN $5 THEN NULL \
                                  WHEN $6 THEN coalesce(failing_since, now()) \
                                  ELSE failing_since END \
         WHERE id = $1 AND lease_holder = $2::uuid \
         RETURNING failing_since < now() - make_interval(secs => $7)",
    )
    .bind(endpoint)
    .bind(me.to_string())
    .bind(round.position.xid)
    .bind(round.position.seq)
    .bind(any_delivered)
    .bind(any_failed)
    .bind(failing_disables_after.as_secs_f64())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(failing_too_long) = failing else {
        return Ok(Recorded::LostLease);
    };
    if !round.attempts.is_empty() {
        let a = &round.attempts;
        sqlx::query(
            "INSERT INTO webhook_attempts (endpoint_id, event_id, event_type, student_id, \
                 attempt, status_code, latency_ms, response, error, outcome) \
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int8[], $5::int4[], \
                 $6::int2[], $7::int4[], $8::text[], $9::text[], $10::text[])",
        )
        .bind(endpoint)
        .bind(a.iter().map(|a| a.event_id.as_str()).collect::<Vec<_>>())
        .bind(a.iter().map(|a| a.event_type).collect::<Vec<_>>())
        .bind(a.iter().map(|a| a.student_id).collect::<Vec<_>>())
        .bind(a.iter().map(|a| a.attempt).collect::<Vec<_>>())
        .bind(a.iter().map(|a| a.status_code).collect::<Vec<_>>())
        .bind(a.iter().map(|a| a.latency_ms).collect::<Vec<_>>())
        .bind(a.iter().map(|a| a.response.as_str()).collect::<Vec<_>>())
        .bind(a.iter().map(|a| a.error.as_deref()).collect::<Vec<_>>())
        .bind(a.iter().map(|a| a.outcome.as_str()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    if !round.delivered.is_empty() {
        sqlx::query(
            "DELETE FROM webhook_deliveries d USING unnest($2::int8[], $3::int8[]) AS p(xid, seq) \
             WHERE d.endpoint_id = $1 AND d.feed_xid = p.xid AND d.feed_seq = p.seq",
        )
        .bind(endpoint)
        .bind(round.delivered.iter().map(|p| p.xid).collect::<Vec<_>>())
        .bind(round.delivered.iter().map(|p| p.seq).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    if !round.waiting.is_empty() {
        let w = &round.waiting;
        sqlx::query(
            "INSERT INTO webhook_deliveries (endpoint_id, feed_xid, feed_seq, student_id, \
                 status, attempts, next_attempt_at) \
             SELECT $1, xid, seq, student, \
                    CASE WHEN next_at IS NULL THEN 'failed' ELSE 'pending' END, \
                    attempts, coalesce(next_at, now()) \
             FROM unnest($2::int8[], $3::int8[], $4::int8[], $5::int4[], $6::timestamptz[]) \
                  AS w(xid, seq, student, attempts, next_at) \
             ON CONFLICT (endpoint_id, feed_xid, feed_seq) DO UPDATE \
                 SET status = excluded.status, attempts = excluded.attempts, \
                     next_attempt_at = excluded.next_attempt_at",
        )
        .bind(endpoint)
        .bind(w.iter().map(|w| w.position.xid).collect::<Vec<_>>())
        .bind(w.iter().map(|w| w.position.seq).collect::<Vec<_>>())
        .bind(w.iter().map(|w| w.student_id).collect::<Vec<_>>())
        .bind(w.iter().map(|w| w.attempts).collect::<Vec<_>>())
        .bind(w.iter().map(|w| w.next_attempt_at).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
    }
    let disabled = if round.gone {
        Some(DisabledReason::Gone)
    } else if !any_delivered && failing_too_long == Some(true) {
        Some(DisabledReason::Failing)
    } else {
        None
    };
    if let Some(reason) = disabled {
        sqlx::query(
            "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, \
                 disabled_at = now(), lease_holder = NULL, lease_expires_at = NULL, \
                 updated_at = now() \
             WHERE id = $1",
        )
        .bind(endpoint)
        .bind(reason.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(disabled.map_or(Recorded::Done, Recorded::Disabled))
}

/// Deletes attempts logged, and failed events queued, more than `retention` ago.
pub async fn prune(pool: &PgPool, retention: Duration) -> Result<u64, Error> {
    let attempts = sqlx::query(
        "DELETE FROM webhook_attempts WHERE attempted_at < now() - make_interval(secs => $1)",
    )
    .bind(retention.as_secs_f64())
    .execute(pool)
    .await?;
    let failed = sqlx::query(
        "DELETE FROM webhook_deliveries \
         WHERE status = 'failed' AND queued_at < now() - make_interval(secs => $1)",
    )
    .bind(retention.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(attempts.rows_affected() + failed.rows_affected())
}
