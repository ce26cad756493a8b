//! Every token's hash and what it may do, in memory: checking a request's token costs a hash
//! and a map lookup, never a database round trip. Kept current by `NOTIFY api_tokens_changed`
//! (a trigger on `api_tokens`, migration 9: the payload is the changed token's id, so one row
//! is reread), so a revoke anywhere (the API, the CLI, psql) is seen by every instance at once;
//! a full reload every [`RELOAD_INTERVAL`] bounds how stale the cache can be if a notification
//! is ever lost (a dropped LISTEN connection).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{Error, TokenRecord};
use crate::domain::{Scope, TokenSecret};

/// The channel the `api_tokens` trigger notifies.
pub const TOKENS_CHANNEL: &str = "api_tokens_changed";

/// More notifications than this waiting at once are answered with one full reload.
const BULK_CHANGE: usize = 100;

/// The longest the cache goes without a full reload.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(30);

/// How long a secret that no row had is remembered as unknown, so a client repeating a wrong
/// token costs one query, not one a request. A token made with that secret is known at once
/// all the same: reading its row forgets the miss.
pub const MISS_TTL: Duration = Duration::from_secs(10);

/// The most misses remembered; past it the oldest are forgotten (guesses are also bounded by
/// the per-address rate limit).
const MAX_MISSES: usize = 10_000;

/// What the cache knows of one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedToken {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    /// The account a sign-in token belongs to; `None`: a token made for a program.
    pub account: Option<Holder>,
}

/// The account holding a sign-in token (a username never changes, so the cache may keep it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub id: i64,
    pub username: String,
}

impl From<&TokenRecord> for CachedToken {
    fn from(token: &TokenRecord) -> Self {
        Self {
            id: token.id,
            name: token.name.as_str().to_owned(),
            scopes: token.scopes.clone(),
            expires_at: token.expires_at,
            revoked: token.revoked_at.is_some(),
            account: None,
        }
    }
}

/// What a presented secret turns out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The tokens have not been read yet (the database has been away since start-up).
    NotLoaded,
    Valid(Arc<CachedToken>),
    Unknown,
    Expired(Arc<CachedToken>),
    Revoked(Arc<CachedToken>),
}

/// One row of `api_tokens` as the cache reads it: hash, id, name, scopes, expiry, revoked,
/// and the account (id, username) of a sign-in.
type TokenRow = (
    Vec<u8>,
    i64,
    String,
    Vec<String>,
    Option<DateTime<Utc>>,
    bool,
    Option<i64>,
    Option<String>,
);

/// The tokens, by the SHA-256 of their secrets; `None` until first read. Cheap to clone (one
/// shared map).
#[derive(Debug, Clone, Default)]
pub struct TokenCache {
    tokens: Arc<RwLock<Option<Tokens>>>,
    /// Held from a reread's query to its update of the map, so rereads apply in the order they
    /// read: a full reload that read before a revoke committed cannot be swapped in after the
    /// revoke was applied (and bring the token back).
    apply: Arc<tokio::sync::Mutex<()>>,
    /// Secrets (by hash) a database read found no token for, and when.
    misses: Arc<Mutex<HashMap<[u8; 32], Instant>>>,
    /// Woken after every change to the map, for [`Self::until_invalid`].
    changed: Arc<tokio::sync::Notify>,
}

/// Every token by the SHA-256 of its secret, and each token's hash by its id (a notification
/// names a token by id).
#[derive(Debug, Default)]
struct Tokens {
    by_hash: HashMap<[u8; 32], Arc<CachedToken>>,
    hash_of: HashMap<i64, [u8; 32]>,
}

impl Tokens {
    fn remove(&mut self, id: i64) {
        if let Some(hash) = self.hash_of.remove(&id) {
            self.by_hash.remove(&hash);
        }
    }

    fn insert(&mut self, hash: [u8; 32], token: CachedToken) {
        self.insert_shared(hash, Arc::new(token));
    }

    fn insert_shared(&mut self, hash: [u8; 32], token: Arc<CachedToken>) {
        self.remove(token.id);
        self.hash_of.insert(token.id, hash);
        self.by_hash.insert(hash, token);
    }
}

/// A token's verdict as its row says.
fn verdict_of(token: Arc<CachedToken>) -> Verdict {
    if token.revoked {
        Verdict::Revoked(token)
    } else if token.expires_at.is_some_and(|at| at <= Utc::now()) {
        Verdict::Expired(token)
    } else {
        Verdict::Valid(token)
    }
}

const TOKEN_COLUMNS: &str = "secret_sha256, id, name, scopes, expires_at, revoked_at IS NOT NULL, \
     account_id, (SELECT username FROM accounts WHERE accounts.id = api_tokens.account_id)";

/// A row as the cache keeps it.
fn cached(row: TokenRow) -> Result<([u8; 32], CachedToken), Error> {
    let (hash, id, name, scopes, expires_at, revoked, account_id, username) = row;
    let hash = <[u8; 32]>::try_from(hash.as_slice())
        .map_err(|_| Error::Corrupt(format!("token {id}: a hash that is not 32 bytes")))?;
    let scopes = scopes
        .iter()
        .map(|scope| Scope::parse(scope))
        .collect::<Result<_, _>>()
        .map_err(|v| Error::Corrupt(format!("token {id}: {}", v.message)))?;
    Ok((
        hash,
        CachedToken {
            id,
            name,
            scopes,
            expires_at,
            revoked,
            account: account_id
                .zip(username)
                .map(|(id, username)| Holder { id, username }),
        },
    ))
}

impl TokenCache {
    /// What `secret` is, as of the last reload.
    pub fn check(&self, secret: &TokenSecret) -> Verdict {
        let hash = secret.hash();
        let lookup = |tokens: &Option<Tokens>| {
            tokens
                .as_ref()
                .map(|tokens| tokens.by_hash.get(&hash).cloned())
        };
        let found = match self.tokens.read() {
            Ok(tokens) => lookup(&tokens),
            Err(poisoned) => lookup(&poisoned.into_inner()),
        };
        match found {
            None => Verdict::NotLoaded,
            Some(None) => Verdict::Unknown,
            Some(Some(token)) => verdict_of(token),
        }
    }

    /// What token `id` is now, as the cache has it.
    fn status(&self, id: i64) -> Verdict {
        let lookup = |tokens: &Option<Tokens>| {
            tokens.as_ref().map(|tokens| {
                let hash = tokens.hash_of.get(&id)?;
                tokens.by_hash.get(hash).cloned()
            })
        };
        let found = match self.tokens.read() {
            Ok(tokens) => lookup(&tokens),
            Err(poisoned) => lookup(&poisoned.into_inner()),
        };
        match found {
            None => Verdict::NotLoaded,
            Some(None) => Verdict::Unknown,
            Some(Some(token)) => verdict_of(token),
        }
    }

    /// Returns once `token` may no longer be used: revoked (`Verdict::Revoked`), expired
    /// (`Expired`) or gone from the table (`Unknown`), as soon as this instance's cache knows:
    /// what a request opened with it (a change stream, a long poll) ends then.
    pub async fn until_invalid(&self, token: &CachedToken) -> Verdict {
        let mut expires_at = token.expires_at;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            // Registered before the status is read: a change in between is not missed.
            changed.as_mut().enable();
            match self.status(token.id) {
                Verdict::Valid(now) => expires_at = now.expires_at,
                Verdict::NotLoaded => {}
                ended => return ended,
            }
            match expires_at {
                Some(at) => {
                    let left = (at - Utc::now()).to_std().unwrap_or_default();
                    if tokio::time::timeout(left, changed).await.is_err()
                        && self.status(token.id) == Verdict::NotLoaded
                    {
                        return verdict_of(Arc::new(token.clone()));
                    }
                }
                None => changed.await,
            }
        }
    }

    /// Wakes [`Self::until_invalid`]'s waiters after a change to the map.
    fn announce(&self) {
        self.changed.notify_waiters();
    }

    /// What `secret` is, read from the database, for a secret [`Self::check`] does not know
    /// (or before the cache was read): a token made a moment ago, whose notification has not
    /// arrived, is never refused. A secret no row has is remembered for [`MISS_TTL`].
    pub async fn look_up(&self, pool: &PgPool, secret: &TokenSecret) -> Result<Verdict, Error> {
        let known = |verdict: &Verdict| !matches!(verdict, Verdict::Unknown | Verdict::NotLoaded);
        let hash = secret.hash();
        if self.missed_recently(&hash) {
            return Ok(Verdict::Unknown);
        }
        // In turn with the follower's rereads: a row read here cannot be applied over a newer
        // reread of it (a revoke), and a miss is recorded before any reread can forget it.
        let _turn = self.apply.lock().await;
        let verdict = self.check(secret);
        if known(&verdict) || self.missed_recently(&hash) {
            return Ok(verdict);
        }
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_sha256 = $1"
        )))
        .bind(hash.as_slice())
        .fetch_optional(pool)
        .await?;
        match row.map(cached).transpose()? {
            Some((hash, token)) => {
                let token = Arc::new(token);
                if let Some(tokens) = self.write().as_mut() {
                    tokens.insert_shared(hash, token.clone());
                }
                self.announce();
                Ok(verdict_of(token))
            }
            None => {
                self.remember_miss(hash);
                Ok(Verdict::Unknown)
            }
        }
    }

    fn misses(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Instant>> {
        match self.misses.lock() {
            Ok(misses) => misses,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn missed_recently(&self, hash: &[u8; 32]) -> bool {
        self.misses()
            .get(hash)
            .is_some_and(|at| at.elapsed() < MISS_TTL)
    }

    fn remember_miss(&self, hash: [u8; 32]) {
        let mut misses = self.misses();
        if misses.len() >= MAX_MISSES {
            misses.retain(|_, at| at.elapsed() < MISS_TTL);
            if misses.len() >= MAX_MISSES {
                misses.clear();
            }
        }
        misses.insert(hash, Instant::now());
    }

    fn forget_miss(&self, hash: &[u8; 32]) {
        self.misses().remove(hash);
    }

    /// Whether the tokens have been read at least once.
    pub fn is_loaded(&self) -> bool {
        match self.tokens.read() {
            Ok(tokens) => tokens.is_some(),
            Err(poisoned) => poisoned.into_inner().is_some(),
        }
    }

    /// Reads every token again and swaps the whole map at once. A row the cache cannot read
    /// (a scope a newer version added, during a rolling upgrade) is left out, with a warning:
    /// that token is unknown here, the others still work.
    pub async fn reload(&self, pool: &PgPool) -> Result<usize, Error> {
        let _turn = self.apply.lock().await;
        let rows: Vec<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens"
        )))
        .fetch_all(pool)
        .await?;
        let mut tokens = Tokens::default();
        for row in rows {
            match cached(row) {
                Ok((hash, token)) => tokens.insert(hash, token),
                Err(err) => tracing::warn!(error = %err, "a token the cache cannot read"),
            }
        }
        let count = tokens.by_hash.len();
        *self.write() = Some(tokens);
        self.misses().clear();
        self.announce();
        Ok(count)
    }

    /// Reads token `id` again (added, changed, revoked or gone). Before the first full read
    /// there is nothing to update: that read will see it.
    pub async fn reload_one(&self, pool: &PgPool, id: i64) -> Result<(), Error> {
        let _turn = self.apply.lock().await;
        let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(pool)
        .await?;
        let row = row.map(cached).transpose()?;
        if let Some((hash, _)) = &row {
            self.forget_miss(hash);
        }
        if let Some(tokens) = self.write().as_mut() {
            match row {
                Some((hash, token)) => tokens.insert(hash, token),
                None => tokens.remove(id),
            }
        }
        self.announce();
        Ok(())
    }

    /// Adds a token just made, without a database read (its maker knows the row).
    pub async fn put(&self, hash: [u8; 32], token: CachedToken) {
        let _turn = self.apply.lock().await;
        self.forget_miss(&hash);
        if let Some(tokens) = self.write().as_mut() {
            tokens.insert(hash, token);
        }
        self.announce();
    }

    /// Marks token `id` revoked, without a database read (its revoker just wrote it).
    pub async fn mark_revoked(&self, id: i64) {
        self.mark_all_revoked(&[id]).await;
    }

    /// Marks every token of `ids` revoked (an account's sign-ins, say), in one turn.
    pub async fn mark_all_revoked(&self, ids: &[i64]) {
        let _turn = self.apply.lock().await;
        if let Some(tokens) = self.write().as_mut() {
            for id in ids {
                if let Some(hash) = tokens.hash_of.get(id).copied()
                    && let Some(token) = tokens.by_hash.get(&hash)
                {
                    let revoked = CachedToken {
                        revoked: true,
                        ..(**token).clone()
                    };
                    tokens.insert(hash, revoked);
                }
            }
        }
        self.announce();
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Option<Tokens>> {
        match self.tokens.write() {
            Ok(tokens) => tokens,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Keeps the cache current for as long as it runs: rereads each token a notification
    /// names (everything after a bulk change, or a lost connection) and everything every
    /// [`RELOAD_INTERVAL`] (every second until the first read succeeds). It works on a pool of
    /// its own, made from `direct`'s settings: one connection holds the LISTEN for good, the
    /// other rereads, so a request pool full of exports cannot delay a revoke.
    pub async fn follow(self, direct: super::ListenPool) {
        let own = super::follower_pool(&direct);
        loop {
            let mut listener = super::listen(&own, TOKENS_CHANNEL).await;
            // Listening now: whatever changed before is read by this reload.
            let mut next_full = self.reload_logged(&own).await;
            loop {
                // A fixed deadline, so a steady stream of notifications cannot put off the
                // full reread. `try_recv` says `None` when the connection was lost (it has
                // reconnected and listens again): what changed meanwhile was not notified.
                match tokio::time::timeout_at(next_full, listener.try_recv()).await {
                    Ok(Ok(Some(notification))) => {
                        // A bulk change in psql notifies every row: past a few, one full
                        // read is cheaper than a query per token.
                        let mut ids: Vec<Option<i64>> = vec![notification.payload().parse().ok()];
                        while ids.len() <= BULK_CHANGE
                            && let Some(next) = listener.next_buffered()
                        {
                            ids.push(next.payload().parse().ok());
                        }
                        let ids: Option<Vec<i64>> = ids.into_iter().collect();
                        let Some(ids) = ids.filter(|ids| ids.len() <= BULK_CHANGE) else {
                            while listener.next_buffered().is_some() {}
                            next_full = self.reload_logged(&own).await;
                            continue;
                        };
                        for id in ids {
                            if let Err(err) = self.reload_one(&own, id).await {
                                tracing::warn!(error = %err, token = id, "cannot reread a token");
                                next_full = self.reload_logged(&own).await;
                                break;
                            }
                        }
                    }
                    Ok(Ok(None)) | Err(_) => next_full = self.reload_logged(&own).await,
                    Ok(Err(err)) => {
                        tracing::warn!(error = %err, "lost the token-change listener; reconnecting");
                        break;
                    }
                }
            }
        }
    }

    /// A full reload, logged; returns when the next one is due (in a second if this one failed
    /// and the tokens were never read).
    async fn reload_logged(&self, pool: &PgPool) -> tokio::time::Instant {
        match self.reload(pool).await {
            Ok(count) => tracing::debug!(count, "token cache reloaded"),
            Err(err) => tracing::warn!(error = %err, "cannot reload the token cache"),
        }
        let wait = if self.is_loaded() {
            RELOAD_INTERVAL
        } else {
            Duration::from_secs(1)
        };
        tokio::time::Instant::now() + wait
    }
}
