//! The rules of the students domain, free of HTTP and SQL.

mod student;

pub use student::{
    Email, GRADES, Grade, NewStudent, Student, StudentChanges, StudentName, Violation, is_control,
};
