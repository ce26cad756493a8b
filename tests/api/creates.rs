//! Creates that wait for a connection together are written in one statement (`db::Creates`),
//! and each caller still gets exactly its own student, or its own error.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Value, json};
use students_api::{
    db,
    domain::{Grade, NewStudent, SCOPES, StudentName, TokenName},
};

use crate::{
    helpers::{TestApp, client_with_token, spawn_app_with},
    metrics::{sample, scrape},
};

/// One connection for the whole service, so creates queue behind each other and share.
async fn one_connection_app() -> TestApp {
    spawn_app_with(|config| config.database_pool_size = 1).await
}

/// `bodies` posted all at once by `client`; the statuses and bodies, in the same order.
async fn post_all(app: &TestApp, client: &reqwest::Client, bodies: &[Value]) -> Vec<(u16, Value)> {
    join_all(bodies.iter().map(|body| async move {
        let response = client
            .post(app.url("/api/students"))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let mut body: Value = response.json().await.unwrap();
        if let Some(location) = location {
            body["location"] = json!(location);
        }
        (status, body)
    }))
    .await
}

/// How many creates the largest shared statement wrote (its changes share a transaction id).
async fn largest_statement(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM student_changes \
         WHERE op = 'created' GROUP BY feed_xid) s",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn creates_made_at_once_share_statements_and_each_gets_its_own_student() {
    let app = one_connection_app().await;
    let mut bodies: Vec<Value> = (0..40)
        .map(|n| match n % 3 {
            0 => json!({"name": format!("Student {n}"), "grade": "A"}),
            1 => json!({"name": format!("  Student {n}  "), "grade": "B+", "email": null}),
            _ => json!({"name": format!("Student {n}"), "grade": "C-",
                        "email": format!("Student.{n}@Example.com")}),
        })
        .collect();
    // Two identical bodies are two students.
    bodies.push(json!({"name": "Twin", "grade": "A"}));
    bodies.push(json!({"name": "Twin", "grade": "A"}));
    let scraped = || async { scrape(&app.client, &app.url("/metrics")).await };
    let reading = |text: &str, name: &str| sample(text, name, &[]).unwrap_or(0.0);
    let before = scraped().await;
    let answers = post_all(&app, &app.client, &bodies).await;
    let after = scraped().await;

    let mut ids = Vec::new();
    for (body, (status, student)) in bodies.iter().zip(&answers) {
        assert_eq!(*status, 201, "{body} -> {student}");
        assert_eq!(student["name"], body["name"].as_str().unwrap().trim());
        assert_eq!(student["grade"], body["grade"]);
        let email = body["email"].as_str().map(str::to_lowercase);
        assert_eq!(student["email"], json!(email));
        assert_eq!(
            student["location"],
            format!("/api/students/{}", student["id"])
        );
        // What the API answered is what was stored under that id.
        let stored = app.get(student["location"].as_str().unwrap()).await;
        let mut stored: Value = stored.json().await.unwrap();
        stored["location"] = student["location"].clone();
        assert_eq!(&stored, student);
        ids.push(student["id"].as_i64().unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), bodies.len(), "every create has its own id");
    assert_eq!(app.student_count().await, 42);
    let recorded: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT student_id) FROM student_changes WHERE op = 'created'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(recorded, 42, "every create is in the change feed");
    assert!(
        largest_statement(&app).await > 1,
        "42 creates at once on one connection never shared a statement"
    );
    // Operators see the sharing: fewer statements than creates. (Other tests' creates in the
    // same process add to both.)
    let creates = reading(&after, "db_creates_per_statement_sum")
        - reading(&before, "db_creates_per_statement_sum");
    let statements = reading(&after, "db_creates_per_statement_count")
        - reading(&before, "db_creates_per_statement_count");
    assert!(creates >= 42.0 && statements < creates, "{after}");
    assert!(sample(&after, "db_creates_per_statement_bucket", &[("le", "64")]).is_some());
}

#[tokio::test]
async fn a_taken_email_among_creates_made_at_once_fails_alone() {
    let app = one_connection_app().await;
    app.create_student("First", "A", Some("taken@example.com"))
        .await;
    let bodies: Vec<Value> = (0..30)
        .map(|n| {
            let email = if n == 17 {
                "TAKEN@example.com".to_owned()
            } else {
                format!("s{n}@example.com")
            };
            json!({"name": format!("Student {n}"), "grade": "A", "email": email})
        })
        .collect();
    let answers = post_all(&app, &app.client, &bodies).await;
    for (n, (status, body)) in answers.iter().enumerate() {
        if n == 17 {
            assert_eq!(*status, 409, "{body}");
            assert_eq!(body["type"], "urn:students-api:problem:email-taken");
        } else {
            assert_eq!(*status, 201, "{body}");
            assert_eq!(body["email"], format!("s{n}@example.com"));
        }
    }
    assert_eq!(app.student_count().await, 30);
}

#[tokio::test]
async fn creates_by_different_tokens_at_once_are_recorded_with_their_own_token() {
    let app = one_connection_app().await;
    let mut tokens = Vec::new();
    for name in ["first writer", "second writer"] {
        let name = TokenName::parse(name).unwrap();
        let (record, secret) = db::create_token(&app.pool, &name, &SCOPES, None)
            .await
            .unwrap();
        let client = client_with_token(secret.expose());
        // The token cache follows the table by NOTIFY.
        let started = Instant::now();
        while client
            .get(app.url("/api/students"))
            .send()
            .await
            .unwrap()
            .status()
            != 200
        {
            assert!(started.elapsed() < Duration::from_secs(5), "token unknown");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokens.push((record.id, client));
    }
    let posts = (0..40).map(|n| {
        let (token_id, client) = &tokens[n % 2];
        let app = &app;
        async move {
            let body = json!({"name": format!("Student {n}"), "grade": "A"});
            let answers = post_all(app, client, &[body]).await;
            assert_eq!(answers[0].0, 201);
            (answers[0].1["id"].as_i64().unwrap(), *token_id)
        }
    });
    for (student_id, token_id) in join_all(posts).await {
        let recorded: Option<i64> = sqlx::query_scalar(
            "SELECT actor_token_id FROM student_changes WHERE student_id = $1 AND op = 'created'",
        )
        .bind(student_id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(recorded, Some(token_id), "student {student_id}");
    }
}

/// A caller that hangs up while its create waits for a connection takes it back: the next
/// create by the same token must not write it, minutes later.
#[tokio::test]
async fn a_create_whose_caller_gave_up_while_it_waited_is_never_written() {
    let app = one_connection_app().await;
    let creates = db::Creates::default();
    let actor = db::Actor {
        token_id: None,
        account_id: None,
        name: "test".to_owned(),
    };
    let student = |name: &str| NewStudent {
        name: StudentName::parse(name).unwrap(),
        grade: Grade::parse("A").unwrap(),
        email: None,
    };
    let held = app.pool.acquire().await.unwrap();
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        creates.insert(&app.pool, student("Abandoned"), actor.clone()),
    )
    .await;
    assert!(gave_up.is_err(), "it waited for the only connection");
    drop(held);
    creates
        .insert(&app.pool, student("Later"), actor)
        .await
        .unwrap();
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM students ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(names, ["Later"]);
}
