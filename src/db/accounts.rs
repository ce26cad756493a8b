//! The `accounts` table (migration 14): people who sign in. A sign-in is an `api_tokens` row
//! with the account's id, so changing what an account may do revokes its sign-ins in the same
//! transaction, and every instance's token cache learns it from the table's notification.

use std::sync::{Arc, LazyLock};

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::Semaphore;

use super::{Error, TokenRecord, caller::caller_still_valid, tokens};
use crate::domain::{
    Password, PasswordHash, Role, Scope, StudentName, TokenName, TokenSecret, Username,
};

/// An account as listed: never its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub id: i64,
    pub username: Username,
    pub display_name: StudentName,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: i64,
    username: String,
    display_name: String,
    role: String,
    created_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
    last_sign_in_at: Option<DateTime<Utc>>,
}

impl TryFrom<AccountRow> for AccountRecord {
    type Error = Error;

    fn try_from(row: AccountRow) -> Result<Self, Error> {
        // The table's CHECKs are these types' rules, so this fails only on a bug.
        let corrupt = |what: &str, message: String| {
            Error::Corrupt(format!("account {}: {what} {message}", row.id))
        };
        Ok(Self {
            id: row.id,
            username: Username::parse(&row.username).map_err(|v| corrupt("username", v.message))?,
            display_name: StudentName::parse(&row.display_name)
                .map_err(|v| corrupt("display_name", v.message))?,
            role: Role::parse(&row.role).map_err(|v| corrupt("role", v.message))?,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
            last_sign_in_at: row.last_sign_in_at,
        })
    }
}

macro_rules! account_columns {
    () => {
        "id, username, display_name, role, created_at, disabled_at, last_sign_in_at"
    };
}

/// Makes an account; over HTTP, `caller` is the token that asks (see [`caller_still_valid`]).
pub async fn create_account(
    pool: &PgPool,
    username: &Username,
    display_name: &StudentName,
    role: Role,
    password: &PasswordHash,
    caller: Option<i64>,
) -> Result<AccountRecord, Error> {
    let mut tx = pool.begin().await?;
    caller_still_valid(&mut tx, caller).await?;
    let row: AccountRow = sqlx::query_as(concat!(
        "INSERT INTO accounts (username, display_name, role, password_hash) \
         VALUES ($1, $2, $3, $4) RETURNING ",
        account_columns!()
    ))
    .bind(username.as_str())
    .bind(display_name.as_str())
    .bind(role.as_str())
    .bind(password.as_str())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    row.try_into()
}

/// Every account, oldest first.
pub async fn list_accounts(pool: &PgPool) -> Result<Vec<AccountRecord>, Error> {
    let rows: Vec<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts ORDER BY id"
    ))
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Account `id`; `None`: no such account.
pub async fn get_account(pool: &PgPool, id: i64) -> Result<Option<AccountRecord>, Error> {
    let row: Option<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(TryInto::try_into).transpose()
}

/// The stored password hash of `username`, if there is such an account.
pub async fn stored_password_hash(
    pool: &PgPool,
    username: &Username,
) -> Result<Option<PasswordHash>, Error> {
    let stored: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE username = $1")
            .bind(username.as_str())
            .fetch_optional(pool)
            .await?;
    Ok(stored.map(PasswordHash::from_stored))
}

/// Whether any account exists (the first run makes one only when none does).
pub async fn any_account(pool: &PgPool) -> Result<bool, Error> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT FROM accounts)")
        .fetch_one(pool)
        .await?)
}

/// A new password for `username`; its sign-ins are revoked with it. `None`: no such account.
pub async fn set_password(
    pool: &PgPool,
    username: &Username,
    password: &PasswordHash,
) -> Result<Option<AccountRecord>, Error> {
    // A username never changes, so its id is as good as it.
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE username = $1")
        .bind(username.as_str())
        .fetch_optional(pool)
        .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(reset_password(pool, id, password, None)
        .await?
        .map(|changed| changed.account))
}

/// Disables `username` (a second disable keeps the first time) and revokes its sign-ins.
pub async fn disable_account(
    pool: &PgPool,
    username: &Username,
) -> Result<Option<AccountRecord>, Error> {
    let mut tx = pool.begin().await?;
    let row: Option<AccountRow> = sqlx::query_as(concat!(
        "UPDATE accounts SET disabled_at = COALESCE(disabled_at, now()) WHERE username = $1 \
         RETURNING ",
        account_columns!()
    ))
    .bind(username.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    finish_revoking(tx, row).await
}

/// Revokes the changed account's sign-in tokens in the change's transaction, then commits.
async fn finish_revoking(
    mut tx: Transaction<'_, Postgres>,
    row: Option<AccountRow>,
) -> Result<Option<AccountRecord>, Error> {
    if let Some(row) = &row {
        revoke_sign_ins(&mut tx, row.id, None).await?;
    }
    tx.commit().await?;
    row.map(TryInto::try_into).transpose()
}

/// Revokes account `id`'s live sign-in tokens, and the tokens they made, but `keep`,
/// answering their ids (every instance's cache hears of them through the table's
/// notification; this one can be told at once).
async fn revoke_sign_ins(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    keep: Option<i64>,
) -> Result<Vec<i64>, Error> {
    Ok(sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = now() \
         WHERE (account_id = $1 OR made_by_account_id = $1) AND revoked_at IS NULL \
           AND id IS DISTINCT FROM $2 RETURNING id",
    )
    .bind(id)
    .bind(keep)
    .fetch_all(&mut **tx)
    .await?)
}

/// What an update asks to change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct AccountChange {
    pub display_name: Option<StudentName>,
    pub role: Option<Role>,
    /// `true` disables (a second disable keeps the first time), `false` enables again.
    pub disabled: Option<bool>,
}

/// An account changed over HTTP, and the sign-in tokens the change revoked.
#[derive(Debug)]
pub struct Changed {
    pub account: AccountRecord,
    pub revoked: Vec<i64>,
}

/// Why an account change was refused.
#[derive(Debug, thiserror::Error)]
pub enum ChangeRefused {
    #[error("account {0} does not exist")]
    NotFound(i64),
    /// It would leave no active admin: nobody could manage accounts or tokens any more.
    #[error("account {0} is the last active admin")]
    LastAdmin(i64),
    #[error(transparent)]
    Db(#[from] Error),
}

impl From<sqlx::Error> for ChangeRefused {
    fn from(err: sqlx::Error) -> Self {
        Self::Db(err.into())
    }
}

/// Changes account `id`. Lowering its role or disabling it revokes its sign-ins in the same
/// transaction (a sign-in holds the scopes of the role it was made with). Refused when it
/// would leave no active admin: the active admins' rows are locked first, so two admins
/// demoting each other at once cannot both succeed.
pub async fn update_account(
    pool: &PgPool,
    id: i64,
    change: &AccountChange,
    caller: Option<i64>,
) -> Result<Changed, ChangeRefused> {
    let mut tx = pool.begin().await?;
    let admins: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM accounts WHERE role = 'admin' AND disabled_at IS NULL ORDER BY id \
         FOR UPDATE",
    )
    .fetch_all(&mut *tx)
    .await?;
    caller_still_valid(&mut tx, caller).await?;
    let before: Option<AccountRow> = sqlx::query_as(concat!(
        "SELECT ",
        account_columns!(),
        " FROM accounts WHERE id = $1 FOR UPDATE"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let before = AccountRecord::try_from(before.ok_or(ChangeRefused::NotFound(id))?)?;
    let role = change.role.unwrap_or(before.role);
    let disabled = change.disabled.unwrap_or(before.disabled_at.is_some());
    let stays_admin = role == Role::Admin && !disabled;
    if admins == [id] && !stays_admin {
        return Err(ChangeRefused::LastAdmin(id));
    }
    let row: AccountRow = sqlx::query_as(concat!(
        "UPDATE accounts SET display_name = COALESCE($2, display_name), role = $3, \
         disabled_at = CASE WHEN $4 THEN COALESCE(disabled_at, now()) END \
         WHERE id = $1 RETURNING ",
        account_columns!()
    ))
    .bind(id)
    .bind(change.display_name.as_ref().map(StudentName::as_str))
    .bind(role.as_str())
    .bind(disabled)
    .fetch_one(&mut *tx)
    .await?;
    let lowered = role.scopes().len() < before.role.scopes().len();
    let revoked = if lowered || (disabled && before.disabled_at.is_none()) {
        revoke_sign_ins(&mut tx, id, None).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    Ok(Changed {
        account: row.try_into()?,
        revoked,
    })
}

/// An admin's new password for account `id` (`caller`: the token that asks): every sign-in
/// of the account is revoked with it. `None`: no such account.
pub async fn reset_password(
    pool: &PgPool,
    id: i64,
    password: &PasswordHash,
    caller: Option<i64>,
) -> Result<Option<Changed>, Error> {
    let mut tx = pool.begin().await?;
    caller_still_valid(&mut tx, caller).await?;
    let row: Option<AccountRow> = sqlx::query_as(concat!(
        "UPDATE accounts SET password_hash = $2 WHERE id = $1 RETURNING ",
        account_columns!()
    ))
    .bind(id)
    .bind(password.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let revoked = revoke_sign_ins(&mut tx, id, None).await?;
    tx.commit().await?;
    Ok(Some(Changed {
        account: row.try_into()?,
        revoked,
    }))
}

/// The stored hash of active account `id` if `candidate` is its password (`None` otherwise,
/// or for no such account, at the same cost): what [`change_own_password`] is conditional on.
pub async fn checked_password(
    pool: &PgPool,
    checks: &PasswordChecks,
    id: i64,
    candidate: &str,
) -> Result<Option<String>, Error> {
    let stored: Option<String> = sqlx::query_scalar(
        "SELECT password_hash FROM accounts WHERE id = $1 AND disabled_at IS NULL",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let matches = checks
        .verify(stored.clone().map(PasswordHash::from_stored), candidate)
        .await?;
    Ok(stored.filter(|_| matches))
}

/// A person's own new password, if the account still has the password they proved
/// (`checked`, from [`checked_password`]) and the sign-in `keep` they asked with is still
/// valid: a reset or a disable that came in between wins (`Error::CallerRevoked`). The
/// account's other sign-ins, and the tokens they made, are revoked; `keep` is not.
pub async fn change_own_password(
    pool: &PgPool,
    id: i64,
    checked: &str,
    password: &PasswordHash,
    keep: i64,
) -> Result<Changed, Error> {
    let mut tx = pool.begin().await?;
    let row: Option<AccountRow> = sqlx::query_as(concat!(
        "UPDATE accounts SET password_hash = $3 \
         WHERE id = $1 AND password_hash = $2 AND disabled_at IS NULL RETURNING ",
        account_columns!()
    ))
    .bind(id)
    .bind(checked)
    .bind(password.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(Error::CallerRevoked);
    };
    caller_still_valid(&mut tx, Some(keep)).await?;
    let revoked = revoke_sign_ins(&mut tx, id, Some(keep)).await?;
    tx.commit().await?;
    Ok(Changed {
        account: row.try_into()?,
        revoked,
    })
}

#[derive(sqlx::FromRow)]
struct WithHash {
    password_hash: String,
    #[sqlx(flatten)]
    account: AccountRow,
}

/// A sign-in that worked: the account, and the token it got (its secret shown once).
#[derive(Debug)]
pub struct SignedIn {
    pub account: AccountRecord,
    pub token: TokenRecord,
    pub secret: TokenSecret,
}

/// What a sign-in came to.
#[derive(Debug)]
pub enum SignIn {
    SignedIn(Box<SignedIn>),
    /// Every refusal alike: no such username, a wrong password, a disabled account.
    Refused,
    /// The password was right, but the caller asked for a scope the role does not give.
    ScopeNotHeld(Scope),
}

/// argon2 verifications at once, at most one per core: a flood of sign-ins waits its turn
/// instead of taking every core from the rest of the API. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PasswordChecks(Arc<Semaphore>);

impl Default for PasswordChecks {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self(Arc::new(Semaphore::new(cores)))
    }
}

impl PasswordChecks {
    /// `password`'s argon2id hash, made off the async threads and within the same limit as
    /// verifications (hashing costs the same).
    pub async fn hash(&self, password: Password) -> Result<PasswordHash, Error> {
        let _permit = self
            .0
            .acquire()
            .await
            .map_err(|err| Error::Corrupt(format!("the password checks stopped: {err}")))?;
        tokio::task::spawn_blocking(move || password.hash())
            .await
            .map_err(|err| Error::Corrupt(format!("the password hashing stopped: {err}")))?
            .map_err(|err| Error::Corrupt(format!("cannot hash a password: {err}")))
    }

    /// Whether `candidate` is the password of `hash`; for `None` (no such account) the same
    /// work against a placeholder, and `false`.
    async fn verify(&self, hash: Option<PasswordHash>, candidate: &str) -> Result<bool, Error> {
        let _permit = self
            .0
            .acquire()
            .await
            .map_err(|err| Error::Corrupt(format!("the password checks stopped: {err}")))?;
        let candidate = candidate.to_owned();
        metrics::counter!(crate::telemetry::PASSWORD_CHECKS).increment(1);
        // argon2 is CPU work by design: off the async threads.
        tokio::task::spawn_blocking(move || match hash {
            Some(hash) => hash.verify(&candidate),
            None => {
                UNKNOWN_ACCOUNT
                    .as_ref()
                    .map(|placeholder| placeholder.verify(&candidate));
                false
            }
        })
        .await
        .map_err(|err| Error::Corrupt(format!("the password check stopped: {err}")))
    }
}

/// Checks `username` and `password` and, when they are an active account's, makes a token of
/// the account's scopes (or of `wanted`, when they are among them) that expires after
/// `lifetime`. A `None` username (what was sent cannot be one) costs the same verification:
/// neither the answer nor its time may tell a caller which usernames exist.
pub async fn sign_in(
    pool: &PgPool,
    checks: &PasswordChecks,
    username: Option<&Username>,
    password: &str,
    wanted: Option<&[Scope]>,
    lifetime: TimeDelta,
) -> Result<SignIn, Error> {
    let found = match username {
        Some(username) => {
            sqlx::query_as::<_, WithHash>(concat!(
                "SELECT password_hash, ",
                account_columns!(),
                " FROM accounts WHERE username = $1"
            ))
            .bind(username.as_str())
            .fetch_optional(pool)
            .await?
        }
        None => None,
    };
    let (hash, row) = match found {
        Some(found) => (
            Some(PasswordHash::from_stored(found.password_hash)),
            Some(found.account),
        ),
        None => (None, None),
    };
    let checked_hash = hash.as_ref().map(|hash| hash.as_str().to_owned());
    let verified = checks.verify(hash, password).await?;
    let Some(row) = row.filter(|row| verified && row.disabled_at.is_none()) else {
        return Ok(SignIn::Refused);
    };
    let account = AccountRecord::try_from(row)?;
    let held = account.role.scopes();
    let scopes = match wanted {
        Some(wanted) => {
            if let Some(lacking) = wanted.iter().find(|scope| !held.contains(scope)) {
                return Ok(SignIn::ScopeNotHeld(*lacking));
            }
            wanted
        }
        None => held,
    };
    let secret = TokenSecret::generate()
        .map_err(|err| Error::Corrupt(format!("no randomness for a token: {err}")))?;
    let name = TokenName::parse(&format!("sign-in of {}", account.username))
        .map_err(|v| Error::Corrupt(format!("sign-in token name: {}", v.message)))?;
    let expires_at = Utc::now()
        .checked_add_signed(lifetime)
        .ok_or_else(|| Error::Corrupt("a sign-in lifetime past any date".to_owned()))?;
    let mut tx = pool.begin().await?;
    let token = tokens::insert_on(
        &mut tx,
        &name,
        scopes,
        Some(expires_at),
        &secret,
        Some(account.id),
    )
    .await?;
    // Disabled, given another role or another password since the check: the row lock of this
    // UPDATE decides. A change that committed first leaves it nothing to match (READ COMMITTED
    // reads the row again after waiting), so the token is rolled back; a change that comes after
    // waits for this commit and then revokes the token with the account's others.
    let still_active: Option<DateTime<Utc>> = sqlx::query_scalar(
        "UPDATE accounts SET last_sign_in_at = now() \
         WHERE id = $1 AND disabled_at IS NULL AND role = $2 AND password_hash = $3 \
         RETURNING last_sign_in_at",
    )
    .bind(account.id)
    .bind(account.role.as_str())
    .bind(checked_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(last_sign_in_at) = still_active else {
        return Ok(SignIn::Refused); // the transaction rolls back with the token
    };
    tx.commit().await?;
    Ok(SignIn::SignedIn(Box::new(SignedIn {
        account: AccountRecord {
            last_sign_in_at: Some(last_sign_in_at),
            ..account
        },
        token,
        secret,
    })))
}

/// A hash no password verifies against in practice, for unknown usernames.
static UNKNOWN_ACCOUNT: LazyLock<Option<PasswordHash>> = LazyLock::new(|| {
    let placeholder = TokenSecret::generate().ok()?;
    Password::parse(placeholder.expose()).ok()?.hash().ok()
});
