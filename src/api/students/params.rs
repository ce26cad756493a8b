//! The query, path and header parameters of the students operations: each parses with the
//! domain's rules and says what it accepts in the API's words (`api::rejections` keeps just
//! those words from poem-openapi's message).

use chrono::{DateTime, Utc};
use poem_openapi::{
    registry::MetaSchema,
    types::{ParseError, ParseFromParameter, ParseResult},
};
use serde_json::Value;

use crate::{
    api::types::{IdOf, PathId, inline_scalar_type, named_scalar_type},
    domain::{self, PageLimit, Sort, SortKey, Violation},
};

/// Names students in [`StudentId`] messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfStudent;
impl IdOf for OfStudent {
    const A_NOUN: &'static str = "a student";
}

/// The `{id}` in `/api/students/{id}`.
pub type StudentId = PathId<OfStudent>;

/// The `Idempotency-Key` header: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_CHARS: usize = 255;
    /// Visible ASCII only, as the parser below checks it.
    pub const PATTERN: &str = "^[!-~]+$";

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

inline_scalar_type!(
    IdempotencyKey,
    "IdempotencyKey",
    MetaSchema {
        min_length: Some(1),
        max_length: Some(IdempotencyKey::MAX_CHARS),
        pattern: Some(IdempotencyKey::PATTERN.to_owned()),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for IdempotencyKey {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        let valid = !value.is_empty()
            && value.len() <= Self::MAX_CHARS
            && value.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::custom(format!(
                "must be 1 to {} visible ASCII characters, such as a UUID",
                Self::MAX_CHARS
            )))
        }
    }
}

/// `If-Match` and `If-None-Match`: `*`, or a comma-separated list of entity tags (`"3"`,
/// `W/"3"`). Anything else is a 422 naming the header: a garbage condition must not pass as
/// "no current version matches" (412) or be ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityTags {
    /// `*`: any current version.
    Any,
    /// The tags listed, in order.
    Tags(Vec<EntityTag>),
}

/// One entity tag: `"<opaque>"`, or `W/"<opaque>"` when weak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    pub weak: bool,
    pub opaque: String,
}

/// Optional white space in a header value (RFC 9110 §5.6.3).
const OWS: [char; 2] = [' ', '\t'];

impl EntityTags {
    /// RFC 9110 §8.8.3 and §13.1.1's syntax, for the spec; [`Self::parse`] reads the same.
    pub const PATTERN: &str = r#"^[ \t]*(\*|(W/)?"[!#-~]*"([ \t]*,[ \t]*(W/)?"[!#-~]*")*)[ \t]*$"#;

    /// The longest condition read: far more tags than any client holds for one student.
    pub const MAX_CHARS: usize = 1024;

    fn parse(value: &str) -> Option<Self> {
        if value.len() > Self::MAX_CHARS {
            return None;
        }
        let value = value.trim_matches(OWS);
        if value == "*" {
            return Some(Self::Any);
        }
        let mut tags = Vec::new();
        let mut rest = value;
        loop {
            let (weak, quoted) = match rest.strip_prefix("W/") {
                Some(quoted) => (true, quoted),
                None => (false, rest),
            };
            // An opaque tag is any visible ASCII but `"`, commas included.
            let (opaque, after) = quoted.strip_prefix('"')?.split_once('"')?;
            if !opaque
                .bytes()
                .all(|b| b == b'!' || (b'#'..=b'~').contains(&b))
            {
                return None;
            }
            tags.push(EntityTag {
                weak,
                opaque: opaque.to_owned(),
            });
            let after = after.trim_start_matches(OWS);
            if after.is_empty() {
                return Some(Self::Tags(tags));
            }
            rest = after.strip_prefix(',')?.trim_start_matches(OWS);
        }
    }
}

inline_scalar_type!(
    EntityTags,
    "EntityTags",
    MetaSchema {
        max_length: Some(EntityTags::MAX_CHARS),
        pattern: Some(EntityTags::PATTERN.to_owned()),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for EntityTags {
    /// Several `If-Match` lines are one comma-separated list (RFC 9110 §5.3), not just the first.
    fn parse_from_parameters<I: IntoIterator<Item = A>, A: AsRef<str>>(
        lines: I,
    ) -> ParseResult<Self> {
        let lines: Vec<A> = lines.into_iter().collect();
        if lines.is_empty() {
            return Err(ParseError::expected_input());
        }
        let joined: Vec<&str> = lines.iter().map(AsRef::as_ref).collect();
        Self::parse_from_parameter(&joined.join(", "))
    }

    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::parse(value).ok_or_else(|| {
            ParseError::custom(
                "must be `*` or a comma-separated list of entity tags, such as \"3\" (the ETag \
                 of a response)",
            )
        })
    }
}

// Page size on the wire: the domain's `PageLimit`.
inline_scalar_type!(
    PageLimit,
    "PageLimit",
    MetaSchema {
        minimum: Some(PageLimit::MIN as f64),
        maximum: Some(PageLimit::MAX as f64),
        default: Some(PageLimit::DEFAULT.into()),
        ..MetaSchema::new_with_format("integer", "int32")
    }
);

impl ParseFromParameter for PageLimit {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        PageLimit::parse(value).map_err(|v: Violation| ParseError::custom(v.message))
    }
}

/// `q` on the wire: the domain's [`domain::SearchText`]; a blank text is no search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(Option<domain::SearchText>);

impl SearchText {
    /// The text without surrounding whitespace; `None` means no search.
    pub fn into_text(self) -> Option<String> {
        self.0.map(|text| text.as_str().to_owned())
    }
}

inline_scalar_type!(
    SearchText,
    "SearchText",
    MetaSchema {
        max_length: domain::SearchText::RULE.max_chars,
        pattern: Some(domain::SearchText::PATTERN.to_owned()),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for SearchText {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        domain::SearchText::parse(value)
            .map(Self)
            .map_err(|v| ParseError::custom(v.message))
    }
}

/// The `sort` values, as sent, with the order each means. `-` means descending.
const SORTS: [(&str, SortKey, bool); 10] = [
    ("id", SortKey::Id, false),
    ("-id", SortKey::Id, true),
    ("name", SortKey::Name, false),
    ("-name", SortKey::Name, true),
    ("grade", SortKey::Grade, false),
    ("-grade", SortKey::Grade, true),
    ("created_at", SortKey::CreatedAt, false),
    ("-created_at", SortKey::CreatedAt, true),
    ("updated_at", SortKey::UpdatedAt, false),
    ("-updated_at", SortKey::UpdatedAt, true),
];

/// The `sort` parameter: a field, `-` first for descending; ties are broken by `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StudentSort(pub Sort);

impl Default for StudentSort {
    fn default() -> Self {
        Self(Sort::BY_ID)
    }
}

impl StudentSort {
    pub fn as_str(self) -> &'static str {
        SORTS
            .iter()
            .find(|(_, key, descending)| *key == self.0.key && *descending == self.0.descending)
            .map_or("id", |(name, _, _)| name)
    }
}

/// Identifiers for the `sort` values in generated code (`-created_at` → `CREATED_AT_DESC`),
/// published as `x-enum-varnames`: `id` and `-id` would otherwise both become `ID`.
pub fn sort_variant_names() -> Vec<String> {
    SORTS
        .iter()
        .map(|(name, _, _)| match name.strip_prefix('-') {
            Some(field) => format!("{}_DESC", field.to_uppercase()),
            None => name.to_uppercase(),
        })
        .collect()
}

named_scalar_type!(
    StudentSort,
    "StudentSort",
    MetaSchema {
        description: Some(
            "A field to sort by; `-` first for descending. `name` sorts as people read \
             names (case and accents beside their letters), `grade` puts the best grade \
             first. Ties are broken by `id` in the same direction.",
        ),
        enum_items: SORTS
            .iter()
            .map(|(name, _, _)| Value::from(*name))
            .collect(),
        default: Some("id".into()),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for StudentSort {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        SORTS
            .iter()
            .find(|(name, _, _)| *name == value)
            .map(|(_, key, descending)| {
                Self(Sort {
                    key: *key,
                    descending: *descending,
                })
            })
            .ok_or_else(|| {
                let names: Vec<&str> = SORTS.iter().map(|(name, _, _)| *name).collect();
                ParseError::custom(format!("must be one of {}", names.join(", ")))
            })
    }
}

/// `count=exact` asks for `total`, `count=estimated` for `estimated_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "lowercase")]
pub enum CountMode {
    /// Count every matching student (a full scan of the matches: slower on big results).
    Exact,
    /// The planner's estimate of the matches, from the table's statistics: as cheap as a page,
    /// however many students match; off by what the statistics miss.
    Estimated,
}

impl CountMode {
    /// Its name in a query string.
    pub fn as_str(self) -> &'static str {
        match self {
            CountMode::Exact => "exact",
            CountMode::Estimated => "estimated",
        }
    }
}

/// A bound on a time in a query (`created_after`, `created_before`): RFC 3339, with an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBound(pub DateTime<Utc>);

impl TimeBound {
    /// Longer than any RFC 3339 time needs, even with nanoseconds and an offset.
    pub const MAX_CHARS: usize = 40;
}

inline_scalar_type!(
    TimeBound,
    "string_date-time",
    MetaSchema {
        max_length: Some(TimeBound::MAX_CHARS),
        ..MetaSchema::new_with_format("string", "date-time")
    }
);

/// In a body too (`replayWebhookEvents`' `since`).
impl poem_openapi::types::ParseFromJSON for TimeBound {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value {
            Some(serde_json::Value::String(raw)) => Self::parse_from_parameter(&raw),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl poem_openapi::types::ToJSON for TimeBound {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(
            self.0.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ))
    }
}

impl ParseFromParameter for TimeBound {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Some(value)
            .filter(|value| value.len() <= Self::MAX_CHARS)
            .and_then(|value| DateTime::parse_from_rfc3339(value).ok())
            .map(|at| Self(at.to_utc()))
            .ok_or(())
            .map_err(|_| {
                ParseError::custom(
                    "must be an RFC 3339 date-time with an offset, such as 2026-01-31T09:30:00Z",
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sort_value_round_trips_through_its_name() {
        for (name, _, _) in SORTS {
            let sort = StudentSort::parse_from_parameter(name).map(StudentSort::as_str);
            assert_eq!(sort.ok(), Some(name));
        }
    }

    #[test]
    fn several_header_lines_are_one_list() {
        let parsed = EntityTags::parse_from_parameters(["\"1\"", "W/\"2\""]).ok();
        let tags = match parsed {
            Some(EntityTags::Tags(tags)) => tags.len(),
            _ => 0,
        };
        assert_eq!(tags, 2);
        assert!(EntityTags::parse_from_parameters(["\"1\"", "garbage"]).is_err());
    }

    #[test]
    fn a_comma_inside_a_tag_is_part_of_the_tag() {
        let parsed = EntityTags::parse_from_parameter("W/\"a,b\" , \"3\"").ok();
        let expected = EntityTags::Tags(vec![
            EntityTag {
                weak: true,
                opaque: "a,b".to_owned(),
            },
            EntityTag {
                weak: false,
                opaque: "3".to_owned(),
            },
        ]);
        assert_eq!(parsed, Some(expected));
    }

    #[test]
    fn entity_tags_are_a_star_or_a_list_of_quoted_tags() {
        let pattern = regex::Regex::new(EntityTags::PATTERN).ok();
        for ok in [
            "*",
            "\"3\"",
            " W/\"3\" ",
            "\"1\", W/\"2\",\"x\"",
            "\"\"",
            "W/\"a,b\"\t,\t \"c\"",
        ] {
            assert!(EntityTags::parse_from_parameter(ok).is_ok(), "{ok}");
            assert!(pattern.as_ref().is_some_and(|p| p.is_match(ok)), "{ok}");
        }
        for bad in ["", " ", "3", "\"3", "\"1\",", "**", "w/\"3\"", "\"a\"b\""] {
            assert!(EntityTags::parse_from_parameter(bad).is_err(), "{bad:?}");
            assert!(
                pattern.as_ref().is_some_and(|p| !p.is_match(bad)),
                "{bad:?}"
            );
        }
    }
}
