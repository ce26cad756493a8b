//! Settings from flags, the environment and `.env` (read by `main` before parsing).

use clap::{Parser, Subcommand};

/// A typed-contract REST API for students.
/// `IMPORT_MAX_BYTES` unless set: the largest file an import reads, in bytes (the spec
/// publishes it as the upload's `maxLength`).
pub const DEFAULT_IMPORT_MAX_BYTES: u64 = 100 * 1024 * 1024;

#[derive(Debug, Parser)]
#[command(name = "students-api", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the OpenAPI document as YAML and exit.
    Openapi,
    /// Import a CSV or NDJSON file of students into a running server (`importStudents`), with a
    /// progress bar; prints the report, and exits non-zero naming every bad row when the file
    /// is refused.
    Import(ImportArgs),
    /// Ask a running server on this machine whether it is ready (`GET /readyz`); exit 0 if it
    /// answers 200 within 3 s, else 1. For container health checks: the slim image has no curl.
    Healthcheck {
        /// What to ask. Default: `http://127.0.0.1:$PORT/readyz`.
        #[arg(long)]
        url: Option<String>,
    },
    /// Manage API tokens in the database directly (for the first token, and for operators).
    Token {
        #[command(subcommand)]
        action: TokenCommand,
    },
    /// Manage people's accounts in the database directly. A password is read from the
    /// terminal (asked twice, not echoed) or from standard input's first line, never from an
    /// argument, which other users of the machine could see.
    Account {
        #[command(subcommand)]
        action: AccountCommand,
    },
    /// Manage webhook endpoints in the database directly (the same rules as `/api/webhooks`,
    /// `WEBHOOK_ALLOWED_HOSTS` included). A running server picks changes up within a second.
    Webhook {
        #[command(subcommand)]
        action: WebhookCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Make an endpoint and print its signing secret (only the secret, on stdout), shown this
    /// once.
    Create {
        /// Where deliveries go: https (http only to a host in WEBHOOK_ALLOWED_HOSTS).
        #[arg(long)]
        url: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        description: String,
        /// An event it gets: student.created, student.updated, student.deleted. Repeat it;
        /// default: all three.
        #[arg(long = "event")]
        events: Vec<String>,
        /// Only changes to students in this grade. Repeat it; default: every grade.
        #[arg(long = "grade")]
        grades: Vec<String>,
    },
    /// List every endpoint with its health (never a secret).
    List,
    /// Print a new signing secret; the old one signs too for 24 hours.
    Rotate { id: i64 },
    /// Pause deliveries (the endpoint keeps its place).
    Disable { id: i64 },
    /// Resume deliveries from where they stopped.
    Enable { id: i64 },
    /// Delete an endpoint, with its queue and log.
    Delete { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Make an account; its password is asked for.
    Create {
        /// The sign-in name: 3–64 of a-z, 0-9, `.`, `_`, `-` (stored lower-cased).
        #[arg(long)]
        username: String,
        /// viewer (reads students), editor (and writes them), admin (everything).
        #[arg(long)]
        role: String,
        /// The name shown for the person (default: the username).
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Set an account's password (asked for); its sign-ins are revoked.
    Passwd { username: String },
    /// Disable an account: it cannot sign in, and its sign-ins are revoked.
    Disable { username: String },
    /// List every account (never a password hash).
    List,
}

/// `students-api import FILE`.
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// The file: CSV with a header row (`name,grade,email`) or NDJSON.
    pub file: std::path::PathBuf,
    /// The server's base URL.
    #[arg(
        long,
        env = "STUDENTS_API_URL",
        default_value = "http://localhost:3000"
    )]
    pub url: String,
    /// An API token with the scope `students:write`.
    #[arg(long, env = "STUDENTS_API_TOKEN", hide_env_values = true)]
    pub token: String,
    /// `csv` or `ndjson`; by default from the file's extension (`.ndjson`, `.jsonl`: NDJSON).
    #[arg(long)]
    pub format: Option<String>,
    /// Check every row and report, writing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the valid rows and report the others, instead of refusing the whole file.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Makes the import safe to retry: a retry with the same key and file writes nothing twice.
    #[arg(long)]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Make a token and print its secret (only the secret, on stdout: `TOKEN=$(…)` works). The
    /// secret is shown this once; only its hash is stored.
    Create {
        /// What the token is for (1–100 characters).
        #[arg(long)]
        name: String,
        /// A scope it holds: students:read, students:write, tokens:admin, accounts:admin,
        /// metrics:read, webhooks:admin. Repeat it.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// How long until it expires: a number and a unit, `s`, `m`, `h` or `d` (`30d`).
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// List every token (never a secret), newest first.
    List,
    /// Revoke a token: it is refused from then on.
    Revoke {
        /// The token's id, from `token list`.
        id: i64,
    },
}

/// Where to listen and which database to use.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// PostgreSQL URL. Unset: start the embedded PostgreSQL server instead.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// A direct connection to the primary, for what a transaction-pooling proxy cannot carry:
    /// the LISTENs of the change feed and the token cache, and migrations (their lock is held
    /// across transactions). Default: `DATABASE_URL`.
    #[arg(long, env = "DATABASE_LISTEN_URL", hide_env_values = true)]
    pub database_listen_url: Option<String>,
    /// A read replica for listing and exporting students. Everything that must see the latest
    /// write (get by id, ETags, idempotency, the change feed, tokens) stays on `DATABASE_URL`.
    /// Default: none, everything on `DATABASE_URL`.
    #[arg(long, env = "DATABASE_READ_URL", hide_env_values = true)]
    pub database_read_url: Option<String>,
    /// What `DATABASE_URL` points at: `direct` (PostgreSQL itself) or `transaction` (a pooler in
    /// transaction mode, such as PgBouncer's `pool_mode = transaction`). `transaction` sends no
    /// session settings and keeps no prepared statements across transactions, and reads the
    /// statement timeout from the pooler's `connect_query` (docs/operations.md, "Settings for several instances").
    #[arg(long, env = "DATABASE_POOLER", value_enum, default_value_t = Pooler::Direct)]
    pub database_pooler: Pooler,
    /// Most connections the service holds to PostgreSQL. More is not faster: past about four
    /// per core, connections only queue inside PostgreSQL (docs/performance.md,
    /// "What bounds it").
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: u32,
    /// Most client connections open at once; more wait to be accepted. Lowered to what the
    /// open-file limit allows (`ulimit -n`, less the pool size and 64 for files).
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Host names the service answers to (the `Host` header, any port), comma-separated; `*`
    /// answers to any. Default: the loopback names. Other hosts get a 400, so a web page cannot
    /// reach a local service by DNS rebinding. Liveness and readiness answer any host (probes
    /// use the pod's address).
    #[arg(long, env = "ALLOWED_HOSTS", value_delimiter = ',', default_value = "localhost,127.0.0.1,[::1]", value_parser = parse_host)]
    pub allowed_hosts: Vec<String>,
    /// Origins whose pages may call the API from a browser (CORS), comma-separated, such as
    /// `https://app.example.com,http://localhost:5173`. Empty: none.
    #[arg(long, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = parse_origin)]
    pub cors_allowed_origins: Vec<String>,
    /// Let requests without a token read students (get, list, export). Writes and token
    /// management always need a token.
    #[arg(long, env = "AUTH_ANONYMOUS_READ", default_value_t = false, action = clap::ArgAction::Set)]
    pub auth_anonymous_read: bool,
    /// Requests per minute each token may make (to `/api/`), per instance; 0: no limit.
    #[arg(long, env = "RATE_LIMIT_PER_MINUTE", default_value_t = 6_000)]
    pub rate_limit_per_minute: u32,
    /// Requests per minute each client address may make (to `/api/`) without a valid token:
    /// anonymous reads and failed authentication alike (a brute-force guard), per instance;
    /// 0: no limit.
    #[arg(long, env = "RATE_LIMIT_ANONYMOUS_PER_MINUTE", default_value_t = 60)]
    pub rate_limit_anonymous_per_minute: u32,
    /// How long a person's sign-in (`POST /api/auth/token`) lasts: a number and a unit, `s`,
    /// `m`, `h` or `d`; at most 365d (what a sign-in's `expires_in` publishes).
    #[arg(long, env = "SIGN_IN_LIFETIME", default_value = "12h", value_parser = parse_sign_in_lifetime)]
    pub sign_in_lifetime: std::time::Duration,
    /// Failed sign-ins per username in 15 minutes, counted across every instance; past it,
    /// 429. 0: no limit.
    #[arg(long, env = "SIGN_IN_FAILURES_PER_USERNAME", default_value_t = 10)]
    pub sign_in_failures_per_username: u32,
    /// Failed sign-ins per client address in 15 minutes, counted across every instance;
    /// past it, 429. 0: no limit.
    #[arg(long, env = "SIGN_IN_FAILURES_PER_ADDRESS", default_value_t = 30)]
    pub sign_in_failures_per_address: u32,
    /// How long changes to students are kept (the change feed and each student's history): a
    /// number and a unit, `s`, `m`, `h` or `d`.
    #[arg(long, env = "CHANGE_RETENTION", default_value = "7d", value_parser = parse_duration)]
    pub change_retention: std::time::Duration,
    /// The largest file `POST /api/students/import` reads, in bytes (other requests: 64 KiB).
    /// The upload is streamed, so this bounds how long an import runs, not its memory.
    #[arg(long, env = "IMPORT_MAX_BYTES", default_value_t = DEFAULT_IMPORT_MAX_BYTES, value_parser = clap::value_parser!(u64).range(1..))]
    pub import_max_bytes: u64,
    /// How long to keep serving after SIGTERM before closing the listener, with `/readyz`
    /// answering 503 and every HTTP/1 response closing its connection, so a load balancer
    /// stops sending requests first. Behind nginx, longer than its upstream `keepalive_timeout`;
    /// behind a balancer that probes `/readyz`, longer than its probe interval. `0`: close at
    /// once (one instance, nothing to drain to).
    #[arg(long, env = "SHUTDOWN_DRAIN", default_value = "0", value_parser = parse_drain)]
    pub shutdown_drain: std::time::Duration,
    /// `human` (the default) or `json`: one JSON object per line, for log shippers.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
    /// Also serve `GET /metrics` here, without a token, for in-cluster scraping
    /// (`0.0.0.0:9090`). The main listener serves it to tokens with `metrics:read` either way.
    #[arg(long, env = "METRICS_ADDRESS")]
    pub metrics_address: Option<String>,
    /// Hosts webhooks may reach over plain `http` and at internal addresses (loopback,
    /// private, link-local), comma-separated, compared without the port: `receiver.internal`,
    /// `127.0.0.1`, `[::1]`. Empty (the default): webhook URLs must be `https` to public
    /// addresses, checked when set and at every connection.
    #[arg(long, env = "WEBHOOK_ALLOWED_HOSTS", value_delimiter = ',', value_parser = parse_host)]
    pub webhook_allowed_hosts: Vec<String>,
    /// The waits between a webhook's attempts, comma-separated (each spread ±10%); after the
    /// last, the event has failed. Default: Standard Webhooks' schedule, about 3 days.
    #[arg(
        long,
        env = "WEBHOOK_RETRY_DELAYS",
        value_delimiter = ',',
        default_value = "5s,5m,30m,2h,5h,10h,14h,20h,24h",
        value_parser = parse_duration
    )]
    pub webhook_retry_delays: Vec<std::time::Duration>,
    /// A PEM file of certificate authorities that webhook receivers' certificates may chain
    /// to, trusted besides the built-in (Mozilla) roots: receivers behind an internal CA.
    /// Read at start-up; a file that holds no certificate stops it.
    #[arg(long, env = "WEBHOOK_CA_FILE")]
    pub webhook_ca_file: Option<std::path::PathBuf>,
}

/// What `DATABASE_URL` points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Pooler {
    /// PostgreSQL itself (or a session-mode pooler).
    Direct,
    /// A pooler that lends a server connection for one transaction at a time.
    Transaction,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// `30d`, `12h`, `90m`, `3600s`: a whole number above 0 and a unit.
pub fn parse_duration(raw: &str) -> Result<std::time::Duration, String> {
    let usage = || format!("`{raw}` is not a number and a unit (s, m, h, d), such as 30d");
    let unit = raw.chars().last().ok_or_else(usage)?;
    let count: u64 = raw[..raw.len() - unit.len_utf8()]
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(usage)?;
    let seconds = match unit {
        's' => Some(count),
        'm' => count.checked_mul(60),
        'h' => count.checked_mul(3_600),
        'd' => count.checked_mul(86_400),
        _ => None,
    };
    seconds
        .filter(|s| *s <= i64::MAX as u64 / 1_000)
        .map(std::time::Duration::from_secs)
        .ok_or_else(usage)
}

/// The longest a sign-in may last: the `maximum` of its published `expires_in`.
pub const MAX_SIGN_IN_LIFETIME: std::time::Duration = std::time::Duration::from_secs(365 * 86_400);

/// A duration as [`parse_duration`] reads it, up to [`MAX_SIGN_IN_LIFETIME`].
fn parse_sign_in_lifetime(raw: &str) -> Result<std::time::Duration, String> {
    let lifetime = parse_duration(raw)?;
    if lifetime > MAX_SIGN_IN_LIFETIME {
        return Err(format!("`{raw}` is longer than a sign-in may last (365d)"));
    }
    Ok(lifetime)
}

/// `0`, or a duration as [`parse_duration`] reads it.
fn parse_drain(raw: &str) -> Result<std::time::Duration, String> {
    if raw == "0" {
        Ok(std::time::Duration::ZERO)
    } else {
        parse_duration(raw)
    }
}

/// `duration` as [`parse_duration`] reads it, in the largest whole unit (`7d`, `90m`).
pub fn format_duration(duration: std::time::Duration) -> String {
    let seconds = duration.as_secs();
    match [(86_400, 'd'), (3_600, 'h'), (60, 'm')]
        .into_iter()
        .find(|(unit, _)| seconds > 0 && seconds.is_multiple_of(*unit))
    {
        Some((unit, letter)) => format!("{}{letter}", seconds / unit),
        None => format!("{seconds}s"),
    }
}

/// A host name as the `Host` header carries it, without a port (any port is allowed),
/// lower-cased; or `*`. `:` only inside an IPv6 address's brackets.
fn parse_host(raw: &str) -> Result<String, String> {
    let host = raw.trim().to_ascii_lowercase();
    if host == "*" || is_host_name(&host) {
        Ok(host)
    } else {
        Err(format!(
            "`{raw}` is not a host name like api.example.com (no port: every port is allowed)"
        ))
    }
}

/// Whether `host` is a host name without a port: letters, digits, `-` and `.`, or an IPv6
/// address in brackets. The one rule for `ALLOWED_HOSTS` entries and the hosts requests name.
pub fn is_host_name(host: &str) -> bool {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => {
            !inner.is_empty()
                && inner
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b":.".contains(&b))
        }
        None => {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b))
        }
    }
}

/// An origin is `scheme://host[:port]`: no path, no wildcard, nothing a header cannot carry.
fn parse_origin(raw: &str) -> Result<String, String> {
    let origin = raw.trim().trim_end_matches('/');
    let valid = origin.split_once("://").is_some_and(|(scheme, host)| {
        matches!(scheme, "http" | "https")
            && !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    });
    if valid {
        Ok(origin.to_owned())
    } else {
        Err(format!(
            "`{raw}` is not an origin like https://app.example.com"
        ))
    }
}

#[cfg(test)]
mod host_tests {
    use clap::Parser;

    use super::{Cli, format_duration, parse_duration, parse_host, parse_sign_in_lifetime};

    #[test]
    fn durations_read_back_as_written() {
        for written in ["7d", "12h", "90m", "45s", "1d"] {
            let parsed = parse_duration(written).unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(format_duration(parsed), written);
        }
        assert_eq!(format_duration(std::time::Duration::from_secs(3_600)), "1h");
    }

    #[test]
    fn the_documented_defaults_for_auth_limits_and_retention() {
        let cli = Cli::try_parse_from(["students-api"]).unwrap_or_else(|err| panic!("{err}"));
        let config = cli.config;
        assert!(!config.auth_anonymous_read);
        assert_eq!(config.rate_limit_per_minute, 6_000);
        assert_eq!(config.rate_limit_anonymous_per_minute, 60);
        assert_eq!(
            config.change_retention,
            std::time::Duration::from_secs(7 * 86_400)
        );
        assert_eq!(
            parse_duration("90m"),
            Ok(std::time::Duration::from_secs(5_400))
        );
        assert!(parse_duration("0d").is_err() && parse_duration("7w").is_err());
        // A sign-in's `expires_in` is published up to a year.
        assert!(parse_sign_in_lifetime("365d").is_ok() && parse_sign_in_lifetime("366d").is_err());
    }

    #[test]
    fn allowed_hosts_are_names_or_bracketed_addresses_without_ports() {
        assert_eq!(
            parse_host(" API.example.com "),
            Ok("api.example.com".to_owned())
        );
        assert_eq!(parse_host("[::1]"), Ok("[::1]".to_owned()));
        assert_eq!(parse_host("*"), Ok("*".to_owned()));
        // A port would never match: the request's port is not compared.
        for bad in ["api.example.com:8443", "::1", "", "a b", "[]"] {
            assert!(parse_host(bad).is_err(), "{bad}");
        }
    }
}
