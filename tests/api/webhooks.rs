//! Webhooks against a real receiver on loopback: every change delivered once and in order per
//! student, signatures verified by the official `standardwebhooks` Python package (not by our
//! code), through a receiver that is down, answers 500s, or answers 410; the sender killed
//! with SIGKILL mid-delivery; two instances; rotation; the SSRF rules.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU16, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use poem::{
    EndpointExt, Route, handler,
    http::{HeaderMap, StatusCode},
    listener::{Acceptor, Listener, TcpListener},
    post,
    web::Data,
};
use serde_json::{Value, json};
use sqlx::PgPool;
use students_api::config::Config;

use crate::helpers::{TestApp, assert_problem, fresh_database_url, spawn_app_with};

/// One delivery as the receiver got it.
#[derive(Debug, Clone)]
struct Delivery {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Delivery {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// What the receiver got and how it answers; shared with its handler.
#[derive(Debug, Clone, Default)]
struct Inbox {
    got: Arc<Mutex<Vec<Delivery>>>,
    /// The status it answers (200 unless set).
    status: Arc<AtomicU16>,
    /// Milliseconds it waits before answering.
    delay_ms: Arc<AtomicU64>,
    /// Requests answered with something other than 2xx.
    refused: Arc<AtomicU64>,
}

impl Inbox {
    fn deliveries(&self) -> Vec<Delivery> {
        self.got.lock().unwrap().clone()
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }
}

#[handler]
async fn receive(headers: &HeaderMap, body: String, Data(inbox): Data<&Inbox>) -> StatusCode {
    let delay = inbox.delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let status = match inbox.status.load(Ordering::SeqCst) {
        0 => 200,
        status => status,
    };
    if (200..300).contains(&status) {
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        inbox.got.lock().unwrap().push(Delivery {
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body,
        });
    } else {
        inbox.refused.fetch_add(1, Ordering::SeqCst);
    }
    StatusCode::from_u16(status).unwrap()
}

/// A receiver on 127.0.0.1; stopping it closes the port (connections are refused) until it
/// is started again on the same port.
struct Receiver {
    inbox: Inbox,
    port: u16,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    async fn start() -> Self {
        let mut receiver = Self {
            inbox: Inbox::default(),
            port: 0,
            stop: None,
            task: None,
        };
        receiver.listen().await;
        receiver
    }

    async fn listen(&mut self) {
        let acceptor = TcpListener::bind(format!("127.0.0.1:{}", self.port))
            .into_acceptor()
            .await
            .unwrap();
        self.port = acceptor
            .local_addr()
            .first()
            .and_then(|addr| addr.as_socket_addr().map(SocketAddr::port))
            .unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Route::new()
            .at("/hook", post(receive))
            .data(self.inbox.clone());
        self.task = Some(tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(
                    app,
                    async {
                        let _ = stopped.await;
                    },
                    Some(Duration::from_millis(100)),
                )
                .await;
        }));
        self.stop = Some(stop);
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }
}

/// Short waits between attempts, so a test sees several.
fn quick_retries(config: &mut Config) {
    config.webhook_allowed_hosts = vec!["127.0.0.1".into()];
    config.webhook_retry_delays = vec![Duration::from_millis(1000); 9];
}

async fn spawn_sender() -> TestApp {
    spawn_app_with(quick_retries).await
}

/// Makes an endpoint over the API; returns its id and secret.
async fn create_endpoint(app: &TestApp, body: Value) -> (i64, String) {
    let response = app
        .client
        .post(app.url("/api/webhooks"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let made: Value = response.json().await.unwrap();
    (
        made["endpoint"]["id"].as_i64().unwrap(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

/// Changes recorded since the endpoint was made (what it must receive).
async fn changes_since(pool: &PgPool, endpoint: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM student_changes c, webhook_endpoints e \
         WHERE e.id = $1 AND c.changed_at >= e.created_at",
    )
    .bind(endpoint)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits until `done` holds, up to `within`, saying what it waited for when it gives up.
async fn wait_for(what: &str, within: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out after {within:?} waiting for {what}");
}

/// Waits until the receiver holds every change recorded since the endpoint was made.
async fn wait_for_all(pool: &PgPool, endpoint: i64, inbox: &Inbox, within: Duration) -> i64 {
    let expected = changes_since(pool, endpoint).await;
    wait_for("every change to arrive", within, async || {
        let unique: HashSet<String> = inbox.deliveries().into_iter().map(|d| d.id).collect();
        i64::try_from(unique.len()).unwrap() >= expected
    })
    .await;
    expected
}

/// Which of `secrets` each delivery verifies with, asked of the `standardwebhooks` package.
fn verify(deliveries: &[Delivery], secrets: &[&str]) -> Vec<Vec<bool>> {
    let python =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/webhook-verifier/bin/python");
    assert!(
        python.exists(),
        "{} is missing: scripts/test installs it (python3 -m venv target/webhook-verifier && \
         target/webhook-verifier/bin/pip install standardwebhooks==1.3.0)",
        python.display()
    );
    let request = json!({
        "secrets": secrets,
        "messages": deliveries.iter().map(|d| json!({
            "id": d.id, "timestamp": d.timestamp, "signature": d.signature, "body": d.body,
        })).collect::<Vec<_>>(),
    });
    let mut child = Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/webhooks/verify.py"
        ))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        request.to_string().as_bytes(),
    )
    .unwrap();
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the verifier failed");
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    serde_json::from_value(answer["verified"].clone()).unwrap()
}

/// Every delivery once per webhook-id, each student's in feed order with rising versions;
/// returns how many arrived more than once.
fn check_order(deliveries: &[Delivery]) -> usize {
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    let mut last: HashMap<i64, (String, i64)> = HashMap::new();
    for delivery in deliveries {
        if !seen.insert(delivery.id.clone()) {
            duplicates += 1;
            continue;
        }
        let body = delivery.json();
        assert_eq!(
            body["position"], delivery.id,
            "webhook-id is the feed position"
        );
        let student = body["student"]["id"].as_i64().unwrap();
        let version = body["version"].as_i64().unwrap();
        if let Some((position, previous)) = last.get(&student) {
            assert!(
                delivery.id > *position || decode(&delivery.id) > decode(position),
                "student {student}: {} after {position}",
                delivery.id
            );
            assert!(
                version >= *previous,
                "student {student}: version {version} after {previous}"
            );
        }
        last.insert(student, (delivery.id.clone(), version));
    }
    duplicates
}

/// A position's order (xid, seq), from its wire form.
fn decode(position: &str) -> (i64, i64) {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(position)
        .unwrap();
    (
        i64::from_be_bytes(bytes[..8].try_into().unwrap()),
        i64::from_be_bytes(bytes[8..].try_into().unwrap()),
    )
}

/// Asks the endpoint to replay (`replayWebhookEvents`).
async fn replay(app: &TestApp, endpoint: i64, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/webhooks/{endpoint}/replay")))
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Writes `count` changes: creates, updates and deletes over the API from 8 clients at once,
/// and a fifth of them in SQL (as psql would).
async fn write_changes(app: &TestApp, count: usize) {
    let in_sql = count / 5;
    let over_api = count - in_sql;
    let per_client = over_api / 8;
    let mut clients = Vec::new();
    for client in 0..8 {
        let (http, base) = (app.client.clone(), app.address.clone());
        let writes = if client == 7 {
            over_api - per_client * 7
        } else {
            per_client
        };
        clients.push(tokio::spawn(async move {
            let mut made: Vec<i64> = Vec::new();
            for n in 0..writes {
                // Per client: create, create, update, then delete every fourth round.
                let response = match (n % 4, made.last()) {
                    (2, Some(id)) => {
                        http.patch(format!("{base}/api/students/{id}"))
                            .json(&json!({"grade": "B"}))
                            .send()
                            .await
                    }
                    (3, Some(_)) if made.len() > 1 => {
                        let id = made.remove(0);
                        http.delete(format!("{base}/api/students/{id}"))
                            .send()
                            .await
                    }
                    _ => {
                        http.post(format!("{base}/api/students"))
                            .json(&json!({"name": format!("W {client}-{n}"), "grade": "A"}))
                            .send()
                            .await
                    }
                }
                .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                if response.status() == 201 {
                    let body: Value = response.json().await.unwrap();
                    made.push(body["id"].as_i64().unwrap());
                }
            }
        }));
    }
    let half = i64::try_from(in_sql / 2).unwrap();
    sqlx::query(
        "INSERT INTO students (name, grade) SELECT 'SQL ' || n, 'C' FROM generate_series(1, $1) n",
    )
    .bind(half)
    .execute(&app.pool)
    .await
    .unwrap();
    for client in clients {
        client.await.unwrap();
    }
    sqlx::query(
        "UPDATE students SET grade = 'D' WHERE id IN \
         (SELECT id FROM students WHERE name LIKE 'SQL %' ORDER BY id LIMIT $1)",
    )
    .bind(i64::try_from(in_sql).unwrap() - half)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn every_change_of_a_thousand_writes_arrives_once_in_order_and_verifies() {
    let app = spawn_sender().await;
    let receiver = Receiver::start().await;
    let (endpoint, secret) = create_endpoint(&app, json!({"url": receiver.url()})).await;

    write_changes(&app, 1000).await;

    let expected = wait_for_all(
        &app.pool,
        endpoint,
        &receiver.inbox,
        Duration::from_secs(60),
    )
    .await;
    assert!(expected >= 1000, "{expected} changes recorded");
    let deliveries = receiver.inbox.deliveries();
    assert_eq!(check_order(&deliveries), 0, "no duplicates without a crash");
    assert_eq!(i64::try_from(deliveries.len()).unwrap(), expected);
    let verified = verify(&deliveries, &[&secret]);
    assert!(
        verified.iter().all(|row| row == &[true]),
        "every signature verifies"
    );
    let ops: HashSet<String> = deliveries
        .iter()
        .map(|d| d.json()["op"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ops.len(), 3, "created, updated and deleted: {ops:?}");
    let actors: HashSet<String> = deliveries
        .iter()
        .map(|d| d.json()["actor"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(actors.len() >= 2, "API and psql writers: {actors:?}");

    // The log has one delivered attempt per change.
    let delivered: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_attempts WHERE endpoint_id = $1 AND outcome = 'delivered'",
    )
    .bind(endpoint)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(delivered, expected);
    println!("{expected} changes delivered once each, in order, verified by standardwebhooks");
}

#[tokio::test]
async fn a_receiver_that_is_down_for_a_minute_then_back_misses_nothing() {
    // The schedule's shape, in seconds rather than minutes and hours: 1, 2, 4, … 256 s.
    let app = spawn_app_with(|config| {
        quick_retries(config);
        config.webhook_retry_delays = (0..9).map(|n| Duration::from_secs(1 << n)).collect();
    })
    .await;
    let mut receiver = Receiver::start().await;
    let (endpoint, secret) = create_endpoint(&app, json!({"url": receiver.url()})).await;
    receiver.stop().await;

    write_changes(&app, 200).await;
    // Down for a minute: every attempt meets a closed port, and is retried.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let retrying: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_attempts WHERE endpoint_id = $1 AND outcome = 'retrying' \
         AND error LIKE 'could not connect%'",
    )
    .bind(endpoint)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(retrying > 0, "attempts failed and were retried");
    let failing: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT failing_since FROM webhook_endpoints WHERE id = $1")
            .bind(endpoint)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(failing.is_some(), "the endpoint shows it is failing");

    receiver.listen().await;
    let expected = wait_for_all(
        &app.pool,
        endpoint,
        &receiver.inbox,
        Duration::from_secs(60),
    )
    .await;
    let deliveries = receiver.inbox.deliveries();
    assert_eq!(check_order(&deliveries), 0);
    assert!(verify(&deliveries, &[&secret]).iter().all(|r| r == &[true]));
    wait_for("the health to clear", Duration::from_secs(10), async || {
        let health = app.get(&format!("/api/webhooks/{endpoint}")).await;
        let health: Value = health.json().await.unwrap();
        health["health"]["failing_since"].is_null() && health["health"]["pending"] == 0
    })
    .await;
    println!("receiver down 60 s: {retrying} attempts retried, then all {expected} delivered");
}

#[tokio::test]
async fn five_hundreds_for_a_while_then_everything_in_order() {
    let app = spawn_sender().await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = create_endpoint(&app, json!({"url": receiver.url()})).await;
    receiver.inbox.answer(500);
    let student = app.create_student("Ada", "A", None).await;
    let id = student["id"].as_i64().unwrap();
    for grade in ["B", "C", "D"] {
        let patched = app
            .patch_student(&student, &json!({ "grade": grade }))
            .await;
        assert_eq!(patched.status(), 200);
    }
    wait_for("500s to be answered", Duration::from_secs(10), async || {
        receiver.inbox.refused.load(Ordering::SeqCst) >= 3
    })
    .await;
    receiver.inbox.answer(200);
    wait_for_all(
        &app.pool,
        endpoint,
        &receiver.inbox,
        Duration::from_secs(30),
    )
    .await;
    let grades: Vec<String> = receiver
        .inbox
        .deliveries()
        .iter()
        .map(|d| d.json())
        .filter(|body| body["student"]["id"] == id)
        .map(|body| body["student"]["grade"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        grades,
        ["A", "B", "C", "D"],
        "one student's events in order"
    );
    let log = app
        .get(&format!("/api/webhooks/{endpoint}/attempts?limit=100"))
        .await;
    assert_eq!(log.status(), 200);
    let log: Value = log.json().await.unwrap();
    let statuses: HashSet<i64> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["status_code"].as_i64())
        .collect();
    assert!(
        statuses.contains(&500) && statuses.contains(&200),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn an_event_that_fails_every_attempt_is_marked_failed_and_replay_sends_it() {
    let app = spawn_app_with(|config| {
        quick_retries(config);
        config.webhook_retry_delays = vec![Duration::from_millis(500); 2];
    })
    .await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = create_endpoint(&app, json!({"url": receiver.url()})).await;
    receiver.inbox.answer(503);
    app.create_student("Ada", "A", None).await;
    wait_for("the event to fail", Duration::from_secs(15), async || {
        let endpoint: Value = app
            .get(&format!("/api/webhooks/{endpoint}"))
            .await
            .json()
            .await
            .unwrap();
        endpoint["health"]["failed"] == 1 && endpoint["health"]["pending"] == 0
    })
    .await;
    let log: Value = app
        .get(&format!("/api/webhooks/{endpoint}/attempts"))
        .await
        .json()
        .await
        .unwrap();
    let outcomes: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["failed", "retrying", "retrying"],
        "three attempts, newest first"
    );

    // A later change of another student still goes; the failed one waits for a replay.
    receiver.inbox.answer(200);
    app.create_student("Grace", "B", None).await;
    wait_for("Grace", Duration::from_secs(10), async || {
        receiver.inbox.deliveries().len() == 1
    })
    .await;
    let replayed = replay(&app, endpoint, &json!({ "since": "2000-01-01T00:00:00Z" })).await;
    assert_eq!(replayed.status(), 202);
    wait_for("Ada, replayed", Duration::from_secs(10), async || {
        receiver
            .inbox
            .deliveries()
            .iter()
            .any(|d| d.json()["student"]["name"] == "Ada")
    })
    .await;
}

#[tokio::test]
async fn gone_disables_at_once_and_five_days_of_failures_disable() {
    let app = spawn_sender().await;
    let receiver = Receiver::start().await;
    let (gone, _) = create_endpoint(&app, json!({"url": receiver.url()})).await;
    receiver.inbox.answer(410);
    app.create_student("Ada", "A", None).await;
    wait_for(
        "410 to disable the endpoint",
        Duration::from_secs(10),
        async || {
            let endpoint: Value = app
                .get(&format!("/api/webhooks/{gone}"))
                .await
                .json()
                .await
                .unwrap();
            endpoint["enabled"] == false && endpoint["disabled_reason"] == "gone"
        },
    )
    .await;

    receiver.inbox.answer(500);
    let (failing, _) = create_endpoint(&app, json!({"url": receiver.url()})).await;
    sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = now() - interval '6 days' WHERE id = $1",
    )
    .bind(failing)
    .execute(&app.pool)
    .await
    .unwrap();
    app.create_student("Grace", "B", None).await;
    wait_for(
        "5 days of failures to disable",
        Duration::from_secs(10),
        async || {
            let endpoint: Value = app
                .get(&format!("/api/webhooks/{failing}"))
                .await
                .json()
                .await
                .unwrap();
            endpoint["disabled_reason"] == "failing"
        },
    )
    .await;

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("webhook_endpoints_disabled_total{reason=\"gone\"}")
            && metrics.contains("webhook_endpoints_disabled_total{reason=\"failing\"}")
            && metrics.contains("webhook_attempts_total{outcome=\"retrying\"}"),
        "counted in /metrics"
    );

    // Re-enabled, it resumes where it stopped: the event that met the 410 arrives.
    receiver.inbox.answer(200);
    let resumed = app
        .send_json(
            reqwest::Method::PATCH,
            &format!("/api/webhooks/{gone}"),
            &json!({"enabled": true}),
        )
        .await;
    assert_eq!(resumed.status(), 200);
    wait_for(
        "the resumed endpoint's event",
        Duration::from_secs(10),
        async || {
            receiver
                .inbox
                .deliveries()
                .iter()
                .any(|d| d.json()["student"]["name"] == "Ada")
        },
    )
    .await;
}

#[tokio::test]
async fn rotation_sends_both_signatures_then_only_the_new() {
    let app = spawn_sender().await;
    let receiver = Receiver::start().await;
    let (endpoint, old) = create_endpoint(&app, json!({"url": receiver.url()})).await;
    let rotated = app
        .client
        .post(app.url(&format!("/api/webhooks/{endpoint}/rotate-secret")))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), 200);
    let rotated: Value = rotated.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    let until = chrono::DateTime::parse_from_rfc3339(
        rotated["endpoint"]["previous_secret_expires_at"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let lasts = until.to_utc() - chrono::Utc::now();
    assert!(
        lasts > chrono::TimeDelta::hours(24) - chrono::TimeDelta::minutes(1)
            && lasts <= chrono::TimeDelta::hours(24),
        "the old secret signs for 24 hours: {lasts}"
    );

    app.create_student("During", "A", None).await;
    wait_for("the first delivery", Duration::from_secs(10), async || {
        receiver.inbox.deliveries().len() == 1
    })
    .await;
    // The old secret's 24 hours, over.
    sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' \
         WHERE id = $1",
    )
    .bind(endpoint)
    .execute(&app.pool)
    .await
    .unwrap();
    // A worker reads its endpoint again once a second.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.create_student("After", "A", None).await;
    wait_for("the second delivery", Duration::from_secs(10), async || {
        receiver.inbox.deliveries().len() == 2
    })
    .await;
    let deliveries = receiver.inbox.deliveries();
    assert_eq!(deliveries[0].signature.split(' ').count(), 2);
    assert_eq!(deliveries[1].signature.split(' ').count(), 1);
    assert_eq!(
        verify(&deliveries, &[&new, &old]),
        vec![vec![true, true], vec![true, false]]
    );
}

#[tokio::test]
async fn internal_addresses_are_refused_unless_allowed_and_checked_again_at_delivery() {
    // No allow-list: https to public addresses only.
    let strict = spawn_app_with(|_| {}).await;
    for url in [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.0.0.7/hook",
        "https://192.168.1.20/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "http://example.com/hook",
    ] {
        let refused = strict
            .client
            .post(strict.url("/api/webhooks"))
            .json(&json!({ "url": url }))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(refused, 422).await;
        assert_eq!(problem["errors"][0]["location"], "/url", "{url}");
        assert_eq!(problem["errors"][0]["code"], "url_not_allowed", "{url}");
    }
    for url in [
        "ftp://example.com/",
        "https://u:p@example.com/",
        "not a url",
    ] {
        let refused = strict
            .client
            .post(strict.url("/api/webhooks"))
            .json(&json!({ "url": url }))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(refused, 422).await;
        assert_eq!(problem["errors"][0]["location"], "/url", "{url}");
    }
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints")
        .fetch_one(&strict.pool)
        .await
        .unwrap();
    assert_eq!(none, 0, "nothing was written");

    // Allowed by address; a name that resolves to it is not (DNS rebinding): written in psql,
    // refused when the delivery connects, and the receiver gets nothing.
    let app = spawn_sender().await;
    let receiver = Receiver::start().await;
    let (endpoint, _) = create_endpoint(&app, json!({"url": receiver.url()})).await;
    sqlx::query("UPDATE webhook_endpoints SET url = $2 WHERE id = $1")
        .bind(endpoint)
        .bind(format!("https://localhost:{}/hook", receiver.port))
        .execute(&app.pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    app.create_student("Ada", "A", None).await;
    let mut error = String::new();
    wait_for("the refused attempt", Duration::from_secs(10), async || {
        let log: Value = app
            .get(&format!("/api/webhooks/{endpoint}/attempts"))
            .await
            .json()
            .await
            .unwrap();
        error = log["items"][0]["error"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        !error.is_empty()
    })
    .await;
    assert!(
        error.contains("`localhost` is 127.0.0.1, a loopback address"),
        "{error}"
    );
    assert!(receiver.inbox.deliveries().is_empty());
}

#[tokio::test]
async fn the_log_replays_and_test_events() {
    let app = spawn_sender().await;
    let receiver = Receiver::start().await;
    let (endpoint, secret) = create_endpoint(
        &app,
        json!({"url": receiver.url(), "events": ["student.created"], "grades": ["A"]}),
    )
    .await;
    let ada = app.create_student("Ada", "A", None).await;
    app.create_student("Bob", "B", None).await;
    app.patch_student(&ada, &json!({"name": "Ada L"})).await;
    wait_for("Ada's creation", Duration::from_secs(10), async || {
        !receiver.inbox.deliveries().is_empty()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = receiver.inbox.deliveries();
    assert_eq!(got.len(), 1, "only creations in grade A");
    let event = got[0].id.clone();

    // Replay one event: the same webhook-id again.
    let replayed = replay(&app, endpoint, &json!({ "event_id": event })).await;
    assert_eq!(replayed.status(), 202);
    assert_eq!(replayed.json::<Value>().await.unwrap()["queued"], 1);
    wait_for("the replay", Duration::from_secs(10), async || {
        receiver.inbox.deliveries().len() == 2
    })
    .await;
    assert_eq!(receiver.inbox.deliveries()[1].id, event);
    // Everything since an hour ago: the one event the endpoint gets.
    let since = replay(
        &app,
        endpoint,
        &json!({ "since": (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339() }),
    )
    .await;
    assert_eq!(since.json::<Value>().await.unwrap()["queued"], 1);
    let neither = replay(&app, endpoint, &json!({})).await;
    assert_problem(neither, 422).await;
    // A position no change was ever at (xid 1, seq 1) is named, not answered with `queued: 0`.
    let unknown = replay(
        &app,
        endpoint,
        &json!({ "event_id": "AAAAAAAAAAEAAAAAAAAAAQ" }),
    )
    .await;
    let problem = assert_problem(unknown, 422).await;
    assert_eq!(problem["errors"][0]["location"], "/event_id");
    assert_eq!(problem["errors"][0]["code"], "unknown_event");

    // A test event, answered at once.
    let test = app
        .client
        .post(app.url(&format!("/api/webhooks/{endpoint}/test")))
        .send()
        .await
        .unwrap();
    assert_eq!(test.status(), 200);
    let attempt: Value = test.json().await.unwrap();
    assert_eq!(attempt["outcome"], "delivered");
    assert_eq!(attempt["status_code"], 200);
    assert!(attempt["event_id"].as_str().unwrap().starts_with("test_"));
    let last = receiver.inbox.deliveries().last().unwrap().clone();
    assert_eq!(last.json()["type"], "webhook.test");
    assert_eq!(verify(&[last], &[&secret]), vec![vec![true]]);

    // The log, newest first, in pages.
    let page: Value = app
        .get(&format!("/api/webhooks/{endpoint}/attempts?limit=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["items"][0]["event_type"], "webhook.test");
    let before = page["next_before"].as_i64().unwrap();
    let older: Value = app
        .get(&format!(
            "/api/webhooks/{endpoint}/attempts?before={before}&event_id={event}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert!(older["items"].as_array().unwrap().len() >= 2);
    assert!(
        older["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["event_id"] == event.as_str())
    );

    // The log is kept as long as the changes: older attempts are pruned with them.
    sqlx::query(
        "UPDATE webhook_attempts SET attempted_at = now() - interval '8 days' \
         WHERE id = (SELECT min(id) FROM webhook_attempts WHERE endpoint_id = $1)",
    )
    .bind(endpoint)
    .execute(&app.pool)
    .await
    .unwrap();
    let pruned = students_api::db::webhooks::prune(&app.pool, Duration::from_secs(7 * 86_400))
        .await
        .unwrap();
    assert_eq!(pruned, 1, "the 8-day-old attempt, and only it");

    // Unknown endpoints are 404s; a students:write token is not enough.
    let missing = app.get("/api/webhooks/999999").await;
    assert_problem(missing, 404).await;
    let writer =
        crate::helpers::make_token(&app.pool, &[students_api::domain::Scope::StudentsWrite])
            .await
            .unwrap();
    let writer = crate::helpers::client_with_token(&writer);
    let mut status = 0;
    // Other instances' caches learn of a token within a second; this one's too.
    wait_for(
        "the token to be known",
        Duration::from_secs(5),
        async || {
            status = writer
                .get(app.url("/api/webhooks"))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            status != 401
        },
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn two_instances_deliver_each_event_once() {
    let first = spawn_sender().await;
    let url = first.database_url().unwrap().to_owned();
    let second = crate::helpers::serve(
        students_api::startup::Application::build({
            let mut config = crate::helpers::test_config(Some(url));
            quick_retries(&mut config);
            config
        })
        .await
        .unwrap(),
    )
    .await;
    let receiver = Receiver::start().await;
    let mut endpoints = Vec::new();
    for _ in 0..4 {
        endpoints.push(
            create_endpoint(&first, json!({"url": receiver.url()}))
                .await
                .0,
        );
    }
    for (n, app) in [&first, &second].into_iter().cycle().take(200).enumerate() {
        app.create_student(&format!("S{n}"), "A", None).await;
    }
    let expected = changes_since(&first.pool, endpoints[0]).await;
    wait_for(
        "every endpoint's deliveries",
        Duration::from_secs(60),
        async || receiver.inbox.deliveries().len() >= usize::try_from(expected * 4).unwrap(),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let deliveries = receiver.inbox.deliveries();
    assert_eq!(
        deliveries.len(),
        usize::try_from(expected * 4).unwrap(),
        "each event once per endpoint"
    );
    let holders: Vec<Option<String>> =
        sqlx::query_scalar("SELECT lease_holder::text FROM webhook_endpoints")
            .fetch_all(&first.pool)
            .await
            .unwrap();
    assert!(holders.iter().all(Option::is_some));
    println!(
        "two instances, 4 endpoints: {} deliveries of {expected} changes, none twice; lease \
         holders {:?}",
        deliveries.len(),
        holders.iter().collect::<HashSet<_>>().len()
    );
}

#[tokio::test]
async fn killed_with_sigkill_mid_delivery_it_resumes_and_loses_nothing() {
    let receiver = Receiver::start().await;
    // Slow answers: the kill lands with attempts in flight.
    receiver.inbox.delay_ms.store(20, Ordering::SeqCst);
    let url = fresh_database_url();
    let start = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_students-api"));
        command
            .env("DATABASE_URL", &url)
            .env("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
            .env("WEBHOOK_RETRY_DELAYS", "1s");
        crate::binary::start(command)
    };
    let mut running = start();
    let pool = PgPool::connect(&url).await.unwrap();
    let new = students_api::db::webhooks::NewEndpoint {
        url: students_api::domain::WebhookUrl::parse(&receiver.url()).unwrap(),
        description: students_api::domain::WebhookDescription::parse("kill test").unwrap(),
        events: students_api::domain::EVENT_TYPES.to_vec(),
        grades: Vec::new(),
    };
    let endpoint = students_api::db::webhooks::create_endpoint(&pool, &new)
        .await
        .unwrap()
        .id;
    sqlx::query(
        "INSERT INTO students (name, grade) SELECT 'K ' || n, 'A' FROM generate_series(1, 500) n",
    )
    .execute(&pool)
    .await
    .unwrap();
    wait_for("deliveries to start", Duration::from_secs(30), async || {
        receiver.inbox.deliveries().len() >= 50
    })
    .await;
    running.child.kill().unwrap();
    running.child.wait().unwrap();
    let at_kill = receiver.inbox.deliveries().len();
    assert!(
        at_kill < 500,
        "killed mid-delivery ({at_kill} of 500 arrived)"
    );

    let mut restarted = start();
    let expected = wait_for_all(&pool, endpoint, &receiver.inbox, Duration::from_secs(90)).await;
    assert_eq!(expected, 500);
    let deliveries = receiver.inbox.deliveries();
    let duplicates = check_order(&deliveries);
    println!(
        "kill -9 after {at_kill} of 500 deliveries: all 500 delivered after the restart, \
         {duplicates} duplicates (sent, not yet recorded, when it was killed)"
    );
    assert!(duplicates <= 200, "at most one round is sent again");
    restarted.child.kill().unwrap();
    restarted.child.wait().unwrap();
    pool.close().await;
    crate::helpers::drop_database(&url);
}

/// `students-api webhook …` on `url`'s database, allowing 127.0.0.1.
fn cli(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_students-api"))
        .arg("webhook")
        .args(args)
        .env("DATABASE_URL", url)
        .env("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test]
async fn the_cli_makes_lists_rotates_pauses_and_deletes_endpoints_with_the_apis_rules() {
    let app = spawn_sender().await;
    let url = app.database_url().unwrap().to_owned();
    let made = cli(
        &url,
        &[
            "create",
            "--url",
            "http://127.0.0.1:9/hook",
            "--event",
            "student.deleted",
        ],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let secret = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 50,
        "only the secret on stdout"
    );
    let listed = String::from_utf8_lossy(&cli(&url, &["list"]).stdout).into_owned();
    let id = listed
        .lines()
        .nth(1)
        .unwrap()
        .split('\t')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        listed.contains("http://127.0.0.1:9/hook\tstudent.deleted\tyes"),
        "{listed}"
    );

    let rotated = cli(&url, &["rotate", &id]);
    assert!(rotated.status.success());
    assert_ne!(String::from_utf8_lossy(&rotated.stdout).trim(), secret);
    assert!(cli(&url, &["disable", &id]).status.success());
    let listed = String::from_utf8_lossy(&cli(&url, &["list"]).stdout).into_owned();
    assert!(listed.contains("\tpaused\t"), "{listed}");
    assert!(cli(&url, &["enable", &id]).status.success());
    assert!(cli(&url, &["delete", &id]).status.success());
    let missing = cli(&url, &["delete", &id]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains(&format!("no webhook endpoint has id {id}"))
    );

    // The API's rules: refused before the database is touched.
    for (args, says) in [
        (
            vec!["create", "--url", "https://10.0.0.1/hook"],
            "private address",
        ),
        (vec!["create", "--url", "ftp://example.com/"], "--url"),
        (
            vec![
                "create",
                "--url",
                "https://example.com/",
                "--event",
                "student.moved",
            ],
            "--event",
        ),
        (
            vec!["create", "--url", "https://example.com/", "--grade", "Z"],
            "--grade",
        ),
        (
            vec![
                "create",
                "--url",
                "https://example.com/",
                "--description",
                "a\u{202E}b",
            ],
            "--description",
        ),
    ] {
        let refused = cli("postgres://postgres@127.0.0.1:1/none", &args);
        assert!(!refused.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn control_and_invisible_characters_are_refused_in_every_webhook_string() {
    let app = spawn_sender().await;
    for (body, location) in [
        (json!({"url": "https://example.com/\u{0}"}), "/url"),
        (json!({"url": "https://exa\u{200B}mple.com/"}), "/url"),
        (
            json!({"url": "https://example.com/", "description": "bad\u{0}"}),
            "/description",
        ),
        (
            json!({"url": "https://example.com/", "description": "bad\u{202E}"}),
            "/description",
        ),
        (
            json!({"url": "https://example.com/", "events": []}),
            "/events",
        ),
        (
            json!({"url": "https://example.com/", "events": ["student.created", "student.created"]}),
            "/events",
        ),
        (
            json!({"url": "https://example.com/", "grades": ["Z"]}),
            "/grades/0",
        ),
        (
            json!({"url": "https://example.com/", "secret": "whsec_x"}),
            "/secret",
        ),
    ] {
        let refused = app
            .client
            .post(app.url("/api/webhooks"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(refused, 422).await;
        let locations: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["location"].as_str().unwrap())
            .collect();
        assert!(locations.contains(&location), "{body}: {locations:?}");
    }
    let none: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(none, 0);
}

/// A certificate authority (`ca.pem`) and a certificate for 127.0.0.1 and localhost signed by
/// it (`server.pem`, `server.key`) in `dir`, made with openssl.
fn make_certificates(dir: &std::path::Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    for command in [
        format!(
            "req -x509 {key} -keyout ca.key -out ca.pem -days 2 -subj /CN=test-CA \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign"
        ),
        format!("req {key} -keyout server.key -out server.csr -subj /CN=127.0.0.1"),
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
         -days 2 -extfile server.ext"
            .to_owned(),
    ] {
        let made = Command::new("openssl")
            .args(command.split_whitespace())
            .current_dir(dir)
            .output()
            .expect("openssl runs");
        assert!(
            made.status.success(),
            "openssl {command}: {}",
            String::from_utf8_lossy(&made.stderr)
        );
    }
}

/// tests/webhooks/tls_receiver.py: Python's https server with `dir`'s certificate; the
/// webhook-ids it got. Ends when dropped (its stdin closes).
struct TlsReceiver {
    child: std::process::Child,
    port: u16,
    ids: Arc<Mutex<Vec<String>>>,
}

impl TlsReceiver {
    fn start(dir: &std::path::Path) -> Self {
        let mut child = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/webhooks/tls_receiver.py"
            ))
            .args([dir.join("server.pem"), dir.join("server.key")])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines =
            std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
        let port = lines.next().unwrap().unwrap().parse().unwrap();
        let ids = Arc::new(Mutex::new(Vec::new()));
        let got = ids.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                got.lock().unwrap().push(line);
            }
        });
        Self { child, port, ids }
    }

    fn url(&self) -> String {
        format!("https://127.0.0.1:{}/hook", self.port)
    }

    fn ids(&self) -> Vec<String> {
        self.ids.lock().unwrap().clone()
    }
}

impl Drop for TlsReceiver {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// The endpoint's newest attempt that `wanted` accepts, once there is one (within `within`).
async fn attempt_where(
    app: &TestApp,
    endpoint: i64,
    within: Duration,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let mut found = Value::Null;
    wait_for("an attempt", within, async || {
        let log: Value = app
            .get(&format!("/api/webhooks/{endpoint}/attempts"))
            .await
            .json()
            .await
            .unwrap();
        found = log["items"]
            .as_array()
            .and_then(|items| items.iter().find(|a| wanted(a)))
            .cloned()
            .unwrap_or_default();
        !found.is_null()
    })
    .await;
    found
}

#[tokio::test]
async fn https_receivers_must_chain_to_the_built_in_roots_or_webhook_ca_file() {
    let dir = std::env::temp_dir().join(format!("webhook-tls-{}", uuid::Uuid::new_v4()));
    make_certificates(&dir);
    let receiver = TlsReceiver::start(&dir);

    // Signed by a CA nobody named: the handshake fails, the attempt says why, nothing arrives.
    let untrusting = spawn_sender().await;
    let (endpoint, _) = create_endpoint(&untrusting, json!({"url": receiver.url()})).await;
    untrusting.create_student("Ada", "A", None).await;
    let refused = attempt_where(&untrusting, endpoint, Duration::from_secs(10), |_| true).await;
    let error = refused["error"].as_str().unwrap_or_default();
    assert!(error.contains("UnknownIssuer"), "{refused}");
    assert!(refused["status_code"].is_null(), "{refused}");
    assert!(receiver.ids().is_empty());

    // With WEBHOOK_CA_FILE naming it: delivered, over TLS.
    let trusting = spawn_app_with(|config| {
        quick_retries(config);
        config.webhook_ca_file = Some(dir.join("ca.pem"));
    })
    .await;
    let (endpoint, _) = create_endpoint(&trusting, json!({"url": receiver.url()})).await;
    trusting.create_student("Grace", "B", None).await;
    let delivered = attempt_where(&trusting, endpoint, Duration::from_secs(10), |_| true).await;
    assert_eq!(delivered["status_code"], 204, "{delivered}");
    let ids = receiver.ids();
    assert_eq!(ids.len(), 1, "{ids:?}");

    // A file without a certificate (the key) stops start-up, saying which setting is wrong.
    let mut config = crate::helpers::test_config(Some(fresh_database_url()));
    config.webhook_ca_file = Some(dir.join("server.key"));
    let database = config.database_url.clone();
    let refused = students_api::startup::Application::build(config).await;
    if let Some(url) = database {
        crate::helpers::drop_database(&url);
    }
    let error = refused.err().map(|err| err.to_string()).unwrap_or_default();
    assert!(
        error.contains("WEBHOOK_CA_FILE") && error.contains("holds no PEM certificate"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_receiver_that_does_not_answer_in_time_is_a_failed_attempt() {
    let app = spawn_sender().await;
    let receiver = Receiver::start().await;
    receiver.inbox.delay_ms.store(30_000, Ordering::SeqCst);
    let (endpoint, _) = create_endpoint(&app, json!({"url": receiver.url()})).await;
    let started = Instant::now();
    app.create_student("Ada", "A", None).await;

    // A test event: a person waits, 8 s at most.
    let test: Value = app
        .client
        .post(app.url(&format!("/api/webhooks/{endpoint}/test")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_ne!(test["outcome"], "delivered", "{test}");
    assert_eq!(
        test["error"], "no answer within 8 s: operation timed out",
        "{test}"
    );
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(14),
        "{waited:?}"
    );

    // A delivery: 15 s, then the attempt has failed (and is retried).
    let attempt = attempt_where(&app, endpoint, Duration::from_secs(30), |a| {
        a["event_type"] == "student.created"
    })
    .await;
    let waited = started.elapsed();
    assert_eq!(
        attempt["error"], "no answer within 15 s: operation timed out",
        "{attempt}"
    );
    assert!(attempt["status_code"].is_null(), "{attempt}");
    assert!(waited >= Duration::from_secs(15), "{waited:?}");
}
