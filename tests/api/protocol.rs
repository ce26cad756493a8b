//! The request line and head as a hostile client sends them: hosts the service does not answer
//! to, parameters an operation does not take, a declared length it would refuse anyway.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{TestApp, assert_problem, error_locations, spawn_app, spawn_app_with};

/// Sends `head` (and nothing else) on a fresh connection; returns the whole answer as text.
async fn raw(app: &TestApp, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The status and the JSON body of a raw HTTP/1.1 answer with `Connection: close`.
fn status_and_problem(answer: &str) -> (u16, Value) {
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn hosts_outside_allowed_hosts_missing_or_repeated_are_a_400_problem() {
    let app = spawn_app().await;
    let cases: [(&[u8], &str); 10] = [
        (
            b"GET /api/students HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
            "evil.example",
        ),
        (
            b"GET /api/students HTTP/1.1\r\nConnection: close\r\n\r\n",
            "no Host",
        ),
        (
            b"GET /api/students HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
            "more than one",
        ),
        (
            b"GET http://evil.example/api/students HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "evil.example",
        ),
        // Found by a hostile probe: each of these was served.
        (
            b"POST /api/students HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            "no Host",
        ),
        (
            b"POST http://localhost/api/students HTTP/1.1\r\nHost: evil.example\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
            "evil.example",
        ),
        (
            b"GET /api/students HTTP/1.1\r\nHost: 127.0.0.1:abc\r\nConnection: close\r\n\r\n",
            "127.0.0.1:abc",
        ),
        (
            b"GET /api/students HTTP/1.1\r\nHost: 127.0.0.1:99999\r\nConnection: close\r\n\r\n",
            "127.0.0.1:99999",
        ),
        (
            b"GET /api/students HTTP/1.1\r\nHost: evil@localhost\r\nConnection: close\r\n\r\n",
            "evil@localhost",
        ),
        (
            b"GET http://u@localhost/api/students HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            "u@localhost",
        ),
    ];
    for (request, says) in cases {
        let answer = raw(&app, request).await;
        let (status, problem) = status_and_problem(&answer);
        assert_eq!(
            status,
            400,
            "{}: {answer}",
            String::from_utf8_lossy(request)
        );
        assert_eq!(problem["type"], "urn:students-api:problem:invalid-host");
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{problem}"
        );
        assert!(answer.to_ascii_lowercase().contains("x-request-id:"));
    }
    for host in ["localhost:3000", "LOCALHOST", "127.0.0.1:9", "[::1]:80"] {
        let request =
            format!("GET /api/students HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        let answer = raw(&app, &app.authorized(request.as_bytes())).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{host}: {answer}");
    }
    // Probes address the pod: liveness and readiness answer any host.
    let probe = raw(
        &app,
        b"GET /healthz HTTP/1.1\r\nHost: 10.1.2.3:3000\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(probe.starts_with("HTTP/1.1 200"), "{probe}");
}

#[tokio::test]
async fn allowed_hosts_can_name_a_domain_or_allow_any() {
    let app = spawn_app_with(|config| config.allowed_hosts = vec!["api.example.com".into()]).await;
    let ok = raw(
        &app,
        &app.authorized(
            b"GET /api/students HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n",
        ),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    let any = spawn_app_with(|config| config.allowed_hosts = vec!["*".into()]).await;
    let ok = raw(
        &any,
        &any.authorized(
            b"GET /api/students HTTP/1.1\r\nHost: whatever.test\r\nConnection: close\r\n\r\n",
        ),
    )
    .await;
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
}

#[tokio::test]
async fn parameters_an_operation_does_not_take_are_a_422_naming_each() {
    let app = spawn_app().await;
    let student = app.create_student("Ada", "A", None).await;
    let id = student["id"].as_i64().unwrap();
    let cases = [
        (
            "/api/students/export?limit=5&cursor=abc&count=exact".to_owned(),
            vec!["query.limit", "query.cursor", "query.count"],
        ),
        (
            "/api/students?grade=A&page=2".to_owned(),
            vec!["query.page"],
        ),
        (
            format!("/api/students/{id}?fields=name"),
            vec!["query.fields"],
        ),
    ];
    for (path, locations) in cases {
        let problem = assert_problem(app.get(&path).await, 422).await;
        let found: Vec<String> = error_locations(&problem).into_iter().map(|e| e.0).collect();
        assert_eq!(found, locations, "{path}: {problem}");
        assert!(
            problem["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("is not a parameter of this operation"),
            "{problem}"
        );
    }
    // A path no operation serves is a 404 whatever the query holds (`/api/students/` has no
    // id: found in review).
    assert_problem(app.get("/api/students/?limit=5").await, 404).await;
    // A method the path lacks is still a 405, whatever the query holds.
    let wrong_method = app
        .client
        .put(app.url("/api/students/export?limit=5"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), 405);
    // Declared ones, repeated arrays included, are fine.
    assert_eq!(
        app.get("/api/students/export?grade=A&grade=B&sort=name&format=ndjson")
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_a_413_at_once_without_waiting_for_the_body() {
    let app = spawn_app().await;
    let started = Instant::now();
    let answer = raw(
        &app,
        &app.authorized(
            b"POST /api/students HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 1000000000\r\nConnection: close\r\n\r\n{\"name\":",
        ),
    )
    .await;
    let took = started.elapsed();
    let (status, problem) = status_and_problem(&answer);
    assert_eq!(status, 413, "{answer}");
    assert_eq!(
        problem["type"],
        "urn:students-api:problem:payload-too-large"
    );
    assert!(took < Duration::from_secs(1), "answered after {took:?}");
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn an_idempotent_retry_replays_the_first_answer_even_after_a_delete() {
    let app = spawn_app().await;
    let body = json!({"name": "Gone Soon", "grade": "B"});
    let first = app.post_with_key("retry-after-delete", &body).await;
    assert_eq!(first.status(), 201);
    let created: Value = first.json().await.unwrap();
    assert_eq!(app.delete_student(&created).await.status(), 204);
    // The replay is the stored answer, as it was: the retry of a request that succeeded
    // must not look like a failure, nor create the student again.
    let retry = app.post_with_key("retry-after-delete", &body).await;
    assert_eq!(retry.status(), 201);
    let replayed: Value = retry.json().await.unwrap();
    assert_eq!(replayed, created);
    assert_eq!(app.student_count().await, 0, "nothing was created again");
}

#[tokio::test]
async fn heads_hyper_cannot_read_are_answered_as_problems_with_a_request_id() {
    let app = spawn_app().await;
    let many_headers: String = (0..101).map(|n| format!("X-{n}: a\r\n")).collect();
    let long_target = format!(
        "GET /healthz?{} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "a".repeat(65_536)
    );
    let cases: Vec<(String, Vec<u8>, u16, &str)> = vec![
        (
            "obs-fold".into(),
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-A: a\r\n b\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "two Content-Lengths".into(),
            b"POST /api/students HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "a bad Content-Length".into(),
            b"POST /api/students HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n{}".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "HTTP/1.2".into(),
            b"GET /healthz HTTP/1.2\r\nHost: localhost\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "NUL in a header".into(),
            b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-A: a\0b\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        (
            "101 headers".into(),
            format!("GET /healthz HTTP/1.1\r\nHost: localhost\r\n{many_headers}\r\n").into_bytes(),
            431,
            "headers-too-large",
        ),
        ("a 64 KiB target".into(), long_target.into_bytes(), 414, "uri-too-long"),
    ];
    for (case, request, status, kind) in cases {
        let answer = raw(&app, &request).await;
        let (got, problem) = status_and_problem(&answer);
        assert_eq!(got, status, "{case}: {answer}");
        assert_eq!(
            problem["type"],
            format!("urn:students-api:problem:{kind}"),
            "{case}: {answer}"
        );
        let head = answer.to_ascii_lowercase();
        assert!(
            head.contains("content-type: application/problem+json"),
            "{case}"
        );
        let id = problem["request_id"].as_str().unwrap();
        assert!(
            head.contains(&format!("x-request-id: {id}")),
            "{case}: {answer}"
        );
    }
}

#[tokio::test]
async fn numbers_are_read_only_as_written_canonically() {
    // Found by a hostile probe: `limit=1%09` and `/api/students/+1` were read as 1.
    let app = spawn_app().await;
    let student = app.create_student("Ada", "A", None).await;
    let id = student["id"].as_i64().unwrap();
    for limit in [
        "1%09",
        "%202",
        "%2B2",
        "02",
        "1%C2%85",
        "%E3%80%801",
        "1%E2%80%A8",
    ] {
        let problem =
            assert_problem(app.get(&format!("/api/students?limit={limit}")).await, 422).await;
        assert_eq!(error_locations(&problem)[0].0, "query.limit", "{limit}");
    }
    for path in [
        format!("/api/students/+{id}"),
        format!("/api/students/0{id}"),
        format!("/api/students/{id}%20"),
    ] {
        let problem = assert_problem(app.get(&path).await, 422).await;
        assert_eq!(error_locations(&problem)[0].0, "path.id", "{path}");
    }
    // Percent-encoding is only transport: `%31` is `1`.
    let encoded: String = id
        .to_string()
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    assert_eq!(
        app.get(&format!("/api/students/{encoded}")).await.status(),
        200
    );
}

#[tokio::test]
async fn a_header_that_holds_one_value_given_twice_is_a_422_naming_it() {
    // Found by a hostile probe: the first of two Idempotency-Keys (or Content-Types) won.
    let app = spawn_app().await;
    for (header, first, second) in [
        ("Idempotency-Key", "a", "b"),
        ("Content-Type", "application/json", "text/plain"),
    ] {
        let answer = raw(
            &app,
            &app.authorized(format!(
                "POST /api/students HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
                 {header}: {first}\r\n{header}: {second}\r\nContent-Length: 31\r\n\
                 Connection: close\r\n\r\n{{\"name\": \"Twice\", \"grade\": \"A\"}}"
            )
            .replace("Content-Type: application/json\r\nContent-Type: application/json", "Content-Type: application/json")
            .as_bytes()),
        )
        .await;
        let (status, problem) = status_and_problem(&answer);
        assert_eq!(status, 422, "{header}: {answer}");
        assert!(
            error_locations(&problem)
                .iter()
                .any(|(at, _)| *at == format!("header.{header}")),
            "{problem}"
        );
    }
    assert_eq!(app.student_count().await, 0);
    // Two request ids are none: a fresh one is used.
    let answer = raw(
        &app,
        b"GET /api/students HTTP/1.1\r\nHost: localhost\r\nX-Request-Id: one\r\nX-Request-Id: two\r\nConnection: close\r\n\r\n",
    )
    .await;
    let id = answer
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .unwrap();
    assert!(id != "one" && id != "two" && id.len() == 32, "{answer}");
}

#[tokio::test]
async fn a_refusal_of_a_request_with_a_body_says_the_connection_closes() {
    let app = spawn_app().await;
    // One keep-alive client, bodies of 60 KB refused before they are read (no token: 401;
    // the wrong type: 415), each followed at once by another request on the same client.
    let body = "x".repeat(60_000);
    for _ in 0..20 {
        let refused = app
            .anonymous
            .post(app.url("/api/accounts"))
            .header("content-type", "text/plain")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.headers()["connection"], "close");
        let unsupported = app
            .send_raw(
                reqwest::Method::POST,
                "/api/students",
                Some("text/plain"),
                body.clone(),
            )
            .await;
        assert_eq!(unsupported.status(), 415);
        assert_eq!(unsupported.headers()["connection"], "close");
        let next = app.get("/api/students?limit=1").await;
        assert_eq!(next.status(), 200);
    }
}
