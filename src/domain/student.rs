//! Student values that can only exist when valid ("parse, don't validate").
//!
//! Each rule is written once here. The wire layer publishes these constants in the OpenAPI
//! document (`api::students::fields`) and reports violations with these codes; migrations 1
//! and 5 mirror them as CHECK constraints, and `tests/api/rules.rs` holds the two together.

use std::{fmt, sync::LazyLock};

use chrono::{DateTime, Utc};
use regex::Regex;

use super::rules::{
    Code, TextRule, Violation, blank_characters, blank_characters_astral, control_characters,
    format_characters, format_characters_astral, white_space,
};

/// A student's display name: 1–100 characters as sent, something visible, no control or
/// invisible formatting characters, stored with surrounding whitespace trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StudentName(String);

impl StudentName {
    pub const RULE: TextRule = TextRule {
        min_chars: 1,
        max_chars: Some(100),
    };
    /// The same rules as a regular expression, for the spec (client-side validation and
    /// contract tests): no control or formatting characters, and at least one that shows
    /// something. JavaScript-safe, so it leaves out the few such characters beyond the BMP;
    /// [`Self::STORED_PATTERN`] has them.
    pub const PATTERN: &str = concat!(
        "^[^",
        control_characters!(),
        format_characters!(),
        "]*[^",
        control_characters!(),
        format_characters!(),
        blank_characters!(),
        "][^",
        control_characters!(),
        format_characters!(),
        "]*$"
    );

    /// [`Self::PATTERN`] with the characters beyond the BMP too: exactly the rule the server
    /// applies, and the table's CHECK `students_name_visible`.
    pub const STORED_PATTERN: &str = concat!(
        "^[^",
        control_characters!(),
        format_characters!(),
        format_characters_astral!(),
        "]*[^",
        control_characters!(),
        format_characters!(),
        format_characters_astral!(),
        blank_characters!(),
        blank_characters_astral!(),
        "][^",
        control_characters!(),
        format_characters!(),
        format_characters_astral!(),
        "]*$"
    );

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        Self::RULE.check(raw).map(|name| Self(name.to_owned()))
    }

    /// A name read back from the `students` table, whose CHECK constraints enforce
    /// [`Self::parse`]'s rules: not checked again on every read.
    pub fn from_stored(name: String) -> Self {
        Self(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The form of an address (without surrounding whitespace): a local part of 1–64 of the
/// characters RFC 5322 allows unquoted, `@`, and a host name of dot-separated labels of letters,
/// digits and inner hyphens. ASCII only. A macro so the patterns below can be built with
/// `concat!`; the CHECK `students_email_format` is the same rule (migration 13 writes it for
/// PostgreSQL's speed; `tests/api/rules.rs` holds the two together at every bound).
macro_rules! email_address {
    () => {
        r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
    };
}

/// An e-mail address as [`Email::PATTERN`] defines it, at most 254 characters, stored
/// lower-cased and trimmed.
///
/// Lower-casing makes the unique index on `lower(email)` and what clients read back agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// No minimum of its own: an empty address is refused as not an address.
    pub const RULE: TextRule = TextRule {
        min_chars: 0,
        max_chars: Some(254),
    };
    /// A stored address, exactly: what the table's CHECK `students_email_format` accepts.
    pub const ADDRESS: &str = concat!("^", email_address!(), "$");
    /// An address as sent: surrounding whitespace (not control characters) is allowed and
    /// trimmed. Published in the spec.
    pub const PATTERN: &str = concat!(
        "^[",
        white_space!(),
        "]*",
        email_address!(),
        "[",
        white_space!(),
        "]*$"
    );

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        static ADDRESS: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(Email::ADDRESS).ok());
        let email = Self::RULE.check(raw)?.to_ascii_lowercase();
        if !ADDRESS.as_ref().is_some_and(|re| re.is_match(&email)) {
            return Err(Violation::new(
                Code::InvalidEmail,
                "must be a valid e-mail address",
            ));
        }
        Ok(Self(email))
    }

    /// An address read back from the `students` table, whose CHECK constraints enforce
    /// [`Self::parse`]'s rules: not checked again on every read.
    pub fn from_stored(email: String) -> Self {
        Self(email)
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
                    Code::InvalidEnum,
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
    fn names_are_trimmed_and_bounded_as_sent() {
        assert_eq!(StudentName::parse("  Ada  ").map(|n| n.0), Ok("Ada".into()));
        let hundred = "x".repeat(100);
        assert!(StudentName::parse(&hundred).is_ok());
        // maxLength counts what was sent, as the published schema says: padding counts.
        assert_eq!(
            StudentName::parse(&format!("  {hundred}  ")).map_err(|v| v.code),
            Err(Code::TooLong)
        );
        assert_eq!(
            StudentName::parse(&"x".repeat(101)).map_err(|v| v.code),
            Err(Code::TooLong)
        );
        assert_eq!(
            StudentName::parse("   ").map_err(|v| v.code),
            Err(Code::TooShort)
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
                Err(Code::ControlCharacter),
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
            Err(Code::InvalidEmail)
        );
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long).map_err(|v| v.code), Err(Code::TooLong));
        assert_eq!(
            Email::parse(" Ada@Example.com ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        for refused in [
            "",
            "a@",
            "@example.com",
            "zoë@example.com",
            "a@-x.com",
            "a b@x.com",
        ] {
            assert_eq!(
                Email::parse(refused).map_err(|v| v.code),
                Err(Code::InvalidEmail),
                "{refused:?}"
            );
        }
    }

    /// Our pattern is the rule; the `validator` crate's check, the usual one in Rust, is an
    /// independent witness that every address the pattern takes is an address.
    #[test]
    fn every_address_the_pattern_accepts_validator_accepts_too() {
        use validator::ValidateEmail;
        for address in [
            "ada@example.com",
            "a.b+tag@sub.example.co.uk",
            "x@localhost",
            "o'brien@example.ie",
            "!#$%&'*+/=?^_`{|}~-@example.com",
            &format!("{}@example.com", "a".repeat(64)),
            &format!("a@{}.com", "b".repeat(63)),
        ] {
            assert!(Email::parse(address).is_ok(), "{address}");
            assert!(address.validate_email(), "{address}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn the_published_patterns_compile_as_the_parser_uses_them() {
        for pattern in [Email::ADDRESS, Email::PATTERN, StudentName::PATTERN] {
            assert!(regex::Regex::new(pattern).is_ok(), "{pattern}");
        }
        let published = regex::Regex::new(Email::PATTERN).ok();
        assert!(published.is_some_and(|re| re.is_match(" Ada@Example.com ")));
    }

    #[test]
    #[allow(clippy::unwrap_used)] // a failed step is a failed test
    fn the_stored_name_pattern_accepts_exactly_what_parse_accepts() {
        let pattern = regex::Regex::new(StudentName::STORED_PATTERN).unwrap();
        let published = regex::Regex::new(StudentName::PATTERN).unwrap();
        for sample in [
            "Ada",
            " Ada ",
            "",
            " ",
            "\u{3000}",
            "\u{3164}",
            "\u{2800}",
            "\u{0301}",
            "Zoe\u{0301}",
            "\u{FEFF}",
            "A\u{200B}",
            "\u{202E}abc",
            "a\u{0}",
            "👩\u{200D}💻",
            "\u{200D}",
            "Bell\u{7}",
            "\u{E0041}",
            "\u{206A}",
            "a\u{1D173}",
            "\u{17B4}",
            "\u{FFFF}",
        ] {
            assert_eq!(
                pattern.is_match(sample),
                StudentName::parse(sample).is_ok(),
                "{sample:?}"
            );
            // The published pattern may only be looser, and only beyond the BMP.
            if published.is_match(sample) != pattern.is_match(sample) {
                assert!(sample.chars().any(|c| u32::from(c) > 0xFFFF), "{sample:?}");
            }
        }
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
