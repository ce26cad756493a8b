//! People's accounts on the wire: the username and role types, an account as read. (The
//! `/api/accounts` operations will live here too.)

use poem_openapi::{Object, registry::MetaSchema};
use serde::Serialize;
use serde_json::Value;

use crate::{
    api::types::{Nullable, Timestamp, domain_string_type, inline_scalar_type, named_scalar_type},
    db::AccountRecord,
    domain::{ROLES, Role, StudentName, Username},
};

domain_string_type!(
    Username,
    inline_scalar_type!(
        "Username",
        MetaSchema {
            description: Some(
                "A sign-in name: 3 to 64 of a-z, 0-9, `.`, `_`, `-`, starting with a letter or \
                 digit (sent in capitals, it is stored lower-cased)."
            ),
            min_length: Some(3),
            max_length: Some(64),
            pattern: Some(Username::PATTERN.to_owned()),
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
