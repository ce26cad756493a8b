//! What can go wrong in a query, classified from PostgreSQL's SQLSTATEs and constraint names,
//! so the layers above decide statuses without knowing sqlx.

/// The unique index behind "one student per e-mail address".
pub const EMAIL_UNIQUE_INDEX: &str = "students_email_key";
/// The unique index behind "one account per username".
const USERNAME_UNIQUE_INDEX: &str = "accounts_username_key";

const CHECK_VIOLATION: &str = "23514";

/// Why a query gave no result.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("student {0} does not exist")]
    NotFound(i64),
    /// A conditional write found the student at another version than the one expected.
    #[error("student {0} is not at an expected version")]
    Stale(i64),
    /// A restore asked for a version the student's history does not hold (never had, or
    /// pruned past the change retention).
    #[error("student {id} has no version {version} in its history")]
    NoSuchVersion { id: i64, version: i32 },
    #[error("another student already has this e-mail address")]
    EmailTaken,
    /// A restore of student `id` to `version` met that version's e-mail address in another
    /// student.
    #[error("another student now has the e-mail address of student {id}'s version {version}")]
    RestoredEmailTaken { id: i64, version: i32 },
    #[error("another account already has this username")]
    UsernameTaken,
    /// A CHECK refused a value. Our constraints are named `<table>_<column>_<rule>`.
    #[error("the value of `{column}` breaks the database rule `{constraint}`")]
    Check { constraint: String, column: String },
    #[error("another request with this idempotency key is still running")]
    KeyInUse,
    #[error("this idempotency key was used with a different request")]
    KeyReused,
    /// The token that asked was revoked or expired while its request ran (a disable, a lower
    /// role or a new password for its account committed first).
    #[error("the token that asked is no longer valid")]
    CallerRevoked,
    /// The database cannot be reached or is overloaded: worth retrying.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The last health check found the database away; nothing was tried.
    #[error("the database did not answer its last health check")]
    Down,
    /// Something the database holds cannot be read back (a bug, never the client's input).
    #[error("unreadable data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Query(sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        metrics::counter!(crate::telemetry::DB_ERRORS, "kind" => kind(&err)).increment(1);
        Self::classify(err)
    }
}

/// A failed statement's kind, as `db_errors_total` counts it: a few fixed values.
fn kind(err: &sqlx::Error) -> &'static str {
    use sqlx::Error as E;
    match err {
        E::PoolTimedOut => "pool_timeout",
        E::RowNotFound => "not_found",
        E::Database(db) => match db.code().as_deref() {
            Some("57014") => "statement_timeout",
            Some("23505") => "unique_violation",
            Some(CHECK_VIOLATION) => "check_violation",
            Some("40001" | "40P01") => "serialization",
            code if is_unavailable_sqlstate(code) => "unavailable",
            _ => "other",
        },
        err if is_unavailable(err) => "unavailable",
        _ => "other",
    }
}

impl Error {
    fn classify(err: sqlx::Error) -> Self {
        use sqlx::Error as E;
        if let E::Database(db) = &err {
            let constraint = db.constraint().unwrap_or_default();
            if constraint == EMAIL_UNIQUE_INDEX {
                return Error::EmailTaken;
            }
            if constraint == USERNAME_UNIQUE_INDEX {
                return Error::UsernameTaken;
            }
            if db.code().as_deref() == Some(CHECK_VIOLATION) {
                return Error::Check {
                    constraint: constraint.to_owned(),
                    column: constraint_column(constraint).to_owned(),
                };
            }
        }
        if is_unavailable(&err) {
            Error::Unavailable(err)
        } else {
            Error::Query(err)
        }
    }
}

/// `students_name_length` → `name`, `accounts_display_name_trimmed` → `display_name`: the
/// columns a client writes, in the tables the API writes them to.
fn constraint_column(constraint: &str) -> &'static str {
    const COLUMNS: [&str; 7] = [
        "display_name",
        "username",
        "role",
        "password_hash",
        "name",
        "email",
        "grade",
    ];
    let Some(rest) = ["students_", "accounts_"]
        .iter()
        .find_map(|table| constraint.strip_prefix(table))
    else {
        return "";
    };
    COLUMNS
        .into_iter()
        .find(|column| {
            rest.strip_prefix(column)
                .is_some_and(|rule| rule.starts_with('_'))
        })
        .unwrap_or_default()
}

/// Whether `err` means "the database cannot be reached or is overloaded" (a 503, retried at
/// start-up), as opposed to a fault in the query or the data.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    use sqlx::Error as E;
    match err {
        E::Database(db) => is_unavailable_sqlstate(db.code().as_deref()),
        E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) => true,
        _ => false,
    }
}

/// SQLSTATEs that mean "the server is going away or overloaded", not "your query is wrong":
/// class 08 connection exception, 57P operator intervention (shutdown), 53 insufficient
/// resources, and 57014 query canceled (our `statement_timeout` fired).
fn is_unavailable_sqlstate(code: Option<&str>) -> bool {
    code.is_some_and(|c| {
        c.starts_with("08") || c.starts_with("57P") || c.starts_with("53") || c == "57014"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_give_their_column() {
        assert_eq!(constraint_column("students_name_length"), "name");
        assert_eq!(constraint_column("students_email_format"), "email");
        assert_eq!(constraint_column("students_email_lower_case"), "email");
        assert_eq!(
            constraint_column("accounts_display_name_trimmed"),
            "display_name"
        );
        assert_eq!(constraint_column("accounts_role_valid"), "role");
        assert_eq!(constraint_column("other"), "");
    }

    #[test]
    fn shutdown_overload_and_timeouts_are_unavailable_syntax_errors_are_not() {
        for code in ["08006", "57P01", "53300", "57014"] {
            assert!(is_unavailable_sqlstate(Some(code)), "{code}");
        }
        for code in ["42601", "23505", "57000"] {
            assert!(!is_unavailable_sqlstate(Some(code)), "{code}");
        }
    }
}
