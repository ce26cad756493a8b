//! Student values that can only exist when valid ("parse, don't validate").
//!
//! Each rule is written once here; the wire schema (`api::students::schemas`) publishes these
//! constants in the OpenAPI document, and `migrations/` mirrors them as CHECK constraints.

use std::fmt;

use chrono::{DateTime, Utc};

use validator::ValidateEmail;

/// Why a value was refused: a stable machine `code` and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: &'static str,
    pub message: String,
}

impl Violation {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// True for Unicode control characters (C0, DEL and C1), NUL included.
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// A student's display name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentName(String);

impl StudentName {
    pub const MIN_CHARS: usize = 1;
    pub const MAX_CHARS: usize = 100;
    /// The same rules as a regular expression, for the spec (client-side validation and
    /// contract tests): something besides whitespace, and no control characters.
    pub const PATTERN: &str =
        r"^[^\S\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        let name = raw.trim();
        let chars = name.chars().count();
        if name.chars().any(is_control) {
            return Err(Violation::new(
                "control_character",
                "must not contain control characters",
            ));
        }
        if chars < Self::MIN_CHARS {
            return Err(Violation::new("too_short", "must not be blank"));
        }
        if chars > Self::MAX_CHARS {
            return Err(Violation::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address: valid by the `validator` crate's rules, at most 254 characters, lower-cased.
///
/// Lower-casing makes the unique index on `lower(email)` and what clients read back agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        let email = raw.trim().to_lowercase();
        if email.chars().any(is_control) {
            return Err(Violation::new(
                "control_character",
                "must not contain control characters",
            ));
        }
        if email.chars().count() > Self::MAX_CHARS {
            return Err(Violation::new(
                "too_long",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if !email.validate_email() {
            return Err(Violation::new(
                "invalid_email",
                "must be a valid e-mail address",
            ));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Letter grades, best first. The order here is the order in the spec and in the CHECK.
pub const GRADES: [Grade; 11] = [
    Grade::APlus,
    Grade::A,
    Grade::AMinus,
    Grade::BPlus,
    Grade::B,
    Grade::BMinus,
    Grade::CPlus,
    Grade::C,
    Grade::CMinus,
    Grade::D,
    Grade::F,
];

/// A letter grade, written as on a report card (`A+`, `B-`, `F`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grade {
    APlus,
    A,
    AMinus,
    BPlus,
    B,
    BMinus,
    CPlus,
    C,
    CMinus,
    D,
    F,
}

impl Grade {
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::APlus => "A+",
            Grade::A => "A",
            Grade::AMinus => "A-",
            Grade::BPlus => "B+",
            Grade::B => "B",
            Grade::BMinus => "B-",
            Grade::CPlus => "C+",
            Grade::C => "C",
            Grade::CMinus => "C-",
            Grade::D => "D",
            Grade::F => "F",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        GRADES
            .into_iter()
            .find(|grade| grade.as_str() == raw)
            .ok_or_else(|| {
                let names: Vec<&str> = GRADES.iter().map(|g| g.as_str()).collect();
                Violation::new(
                    "invalid_enum",
                    format!("must be one of {}", names.join(", ")),
                )
            })
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Student {
    pub id: i64,
    pub name: StudentName,
    pub grade: Grade,
    pub email: Option<Email>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Counts real changes (1 when created); the ETag is built from it.
    pub version: i32,
}

/// Every writable field: what a create or a full replace writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStudent {
    pub name: StudentName,
    pub grade: Grade,
    pub email: Option<Email>,
}

/// A partial update: `None` leaves a field unchanged; `email: Some(None)` clears the e-mail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudentChanges {
    pub name: Option<StudentName>,
    pub grade: Option<Grade>,
    pub email: Option<Option<Email>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded_after_trimming() {
        assert_eq!(StudentName::parse("  Ada  ").map(|n| n.0), Ok("Ada".into()));
        let hundred = "x".repeat(100);
        assert!(StudentName::parse(&format!("  {hundred}  ")).is_ok());
        assert_eq!(
            StudentName::parse(&"x".repeat(101)).map_err(|v| v.code),
            Err("too_long")
        );
        assert_eq!(
            StudentName::parse("   ").map_err(|v| v.code),
            Err("too_short")
        );
    }

    #[test]
    fn names_count_characters_not_bytes() {
        assert!(StudentName::parse(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn control_characters_are_refused_anywhere() {
        for raw in ["Ada\u{0}", "A\u{7}da", "Ada\u{85}x"] {
            assert_eq!(
                StudentName::parse(raw).map_err(|v| v.code),
                Err("control_character"),
                "{raw:?}"
            );
        }
        assert!(Email::parse("a\u{0}@example.com").is_err());
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            Email::parse("Ada@Example.COM").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        assert_eq!(
            Email::parse("not-an-email").map_err(|v| v.code),
            Err("invalid_email")
        );
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long).map_err(|v| v.code), Err("too_long"));
    }

    #[test]
    fn every_grade_round_trips() {
        for grade in GRADES {
            assert_eq!(Grade::parse(grade.as_str()), Ok(grade));
        }
        assert!(Grade::parse("E").is_err());
        assert!(Grade::parse("a+").is_err());
    }
}
