//! `Idempotency-Key` on creates: a retry gets the first answer and creates nothing; another
//! body with the same key is a 422; a concurrent duplicate is a 409; keys expire after 24 h.

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_locations, spawn_app};

async fn post_with_key(app: &TestApp, key: &str, body: &Value) -> Response {
    app.post_with_key(key, body).await
}

#[tokio::test]
async fn a_retry_with_the_same_key_gets_the_first_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let body = json!({"name": "Ada", "grade": "A", "email": "ada@example.com"});
    let first = post_with_key(&app, "order-1", &body).await;
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();

    // Even after the student changed, the retry answers what the first request answered.
    app.send_json(
        reqwest::Method::PATCH,
        &format!("/api/students/{}", first["id"]),
        &json!({"grade": "B"}),
    )
    .await;
    let retry = post_with_key(&app, "order-1", &body).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["location"], location);
    assert_eq!(retry.headers()["etag"], "\"1\"");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);
    assert_eq!(app.student_count().await, 1);

    // The key compares the request as stored: trimming and letter case do not make it new.
    let same_meaning = json!({"name": " Ada ", "grade": "A", "email": "ADA@example.com"});
    let retry = post_with_key(&app, "order-1", &same_meaning).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(app.student_count().await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_422_naming_the_header() {
    let app = spawn_app().await;
    let first = post_with_key(&app, "k", &json!({"name": "Ada", "grade": "A"})).await;
    assert_eq!(first.status(), 201);
    let other = post_with_key(&app, "k", &json!({"name": "Grace", "grade": "A"})).await;
    let problem = assert_problem(other, 422).await;
    assert_eq!(
        error_locations(&problem),
        [("header.Idempotency-Key".to_owned(), "reused".to_owned())]
    );
    assert_eq!(app.student_count().await, 1);
}

#[tokio::test]
async fn a_failed_create_records_no_key() {
    let app = spawn_app().await;
    app.create_student("Ada", "A", Some("ada@example.com"))
        .await;
    let taken = json!({"name": "Grace", "grade": "A", "email": "ada@example.com"});
    assert_problem(post_with_key(&app, "k", &taken).await, 409).await;
    // Nothing was stored under the key, so a corrected body with it goes through.
    let fixed = json!({"name": "Grace", "grade": "A", "email": "grace@example.com"});
    assert_eq!(post_with_key(&app, "k", &fixed).await.status(), 201);
}

#[tokio::test]
async fn a_key_must_be_1_to_255_visible_ascii_characters() {
    let app = spawn_app().await;
    let body = json!({"name": "Ada", "grade": "A"});
    for key in ["x".repeat(256), "has space".to_owned(), String::new()] {
        let problem = assert_problem(post_with_key(&app, &key, &body).await, 422).await;
        assert_eq!(
            error_locations(&problem)[0].0,
            "header.Idempotency-Key",
            "{key:?}"
        );
    }
    assert_eq!(
        post_with_key(&app, &"x".repeat(255), &body).await.status(),
        201
    );
}

#[tokio::test]
async fn concurrent_requests_with_one_key_create_one_student() {
    let app = spawn_app().await;
    for round in 0..10 {
        let key = format!("burst-{round}");
        let body = json!({"name": format!("Burst {round}"), "grade": "B"});
        let responses =
            futures_util::future::join_all((0..20).map(|_| post_with_key(&app, &key, &body))).await;
        let mut ids = Vec::new();
        for response in responses {
            match response.status().as_u16() {
                201 => ids.push(response.json::<Value>().await.unwrap()["id"].clone()),
                409 => {
                    assert_eq!(response.headers()["retry-after"], "1");
                    let problem = assert_problem(response, 409).await;
                    assert_eq!(
                        problem["type"],
                        "urn:students-api:problem:idempotency-key-in-use"
                    );
                }
                other => panic!("round {round}: unexpected {other}"),
            }
        }
        assert!(!ids.is_empty(), "round {round}: someone got the 201");
        assert!(
            ids.iter().all(|id| *id == ids[0]),
            "round {round}: one student: {ids:?}"
        );
    }
    assert_eq!(app.student_count().await, 10);
}

#[tokio::test]
async fn keys_expire_after_24_hours() {
    let app = spawn_app().await;
    let body = json!({"name": "Ada", "grade": "A"});
    let first: Value = post_with_key(&app, "old", &body)
        .await
        .json()
        .await
        .unwrap();
    sqlx::query("UPDATE idempotency_keys SET created_at = now() - interval '24 hours 1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    // An expired key is a new key: the same request creates again.
    let second: Value = post_with_key(&app, "old", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(second["id"], first["id"]);
    assert_eq!(app.student_count().await, 2);

    sqlx::query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        students_api::db::expire_idempotency_keys(&app.pool)
            .await
            .unwrap(),
        1
    );
}
