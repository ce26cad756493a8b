//! The list's wire types: sort orders, the cursor, the time bounds, and [`ListQuery`], the
//! filter and sort one request asked for, which cursors and `Link` headers are made from.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use poem_openapi::{
    registry::MetaSchema,
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON},
};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::schemas::{Timestamp, inline_scalar_type, named_scalar_type};
use crate::{
    domain::{Grade, Keyset, Sort, SortKey, SortValue, Student, StudentFilter, StudentName},
    error::{ApiError, FieldError},
};

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

/// `count=exact` asks for `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "lowercase")]
pub enum CountMode {
    /// Count every matching student (a full scan of the matches: slower on big results).
    Exact,
}

/// A bound on a time in a query (`created_after`, `created_before`): RFC 3339, with an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBound(pub DateTime<Utc>);

inline_scalar_type!(
    TimeBound,
    "string_date-time",
    MetaSchema::new_with_format("string", "date-time")
);

impl ParseFromParameter for TimeBound {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        DateTime::parse_from_rfc3339(value)
            .map(|at| Self(at.to_utc()))
            .map_err(|_| {
                ParseError::custom(
                    "must be an RFC 3339 date-time with an offset, such as 2026-01-31T09:30:00Z",
                )
            })
    }
}

/// What one list request asked for, apart from its page size and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: StudentFilter,
    pub sort: Sort,
}

impl ListQuery {
    /// The parameters that select and order the students, in one canonical order and spelling:
    /// the same request always gives the same pairs, whatever order its parameters came in.
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let filter = &self.filter;
        let mut pairs: Vec<(&'static str, String)> = Vec::new();
        pairs.extend(
            filter
                .grades
                .iter()
                .map(|g| ("grade", g.as_str().to_owned())),
        );
        if let Some(email) = &filter.email {
            pairs.push(("email", email.as_str().to_owned()));
        }
        if let Some(has_email) = filter.has_email {
            pairs.push(("has_email", has_email.to_string()));
        }
        for (name, at) in [
            ("created_after", filter.created_after),
            ("created_before", filter.created_before),
        ] {
            if let Some(at) = at {
                pairs.push((name, rfc3339(at)));
            }
        }
        if let Some(text) = &filter.search {
            pairs.push(("q", text.clone()));
        }
        pairs.push(("sort", StudentSort(self.sort).as_str().to_owned()));
        pairs
    }

    /// Identifies the filter and sort, so a cursor made for another list is refused.
    /// FNV-1a: stable across builds and platforms, unlike `std`'s hasher.
    fn fingerprint(&self) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for (name, value) in self.pairs() {
            for byte in name.bytes().chain([0]).chain(value.bytes()).chain([0]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        hash
    }

    /// The URL of the page after `cursor` (for `Link: <…>; rel="next"`).
    pub fn next_page_url(&self, limit: i64, count: bool, cursor: &Cursor) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.pairs() {
            query.append_pair(name, &value);
        }
        query.append_pair("limit", &limit.to_string());
        if count {
            query.append_pair("count", "exact");
        }
        query.append_pair("cursor", &cursor.encode());
        format!("/api/students?{}", query.finish())
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    Timestamp(at).to_rfc3339()
}

/// An opaque position in one list: which list (its filter and sort, as a fingerprint) and the
/// last row of the page before. Only cursors this API returned, for the same filter and sort,
/// are accepted; anything else is a 422 naming `cursor`, never a wrong page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    list: u64,
    id: i64,
    /// The last row's sort value, as text (empty when sorting by id).
    value: String,
}

impl Cursor {
    const VERSION: &'static str = "c1";
    pub const MAX_CHARS: usize = 1024;

    /// The cursor for the page after `last`, in `query`'s list.
    pub fn after(query: &ListQuery, last: &Student) -> Self {
        let value = match query.sort.value_of(last) {
            SortValue::Id => String::new(),
            SortValue::Name(name) => name,
            SortValue::Grade(grade) => grade.as_str().to_owned(),
            SortValue::Time(at) => rfc3339(at),
        };
        Self {
            list: query.fingerprint(),
            id: last.id,
            value,
        }
    }

    #[cfg(test)]
    pub fn example() -> Self {
        Self {
            list: 0x0123_4567_89ab_cdef,
            id: 42,
            value: "Ada Lovelace".to_owned(),
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{}\n{:016x}\n{}\n{}",
            Self::VERSION,
            self.list,
            self.id,
            self.value
        ))
    }

    fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let mut parts = text.splitn(4, '\n');
        if parts.next()? != Self::VERSION {
            return None;
        }
        let list = u64::from_str_radix(parts.next()?, 16).ok()?;
        let id = parts.next()?.parse().ok()?;
        let value = parts.next()?.to_owned();
        Some(Self { list, id, value })
    }

    /// Where the next page of `query` starts, if this cursor was made for `query`.
    pub fn keyset(&self, query: &ListQuery) -> Result<Keyset, ApiError> {
        let refuse = |message: &str| {
            ApiError::Validation(vec![FieldError::new(
                "query.cursor",
                "invalid_parameter",
                message,
            )])
        };
        if self.list != query.fingerprint() {
            return Err(refuse(
                "was made for another filter or sort; pass the same parameters as for the \
                 page it came from, or start again without `cursor`",
            ));
        }
        let broken = || refuse("is damaged; copy `next_cursor` as is");
        let value = match query.sort.key {
            SortKey::Id if self.value.is_empty() => SortValue::Id,
            SortKey::Id => return Err(broken()),
            SortKey::Name if self.value.chars().count() <= StudentName::MAX_CHARS => {
                SortValue::Name(self.value.clone())
            }
            SortKey::Name => return Err(broken()),
            SortKey::Grade => SortValue::Grade(Grade::parse(&self.value).map_err(|_| broken())?),
            SortKey::CreatedAt | SortKey::UpdatedAt => SortValue::Time(
                DateTime::parse_from_rfc3339(&self.value)
                    .map_err(|_| broken())?
                    .to_utc(),
            ),
        };
        Ok(Keyset { value, id: self.id })
    }
}

inline_scalar_type!(
    Cursor,
    "Cursor",
    MetaSchema {
        description: Some(
            "Opaque; copy it from `next_cursor`. Valid only with the filter and sort of \
             the page it came from.",
        ),
        max_length: Some(Cursor::MAX_CHARS),
        ..MetaSchema::new("string")
    }
);

impl ParseFromParameter for Cursor {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::decode(value).ok_or_else(|| {
            ParseError::custom("is not a cursor returned by this API; copy `next_cursor` as is")
        })
    }
}

impl ParseFromJSON for Cursor {
    fn parse_from_json(value: Option<Value>) -> ParseResult<Self> {
        match value {
            Some(Value::String(raw)) => Self::parse_from_parameter(&raw),
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl ToJSON for Cursor {
    fn to_json(&self) -> Option<Value> {
        Some(Value::String(self.encode()))
    }
}

impl Serialize for Cursor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(sort: &str) -> ListQuery {
        ListQuery {
            filter: StudentFilter::default(),
            sort: StudentSort::parse_from_parameter(sort)
                .map(|s| s.0)
                .unwrap_or(Sort::BY_ID),
        }
    }

    #[test]
    fn every_sort_value_round_trips_through_its_name() {
        for (name, _, _) in SORTS {
            let sort = StudentSort::parse_from_parameter(name).map(StudentSort::as_str);
            assert_eq!(sort.ok(), Some(name));
        }
    }

    #[test]
    fn a_cursor_only_resumes_the_list_it_was_made_for() {
        let by_name = query("name");
        let cursor = Cursor {
            list: by_name.fingerprint(),
            id: 7,
            value: "Ada, \"the\" Countess\nof Lovelace".to_owned(),
        };
        let decoded = Cursor::decode(&cursor.encode());
        assert_eq!(decoded.as_ref(), Some(&cursor));
        assert!(cursor.keyset(&by_name).is_ok());
        assert!(cursor.keyset(&query("-name")).is_err());
        assert!(cursor.keyset(&query("id")).is_err());
    }
}
