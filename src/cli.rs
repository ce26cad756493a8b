//! `students-api token …`: tokens managed in the database directly, without a running server
//! (for the first token, and for operators).

use chrono::{TimeDelta, Utc};

use crate::{
    config::{Config, TokenCommand},
    db::{self, TokenRecord},
    domain::{Scope, TokenName},
    startup::{Database, StartupError},
};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("{0}")]
    Database(#[from] db::Error),
    #[error("{0}")]
    Usage(String),
}

/// Runs one token command; returns what goes to stdout.
pub async fn token(config: &Config, command: TokenCommand) -> Result<String, CliError> {
    // Refuse bad arguments before touching (or starting) a database.
    let create = match &command {
        TokenCommand::Create {
            name,
            scopes,
            expires_in,
        } => Some((
            TokenName::parse(name).map_err(|v| CliError::Usage(format!("--name {}", v.message)))?,
            scopes
                .iter()
                .map(|s| {
                    Scope::parse(s).map_err(|v| CliError::Usage(format!("--scope {}", v.message)))
                })
                .collect::<Result<Vec<_>, _>>()?,
            expires_in.as_deref().map(lifetime).transpose()?,
        )),
        _ => None,
    };
    let database = Database::open(config).await?;
    let result: Result<String, CliError> = match (command, create) {
        (TokenCommand::Create { .. }, Some((name, scopes, lifetime))) => {
            let expires_at = match lifetime {
                Some(lifetime) => {
                    Some(Utc::now().checked_add_signed(lifetime).ok_or_else(|| {
                        CliError::Usage(
                            "--expires-in is further away than a date can be".to_owned(),
                        )
                    })?)
                }
                None => None,
            };
            db::create_token(&database.pool, &name, &scopes, expires_at)
                .await
                .map(|(record, secret)| {
                    eprintln!(
                        "created token {} ({}, {}); the secret below is shown only now",
                        record.id,
                        record.name.as_str(),
                        scope_list(&record)
                    );
                    format!("{}\n", secret.expose())
                })
                .map_err(CliError::from)
        }
        (TokenCommand::List, _) => db::list_tokens(&database.pool)
            .await
            .map(|tokens| table(&tokens))
            .map_err(CliError::from),
        (TokenCommand::Revoke { id }, _) => match db::revoke_token(&database.pool, id).await {
            Ok(Some(record)) => Ok(format!(
                "revoked token {} ({})\n",
                record.id,
                record.name.as_str()
            )),
            Ok(None) => Err(CliError::Usage(format!("no token has id {id}"))),
            Err(err) => Err(err.into()),
        },
        (TokenCommand::Create { .. }, None) => Ok(String::new()),
    };
    database.close().await;
    result
}

fn scope_list(record: &TokenRecord) -> String {
    record
        .scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `30d`, `12h`, `90m`, `3600s` as a duration; at least one second.
fn lifetime(raw: &str) -> Result<TimeDelta, CliError> {
    crate::config::parse_duration(raw)
        .ok()
        .and_then(|duration| TimeDelta::from_std(duration).ok())
        .ok_or_else(|| {
            CliError::Usage(format!(
                "--expires-in `{raw}` is not a number and a unit (s, m, h, d), such as 30d"
            ))
        })
}

fn table(tokens: &[TokenRecord]) -> String {
    let mut out = String::from("id\tprefix\tname\tscopes\tcreated\texpires\tlast used\trevoked\n");
    let time = |at: Option<chrono::DateTime<Utc>>| {
        at.map_or_else(
            || "-".to_owned(),
            |at| at.format("%Y-%m-%d %H:%M").to_string(),
        )
    };
    for token in tokens {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            token.id,
            token.display_prefix,
            token.name.as_str(),
            scope_list(token),
            time(Some(token.created_at)),
            time(token.expires_at),
            time(token.last_used_at),
            time(token.revoked_at),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::lifetime;

    #[test]
    fn lifetimes_are_a_number_and_a_unit() {
        assert_eq!(lifetime("30d").ok().map(|d| d.num_days()), Some(30));
        assert_eq!(lifetime("90m").ok().map(|d| d.num_minutes()), Some(90));
        for bad in ["", "d", "0d", "-1d", "30", "30w", "1.5h"] {
            assert!(lifetime(bad).is_err(), "{bad}");
        }
    }
}
