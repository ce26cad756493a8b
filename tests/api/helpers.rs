//! `spawn_app()` and friends: each test gets its own database (dropped when the test ends) and
//! its own server on port 0, and the verbs the tests keep using.

use std::sync::{Mutex, OnceLock};

use reqwest::{Client, Response};
use serde_json::{Value, json};
use sqlx::PgPool;
use students_api::{config::Config, embedded_pg::EmbeddedPostgres, startup::Application};

/// The throwaway server of this test run, when there is no `DATABASE_URL`.
static EMBEDDED: Mutex<Option<EmbeddedPostgres>> = Mutex::new(None);

/// The PostgreSQL server the tests create their databases on: a URL to its maintenance database.
fn server_url() -> &'static str {
    static SERVER: OnceLock<String> = OnceLock::new();
    SERVER.get_or_init(|| {
        let _ = dotenvy::dotenv();
        if std::env::var_os("TEST_LOG").is_some() {
            students_api::telemetry::init(false);
        }
        if let Ok(url) = std::env::var("DATABASE_URL") {
            return url;
        }
        let pg = EmbeddedPostgres::start_throwaway()
            .unwrap_or_else(|err| panic!("tests need PostgreSQL: {err}"));
        let url = pg.url("postgres");
        *EMBEDDED.lock().unwrap() = Some(pg);
        stop_embedded_at_exit();
        url
    })
}

/// Statics are never dropped, so without this the throwaway server's data (about 1 GB after a
/// full run) would stay in the temporary directory until the next run.
#[allow(unsafe_code)]
fn stop_embedded_at_exit() {
    extern "C" fn stop() {
        if let Some(pg) = EMBEDDED.lock().ok().and_then(|mut pg| pg.take()) {
            pg.stop();
        }
    }
    // SAFETY: `stop` is a plain function that lives as long as the process; libtest's exit
    // (passed or failed) runs it once, while the other threads still exist.
    unsafe {
        libc::atexit(stop);
    }
}

/// A URL for a brand-new, empty database on the test server.
pub fn fresh_database_url() -> String {
    let mut url = url::Url::parse(server_url()).expect("a valid DATABASE_URL");
    url.set_path(&format!("students_test_{}", uuid::Uuid::new_v4().simple()));
    url.to_string()
}

/// Drops the database at `url` (and ends its sessions). Runs on a thread of its own with its
/// own runtime, so it works from `Drop` inside any test runtime.
pub fn drop_database(url: &str) {
    let Some(name) = url::Url::parse(url)
        .ok()
        .map(|u| u.path().trim_start_matches('/').to_owned())
        .filter(|name| name.starts_with("students_test_"))
    else {
        return;
    };
    let server = server_url().to_owned();
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        runtime.block_on(async {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
                .await
                .ok()?;
            // The name is ours (`students_test_<uuid>`, checked above), not outside input.
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
            )))
            .execute(&mut conn)
            .await
            .ok()
        })
    })
    .join();
    if !matches!(dropped, Ok(Some(_))) {
        eprintln!("could not drop the test database {url}");
    }
}

#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    /// Sends the app's [`TestApp::token`] with every request.
    pub client: Client,
    /// Sends no token.
    pub anonymous: Client,
    /// A token with every scope (when the database was down at start, one it does not know).
    pub token: String,
    pub pool: PgPool,
    /// Dropped with the app, so test databases do not pile up on a `DATABASE_URL` server.
    database_url: Option<String>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(url) = self.database_url.take() {
            drop_database(&url);
        }
    }
}

/// Starts the service on a fresh, migrated database, the way `main` does.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// The defaults, on a free port of loopback, with `database_url`.
pub fn test_config(database_url: Option<String>) -> Config {
    Config {
        host: "127.0.0.1".into(),
        port: 0,
        database_url,
        database_pool_size: 10,
        max_connections: 10_000,
        allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "[::1]".into()],
        cors_allowed_origins: Vec::new(),
        auth_anonymous_read: false,
        // Tests send thousands of requests a minute; the rate-limit tests set their own.
        rate_limit_per_minute: 0,
        rate_limit_anonymous_per_minute: 0,
        sign_in_lifetime: std::time::Duration::from_secs(12 * 3600),
        sign_in_failures_per_username: 10,
        sign_in_failures_per_address: 30,
        change_retention: std::time::Duration::from_secs(7 * 86_400),
        import_max_bytes: 100 * 1024 * 1024,
        database_listen_url: None,
        database_read_url: None,
        database_pooler: students_api::config::Pooler::Direct,
        log_format: students_api::config::LogFormat::Human,
        metrics_address: None,
        shutdown_drain: std::time::Duration::ZERO,
        webhook_allowed_hosts: Vec::new(),
        webhook_retry_delays: students_api::domain::RETRY_DELAYS.to_vec(),
        webhook_ca_file: None,
    }
}

/// [`spawn_app`] with some settings changed first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_adjusted(configure, |_| {}).await
}

/// [`spawn_app`] with other connection limits (short ones, to see them act).
pub async fn spawn_app_with_limits(limits: students_api::server::ConnectionLimits) -> TestApp {
    spawn_app_adjusted(|_| {}, |app| app.set_connection_limits(limits)).await
}

/// [`spawn_app`] with settings changed before it is built and the application adjusted after.
pub async fn spawn_app_adjusted(
    configure: impl FnOnce(&mut Config),
    adjust: impl FnOnce(&mut Application),
) -> TestApp {
    let mut config = test_config(Some(fresh_database_url()));
    configure(&mut config);
    let database_url = config.database_url.clone();
    let mut app = Application::build(config).await.expect("the app starts");
    adjust(&mut app);
    let mut app = serve(app).await;
    app.database_url = database_url;
    app
}

/// An app on a PostgreSQL server of its own, for tests that depend on every transaction the
/// server runs: the change feed's horizon (and so pruning) waits for any transaction it cannot
/// place in another database (on the shared server it was held back for seconds).
pub async fn spawn_app_on_own_server() -> (TestApp, EmbeddedPostgres) {
    let pg = tokio::task::spawn_blocking(EmbeddedPostgres::start_throwaway)
        .await
        .unwrap()
        .unwrap();
    let config = test_config(Some(pg.url("students")));
    let app = serve(Application::build(config).await.unwrap()).await;
    (app, pg)
}

/// A second instance of `first`'s service on the same database, as in a deployment of several.
pub async fn spawn_second_instance(first: &TestApp) -> TestApp {
    let url = first
        .database_url()
        .expect("a database of its own")
        .to_owned();
    serve(
        Application::build(test_config(Some(url)))
            .await
            .expect("the app starts"),
    )
    .await
}

/// Starts the service on an already-built application (for odd set-ups such as a dead database),
/// with a token of every scope for [`TestApp::client`] to send.
pub async fn serve(app: Application) -> TestApp {
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool().clone();
    // With the database away, a well-formed secret it does not know: the service cannot judge
    // it until it reads its tokens, so requests meet the database's absence (503), not a 401.
    let made = tokio::time::timeout(
        std::time::Duration::from_secs(1),
        make_token(&pool, &students_api::domain::SCOPES),
    )
    .await
    .ok()
    .flatten();
    let token = match made {
        Some(token) => {
            app.reload_tokens().await.expect("the token cache loads");
            token
        }
        None => students_api::domain::TokenSecret::generate()
            .expect("randomness")
            .expose()
            .to_owned(),
    };
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: client_with_token(&token),
        anonymous: Client::new(),
        token,
        pool,
        database_url: None,
    }
}

/// A new token with `scopes`, straight in the database; `None` if the database is down.
pub async fn make_token(pool: &PgPool, scopes: &[students_api::domain::Scope]) -> Option<String> {
    let name = students_api::domain::TokenName::parse("test token").expect("a name");
    students_api::db::create_token(pool, &name, scopes, None)
        .await
        .ok()
        .map(|(_, secret)| secret.expose().to_owned())
}

/// `request` (raw HTTP/1.1) with `Authorization: Bearer <token>` after its request line.
pub fn with_token(token: &str, request: &[u8]) -> Vec<u8> {
    let line_end = request
        .windows(2)
        .position(|w| w == b"\r\n")
        .map_or(request.len(), |at| at + 2);
    let mut out = request[..line_end].to_vec();
    out.extend_from_slice(format!("Authorization: Bearer {token}\r\n").as_bytes());
    out.extend_from_slice(&request[line_end..]);
    out
}

/// A client that sends `Authorization: Bearer <token>` with every request.
pub fn client_with_token(token: &str) -> Client {
    builder_with_token(token).build().expect("a client")
}

/// A client builder whose clients send `Authorization: Bearer <token>` with every request.
pub fn builder_with_token(token: &str) -> reqwest::ClientBuilder {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Ok(value) = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(reqwest::header::AUTHORIZATION, value);
    }
    Client::builder().default_headers(headers)
}

impl TestApp {
    /// Prunes the changes older than `retention`, as the job does, until none is left (at
    /// most 30 s), and returns how many changes went in all.
    ///
    /// Not "how many this call deleted": the app's own pruning job runs at start-up, and when
    /// its first round comes late (a slow connection under CI's load) it can take the rows a
    /// test has just aged, leaving the test's own call nothing to do, for good. That is the
    /// one cause found for CI's "pruned 0 for over 5 s" failures on a server where nothing
    /// else ran (no transaction of ours lives that long). So: changes gone, by whoever pruned.
    pub async fn prune_changes(&self, retention: std::time::Duration) -> u64 {
        let count = || async {
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT count(*), count(*) FILTER (WHERE changed_at < now() - make_interval(secs => $1)) \
                 FROM student_changes",
            )
            .bind(retention.as_secs_f64())
            .fetch_one(&self.pool)
            .await
            .unwrap()
        };
        let (before, _) = count().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            students_api::db::prune_changes(&self.pool, retention)
                .await
                .unwrap();
            let (now, expired) = count().await;
            if expired == 0 {
                return u64::try_from(before - now).unwrap();
            }
            if std::time::Instant::now() > deadline {
                let running: Vec<String> = sqlx::query_scalar(
                    "SELECT concat_ws(' | ', datname, backend_type, backend_xid::text, \
                     backend_xmin::text, left(query, 80)) FROM pg_stat_activity \
                     WHERE backend_xid IS NOT NULL OR backend_xmin IS NOT NULL",
                )
                .fetch_all(&self.pool)
                .await
                .unwrap_or_default();
                panic!("{expired} expired changes still kept after 30 s; running: {running:#?}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// The database this app was given (and drops at the end), if any.
    pub fn database_url(&self) -> Option<&str> {
        self.database_url.as_deref()
    }

    /// A raw HTTP/1.1 request with `Authorization: Bearer <token>` added after its first line.
    pub fn authorized(&self, request: &[u8]) -> Vec<u8> {
        with_token(&self.token, request)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `/api/students/{id}` for a student as the API returned it.
    pub fn student_path(student: &Value) -> String {
        format!("/api/students/{}", student["id"])
    }

    pub async fn put_student(&self, student: &Value, body: &Value) -> Response {
        self.send_json(reqwest::Method::PUT, &Self::student_path(student), body)
            .await
    }

    pub async fn patch_student(&self, student: &Value, body: &Value) -> Response {
        self.send_json(reqwest::Method::PATCH, &Self::student_path(student), body)
            .await
    }

    pub async fn delete_student(&self, student: &Value) -> Response {
        self.client
            .delete(self.url(&Self::student_path(student)))
            .send()
            .await
            .expect("request sent")
    }

    /// A create with an `Idempotency-Key`.
    pub async fn post_with_key(&self, key: &str, body: &Value) -> Response {
        self.client
            .post(self.url("/api/students"))
            .header("idempotency-key", key)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Every item of every page of `path` (which has no `cursor`), following `next_cursor`.
    pub async fn walk_pages(&self, path: &str) -> Vec<Value> {
        walk_pages(&self.client, &self.address, path, async |_, _| {})
            .await
            .0
    }

    pub async fn post_student(&self, body: &Value) -> Response {
        self.send_json(reqwest::Method::POST, "/api/students", body)
            .await
    }

    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: &Value) -> Response {
        self.client
            .request(method, self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn send_raw(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        request.send().await.expect("request sent")
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// Creates a student and returns its JSON; panics unless the API answered 201.
    pub async fn create_student(&self, name: &str, grade: &str, email: Option<&str>) -> Value {
        let response = self
            .post_student(&json!({"name": name, "grade": grade, "email": email}))
            .await;
        assert_eq!(response.status(), 201, "creating {name}");
        response.json().await.expect("a JSON student")
    }

    pub async fn student_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM students")
            .fetch_one(&self.pool)
            .await
            .expect("count students")
    }
}

/// Asserts a problem+json response with `status`, and returns its body.
pub async fn assert_problem(response: Response, status: u16) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.expect("a JSON problem");
    assert_eq!(body["status"], status);
    for member in ["type", "title", "detail"] {
        assert!(body[member].is_string(), "problem has `{member}`: {body}");
    }
    assert!(!request_id.is_empty());
    assert_eq!(body["request_id"], request_id.as_str(), "the header's id");
    body
}

/// The `(location, code)` pairs of a problem's `errors`, in order.
pub fn error_locations(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["location"].as_str().unwrap_or_default().to_owned(),
                e["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

pub fn pair(location: &str, code: &str) -> (String, String) {
    (location.to_owned(), code.to_owned())
}

/// Every item of every page of `base` + `path` (which has no `cursor`), following
/// `next_cursor`, and the number of pages. `between` runs after each page, with the page number
/// and the items so far, to change the data mid-walk.
pub async fn walk_pages(
    client: &Client,
    base: &str,
    path: &str,
    mut between: impl AsyncFnMut(usize, &[Value]),
) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let separator = if path.contains('?') { '&' } else { '?' };
    for page_number in 1.. {
        let url = match &cursor {
            Some(c) => format!("{base}{path}{separator}cursor={c}"),
            None => format!("{base}{path}"),
        };
        let response = client.get(&url).send().await.expect("request sent");
        assert_eq!(response.status(), 200, "{url}");
        let page: Value = response.json().await.expect("a JSON page");
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        between(page_number, &items).await;
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return (items, page_number),
        }
        assert!(page_number < 10_000, "the walk ends");
    }
    unreachable!("the loop returns")
}
