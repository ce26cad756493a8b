//! Recorded changes to students: what the change feed sends and a student's history lists.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};

use super::{Code, Email, Grade, Student, StudentName, Violation};

/// A place in the change feed: every change up to and including it has been seen. Changes are
/// ordered by `(feed_xid, seq)` (migration 11). A position need not be a change's own: the
/// feed's "now" is `(xmin, 0)`, everything before the oldest unfinished transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub xid: i64,
    pub seq: i64,
}

impl Position {
    /// The start of the feed: before every change.
    pub const START: Position = Position { xid: 0, seq: 0 };
    /// Its wire form's length: 16 bytes in URL-safe base64 without padding.
    pub const CHARS: usize = 22;
    pub const PATTERN: &'static str = "^[A-Za-z0-9_-]{22}$";

    pub fn new(xid: i64, seq: i64) -> Self {
        Self { xid, seq }
    }

    /// Opaque on the wire: clients store it and send it back, never compute with it.
    pub fn encode(self) -> String {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.xid.to_be_bytes());
        bytes[8..].copy_from_slice(&self.seq.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        let invalid = || {
            Violation::new(
                Code::InvalidParameter,
                "must be a position this API returned (an event's `id`, or `position`/`next` \
                 from a response), or `now`",
            )
        };
        if raw.len() != Self::CHARS {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let (xid, seq) = bytes.split_at_checked(8).ok_or_else(invalid)?;
        let xid = i64::from_be_bytes(xid.try_into().map_err(|_| invalid())?);
        let seq = i64::from_be_bytes(seq.try_into().map_err(|_| invalid())?);
        if xid < 0 || seq < 0 {
            return Err(invalid());
        }
        // One spelling per position: base64 has several for the last character's spare bits.
        let position = Self { xid, seq };
        if position.encode() != raw {
            return Err(invalid());
        }
        Ok(position)
    }
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "created" => Some(ChangeKind::Created),
            "updated" => Some(ChangeKind::Updated),
            "deleted" => Some(ChangeKind::Deleted),
            _ => None,
        }
    }
}

/// Who made a change: a signed-in person (`account_id`, named by username), a program's API
/// token (named by the token's name), or (`token_id: None`) a database role, e.g. in psql.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeActor {
    pub token_id: Option<i64>,
    pub account_id: Option<i64>,
    pub name: String,
}

/// One recorded change to one student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedChange {
    pub position: Position,
    pub kind: ChangeKind,
    /// The student after the change; before it, for a delete.
    pub student: Student,
    /// The student before an update.
    pub previous: Option<Student>,
    pub actor: ChangeActor,
    /// When the writing transaction started.
    pub changed_at: DateTime<Utc>,
    /// For a restore: the version whose state it brought back.
    pub restored_from: Option<i32>,
}

/// One field's value before and after a change (`None`: absent, or no value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange<T> {
    pub before: Option<T>,
    pub after: Option<T>,
}

/// The fields a change set, altered or removed; `None` for a field it left alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldChanges {
    pub name: Option<FieldChange<StudentName>>,
    pub grade: Option<FieldChange<Grade>>,
    pub email: Option<FieldChange<Email>>,
}

impl RecordedChange {
    /// Which fields changed, before → after. A create lists every field it set, a delete every
    /// field the student had.
    pub fn field_changes(&self) -> FieldChanges {
        let (before, after) = match self.kind {
            ChangeKind::Created => (None, Some(&self.student)),
            ChangeKind::Updated => (self.previous.as_ref(), Some(&self.student)),
            ChangeKind::Deleted => (Some(&self.student), None),
        };
        FieldChanges {
            name: diff(before.map(|s| &s.name), after.map(|s| &s.name)),
            grade: diff(before.map(|s| &s.grade), after.map(|s| &s.grade)),
            email: diff(
                before.and_then(|s| s.email.as_ref()),
                after.and_then(|s| s.email.as_ref()),
            ),
        }
    }

    /// Whether the student had `grade` before or after the change: a grade's followers see
    /// students join and leave it.
    pub fn touches_grade(&self, grade: Grade) -> bool {
        self.student.grade == grade || self.previous.as_ref().is_some_and(|p| p.grade == grade)
    }
}

fn diff<T: Clone + PartialEq>(before: Option<&T>, after: Option<&T>) -> Option<FieldChange<T>> {
    (before != after).then(|| FieldChange {
        before: before.cloned(),
        after: after.cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_and_only_one_spelling_is_accepted() {
        for position in [
            Position::START,
            Position::new(740, 3),
            Position::new(i64::MAX, i64::MAX),
        ] {
            let wire = position.encode();
            assert_eq!(wire.len(), Position::CHARS);
            assert_eq!(Position::parse(&wire), Ok(position));
        }
        let wire = Position::new(740, 3).encode();
        // The last character carries 2 bits of data and 4 spare ones: flipping a spare bit
        // spells the same bytes another way, which is refused.
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let last = wire.as_bytes()[Position::CHARS - 1];
        let index = ALPHABET.iter().position(|c| *c == last).unwrap_or(0);
        let mut other = wire[..Position::CHARS - 1].to_owned();
        other.push(char::from(ALPHABET[index ^ 1]));
        assert!(Position::parse(&other).is_err());
        for bad in [
            "",
            "now",
            "AAAA",
            &"A".repeat(23),
            &format!("{}=", &wire[..21]),
        ] {
            assert!(Position::parse(bad).is_err(), "{bad:?}");
        }
        let negative = URL_SAFE_NO_PAD.encode([0xff; 16]);
        assert!(Position::parse(&negative).is_err());
    }

    #[test]
    fn positions_order_by_transaction_then_sequence() {
        assert!(Position::new(10, 99) < Position::new(11, 1));
        assert!(Position::new(11, 0) < Position::new(11, 1));
    }
}
