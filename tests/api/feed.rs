//! The change feed (`streamChanges` as server-sent events, `pollChanges` as JSON) and each
//! student's history (`getStudentHistory`), over real HTTP against a real PostgreSQL.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use students_api::{
    embedded_pg::{EmbeddedPostgres, Shutdown},
    startup::Application,
};

use crate::helpers::{
    TestApp, assert_problem, error_locations, serve, spawn_app, spawn_app_adjusted, test_config,
};

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: String,
    pub kind: String,
    pub data: Value,
}

/// Reads a `text/event-stream` body event by event.
pub struct Events {
    response: reqwest::Response,
    buffer: String,
    /// `retry:` values and comments seen, in order.
    pub extras: Vec<String>,
    /// The last `id:` seen, with an event or alone (as a client's Last-Event-ID would be).
    pub last_id: Option<String>,
}

impl Events {
    pub async fn open(app: &TestApp, query: &str, last_event_id: Option<&str>) -> Events {
        let mut request = app
            .client
            .get(app.url(&format!("/api/students/changes{query}")));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Events {
            response,
            buffer: String::new(),
            extras: Vec::new(),
            last_id: None,
        }
    }

    /// The next event, or `None` when the stream ends; panics after `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut kind, mut data) = (None, None, None);
                for line in block.lines() {
                    match line.split_once(": ") {
                        Some(("id", value)) => id = Some(value.to_owned()),
                        Some(("event", value)) => kind = Some(value.to_owned()),
                        Some(("data", value)) => data = Some(serde_json::from_str(value).unwrap()),
                        _ => self.extras.push(line.to_owned()),
                    }
                }
                if id.is_some() {
                    self.last_id.clone_from(&id);
                }
                if let (Some(id), Some(kind), Some(data)) = (id, kind, data) {
                    return Some(Event { id, kind, data });
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event within {within:?}"))
                .ok()
                .flatten()?;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    pub async fn take(&mut self, count: usize) -> Vec<Event> {
        let mut events = Vec::new();
        for _ in 0..count {
            events.push(self.next(Duration::from_secs(10)).await.expect("an event"));
        }
        events
    }
}

async fn poll(app: &TestApp, query: &str) -> Value {
    let response = app.get(&format!("/api/students/changes/poll{query}")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn psql(app: &TestApp, sql: &'static str) {
    sqlx::query(sql).execute(&app.pool).await.unwrap();
}

fn ids_of(events: &[Event]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e.data["student"]["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_stream_sends_api_and_psql_changes_as_they_happen() {
    let app = spawn_app().await;
    let mut events = Events::open(&app, "?after=now", None).await;
    let ada = app
        .create_student("Ada", "A", Some("ada@example.com"))
        .await;
    let created = events.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(created.kind, "created");
    assert_eq!(created.data["op"], "created");
    assert_eq!(created.data["position"], created.id.as_str());
    assert_eq!(created.data["student"], ada);
    assert_eq!(created.data["version"], 1);
    assert_eq!(
        created.data["changes"],
        json!({
            "name": {"before": null, "after": "Ada"},
            "grade": {"before": null, "after": "A"},
            "email": {"before": null, "after": "ada@example.com"},
        })
    );
    let token_id: i64 = sqlx::query_scalar("SELECT min(id) FROM api_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(created.data["actor"]["token_id"], token_id);
    assert!(created.data["changed_at"].as_str().unwrap().ends_with('Z'));
    assert!(events.extras.iter().any(|line| line.starts_with("retry: ")));

    // Typed in psql: in the feed too, named by the database role, within a second (nobody
    // announces it: the feed's poll finds it).
    let typed = Instant::now();
    psql(&app, "UPDATE students SET grade = 'B+' WHERE name = 'Ada'").await;
    let updated = events.next(Duration::from_secs(5)).await.unwrap();
    assert!(
        typed.elapsed() < Duration::from_secs(1),
        "{:?}",
        typed.elapsed()
    );
    assert_eq!(updated.kind, "updated");
    assert_eq!(
        updated.data["changes"],
        json!({"grade": {"before": "A", "after": "B+"}})
    );
    assert_eq!(updated.data["actor"]["token_id"], Value::Null);
    let role: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(updated.data["actor"]["name"], role.as_str());

    assert_eq!(app.delete_student(&ada).await.status(), 204);
    let deleted = events.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(deleted.kind, "deleted");
    assert_eq!(deleted.data["student"]["grade"], "B+", "the student before");
    assert_eq!(deleted.data["version"], 2);
}

#[tokio::test]
async fn resuming_with_last_event_id_or_after_misses_nothing_and_repeats_nothing() {
    let app = spawn_app().await;
    for n in 0..5 {
        app.create_student(&format!("Student {n}"), "A", None).await;
    }
    // No position: from the oldest change kept.
    let mut first = Events::open(&app, "", None).await;
    let seen = first.take(2).await;
    drop(first);
    for n in 5..8 {
        app.create_student(&format!("Student {n}"), "A", None).await;
    }
    // `after` in the URL loses to Last-Event-ID, as for a reconnecting EventSource.
    let mut resumed =
        Events::open(&app, &format!("?after={}", seen[0].id), Some(&seen[1].id)).await;
    let rest = resumed.take(6).await;
    let mut all = seen.clone();
    all.extend(rest.iter().cloned());
    let names: Vec<String> = all
        .iter()
        .map(|e| e.data["student"]["name"].as_str().unwrap().to_owned())
        .collect();
    let expected: Vec<String> = (0..8).map(|n| format!("Student {n}")).collect();
    assert_eq!(names, expected);

    // The same through the JSON twin, in pages: `next` covers what was returned.
    let polled = poll_until_empty(&app, None, 3).await;
    let polled: Vec<&str> = polled
        .iter()
        .map(|c| c["student"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(polled, expected);
}

#[tokio::test]
async fn a_long_poll_answers_when_a_change_comes_and_empty_after_wait() {
    let app = spawn_app().await;
    let started = Instant::now();
    let empty = poll(&app, "?after=now&wait=1").await;
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(empty["changes"], json!([]));
    let next = empty["next"].as_str().unwrap().to_owned();

    let waiting = {
        let app_url = app.url(&format!("/api/students/changes/poll?after={next}&wait=30"));
        let client = app.client.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let page: Value = client
                .get(app_url)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (page, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.create_student("Grace", "A", None).await;
    let (page, took) = waiting.await.unwrap();
    assert_eq!(page["changes"][0]["student"]["name"], "Grace");
    assert!(
        took < Duration::from_secs(10),
        "answered at the change: {took:?}"
    );
    // Nothing after it yet.
    let after = poll(
        &app,
        &format!("?after={}&wait=0", page["next"].as_str().unwrap()),
    )
    .await;
    assert_eq!(after["changes"], json!([]));
}

/// Transactions commit out of id order: a reader that took the later one's change first, and
/// moved its position past it, would never see the earlier one's.
#[tokio::test]
async fn a_transaction_committing_after_a_later_one_is_not_skipped() {
    let app = spawn_app().await;
    let mut events = Events::open(&app, "?after=now", None).await;
    let mut early = app.pool.begin().await.unwrap();
    sqlx::query("INSERT INTO students (name, grade) VALUES ('Early', 'A')")
        .execute(&mut *early)
        .await
        .unwrap();
    app.create_student("Late", "A", None).await;
    // Late committed, but Early's transaction is older and still open: Late must wait.
    let premature = tokio::time::timeout(
        Duration::from_millis(1500),
        events.next(Duration::from_secs(3600)),
    )
    .await;
    assert!(
        premature.is_err(),
        "nothing before Early commits: {premature:?}"
    );
    early.commit().await.unwrap();
    let both = events.take(2).await;
    let names: Vec<&str> = both
        .iter()
        .map(|e| e.data["student"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Early", "Late"]);
    // The poll sees them in the same order.
    let page = poll(&app, "?wait=0").await;
    let polled: Vec<&str> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["student"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(polled, ["Early", "Late"]);
}

/// A transaction with the lower id can change a student after one with a higher id did: the
/// feed must still give that student's changes in the order they happened.
#[tokio::test]
async fn one_students_changes_keep_their_order_whatever_the_transaction_ids() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let other = app.create_student("Other", "A", None).await;
    let mut older = app.pool.begin().await.unwrap();
    // Takes its transaction id now, by writing something else first.
    sqlx::query("UPDATE students SET grade = 'B' WHERE id = $1")
        .bind(other["id"].as_i64())
        .execute(&mut *older)
        .await
        .unwrap();
    // A younger transaction changes Ada and commits.
    assert_eq!(
        app.patch_student(&ada, &json!({"grade": "C"}))
            .await
            .status(),
        200
    );
    // The older one changes Ada after that, then commits.
    sqlx::query("UPDATE students SET grade = 'D' WHERE id = $1")
        .bind(ada["id"].as_i64())
        .execute(&mut *older)
        .await
        .unwrap();
    older.commit().await.unwrap();

    let page = poll(&app, &format!("?wait=0&student_id={}", ada["id"])).await;
    let versions: Vec<i64> = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3], "{page:#}");
    let history = app
        .get(&format!("/api/students/{}/history", ada["id"]))
        .await
        .json::<Value>()
        .await
        .unwrap();
    let versions: Vec<i64> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, [3, 2, 1]);
}

#[tokio::test]
async fn filters_by_grade_and_student() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let bob = app.create_student("Bob", "B", None).await;
    assert_eq!(
        app.patch_student(&bob, &json!({"grade": "A"}))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.patch_student(&ada, &json!({"grade": "C"}))
            .await
            .status(),
        200
    );
    app.create_student("Cy", "C", None).await;

    let grade_a = poll(&app, "?wait=0&grade=A").await;
    let seen: Vec<(String, String)> = grade_a["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["student"]["name"].as_str().unwrap().to_owned(),
                c["op"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Bob joins grade A and Ada leaves it: both are news to grade A's followers.
    let pair = |name: &str, op: &str| (name.to_owned(), op.to_owned());
    assert_eq!(
        seen,
        [
            pair("Ada", "created"),
            pair("Bob", "updated"),
            pair("Ada", "updated")
        ]
    );
    let mut bobs = Events::open(&app, &format!("?student_id={}", bob["id"]), None).await;
    assert_eq!(
        ids_of(&bobs.take(2).await),
        [bob["id"].as_i64().unwrap(); 2]
    );
}

#[tokio::test]
async fn a_position_past_the_retention_is_410_and_no_position_starts_at_the_oldest_kept() {
    let (app, _server) = crate::helpers::spawn_app_on_own_server().await;
    for n in 0..3 {
        app.create_student(&format!("Student {n}"), "A", None).await;
    }
    let page = poll(&app, "?wait=0&limit=1").await;
    let early = page["next"].as_str().unwrap().to_owned();
    psql(
        &app,
        "UPDATE student_changes SET changed_at = now() - interval '8 days' \
         WHERE student_id IN (SELECT id FROM students WHERE name IN ('Student 0', 'Student 1'))",
    )
    .await;
    let week = Duration::from_secs(7 * 86_400);
    assert_eq!(app.prune_changes(week).await, 2);

    let gone = app
        .get(&format!("/api/students/changes/poll?after={early}&wait=0"))
        .await;
    let problem = assert_problem(gone, 410).await;
    assert_eq!(problem["type"], "urn:students-api:problem:position-expired");
    assert!(
        problem["detail"].as_str().unwrap().contains("7d"),
        "{problem}"
    );
    let stream = app
        .get(&format!("/api/students/changes?after={early}"))
        .await;
    assert_problem(stream, 410).await;

    let kept = poll(&app, "?wait=0").await;
    assert_eq!(kept["changes"].as_array().unwrap().len(), 1);
    assert_eq!(kept["changes"][0]["student"]["name"], "Student 2");
}

#[tokio::test]
async fn bad_positions_and_filters_are_422_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, location) in [
        ("?after=yesterday", "query.after"),
        ("?after=AAAAAAAAAAAAAAAAAAAA%00A", "query.after"),
        ("?after=AAAAAAAAAAAAAAAAAAAA%E2%80%8BA", "query.after"),
        ("?after=%2F%2F%2F%2F", "query.after"),
        ("?grade=Z", "query.grade"),
        ("?student_id=0", "query.student_id"),
        ("?student_id=x", "query.student_id"),
    ] {
        for path in ["/api/students/changes", "/api/students/changes/poll"] {
            let problem = assert_problem(app.get(&format!("{path}{query}")).await, 422).await;
            let locations: Vec<String> = error_locations(&problem)
                .into_iter()
                .map(|(l, _)| l)
                .collect();
            assert_eq!(locations, [location], "{path}{query}: {problem}");
        }
    }
    for wait in ["61", "-1", "x"] {
        let problem = assert_problem(
            app.get(&format!("/api/students/changes/poll?wait={wait}"))
                .await,
            422,
        )
        .await;
        assert_eq!(error_locations(&problem)[0].0, "query.wait");
    }
    for header in ["now", "AAAA", "AAAAAAAAAAAAAAAAAAAA\u{200b}"] {
        let response = app
            .client
            .get(app.url("/api/students/changes"))
            .header("last-event-id", header)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 422).await;
        assert_eq!(error_locations(&problem)[0].0, "header.Last-Event-ID");
    }
    let problem = assert_problem(app.get("/api/students/1/history?cursor=nope").await, 422).await;
    assert_eq!(error_locations(&problem)[0].0, "query.cursor");
}

#[tokio::test]
async fn a_students_history_is_newest_first_paged_and_survives_its_delete() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let path = format!("/api/students/{}/history", ada["id"]);
    assert_eq!(
        app.patch_student(&ada, &json!({"email": "ada@example.com"}))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.patch_student(&ada, &json!({"name": "Ada King", "email": null}))
            .await
            .status(),
        200
    );
    app.create_student("Someone else", "B", None).await;
    assert_eq!(app.delete_student(&ada).await.status(), 204);

    let first: Value = app
        .get(&format!("{path}?limit=2"))
        .await
        .json()
        .await
        .unwrap();
    let second: Value = app
        .get(&format!(
            "{path}?limit=2&cursor={}",
            first["next_cursor"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second["next_cursor"], Value::Null);
    let changes: Vec<Value> = first["changes"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["changes"].as_array().unwrap())
        .cloned()
        .collect();
    let ops: Vec<&str> = changes.iter().map(|c| c["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["deleted", "updated", "updated", "created"]);
    assert_eq!(
        changes[1]["changes"],
        json!({
            "name": {"before": "Ada", "after": "Ada King"},
            "email": {"before": "ada@example.com", "after": null},
        })
    );
    assert_eq!(
        changes[2]["changes"],
        json!({"email": {"before": null, "after": "ada@example.com"}})
    );
    assert_eq!(
        changes[0]["changes"],
        json!({"name": {"before": "Ada King", "after": null}, "grade": {"before": "A", "after": null}})
    );
    assert!(changes.iter().all(|c| c["actor"]["token_id"].is_i64()));

    let problem = assert_problem(app.get("/api/students/999999/history").await, 404).await;
    assert_eq!(
        problem["type"],
        "urn:students-api:problem:student-not-found"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_instance_reaches_a_subscriber_of_another_within_a_second() {
    let first = spawn_app().await;
    let second = crate::helpers::spawn_second_instance(&first).await;
    let mut events = Events::open(&second, "?after=now", None).await;
    let mut delays = Vec::new();
    for n in 0..40 {
        let sent = Instant::now();
        first
            .create_student(&format!("Across {n}"), "A", None)
            .await;
        let event = events.next(Duration::from_secs(5)).await.unwrap();
        delays.push(sent.elapsed());
        assert_eq!(event.data["student"]["name"], format!("Across {n}"));
    }
    delays.sort();
    let p99 = delays[delays.len() * 99 / 100 - 1];
    println!(
        "across instances: median {:?}, p99 {p99:?}, max {:?}",
        delays[delays.len() / 2],
        delays.last().unwrap()
    );
    assert!(p99 < Duration::from_secs(1), "{delays:?}");
}

/// Opens a stream on a raw socket with a 4 KiB receive buffer, so a client that stops reading
/// soon stops the server from sending.
async fn open_slow_stream(app: &TestApp, query: &str) -> tokio::net::TcpStream {
    use tokio::io::AsyncWriteExt;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let address = app.address.trim_start_matches("http://").parse().unwrap();
    let mut stream = socket.connect(address).await.unwrap();
    let request = format!("GET /api/students/changes{query} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream
        .write_all(&app.authorized(request.as_bytes()))
        .await
        .unwrap();
    stream
}

/// The ids (`id:` lines) a chunked event stream sent, until its last chunk; panics if it does
/// not end within `within`.
async fn read_until_the_stream_ends(
    stream: &mut tokio::net::TcpStream,
    within: Duration,
) -> Vec<String> {
    use tokio::io::AsyncReadExt;
    let mut raw = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let Ok(read) = tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await else {
            let text = String::from_utf8_lossy(&raw);
            panic!(
                "the stream did not end within {within:?}; {} events came, ending {:?}",
                text.lines().filter(|line| line.starts_with("id: ")).count(),
                &text[text.len().saturating_sub(200)..]
            );
        };
        let read = read.unwrap();
        raw.extend_from_slice(&buffer[..read]);
        if read == 0 || raw.ends_with(b"\r\n0\r\n\r\n") {
            break;
        }
    }
    // Event ids only: an id-only block (the position, before events and with keep-alives) is
    // not an event.
    let text = String::from_utf8_lossy(&raw);
    let lines: Vec<&str> = text.lines().collect();
    lines
        .windows(2)
        .filter(|pair| pair[1].starts_with("event: "))
        .filter_map(|pair| pair[0].strip_prefix("id: "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_falls_behind_is_disconnected_and_resumes_without_a_gap() {
    use tokio::io::AsyncReadExt;
    const TRANSACTIONS: usize = 40;
    const ROWS: usize = 500;
    let app = spawn_app_adjusted(|_| {}, |app| app.set_feed_backlog(4)).await;
    let mut slow = open_slow_stream(&app, "?after=now").await;
    // The answer has begun (headers and `retry:`): `now` is fixed.
    let mut head = vec![0u8; 512];
    let read = slow.read(&mut head).await.unwrap();
    assert!(head[..read].starts_with(b"HTTP/1.1 200"));
    // While it reads nothing, megabytes of changes go by: more than the socket buffers hold,
    // and far more batches than the server keeps for it.
    for t in 0..TRANSACTIONS {
        sqlx::query(
            "INSERT INTO students (name, grade) \
             SELECT format('%s %s-%s', repeat('x', 80), $1::int, n), 'A' \
             FROM generate_series(1, $2::int) AS n",
        )
        .bind(i32::try_from(t).unwrap())
        .bind(i32::try_from(ROWS).unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let delivered = read_until_the_stream_ends(&mut slow, Duration::from_secs(60)).await;
    let total = TRANSACTIONS * ROWS;
    assert!(
        !delivered.is_empty() && delivered.len() < total,
        "ended early, after {} of {total} events",
        delivered.len()
    );
    // Resumed from the last event it got: the rest, none twice, in the feed's order.
    let resumed = poll_until_empty(&app, delivered.last().map(String::as_str), 100).await;
    let mut all = delivered.clone();
    all.extend(positions(&resumed));
    let everything = poll_all_positions(&app).await;
    assert_eq!(everything.len(), total);
    assert_eq!(all, everything);
}

async fn poll_all_positions(app: &TestApp) -> Vec<String> {
    positions(&poll_until_empty(app, None, 100).await)
}

/// Every change after `after` (`None`: the oldest kept), polled `limit` at a time with
/// `wait=0`, each page from the previous one's `next`.
async fn poll_until_empty(app: &TestApp, after: Option<&str>, limit: u32) -> Vec<Value> {
    let mut changes = Vec::new();
    let mut after = after
        .map(|position| format!("&after={position}"))
        .unwrap_or_default();
    loop {
        let page = poll(app, &format!("?wait=0&limit={limit}{after}")).await;
        let page_changes = page["changes"].as_array().unwrap();
        if page_changes.is_empty() {
            return changes;
        }
        changes.extend(page_changes.iter().cloned());
        after = format!("&after={}", page["next"].as_str().unwrap());
    }
}

fn positions(changes: &[Value]) -> Vec<String> {
    changes
        .iter()
        .map(|c| c["position"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_survives_a_database_restart_with_nothing_missed() {
    let mut pg = EmbeddedPostgres::start_throwaway().unwrap();
    let app = serve(
        Application::build(test_config(Some(pg.url("feed"))))
            .await
            .unwrap(),
    )
    .await;
    let mut events = Events::open(&app, "?after=now", None).await;
    app.create_student("Before", "A", None).await;
    assert_eq!(
        events.next(Duration::from_secs(5)).await.unwrap().data["student"]["name"],
        "Before"
    );
    let pg = tokio::task::spawn_blocking(move || {
        pg.restart(Shutdown::Fast, Duration::from_millis(500))
            .map(|()| pg)
    })
    .await
    .unwrap()
    .unwrap();
    // Written the moment the database is back, before the feed's listener has reconnected.
    let mut written = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while written < 3 && Instant::now() < deadline {
        let response = app
            .post_student(&json!({"name": format!("After {written}"), "grade": "A"}))
            .await;
        if response.status() == 201 {
            written += 1;
        } else {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    assert_eq!(written, 3);
    let after = events.take(3).await;
    let names: Vec<&str> = after
        .iter()
        .map(|e| e.data["student"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["After 0", "After 1", "After 2"]);
    drop(app);
    drop(pg);
}

#[tokio::test]
async fn an_idle_stream_gets_a_keep_alive_comment_every_15_seconds() {
    let app = spawn_app().await;
    let mut events = Events::open(&app, "?after=now", None).await;
    let opened = Instant::now();
    let nothing = tokio::time::timeout(
        Duration::from_secs(17),
        events.next(Duration::from_secs(3600)),
    )
    .await;
    assert!(nothing.is_err(), "no event on an idle feed");
    assert!(
        events.last_id.is_some(),
        "the position came with the keep-alive"
    );
    let keep_alives = events
        .extras
        .iter()
        .filter(|line| *line == ": keep-alive")
        .count();
    assert_eq!(keep_alives, 1, "one comment in 17 s: {:?}", events.extras);
    assert!(opened.elapsed() >= Duration::from_secs(15));
}

/// A stream started at `now` gives its position before any event, so a client that loses the
/// connection while the feed is idle reconnects from there, not from a new `now`.
#[tokio::test]
async fn a_stream_from_now_gives_its_position_so_an_idle_reconnect_misses_nothing() {
    let app = spawn_app().await;
    let mut events = Events::open(&app, "?after=now", None).await;
    let nothing = tokio::time::timeout(
        Duration::from_millis(300),
        events.next(Duration::from_secs(3600)),
    )
    .await;
    assert!(nothing.is_err());
    let position = events.last_id.clone().expect("an id before any event");
    drop(events);
    // Written while the client is away.
    app.create_student("While away", "A", None).await;
    // The browser reconnects to the same URL with Last-Event-ID.
    let mut resumed = Events::open(&app, "?after=now", Some(&position)).await;
    let event = resumed.next(Duration::from_secs(5)).await.unwrap();
    assert_eq!(event.data["student"]["name"], "While away");
}
