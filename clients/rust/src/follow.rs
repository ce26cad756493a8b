//! Following the change feed by long-polling `pollChanges` (written by hand; `lib.rs` is
//! generated and declares this module).

use std::{
    collections::VecDeque,
    num::{NonZeroU32, NonZeroU64},
};

use crate::{Client, Error, types};

/// Every change to the students after a position, oldest first, then each new one as it
/// happens: nothing skipped, nothing twice. Made by [`Client::follow_changes`].
///
/// Each [`next`](Self::next) that finds nothing waiting asks the server for the changes after
/// the last position, and the server answers as soon as there are some (or empty after
/// `wait_secs`, and it asks again). An error leaves the position where it was: call `next`
/// again to retry (after a pause, for a `503` or a lost connection). A `410` means the
/// position is older than the changes the server keeps: take the feed's position
/// (`poll_changes().after("now").wait(0)`, its `next`), list the students, then follow from it.
#[derive(Debug)]
pub struct ChangeFollower<'a> {
    client: &'a Client,
    /// Where the next poll starts.
    after: Option<String>,
    /// Everything up to here was returned (or filtered out): where to resume.
    resume: Option<String>,
    grades: Vec<types::Grade>,
    student_id: Option<NonZeroU64>,
    wait_secs: u64,
    waiting: VecDeque<types::StudentChange>,
}

impl Client {
    /// Follows the change feed from the oldest change kept; see [`ChangeFollower`].
    pub fn follow_changes(&self) -> ChangeFollower<'_> {
        ChangeFollower {
            client: self,
            after: None,
            resume: None,
            grades: Vec::new(),
            student_id: None,
            // Below the 15 s timeout of `Client::with_token`.
            wait_secs: 10,
            waiting: VecDeque::new(),
        }
    }
}

impl ChangeFollower<'_> {
    /// Starts after this position (a change's `position`), or `"now"`.
    pub fn after(mut self, position: impl Into<String>) -> Self {
        let position = position.into();
        // `now` is not a place to come back to: the first poll's `next` will be.
        self.resume = (position != "now").then(|| position.clone());
        self.after = Some(position);
        self
    }

    /// Only changes to students in this grade (before or after the change); repeat for more.
    pub fn grade(mut self, grade: types::Grade) -> Self {
        self.grades.push(grade);
        self
    }

    /// Only changes to this student.
    pub fn student_id(mut self, id: NonZeroU64) -> Self {
        self.student_id = Some(id);
        self
    }

    /// How long one poll may wait for a change (at most 60; keep it below the client's timeout).
    pub fn wait_secs(mut self, seconds: u64) -> Self {
        self.wait_secs = seconds;
        self
    }

    /// Where the next poll starts: resume from here later with [`after`](Self::after).
    pub fn position(&self) -> Option<&str> {
        self.resume.as_deref()
    }

    /// The next change, waiting for it as long as it takes.
    pub async fn next(&mut self) -> Result<types::StudentChange, Error<types::Problem>> {
        loop {
            if let Some(change) = self.waiting.pop_front() {
                self.resume = if self.waiting.is_empty() {
                    self.after.clone()
                } else {
                    Some(change.position.to_string())
                };
                return Ok(change);
            }
            let mut poll = self
                .client
                .poll_changes()
                .wait(self.wait_secs)
                .limit(NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN));
            if let Some(after) = &self.after {
                poll = poll.after(after.as_str());
            }
            if !self.grades.is_empty() {
                poll = poll.grade(self.grades.clone());
            }
            if let Some(id) = self.student_id {
                poll = poll.student_id(id);
            }
            let page = poll.send().await?.into_inner();
            self.after = Some(page.next.to_string());
            if page.changes.is_empty() {
                self.resume = self.after.clone();
            }
            self.waiting.extend(page.changes);
        }
    }
}
