//! Hostile and broken input: never a 5xx, never a dropped connection, always problem+json;
//! huge bodies refused fast without buffering them; racing duplicates resolved by the database.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    binary::{Scratch, signal, start_binary},
    helpers::{assert_problem, spawn_app},
};

const TEN_MIB: usize = 10 * 1024 * 1024;

/// A 10 MiB JSON body: a valid start, then a name far beyond every limit.
fn ten_mib_body() -> Vec<u8> {
    let mut body = br#"{"grade": "A", "name": ""#.to_vec();
    body.resize(TEN_MIB, b'x');
    body
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_10_mib_body_is_a_413_within_a_second_and_is_never_buffered() {
    let scratch = Scratch::new("big-body");
    let mut app = start_binary(&scratch.data_dir());
    let url = format!("http://127.0.0.1:{}/api/students", app.port);
    let client = app.client();
    // Warm up so the baseline includes the pool, the spec and the allocator's arenas.
    for _ in 0..5 {
        client.get(&url).send().await.unwrap();
    }
    let before = rss_kib(app.child.id());

    for round in 0..10 {
        let started = Instant::now();
        let mut request = client.post(&url).header("content-type", "application/json");
        request = if round % 2 == 0 {
            request.body(ten_mib_body())
        } else {
            // Chunked, with no Content-Length to refuse it by.
            let chunks = ten_mib_body()
                .chunks(64 * 1024)
                .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                .collect::<Vec<_>>();
            request.body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            )))
        };
        match request.send().await {
            Ok(response) => {
                let problem = assert_problem(response, 413).await;
                assert_eq!(
                    problem["type"],
                    "urn:students-api:problem:payload-too-large"
                );
            }
            // The server may answer and close before the client finished sending; what must
            // not happen is a slow answer.
            Err(err) => assert!(!err.is_timeout(), "round {round}: {err}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "round {round} took {:?}",
            started.elapsed()
        );
    }
    let grown_kib = rss_kib(app.child.id()).saturating_sub(before);
    assert!(
        grown_kib < 20 * 1024,
        "the server grew by {grown_kib} KiB on 100 MiB of bodies"
    );
    println!("10 x 10 MiB bodies: each a 413 within 1 s; server RSS grew {grown_kib} KiB");

    signal(&app.child, "-TERM");
    app.child.wait().unwrap();
}

#[tokio::test]
async fn malformed_bodies_are_4xx_problems() {
    let app = spawn_app().await;
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "invalid UTF-8",
            b"{\"name\": \"\xff\xfe\", \"grade\": \"A\"}".to_vec(),
            400,
        ),
        ("truncated", br#"{"name": "Ada", "grade": "#.to_vec(), 400),
        ("empty", Vec::new(), 400),
        (
            "a number too big for f64",
            br#"{"name": "Ada", "grade": 1e400}"#.to_vec(),
            400,
        ),
        (
            "a huge integer",
            br#"{"name": 123456789012345678901234567890, "grade": "A"}"#.to_vec(),
            422,
        ),
        (
            "NUL escaped in a string",
            br#"{"name": "Ada\u0000", "grade": "A"}"#.to_vec(),
            422,
        ),
        ("an array", b"[]".to_vec(), 422),
        ("a lone string", br#""Ada""#.to_vec(), 422),
        (
            "duplicate keys",
            br#"{"name": "Ada", "name": "Eve", "grade": "A"}"#.to_vec(),
            400,
        ),
    ];
    for (what, body, status) in cases {
        let response = app
            .send_raw(
                Method::POST,
                "/api/students",
                Some("application/json"),
                body,
            )
            .await;
        assert_eq!(response.status().as_u16(), status, "{what}");
        assert_problem(response, status).await;
    }
    assert_eq!(app.student_count().await, 0, "nothing half-written");
}

#[tokio::test]
async fn injection_strings_are_data_or_a_422_never_sql() {
    let app = spawn_app().await;
    let attacks = [
        "'; DROP TABLE students; --",
        "1 OR 1=1",
        "\" OR \"\"=\"",
        "$1",
        "%27%20OR%201=1",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "${jndi:ldap://x}",
    ];
    for attack in attacks {
        // As data: stored and returned verbatim.
        let created = app
            .post_student(&json!({"name": attack, "grade": "A"}))
            .await;
        assert_eq!(created.status(), 201, "{attack}");
        let student: Value = created.json().await.unwrap();
        assert_eq!(student["name"], attack);
        let encoded = url::form_urlencoded::byte_serialize(attack.as_bytes()).collect::<String>();
        // In every parameter: a 4xx problem.
        for path in [
            format!("/api/students/{encoded}"),
            format!("/api/students?limit={encoded}"),
            format!("/api/students?cursor={encoded}"),
        ] {
            let response = app.get(&path).await;
            let status = response.status();
            assert!(status.is_client_error(), "{path}: {status}");
            assert_problem(response, status.as_u16()).await;
        }
        let keyed = app
            .client
            .post(app.url("/api/students"))
            .header("idempotency-key", attack)
            .json(&json!({"name": "Key", "grade": "B"}))
            .send()
            .await
            .unwrap();
        assert!(
            keyed.status() == StatusCode::CREATED || keyed.status() == 422,
            "{attack}"
        );
    }
    assert!(
        app.student_count().await >= attacks.len() as i64,
        "the table is still there"
    );
}

#[tokio::test]
async fn of_20_racing_creates_with_one_email_exactly_one_wins_every_round() {
    let app = spawn_app().await;
    for round in 0..50 {
        let email = format!("racer{round}@example.com");
        let bodies: Vec<Value> = (0..20)
            .map(|n| {
                let letter_case = if n % 2 == 0 {
                    email.clone()
                } else {
                    email.to_uppercase()
                };
                json!({"name": format!("Racer {n}"), "grade": "B", "email": letter_case})
            })
            .collect();
        let requests = bodies.iter().map(|body| app.post_student(body));
        let responses = futures_util::future::join_all(requests).await;
        let mut created = 0;
        for response in responses {
            match response.status().as_u16() {
                201 => created += 1,
                409 => {
                    assert_problem(response, 409).await;
                }
                other => panic!("round {round}: {other}"),
            }
        }
        assert_eq!(created, 1, "round {round}");
    }
    assert_eq!(app.student_count().await, 50);
}

#[tokio::test]
async fn a_header_the_api_reads_that_is_not_ascii_is_a_422_not_ignored() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let path = format!("/api/students/{}", ada["id"]);
    let latin1 = reqwest::header::HeaderValue::from_bytes(b"\"1\"\xff").unwrap();

    // Ignoring it would turn this conditional write into an unconditional one.
    let response = app
        .client
        .patch(app.url(&path))
        .header("if-match", latin1.clone())
        .json(&json!({"grade": "F"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["location"], "header.If-Match");
    let unchanged: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(unchanged["grade"], "A");

    let response = app
        .client
        .post(app.url("/api/students"))
        .header("idempotency-key", latin1)
        .json(&json!({"name": "Eve", "grade": "B"}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 422).await;
    assert_eq!(problem["errors"][0]["location"], "header.Idempotency-Key");
    assert_eq!(app.student_count().await, 1);
}

/// quick-xml (poem's dependency) has two denial-of-service advisories (deny.toml): a start tag
/// with many attributes, many namespace declarations. Every operation that takes a body refuses
/// XML as a 415 before reading it, so they are never reached.
#[tokio::test]
async fn xml_bodies_are_refused_unread() {
    let app = spawn_app().await;
    let student = app.create_student("Ada", "A", None).await;
    let one = format!("/api/students/{}", student["id"]);
    let attributes: String = (0..4_000).map(|i| format!(" a{i}=\"\"")).collect();
    let namespaces: String = (0..2_000)
        .map(|i| format!(" xmlns:n{i}=\"u{i}\""))
        .collect();
    for body in [
        format!("<student{attributes}/>"),
        format!("<n0:student{namespaces}/>"),
    ] {
        for (method, path) in [
            (Method::POST, "/api/students"),
            (Method::PUT, one.as_str()),
            (Method::PATCH, one.as_str()),
            (Method::POST, "/api/students/import"),
            (Method::POST, "/api/tokens"),
        ] {
            for content_type in ["application/xml", "text/xml"] {
                let response = app
                    .send_raw(method.clone(), path, Some(content_type), body.clone())
                    .await;
                let problem = assert_problem(response, 415).await;
                assert!(
                    problem["detail"].as_str().unwrap().contains(content_type),
                    "{method} {path} {content_type}: {problem}"
                );
            }
        }
    }
}
