//! Every error class answers problem+json that says what is wrong, and writes nothing.

use reqwest::Method;
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use students_api::startup::Application;

use crate::helpers::{assert_problem, error_locations, pair, serve, spawn_app, test_config};

#[tokio::test]
async fn a_422_lists_every_bad_field_at_once() {
    let app = spawn_app().await;

    let response = app
        .post_student(&json!({"name": "", "grade": "Z", "email": "nope"}))
        .await;

    let problem = assert_problem(response, 422).await;
    assert_eq!(
        problem["type"],
        "urn:students-api:problem:validation-failed"
    );
    assert_eq!(
        error_locations(&problem),
        vec![
            pair("/name", "too_short"),
            pair("/grade", "invalid_enum"),
            pair("/email", "invalid_email")
        ]
    );
    for error in problem["errors"].as_array().unwrap() {
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn missing_required_fields_are_named() {
    let app = spawn_app().await;

    let problem = assert_problem(app.post_student(&json!({})).await, 422).await;

    assert_eq!(
        error_locations(&problem),
        vec![pair("/name", "required"), pair("/grade", "required")]
    );
}

#[tokio::test]
async fn unknown_fields_and_server_fields_are_refused_not_ignored() {
    let app = spawn_app().await;

    let response = app
        .post_student(&json!({"name": "Mallory", "grade": "A", "id": 1, "is_admin": true}))
        .await;

    let problem = assert_problem(response, 422).await;
    assert_eq!(
        error_locations(&problem),
        vec![
            pair("/id", "unknown_field"),
            pair("/is_admin", "unknown_field")
        ]
    );
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn wrong_json_types_are_named_and_never_coerced() {
    let app = spawn_app().await;

    let response = app
        .post_student(&json!({"name": 42, "grade": true, "email": false}))
        .await;

    let problem = assert_problem(response, 422).await;
    assert_eq!(
        error_locations(&problem),
        vec![
            pair("/name", "type"),
            pair("/grade", "type"),
            pair("/email", "type")
        ]
    );
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_a_422() {
    let app = spawn_app().await;

    for body in [json!([1, 2]), json!("Ada"), json!(null)] {
        let problem = assert_problem(app.post_student(&body).await, 422).await;
        assert_eq!(error_locations(&problem)[0].0, "", "{body}");
    }
}

#[tokio::test]
async fn control_characters_are_a_422_never_a_database_error() {
    let app = spawn_app().await;

    for name in [
        "Nul\u{0}Byte",
        "Bell\u{7}",
        "Line\nBreak",
        "Esc\u{1b}[31m",
        "C1\u{85}",
    ] {
        let response = app.post_student(&json!({"name": name, "grade": "A"})).await;
        let problem = assert_problem(response, 422).await;
        assert_eq!(
            error_locations(&problem),
            vec![pair("/name", "control_character")],
            "{name:?}"
        );
    }
    let email = app
        .post_student(&json!({"name": "Ok", "grade": "A", "email": "a\u{0}@example.com"}))
        .await;
    assert_problem(email, 422).await;
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400() {
    let app = spawn_app().await;

    for body in [&b"{\"name\": "[..], b"not json", b"\xff\xfe{}", b""] {
        let response = app
            .send_raw(
                Method::POST,
                "/api/students",
                Some("application/json"),
                body.to_vec(),
            )
            .await;
        let problem = assert_problem(response, 400).await;
        assert_eq!(problem["type"], "urn:students-api:problem:malformed-body");
    }
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let app = spawn_app().await;
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));

    let response = app
        .send_raw(
            Method::POST,
            "/api/students",
            Some("application/json"),
            nested,
        )
        .await;

    assert_problem(response, 400).await;
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_is_a_415() {
    let app = spawn_app().await;
    let body = r#"{"name": "Ada", "grade": "A"}"#;

    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let response = app
            .send_raw(Method::POST, "/api/students", content_type, body)
            .await;
        assert_problem(response, 415).await;
    }
    let merge_patch = app
        .send_raw(
            Method::POST,
            "/api/students",
            Some("application/merge-patch+json"),
            body,
        )
        .await;
    assert_eq!(merge_patch.status(), 201, "+json media types are JSON");
}

#[tokio::test]
async fn a_body_over_64_kib_is_a_413() {
    let app = spawn_app().await;
    let body = format!(r#"{{"name": "{}", "grade": "A"}}"#, "x".repeat(70 * 1024));

    let response = app
        .send_raw(
            Method::POST,
            "/api/students",
            Some("application/json"),
            body,
        )
        .await;

    let problem = assert_problem(response, 413).await;
    assert_eq!(
        problem["type"],
        "urn:students-api:problem:payload-too-large"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = spawn_app().await;

    assert_problem(app.get("/api/nothing-here").await, 404).await;
    assert_problem(app.get("/").await, 404).await;
    let wrong_method = app
        .client
        .delete(app.url("/api/students"))
        .send()
        .await
        .unwrap();
    assert_problem(wrong_method, 405).await;
}

#[tokio::test]
async fn an_id_that_is_not_a_number_is_a_422_naming_the_path_parameter() {
    let app = spawn_app().await;

    for id in ["abc", "1.5", "99999999999999999999"] {
        let problem = assert_problem(app.get(&format!("/api/students/{id}")).await, 422).await;
        assert_eq!(error_locations(&problem)[0].0, "path.id", "{id}");
        assert_eq!(
            problem["errors"][0]["message"],
            "must be a student id: a whole number, such as 42"
        );
    }
}

#[tokio::test]
async fn bad_query_parameters_are_explained_in_the_apis_words() {
    let app = spawn_app().await;
    for (query, location, message) in [
        (
            "limit=0",
            "query.limit",
            "must be a whole number from 1 to 100",
        ),
        (
            "has_email=maybe",
            "query.has_email",
            "must be `true` or `false`",
        ),
        (
            "grade=E",
            "query.grade",
            "must be one of A+, A, A-, B+, B, B-, C+, C, C-, D, F",
        ),
        ("q=a%00b", "query.q", "must not contain control characters"),
    ] {
        let problem = assert_problem(app.get(&format!("/api/students?{query}")).await, 422).await;
        assert_eq!(error_locations(&problem)[0].0, location, "{query}");
        let said = problem["errors"][0]["message"].as_str().unwrap();
        assert_eq!(said, message, "{query}");
    }
}

/// Every query parameter whose schema is an enum (ours or poem-openapi's derived ones), found
/// in the served spec, answers an unknown value with its values, in our words.
#[tokio::test]
async fn every_enum_query_parameter_names_its_values_for_an_unknown_one() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut checked = Vec::new();
    for (path, methods) in spec["paths"].as_object().unwrap() {
        for (method, operation) in methods.as_object().unwrap() {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                let values = enum_values(&spec, &parameter["schema"]);
                let (true, Some(values)) = (parameter["in"] == "query", values) else {
                    continue;
                };
                let name = parameter["name"].as_str().unwrap();
                let url = format!("{}?{name}=surely-not-one", path.replace("{id}", "1"));
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let response = app.send_raw(method, &url, Some("text/csv"), "").await;
                let problem = assert_problem(response, 422).await;
                let error = &problem["errors"][0];
                assert_eq!(
                    (&error["location"], &error["message"]),
                    (
                        &json!(format!("query.{name}")),
                        &json!(format!("must be one of {}", values.join(", ")))
                    ),
                    "{url}"
                );
                checked.push(url);
            }
        }
    }
    assert!(checked.len() >= 5, "only {checked:?}");
}

/// The values of an enum schema, or of an array of one, following `$ref`s.
fn enum_values(spec: &Value, schema: &Value) -> Option<Vec<String>> {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => spec.pointer(reference.trim_start_matches('#'))?,
        None => schema,
    };
    match schema["enum"].as_array() {
        Some(values) => Some(
            values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
        ),
        None if schema["type"] == "array" => enum_values(spec, &schema["items"]),
        None => None,
    }
}

#[tokio::test]
async fn an_unreachable_database_is_a_fast_503_with_retry_after() {
    // A pool aimed at a port where nothing listens: what the service sees when PostgreSQL is down.
    let pool = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_lazy("postgres://postgres@127.0.0.1:1/students")
        .unwrap();
    let config = test_config(None);
    let mut app = Application::bind(&config, pool).await.unwrap();
    app.assume_prepared();
    let app = serve(app).await;

    let started = std::time::Instant::now();
    let response = app.get("/api/students").await;
    let took = started.elapsed();
    println!("a request with the database unreachable answered in {took:?}");
    assert!(
        took < std::time::Duration::from_secs(3),
        "within the 2 s acquire timeout and a margin: {took:?}"
    );
    assert_eq!(response.headers()["retry-after"], "1");
    let problem = assert_problem(response, 503).await;
    assert!(
        !problem["detail"].as_str().unwrap().contains("127.0.0.1"),
        "no internals leak: {problem}"
    );

    assert_problem(app.get("/readyz").await, 503).await;
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "alive, just not ready"
    );
}

#[tokio::test]
async fn readiness_is_200_when_the_database_answers() {
    let app = spawn_app().await;

    let response = app.get("/readyz").await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

#[tokio::test]
async fn a_value_only_the_database_refuses_is_still_a_422_not_a_500() {
    let app = spawn_app().await;
    // A rule the types do not know yet, as after a migration that ran ahead of a deploy.
    sqlx::query("ALTER TABLE students ADD CONSTRAINT students_name_no_zed CHECK (name !~ 'Z')")
        .execute(&app.pool)
        .await
        .unwrap();

    let response = app
        .post_student(&json!({"name": "Zed", "grade": "A"}))
        .await;

    let problem = assert_problem(response, 422).await;
    assert_eq!(error_locations(&problem), vec![pair("/name", "constraint")]);
}

#[tokio::test]
async fn a_single_value_parameter_given_twice_is_a_422_not_the_first_one() {
    let app = spawn_app().await;
    for query in [
        "limit=1&limit=100",
        "sort=name&q=a&sort=-name",
        "email=a%40x.io&email=b%40x.io",
    ] {
        let problem = assert_problem(app.get(&format!("/api/students?{query}")).await, 422).await;
        let name = query.split('=').next().unwrap();
        let location = if name == "sort" {
            "query.sort"
        } else {
            &format!("query.{name}")
        };
        assert_eq!(
            error_locations(&problem),
            vec![pair(location, "invalid_parameter")],
            "{query}"
        );
    }
    let export = app
        .get("/api/students/export?format=csv&format=ndjson")
        .await;
    assert_problem(export, 422).await;
    // Arrays are repeated by design.
    let grades = app.get("/api/students?grade=A&grade=B").await;
    assert_eq!(grades.status(), 200);
}

#[tokio::test]
async fn a_compressed_body_is_a_415_not_malformed_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/students"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(vec![0x1f, 0x8b, 0x08, 0x00])
        .send()
        .await
        .unwrap();
    let problem = assert_problem(response, 415).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("gzip"),
        "{problem}"
    );
    assert_eq!(app.student_count().await, 0);
}

/// `DATABASE_READ_URL` serves lists and exports only: with the replica away those are a 503
/// problem, while reads by id, writes and readiness (the primary's) go on.
#[tokio::test]
async fn a_replica_away_costs_lists_a_503_and_nothing_else() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.database_read_url = Some("postgres://postgres@127.0.0.1:1/students".to_owned());
    })
    .await;
    let student = app.create_student("Ada", "A", None).await;
    assert_problem(app.get("/api/students").await, 503).await;
    assert_problem(app.get("/api/students/export").await, 503).await;
    let by_id = app.get(&format!("/api/students/{}", student["id"])).await;
    assert_eq!(by_id.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
}
