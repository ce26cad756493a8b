//! `GET /api/students`: pages, cursors and their parameters.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{assert_problem, error_locations, spawn_app, walk_pages};

#[tokio::test]
async fn the_default_page_holds_20_students_in_id_order() {
    let app = spawn_app().await;
    for i in 0..25 {
        app.create_student(&format!("Student {i}"), "B", None).await;
    }

    let page: Value = app.get("/api/students").await.json().await.unwrap();

    let ids: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 20);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ordered by id: {ids:?}"
    );
    assert!(page["next_cursor"].is_string());
}

#[tokio::test]
async fn an_empty_list_has_no_next_cursor() {
    let app = spawn_app().await;

    let page: Value = app.get("/api/students").await.json().await.unwrap();

    assert_eq!(page, serde_json::json!({"items": [], "next_cursor": null}));
}

#[tokio::test]
async fn the_cursor_walk_returns_every_student_exactly_once_despite_changes() {
    let app = spawn_app().await;
    let mut expected = BTreeSet::new();
    for i in 0..23 {
        let student = app.create_student(&format!("Walker {i}"), "C", None).await;
        expected.insert(student["id"].as_i64().unwrap());
    }

    let (items, pages) = walk_pages(
        &app.client,
        &app.address,
        "/api/students?limit=5",
        async |page, items| {
            if page == 2 {
                // Between pages: one already-seen student leaves, a new one arrives at the end.
                app.delete_student(&items[0]).await;
                let late = app.create_student("Latecomer", "A", None).await;
                expected.insert(late["id"].as_i64().unwrap());
            }
        },
    )
    .await;
    let seen: Vec<i64> = items.iter().map(|s| s["id"].as_i64().unwrap()).collect();

    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no student twice: {seen:?}");
    assert_eq!(unique, expected, "every student once");
    assert_eq!(pages, 5, "24 students in pages of 5");
}

#[tokio::test]
async fn limit_outside_1_to_100_is_a_422_naming_it() {
    let app = spawn_app().await;

    for limit in ["0", "101", "-1", "abc", "1.5"] {
        let problem =
            assert_problem(app.get(&format!("/api/students?limit={limit}")).await, 422).await;
        assert_eq!(error_locations(&problem)[0].0, "query.limit", "{limit}");
    }
    assert_eq!(app.get("/api/students?limit=100").await.status(), 200);
    assert_eq!(app.get("/api/students?limit=1").await.status(), 200);
}

#[tokio::test]
async fn a_cursor_the_api_did_not_issue_is_a_422_naming_it() {
    let app = spawn_app().await;

    for cursor in ["garbage", "aWQ6eHl6", "%27%20OR%201%3D1--", ""] {
        let problem = assert_problem(
            app.get(&format!("/api/students?cursor={cursor}")).await,
            422,
        )
        .await;
        assert_eq!(error_locations(&problem)[0].0, "query.cursor", "{cursor}");
    }
}
