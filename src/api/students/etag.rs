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
/// Weak tags (`W/"3"`) and tags we never issued accept nothing, so they answer 412.
pub fn if_match(header: Option<&EntityTags>) -> Option<Vec<i32>> {
    let header = header?.as_str();
    if header == "*" {
        return None;
    }
    Some(
        tags(header)
            .filter(|(weak, _)| !weak)
            .filter_map(|(_, opaque)| opaque.parse().ok())
            .collect(),
    )
}

/// Whether an `If-None-Match` header matches a student at `version` (`*` matches any).
pub fn none_match(header: &EntityTags, version: i32) -> bool {
    let header = header.as_str();
    header == "*" || tags(header).any(|(_, opaque)| opaque.parse::<i32>().ok() == Some(version))
}

/// `W/"1", "2"` → `(true, "1")`, `(false, "2")`.
fn tags(header: &str) -> impl Iterator<Item = (bool, &str)> {
    header.split(',').filter_map(|member| {
        let member = member.trim();
        let (weak, quoted) = match member.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, member),
        };
        let opaque = quoted.strip_prefix('"')?.strip_suffix('"')?;
        Some((weak, opaque))
    })
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
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        assert!(none_match(&tags("\"2\""), 2));
        assert!(none_match(&tags("W/\"2\""), 2));
        assert!(none_match(&tags("\"1\", W/\"2\""), 2));
        assert!(none_match(&tags("*"), 7));
        assert!(!none_match(&tags("\"1\""), 2));
    }
}
