//! What every response gets: request ids, security headers, CORS from the allow-list, a 500
//! problem for a panic, and a bounded statement time.

use poem::{EndpointExt, Route, Server, get, handler, listener::TcpListener};
use reqwest::{Method, header};
use students_api::middleware;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn every_response_has_a_request_id_and_problems_quote_it() {
    let app = spawn_app().await;
    let ok = app.get("/api/students").await;
    let first = ok.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(first.len(), 32, "a fresh random id: {first}");
    let again = app.get("/api/students").await;
    assert_ne!(
        again.headers()["x-request-id"],
        first.as_str(),
        "one id per request"
    );

    // A caller's own id is kept, so one id follows a request across services...
    let traced = app
        .client
        .get(app.url("/api/students/999999"))
        .header("x-request-id", "frontend-42.a:b_c")
        .send()
        .await
        .unwrap();
    let problem = assert_problem(traced, 404).await;
    assert_eq!(problem["request_id"], "frontend-42.a:b_c");

    // ...unless it is not a sane token: then it is replaced, never echoed.
    for bad in ["has space", "<script>", &"x".repeat(65)] {
        let response = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", bad)
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(id.len(), 32, "{bad:?} replaced by {id}");
    }
}

#[tokio::test]
async fn security_headers_are_on_every_response_and_data_is_never_cached() {
    let app = spawn_app().await;
    for path in ["/api/students", "/api/nowhere", "/openapi.json", "/healthz"] {
        let response = app.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(
            headers["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
    }
    let list = app.get("/api/students").await;
    assert_eq!(list.headers()["cache-control"], "no-store");
    let created = app.create_student("Ada Lovelace", "A", None).await;
    let one = app.get(&format!("/api/students/{}", created["id"])).await;
    assert_eq!(one.headers()["cache-control"], "no-store");

    // The docs pages run scripts, so they get no CSP (and still nosniff).
    let docs = app.get("/docs").await;
    assert_eq!(docs.status(), 200);
    assert!(docs.headers().get("content-security-policy").is_none());
    assert_eq!(docs.headers()["x-content-type-options"], "nosniff");
}

#[tokio::test]
async fn cors_answers_only_the_allowed_origins() {
    let allowed = "https://app.example.com";
    let app = spawn_app_with(|config| config.cors_allowed_origins = vec![allowed.to_owned()]).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/api/students"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(
                header::ACCESS_CONTROL_REQUEST_HEADERS,
                "authorization, content-type, idempotency-key, if-match",
            )
            .send()
    };
    // An error inside CORS is a problem too, not poem's plain text.
    let refused = app
        .client
        .get(app.url("/api/students?limit=0"))
        .header(header::ORIGIN, allowed)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.headers()["access-control-allow-origin"], allowed);
    assert_problem(refused, 422).await;
    let unknown = app
        .client
        .get(app.url("/nowhere"))
        .header(header::ORIGIN, allowed)
        .send()
        .await
        .unwrap();
    assert_problem(unknown, 404).await;

    let ok = preflight(allowed).await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], allowed);

    let simple = app
        .client
        .get(app.url("/api/students"))
        .header(header::ORIGIN, allowed)
        .send()
        .await
        .unwrap();
    assert_eq!(simple.headers()["access-control-allow-origin"], allowed);
    let exposed = simple.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for header in ["location", "etag", "x-request-id"] {
        assert!(exposed.contains(header), "{header} exposed: {exposed}");
    }

    let refused = preflight("https://evil.example").await.unwrap();
    let problem = assert_problem(refused, 403).await;
    assert_eq!(problem["type"], "urn:students-api:problem:forbidden");

    // With no allow-list (the default), no CORS headers at all.
    let closed = spawn_app().await;
    let response = closed
        .client
        .get(closed.url("/api/students"))
        .header(header::ORIGIN, allowed)
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[handler]
fn boom() -> &'static str {
    panic!("a handler bug")
}

#[tokio::test]
async fn a_panicking_handler_is_a_logged_500_problem_not_a_dropped_connection() {
    let listener = TcpListener::bind("127.0.0.1:0");
    let acceptor = poem::listener::Listener::into_acceptor(listener)
        .await
        .unwrap();
    let port = poem::listener::Acceptor::local_addr(&acceptor)[0]
        .as_socket_addr()
        .unwrap()
        .port();
    let routes = Route::new().at("/boom", get(boom)).map_to_response();
    tokio::spawn(
        Server::new_with_acceptor(acceptor).run(middleware::Front::new(
            routes,
            &["*".to_owned()],
            &[],
        )),
    );

    let response = reqwest::get(format!("http://127.0.0.1:{port}/boom"))
        .await
        .unwrap();
    let problem = assert_problem(response, 500).await;
    assert_eq!(problem["type"], "urn:students-api:problem:internal-error");
    assert!(
        !problem.to_string().contains("a handler bug"),
        "the panic message stays in the log: {problem}"
    );
}

#[tokio::test]
async fn a_statement_past_the_timeout_is_cancelled_and_answers_503() {
    let app = spawn_app().await;
    // Another session holds the table, so the list's query waits until the statement timeout
    // (5 s) cancels it.
    let mut blocker = app.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE students IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *blocker)
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let response = app.get("/api/students").await;
    let waited = started.elapsed();

    let problem = assert_problem(response, 503).await;
    assert_eq!(
        problem["type"],
        "urn:students-api:problem:service-unavailable"
    );
    println!("a blocked list answered 503 after {waited:?} (statement timeout 5 s)");
    assert!(
        waited >= std::time::Duration::from_secs(4) && waited < std::time::Duration::from_secs(30),
        "cancelled by the statement timeout, not at once and not never: {waited:?}"
    );
    blocker.rollback().await.unwrap();
}
