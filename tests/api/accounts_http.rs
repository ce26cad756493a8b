//! Accounts over HTTP: an admin makes, reads, changes and resets accounts (`accounts:admin`),
//! a person changes their own password, and every change that takes something away revokes
//! sign-ins on every instance within a second.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use students_api::domain::Role;

use crate::{
    accounts::{PASSWORD, account, refused_within_a_second, sign_in, signed_in},
    binary::{Scratch, signal, start_binary},
    helpers::{
        TestApp, assert_problem, client_with_token, error_locations, pair, spawn_app,
        spawn_app_with, spawn_second_instance,
    },
};

const NEW_PASSWORD: &str = "a quite different passphrase";

async fn account_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

async fn create(app: &TestApp, body: &Value) -> reqwest::Response {
    app.send_json(Method::POST, "/api/accounts", body).await
}

fn bob() -> Value {
    json!({
        "username": "Bob",
        "display_name": "Bob Builder",
        "role": "editor",
        "password": PASSWORD,
    })
}

#[tokio::test]
async fn an_admin_makes_reads_and_lists_accounts_and_bad_bodies_write_nothing() {
    let app = spawn_app().await;
    let admin = client_with_token(&{
        account(&app, "root", Role::Admin).await;
        signed_in(&app, "root").await
    });

    let response = admin
        .post(app.url("/api/accounts"))
        .json(&bob())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(location, format!("/api/accounts/{}", created["id"]));
    assert_eq!(created["username"], "bob", "stored lower-cased");
    assert_eq!(created["role"], "editor");
    assert_eq!(created["disabled_at"], Value::Null);
    assert!(created.get("password").is_none() && !created.to_string().contains("argon2"));

    let read: Value = app.get(&location).await.json().await.unwrap();
    assert_eq!(read, created);
    let list: Value = app.get("/api/accounts").await.json().await.unwrap();
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["root", "bob"], "oldest first");
    // Bob can sign in at once, with an editor's scopes.
    let token: Value = sign_in(&app, "bob", PASSWORD).await.json().await.unwrap();
    assert_eq!(token["scope"], "students:read students:write");

    // Taken in any case: 409 naming the field.
    let mut taken = bob();
    taken["username"] = json!("BOB");
    let problem = assert_problem(create(&app, &taken).await, 409).await;
    assert!(
        problem["type"]
            .as_str()
            .unwrap()
            .ends_with("username-taken")
    );
    assert_eq!(error_locations(&problem), [pair("/username", "taken")]);

    // Every bad field at once, and nothing written.
    let before = account_count(&app).await;
    let problem = assert_problem(
        create(
            &app,
            &json!({
                "username": "-xy",
                "display_name": " ",
                "role": "owner",
                "password": "short",
                "colour": "red",
            }),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(
        error_locations(&problem),
        [
            pair("/username", "pattern"),
            pair("/display_name", "too_short"),
            pair("/role", "invalid_enum"),
            pair("/password", "too_short"),
            pair("/colour", "unknown_field"),
        ]
    );
    for (password, code) in [
        ("qwerty123456", "common_password"),
        ("long enough\u{0}password", "control_character"),
        (&*"p".repeat(257), "too_long"),
    ] {
        let mut body = bob();
        body["username"] = json!("carol");
        body["password"] = json!(password);
        let problem = assert_problem(create(&app, &body).await, 422).await;
        assert_eq!(error_locations(&problem), [pair("/password", code)]);
    }
    assert_eq!(account_count(&app).await, before);

    assert_problem(app.get("/api/accounts/999").await, 404).await;
    let problem = assert_problem(app.get("/api/accounts/abc").await, 422).await;
    assert_eq!(
        error_locations(&problem),
        [pair("path.id", "invalid_parameter")]
    );
}

/// Makes an editor `bob` over HTTP and answers his id.
async fn bob_id(app: &TestApp) -> i64 {
    let response = create(app, &bob()).await;
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn update(app: &TestApp, id: i64, body: &Value) -> reqwest::Response {
    app.send_json(Method::PATCH, &format!("/api/accounts/{id}"), body)
        .await
}

#[tokio::test]
async fn lowering_a_role_disabling_or_resetting_a_password_revokes_sign_ins_everywhere() {
    let app = spawn_app().await;
    let second = spawn_second_instance(&app).await;
    account(&app, "root", Role::Admin).await; // so bob is never the last admin
    let id = bob_id(&app).await;

    // A new display name, or a higher role, takes nothing away: the sign-in stays.
    let token = signed_in(&app, "bob").await;
    let renamed: Value = update(&app, id, &json!({"display_name": "Robert"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["display_name"], "Robert");
    assert_eq!(renamed["role"], "editor", "absent fields stay");
    assert_eq!(
        update(&app, id, &json!({"role": "admin"})).await.status(),
        200
    );
    // Asked of the instance that made the change, which marks revocations at once.
    let me = client_with_token(&token)
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // Lower: refused on the other instance within a second.
    assert_eq!(
        update(&app, id, &json!({"role": "viewer"})).await.status(),
        200
    );
    refused_within_a_second(&second, &token).await;
    let token: Value = sign_in(&app, "bob", PASSWORD).await.json().await.unwrap();
    assert_eq!(
        token["scope"], "students:read",
        "a new sign-in has the new role"
    );

    // Disabled: its sign-in refused, and no new one; enabled again, it signs in.
    let token = signed_in(&app, "bob").await;
    let disabled: Value = update(&app, id, &json!({"disabled": true}))
        .await
        .json()
        .await
        .unwrap();
    assert!(disabled["disabled_at"].is_string());
    refused_within_a_second(&second, &token).await;
    assert_problem(sign_in(&app, "bob", PASSWORD).await, 400).await;
    assert_eq!(
        update(&app, id, &json!({"disabled": false})).await.status(),
        200
    );
    let token = signed_in(&app, "bob").await;

    // A reset: the old password and its sign-ins stop working, the new one works.
    let reset = app
        .send_json(
            Method::PUT,
            &format!("/api/accounts/{id}/password"),
            &json!({"password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(reset.status(), 204);
    refused_within_a_second(&second, &token).await;
    assert_problem(sign_in(&app, "bob", PASSWORD).await, 400).await;
    assert_eq!(sign_in(&app, "bob", NEW_PASSWORD).await.status(), 200);

    // Refusals: a null, an unknown field, a missing account.
    let problem = assert_problem(update(&app, id, &json!({"role": null, "x": 1})).await, 422).await;
    assert_eq!(
        error_locations(&problem),
        [pair("/role", "null"), pair("/x", "unknown_field")]
    );
    assert_problem(update(&app, 999, &json!({"role": "viewer"})).await, 404).await;
    let missing = app
        .send_json(
            Method::PUT,
            "/api/accounts/999/password",
            &json!({"password": NEW_PASSWORD}),
        )
        .await;
    assert_problem(missing, 404).await;
}

#[tokio::test]
async fn the_last_active_admin_cannot_be_lowered_or_disabled_even_by_two_at_once() {
    let app = spawn_app().await;
    account(&app, "root", Role::Admin).await;
    let root: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'root'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    for change in [json!({"role": "editor"}), json!({"disabled": true})] {
        let problem = assert_problem(update(&app, root, &change).await, 409).await;
        assert!(problem["type"].as_str().unwrap().ends_with("last-admin"));
    }
    // A disabled admin does not count; an enabled second one does.
    let other = bob_id(&app).await;
    assert_eq!(
        update(&app, other, &json!({"role": "admin", "disabled": true}))
            .await
            .status(),
        200
    );
    assert_problem(update(&app, root, &json!({"role": "viewer"})).await, 409).await;
    assert_eq!(
        update(&app, other, &json!({"disabled": false}))
            .await
            .status(),
        200
    );

    // Two admins lowering each other at once: one wins, one is refused. Rounds, so the two
    // transactions overlap in some.
    let viewer = json!({"role": "viewer"});
    let (mut a_id, mut b_id) = (root, other);
    for round in 0..15 {
        let (a, b) = tokio::join!(update(&app, a_id, &viewer), update(&app, b_id, &viewer));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "round {round}");
        let admins: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM accounts WHERE role = 'admin' AND disabled_at IS NULL",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(admins.len(), 1, "round {round}");
        // A fresh second admin for the next round.
        let name = format!("admin{round}");
        account(&app, &name, Role::Admin).await;
        let fresh: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
            .bind(&name)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        (a_id, b_id) = (admins[0], fresh);
    }
}

async fn change_mine(app: &TestApp, token: &str, body: &Value) -> reqwest::Response {
    client_with_token(token)
        .put(app.url("/api/me/password"))
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_changes_their_own_password_and_keeps_only_this_sign_in() {
    let app = spawn_app_with(|config| config.sign_in_failures_per_username = 3).await;
    let second = spawn_second_instance(&app).await;
    account(&app, "ada", Role::Viewer).await;
    let this = signed_in(&app, "ada").await;
    let other = signed_in(&app, "ada").await;

    // Wrong current password: a 422 naming it; a bad new one: a 422 naming the rule.
    let wrong = json!({"current_password": "not it at all", "new_password": NEW_PASSWORD});
    let problem = assert_problem(change_mine(&app, &this, &wrong).await, 422).await;
    assert_eq!(
        error_locations(&problem),
        [pair("/current_password", "wrong")]
    );
    let common = json!({"current_password": PASSWORD, "new_password": "QWERTY123456"});
    let problem = assert_problem(change_mine(&app, &this, &common).await, 422).await;
    assert_eq!(
        error_locations(&problem),
        [pair("/new_password", "common_password")]
    );

    let right = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
    assert_eq!(change_mine(&app, &this, &right).await.status(), 204);
    refused_within_a_second(&second, &other).await;
    let me = client_with_token(&this)
        .get(second.url("/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        me.status(),
        200,
        "the sign-in that changed it keeps working"
    );
    assert_problem(sign_in(&app, "ada", PASSWORD).await, 400).await;
    assert_eq!(sign_in(&app, "ada", NEW_PASSWORD).await.status(), 200);

    // An API token has no password.
    let problem = assert_problem(change_mine(&app, &app.token, &right).await, 403).await;
    assert!(problem["type"].as_str().unwrap().ends_with("not-a-sign-in"));

    // Wrong current passwords count as failed sign-ins: past the limit, 429.
    for _ in 0..3 {
        assert_problem(change_mine(&app, &this, &wrong).await, 422).await;
    }
    let limited = change_mine(&app, &this, &wrong).await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_problem(limited, 429).await;
    assert_problem(sign_in(&app, "ada", NEW_PASSWORD).await, 429).await;
}

#[tokio::test]
async fn the_first_run_admin_signs_in_with_its_file_and_no_password_reaches_the_log() {
    let scratch = Scratch::new("first-run-admin");
    let data_dir = scratch.data_dir();
    let mut app = start_binary(&data_dir);
    let file = data_dir.join("first-admin-password");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "only its owner may read the password");
    let first = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert_eq!(first.len(), 24);
    let startup = app.log().join("\n");
    assert!(
        startup.contains(&format!("its password is in {}", file.display())),
        "the log names the file: {startup}"
    );

    let base = format!("http://127.0.0.1:{}", app.port);
    let client = reqwest::Client::new();
    let form = |password: &str| {
        client
            .post(format!("{base}/api/auth/token"))
            .form(&[
                ("grant_type", "password"),
                ("username", "admin"),
                ("password", password),
            ])
            .send()
    };
    let token: Value = form(&first).await.unwrap().json().await.unwrap();
    let access = token["access_token"].as_str().unwrap().to_owned();
    assert!(token["scope"].as_str().unwrap().contains("accounts:admin"));
    let admin = client_with_token(&access);
    let changed = admin
        .put(format!("{base}/api/me/password"))
        .json(&json!({"current_password": first, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    assert_eq!(
        form(&first).await.unwrap().status(),
        400,
        "the old one is gone"
    );
    let made = admin
        .post(format!("{base}/api/accounts"))
        .json(&bob())
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    signal(&app.child, "-TERM");
    assert!(app.child.wait().unwrap().success());

    let log = app.log().join("\n");
    for secret in [first.as_str(), NEW_PASSWORD, PASSWORD, &access, "$argon2"] {
        assert!(!log.contains(secret), "{secret:?} reached the log");
    }
    assert!(log.contains("account created"), "{log}");

    // The next start finds the password changed: the file, now wrong, is removed.
    let mut again = start_binary(&data_dir);
    let startup = again.log().join("\n");
    assert!(!file.exists(), "the stale password file is gone");
    assert!(
        startup.contains(&format!("removed {}", file.display())),
        "{startup}"
    );
    signal(&again.child, "-TERM");
    assert!(again.child.wait().unwrap().success());
}

#[tokio::test]
async fn history_and_the_feed_name_the_person_who_signed_in_and_the_program_by_its_token() {
    let app = spawn_app().await;
    account(&app, "ada", Role::Editor).await;
    let ada: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'ada'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let person = client_with_token(&signed_in(&app, "ada").await);
    // Created one at a time and in a batch (the import), then changed, by the person.
    let created: Value = person
        .post(app.url("/api/students"))
        .json(&json!({"name": "Grace", "grade": "A"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/api/students/{}", created["id"]);
    let patched = person
        .patch(app.url(&path))
        .json(&json!({"grade": "B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let imported = person
        .post(app.url("/api/students/import"))
        .header("content-type", "text/csv")
        .body("name,grade\nImported,C\n")
        .send()
        .await
        .unwrap();
    assert_eq!(imported.status(), 201);
    // And by a program.
    app.patch_student(&created, &json!({"grade": "C"})).await;

    let history: Value = app
        .get(&format!("{path}/history"))
        .await
        .json()
        .await
        .unwrap();
    let actors: Vec<&Value> = history["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| &change["actor"])
        .collect();
    let named = json!({"id": ada, "username": "ada"});
    assert_eq!(actors.len(), 3, "{history}");
    // Newest first: the program's patch, then the person's patch and create.
    assert_eq!(
        actors[0]["account"],
        Value::Null,
        "a program has no account"
    );
    assert_eq!(actors[0]["name"], "test token");
    for actor in &actors[1..] {
        assert_eq!(actor["name"], "ada", "{actor}");
        assert_eq!(actor["account"], named);
        assert!(actor["token_id"].is_i64());
    }

    let feed: Value = app
        .get("/api/students/changes/poll?wait=0")
        .await
        .json()
        .await
        .unwrap();
    let by_ada = feed["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|change| change["actor"]["account"] == named)
        .count();
    assert_eq!(by_ada, 3, "the create, the patch and the import: {feed}");
    let stored: Vec<(Option<i64>, String)> = sqlx::query_as(
        "SELECT actor_account_id, actor FROM student_changes ORDER BY feed_xid, seq",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        stored[0],
        (Some(ada), "ada".to_owned()),
        "psql shows it too"
    );
}

#[tokio::test]
async fn a_sign_in_racing_a_demotion_or_a_reset_keeps_nothing_the_change_took_away() {
    let app = spawn_app().await;
    account(&app, "root", Role::Admin).await;
    for (round, change) in ["demote", "reset"].into_iter().enumerate() {
        let username = format!("racer{round}");
        account(&app, &username, Role::Admin).await;
        let id: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
            .bind(&username)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        // Sign-ins a few milliseconds apart, the change landing among them.
        let mut signing_in = Vec::new();
        for n in 0..12u64 {
            let (app, username) = (&app, username.clone());
            signing_in.push(async move {
                tokio::time::sleep(Duration::from_millis(5 * n)).await;
                let response = sign_in(app, &username, PASSWORD).await;
                match response.status().as_u16() {
                    200 => Some(response.json::<Value>().await.unwrap()),
                    _ => None,
                }
            });
        }
        let changing = async {
            tokio::time::sleep(Duration::from_millis(25)).await;
            let answer = match change {
                "demote" => update(&app, id, &json!({"role": "viewer"})).await,
                _ => {
                    app.send_json(
                        Method::PUT,
                        &format!("/api/accounts/{id}/password"),
                        &json!({"password": NEW_PASSWORD}),
                    )
                    .await
                }
            };
            assert!(
                answer.status().is_success(),
                "{change}: {}",
                answer.status()
            );
        };
        let (tokens, ()) = tokio::join!(futures_util::future::join_all(signing_in), changing);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        for token in tokens.into_iter().flatten() {
            let client = client_with_token(token["access_token"].as_str().unwrap());
            let admin_only = client.get(app.url("/api/accounts")).send().await.unwrap();
            assert_ne!(
                admin_only.status(),
                200,
                "{change}: a sign-in of {} still manages accounts",
                token["scope"]
            );
            if change == "reset" {
                let me = client.get(app.url("/api/me")).send().await.unwrap();
                assert_eq!(me.status(), 401, "a sign-in with the old password lives on");
            }
        }
    }
}

#[tokio::test]
async fn tokens_a_sign_in_made_go_with_the_account_but_a_programs_stay() {
    let app = spawn_app().await;
    account(&app, "root", Role::Admin).await;
    account(&app, "eve", Role::Admin).await;
    let eve: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'eve'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let make = |maker: String, name: &'static str| {
        let app = &app;
        async move {
            let made: Value = client_with_token(&maker)
                .post(app.url("/api/tokens"))
                .json(&json!({"name": name, "scopes": ["accounts:admin", "tokens:admin"]}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (
                made["secret"].as_str().unwrap().to_owned(),
                made["token"].clone(),
            )
        }
    };
    // Eve's sign-in makes a token, which makes another; a program's token makes a third.
    let (first, listed) = make(signed_in(&app, "eve").await, "eve's first").await;
    assert_eq!(listed["made_by_account_id"], eve);
    let (second, listed) = make(first.clone(), "eve's second").await;
    assert_eq!(listed["made_by_account_id"], eve, "inherited");
    let (programs, listed) = make(app.token.clone(), "a program's").await;
    assert_eq!(listed["made_by_account_id"], Value::Null);

    assert_eq!(
        update(&app, eve, &json!({"disabled": true})).await.status(),
        200
    );
    for token in [&first, &second] {
        refused_within_a_second(&app, token).await;
    }
    // So Eve cannot re-enable herself with one of them; the program's token still works.
    let again = client_with_token(&first)
        .patch(app.url(&format!("/api/accounts/{eve}")))
        .json(&json!({"disabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 401);
    let me = client_with_token(&programs)
        .get(app.url("/api/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
}

/// A request whose JSON body arrives in two parts: `first` now, the rest when `rest` is sent.
fn trickled(first: &str) -> (reqwest::Body, tokio::sync::mpsc::Sender<String>) {
    let (send, receive) = tokio::sync::mpsc::channel::<String>(1);
    let head = futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(
        first.to_owned(),
    )));
    let tail = futures_util::stream::unfold(receive, |mut receive| async move {
        let part = receive.recv().await?;
        Some((Ok(part), receive))
    });
    (
        reqwest::Body::wrap_stream(futures_util::StreamExt::chain(head, tail)),
        send,
    )
}

#[tokio::test]
async fn a_request_admitted_before_its_account_was_disabled_does_nothing_when_its_body_arrives() {
    let app = spawn_app().await;
    account(&app, "root", Role::Admin).await;
    account(&app, "eve", Role::Admin).await;
    let eve: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE username = 'eve'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let eves = client_with_token(&signed_in(&app, "eve").await);
    // Eve starts making a token and re-enabling herself, then root disables her, then the
    // rest of both bodies arrive.
    let (token_body, finish_token) = trickled(r#"{"name": "late", "#);
    let making = eves
        .post(app.url("/api/tokens"))
        .header("content-type", "application/json")
        .body(token_body)
        .send();
    let (enable_body, finish_enable) = trickled(r#"{"disabled": "#);
    let enabling = eves
        .patch(app.url(&format!("/api/accounts/{eve}")))
        .header("content-type", "application/json")
        .body(enable_body)
        .send();
    let meanwhile = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            update(&app, eve, &json!({"disabled": true})).await.status(),
            200
        );
        finish_token
            .send(r#""scopes": ["accounts:admin"]}"#.to_owned())
            .await
            .unwrap();
        finish_enable.send("false}".to_owned()).await.unwrap();
        // The bodies end when their senders go.
        drop((finish_token, finish_enable));
    };
    let (made, enabled, ()) = tokio::join!(making, enabling, meanwhile);
    assert_problem(made.unwrap(), 401).await;
    assert_problem(enabled.unwrap(), 401).await;
    let live: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_tokens WHERE made_by_account_id = $1 AND revoked_at IS NULL",
    )
    .bind(eve)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(live, 0, "nothing Eve made outlives her account");
    let disabled: bool =
        sqlx::query_scalar("SELECT disabled_at IS NOT NULL FROM accounts WHERE id = $1")
            .bind(eve)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(disabled, "she stays disabled");
}
