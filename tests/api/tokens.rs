//! `students-api token create|list|revoke`, the real binary against a fresh database: the
//! secret is printed once and stored only as its SHA-256.

use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::helpers::{drop_database, fresh_database_url};

fn students_api(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_students-api"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn the_cli_creates_lists_and_revokes_tokens_storing_only_a_hash() {
    let url = fresh_database_url();
    let created = students_api(
        &url,
        &[
            "token",
            "create",
            "--name",
            "ci job",
            "--scope",
            "students:write",
            "--scope",
            "students:read",
            "--expires-in",
            "30d",
        ],
    );
    assert!(created.status.success(), "{created:?}");
    let printed = stdout(&created);
    let secret = printed.trim_end();
    assert_eq!(
        printed,
        format!("{secret}\n"),
        "only the secret, on one line"
    );
    assert!(secret.starts_with("sat_") && secret.len() == 32, "{secret}");

    let pool = PgPool::connect(&url).await.unwrap();
    let (hash, prefix, scopes, expires): (Vec<u8>, String, Vec<String>, bool) = sqlx::query_as(
        "SELECT secret_sha256, display_prefix, scopes, \
                expires_at BETWEEN now() + interval '29 days' AND now() + interval '31 days' \
         FROM api_tokens",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(hash, Sha256::digest(secret.as_bytes()).to_vec());
    assert_eq!(prefix, &secret[..8]);
    assert_eq!(scopes, ["students:read", "students:write"]);
    assert!(expires, "expires in 30 days");
    let anywhere: i64 =
        sqlx::query_scalar("SELECT count(*) FROM api_tokens t WHERE strpos(t::text, $1) > 0")
            .bind(&secret[8..])
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(anywhere, 0, "the secret is stored nowhere");

    let listed = stdout(&students_api(&url, &["token", "list"]));
    assert!(
        listed.contains("ci job") && listed.contains(&secret[..8]),
        "{listed}"
    );
    assert!(!listed.contains(secret), "lists never show secrets");

    let id: i64 = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    let revoked = students_api(&url, &["token", "revoke", &id.to_string()]);
    assert!(revoked.status.success(), "{revoked:?}");
    let revoked_at: bool = sqlx::query_scalar("SELECT revoked_at IS NOT NULL FROM api_tokens")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(revoked_at);
    let missing = students_api(&url, &["token", "revoke", "999"]);
    assert!(!missing.status.success());
    pool.close().await;
    drop_database(&url);
}

#[tokio::test]
async fn bad_arguments_are_refused_before_any_database_is_touched() {
    // No database at all: the arguments are refused first.
    let url = "postgres://postgres@127.0.0.1:1/none";
    for (args, says) in [
        (
            vec![
                "token",
                "create",
                "--name",
                "x",
                "--scope",
                "students:delete",
            ],
            "--scope",
        ),
        (
            vec!["token", "create", "--name", "", "--scope", "students:read"],
            "--name",
        ),
        (
            vec![
                "token",
                "create",
                "--name",
                "x",
                "--scope",
                "students:read",
                "--expires-in",
                "soon",
            ],
            "--expires-in",
        ),
    ] {
        let output = students_api(url, &args);
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// Waits until `check` holds for every cache, up to 5 s; returns how long that took.
async fn until(
    caches: &[&students_api::db::TokenCache],
    check: impl Fn(&students_api::db::TokenCache) -> bool,
) -> std::time::Duration {
    let started = std::time::Instant::now();
    while !caches.iter().all(|cache| check(cache)) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the caches did not catch up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    started.elapsed()
}

#[tokio::test]
async fn a_revoke_reaches_every_instances_token_cache_within_a_second() {
    use students_api::{
        db::{self, TokenCache, Verdict},
        domain::{Scope, TokenName, TokenSecret},
    };
    let url = fresh_database_url();
    // Two instances on one database, each with its cache following the table.
    let mut caches = Vec::new();
    for _ in 0..2 {
        let pool = db::pool(&url, 2, db::Pooler::Direct).unwrap();
        db::prepare(&url, &pool).await.unwrap();
        let cache = TokenCache::default();
        tokio::spawn(cache.clone().follow(db::ListenPool(pool)));
        caches.push(cache);
    }
    let (a, b) = (&caches[0], &caches[1]);
    let pool = PgPool::connect(&url).await.unwrap();
    let name = TokenName::parse("reader").unwrap();
    let (record, secret) = db::create_token(&pool, &name, &[Scope::StudentsRead], None)
        .await
        .unwrap();
    let valid =
        |cache: &TokenCache| matches!(cache.check(&secret), Verdict::Valid(t) if t.id == record.id);
    let created = until(&[a, b], valid).await;

    db::revoke_token(&pool, record.id).await.unwrap();
    let revoked = until(&[a, b], |cache| {
        matches!(cache.check(&secret), Verdict::Revoked(_))
    })
    .await;
    println!("token cache: a new token seen after {created:?}, a revoke after {revoked:?}");
    assert!(revoked < std::time::Duration::from_secs(1), "{revoked:?}");

    // A revoke made in psql is seen too (the trigger, not the API, notifies).
    let (other, other_secret) = db::create_token(&pool, &name, &[Scope::StudentsRead], None)
        .await
        .unwrap();
    until(&[a, b], |cache| {
        matches!(cache.check(&other_secret), Verdict::Valid(_))
    })
    .await;
    sqlx::query("UPDATE api_tokens SET revoked_at = now() WHERE id = $1")
        .bind(other.id)
        .execute(&pool)
        .await
        .unwrap();
    until(&[a, b], |cache| {
        matches!(cache.check(&other_secret), Verdict::Revoked(_))
    })
    .await;

    // Expired (checked against the clock, no reload needed), and unknown.
    let soon = chrono::Utc::now() + chrono::TimeDelta::milliseconds(300);
    let (_, brief_secret) = db::create_token(&pool, &name, &[Scope::StudentsRead], Some(soon))
        .await
        .unwrap();
    until(&[a, b], |cache| {
        matches!(cache.check(&brief_secret), Verdict::Valid(_))
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert!(matches!(a.check(&brief_secret), Verdict::Expired(_)));
    let stranger = TokenSecret::generate().unwrap();
    assert_eq!(a.check(&stranger), Verdict::Unknown);
    pool.close().await;
    drop_database(&url);
}

/// Right after a start, a token made in the database (as psql or the CLI make one) works on its
/// first request: the cache reads a secret it does not know before refusing it, whether its
/// first read or the token's notification has arrived yet or not. 50 fresh starts, each in a
/// runtime of its own (dropped after the round, with every connection it opened).
#[test]
fn a_token_made_in_the_database_works_at_once_even_right_after_a_start() {
    use students_api::{domain::Scope, startup::Application};
    let url = fresh_database_url();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for round in 0..50 {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let status = runtime.block_on(async {
            let app = Application::build(crate::helpers::test_config(Some(url.clone())))
                .await
                .unwrap();
            let (port, pool) = (app.port(), app.pool().clone());
            tokio::spawn(app.run_until_stopped());
            let token = crate::helpers::make_token(&pool, &[Scope::StudentsRead])
                .await
                .unwrap();
            let response = crate::helpers::client_with_token(&token)
                .get(format!("http://127.0.0.1:{port}/api/students?limit=1"))
                .send()
                .await
                .unwrap();
            response.status().as_u16()
        });
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
        *statuses.entry(status).or_default() += 1;
        assert_eq!(status, 200, "round {round}: {statuses:?}");
    }
    drop_database(&url);
}

/// A secret no token has is read from the database once, then remembered for a while: a
/// client repeating a wrong token costs one query, not one a request. A token made with a
/// remembered secret is known as soon as its row is reread (its notification).
#[tokio::test]
async fn an_unknown_secret_costs_one_lookup_and_is_forgotten_when_its_token_is_made() {
    use students_api::{
        db::{self, TokenCache, Verdict},
        domain::{Scope, TokenName, TokenSecret},
    };
    let url = fresh_database_url();
    let pool = db::pool(&url, 2, db::Pooler::Direct).unwrap();
    db::prepare(&url, &pool).await.unwrap();
    // A pool that cannot reach any database: a lookup through it fails at once.
    let nowhere = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(200))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap();
    let cache = TokenCache::default();
    cache.reload(&pool).await.unwrap();
    let stranger = TokenSecret::generate().unwrap();
    assert!(
        cache.look_up(&nowhere, &stranger).await.is_err(),
        "it asks the database"
    );
    assert_eq!(
        cache.look_up(&pool, &stranger).await.unwrap(),
        Verdict::Unknown
    );
    for _ in 0..100 {
        // Remembered: no query (through `nowhere` it would fail).
        assert_eq!(
            cache.look_up(&nowhere, &stranger).await.unwrap(),
            Verdict::Unknown
        );
    }
    let name = TokenName::parse("late").unwrap();
    let made = db::insert_token(&pool, &name, &[Scope::StudentsRead], None, &stranger)
        .await
        .unwrap();
    cache.reload_one(&pool, made.id).await.unwrap();
    assert!(matches!(cache.check(&stranger), Verdict::Valid(t) if t.id == made.id));
    pool.close().await;
    drop_database(&url);
}
