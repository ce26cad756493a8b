//! `spawn_app()` and friends: each test gets its own database and its own server on port 0.

use std::sync::OnceLock;

use reqwest::{Client, Response};
use serde_json::{Value, json};
use sqlx::PgPool;
use students_api::{config::Config, embedded_pg::EmbeddedPostgres, startup::Application};

/// The PostgreSQL server the tests create their databases on: a URL to its maintenance database.
fn server_url() -> &'static str {
    static SERVER: OnceLock<(String, Option<EmbeddedPostgres>)> = OnceLock::new();
    &SERVER
        .get_or_init(|| {
            let _ = dotenvy::dotenv();
            if std::env::var_os("TEST_LOG").is_some() {
                students_api::telemetry::init();
            }
            match std::env::var("DATABASE_URL") {
                Ok(url) => (url, None),
                Err(_) => match EmbeddedPostgres::start_throwaway() {
                    Ok(pg) => (pg.url("postgres"), Some(pg)),
                    Err(err) => panic!("tests need PostgreSQL: {err}"),
                },
            }
        })
        .0
}

/// A URL for a brand-new, empty database on the test server.
pub fn fresh_database_url() -> String {
    let mut url = url::Url::parse(server_url()).expect("a valid DATABASE_URL");
    url.set_path(&format!("students_test_{}", uuid::Uuid::new_v4().simple()));
    url.to_string()
}

#[derive(Debug)]
pub struct TestApp {
    pub address: String,
    pub client: Client,
    pub pool: PgPool,
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
        cors_allowed_origins: Vec::new(),
    }
}

/// [`spawn_app`] with some settings changed first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Config)) -> TestApp {
    let mut config = test_config(Some(fresh_database_url()));
    configure(&mut config);
    let app = Application::build(config).await.expect("the app starts");
    serve(app)
}

/// Starts the service on an already-built application (for odd set-ups such as a dead database).
pub fn serve(app: Application) -> TestApp {
    let address = format!("http://127.0.0.1:{}", app.port());
    let pool = app.pool().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: Client::new(),
        pool,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
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
