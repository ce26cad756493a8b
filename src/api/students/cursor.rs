//! The list's cursor: an opaque position in one list, signed, encoded as URL-safe base64.
//!
//! The signature (HMAC-SHA256 with the database's `cursor_signing_key`, truncated to 128 bits)
//! makes cursors unforgeable: a hand-made one, whatever it holds, is a 422 before any of its
//! values is read, so only values this API wrote from a real row ever reach SQL.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::DateTime;
use hmac::{KeyInit, Mac};
use poem_openapi::{
    registry::MetaSchema,
    types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON},
};
use serde::{Serialize, Serializer};
use serde_json::Value;

use super::list_query::{ListQuery, rfc3339};
use crate::{
    api::types::inline_scalar_type,
    db::CursorSecret,
    domain::{Code, Grade, Keyset, SortKey, SortValue, Student, StudentName, is_control},
    error::{ApiError, FieldError},
};

/// An opaque position in one list: which list (its filter and sort, as a fingerprint) and the
/// last row of the page before. Only cursors this API returned, for the same filter and sort,
/// are accepted; anything else is a 422 naming `cursor`, never a wrong page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    list: u64,
    id: i64,
    /// The last row's sort value, as text (empty when sorting by id).
    value: String,
    /// The signature of the rest.
    tag: [u8; Self::TAG_BYTES],
}

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

impl Cursor {
    const VERSION: &'static str = "c2";
    const TAG_BYTES: usize = 16;
    pub const MAX_CHARS: usize = 1024;
    /// The alphabet of URL-safe base64 without padding, as [`Self::encode`] writes it.
    pub const PATTERN: &str = "^[A-Za-z0-9_-]+$";

    /// The cursor for the page after `last`, in `query`'s list.
    pub fn after(query: &ListQuery, last: &Student, secret: &CursorSecret) -> Self {
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
            tag: [0; Self::TAG_BYTES],
        }
        .signed(secret)
    }

    fn signed(mut self, secret: &CursorSecret) -> Self {
        let signature = self.mac(secret).finalize().into_bytes();
        self.tag.copy_from_slice(&signature[..Self::TAG_BYTES]);
        self
    }

    #[cfg(test)]
    pub fn example() -> Self {
        Self {
            list: 0x0123_4567_89ab_cdef,
            id: 42,
            value: "Ada Lovelace".to_owned(),
            tag: [7; Self::TAG_BYTES],
        }
    }

    /// What the signature covers.
    fn payload(&self) -> String {
        format!(
            "{}\n{:016x}\n{}\n{}",
            Self::VERSION,
            self.list,
            self.id,
            self.value
        )
    }

    /// The MAC over the payload, ready to finalize or verify.
    fn mac(&self, secret: &CursorSecret) -> HmacSha256 {
        // HMAC takes a key of any length, so this never fails.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(self.payload().as_bytes());
        mac
    }

    pub fn encode(&self) -> String {
        let mut bytes = self.tag.to_vec();
        bytes.extend_from_slice(self.payload().as_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn decode(raw: &str) -> Option<Self> {
        if raw.len() > Self::MAX_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        let (tag, payload) = bytes.split_at_checked(Self::TAG_BYTES)?;
        let text = std::str::from_utf8(payload).ok()?;
        let mut parts = text.splitn(4, '\n');
        if parts.next()? != Self::VERSION {
            return None;
        }
        let list = u64::from_str_radix(parts.next()?, 16).ok()?;
        let id = parts.next()?.parse().ok()?;
        let value = parts.next()?.to_owned();
        Some(Self {
            list,
            id,
            value,
            tag: tag.try_into().ok()?,
        })
    }

    /// Where the next page of `query` starts, if this API signed this cursor for `query`.
    pub fn keyset(&self, query: &ListQuery, secret: &CursorSecret) -> Result<Keyset, ApiError> {
        let refuse = |message: &str| {
            ApiError::Validation(vec![FieldError::new(
                "query.cursor",
                Code::InvalidParameter.as_str(),
                message,
            )])
        };
        // Constant-time: the comparison must not tell a forger how much of a tag was right.
        if self.mac(secret).verify_truncated_left(&self.tag).is_err() {
            return Err(refuse(
                "is not a cursor returned by this API; copy `next_cursor` as is",
            ));
        }
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
            // Exactly the stored name the page ended on (not re-trimmed: a row older than a
            // constraint may hold one that is not), but never more than a name may hold or a
            // control character, NUL included: nothing forged reaches PostgreSQL that no name
            // could be.
            SortKey::Name
                if self.value.chars().count() <= StudentName::RULE.max_chars.unwrap_or(0)
                    && !self.value.chars().any(is_control) =>
            {
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
        pattern: Some(Cursor::PATTERN.to_owned()),
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
    use poem_openapi::types::ParseFromParameter;

    use super::*;
    use crate::{
        api::students::params::StudentSort,
        domain::{Sort, StudentFilter},
    };

    fn query(sort: &str) -> ListQuery {
        ListQuery {
            filter: StudentFilter::default(),
            sort: StudentSort::parse_from_parameter(sort)
                .map(|s| s.0)
                .unwrap_or(Sort::BY_ID),
        }
    }

    fn secret(byte: u8) -> CursorSecret {
        CursorSecret::new(vec![byte; 32])
    }

    fn cursor(list: &ListQuery, value: &str) -> Cursor {
        Cursor {
            list: list.fingerprint(),
            id: 7,
            value: value.to_owned(),
            tag: [0; Cursor::TAG_BYTES],
        }
    }

    #[test]
    fn a_cursor_only_resumes_the_list_it_was_made_for() {
        let by_name = query("name");
        let cursor = cursor(&by_name, "Ada, \"the\" Countess of Lovelace").signed(&secret(1));
        let decoded = Cursor::decode(&cursor.encode());
        assert_eq!(decoded.as_ref(), Some(&cursor));
        assert!(cursor.keyset(&by_name, &secret(1)).is_ok());
        assert!(cursor.keyset(&query("-name"), &secret(1)).is_err());
        assert!(cursor.keyset(&query("id"), &secret(1)).is_err());
    }

    #[test]
    fn a_cursor_signed_with_another_key_or_altered_is_refused() {
        let by_name = query("name");
        let signed = cursor(&by_name, "Ada").signed(&secret(1));
        assert!(signed.keyset(&by_name, &secret(2)).is_err(), "another key");
        let mut altered = signed.clone();
        altered.id = -(1 << 62);
        assert!(altered.keyset(&by_name, &secret(1)).is_err(), "another id");
        let unsigned = cursor(&by_name, "Ada");
        assert!(
            unsigned.keyset(&by_name, &secret(1)).is_err(),
            "no signature"
        );
    }

    #[test]
    fn a_signed_cursor_holding_a_nul_is_still_refused_before_any_query() {
        // Defence in depth: even a cursor signed with the right key (a leaked one) cannot
        // carry a value no name could be.
        let by_name = query("name");
        let forged = cursor(&by_name, "Ada\u{0}").signed(&secret(1));
        let decoded = Cursor::decode(&forged.encode());
        assert!(decoded.is_some_and(|c| c.keyset(&by_name, &secret(1)).is_err()));
    }

    #[test]
    fn what_encode_writes_matches_the_published_pattern() {
        let pattern = regex::Regex::new(Cursor::PATTERN).ok();
        let encoded = Cursor::example().encode();
        assert!(pattern.is_some_and(|p| p.is_match(&encoded)), "{encoded}");
    }
}
