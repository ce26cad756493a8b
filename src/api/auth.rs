//! Who may call what. An operation takes an [`Authorized<R>`] argument, where `R` names the scope
//! it needs (`Authorized<WriteStudents>`): that one type publishes the requirement in the spec
//! (the `signIn` OAuth2 scheme with the scope, or else `bearerAuth`) and enforces it. [`Gatekeeper::admit`] runs first
//! for every `/api/` request (and `/metrics`): it reads the bearer token once (against the in-memory
//! [`TokenCache`], no database round trip), applies the rate limits and leaves its finding in
//! the request for the operation's `Authorized<R>` to judge.

use std::{
    collections::HashMap,
    marker::PhantomData,
    net::IpAddr,
    sync::{Arc, LazyLock, RwLock},
    time::{Duration, Instant},
};

use poem::{
    Endpoint, IntoResponse, Middleware, Request, RequestBody, Response,
    http::{HeaderValue, header},
};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ExtractParamOptions,
    registry::{MetaOAuthFlow, MetaOAuthFlows, MetaOAuthScope, MetaSecurityScheme, Registry},
};
use sqlx::PgPool;

use crate::{
    db::{self, CachedToken, TokenCache, Verdict},
    domain::{Malformed, SCOPES, Scope, TokenSecret},
    error::{ApiError, AuthFailure},
    rate_limit::{Quota, RateLimiter},
};

/// Prometheus metrics: outside the OpenAPI document, but behind the gatekeeper (`metrics:read`).
pub const METRICS_PATH: &str = "/metrics";

/// The spec's scheme for API tokens: an HTTP bearer token. OpenAPI 3.0 lets only OAuth2 and
/// OpenID Connect schemes list scopes, so its requirements name none; [`SIGN_IN_SCHEME`]'s
/// beside it do.
pub const BEARER_SCHEME: &str = "bearerAuth";

/// The spec's scheme for people: OAuth2's password flow (RFC 6749 §4.3) at [`TOKEN_URL`], with
/// the scopes. Its access token is a bearer token like an API token, so either scheme admits.
pub const SIGN_IN_SCHEME: &str = "signIn";

/// Where the password grant is sent.
pub const TOKEN_URL: &str = "/api/auth/token";

/// How often, at most, a token's `last_used_at` is written.
const LAST_USED_EVERY: Duration = Duration::from_secs(60);

/// A scope an operation needs, as a type: `Authorized<WriteStudents>`. `None`: any valid
/// token, whatever it may do.
pub trait Requirement: Send + Sync + 'static {
    const SCOPE: Option<Scope>;
}

/// Any valid token: who am I, sign out.
#[derive(Debug)]
pub struct AnyToken;
impl Requirement for AnyToken {
    const SCOPE: Option<Scope> = None;
}

/// Get, list and export students (open to anonymous callers with `AUTH_ANONYMOUS_READ`).
#[derive(Debug)]
pub struct ReadStudents;
impl Requirement for ReadStudents {
    const SCOPE: Option<Scope> = Some(Scope::StudentsRead);
}

/// Create, replace, update and delete students.
#[derive(Debug)]
pub struct WriteStudents;
impl Requirement for WriteStudents {
    const SCOPE: Option<Scope> = Some(Scope::StudentsWrite);
}

/// Create, list and revoke tokens.
#[derive(Debug)]
pub struct AdminTokens;
impl Requirement for AdminTokens {
    const SCOPE: Option<Scope> = Some(Scope::TokensAdmin);
}

/// Manage people's accounts.
#[derive(Debug)]
pub struct AdminAccounts;
impl Requirement for AdminAccounts {
    const SCOPE: Option<Scope> = Some(Scope::AccountsAdmin);
}

/// Manage webhook endpoints.
#[derive(Debug)]
pub struct AdminWebhooks;
impl Requirement for AdminWebhooks {
    const SCOPE: Option<Scope> = Some(Scope::WebhooksAdmin);
}

/// What the request's credentials turned out to be, as [`Gatekeeper::admit`] found them.
#[derive(Debug, Clone)]
enum Credential {
    Token(Arc<CachedToken>),
    /// A well-formed token, but the tokens could not be read yet: neither valid nor invalid.
    Unjudged,
    Anonymous {
        open_reads: bool,
    },
    Refused(AuthFailure),
}

/// A caller allowed to run the operation: who it is (`None`: anonymous, reads only).
#[derive(Debug)]
pub struct Authorized<R> {
    token: Option<Arc<CachedToken>>,
    _needs: PhantomData<R>,
}

impl<R> Authorized<R> {
    /// The token the request came with; `None` for an anonymous read.
    pub fn token(&self) -> Option<&CachedToken> {
        self.token.as_deref()
    }

    /// That token's id, as logs and the writes that judge their caller again name it.
    pub fn token_id(&self) -> Option<i64> {
        self.token().map(|token| token.id)
    }

    /// Returns once the caller's token may no longer be used (revoked, expired or deleted, as
    /// this instance's cache learns it), saying why; never, for an anonymous caller. What the
    /// request keeps open (a change stream, a long poll) ends then.
    pub fn ended(&self, tokens: &TokenCache) -> impl Future<Output = AuthFailure> + Send + 'static {
        let (tokens, token) = (tokens.clone(), self.token.clone());
        async move {
            let Some(token) = token else {
                return std::future::pending().await;
            };
            match tokens.until_invalid(&token).await {
                Verdict::Expired(_) => AuthFailure::Expired,
                Verdict::Revoked(_) => AuthFailure::Revoked,
                _ => AuthFailure::Unknown,
            }
        }
    }

    /// Who the caller is, as a change records it.
    pub fn actor(&self) -> db::Actor {
        match self.token() {
            // A person is named by their username, a program by its token's name.
            Some(token) => db::Actor {
                token_id: Some(token.id),
                account_id: token.account.as_ref().map(|holder| holder.id),
                name: token
                    .account
                    .as_ref()
                    .map_or_else(|| token.name.clone(), |holder| holder.username.clone()),
            },
            None => db::Actor {
                token_id: None,
                account_id: None,
                name: "anonymous".to_owned(),
            },
        }
    }
}

/// The key under which an operation's `security` names its scope. poem-openapi lists scopes
/// only for the `#[oai(scopes(…))]` attribute, which would say the scope a second time beside
/// the type; so the scheme name carries it (`signIn students:write`) and `openapi.rs` turns
/// that into `signIn: [students:write]`.
pub fn security_key(scope: Option<Scope>) -> &'static str {
    static KEYS: LazyLock<Vec<(Scope, String)>> = LazyLock::new(|| {
        SCOPES
            .iter()
            .map(|scope| (*scope, format!("{SIGN_IN_SCHEME} {}", scope.as_str())))
            .collect()
    });
    KEYS.iter()
        .find(|(s, _)| Some(*s) == scope)
        .map_or(SIGN_IN_SCHEME, |(_, key)| key.as_str())
}

/// The schemes' descriptions in the spec: how to get a token, and what the scopes allow.
fn bearer_description() -> &'static str {
    "An API token, for programs: `Authorization: Bearer sat_…`. Make one with `students-api \
     token create` or `POST /api/tokens`; its secret is shown once. It may do what its scopes \
     allow: an operation's `signIn` requirement, beside this one, names the scope it needs (a \
     server started with `AUTH_ANONYMOUS_READ=true` also serves the `students:read` operations \
     without a token)."
}

fn sign_in_description() -> &'static str {
    "A person's sign-in: the OAuth 2.0 password grant (RFC 6749 §4.3) at `POST /api/auth/token` \
     returns a bearer access token of the account's role (viewer: `students:read`; editor: and \
     `students:write`; admin: every scope), sent as `Authorization: Bearer …` like an API token. \
     Each operation names the scope it needs."
}

fn scopes() -> Vec<MetaOAuthScope> {
    SCOPES
        .iter()
        .map(|scope| MetaOAuthScope {
            name: scope.as_str(),
            description: Some(scope.description()),
        })
        .collect()
}

impl<'a, R: Requirement> ApiExtractor<'a> for Authorized<R> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            SIGN_IN_SCHEME,
            MetaSecurityScheme {
                ty: "oauth2",
                description: Some(sign_in_description()),
                name: None,
                key_in: None,
                scheme: None,
                bearer_format: None,
                flows: Some(MetaOAuthFlows {
                    implicit: None,
                    password: Some(MetaOAuthFlow {
                        authorization_url: None,
                        token_url: Some(TOKEN_URL),
                        refresh_url: None,
                        scopes: scopes(),
                    }),
                    client_credentials: None,
                    authorization_code: None,
                }),
                openid_connect_url: None,
            },
        );
        registry.create_security_scheme(
            BEARER_SCHEME,
            MetaSecurityScheme {
                ty: "http",
                description: Some(bearer_description()),
                name: None,
                key_in: None,
                scheme: Some("bearer"),
                bearer_format: Some("sat_ token"),
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    /// Alternatives: a sign-in (with the scope) or an API token.
    fn security_schemes() -> Vec<&'static str> {
        vec![security_key(R::SCOPE), BEARER_SCHEME]
    }

    async fn from_request(
        request: &'a Request,
        _body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        Ok(Authorized {
            token: judge(request, R::SCOPE)?,
            _needs: PhantomData,
        })
    }
}

/// Whether the request may do what `scope` allows, as the gatekeeper found its credentials:
/// the token (`None`: an anonymous read), or the problem that refuses it (counted in
/// `auth_failures_total`). The one judgement for operations and for `/metrics`.
pub fn judge(
    request: &Request,
    scope: Option<Scope>,
) -> Result<Option<Arc<CachedToken>>, ApiError> {
    // No finding means the gatekeeper did not run: refuse, never let through.
    let credential = request
        .extensions()
        .get::<Credential>()
        .cloned()
        .unwrap_or(Credential::Refused(AuthFailure::Missing));
    let refusal = match credential {
        Credential::Token(token) => match scope {
            Some(scope) if !token.scopes.contains(&scope) => {
                ("insufficient_scope", ApiError::InsufficientScope(scope))
            }
            _ => return Ok(Some(token)),
        },
        Credential::Anonymous { open_reads: true } if scope == Some(Scope::StudentsRead) => {
            return Ok(None);
        }
        Credential::Unjudged => return Err(ApiError::NotReady),
        Credential::Anonymous { .. } => (
            AuthFailure::Missing.as_str(),
            ApiError::Unauthorized {
                why: AuthFailure::Missing,
                needed: scope,
            },
        ),
        Credential::Refused(why) => (why.as_str(), ApiError::Unauthorized { why, needed: scope }),
    };
    metrics::counter!(crate::telemetry::AUTH_FAILURES, "reason" => refusal.0).increment(1);
    Err(refusal.1)
}

/// Who is counted against a rate limit: a valid token, or else the client's address (an IPv6
/// client by its /64, which one machine usually holds whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    Token(i64),
    Address(IpAddr),
}

/// The auth settings of a running service.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Requests without a token may read students.
    pub anonymous_read: bool,
    /// Requests per minute per token; 0: no limit.
    pub per_token_per_minute: u32,
    /// Requests per minute per address without a valid token; 0: no limit.
    pub anonymous_per_minute: u32,
    /// How long a sign-in lasts, and how many may fail.
    pub sign_in_lifetime: Duration,
    pub sign_in_limits: db::sign_ins::SignInLimits,
}

/// Reads every `/api/` request's credentials, limits its rate, and keeps `last_used_at`.
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct Gatekeeper(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    tokens: TokenCache,
    anonymous_read: bool,
    per_token: RateLimiter<Client>,
    per_address: RateLimiter<Client>,
    /// When this instance last wrote each token's `last_used_at`.
    last_used: RwLock<HashMap<i64, Instant>>,
    pool: PgPool,
    health: db::Health,
}

impl Gatekeeper {
    pub fn new(
        tokens: TokenCache,
        settings: &AuthSettings,
        pool: PgPool,
        health: db::Health,
    ) -> Self {
        Self(Arc::new(Inner {
            tokens,
            anonymous_read: settings.anonymous_read,
            per_token: RateLimiter::per_minute(settings.per_token_per_minute),
            per_address: RateLimiter::per_minute(settings.anonymous_per_minute),
            last_used: RwLock::new(HashMap::new()),
            pool,
            health,
        }))
    }

    /// Runs `endpoint` for `request` unless the request is over its rate limit; either way the
    /// answer carries the client's `RateLimit-*` headers.
    async fn admit<E: Endpoint>(
        &self,
        endpoint: &E,
        mut request: Request,
    ) -> poem::Result<Response> {
        let path = request.uri().path();
        if !(path.starts_with("/api/") || path == METRICS_PATH) {
            return endpoint
                .call(request)
                .await
                .map(IntoResponse::into_response);
        }
        let credential = self.credential(&request).await;
        let quota = match &credential {
            Credential::Token(token) => self.0.per_token.take(Client::Token(token.id)),
            _ => client_address(&request)
                .and_then(|address| self.0.per_address.take(Client::Address(address))),
        };
        let span = tracing::Span::current();
        match &credential {
            Credential::Token(token) => {
                span.record("auth", "token");
                span.record("token_id", token.id);
                span.record("token_name", token.name.as_str());
            }
            Credential::Anonymous { .. } => {
                span.record("auth", "anonymous");
            }
            Credential::Unjudged => {
                span.record("auth", "unjudged");
            }
            Credential::Refused(why) => {
                span.record("auth", tracing::field::debug(why));
            }
        }
        let mut response = match quota {
            Some(quota) if !quota.allowed => {
                let client = match credential {
                    Credential::Token(_) => "token",
                    _ => "address",
                };
                metrics::counter!(crate::telemetry::RATE_LIMITED, "client" => client).increment(1);
                ApiError::RateLimited {
                    limit: quota.limit,
                    client,
                    retry_after_secs: quota.reset_secs,
                }
                .into_problem_response()
            }
            _ => {
                if let Credential::Token(token) = &credential {
                    self.touch(token.id);
                }
                request.extensions_mut().insert(credential);
                match endpoint.call(request).await {
                    Ok(response) => response.into_response(),
                    Err(err) => err.into_response(),
                }
            }
        };
        if let Some(quota) = quota {
            let headers = response.headers_mut();
            for (name, value) in quota_headers(&quota) {
                headers.insert(name, HeaderValue::from(value));
            }
        }
        Ok(response)
    }

    /// The request's credentials as the token cache sees them (a well-formed secret it does
    /// not know is looked up in the database first).
    async fn credential(&self, request: &Request) -> Credential {
        let mut values = request.headers().get_all(header::AUTHORIZATION).iter();
        let value = match (values.next(), values.next()) {
            (None, _) => {
                return Credential::Anonymous {
                    open_reads: self.0.anonymous_read,
                };
            }
            (Some(value), None) => value,
            (Some(_), Some(_)) => return Credential::Refused(AuthFailure::NotBearer),
        };
        // RFC 9110: the scheme is case-insensitive; RFC 6750: one space, then the token.
        let Some(raw) = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
        else {
            return Credential::Refused(AuthFailure::NotBearer);
        };
        let secret = match TokenSecret::parse(raw) {
            Ok(secret) => secret,
            Err(Malformed::Shape) => return Credential::Refused(AuthFailure::Malformed),
            Err(Malformed::Checksum) => return Credential::Refused(AuthFailure::Mistyped),
        };
        let verdict = match self.0.tokens.check(&secret) {
            Verdict::Unknown | Verdict::NotLoaded => self.look_up(&secret).await,
            known => known,
        };
        match verdict {
            Verdict::NotLoaded => Credential::Unjudged,
            Verdict::Valid(token) => Credential::Token(token),
            Verdict::Unknown => Credential::Refused(AuthFailure::Unknown),
            Verdict::Expired(_) => Credential::Refused(AuthFailure::Expired),
            Verdict::Revoked(_) => Credential::Refused(AuthFailure::Revoked),
        }
    }

    /// A secret the cache does not know, as the database has it; neither valid nor invalid
    /// (a 503, never a 401) while the database cannot say.
    async fn look_up(&self, secret: &TokenSecret) -> Verdict {
        let lookup = self.0.tokens.look_up(&self.0.pool, secret);
        match self.0.health.unless_down(lookup).await {
            Some(Ok(verdict)) => verdict,
            Some(Err(err)) => {
                tracing::warn!(error = %err, "cannot look a token up");
                Verdict::NotLoaded
            }
            None => Verdict::NotLoaded,
        }
    }

    /// Writes `last_used_at` for token `id` if this instance has not in the last minute; in
    /// the background, so the request never waits for it.
    fn touch(&self, id: i64) {
        let now = Instant::now();
        let fresh = |map: &HashMap<i64, Instant>| {
            map.get(&id)
                .is_some_and(|at| now.duration_since(*at) < LAST_USED_EVERY)
        };
        // A shared lock on the hot path: the exclusive one only about once a minute per token.
        let recent = match self.0.last_used.read() {
            Ok(map) => fresh(&map),
            Err(poisoned) => fresh(&poisoned.into_inner()),
        };
        if recent {
            return;
        }
        {
            let mut map = match self.0.last_used.write() {
                Ok(map) => map,
                Err(poisoned) => poisoned.into_inner(),
            };
            if fresh(&map) {
                return; // another request got here first
            }
            map.insert(id, now);
        }
        let pool = self.0.pool.clone();
        tokio::spawn(async move {
            if let Err(err) = db::touch_token(&pool, id).await {
                tracing::debug!(error = %err, token = id, "cannot record a token's last use");
            }
        });
    }
}

impl<E: Endpoint> Middleware<E> for Gatekeeper {
    type Output = Admitted<E>;

    fn transform(&self, inner: E) -> Self::Output {
        Admitted {
            inner,
            gatekeeper: self.clone(),
        }
    }
}

/// An endpoint behind the [`Gatekeeper`].
#[derive(Debug)]
pub struct Admitted<E> {
    inner: E,
    gatekeeper: Gatekeeper,
}

impl<E: Endpoint> Endpoint for Admitted<E> {
    type Output = Response;

    async fn call(&self, request: Request) -> poem::Result<Response> {
        self.gatekeeper.admit(&self.inner, request).await
    }
}

/// The client's address for rate limits.
pub fn client_address(request: &Request) -> Option<IpAddr> {
    Some(rate_key(request.remote_addr().as_socket_addr()?.ip()))
}

/// The address a client is counted by: an IPv6 address by its /64 (one machine usually holds
/// the whole /64, and could otherwise take a fresh address per guess); an IPv4-mapped one as
/// IPv4.
fn rate_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// The `RateLimit-*` headers (IETF httpapi draft, version 6's three fields) of a quota: the
/// limit, what is left, and seconds until the window resets.
fn quota_headers(quota: &Quota) -> [(poem::http::HeaderName, u64); 3] {
    // Consts: a name given as `&str` is parsed and checked again on every insert.
    use poem::http::HeaderName;
    const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
    const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
    const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");
    [
        (LIMIT, u64::from(quota.limit)),
        (REMAINING, u64::from(quota.remaining)),
        (RESET, quota.reset_secs),
    ]
}

/// After a right password: the username's failed attempts stop counting against it. A
/// failure to forget is logged, not answered: the check itself succeeded.
pub async fn forget_failed_checks(pool: &PgPool, username: &crate::domain::Username) {
    if let Err(err) = db::sign_ins::forget_failures(pool, username).await {
        tracing::warn!(error = %err, "cannot forget the failed sign-ins of an account");
    }
}

/// Lets a password be checked (a sign-in, or a person proving who they are) unless this
/// username or the request's address has had too many failures lately: then `429` with
/// `Retry-After`. The attempt counts as a failure until a success forgets it
/// (`db::sign_ins::forget_failures`).
pub async fn admit_password_check(
    pool: &PgPool,
    limits: db::sign_ins::SignInLimits,
    username: Option<&crate::domain::Username>,
    request: &Request,
) -> Result<(), ApiError> {
    let admission = db::sign_ins::admit(pool, limits, username, client_address(request)).await?;
    match admission {
        db::sign_ins::Admission::Admitted => Ok(()),
        db::sign_ins::Admission::Refused {
            retry_after_secs,
            by,
        } => {
            metrics::counter!(crate::telemetry::SIGN_INS, "outcome" => "limited").increment(1);
            Err(ApiError::TooManySignIns {
                by,
                window_minutes: limits.window.as_secs() / 60,
                retry_after_secs,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_a_mapped_one_as_ipv4() {
        let key = |text: &str| rate_key(text.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])));
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:bbbb::2"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("::ffff:192.0.2.7").to_string(), "192.0.2.7");
        assert_eq!(key("192.0.2.7").to_string(), "192.0.2.7");
    }

    #[test]
    fn the_security_key_carries_the_scope() {
        assert_eq!(
            security_key(Some(Scope::StudentsWrite)),
            "signIn students:write"
        );
        assert_eq!(security_key(None), "signIn");
    }
}
