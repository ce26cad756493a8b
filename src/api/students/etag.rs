//! Entity tags for students (RFC 9110 §8.8.3): a student's ETag is its version, quoted (`"3"`).
//! `If-Match` (strong comparison) guards writes; `If-None-Match` (weak comparison) lets a
//! client revalidate a cached student with a `304`. The headers' syntax is checked by
//! [`EntityTags`] before these run.

use super::params::EntityTags;

/// The ETag of a student at `version`.
pub fn etag(version: i32) -> String {
    format!("\"{version}\"")
}

/// The versions an `If-Match` header accepts, for the database to compare inside the write.
/// `None` (no header, or `*`): write unconditionally; a missing student is a 404 either way.
/// Weak tags (`W/"3"`) and tags we never issued (`"banana"`, `"03"`) accept nothing: 412.
pub fn if_match(header: Option<&EntityTags>) -> Option<Vec<i32>> {
    match header? {
        EntityTags::Any => None,
        EntityTags::Tags(tags) => Some(
            tags.iter()
                .filter(|tag| !tag.weak)
                .filter_map(|tag| issued_version(&tag.opaque))
                .collect(),
        ),
    }
}

/// Whether an `If-None-Match` header matches a student at `version` (`*` matches any).
pub fn none_match(header: &EntityTags, version: i32) -> bool {
    match header {
        EntityTags::Any => true,
        EntityTags::Tags(tags) => tags
            .iter()
            .any(|tag| issued_version(&tag.opaque) == Some(version)),
    }
}

/// The version an opaque tag names, if it is exactly a tag [`etag`] writes: tags compare as
/// strings (RFC 9110 §8.8.3.2), so `"01"` and `"+1"` are not `"1"`.
fn issued_version(opaque: &str) -> Option<i32> {
    // Tags are issued as canonical numbers, so only those can match (`"01"` is not `"1"`).
    crate::domain::whole_number(opaque).and_then(|version| i32::try_from(version).ok())
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::ParseFromParameter;

    use super::*;

    fn tags(header: &str) -> EntityTags {
        EntityTags::parse_from_parameter(header).unwrap_or_else(|_| unreachable!("{header}"))
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        assert_eq!(if_match(None), None);
        assert_eq!(if_match(Some(&tags("*"))), None);
        assert_eq!(if_match(Some(&tags("\"3\""))), Some(vec![3]));
        assert_eq!(if_match(Some(&tags("\"1\", \"4\""))), Some(vec![1, 4]));
        assert_eq!(if_match(Some(&tags("W/\"3\""))), Some(vec![]));
        assert_eq!(if_match(Some(&tags("\"abc\""))), Some(vec![]));
        assert_eq!(if_match(Some(&tags("\"01\", \"+1\""))), Some(vec![]));
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        assert!(none_match(&tags("\"2\""), 2));
        assert!(none_match(&tags("W/\"2\""), 2));
        assert!(none_match(&tags("\"1\", W/\"2\""), 2));
        assert!(none_match(&tags("*"), 7));
        assert!(!none_match(&tags("\"1\""), 2));
        assert!(!none_match(&tags("\"01\""), 1), "compared as issued");
        assert!(!none_match(&tags("\"+1\""), 1), "compared as issued");
    }
}
