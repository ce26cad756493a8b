//! What every request passes ([`Front`], [`DatabaseGate`]) and every response gets, whichever
//! route answered it: a request id (in `X-Request-Id`, the access log line and every problem
//! body), security headers, CORS from an allow-list, and a logged 500 problem instead of a
//! dropped connection when a handler panics.

use std::{
    any::Any,
    panic::AssertUnwindSafe,
    sync::{Arc, LazyLock},
    time::{Duration, Instant},
};

use futures_util::FutureExt;
use poem::{
    Endpoint, EndpointExt, Request, Response,
    endpoint::BoxEndpoint,
    http::{Extensions, HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::Cors,
};
use tracing::Instrument;

use crate::{
    admin,
    api::{rejections, state::Draining},
    config,
    db::{self, MigrationState},
    domain::Code,
    error::{ApiError, FieldError},
    openapi,
    request_id::{self, HEADER as REQUEST_ID_HEADER},
    telemetry,
};

/// Everything a request passes on its way to its route and back, in one endpoint: the host
/// check, the request id and log span, the parameter checks, metrics, the values the routes
/// read (`Data<…>`), panics and errors as problems, the security headers and, while the
/// instance drains, `Connection: close`.
///
/// One hand-written endpoint, not a stack of poem layers: each layer (`around`, `with`,
/// `data`, `catch_all_error`) is an `async` state that takes the 472-byte request by value and
/// holds the future inside it: a request's future had grown to 31 KB, copied into boxes and
/// between layers on every request (`bench/results/2026-11-26-speed-2.md`).
pub struct Front {
    /// The routes, behind CORS when origins are allowed; boxed, so this future stays small.
    routes: BoxEndpoint<'static, Response>,
    allowed_hosts: Arc<[String]>,
    /// What every request carries for the routes' `Data` extractors (pools, caches).
    shared: Extensions,
    draining: Draining,
}

impl std::fmt::Debug for Front {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Front")
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

impl Front {
    /// `allowed_origins` empty: no CORS headers at all, so browsers keep pages of other
    /// origins out.
    pub fn new<E: Endpoint + 'static>(
        routes: E,
        allowed_hosts: &[String],
        allowed_origins: &[String],
    ) -> Self {
        let routes = if allowed_origins.is_empty() {
            routes.map_to_response().boxed()
        } else {
            // Errors become problems inside CORS: poem's Cors turns an error from the routes
            // into its own plain-text response before we could see it.
            routes
                .catch_all_error(problem_response)
                .with(cors(allowed_origins))
                .map_to_response()
                .boxed()
        };
        Self {
            routes,
            allowed_hosts: allowed_hosts.into(),
            shared: Extensions::new(),
            draining: Draining::default(),
        }
    }

    /// Every request carries a clone of `value` (`Data<&T>` in a handler).
    #[must_use]
    pub fn data<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.shared.insert(value);
        self
    }

    /// While `draining` is on, HTTP/1 responses close their connection (see [`Draining`]).
    #[must_use]
    pub fn draining(mut self, draining: Draining) -> Self {
        self.draining = draining;
        self
    }
}

impl Endpoint for Front {
    type Output = Response;

    async fn call(&self, mut request: Request) -> poem::Result<Response> {
        // Two ids are no id: which one the caller meant cannot be told.
        let mut ids = request.headers().get_all(REQUEST_ID_HEADER).iter();
        let id = request_id::from_header(match (ids.next(), ids.next()) {
            (Some(id), None) => id.to_str().ok(),
            _ => None,
        });
        let refused = host_refused(&request, &self.allowed_hosts);
        request.extensions_mut().extend(self.shared.clone());
        // While draining, the balancer opens a new connection for its next request; once the
        // drain outlasts its idle keep-alive, no connection it might reuse is left when the
        // listener closes. (HTTP/2 connections get a GOAWAY at the end instead; `Connection`
        // is not an HTTP/2 header.)
        let http1 = request.version() < poem::http::Version::HTTP_2;
        let has_body = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0")
            || request.headers().contains_key(header::TRANSFER_ENCODING);
        let mut response = request_id::scope(id.clone(), self.answer(request, id, refused)).await;
        // A refusal may come before the body is read (a 401, a 415, a 503): hyper then closes
        // the connection rather than read what is left, and a keep-alive client that already
        // sent its next request on it gets no answer at all. Saying so lets it open another.
        // (400, 409, 412 and 422 come after the body was read.)
        let status = response.status().as_u16();
        let refused_early = has_body && status >= 400 && !matches!(status, 400 | 409 | 412 | 422);
        if http1 && (self.draining.is_on() || refused_early) {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(response)
    }
}

/// The API's gate to the database: `503` until the migrations are applied, and at once while
/// the breaker knows the database is away; a `503` from the API makes the breaker look.
/// Liveness (`/healthz`) passes: it never needs the database. Errors are rendered as problems
/// here, so the gatekeeper outside adds its headers to poem's rejections too.
pub struct DatabaseGate {
    api: BoxEndpoint<'static, Response>,
    migrations: MigrationState,
    health: db::Health,
}

impl std::fmt::Debug for DatabaseGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseGate").finish_non_exhaustive()
    }
}

impl DatabaseGate {
    pub fn new(
        api: BoxEndpoint<'static, Response>,
        migrations: MigrationState,
        health: db::Health,
    ) -> Self {
        Self {
            api,
            migrations,
            health,
        }
    }
}

/// A request still unanswered after this makes the breaker check the database now: it may be
/// waiting for a connection the pool cannot open (sqlx retries a refused connect until the
/// acquire timeout, and says nothing meanwhile).
pub const SUSPECT_AFTER: Duration = Duration::from_millis(50);

impl Endpoint for DatabaseGate {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        if request.uri().path() == "/healthz" {
            return Ok(self.api.call(request).await.unwrap_or_else(problem));
        }
        if !self.migrations.is_applied() {
            return Ok(ApiError::NotReady.into_problem_response());
        }
        let call = self.api.call(request);
        let watched = async {
            tokio::pin!(call);
            tokio::select! {
                biased;
                answered = &mut call => answered,
                () = tokio::time::sleep(SUSPECT_AFTER) => {
                    self.health.suspect();
                    call.await
                }
            }
        };
        // Once the breaker opens, a request still waiting (for a connection, say) is answered
        // at once: what it was doing is dropped, as when its client hangs up.
        let Some(answered) = self.health.unless_down(watched).await else {
            return Ok(ApiError::Unavailable(db::Error::Down).into_problem_response());
        };
        let response = answered.unwrap_or_else(problem);
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            self.health.suspect();
        }
        Ok(response)
    }
}

fn cors(allowed_origins: &[String]) -> Cors {
    // Browsers may send every header an operation declares (If-Match, Idempotency-Key, …).
    Cors::new()
        .allow_origins(allowed_origins.iter().map(String::as_str))
        .allow_headers(
            openapi::header_parameters()
                .iter()
                .map(String::as_str)
                .chain(["authorization", "content-type", REQUEST_ID_HEADER]),
        )
        .expose_headers([
            header::LOCATION,
            header::ETAG,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            header::HeaderName::from_static(REQUEST_ID_HEADER),
            header::HeaderName::from_static("ratelimit-limit"),
            header::HeaderName::from_static("ratelimit-remaining"),
            header::HeaderName::from_static("ratelimit-reset"),
        ])
        .max_age(600)
}

/// Any error as a problem: ours were rendered where they arose; the rest are poem's.
pub async fn problem_response(err: poem::Error) -> Response {
    problem(err)
}

fn problem(err: poem::Error) -> Response {
    if err.is_from_response() {
        err.into_response()
    } else {
        rejections::from_poem(&err, &openapi::PublishedSpec).into_problem_response()
    }
}

/// Why the request's host is not one this service answers to (RFC 9112 §3.2: a request needs
/// exactly one `Host`), if it is not. Every host the request names must be allowed: the `Host`
/// header and, in HTTP/2 or an absolute-form target, the URI's authority (RFC 9113 §8.3.1 calls
/// the two disagreeing malformed). Liveness and readiness answer any host: probes address the
/// pod, and they reveal nothing.
fn host_refused(request: &Request, allowed: &[String]) -> Option<ApiError> {
    if matches!(request.uri().path(), "/healthz" | "/readyz") {
        return None;
    }
    let refuse = |why: String| Some(ApiError::InvalidHost(why));
    let mut headers = request.headers().get_all(header::HOST).iter();
    let (header, second) = (headers.next(), headers.next());
    if second.is_some() {
        return refuse("the request has more than one Host header".to_owned());
    }
    let authority = request.uri().authority().map(|a| a.as_str());
    let header = match header.map(|value| value.to_str()) {
        Some(Ok(value)) => Some(value),
        Some(Err(_)) => return refuse("the Host header is not ASCII".to_owned()),
        None => None,
    };
    if header.is_none() && authority.is_none() {
        return refuse("the request has no Host header".to_owned());
    }
    for named in [authority, header].into_iter().flatten() {
        let Some(host) = host_name(named) else {
            return refuse(format!(
                "`{}` is not a host name with an optional port",
                named.escape_default()
            ));
        };
        if !allowed
            .iter()
            .any(|allowed| allowed == "*" || *allowed == host)
        {
            return refuse(format!(
                "this service does not answer to the host `{host}`; its operator can add it \
                 to ALLOWED_HOSTS"
            ));
        }
    }
    None
}

/// The host of `host[:port]`, lower-cased, if that is all `value` holds: a name of letters,
/// digits, `-` and `.`, or a bracketed IPv6 address, and a port of 1–5 digits up to 65535. No
/// user info (`user@host`), nothing else.
fn host_name(value: &str) -> Option<String> {
    let (host, port) = match value.rfind(':') {
        Some(colon) if !value[colon..].contains(']') => {
            (&value[..colon], Some(&value[colon + 1..]))
        }
        _ => (value, None),
    };
    let port_ok = port.is_none_or(|port| {
        !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| p <= 65_535)
    });
    let host_ok = config::is_host_name(host);
    (port_ok && host_ok).then(|| host.to_ascii_lowercase())
}

impl Front {
    /// Runs one request inside its log span, then stamps the response.
    async fn answer(&self, request: Request, id: String, refused: Option<ApiError>) -> Response {
        // The gatekeeper fills in the rest for `/api/` requests: `auth` (token, anonymous, or why
        // the credential was refused) and the token's id and name, never its secret.
        let method = method_label(request.method());
        let route = openapi::route_label(request.uri().path());
        let operation = openapi::operation_id(method, route);
        let span = tracing::info_span!(
            "request",
            id = %id,
            method,
            path = %request.uri().path(),
            operation,
            auth = tracing::field::Empty,
            token_id = tracing::field::Empty,
            token_name = tracing::field::Empty
        );
        let started = Instant::now();
        let active = telemetry::active_requests();
        active.increment(1.0);
        // Decremented however the request ends (a client that hangs up drops this future).
        let _active = DecrementOnDrop(active);
        let uri = request.uri().clone(); // shares the request's bytes: no copy on the hot path
        // Pages that set their own security policy: the docs, and the admin console.
        let docs = is_docs_page(uri.path()) || admin::is_console_path(uri.path());
        let api = uri.path().starts_with("/api/");
        let mut response = match refused.or_else(|| misread_parameters(&request, method, route)) {
            Some(problem) => span.in_scope(|| problem.into_problem_response()),
            None => {
                let answered = AssertUnwindSafe(self.routes.call(request))
                    .catch_unwind()
                    .instrument(span.clone())
                    .await;
                match answered {
                    Ok(Ok(response)) => response,
                    Ok(Err(err)) => span.in_scope(|| problem(err)),
                    Err(panic) => span.in_scope(|| panic_response(panic)),
                }
            }
        };
        let status = response.status();
        // A change stream's head comes at once and its body lasts as long as the client stays:
        // neither is a request's duration (the stream is counted by change_feed_subscribers).
        if operation != Some(STREAM_OPERATION) {
            telemetry::record_request(method, route, status, started.elapsed().as_secs_f64());
        }
        span.in_scope(|| {
            tracing::info!(
                status = status.as_u16(),
                micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "answered"
            )
        });
        let headers = response.headers_mut();
        if status == StatusCode::METHOD_NOT_ALLOWED
            && let Some(allow) = openapi::allowed_methods(uri.path())
        {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            const ID: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);
            headers.insert(ID, value);
        }
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if !docs {
            // The API serves data, never pages: nothing may run, load or frame it.
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
            );
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        if api && !headers.contains_key(header::CACHE_CONTROL) {
            // Student records are personal data: no shared or browser cache keeps them.
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}

/// The change feed's long-lived stream.
const STREAM_OPERATION: &str = "streamChanges";

/// A method as a bounded label: the standard ones by name, any other as `other` (a client may
/// send any token as a method).
fn method_label(method: &Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "other",
    }
}

struct DecrementOnDrop(&'static metrics::Gauge);

impl Drop for DecrementOnDrop {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// Headers that hold one value: given twice, poem would read the first and ignore the other
/// (a retry keyed on the wrong `Idempotency-Key`, a body read as the wrong type). `If-Match`
/// and `If-None-Match` are lists, so several lines of them are one list.
const SINGLE_VALUE_HEADERS: [(&str, HeaderName); 2] = [
    (
        "Idempotency-Key",
        HeaderName::from_static("idempotency-key"),
    ),
    ("Content-Type", header::CONTENT_TYPE),
];

/// What poem-openapi's extractors would silently misread, as a 422 naming each parameter:
/// - a header that holds one value given twice;
/// - a header the API reads (`If-Match`, `Idempotency-Key`, …) whose value is not visible ASCII:
///   it would be skipped as if absent, turning a conditional or keyed request unconditional;
/// - a single-value query parameter given twice (`limit=1&limit=100`): only the first would count;
/// - a query parameter the operation does not declare (`export?limit=5`): it would be ignored,
///   and the client would believe it had been applied.
fn misread_parameters(request: &Request, method: &str, route: &str) -> Option<ApiError> {
    // Parsed once: looking a header up by a `&str` parses and hashes the name each time.
    static HEADER_PARAMETERS: LazyLock<Vec<(&'static str, HeaderName)>> = LazyLock::new(|| {
        openapi::header_parameters()
            .iter()
            .filter_map(|name| Some((name.as_str(), HeaderName::try_from(name.as_str()).ok()?)))
            .collect()
    });
    let mut errors: Vec<FieldError> = HEADER_PARAMETERS
        .iter()
        .filter(|(_, header)| {
            request
                .headers()
                .get_all(header)
                .iter()
                .any(|value| value.to_str().is_err())
        })
        .map(|(name, _)| {
            FieldError::new(
                format!("header.{name}"),
                Code::InvalidParameter.as_str(),
                "must be visible ASCII text",
            )
        })
        .collect();
    for (name, header) in SINGLE_VALUE_HEADERS {
        if request.headers().get_all(header).iter().count() > 1 {
            errors.push(FieldError::new(
                format!("header.{name}"),
                Code::InvalidParameter.as_str(),
                "must be given once",
            ));
        }
    }
    if let Some(query) = request.uri().query() {
        let declared = openapi::query_parameters(method, route);
        if let Some(declared) = declared {
            for (name, _) in form_urlencoded::parse(query.as_bytes()) {
                let location = format!("query.{}", name.escape_default());
                if declared.iter().any(|d| *d == name)
                    || errors.iter().any(|e| e.location == location)
                {
                    continue;
                }
                let takes = if declared.is_empty() {
                    "this operation takes no query parameters".to_owned()
                } else {
                    format!("this operation takes {}", declared.join(", "))
                };
                errors.push(FieldError::new(
                    location,
                    "unknown_parameter",
                    format!("is not a parameter of this operation; {takes}"),
                ));
            }
        }
        let single = openapi::single_value_query_parameters();
        let mut seen: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        for (name, _) in form_urlencoded::parse(query.as_bytes()) {
            if !single.iter().any(|s| *s == name) {
                continue;
            }
            if seen.contains(&name) {
                let location = format!("query.{name}");
                if !errors.iter().any(|e| e.location == location) {
                    errors.push(FieldError::new(
                        location,
                        Code::InvalidParameter.as_str(),
                        "must be given once",
                    ));
                }
            } else {
                seen.push(name);
            }
        }
    }
    (!errors.is_empty()).then_some(ApiError::Validation(errors))
}

/// Swagger UI and ReDoc run their own scripts and styles; a strict CSP would blank them.
pub fn is_docs_page(path: &str) -> bool {
    ["/docs", "/redoc"].iter().any(|page| {
        path.strip_prefix(page)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    ApiError::Internal(format!("handler panicked: {message}").into()).into_problem_response()
}
