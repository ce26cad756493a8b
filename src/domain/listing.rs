//! What a list request asks for: which students (the filter), in which order (the sort), and
//! where a page starts (the keyset: the last row of the previous page).

use chrono::{DateTime, Utc};

use super::{
    Code, Email, Grade, Student, TextRule, Violation,
    rules::{control_characters, format_characters, white_space},
};

/// The orders students can be listed in. Ties are always broken by `id`, in the same direction,
/// so every order is total and a cursor lands between exactly two rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Id,
    /// As people read names: case and accents next to their letters.
    Name,
    /// Best grade first (A+ … F).
    Grade,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Sort {
    pub const BY_ID: Sort = Sort {
        key: SortKey::Id,
        descending: false,
    };

    /// The sort value of `student` (its position in this order, before the id tie-break).
    pub fn value_of(self, student: &Student) -> SortValue {
        match self.key {
            SortKey::Id => SortValue::Id,
            SortKey::Name => SortValue::Name(student.name.as_str().to_owned()),
            SortKey::Grade => SortValue::Grade(student.grade),
            SortKey::CreatedAt => SortValue::Time(student.created_at),
            SortKey::UpdatedAt => SortValue::Time(student.updated_at),
        }
    }
}

/// A row's position in one sort order, apart from its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortValue {
    /// Sorting by id: the id is the whole position.
    Id,
    Name(String),
    Grade(Grade),
    Time(DateTime<Utc>),
}

/// Where a page starts: just after the row at `value` with `id`, in the page's sort order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyset {
    pub value: SortValue,
    pub id: i64,
}

/// Which students to list; every field left empty matches everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StudentFilter {
    /// Any of these grades (empty: any grade).
    pub grades: Vec<Grade>,
    /// Exactly this address (addresses are stored lower-cased, so this ignores case).
    pub email: Option<Email>,
    pub has_email: Option<bool>,
    /// Created strictly after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Created strictly before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Case-insensitive substring of the name or the e-mail address.
    pub search: Option<String>,
}

/// Text to find in names and e-mail addresses: the rules of every string (no control or
/// invisible formatting characters), at most 100 characters as sent; blank means no search,
/// and otherwise at least [`SearchText::MIN_CHARS`] besides surrounding white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    pub const RULE: TextRule = TextRule {
        min_chars: 0,
        max_chars: Some(100),
    };
    /// The trigram indexes that serve a search need three characters; a shorter text could
    /// only be found by reading every row, so it is refused rather than served slowly.
    pub const MIN_CHARS: usize = 3;
    /// The same rules as a regular expression, for the spec: blank, or three characters or
    /// more between the first and the last that are not white space.
    pub const PATTERN: &str = concat!(
        "^[",
        white_space!(),
        "]*([^",
        control_characters!(),
        format_characters!(),
        white_space!(),
        "][^",
        control_characters!(),
        format_characters!(),
        "]+[^",
        control_characters!(),
        format_characters!(),
        white_space!(),
        "])?[",
        white_space!(),
        "]*$"
    );

    /// `None` for a blank text (no search).
    pub fn parse(raw: &str) -> Result<Option<Self>, Violation> {
        let text = Self::RULE.check(raw)?;
        match text.chars().count() {
            0 => Ok(None),
            n if n < Self::MIN_CHARS => Err(Violation::new(
                Code::TooShort,
                format!(
                    "must be at least {} characters (shorter text cannot use the search \
                     index); leave it out to list everyone",
                    Self::MIN_CHARS
                ),
            )),
            _ => Ok(Some(Self(text.to_owned()))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many students a page holds: 1–100, default 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(i64);

impl PageLimit {
    pub const MIN: i64 = 1;
    pub const MAX: i64 = 100;
    pub const DEFAULT: i64 = 20;

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        super::rules::whole_number(raw)
            .filter(|limit| (Self::MIN..=Self::MAX).contains(limit))
            .map(Self)
            .ok_or_else(|| {
                Violation::new(
                    Code::InvalidParameter,
                    format!("must be a whole number from {} to {}", Self::MIN, Self::MAX),
                )
            })
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self(Self::DEFAULT)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed step is a failed test
mod tests {
    use super::SearchText;

    #[test]
    fn the_published_search_pattern_accepts_exactly_what_parse_accepts() {
        let pattern = regex::Regex::new(SearchText::PATTERN).unwrap();
        for sample in [
            "",
            "   ",
            "a",
            "ab",
            " ab ",
            "abc",
            "a b",
            " a b ",
            "  abc  ",
            "ééé",
            "a\u{3000}",
            "a\u{200B}bc",
            "ab\u{0}c",
            "\u{FEFF}abc",
            "日本語",
        ] {
            assert_eq!(
                pattern.is_match(sample),
                SearchText::parse(sample).is_ok(),
                "{sample:?}"
            );
        }
    }
}
