//! The change feed inside one instance: one reader of `student_changes` (the hub) shares what it
//! reads with every subscriber, so a thousand subscribers cost one query per wake-up, not a
//! thousand.
//!
//! The rows are the truth; wake-ups only say "look now". They come from this instance's own
//! writes (at once), from other instances' writes (a `NOTIFY` the writing instance sends after
//! its commit, at most one per [`ANNOUNCE_EVERY`]: a NOTIFY inside the writing transaction would
//! serialise every commit on the notification queue's lock), and from a poll every
//! [`POLL_INTERVAL`] for writes nobody announces (psql) and announcements lost with a dropped
//! connection. A lost wake-up costs latency, never a change: each subscriber holds a position and
//! reads the table itself whenever what the hub shares does not follow on from it.

use std::{
    collections::VecDeque,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use sqlx::PgPool;
use tokio::sync::{Notify, broadcast, watch};

use super::{Error, read_feed};
use crate::{
    domain::{Grade, Position, RecordedChange},
    load::Busy,
};

/// The channel instances announce their writes on (payload: the announcing instance).
pub const CHANGES_CHANNEL: &str = "student_changes";

/// How often the hub looks for changes nobody announced (a write in psql).
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// The least time between two announcements of this instance's writes.
pub const ANNOUNCE_EVERY: Duration = Duration::from_millis(10);

/// Rows per read of the hub.
pub const PAGE: i64 = 500;

/// Rows per read of a subscriber catching up from the table: what it holds of its own, at most
/// (a thousand subscribers reconnecting at once must not each hold a big page).
const CATCH_UP_PAGE: i64 = 100;

/// Batches the hub keeps for subscribers that have not taken them yet (at most `PAGE` changes
/// each, shared by every subscriber). A subscriber further behind has lagged: a stream is
/// closed (its client resumes from its last id), a long poll reads the table instead. This
/// bounds the feed's memory whatever the subscribers do.
const BACKLOG: usize = 64;

/// One recorded change as the feed shares it: encoded once, by whichever subscriber sends it
/// first, however many send it.
#[derive(Debug)]
pub struct FeedItem {
    pub change: RecordedChange,
    /// The change as JSON (`StudentChange`): a webhook delivery's body.
    pub json: OnceLock<bytes::Bytes>,
    /// The change as a server-sent event.
    pub encoded: OnceLock<bytes::Bytes>,
}

impl FeedItem {
    fn new(change: RecordedChange) -> Arc<Self> {
        Arc::new(Self {
            change,
            json: OnceLock::new(),
            encoded: OnceLock::new(),
        })
    }

    pub fn position(&self) -> Position {
        self.change.position
    }
}

/// What one read of the hub found: every change in `(after, through]`.
#[derive(Debug)]
struct Batch {
    after: Position,
    through: Position,
    items: Vec<Arc<FeedItem>>,
}

/// Which changes a subscriber wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedFilter {
    /// Changes to students in any of these grades, before or after the change (none: all).
    pub grades: Vec<Grade>,
    pub student_id: Option<i64>,
}

impl FeedFilter {
    fn accepts(&self, change: &RecordedChange) -> bool {
        self.student_id.is_none_or(|id| change.student.id == id)
            && (self.grades.is_empty()
                || self.grades.iter().any(|grade| change.touches_grade(*grade)))
    }
}

/// The feed of one instance. Clones share it.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    batches: broadcast::Sender<Arc<Batch>>,
    /// This instance wrote: read now.
    wake: Notify,
    /// This instance wrote: tell the others.
    announce: Notify,
    closed: watch::Sender<bool>,
    subscribers: AtomicUsize,
    instance: String,
    retention: Duration,
}

impl ChangeFeed {
    /// A feed whose changes are kept for `retention` (`CHANGE_RETENTION`).
    pub fn new(retention: Duration) -> Self {
        Self::with_backlog(retention, BACKLOG)
    }

    /// A feed that keeps `backlog` batches for slow subscribers (tests use a small one).
    pub fn with_backlog(retention: Duration, backlog: usize) -> Self {
        let (batches, _) = broadcast::channel(backlog.max(1));
        let (closed, _) = watch::channel(false);
        Self {
            inner: Arc::new(Inner {
                batches,
                wake: Notify::new(),
                announce: Notify::new(),
                closed,
                subscribers: AtomicUsize::new(0),
                instance: uuid::Uuid::new_v4().to_string(),
                retention,
            }),
        }
    }

    /// How long changes are kept: a position older than this may be gone.
    pub fn retention(&self) -> Duration {
        self.inner.retention
    }
}

/// Why a subscription ended.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The position is older than the retention: changes after it were pruned.
    #[error("the changes after this position were pruned")]
    Pruned,
    /// The subscriber fell more than the backlog behind.
    #[error("the subscriber fell too far behind")]
    Lagged,
    /// The service is shutting down.
    #[error("the feed is closed")]
    Closed,
    #[error(transparent)]
    Database(#[from] Error),
}

/// What a subscription does when it falls behind the backlog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnLag {
    /// End with [`FeedError::Lagged`]: a stream whose client reads too slowly.
    End,
    /// Read what it missed from the table.
    ReadTable,
}

impl ChangeFeed {
    /// This instance has written a student: read now, and tell the other instances. With nobody
    /// subscribed the hub reads nothing, so it is left asleep (a wake-up per create cost 2–3%
    /// of a create's CPU); a subscriber wakes it when it goes live.
    pub fn written(&self) {
        if self.inner.batches.receiver_count() > 0 {
            self.inner.wake.notify_one();
        }
        self.inner.announce.notify_one();
    }

    /// Ends every subscription and the hub (shutdown: open streams must not hold it up).
    pub fn close(&self) {
        self.inner.closed.send_replace(true);
    }

    /// Whether [`Self::close`] was called: the instance is stopping.
    pub fn is_closed(&self) -> bool {
        *self.inner.closed.borrow()
    }

    pub fn subscribers(&self) -> usize {
        self.inner.subscribers.load(Ordering::Relaxed)
    }

    /// Follows the changes after `from` (`None`: the oldest kept) that pass `filter`, reading
    /// the table with `pool` until it has caught up with the hub.
    pub fn subscribe(
        &self,
        pool: PgPool,
        from: Option<Position>,
        filter: FeedFilter,
        on_lag: OnLag,
    ) -> Subscription {
        self.inner.subscribers.fetch_add(1, Ordering::Relaxed);
        Subscription {
            feed: self.clone(),
            pool,
            position: from.unwrap_or(Position::START),
            from_oldest: from.is_none(),
            filter,
            on_lag,
            live: None,
            caught_up: false,
            ready: VecDeque::new(),
            read_through: Position::START,
            closed: self.inner.closed.subscribe(),
        }
    }

    /// Runs the hub until [`Self::close`]: reads new changes when woken and shares them. It
    /// works on a pool of its own, made from `pool`'s settings: one connection holds the
    /// LISTEN, the other reads and announces, so a busy request pool cannot delay the feed.
    /// While the service is `busy`, it reads less often (see [`BUSY_READ_GAP`]).
    pub async fn run(self, direct: super::ListenPool, busy: Busy) {
        let own = super::follower_pool(&direct);
        let announcer = tokio::spawn(self.clone().announce(own.clone()));
        let mut closed = self.inner.closed.subscribe();
        tokio::select! {
            () = self.follow(&own, &busy) => {}
            _ = closed.wait_for(|closed| *closed) => {}
        }
        announcer.abort();
        own.close().await;
    }

    /// Sends `NOTIFY student_changes` after this instance's writes, at most once per
    /// [`ANNOUNCE_EVERY`]: wake-ups that arrive meanwhile are one.
    async fn announce(self, own: PgPool) {
        loop {
            self.inner.announce.notified().await;
            if let Err(err) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANGES_CHANNEL)
                .bind(&self.inner.instance)
                .execute(&own)
                .await
            {
                // The others' poll finds the change a little later.
                tracing::debug!(error = %err, "cannot announce a change");
            }
            tokio::time::sleep(ANNOUNCE_EVERY).await;
        }
    }

    async fn follow(&self, own: &PgPool, busy: &Busy) {
        // Where the shared batches have got to; `None` until the first read.
        let mut tail: Option<Position> = None;
        loop {
            let mut listener = super::listen(own, CHANGES_CHANNEL).await;
            let mut wait = Duration::ZERO;
            let mut held_retry = HELD_BACK_RETRY;
            let now = tokio::time::Instant::now();
            let mut last_read = now.checked_sub(READ_GAP).unwrap_or(now);
            loop {
                tokio::select! {
                    received = listener.try_recv() => match received {
                        // From this instance: it woke us already.
                        Ok(Some(note)) if note.payload() == self.inner.instance => continue,
                        // Another instance wrote, or the connection was lost and is back
                        // (`None`: what was announced meanwhile is gone): read.
                        Ok(_) => {}
                        Err(err) => {
                            tracing::warn!(error = %err, "lost the student-changes listener; reconnecting");
                            break;
                        }
                    },
                    () = self.inner.wake.notified() => {}
                    () = tokio::time::sleep(wait) => {}
                }
                // Under a stream of writes, one read per gap at most: each read is a query
                // (with the horizon's look at pg_stat_activity), and read per write they cost
                // PostgreSQL as much as the writes did. A lone write is read at once.
                let gap = if busy.now() { BUSY_READ_GAP } else { READ_GAP };
                tokio::time::sleep_until(last_read + gap).await;
                last_read = tokio::time::Instant::now();
                wait = match self.read_new(own, &mut tail).await {
                    // Doubling: a transaction left open in psql must not make us spin.
                    Ok(true) => {
                        let retry = held_retry;
                        held_retry = (held_retry * 2).min(POLL_INTERVAL);
                        retry
                    }
                    Ok(false) => {
                        held_retry = HELD_BACK_RETRY;
                        POLL_INTERVAL
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot read student changes; retrying");
                        Duration::from_secs(1)
                    }
                };
            }
        }
    }

    /// Reads and shares every change after `tail`; says whether committed changes wait behind
    /// an unfinished older transaction (then it is worth reading again soon). With nobody
    /// subscribed it reads nothing: a subscriber reads the table up to the hub itself.
    async fn read_new(&self, own: &PgPool, tail: &mut Option<Position>) -> Result<bool, Error> {
        if self.inner.batches.receiver_count() == 0 {
            *tail = None;
            return Ok(false);
        }
        let Some(mut after) = *tail else {
            // The first read starts where the table's finished part ends. An empty batch says
            // so at once: a subscriber behind it reads the gap from the table now, rather than
            // when the next change comes.
            let start = read_feed(own, Position::START, 0).await?.through;
            self.share(start, start, Vec::new());
            *tail = Some(start);
            return Ok(false);
        };
        loop {
            let read = read_feed(own, after, PAGE).await?;
            if read.pruned > after {
                // Pruned past the hub (a hub stopped for longer than the retention): jump, and
                // let subscribers behind the mark find out from the table (410).
                self.share(read.pruned, read.pruned, Vec::new());
                after = read.pruned;
                *tail = Some(after);
                continue;
            }
            if read.through > after {
                let now = chrono::Utc::now();
                for change in &read.changes {
                    let lag = (now - change.changed_at).to_std().unwrap_or_default();
                    metrics::histogram!(crate::telemetry::FEED_LAG).record(lag.as_secs_f64());
                }
                let items = read.changes.into_iter().map(FeedItem::new).collect();
                self.share(after, read.through, items);
                after = read.through;
                *tail = Some(after);
            }
            if i64::try_from(read.rows).is_ok_and(|rows| rows < PAGE) {
                return Ok(read.held);
            }
        }
    }

    fn share(&self, after: Position, through: Position, items: Vec<Arc<FeedItem>>) {
        let batch = Batch {
            after,
            through,
            items,
        };
        // No receivers left is fine: nobody is listening.
        let _ = self.inner.batches.send(Arc::new(batch));
    }
}

/// The least time between two reads of the hub: writes that come faster are read together.
const READ_GAP: Duration = Duration::from_millis(5);

/// The least time between two reads while the service is busy serving: a read costs
/// PostgreSQL about 0.5 ms (with its look at pg_stat_activity), and at 5 ms apart the reads
/// took a tenth of what a saturated POST run could have used. 50 ms later on streams and
/// webhooks is cheap during a burst (docs/performance.md, "Webhooks").
const BUSY_READ_GAP: Duration = Duration::from_millis(50);

/// How soon the hub reads again while committed changes wait behind an unfinished transaction.
const HELD_BACK_RETRY: Duration = Duration::from_millis(5);

/// One subscriber's place in the feed.
#[derive(Debug)]
pub struct Subscription {
    feed: ChangeFeed,
    pool: PgPool,
    /// Every change up to here was delivered (or filtered out).
    position: Position,
    /// Started without a position: from the oldest change kept, wherever pruning moves it.
    from_oldest: bool,
    filter: FeedFilter,
    on_lag: OnLag,
    /// The hub's batches, once the table has been read up to it.
    live: Option<broadcast::Receiver<Arc<Batch>>>,
    /// The table was read up to the hub's batches since subscribing: take batches now.
    caught_up: bool,
    ready: VecDeque<Arc<FeedItem>>,
    /// Where the position moves once `ready` is delivered: the end of what was read.
    read_through: Position,
    closed: watch::Receiver<bool>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.feed.inner.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Subscription {
    /// Every change up to here was delivered or filtered out: where to resume.
    pub fn position(&self) -> Position {
        if self.ready.is_empty() {
            self.position.max(self.read_through)
        } else {
            self.position
        }
    }

    /// The next change that passes the filter, or `None` if none came before `deadline`.
    /// Changes the table already holds are read whatever the deadline (one read at least, so
    /// a zero wait still gets them); only waiting for new ones stops at it. Cancel-safe: the
    /// position covers every change taken and every one read and filtered out.
    pub async fn next_before(
        &mut self,
        deadline: tokio::time::Instant,
    ) -> Result<Option<Arc<FeedItem>>, FeedError> {
        let mut closed = self.closed.clone();
        if *closed.borrow_and_update() {
            return Err(FeedError::Closed);
        }
        tokio::select! {
            biased;
            _ = closed.wait_for(|closed| *closed) => Err(FeedError::Closed),
            next = self.next_open(deadline) => next,
        }
    }

    /// A change already read and waiting, without waiting for anything.
    pub fn take_ready(&mut self) -> Option<Arc<FeedItem>> {
        let item = self.ready.pop_front()?;
        self.position = item.position();
        Some(item)
    }

    async fn next_open(
        &mut self,
        deadline: tokio::time::Instant,
    ) -> Result<Option<Arc<FeedItem>>, FeedError> {
        let mut read_once = false;
        loop {
            if let Some(item) = self.take_ready() {
                return Ok(Some(item));
            }
            self.position = self.position.max(self.read_through);
            if read_once && tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
            if self.caught_up {
                match tokio::time::timeout_at(deadline, self.take_batch()).await {
                    Ok(taken) => taken?,
                    Err(_) => return Ok(None),
                }
            } else {
                self.read_table().await?;
            }
            read_once = true;
        }
    }

    /// Reads one page from the table. A short page means the table has been read up to now:
    /// the first time, subscribe to the hub and read once more (what the hub shared before we
    /// subscribed is in that read); the second, take the hub's batches from then on.
    async fn read_table(&mut self) -> Result<(), FeedError> {
        let mut read = read_feed(&self.pool, self.position, CATCH_UP_PAGE).await?;
        if read.pruned > self.position {
            if !self.from_oldest {
                return Err(FeedError::Pruned);
            }
            // Asked for everything kept: start where pruning has got to.
            self.position = read.pruned;
            read = read_feed(&self.pool, self.position, CATCH_UP_PAGE).await?;
            if read.pruned > self.position {
                // Pruned again meanwhile; the next read starts from there.
                self.position = read.pruned;
                return Ok(());
            }
        }
        // Asked for "the oldest kept" once: from here on the position is the client's, and
        // pruning past it is a 410 like any other.
        self.from_oldest = false;
        let before = self.position;
        self.ready.extend(
            read.changes
                .into_iter()
                .filter(|change| change.position > before && self.filter.accepts(change))
                .map(FeedItem::new),
        );
        self.read_through = read.through;
        if i64::try_from(read.rows).is_ok_and(|rows| rows < CATCH_UP_PAGE) {
            if self.live.is_some() {
                self.caught_up = true;
            } else {
                self.live = Some(self.feed.inner.batches.subscribe());
                // A hub with no subscriber reads nothing: have it start now.
                self.feed.inner.wake.notify_one();
            }
        }
        Ok(())
    }

    /// Takes the hub's next batch; a batch that does not follow on from our position (the hub
    /// started, restarted or skipped while nobody listened) sends us back to the table.
    async fn take_batch(&mut self) -> Result<(), FeedError> {
        let Some(live) = self.live.as_mut() else {
            self.caught_up = false;
            return Ok(());
        };
        let batch = match live.recv().await {
            Ok(batch) => batch,
            Err(broadcast::error::RecvError::Lagged(_)) => match self.on_lag {
                OnLag::End => return Err(FeedError::Lagged),
                OnLag::ReadTable => {
                    self.caught_up = false;
                    return Ok(());
                }
            },
            Err(broadcast::error::RecvError::Closed) => return Err(FeedError::Closed),
        };
        if batch.through <= self.position {
            return Ok(());
        }
        if batch.after > self.position {
            self.caught_up = false;
            return Ok(());
        }
        let before = self.position;
        self.ready.extend(
            batch
                .items
                .iter()
                .filter(|item| item.position() > before && self.filter.accepts(&item.change))
                .cloned(),
        );
        self.read_through = batch.through;
        Ok(())
    }
}
