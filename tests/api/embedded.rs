//! The embedded default PostgreSQL, driven through the real binary as a newcomer runs it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::binary::{Scratch, postmaster_pid, signal, start_binary, wait_until_gone};

#[tokio::test]
async fn sigterm_stops_the_app_and_its_embedded_postgres() {
    let scratch = Scratch::new("sigterm");
    let data_dir = scratch.data_dir();
    let mut app = start_binary(&data_dir);
    let postgres = postmaster_pid(&data_dir);
    assert!(
        app.psql.contains("psql 'postgres://postgres@127.0.0.1:"),
        "prints a psql command: {}",
        app.psql
    );

    signal(&app.child, "-TERM");
    let status = app.child.wait().unwrap();

    assert!(status.success(), "clean exit: {status}");
    assert!(
        wait_until_gone(postgres, Duration::from_secs(5)),
        "postgres stopped with the app"
    );
}

#[tokio::test]
async fn data_survives_a_kill_9_and_a_stale_pid_file_and_no_server_is_orphaned() {
    let scratch = Scratch::new("kill9");
    let data_dir = scratch.data_dir();
    let mut first = start_binary(&data_dir);
    let client = first.client();
    let created = client
        .post(format!("http://127.0.0.1:{}/api/students", first.port))
        .json(&json!({"name": "Survivor", "grade": "A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let postgres = postmaster_pid(&data_dir);

    signal(&first.child, "-KILL");
    first.child.wait().unwrap();
    assert!(
        wait_until_gone(postgres, Duration::from_secs(10)),
        "postgres must not outlive a killed app"
    );

    // A crash can leave postmaster.pid naming a pid that now belongs to someone else.
    std::fs::write(
        data_dir.join("postmaster.pid"),
        format!("{}\n{}\n0\n5432\n", std::process::id(), data_dir.display()),
    )
    .unwrap();
    let mut second = start_binary(&data_dir);
    let page: Value = client
        .get(format!("http://127.0.0.1:{}/api/students", second.port))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["items"][0]["name"], "Survivor",
        "data persisted across runs"
    );
    assert_eq!(
        second.psql, first.psql,
        "the psql command printed at start-up stays the same across runs"
    );

    signal(&second.child, "-TERM");
    assert!(second.child.wait().unwrap().success());
}
