//! Expensive work (searches, exact counts, exports) gets half of the database pool, so cheap
//! requests keep being served however many expensive ones arrive; short searches that no
//! index can serve are refused; an export cannot be held open by a client that stops reading.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, error_locations, spawn_app, spawn_app_adjusted};

/// `count` students named "Student <n>" (every seventh an "Ada"), inserted by SQL.
async fn fill(app: &TestApp, count: i64) {
    // In statements of 10,000 rows, each well inside the statement timeout (every row is also
    // recorded in student_changes by the trigger).
    for first in (1..=count).step_by(10_000) {
        sqlx::query(
            "INSERT INTO students (name, grade, email) \
             SELECT CASE WHEN g % 7 = 0 THEN 'Ada ' ELSE 'Student ' END || g, 'B', \
                    'student' || g || '@example.com' \
             FROM generate_series($1::bigint, LEAST($1::bigint + 9999, $2::bigint)) g",
        )
        .bind(first)
        .bind(count)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    sqlx::query("ANALYZE students")
        .execute(&app.pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_search_for_fewer_than_three_characters_is_a_422_naming_q() {
    let app = spawn_app().await;
    for path in [
        "/api/students?q=a",
        "/api/students?q=ab",
        "/api/students?q=%20a%20%20",
        "/api/students/export?q=ab",
    ] {
        let problem = assert_problem(app.get(path).await, 422).await;
        let errors = error_locations(&problem);
        assert_eq!(errors.len(), 1, "{path}: {problem}");
        assert_eq!(errors[0].0, "query.q", "{path}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("at least 3 characters"),
            "{problem}"
        );
    }
    for path in [
        "/api/students?q=",
        "/api/students?q=ada",
        "/api/students?q=%20%20",
    ] {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expensive_queries_cannot_starve_cheap_ones() {
    // A pool of 4: at most 2 connections for searches and counts.
    let app = spawn_app_adjusted(|config| config.database_pool_size = 4, |_| {}).await;
    fill(&app, 100_000).await;
    let client = app.client.clone();
    let stop = Instant::now() + Duration::from_secs(3);

    let searchers: Vec<_> = (0..16)
        .map(|_| {
            let (client, url) = (
                client.clone(),
                app.url("/api/students?q=student&count=exact"),
            );
            tokio::spawn(async move {
                let (mut served, mut busy) = (0, 0);
                while Instant::now() < stop {
                    let response = client.get(&url).send().await.unwrap();
                    match response.status().as_u16() {
                        200 => served += 1,
                        503 => {
                            assert_eq!(response.headers()["retry-after"], "1");
                            let problem: Value = response.json().await.unwrap();
                            assert_eq!(problem["type"], "urn:students-api:problem:busy");
                            busy += 1;
                        }
                        other => panic!("a search answered {other}"),
                    }
                }
                (served, busy)
            })
        })
        .collect();

    let mut cheap = Vec::new();
    while Instant::now() < stop {
        let started = Instant::now();
        let response = client.get(app.url("/api/students/7")).send().await.unwrap();
        assert_eq!(response.status(), 200, "a cheap read is always served");
        cheap.push(started.elapsed());
    }
    let (mut served, mut busy) = (0, 0);
    for searcher in searchers {
        let (s, b) = searcher.await.unwrap();
        served += s;
        busy += b;
    }
    cheap.sort();
    let p95 = cheap[cheap.len() * 95 / 100];
    println!(
        "cheap reads: {} in 3 s, p95 {p95:?}; searches served {served}, refused busy {busy}",
        cheap.len()
    );
    assert!(served > 0 && busy > 0, "served {served}, busy {busy}");
    assert!(p95 < Duration::from_millis(100), "cheap p95 {p95:?}");
}

#[tokio::test]
async fn an_export_whose_client_stops_reading_ends_broken_not_complete() {
    let app = spawn_app_adjusted(
        |_| {},
        |app| app.set_export_stall_limit(Duration::from_millis(500)),
    )
    .await;
    // About 17 MB of CSV: more than the socket buffers hold between server and client.
    fill(&app, 200_000).await;
    let response = app.get("/api/students/export").await;
    assert_eq!(response.status(), 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let body = response.bytes().await;
    assert!(
        body.is_err(),
        "a stalled export must end broken; it ended complete"
    );
    // The slot is free again: another export is served.
    let again = app.get("/api/students/export?grade=A").await;
    assert_eq!(again.status(), 200);
}

#[tokio::test]
async fn a_search_stops_after_2_seconds_where_other_statements_get_5() {
    let app = spawn_app().await;
    // Another session holds the table: the search waits until its own timeout cancels it.
    let mut blocker = app.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE students IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();
    let started = Instant::now();
    let response = app.get("/api/students?q=ada").await;
    let waited = started.elapsed();
    assert_problem(response, 503).await;
    println!("a blocked search answered 503 after {waited:?} (expensive statement timeout 2 s)");
    assert!(
        waited >= Duration::from_millis(1800) && waited < Duration::from_secs(4),
        "cancelled by the 2 s timeout, not the 5 s one: {waited:?}"
    );
    blocker.rollback().await.unwrap();
}
