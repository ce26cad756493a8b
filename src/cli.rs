//! `students-api token …`, `account …` and `webhook …`: tokens, accounts and webhook endpoints
//! managed in the database directly, without a running server (for the first ones, and for
//! operators).

use std::io::{BufRead, IsTerminal};

use chrono::{TimeDelta, Utc};

use crate::{
    config::{AccountCommand, Config, TokenCommand, WebhookCommand},
    db::{self, AccountRecord, TokenRecord},
    domain::{Password, PasswordHash, Role, Scope, StudentName, TokenName, Username},
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
    #[error("cannot read the password: {0}")]
    Input(#[from] std::io::Error),
    #[error("cannot hash the password: {0}")]
    Hash(argon2::password_hash::Error),
}

/// Runs one webhook command; returns what goes to stdout.
pub async fn webhook(config: &Config, command: WebhookCommand) -> Result<String, CliError> {
    use crate::{
        db::webhooks::{self, EndpointChanges, NewEndpoint},
        domain::{EVENT_TYPES, EventType, Grade, WebhookDescription, WebhookUrl},
        sender::Policy,
    };
    let usage = |flag: &str, message: String| CliError::Usage(format!("{flag} {message}"));
    // Refuse bad arguments before touching (or starting) a database.
    let new = match &command {
        WebhookCommand::Create {
            url,
            description,
            events,
            grades,
        } => {
            let url = WebhookUrl::parse(url).map_err(|v| usage("--url", v.message))?;
            Policy::new(&config.webhook_allowed_hosts)
                .check_resolved(&url)
                .await
                .map_err(|refusal| usage("--url", refusal.to_string()))?;
            let events = events
                .iter()
                .map(|e| EventType::parse(e).map_err(|v| usage("--event", v.message)))
                .collect::<Result<Vec<_>, _>>()?;
            Some(NewEndpoint {
                url,
                description: WebhookDescription::parse(description)
                    .map_err(|v| usage("--description", v.message))?,
                events: if events.is_empty() {
                    EVENT_TYPES.to_vec()
                } else {
                    events
                },
                grades: grades
                    .iter()
                    .map(|g| Grade::parse(g).map_err(|v| usage("--grade", v.message)))
                    .collect::<Result<Vec<_>, _>>()?,
            })
        }
        _ => None,
    };
    let database = Database::open(config).await?;
    let pool = &database.pool;
    let missing = |id: i64| CliError::Usage(format!("no webhook endpoint has id {id}"));
    let enable = |enabled| EndpointChanges {
        enabled: Some(enabled),
        ..EndpointChanges::default()
    };
    let result: Result<String, CliError> = match (command, new) {
        (WebhookCommand::Create { .. }, Some(new)) => webhooks::create_endpoint(pool, &new)
            .await
            .map(|endpoint| {
                eprintln!(
                    "created webhook endpoint {} ({}); the secret below is shown only now",
                    endpoint.id, endpoint.url
                );
                format!("{}\n", endpoint.secret.expose())
            })
            .map_err(CliError::from),
        (WebhookCommand::Create { .. }, None) => Ok(String::new()),
        (WebhookCommand::List, _) => webhooks::list_endpoints(pool)
            .await
            .map(|endpoints| {
                let mut out = String::from(
                    "id\turl\tevents\tenabled\tfailing since\tlast delivered\tpending\tfailed\n",
                );
                for e in endpoints {
                    out.push_str(&format!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                        e.id,
                        e.url,
                        e.events
                            .iter()
                            .map(|e| e.as_str())
                            .collect::<Vec<_>>()
                            .join(" "),
                        e.disabled_reason.map_or("yes", |reason| reason.as_str()),
                        time(e.failing_since),
                        time(e.last_delivered_at),
                        e.pending,
                        e.failed
                    ));
                }
                out
            })
            .map_err(CliError::from),
        (WebhookCommand::Rotate { id }, _) => match webhooks::rotate_secret(pool, id).await {
            Ok(Some(endpoint)) => {
                eprintln!(
                    "rotated the secret of webhook endpoint {id}; the old one signs too for 24 \
                     hours; the new one below is shown only now"
                );
                Ok(format!("{}\n", endpoint.secret.expose()))
            }
            Ok(None) => Err(missing(id)),
            Err(err) => Err(err.into()),
        },
        (WebhookCommand::Disable { id }, _) => {
            match webhooks::update_endpoint(pool, id, &enable(false)).await {
                Ok(Some(_)) => Ok(format!("paused webhook endpoint {id}\n")),
                Ok(None) => Err(missing(id)),
                Err(err) => Err(err.into()),
            }
        }
        (WebhookCommand::Enable { id }, _) => {
            match webhooks::update_endpoint(pool, id, &enable(true)).await {
                Ok(Some(_)) => Ok(format!("enabled webhook endpoint {id}\n")),
                Ok(None) => Err(missing(id)),
                Err(err) => Err(err.into()),
            }
        }
        (WebhookCommand::Delete { id }, _) => match webhooks::delete_endpoint(pool, id).await {
            Ok(true) => Ok(format!("deleted webhook endpoint {id}\n")),
            Ok(false) => Err(missing(id)),
            Err(err) => Err(err.into()),
        },
    };
    database.close().await;
    result
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

/// A time in the CLI's tables; `-` for none.
fn time(at: Option<chrono::DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".to_owned(),
        |at| at.format("%Y-%m-%d %H:%M").to_string(),
    )
}

fn table(tokens: &[TokenRecord]) -> String {
    let mut out = String::from("id\tprefix\tname\tscopes\tcreated\texpires\tlast used\trevoked\n");
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

/// An account command with its arguments (and password) checked: what to do to the database.
enum AccountAction {
    Create(Username, StudentName, Role, PasswordHash),
    Passwd(Username, PasswordHash),
    Disable(Username),
    List,
}

/// Runs one account command; returns what goes to stdout.
pub async fn account(config: &Config, command: AccountCommand) -> Result<String, CliError> {
    let username_of = |raw: &str| {
        Username::parse(raw).map_err(|v| CliError::Usage(format!("username {}", v.message)))
    };
    let new_hash = || read_password()?.hash().map_err(CliError::Hash);
    // Every argument, and the password, before touching (or starting) a database.
    let action = match command {
        AccountCommand::Create {
            username,
            role,
            display_name,
        } => {
            let username = username_of(&username)?;
            let role =
                Role::parse(&role).map_err(|v| CliError::Usage(format!("--role {}", v.message)))?;
            let display_name =
                StudentName::parse(display_name.as_deref().unwrap_or(username.as_str()))
                    .map_err(|v| CliError::Usage(format!("--display-name {}", v.message)))?;
            AccountAction::Create(username, display_name, role, new_hash()?)
        }
        AccountCommand::Passwd { username } => {
            AccountAction::Passwd(username_of(&username)?, new_hash()?)
        }
        AccountCommand::Disable { username } => AccountAction::Disable(username_of(&username)?),
        AccountCommand::List => AccountAction::List,
    };
    let database = Database::open(config).await?;
    let result = run_account(&database.pool, action).await;
    database.close().await;
    result
}

async fn run_account(pool: &sqlx::PgPool, action: AccountAction) -> Result<String, CliError> {
    let missing =
        |username: &Username| CliError::Usage(format!("no account has the username {username}"));
    Ok(match action {
        AccountAction::Create(username, display_name, role, hash) => {
            let account = db::create_account(pool, &username, &display_name, role, &hash, None)
                .await
                .map_err(|err| match err {
                    db::Error::UsernameTaken => {
                        CliError::Usage("another account has this username".to_owned())
                    }
                    err => err.into(),
                })?;
            format!("created account {} ({})\n", account.id, described(&account))
        }
        AccountAction::Passwd(username, hash) => {
            let account = db::set_password(pool, &username, &hash)
                .await?
                .ok_or_else(|| missing(&username))?;
            format!(
                "set the password of {}; its sign-ins are revoked\n",
                described(&account)
            )
        }
        AccountAction::Disable(username) => {
            let account = db::disable_account(pool, &username)
                .await?
                .ok_or_else(|| missing(&username))?;
            format!(
                "disabled {}; its sign-ins are revoked\n",
                described(&account)
            )
        }
        AccountAction::List => account_table(&db::list_accounts(pool).await?),
    })
}

fn described(account: &AccountRecord) -> String {
    format!("{}, {}", account.username, account.role.as_str())
}

/// The new password: asked twice on a terminal, without echo; else standard input's first line.
fn read_password() -> Result<Password, CliError> {
    let raw = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New password: ")?;
        let again = rpassword::prompt_password("Again: ")?;
        if first != again {
            return Err(CliError::Usage("the two passwords differ".to_owned()));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    Password::parse(&raw).map_err(|v| CliError::Usage(format!("the password {}", v.message)))
}

fn account_table(accounts: &[AccountRecord]) -> String {
    let mut out =
        String::from("id\tusername\tdisplay name\trole\tcreated\tdisabled\tlast sign-in\n");
    for account in accounts {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            account.id,
            account.username,
            account.display_name.as_str(),
            account.role.as_str(),
            time(Some(account.created_at)),
            time(account.disabled_at),
            time(account.last_sign_in_at),
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
