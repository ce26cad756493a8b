//! People sign in: `POST /api/auth/token` is OAuth 2.0's password grant (RFC 6749 §4.3), as
//! Swagger UI's Authorize sends it, and answers a bearer token of the account's role that the
//! rest of the API takes like any API token. `POST /api/auth/sign-out` revokes it; `GET /api/me`
//! says who a token is.

use std::sync::Arc;

use chrono::TimeDelta;
use poem::{Request, RequestBody, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi, impl_apirequest_for_payload,
    payload::{ParsePayload, Payload},
    registry::{MetaSchemaRef, Registry},
    types::Type,
};
use serde::Serialize;

use crate::{
    api::{
        ApiTags,
        accounts::AccountRead,
        auth::{self, AnyToken, Authorized},
        contract::{ErrorStatuses, Failure, statuses::*},
        json::{self, JsonBody},
        state::State,
        types::{Nullable, Timestamp},
    },
    db::{self, CachedToken, Holder, SignIn},
    domain::{Code, Scope, Username},
    error::{ApiError, FieldError, SignInError},
};

/// The longest a sign-in form's values may be, in characters.
const MAX_USERNAME_CHARS: usize = 100;
const MAX_PASSWORD_CHARS: usize = 1024;
const MAX_SCOPE_CHARS: usize = 200;

/// A sign-in: OAuth 2.0's password grant, form-encoded (RFC 6749 §4.3.2). Parameters it does
/// not know, such as the `client_id` Swagger UI may send, are ignored (§3.2).
#[derive(Clone, Object)]
#[oai(rename = "PasswordGrant")]
pub struct PasswordGrant {
    /// Always `password`.
    #[oai(validator(max_length = 8, pattern = "^password$"))]
    pub grant_type: String,
    /// The account's username, in any case.
    #[oai(validator(min_length = 1, max_length = 100))] // MAX_USERNAME_CHARS
    pub username: String,
    #[oai(validator(min_length = 1, max_length = 1024))] // MAX_PASSWORD_CHARS
    pub password: String,
    /// The scopes the token should hold, space-separated, among those the role gives; omit it
    /// for all of them.
    #[oai(validator(max_length = 200))] // MAX_SCOPE_CHARS
    pub scope: Option<String>,
}

/// Never prints the password.
impl std::fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("grant_type", &self.grant_type)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("scope", &self.scope)
            .finish()
    }
}

impl PasswordGrant {
    /// The form's parameters, as RFC 6749 §3.2 reads them: each at most once, one sent empty
    /// as if omitted, unknown ones ignored.
    fn from_form(bytes: &[u8]) -> Result<Self, SignInError> {
        let mut fields: [(&str, usize, Option<String>); 4] = [
            ("grant_type", MAX_SCOPE_CHARS, None),
            ("username", MAX_USERNAME_CHARS, None),
            ("password", MAX_PASSWORD_CHARS, None),
            ("scope", MAX_SCOPE_CHARS, None),
        ];
        let invalid = |field: &str, code: Code, message: String| {
            SignInError::InvalidRequest(FieldError::new(field, code.as_str(), message))
        };
        for (key, value) in form_urlencoded::parse(bytes) {
            let Some((name, max, slot)) = fields.iter_mut().find(|(name, ..)| *name == key) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            if slot.is_some() {
                return Err(invalid(
                    name,
                    Code::Repeated,
                    "must be sent once".to_owned(),
                ));
            }
            if value.chars().count() > *max {
                return Err(invalid(
                    name,
                    Code::TooLong,
                    format!("must be at most {max} characters"),
                ));
            }
            *slot = Some(value.into_owned());
        }
        let [grant_type, username, password, scope] = fields.map(|(name, _, value)| (name, value));
        let required = |(name, value): (&str, Option<String>)| {
            value.ok_or_else(|| invalid(name, Code::Required, "is required".to_owned()))
        };
        let grant_type = required(grant_type)?;
        if grant_type != "password" {
            return Err(SignInError::UnsupportedGrantType);
        }
        Ok(Self {
            grant_type,
            username: required(username)?,
            password: required(password)?,
            scope: scope.1,
        })
    }

    /// The scopes asked for, if any were.
    fn wanted(&self) -> Result<Option<Vec<Scope>>, SignInError> {
        let Some(scope) = &self.scope else {
            return Ok(None);
        };
        scope
            .split(' ')
            .filter(|name| !name.is_empty())
            .map(|name| {
                Scope::parse(name).map_err(|v| {
                    SignInError::InvalidScope(format!("`{name}` is not a scope: it {}", v.message))
                })
            })
            .collect::<Result<Vec<_>, _>>()
            // Only spaces: no scope asked for, so all of the role's (as if omitted).
            .map(|scopes| Some(scopes).filter(|scopes| !scopes.is_empty()))
    }
}

/// The form body of a sign-in, read like every other body (64 KiB, 10 s) and parsed as RFC
/// 6749 asks, every refusal a sign-in problem (poem-openapi's `Form` reads without a limit and
/// refuses in its own words).
#[derive(Debug)]
pub struct SignInForm(pub PasswordGrant);

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

impl Payload for SignInForm {
    const CONTENT_TYPE: &'static str = FORM_CONTENT_TYPE;

    /// Every type is let through to [`ParsePayload::from_request`], which refuses the wrong
    /// one in words that name the right one (poem-openapi's refusal would not).
    fn check_content_type(_content_type: &str) -> bool {
        true
    }

    fn schema_ref() -> MetaSchemaRef {
        PasswordGrant::schema_ref()
    }

    fn register(registry: &mut Registry) {
        PasswordGrant::register(registry);
    }
}

impl ParsePayload for SignInForm {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let content_type = request.content_type().unwrap_or_default();
        if !content_type
            .parse::<mime::Mime>()
            .is_ok_and(|mime| mime.essence_str() == FORM_CONTENT_TYPE)
        {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the content type `{}` is not supported; send `Content-Type: \
                 {FORM_CONTENT_TYPE}`",
                content_type.chars().take(100).collect::<String>()
            ))
            .into());
        }
        let bytes = json::read_bounded(request, body).await?;
        PasswordGrant::from_form(&bytes)
            .map(Self)
            .map_err(|why| ApiError::SignIn(why).into())
    }
}

impl_apirequest_for_payload!(SignInForm);

/// A sign-in's token (RFC 6749 §5.1).
#[derive(Clone, Object, Serialize)]
pub struct AccessToken {
    /// `Authorization: Bearer <access_token>`. Only its hash is stored: it cannot be shown
    /// again.
    #[oai(validator(min_length = 32, max_length = 32, pattern = "^sat_[0-9A-Za-z]{28}$"))]
    pub access_token: String,
    /// Always `Bearer`.
    #[oai(validator(max_length = 6, pattern = "^Bearer$"))]
    pub token_type: String,
    /// Seconds until it expires (`SIGN_IN_LIFETIME`, 12 hours unless set).
    #[oai(validator(minimum(value = "1"), maximum(value = "31536000")))]
    pub expires_in: i64,
    /// The scopes it holds, space-separated.
    #[oai(validator(max_length = 200))]
    pub scope: String,
}

/// Never prints the token.
impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("access_token", &"<redacted>")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Who a request's token is.
#[derive(Debug, Clone, Object, Serialize)]
pub struct Me {
    /// The token's id (as `listTokens` shows it).
    #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
    pub token_id: i64,
    /// The token's name (a sign-in's is `sign-in of <username>`).
    #[oai(validator(max_length = 100))]
    pub token_name: String,
    /// What it may do.
    #[oai(validator(min_items = 1, max_items = 6))] // SCOPES.len()
    pub scopes: Vec<Scope>,
    /// When it stops working; `null`: never.
    pub expires_at: Nullable<Timestamp>,
    /// The account it is a sign-in of; `null`: an API token, made for a program.
    pub account: Nullable<AccountRead>,
}

#[derive(Debug, ApiResponse)]
pub enum SignedInResponse {
    /// Signed in. Not to be cached (RFC 6749 §5.1).
    #[oai(status = 200)]
    Ok(
        JsonBody<AccessToken>,
        /// `no-store`.
        #[oai(header = "Cache-Control")]
        String,
        /// `no-cache`.
        #[oai(header = "Pragma")]
        String,
    ),
}

#[derive(Debug, ApiResponse)]
pub enum SignedOutResponse {
    /// The token is revoked: every instance refuses it within a second.
    #[oai(status = 204)]
    NoContent,
}

#[derive(Debug, ApiResponse)]
pub enum MeResponse {
    /// The token and, for a sign-in, its account.
    #[oai(status = 200)]
    Ok(JsonBody<Me>),
}

/// `signIn`: a refused sign-in (400, RFC 6749's `error` inside), a limit, a form we do not read.
#[derive(Debug)]
pub struct SignInErrors;
impl ErrorStatuses for SignInErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (
            400,
            "Refused: the username or password is wrong or the account disabled \
             (`invalid_grant`), a parameter is missing, repeated or too long \
             (`invalid_request`), a scope is not the role's (`invalid_scope`), or `grant_type` \
             is not `password` (`unsupported_grant_type`).",
        ),
        TOO_SLOW,
        TOO_LARGE,
        (415, "The body is not `application/x-www-form-urlencoded`."),
        (
            429,
            "Too many failed sign-ins for this username or from this address in 15 minutes; \
             `Retry-After` says when to try again.",
        ),
        INTERNAL,
        UNAVAILABLE,
    ];
}

/// `signOut` and `me`: only the database.
#[derive(Debug)]
pub struct TokenErrors;
impl ErrorStatuses for TokenErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[INTERNAL, UNAVAILABLE];
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SignInApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl SignInApi {
    /// Sign in
    ///
    /// OAuth 2.0's password grant (RFC 6749 §4.3): a username and password, form-encoded,
    /// for a bearer token of the account's role, for `SIGN_IN_LIFETIME` (12 hours unless
    /// set). Swagger UI's Authorize (`signIn`) sends exactly this. Every refusal of the
    /// credentials is the same `invalid_grant`, at the same speed (an unknown username costs
    /// an argon2 check too), so it never tells which usernames exist. Failed sign-ins are
    /// limited per username and per address (`SIGN_IN_FAILURES_PER_USERNAME`, `…_PER_ADDRESS`,
    /// in 15 minutes, counted across instances): past them, `429` with `Retry-After`.
    #[oai(
        path = "/api/auth/token",
        method = "post",
        operation_id = "signIn",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/auth.md#people-sign-in"
    )]
    async fn sign_in(
        &self,
        request: &Request,
        Data(state): Data<&Arc<State>>,
        form: SignInForm,
    ) -> Result<SignedInResponse, Failure<SignInErrors>> {
        let grant = form.0;
        let wanted = grant.wanted().map_err(ApiError::SignIn)?;
        let username = Username::parse(&grant.username).ok();
        let sign_ins = &state.sign_ins;
        auth::admit_password_check(&state.pool, sign_ins.limits, username.as_ref(), request)
            .await?;
        let lifetime = TimeDelta::from_std(sign_ins.lifetime).unwrap_or(TimeDelta::hours(12));
        let outcome = db::sign_in(
            &state.pool,
            &sign_ins.checks,
            username.as_ref(),
            &grant.password,
            wanted.as_deref(),
            lifetime,
        )
        .await?;
        let signed_in = match outcome {
            SignIn::SignedIn(signed_in) => signed_in,
            SignIn::Refused => {
                metrics::counter!(crate::telemetry::SIGN_INS, "outcome" => "refused").increment(1);
                // Not the username: people type their password into it by mistake.
                tracing::info!("sign-in refused");
                return Err(ApiError::SignIn(SignInError::InvalidGrant).into());
            }
            SignIn::ScopeNotHeld(scope) => {
                // The password was right: this was no guess.
                if let Some(username) = &username {
                    auth::forget_failed_checks(&state.pool, username).await;
                }
                return Err(ApiError::SignIn(SignInError::InvalidScope(format!(
                    "the account's role does not give `{}`",
                    scope.as_str()
                )))
                .into());
            }
        };
        let account = &signed_in.account;
        auth::forget_failed_checks(&state.pool, &account.username).await;
        let token = &signed_in.token;
        state
            .tokens
            .put(
                signed_in.secret.hash(),
                CachedToken {
                    account: Some(Holder {
                        id: account.id,
                        username: account.username.as_str().to_owned(),
                    }),
                    ..CachedToken::from(token)
                },
            )
            .await;
        metrics::counter!(crate::telemetry::SIGN_INS, "outcome" => "signed_in").increment(1);
        tracing::info!(
            account = account.id,
            username = account.username.as_str(),
            token_id = token.id,
            "signed in"
        );
        // The lifetime itself: counting down to `expires_at` would lose the second this took.
        let expires_in = i64::try_from(sign_ins.lifetime.as_secs())
            .unwrap_or(i64::MAX)
            .max(1);
        let scope: Vec<&str> = token.scopes.iter().map(|s| s.as_str()).collect();
        Ok(SignedInResponse::Ok(
            JsonBody(AccessToken {
                access_token: signed_in.secret.expose().to_owned(),
                token_type: "Bearer".to_owned(),
                expires_in,
                scope: scope.join(" "),
            }),
            "no-store".to_owned(),
            "no-cache".to_owned(),
        ))
    }

    /// Sign out
    ///
    /// Revokes the token this request came with: this instance refuses it from the answer
    /// on, every other one within a second. Any token may sign itself out, an API token too.
    #[oai(
        path = "/api/auth/sign-out",
        method = "post",
        operation_id = "signOut",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/auth.md#people-sign-in"
    )]
    async fn sign_out(
        &self,
        caller: Authorized<AnyToken>,
        Data(state): Data<&Arc<State>>,
    ) -> Result<SignedOutResponse, Failure<TokenErrors>> {
        if let Some(token) = caller.token() {
            db::revoke_token(&state.pool, token.id).await?;
            state.tokens.mark_revoked(token.id).await;
        }
        Ok(SignedOutResponse::NoContent)
    }

    /// Who am I
    ///
    /// The token this request came with: its id, name, scopes and expiry, and for a sign-in
    /// the account (username, display name, role).
    #[oai(path = "/api/me", method = "get", operation_id = "me")]
    async fn me(
        &self,
        caller: Authorized<AnyToken>,
        Data(state): Data<&Arc<State>>,
    ) -> Result<MeResponse, Failure<TokenErrors>> {
        let Some(token) = caller.token() else {
            return Err(ApiError::Unauthorized {
                why: crate::error::AuthFailure::Missing,
                needed: None,
            }
            .into());
        };
        let account = match &token.account {
            Some(holder) => db::get_account(&state.pool, holder.id)
                .await?
                .map(AccountRead::from),
            None => None,
        };
        Ok(MeResponse::Ok(JsonBody(Me {
            token_id: token.id,
            token_name: token.name.clone(),
            scopes: token.scopes.clone(),
            expires_at: Nullable(token.expires_at.map(Timestamp)),
            account: Nullable(account),
        })))
    }
}
