//! The admin console at `/admin`: the files `admin/build.mjs` writes to `admin/dist/`
//! (committed, so building the service needs no Node), embedded in the binary. Out of the
//! OpenAPI document; the console talks to the API like any other client.
//!
//! `/admin/assets/*` are named by the hash of their content and cached for a year; every other
//! path under `/admin` is the console's one page (it routes in the browser), never cached, so
//! a new release is picked up at the next visit. The page's own policy lets it run only its
//! own script and style, talk only to this origin, and be framed by nobody.

use poem::{
    Endpoint, Request, Response,
    http::{HeaderValue, Method, StatusCode, header},
};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "admin/dist"]
struct Assets;

/// Where the console lives.
pub const PATH: &str = "/admin";

/// No inline script or style, no eval, nothing from elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; \
     base-uri 'none'; frame-ancestors 'none'";

/// Whether `path` is the console's (its page or its assets).
pub fn is_console_path(path: &str) -> bool {
    path.strip_prefix(PATH)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Answers every path under `/admin`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Console;

impl Endpoint for Console {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if request.method() != Method::GET && request.method() != Method::HEAD {
            return Ok(Response::builder()
                .status(StatusCode::METHOD_NOT_ALLOWED)
                .header(header::ALLOW, "GET, HEAD")
                .finish());
        }
        // Under `Route::nest` the path arrives without the prefix; alone, with it.
        let path = request.uri().path();
        let rest = path.strip_prefix(PATH).unwrap_or(path);
        let response = match rest.strip_prefix("/assets/") {
            Some(name) => asset(name),
            None => page(),
        };
        Ok(with_policy(response))
    }
}

fn asset(name: &str) -> Response {
    let Some(file) = Assets::get(&format!("assets/{name}")) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .content_type("text/plain; charset=utf-8")
            .body("no such file");
    };
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => "application/octet-stream",
    };
    Response::builder()
        .content_type(content_type)
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .body(file.data.into_owned())
}

fn page() -> Response {
    match Assets::get("index.html") {
        Some(file) => Response::builder()
            .content_type("text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-cache")
            .body(file.data.into_owned()),
        // Only a build from a checkout without admin/dist: say what to run.
        None => Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .content_type("text/plain; charset=utf-8")
            .body("the admin console was not built: run scripts/generate"),
    }
}

fn with_policy(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_paths_are_admin_and_below_only() {
        assert!(is_console_path("/admin"));
        assert!(is_console_path("/admin/"));
        assert!(is_console_path("/admin/students/3"));
        assert!(!is_console_path("/administrator"));
        assert!(!is_console_path("/api/admin"));
    }
}
