//! The list queries: filters, sort orders and keyset pages. Built with `QueryBuilder`, and every
//! value a client sent is a bound parameter; only fixed SQL fragments from this file are text.
//!
//! Each sort order has an index on `(<order expression>, id)` (migration 4), and a page is
//! `WHERE (<expr>, id) > (<last row's expr>, <last id>) ORDER BY <expr>, id LIMIT n`: one range
//! scan of that index, as cheap on page 10,000 as on page 1. `bench/run --listing` records
//! the plans (`bench/results/listing-<date>.md`).

use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Transaction};

use super::{
    EXPENSIVE_STATEMENT_TIMEOUT, Error,
    students::{Fetched, StudentRow, columns, to_students},
};
use crate::domain::{Keyset, Sort, SortKey, SortValue, StudentFilter};

/// The expression an order sorts by, exactly as its index is built (so the planner uses it).
fn order_expression(key: SortKey) -> &'static str {
    match key {
        SortKey::Id => "id",
        SortKey::Name => r#"(name COLLATE "und-x-icu")"#,
        SortKey::Grade => "student_grade_rank(grade)",
        SortKey::CreatedAt => "created_at",
        SortKey::UpdatedAt => "updated_at",
    }
}

/// `pattern` for `ILIKE`, matching `text` literally anywhere: `%`, `_` and `\` in what the
/// client typed are characters to find, not wildcards.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `search`: whether to include `q` (a search's first attempt applies it outside its window).
fn push_filter(query: &mut QueryBuilder<Postgres>, filter: &StudentFilter, search: bool) {
    query.push(" WHERE TRUE");
    if !filter.grades.is_empty() {
        let grades: Vec<&'static str> = filter.grades.iter().map(|g| g.as_str()).collect();
        query.push(" AND grade = ANY(").push_bind(grades).push(")");
    }
    if let Some(email) = &filter.email {
        // lower(email) is what students_email_key indexes.
        query
            .push(" AND lower(email) = ")
            .push_bind(email.as_str().to_owned());
    }
    match filter.has_email {
        Some(true) => {
            query.push(" AND email IS NOT NULL");
        }
        Some(false) => {
            query.push(" AND email IS NULL");
        }
        None => {}
    }
    if let Some(after) = filter.created_after {
        query.push(" AND created_at > ").push_bind(after);
    }
    if let Some(before) = filter.created_before {
        query.push(" AND created_at < ").push_bind(before);
    }
    if let Some(text) = filter.search.as_ref().filter(|_| search) {
        push_search(query, text);
    }
}

fn push_search(query: &mut QueryBuilder<Postgres>, text: &str) {
    let pattern = contains_pattern(text);
    query
        .push(" AND (name ILIKE ")
        .push_bind(pattern.clone())
        .push(" OR email ILIKE ")
        .push_bind(pattern)
        .push(")");
}

/// Rows strictly after `keyset` in `sort` order.
fn push_keyset(query: &mut QueryBuilder<Postgres>, sort: Sort, keyset: &Keyset) {
    let after = if sort.descending { " < " } else { " > " };
    let expression = order_expression(sort.key);
    match &keyset.value {
        SortValue::Id => {
            query.push(" AND id").push(after).push_bind(keyset.id);
            return;
        }
        SortValue::Name(name) => {
            query
                .push(format_args!(" AND ({expression}, id){after}("))
                .push_bind(name.clone())
                .push(r#" COLLATE "und-x-icu""#);
        }
        SortValue::Grade(grade) => {
            query
                .push(format_args!(" AND ({expression}, id){after}("))
                .push("student_grade_rank(")
                .push_bind(grade.as_str())
                .push(")");
        }
        SortValue::Time(at) => {
            query
                .push(format_args!(" AND ({expression}, id){after}("))
                .push_bind(*at);
        }
    }
    query.push(", ").push_bind(keyset.id).push(")");
}

/// How many rows, in sort order, a search reads before it turns to the trigram indexes.
const SEARCH_WINDOW: i64 = 5_000;

/// One page: up to `limit` students matching `filter`, in `sort` order, after `keyset`.
///
/// With `q`, no single plan is always good. Reading the sort's index and filtering is fast when
/// matches are spread through the order, but when they all sit at the far end (`q=ada`,
/// `sort=-name`: every Ada is near the end of a descending scan) it reads most of the table
/// (1.2 s at a million rows). Collecting every match through the trigram indexes and sorting
/// them is bounded by the number of matches, but slower when there are many. So a search first
/// reads a window of [`SEARCH_WINDOW`] rows in order; only if that holds no full page does it
/// collect the matches. docs/performance.md, "Listing at scale", has the figures for both.
pub async fn list(
    pool: &PgPool,
    filter: &StudentFilter,
    sort: Sort,
    keyset: Option<&Keyset>,
    limit: i64,
) -> Result<Fetched, Error> {
    let Some(text) = &filter.search else {
        let mut conn = pool.acquire().await?;
        return page(&mut conn, filter, sort, keyset, limit, Plan::InOrder).await;
    };
    let mut tx = expensive(pool).await?;
    let windowed = page(&mut tx, filter, sort, keyset, limit, Plan::Window(text)).await?;
    let fetched = if windowed.rows as i64 == limit {
        windowed
    } else {
        page(&mut tx, filter, sort, keyset, limit, Plan::AllMatches).await?
    };
    tx.commit().await?;
    Ok(fetched)
}

/// One page of an export: [`list`]'s rows, but always read in order. An export reads every
/// page, so one pass over the order's index costs the rows of the table once, where
/// collecting the remaining matches for each page (as [`list`] may) would cost them again
/// for every page.
pub async fn export_page(
    pool: &PgPool,
    filter: &StudentFilter,
    sort: Sort,
    keyset: Option<&Keyset>,
    limit: i64,
) -> Result<Fetched, Error> {
    if filter.search.is_none() {
        let mut conn = pool.acquire().await?;
        return page(&mut conn, filter, sort, keyset, limit, Plan::InOrder).await;
    }
    let mut tx = expensive(pool).await?;
    let fetched = page(&mut tx, filter, sort, keyset, limit, Plan::InOrder).await?;
    tx.commit().await?;
    Ok(fetched)
}

/// A transaction whose statements may run for [`EXPENSIVE_STATEMENT_TIMEOUT`] at most.
async fn expensive(pool: &PgPool) -> Result<Transaction<'static, Postgres>, Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT set_config('statement_timeout', $1, true)")
        .bind(EXPENSIVE_STATEMENT_TIMEOUT)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// How a page query reads the table.
enum Plan<'a> {
    /// Filters, then the order's index (no search, or the planner's choice).
    InOrder,
    /// The first [`SEARCH_WINDOW`] rows in order, searched for this text.
    Window(&'a str),
    /// Every match first (a materialized CTE, so the trigram indexes serve `q`), then sorted.
    AllMatches,
}

async fn page(
    conn: &mut PgConnection,
    filter: &StudentFilter,
    sort: Sort,
    keyset: Option<&Keyset>,
    limit: i64,
    plan: Plan<'_>,
) -> Result<Fetched, Error> {
    let direction = if sort.descending { "DESC" } else { "ASC" };
    let expression = order_expression(sort.key);
    let order = match sort.key {
        SortKey::Id => format!(" ORDER BY id {direction}"),
        _ => format!(" ORDER BY {expression} {direction}, id {direction}"),
    };
    let mut query = QueryBuilder::new("");
    // A two-level query orders its outer level by the inner one's `sort_key` column: a plain
    // column keeps the inner order known to the planner, so no second sort reads every row.
    let outer_order = format!(" ORDER BY sort_key {direction}, id {direction}");
    match plan {
        Plan::InOrder => {
            query.push(concat!("SELECT ", columns!(), " FROM students"));
        }
        Plan::Window(_) => {
            query.push(format_args!(
                concat!(
                    "SELECT ",
                    columns!(),
                    " FROM (SELECT ",
                    columns!(),
                    ", {} AS sort_key FROM students"
                ),
                expression
            ));
        }
        Plan::AllMatches => {
            query.push(format_args!(
                concat!(
                    "WITH matches AS MATERIALIZED (SELECT ",
                    columns!(),
                    ", {} AS sort_key FROM students"
                ),
                expression
            ));
        }
    }
    push_filter(&mut query, filter, !matches!(plan, Plan::Window(_)));
    if let Some(keyset) = keyset {
        push_keyset(&mut query, sort, keyset);
    }
    match plan {
        Plan::InOrder => {
            query.push(&order);
        }
        Plan::Window(text) => {
            query
                .push(&order)
                .push(" LIMIT ")
                .push_bind(SEARCH_WINDOW)
                .push(") AS in_order WHERE TRUE");
            push_search(&mut query, text);
            query.push(&outer_order);
        }
        Plan::AllMatches => {
            query.push(concat!(") SELECT ", columns!(), " FROM matches"));
            query.push(&outer_order);
        }
    }
    query.push(" LIMIT ").push_bind(limit);
    let rows: Vec<StudentRow> = query.build_query_as().fetch_all(conn).await?;
    Ok(to_students(rows))
}

/// `select` over the students matching `filter`: the query [`count`] runs and [`estimate`]
/// asks the planner about, so the two always mean the same students.
fn matching(select: &str, filter: &StudentFilter) -> QueryBuilder<Postgres> {
    let mut query = QueryBuilder::new(select);
    query.push(" FROM students");
    push_filter(&mut query, filter, true);
    query
}

/// How many students match `filter` (a full count: it reads every matching row, so it runs
/// under the expensive statements' timeout).
pub async fn count(pool: &PgPool, filter: &StudentFilter) -> Result<i64, Error> {
    let mut query = matching("SELECT count(*)", filter);
    let mut tx = expensive(pool).await?;
    let total = query.build_query_scalar().fetch_one(&mut *tx).await?;
    tx.commit().await?;
    Ok(total)
}

/// About how many students match `filter`: the top node's "Plan Rows" of `EXPLAIN (FORMAT
/// JSON)` of [`count`]'s filtered scan, as PostgREST's `count=estimated`. It plans and reads no
/// row, so it costs what planning costs at any size; it is as good as the table's statistics
/// (autovacuum's `ANALYZE`), and far off for a table never analyzed.
pub async fn estimate(pool: &PgPool, filter: &StudentFilter) -> Result<i64, Error> {
    let mut query = matching("EXPLAIN (FORMAT JSON) SELECT 1", filter);
    let plan: serde_json::Value = query.build_query_scalar().fetch_one(pool).await?;
    plan_rows(&plan).ok_or_else(|| Error::Corrupt(format!("no \"Plan Rows\" in the plan: {plan}")))
}

/// The top node's "Plan Rows" of an `EXPLAIN (FORMAT JSON)`, as a count.
fn plan_rows(plan: &serde_json::Value) -> Option<i64> {
    let rows = plan.pointer("/0/Plan/Plan Rows")?.as_f64()?;
    // A float in the plan; never negative, far below i64's range (`as` saturates anyway).
    Some(rows.round().max(0.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::{contains_pattern, plan_rows};

    #[test]
    fn the_estimate_is_the_top_nodes_plan_rows() {
        let plan = serde_json::json!([{"Plan": {"Node Type": "Seq Scan", "Plan Rows": 48211}}]);
        assert_eq!(plan_rows(&plan), Some(48211));
        assert_eq!(
            plan_rows(&serde_json::json!([{"Plan": {"Plan Rows": 2.6}}])),
            Some(3)
        );
        assert_eq!(plan_rows(&serde_json::json!([{"Plan": {}}])), None);
        assert_eq!(plan_rows(&serde_json::json!({})), None);
    }

    #[test]
    fn wildcards_in_search_text_are_matched_literally() {
        assert_eq!(contains_pattern("ada"), "%ada%");
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
