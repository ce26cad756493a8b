//! `student_changes` (migrations 10 and 11): every change to a student recorded by a trigger in the
//! writing transaction, with its actor: the API's token, or the database role for a change
//! made in psql.

use serde_json::{Value, json};
use students_api::db;

use crate::helpers::{TestApp, assert_problem, spawn_app};

/// (op, student id, version, actor token id, actor, has `previous`), oldest first.
type Recorded = (String, i64, i32, Option<i64>, String, bool);

async fn recorded(app: &TestApp) -> Vec<Recorded> {
    sqlx::query_as(
        "SELECT op, student_id, version, actor_token_id, actor, previous IS NOT NULL \
         FROM student_changes ORDER BY feed_xid, seq",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn helper_token(app: &TestApp) -> (i64, String) {
    sqlx::query_as("SELECT id, name FROM api_tokens ORDER BY id LIMIT 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_api_write_is_recorded_with_its_token_and_nothing_else_is() {
    let app = spawn_app().await;
    let (token_id, token_name) = helper_token(&app).await;
    let ada = app
        .create_student("Ada", "A", Some("ada@example.com"))
        .await;
    let path = TestApp::student_path(&ada);
    assert_eq!(
        app.patch_student(&ada, &json!({"grade": "B"}))
            .await
            .status(),
        200
    );
    // A no-op PATCH changes nothing, so records nothing.
    assert_eq!(
        app.patch_student(&ada, &json!({"grade": "B"}))
            .await
            .status(),
        200
    );
    let put = app
        .put_student(
            &ada,
            &json!({"name": "Ada King", "grade": "B", "email": null}),
        )
        .await;
    assert_eq!(put.status(), 200);
    // Refused writes record nothing: a stale If-Match, an invalid body.
    let stale = app
        .client
        .delete(app.url(&path))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_problem(stale, 412).await;
    assert_problem(app.patch_student(&ada, &json!({"grade": "Z"})).await, 422).await;
    // An idempotent create retried is one change.
    for _ in 0..2 {
        let created = app
            .post_with_key("k-1", &json!({"name": "Once", "grade": "C"}))
            .await;
        assert!(created.status().is_success());
    }
    assert_eq!(app.delete_student(&ada).await.status(), 204);

    let id = ada["id"].as_i64().unwrap();
    let by = |op: &str, student: i64, version: i32, previous: bool| {
        (
            op.to_owned(),
            student,
            version,
            Some(token_id),
            token_name.clone(),
            previous,
        )
    };
    let once: i64 = sqlx::query_scalar("SELECT id FROM students WHERE name = 'Once'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        recorded(&app).await,
        [
            by("created", id, 1, false),
            by("updated", id, 2, true),
            by("updated", id, 3, true),
            by("created", once, 1, false),
            by("deleted", id, 3, false),
        ]
    );
    // The whole student after the change (before it, for the delete), and before an update.
    let (student, previous): (Value, Option<Value>) = sqlx::query_as(
        "SELECT student, previous FROM student_changes WHERE op = 'updated' ORDER BY feed_xid, seq LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(student["grade"], "B");
    assert_eq!(previous.unwrap()["grade"], "A");
}

#[tokio::test]
async fn a_change_made_in_psql_is_recorded_with_the_database_role() {
    let app = spawn_app().await;
    sqlx::query("INSERT INTO students (name, grade) VALUES ('Typed in psql', 'A')")
        .execute(&app.pool)
        .await
        .unwrap();
    let role: String = sqlx::query_scalar("SELECT session_user::text")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let changes = recorded(&app).await;
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].3, changes[0].4.as_str()), (None, role.as_str()));
    // The API's setting lives only as long as its own transaction: a later write on the same
    // pooled connection is not taken for the API's.
    app.create_student("Through the API", "B", None).await;
    sqlx::query("UPDATE students SET grade = 'C' WHERE name = 'Typed in psql'")
        .execute(&app.pool)
        .await
        .unwrap();
    let last = recorded(&app).await.pop().unwrap();
    assert_eq!((last.3, last.4), (None, role));
}

#[tokio::test]
async fn changes_past_their_retention_are_pruned() {
    let (app, _server) = crate::helpers::spawn_app_on_own_server().await;
    for n in 0..3 {
        app.create_student(&format!("Student {n}"), "A", None).await;
    }
    sqlx::query(
        "UPDATE student_changes SET changed_at = now() - interval '8 days' \
         WHERE student_id = (SELECT min(id) FROM students)",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let week = std::time::Duration::from_secs(7 * 86_400);
    assert_eq!(app.prune_changes(week).await, 1);
    assert_eq!(recorded(&app).await.len(), 2);
    // The mark moved to the pruned change: the feed refuses positions before it (410).
    let (marked, oldest_kept): (bool, bool) = sqlx::query_as(
        "SELECT (SELECT (feed_xid, seq) FROM student_changes_pruned) > ('0'::xid8, 0::int8), \
                (SELECT (feed_xid, seq) FROM student_changes_pruned) \
                < (SELECT (feed_xid, seq) FROM student_changes ORDER BY feed_xid, seq LIMIT 1)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(marked && oldest_kept);
    assert_eq!(db::prune_changes(&app.pool, week).await.unwrap(), 0);
}

/// `changed_at` (when the writing transaction began) does not follow the feed's order: pruning
/// takes a prefix of the feed, so the mark never passes a change that is kept.
#[tokio::test]
async fn pruning_removes_a_prefix_of_the_feed_never_a_change_behind_a_kept_one() {
    let (app, _server) = crate::helpers::spawn_app_on_own_server().await;
    for name in ["First", "Second", "Third"] {
        app.create_student(name, "A", None).await;
    }
    // Only the second is past the retention; the first is older in the feed.
    sqlx::query(
        "UPDATE student_changes SET changed_at = now() - interval '8 days' \
         WHERE student_id = (SELECT id FROM students WHERE name = 'Second')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let week = std::time::Duration::from_secs(7 * 86_400);
    assert_eq!(app.prune_changes(week).await, 2);
    let kept: Vec<String> =
        sqlx::query_scalar("SELECT student->>'name' FROM student_changes ORDER BY feed_xid, seq")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(kept, ["Third"]);
    let mark_is_last_pruned: bool = sqlx::query_scalar(
        "SELECT (p.feed_xid, p.seq) < (c.feed_xid, c.seq) FROM student_changes_pruned p, \
         student_changes c",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(mark_is_last_pruned);
}
