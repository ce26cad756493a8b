//! A change stream or a long poll outlives no token: when the token it was opened with is
//! revoked or expires, it ends within a second, on every instance (the stream with a comment
//! saying why, the poll with a 401), over real HTTP against two instances on one database.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;
use students_api::{
    db,
    domain::{Scope, TokenName},
};

use crate::helpers::{TestApp, assert_problem, client_with_token, spawn_app};

/// A `students:read` token made in the database, with its id.
async fn reader(app: &TestApp, expires_at: Option<DateTime<Utc>>) -> (i64, String) {
    let name = TokenName::parse("follower").unwrap();
    let (record, secret) = db::create_token(&app.pool, &name, &[Scope::StudentsRead], expires_at)
        .await
        .unwrap();
    (record.id, secret.expose().to_owned())
}

/// Opens a stream from `now` with `token`, and reads it in the background until it ends:
/// the task answers everything it received and when the end came.
async fn follow(app: &TestApp, token: &str) -> tokio::task::JoinHandle<(String, Instant)> {
    let mut response = client_with_token(token)
        .get(app.url("/api/students/changes?after=now"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    tokio::spawn(async move {
        let mut text = String::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        (text, Instant::now())
    })
}

/// A poll from `now` that would wait 30 s for a change, in the background: its status, its
/// body and when it answered.
fn wait_for_changes(app: &TestApp, token: &str) -> tokio::task::JoinHandle<(u16, Value, Instant)> {
    let request =
        client_with_token(token).get(app.url("/api/students/changes/poll?after=now&wait=30"));
    tokio::spawn(async move {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json().await.unwrap();
        (status, body, Instant::now())
    })
}

/// Within a second of `since`, each stream ended with a comment naming `why`, and each poll
/// answered 401 `invalid-token`.
async fn all_ended(
    streams: Vec<tokio::task::JoinHandle<(String, Instant)>>,
    polls: Vec<tokio::task::JoinHandle<(u16, Value, Instant)>>,
    since: Instant,
    why: &str,
) {
    for stream in streams {
        let (text, ended) = tokio::time::timeout(Duration::from_secs(5), stream)
            .await
            .expect("the stream ended")
            .unwrap();
        let took = ended.saturating_duration_since(since);
        println!("a stream ended {took:?} after the token did ({why})");
        assert!(took < Duration::from_secs(1), "{took:?}");
        assert!(
            text.ends_with(&format!(": {why}; the stream ends\n\n")),
            "{text:?}"
        );
    }
    for poll in polls {
        let (status, problem, answered) = tokio::time::timeout(Duration::from_secs(5), poll)
            .await
            .expect("the poll answered")
            .unwrap();
        let took = answered.saturating_duration_since(since);
        println!("a poll answered {status} {took:?} after the token ended ({why})");
        assert_eq!(status, 401, "{problem}");
        assert_eq!(problem["type"], "urn:students-api:problem:invalid-token");
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
}

#[tokio::test]
async fn a_revoke_ends_the_tokens_streams_and_polls_on_every_instance_within_a_second() {
    let first = spawn_app().await;
    let second = crate::helpers::spawn_second_instance(&first).await;
    let (id, token) = reader(&first, None).await;
    let streams = vec![follow(&first, &token).await, follow(&second, &token).await];
    let polls = vec![
        wait_for_changes(&first, &token),
        wait_for_changes(&second, &token),
    ];
    // Another token's stream is not touched.
    let (_, other) = reader(&first, None).await;
    let bystander = follow(&second, &other).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let since = Instant::now();
    let revoked = first
        .client
        .delete(first.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    all_ended(streams, polls, since, "the token has been revoked").await;
    assert!(!bystander.is_finished(), "another token's stream ended too");
    // And the token opens nothing new.
    let again = client_with_token(&token)
        .get(second.url("/api/students/changes/poll?wait=0"))
        .send()
        .await
        .unwrap();
    assert_problem(again, 401).await;
}

#[tokio::test]
async fn an_expiry_ends_the_tokens_streams_and_polls_on_every_instance_within_a_second() {
    let first = spawn_app().await;
    let second = crate::helpers::spawn_second_instance(&first).await;
    let lasts = Duration::from_millis(1500);
    let (_, token) = reader(&first, Some(Utc::now() + lasts)).await;
    let expires = Instant::now() + lasts;
    let streams = vec![follow(&first, &token).await, follow(&second, &token).await];
    let polls = vec![
        wait_for_changes(&first, &token),
        wait_for_changes(&second, &token),
    ];
    all_ended(streams, polls, expires, "the token has expired").await;
}
