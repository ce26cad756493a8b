//! The database failing under load, on a PostgreSQL server this test starts itself (never the
//! shared one): restarted fast, immediately, and killed with SIGKILL. Every answer is a 201 or
//! a fast 503, the service recovers by itself, and no acknowledged write is lost.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use students_api::{
    db::ACQUIRE_TIMEOUT,
    domain::SCOPES,
    embedded_pg::{EmbeddedPostgres, Shutdown},
    startup::Application,
};

use crate::helpers::{serve, test_config};

/// The two load tests here measure latencies (a 503 within 50 ms): run side by side on a 2-core
/// machine, each one's 64 clients and PostgreSQL restarts slowed the other past its bound. They
/// take turns; other tests still run beside them.
static UNDER_LOAD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A PostgreSQL server of the test's own, the service on it, and a client with its token for
/// `clients` connections at once.
async fn own_server_app(
    database: &str,
    clients: usize,
) -> (
    Arc<Mutex<EmbeddedPostgres>>,
    crate::helpers::TestApp,
    reqwest::Client,
) {
    let pg = Arc::new(Mutex::new(EmbeddedPostgres::start_throwaway().unwrap()));
    let url = pg.lock().unwrap().url(database);
    let app = serve(Application::build(test_config(Some(url))).await.unwrap()).await;
    let client = crate::helpers::builder_with_token(&app.token)
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    (pg, app, client)
}

/// What one request saw.
struct Outcome {
    status: u16,
    took: Duration,
    id: Option<i64>,
}

const WRITERS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn restarts_and_crashes_under_load_answer_201_or_fast_503_and_lose_nothing() {
    let _turn = UNDER_LOAD.lock().await;
    let pg = Arc::new(Mutex::new(EmbeddedPostgres::start_throwaway().unwrap()));
    let url = pg.lock().unwrap().url("faults");
    let config = test_config(Some(url));
    let app = serve(Application::build(config).await.unwrap()).await;
    let client = crate::helpers::builder_with_token(&app.token)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let endpoint = app.url("/api/students");

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (client, endpoint) = (client.clone(), endpoint.clone());
            let (stop, outcomes) = (stop.clone(), outcomes.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = json!({"name": format!("Writer {writer} #{n}"), "grade": "B"});
                    let started = Instant::now();
                    let response = client.post(&endpoint).json(&body).send().await.unwrap();
                    let status = response.status().as_u16();
                    let body: Value = response.json().await.unwrap();
                    outcomes.lock().unwrap().push(Outcome {
                        status,
                        took: started.elapsed(),
                        id: (status == 201).then(|| body["id"].as_i64().unwrap()),
                    });
                    if status == 503 {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();

    let mut recoveries = Vec::new();
    for how in [Shutdown::Fast, Shutdown::Immediate, Shutdown::Kill] {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let pg = pg.clone();
        tokio::task::spawn_blocking(move || {
            pg.lock().unwrap().restart(how, Duration::from_millis(500))
        })
        .await
        .unwrap()
        .unwrap();
        // The database is back: the service must be too, within 2 s, with no help.
        let back = Instant::now();
        loop {
            let probe = json!({"name": format!("Probe after {how:?}"), "grade": "A"});
            let response = client.post(&endpoint).json(&probe).send().await.unwrap();
            if response.status() == 201 {
                let id = response.json::<Value>().await.unwrap()["id"].as_i64();
                outcomes.lock().unwrap().push(Outcome {
                    status: 201,
                    took: Duration::ZERO,
                    id,
                });
                break;
            }
            assert!(
                back.elapsed() < Duration::from_secs(2),
                "{how:?}: still {} after {:?}",
                response.status(),
                back.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        recoveries.push((how, back.elapsed()));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let unexpected: Vec<u16> = outcomes
        .iter()
        .map(|o| o.status)
        .filter(|s| *s != 201 && *s != 503)
        .collect();
    assert!(unexpected.is_empty(), "only 201 and 503: {unexpected:?}");
    let slowest = outcomes.iter().map(|o| o.took).max().unwrap();
    assert!(
        slowest <= ACQUIRE_TIMEOUT + Duration::from_millis(500),
        "every answer within the acquire timeout + 0.5 s; slowest {slowest:?}"
    );
    let unavailable = outcomes.iter().filter(|o| o.status == 503).count();
    assert!(
        unavailable > 0,
        "the faults were felt (else this test proves nothing)"
    );

    let acknowledged: Vec<i64> = outcomes.iter().filter_map(|o| o.id).collect();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM students WHERE id = ANY($1)")
        .bind(&acknowledged)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        stored,
        acknowledged.len() as i64,
        "every 201 is in the database"
    );
    // Each writer's request has a name of its own and is never retried: a create answered 503
    // may or may not have been written, but none is written twice (creates share statements,
    // and a shared statement that fails is retried only when PostgreSQL refused it).
    let twice: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM students WHERE name LIKE 'Writer %' GROUP BY name HAVING count(*) > 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(twice.is_empty(), "written twice: {twice:?}");
    println!(
        "faults: {} requests, {} created, {unavailable} answered 503, slowest {slowest:?}, \
         recovered after {recoveries:?}",
        outcomes.len(),
        acknowledged.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_starts_with_the_database_down_and_serves_once_it_is_back() {
    let pg = Arc::new(Mutex::new(EmbeddedPostgres::start_throwaway().unwrap()));
    let url = pg.lock().unwrap().url("late");
    // Take the database away for 3 s, and start the service meanwhile.
    let outage = {
        let pg = pg.clone();
        tokio::task::spawn_blocking(move || {
            pg.lock()
                .unwrap()
                .restart(Shutdown::Fast, Duration::from_secs(3))
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let config = test_config(Some(url));
    let started = Instant::now();
    let app = serve(Application::build(config).await.unwrap()).await;
    let start_up = started.elapsed();
    println!("start-up with the database down took {start_up:?}");
    assert!(
        start_up < Duration::from_secs(2),
        "it did not wait for the database: {start_up:?}"
    );

    assert_eq!(app.get("/healthz").await.status(), 200, "alive");
    let problem = crate::helpers::assert_problem(app.get("/readyz").await, 503).await;
    assert_eq!(
        problem["type"],
        "urn:students-api:problem:service-unavailable"
    );
    let refused = app
        .post_student(&json!({"name": "Early", "grade": "A"}))
        .await;
    assert_eq!(refused.headers()["retry-after"], "1");
    crate::helpers::assert_problem(refused, 503).await;

    outage.await.unwrap().unwrap();
    let back = Instant::now();
    // The token the test client held was made up while the database was away; make a real one.
    let token = loop {
        if let Some(token) = crate::helpers::make_token(&app.pool, &SCOPES).await {
            break token;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let client = crate::helpers::client_with_token(&token);
    loop {
        let response = client
            .post(app.url("/api/students"))
            .json(&json!({"name": "Late", "grade": "A"}))
            .send()
            .await
            .unwrap();
        if response.status() == 201 {
            break;
        }
        // 401: the service has read its tokens, but not yet the one just made.
        assert!(matches!(response.status().as_u16(), 503 | 401));
        assert!(
            back.elapsed() < Duration::from_secs(3),
            "migrated and serving soon after: {:?}",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("serving {:?} after the database came back", back.elapsed());
    assert_eq!(app.get("/readyz").await.status(), 200);
}

/// Quantile `q` (0..=1) of sorted durations.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_long_outage_under_load_is_a_503_within_50_ms_and_service_resumes_within_1_s_of_return() {
    let _turn = UNDER_LOAD.lock().await;
    const CLIENTS: usize = 64;
    let (pg, app, client) = own_server_app("outage", CLIENTS).await;
    let endpoint = app.url("/api/students");

    let stop = Arc::new(AtomicBool::new(false));
    // (started, took, status, id)
    let outcomes = Arc::new(Mutex::new(
        Vec::<(Instant, Duration, u16, Option<i64>)>::new(),
    ));
    let writers: Vec<_> = (0..CLIENTS)
        .map(|writer| {
            let (client, endpoint) = (client.clone(), endpoint.clone());
            let (stop, outcomes) = (stop.clone(), outcomes.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body = json!({"name": format!("Client {writer} #{n}"), "grade": "C"});
                    let started = Instant::now();
                    let response = client.post(&endpoint).json(&body).send().await.unwrap();
                    let status = response.status().as_u16();
                    let body: Value = response.json().await.unwrap();
                    let id = (status == 201).then(|| body["id"].as_i64().unwrap());
                    outcomes
                        .lock()
                        .unwrap()
                        .push((started, started.elapsed(), status, id));
                    if status == 503 {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_millis(1000)).await;
    // Down for 6 s: twice the pool's acquire timeout.
    let outage_began = Instant::now();
    let outage = {
        let pg = pg.clone();
        tokio::task::spawn_blocking(move || {
            pg.lock()
                .unwrap()
                .restart(Shutdown::Fast, ACQUIRE_TIMEOUT * 2)
        })
    };
    // Every answer counts from the stop on: the first refusal opens the breaker, and the
    // requests waiting for a connection then are let go.
    let known = outage_began;
    tokio::time::sleep_until((outage_began + ACQUIRE_TIMEOUT).into()).await;
    let ready_started = Instant::now();
    let ready = app.get("/readyz").await;
    let ready_took = ready_started.elapsed();
    assert_eq!(ready.status(), 503);
    assert!(
        ready_took < Duration::from_millis(50),
        "/readyz took {ready_took:?}"
    );
    assert_eq!(ready.headers()["retry-after"], "1");

    outage.await.unwrap().unwrap();
    let returned = Instant::now();
    let mut resumed = None;
    while resumed.is_none() && returned.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        resumed = outcomes
            .lock()
            .unwrap()
            .iter()
            .filter(|(started, _, status, _)| *status == 201 && *started >= returned)
            .map(|(started, took, _, _)| *started + *took - returned)
            .min();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }

    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    let statuses: std::collections::BTreeSet<u16> = outcomes.iter().map(|o| o.2).collect();
    assert!(
        statuses.iter().all(|s| [201, 503].contains(s)),
        "{statuses:?}"
    );
    let mut fast: Vec<Duration> = outcomes
        .iter()
        .filter(|(started, _, status, _)| {
            *status == 503 && *started >= known && *started < returned
        })
        .map(|o| o.1)
        .collect();
    fast.sort();
    assert!(
        fast.len() > 100,
        "only {} answers in the outage",
        fast.len()
    );
    let (p50, p99) = (quantile(&fast, 0.5), quantile(&fast, 0.99));
    println!(
        "outage: {} answers from the stop on, p50 {p50:?}, p99 {p99:?}; resumed {resumed:?} after return",
        fast.len()
    );
    assert!(p99 < Duration::from_millis(50), "p99 {p99:?} (p50 {p50:?})");
    let resumed = resumed.expect("a 201 after the database returned");
    assert!(
        resumed < Duration::from_secs(1),
        "resumed after {resumed:?}"
    );

    let acknowledged: Vec<i64> = outcomes.iter().filter_map(|o| o.3).collect();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM students WHERE id = ANY($1)")
        .bind(&acknowledged)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, acknowledged.len() as i64, "every 201 is stored");
}

/// The pool pings a connection only when it sat idle for a while (`PING_AFTER_IDLE`), not on
/// every lend: one the server closed meanwhile is found and replaced, and the requests after it
/// never see the loss.
#[tokio::test]
async fn connections_the_server_closed_while_idle_are_replaced_unseen() {
    let app = crate::helpers::spawn_app().await;
    let id = app.create_student("Idle", "A", None).await["id"]
        .as_i64()
        .unwrap();
    let closed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()) AS t",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(closed > 0, "the service holds idle connections");
    tokio::time::sleep(students_api::db::PING_AFTER_IDLE + Duration::from_millis(200)).await;
    for _ in 0..20 {
        let response = app.get(&format!("/api/students/{id}")).await;
        assert_eq!(response.status(), 200);
    }
}

/// The first seconds of an outage, where the breaker used to need two failed checks: with the
/// database stopped (its port refusing connections at once), one request, then 32 clients × 10
/// requests at once. Every answer is a `503` with `Retry-After`, p99 under 100 ms from the
/// first request on; writes are back within 1 s of the database's return, and every 201 is
/// stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn from_the_first_request_of_an_outage_every_answer_is_a_fast_503() {
    let _turn = UNDER_LOAD.lock().await;
    const CLIENTS: usize = 32;
    const EACH: usize = 10;
    let (pg, app, client) = own_server_app("first_seconds", CLIENTS).await;
    let endpoint = app.url("/api/students");
    let create = move |n: usize| {
        let (client, endpoint) = (client.clone(), endpoint.clone());
        async move {
            let started = Instant::now();
            let response = client
                .post(&endpoint)
                .json(&json!({"name": format!("Student {n}"), "grade": "B"}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry_after = response.headers().get("retry-after").cloned();
            let body: Value = response.json().await.unwrap();
            let id = (status == 201).then(|| body["id"].as_i64().unwrap());
            (started.elapsed(), status, retry_after, id)
        }
    };
    // Warm: the pool holds open connections, which the stop will break.
    let mut acknowledged: Vec<i64> = Vec::new();
    for n in 0..CLIENTS {
        let (_, status, _, id) = create(n).await;
        assert_eq!(status, 201);
        acknowledged.extend(id);
    }

    let down = pg.clone();
    tokio::task::spawn_blocking(move || down.lock().unwrap().take_down(Shutdown::Fast))
        .await
        .unwrap();
    let mut outcomes = vec![create(1000).await];
    let batch: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let create = create.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                for i in 0..EACH {
                    seen.push(create(2000 + c * EACH + i).await);
                }
                seen
            })
        })
        .collect();
    for client in batch {
        outcomes.extend(client.await.unwrap());
    }
    for (took, status, retry_after, _) in &outcomes {
        assert_eq!(*status, 503, "after {took:?}");
        assert_eq!(retry_after.as_ref().map(|v| v.to_str().unwrap()), Some("1"));
    }
    let mut took: Vec<Duration> = outcomes.iter().map(|o| o.0).collect();
    let first = took[0];
    took.sort();
    let (p50, p99) = (quantile(&took, 0.5), quantile(&took, 0.99));
    println!(
        "outage from its first request: {} answers, first {first:?}, p50 {p50:?}, p99 {p99:?}, max {:?}",
        took.len(),
        took[took.len() - 1]
    );
    assert!(
        p99 < Duration::from_millis(100),
        "p99 {p99:?} (p50 {p50:?})"
    );

    let up = pg.clone();
    tokio::task::spawn_blocking(move || up.lock().unwrap().bring_up().unwrap())
        .await
        .unwrap();
    let returned = Instant::now();
    let back = loop {
        let (_, status, _, id) = create(5000).await;
        if status == 201 {
            acknowledged.extend(id);
            break returned.elapsed();
        }
        assert_eq!(status, 503);
        assert!(returned.elapsed() < Duration::from_secs(5), "never back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    println!("writes back {back:?} after the database returned");
    assert!(back < Duration::from_secs(1), "back after {back:?}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM students WHERE id = ANY($1)")
        .bind(&acknowledged)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, acknowledged.len() as i64, "every 201 is stored");
}
