//! The `api_tokens` table (migration 8): making, listing and revoking tokens.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use super::Error;
use crate::domain::{Scope, TokenName, TokenSecret};

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: i64,
    pub name: TokenName,
    pub display_prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The account whose sign-in made it; its revocations revoke this token too.
    pub made_by_account_id: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    display_prefix: String,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    made_by_account_id: Option<i64>,
}

impl TryFrom<TokenRow> for TokenRecord {
    type Error = Error;

    fn try_from(row: TokenRow) -> Result<Self, Error> {
        // The table's CHECK allows only known scopes, so this fails only on a bug.
        let scopes = row
            .scopes
            .iter()
            .map(|scope| Scope::parse(scope))
            .collect::<Result<_, _>>()
            .map_err(|v| Error::Corrupt(format!("token {}: {}", row.id, v.message)))?;
        let name = TokenName::parse(&row.name)
            .map_err(|v| Error::Corrupt(format!("token {}: name {}", row.id, v.message)))?;
        Ok(Self {
            id: row.id,
            name,
            display_prefix: row.display_prefix,
            scopes,
            created_at: row.created_at,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
            made_by_account_id: row.made_by_account_id,
        })
    }
}

macro_rules! token_columns {
    () => {
        "id, name, display_prefix, scopes, created_at, expires_at, last_used_at, revoked_at, \
         made_by_account_id"
    };
}

/// Makes a token: returns its record and its secret (to show once; only its hash is stored).
pub async fn create_token(
    pool: &PgPool,
    name: &TokenName,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
) -> Result<(TokenRecord, TokenSecret), Error> {
    let secret = TokenSecret::generate()
        .map_err(|err| Error::Corrupt(format!("no randomness for a token: {err}")))?;
    let record = insert_token(pool, name, scopes, expires_at, &secret).await?;
    Ok((record, secret))
}

/// Makes a token with another token, `maker` (over HTTP): a sign-in's, or one a sign-in made,
/// belongs to that account (`made_by_account_id`). Refused (`Error::CallerRevoked`) when the
/// maker was revoked while its request ran, so nothing it makes outlives its account's
/// revocation.
pub async fn create_token_with(
    pool: &PgPool,
    name: &TokenName,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
    maker: i64,
) -> Result<(TokenRecord, TokenSecret), Error> {
    let secret = TokenSecret::generate()
        .map_err(|err| Error::Corrupt(format!("no randomness for a token: {err}")))?;
    let mut tx = pool.begin().await?;
    super::caller::caller_still_valid(&mut tx, Some(maker)).await?;
    let record = insert_made(
        &mut tx,
        name,
        scopes,
        expires_at,
        &secret,
        None,
        Some(maker),
    )
    .await?;
    tx.commit().await?;
    Ok((record, secret))
}

/// Stores a token whose secret the caller made (and may have put somewhere first).
pub async fn insert_token(
    pool: &PgPool,
    name: &TokenName,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
    secret: &TokenSecret,
) -> Result<TokenRecord, Error> {
    let mut conn = pool.acquire().await?;
    let record = insert_on(&mut conn, name, scopes, expires_at, secret, None).await?;
    super::settle(&mut conn).await?;
    Ok(record)
}

/// Stores a token on `conn` (in the caller's transaction), a sign-in of `account_id` if given.
pub(super) async fn insert_on(
    conn: &mut PgConnection,
    name: &TokenName,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
    secret: &TokenSecret,
    account_id: Option<i64>,
) -> Result<TokenRecord, Error> {
    insert_made(conn, name, scopes, expires_at, secret, account_id, None).await
}

/// [`insert_on`], for a token made by the token `maker` (whose account, if any, it inherits).
async fn insert_made(
    conn: &mut PgConnection,
    name: &TokenName,
    scopes: &[Scope],
    expires_at: Option<DateTime<Utc>>,
    secret: &TokenSecret,
    account_id: Option<i64>,
    maker: Option<i64>,
) -> Result<TokenRecord, Error> {
    let mut scopes: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    scopes.sort_unstable();
    scopes.dedup();
    let row: TokenRow = sqlx::query_as(concat!(
        "INSERT INTO api_tokens (name, secret_sha256, display_prefix, scopes, expires_at, \
         account_id, made_by_account_id) VALUES ($1, $2, $3, $4, $5, $6, \
         (SELECT coalesce(m.account_id, m.made_by_account_id) FROM api_tokens m WHERE m.id = $7)) \
         RETURNING ",
        token_columns!()
    ))
    .bind(name.as_str())
    .bind(secret.hash().as_slice())
    .bind(secret.display_prefix())
    .bind(&scopes)
    .bind(expires_at)
    .bind(account_id)
    .bind(maker)
    .fetch_one(conn)
    .await?;
    row.try_into()
}

/// The most tokens a list shows.
pub const TOKEN_LIST_LIMIT: i64 = 1_000;

/// The newest [`TOKEN_LIST_LIMIT`] tokens, newest first, revoked ones included.
pub async fn list_tokens(pool: &PgPool) -> Result<Vec<TokenRecord>, Error> {
    let rows: Vec<TokenRow> = sqlx::query_as(concat!(
        "SELECT ",
        token_columns!(),
        " FROM api_tokens ORDER BY id DESC LIMIT $1"
    ))
    .bind(TOKEN_LIST_LIMIT)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(TryInto::try_into).collect()
}

/// Revokes token `id` (a second revoke keeps the first time); `None` if there is no such token.
pub async fn revoke_token(pool: &PgPool, id: i64) -> Result<Option<TokenRecord>, Error> {
    let mut conn = pool.acquire().await?;
    let row: Option<TokenRow> = sqlx::query_as(concat!(
        "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ",
        token_columns!()
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    super::settle(&mut conn).await?;
    row.map(TryInto::try_into).transpose()
}

/// Whether any token exists, revoked or not (the first run makes one only when none does).
pub async fn any_token(pool: &PgPool) -> Result<bool, Error> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT FROM api_tokens)")
        .fetch_one(pool)
        .await?)
}

/// Records that token `id` was used just now.
pub async fn touch_token(pool: &PgPool, id: i64) -> Result<(), Error> {
    sqlx::query("UPDATE api_tokens SET last_used_at = now() WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
