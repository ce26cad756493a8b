//! `/api/tokens`: make, list and revoke API tokens over HTTP (`tokens:admin`). The same as
//! `students-api token …` does against the database directly.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, registry::MetaSchema};
use serde::Serialize;
use serde_json::Value;

use crate::{
    api::{
        ApiTags,
        auth::{AdminTokens, Authorized},
        contract::{ErrorStatuses, Failure, statuses::*},
        json::JsonBody,
        state::State,
        types::{
            IdOf, Nullable, PathId, Timestamp, domain_string_type, inline_scalar_type,
            named_scalar_type,
        },
    },
    db::{self, CachedToken, TokenRecord},
    domain::{SCOPES, Scope, StudentName, TokenName},
    error::{ApiError, AuthFailure},
};

domain_string_type!(
    Scope,
    named_scalar_type!(
        "Scope",
        MetaSchema {
            description: Some("Something a token may do; each operation lists the one it needs."),
            enum_items: SCOPES.iter().map(|s| Value::from(s.as_str())).collect(),
            ..MetaSchema::new("string")
        }
    )
);

domain_string_type!(
    TokenName,
    inline_scalar_type!(
        "TokenName",
        MetaSchema {
            description: Some(
                "What the token is for (`deploy bot`, `Ada's laptop`): the rules of a \
                 student's name."
            ),
            min_length: Some(StudentName::RULE.min_chars),
            max_length: StudentName::RULE.max_chars,
            pattern: Some(StudentName::PATTERN.to_owned()),
            ..MetaSchema::new("string")
        }
    )
);

/// Identifiers for the `Scope` values in generated code (`students:read` → `STUDENTS_READ`),
/// published as `x-enum-varnames`.
pub fn scope_variant_names() -> Vec<String> {
    SCOPES
        .iter()
        .map(|s| s.as_str().replace(':', "_").to_ascii_uppercase())
        .collect()
}

/// A token to make. Unknown fields are refused with 422.
#[derive(Debug, Clone, Object)]
#[oai(deny_unknown_fields, example)]
pub struct TokenCreate {
    pub name: TokenName,
    /// What it may do: one or more scopes, each once.
    #[oai(validator(min_items = 1, max_items = 6, unique_items))] // SCOPES.len()
    pub scopes: Vec<Scope>,
    /// Days until it expires, 1–3650; omit it for a token that lasts until revoked.
    #[oai(validator(minimum(value = "1"), maximum(value = "3650")))]
    pub expires_in_days: Option<i32>,
}

impl super::json::Body for TokenCreate {}

impl poem_openapi::types::Example for TokenCreate {
    fn example() -> Self {
        Self {
            name: TokenName::parse("deploy bot").unwrap_or_else(|_| unreachable!()),
            scopes: vec![Scope::StudentsRead, Scope::StudentsWrite],
            expires_in_days: Some(90),
        }
    }
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Token")]
pub struct TokenRead {
    /// What revoking names, and what logs carry.
    #[oai(
        read_only,
        validator(minimum(value = "1"), maximum(value = "9223372036854775807"))
    )]
    pub id: i64,
    pub name: TokenName,
    /// The secret's first characters, to recognise it.
    #[oai(validator(max_length = 8, pattern = "^sat_[0-9A-Za-z]{4}$"))]
    pub display_prefix: String,
    #[oai(validator(min_items = 1, max_items = 6))] // SCOPES.len()
    pub scopes: Vec<Scope>,
    pub created_at: Timestamp,
    /// When it stops working; `null`: never.
    pub expires_at: Nullable<Timestamp>,
    /// About when it was last used (written at most once a minute); `null`: never.
    pub last_used_at: Nullable<Timestamp>,
    /// When it was revoked; `null`: it was not.
    pub revoked_at: Nullable<Timestamp>,
    /// The account whose sign-in made it (directly or through tokens it made): disabling the
    /// account, lowering its role or a new password revokes this token too. `null`: made by
    /// a program's token or the command line.
    #[oai(validator(minimum(value = "1"), maximum(value = "9223372036854775807")))]
    pub made_by_account_id: Nullable<i64>,
}

impl From<TokenRecord> for TokenRead {
    fn from(token: TokenRecord) -> Self {
        Self {
            id: token.id,
            name: token.name,
            display_prefix: token.display_prefix,
            scopes: token.scopes,
            created_at: Timestamp(token.created_at),
            expires_at: Nullable(token.expires_at.map(Timestamp)),
            last_used_at: Nullable(token.last_used_at.map(Timestamp)),
            revoked_at: Nullable(token.revoked_at.map(Timestamp)),
            made_by_account_id: Nullable(token.made_by_account_id),
        }
    }
}

/// The secret of a new token, shown this once.
#[derive(Clone, Object, Serialize)]
pub struct TokenCreated {
    /// `Authorization: Bearer <secret>`. Only its hash is stored: it cannot be shown again.
    #[oai(validator(min_length = 32, max_length = 32, pattern = "^sat_[0-9A-Za-z]{28}$"))]
    pub secret: String,
    pub token: TokenRead,
}

/// Never prints the secret, should it ever be logged.
impl std::fmt::Debug for TokenCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCreated")
            .field("secret", &"<redacted>")
            .field("token", &self.token)
            .finish()
    }
}

/// Every token, newest first.
#[derive(Debug, Clone, Object, Serialize)]
pub struct TokenList {
    /// The newest 1,000 tokens, revoked ones included.
    #[oai(validator(max_items = 1000))]
    pub items: Vec<TokenRead>,
}

/// Names tokens in [`TokenId`] messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfToken;
impl IdOf for OfToken {
    const A_NOUN: &'static str = "a token";
}

/// The `{id}` in `/api/tokens/{id}`.
pub type TokenId = PathId<OfToken>;

#[derive(Debug, ApiResponse)]
pub enum CreatedResponse {
    /// The token was made; `secret` is shown only now.
    #[oai(status = 201)]
    Created(JsonBody<TokenCreated>),
}

#[derive(Debug, ApiResponse)]
pub enum ListResponse {
    /// The tokens, newest first.
    #[oai(status = 200)]
    Ok(JsonBody<TokenList>),
}

#[derive(Debug, ApiResponse)]
pub enum RevokedResponse {
    /// The token is revoked (or already was): every instance refuses it within a second.
    #[oai(status = 204)]
    NoContent,
}

/// `createToken`: a bad body (a scope the maker lacks is the 403 every protected operation
/// declares).
#[derive(Debug)]
pub struct CreateErrors;
impl ErrorStatuses for CreateErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        TOO_SLOW,
        TOO_LARGE,
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}

/// `listTokens`: only the database.
#[derive(Debug)]
pub struct ListErrors;
impl ErrorStatuses for ListErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[INTERNAL, UNAVAILABLE];
}

/// `revokeToken`: no such token, or an id that is not one.
#[derive(Debug)]
pub struct RevokeErrors;
impl ErrorStatuses for RevokeErrors {
    const STATUSES: &'static [(u16, &'static str)] =
        &[TOKEN_NOT_FOUND, INVALID, INTERNAL, UNAVAILABLE];
}

#[derive(Debug, Default, Clone, Copy)]
pub struct TokensApi;

#[OpenApi(tag = "ApiTags::Tokens")]
impl TokensApi {
    /// Create a token
    ///
    /// Makes a token with the scopes given and answers its secret, this once: only its hash
    /// is stored. A token can give only scopes it holds itself (`403` naming the one it
    /// lacks), and what it makes expires no later than it does. The new token works on this
    /// instance at once, on the others within a second. Revoking the maker later does not
    /// revoke what it made, with one exception: a token made with a person's sign-in (or
    /// with a token that one made) belongs to the account (`made_by_account_id`), so disabling
    /// it, lowering its role or a new password revokes the token too.
    #[oai(
        path = "/api/tokens",
        method = "post",
        operation_id = "createToken",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/auth.md#making-listing-and-revoking-tokens"
    )]
    async fn create(
        &self,
        caller: Authorized<AdminTokens>,
        Data(state): Data<&Arc<State>>,
        body: JsonBody<TokenCreate>,
    ) -> Result<CreatedResponse, Failure<CreateErrors>> {
        let pool = &state.pool;
        let cache = &state.tokens;
        let TokenCreate {
            name,
            scopes,
            expires_in_days,
        } = body.0;
        let maker = caller.token();
        // It may have expired since the gatekeeper looked: then it makes nothing (and the
        // table's `expires_at > created_at` would refuse a token capped at its expiry).
        if maker.is_some_and(|maker| maker.expires_at.is_some_and(|at| at <= Utc::now())) {
            return Err(ApiError::Unauthorized {
                why: AuthFailure::Expired,
                needed: Some(Scope::TokensAdmin),
            }
            .into());
        }
        if let Some(lacking) = scopes
            .iter()
            .find(|scope| maker.is_some_and(|maker| !maker.scopes.contains(scope)))
        {
            return Err(ApiError::InsufficientScope(*lacking).into());
        }
        let asked = expires_in_days
            .and_then(|days| Utc::now().checked_add_signed(TimeDelta::days(i64::from(days))));
        let expires_at = match (asked, maker.and_then(|maker| maker.expires_at)) {
            (Some(asked), Some(limit)) => Some(asked.min(limit)),
            (asked, limit) => asked.or(limit),
        };
        let (token, secret) = match maker {
            Some(maker) => {
                db::create_token_with(pool, &name, &scopes, expires_at, maker.id).await?
            }
            None => db::create_token(pool, &name, &scopes, expires_at).await?,
        };
        // Usable at once here; other instances hear of it through the trigger's NOTIFY.
        cache.put(secret.hash(), CachedToken::from(&token)).await;
        Ok(CreatedResponse::Created(JsonBody(TokenCreated {
            secret: secret.expose().to_owned(),
            token: token.into(),
        })))
    }

    /// List tokens
    ///
    /// The newest 1,000 tokens, newest first, revoked ones included; never a secret.
    #[oai(path = "/api/tokens", method = "get", operation_id = "listTokens")]
    async fn list(
        &self,
        _caller: Authorized<AdminTokens>,
        Data(state): Data<&Arc<State>>,
    ) -> Result<ListResponse, Failure<ListErrors>> {
        let pool = &state.pool;
        let tokens = db::list_tokens(pool).await?;
        Ok(ListResponse::Ok(JsonBody(TokenList {
            items: tokens.into_iter().map(Into::into).collect(),
        })))
    }

    /// Revoke a token
    ///
    /// From the answer on the token is refused by this instance, and by every other one
    /// within a second. Revoking a revoked token changes nothing. Any `tokens:admin` token
    /// may revoke any token, its own included.
    #[oai(
        path = "/api/tokens/:id",
        method = "delete",
        operation_id = "revokeToken",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/auth.md#making-listing-and-revoking-tokens"
    )]
    async fn revoke(
        &self,
        _caller: Authorized<AdminTokens>,
        Data(state): Data<&Arc<State>>,
        /// The token's id.
        id: Path<TokenId>,
    ) -> Result<RevokedResponse, Failure<RevokeErrors>> {
        let pool = &state.pool;
        let cache = &state.tokens;
        let id = id.0.get()?;
        match db::revoke_token(pool, id).await? {
            Some(_) => {
                cache.mark_revoked(id).await;
                Ok(RevokedResponse::NoContent)
            }
            None => Err(ApiError::TokenNotFound(id).into()),
        }
    }
}

/// The secret's published shape, checked against the domain's.
#[cfg(test)]
mod tests {
    use crate::domain::{TOKEN_PREFIX, TokenSecret};

    #[test]
    fn the_published_secret_pattern_matches_what_is_made() {
        let pattern = regex::Regex::new("^sat_[0-9A-Za-z]{28}$").ok();
        let secret = TokenSecret::generate().ok();
        assert!(TOKEN_PREFIX == "sat_");
        assert!(
            pattern
                .zip(secret)
                .is_some_and(|(p, s)| p.is_match(s.expose()) && s.expose().len() == 32)
        );
    }
}
