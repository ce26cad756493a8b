//! The peer: GET /api/students/{id}, GET /api/students?limit&cursor, POST /api/students.
use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, PgPool, postgres::PgPoolOptions};

const GRADES: [&str; 11] = ["A+", "A", "A-", "B+", "B", "B-", "C+", "C", "C-", "D", "F"];
macro_rules! columns {
    () => {
        "id, name, grade, email, created_at, updated_at"
    };
}
const GET: &str = concat!("SELECT ", columns!(), " FROM students WHERE id = $1");
const LIST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM students WHERE ($1::bigint IS NULL OR id > $1) ORDER BY id LIMIT $2"
);
const INSERT: &str = concat!(
    "INSERT INTO students (name, grade, email) VALUES ($1, $2, $3) RETURNING ",
    columns!()
);

#[derive(Serialize, FromRow)]
struct Student {
    id: i64,
    name: String,
    grade: String,
    email: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct NewStudent {
    name: String,
    grade: String,
    email: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    limit: Option<i64>,
    cursor: Option<String>,
}

fn error(status: StatusCode, detail: &str) -> Response {
    (status, Json(serde_json::json!({"status": status.as_u16(), "detail": detail}))).into_response()
}

async fn get_student(State(pool): State<PgPool>, Path(id): Path<i64>) -> Response {
    match sqlx::query_as::<_, Student>(GET).bind(id).fetch_optional(&pool).await {
        Ok(Some(student)) => Json(student).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "not found"),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "database"),
    }
}

async fn list_students(State(pool): State<PgPool>, Query(page): Query<Page>) -> Response {
    let limit = page.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "limit");
    }
    let after = match page.cursor {
        None => None,
        Some(cursor) => match URL_SAFE_NO_PAD
            .decode(cursor)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("id:")?.parse::<i64>().ok())
        {
            Some(after) => Some(after),
            None => return error(StatusCode::UNPROCESSABLE_ENTITY, "cursor"),
        },
    };
    match sqlx::query_as::<_, Student>(LIST).bind(after).bind(limit + 1).fetch_all(&pool).await {
        Ok(mut items) => {
            let next = if items.len() as i64 > limit {
                items.truncate(limit as usize);
                items.last().map(|s| URL_SAFE_NO_PAD.encode(format!("id:{}", s.id)))
            } else {
                None
            };
            Json(serde_json::json!({"items": items, "next_cursor": next})).into_response()
        }
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "database"),
    }
}

async fn create_student(State(pool): State<PgPool>, Json(body): Json<NewStudent>) -> Response {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 || !GRADES.contains(&body.grade.as_str()) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    }
    let email = body.email.map(|e| e.trim().to_lowercase());
    if email.as_ref().is_some_and(|e| !e.contains('@') || e.len() > 254) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "email");
    }
    match sqlx::query_as::<_, Student>(INSERT).bind(name).bind(&body.grade).bind(email).fetch_one(&pool).await {
        Ok(student) => (StatusCode::CREATED, Json(student)).into_response(),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => error(StatusCode::CONFLICT, "email"),
        Err(_) => error(StatusCode::SERVICE_UNAVAILABLE, "database"),
    }
}

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL");
    let port = std::env::var("PORT").unwrap_or_else(|_| "3001".into());
    let pool = PgPoolOptions::new().max_connections(10).connect(&url).await.expect("database");
    let app = Router::new()
        .route("/api/students", get(list_students).post(create_student))
        .route("/api/students/{id}", get(get_student))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.expect("port");
    axum::serve(listener, app).await.expect("serve");
}
