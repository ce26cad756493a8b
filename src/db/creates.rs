//! Creates that wait for a connection at the same moment share one `INSERT`.
//!
//! Under load a create spends most of its time waiting: for a pooled connection, then for its
//! commit to reach the disk. Whoever gets a connection first writes every create then waiting
//! (of the same actor) in one statement: one round trip, one commit, one run of the change
//! trigger for all of them. No create waits for a batch to fill; alone, a create is written
//! exactly as before. Each caller still gets its own answer: its own student, or its own error.
//! A statement PostgreSQL refuses for a row's sake (an e-mail taken: SQLSTATE class 23 or 22)
//! wrote nothing, so each of its creates is tried again alone; any other failure leaves the
//! outcome unknown, and each caller gets the `503` a create of its own would have got, never a
//! second write.

use std::sync::{
    Arc, Mutex, MutexGuard,
    atomic::{AtomicU64, Ordering},
};

use sqlx::{PgPool, Postgres, pool::PoolConnection};
use tokio::sync::oneshot;
use tracing::Instrument;

use super::{
    Error,
    students::{Actor, StudentRow, columns, insert_on, with_actor},
};
use crate::{
    domain::{Email, NewStudent, Student},
    telemetry,
};

/// At most this many creates share a statement.
pub const MAX_BATCH: usize = 64;

/// The creates waiting for a connection. Cheap to clone (one shared queue).
#[derive(Debug, Clone, Default)]
pub struct Creates(Arc<Queue>);

#[derive(Debug, Default)]
struct Queue {
    waiting: Mutex<Vec<Waiting>>,
    next_ticket: AtomicU64,
}

/// One create waiting to be written, and where its answer goes.
#[derive(Debug)]
struct Waiting {
    ticket: u64,
    student: NewStudent,
    actor: Actor,
    answer: oneshot::Sender<Answer>,
}

#[derive(Debug)]
enum Answer {
    Written(Result<Student, Error>),
    /// The shared statement failed, so nothing of it was written: write this one alone.
    Alone(NewStudent, Actor),
}

impl Creates {
    /// Writes `student`, made by `actor`: alone, or with the creates waiting beside it.
    pub async fn insert(
        &self,
        pool: &PgPool,
        student: NewStudent,
        actor: Actor,
    ) -> Result<Student, Error> {
        let ticket = self.0.next_ticket.fetch_add(1, Ordering::Relaxed);
        let (answer, mut answered) = oneshot::channel();
        self.waiting().push(Waiting {
            ticket,
            student,
            actor,
            answer,
        });
        // A caller that hangs up while its create waits takes it back: otherwise the next
        // create by the same token, minutes later, would write it.
        let mut unless_taken = Withdraw {
            creates: self,
            ticket,
            armed: true,
        };
        // A create another statement has taken keeps waiting here until its answer comes, and
        // hands on the connection it may get first. Dropping the wait as soon as it is taken
        // looked cheaper, but a dropped `acquire` that was opening a connection throws it away:
        // 2,058 connections opened in a 6 s POST run instead of 24, and half the throughput.
        let acquired = tokio::select! {
            biased;
            answer = &mut answered => {
                unless_taken.armed = false;
                return self.outcome(pool, answer).await;
            }
            acquired = pool.acquire() => acquired,
        };
        let mut conn = match acquired {
            Ok(conn) => conn,
            // Taken back, so no statement writes it after the caller was told it failed.
            Err(err) => {
                unless_taken.armed = false;
                return match self.withdraw(ticket) {
                    Some(_) => Err(err.into()),
                    None => self.outcome(pool, answered.await).await,
                };
            }
        };
        let mut batch = self.take(ticket);
        unless_taken.armed = false;
        if !batch.is_empty() {
            telemetry::creates_per_statement().record(batch.len() as f64);
        }
        match batch.len() {
            // Taken by a statement under way just now: its answer comes from there.
            0 => {
                drop(conn);
                self.outcome(pool, answered.await).await
            }
            1 => {
                let own = batch.swap_remove(0);
                insert_on(&mut conn, &own.student, &own.actor).await
            }
            _ => {
                // A task of its own: a caller that hangs up must not cancel the others' write.
                tokio::spawn(write(conn, batch).instrument(tracing::Span::current()));
                self.outcome(pool, answered.await).await
            }
        }
    }

    /// The caller's answer; written alone if the shared statement failed.
    async fn outcome(
        &self,
        pool: &PgPool,
        answer: Result<Answer, oneshot::error::RecvError>,
    ) -> Result<Student, Error> {
        match answer {
            Ok(Answer::Written(result)) => result,
            Ok(Answer::Alone(student, actor)) => super::insert(pool, &student, &actor).await,
            Err(_) => Err(Error::Corrupt(
                "the statement writing this create ended without an answer".to_owned(),
            )),
        }
    }

    fn waiting(&self) -> MutexGuard<'_, Vec<Waiting>> {
        match self.0.waiting.lock() {
            Ok(waiting) => waiting,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Removes the create `ticket` from the queue, if it is still there.
    fn withdraw(&self, ticket: u64) -> Option<Waiting> {
        remove(&mut self.waiting(), ticket)
    }

    /// The create `ticket` and, after it, up to [`MAX_BATCH`] in all of the creates waiting by
    /// the same actor (the change trigger records one actor per statement). Empty if `ticket`
    /// was already taken.
    fn take(&self, ticket: u64) -> Vec<Waiting> {
        let mut waiting = self.waiting();
        let Some(own) = remove(&mut waiting, ticket) else {
            return Vec::new();
        };
        // One pass, oldest first: the queue can be long when thousands of clients post at once.
        let mut room = MAX_BATCH - 1;
        let others: Vec<Waiting> = waiting
            .extract_if(.., |w| {
                let take = room > 0 && w.actor == own.actor;
                room -= usize::from(take);
                take
            })
            .collect();
        std::iter::once(own).chain(others).collect()
    }
}

/// Removes the create `ticket` from `waiting`, keeping the others in order.
fn remove(waiting: &mut Vec<Waiting>, ticket: u64) -> Option<Waiting> {
    let at = waiting.iter().position(|w| w.ticket == ticket)?;
    Some(waiting.remove(at))
}

/// Takes a create back from the queue when dropped while armed (its caller went away before a
/// statement took it). Disarmed as soon as the create's fate is known, so a create that ends
/// normally does not search the queue again.
struct Withdraw<'a> {
    creates: &'a Creates,
    ticket: u64,
    armed: bool,
}

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.creates.withdraw(self.ticket);
        }
    }
}

/// Why a shared statement wrote nothing, or may have.
enum Failure {
    /// Refused for a row's sake (SQLSTATE class 23 or 22): nothing was written.
    Refused(Box<dyn sqlx::error::DatabaseError>),
    /// The outcome is unknown.
    Unknown(sqlx::Error),
}

/// Writes `batch` (two or more creates by one actor) in one statement, and answers each.
async fn write(mut conn: PoolConnection<Postgres>, batch: Vec<Waiting>) {
    let names: Vec<&str> = batch.iter().map(|w| w.student.name.as_str()).collect();
    let grades: Vec<&str> = batch.iter().map(|w| w.student.grade.as_str()).collect();
    let emails: Vec<Option<&str>> = batch
        .iter()
        .map(|w| w.student.email.as_ref().map(Email::as_str))
        .collect();
    let actor = &batch[0].actor;
    // `RETURNING` gives the rows in the order they were inserted, which `ORDER BY` fixes to the
    // batch's (Django's `bulk_create` relies on the same); each row is also checked against
    // the create it answers.
    let inserted: Result<Vec<StudentRow>, sqlx::Error> = sqlx::query_as(concat!(
        with_actor!("$4", "$5", "$6"),
        "INSERT INTO students (name, grade, email) \
         SELECT u.name, u.grade, u.email FROM actor, \
                unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY \
                AS u(name, grade, email, n) \
         ORDER BY u.n RETURNING ",
        columns!()
    ))
    .bind(&names)
    .bind(&grades)
    .bind(&emails)
    .bind(actor.token_id)
    .bind(actor.account_id)
    .bind(&actor.name)
    .fetch_all(&mut *conn)
    .await;
    let written = match inserted {
        Ok(rows) => match super::settle_raw(&mut conn).await {
            Ok(()) => Ok(rows),
            // A commit that failed may still have happened.
            Err(err) => Err(Failure::Unknown(err)),
        },
        Err(sqlx::Error::Database(refused))
            if refused
                .code()
                .is_some_and(|code| code.starts_with("23") || code.starts_with("22")) =>
        {
            Err(Failure::Refused(refused))
        }
        Err(err) => Err(Failure::Unknown(err)),
    };
    drop((names, grades, emails));
    match written {
        Ok(rows) if rows.len() == batch.len() => {
            for (waiting, row) in batch.into_iter().zip(rows) {
                let answer = Student::try_from(row).and_then(|student| {
                    if student.name == waiting.student.name
                        && student.grade == waiting.student.grade
                        && student.email == waiting.student.email
                    {
                        Ok(student)
                    } else {
                        Err(Error::Corrupt(format!(
                            "a shared create returned student {} for another create",
                            student.id
                        )))
                    }
                });
                // A caller that hung up no longer waits for its answer; its student stays.
                let _ = waiting.answer.send(Answer::Written(answer));
            }
        }
        Ok(rows) => {
            let error = format!("{} rows back for {} creates", rows.len(), batch.len());
            for waiting in batch {
                let _ = waiting
                    .answer
                    .send(Answer::Written(Err(Error::Corrupt(error.clone()))));
            }
        }
        // PostgreSQL refused the statement for a row's sake (an e-mail taken, most likely), so
        // none of it was written: each create is tried alone and gets its own answer.
        Err(Failure::Refused(refused)) => {
            tracing::debug!(error = %refused, creates = batch.len(), "a shared create was refused; each is written alone");
            drop(conn);
            for waiting in batch {
                let _ = waiting
                    .answer
                    .send(Answer::Alone(waiting.student, waiting.actor));
            }
        }
        // The connection, the server or the commit failed: whether the statement was committed
        // is unknown, so nothing is tried again (that could write each student twice); each
        // caller hears it, as a create of its own would have (503).
        Err(Failure::Unknown(err)) => {
            let err = Error::from(err);
            tracing::warn!(error = %err, creates = batch.len(), "a shared create failed");
            for waiting in batch {
                let _ = waiting.answer.send(Answer::Written(Err(Error::Unavailable(
                    sqlx::Error::Protocol(format!("a shared create failed: {err}")),
                ))));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Grade, StudentName};

    /// A queue of creates by `actors`, and where their answers go.
    fn queue_of(actors: &[&str]) -> (Creates, Vec<oneshot::Receiver<Answer>>) {
        let creates = Creates::default();
        let mut answers = Vec::new();
        for (ticket, actor) in actors.iter().enumerate() {
            let (answer, answered) = oneshot::channel();
            answers.push(answered);
            creates.waiting().push(Waiting {
                ticket: ticket as u64,
                student: NewStudent {
                    name: StudentName::from_stored(format!("Student {ticket}")),
                    grade: Grade::parse("A").unwrap_or_else(|_| unreachable!()),
                    email: None,
                },
                actor: Actor {
                    token_id: None,
                    account_id: None,
                    name: (*actor).to_owned(),
                },
                answer,
            });
        }
        (creates, answers)
    }

    #[test]
    fn a_statement_takes_its_own_create_then_the_oldest_of_the_same_actor_up_to_the_cap() {
        let mut actors = vec!["b"; 3];
        actors.extend(["a"; 100]);
        actors.insert(50, "b");
        let (creates, _answers) = queue_of(&actors);
        let own = 10; // an "a"
        let batch = creates.take(own);
        assert_eq!(batch.len(), MAX_BATCH);
        assert_eq!(batch[0].ticket, own);
        assert!(batch.iter().all(|w| w.actor.name == "a"));
        let tickets: Vec<u64> = batch[1..].iter().map(|w| w.ticket).collect();
        assert!(tickets.is_sorted(), "oldest first: {tickets:?}");
        // The rest wait: the other actor's four, and the "a"s past the cap.
        let left = creates.waiting();
        assert_eq!(left.len(), actors.len() - MAX_BATCH);
        assert_eq!(left.iter().filter(|w| w.actor.name == "b").count(), 4);
    }

    #[test]
    fn a_create_already_taken_or_withdrawn_takes_nothing() {
        let (creates, _answers) = queue_of(&["a", "a"]);
        assert!(creates.withdraw(0).is_some());
        assert!(creates.take(0).is_empty());
        assert!(creates.withdraw(0).is_none());
        assert_eq!(creates.take(1).len(), 1);
        assert!(creates.take(1).is_empty());
    }
}
