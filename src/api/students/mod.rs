//! `/api/students`: the students operations. Handlers only translate between wire types and the
//! domain; validation happened in the types, SQL lives in `db`.

pub mod etag;
pub mod export;
pub mod listing;
pub mod responses;
pub mod schemas;

use poem::web::Data;
use poem_openapi::{
    OpenApi,
    param::{Header, Path, Query},
    types::MaybeUndefined,
};
use sqlx::PgPool;

use self::{
    export::{ExportFormat, ExportResponse},
    listing::{CountMode, Cursor, ListQuery, StudentSort, TimeBound},
    responses::{
        ByIdErrors, CreateErrors, CreatedResponse, DeleteErrors, DeletedResponse, ExportErrors,
        ListErrors, ListResponse, ReadResponse, StudentResponse, WriteErrors,
    },
    schemas::{
        IdempotencyKey, Nullable, PageLimit, Student, StudentCreate, StudentId, StudentPage,
        StudentPatch, StudentReplace, Timestamp,
    },
};
use crate::{
    api::{ApiTags, json::JsonBody},
    db,
    domain::{self, Email, GRADES, Grade, NewStudent, StudentChanges, StudentFilter},
    error::{ApiError, Failure},
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
    /// every match.
    #[oai(path = "/api/students", method = "get", operation_id = "listStudents")]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as the spec lists them
    async fn list(
        &self,
        Data(pool): Data<&PgPool>,
        /// Only these grades; repeat it for several (`grade=A&grade=B%2B`).
        grade: Query<Option<Vec<Grade>>>,
        /// Only the student with this e-mail address (ignoring case).
        email: Query<Option<Email>>,
        /// Only students with (`true`) or without (`false`) an e-mail address.
        has_email: Query<Option<bool>>,
        /// Only students created after this instant (RFC 3339).
        created_after: Query<Option<TimeBound>>,
        /// Only students created before this instant (RFC 3339).
        created_before: Query<Option<TimeBound>>,
        /// Only students whose name or e-mail contains this text, ignoring case.
        #[oai(validator(max_length = 100))]
        q: Query<Option<String>>,
        /// The order: a field, `-` first for descending.
        sort: Query<Option<StudentSort>>,
        /// Students per page, 1–100.
        limit: Query<Option<PageLimit>>,
        /// `next_cursor` from the previous page, with the same filter and sort; omit it for
        /// the first page.
        cursor: Query<Option<Cursor>>,
        /// `exact` adds `total`, the number of matches across all pages.
        count: Query<Option<CountMode>>,
    ) -> Result<ListResponse, Failure<ListErrors>> {
        let query = list_query(
            grade.0.unwrap_or_default(),
            email.0,
            has_email.0,
            created_after.0,
            created_before.0,
            q.0,
            sort.0,
        );
        let keyset = cursor.0.map(|c| c.keyset(&query)).transpose()?;
        let limit = limit.0.unwrap_or_default().0;
        // One extra row tells whether another page follows, without a COUNT.
        let mut students =
            db::list(pool, &query.filter, query.sort, keyset.as_ref(), limit + 1).await?;
        let next_cursor = if students.len() as i64 > limit {
            students.truncate(limit as usize);
            students.last().map(|last| Cursor::after(&query, last))
        } else {
            None
        };
        let counted = count.0.is_some();
        let total = if counted {
            Some(db::count(pool, &query.filter).await?)
        } else {
            None
        };
        let link = next_cursor.as_ref().map(|next| {
            format!(
                "<{}>; rel=\"next\"",
                query.next_page_url(limit, counted, next)
            )
        });
        Ok(ListResponse::Ok(
            JsonBody(StudentPage {
                items: students.into_iter().map(Student::from).collect(),
                next_cursor: Nullable(next_cursor),
                total,
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
    #[oai(
        path = "/api/students/export",
        method = "get",
        operation_id = "exportStudents"
    )]
    #[allow(clippy::too_many_arguments)] // one per query parameter, as the spec lists them
    async fn export(
        &self,
        Data(pool): Data<&PgPool>,
        /// `csv` (default) or `ndjson`.
        format: Query<Option<ExportFormat>>,
        /// Only these grades; repeat it for several.
        grade: Query<Option<Vec<Grade>>>,
        /// Only the student with this e-mail address (ignoring case).
        email: Query<Option<Email>>,
        /// Only students with (`true`) or without (`false`) an e-mail address.
        has_email: Query<Option<bool>>,
        /// Only students created after this instant (RFC 3339).
        created_after: Query<Option<TimeBound>>,
        /// Only students created before this instant (RFC 3339).
        created_before: Query<Option<TimeBound>>,
        /// Only students whose name or e-mail contains this text, ignoring case.
        #[oai(validator(max_length = 100))]
        q: Query<Option<String>>,
        /// The order: a field, `-` first for descending.
        sort: Query<Option<StudentSort>>,
    ) -> Result<ExportResponse, Failure<ExportErrors>> {
        let query = list_query(
            grade.0.unwrap_or_default(),
            email.0,
            has_email.0,
            created_after.0,
            created_before.0,
            q.0,
            sort.0,
        );
        let first = db::list(pool, &query.filter, query.sort, None, export::BATCH).await?;
        let format = format.0.unwrap_or(ExportFormat::Csv);
        Ok(ExportResponse::stream(pool.clone(), query, format, first))
    }

    /// Create a student
    ///
    /// Creates a student from `name`, `grade` and an optional `email`, and answers `201` with
    /// the stored student and its URL in `Location`. Every invalid field is reported at once.
    #[oai(
        path = "/api/students",
        method = "post",
        operation_id = "createStudent"
    )]
    async fn create(
        &self,
        Data(pool): Data<&PgPool>,
        /// Makes the create safe to retry: a retry with the same key and body within 24 hours
        /// gets the first answer (same student, `201`) and creates nothing. The same key with
        /// another body is `422`; while the first request still runs, `409`.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<IdempotencyKey>>,
        body: JsonBody<StudentCreate>,
    ) -> Result<CreatedResponse, Failure<CreateErrors>> {
        let student = match &idempotency_key.0 {
            None => db::insert(pool, &body.0.into()).await?,
            Some(key) => db::insert_once(pool, key.get()?, &body.0.into()).await?,
        };
        let location = format!("/api/students/{}", student.id);
        let tag = etag::etag(student.version);
        Ok(CreatedResponse::Created(
            JsonBody(student.into()),
            location,
            tag,
        ))
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
        Data(pool): Data<&PgPool>,
        /// The student's id.
        id: Path<StudentId>,
        /// An ETag you hold (`"3"`, or a list); if it is still current the answer is `304`
        /// with no body.
        #[oai(name = "If-None-Match")]
        if_none_match: Header<Option<String>>,
    ) -> Result<ReadResponse, Failure<ByIdErrors>> {
        let id = id.0.get()?;
        let student = db::get(pool, id)
            .await?
            .ok_or(ApiError::StudentNotFound(id))?;
        let tag = etag::etag(student.version);
        if if_none_match
            .0
            .is_some_and(|header| etag::none_match(&header, student.version))
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
        operation_id = "replaceStudent"
    )]
    async fn replace(
        &self,
        Data(pool): Data<&PgPool>,
        /// The student's id.
        id: Path<StudentId>,
        /// Write only if the student is still at this ETag (from a `GET` or the last write);
        /// else `412` and nothing changes.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<StudentReplace>,
    ) -> Result<StudentResponse, Failure<WriteErrors>> {
        let id = id.0.get()?;
        let expected = etag::if_match(if_match.0.as_deref());
        let student = db::replace(pool, id, &body.0.into(), expected.as_deref()).await?;
        Ok(written(student))
    }

    /// Update some fields of a student
    ///
    /// JSON merge patch semantics: fields left out stay as they are, `"email": null` removes the
    /// e-mail address, and `null` for `name` or `grade` is refused. `{}` changes nothing.
    #[oai(
        path = "/api/students/:id",
        method = "patch",
        operation_id = "updateStudent"
    )]
    async fn update(
        &self,
        Data(pool): Data<&PgPool>,
        /// The student's id.
        id: Path<StudentId>,
        /// Write only if the student is still at this ETag (from a `GET` or the last write);
        /// else `412` and nothing changes.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
        body: JsonBody<StudentPatch>,
    ) -> Result<StudentResponse, Failure<WriteErrors>> {
        let id = id.0.get()?;
        let expected = etag::if_match(if_match.0.as_deref());
        let student = db::update(pool, id, &body.0.into(), expected.as_deref()).await?;
        Ok(written(student))
    }

    /// Delete a student
    ///
    /// Deletes the student with this `id`; `404` when there is none (so a repeated delete says so).
    #[oai(
        path = "/api/students/:id",
        method = "delete",
        operation_id = "deleteStudent"
    )]
    async fn delete(
        &self,
        Data(pool): Data<&PgPool>,
        /// The student's id.
        id: Path<StudentId>,
        /// Delete only if the student is still at this ETag; else `412` and it stays.
        #[oai(name = "If-Match")]
        if_match: Header<Option<String>>,
    ) -> Result<DeletedResponse, Failure<DeleteErrors>> {
        let id = id.0.get()?;
        let expected = etag::if_match(if_match.0.as_deref());
        db::delete(pool, id, expected.as_deref()).await?;
        Ok(DeletedResponse::NoContent)
    }
}

fn written(student: domain::Student) -> StudentResponse {
    let tag = etag::etag(student.version);
    StudentResponse::Ok(JsonBody(student.into()), tag)
}

impl From<domain::Student> for Student {
    fn from(student: domain::Student) -> Self {
        Student {
            id: student.id,
            name: student.name,
            grade: student.grade,
            email: Nullable(student.email),
            created_at: Timestamp(student.created_at),
            updated_at: Timestamp(student.updated_at),
        }
    }
}

impl From<StudentCreate> for NewStudent {
    fn from(body: StudentCreate) -> Self {
        NewStudent {
            name: body.name,
            grade: body.grade,
            email: body.email,
        }
    }
}

impl From<StudentReplace> for NewStudent {
    fn from(body: StudentReplace) -> Self {
        NewStudent {
            name: body.name,
            grade: body.grade,
            email: body.email.0,
        }
    }
}

impl From<StudentPatch> for StudentChanges {
    fn from(body: StudentPatch) -> Self {
        StudentChanges {
            name: defined(body.name),
            grade: defined(body.grade),
            email: match body.email {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => Some(None),
                MaybeUndefined::Value(email) => Some(Some(email)),
            },
        }
    }
}

/// The filter and sort from the list's and the export's query parameters. Grades are kept in
/// best-first order without repeats, and blank search text means no search, so equivalent
/// requests are one list (one cursor fingerprint, one `Link`).
fn list_query(
    mut grades: Vec<Grade>,
    email: Option<Email>,
    has_email: Option<bool>,
    created_after: Option<TimeBound>,
    created_before: Option<TimeBound>,
    search: Option<String>,
    sort: Option<StudentSort>,
) -> ListQuery {
    grades.sort_by_key(|g| GRADES.iter().position(|x| x == g));
    grades.dedup();
    ListQuery {
        filter: StudentFilter {
            grades,
            email,
            has_email,
            created_after: created_after.map(|t| t.0),
            created_before: created_before.map(|t| t.0),
            search: search
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty()),
        },
        sort: sort.unwrap_or_default().0,
    }
}

/// The value of a field that is not nullable: `null` never reaches here (the schema check
/// refused it), so only "absent" and "present" remain.
fn defined<T>(field: MaybeUndefined<T>) -> Option<T> {
    match field {
        MaybeUndefined::Value(value) => Some(value),
        MaybeUndefined::Undefined | MaybeUndefined::Null => None,
    }
}
