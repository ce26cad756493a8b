//! The real `students-api` binary, started as a user starts it (embedded PostgreSQL in a
//! scratch data directory), for tests about processes: signals, crashes, memory.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

pub struct Running {
    pub child: Child,
    pub port: u16,
    pub psql: String,
    /// The first-run token's secret, read from the file the start-up log names (empty when
    /// the log names none).
    pub token: String,
    /// Every line logged so far (stdout and stderr), kept up to date.
    log: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// Every line logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// A client that sends the first-run token with every request.
    pub fn client(&self) -> reqwest::Client {
        crate::helpers::client_with_token(&self.token)
    }
}

/// Starts `students-api` with no `DATABASE_URL`, its embedded data in `data_dir`, and waits
/// until it listens.
#[allow(clippy::zombie_processes)] // the caller waits on `Running::child`
pub fn start_binary(data_dir: &Path) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_students-api"));
    command
        .env_remove("DATABASE_URL")
        .env("STUDENTS_API_PGDATA", data_dir);
    start(command)
}

/// Starts `command` (the binary, perhaps behind a wrapper such as `prlimit`) on a free port
/// and waits until it listens.
#[allow(clippy::zombie_processes)] // the caller waits on `Running::child`
pub fn start(mut command: Command) -> Running {
    let mut child = command
        .env("PORT", "0")
        .env("RUST_LOG", "students_api=info")
        .env_remove("NO_COLOR")
        .current_dir(std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let stdout = child.stdout.take().unwrap();
    {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                log.lock().unwrap().push(line.clone());
                let _ = lines_tx.send(line);
            }
        });
    }
    let stderr = child.stderr.take().unwrap();
    {
        let log = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push(line);
            }
        });
    }
    let mut psql = String::new();
    let mut token = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let Ok(line) = lines.recv_timeout(Duration::from_secs(1)) else {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("students-api exited with {status} before listening");
            }
            continue;
        };
        assert!(
            !line.contains('\u{1b}'),
            "no colour codes in a log that is not a terminal: {line:?}"
        );
        if let Some((_, rest)) = line.split_once("first-run API token (every scope) is in ") {
            let path = rest.split(": open").next().unwrap();
            token = std::fs::read_to_string(path).unwrap().trim().to_owned();
        }
        if let Some((_, command)) = line.split_once("inspect it with: ") {
            psql = command
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
        }
        if let Some(rest) = line.split_once("listening on port ").map(|(_, r)| r) {
            let port = rest.split(';').next().unwrap().parse().unwrap();
            return Running {
                child,
                port,
                psql,
                token,
                log,
            };
        }
    }
    panic!("students-api did not start listening within 60 s");
}

pub fn postmaster_pid(data_dir: &Path) -> i32 {
    let contents = std::fs::read_to_string(data_dir.join("postmaster.pid")).unwrap();
    contents.lines().next().unwrap().trim().parse().unwrap()
}

pub fn is_running(pid: i32) -> bool {
    // A zombie still has a /proc entry; its state is Z.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

pub fn wait_until_gone(pid: i32, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if !is_running(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A scratch directory for one test's embedded data, removed even when the test fails.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(test: &str) -> Self {
        Scratch(std::env::temp_dir().join(format!(
            "students-api-embedded-{test}-{}",
            uuid::Uuid::new_v4().simple()
        )))
    }

    pub fn data_dir(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
