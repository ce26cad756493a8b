//! The generated Rust SDK against the real server (started by `clients/with-server`, which sets
//! `STUDENTS_API_URL`): every operation, the cursor walk, merge-patch null vs absent, and the
//! problem+json errors as typed values. Only the SDK talks to the server here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeSet,
    num::NonZeroU32,
    sync::atomic::{AtomicU32, Ordering},
};

use students_api_client::{
    Client, Error,
    types::{
        AccountCreate, AccountUpdate, ChangeOp, CountMode, CreateStudentIdempotencyKey,
        ExportFormat, Grade, ListStudentsCursor, PasswordChange, PasswordGrant, PasswordReset,
        Problem, Role, Scope, Student, StudentCreate, StudentCreateEmail, StudentCreateName,
        StudentPatch, StudentReplace, StudentRestore, StudentSort, TokenCreate,
    },
};

fn url() -> String {
    std::env::var("STUDENTS_API_URL")
        .expect("STUDENTS_API_URL is not set: run the tests through clients/with-server")
}

/// A client with the server's token of every scope (`STUDENTS_API_TOKEN`).
fn client() -> Client {
    let token = std::env::var("STUDENTS_API_TOKEN")
        .expect("STUDENTS_API_TOKEN is not set: run the tests through clients/with-server");
    Client::with_token(&url(), &token).unwrap()
}

/// Waits (up to 2 s) until `check` holds: a token made or revoked reaches the server's token
/// cache through a database notification, a few milliseconds later.
async fn eventually(mut check: impl AsyncFnMut() -> bool) {
    let started = std::time::Instant::now();
    while !check().await {
        assert!(started.elapsed().as_secs() < 2, "not within 2 s");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn without_a_token_a_typed_401_and_without_the_scope_a_typed_403_naming_it() {
    let anonymous = Client::new(&url());
    let refused = problem(anonymous.list_students().send().await);
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.type_.as_str(),
        "urn:students-api:problem:unauthorized"
    );

    // A read-only token, made (and later revoked) through the SDK.
    let made = client()
        .create_token()
        .body(TokenCreate {
            name: "rust sdk reader".parse().unwrap(),
            scopes: vec![Scope::StudentsRead],
            expires_in_days: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(made.token.scopes, [Scope::StudentsRead]);
    let reader = Client::with_token(&url(), &made.secret).unwrap();
    eventually(async || reader.list_students().send().await.is_ok()).await;
    let body = StudentCreate {
        name: "Not allowed".parse().unwrap(),
        grade: Grade::A,
        email: None,
    };
    let forbidden = problem(reader.create_student().body(body).send().await);
    assert_eq!(forbidden.status, 403);
    assert_eq!(
        forbidden.type_.as_str(),
        "urn:students-api:problem:insufficient-scope"
    );
    assert!(
        forbidden.detail.contains("students:write"),
        "{}",
        *forbidden.detail
    );

    let listed = client().list_tokens().send().await.unwrap().into_inner();
    assert!(listed.items.iter().any(|t| t.id == made.token.id));
    client()
        .revoke_token()
        .id(made.token.id.get())
        .send()
        .await
        .unwrap();
    eventually(async || {
        matches!(
            reader.list_students().send().await,
            Err(Error::ErrorResponse(response)) if response.status == 401
        )
    })
    .await;
}

/// An e-mail address no other test uses, so tests never collide on the unique index.
fn fresh_email(name: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{name}.rust.{}.{n}@example.com", std::process::id())
}

async fn create(client: &Client, name: &str, email: Option<&str>) -> Student {
    let body = StudentCreate {
        name: name.parse().unwrap(),
        grade: Grade::B,
        email: email.map(|e| e.parse().unwrap()),
    };
    client
        .create_student()
        .body(body)
        .send()
        .await
        .unwrap()
        .into_inner()
}

/// The typed problem of a failed call; panics on anything but an error response.
/// The first-run `admin` account's username and password (`STUDENTS_API_USERNAME`,
/// `STUDENTS_API_PASSWORD`).
fn person() -> (String, String) {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run the tests through clients/with-server")
        })
    };
    (var("STUDENTS_API_USERNAME"), var("STUDENTS_API_PASSWORD"))
}

fn password_grant(username: &str, password: &str) -> PasswordGrant {
    PasswordGrant {
        grant_type: "password".parse().unwrap(),
        username: username.parse().unwrap(),
        password: password.parse().unwrap(),
        scope: None,
    }
}

#[tokio::test]
async fn a_person_signs_in_with_the_password_grant_and_me_names_the_account() {
    let (username, password) = person();
    let anonymous = Client::new(&url());
    let refused = problem(
        anonymous
            .sign_in()
            .body(password_grant(&username, "not the password at all"))
            .send()
            .await,
    );
    assert_eq!(refused.status, 400);
    assert_eq!(refused.error.unwrap().as_str(), "invalid_grant");

    let signed_in = anonymous
        .sign_in()
        .body(password_grant(&username, &password))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(signed_in.token_type.as_str(), "Bearer");
    let person = Client::with_token(&url(), signed_in.access_token.as_str()).unwrap();
    let me = person.me().send().await.unwrap().into_inner();
    let account = me.account.expect("a sign-in names its account");
    assert_eq!(account.username.as_str(), username);
    assert_eq!(account.role, Role::Admin);
    // A program's API token has no account.
    assert!(
        client()
            .me()
            .send()
            .await
            .unwrap()
            .into_inner()
            .account
            .is_none()
    );

    person.sign_out().send().await.unwrap();
    assert_eq!(problem(person.me().send().await).status, 401);
}

#[tokio::test]
async fn an_admin_manages_accounts_and_a_person_changes_their_own_password() {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let username = format!(
        "person{}rs{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let (first, second, third) = (
        "a first long passphrase",
        "a second long passphrase",
        "a third long passphrase",
    );
    let admin = client();
    let made = admin
        .create_account()
        .body(AccountCreate {
            username: username.parse().unwrap(),
            display_name: "Grace Hopper".parse().unwrap(),
            role: Role::Editor,
            password: first.parse().unwrap(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 201);
    let id = made.id;
    assert_eq!(
        made.headers()["location"],
        format!("/api/accounts/{id}").as_str()
    );
    let got = admin
        .get_account()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.username.as_str(), username);
    let listed = admin.list_accounts().send().await.unwrap().into_inner();
    assert!(listed.items.iter().any(|account| account.id == id));
    let common = problem(
        admin
            .create_account()
            .body(AccountCreate {
                username: format!("{username}x").parse().unwrap(),
                display_name: "X".parse().unwrap(),
                role: Role::Viewer,
                password: "qwerty123456".parse().unwrap(),
            })
            .send()
            .await,
    );
    assert_eq!(common.status, 422);
    let errors: Vec<_> = common
        .errors
        .iter()
        .map(|e| (e.location.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(errors, [("/password", "common_password")]);

    let lowered = admin
        .update_account()
        .id(id)
        .body(AccountUpdate {
            role: Some(Role::Viewer),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(lowered.role, Role::Viewer);
    let reset = admin
        .reset_password()
        .id(id)
        .body(PasswordReset {
            password: second.parse().unwrap(),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);

    let anonymous = Client::new(&url());
    let signed_in = anonymous
        .sign_in()
        .body(password_grant(&username, second))
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(signed_in.scope.as_str(), "students:read");
    let person = Client::with_token(&url(), signed_in.access_token.as_str()).unwrap();
    let change = |current: &str| PasswordChange {
        current_password: current.parse().unwrap(),
        new_password: third.parse().unwrap(),
    };
    let wrong = problem(person.change_my_password().body(change(first)).send().await);
    assert_eq!(wrong.status, 422);
    person
        .change_my_password()
        .body(change(second))
        .send()
        .await
        .unwrap();
    anonymous
        .sign_in()
        .body(password_grant(&username, third))
        .send()
        .await
        .unwrap();
}

fn problem<T: std::fmt::Debug>(result: Result<T, Error<Problem>>) -> Problem {
    match result {
        Err(Error::ErrorResponse(response)) => response.into_inner(),
        other => panic!("expected a problem+json error response, got {other:?}"),
    }
}

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let client = client();
    assert_eq!(
        client.get_health().send().await.unwrap().status.as_str(),
        "ok"
    );
    assert_eq!(
        client.get_readiness().send().await.unwrap().status.as_str(),
        "ok"
    );
}

#[tokio::test]
async fn create_read_replace_patch_and_delete_a_student() {
    let client = client();
    let email = fresh_email("Ada");
    let created = client
        .create_student()
        .body(StudentCreate {
            name: "  Ada Lovelace ".parse().unwrap(),
            grade: Grade::AMinus,
            email: Some(email.to_uppercase().parse().unwrap()),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.headers()["location"],
        format!("/api/students/{}", created.id).as_str()
    );
    let ada = created.into_inner();
    assert_eq!(ada.name.as_str(), "Ada Lovelace");
    assert_eq!(ada.grade, Grade::AMinus);
    assert_eq!(
        ada.email.as_deref().map(String::as_str),
        Some(email.to_lowercase().as_str())
    );

    let read = client
        .get_student()
        .id(ada.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.updated_at, ada.updated_at);
    assert_eq!(read.name, ada.name);

    let replaced = client
        .replace_student()
        .id(ada.id)
        .body(StudentReplace {
            name: "Ada King".parse().unwrap(),
            grade: Grade::BPlus,
            email: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (replaced.name.as_str(), replaced.grade),
        ("Ada King", Grade::BPlus)
    );
    assert_eq!(replaced.email, None);

    // Merge patch: `None` leaves a field out (unchanged), `Some(None)` sends null (cleared).
    let new_email = fresh_email("ada.king");
    let patch = |patch: StudentPatch| {
        let client = &client;
        async move {
            client
                .update_student()
                .id(ada.id)
                .body(patch)
                .send()
                .await
                .unwrap()
                .into_inner()
        }
    };
    let with_email = patch(StudentPatch {
        email: Some(Some(new_email.parse().unwrap())),
        ..Default::default()
    })
    .await;
    assert_eq!(
        with_email.email.as_deref().map(String::as_str),
        Some(new_email.as_str())
    );
    let grade_only = patch(StudentPatch {
        grade: Some(Grade::APlus),
        ..Default::default()
    })
    .await;
    assert_eq!(grade_only.grade, Grade::APlus);
    assert_eq!(
        grade_only.email.as_deref().map(String::as_str),
        Some(new_email.as_str()),
        "an absent email is left as it is"
    );
    let cleared = patch(StudentPatch {
        email: Some(None),
        ..Default::default()
    })
    .await;
    assert_eq!(cleared.email, None, "a null email clears it");
    assert_eq!(cleared.grade, Grade::APlus);

    let deleted = client.delete_student().id(ada.id).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    let gone = problem(client.get_student().id(ada.id).send().await);
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.type_.as_str(),
        "urn:students-api:problem:student-not-found"
    );
}

#[tokio::test]
async fn walking_the_list_with_cursors_returns_every_student_exactly_once() {
    let client = client();
    let mut created = BTreeSet::new();
    for i in 0..7 {
        created.insert(create(&client, &format!("Walker {i}"), None).await.id);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<ListStudentsCursor> = None;
    for _ in 0..1000 {
        let mut request = client.list_students().limit(NonZeroU32::new(3).unwrap());
        if let Some(cursor) = cursor.take() {
            request = request.cursor(cursor);
        }
        let page = request.send().await.unwrap().into_inner();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|s| s.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next.parse().unwrap()),
            None => break,
        }
    }
    let unique: BTreeSet<_> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no student twice");
    assert!(created.is_subset(&unique), "every created student listed");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "in id order");
}

#[tokio::test]
async fn a_422_surfaces_every_bad_field_as_a_typed_problem() {
    // The spec's rules for a name and an e-mail (length, pattern) are checked as the value is
    // built...
    assert!("   ".parse::<StudentCreateName>().is_err(), "blank");
    assert!(
        "x".repeat(101).parse::<StudentCreateName>().is_err(),
        "too long"
    );
    assert!("not-an-email".parse::<StudentCreateEmail>().is_err());
    assert!(" Ada@Example.com ".parse::<StudentCreateEmail>().is_ok());
    // ...what only the server can know (is this string a cursor it issued?) arrives as a typed
    // 422.
    let client = client();
    let cursor: ListStudentsCursor = "garbage".parse().unwrap();
    let problem = problem(client.list_students().cursor(cursor).send().await);
    assert_eq!(problem.status, 422);
    assert_eq!(
        problem.type_.as_str(),
        "urn:students-api:problem:validation-failed"
    );
    let fields: Vec<(&str, &str)> = problem
        .errors
        .iter()
        .map(|e| (e.location.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(fields, [("query.cursor", "invalid_parameter")]);
}

#[tokio::test]
async fn a_409_names_the_conflicting_field() {
    let client = client();
    let email = fresh_email("grace");
    create(&client, "Grace Hopper", Some(&email)).await;
    let body = StudentCreate {
        name: "Grace Two".parse().unwrap(),
        grade: Grade::C,
        email: Some(email.parse().unwrap()),
    };
    let problem = problem(client.create_student().body(body).send().await);
    assert_eq!(problem.status, 409);
    let fields: Vec<(&str, &str)> = problem
        .errors
        .iter()
        .map(|e| (e.location.as_str(), e.code.as_str()))
        .collect();
    assert_eq!(fields, [("/email", "taken")]);
}

#[tokio::test]
async fn restore_student_undoes_an_edit_and_a_delete_as_changes_of_their_own() {
    let client = client();
    let ada = create(&client, "Ada Restored", Some(&fresh_email("restore"))).await;
    let edit = StudentPatch {
        grade: Some(Grade::F),
        ..Default::default()
    };
    client
        .update_student()
        .id(ada.id)
        .body(edit)
        .send()
        .await
        .unwrap();
    let version = |v: u32| StudentRestore {
        version: NonZeroU32::new(v).unwrap(),
    };

    let back = client
        .restore_student()
        .id(ada.id)
        .body(version(1))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status().as_u16(), 200);
    assert_eq!(back.headers()["etag"], "\"3\"");
    assert_eq!(back.grade, Grade::B);
    let history = client
        .get_student_history()
        .id(ada.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(history.changes[0].op, ChangeOp::Updated);
    assert_eq!(history.changes[0].restored_from, NonZeroU32::new(1));

    client.delete_student().id(ada.id).send().await.unwrap();
    let undone = client
        .restore_student()
        .id(ada.id)
        .body(version(3))
        .send()
        .await
        .unwrap();
    assert_eq!(undone.status().as_u16(), 201);
    assert_eq!(
        undone.headers()["location"],
        format!("/api/students/{}", ada.id).as_str()
    );
    assert_eq!(undone.id, ada.id);

    let unknown = problem(
        client
            .restore_student()
            .id(ada.id)
            .body(version(99))
            .send()
            .await,
    );
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.errors[0].location.as_str(), "/version");
}

#[tokio::test]
async fn count_estimated_gives_estimated_total_and_no_total() {
    let client = client();
    create(&client, "Estimated One", None).await;
    let estimated = client
        .list_students()
        .count(CountMode::Estimated)
        .limit(NonZeroU32::new(1).unwrap())
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(estimated.estimated_total.is_some_and(|n| n >= 0));
    assert_eq!(estimated.total, None);
    let exact = client
        .list_students()
        .count(CountMode::Exact)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(exact.total.is_some_and(|n| n >= 1));
    assert_eq!(exact.estimated_total, None);
}

#[tokio::test]
async fn a_stale_etag_is_a_typed_412_and_the_current_one_writes() {
    let client = client();
    let created = client
        .create_student()
        .body(StudentCreate {
            name: "Etta".parse().unwrap(),
            grade: Grade::B,
            email: None,
        })
        .send()
        .await
        .unwrap();
    let first_tag = created.headers()["etag"].to_str().unwrap().to_owned();
    let id = created.id;
    let change = StudentPatch {
        grade: Some(Grade::A),
        ..Default::default()
    };
    let updated = client
        .update_student()
        .id(id)
        .if_match(first_tag.as_str())
        .body(change)
        .send()
        .await
        .unwrap();
    assert_ne!(updated.headers()["etag"], first_tag.as_str());

    let stale = problem(
        client
            .delete_student()
            .id(id)
            .if_match(first_tag.as_str())
            .send()
            .await,
    );
    assert_eq!(stale.status, 412);
    assert_eq!(stale.errors[0].location.as_str(), "header.If-Match");
    assert!(
        client.get_student().id(id).send().await.is_ok(),
        "still there"
    );
}

#[tokio::test]
async fn a_create_retried_with_its_idempotency_key_creates_one_student() {
    let client = client();
    let key: CreateStudentIdempotencyKey =
        format!("rust-sdk-{}", fresh_email("key")).parse().unwrap();
    let body = StudentCreate {
        name: "Retry Me".parse().unwrap(),
        grade: Grade::C,
        email: None,
    };
    let send = || {
        client
            .create_student()
            .idempotency_key(key.clone())
            .body(body.clone())
            .send()
    };
    let first = send().await.unwrap();
    let retry = send().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), retry.status().as_u16()),
        (201, 201)
    );
    assert_eq!(first.id, retry.id);
}

#[tokio::test]
async fn filters_sorts_and_export_take_typed_parameters() {
    let client = client();
    let tag = format!("zq{}x", std::process::id());
    for (name, grade) in [("Bee", Grade::B), ("Ann", Grade::APlus), ("Cid", Grade::B)] {
        client
            .create_student()
            .body(StudentCreate {
                name: format!("{name} {tag}").parse().unwrap(),
                grade,
                email: None,
            })
            .send()
            .await
            .unwrap();
    }

    let page = client
        .list_students()
        .q(tag.as_str())
        .grade(vec![Grade::B, Grade::APlus])
        .sort(StudentSort::NameDesc)
        .count(students_api_client::types::CountMode::Exact)
        .send()
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = page.items.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            format!("Cid {tag}"),
            format!("Bee {tag}"),
            format!("Ann {tag}")
        ]
    );
    assert_eq!(page.total, Some(3));

    let file = client
        .export_students()
        .q(tag.as_str())
        .grade(vec![Grade::B])
        .format(ExportFormat::Ndjson)
        .send()
        .await
        .unwrap()
        .into_inner();
    let chunks: Vec<_> = futures_util::TryStreamExt::try_collect(file.into_inner())
        .await
        .unwrap();
    let lines: Vec<Student> = String::from_utf8(chunks.concat())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
}

#[tokio::test]
async fn follow_changes_gives_every_change_in_order_and_resumes_from_a_position() {
    let client = client();
    let now = client
        .poll_changes()
        .after("now")
        .wait(0)
        .send()
        .await
        .unwrap()
        .into_inner();
    let ada = client
        .create_student()
        .body(
            StudentCreate::builder()
                .name("Ada Feed".parse::<StudentCreateName>().unwrap())
                .grade(Grade::A),
        )
        .send()
        .await
        .unwrap()
        .into_inner();
    client
        .update_student()
        .id(ada.id)
        .body(StudentPatch::builder().grade(Some(Grade::BPlus)))
        .send()
        .await
        .unwrap();
    let id = std::num::NonZeroU64::new(ada.id.get()).unwrap();

    let mut following = client
        .follow_changes()
        .after(now.next.to_string())
        .student_id(id);
    let created = following.next().await.unwrap();
    let updated = following.next().await.unwrap();
    assert_eq!(created.op.to_string(), "created");
    assert_eq!(updated.op.to_string(), "updated");
    let grade = updated.changes.grade.clone().unwrap();
    assert_eq!(
        (grade.before, grade.after),
        (Some(Grade::A), Some(Grade::BPlus))
    );
    assert_eq!(updated.actor.name.as_str(), "first-run token");

    // From the first change's position: the update again, then a delete made since.
    let mut resumed = client
        .follow_changes()
        .after(created.position.to_string())
        .student_id(id)
        .wait_secs(5);
    assert_eq!(resumed.next().await.unwrap().position, updated.position);
    client.delete_student().id(ada.id).send().await.unwrap();
    assert_eq!(resumed.next().await.unwrap().op.to_string(), "deleted");

    let history = client
        .get_student_history()
        .id(ada.id)
        .send()
        .await
        .unwrap()
        .into_inner();
    let ops: Vec<String> = history.changes.iter().map(|c| c.op.to_string()).collect();
    assert_eq!(ops, ["deleted", "updated", "created"]);
}

#[tokio::test]
async fn follow_changes_returns_the_problem_for_a_bad_position() {
    let client = client();
    let mut following = client.follow_changes().after("not-a-position");
    match following.next().await {
        Err(Error::InvalidRequest(_)) | Err(Error::ErrorResponse(_)) => {}
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn stream_changes_sends_server_sent_events_as_they_happen() {
    use futures_util::StreamExt;
    let client = client();
    let mut stream = client
        .stream_changes()
        .after("now")
        .send()
        .await
        .unwrap()
        .into_inner();
    let name = format!(
        "Streamed {}",
        fresh_email("stream").replace(['@', '.'], " ")
    );
    client
        .create_student()
        .body(
            StudentCreate::builder()
                .name(name.parse::<StudentCreateName>().unwrap())
                .grade(Grade::C),
        )
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    let wanted = format!("\"name\":\"{name}\"");
    while !text.contains(&wanted) {
        let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .expect("an event within 5 s")
            .expect("the stream goes on")
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(text.starts_with("retry: "), "{text}");
    assert!(text.contains("event: created\n"), "{text}");
}

/// The names of the students whose name holds `tag`, sorted.
async fn names_with(client: &Client, tag: &str) -> Vec<String> {
    let page = client
        .list_students()
        .q(tag)
        .send()
        .await
        .unwrap()
        .into_inner();
    let mut names: Vec<String> = page.items.iter().map(|s| s.name.to_string()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn import_students_takes_csv_and_ndjson_and_reports_bad_rows_as_a_typed_422() {
    let client = client();
    let tag = format!("imp{}rs", std::process::id());

    // CSV: 201, every row created, the students listed.
    let csv = format!(
        "name,grade,email\nAda {tag},A+,{}\nBob {tag},B,\n",
        fresh_email("ada")
    );
    let created = client
        .import_students()
        .csv(csv)
        .idempotency_key(format!("import-{tag}"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let report = created.into_inner();
    assert_eq!((report.rows, report.valid, report.invalid), (2, 2, 0));
    assert_eq!(report.created, 2);
    assert!(!report.dry_run && report.errors.is_empty());
    assert_eq!(
        names_with(&client, &tag).await,
        [format!("Ada {tag}"), format!("Bob {tag}")]
    );

    // NDJSON, sent as such.
    let ndjson = format!(
        "{}\n{}\n",
        serde_json::json!({"name": format!("Cid {tag}"), "grade": "C", "email": fresh_email("cid")}),
        serde_json::json!({"name": format!("Dee {tag}"), "grade": "D"}),
    );
    let report = client
        .import_students()
        .ndjson(ndjson)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.created, 2);
    assert_eq!(names_with(&client, &tag).await.len(), 4);

    // A bad grade on row 2 (line 3): a typed 422 naming it, and nothing written.
    let bad = format!("name,grade,email\nEve {tag},A,\nFay {tag},Z,\n");
    let refused = problem(client.import_students().csv(bad.clone()).send().await);
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.type_.as_str(),
        "urn:students-api:problem:invalid-rows"
    );
    let errors: Vec<(&str, Option<u64>)> = refused
        .errors
        .iter()
        .map(|e| (e.location.as_str(), e.line.map(|l| l.get())))
        .collect();
    assert_eq!(errors, [("/rows/2/grade", Some(3))]);
    assert_eq!(names_with(&client, &tag).await.len(), 4);

    // A dry run of the same file with `skip`: a 200 report, still nothing written.
    let dry = client
        .import_students()
        .csv(bad)
        .dry_run(true)
        .on_error(students_api_client::types::OnError::Skip)
        .send()
        .await
        .unwrap();
    assert_eq!(dry.status(), 200);
    let report = dry.into_inner();
    assert!(report.dry_run);
    assert_eq!((report.valid, report.invalid, report.created), (1, 1, 0));
    assert_eq!(report.errors[0].location.as_str(), "/rows/2/grade");
    assert_eq!(names_with(&client, &tag).await.len(), 4);

    // No file: refused before sending.
    assert!(matches!(
        client.import_students().send().await,
        Err(Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn webhooks_create_list_get_update_rotate_test_log_replay_and_delete() {
    use students_api_client::types::{
        WebhookAttemptOutcome, WebhookCreate, WebhookDisabledReason, WebhookEventType,
        WebhookReplay, WebhookUpdate,
    };
    let client = client();
    // The server itself, which answers 404 here: the test event's attempt records it.
    let made = client
        .create_webhook()
        .body(WebhookCreate {
            url: format!("{}/nowhere", url()).parse().unwrap(),
            description: None,
            events: Some(vec![WebhookEventType::StudentCreated]),
            grades: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(made.secret.starts_with("whsec_"));
    let id = made.endpoint.id;
    let listed = client.list_webhooks().send().await.unwrap().into_inner();
    assert!(listed.items.iter().any(|endpoint| endpoint.id == id));

    let paused = client
        .update_webhook()
        .id(id)
        .body(WebhookUpdate {
            enabled: Some(false),
            ..Default::default()
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(paused.disabled_reason, Some(WebhookDisabledReason::Paused));
    let one = client
        .get_webhook()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(!one.enabled);

    let rotated = client
        .rotate_webhook_secret()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_ne!(rotated.secret, made.secret);

    let tested = client
        .test_webhook()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(tested.status_code, Some(404));
    assert_eq!(tested.outcome, WebhookAttemptOutcome::Failed);
    let log = client
        .list_webhook_attempts()
        .id(id)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(log.items[0].event_type.as_str(), "webhook.test");

    let replayed = client
        .replay_webhook_events()
        .id(id)
        .body(WebhookReplay {
            event_id: None,
            since: Some("2026-01-01T00:00:00Z".parse().unwrap()),
        })
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status().as_u16(), 202);

    let refused = problem(
        client
            .create_webhook()
            .body(WebhookCreate {
                url: "https://10.0.0.1/hook".parse().unwrap(),
                description: None,
                events: None,
                grades: None,
            })
            .send()
            .await,
    );
    assert_eq!(refused.status, 422);
    assert_eq!(refused.errors[0].code.as_str(), "url_not_allowed");

    client.delete_webhook().id(id).send().await.unwrap();
    let gone = problem(client.get_webhook().id(id).send().await);
    assert_eq!(
        gone.type_.as_str(),
        "urn:students-api:problem:webhook-not-found"
    );
}
