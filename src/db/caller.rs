//! The caller judged again inside a write's transaction: a token is judged when its request
//! arrives, and what it may do can be taken away before its body has (up to 10 s later).

use sqlx::{Postgres, Transaction};

use super::Error;

/// Refuses (`Error::CallerRevoked`) when the token `caller` can no longer act: it was judged
/// when its request arrived, and its account may have been disabled, lowered or given a new
/// password since (a body takes up to 10 s to arrive). The account behind it is locked first,
/// so a change to it that committed is seen here, and one still to come waits for this
/// transaction and then revokes whatever it made. `None`: the command line, which asks no token.
pub(super) async fn caller_still_valid(
    tx: &mut Transaction<'_, Postgres>,
    caller: Option<i64>,
) -> Result<(), Error> {
    let Some(caller) = caller else {
        return Ok(());
    };
    sqlx::query(
        "SELECT 1 FROM accounts WHERE id = \
         (SELECT coalesce(account_id, made_by_account_id) FROM api_tokens WHERE id = $1) \
         FOR SHARE",
    )
    .bind(caller)
    .execute(&mut **tx)
    .await?;
    let valid: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM api_tokens WHERE id = $1 AND revoked_at IS NULL \
         AND (expires_at IS NULL OR expires_at > now()))",
    )
    .bind(caller)
    .fetch_one(&mut **tx)
    .await?;
    if valid {
        Ok(())
    } else {
        Err(Error::CallerRevoked)
    }
}
