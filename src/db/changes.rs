//! `student_changes` (migrations 10, 11, 17 and 19): reading the feed in order, one student's
//! history, and pruning past the retention period.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgExecutor, PgPool};

use super::{Error, readable, students::StudentRow};
use crate::domain::{ChangeActor, ChangeKind, Position, RecordedChange, Student};

/// The columns of a change, in `ChangeRow` order (xid8 travels as text: sqlx has no type
/// for it, and every xid8 the server hands out fits an int8).
macro_rules! change_columns {
    ($table:literal) => {
        concat!(
            $table,
            ".feed_xid::text::int8 AS feed_xid, ",
            $table,
            ".seq, ",
            $table,
            ".op, ",
            $table,
            ".student::text AS student, ",
            $table,
            ".previous::text AS previous, ",
            $table,
            ".changed_at, ",
            $table,
            ".actor_token_id, ",
            $table,
            ".actor_account_id, ",
            $table,
            ".actor, ",
            $table,
            ".restored_from_version"
        )
    };
}

#[derive(Debug, FromRow)]
struct ChangeRow {
    feed_xid: i64,
    seq: i64,
    op: String,
    student: String,
    previous: Option<String>,
    changed_at: DateTime<Utc>,
    actor_token_id: Option<i64>,
    actor_account_id: Option<i64>,
    actor: String,
    restored_from_version: Option<i32>,
}

impl TryFrom<ChangeRow> for RecordedChange {
    type Error = Error;

    fn try_from(row: ChangeRow) -> Result<Self, Error> {
        let position = Position::new(row.feed_xid, row.seq);
        let corrupt = |what: String| Error::Corrupt(format!("change {position:?}: {what}"));
        let student_from = |json: &str| -> Result<Student, Error> {
            let stored: StudentRow =
                serde_json::from_str(json).map_err(|err| corrupt(err.to_string()))?;
            Student::try_from(stored)
        };
        Ok(RecordedChange {
            position,
            kind: ChangeKind::parse(&row.op).ok_or_else(|| corrupt(format!("op {:?}", row.op)))?,
            student: student_from(&row.student)?,
            previous: row.previous.as_deref().map(student_from).transpose()?,
            actor: ChangeActor {
                token_id: row.actor_token_id,
                account_id: row.actor_account_id,
                name: row.actor,
            },
            changed_at: row.changed_at,
            restored_from: row.restored_from_version,
        })
    }
}

/// One read of the feed: the changes after a position, oldest first, up to a limit.
#[derive(Debug)]
pub struct FeedRead {
    pub changes: Vec<RecordedChange>,
    /// Where the next read starts: the last row read when the page was full, else everything
    /// finished when the read ran (the read's horizon).
    pub through: Position,
    /// Rows read (unreadable ones included): a full page means more may follow at once.
    pub rows: usize,
    /// Changes already committed wait behind an unfinished older transaction: read again soon.
    pub held: bool,
    /// Everything at or before this was pruned: a reader behind it missed changes.
    pub pruned: Position,
}

#[derive(Debug, FromRow)]
struct FeedRow {
    horizon: i64,
    held: bool,
    pruned_xid: i64,
    pruned_seq: i64,
    #[sqlx(flatten)]
    change: OptionalChangeRow,
}

#[derive(Debug, FromRow)]
struct OptionalChangeRow {
    feed_xid: Option<i64>,
    seq: Option<i64>,
    op: Option<String>,
    student: Option<String>,
    previous: Option<String>,
    changed_at: Option<DateTime<Utc>>,
    actor_token_id: Option<i64>,
    actor_account_id: Option<i64>,
    actor: Option<String>,
    restored_from_version: Option<i32>,
}

impl OptionalChangeRow {
    fn into_row(self) -> Option<ChangeRow> {
        Some(ChangeRow {
            feed_xid: self.feed_xid?,
            seq: self.seq?,
            op: self.op?,
            student: self.student?,
            previous: self.previous,
            changed_at: self.changed_at?,
            actor_token_id: self.actor_token_id,
            actor_account_id: self.actor_account_id,
            actor: self.actor?,
            restored_from_version: self.restored_from_version,
        })
    }
}

/// Where the finished part of the feed ends, as of the statement's snapshot: the oldest
/// transaction still running that could write to this database's `student_changes`, or, with
/// none, the next transaction id. Transactions known to run in another database (another app
/// on the same server, another test) cannot write here, so they do not hold the feed back;
/// one that cannot be placed (finished since the snapshot, or hidden from this role in
/// `pg_stat_activity`) is counted, to be safe.
macro_rules! feed_horizon {
    () => {
        "WITH snap AS MATERIALIZED (SELECT pg_current_snapshot() AS s),          elsewhere AS MATERIALIZED (             SELECT backend_xid AS xid FROM pg_stat_activity              WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()),          h AS MATERIALIZED (             SELECT coalesce(                 (SELECT min(x.xid) FROM pg_snapshot_xip(snap.s) AS x(xid)                   WHERE NOT EXISTS (SELECT 1 FROM elsewhere e WHERE e.xid = x.xid::xid)),                  pg_snapshot_xmax(snap.s)) AS xmin              FROM snap) "
    };
}

/// The changes after `after` that are final: written by transactions older than the feed's
/// horizon (`feed_horizon!`), so no row can later appear before them. One statement, one
/// snapshot: the horizon, the rows and the pruning mark agree.
pub async fn read_feed(
    executor: impl PgExecutor<'_>,
    after: Position,
    limit: i64,
) -> Result<FeedRead, Error> {
    let rows: Vec<FeedRow> = sqlx::query_as(concat!(
        feed_horizon!(),
        // The head once, not per row: `held` and the pruning mark as scalars. `held` as the
        // first row past the horizon, by the primary key: an EXISTS here was planned as a
        // sequential scan of the whole table (35 ms at 100,000 changes, on every read).
        ", head AS MATERIALIZED (\
             SELECT h.xmin, \
                    (SELECT w.feed_xid FROM student_changes w \
                     WHERE w.feed_xid >= greatest(h.xmin, $1::text::xid8) \
                     ORDER BY w.feed_xid LIMIT 1) IS NOT NULL AS held, \
                    (SELECT p.feed_xid FROM student_changes_pruned p) AS pruned_xid, \
                    (SELECT p.seq FROM student_changes_pruned p) AS pruned_seq \
             FROM h) \
         SELECT head.xmin::text::int8 AS horizon, head.held, \
                head.pruned_xid::text::int8 AS pruned_xid, head.pruned_seq, c.* \
         FROM head LEFT JOIN LATERAL (SELECT ",
        change_columns!("s"),
        " FROM student_changes s \
           WHERE (s.feed_xid, s.seq) > ($1::text::xid8, $2) AND s.feed_xid < head.xmin \
           ORDER BY s.feed_xid, s.seq LIMIT $3) c ON true \
         ORDER BY c.feed_xid, c.seq"
    ))
    .bind(after.xid.to_string())
    .bind(after.seq)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    let Some(first) = rows.first() else {
        return Err(Error::Corrupt(
            "student_changes_pruned has no row (migration 11 makes one)".into(),
        ));
    };
    let horizon = Position::new(first.horizon, 0);
    let (held, pruned) = (
        first.held,
        Position::new(first.pruned_xid, first.pruned_seq),
    );
    let rows: Vec<ChangeRow> = rows
        .into_iter()
        .filter_map(|row| row.change.into_row())
        .collect();
    let count = rows.len();
    let last = rows.last().map(|row| Position::new(row.feed_xid, row.seq));
    let through = match last {
        Some(last) if i64::try_from(count).is_ok_and(|count| count >= limit) => last,
        _ => after.max(horizon),
    };
    Ok(FeedRead {
        changes: readable(rows),
        through,
        rows: count,
        held,
        pruned,
    })
}

/// The changes at `positions` that are still kept (a pruned one is missing from the answer).
pub async fn changes_at(
    executor: impl PgExecutor<'_>,
    positions: &[Position],
) -> Result<Vec<RecordedChange>, Error> {
    let (xids, seqs): (Vec<String>, Vec<i64>) = positions
        .iter()
        .map(|position| (position.xid.to_string(), position.seq))
        .unzip();
    let rows: Vec<ChangeRow> = sqlx::query_as(concat!(
        "SELECT ",
        change_columns!("c"),
        " FROM unnest($1::text[], $2::int8[]) AS p(xid, seq) \
         JOIN student_changes c ON c.feed_xid = p.xid::xid8 AND c.seq = p.seq \
         ORDER BY c.feed_xid, c.seq"
    ))
    .bind(xids)
    .bind(seqs)
    .fetch_all(executor)
    .await?;
    Ok(readable(rows))
}

/// One page of a student's history, newest first.
#[derive(Debug)]
pub struct HistoryPage {
    pub changes: Vec<RecordedChange>,
    /// Older changes follow.
    pub more: bool,
}

/// Student `id`'s changes, newest first, before `before` (a position from the previous page).
/// `None` when the student has no recorded change and does not exist either.
pub async fn history(
    pool: &PgPool,
    id: i64,
    before: Option<Position>,
    limit: i64,
) -> Result<Option<HistoryPage>, Error> {
    // Two texts, so the cursor is part of the index condition in the plan of the second.
    let query = match before {
        None => sqlx::query_as(concat!(
            "SELECT ",
            change_columns!("c"),
            " FROM student_changes c WHERE c.student_id = $1 \
             ORDER BY c.feed_xid DESC, c.seq DESC LIMIT $2"
        )),
        Some(_) => sqlx::query_as(concat!(
            "SELECT ",
            change_columns!("c"),
            " FROM student_changes c WHERE c.student_id = $1 \
               AND (c.feed_xid, c.seq) < ($3::text::xid8, $4) \
             ORDER BY c.feed_xid DESC, c.seq DESC LIMIT $2"
        )),
    };
    let mut query = query
        .bind(id)
        // One more than asked: whether older changes follow.
        .bind(limit.saturating_add(1));
    if let Some(before) = before {
        query = query.bind(before.xid.to_string()).bind(before.seq);
    }
    let mut rows: Vec<ChangeRow> = query.fetch_all(pool).await?;
    if rows.is_empty() && before.is_none() {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM students WHERE id = $1)")
                .bind(id)
                .fetch_one(pool)
                .await?;
        if !exists {
            return Ok(None);
        }
    }
    let more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Some(HistoryPage {
        changes: readable(rows),
        more,
    }))
}

/// Deletes the changes recorded more than `retention` ago, returns how many. What goes is a
/// prefix of the feed: everything up to the newest expired change that is final (below the
/// feed's horizon), so the pruning mark never passes a change that is kept, nor one a reader
/// could still be about to read for the first time. `changed_at` is when the writing transaction
/// started, so a few changes a little younger than the retention may go with their elders.
/// In statements of 10,000 rows (short locks, small WAL bursts), each moving the mark.
pub async fn prune_changes(pool: &PgPool, retention: std::time::Duration) -> Result<u64, Error> {
    const BATCH: i64 = 10_000;
    let cut: Option<(i64, i64)> = sqlx::query_as(concat!(
        feed_horizon!(),
        // The expired rows first, by the `changed_at` index: after the first run they are the
        // last minute's, where the feed's own order would walk the whole week to reach them.
        ", expired AS MATERIALIZED (\
             SELECT feed_xid, seq FROM student_changes \
             WHERE changed_at < now() - make_interval(secs => $1)) \
         SELECT e.feed_xid::text::int8, e.seq FROM expired e, h WHERE e.feed_xid < h.xmin \
         ORDER BY e.feed_xid DESC, e.seq DESC LIMIT 1"
    ))
    .bind(retention.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    let Some((xid, seq)) = cut else {
        return Ok(0);
    };
    let mut deleted = 0;
    loop {
        let gone: i64 = sqlx::query_scalar(
            "WITH gone AS (\
                 DELETE FROM student_changes WHERE ctid IN (\
                     SELECT ctid FROM student_changes \
                     WHERE (feed_xid, seq) <= ($1::text::xid8, $2) \
                     ORDER BY feed_xid, seq LIMIT $3) \
                 RETURNING feed_xid, seq), \
             newest AS (SELECT feed_xid, seq FROM gone ORDER BY feed_xid DESC, seq DESC LIMIT 1), \
             marked AS (\
                 UPDATE student_changes_pruned p SET feed_xid = n.feed_xid, seq = n.seq \
                 FROM newest n WHERE (n.feed_xid, n.seq) > (p.feed_xid, p.seq) RETURNING 1) \
             SELECT count(*) FROM gone",
        )
        .bind(xid.to_string())
        .bind(seq)
        .bind(BATCH)
        .fetch_one(pool)
        .await?;
        deleted += u64::try_from(gone).unwrap_or(0);
        if gone < BATCH {
            return Ok(deleted);
        }
    }
}
