//! `GET /api/students` with filters, search and sort orders: each alone and combined, each
//! sort both ways with ties, cursor walks under concurrent changes, and hostile parameters.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, error_locations, spawn_app, walk_pages};

async fn walk(app: &TestApp, path: &str) -> Vec<Value> {
    app.walk_pages(path).await
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|s| s["id"].as_i64().unwrap()).collect()
}

fn names(items: &[Value]) -> Vec<&str> {
    items.iter().map(|s| s["name"].as_str().unwrap()).collect()
}

/// A small school: names with case and accents, every grade twice, some without e-mail.
async fn school(app: &TestApp) -> Vec<Value> {
    let people = [
        ("ada Lovelace", "A+", Some("ada@example.com")),
        ("Émile Zola", "A", None),
        ("Emma Noether", "A", Some("emma@math.example")),
        ("zed Shaw", "B+", Some("zed@example.com")),
        ("Alan Turing", "A-", Some("alan@example.com")),
        ("Grace Hopper", "C", None),
        ("Ada Lovelace", "F", Some("ada.l@example.org")),
        ("Barbara Liskov", "B", Some("barbara@example.com")),
        ("100% Real_Name", "D", None),
        ("Edsger Dijkstra", "C-", Some("edsger@example.com")),
    ];
    let mut created = Vec::new();
    for (name, grade, email) in people {
        created.push(app.create_student(name, grade, email).await);
    }
    created
}

#[tokio::test]
async fn each_filter_alone_returns_exactly_the_matching_students() {
    let app = spawn_app().await;
    school(&app).await;

    let cases: [(&str, Vec<&str>); 10] = [
        ("grade=A", vec!["Émile Zola", "Emma Noether"]),
        (
            "grade=A%2B&grade=F&grade=A%2B",
            vec!["ada Lovelace", "Ada Lovelace"],
        ),
        ("email=ADA@Example.COM", vec!["ada Lovelace"]),
        (
            "has_email=false",
            vec!["Émile Zola", "Grace Hopper", "100% Real_Name"],
        ),
        ("q=LOVELACE", vec!["ada Lovelace", "Ada Lovelace"]),
        ("q=math", vec!["Emma Noether"]),
        ("q=00%25", vec!["100% Real_Name"]),
        ("q=l_n", vec!["100% Real_Name"]),
        ("q=a_a", vec![]),    // `_` is a character here, not LIKE's any-character
        ("q=%20%20", vec![]), // blank search text searches nothing: everyone
    ];
    for (filter, expected) in cases {
        let found = walk(&app, &format!("/api/students?{filter}")).await;
        if filter == "q=%20%20" {
            assert_eq!(found.len(), 10, "{filter}");
            continue;
        }
        assert_eq!(names(&found), expected, "{filter}");
    }
    let with_email = walk(&app, "/api/students?has_email=true").await;
    assert_eq!(with_email.len(), 7);
    assert!(with_email.iter().all(|s| s["email"].is_string()));
}

#[tokio::test]
async fn created_after_and_before_bound_the_creation_time_exclusively() {
    let app = spawn_app().await;
    let created = school(&app).await;
    let third = created[2]["created_at"].as_str().unwrap().to_owned();
    let sixth = created[5]["created_at"].as_str().unwrap().to_owned();

    let after = walk(&app, &format!("/api/students?created_after={third}")).await;
    let before = walk(&app, &format!("/api/students?created_before={sixth}")).await;
    let between = walk(
        &app,
        &format!("/api/students?created_after={third}&created_before={sixth}"),
    )
    .await;

    assert_eq!(ids(&after), ids(&created[3..]));
    assert_eq!(ids(&before), ids(&created[..5]));
    assert_eq!(ids(&between), ids(&created[3..5]));
    // Offsets other than Z mean the same instant.
    let plus_two = chrono::DateTime::parse_from_rfc3339(&third)
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(7200).unwrap())
        .to_rfc3339();
    let same = walk(
        &app,
        &format!(
            "/api/students?created_after={}",
            plus_two.replace('+', "%2B")
        ),
    )
    .await;
    assert_eq!(ids(&same), ids(&after));
}

#[tokio::test]
async fn filters_combine_with_and() {
    let app = spawn_app().await;
    school(&app).await;

    let found = walk(
        &app,
        "/api/students?grade=A&grade=A%2B&grade=F&has_email=true&q=exam&sort=-name",
    )
    .await;

    assert_eq!(
        names(&found),
        ["Emma Noether", "Ada Lovelace", "ada Lovelace"]
    );
}

#[tokio::test]
async fn each_sort_orders_both_ways_with_ties_broken_by_id() {
    let app = spawn_app().await;
    let created = school(&app).await;
    // Ties: same name twice, same grade twice, same updated_at for two rows.
    let twin = app.create_student("ada Lovelace", "A", None).await;
    sqlx::query("UPDATE students SET updated_at = '2030-01-01T00:00:00Z' WHERE id = ANY($1)")
        .bind(vec![
            created[0]["id"].as_i64().unwrap(),
            created[1]["id"].as_i64().unwrap(),
        ])
        .execute(&app.pool)
        .await
        .unwrap();
    let all = walk(&app, "/api/students?limit=100").await;
    assert_eq!(all.len(), 11);
    let rank = |grade: &str| {
        ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D", "F"]
            .iter()
            .position(|g| *g == grade)
            .unwrap()
    };
    // What each order must be, computed here independently (names: case- and
    // accent-insensitive first, as the ICU root collation orders them).
    let key = |sort: &str, s: &Value| -> (String, i64) {
        let id = s["id"].as_i64().unwrap();
        let value = match sort {
            "id" => String::new(),
            "name" => s["name"].as_str().unwrap().to_owned(),
            "grade" => format!("{:02}", rank(s["grade"].as_str().unwrap())),
            "created_at" | "updated_at" => s[sort].as_str().unwrap().to_owned(),
            _ => unreachable!(),
        };
        (value, id)
    };
    for sort in ["id", "grade", "created_at", "updated_at"] {
        let mut expected = all.clone();
        expected.sort_by_key(|s| key(sort, s));
        let ascending = walk(&app, &format!("/api/students?sort={sort}&limit=3")).await;
        assert_eq!(ids(&ascending), ids(&expected), "sort={sort}");
        expected.reverse();
        let descending = walk(&app, &format!("/api/students?sort=-{sort}&limit=3")).await;
        assert_eq!(ids(&descending), ids(&expected), "sort=-{sort}");
    }
    let by_name = walk(&app, "/api/students?sort=name&limit=2").await;
    assert_eq!(
        names(&by_name),
        [
            "100% Real_Name",
            "ada Lovelace",
            "ada Lovelace",
            "Ada Lovelace",
            "Alan Turing",
            "Barbara Liskov",
            "Edsger Dijkstra",
            "Émile Zola",
            "Emma Noether",
            "Grace Hopper",
            "zed Shaw",
        ]
    );
    // The two identical names come in id order.
    let twins: Vec<i64> = by_name
        .iter()
        .filter(|s| s["name"] == "ada Lovelace")
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        twins,
        [
            created[0]["id"].as_i64().unwrap(),
            twin["id"].as_i64().unwrap()
        ]
    );
    let reversed = walk(&app, "/api/students?sort=-name&limit=4").await;
    assert_eq!(
        ids(&reversed),
        ids(&by_name).into_iter().rev().collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_sorted_filtered_walk_returns_every_match_once_while_rows_come_and_go() {
    let app = spawn_app().await;
    let mut expected = BTreeSet::new();
    for i in 0..30 {
        let student = app
            .create_student(
                &format!("Walker {:02}", 29 - i),
                if i % 2 == 0 { "B" } else { "C" },
                None,
            )
            .await;
        if i % 2 == 0 {
            expected.insert(student["id"].as_i64().unwrap());
        }
    }
    let mut removed = BTreeSet::new();

    let (seen, _) = walk_pages(
        &app.client,
        &app.address,
        "/api/students?grade=B&sort=name&limit=4",
        async |page, _| {
            if page == 2 {
                // A match already listed leaves; a new match sorts after everything listed so far.
                let gone: i64 = sqlx::query_scalar(
                    "DELETE FROM students WHERE name = 'Walker 01' RETURNING id",
                )
                .fetch_one(&app.pool)
                .await
                .unwrap();
                removed.insert(gone);
                let late = app.create_student("Walker zz late", "B", None).await;
                expected.insert(late["id"].as_i64().unwrap());
                app.create_student("Walker zz other grade", "A", None).await;
            }
        },
    )
    .await;

    let seen_ids = ids(&seen);
    let unique: BTreeSet<i64> = seen_ids.iter().copied().collect();
    assert_eq!(unique.len(), seen_ids.len(), "no student twice");
    assert!(
        expected
            .iter()
            .all(|id| unique.contains(id) || removed.contains(id)),
        "every match still present was listed"
    );
    assert!(seen.iter().all(|s| s["grade"] == "B"));
    let listed_names = names(&seen);
    assert!(
        listed_names.windows(2).all(|w| w[0] <= w[1]),
        "{listed_names:?}"
    );
}

#[tokio::test]
async fn a_cursor_used_with_another_sort_or_filter_is_a_422_naming_it() {
    let app = spawn_app().await;
    school(&app).await;
    let page: Value = app
        .get("/api/students?sort=name&grade=A&limit=1")
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();

    // The same list, parameters in another order: still fine.
    let same = app
        .get(&format!(
            "/api/students?limit=1&grade=A&cursor={cursor}&sort=name"
        ))
        .await;
    assert_eq!(same.status(), 200);
    for other in [
        "sort=-name&grade=A",
        "sort=name",
        "sort=name&grade=B",
        "grade=A",
        "sort=name&grade=A&q=emm",
    ] {
        let problem = assert_problem(
            app.get(&format!("/api/students?{other}&cursor={cursor}"))
                .await,
            422,
        )
        .await;
        assert_eq!(error_locations(&problem)[0].0, "query.cursor", "{other}");
    }
}

#[tokio::test]
async fn a_tampered_cursor_is_a_422_never_a_500() {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let app = spawn_app().await;
    school(&app).await;
    let page: Value = app
        .get("/api/students?sort=created_at&limit=1")
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    // A signature (16 bytes), then the position as text; altering the text keeps the old
    // signature, which no longer matches.
    let bytes = URL_SAFE_NO_PAD.decode(cursor).unwrap();
    let (tag, text) = bytes.split_at(16);
    let text = std::str::from_utf8(text).unwrap();
    let mut lines: Vec<&str> = text.splitn(4, '\n').collect();
    let resigned = |lines: &[&str]| {
        let mut forged = tag.to_vec();
        forged.extend_from_slice(lines.join("\n").as_bytes());
        URL_SAFE_NO_PAD.encode(forged)
    };

    lines[3] = "not a time'; DROP TABLE students; --";
    let bad_value = resigned(&lines);
    lines[3] = "2026-01-01T00:00:00Z";
    lines[2] = "99999999999999999999999";
    let bad_id = resigned(&lines);
    // A well-formed position anyone could compute, with the id at the far end of i64.
    lines[2] = "-9223372036854775808";
    let invented = resigned(&lines);
    let unsigned = URL_SAFE_NO_PAD.encode(text);
    for cursor in [
        bad_value,
        bad_id,
        invented,
        unsigned,
        "garbage".to_owned(),
        "a".repeat(2000),
    ] {
        let problem = assert_problem(
            app.get(&format!("/api/students?sort=created_at&cursor={cursor}"))
                .await,
            422,
        )
        .await;
        assert_eq!(error_locations(&problem)[0].0, "query.cursor");
    }
    assert_eq!(app.student_count().await, 10);
}

#[tokio::test]
async fn a_cursor_from_one_instance_resumes_on_another_on_the_same_database() {
    // The signing key lives in the database, so every instance (and a restarted one) accepts
    // the cursors any of them made.
    let first = spawn_app().await;
    school(&first).await;
    let url = first.database_url().unwrap().to_owned();
    let second = crate::helpers::serve(
        students_api::startup::Application::build(crate::helpers::test_config(Some(url)))
            .await
            .unwrap(),
    )
    .await;
    let page: Value = first
        .get("/api/students?sort=name&limit=3")
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    let path = format!("/api/students?sort=name&limit=3&cursor={cursor}");
    let on_first: Value = first.get(&path).await.json().await.unwrap();
    let on_second = second.get(&path).await;
    assert_eq!(on_second.status(), 200);
    assert_eq!(on_second.json::<Value>().await.unwrap(), on_first);
}

#[tokio::test]
async fn bad_sort_keys_dates_and_filters_are_422s_naming_the_parameter() {
    let app = spawn_app().await;

    let cases = [
        ("sort=age", "query.sort"),
        ("sort=name;DROP%20TABLE%20students", "query.sort"),
        ("sort=--name", "query.sort"),
        ("created_after=yesterday", "query.created_after"),
        (
            "created_before=2026-13-01T00:00:00Z",
            "query.created_before",
        ),
        ("created_after=2026-01-01", "query.created_after"),
        ("grade=E", "query.grade"),
        ("grade=A&grade=Z", "query.grade"),
        ("has_email=maybe", "query.has_email"),
        ("email=not-an-email", "query.email"),
        ("count=approximate", "query.count"),
        ("limit=0", "query.limit"),
        ("limit=101", "query.limit"),
    ];
    for (query, location) in cases {
        let problem = assert_problem(app.get(&format!("/api/students?{query}")).await, 422).await;
        assert_eq!(error_locations(&problem)[0].0, location, "{query}");
    }
    let long = "x".repeat(101);
    let problem = assert_problem(app.get(&format!("/api/students?q={long}")).await, 422).await;
    assert_eq!(error_locations(&problem)[0].0, "query.q");
}

#[tokio::test]
async fn injection_attempts_in_every_parameter_are_plain_values() {
    let app = spawn_app().await;
    school(&app).await;
    let attacks = [
        "' OR '1'='1",
        "'; DROP TABLE students; --",
        "\\'; SELECT pg_sleep(10); --",
        "%' OR email LIKE '%",
        "$12",
    ];
    for attack in attacks {
        let encoded: String = url::form_urlencoded::byte_serialize(attack.as_bytes()).collect();
        // Text parameters: searched for literally, matching nobody.
        let found = walk(&app, &format!("/api/students?q={encoded}")).await;
        assert!(found.is_empty(), "q={attack}");
        // Typed parameters: refused by their types.
        for name in [
            "email",
            "grade",
            "sort",
            "created_after",
            "has_email",
            "cursor",
            "count",
        ] {
            let response = app.get(&format!("/api/students?{name}={encoded}")).await;
            assert_eq!(response.status(), 422, "{name}={attack}");
        }
    }
    assert_eq!(app.student_count().await, 10, "the table is intact");
}

#[tokio::test]
async fn the_link_header_points_at_the_next_page_with_the_same_parameters() {
    let app = spawn_app().await;
    school(&app).await;

    let first = app
        .get("/api/students?sort=-name&q=exa&limit=2&count=exact")
        .await;
    let link = first.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = first.json().await.unwrap();
    let url = link
        .strip_prefix('<')
        .and_then(|l| l.strip_suffix(">; rel=\"next\""))
        .unwrap();
    assert!(url.starts_with("/api/students?"), "{link}");
    assert!(url.contains("sort=-name") && url.contains("q=exa") && url.contains("limit=2"));

    let second: Value = app.get(url).await.json().await.unwrap();
    let expected: Value = app
        .get(&format!(
            "/api/students?sort=-name&q=exa&limit=2&count=exact&cursor={}",
            page["next_cursor"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(second, expected);
    assert_eq!(second["total"], page["total"]);

    let last = app.get("/api/students?limit=100").await;
    assert!(
        last.headers().get("link").is_none(),
        "no next page, no Link"
    );
}

#[tokio::test]
async fn total_is_counted_only_when_asked() {
    let app = spawn_app().await;
    school(&app).await;

    let plain: Value = app.get("/api/students?limit=2").await.json().await.unwrap();
    let counted: Value = app
        .get("/api/students?limit=2&count=exact&has_email=true")
        .await
        .json()
        .await
        .unwrap();

    assert!(plain.get("total").is_none(), "{plain}");
    assert_eq!(counted["total"], 7);
    assert_eq!(counted["items"].as_array().unwrap().len(), 2);
}

/// `q` matches within a name or within an e-mail address, never across the two.
#[tokio::test]
async fn a_search_matches_within_a_field_never_across_the_two() {
    let app = spawn_app().await;
    school(&app).await;
    for (q, expected) in [
        ("lovelace", vec!["ada Lovelace", "Ada Lovelace"]),
        ("ada.l@", vec!["Ada Lovelace"]),
        // "Ada Lovelace" and "ada.l@example.org" side by side hold these; no one field does.
        ("lovelace ada", vec![]),
        ("Lovelace%20ada.l", vec![]),
    ] {
        let page: Value = app
            .get(&format!("/api/students?q={q}&sort=name"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(names(page["items"].as_array().unwrap()), expected, "q={q}");
    }
}
