//! [`ListQuery`]: the filter and sort one list or export request asked for, normalised so that
//! equivalent requests are one list (one cursor fingerprint, one `Link` URL).

use chrono::{DateTime, Utc};

use super::params::{CountMode, SearchText, StudentSort, TimeBound};
use crate::{
    api::types::Timestamp,
    domain::{Email, GRADES, Grade, Sort, StudentFilter},
};

/// What one list request asked for, apart from its page size and position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: StudentFilter,
    pub sort: Sort,
}

/// The filter and sort parameters of `listStudents` and `exportStudents`, as received.
#[derive(Debug, Default)]
pub struct ListParams {
    pub grades: Vec<Grade>,
    pub email: Option<Email>,
    pub has_email: Option<bool>,
    pub created_after: Option<TimeBound>,
    pub created_before: Option<TimeBound>,
    pub q: Option<SearchText>,
    pub sort: Option<StudentSort>,
}

impl From<ListParams> for ListQuery {
    /// Grades are kept in best-first order without repeats, and blank search text means no
    /// search.
    fn from(params: ListParams) -> Self {
        let mut grades = params.grades;
        grades.sort_by_key(|g| GRADES.iter().position(|x| x == g));
        grades.dedup();
        ListQuery {
            filter: StudentFilter {
                grades,
                email: params.email,
                has_email: params.has_email,
                created_after: params.created_after.map(|t| t.0),
                created_before: params.created_before.map(|t| t.0),
                search: params.q.and_then(SearchText::into_text),
            },
            sort: params.sort.unwrap_or_default().0,
        }
    }
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
    pub fn fingerprint(&self) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for (name, value) in self.pairs() {
            for byte in name.bytes().chain([0]).chain(value.bytes()).chain([0]) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        hash
    }

    /// The URL of the page at `cursor` (for `Link: <…>; rel="next"`).
    pub fn page_url(&self, limit: i64, count: Option<CountMode>, cursor: &str) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in self.pairs() {
            query.append_pair(name, &value);
        }
        query.append_pair("limit", &limit.to_string());
        if let Some(count) = count {
            query.append_pair("count", count.as_str());
        }
        query.append_pair("cursor", cursor);
        format!("/api/students?{}", query.finish())
    }
}

/// A time as the API writes it everywhere.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    Timestamp(at).to_rfc3339()
}
