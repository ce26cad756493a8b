//! The rules of the students domain, free of HTTP and SQL.

mod listing;
mod student;

pub use listing::{Keyset, Sort, SortKey, SortValue, StudentFilter};
pub use student::{
    Email, GRADES, Grade, NewStudent, Student, StudentChanges, StudentName, Violation, is_control,
};
