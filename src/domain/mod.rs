//! The rules of the students domain, free of HTTP and SQL: values that can only exist when
//! valid, and what a list request asks for.

mod account;
mod change;
mod listing;
mod rules;
mod student;
mod token;
mod webhook;

pub use account::{
    ARGON2_LANES, ARGON2_MEMORY_KIB, ARGON2_PASSES, Password, PasswordHash, ROLES, Role, Username,
};
pub use change::{ChangeActor, ChangeKind, FieldChange, FieldChanges, Position, RecordedChange};
pub use listing::{Keyset, PageLimit, SearchText, Sort, SortKey, SortValue, StudentFilter};
pub use rules::{Code, TextRule, Violation, is_control, whole_number};
pub use student::{Email, GRADES, Grade, NewStudent, Student, StudentChanges, StudentName};
pub use token::{Malformed, SCOPES, Scope, TOKEN_PREFIX, TokenName, TokenSecret};
pub use webhook::{
    DisabledReason, EVENT_TYPES, EventType, FAILING_DISABLES_AFTER, MAX_RETRY_AFTER,
    OLD_SECRET_LASTS, RETRY_DELAYS, SECRET_PREFIX, WebhookDescription, WebhookSecret, WebhookUrl,
    retry_delay, signature_header,
};
