//! The students resource, operation by operation.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_locations, pair, spawn_app};

#[tokio::test]
async fn creating_a_student_returns_201_with_its_location_and_the_stored_student() {
    let app = spawn_app().await;

    let response = app
        .post_student(
            &json!({"name": "  Ada Lovelace ", "grade": "A+", "email": "Ada@Example.COM"}),
        )
        .await;

    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let student: Value = response.json().await.unwrap();
    assert_eq!(location, TestApp::student_path(&student));
    assert_eq!(student["name"], "Ada Lovelace", "trimmed");
    assert_eq!(student["grade"], "A+");
    assert_eq!(student["email"], "ada@example.com", "lower-cased");
    let created_at = student["created_at"].as_str().unwrap();
    assert!(created_at.ends_with('Z'), "UTC RFC 3339: {created_at}");
    assert!(chrono::DateTime::parse_from_rfc3339(created_at).is_ok());
    assert_eq!(student["created_at"], student["updated_at"]);
}

#[tokio::test]
async fn a_created_student_is_stored_as_psql_shows_it() {
    let app = spawn_app().await;

    let student = app
        .create_student("Grace Hopper", "B-", Some("GRACE@navy.mil"))
        .await;

    let (name, grade, email): (String, String, Option<String>) =
        sqlx::query_as("SELECT name, grade, email FROM students WHERE id = $1")
            .bind(student["id"].as_i64().unwrap())
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((name.as_str(), grade.as_str()), ("Grace Hopper", "B-"));
    assert_eq!(email.as_deref(), Some("grace@navy.mil"));
}

#[tokio::test]
async fn email_is_optional_on_create() {
    let app = spawn_app().await;

    let without = app
        .post_student(&json!({"name": "No Mail", "grade": "C"}))
        .await;
    let with_null = app
        .post_student(&json!({"name": "Null Mail", "grade": "C", "email": null}))
        .await;

    for response in [without, with_null] {
        assert_eq!(response.status(), 201);
        let student: Value = response.json().await.unwrap();
        assert_eq!(student["email"], Value::Null, "email is present and null");
    }
}

#[tokio::test]
async fn getting_a_student_returns_it_and_a_missing_one_returns_404() {
    let app = spawn_app().await;
    let student = app.create_student("Alan Turing", "A", None).await;

    let found = app.get(&TestApp::student_path(&student)).await;
    assert_eq!(found.status(), 200);
    assert_eq!(found.json::<Value>().await.unwrap(), student);

    let missing = assert_problem(app.get("/api/students/999999").await, 404).await;
    assert_eq!(
        missing["type"],
        "urn:students-api:problem:student-not-found"
    );
    assert!(missing["detail"].as_str().unwrap().contains("999999"));
}

#[tokio::test]
async fn replacing_a_student_overwrites_every_field() {
    let app = spawn_app().await;
    let student = app
        .create_student("Edsger", "B", Some("ed@example.com"))
        .await;

    let response = app
        .put_student(
            &student,
            &json!({"name": "Edsger Dijkstra", "grade": "A-", "email": null}),
        )
        .await;

    assert_eq!(response.status(), 200);
    let replaced: Value = response.json().await.unwrap();
    assert_eq!(replaced["id"], student["id"]);
    assert_eq!(replaced["name"], "Edsger Dijkstra");
    assert_eq!(replaced["grade"], "A-");
    assert_eq!(replaced["email"], Value::Null, "null clears the e-mail");
    assert_eq!(replaced["created_at"], student["created_at"]);
    assert_ne!(replaced["updated_at"], student["updated_at"]);
}

#[tokio::test]
async fn replacing_needs_every_writable_field() {
    let app = spawn_app().await;
    let student = app
        .create_student("Barbara", "B", Some("b@example.com"))
        .await;
    let path = TestApp::student_path(&student);

    let response = app
        .put_student(&student, &json!({"name": "Barbara Liskov"}))
        .await;

    let problem = assert_problem(response, 422).await;
    assert_eq!(
        error_locations(&problem),
        vec![pair("/grade", "required"), pair("/email", "required")]
    );
    let unchanged: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(unchanged, student);
}

#[tokio::test]
async fn replacing_or_updating_a_missing_student_returns_404() {
    let app = spawn_app().await;
    let body = json!({"name": "Nobody", "grade": "F", "email": null});

    assert_problem(
        app.send_json(Method::PUT, "/api/students/4242", &body)
            .await,
        404,
    )
    .await;
    assert_problem(
        app.send_json(Method::PATCH, "/api/students/4242", &json!({"grade": "F"}))
            .await,
        404,
    )
    .await;
}

#[tokio::test]
async fn patch_leaves_absent_fields_alone_and_null_email_clears_it() {
    let app = spawn_app().await;
    let student = app
        .create_student("Katherine", "B+", Some("kj@nasa.gov"))
        .await;

    let graded: Value = app
        .patch_student(&student, &json!({"grade": "A"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(graded["grade"], "A");
    assert_eq!(graded["name"], "Katherine", "absent name unchanged");
    assert_eq!(graded["email"], "kj@nasa.gov", "absent email unchanged");

    let cleared: Value = app
        .patch_student(&student, &json!({"email": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["email"], Value::Null);
    assert_eq!(cleared["grade"], "A");
}

#[tokio::test]
async fn patch_refuses_null_for_required_fields() {
    let app = spawn_app().await;
    let student = app.create_student("Margaret", "A", None).await;

    let response = app
        .patch_student(&student, &json!({"name": null, "grade": null}))
        .await;

    let problem = assert_problem(response, 422).await;
    assert_eq!(
        error_locations(&problem),
        vec![pair("/name", "null"), pair("/grade", "null")]
    );
}

#[tokio::test]
async fn an_empty_patch_changes_nothing_not_even_updated_at() {
    let app = spawn_app().await;
    let student = app.create_student("Frances", "B", None).await;

    let response = app.patch_student(&student, &json!({})).await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), student);
}

#[tokio::test]
async fn deleting_a_student_returns_204_and_then_404() {
    let app = spawn_app().await;
    let student = app.create_student("Temporary", "D", None).await;
    let path = TestApp::student_path(&student);

    let deleted = app.client.delete(app.url(&path)).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(deleted.text().await.unwrap(), "");

    assert_problem(app.get(&path).await, 404).await;
    assert_problem(app.client.delete(app.url(&path)).send().await.unwrap(), 404).await;
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn a_taken_email_in_any_letter_case_is_a_409_naming_email() {
    let app = spawn_app().await;
    app.create_student("First", "A", Some("same@example.com"))
        .await;

    let response = app
        .post_student(&json!({"name": "Second", "grade": "B", "email": "SAME@Example.com"}))
        .await;

    let problem = assert_problem(response, 409).await;
    assert_eq!(problem["type"], "urn:students-api:problem:email-taken");
    assert_eq!(error_locations(&problem), vec![pair("/email", "taken")]);
    assert_eq!(app.student_count().await, 1);
}

#[tokio::test]
async fn moving_a_student_to_a_taken_email_is_a_409_and_changes_nothing() {
    let app = spawn_app().await;
    app.create_student("Owner", "A", Some("taken@example.com"))
        .await;
    let other = app
        .create_student("Other", "B", Some("other@example.com"))
        .await;
    let path = format!("/api/students/{}", other["id"]);

    let patched = app
        .send_json(Method::PATCH, &path, &json!({"email": "Taken@example.com"}))
        .await;
    assert_problem(patched, 409).await;
    let replaced = app
        .send_json(
            Method::PUT,
            &path,
            &json!({"name": "Other", "grade": "B", "email": "TAKEN@example.com"}),
        )
        .await;
    assert_problem(replaced, 409).await;

    let unchanged: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(unchanged, other);
}

#[tokio::test]
async fn names_are_bounded_as_sent_and_stored_trimmed() {
    let app = spawn_app().await;
    let hundred = "n".repeat(100);

    // maxLength counts what is sent, as the spec (and every JSON Schema validator) reads it.
    let padded = app
        .post_student(&json!({"name": format!(" {hundred}"), "grade": "C"}))
        .await;
    let problem = assert_problem(padded, 422).await;
    assert_eq!(error_locations(&problem), vec![pair("/name", "too_long")]);
    let exact = app
        .post_student(&json!({"name": hundred, "grade": "C"}))
        .await;
    assert_eq!(exact.status(), 201, "100 characters is fine");
    let wide = app
        .post_student(&json!({"name": "é".repeat(100), "grade": "C"}))
        .await;
    assert_eq!(wide.status(), 201, "characters, not bytes");

    let long = app
        .post_student(&json!({"name": "n".repeat(101), "grade": "C"}))
        .await;
    let problem = assert_problem(long, 422).await;
    assert_eq!(error_locations(&problem), vec![pair("/name", "too_long")]);

    let blank = app
        .post_student(&json!({"name": "   ", "grade": "C"}))
        .await;
    let problem = assert_problem(blank, 422).await;
    assert_eq!(error_locations(&problem), vec![pair("/name", "too_short")]);
}

#[tokio::test]
async fn every_grade_is_accepted_and_nothing_else() {
    let app = spawn_app().await;
    for grade in ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D", "F"] {
        app.create_student(&format!("Grade {grade}"), grade, None)
            .await;
    }
    for grade in ["E", "a", "A++", " A", ""] {
        let response = app
            .post_student(&json!({"name": "X", "grade": grade}))
            .await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(
            error_locations(&problem),
            vec![pair("/grade", "invalid_enum")],
            "{grade:?}"
        );
    }
}

#[tokio::test]
async fn emails_are_checked_for_form_and_length() {
    let app = spawn_app().await;
    let too_long = format!("{}@example.com", "a".repeat(243));
    for (email, code) in [
        ("not-an-email", "invalid_email"),
        ("a@", "invalid_email"),
        (too_long.as_str(), "too_long"),
    ] {
        let response = app
            .post_student(&json!({"name": "X", "grade": "A", "email": email}))
            .await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(
            error_locations(&problem),
            vec![pair("/email", code)],
            "{email}"
        );
    }
    assert_eq!(app.student_count().await, 0);
}
