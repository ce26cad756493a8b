//! `/api/students`: the students operations. Handlers only translate between wire types and the
//! domain; the types validated the input, SQL lives in `db`.

pub(crate) mod cursor;
mod etag;
mod export;
mod fields;
mod import;
mod list_query;
pub(crate) mod params;
mod responses;
pub(crate) mod schemas;
mod spreadsheet;

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{
    OpenApi,
    param::{Header, Path, Query},
};

use self::{
    cursor::Cursor,
    export::{ExportFormat, ExportResponse},
    import::{ImportErrors, ImportOptions, ImportResponse, ImportUpload, OnError},
    list_query::{ListParams, ListQuery},
    params::{
        CountMode, EntityTags, IdempotencyKey, SearchText, StudentId, StudentSort, TimeBound,
    },
    responses::{
        CreateErrors, CreatedResponse, DeleteErrors, DeletedResponse, ExportErrors, GetErrors,
        ListErrors, ListResponse, ReadResponse, RestoredResponse, UpdatedResponse, WriteErrors,
    },
    schemas::{StudentCreate, StudentPage, StudentPatch, StudentReplace, StudentRestore},
};
pub use self::{fields::grade_variant_names, params::sort_variant_names};
use crate::{
    api::{
        ApiTags,
        auth::{Authorized, ReadStudents, WriteStudents},
        contract::Failure,
        json::JsonBody,
        state::State,
        types::Nullable,
    },
    db,
    domain::{Email, Grade, PageLimit, Student},
    error::ApiError,
};

/// The students resource. Stateless: the pool comes from the endpoint's data.
#[derive(Debug, Default, Clone, Copy)]
pub struct StudentsApi;

#[OpenApi(tag = "ApiTags::Students")]
impl StudentsApi {
    /// List students
    ///
    /// One page of the students matching every filter given, in `sort` order (default `id`).
    /// Follow `next_cursor` (or the `Link` header's `rel="next"` URL) until it is `null` to walk
    /// every match exactly once, even while students are added or removed; page 10,000 costs
    /// what page 1 does. `total` is counted only with `count=exact`, since counting reads
    /// every match; `count=estimated` gives the planner's estimate instead, as cheap as a page.
    ///
    /// Searches (`q`) and `count=exact` share half of the service's database connections with
    /// exports; when all of that half is in use the answer is a `503` `busy` problem with
    /// `Retry-After`, and cheap requests are still served.
    #[oai(
        path = "/api/students",
        method = "get",
        operation_id = "listStudents",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/guide.md#listing-filtering-sorting"
    )]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as the spec lists them
    async fn list(
        &self,
        _caller: Authorized<ReadStudents>,
        Data(state): Data<&Arc<State>>,
        /// Only these grades; repeat it for several (`grade=A&grade=B%2B`).
        #[oai(validator(max_items = 11))] // one of each of GRADES
        grade: Query<Option<Vec<Grade>>>,
        /// Only the student with this e-mail address (ignoring case).
        email: Query<Option<Email>>,
        /// Only students with (`true`) or without (`false`) an e-mail address.
        has_email: Query<Option<bool>>,
        /// Only students created after this instant (RFC 3339).
        created_after: Query<Option<TimeBound>>,
        /// Only students created before this instant (RFC 3339).
        created_before: Query<Option<TimeBound>>,
        /// Only students whose name or e-mail contains this text, ignoring case: at least 3
        /// characters besides surrounding spaces (shorter text cannot use the search index);
        /// blank means no search.
        q: Query<Option<SearchText>>,
        /// The order: a field, `-` first for descending.
        sort: Query<Option<StudentSort>>,
        /// Students per page, 1–100.
        limit: Query<Option<PageLimit>>,
        /// `next_cursor` from the previous page, with the same filter and sort; omit it for
        /// the first page.
        cursor: Query<Option<Cursor>>,
        /// `exact` adds `total`, the number of matches across all pages; `estimated` adds
        /// `estimated_total`, the planner's estimate of it (cheap at any size).
        count: Query<Option<CountMode>>,
    ) -> Result<ListResponse, Failure<ListErrors>> {
        let replica = &state.read_pool;
        let work = &state.work;
        let prepared = &state.migrations;
        let query = ListQuery::from(ListParams {
            grades: grade.0.unwrap_or_default(),
            email: email.0,
            has_email: has_email.0,
            created_after: created_after.0,
            created_before: created_before.0,
            q: q.0,
            sort: sort.0,
        });
        let secret = prepared.cursor_secret().ok_or(ApiError::NotReady)?;
        let keyset = cursor.0.map(|c| c.keyset(&query, secret)).transpose()?;
        let limit = limit.0.unwrap_or_default().get();
        let counted = count.0 == Some(CountMode::Exact);
        let _slot = (query.filter.search.is_some() || counted)
            .then(|| work.begin())
            .transpose()?;
        // One extra row tells whether another page follows, without a COUNT. The cursor comes
        // from the last student returned: rows after it are read again, none are skipped.
        let fetched = db::list(
            &replica.0,
            &query.filter,
            query.sort,
            keyset.as_ref(),
            limit + 1,
        )
        .await?;
        let mut students = fetched.students;
        let next_cursor = if fetched.rows as i64 > limit {
            students.truncate(limit as usize);
            students
                .last()
                .map(|last| Cursor::after(&query, last, secret))
        } else {
            None
        };
        let total = if counted {
            Some(db::count(&replica.0, &query.filter).await?)
        } else {
            None
        };
        let estimated_total = if count.0 == Some(CountMode::Estimated) {
            Some(db::estimate(&replica.0, &query.filter).await?)
        } else {
            None
        };
        let link = next_cursor.as_ref().map(|next| {
            format!(
                "<{}>; rel=\"next\"",
                query.page_url(limit, count.0, &next.encode())
            )
        });
        Ok(ListResponse::Ok(
            JsonBody(StudentPage {
                items: students.into_iter().map(Into::into).collect(),
                next_cursor: Nullable(next_cursor),
                total,
                estimated_total,
            }),
            link,
        ))
    }

    /// Export students
    ///
    /// Every student matching the filters, in `sort` order, as one CSV or NDJSON file,
    /// streamed: memory stays flat however many students there are. The filters and `sort`
    /// are those of `listStudents`. In CSV, a name or e-mail starting with `=`, `+`, `-` or `@`
    /// gets a leading `'` so spreadsheets show it rather than run it; NDJSON keeps values exact.
    ///
    /// An export holds one of the connections set aside for expensive work until it ends
    /// (`503` `busy` when none is free), and ends, broken, if its client takes more than 30 s to
    /// accept a chunk of 1,000 rows.
    #[oai(
        path = "/api/students/export",
        method = "get",
        operation_id = "exportStudents",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/import-export.md#export"
    )]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as the spec lists them
    async fn export(
        &self,
        _caller: Authorized<ReadStudents>,
        Data(state): Data<&Arc<State>>,
        /// `csv` (default) or `ndjson`.
        format: Query<Option<ExportFormat>>,
        /// Only these grades; repeat it for several.
        #[oai(validator(max_items = 11))] // one of each of GRADES
        grade: Query<Option<Vec<Grade>>>,
        /// Only the student with this e-mail address (ignoring case).
        email: Query<Option<Email>>,
        /// Only students with (`true`) or without (`false`) an e-mail address.
        has_email: Query<Option<bool>>,
        /// Only students created after this instant (RFC 3339).
        created_after: Query<Option<TimeBound>>,
        /// Only students created before this instant (RFC 3339).
        created_before: Query<Option<TimeBound>>,
        /// Only students whose name or e-mail contains this text, ignoring case: at least 3
        /// characters besides surrounding spaces (shorter text cannot use the search index);
        /// blank means no search.
        q: Query<Option<SearchText>>,
        /// The order: a field, `-` first for descending.
        sort: Query<Option<StudentSort>>,
    ) -> Result<ExportResponse, Failure<ExportErrors>> {
        let replica = &state.read_pool;
        let work = &state.work;
        let query = ListQuery::from(ListParams {
            grades: grade.0.unwrap_or_default(),
            email: email.0,
            has_email: has_email.0,
            created_after: created_after.0,
            created_before: created_before.0,
            q: q.0,
            sort: sort.0,
        });
        let slot = work.begin()?;
        let first =
            db::export_page(&replica.0, &query.filter, query.sort, None, export::BATCH).await?;
        let format = format.0.unwrap_or(ExportFormat::Csv);
        Ok(ExportResponse::stream(
            replica.0.clone(),
            query,
            format,
            first,
            (slot, work.export_stall),
        ))
    }

    /// Create a student
    ///
    /// Creates a student from `name`, `grade` and an optional `email`, and answers `201` with
    /// the stored student and its URL in `Location`. Every invalid field is reported at once.
    #[oai(
        path = "/api/students",
        method = "post",
        operation_id = "createStudent",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/guide.md#a-student"
    )]
    async fn create(
        &self,
        caller: Authorized<WriteStudents>,
        Data(state): Data<&Arc<State>>,
        /// Makes the create safe to retry: a retry with the same key and body within 24 hours
        /// gets the first answer (same student, `201`) and creates nothing. The same key with
        /// another body is `422`; while the first request still runs, `409`.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<IdempotencyKey>>,
        body: JsonBody<StudentCreate>,
    ) -> Result<CreatedResponse, Failure<CreateErrors>> {
        let pool = &state.pool;
        let feed = &state.feed;
        let student = match &idempotency_key.0 {
            None => {
                state
                    .creates
                    .insert(pool, body.0.into(), caller.actor())
                    .await?
            }
            Some(key) => {
                db::insert_once(pool, key.as_str(), &body.0.into(), &caller.actor()).await?
            }
        };
        feed.written();
        let location = format!("/api/students/{}", student.id);
        let tag = etag::etag(student.version);
        Ok(CreatedResponse::Created(
            JsonBody(student.into()),
            location,
            tag,
        ))
    }

    /// Import students
    ///
    /// Creates a student of every row of a CSV or NDJSON file, by exactly the rules of
    /// `createStudent`; an e-mail address used twice in the file, or by a student, is an error
    /// too. The file is streamed: it is read as it arrives, up to `IMPORT_MAX_BYTES` (default
    /// 100 MiB), never held whole. CSV: a header row naming the columns (`name`, `grade`,
    /// `email`; an export's `id`, `created_at` and `updated_at` are read past), RFC 4180
    /// quoting, an empty `email` for none, and a leading `'` the export put before `=`, `+`,
    /// `-` or `@` dropped again, so an export imports as it is. NDJSON: one `StudentCreate`
    /// object a line (an export's lines too).
    ///
    /// All or nothing: when any row breaks a rule nothing is written, and the answer is a
    /// `422` `invalid-rows` problem naming every bad row and field (`/rows/17/email`, rows
    /// counted from 1, with the file's `line`), the first 1,000, with the totals in `detail`.
    /// `on_error=skip` writes the valid rows instead and lists the others in the report.
    /// `dry_run=true` checks everything and writes nothing (`200`). Imported students appear
    /// in the change feed, one `created` event each, made by the importing token. An import
    /// holds one of the connections set aside for expensive work (`503` `busy` when none is
    /// free).
    #[oai(
        path = "/api/students/import",
        method = "post",
        operation_id = "importStudents",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/import-export.md#import-a-spreadsheet"
    )]
    #[allow(clippy::too_many_arguments)] // one per parameter, as the spec lists them
    async fn import(
        &self,
        caller: Authorized<WriteStudents>,
        Data(state): Data<&Arc<State>>,
        /// `true`: check every row and report what an import would do, writing nothing.
        dry_run: Query<Option<bool>>,
        /// What to do with rows that break a rule: `reject` (default) writes nothing and
        /// answers `422`; `skip` writes the others and lists them in the report.
        on_error: Query<Option<OnError>>,
        /// Makes the import safe to retry: a retry with the same key, the same file and the
        /// same `on_error` within 24 hours gets the first answer and writes nothing (a digest
        /// of the file is kept, not the file). The same key with another file is `422`; while
        /// the first import still runs, `409`. A dry run ignores it.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<IdempotencyKey>>,
        upload: ImportUpload,
    ) -> Result<ImportResponse, Failure<ImportErrors>> {
        let pool = &state.pool;
        let work = &state.work;
        let feed = &state.feed;
        let options = ImportOptions {
            dry_run: dry_run.0.unwrap_or(false),
            on_error: on_error.0.unwrap_or_default(),
        };
        let key = idempotency_key.0.as_ref().map(IdempotencyKey::as_str);
        let answer = import::run(pool, work, &caller.actor(), key, options, upload).await?;
        if matches!(answer, ImportResponse::Created(_)) {
            feed.written();
        }
        Ok(answer)
    }

    /// Get a student
    ///
    /// Returns the student with this `id`, or `404` when there is none.
    #[oai(
        path = "/api/students/:id",
        method = "get",
        operation_id = "getStudent"
    )]
    async fn get(
        &self,
        _caller: Authorized<ReadStudents>,
        Data(state): Data<&Arc<State>>,
        /// The student's id.
        id: Path<StudentId>,
        /// An ETag you hold (`"3"`, or a list); if it is still current the answer is `304`
        /// with no body.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<EntityTags>>,
    ) -> Result<ReadResponse, Failure<GetErrors>> {
        let pool = &state.pool;
        let id = id.0.get()?;
        let student = db::get(pool, id)
            .await?
            .ok_or(ApiError::StudentNotFound(id))?;
        let tag = etag::etag(student.version);
        if if_none_match
            .0
            .is_some_and(|tags| etag::none_match(&tags, student.version))
        {
            return Ok(ReadResponse::NotModified(tag));
        }
        Ok(ReadResponse::Ok(JsonBody(student.into()), tag))
    }

    /// Replace a student
    ///
    /// Overwrites every writable field. All of `name`, `grade` and `email` are required;
    /// `"email": null` removes the e-mail address.
    #[oai(
        path = "/api/students/:id",
        method = "put",
        operation_id = "replaceStudent",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/guide.md#safe-retries-and-concurrent-edits"
    )]
    async fn replace(
        &self,
        caller: Authorized<WriteStudents>,
        Data(state): Data<&Arc<State>>,
        /// The student's id.
        id: Path<StudentId>,
        /// Write only if the student is still at this ETag (from a `GET` or the last write);
        /// else `412` and nothing changes.
        #[oai(name = "If-Match")]
        if_match: Header<Option<EntityTags>>,
        body: JsonBody<StudentReplace>,
    ) -> Result<UpdatedResponse, Failure<WriteErrors>> {
        let pool = &state.pool;
        let feed = &state.feed;
        let id = id.0.get()?;
        let expected = etag::if_match(if_match.0.as_ref());
        let student = db::replace(
            pool,
            id,
            &body.0.into(),
            expected.as_deref(),
            &caller.actor(),
        )
        .await?;
        feed.written();
        Ok(updated(student))
    }

    /// Update some fields of a student
    ///
    /// JSON merge patch semantics: fields left out stay as they are, `"email": null` removes the
    /// e-mail address, and `null` for `name` or `grade` is refused. `{}` changes nothing.
    #[oai(
        path = "/api/students/:id",
        method = "patch",
        operation_id = "updateStudent",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/guide.md#safe-retries-and-concurrent-edits"
    )]
    async fn update(
        &self,
        caller: Authorized<WriteStudents>,
        Data(state): Data<&Arc<State>>,
        /// The student's id.
        id: Path<StudentId>,
        /// Write only if the student is still at this ETag (from a `GET` or the last write);
        /// else `412` and nothing changes.
        #[oai(name = "If-Match")]
        if_match: Header<Option<EntityTags>>,
        body: JsonBody<StudentPatch>,
    ) -> Result<UpdatedResponse, Failure<WriteErrors>> {
        let pool = &state.pool;
        let feed = &state.feed;
        let id = id.0.get()?;
        let expected = etag::if_match(if_match.0.as_ref());
        let student = db::update(
            pool,
            id,
            &body.0.into(),
            expected.as_deref(),
            &caller.actor(),
        )
        .await?;
        feed.written();
        Ok(updated(student))
    }

    /// Delete a student
    ///
    /// Deletes the student with this `id`; `404` when there is none (so a repeated delete says so).
    #[oai(
        path = "/api/students/:id",
        method = "delete",
        operation_id = "deleteStudent",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/guide.md#safe-retries-and-concurrent-edits"
    )]
    async fn delete(
        &self,
        caller: Authorized<WriteStudents>,
        Data(state): Data<&Arc<State>>,
        /// The student's id.
        id: Path<StudentId>,
        /// Delete only if the student is still at this ETag; else `412` and it stays.
        #[oai(name = "If-Match")]
        if_match: Header<Option<EntityTags>>,
    ) -> Result<DeletedResponse, Failure<DeleteErrors>> {
        let pool = &state.pool;
        let feed = &state.feed;
        let id = id.0.get()?;
        let expected = etag::if_match(if_match.0.as_ref());
        db::delete(pool, id, expected.as_deref(), &caller.actor()).await?;
        feed.written();
        Ok(DeletedResponse::NoContent)
    }

    /// Restore a student to an earlier version
    ///
    /// Gives the student the name, grade and e-mail it had at `version` (one of its history's
    /// versions, `getStudentHistory`), as a change of its own: the history and the feed record
    /// it, with `restored_from`. A student that exists is updated (`200`); one that was deleted
    /// is created again with its id and its first `created_at` (`201`), its version going on
    /// from its last. This is how a delete is undone. `409` when its e-mail address has since
    /// been given to another student (nothing changes); `422` naming `version` when the history
    /// has no such version (changes are kept for the change retention); `404` when no student
    /// of this id ever was (or its history is gone).
    #[oai(
        path = "/api/students/:id/restore",
        method = "post",
        operation_id = "restoreStudent",
        external_docs = "https://github.com/students-api/students-api/blob/main/docs/real-time.md#undo-and-restore"
    )]
    async fn restore(
        &self,
        caller: Authorized<WriteStudents>,
        Data(state): Data<&Arc<State>>,
        /// The student's id.
        id: Path<StudentId>,
        /// Restore only if the student is still at this ETag; else `412` and nothing changes. A
        /// deleted student has no ETag, so this always fails for one.
        #[oai(name = "If-Match")]
        if_match: Header<Option<EntityTags>>,
        body: JsonBody<StudentRestore>,
    ) -> Result<RestoredResponse, Failure<WriteErrors>> {
        let id = id.0.get()?;
        let expected = etag::if_match(if_match.0.as_ref());
        let outcome = db::restore(
            &state.pool,
            id,
            body.0.version,
            expected.as_deref(),
            &caller.actor(),
        )
        .await?;
        state.feed.written();
        Ok(restored(outcome))
    }
}

/// The answer to a restore: `200` for a student that was there, `201` for one created again.
fn restored(restored: db::Restored) -> RestoredResponse {
    let student = restored.student;
    let tag = etag::etag(student.version);
    if restored.recreated {
        let location = format!("/api/students/{}", student.id);
        RestoredResponse::Created(JsonBody(student.into()), location, tag)
    } else {
        RestoredResponse::Ok(JsonBody(student.into()), tag)
    }
}

/// The answer to a replace or an update: the student as written, and its new ETag.
fn updated(student: Student) -> UpdatedResponse {
    let tag = etag::etag(student.version);
    UpdatedResponse::Ok(JsonBody(student.into()), tag)
}
