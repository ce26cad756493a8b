//! People's accounts: `students-api account create|passwd|disable|list`, the real binary
//! against a fresh database, and the table refusing what the domain types refuse.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use sqlx::PgPool;
use students_api::domain::{PasswordHash, StudentName, Username};

use crate::{
    helpers::{drop_database, fresh_database_url, spawn_app},
    rules::assert_check_holds,
};

const PASSWORD: &str = "correct horse battery staple";

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

#[tokio::test]
async fn a_sign_in_is_a_token_of_the_roles_scopes_and_every_refusal_looks_alike() {
    use chrono::TimeDelta;
    use students_api::{
        db,
        domain::{Password, Role},
    };

    let app = spawn_app().await;
    let hash = Password::parse(PASSWORD).unwrap().hash().unwrap();
    let ada = Username::parse("ada").unwrap();
    let name = StudentName::parse("Ada Lovelace").unwrap();
    db::create_account(&app.pool, &ada, &name, Role::Editor, &hash)
        .await
        .unwrap();
    let twelve_hours = TimeDelta::hours(12);

    let signed_in = db::sign_in(&app.pool, " ADA ", PASSWORD, twelve_hours)
        .await
        .unwrap()
        .expect("the right password signs in, whatever the username's case");
    assert_eq!(signed_in.account.username, ada);
    assert!(signed_in.account.last_sign_in_at.is_some());
    let scopes: Vec<&str> = signed_in.token.scopes.iter().map(|s| s.as_str()).collect();
    assert_eq!(scopes, ["students:read", "students:write"]);
    let (account_id, lifetime): (Option<i64>, f64) = sqlx::query_as(
        "SELECT account_id, extract(epoch FROM expires_at - created_at)::float8 \
         FROM api_tokens WHERE id = $1",
    )
    .bind(signed_in.token.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(account_id, Some(signed_in.account.id));
    assert!((lifetime - 12.0 * 3600.0).abs() < 60.0, "{lifetime}");

    // The token is an API token like any other: editor's scopes, no more.
    let client = crate::helpers::client_with_token(signed_in.secret.expose());
    let read = client.get(app.url("/api/students")).send().await.unwrap();
    assert_eq!(read.status(), 200);
    let tokens = client.get(app.url("/api/tokens")).send().await.unwrap();
    assert_eq!(tokens.status(), 403);

    for (username, password) in [
        ("ada", "a wrong but long password"),
        ("nobody", PASSWORD),
        ("not a username!", PASSWORD),
        ("ada", ""),
    ] {
        let refused = db::sign_in(&app.pool, username, password, twelve_hours)
            .await
            .unwrap();
        assert!(refused.is_none(), "{username} {password}");
    }
    db::disable_account(&app.pool, &ada).await.unwrap();
    assert!(
        db::sign_in(&app.pool, "ada", PASSWORD, twelve_hours)
            .await
            .unwrap()
            .is_none(),
        "a disabled account cannot sign in"
    );
    let revoked: bool =
        sqlx::query_scalar("SELECT revoked_at IS NOT NULL FROM api_tokens WHERE id = $1")
            .bind(signed_in.token.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(revoked, "disabling revoked the sign-in");
    // And the service refuses it within a second (the token cache follows the table).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let status = client
            .get(app.url("/api/students"))
            .send()
            .await
            .unwrap()
            .status();
        if status == 401 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {status} after 1 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
