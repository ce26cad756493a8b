//! The embedded default PostgreSQL: with no `DATABASE_URL`, the app runs a private server from
//! the PostgreSQL binaries already on the machine, and stops it on exit.
//!
//! No crate does this offline and as root (`postgresql_embedded` downloads binaries and fails as
//! root; `pgtemp` shells out to sudo), hence this small module over `std::process`:
//! - binaries: `PG_BIN`, else `pg_config --bindir`, else the newest `/usr/lib/postgresql/*/bin`
//!   (Debian), else `initdb` on `PATH`;
//! - as root, `initdb` and `postgres` run as the `postgres` user (PostgreSQL refuses root), so the
//!   data lives where that user can reach it;
//! - the server is our child in its own process group (Ctrl-C reaches us, not it) and, on Linux,
//!   gets SIGINT (fast shutdown) if we die, even by `kill -9`: no orphaned servers;
//! - a stale `postmaster.pid` left by a crash is removed; a live server on our data directory is
//!   reused rather than started twice;
//! - the port is remembered beside the data directory (`<data dir>.port`) and reused while it
//!   is free, so the psql command printed at start-up keeps working across runs.
//!
//! Throwaway servers and fault injection (`start_throwaway`, `restart`) are for tests only,
//! behind the `test-support` feature.

use std::{
    fs,
    io::{self, Read, Seek, SeekFrom},
    net::TcpListener,
    os::unix::{fs::PermissionsExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{Mutex, mpsc},
    thread,
    time::{Duration, Instant},
};

/// The superuser `initdb` creates; the embedded server trusts local TCP connections.
const SUPERUSER: &str = "postgres";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);
/// Overrides where the embedded server keeps its data.
pub const DATA_DIR_ENV: &str = "STUDENTS_API_PGDATA";
#[cfg(feature = "test-support")]
const THROWAWAY_PREFIX: &str = "students-api-test-pg-";

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "no DATABASE_URL is set and no PostgreSQL server binaries were found (looked in: {searched}).\n\
         Either install PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`; macOS: `brew install postgresql`)\n\
         and run again (or set PG_BIN to the folder holding `initdb` and `postgres`), or use a server you already have:\n\
         `docker compose up -d db` then DATABASE_URL=postgres://postgres:postgres@localhost:5432/students"
    )]
    NoBinaries { searched: String },
    #[error(
        "running as root, the embedded PostgreSQL needs a `postgres` system user to run as \
         (PostgreSQL refuses to run as root): create that user or set DATABASE_URL"
    )]
    NoPostgresUser,
    #[error("{action}: {source}")]
    Io { action: String, source: io::Error },
    #[error("`initdb` failed for {data_dir}:\n{output}")]
    Initdb { data_dir: PathBuf, output: String },
    #[error("the embedded PostgreSQL server did not start; the end of its log ({log}):\n{tail}")]
    Start { log: PathBuf, tail: String },
}

type Result<T, E = EmbeddedPgError> = std::result::Result<T, E>;

fn io_err(action: impl Into<String>) -> impl FnOnce(io::Error) -> EmbeddedPgError {
    let action = action.into();
    move |source| EmbeddedPgError::Io { action, source }
}

/// A running PostgreSQL server private to this process (or, when one was already running on the
/// same data directory, attached to without owning it).
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    data_dir: PathBuf,
    port: u16,
    server: Option<OwnedServer>,
    /// Throwaway servers delete their directory when stopped.
    throwaway_root: Option<PathBuf>,
}

#[derive(Debug)]
struct OwnedServer {
    pid: i32,
    /// Receives once when the server process has exited. (A mutex keeps the type `Sync`.)
    exited: Mutex<mpsc::Receiver<()>>,
}

impl OwnedServer {
    fn has_exited(&self, within: Duration) -> bool {
        self.exited
            .lock()
            .map(|exited| exited.recv_timeout(within).is_ok())
            .unwrap_or(true)
    }
}

/// How [`EmbeddedPostgres::restart`] takes the server down (PostgreSQL's shutdown modes, and
/// a crash).
#[cfg(feature = "test-support")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shutdown {
    /// SIGINT: disconnect clients, checkpoint, exit.
    Fast,
    /// SIGQUIT: exit at once; crash recovery on the next start.
    Immediate,
    /// SIGKILL of the postmaster: what a crash or the OOM killer does.
    Kill,
}

impl EmbeddedPostgres {
    /// The app's default: data kept across runs in `STUDENTS_API_PGDATA`, else a per-user
    /// directory named after the PostgreSQL major version (data directories are per version).
    pub fn start_default() -> Result<Self> {
        let bin_dir = find_bin_dir()?;
        let data_dir = match std::env::var_os(DATA_DIR_ENV) {
            Some(dir) => PathBuf::from(dir),
            None => {
                let major = major_version(&bin_dir)?;
                default_data_root()?.join(format!("postgresql-{major}"))
            }
        };
        Self::start(bin_dir, data_dir, false, None)
    }

    /// For tests: a fast, non-durable server in a fresh temporary directory.
    #[cfg(feature = "test-support")]
    pub fn start_throwaway() -> Result<Self> {
        let bin_dir = find_bin_dir()?;
        sweep_dead_throwaways();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let root =
            std::env::temp_dir().join(format!("{THROWAWAY_PREFIX}{}-{nanos}", std::process::id()));
        fs::create_dir_all(&root).map_err(io_err(format!("create {}", root.display())))?;
        let data_dir = root.join("data");
        Self::start(bin_dir, data_dir, true, Some(root))
    }

    fn start(
        bin_dir: PathBuf,
        data_dir: PathBuf,
        throwaway: bool,
        throwaway_root: Option<PathBuf>,
    ) -> Result<Self> {
        let run_as = RunAs::detect()?;
        init_data_dir(&bin_dir, &data_dir, &run_as)?;
        let mut embedded = EmbeddedPostgres {
            bin_dir,
            data_dir,
            port: 0,
            server: None,
            throwaway_root,
        };
        if let Some(port) = running_server_port(&embedded.data_dir) {
            embedded.port = port;
            // It may be on its way down (its app was just killed, and it got the parent-death
            // signal): reuse it only if it takes connections, else start our own once it is gone.
            if embedded.reusable() {
                tracing::info!(
                    port,
                    "reusing the PostgreSQL server already running on the data directory"
                );
                return Ok(embedded);
            }
        }
        embedded.port = remembered_port(&embedded.data_dir).map_or_else(free_port, Ok)?;
        remember_port(&embedded.data_dir, embedded.port);
        embedded.server = Some(embedded.spawn_server(&run_as, throwaway)?);
        embedded.wait_until_ready()?;
        Ok(embedded)
    }

    /// A URL for `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// The exact command that opens `database` in psql.
    pub fn psql_command(&self, database: &str) -> String {
        let psql = self.bin_dir.join("psql");
        let psql = if psql.exists() {
            psql.display().to_string()
        } else {
            "psql".to_owned()
        };
        format!("{psql} '{}'", self.url(database))
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn log_path(&self) -> PathBuf {
        self.data_dir.with_extension("log")
    }

    fn spawn_server(&self, run_as: &RunAs, throwaway: bool) -> Result<OwnedServer> {
        let log_path = self.log_path();
        let log = fs::File::create(&log_path)
            .map_err(io_err(format!("create {}", log_path.display())))?;
        let log_err = log
            .try_clone()
            .map_err(io_err("duplicate the log handle"))?;
        let mut command = Command::new(self.bin_dir.join("postgres"));
        command
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-p", &self.port.to_string()])
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
            ])
            .current_dir(self.data_dir.parent().unwrap_or(Path::new("/")))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0);
        if throwaway {
            // Test data need not survive the machine crashing, so no fsync. It must survive
            // PostgreSQL crashing (the fault tests kill it), so commits still write their WAL:
            // `synchronous_commit=off` lost acknowledged writes there.
            command.args(["-c", "fsync=off", "-c", "full_page_writes=off"]);
        }
        run_as.apply(&mut command);
        sys::die_with_parent(&mut command);

        // The child is spawned by a thread that lives as long as the process: Linux sends the
        // parent-death signal when the spawning *thread* exits, not only the process.
        let (pid_tx, pid_rx) = mpsc::channel();
        let (exit_tx, exit_rx) = mpsc::channel();
        thread::Builder::new()
            .name("embedded-postgres".into())
            .spawn(move || match command.spawn() {
                Ok(mut child) => {
                    let _ = pid_tx.send(Ok(child.id()));
                    let _ = child.wait();
                    let _ = exit_tx.send(());
                }
                Err(err) => {
                    let _ = pid_tx.send(Err(err));
                }
            })
            .map_err(io_err("start the embedded-postgres thread"))?;
        let pid = pid_rx
            .recv()
            .map_err(|_| io::Error::other("the embedded-postgres thread ended"))
            .and_then(|spawned| spawned)
            .map_err(io_err("run postgres"))?;
        Ok(OwnedServer {
            pid: i32::try_from(pid).unwrap_or(i32::MAX),
            exited: Mutex::new(exit_rx),
        })
    }

    /// Whether the server on our port takes connections now.
    fn is_ready(&self) -> bool {
        Command::new(self.bin_dir.join("pg_isready"))
            .args([
                "-q",
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                SUPERUSER,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|status| status.success())
            .unwrap_or(false)
    }

    /// For a server found running on our data directory: `true` once it takes connections,
    /// `false` once it has exited (or still refuses them at the start timeout).
    fn reusable(&self) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if self.is_ready() {
                return true;
            }
            if running_server_port(&self.data_dir).is_none() {
                return false;
            }
            thread::sleep(Duration::from_millis(100));
        }
        false
    }

    fn wait_until_ready(&self) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(server) = &self.server
                && server.has_exited(Duration::ZERO)
            {
                return Err(self.start_error());
            }
            if self.is_ready() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(self.start_error());
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn start_error(&self) -> EmbeddedPgError {
        EmbeddedPgError::Start {
            log: self.log_path(),
            tail: tail_of(&self.log_path(), 2000),
        }
    }

    /// Takes the server down the way `how` says, waits `down_for`, and starts it again on the
    /// same port and data: fault injection for tests of the service under database failures.
    #[cfg(feature = "test-support")]
    pub fn restart(&mut self, how: Shutdown, down_for: Duration) -> Result<()> {
        self.take_down(how);
        thread::sleep(down_for);
        self.bring_up()
    }

    /// Takes the server down the way `how` says and returns once it has exited: from then on
    /// its port refuses connections, until [`Self::bring_up`].
    #[cfg(feature = "test-support")]
    pub fn take_down(&mut self, how: Shutdown) {
        if let Some(server) = self.server.take() {
            let signal = match how {
                Shutdown::Fast => libc::SIGINT,
                Shutdown::Immediate => libc::SIGQUIT,
                Shutdown::Kill => libc::SIGKILL,
            };
            sys::signal(server.pid, signal);
            server.has_exited(STOP_TIMEOUT);
        }
    }

    /// Starts a server taken down again, on the same port and data, and waits until it is
    /// ready.
    #[cfg(feature = "test-support")]
    pub fn bring_up(&mut self) -> Result<()> {
        let run_as = RunAs::detect()?;
        let throwaway = self.throwaway_root.is_some();
        // After a SIGKILL, orphaned backends hold the shared memory until they notice: retry.
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            self.server = Some(self.spawn_server(&run_as, throwaway)?);
            match self.wait_until_ready() {
                Ok(()) => return Ok(()),
                Err(_) if Instant::now() < deadline => {
                    if let Some(server) = self.server.take() {
                        sys::signal(server.pid, libc::SIGQUIT);
                        server.has_exited(STOP_TIMEOUT);
                    }
                    thread::sleep(Duration::from_millis(200));
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// Fast shutdown (clients disconnected, data flushed), then removal of throwaway data.
    pub fn stop(mut self) {
        self.stop_in_place();
    }

    fn stop_in_place(&mut self) {
        if let Some(server) = self.server.take() {
            sys::signal(server.pid, libc::SIGINT);
            if !server.has_exited(STOP_TIMEOUT) {
                tracing::warn!("embedded PostgreSQL did not stop in time; sending SIGQUIT");
                sys::signal(server.pid, libc::SIGQUIT);
                server.has_exited(STOP_TIMEOUT);
            }
        }
        if let Some(root) = self.throwaway_root.take() {
            let _ = fs::remove_dir_all(root);
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop_in_place();
    }
}

/// Who the server processes run as: ourselves, or (when we are root) the `postgres` user.
#[derive(Debug)]
struct RunAs(Option<(u32, u32)>);

impl RunAs {
    fn detect() -> Result<Self> {
        if !sys::is_root() {
            return Ok(RunAs(None));
        }
        let id = |flag: &str| -> Option<u32> {
            let out = Command::new("id").args([flag, SUPERUSER]).output().ok()?;
            String::from_utf8_lossy(&out.stdout).trim().parse().ok()
        };
        match (id("-u"), id("-g")) {
            (Some(uid), Some(gid)) => Ok(RunAs(Some((uid, gid)))),
            _ => Err(EmbeddedPgError::NoPostgresUser),
        }
    }

    fn apply(&self, command: &mut Command) {
        if let Some((uid, gid)) = self.0 {
            command.uid(uid).gid(gid);
        }
    }

    fn give(&self, path: &Path) -> Result<()> {
        if let Some((uid, gid)) = self.0 {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(io_err(format!(
                "hand {} to the postgres user",
                path.display()
            )))?;
        }
        Ok(())
    }
}

fn init_data_dir(bin_dir: &Path, data_dir: &Path, run_as: &RunAs) -> Result<()> {
    if data_dir.join("PG_VERSION").exists() {
        return Ok(());
    }
    // A directory without PG_VERSION is a half-finished initdb of ours: start it over.
    if data_dir.exists() {
        fs::remove_dir_all(data_dir).map_err(io_err(format!("clear {}", data_dir.display())))?;
    }
    fs::create_dir_all(data_dir).map_err(io_err(format!("create {}", data_dir.display())))?;
    fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700))
        .map_err(io_err(format!("restrict {}", data_dir.display())))?;
    run_as.give(data_dir)?;
    let mut command = Command::new(bin_dir.join("initdb"));
    command
        .arg("-D")
        .arg(data_dir)
        .args(["-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-locale"])
        .current_dir(data_dir);
    run_as.apply(&mut command);
    // EACCES here usually means the `postgres` user cannot search a parent directory.
    let output = command.output().map_err(io_err(format!(
        "run initdb in {} (its parent directories must be searchable by the server's user)",
        data_dir.display()
    )))?;
    if !output.status.success() {
        return Err(EmbeddedPgError::Initdb {
            data_dir: data_dir.to_owned(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        });
    }
    Ok(())
}

/// The port of a live server already running on `data_dir`; a stale `postmaster.pid` (its
/// process gone, or its pid reused by something else) is removed.
fn running_server_port(data_dir: &Path) -> Option<u16> {
    let pid_file = data_dir.join("postmaster.pid");
    let contents = fs::read_to_string(&pid_file).ok()?;
    let mut lines = contents.lines();
    let pid: i32 = lines.next()?.trim().parse().ok()?;
    let port: Option<u16> = lines.nth(2).and_then(|line| line.trim().parse().ok());
    if sys::is_postgres_process(pid) && port.is_some() {
        return port;
    }
    tracing::info!(
        pid,
        "removing a stale postmaster.pid left by a crashed server"
    );
    let _ = fs::remove_file(&pid_file);
    None
}

fn find_bin_dir() -> Result<PathBuf> {
    let mut searched = Vec::new();
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();

    if let Some(dir) = std::env::var_os("PG_BIN").map(PathBuf::from) {
        if has_server(&dir) {
            return Ok(dir);
        }
        searched.push(format!("PG_BIN={}", dir.display()));
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has_server(&dir) {
            return Ok(dir);
        }
        searched.push(format!("pg_config --bindir ({})", dir.display()));
    } else {
        searched.push("pg_config (not found)".to_owned());
    }
    let debian = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(debian)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    searched.push(format!("{}/*/bin", debian.display()));
    if let Some(dir) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| has_server(dir))
    {
        return Ok(dir);
    }
    searched.push("PATH".to_owned());
    Err(EmbeddedPgError::NoBinaries {
        searched: searched.join(", "),
    })
}

/// `15` from `postgres (PostgreSQL) 15.19 (Debian ...)`: data directories are per major version.
fn major_version(bin_dir: &Path) -> Result<String> {
    let out = Command::new(bin_dir.join("postgres"))
        .arg("--version")
        .output()
        .map_err(io_err("run postgres --version"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = text
        .split_whitespace()
        .find(|word| word.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or("unknown");
    Ok(version.split('.').next().unwrap_or(version).to_owned())
}

/// Root's data goes where the `postgres` user can reach it; anyone else's under their home.
fn default_data_root() -> Result<PathBuf> {
    if sys::is_root() {
        return Ok(PathBuf::from("/var/lib/students-api"));
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))
        .ok_or_else(|| EmbeddedPgError::Io {
            action: "find a data directory".into(),
            source: io::Error::other("neither XDG_DATA_HOME nor HOME is set"),
        })?;
    Ok(base.join("students-api"))
}

/// Where the port of a data directory's server is remembered: beside it, like its log.
fn port_file(data_dir: &Path) -> PathBuf {
    data_dir.with_extension("port")
}

/// The port this data directory's server used last, if it is free now.
fn remembered_port(data_dir: &Path) -> Option<u16> {
    let port: u16 = fs::read_to_string(port_file(data_dir))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    TcpListener::bind(("127.0.0.1", port)).ok().map(|_| port)
}

fn remember_port(data_dir: &Path, port: u16) {
    if let Err(err) = fs::write(port_file(data_dir), format!("{port}\n")) {
        tracing::warn!(error = %err, "could not remember the embedded PostgreSQL's port");
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io_err("find a free port"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(io_err("find a free port"))
}

/// Removes throwaway directories whose test process is gone (their server died with it).
#[cfg(feature = "test-support")]
fn sweep_dead_throwaways() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(THROWAWAY_PREFIX)) else {
            continue;
        };
        let owner = rest
            .split('-')
            .next()
            .and_then(|pid| pid.parse::<i32>().ok());
        if owner.is_some_and(|pid| !sys::is_alive(pid)) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn tail_of(path: &Path, bytes: u64) -> String {
    let mut text = String::new();
    if let Ok(mut file) = fs::File::open(path) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(bytes)));
        let _ = file.read_to_string(&mut text);
    }
    text
}

/// The few system calls std does not wrap.
#[allow(unsafe_code)]
mod sys {
    use std::process::Command;

    pub fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() == 0 }
    }

    pub fn signal(pid: i32, signal: i32) {
        // SAFETY: kill has no memory-safety preconditions; pid is a child we spawned.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    pub fn is_alive(pid: i32) -> bool {
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    /// Alive and a PostgreSQL server (on Linux, where `/proc` tells; elsewhere: alive).
    pub fn is_postgres_process(pid: i32) -> bool {
        if !is_alive(pid) {
            return false;
        }
        match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
            Ok(comm) => comm.trim() == "postgres",
            Err(_) => !cfg!(target_os = "linux"),
        }
    }

    /// Asks Linux to send the child SIGINT (PostgreSQL's fast shutdown) when our spawning
    /// thread dies, even by `kill -9`. Runs after the uid switch, so it survives it.
    #[cfg(target_os = "linux")]
    pub fn die_with_parent(command: &mut Command) {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn die_with_parent(_command: &mut Command) {}
}
