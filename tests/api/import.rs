//! `importStudents`: CSV and NDJSON files of students, streamed into one transaction, over real
//! HTTP against a real PostgreSQL.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_locations, pair, spawn_app, spawn_app_with};

const CSV: &str = "text/csv";
const NDJSON: &str = "application/x-ndjson";

async fn import(app: &TestApp, query: &str, content_type: &str, body: &str) -> reqwest::Response {
    app.send_raw(
        reqwest::Method::POST,
        &format!("/api/students/import{query}"),
        Some(content_type),
        body.to_owned(),
    )
    .await
}

async fn read_report(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

/// Every student as `(name, grade, email)`, in id order.
async fn students(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as("SELECT name, grade, email FROM students ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_csv_file_creates_every_student_in_file_order() {
    let app = spawn_app().await;
    let body = "name,grade,email\r\nAda Lovelace,A,ADA@example.com\n\"Hopper, Grace\",B+,\n";
    let report = read_report(import(&app, "", CSV, body).await, 201).await;
    assert_eq!(
        report,
        json!({"rows": 2, "valid": 2, "invalid": 0, "created": 2, "errors": [], "dry_run": false})
    );
    assert_eq!(
        students(&app).await,
        [
            (
                "Ada Lovelace".into(),
                "A".into(),
                Some("ada@example.com".into())
            ),
            ("Hopper, Grace".into(), "B+".into(), None),
        ]
    );
}

#[tokio::test]
async fn an_export_imports_back_to_the_same_students_in_both_formats() {
    let source = spawn_app().await;
    // Values a spreadsheet would run (neutralised by the export), quotes, commas, non-ASCII.
    for (name, email) in [
        ("=1+2", Some("=x@example.com")),
        ("+44 Ada", None),
        ("-Bob", Some("-bob@example.com")),
        ("@handle", None),
        ("'=already quoted", None),
        ("Zoë \"Z\" O'Brien, Jr.", Some("zoe@example.com")),
        ("李小龍", None),
    ] {
        source.create_student(name, "B-", email).await;
    }
    let expected = students(&source).await;
    for format in ["csv", "ndjson"] {
        let export = source
            .get(&format!("/api/students/export?format={format}"))
            .await
            .text()
            .await
            .unwrap();
        let target = spawn_app().await;
        let content_type = if format == "csv" { CSV } else { NDJSON };
        let report = read_report(import(&target, "", content_type, &export).await, 201).await;
        assert_eq!(report["created"], 7, "{format}");
        assert_eq!(students(&target).await, expected, "{format}");
    }
}

#[tokio::test]
async fn a_bad_row_refuses_the_whole_file_naming_every_row_field_and_line() {
    let app = spawn_app().await;
    app.create_student("Taken", "A", Some("taken@example.com"))
        .await;
    let body = "name,grade,email\n\
                Ada,A,ada@example.com\n\
                ,E,not-an-address\n\
                Eve,B,TAKEN@example.com\n\
                Ada Again,C,Ada@Example.com\n\
                \"Multi\nline\",A,\n\
                Short,A\n";
    let problem = assert_problem(import(&app, "", CSV, body).await, 422).await;
    assert_eq!(problem["type"], "urn:students-api:problem:invalid-rows");
    assert_eq!(
        error_locations(&problem),
        [
            pair("/rows/2/name", "too_short"),
            pair("/rows/2/grade", "invalid_enum"),
            pair("/rows/2/email", "invalid_email"),
            pair("/rows/3/email", "taken"),
            pair("/rows/4/email", "duplicate"),
            pair("/rows/5/name", "control_character"),
            pair("/rows/6", "columns"),
        ]
    );
    let lines: Vec<&Value> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["line"])
        .collect();
    assert_eq!(
        lines,
        [
            &json!(3),
            &json!(3),
            &json!(3),
            &json!(4),
            &json!(5),
            &json!(6),
            &json!(8)
        ]
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("5 of the file's 6 rows break the rules (7 errors)"),
        "{detail}"
    );
    assert_eq!(app.student_count().await, 1, "nothing written");
}

#[tokio::test]
async fn skipping_writes_the_good_rows_and_lists_the_others() {
    let app = spawn_app().await;
    let body = "{\"name\":\"Ada\",\"grade\":\"A\",\"email\":\"ada@example.com\"}\n\
                {\"name\":\"Bob\",\"grade\":\"Z\"}\n\
                \n\
                {\"name\":\"Ada's twin\",\"grade\":\"A\",\"email\":\"ADA@example.com\"}\n\
                {\"name\":\"Cy\",\"grade\":\"C\",\"nickname\":\"c\"}\n\
                not json\n\
                {\"name\":\"Di\",\"grade\":\"D\"}\n";
    let report = read_report(import(&app, "?on_error=skip", NDJSON, body).await, 201).await;
    assert_eq!(
        (
            &report["rows"],
            &report["valid"],
            &report["invalid"],
            &report["created"]
        ),
        (&json!(6), &json!(2), &json!(4), &json!(2))
    );
    assert_eq!(
        error_locations(&report),
        [
            pair("/rows/2/grade", "invalid_enum"),
            pair("/rows/3/email", "duplicate"),
            pair("/rows/4/nickname", "unknown_field"),
            pair("/rows/5", "malformed"),
        ]
    );
    assert_eq!(report["errors"][1]["line"], 4, "blank lines count as lines");
    let names: Vec<String> = students(&app).await.into_iter().map(|s| s.0).collect();
    assert_eq!(names, ["Ada", "Di"]);
}

#[tokio::test]
async fn a_dry_run_reports_and_writes_nothing() {
    let app = spawn_app().await;
    let body = "name,grade\nAda,A\nBob,B\n";
    let report = read_report(import(&app, "?dry_run=true", CSV, body).await, 200).await;
    assert_eq!(
        report,
        json!({"rows": 2, "valid": 2, "invalid": 0, "created": 0, "errors": [], "dry_run": true})
    );
    // A file that would be refused is refused the same way.
    let problem = assert_problem(
        import(&app, "?dry_run=true", CSV, "name,grade\nAda,E\n").await,
        422,
    )
    .await;
    assert_eq!(
        error_locations(&problem),
        [pair("/rows/1/grade", "invalid_enum")]
    );
    let skipped = read_report(
        import(
            &app,
            "?dry_run=true&on_error=skip",
            CSV,
            "name,grade\nAda,E\nBo,B\n",
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (&skipped["valid"], &skipped["created"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn a_header_that_names_unknown_columns_is_refused_before_any_row() {
    let app = spawn_app().await;
    let problem = assert_problem(
        import(&app, "", CSV, "name,grade,colour\nAda,A,red\n").await,
        422,
    )
    .await;
    assert_eq!(
        error_locations(&problem),
        [pair("/header/3", "unknown_column")]
    );
    let problem = assert_problem(import(&app, "", CSV, "").await, 422).await;
    assert_eq!(error_locations(&problem), [pair("/header", "required")]);
    assert_eq!(app.student_count().await, 0);
}

/// RFC 4180 quoting only: a stray quote would otherwise import other text than the file holds
/// (`"ef"gh` read as `efgh`), or swallow the rest of the file.
#[tokio::test]
async fn broken_csv_quoting_is_refused_with_its_line_and_column_and_nothing_is_written() {
    let app = spawn_app().await;
    let body = "name,grade\nGood,A\n\"ef\"gh,B\nab\"cd,C\n\"Also, good\",A\n";
    let problem = assert_problem(import(&app, "", CSV, body).await, 422).await;
    let errors: Vec<(&str, &str, i64, i64)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let field = |name: &str| e[name].as_i64().unwrap();
            let text = |name: &str| e[name].as_str().unwrap();
            (
                text("location"),
                text("code"),
                field("line"),
                field("column"),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [
            ("/rows/2", "csv_quoting", 3, 5),
            ("/rows/3", "csv_quoting", 4, 3)
        ]
    );
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("text after a closing quote"),
        "{problem}"
    );
    // Skipping leaves the broken rows out; it never writes what csv_core made of them.
    let report = read_report(import(&app, "?on_error=skip", CSV, body).await, 201).await;
    assert_eq!(
        (&report["created"], &report["invalid"]),
        (&json!(2), &json!(2))
    );
    let names: Vec<String> = students(&app).await.into_iter().map(|s| s.0).collect();
    assert_eq!(names, ["Good", "Also, good"]);

    // An unterminated quote names where it opened, not a field count on another line.
    let problem = assert_problem(
        import(&app, "", CSV, "name,grade\nab,A\n\"ef,B\nx,A\ny,B\n").await,
        422,
    )
    .await;
    let error = &problem["errors"][0];
    assert_eq!(
        (&error["location"], &error["line"], &error["column"]),
        (&json!("/rows/2"), &json!(3), &json!(1))
    );
    assert!(
        error["message"].as_str().unwrap().contains("never closed"),
        "{problem}"
    );
    // In the header too.
    let problem = assert_problem(import(&app, "", CSV, "na\"me,grade\nA,A\n").await, 422).await;
    assert_eq!(error_locations(&problem), [pair("/header", "csv_quoting")]);
    assert_eq!(app.student_count().await, 2);
}

#[tokio::test]
async fn an_unknown_on_error_is_a_422_naming_the_parameter_and_its_values() {
    let app = spawn_app().await;
    let problem = assert_problem(
        import(&app, "?on_error=ignore", CSV, "name,grade\nA,A\n").await,
        422,
    )
    .await;
    assert_eq!(
        error_locations(&problem),
        [pair("query.on_error", "invalid_parameter")]
    );
    assert_eq!(
        problem["errors"][0]["message"],
        "must be one of reject, skip"
    );
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn other_media_types_and_compressed_files_are_415() {
    let app = spawn_app().await;
    for content_type in [
        "application/json",
        "application/octet-stream",
        "text/csv; charset=latin1",
    ] {
        let problem = assert_problem(
            import(&app, "", content_type, "name,grade\nAda,A\n").await,
            415,
        )
        .await;
        assert!(
            problem["detail"].as_str().unwrap().contains("text/csv"),
            "{problem}"
        );
    }
    let response = app
        .client
        .post(app.url("/api/students/import"))
        .header("content-type", CSV)
        .header("content-encoding", "gzip")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_problem(response, 415).await;
    // With a charset it is still CSV.
    let report = read_report(
        import(&app, "", "text/csv; charset=utf-8", "name,grade\nAda,A\n").await,
        201,
    )
    .await;
    assert_eq!(report["created"], 1);
}

#[tokio::test]
async fn the_import_has_its_own_body_limit_declared_or_streamed() {
    let app = spawn_app_with(|config| config.import_max_bytes = 1_000).await;
    let mut body = String::from("name,grade\n");
    while body.len() <= 1_000 {
        body.push_str("Ada Lovelace,A\n");
    }
    // Declared too large: refused before a byte is read.
    let problem = assert_problem(import(&app, "", CSV, &body).await, 413).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("1000 bytes"),
        "{problem}"
    );
    // Chunked, so only counting finds it.
    let chunks: Vec<Result<String, std::io::Error>> =
        body.lines().map(|line| Ok(format!("{line}\n"))).collect();
    let response = app
        .send_raw(
            reqwest::Method::POST,
            "/api/students/import",
            Some(CSV),
            reqwest::Body::wrap_stream(futures_util::stream::iter(chunks)),
        )
        .await;
    assert_problem(response, 413).await;
    assert_eq!(app.student_count().await, 0);
    // Single requests keep their 64 KiB whatever the import's limit is: it is separate.
    let big = spawn_app().await;
    let mut large = String::from("name,grade\n");
    while large.len() <= 200 * 1024 {
        large.push_str(&format!("Student {},A\n", large.len()));
    }
    let report = read_report(import(&big, "", CSV, &large).await, 201).await;
    assert!(report["created"].as_i64().unwrap() > 10_000);
}

#[tokio::test]
async fn a_retried_import_with_its_key_writes_nothing_twice() {
    let app = spawn_app().await;
    let send = |body: &'static str| {
        app.client
            .post(app.url("/api/students/import"))
            .header("content-type", CSV)
            .header("idempotency-key", "term-2026-roster")
            .body(body)
            .send()
    };
    let first = read_report(send("name,grade\nAda,A\nBob,B\n").await.unwrap(), 201).await;
    let again = read_report(send("name,grade\nAda,A\nBob,B\n").await.unwrap(), 201).await;
    assert_eq!(first, again);
    assert_eq!(app.student_count().await, 2);
    let problem = assert_problem(send("name,grade\nEve,A\n").await.unwrap(), 422).await;
    assert_eq!(
        error_locations(&problem),
        [pair("header.Idempotency-Key", "reused")]
    );
    // The key records the file, not the file's bytes.
    let stored: String = sqlx::query_scalar("SELECT request::text FROM idempotency_keys")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        stored.contains("sha256") && !stored.contains("Ada"),
        "{stored}"
    );
    assert_eq!(app.student_count().await, 2);
}

#[tokio::test]
async fn imported_students_reach_the_change_feed_and_their_history_names_the_token() {
    let app = spawn_app().await;
    let start: Value = app
        .get("/api/students/changes/poll?after=now&wait=0")
        .await
        .json()
        .await
        .unwrap();
    let next = start["next"].as_str().unwrap();
    read_report(
        import(&app, "", CSV, "name,grade\nAda,A\nBob,B\nCy,C\n").await,
        201,
    )
    .await;
    let page: Value = app
        .get(&format!("/api/students/changes/poll?after={next}&wait=5"))
        .await
        .json()
        .await
        .unwrap();
    let changes = page["changes"].as_array().unwrap();
    let names: Vec<&Value> = changes.iter().map(|c| &c["student"]["name"]).collect();
    assert_eq!(names, [&json!("Ada"), &json!("Bob"), &json!("Cy")]);
    assert!(changes.iter().all(|c| c["op"] == "created"), "{page}");
    let id = changes[0]["student"]["id"].as_i64().unwrap();
    let history: Value = app
        .get(&format!("/api/students/{id}/history"))
        .await
        .json()
        .await
        .unwrap();
    let actor = &history["changes"][0]["actor"];
    let token_id: i64 = sqlx::query_scalar("SELECT max(id) FROM api_tokens")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(actor["token_id"], token_id, "{actor}");
}

#[tokio::test]
async fn a_spreadsheet_round_trip_refuses_the_bad_grade_then_lands_the_fix() {
    let app = spawn_app().await;
    app.create_student("Ada Lovelace", "A", Some("ada@example.com"))
        .await;
    app.create_student("Grace Hopper", "B", Some("grace@old.example.com"))
        .await;
    let export = app.get("/api/students/export").await.text().await.unwrap();
    // In a spreadsheet: the existing rows are dropped (they are in the table already), one
    // e-mail is fixed in a new row for a new student, and one grade is mistyped.
    let mut lines = export.lines();
    let header = lines.next().unwrap();
    let edited = format!(
        "{header}\n,Alan Turing,A+,alan@example.com,,\n,Edsger Dijkstra,G,edsger@example.com,,\n"
    );
    let problem = assert_problem(import(&app, "", CSV, &edited).await, 422).await;
    assert_eq!(
        error_locations(&problem),
        [pair("/rows/2/grade", "invalid_enum")]
    );
    assert_eq!(problem["errors"][0]["line"], 3);
    let fixed = edited.replace(",G,", ",B,");
    let report = read_report(import(&app, "", CSV, &fixed).await, 201).await;
    assert_eq!(report["created"], 2);
    let names: Vec<String> = students(&app).await.into_iter().map(|s| s.0).collect();
    assert_eq!(
        names,
        [
            "Ada Lovelace",
            "Grace Hopper",
            "Alan Turing",
            "Edsger Dijkstra"
        ]
    );
}

#[tokio::test]
async fn the_cli_streams_a_file_and_exits_non_zero_naming_the_bad_rows() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("students-api-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("roster.csv");
    std::fs::write(&good, "name,grade,email\nAda,A,ada@example.com\nBob,B,\n").unwrap();
    let bad = dir.join("roster.ndjson");
    std::fs::write(
        &bad,
        "{\"name\":\"Eve\",\"grade\":\"A\"}\n{\"name\":\"Cy\",\"grade\":\"Q\"}\n",
    )
    .unwrap();
    let run = |file: &std::path::Path| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_students-api"))
            .arg("import")
            .arg(file)
            .args(["--url", &app.url(""), "--token", &app.token])
            .env_remove("STUDENTS_API_URL")
            .output()
    };
    let output = run(&good).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    assert!(stdout.contains("2 students created"), "{stdout}");
    let output = run(&bad).await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 2, /rows/2/grade"), "{stderr}");
    assert_eq!(app.student_count().await, 2);
    // A pipe has no length: it is streamed as it comes.
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_students-api"))
        .args(["import", "/dev/stdin", "--format", "csv"])
        .args(["--url", &app.url(""), "--token", &app.token])
        .env_remove("STUDENTS_API_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"name,grade\nPiped,C\n").await.unwrap();
    }
    let piped = child.wait_with_output().await.unwrap();
    assert!(piped.status.success(), "{piped:?}");
    assert_eq!(app.student_count().await, 3);
    let output = run(&dir).await.unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is a directory"),
        "{output:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A body sent as `parts`, each after `pause`.
fn trickle(parts: Vec<&'static str>, pause: std::time::Duration) -> reqwest::Body {
    let stream = futures_util::stream::unfold(parts.into_iter(), move |mut parts| async move {
        let part = parts.next()?;
        tokio::time::sleep(pause).await;
        Some((Ok::<_, std::io::Error>(part), parts))
    });
    reqwest::Body::wrap_stream(stream)
}

#[tokio::test]
async fn a_stalled_or_trickling_upload_is_408_and_writes_nothing() {
    let app = spawn_app().await;
    let send = |body: reqwest::Body| {
        app.client
            .post(app.url("/api/students/import"))
            .header("content-type", CSV)
            .body(body)
            .send()
    };
    let second = std::time::Duration::from_secs(1);
    // Stalls: nothing for 11 seconds after the first rows.
    let stalled = send(trickle(vec!["name,grade\nAda,A\n", "Bob,B\n"], 11 * second));
    // Trickles: a row every 2 seconds, far under 10 KiB in 10 seconds.
    let rows = vec!["name,grade\n"]
        .into_iter()
        .chain(std::iter::repeat_n("Cy,C\n", 8))
        .collect();
    let trickling = send(trickle(rows, 2 * second));
    let (stalled, trickling) = tokio::join!(stalled, trickling);
    for response in [stalled, trickling] {
        assert_problem(response.unwrap(), 408).await;
    }
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn an_upload_that_breaks_off_is_400_upload_incomplete_and_writes_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let mut stream = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = app.authorized(
        b"POST /api/students/import HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/csv\r\n\
          Content-Length: 100\r\n\r\nname,grade\nAda,A\n",
    );
    stream.write_all(&request).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("urn:students-api:problem:upload-incomplete"),
        "{answer}"
    );
    assert_eq!(app.student_count().await, 0);
}

#[tokio::test]
async fn an_import_takes_a_slot_for_expensive_work_and_a_second_finds_none_free() {
    // A pool of 2: one slot for expensive work.
    let app = spawn_app_with(|config| config.database_pool_size = 2).await;
    let holding = app
        .client
        .post(app.url("/api/students/import"))
        .header("content-type", CSV)
        .body(trickle(
            vec!["name,grade\n", "Ada,A\n"],
            std::time::Duration::from_secs(2),
        ))
        .send();
    let second = async {
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        import(&app, "", CSV, "name,grade\nBob,B\n").await
    };
    let (holding, second) = tokio::join!(holding, second);
    let problem = assert_problem(second, 503).await;
    assert_eq!(problem["type"], "urn:students-api:problem:busy");
    assert_eq!(read_report(holding.unwrap(), 201).await["created"], 1);
}

#[tokio::test]
async fn an_address_taken_while_the_import_runs_fails_it_whole_with_409() {
    let app = spawn_app().await;
    // Another writer holds the address in an open transaction: the import's check cannot see
    // it, and its insert waits on the unique index until that writer commits.
    let mut other = app.pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO students (name, grade, email) VALUES ('Other', 'A', 'race@example.com')",
    )
    .execute(&mut *other)
    .await
    .unwrap();
    let body = "name,grade,email\nAda,A,ada@example.com\nRacer,B,race@example.com\n";
    let importing = import(&app, "", CSV, body);
    let committing = async {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        other.commit().await.unwrap();
    };
    let (response, ()) = tokio::join!(importing, committing);
    let problem = assert_problem(response, 409).await;
    assert_eq!(problem["type"], "urn:students-api:problem:email-taken");
    let names: Vec<String> = students(&app).await.into_iter().map(|s| s.0).collect();
    assert_eq!(names, ["Other"], "nothing of the import was written");
}
