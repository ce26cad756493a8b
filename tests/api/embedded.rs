//! The embedded default PostgreSQL, driven through the real binary as a newcomer runs it.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

struct Running {
    child: Child,
    port: u16,
    psql: String,
}

/// Starts `students-api` with no `DATABASE_URL`, its embedded data in `data_dir`, and waits
/// until it listens.
#[allow(clippy::zombie_processes)] // the caller waits on `Running::child`
fn start_binary(data_dir: &Path) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_students-api"))
        .env_remove("DATABASE_URL")
        .env("STUDENTS_API_PGDATA", data_dir)
        .env("PORT", "0")
        .env("RUST_LOG", "students_api=info")
        .env("NO_COLOR", "1")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut psql = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Ok(line) = lines.recv_timeout(Duration::from_secs(1)) else {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("students-api exited with {status} before listening");
            }
            continue;
        };
        if let Some((_, command)) = line.split_once("inspect it with: ") {
            psql = command
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
        }
        if let Some(rest) = line.split_once("listening on port ").map(|(_, r)| r) {
            let port = rest.split(';').next().unwrap().parse().unwrap();
            return Running { child, port, psql };
        }
    }
    panic!("students-api did not start listening within 60 s");
}

fn postmaster_pid(data_dir: &Path) -> i32 {
    let contents = std::fs::read_to_string(data_dir.join("postmaster.pid")).unwrap();
    contents.lines().next().unwrap().trim().parse().unwrap()
}

fn is_running(pid: i32) -> bool {
    // A zombie still has a /proc entry; its state is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

fn wait_until_gone(pid: i32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if !is_running(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A scratch directory for one test's embedded data, removed even when the test fails.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        Scratch(std::env::temp_dir().join(format!(
            "students-api-embedded-{test}-{}",
            uuid::Uuid::new_v4().simple()
        )))
    }

    fn data_dir(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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
    let client = reqwest::Client::new();

    let mut first = start_binary(&data_dir);
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

    signal(&second.child, "-TERM");
    assert!(second.child.wait().unwrap().success());
}
