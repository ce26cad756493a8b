//! The rules of the students domain, free of HTTP and SQL: values that can only exist when
//! valid, and what a list request asks for.

mod change;
mod listing;
mod rules;
mod student;
mod token;

pub use change::{ChangeActor, ChangeKind, FieldChange, FieldChanges, Position, RecordedChange};
pub use listing::{Keyset, PageLimit, SearchText, Sort, SortKey, SortValue, StudentFilter};
pub use rules::{Code, TextRule, Violation, is_control, whole_number};
pub use student::{Email, GRADES, Grade, NewStudent, Student, StudentChanges, StudentName};
pub use token::{Malformed, SCOPES, Scope, TOKEN_PREFIX, TokenName, TokenSecret};
