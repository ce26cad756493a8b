//! `restoreStudent` (POST /api/students/{id}/restore): a version from the history back, as a
//! change of its own; and `count=estimated` on listStudents, which the admin console shows on
//! every page.

use reqwest::Method;
use serde_json::{Value, json};
use students_api::domain::Scope;

use crate::helpers::{
    TestApp, assert_problem, client_with_token, error_locations, make_token, pair, spawn_app,
};

async fn restore(app: &TestApp, id: i64, version: i64) -> reqwest::Response {
    app.send_json(
        Method::POST,
        &format!("/api/students/{id}/restore"),
        &json!({ "version": version }),
    )
    .await
}

async fn history(app: &TestApp, id: i64) -> Vec<Value> {
    let page: Value = app
        .get(&format!("/api/students/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    page["changes"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_restore_brings_back_an_earlier_version_as_a_change_of_its_own() {
    let app = spawn_app().await;
    let ada = app
        .create_student("Ada", "A", Some("ada@example.com"))
        .await;
    let id = ada["id"].as_i64().unwrap();
    let edited = app
        .patch_student(
            &ada,
            &json!({"name": "Ada King", "grade": "B", "email": null}),
        )
        .await;
    assert_eq!(edited.status(), 200);

    let restored = restore(&app, id, 1).await;
    assert_eq!(restored.status(), 200);
    assert_eq!(restored.headers()["etag"], "\"3\"");
    let student: Value = restored.json().await.unwrap();
    assert_eq!(
        (&student["name"], &student["grade"], &student["email"]),
        (&json!("Ada"), &json!("A"), &json!("ada@example.com"))
    );
    let changes = history(&app, id).await;
    assert_eq!(changes.len(), 3);
    assert_eq!(changes[0]["op"], "updated");
    assert_eq!(changes[0]["version"], 3);
    assert_eq!(changes[0]["restored_from"], 1);
    assert_eq!(
        changes[0]["changes"]["name"],
        json!({"before": "Ada King", "after": "Ada"})
    );
    assert_eq!(changes[1]["restored_from"], Value::Null);
    let column: Option<i32> = sqlx::query_scalar(
        "SELECT restored_from_version FROM student_changes WHERE student_id = $1 AND version = 3",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(column, Some(1));
}

#[tokio::test]
async fn a_deleted_student_comes_back_with_its_id_and_a_later_version() {
    let app = spawn_app().await;
    let ada = app
        .create_student("Ada", "A", Some("ada@example.com"))
        .await;
    let id = ada["id"].as_i64().unwrap();
    assert_eq!(
        app.patch_student(&ada, &json!({"grade": "B"}))
            .await
            .status(),
        200
    );
    assert_eq!(app.delete_student(&ada).await.status(), 204);

    let restored = restore(&app, id, 2).await;
    assert_eq!(restored.status(), 201);
    assert_eq!(
        restored.headers()["location"],
        format!("/api/students/{id}").as_str()
    );
    // Its version goes on from the last (2): an ETag from before the delete never matches.
    assert_eq!(restored.headers()["etag"], "\"3\"");
    let student: Value = restored.json().await.unwrap();
    assert_eq!(
        (student["id"].as_i64(), &student["grade"]),
        (Some(id), &json!("B"))
    );
    assert_eq!(
        student["created_at"], ada["created_at"],
        "its first created_at"
    );
    let changes = history(&app, id).await;
    assert_eq!(changes[0]["op"], "created");
    assert_eq!(changes[0]["restored_from"], 2);
    assert_eq!(changes[1]["op"], "deleted");
    assert_eq!(app.get(&format!("/api/students/{id}")).await.status(), 200);
    // A deleted student has no ETag: If-Match fails on it.
    assert_eq!(app.delete_student(&student).await.status(), 204);
    let conditional = app
        .client
        .post(app.url(&format!("/api/students/{id}/restore")))
        .header("if-match", "\"3\"")
        .json(&json!({"version": 1}))
        .send()
        .await
        .unwrap();
    assert_problem(conditional, 412).await;
}

#[tokio::test]
async fn refusals_name_what_is_wrong_and_write_nothing() {
    let app = spawn_app().await;
    let ada = app
        .create_student("Ada", "A", Some("ada@example.com"))
        .await;
    let id = ada["id"].as_i64().unwrap();
    assert_eq!(
        app.patch_student(&ada, &json!({"email": "ada@king.example"}))
            .await
            .status(),
        200
    );

    let unknown_version = assert_problem(restore(&app, id, 9).await, 422).await;
    assert_eq!(
        error_locations(&unknown_version),
        vec![pair("/version", "no_such_version")]
    );
    let zero = assert_problem(restore(&app, id, 0).await, 422).await;
    assert!(
        error_locations(&zero)
            .iter()
            .any(|(location, _)| location == "/version")
    );
    assert_problem(restore(&app, id + 1000, 1).await, 404).await;

    // Its first address has since gone to another student: 409 on the e-mail, nothing changed.
    let grace = app
        .create_student("Grace", "B", Some("ada@example.com"))
        .await;
    let taken = assert_problem(restore(&app, id, 1).await, 409).await;
    assert_eq!(taken["type"], "urn:students-api:problem:email-taken");
    assert!(
        taken["detail"]
            .as_str()
            .unwrap()
            .starts_with("version 1's e-mail address is now another student's"),
        "the detail says what the restore met: {taken}"
    );
    assert_eq!(error_locations(&taken), vec![pair("/version", "taken")]);
    let now: Value = app
        .get(&format!("/api/students/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["email"], "ada@king.example");
    assert_eq!(history(&app, id).await.len(), 2);
    // And when the other student is deleted, the restore works.
    assert_eq!(app.delete_student(&grace).await.status(), 204);
    assert_eq!(restore(&app, id, 1).await.status(), 200);

    let stale = app
        .client
        .post(app.url(&format!("/api/students/{id}/restore")))
        .header("if-match", "\"1\"")
        .json(&json!({"version": 1}))
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;

    let reader = make_token(&app.pool, &[Scope::StudentsRead]).await.unwrap();
    let forbidden = client_with_token(&reader)
        .post(app.url(&format!("/api/students/{id}/restore")))
        .json(&json!({"version": 1}))
        .send()
        .await
        .unwrap();
    assert_problem(forbidden, 403).await;
}

#[tokio::test]
async fn concurrent_restores_of_a_deleted_student_create_it_once() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let id = ada["id"].as_i64().unwrap();
    assert_eq!(app.delete_student(&ada).await.status(), 204);
    let answers = futures_util::future::join_all((0..8).map(|_| restore(&app, id, 1))).await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    // One creates it again; the others find it there and restore version 1 over it (no change).
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 200, 200, 201]);
    let changes = history(&app, id).await;
    assert_eq!(
        changes.len(),
        3,
        "created, deleted, created again: {changes:?}"
    );
    assert_eq!(app.student_count().await, 1);
}

#[tokio::test]
async fn count_estimated_is_the_planners_estimate_without_a_count() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO students (name, grade) \
         SELECT 'Student ' || g, (ARRAY['A','B','C','D'])[1 + g % 4] FROM generate_series(1, 2000) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE students")
        .execute(&app.pool)
        .await
        .unwrap();

    let page: Value = app
        .get("/api/students?count=estimated&limit=5")
        .await
        .json()
        .await
        .unwrap();
    let all = page["estimated_total"].as_i64().unwrap();
    assert!(
        (1_800..=2_200).contains(&all),
        "estimate {all} for 2,000 students"
    );
    assert!(page.get("total").is_none());
    let next = page["next_cursor"].as_str().unwrap();
    let link_page = app
        .get(&format!(
            "/api/students?count=estimated&limit=5&cursor={next}"
        ))
        .await;
    assert!(
        link_page.headers()["link"]
            .to_str()
            .unwrap()
            .contains("count=estimated"),
        "the next page's link keeps the count mode"
    );

    let graded: Value = app
        .get("/api/students?count=estimated&grade=A")
        .await
        .json()
        .await
        .unwrap();
    let a = graded["estimated_total"].as_i64().unwrap();
    assert!((400..=600).contains(&a), "estimate {a} for 500 A students");

    let exact: Value = app
        .get("/api/students?count=exact&grade=A")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(exact["total"], 500);
    assert!(exact.get("estimated_total").is_none());
    let plain: Value = app.get("/api/students").await.json().await.unwrap();
    assert!(plain.get("estimated_total").is_none() && plain.get("total").is_none());
    let searched: Value = app
        .get("/api/students?count=estimated&q=Student%201")
        .await
        .json()
        .await
        .unwrap();
    assert!(searched["estimated_total"].as_i64().unwrap() >= 1);
}
