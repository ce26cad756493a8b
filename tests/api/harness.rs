//! The test harness cleans up after itself: a test's database goes when its app does.

use crate::helpers::{fresh_database_url, spawn_app_with};

#[tokio::test]
async fn a_tests_database_is_dropped_when_its_app_is() {
    let url = fresh_database_url();
    let name = url.rsplit('/').next().unwrap().to_owned();
    let app = spawn_app_with(|config| config.database_url = Some(url.clone())).await;
    let exists = "SELECT count(*) FROM pg_database WHERE datname = $1";
    let count: i64 = sqlx::query_scalar(exists)
        .bind(&name)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "the app's database exists while it runs");
    let admin = sqlx::PgPool::connect(&url.replace(&name, "postgres"))
        .await
        .unwrap();

    drop(app);

    let count: i64 = sqlx::query_scalar(exists)
        .bind(&name)
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(count, 0, "dropped with the app");
}
