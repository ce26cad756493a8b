//! Bulk import, in one transaction: the rows are COPYed into a temporary table as they
//! arrive, e-mail addresses are checked against each other and the table there, and only
//! then are the students written, with one `INSERT ... SELECT`. Dropping the transaction
//! (an error, a refused file, a dry run) leaves nothing behind.

use sqlx::{PgConnection, Postgres, Transaction, postgres::PgCopyIn};

use super::{Error, students::Actor};

/// The staged rows whose e-mail address a student has (`earlier_row` null), or an earlier row
/// of the file has: the one definition of a duplicate, for reporting and for leaving them out
/// (a macro so `concat!` can use it).
macro_rules! duplicate_rows {
    () => {
        "WITH numbered AS (\
             SELECT row, line, email, min(row) OVER (PARTITION BY email) AS first_row \
             FROM import_rows WHERE email IS NOT NULL), \
         duplicate AS (\
             SELECT n.row, n.line, \
                    CASE WHEN s.id IS NULL THEN n.first_row END AS earlier_row \
             FROM numbered n LEFT JOIN students s ON lower(s.email) = n.email \
             WHERE s.id IS NOT NULL OR n.row > n.first_row) "
    };
}

/// An import under way: its transaction, which holds the staged rows.
#[derive(Debug)]
pub struct Import {
    tx: Transaction<'static, Postgres>,
}

/// A row whose e-mail address is already taken: by a student (`earlier_row: None`) or by an
/// earlier row of the same file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub row: u64,
    pub line: u64,
    pub earlier_row: Option<u64>,
}

/// The duplicates found: the first ones, in row order, and how many there are.
#[derive(Debug, Default)]
pub struct Duplicates {
    pub first: Vec<Duplicate>,
    pub total: u64,
}

impl Import {
    /// Starts the transaction and the staging table. An import runs as long as its upload
    /// does, so the pool's statement timeout is lifted for it; the upload's own limits (size,
    /// a stall) bound it instead.
    pub async fn begin(pool: &sqlx::PgPool) -> Result<Self, Error> {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "SELECT set_config('statement_timeout', '0', true), \
                    set_config('work_mem', '64MB', true)",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "CREATE TEMPORARY TABLE import_rows (\
                 row bigint NOT NULL, line bigint NOT NULL, \
                 name text NOT NULL, grade text NOT NULL, email text\
             ) ON COMMIT DROP",
        )
        .execute(&mut *tx)
        .await?;
        Ok(Self { tx })
    }

    /// The connection, for the idempotency key's lock and record.
    pub fn connection(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// A COPY into the staging table; send it the lines `rows` writes.
    pub async fn copy(&mut self) -> Result<PgCopyIn<&mut PgConnection>, Error> {
        Ok(self
            .tx
            .copy_in_raw("COPY import_rows (row, line, name, grade, email) FROM STDIN")
            .await?)
    }

    /// Rows whose e-mail address a student has, or an earlier row of the file: the first
    /// `limit` in row order, and the count.
    pub async fn duplicates(&mut self, limit: i64) -> Result<Duplicates, Error> {
        // Statistics first: a fresh temporary table has none, and the join below needs them.
        sqlx::query("ANALYZE import_rows")
            .execute(&mut *self.tx)
            .await?;
        let found: Vec<(i64, i64, Option<i64>, i64)> = sqlx::query_as(concat!(
            duplicate_rows!(),
            "SELECT row, line, earlier_row, count(*) OVER () FROM duplicate \
             ORDER BY row LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&mut *self.tx)
        .await?;
        let as_count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(Duplicates {
            total: found.first().map_or(0, |(.., total)| as_count(*total)),
            first: found
                .into_iter()
                .map(|(row, line, earlier_row, _)| Duplicate {
                    row: as_count(row),
                    line: as_count(line),
                    earlier_row: earlier_row.map(as_count),
                })
                .collect(),
        })
    }

    /// Leaves out the rows [`Self::duplicates`] finds (the first of a file's repeats stays).
    pub async fn drop_duplicates(&mut self) -> Result<(), Error> {
        sqlx::query(concat!(
            duplicate_rows!(),
            "DELETE FROM import_rows WHERE row IN (SELECT row FROM duplicate)"
        ))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Creates a student of every staged row, in file order, recorded in the change feed as
    /// made by `actor`; returns how many.
    pub async fn write(&mut self, actor: &Actor) -> Result<u64, Error> {
        sqlx::query(
            "SELECT set_config('students_api.actor_token_id', coalesce($1::text, ''), true), \
                    set_config('students_api.actor_account_id', coalesce($2::text, ''), true), \
                    set_config('students_api.actor', $3, true)",
        )
        .bind(actor.token_id)
        .bind(actor.account_id)
        .bind(&actor.name)
        .execute(&mut *self.tx)
        .await?;
        let written = sqlx::query(
            "INSERT INTO students (name, grade, email) \
             SELECT name, grade, email FROM import_rows ORDER BY row",
        )
        .execute(&mut *self.tx)
        .await?;
        Ok(written.rows_affected())
    }

    pub async fn commit(self) -> Result<(), Error> {
        Ok(self.tx.commit().await?)
    }
}
