//! Optimistic concurrency: ETags on every student response, `If-Match` on writes (412 when
//! stale, decided inside the write), `If-None-Match` on reads (304).

use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, assert_problem, error_locations, pair, spawn_app};

fn etag(response: &Response) -> String {
    response.headers()["etag"].to_str().unwrap().to_owned()
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    if_match: Option<&str>,
    body: Option<serde_json::Value>,
) -> Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_student_response_carries_its_version_as_etag() {
    let app = spawn_app().await;
    let created = app
        .post_student(&json!({"name": "Ada", "grade": "A"}))
        .await;
    assert_eq!(created.status(), 201);
    assert_eq!(etag(&created), "\"1\"");
    let id = created.json::<serde_json::Value>().await.unwrap()["id"].clone();
    let path = format!("/api/students/{id}");

    assert_eq!(etag(&app.get(&path).await), "\"1\"");
    let patched = send(
        &app,
        Method::PATCH,
        &path,
        None,
        Some(json!({"grade": "B"})),
    )
    .await;
    assert_eq!(etag(&patched), "\"2\"");
    let noop = send(
        &app,
        Method::PATCH,
        &path,
        None,
        Some(json!({"grade": "B"})),
    )
    .await;
    assert_eq!(
        etag(&noop),
        "\"2\"",
        "a write that changes nothing keeps the version"
    );
    let replaced = send(
        &app,
        Method::PUT,
        &path,
        None,
        Some(json!({"name": "Ada", "grade": "C", "email": null})),
    )
    .await;
    assert_eq!(etag(&replaced), "\"3\"");
}

#[tokio::test]
async fn a_stale_if_match_is_a_412_and_changes_nothing() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let path = format!("/api/students/{}", ada["id"]);
    send(
        &app,
        Method::PATCH,
        &path,
        None,
        Some(json!({"grade": "B"})),
    )
    .await;

    // Version 1 is gone: every conditional write with it fails and leaves the row alone.
    for (method, body) in [
        (Method::PATCH, Some(json!({"grade": "F"}))),
        (
            Method::PUT,
            Some(json!({"name": "X", "grade": "F", "email": null})),
        ),
        (Method::DELETE, None),
    ] {
        let response = send(&app, method.clone(), &path, Some("\"1\""), body).await;
        let problem = assert_problem(response, 412).await;
        assert_eq!(
            problem["type"],
            "urn:students-api:problem:precondition-failed"
        );
        assert_eq!(
            error_locations(&problem)[0].0,
            "header.If-Match",
            "{method}"
        );
    }
    // Weak tags never match for writes, and neither does a tag we never issued.
    for tag in ["W/\"2\"", "\"banana\""] {
        let response = send(
            &app,
            Method::PATCH,
            &path,
            Some(tag),
            Some(json!({"grade": "F"})),
        )
        .await;
        assert_eq!(response.status(), 412, "{tag}");
    }
    let current = app.get(&path).await;
    assert_eq!(etag(&current), "\"2\"");
    assert_eq!(
        current.json::<serde_json::Value>().await.unwrap()["grade"],
        "B"
    );

    // The current tag, a list holding it, and `*` all let the write through.
    let ok = send(
        &app,
        Method::PATCH,
        &path,
        Some("\"9\", \"2\""),
        Some(json!({"grade": "A"})),
    )
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(etag(&ok), "\"3\"");
    let any = send(
        &app,
        Method::PATCH,
        &path,
        Some("*"),
        Some(json!({"grade": "C"})),
    )
    .await;
    assert_eq!(any.status(), 200);
    let deleted = send(&app, Method::DELETE, &path, Some("\"4\""), None).await;
    assert_eq!(deleted.status(), 204);
    // A missing student is a 404 whatever If-Match says.
    let gone = send(&app, Method::DELETE, &path, Some("\"4\""), None).await;
    assert_problem(gone, 404).await;
}

#[tokio::test]
async fn if_none_match_on_the_current_version_is_a_304_without_body() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let path = format!("/api/students/{}", ada["id"]);
    let get_with = |tag: &'static str| {
        app.client
            .get(app.url(&path))
            .header("if-none-match", tag)
            .send()
    };
    for tag in ["\"1\"", "W/\"1\"", "\"7\", \"1\"", "*"] {
        let response = get_with(tag).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{tag}");
        assert_eq!(etag(&response), "\"1\"");
        assert!(response.bytes().await.unwrap().is_empty());
    }
    let stale = get_with("\"0\"").await.unwrap();
    assert_eq!(stale.status(), 200);
    assert_eq!(
        stale.json::<serde_json::Value>().await.unwrap()["name"],
        "Ada"
    );
}

#[tokio::test]
async fn of_concurrent_writes_holding_the_same_etag_exactly_one_wins() {
    let app = spawn_app().await;
    for round in 0..10 {
        let student = app
            .create_student(&format!("Racer {round}"), "C", None)
            .await;
        let path = format!("/api/students/{}", student["id"]);
        let writers = (0..20).map(|n| {
            let grade = ["A", "B"][n % 2];
            send(
                &app,
                Method::PATCH,
                &path,
                Some("\"1\""),
                Some(json!({"grade": grade, "name": format!("Writer {n}")})),
            )
        });
        let statuses: Vec<u16> = futures_util::future::join_all(writers)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        let winners = statuses.iter().filter(|s| **s == 200).count();
        let losers = statuses.iter().filter(|s| **s == 412).count();
        assert_eq!((winners, losers), (1, 19), "round {round}: {statuses:?}");
        assert_eq!(etag(&app.get(&path).await), "\"2\"");
    }
}

#[tokio::test]
async fn a_garbage_or_empty_condition_header_is_a_422_naming_it_not_a_412() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let path = format!("/api/students/{}", ada["id"]);

    for tag in ["2", "", "banana", "\"1\",", "W/2"] {
        let write = send(
            &app,
            Method::PATCH,
            &path,
            Some(tag),
            Some(json!({"grade": "F"})),
        )
        .await;
        let problem = assert_problem(write, 422).await;
        assert_eq!(
            error_locations(&problem),
            vec![pair("header.If-Match", "invalid_parameter")],
            "{tag:?}"
        );

        let read = app
            .client
            .get(app.url(&path))
            .header("if-none-match", tag)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(read, 422).await;
        assert_eq!(
            error_locations(&problem),
            vec![pair("header.If-None-Match", "invalid_parameter")],
            "{tag:?}"
        );
    }
    let unchanged: serde_json::Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(unchanged["grade"], "A");
}

#[tokio::test]
async fn entity_tags_compare_exactly_as_issued_not_as_numbers() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let path = format!("/api/students/{}", ada["id"]);

    for tag in ["\"01\"", "\"+1\"", "\"1.0\""] {
        let read = app
            .client
            .get(app.url(&path))
            .header("if-none-match", tag)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), 200, "{tag} is not the ETag \"1\"");
        let write = send(
            &app,
            Method::PATCH,
            &path,
            Some(tag),
            Some(json!({"grade": "F"})),
        )
        .await;
        assert_problem(write, 412).await;
    }
    let unchanged: serde_json::Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(unchanged["grade"], "A");
}

#[tokio::test]
async fn several_if_match_lines_are_one_list() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let path = format!("/api/students/{}", ada["id"]);

    let written = app
        .client
        .patch(app.url(&path))
        .header("if-match", "\"9\"")
        .header("if-match", "\"1\"")
        .json(&json!({"grade": "B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        written.status(),
        200,
        "the second line names the current version"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_without_if_match_racing_the_create_of_its_id_is_never_a_412() {
    // Found by a hostile probe: a DELETE of the id a concurrent POST was about to create got a
    // 412 naming If-Match, which it never sent (the row appeared between the write's miss and
    // the question "was it missing?").
    use std::sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    };
    let app = spawn_app().await;
    let first = app.create_student("Racer 0", "A", None).await;
    let latest = Arc::new(AtomicI64::new(first["id"].as_i64().unwrap()));
    let stop = std::time::Instant::now() + std::time::Duration::from_secs(3);
    let creator = {
        let (client, url, latest) = (app.client.clone(), app.url("/api/students"), latest.clone());
        tokio::spawn(async move {
            while std::time::Instant::now() < stop {
                let body = json!({"name": "Racer", "grade": "A"});
                let created: serde_json::Value = client
                    .post(&url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                latest.store(created["id"].as_i64().unwrap(), Ordering::Release);
            }
        })
    };
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    while std::time::Instant::now() < stop {
        // The id the creator is about to be given.
        let next = latest.load(Ordering::Acquire) + 1;
        for method in [Method::DELETE, Method::PATCH, Method::PUT] {
            let body = json!({"name": "Other", "grade": "B", "email": null});
            let request = app
                .client
                .request(method, app.url(&format!("/api/students/{next}")))
                .json(&body);
            let status = request.send().await.unwrap().status().as_u16();
            *statuses.entry(status).or_default() += 1;
        }
    }
    creator.await.unwrap();
    println!("writes without If-Match racing creates: {statuses:?}");
    assert!(
        statuses.keys().all(|s| [200, 204, 404].contains(s)),
        "{statuses:?}"
    );
}

/// Several instances starting at once on a new database (a deployment's first rollout) race to
/// create it; every one must start.
#[tokio::test]
async fn instances_starting_at_once_all_create_or_find_the_database() {
    let url = crate::helpers::fresh_database_url();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { students_api::db::ensure_database(&url).await })
        })
        .collect();
    for racer in racers {
        racer.await.unwrap().unwrap();
    }
    crate::helpers::drop_database(&url);
}

/// Behind a transaction pooler, LISTEN and migrations need a direct connection: starting
/// without one is refused at once, naming the setting, instead of failing later in a LISTEN.
#[tokio::test]
async fn a_transaction_pooler_without_a_direct_url_is_refused_at_start() {
    let mut config = crate::helpers::test_config(Some(crate::helpers::fresh_database_url()));
    config.database_pooler = students_api::config::Pooler::Transaction;
    let refused = students_api::startup::Application::build(config).await;
    let message = refused.err().map(|err| err.to_string()).unwrap_or_default();
    assert!(message.contains("DATABASE_LISTEN_URL"), "{message}");
}
