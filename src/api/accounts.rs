//! `/api/accounts` and `/api/me/password`: people's accounts over HTTP (`accounts:admin`),
//! the same as `students-api account …` does against the database, and a person changing their
//! own password. Also the account's wire types.

use std::sync::Arc;

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::Path,
    registry::MetaSchema,
    types::{ParseError, ParseFromJSON, ParseResult, ToJSON},
};
use serde::Serialize;
use serde_json::Value;

use crate::{
    api::{
        ApiTags,
        auth::{self, AdminAccounts, AnyToken, Authorized},
        contract::{ErrorStatuses, Failure, statuses::*},
        json::JsonBody,
        state::State,
        types::{
            IdOf, Nullable, PathId, Timestamp, domain_string_type, inline_scalar_type,
            named_scalar_type,
        },
    },
    db::{self, AccountChange, AccountRecord, ChangeRefused},
    domain::{Password, ROLES, Role, StudentName, Username},
    error::{ApiError, FieldError},
};

domain_string_type!(
    Username,
    inline_scalar_type!(
        "Username",
        MetaSchema {
            description: Some(
                "A sign-in name: 3 to 64 of a-z, 0-9, `.`, `_`, `-`, starting with a letter or \
                 digit. Sent in any case, it is stored lower-cased: `Ada` and `ada` are one \
                 account."
            ),
            min_length: Some(3),
            max_length: Some(64),
            pattern: Some(Username::SENT_PATTERN.to_owned()),
            ..MetaSchema::new("string")
        }
    )
);

domain_string_type!(
    Role,
    named_scalar_type!(
        "Role",
        MetaSchema {
            description: Some(
                "What an account may do: `viewer` reads students (`students:read`), `editor` \
                 also writes them (`students:write`), `admin` may do everything (every scope)."
            ),
            enum_items: ROLES.iter().map(|r| Value::from(r.as_str())).collect(),
            ..MetaSchema::new("string")
        }
    )
);

/// A display name: a student's name's rules.
pub type DisplayName = StudentName;

/// An account as read: never its password or its hash.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Account")]
pub struct AccountRead {
    #[oai(
        read_only,
        validator(minimum(value = "1"), maximum(value = "9223372036854775807"))
    )]
    pub id: i64,
    pub username: Username,
    /// The name shown for the person.
    pub display_name: DisplayName,
    pub role: Role,
    pub created_at: Timestamp,
    /// When it was disabled (it cannot sign in); `null`: active.
    pub disabled_at: Nullable<Timestamp>,
    /// When it last signed in; `null`: never.
    pub last_sign_in_at: Nullable<Timestamp>,
}

impl From<AccountRecord> for AccountRead {
    fn from(account: AccountRecord) -> Self {
        Self {
            id: account.id,
            username: account.username,
            display_name: account.display_name,
            role: account.role,
            created_at: Timestamp(account.created_at),
            disabled_at: Nullable(account.disabled_at.map(Timestamp)),
            last_sign_in_at: Nullable(account.last_sign_in_at.map(Timestamp)),
        }
    }
}

inline_scalar_type!(
    Password,
    "Password",
    MetaSchema {
        description: Some(
            "A new password (NIST SP 800-63B): 12 to 256 characters of any Unicode but control \
             characters, counted after NFKC normalisation, and not one of the 10,000 most \
             common passwords. No other rules: spaces, emoji and passphrases are welcome."
        ),
        min_length: Some(Password::MIN_CHARS),
        max_length: Some(Password::MAX_CHARS),
        pattern: Some(Password::PATTERN.to_owned()),
        ..MetaSchema::new_with_format("string", "password")
    }
);

impl ParseFromJSON for Password {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(raw)) => {
                Password::parse(&raw).map_err(|v| ParseError::custom(v.message))
            }
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

/// A password is only ever read: it never goes back out.
impl ToJSON for Password {
    fn to_json(&self) -> Option<Value> {
        None
    }
}

/// A password as typed to prove who one is: checked against the stored hash, never against
/// the rules (it was set under them).
#[derive(Clone)]
pub struct CurrentPassword(String);

impl std::fmt::Debug for CurrentPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CurrentPassword(…)")
    }
}

inline_scalar_type!(
    CurrentPassword,
    "CurrentPassword",
    MetaSchema {
        description: Some("The password the account has now."),
        min_length: Some(1),
        max_length: Some(1024),
        ..MetaSchema::new_with_format("string", "password")
    }
);

impl ParseFromJSON for CurrentPassword {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(raw)) => Ok(Self(raw)),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for CurrentPassword {
    fn to_json(&self) -> Option<Value> {
        None
    }
}

/// An account to make. Unknown fields are refused with 422.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields, rename = "AccountCreate")]
pub struct AccountCreate {
    pub username: Username,
    /// The name shown for the person.
    pub display_name: DisplayName,
    pub role: Role,
    /// Its first password; the person can change it (changeMyPassword).
    #[oai(write_only)]
    pub password: Password,
}

impl super::json::Body for AccountCreate {}

/// What to change about an account; absent fields stay. A lower `role` revokes the
/// account's sign-ins (they hold the old role's scopes). Unknown fields: 422.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields, rename = "AccountUpdate")]
pub struct AccountUpdate {
    pub display_name: Option<DisplayName>,
    pub role: Option<Role>,
    /// `true` disables the account (it cannot sign in, its sign-ins are revoked); `false`
    /// enables it again.
    pub disabled: Option<bool>,
}

impl super::json::Body for AccountUpdate {}

/// A password an admin sets for an account. Unknown fields: 422.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields, rename = "PasswordReset")]
pub struct PasswordReset {
    #[oai(write_only)]
    pub password: Password,
}

impl super::json::Body for PasswordReset {}

/// A new password for oneself, and the current one to prove it. Unknown fields: 422.
#[derive(Debug, Object)]
#[oai(deny_unknown_fields, rename = "PasswordChange")]
pub struct PasswordChange {
    #[oai(write_only)]
    pub current_password: CurrentPassword,
    #[oai(write_only)]
    pub new_password: Password,
}

impl super::json::Body for PasswordChange {}

/// Every account, oldest first.
#[derive(Debug, Clone, Object, Serialize)]
pub struct AccountList {
    /// The first 1,000 accounts, disabled ones included.
    #[oai(validator(max_items = 1000))]
    pub items: Vec<AccountRead>,
}

/// The most accounts `listAccounts` answers.
const MAX_LISTED: usize = 1000;

/// Names accounts in [`AccountId`] messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfAccount;
impl IdOf for OfAccount {
    const A_NOUN: &'static str = "an account";
}

/// The `{id}` in `/api/accounts/{id}`.
pub type AccountId = PathId<OfAccount>;

#[derive(Debug, ApiResponse)]
pub enum AccountCreatedResponse {
    /// The account was made; `Location` is its URL. It can sign in at once.
    #[oai(status = 201)]
    Created(JsonBody<AccountRead>, #[oai(header = "Location")] String),
}

#[derive(Debug, ApiResponse)]
pub enum AccountResponse {
    /// The account.
    #[oai(status = 200)]
    Ok(JsonBody<AccountRead>),
}

#[derive(Debug, ApiResponse)]
pub enum AccountListResponse {
    /// The accounts, oldest first.
    #[oai(status = 200)]
    Ok(JsonBody<AccountList>),
}

#[derive(Debug, ApiResponse)]
pub enum PasswordSetResponse {
    /// The password is set; the sign-ins it revoked are refused by every instance within a
    /// second.
    #[oai(status = 204)]
    NoContent,
}

const ACCOUNT_NOT_FOUND: (u16, &str) = (404, "No account has this id.");

/// `listAccounts`: only the database.
#[derive(Debug)]
pub struct ListErrors;
impl ErrorStatuses for ListErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[INTERNAL, UNAVAILABLE];
}

/// `getAccount`: no such account, or an id that is not one.
#[derive(Debug)]
pub struct GetErrors;
impl ErrorStatuses for GetErrors {
    const STATUSES: &'static [(u16, &'static str)] =
        &[ACCOUNT_NOT_FOUND, INVALID, INTERNAL, UNAVAILABLE];
}

/// `createAccount`: a bad body, or a taken username.
#[derive(Debug)]
pub struct CreateErrors;
impl ErrorStatuses for CreateErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        TOO_SLOW,
        TOO_LARGE,
        (409, "Another account already has this username."),
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}

/// `updateAccount`: a bad body, no such account, or the last admin.
#[derive(Debug)]
pub struct UpdateErrors;
impl ErrorStatuses for UpdateErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        ACCOUNT_NOT_FOUND,
        TOO_SLOW,
        (
            409,
            "The change would leave no active admin account (`last-admin`): make another \
             account admin first.",
        ),
        TOO_LARGE,
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}

/// `resetPassword`: a bad body or no such account.
#[derive(Debug)]
pub struct ResetErrors;
impl ErrorStatuses for ResetErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        ACCOUNT_NOT_FOUND,
        TOO_SLOW,
        TOO_LARGE,
        UNSUPPORTED,
        INVALID,
        INTERNAL,
        UNAVAILABLE,
    ];
}

/// `changeMyPassword`: an API token, a wrong current password, a bad new one, the sign-in
/// limits.
#[derive(Debug)]
pub struct ChangeMineErrors;
impl ErrorStatuses for ChangeMineErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        BAD_REQUEST,
        (
            403,
            "The token is an API token (`not-a-sign-in`): it has no account, so no password.",
        ),
        TOO_SLOW,
        TOO_LARGE,
        UNSUPPORTED,
        (
            422,
            "`current_password` is wrong (it counts as a failed sign-in), or the new password \
             breaks a rule; `errors` names each.",
        ),
        (
            429,
            "Too many failed sign-ins (wrong current passwords among them) for this account or \
             from this address in 15 minutes, or too many requests; retry after \
             `Retry-After` seconds.",
        ),
        INTERNAL,
        UNAVAILABLE,
    ];
}

impl From<ChangeRefused> for ApiError {
    fn from(refused: ChangeRefused) -> Self {
        match refused {
            ChangeRefused::NotFound(id) => ApiError::AccountNotFound(id),
            ChangeRefused::LastAdmin(id) => ApiError::LastAdmin(id),
            ChangeRefused::Db(err) => err.into(),
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub struct AccountsApi;

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// List accounts
    ///
    /// The first 1,000 accounts, oldest first, disabled ones included; never a password or
    /// its hash.
    #[oai(path = "/api/accounts", method = "get", operation_id = "listAccounts")]
    async fn list(
        &self,
        _caller: Authorized<AdminAccounts>,
        Data(state): Data<&Arc<State>>,
    ) -> Result<AccountListResponse, Failure<ListErrors>> {
        let accounts = db::list_accounts(&state.pool).await?;
        Ok(AccountListResponse::Ok(JsonBody(AccountList {
            items: accounts
                .into_iter()
                .take(MAX_LISTED)
                .map(Into::into)
                .collect(),
        })))
    }

    /// Create an account
    ///
    /// A person who can sign in (signIn) at once, with the role's scopes. The password is
    /// kept only as an argon2id hash.
    #[oai(
        path = "/api/accounts",
        method = "post",
        operation_id = "createAccount",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/auth.md#accounts"
    )]
    async fn create(
        &self,
        caller: Authorized<AdminAccounts>,
        Data(state): Data<&Arc<State>>,
        body: JsonBody<AccountCreate>,
    ) -> Result<AccountCreatedResponse, Failure<CreateErrors>> {
        let AccountCreate {
            username,
            display_name,
            role,
            password,
        } = body.0;
        let hash = state.sign_ins.checks.hash(password).await?;
        let caller_id = caller.token_id();
        let account = db::create_account(
            &state.pool,
            &username,
            &display_name,
            role,
            &hash,
            caller_id,
        )
        .await?;
        tracing::info!(
            account = account.id,
            username = account.username.as_str(),
            role = account.role.as_str(),
            by = caller_id,
            "account created"
        );
        let location = format!("/api/accounts/{}", account.id);
        Ok(AccountCreatedResponse::Created(
            JsonBody(account.into()),
            location,
        ))
    }

    /// Get an account
    ///
    /// One account, as `listAccounts` shows it; never its password or hash.
    #[oai(
        path = "/api/accounts/:id",
        method = "get",
        operation_id = "getAccount"
    )]
    async fn get(
        &self,
        _caller: Authorized<AdminAccounts>,
        Data(state): Data<&Arc<State>>,
        /// The account's id.
        id: Path<AccountId>,
    ) -> Result<AccountResponse, Failure<GetErrors>> {
        let id = id.0.get()?;
        match db::get_account(&state.pool, id).await? {
            Some(account) => Ok(AccountResponse::Ok(JsonBody(account.into()))),
            None => Err(ApiError::AccountNotFound(id).into()),
        }
    }

    /// Update an account
    ///
    /// Changes the display name, the role, or whether the account is disabled; absent fields
    /// stay. Lowering the role or disabling revokes the account's sign-ins: every instance
    /// refuses them within a second. The last active admin cannot be lowered or disabled
    /// (`409 last-admin`).
    #[oai(
        path = "/api/accounts/:id",
        method = "patch",
        operation_id = "updateAccount",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/auth.md#accounts"
    )]
    async fn update(
        &self,
        caller: Authorized<AdminAccounts>,
        Data(state): Data<&Arc<State>>,
        /// The account's id.
        id: Path<AccountId>,
        body: JsonBody<AccountUpdate>,
    ) -> Result<AccountResponse, Failure<UpdateErrors>> {
        let id = id.0.get()?;
        let AccountUpdate {
            display_name,
            role,
            disabled,
        } = body.0;
        let change = AccountChange {
            display_name,
            role,
            disabled,
        };
        let caller_id = caller.token_id();
        let changed = db::update_account(&state.pool, id, &change, caller_id).await?;
        state.tokens.mark_all_revoked(&changed.revoked).await;
        tracing::info!(
            account = id,
            role = changed.account.role.as_str(),
            disabled = changed.account.disabled_at.is_some(),
            revoked = changed.revoked.len(),
            by = caller_id,
            "account updated"
        );
        Ok(AccountResponse::Ok(JsonBody(changed.account.into())))
    }

    /// Reset an account's password
    ///
    /// Sets a new password for the account, for a person who forgot theirs: every sign-in of
    /// the account is revoked (every instance refuses them within a second).
    #[oai(
        path = "/api/accounts/:id/password",
        method = "put",
        operation_id = "resetPassword",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/auth.md#accounts"
    )]
    async fn reset_password(
        &self,
        caller: Authorized<AdminAccounts>,
        Data(state): Data<&Arc<State>>,
        /// The account's id.
        id: Path<AccountId>,
        body: JsonBody<PasswordReset>,
    ) -> Result<PasswordSetResponse, Failure<ResetErrors>> {
        let id = id.0.get()?;
        let hash = state.sign_ins.checks.hash(body.0.password).await?;
        let caller_id = caller.token_id();
        let Some(changed) = db::reset_password(&state.pool, id, &hash, caller_id).await? else {
            return Err(ApiError::AccountNotFound(id).into());
        };
        state.tokens.mark_all_revoked(&changed.revoked).await;
        tracing::info!(
            account = id,
            revoked = changed.revoked.len(),
            by = caller_id,
            "password reset"
        );
        Ok(PasswordSetResponse::NoContent)
    }

    /// Change my password
    ///
    /// For a signed-in person: the current password and a new one. The account's other
    /// sign-ins are revoked (every instance refuses them within a second); this one keeps
    /// working. A wrong current password is a `422` and counts as a failed sign-in, under the
    /// same limits (`429`). An API token has no password (`403 not-a-sign-in`).
    #[oai(
        path = "/api/me/password",
        method = "put",
        operation_id = "changeMyPassword",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/auth.md#accounts"
    )]
    async fn change_mine(
        &self,
        request: &Request,
        caller: Authorized<AnyToken>,
        Data(state): Data<&Arc<State>>,
        body: JsonBody<PasswordChange>,
    ) -> Result<PasswordSetResponse, Failure<ChangeMineErrors>> {
        let Some((token, holder)) = caller
            .token()
            .and_then(|token| Some((token, token.account.as_ref()?)))
        else {
            return Err(ApiError::NotASignIn.into());
        };
        let PasswordChange {
            current_password,
            new_password,
        } = body.0;
        let username = Username::parse(&holder.username).ok();
        let sign_ins = &state.sign_ins;
        auth::admit_password_check(&state.pool, sign_ins.limits, username.as_ref(), request)
            .await?;
        let checked = db::checked_password(
            &state.pool,
            &sign_ins.checks,
            holder.id,
            &current_password.0,
        )
        .await?;
        let Some(checked) = checked else {
            tracing::info!(
                account = holder.id,
                "password change refused: wrong current password"
            );
            return Err(ApiError::Validation(vec![FieldError::new(
                "/current_password",
                "wrong",
                "is not the account's password",
            )])
            .into());
        };
        if let Some(username) = &username {
            auth::forget_failed_checks(&state.pool, username).await;
        }
        let hash = sign_ins.checks.hash(new_password).await?;
        // A reset or a disable since the check wins: then this sign-in is revoked (401).
        let changed =
            db::change_own_password(&state.pool, holder.id, &checked, &hash, token.id).await?;
        state.tokens.mark_all_revoked(&changed.revoked).await;
        tracing::info!(
            account = holder.id,
            revoked = changed.revoked.len(),
            "password changed by its owner"
        );
        Ok(PasswordSetResponse::NoContent)
    }
}
