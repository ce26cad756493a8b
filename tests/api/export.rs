//! `GET /api/students/export`: CSV and NDJSON files of every matching student, streamed.

use serde_json::Value;

use crate::helpers::{assert_problem, error_locations, spawn_app};

/// Parses a CSV body the way a spreadsheet would (RFC 4180), with the `csv` crate.
fn csv_records(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn csv_quotes_commas_quotes_and_newline_free_names_exactly() {
    let app = spawn_app().await;
    let awkward = [
        "Lovelace, Ada",
        "Ada \"The Countess\" Lovelace",
        "O'Brien; Zoë 李",
        "=HYPERLINK(\"http://evil\")",
        "-1 Minus",
    ];
    for name in awkward {
        app.create_student(name, "B", None).await;
    }
    app.create_student("Plain Name", "A", Some("plain@example.com"))
        .await;

    let response = app.get("/api/students/export?format=csv").await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"students.csv\""
    );
    let body = response.text().await.unwrap();
    let records = csv_records(&body);
    assert_eq!(
        records[0],
        ["id", "name", "grade", "email", "created_at", "updated_at"]
    );
    let names: Vec<&str> = records[1..].iter().map(|r| r[1].as_str()).collect();
    assert_eq!(
        names,
        [
            "Lovelace, Ada",
            "Ada \"The Countess\" Lovelace",
            "O'Brien; Zoë 李",
            "'=HYPERLINK(\"http://evil\")",
            "'-1 Minus",
            "Plain Name",
        ]
    );
    assert!(body.contains("\"Lovelace, Ada\""), "quoted: {body}");
    assert!(body.contains("\"Ada \"\"The Countess\"\" Lovelace\""));
    assert_eq!(records[6][3], "plain@example.com");
    assert_eq!(records[1][3], "", "no e-mail is an empty cell");
}

#[tokio::test]
async fn ndjson_lines_are_the_api_objects_with_values_exact() {
    let app = spawn_app().await;
    let first = app.create_student("=1+1", "A-", None).await;
    let second = app
        .create_student("Line, \"quoted\"", "C", Some("c@example.com"))
        .await;

    let response = app.get("/api/students/export?format=ndjson").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    let body = response.text().await.unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines, [first, second]);
    assert!(body.ends_with('\n'));
}

#[tokio::test]
async fn the_export_applies_the_filters_and_sort_of_the_list() {
    let app = spawn_app().await;
    for i in 0..25 {
        let grade = if i % 5 == 0 { "A" } else { "B" };
        app.create_student(&format!("Student {i:02}"), grade, None)
            .await;
    }

    let body = app
        .get("/api/students/export?format=csv&grade=B&sort=-name&q=student%201")
        .await
        .text()
        .await
        .unwrap();

    let names: Vec<String> = csv_records(&body)[1..]
        .iter()
        .map(|r| r[1].clone())
        .collect();
    assert_eq!(
        names,
        [
            "Student 19",
            "Student 18",
            "Student 17",
            "Student 16",
            "Student 14",
            "Student 13",
            "Student 12",
            "Student 11"
        ]
    );
}

#[tokio::test]
async fn an_export_larger_than_a_batch_holds_every_row_once_in_order() {
    let app = spawn_app().await;
    // More than two batches of 1,000, written straight to the table for speed.
    sqlx::query(
        "INSERT INTO students (name, grade) \
         SELECT 'Bulk ' || g, 'C' FROM generate_series(1, 2345) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    let body = app
        .get("/api/students/export?format=ndjson")
        .await
        .text()
        .await
        .unwrap();

    let ids: Vec<i64> = body
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["id"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 2345);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let csv = app.get("/api/students/export").await.text().await.unwrap();
    assert_eq!(
        csv_records(&csv).len(),
        2346,
        "header + every row, CSV by default"
    );
}

#[tokio::test]
async fn a_bad_export_parameter_is_a_422_naming_it() {
    let app = spawn_app().await;

    for (query, location) in [
        ("format=xlsx", "query.format"),
        ("sort=shoe_size", "query.sort"),
        ("created_after=soon", "query.created_after"),
    ] {
        let problem =
            assert_problem(app.get(&format!("/api/students/export?{query}")).await, 422).await;
        assert_eq!(error_locations(&problem)[0].0, location, "{query}");
    }
}
