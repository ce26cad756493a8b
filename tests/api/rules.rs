//! The database refuses what the API refuses: every value the API's validation turns away is
//! tried on both, so a row psql accepts is always a row the API accepts and can read.

use reqwest::Response;
use serde_json::{Value, json};
use sqlx::PgPool;
use students_api::domain::{Email, StudentName};

use crate::helpers::{fresh_database_url, spawn_app, spawn_app_with};

/// The values the API's own validation tests refuse, per field (students.rs, errors.rs).
fn rejected_values() -> Vec<(&'static str, String)> {
    let mut values = Vec::new();
    for name in [
        String::new(),
        "   ".to_owned(),
        "\u{3000}".to_owned(),
        "n".repeat(101),
        format!(" {}", "n".repeat(100)),
        "Bell\u{7}".to_owned(),
        "Line\nBreak".to_owned(),
        "Esc\u{1b}[31m".to_owned(),
        "C1\u{85}".to_owned(),
        "Nul\u{0}Byte".to_owned(),
        // Names that show nothing, or hide formatting (each one was accepted once).
        "\u{FEFF}".to_owned(),
        "\u{200B}".to_owned(),
        "\u{200D}\u{200C}".to_owned(),
        "\u{3164}".to_owned(),
        "\u{2800}".to_owned(),
        "\u{0301}\u{0302}".to_owned(),
        "\u{202E}ecalevoL adA".to_owned(),
        "Ada\u{200B}Lovelace".to_owned(),
        "Ada\u{2066}Lovelace".to_owned(),
        // Found by a hostile probe: more that show nothing, some beyond the BMP.
        "\u{E0041}".to_owned(),
        "\u{E0001}".to_owned(),
        "\u{206A}\u{206F}".to_owned(),
        "\u{1D173}".to_owned(),
        "\u{17B4}\u{17B5}".to_owned(),
        "\u{180B}".to_owned(),
        "\u{16FE4}".to_owned(),
        "\u{E0100}".to_owned(),
        "\u{13430}".to_owned(),
        "\u{1BCA0}".to_owned(),
        "\u{0600}".to_owned(),
        "Non\u{FFFF}character".to_owned(),
    ] {
        values.push(("name", name));
    }
    for grade in ["E", "a", "A++", " A", "", "a+"] {
        values.push(("grade", grade.to_owned()));
    }
    for email in [
        "not-an-email".to_owned(),
        "nope".to_owned(),
        "a@".to_owned(),
        "@example.com".to_owned(),
        "zoë.6@example.com".to_owned(),
        "a b@example.com".to_owned(),
        "a@-x.com".to_owned(),
        String::new(),
        format!("{}@example.com", "a".repeat(243)),
        format!("{}@example.com", "a".repeat(65)),
        "a\u{0}@example.com".to_owned(),
        // Unicode twins of ASCII addresses: full-width and ideographic dots, a zero-width
        // space, a decomposed umlaut.
        "dup@example\u{FF0E}com".to_owned(),
        "dup@example\u{3002}com".to_owned(),
        "dup@exa\u{200B}mple.com".to_owned(),
        "dup@bu\u{0308}cher.de".to_owned(),
        "dup@b\u{FC}cher.de".to_owned(),
    ] {
        values.push(("email", email));
    }
    values
}

fn body_with(field: &str, value: &str) -> Value {
    let mut body = json!({"name": "Valid Name", "grade": "B", "email": "valid@example.com"});
    body[field] = Value::from(value);
    body
}

async fn insert_with(pool: &PgPool, field: &str, value: &str) -> Result<(), sqlx::Error> {
    let body = body_with(field, value);
    sqlx::query("INSERT INTO students (name, grade, email) VALUES ($1, $2, $3)")
        .bind(body["name"].as_str())
        .bind(body["grade"].as_str())
        .bind(body["email"].as_str())
        .execute(pool)
        .await
        .map(drop)
}

#[tokio::test]
async fn every_value_the_api_refuses_the_database_refuses_too() {
    let app = spawn_app().await;
    for (field, value) in rejected_values() {
        let response: Response = app.post_student(&body_with(field, &value)).await;
        assert_eq!(
            response.status(),
            422,
            "the API refuses {field} = {value:?}"
        );
        let refused = insert_with(&app.pool, field, &value).await;
        assert!(
            refused.is_err(),
            "the database refuses {field} = {value:?} too"
        );
    }
    assert_eq!(app.student_count().await, 0);
}

/// Asserts the CHECK `constraint` holds `pattern`, the domain constant, as its text.
pub async fn assert_check_holds(constraint: &str, pattern: &str) {
    let app = spawn_app().await;
    let definition: String = sqlx::query_scalar(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1",
    )
    .bind(constraint)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    // PostgreSQL doubles the quotes inside the literal.
    assert!(
        definition.replace("''", "'").contains(pattern),
        "{definition}\nholds\n{pattern}"
    );
}

/// The CHECK is `Email::ADDRESS` written for speed (migration 13): it must accept exactly the
/// stored addresses `Email::parse` accepts, at every bound the pattern has.
#[tokio::test]
async fn the_email_check_accepts_exactly_what_the_domain_accepts() {
    let app = spawn_app().await;
    let (a, b) = ("a".repeat(64), "b".repeat(63));
    let samples = [
        "a@b".to_owned(),
        format!("{a}@x"),
        format!("{a}a@x"),
        format!(".{}@x", &a[1..]),
        format!("x@{b}"),
        format!("x@{b}b"),
        format!("x@{b}.{b}.{b}"),
        format!("x@{b}.{b}b.c"),
        format!("x@c.{b}b"),
        format!("{a}@{b}.{b}"),
        "a@b-c".to_owned(),
        "a@-b".to_owned(),
        "a@b-".to_owned(),
        "a@b..c".to_owned(),
        "a@.b".to_owned(),
        "a@b.".to_owned(),
        "a@@b".to_owned(),
        "a@b@c".to_owned(),
        "@b".to_owned(),
        "a@".to_owned(),
        "a b@c".to_owned(),
        "a@b_c".to_owned(),
        "o'brien@example.ie".to_owned(),
        "!#$%&'*+/=?^_`{|}~-@x".to_owned(),
        "a@xn--bcher-kva.de".to_owned(),
        "zo\u{eb}@x".to_owned(),
    ];
    for (n, sample) in samples.iter().enumerate() {
        let sample = sample.as_str();
        let domain = Email::parse(sample).is_ok_and(|email| email.as_str() == sample);
        let database =
            sqlx::query("INSERT INTO students (name, grade, email) VALUES ($1, 'A', $2)")
                .bind(format!("Sample {n}"))
                .bind(sample)
                .execute(&app.pool)
                .await
                .is_ok();
        assert_eq!(database, domain, "{sample:?} ({} characters)", sample.len());
    }
}

#[tokio::test]
async fn the_name_check_is_the_domain_pattern_itself() {
    assert_check_holds("students_name_visible", StudentName::STORED_PATTERN).await;
}

#[tokio::test]
async fn unicode_twins_of_an_address_cannot_get_round_one_student_per_address() {
    let app = spawn_app().await;
    // Internationalised domains are accepted in their ASCII (punycode) form only, so each
    // address has one spelling and the unique index sees every twin.
    let first = app
        .post_student(&json!({"name": "Dup", "grade": "A", "email": "dup@xn--bcher-kva.de"}))
        .await;
    assert_eq!(first.status(), 201);
    for twin in [
        "DUP@XN--BCHER-KVA.DE",
        "dup@xn--bcher-kva.de ",
        "dup@b\u{FC}cher.de",
        "dup@bu\u{0308}cher.de",
    ] {
        let response = app
            .post_student(&json!({"name": "Twin", "grade": "A", "email": twin}))
            .await;
        assert!(
            [409, 422].contains(&response.status().as_u16()),
            "{twin:?}: {}",
            response.status()
        );
    }
    assert_eq!(app.student_count().await, 1);
}

#[tokio::test]
async fn rows_psql_wrote_before_migration_5_neither_stop_it_nor_break_the_list() {
    // Migrations 1-4 only, then a row the new rules refuse, as psql could write it.
    let url = fresh_database_url();
    students_api::db::ensure_database(&url).await.unwrap();
    let pool = PgPool::connect(&url).await.unwrap();
    let first_four = tempfile_dir();
    for entry in std::fs::read_dir("migrations").unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".sql") && name.as_str() < "20261125000005" {
            std::fs::copy(&path, first_four.join(&name)).unwrap();
        }
    }
    sqlx::migrate::Migrator::new(first_four.as_path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO students (name, grade, email) VALUES ('Zoë', 'A', 'zoë.6@example.com')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&first_four);

    // The service migrates it (the new rule stays NOT VALID) and serves the old row.
    let app = spawn_app_with(|config| config.database_url = Some(url.clone())).await;
    let validated: bool = sqlx::query_scalar(
        "SELECT convalidated FROM pg_constraint WHERE conname = 'students_email_format'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(!validated, "left NOT VALID, not failed");
    let page: Value = app.get("/api/students").await.json().await.unwrap();
    assert_eq!(page["items"][0]["email"], "zoë.6@example.com");
    // New writes obey the rule.
    let refused = insert_with(&app.pool, "email", "zoë.7@example.com").await;
    assert!(refused.is_err());
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "students-api-migrations-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_row_that_breaks_the_rules_costs_only_itself_never_a_whole_page() {
    let app = spawn_app().await;
    let ada = app.create_student("Ada", "A", None).await;
    let grace = app.create_student("Grace", "B", None).await;
    // As if a constraint had been dropped by hand: a grade the API does not know.
    sqlx::query("ALTER TABLE students DROP CONSTRAINT students_grade_valid")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE students SET grade = 'Z' WHERE id = $1")
        .bind(grace["id"].as_i64())
        .execute(&app.pool)
        .await
        .unwrap();

    let page: Value = app.get("/api/students").await.json().await.unwrap();
    let listed: Vec<&Value> = page["items"].as_array().unwrap().iter().collect();
    assert_eq!(
        listed,
        vec![&ada],
        "the list still answers, without the unreadable row"
    );
    // Nor does it end the walk early: pages of one still reach the students after it.
    let later = app.create_student("Katherine", "C", None).await;
    let last = app.create_student("Margaret", "D", None).await;
    let walked = app.walk_pages("/api/students?limit=1").await;
    assert_eq!(walked, vec![ada.clone(), later, last]);
    let export = app
        .get("/api/students/export?format=ndjson")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(export.lines().count(), 3, "{export}");

    let problem = crate::helpers::assert_problem(
        app.get(&crate::helpers::TestApp::student_path(&grace))
            .await,
        500,
    )
    .await;
    assert_eq!(problem["type"], "urn:students-api:problem:internal-error");
}
