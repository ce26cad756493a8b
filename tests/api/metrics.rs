//! `GET /metrics`: who may read it, what it holds (route templates, never paths), and the
//! separate listener; and `LOG_FORMAT=json`.
//!
//! Every app of a test process shares one recorder (it is global), so the in-process tests
//! compare a counter before and after, or look for a label no other test makes.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, client_with_token, make_token, spawn_app, spawn_app_with};
use students_api::domain::Scope;

/// The value of the first sample of `name` whose labels include every `labels` pair.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
        })
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

pub async fn scrape(client: &reqwest::Client, url: &str) -> String {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "the Prometheus text format"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_need_a_metrics_read_token_on_the_main_listener() {
    let app = spawn_app().await;
    let url = app.url("/metrics");

    let missing = assert_problem(app.anonymous.get(&url).send().await.unwrap(), 401).await;
    assert!(
        missing["detail"].as_str().unwrap().contains("metrics:read"),
        "{missing}"
    );
    let students_only = make_token(&app.pool, &[Scope::StudentsRead, Scope::StudentsWrite])
        .await
        .unwrap();
    let metrics_only = make_token(&app.pool, &[Scope::MetricsRead]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await; // the token cache follows NOTIFY
    let refused = client_with_token(&students_only)
        .get(&url)
        .send()
        .await
        .unwrap();
    assert_problem(refused, 403).await;

    let text = scrape(&client_with_token(&metrics_only), &url).await;
    assert!(
        text.contains("# TYPE http_server_request_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        sample(&text, "db_pool_max_connections", &[]).is_some(),
        "{text}"
    );
    assert!(sample(&text, "db_pool_connections", &[("state", "idle")]).is_some());

    // Not an operation: no client should call it, so no SDK has it.
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(spec["paths"].get("/metrics").is_none());
    let post = client_with_token(&metrics_only)
        .post(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(post.headers()["allow"], "GET, HEAD");
    assert_problem(post, 405).await;
}

#[tokio::test]
async fn requests_are_counted_by_route_template_never_by_path() {
    let app = spawn_app().await;
    let student = app.create_student("Ada", "A", None).await;
    let path = format!("/api/students/{}", student["id"]);
    let scrape_url = app.url("/metrics");
    let before = scrape(&app.client, &scrape_url).await;
    let labels = [
        ("method", "GET"),
        ("route", "/api/students/{id}"),
        ("status", "200"),
    ];
    let count = |text: &str| {
        sample(text, "http_server_request_duration_seconds_count", &labels).unwrap_or(0.0)
    };
    for _ in 0..3 {
        assert_eq!(app.get(&path).await.status(), StatusCode::OK);
    }
    // Unbounded paths and methods fold into bounded labels.
    for n in 0..5 {
        app.get(&format!("/no/such/page/{n}?x={n}")).await;
    }
    // Near misses of the fixed routes are unmatched too; NUL and invisible characters in a
    // segment fold into the template or `unmatched` like any other text.
    app.get("/metrics/").await;
    for odd in [
        "/api/students/%E2%80%8B",
        "/api/students/1%00x",
        "/api/%00/students",
    ] {
        app.get(odd).await;
    }
    let odd = app
        .client
        .request(
            reqwest::Method::from_bytes(b"FROBNICATE").unwrap(),
            app.url(&path),
        )
        .send()
        .await
        .unwrap();
    assert!(odd.status().is_client_error());

    let after = scrape(&app.client, &scrape_url).await;
    assert!(count(&after) >= count(&before) + 3.0, "{after}");
    assert!(
        sample(
            &after,
            "http_server_request_duration_seconds_bucket",
            &[("route", "/api/students/{id}"), ("le", "+Inf")]
        )
        .is_some()
    );
    assert!(
        sample(
            &after,
            "http_server_request_duration_seconds_count",
            &[("route", "unmatched"), ("status", "404")]
        )
        .is_some()
    );
    assert!(
        sample(
            &after,
            "http_server_request_duration_seconds_count",
            &[("method", "other")]
        )
        .is_some()
    );
    assert!(
        sample(
            &after,
            "http_server_request_duration_seconds_count",
            &[("route", "/metrics"), ("status", "404")]
        )
        .is_none(),
        "{after}"
    );
    for line in after.lines().filter(|l| l.contains("route=")) {
        assert!(
            !line.contains(&path)
                && !line.contains("/no/such")
                && !line.contains('%')
                && !line.contains('\u{200b}')
                && !line.contains('\0'),
            "a raw path in a label: {line}"
        );
    }
    assert!(sample(&after, "http_server_active_requests", &[]).is_some());
}

#[tokio::test]
async fn auth_failures_and_429s_are_counted_by_reason() {
    let app = spawn_app_with(|config| config.rate_limit_per_minute = 2).await;
    let url = app.url("/metrics");
    let reading =
        |text: &str, name: &str, labels: &[(&str, &str)]| sample(text, name, labels).unwrap_or(0.0);
    let before = scrape(&app.client, &url).await;
    let unknown = client_with_token("sat_0000000000000000000000000000");
    unknown.get(app.url("/api/students")).send().await.unwrap();
    app.anonymous
        .get(app.url("/api/students"))
        .send()
        .await
        .unwrap();
    // The scrapes count against the token's limit too: two a minute, so the third request is a 429.
    let mut limited = false;
    for _ in 0..3 {
        limited |= app.get("/api/students").await.status() == StatusCode::TOO_MANY_REQUESTS;
    }
    assert!(limited);
    let after = app.client.get(&url).send().await.unwrap();
    assert_eq!(
        after.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "metrics are rate-limited like the API"
    );

    let open = spawn_app().await;
    let after = scrape(&open.client, &open.url("/metrics")).await;
    assert!(
        reading(&after, "auth_failures_total", &[("reason", "missing")])
            > reading(&before, "auth_failures_total", &[("reason", "missing")]),
        "{after}"
    );
    assert!(
        reading(&after, "auth_failures_total", &[("reason", "malformed")])
            + reading(&after, "auth_failures_total", &[("reason", "mistyped")])
            + reading(&after, "auth_failures_total", &[("reason", "unknown")])
            > reading(&before, "auth_failures_total", &[("reason", "malformed")])
                + reading(&before, "auth_failures_total", &[("reason", "mistyped")])
                + reading(&before, "auth_failures_total", &[("reason", "unknown")])
    );
    assert!(
        reading(&after, "rate_limited_total", &[("client", "token")])
            > reading(&before, "rate_limited_total", &[("client", "token")])
    );
}

#[tokio::test]
async fn change_streams_count_as_subscribers_not_as_request_durations() {
    let app = spawn_app().await;
    let stream = app.get("/api/students/changes").await;
    assert_eq!(stream.status(), StatusCode::OK);
    let text = scrape(&app.client, &app.url("/metrics")).await;
    assert!(
        sample(&text, "change_feed_subscribers", &[]).unwrap() >= 1.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            "http_server_request_duration_seconds_count",
            &[("route", "/api/students/changes"), ("method", "GET")]
        )
        .is_none(),
        "{text}"
    );
    drop(stream);
}

#[tokio::test]
async fn metrics_address_serves_metrics_without_a_token_and_nothing_else() {
    let app = students_api::startup::Application::build({
        let mut config = crate::helpers::test_config(Some(crate::helpers::fresh_database_url()));
        config.metrics_address = Some("127.0.0.1:0".to_owned());
        config
    })
    .await
    .unwrap();
    let port = app.metrics_port().unwrap();
    let _app = crate::helpers::serve(app).await;
    let anonymous = reqwest::Client::new();
    let text = scrape(&anonymous, &format!("http://127.0.0.1:{port}/metrics")).await;
    assert!(text.contains("db_pool_max_connections"), "{text}");
    let other = anonymous
        .get(format!("http://127.0.0.1:{port}/api/students"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

/// The binary as deployed: `LOG_FORMAT=json` writes one JSON object per line, each answer with
/// its request id, operation, status, latency and token; `METRICS_ADDRESS` serves the pool's
/// acquire times (which come through the log pipeline's sqlx events).
#[tokio::test]
async fn json_logs_name_the_request_and_the_pool_acquire_time_is_measured() {
    let url = crate::helpers::fresh_database_url();
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let metrics_port = free.local_addr().unwrap().port();
    drop(free);
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_students-api"));
    command
        .env("DATABASE_URL", &url)
        .env("LOG_FORMAT", "json")
        .env("METRICS_ADDRESS", format!("127.0.0.1:{metrics_port}"));
    let mut running = crate::binary::start(command);
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let token = make_token(&pool, &[Scope::StudentsRead]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let response = client_with_token(&token)
        .get(format!("http://127.0.0.1:{}/api/students", running.port))
        .header("x-request-id", "json-log-check")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let text = scrape(
        &reqwest::Client::new(),
        &format!("http://127.0.0.1:{metrics_port}/metrics"),
    )
    .await;
    assert!(
        sample(&text, "db_pool_acquire_duration_seconds_count", &[]).unwrap_or(0.0) >= 1.0,
        "{text}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;

    let log = running.log();
    for line in &log {
        let parsed: Result<Value, _> = serde_json::from_str(line);
        assert!(
            parsed.is_ok_and(|v| v.is_object()),
            "not one JSON object: {line}"
        );
    }
    let answered: Value = log
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|entry| entry["span"]["id"] == "json-log-check" && entry["message"] == "answered")
        .unwrap_or_else(|| panic!("no answer logged: {log:#?}"));
    assert_eq!(answered["status"], 200, "{answered}");
    assert!(answered["micros"].as_u64().is_some(), "{answered}");
    assert_eq!(answered["span"]["operation"], "listStudents", "{answered}");
    assert!(
        answered["span"]["token_id"].as_i64().is_some(),
        "{answered}"
    );
    for line in &log {
        assert!(!line.contains(&token), "never the secret: {line}");
    }

    crate::binary::signal(&running.child, "-TERM");
    running.child.wait().unwrap();
    pool.close().await;
    crate::helpers::drop_database(&url);
}

/// Metrics matter most while the database is away: `METRICS_ADDRESS` answers then, the failed
/// statements are counted (the token cache's reads, here), and `db_away` says the breaker is
/// open.
#[tokio::test]
async fn metrics_answer_with_the_database_away_and_count_its_errors() {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_millis(500))
        .connect_lazy("postgres://postgres@127.0.0.1:1/students")
        .unwrap();
    let mut config = crate::helpers::test_config(None);
    config.metrics_address = Some("127.0.0.1:0".to_owned());
    let mut app = students_api::startup::Application::bind(&config, pool)
        .await
        .unwrap();
    app.assume_prepared();
    let port = app.metrics_port().unwrap();
    let app = crate::helpers::serve(app).await;
    let url = format!("http://127.0.0.1:{port}/metrics");
    let failed = |text: &str| {
        ["unavailable", "pool_timeout"]
            .iter()
            .map(|kind| sample(text, "db_errors_total", &[("kind", kind)]).unwrap_or(0.0))
            .sum::<f64>()
    };
    // On the main listener a token cannot be judged before the tokens were ever read: 503.
    assert_problem(app.get("/metrics").await, 503).await;
    assert_problem(app.get("/readyz").await, 503).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let text = scrape(&reqwest::Client::new(), &url).await;
        let (failed, away) = (failed(&text), sample(&text, "db_away", &[]));
        if failed > 0.0 && away == Some(1.0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "failed statements {failed}, db_away {away:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
