//! People's accounts: `students-api account create|passwd|disable|list`, the real binary
//! against a fresh database, and the table refusing what the domain types refuse.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;
use students_api::{
    db,
    domain::{Password, PasswordHash, Role, StudentName, Username},
};

use crate::{
    helpers::{
        TestApp, assert_problem, client_with_token, drop_database, error_locations,
        fresh_database_url, pair, spawn_app, spawn_app_with, spawn_second_instance,
    },
    rules::assert_check_holds,
};

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// Runs the binary with `stdin` as its standard input (a pipe, as a script would give it).
fn students_api(url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_students-api"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn stored_hash(pool: &PgPool, username: &str) -> String {
    sqlx::query_scalar("SELECT password_hash FROM accounts WHERE username = $1")
        .bind(username)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_cli_makes_accounts_keeping_only_an_argon2id_hash_and_revokes_sign_ins() {
    let url = fresh_database_url();
    let create = [
        "account",
        "create",
        "--username",
        "Ada.Lovelace",
        "--role",
        "editor",
    ];
    let created = students_api(&url, &create, &format!("{PASSWORD}\n"));
    assert!(created.status.success(), "{created:?}");
    assert!(said(&created).contains("created account 1 (ada.lovelace, editor)"));
    assert!(!said(&created).contains(PASSWORD));

    let pool = PgPool::connect(&url).await.unwrap();
    let (display_name, role): (String, String) =
        sqlx::query_as("SELECT display_name, role FROM accounts WHERE username = 'ada.lovelace'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (display_name.as_str(), role.as_str()),
        ("ada.lovelace", "editor")
    );
    let hash = stored_hash(&pool, "ada.lovelace").await;
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(PasswordHash::from_stored(hash.clone()).verify(PASSWORD));
    let anywhere: i64 =
        sqlx::query_scalar("SELECT count(*) FROM accounts a WHERE strpos(a::text, 'horse') > 0")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(anywhere, 0, "the password is stored nowhere");

    // Refused before anything is written: a taken username, a common or short password.
    let again = students_api(&url, &create, &format!("{PASSWORD}\n"));
    assert!(!again.status.success());
    assert!(
        said(&again).contains("another account has this username"),
        "{}",
        said(&again)
    );
    let common = students_api(
        &url,
        &["account", "create", "--username", "bob", "--role", "viewer"],
        "qwerty123456\n",
    );
    assert!(!common.status.success());
    assert!(
        said(&common).contains("most common passwords"),
        "{}",
        said(&common)
    );
    let bad_role = students_api(
        &url,
        &["account", "create", "--username", "bob", "--role", "root"],
        &format!("{PASSWORD}\n"),
    );
    assert!(said(&bad_role).contains("--role must be one of viewer, editor, admin"));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);

    // A sign-in of the account, as the sign-in operation will make it.
    let sign_in = || async {
        sqlx::query_scalar::<_, i64>(
            "INSERT INTO api_tokens (name, secret_sha256, display_prefix, scopes, account_id) \
             VALUES ('sign-in', sha256(random()::text::bytea), 'sat_AAAA', '{students:read}', 1) \
             RETURNING id",
        )
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let revoked = |id: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, bool>(
                "SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let first = sign_in().await;
    let changed = students_api(
        &url,
        &["account", "passwd", "ADA.lovelace"],
        "another long passphrase\n",
    );
    assert!(changed.status.success(), "{changed:?}");
    assert!(revoked(first).await, "a new password revokes the sign-ins");
    let hash_now = stored_hash(&pool, "ada.lovelace").await;
    assert!(PasswordHash::from_stored(hash_now).verify("another long passphrase"));

    let second = sign_in().await;
    let disabled = students_api(&url, &["account", "disable", "ada.lovelace"], "");
    assert!(disabled.status.success(), "{disabled:?}");
    assert!(revoked(second).await, "disabling revokes the sign-ins");
    let listed = students_api(&url, &["account", "list"], "");
    let listed = said(&listed);
    assert!(
        listed.contains("ada.lovelace") && !listed.contains("argon2"),
        "{listed}"
    );

    let nobody = students_api(&url, &["account", "disable", "nobody"], "");
    assert!(said(&nobody).contains("no account has the username nobody"));
    pool.close().await;
    drop_database(&url);
}

#[tokio::test]
async fn the_table_refuses_what_the_account_types_refuse() {
    assert_check_holds("accounts_username_format", Username::PATTERN).await;
    assert_check_holds("accounts_display_name_visible", StudentName::STORED_PATTERN).await;
    let app = spawn_app().await;
    let hash = students_api::domain::Password::parse(PASSWORD)
        .unwrap()
        .hash()
        .unwrap();
    let insert = |username: &str, display_name: &str, role: &str, hash: &str| {
        sqlx::query(
            "INSERT INTO accounts (username, display_name, role, password_hash) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(username.to_owned())
        .bind(display_name.to_owned())
        .bind(role.to_owned())
        .bind(hash.to_owned())
        .execute(&app.pool)
    };
    insert("ada", "Ada", "admin", hash.as_str()).await.unwrap();
    for (username, display_name, role, stored, constraint) in [
        (
            "Ada2",
            "Ada",
            "admin",
            hash.as_str(),
            "accounts_username_format",
        ),
        (
            "ab",
            "Ada",
            "admin",
            hash.as_str(),
            "accounts_username_format",
        ),
        (
            "ada2",
            " Ada",
            "admin",
            hash.as_str(),
            "accounts_display_name_trimmed",
        ),
        (
            "ada2",
            "\u{200b}",
            "admin",
            hash.as_str(),
            "accounts_display_name_visible",
        ),
        ("ada2", "Ada", "root", hash.as_str(), "accounts_role_valid"),
        (
            "ada2",
            "Ada",
            "admin",
            PASSWORD,
            "accounts_password_hash_argon2id",
        ),
        (
            "ada2",
            "Ada",
            "admin",
            "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            "accounts_password_hash_argon2id",
        ),
        (
            "ada",
            "Ada",
            "admin",
            hash.as_str(),
            "accounts_username_key",
        ),
    ] {
        let err = insert(username, display_name, role, stored)
            .await
            .unwrap_err();
        let constraint_hit = err
            .as_database_error()
            .and_then(|e| e.constraint())
            .unwrap_or_default();
        assert_eq!(
            constraint_hit, constraint,
            "{username} {display_name:?} {role} {stored}"
        );
    }
}

/// Makes an account of `role` with [`PASSWORD`].
pub(crate) async fn account(app: &TestApp, username: &str, role: Role) {
    let hash = Password::parse(PASSWORD).unwrap().hash().unwrap();
    db::create_account(
        &app.pool,
        &Username::parse(username).unwrap(),
        &StudentName::parse("Ada Lovelace").unwrap(),
        role,
        &hash,
        None,
    )
    .await
    .unwrap();
}

/// `POST /api/auth/token` with `form`, as Swagger UI sends it.
async fn sign_in_form(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.anonymous
        .post(app.url("/api/auth/token"))
        .form(form)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn sign_in(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    sign_in_form(
        app,
        &[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ],
    )
    .await
}

/// Signs in with [`PASSWORD`] and answers the access token.
pub(crate) async fn signed_in(app: &TestApp, username: &str) -> String {
    let response = sign_in(app, username, PASSWORD).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// Polls `GET /api/me` with `token` until it answers 401, for at most 1 s.
pub(crate) async fn refused_within_a_second(app: &TestApp, token: &str) {
    let client = client_with_token(token);
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let status = client
            .get(app.url("/api/me"))
            .send()
            .await
            .unwrap()
            .status();
        if status == 401 {
            return;
        }
        assert!(Instant::now() < deadline, "still {status} after 1 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_person_signs_in_with_the_password_grant_for_a_token_of_the_roles_scopes() {
    let app = spawn_app().await;
    account(&app, "ada", Role::Editor).await;

    // Any case and surrounding spaces in the username, as people type it.
    let response = sign_in(&app, " ADA ", PASSWORD).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "students:read students:write");
    let expires_in = body["expires_in"].as_i64().unwrap();
    assert!((43_100..=43_200).contains(&expires_in), "{expires_in}");
    let token = body["access_token"].as_str().unwrap();

    // A bearer token like an API token: the editor's scopes, no more.
    let client = client_with_token(token);
    let read = client.get(app.url("/api/students")).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let tokens = client.get(app.url("/api/tokens")).send().await.unwrap();
    assert_eq!(tokens.status(), 403);
    let me: Value = client
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"]["username"], "ada");
    assert_eq!(me["account"]["role"], "editor");
    assert_eq!(me["token_name"], "sign-in of ada");
    assert_eq!(me["scopes"], json!(["students:read", "students:write"]));
    assert!(me["account"]["last_sign_in_at"].is_string());
    // An API token is a program: no account.
    let me: Value = app
        .client
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["account"], Value::Null);

    // Fewer scopes than the role gives, when asked; never more.
    let narrow = sign_in_form(
        &app,
        &[
            ("grant_type", "password"),
            ("username", "ada"),
            ("password", PASSWORD),
            ("scope", "students:read"),
            ("client_id", "swagger-ui"),
        ],
    )
    .await;
    assert_eq!(narrow.status(), 200);
    let narrow: Value = narrow.json().await.unwrap();
    assert_eq!(narrow["scope"], "students:read");
    for (scope, says) in [
        ("tokens:admin", "does not give `tokens:admin`"),
        (
            "students:everything",
            "`students:everything` is not a scope",
        ),
    ] {
        let refused = sign_in_form(
            &app,
            &[
                ("grant_type", "password"),
                ("username", "ada"),
                ("password", PASSWORD),
                ("scope", scope),
            ],
        )
        .await;
        let problem = assert_problem(refused, 400).await;
        assert_eq!(problem["error"], "invalid_scope");
        assert!(
            problem["detail"].as_str().unwrap().contains(says),
            "{problem}"
        );
    }

    // Signing out revokes that token, here at once.
    let out = client
        .post(app.url("/api/auth/sign-out"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let after = client.get(app.url("/api/students")).send().await.unwrap();
    assert_eq!(after.status(), 401);
}

#[tokio::test]
async fn every_refused_sign_in_is_the_same_answer_and_a_bad_form_names_its_field() {
    let app = spawn_app().await;
    account(&app, "ada", Role::Viewer).await;
    account(&app, "grace", Role::Viewer).await;
    db::disable_account(&app.pool, &Username::parse("grace").unwrap())
        .await
        .unwrap();

    let mut answers = Vec::new();
    for (username, password) in [
        ("ada", "a wrong but long password"),
        ("nobody", PASSWORD),
        ("not a username!", PASSWORD),
        ("grace", PASSWORD),
        ("ada\u{0}", PASSWORD),
        ("ad\u{200b}a", PASSWORD),
    ] {
        let problem = assert_problem(sign_in(&app, username, password).await, 400).await;
        assert_eq!(problem["error"], "invalid_grant", "{username}");
        assert_eq!(problem["type"], "urn:students-api:problem:sign-in-refused");
        answers.push((
            problem["detail"].clone(),
            problem["error_description"].clone(),
        ));
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "{answers:?}");

    for (form, error, location, code) in [
        (
            "grant_type=password&username=ada",
            "invalid_request",
            Some("password"),
            Some("required"),
        ),
        (
            "grant_type=password&username=ada&username=bob&password=x",
            "invalid_request",
            Some("username"),
            Some("repeated"),
        ),
        (
            "grant_type=password&username=ada&password=",
            "invalid_request",
            Some("password"),
            Some("required"),
        ),
        (
            "grant_type=client_credentials&username=ada&password=x",
            "unsupported_grant_type",
            None,
            None,
        ),
        (
            "username=ada&password=x",
            "invalid_request",
            Some("grant_type"),
            Some("required"),
        ),
    ] {
        let response = app
            .anonymous
            .post(app.url("/api/auth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 400).await;
        assert_eq!(problem["error"], error, "{form}");
        if let (Some(location), Some(code)) = (location, code) {
            assert_eq!(error_locations(&problem), [pair(location, code)], "{form}");
        }
    }
    let long = "x".repeat(1025);
    let problem = assert_problem(sign_in(&app, "ada", &long).await, 400).await;
    assert_eq!(error_locations(&problem), [pair("password", "too_long")]);

    let json = app
        .anonymous
        .post(app.url("/api/auth/token"))
        .json(&json!({"grant_type": "password", "username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let untyped = app
        .anonymous
        .post(app.url("/api/auth/token"))
        .body(format!(
            "grant_type=password&username=ada&password={PASSWORD}"
        ))
        .send()
        .await
        .unwrap();
    // Sent as JSON, or with no type at all: the refusal names the form's type.
    for refused in [json, untyped] {
        let problem = assert_problem(refused, 415).await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("application/x-www-form-urlencoded"),
            "{problem}"
        );
    }
}

#[tokio::test]
async fn failed_sign_ins_are_limited_per_username_and_per_address_across_instances() {
    let app = spawn_app_with(|config| {
        config.sign_in_failures_per_username = 3;
        config.sign_in_failures_per_address = 5;
    })
    .await;
    let second = spawn_second_instance(&app).await;
    account(&app, "ada", Role::Viewer).await;
    account(&app, "bob", Role::Viewer).await;

    // The second instance has the default limits; the first counts its failures too.
    for instance in [&app, &second] {
        let problem = assert_problem(sign_in(instance, "ada", "wrong password!").await, 400).await;
        assert_eq!(problem["error"], "invalid_grant");
    }
    // A success forgets the username's failures.
    signed_in(&second, "ada").await;
    for instance in [&second, &second, &app] {
        assert_problem(sign_in(instance, "ada", "wrong password!").await, 400).await;
    }
    // The fourth attempt is refused before its password is checked, the right one too.
    let limited = sign_in(&app, "ada", PASSWORD).await;
    assert_eq!(limited.status(), 429);
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let problem = assert_problem(limited, 429).await;
    assert_eq!(
        problem["type"],
        "urn:students-api:problem:too-many-sign-ins"
    );
    assert!(problem["detail"].as_str().unwrap().contains("username"));

    // The address: three failures of ada's and two more make five; then even bob is refused.
    for _ in 0..2 {
        assert_problem(sign_in(&app, "nobody", "wrong password!").await, 400).await;
    }
    let problem = assert_problem(sign_in(&app, "bob", PASSWORD).await, 429).await;
    assert!(problem["detail"].as_str().unwrap().contains("address"));
}

#[tokio::test]
async fn disabling_an_account_revokes_its_sign_ins_on_every_instance_within_a_second() {
    let app = spawn_app().await;
    let second = spawn_second_instance(&app).await;
    account(&app, "ada", Role::Editor).await;
    let token = signed_in(&app, "ada").await;
    // Known on the second instance too, before the change.
    let me = client_with_token(&token)
        .get(second.url("/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    db::disable_account(&app.pool, &Username::parse("ada").unwrap())
        .await
        .unwrap();
    refused_within_a_second(&second, &token).await;
    refused_within_a_second(&app, &token).await;
    assert_problem(sign_in(&app, "ada", PASSWORD).await, 400).await;
}

#[tokio::test]
async fn an_unknown_username_costs_a_password_check_like_a_known_one() {
    let app = spawn_app_with(|config| config.sign_in_failures_per_address = 0).await;
    account(&app, "ada", Role::Viewer).await;
    let time = |username: &'static str| {
        let app = &app;
        async move {
            let started = Instant::now();
            assert_problem(
                sign_in(app, username, "a wrong but long password").await,
                400,
            )
            .await;
            started.elapsed()
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    // Interleaved, so a busy moment of the machine falls on both; the 10% bound is measured
    // by `bench/run --sign-in`, this only shows the work is done (a skipped argon2 check would
    // answer in a millisecond, against tens).
    for _ in 0..9 {
        known.push(time("ada").await);
        unknown.push(time("nobody").await);
    }
    known.sort();
    unknown.sort();
    let (known, unknown) = (known[4], unknown[4]);
    assert!(
        unknown * 2 > known && known * 2 > unknown,
        "median wrong password: known {known:?}, unknown {unknown:?}"
    );
}
