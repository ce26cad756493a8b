//! Delivers the change feed to webhook endpoints: at least once, in order per student, by one
//! instance per endpoint.
//!
//! Each instance runs a [`Dispatcher`]. It leases endpoints (`webhook_endpoints.lease_*`, 15 s,
//! renewed every 5 s; an instance killed mid-delivery loses its leases when they run out, and
//! another instance, or itself restarted, takes over from the stored position) and runs one
//! worker per endpoint it holds. A worker follows the change feed from the endpoint's position
//! and works in rounds: the events due for another attempt, and the new changes, are sent (a
//! student's events one after another, up to [`PARALLEL`] students at once); then one
//! transaction records every attempt, what waits, and the position reached. A crash between a
//! send and its record is the one way to a duplicate: the round is sent again.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use chrono::Utc;
use futures_util::StreamExt;
use sqlx::PgPool;
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    api::changes,
    db::{
        ChangeFeed, FeedError, FeedFilter, FeedItem, OnLag,
        webhooks::{
            self as store, DeliveryState, EndpointRecord, NewAttempt, Outcome, Recorded, Round,
            Waiting,
        },
    },
    domain::{EventType, FAILING_DISABLES_AFTER, Position, RecordedChange, retry_delay},
    load::Busy,
    sender::{Message, Sender},
    telemetry,
};

/// How long an instance's hold on an endpoint lasts without renewal.
pub const LEASE: Duration = Duration::from_secs(15);
/// How often the leases held are renewed.
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How often an instance looks for endpoints nobody delivers to (new, re-enabled, or left by
/// an instance that stopped).
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// Students whose events are sent at once, per endpoint.
pub const PARALLEL: usize = 16;
/// Events per round, at most.
const ROUND_EVENTS: usize = 200;
/// A round starts no new attempt after this long: the rest waits for the next round, so a
/// slow receiver cannot hold a round (and its record) for long.
const ROUND_BUDGET: Duration = Duration::from_secs(10);
/// How long a round waits for new changes before it looks at the endpoint again.
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// How long a round waits after its first new change for more to send with it.
const GATHER: Duration = Duration::from_millis(10);
/// How often a worker reads its endpoint again (a new URL, secret or filter applies within
/// this) and looks for events queued by others (replays).
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// What every worker of this instance shares.
#[derive(Debug)]
struct Context {
    pool: PgPool,
    /// Whether the service is busy serving requests: then the deliveries make way.
    busy: Busy,
    feed: ChangeFeed,
    sender: Sender,
    /// The waits between attempts (`WEBHOOK_RETRY_DELAYS`).
    schedule: Vec<Duration>,
    /// This instance, as leases name it.
    me: uuid::Uuid,
}

/// The nice value of the deliveries' thread: under load, requests get the cores first.
const NICE: i32 = 10;

/// Connections of the deliveries' own pool.
const POOL_SIZE: u32 = 4;

/// While the service is [`Busy`], a round sends at most this many events and then pauses
/// [`BUSY_PAUSE`]: deliveries fall behind during the burst (10 events a second per endpoint
/// still go) and catch up after it, at full speed. Sending is what costs the writes: at ~300
/// deliveries a second during saturated POST runs, the writes ran at 0.80× of none; at ~10–50
/// a second, 0.94× (docs/performance.md, "Webhooks").
const BUSY_EVENTS: usize = 10;
const BUSY_PAUSE: Duration = Duration::from_secs(1);

/// Starts this instance's deliveries on a thread of their own, with a runtime, a connection
/// pool (made from `direct`'s settings) and an HTTP client of their own (`sender`'s rules), at
/// a lower CPU priority (nice 10), so that at a write
/// rate the machine can barely serve, the writes get the cores first (with 5 endpoints at full
/// speed, POST throughput fell to 0.51× in the debug smoke run; see docs/performance.md).
/// Returns when `stop` turns true and the deliveries have finished their rounds.
pub fn spawn(
    direct: &PgPool,
    busy: Busy,
    feed: ChangeFeed,
    sender: &Sender,
    schedule: Vec<Duration>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    // Direct connections to the primary, as the feed's hub has (`DATABASE_LISTEN_URL` behind
    // a transaction pooler): a round's transaction and its queries need no pooler's care.
    let options = (*direct.connect_options()).clone();
    let sender = sender.clone();
    std::thread::Builder::new()
        .name("webhooks".into())
        .spawn(move || {
            lower_priority();
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(err) => {
                    return tracing::error!(error = %err, "cannot start the webhook deliveries");
                }
            };
            runtime.block_on(async move {
                let pool = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(POOL_SIZE)
                    .connect_lazy_with(options);
                let sender = match sender.another() {
                    Ok(sender) => sender,
                    Err(err) => {
                        return tracing::error!(error = %err, "cannot make the webhook client");
                    }
                };
                Dispatcher::new(pool.clone(), busy, feed, sender, schedule)
                    .run(stop)
                    .await;
                pool.close().await;
            });
        })
}

/// This thread at [`NICE`] (Linux sets a nice value per thread).
#[allow(unsafe_code)] // two libc calls on plain integers; no safe wrapper is in our dependencies
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid takes nothing; setpriority takes integers (this thread's id).
        let done = unsafe {
            let thread = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, thread as libc::id_t, NICE)
        };
        if done != 0 {
            tracing::debug!("cannot lower the webhook thread's priority");
        }
    }
}

/// Delivers to the endpoints this instance holds.
#[derive(Debug)]
pub struct Dispatcher {
    context: Arc<Context>,
}

impl Dispatcher {
    pub fn new(
        pool: PgPool,
        busy: Busy,
        feed: ChangeFeed,
        sender: Sender,
        schedule: Vec<Duration>,
    ) -> Self {
        Self {
            context: Arc::new(Context {
                pool,
                busy,
                feed,
                sender,
                schedule,
                me: uuid::Uuid::new_v4(),
            }),
        }
    }

    /// Runs until `stop` turns true: then lets each worker finish its round (up to a few
    /// seconds) and gives the leases back, so another instance takes over at once.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let context = self.context;
        let mut workers: HashMap<i64, (JoinHandle<()>, watch::Sender<bool>)> = HashMap::new();
        let mut last_renewal = Instant::now();
        loop {
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => break,
                () = tokio::time::sleep(LOOK_EVERY) => {}
            }
            workers.retain(|_, (handle, _)| !handle.is_finished());
            if last_renewal.elapsed() >= RENEW_EVERY && !workers.is_empty() {
                last_renewal = Instant::now();
                let ids: Vec<i64> = workers.keys().copied().collect();
                match store::renew(&context.pool, &ids, context.me, LEASE).await {
                    Ok(held) => {
                        let held: HashSet<i64> = held.into_iter().collect();
                        workers.retain(|id, (handle, _)| {
                            let keep = held.contains(id);
                            if !keep {
                                // Disabled, deleted or taken over: its round would not record.
                                handle.abort();
                            }
                            keep
                        });
                    }
                    Err(err) => tracing::warn!(error = %err, "cannot renew webhook leases"),
                }
            }
            let claimable = match store::claimable(&context.pool, context.me).await {
                Ok(ids) => ids,
                Err(err) => {
                    tracing::debug!(error = %err, "cannot look for webhook endpoints");
                    continue;
                }
            };
            for id in claimable {
                if workers.contains_key(&id) {
                    continue;
                }
                match store::claim(&context.pool, id, context.me, LEASE).await {
                    Ok(Some(endpoint)) => {
                        let (stopping, stopped) = watch::channel(false);
                        let worker = tokio::spawn(work(context.clone(), endpoint, stopped));
                        workers.insert(id, (worker, stopping));
                    }
                    Ok(None) => {}
                    Err(err) => tracing::debug!(error = %err, endpoint = id, "cannot claim"),
                }
            }
        }
        let ids: Vec<i64> = workers.keys().copied().collect();
        for (_, stopping) in workers.values() {
            let _ = stopping.send(true);
        }
        let finishing = futures_util::future::join_all(workers.into_values().map(|(h, _)| h));
        let _ = tokio::time::timeout(Duration::from_secs(5), finishing).await;
        if let Err(err) = store::release(&context.pool, &ids, context.me).await {
            tracing::warn!(error = %err, "cannot give back webhook leases; they run out in 15 s");
        }
    }
}

/// One endpoint's worker: rounds until it stops (told to, or the endpoint is disabled,
/// deleted or taken by another instance) or the database fails (the dispatcher claims the
/// endpoint again and resumes from the stored position).
async fn work(context: Arc<Context>, endpoint: EndpointRecord, stop: watch::Receiver<bool>) {
    let id = endpoint.id;
    tracing::info!(endpoint = id, url = %endpoint.url, "delivering webhooks");
    match rounds(&context, endpoint, stop).await {
        Ok(()) => tracing::info!(endpoint = id, "stopped delivering webhooks"),
        Err(err) => tracing::warn!(endpoint = id, error = %err, "webhook deliveries interrupted"),
    }
}

async fn rounds(
    context: &Context,
    endpoint: EndpointRecord,
    stop: watch::Receiver<bool>,
) -> Result<(), crate::db::Error> {
    let id = endpoint.id;
    let follow = |from: Option<Position>, endpoint: &EndpointRecord| {
        let filter = FeedFilter {
            grades: endpoint.grades.clone(),
            student_id: None,
        };
        context
            .feed
            .subscribe(context.pool.clone(), from, filter, OnLag::ReadTable)
    };
    let mut subscription = follow(Some(endpoint.position), &endpoint);
    let mut grades = endpoint.grades.clone();
    let mut recorded = endpoint.position;
    let mut endpoint = endpoint;
    // What waits is looked at when something may (this worker queued it, or the last look is a
    // second old: a replay adds rows too), and the endpoint read again once a second: on a busy
    // endpoint with nothing waiting a round costs its sends and one transaction, not five
    // queries more (with 5 endpoints the extra queries cost writes a tenth of their rate).
    let mut may_wait = true;
    let mut looked = Instant::now();
    let mut refreshed = Instant::now();
    loop {
        if *stop.borrow() {
            return Ok(());
        }
        let look = may_wait || looked.elapsed() >= REFRESH_EVERY;
        if refreshed.elapsed() >= REFRESH_EVERY {
            refreshed = Instant::now();
            // Its URL, secrets and filters (a grade filter changed applies from the next round).
            let Some(current) = store::held_endpoint(&context.pool, id, context.me).await? else {
                return Ok(());
            };
            endpoint = current;
            if endpoint.grades != grades {
                grades = endpoint.grades.clone();
                let position = subscription.position();
                subscription = follow(Some(position), &endpoint);
            }
        }
        if look {
            looked = Instant::now();
            may_wait = store::anything_waiting(&context.pool, id).await?;
        }
        let due = if may_wait {
            store::due(
                &context.pool,
                id,
                i64::try_from(ROUND_EVENTS).unwrap_or(200),
            )
            .await?
        } else {
            Vec::new()
        };
        let wait = if due.is_empty() {
            IDLE_WAIT
        } else {
            Duration::ZERO
        };
        let mut fresh: Vec<Arc<FeedItem>> = Vec::new();
        let mut stopping = stop.clone();
        let next = tokio::select! {
            next = subscription.next_before(tokio::time::Instant::now() + wait) => next,
            _ = stopping.wait_for(|stop| *stop) => return Ok(()),
        };
        match next {
            Ok(Some(item)) => fresh.push(item),
            Ok(None) => {}
            Err(FeedError::Pruned) => {
                tracing::warn!(
                    endpoint = id,
                    "the endpoint was behind the changes kept (CHANGE_RETENTION): it resumes \
                     from the oldest kept; what was pruned was not delivered"
                );
                metrics::counter!(telemetry::WEBHOOK_MISSED).increment(1);
                subscription = follow(None, &endpoint);
                continue;
            }
            Err(FeedError::Closed) => return Ok(()),
            Err(FeedError::Lagged) => continue,
            Err(FeedError::Database(err)) => return Err(err),
        }
        // Changes come a few at a time under load: a round gathers what arrives within
        // GATHER of its first, so its sends share one transaction's record.
        let busy = context.busy.now();
        let most = if busy { BUSY_EVENTS } else { ROUND_EVENTS };
        if !fresh.is_empty() {
            let until = tokio::time::Instant::now() + GATHER;
            while fresh.len() < most {
                if let Some(item) = subscription.take_ready() {
                    fresh.push(item);
                    continue;
                }
                match subscription.next_before(until).await {
                    Ok(Some(item)) => fresh.push(item),
                    Ok(None) => break,
                    // The round sends what it has; the next round's wait meets the error
                    // again (the subscription's position has not moved) and handles it there.
                    Err(err) => {
                        tracing::debug!(endpoint = id, error = %err, "gathering stopped");
                        break;
                    }
                }
            }
        }
        let position = subscription.position();
        if due.is_empty() && fresh.is_empty() && position == recorded {
            continue;
        }
        fresh.retain(|item| endpoint.wants(EventType::of(item.change.kind)));
        let round = deliver(context, &endpoint, due, fresh, position, may_wait).await?;
        may_wait = may_wait || !round.waiting.is_empty();
        recorded = position;
        match store::record(
            &context.pool,
            id,
            context.me,
            &round,
            FAILING_DISABLES_AFTER,
        )
        .await?
        {
            Recorded::Done => {}
            Recorded::LostLease => {
                tracing::warn!(endpoint = id, "another instance took over this endpoint");
                return Ok(());
            }
            Recorded::Disabled(reason) => {
                tracing::warn!(
                    endpoint = id,
                    url = %endpoint.url,
                    reason = reason.as_str(),
                    "disabled a webhook endpoint"
                );
                metrics::counter!(telemetry::WEBHOOK_DISABLED, "reason" => reason.as_str())
                    .increment(1);
                return Ok(());
            }
        }
        if busy {
            let mut stopping = stop.clone();
            tokio::select! {
                () = tokio::time::sleep(BUSY_PAUSE) => {}
                _ = stopping.wait_for(|stop| *stop) => {}
            }
        }
    }
}

/// An event to attempt in a round.
#[derive(Debug)]
enum Job {
    /// It waits in `webhook_deliveries` (a retry, a replay, or behind a retry).
    Waiting(Box<Waiting>),
    /// New from the feed.
    Fresh(Arc<FeedItem>),
}

impl Job {
    fn position(&self) -> Position {
        match self {
            Job::Waiting(waiting) => waiting.position,
            Job::Fresh(item) => item.position(),
        }
    }

    fn student_id(&self) -> i64 {
        match self {
            Job::Waiting(waiting) => waiting.student_id,
            Job::Fresh(item) => item.change.student.id,
        }
    }

    fn attempts(&self) -> i32 {
        match self {
            Job::Waiting(waiting) => waiting.attempts,
            Job::Fresh(_) => 0,
        }
    }

    fn change(&self) -> Option<&RecordedChange> {
        match self {
            Job::Waiting(waiting) => waiting.change.as_ref(),
            Job::Fresh(item) => Some(&item.change),
        }
    }

    /// The delivery's body: the feed's `StudentChange`, as the stream sends it. A new change's
    /// is encoded once for every endpoint (and stream) that sends it.
    fn body(&self, change: &RecordedChange) -> Bytes {
        match self {
            Job::Waiting(_) => changes::change_json(change),
            Job::Fresh(item) => changes::shared_json(item),
        }
    }

    /// Left for a later round, unattempted.
    fn left(&self) -> Option<DeliveryState> {
        match self {
            // Its row stays as it is.
            Job::Waiting(_) => None,
            Job::Fresh(_) => Some(DeliveryState {
                position: self.position(),
                student_id: self.student_id(),
                next_attempt_at: Some(Utc::now()),
                attempts: 0,
            }),
        }
    }
}

/// One round: the due events and the new ones, each student's in order, students in parallel.
async fn deliver(
    context: &Context,
    endpoint: &EndpointRecord,
    due: Vec<Waiting>,
    fresh: Vec<Arc<FeedItem>>,
    position: Position,
    may_wait: bool,
) -> Result<Round, crate::db::Error> {
    let mut round = Round {
        position,
        ..Round::default()
    };
    // A student with an event waiting: their new events queue behind it.
    let fresh_students: Vec<i64> = fresh
        .iter()
        .map(|item| item.change.student.id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut behind: HashSet<i64> = if may_wait {
        store::students_waiting(&context.pool, endpoint.id, &fresh_students)
            .await?
            .into_iter()
            .collect()
    } else {
        HashSet::new()
    };
    behind.extend(due.iter().map(|waiting| waiting.student_id));
    let mut groups: Vec<Vec<Job>> = Vec::new();
    let mut group_of: HashMap<i64, usize> = HashMap::new();
    let mut add = |job: Job| {
        let at = *group_of.entry(job.student_id()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[at].push(job);
    };
    for waiting in due {
        add(Job::Waiting(Box::new(waiting)));
    }
    for item in fresh {
        let job = Job::Fresh(item);
        if behind.contains(&job.student_id()) {
            round.waiting.extend(job.left());
        } else {
            add(job);
        }
    }
    let started = Instant::now();
    let gone = AtomicBool::new(false);
    let now = Utc::now();
    let secrets = endpoint.signing_secrets(now);
    let results: Vec<GroupResult> = futures_util::stream::iter(groups)
        .map(|group| send_group(context, endpoint, &secrets, group, started, &gone))
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    for result in results {
        round.attempts.extend(result.attempts);
        round.delivered.extend(result.delivered);
        round.waiting.extend(result.waiting);
    }
    round.gone = gone.load(Ordering::Relaxed);
    Ok(round)
}

#[derive(Debug, Default)]
struct GroupResult {
    attempts: Vec<NewAttempt>,
    delivered: Vec<Position>,
    waiting: Vec<DeliveryState>,
}

/// One student's events, in order, until one fails (the rest wait behind it).
async fn send_group(
    context: &Context,
    endpoint: &EndpointRecord,
    secrets: &[&crate::domain::WebhookSecret],
    group: Vec<Job>,
    started: Instant,
    gone: &AtomicBool,
) -> GroupResult {
    let mut result = GroupResult::default();
    let mut blocked = false;
    for job in group {
        if blocked || gone.load(Ordering::Relaxed) || started.elapsed() >= ROUND_BUDGET {
            result.waiting.extend(job.left());
            continue;
        }
        let Some(change) = job.change() else {
            // Pruned while it waited (CHANGE_RETENTION shorter than the retries).
            result.waiting.push(DeliveryState {
                position: job.position(),
                student_id: job.student_id(),
                next_attempt_at: None,
                attempts: job.attempts(),
            });
            continue;
        };
        let message = Message {
            id: change.position.encode(),
            body: job.body(change),
        };
        let sent = context
            .sender
            .send(&endpoint.url, secrets, &message, crate::sender::TIMEOUT)
            .await;
        let attempts = job.attempts().saturating_add(1);
        let event_type = EventType::of(change.kind).as_str();
        metrics::histogram!(telemetry::WEBHOOK_ATTEMPT_DURATION).record(sent.latency.as_secs_f64());
        let outcome = if sent.delivered() {
            let lag = (Utc::now() - change.changed_at)
                .to_std()
                .unwrap_or_default();
            metrics::histogram!(telemetry::WEBHOOK_LAG).record(lag.as_secs_f64());
            if let Job::Waiting(_) = job {
                result.delivered.push(job.position());
            }
            Outcome::Delivered
        } else {
            blocked = true;
            let next = if sent.gone() {
                gone.store(true, Ordering::Relaxed);
                // Waits for the endpoint to be re-enabled.
                Some(Utc::now())
            } else {
                retry_delay(
                    &context.schedule,
                    u32::try_from(attempts).unwrap_or(u32::MAX),
                    jitter(),
                    sent.retry_after,
                )
                .and_then(|wait| chrono::TimeDelta::from_std(wait).ok())
                .map(|wait| Utc::now() + wait)
            };
            result.waiting.push(DeliveryState {
                position: job.position(),
                student_id: job.student_id(),
                next_attempt_at: next,
                attempts,
            });
            if next.is_some() {
                Outcome::Retrying
            } else {
                Outcome::Failed
            }
        };
        metrics::counter!(telemetry::WEBHOOK_ATTEMPTS, "outcome" => outcome.as_str()).increment(1);
        result.attempts.push(NewAttempt::from_outcome(
            message.id,
            event_type,
            Some(job.student_id()),
            attempts,
            &sent,
            outcome,
        ));
    }
    result
}

/// A number in [0, 1) for spreading retries.
fn jitter() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}
