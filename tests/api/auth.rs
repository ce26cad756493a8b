//! Who may call what: every operation against every kind of credential, the challenges, the
//! rate limits, anonymous reads, revocation across instances, and secrets kept out of logs.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use reqwest::{Client, Method, Response};
use serde_json::{Value, json};
use students_api::{
    db,
    domain::{ROLES, Role, SCOPES, Scope, TokenName, TokenSecret},
};

use crate::{
    accounts::{PASSWORD, account, signed_in},
    binary::{Scratch, signal, start, start_binary},
    helpers::{
        TestApp, assert_problem, client_with_token, fresh_database_url, spawn_app, spawn_app_with,
    },
};

/// A token made in the app's database, with its record's id.
async fn token_with(app: &TestApp, scopes: &[Scope]) -> (i64, String) {
    let name = TokenName::parse("auth test").unwrap();
    let (record, secret) = db::create_token(&app.pool, &name, scopes, None)
        .await
        .unwrap();
    (record.id, secret.expose().to_owned())
}

/// Who holds a bearer token in the matrix: a program's API token with one scope, or a person
/// signed in with a role.
#[derive(Clone, Copy)]
enum Holder {
    ApiToken(Scope),
    SignIn(Role),
}

impl Holder {
    fn all() -> Vec<Holder> {
        let tokens = [
            Scope::StudentsRead,
            Scope::StudentsWrite,
            Scope::TokensAdmin,
            Scope::AccountsAdmin,
        ];
        let tokens = tokens.into_iter().map(Holder::ApiToken);
        tokens
            .chain(ROLES.into_iter().map(Holder::SignIn))
            .collect()
    }

    fn holds(self, scope: &str) -> bool {
        match self {
            Holder::ApiToken(held) => held.as_str() == scope,
            Holder::SignIn(role) => role.scopes().iter().any(|held| held.as_str() == scope),
        }
    }

    fn label(self) -> String {
        match self {
            Holder::ApiToken(scope) => format!("an API token of {}", scope.as_str()),
            Holder::SignIn(role) => format!("a sign-in of a {}", role.as_str()),
        }
    }

    /// A new bearer token of this holder's. Accounts are named after their role.
    async fn token(self, app: &TestApp) -> String {
        match self {
            Holder::ApiToken(scope) => token_with(app, &[scope]).await.1,
            Holder::SignIn(role) => signed_in(app, role.as_str()).await,
        }
    }
}

/// Waits (up to 2 s) until `client`'s `GET path` answers `status`: the service's token cache
/// follows the table through NOTIFY.
async fn until_status(app: &TestApp, client: &Client, path: &str, status: u16) -> Duration {
    let started = Instant::now();
    loop {
        let got = client.get(app.url(path)).send().await.unwrap().status();
        if got == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{path} still answers {got}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A valid request for `operation`, on fresh data where it consumes some (a student to
/// delete, a token to revoke). Panics on an operation it does not know: a new operation must
/// join this table.
static NEXT_TARGET: AtomicUsize = AtomicUsize::new(0);

async fn request_for(app: &TestApp, operation: &str) -> (Method, String, Option<Value>) {
    let student = || async {
        let student = app.create_student("Subject", "B", None).await;
        format!("/api/students/{}", student["id"])
    };
    // An account of its own for each request that changes one.
    let target = || async {
        let name = format!("target{}", NEXT_TARGET.fetch_add(1, Ordering::Relaxed));
        account(app, &name, Role::Viewer).await;
        let id: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
            .bind(&name)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        format!("/api/accounts/{id}")
    };
    // A public address (no DNS, no allow-list needed); a test event to it fails fast.
    const HOOK: &str = "https://93.184.215.14/hook";
    let webhook = || async {
        let new = students_api::db::webhooks::NewEndpoint {
            url: students_api::domain::WebhookUrl::parse(HOOK).unwrap(),
            description: students_api::domain::WebhookDescription::parse("matrix").unwrap(),
            events: students_api::domain::EVENT_TYPES.to_vec(),
            grades: Vec::new(),
        };
        let made = students_api::db::webhooks::create_endpoint(&app.pool, &new).await;
        format!("/api/webhooks/{}", made.unwrap().id)
    };
    match operation {
        "listStudents" => (Method::GET, "/api/students".into(), None),
        "exportStudents" => (Method::GET, "/api/students/export".into(), None),
        "getStudent" => (Method::GET, student().await, None),
        "createStudent" => (
            Method::POST,
            "/api/students".into(),
            Some(json!({"name": "New", "grade": "A"})),
        ),
        "replaceStudent" => (
            Method::PUT,
            student().await,
            Some(json!({"name": "Replaced", "grade": "C", "email": null})),
        ),
        "updateStudent" => (Method::PATCH, student().await, Some(json!({"grade": "A"}))),
        "deleteStudent" => (Method::DELETE, student().await, None),
        "restoreStudent" => (
            Method::POST,
            format!("{}/restore", student().await),
            Some(json!({"version": 1})),
        ),
        "createToken" => (
            Method::POST,
            "/api/tokens".into(),
            Some(json!({"name": "made", "scopes": ["tokens:admin"]})),
        ),
        "listTokens" => (Method::GET, "/api/tokens".into(), None),
        "revokeToken" => {
            let (id, _) = token_with(app, &[Scope::StudentsRead]).await;
            (Method::DELETE, format!("/api/tokens/{id}"), None)
        }
        "streamChanges" => (Method::GET, "/api/students/changes?after=now".into(), None),
        "pollChanges" => (
            Method::GET,
            "/api/students/changes/poll?wait=0".into(),
            None,
        ),
        "getStudentHistory" => (Method::GET, format!("{}/history", student().await), None),
        // Its body is a CSV file, not JSON: `send` writes it.
        "importStudents" => (Method::POST, "/api/students/import".into(), None),
        // Its body is a form: `send` writes it.
        "signIn" => (Method::POST, "/api/auth/token".into(), None),
        "signOut" => (Method::POST, "/api/auth/sign-out".into(), None),
        "me" => (Method::GET, "/api/me".into(), None),
        // A sign-in sets its own password again (an API token is refused): the matrix's
        // accounts keep theirs.
        "changeMyPassword" => (
            Method::PUT,
            "/api/me/password".into(),
            Some(json!({"current_password": PASSWORD, "new_password": PASSWORD})),
        ),
        "listAccounts" => (Method::GET, "/api/accounts".into(), None),
        "createAccount" => (
            Method::POST,
            "/api/accounts".into(),
            Some(json!({
                "username": format!("made{}", NEXT_TARGET.fetch_add(1, Ordering::Relaxed)),
                "display_name": "Made",
                "role": "viewer",
                "password": PASSWORD,
            })),
        ),
        "getAccount" => (Method::GET, target().await, None),
        "updateAccount" => (
            Method::PATCH,
            target().await,
            Some(json!({"display_name": "Changed"})),
        ),
        "resetPassword" => (
            Method::PUT,
            format!("{}/password", target().await),
            Some(json!({"password": PASSWORD})),
        ),
        "createWebhook" => (
            Method::POST,
            "/api/webhooks".into(),
            Some(json!({ "url": HOOK })),
        ),
        "listWebhooks" => (Method::GET, "/api/webhooks".into(), None),
        "getWebhook" => (Method::GET, webhook().await, None),
        "updateWebhook" => (
            Method::PATCH,
            webhook().await,
            Some(json!({"description": "changed"})),
        ),
        "deleteWebhook" => (Method::DELETE, webhook().await, None),
        "rotateWebhookSecret" => (
            Method::POST,
            format!("{}/rotate-secret", webhook().await),
            None,
        ),
        "listWebhookAttempts" => (Method::GET, format!("{}/attempts", webhook().await), None),
        "replayWebhookEvents" => (
            Method::POST,
            format!("{}/replay", webhook().await),
            Some(json!({"since": "2026-01-01T00:00:00Z"})),
        ),
        "testWebhook" => (Method::POST, format!("{}/test", webhook().await), None),
        "getHealth" => (Method::GET, "/healthz".into(), None),
        "getReadiness" => (Method::GET, "/readyz".into(), None),
        other => panic!("no request for {other}: add it to this table"),
    }
}

async fn send(app: &TestApp, operation: &str, authorization: Option<&str>) -> Response {
    let (method, path, body) = request_for(app, operation).await;
    let mut request = app.anonymous.request(method, app.url(&path));
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    if operation == "importStudents" {
        request = request
            .header("content-type", "text/csv")
            .body("name,grade\nImported,A\n");
    }
    if operation == "signIn" {
        request = request.form(&[
            ("grant_type", "password"),
            ("username", "viewer"),
            ("password", PASSWORD),
        ]);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn every_operation_answers_every_kind_of_credential_as_declared() {
    let app = spawn_app().await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();

    for role in ROLES {
        account(&app, role.as_str(), role).await;
    }
    let mut holders = Vec::new();
    for holder in Holder::all() {
        holders.push((holder, holder.token(&app).await));
    }
    let reader = holders[0].1.clone();
    let (expired_id, expired) = token_with(&app, &[Scope::StudentsRead]).await;
    sqlx::query(
        "UPDATE api_tokens SET created_at = now() - interval '2 days', \
         expires_at = now() - interval '1 day' WHERE id = $1",
    )
    .bind(expired_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let (revoked_id, revoked) = token_with(&app, &SCOPES).await;
    db::revoke_token(&app.pool, revoked_id).await.unwrap();
    until_status(&app, &client_with_token(&reader), "/api/students", 200).await;
    // The cache learns each change by NOTIFY, in its own time: wait until it has read the
    // revocation and the expiry (a 401 alone could still be "no such token").
    for (token, why) in [(&revoked, "revoked"), (&expired, "expired")] {
        let started = Instant::now();
        loop {
            let response = client_with_token(token)
                .get(app.url("/api/students"))
                .send()
                .await
                .unwrap();
            let challenge = response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_owned();
            if challenge.contains(why) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the {why} token is still judged: {challenge}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    let mut mistyped = app.token.clone().into_bytes();
    mistyped[10] = if mistyped[10] == b'a' { b'b' } else { b'a' };
    let mistyped = String::from_utf8(mistyped).unwrap();
    let unknown = TokenSecret::generate().unwrap().expose().to_owned();

    let mut checked = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap();
            let declared: Vec<&str> = operation["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            if operation["security"].is_null() {
                // Public: no credential needed, and a bad one is not looked at.
                for authorization in [None, Some("Bearer nonsense")] {
                    let response = send(&app, id, authorization).await;
                    assert_eq!(response.status(), 200, "{id} is public");
                }
                continue;
            }
            // The scope needed, or none where any valid token will do (`me`, `signOut`).
            let needed = operation["security"][0]["signIn"][0].as_str();
            assert_eq!(
                operation["security"][1],
                json!({"bearerAuth": []}),
                "{id}: an API token is the alternative"
            );
            let challenge = |response: &Response| {
                response
                    .headers()
                    .get("www-authenticate")
                    .unwrap_or_else(|| {
                        panic!("{id}: a {} without WWW-Authenticate", response.status())
                    })
                    .to_str()
                    .unwrap()
                    .to_owned()
            };
            // No credential, or not a bearer one: 401 naming only the realm.
            for authorization in [None, Some("Basic dXNlcjpwYXNz")] {
                let response = send(&app, id, authorization).await;
                assert_eq!(
                    challenge(&response),
                    "Bearer realm=\"students-api\"",
                    "{id}"
                );
                let problem = assert_problem(response, 401).await;
                assert_eq!(problem["type"], "urn:students-api:problem:unauthorized");
                if let Some(needed) = needed {
                    assert!(
                        problem["detail"].as_str().unwrap().contains(needed),
                        "{id}: the scope needed is named: {problem}"
                    );
                }
            }
            // A token that is malformed, mistyped, unknown, expired or revoked.
            for (token, why) in [
                ("hello", "not an API token"),
                (mistyped.as_str(), "checksum"),
                (unknown.as_str(), "no such token"),
                (expired.as_str(), "expired"),
                (revoked.as_str(), "revoked"),
            ] {
                let response = send(&app, id, Some(&format!("Bearer {token}"))).await;
                let challenge = challenge(&response);
                assert!(
                    challenge.starts_with(
                        "Bearer realm=\"students-api\", error=\"invalid_token\", error_description=\""
                    ) && challenge.contains(why),
                    "{id}, {why}: {challenge}"
                );
                let problem = assert_problem(response, 401).await;
                assert_eq!(problem["type"], "urn:students-api:problem:invalid-token");
                assert!(
                    !problem.to_string().contains(token),
                    "{id}: no secret echoed"
                );
            }
            // Valid tokens, of programs and of people: those holding the scope are served, the
            // others are 403.
            for (holder, token) in &holders {
                // Signing out spends the token: a fresh one each time.
                let token = match id {
                    "signOut" => holder.token(&app).await,
                    _ => token.clone(),
                };
                let response = send(&app, id, Some(&format!("Bearer {token}"))).await;
                let status = response.status().as_u16();
                let label = holder.label();
                // Any token may ask, but only a person has a password to change.
                if id == "changeMyPassword" && matches!(holder, Holder::ApiToken(_)) {
                    let problem = assert_problem(response, 403).await;
                    assert_eq!(problem["type"], "urn:students-api:problem:not-a-sign-in");
                    continue;
                }
                let Some(needed) = needed.filter(|needed| !holder.holds(needed)) else {
                    assert!(
                        (200..300).contains(&status),
                        "{method} {path} with {label}: {status}"
                    );
                    assert!(declared.contains(&status.to_string().as_str()));
                    continue;
                };
                assert_eq!(
                    challenge(&response),
                    format!(
                        "Bearer realm=\"students-api\", error=\"insufficient_scope\", \
                         scope=\"{needed}\""
                    ),
                    "{id} with {label}"
                );
                let problem = assert_problem(response, 403).await;
                assert_eq!(
                    problem["type"],
                    "urn:students-api:problem:insufficient-scope"
                );
                assert!(problem["detail"].as_str().unwrap().contains(needed));
            }
            let refusals: &[&str] = match needed {
                Some(_) => &["401", "403", "429"],
                None => &["401", "429"],
            };
            for status in refusals {
                assert!(declared.contains(status), "{id} declares {status}");
            }
            if needed.is_none() && id != "changeMyPassword" {
                assert!(!declared.contains(&"403"), "{id}: any valid token will do");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 32, "every protected operation was tried");
    // Of the creates sent, only those holding `students:write` wrote a row: the API token of
    // that scope, the editor's and the admin's sign-ins.
    let created: i64 = sqlx::query_scalar("SELECT count(*) FROM students WHERE name = 'New'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(created, 3);
}

#[tokio::test]
async fn anonymous_reads_open_reads_only_and_never_excuse_a_bad_token() {
    let app = spawn_app_with(|config| config.auth_anonymous_read = true).await;
    app.create_student("Visible", "A", None).await;
    let list = app
        .anonymous
        .get(app.url("/api/students"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let export = app
        .anonymous
        .get(app.url("/api/students/export"))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    let write = app
        .anonymous
        .post(app.url("/api/students"))
        .json(&json!({"name": "Sneaky", "grade": "A"}))
        .send()
        .await
        .unwrap();
    assert_problem(write, 401).await;
    let tokens = app
        .anonymous
        .get(app.url("/api/tokens"))
        .send()
        .await
        .unwrap();
    assert_problem(tokens, 401).await;
    let bad = client_with_token("sat_typo")
        .get(app.url("/api/students"))
        .send()
        .await
        .unwrap();
    assert_problem(bad, 401).await;
}

#[tokio::test]
async fn brute_force_from_one_address_meets_429_and_a_valid_token_is_counted_apart() {
    let app = spawn_app_with(|config| config.rate_limit_anonymous_per_minute = 5).await;
    let guess = || {
        let secret = TokenSecret::generate().unwrap();
        client_with_token(secret.expose())
    };
    for left in (0..5).rev() {
        let response = guess().get(app.url("/api/students")).send().await.unwrap();
        assert_eq!(response.headers()["ratelimit-limit"], "5");
        assert_eq!(
            response.headers()["ratelimit-remaining"],
            left.to_string().as_str()
        );
        assert_problem(response, 401).await;
    }
    for client in [guess(), guess(), app.anonymous.clone()] {
        let response = client.get(app.url("/api/students")).send().await.unwrap();
        let reset: u64 = response.headers()["ratelimit-reset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&reset), "{reset}");
        assert_eq!(
            response.headers()["retry-after"],
            reset.to_string().as_str()
        );
        assert_eq!(response.headers()["ratelimit-remaining"], "0");
        let problem = assert_problem(response, 429).await;
        assert_eq!(problem["type"], "urn:students-api:problem:rate-limited");
        assert!(problem["detail"].as_str().unwrap().contains("address"));
    }
    // A caller with a valid token is counted by its token, not by the address.
    let ok = app.get("/api/students").await;
    assert_eq!(ok.status(), 200);
    // Liveness and the docs are not limited.
    assert_eq!(
        app.anonymous
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn each_token_has_its_own_limit() {
    let app = spawn_app_with(|config| config.rate_limit_per_minute = 3).await;
    for left in ["2", "1", "0"] {
        let response = app.get("/api/students").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-remaining"], left);
    }
    let over = app.get("/api/students").await;
    let problem = assert_problem(over, 429).await;
    assert!(problem["detail"].as_str().unwrap().contains("token"));
    let (_, other) = token_with(&app, &[Scope::StudentsRead]).await;
    let other = client_with_token(&other);
    until_status(&app, &other, "/api/students", 200).await;
}

#[tokio::test]
async fn tokens_are_made_listed_and_revoked_over_http_and_the_secret_is_shown_once() {
    let app = spawn_app().await;
    let made = app
        .client
        .post(app.url("/api/tokens"))
        .json(&json!({"name": "dashboard", "scopes": ["students:read"], "expires_in_days": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let made: Value = made.json().await.unwrap();
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(TokenSecret::parse(&secret).is_ok());
    assert_eq!(made["token"]["scopes"], json!(["students:read"]));
    assert_eq!(made["token"]["display_prefix"], &secret[..8]);
    assert!(made["token"]["expires_at"].is_string());

    // Usable at once on the instance that made it.
    let reader = client_with_token(&secret);
    let first_use = reader.get(app.url("/api/students")).send().await.unwrap();
    assert_eq!(first_use.status(), 200);

    let listed: Value = app.get("/api/tokens").await.json().await.unwrap();
    assert!(!listed.to_string().contains(&secret), "no secret in a list");
    let id = made["token"]["id"].as_i64().unwrap();
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id && t["revoked_at"].is_null())
    );

    // Bad bodies are 422s naming each field.
    let bad = app
        .client
        .post(app.url("/api/tokens"))
        .json(&json!({"name": "", "scopes": [], "expires_in_days": 0}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(bad, 422).await;
    let locations: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["location"].as_str().unwrap())
        .collect();
    assert_eq!(locations, ["/name", "/scopes", "/expires_in_days"]);
    let twice = app
        .client
        .post(app.url("/api/tokens"))
        .json(&json!({"name": "twice", "scopes": ["students:read", "students:read"]}))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(twice, 422).await;
    assert_eq!(problem["errors"][0]["location"], "/scopes");
    assert_eq!(problem["errors"][0]["code"], "duplicate");

    let revoked = app
        .client
        .delete(app.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    // Refused from the answer on, by the instance that revoked it.
    let after = reader.get(app.url("/api/students")).send().await.unwrap();
    assert_eq!(after.status(), 401);
    // Again: still 204; an unknown id is a 404 problem.
    let again = app
        .client
        .delete(app.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 204);
    let missing = app
        .client
        .delete(app.url("/api/tokens/999999"))
        .send()
        .await
        .unwrap();
    let problem = assert_problem(missing, 404).await;
    assert_eq!(problem["type"], "urn:students-api:problem:token-not-found");
    // The spec's ids start at 1: 0 and -1 are not ids at all.
    for id in ["0", "-1"] {
        let bad = app
            .client
            .delete(app.url(&format!("/api/tokens/{id}")))
            .send()
            .await
            .unwrap();
        let problem = assert_problem(bad, 422).await;
        assert_eq!(problem["errors"][0]["location"], "path.id");
        let student = app.get(&format!("/api/students/{id}")).await;
        assert_problem(student, 422).await;
    }
}

#[tokio::test]
async fn a_revoked_token_is_refused_by_another_instance_within_a_second() {
    let first = spawn_app().await;
    let second = crate::helpers::spawn_second_instance(&first).await;
    let (id, secret) = token_with(&first, &[Scope::StudentsRead]).await;
    let holder = client_with_token(&secret);
    until_status(&second, &holder, "/api/students", 200).await;

    let revoked = first
        .client
        .delete(first.url(&format!("/api/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let took = until_status(&second, &holder, "/api/students", 401).await;
    println!("the second instance refused the revoked token after {took:?}");
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn the_first_run_token_works_in_the_docs_flow_and_no_secret_reaches_the_log() {
    let scratch = Scratch::new("first-run-token");
    let data_dir = scratch.data_dir();
    let mut app = start_binary(&data_dir);
    let token_file = data_dir.join("first-token");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&token_file).unwrap().permissions(),
    );
    assert_eq!(
        mode & 0o777,
        0o600,
        "only its owner may read the token file"
    );
    let startup = app.log().join("\n");
    assert!(startup.contains("/docs, click Authorize"), "{startup}");

    // Swagger UI's flow: the page, then a request with the pasted token.
    let base = format!("http://127.0.0.1:{}", app.port);
    let docs = reqwest::get(format!("{base}/docs")).await.unwrap();
    assert_eq!(docs.status(), 200);
    let client = app.client();
    let created = client
        .post(format!("{base}/api/students"))
        .json(&json!({"name": "First", "grade": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // An anonymous delete is a 401 problem.
    let anonymous = Client::new()
        .delete(format!("{base}/api/students/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // Failures that carry secrets: a mistyped one, an unknown one.
    let unknown = TokenSecret::generate().unwrap().expose().to_owned();
    // The last character changed, to one it is not: a token ending in `x` once made this
    // "typo" the token itself (a 200, one run in 62).
    let typo = if app.token.ends_with('x') { 'y' } else { 'x' };
    for secret in [format!("{}{typo}", &app.token[..31]), unknown.clone()] {
        let refused = client_with_token(&secret)
            .get(format!("{base}/api/students"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
    }
    signal(&app.child, "-TERM");
    assert!(app.child.wait().unwrap().success());

    let log = app.log().join("\n");
    for secret in [&app.token, &unknown] {
        assert!(!log.contains(secret.as_str()), "a secret reached the log");
    }
    assert!(
        log.contains("auth=\"token\" token_id=1 token_name=\"first-run token\""),
        "each request's log line names its token: {log}"
    );
}

#[tokio::test]
async fn with_its_own_database_the_service_invents_no_token_and_says_how_to_make_one() {
    let url = fresh_database_url();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_students-api"));
    command.env("DATABASE_URL", &url);
    let mut app = start(command);
    assert!(app.token.is_empty(), "no first-run token with DATABASE_URL");
    let log = app.log().join("\n");
    assert!(log.contains("students-api token create"), "{log}");
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    assert_eq!(make_token_count(&pool).await, 0);
    let accounts: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(accounts, 0, "no first-run admin with DATABASE_URL");
    pool.close().await;
    signal(&app.child, "-TERM");
    app.child.wait().unwrap();
    crate::helpers::drop_database(&url);
}

async fn make_token_count(pool: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM api_tokens")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn last_used_at_is_written_once_not_on_every_request() {
    let app = spawn_app().await;
    let (id, secret) = token_with(&app, &[Scope::StudentsRead]).await;
    let holder = client_with_token(&secret);
    until_status(&app, &holder, "/api/students", 200).await;
    let last_used = || async {
        sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
            "SELECT last_used_at FROM api_tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    // Written in the background, soon after the first use.
    let started = Instant::now();
    let first = loop {
        if let Some(at) = last_used().await {
            break at;
        }
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "last_used_at written"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    for _ in 0..50 {
        let response = holder.get(app.url("/api/students")).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        last_used().await,
        Some(first),
        "not rewritten within the minute"
    );
}

#[tokio::test]
async fn the_token_list_shows_the_newest_thousand() {
    let app = spawn_app().await;
    sqlx::query(
        "INSERT INTO api_tokens (name, secret_sha256, display_prefix, scopes) \
         SELECT 'bulk ' || g, sha256(g::text::bytea), 'sat_AAAA', '{students:read}' \
         FROM generate_series(1, 1001) g",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let listed: Value = app.get("/api/tokens").await.json().await.unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1000);
    assert_eq!(items[0]["name"], "bulk 1001", "newest first");
}

#[tokio::test]
async fn a_token_gives_only_scopes_it_holds_and_no_longer_life_than_its_own() {
    let app = spawn_app().await;
    // Made with its expiry, so the cache knows it the moment it knows the token (an UPDATE
    // after it is a second notification: CI once made a token before the cache had read it).
    let (_, maker) = db::create_token(
        &app.pool,
        &TokenName::parse("maker").unwrap(),
        &[Scope::TokensAdmin, Scope::StudentsRead],
        Some(chrono::Utc::now() + chrono::TimeDelta::days(2)),
    )
    .await
    .unwrap();
    let maker = client_with_token(maker.expose());
    until_status(&app, &maker, "/api/tokens", 200).await;
    let make = |body: Value| {
        let maker = maker.clone();
        let url = app.url("/api/tokens");
        async move { maker.post(url).json(&body).send().await.unwrap() }
    };
    let escalation =
        make(json!({"name": "more", "scopes": ["students:read", "students:write"]})).await;
    assert_eq!(
        escalation.headers()["www-authenticate"],
        "Bearer realm=\"students-api\", error=\"insufficient_scope\", scope=\"students:write\""
    );
    assert_problem(escalation, 403).await;
    // Asked to outlive its maker (30 days, or for ever): it expires with the maker.
    for body in [
        json!({"name": "long", "scopes": ["students:read"], "expires_in_days": 30}),
        json!({"name": "forever", "scopes": ["students:read"]}),
    ] {
        let made = make(body).await;
        assert_eq!(made.status(), 201);
        let made: Value = made.json().await.unwrap();
        let expires: chrono::DateTime<chrono::Utc> = made["token"]["expires_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let left = expires - chrono::Utc::now();
        assert!(left <= chrono::TimeDelta::days(2), "{left}");
    }
    // A shorter life than the maker's is kept.
    let short =
        make(json!({"name": "short", "scopes": ["students:read"], "expires_in_days": 1})).await;
    let short: Value = short.json().await.unwrap();
    let expires: chrono::DateTime<chrono::Utc> = short["token"]["expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(expires - chrono::Utc::now() <= chrono::TimeDelta::days(1));
}

#[tokio::test]
async fn a_change_made_in_psql_reaches_the_service_token_by_token() {
    // The trigger notifies each changed token's id; the service rereads that row.
    let app = spawn_app().await;
    let (id, secret) = token_with(&app, &[Scope::StudentsRead]).await;
    let holder = client_with_token(&secret);
    until_status(&app, &holder, "/api/students", 200).await;
    sqlx::query("UPDATE api_tokens SET scopes = '{students:write}' WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    until_status(&app, &holder, "/api/students", 403).await;
    sqlx::query("DELETE FROM api_tokens WHERE id = $1")
        .bind(id)
        .execute(&app.pool)
        .await
        .unwrap();
    until_status(&app, &holder, "/api/students", 401).await;

    // A bulk change (more notifications at once than are worth a query each): one full reread.
    let secrets: Vec<TokenSecret> = (0..150).map(|_| TokenSecret::generate().unwrap()).collect();
    let hashes: Vec<Vec<u8>> = secrets.iter().map(|s| s.hash().to_vec()).collect();
    let prefixes: Vec<String> = secrets
        .iter()
        .map(|s| s.display_prefix().to_owned())
        .collect();
    sqlx::query(
        "INSERT INTO api_tokens (name, secret_sha256, display_prefix, scopes) \
         SELECT 'bulk', h, p, '{students:read}' FROM unnest($1::bytea[], $2::text[]) AS t(h, p)",
    )
    .bind(&hashes)
    .bind(&prefixes)
    .execute(&app.pool)
    .await
    .unwrap();
    for secret in [&secrets[0], &secrets[149]] {
        until_status(
            &app,
            &client_with_token(secret.expose()),
            "/api/students",
            200,
        )
        .await;
    }
    // TRUNCATE notifies without an id: everything is reread, every token is gone.
    sqlx::query("TRUNCATE api_tokens")
        .execute(&app.pool)
        .await
        .unwrap();
    until_status(&app, &app.client, "/api/students", 401).await;
    until_status(
        &app,
        &client_with_token(secrets[0].expose()),
        "/api/students",
        401,
    )
    .await;
}
