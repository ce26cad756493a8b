//! The change feed (`GET /api/students/changes`, as server-sent events, and its JSON twin
//! `GET /api/students/changes/poll`) and one student's history
//! (`GET /api/students/{id}/history`). Every change comes from `student_changes`, written by a
//! trigger in the writing transaction, so writes made in psql are here too.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use poem::{Body, IntoResponse, Response, web::Data};
use poem_openapi::{
    ApiResponse, Enum, Object, OpenApi,
    param::{Header, Path, Query},
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchema, Registry},
    types::{ParseError, ParseFromParameter, ParseResult, ToJSON, Type},
};
use serde::{Serialize, Serializer};
use sqlx::PgPool;
use tokio::time::Instant;

use crate::{
    api::{
        ApiTags,
        auth::{Authorized, ReadStudents},
        contract::{ErrorStatuses, Failure, statuses::*},
        json::JsonBody,
        state::State,
        students::{params::StudentId, schemas::StudentRead},
        types::{Nullable, Timestamp, inline_scalar_type},
    },
    db::{self, ChangeFeed, FeedError, FeedFilter, FeedItem, OnLag, Subscription},
    domain::{
        ChangeKind, Email, FieldChange, Grade, PageLimit, Position, RecordedChange, Scope,
        StudentName,
    },
    error::{ApiError, AuthFailure},
};

/// How often an idle stream sends a comment, so proxies and clients know it is alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The `retry:` a stream starts with: how long an `EventSource` waits before reconnecting.
pub const RECONNECT_MS: u64 = 2000;

/// How long a change stream waits before reading again after the database failed a read.
const STREAM_RETRY: Duration = Duration::from_millis(200);

/// How long a poll waits when `wait` is not given.
pub const DEFAULT_WAIT_SECS: u64 = 30;

/// The change feed and the history. Stateless: the feed and the pool come from endpoint data.
#[derive(Debug, Default, Clone, Copy)]
pub struct ChangesApi;

#[OpenApi(tag = "ApiTags::Changes")]
impl ChangesApi {
    /// Follow changes (server-sent events)
    ///
    /// Every create, update and delete of a student after a position, in order, then live, as
    /// `text/event-stream`: each event has `id:` (its position), `event:` (`created`,
    /// `updated` or `deleted`) and `data:` (a `StudentChange` as JSON). Changes made outside
    /// the API (in psql) are included, named by their database role. (Swagger UI's "Try it out"
    /// waits for the end of the answer, which a live stream never sends: try `pollChanges`
    /// there, or `curl -N`.)
    ///
    /// Where to start: `Last-Event-ID` (what a reconnecting `EventSource` sends) wins over
    /// `after`; `after=now` starts with the next change; with neither, the stream starts with
    /// the oldest change kept (`CHANGE_RETENTION`, default 7 days). A position older than that
    /// is a `410`. To resync: take the feed's position first (`pollChanges` with `after=now`
    /// and `wait=0`: its `next`), then read the students with `listStudents`, then follow from
    /// that position (changes made while you listed come again; their `version` tells).
    ///
    /// The order: each student's changes in the order they happened; a change waits until every
    /// older transaction has finished, so a transaction left open holds back the changes after
    /// it. The position comes first as an `id:` line without an event, and again with a
    /// comment every 15 s while nothing happens, so a reconnecting client resumes from where it
    /// was even before its first change. A client that reads too slowly to keep up is
    /// disconnected; it resumes from its last id. A stream outlives no token: when the one it
    /// was opened with is revoked or expires, it ends within a second (on every instance) with
    /// a comment saying why, and reconnecting with that token is a `401`.
    #[oai(
        path = "/api/students/changes",
        method = "get",
        operation_id = "streamChanges",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/real-time.md"
    )]
    #[allow(clippy::too_many_arguments)] // one per parameter, as the spec lists them
    async fn stream(
        &self,
        caller: Authorized<ReadStudents>,
        Data(state): Data<&Arc<State>>,
        /// Start after this position (an event's `id`), or `now`.
        after: Query<Option<FeedStart>>,
        /// Resume after this event's `id` (browsers' `EventSource` sends it when it
        /// reconnects); wins over `after`.
        #[oai(name = "Last-Event-ID")]
        last_event_id: Header<Option<FeedPosition>>,
        /// Only changes to students in these grades, before or after the change (a student
        /// moving out of a grade is sent too); repeat it for several.
        #[oai(validator(max_items = 11))] // one of each of GRADES
        grade: Query<Option<Vec<Grade>>>,
        /// Only changes to this student.
        #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
        student_id: Query<Option<i64>>,
    ) -> Result<ChangeStream, Failure<FeedErrors>> {
        let pool = &state.pool;
        let feed = &state.feed;
        let start = match last_event_id.0 {
            Some(FeedPosition(position)) => Some(FeedStart::After(position)),
            None => after.0,
        };
        let filter = FeedFilter {
            grades: grade.0.unwrap_or_default(),
            student_id: student_id.0,
        };
        let mut subscription = subscribe(pool, feed, start, filter, OnLag::End).await?;
        // The first read here, so a position too old is a 410 and a database away a 503,
        // not a stream that ends at once.
        let first = subscription
            .next_before(Instant::now())
            .await
            .map_err(|err| feed_error(err, feed))?;
        let ended = Box::pin(caller.ended(&state.tokens));
        Ok(ChangeStream::new(subscription, first, ended))
    }

    /// Poll for changes (JSON)
    ///
    /// The change feed for clients without server-sent events: the changes after `after`
    /// (positions as in `streamChanges`), answered as soon as there is at least one, or empty
    /// after `wait` seconds. Pass `next` as `after` to the next call: it covers every change
    /// returned or filtered out, so a loop of polls sees every change once, in order. A poll
    /// whose token is revoked or expires while it waits answers `401` at once.
    #[oai(
        path = "/api/students/changes/poll",
        method = "get",
        operation_id = "pollChanges",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/real-time.md#where-a-stream-starts-and-resuming"
    )]
    #[allow(clippy::too_many_arguments)] // one per parameter, as the spec lists them
    async fn poll(
        &self,
        caller: Authorized<ReadStudents>,
        Data(state): Data<&Arc<State>>,
        /// Start after this position (`next` from the previous answer), or `now`; without
        /// it, from the oldest change kept.
        after: Query<Option<FeedStart>>,
        /// How many seconds to wait for a change when there is none yet (0 answers at once).
        #[oai(
            default = "default_wait",
            validator(minimum(value = "0"), maximum(value = "60"))
        )]
        wait: Query<u64>,
        /// At most this many changes.
        limit: Query<Option<PageLimit>>,
        /// Only changes to students in these grades, before or after the change; repeat it
        /// for several.
        #[oai(validator(max_items = 11))] // one of each of GRADES
        grade: Query<Option<Vec<Grade>>>,
        /// Only changes to this student.
        #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
        student_id: Query<Option<i64>>,
    ) -> Result<PollResponse, Failure<FeedErrors>> {
        let pool = &state.pool;
        let feed = &state.feed;
        let filter = FeedFilter {
            grades: grade.0.unwrap_or_default(),
            student_id: student_id.0,
        };
        let limit = usize::try_from(limit.0.unwrap_or_default().get()).unwrap_or(1);
        let mut subscription = subscribe(pool, feed, after.0, filter, OnLag::ReadTable).await?;
        let deadline = Instant::now() + Duration::from_secs(wait.0);
        let mut changes = Vec::new();
        // A token revoked or expired while the poll waits answers it: 401, not changes.
        let next = tokio::select! {
            biased;
            why = caller.ended(&state.tokens) => {
                return Err(ApiError::Unauthorized { why, needed: Some(Scope::StudentsRead) }.into());
            }
            next = subscription.next_before(deadline) => next,
        };
        match next {
            Ok(Some(first)) => {
                changes.push(ChangeRead::from(&first.change));
                while changes.len() < limit
                    && let Some(item) = subscription.take_ready()
                {
                    changes.push(ChangeRead::from(&item.change));
                }
            }
            Ok(None) | Err(FeedError::Closed) => {}
            Err(err) => return Err(feed_error(err, feed).into()),
        }
        Ok(PollResponse::Ok(JsonBody(ChangePage {
            changes,
            next: FeedPosition(subscription.position()),
        })))
    }

    /// A student's history
    ///
    /// Every change to this student still kept (`CHANGE_RETENTION`), newest first: who made
    /// it (the token, or the database role for changes made in psql), when, and each field
    /// before and after. A deleted student keeps its history; a student that never existed is
    /// a `404` (as is a deleted student whose changes were all pruned). Follow `next_cursor`
    /// until it is `null` for older changes.
    #[oai(
        path = "/api/students/:id/history",
        method = "get",
        operation_id = "getStudentHistory",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/real-time.md#the-history-table"
    )]
    async fn history(
        &self,
        _caller: Authorized<ReadStudents>,
        Data(state): Data<&Arc<State>>,
        /// The student's id.
        id: Path<StudentId>,
        /// At most this many changes.
        limit: Query<Option<PageLimit>>,
        /// `next_cursor` from the previous page.
        cursor: Query<Option<FeedPosition>>,
    ) -> Result<HistoryResponse, Failure<HistoryErrors>> {
        let pool = &state.pool;
        let id = id.0.get()?;
        let limit = limit.0.unwrap_or_default().get();
        let before = cursor.0.map(|FeedPosition(position)| position);
        let page = db::history(pool, id, before, limit)
            .await?
            .ok_or(ApiError::StudentNotFound(id))?;
        let next_cursor = page
            .more
            .then(|| page.changes.last().map(|last| FeedPosition(last.position)))
            .flatten();
        Ok(HistoryResponse::Ok(JsonBody(HistoryPage {
            changes: page.changes.iter().map(ChangeRead::from).collect(),
            next_cursor: Nullable(next_cursor),
        })))
    }
}

fn default_wait() -> u64 {
    DEFAULT_WAIT_SECS
}

/// A subscription from `start`: `now` is where the table's finished changes end.
async fn subscribe(
    pool: &PgPool,
    feed: &ChangeFeed,
    start: Option<FeedStart>,
    filter: FeedFilter,
    on_lag: OnLag,
) -> Result<Subscription, ApiError> {
    // Stopping: a stream opened now would end at once; the client's retry belongs elsewhere.
    if feed.is_closed() {
        return Err(ApiError::ShuttingDown);
    }
    let from = match start {
        None => None,
        Some(FeedStart::After(position)) => Some(position),
        Some(FeedStart::Now) => Some(db::read_feed(pool, Position::START, 0).await?.through),
    };
    Ok(feed.subscribe(pool.clone(), from, filter, on_lag))
}

fn feed_error(err: FeedError, feed: &ChangeFeed) -> ApiError {
    match err {
        FeedError::Pruned => ApiError::PositionExpired {
            retention: crate::config::format_duration(feed.retention()),
        },
        FeedError::Database(err) => err.into(),
        // Neither happens before a subscription's first change; say "try again" if they do.
        FeedError::Lagged | FeedError::Closed => ApiError::NotReady,
    }
}

/// `after`: a position, or `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedStart {
    Now,
    After(Position),
}

inline_scalar_type!(
    FeedStart,
    "FeedStart",
    MetaSchema {
        max_length: Some(Position::CHARS),
        pattern: Some("^(now|[A-Za-z0-9_-]{22})$".to_owned()),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for FeedStart {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        if value == "now" {
            return Ok(FeedStart::Now);
        }
        Position::parse(value)
            .map(FeedStart::After)
            .map_err(|violation| ParseError::custom(violation.message))
    }
}

/// A position in the feed on the wire (an event's `id`, `Last-Event-ID`, `next`, a history
/// cursor): opaque; store it and send it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedPosition(pub Position);

inline_scalar_type!(
    FeedPosition,
    "FeedPosition",
    MetaSchema {
        min_length: Some(Position::CHARS),
        max_length: Some(Position::CHARS),
        pattern: Some(Position::PATTERN.to_owned()),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for FeedPosition {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Position::parse(value)
            .map(FeedPosition)
            .map_err(|violation| ParseError::custom(violation.message))
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum ChangeOp {
    Created,
    Updated,
    Deleted,
}

impl From<ChangeKind> for ChangeOp {
    fn from(kind: ChangeKind) -> Self {
        match kind {
            ChangeKind::Created => ChangeOp::Created,
            ChangeKind::Updated => ChangeOp::Updated,
            ChangeKind::Deleted => ChangeOp::Deleted,
        }
    }
}

/// Who made a change.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "ChangeActor")]
pub struct ActorRead {
    /// The API token that made it; `null` for a change made outside the API (psql).
    #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
    pub token_id: Nullable<i64>,
    /// The signed-in person's username, the API token's name, or the database role for a
    /// change made outside the API.
    #[oai(validator(max_length = 200))]
    pub name: String,
    /// The account of the signed-in person who made it; `null` for an API token or psql.
    pub account: Nullable<ActorAccount>,
}

/// The account behind a change made by a signed-in person.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ActorAccount {
    #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
    pub id: i64,
    #[oai(validator(max_length = 64))]
    pub username: String,
}

/// `name` before and after a change (`null`: none, as before a create or after a delete).
#[derive(Debug, Clone, Object, Serialize)]
pub struct NameChange {
    pub before: Nullable<StudentName>,
    pub after: Nullable<StudentName>,
}

/// `grade` before and after a change.
#[derive(Debug, Clone, Object, Serialize)]
pub struct GradeChange {
    pub before: Nullable<Grade>,
    pub after: Nullable<Grade>,
}

/// `email` before and after a change (`null`: no address).
#[derive(Debug, Clone, Object, Serialize)]
pub struct EmailChange {
    pub before: Nullable<Email>,
    pub after: Nullable<Email>,
}

/// The fields a change set, altered or removed; a field it left alone is absent.
#[derive(Debug, Clone, Object, Serialize)]
pub struct FieldChanges {
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<NameChange>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade: Option<GradeChange>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<EmailChange>,
}

/// One change to one student, as the feed sends it and the history lists it. `student` is the
/// student after the change (before it, for `deleted`); `changes` says what changed, field by
/// field: every field set, for `created`; every field the student had, for `deleted`.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "StudentChange")]
pub struct ChangeRead {
    /// Where this change is in the feed: resume after it with `after` or `Last-Event-ID`.
    pub position: FeedPosition,
    pub op: ChangeOp,
    pub student: StudentRead,
    /// The student's version after the change (before it, for `deleted`): its `ETag` is
    /// `"<version>"`.
    #[oai(validator(minimum(value = "1"), maximum(value = "2147483647")))]
    pub version: i32,
    pub changes: FieldChanges,
    pub actor: ActorRead,
    /// When the writing transaction started.
    pub changed_at: Timestamp,
    /// For a change made by `restoreStudent`: the version whose state it brought back (an
    /// `updated` change, or `created` when the student had been deleted); `null` otherwise.
    #[oai(validator(minimum(value = "1"), maximum(value = "2147483647")))]
    pub restored_from: Nullable<i32>,
}

impl poem_openapi::types::ParseFromJSON for FeedPosition {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value {
            Some(serde_json::Value::String(raw)) => Self::parse_from_parameter(&raw),
            _ => Err(ParseError::expected_type(value.unwrap_or_default())),
        }
    }
}

impl Serialize for FeedPosition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.encode())
    }
}

impl ToJSON for FeedPosition {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.encode()))
    }
}

fn field<T: Clone>(change: Option<FieldChange<T>>) -> Option<(Nullable<T>, Nullable<T>)> {
    change.map(|FieldChange { before, after }| (Nullable(before), Nullable(after)))
}

impl From<&RecordedChange> for ChangeRead {
    fn from(change: &RecordedChange) -> Self {
        let fields = change.field_changes();
        ChangeRead {
            position: FeedPosition(change.position),
            op: change.kind.into(),
            student: change.student.clone().into(),
            version: change.student.version,
            changes: FieldChanges {
                name: field(fields.name).map(|(before, after)| NameChange { before, after }),
                grade: field(fields.grade).map(|(before, after)| GradeChange { before, after }),
                email: field(fields.email).map(|(before, after)| EmailChange { before, after }),
            },
            actor: ActorRead {
                token_id: Nullable(change.actor.token_id),
                name: change.actor.name.clone(),
                account: Nullable(change.actor.account_id.map(|id| ActorAccount {
                    id,
                    username: change.actor.name.clone(),
                })),
            },
            changed_at: Timestamp(change.changed_at),
            restored_from: Nullable(change.restored_from),
        }
    }
}

/// An id-only block and a comment: the client's position, and a sign the stream is alive.
fn keep_alive(subscription: &Subscription) -> Bytes {
    Bytes::from(format!(
        "id: {}\n: keep-alive\n\n",
        subscription.position().encode()
    ))
}

/// A change as JSON (`StudentChange`), as the stream's events and webhook deliveries carry it.
pub fn change_json(change: &RecordedChange) -> Bytes {
    // Our own types always serialize.
    Bytes::from(serde_json::to_vec(&ChangeRead::from(change)).unwrap_or_default())
}

/// A feed item's [`change_json`], encoded once however many subscribers send it.
pub fn shared_json(item: &FeedItem) -> Bytes {
    item.json.get_or_init(|| change_json(&item.change)).clone()
}

/// One event as the stream sends it, encoded once however many subscribers send it.
fn event_bytes(item: &FeedItem) -> Bytes {
    item.encoded
        .get_or_init(|| {
            let data = shared_json(item);
            let mut event = format!(
                "id: {}\nevent: {}\ndata: ",
                item.change.position.encode(),
                item.change.kind.as_str(),
            )
            .into_bytes();
            event.extend_from_slice(&data);
            event.extend_from_slice(b"\n\n");
            Bytes::from(event)
        })
        .clone()
}

/// Resolves when the stream's token may no longer be used.
type CredentialEnd = std::pin::Pin<Box<dyn Future<Output = AuthFailure> + Send>>;

/// `streamChanges`' answer: the events, then live, with keep-alive comments; it ends with a
/// comment saying why when its token is revoked or expires.
pub struct ChangeStream {
    body: Body,
}

impl ChangeStream {
    fn new(subscription: Subscription, first: Option<Arc<FeedItem>>, ended: CredentialEnd) -> Self {
        // Before any event, and with every keep-alive, the position as an id-only block: it
        // sets the client's Last-Event-ID without an event, so a client that started from `now`
        // (or filters out most changes) reconnects from where it was, not from a new `now`.
        let start = match first {
            Some(_) => format!("retry: {RECONNECT_MS}\n\n"),
            None => format!(
                "retry: {RECONNECT_MS}\nid: {}\n\n",
                subscription.position().encode()
            ),
        };
        let opening = futures_util::stream::iter(
            std::iter::once(Bytes::from(start)).chain(first.as_deref().map(event_bytes)),
        );
        let rest = futures_util::stream::unfold(Some((subscription, ended)), |state| async move {
            let (mut subscription, mut ended) = state?;
            let deadline = Instant::now() + KEEP_ALIVE;
            let chunk = loop {
                let next = tokio::select! {
                    biased;
                    why = &mut ended => {
                        // A comment: every client skips it; its reconnection then gets the 401.
                        let last = format!(": {}; the stream ends\n\n", why.explain());
                        return Some((Bytes::from(last), None));
                    }
                    next = subscription.next_before(deadline) => next,
                };
                match next {
                    Ok(Some(item)) => break event_bytes(&item),
                    Ok(None) => break keep_alive(&subscription),
                    // The database restarting costs the stream latency, never its end: a failed
                    // read changed nothing in the subscription, so it is tried again.
                    Err(FeedError::Database(err)) => {
                        tracing::debug!(error = %err, "a change stream waits for the database");
                        if Instant::now() >= deadline {
                            break keep_alive(&subscription);
                        }
                        tokio::time::sleep(STREAM_RETRY.min(deadline - Instant::now())).await;
                    }
                    // Lagged, pruned or closed (shutdown): end the stream; the client resumes
                    // from its last event's id.
                    Err(err) => {
                        tracing::debug!(error = %err, "ending a change stream");
                        return None;
                    }
                }
            };
            Some((chunk, Some((subscription, ended))))
        });
        let stream = futures_util::StreamExt::map(
            futures_util::StreamExt::chain(opening, rest),
            Ok::<_, std::io::Error>,
        );
        Self {
            body: Body::from_bytes_stream(stream),
        }
    }
}

impl std::fmt::Debug for ChangeStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangeStream")
    }
}

impl IntoResponse for ChangeStream {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type("text/event-stream")
            .header("Cache-Control", "no-store")
            // Tells nginx not to buffer the stream.
            .header("X-Accel-Buffering", "no")
            .body(self.body)
    }
}

impl ApiResponse for ChangeStream {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The changes as server-sent events (`id:` the position, `event:` \
                              the op, `data:` a `StudentChange`), then live, with a comment \
                              every 15 s while idle.",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: "text/event-stream",
                    schema: poem_openapi::registry::MetaSchemaRef::Inline(Box::new(MetaSchema {
                        items: Some(Box::new(ChangeRead::schema_ref())),
                        max_items: None,
                        ..MetaSchema::new_with_format("array", "event-stream")
                    })),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        ChangeRead::register(registry);
    }
}

/// Changes after a position, and where to continue.
#[derive(Debug, Clone, Object, Serialize)]
pub struct ChangePage {
    #[oai(validator(max_items = 100))] // PageLimit::MAX
    pub changes: Vec<ChangeRead>,
    /// Pass as `after` to the next poll.
    pub next: FeedPosition,
}

/// One student's changes, newest first. Their positions page the history (`cursor`); to follow
/// the feed, start from a position the feed gave (an event's id, a poll's `next`): a history can
/// show a change whose older neighbours in the feed are still being written.
#[derive(Debug, Clone, Object, Serialize)]
pub struct HistoryPage {
    #[oai(validator(max_items = 100))] // PageLimit::MAX
    pub changes: Vec<ChangeRead>,
    /// Pass as `cursor` for older changes; `null` on the last page.
    pub next_cursor: Nullable<FeedPosition>,
}

#[derive(Debug, ApiResponse)]
pub enum PollResponse {
    /// The changes after `after` (none if none came within `wait`), and `next`.
    #[oai(status = 200)]
    Ok(JsonBody<ChangePage>),
}

#[derive(Debug, ApiResponse)]
pub enum HistoryResponse {
    /// The student's changes, newest first.
    #[oai(status = 200)]
    Ok(JsonBody<HistoryPage>),
}

/// `streamChanges`, `pollChanges`: a bad parameter, a position too old, the database.
#[derive(Debug)]
pub struct FeedErrors;
impl ErrorStatuses for FeedErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[GONE, INVALID, INTERNAL, UNAVAILABLE];
}

/// `getStudentHistory`: not a student, a bad parameter, the database.
#[derive(Debug)]
pub struct HistoryErrors;
impl ErrorStatuses for HistoryErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[NOT_FOUND, INVALID, INTERNAL, UNAVAILABLE];
}
