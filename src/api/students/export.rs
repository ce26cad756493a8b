//! `GET /api/students/export`: every matching student as CSV or NDJSON, streamed.
//!
//! The rows are read in keyset pages of [`BATCH`] (the list's own query), each page encoded and
//! handed to the response through a channel of two chunks. Memory stays bounded whatever the
//! table's size, no connection is held while a slow client reads, and each page is its own
//! statement (5 s limit; 2 s with `q`, whose in-order pages may read far between matches). A page that fails after the first
//! has been sent ends the body early; the client sees a truncated chunked transfer, not a
//! complete-looking file. So does a client that takes longer than the stall limit
//! (`api::budget::EXPORT_STALL_LIMIT`) to accept a chunk: an export holds one of the slots for
//! expensive work until it ends, and a client reading at 1 KB/s must not hold it for hours.

use std::{
    io,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use poem::{Body, IntoResponse, Response, http::header};
use poem_openapi::{
    ApiResponse,
    registry::{MetaHeader, MetaMediaType, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef},
};
use sqlx::PgPool;

use super::{list_query::ListQuery, schemas::StudentRead, spreadsheet};
use crate::{
    api::{budget::Slot, types::Timestamp},
    db::{self, Fetched},
    domain::{Keyset, Student},
};

/// Rows per database round trip and per chunk written.
pub const BATCH: i64 = 1000;

/// The export's file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poem_openapi::Enum)]
#[oai(rename_all = "lowercase")]
pub enum ExportFormat {
    /// `text/csv` (RFC 4180) with a header row, for spreadsheets.
    Csv,
    /// `application/x-ndjson`: one student object per line, exactly as the API returns them.
    Ndjson,
}

impl ExportFormat {
    const CSV: &'static str = "text/csv; charset=utf-8";
    const NDJSON: &'static str = "application/x-ndjson";

    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => Self::CSV,
            Self::Ndjson => Self::NDJSON,
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Self::Csv => "students.csv",
            Self::Ndjson => "students.ndjson",
        }
    }

    /// The bytes for `students`, with the CSV header first when `first`.
    fn encode(self, students: Vec<Student>, first: bool) -> Bytes {
        match self {
            Self::Csv => csv_rows(&students, first),
            Self::Ndjson => ndjson_lines(students),
        }
    }
}

const CSV_HEADER: [&str; 6] = ["id", "name", "grade", "email", "created_at", "updated_at"];

fn csv_rows(students: &[Student], header: bool) -> Bytes {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(students.len() * 96));
    // Writing to a Vec fails only on a full heap, which aborts anyway.
    if header {
        let _ = writer.write_record(CSV_HEADER);
    }
    for student in students {
        let id = student.id.to_string();
        let created_at = Timestamp(student.created_at).to_rfc3339();
        let updated_at = Timestamp(student.updated_at).to_rfc3339();
        let _ = writer.write_record([
            id.as_str(),
            &spreadsheet::neutralise(student.name.as_str()),
            student.grade.as_str(),
            &spreadsheet::neutralise(student.email.as_ref().map_or("", |e| e.as_str())),
            &created_at,
            &updated_at,
        ]);
    }
    Bytes::from(writer.into_inner().unwrap_or_default())
}

fn ndjson_lines(students: Vec<Student>) -> Bytes {
    let mut lines = Vec::with_capacity(students.len() * 160);
    for student in students {
        // Our own types always serialize.
        let _ = serde_json::to_writer(&mut lines, &StudentRead::from(student));
        lines.push(b'\n');
    }
    Bytes::from(lines)
}

/// The export's response: a streamed body in one of two media types.
pub struct ExportResponse {
    format: ExportFormat,
    body: Body,
}

impl std::fmt::Debug for ExportResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportResponse")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl ExportResponse {
    /// Streams `first` (already read, so a failing database was a problem response, not a
    /// broken file) and then every later page of `query`, holding `slot` until the end; a
    /// client that takes longer than `stall` to accept a chunk ends the export (broken).
    pub fn stream(
        pool: PgPool,
        query: ListQuery,
        format: ExportFormat,
        first: Fetched,
        (slot, stall): (Slot, Duration),
    ) -> Self {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(2);
        // Set when the export gives up on a client that is too slow: the channel is full then,
        // so the error that breaks the body is raised on the receiving side.
        let stalled = Arc::new(AtomicBool::new(false));
        let stalled_reader = Arc::clone(&stalled);
        tokio::spawn(async move {
            let _slot = slot;
            let mut page = first;
            let mut header = true;
            loop {
                // Whether more follow is the rows' count; where to resume, the last student
                // written (rows after it, unreadable ones included, are read again).
                let done = (page.rows as i64) < BATCH;
                let next = page.students.last().map(|last| Keyset {
                    value: query.sort.value_of(last),
                    id: last.id,
                });
                let chunk = format.encode(page.students, std::mem::take(&mut header));
                match tokio::time::timeout(stall, sender.send(Ok(chunk))).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => return, // the client went away
                    Err(_) => {
                        tracing::info!(?stall, "export ended: the client stopped reading");
                        stalled.store(true, Ordering::Release);
                        return;
                    }
                }
                if done {
                    return;
                }
                let Some(next) = next else {
                    // A whole batch unreadable: end the body broken, never looking complete.
                    tracing::error!("export stopped part-way: a batch without one readable row");
                    let _ = sender.send(Err(io::Error::other("unreadable rows"))).await;
                    return;
                };
                let next = Some(&next);
                page = match db::export_page(&pool, &query.filter, query.sort, next, BATCH).await {
                    Ok(page) => page,
                    Err(err) => {
                        tracing::error!(error = %err, "export stopped part-way");
                        let _ = sender.send(Err(io::Error::other(err.to_string()))).await;
                        return;
                    }
                };
            }
        });
        let chunks = futures_util::stream::poll_fn(move |cx| {
            receiver.poll_recv(cx).map(|chunk| match chunk {
                None if stalled_reader.swap(false, Ordering::AcqRel) => Some(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client stopped reading",
                ))),
                chunk => chunk,
            })
        });
        Self {
            format,
            body: Body::from_bytes_stream(chunks),
        }
    }
}

impl IntoResponse for ExportResponse {
    fn into_response(self) -> Response {
        Response::builder()
            .content_type(self.format.content_type())
            .header(
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", self.format.file_name()),
            )
            .body(self.body)
    }
}

impl ApiResponse for ExportResponse {
    fn meta() -> MetaResponses {
        let file = || MetaSchemaRef::Inline(Box::new(MetaSchema::new("string")));
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Every matching student, in the requested order: CSV with a \
                              header row, or one JSON object per line.",
                status: Some(200),
                status_range: None,
                content: vec![
                    MetaMediaType {
                        content_type: "text/csv",
                        schema: file(),
                    },
                    MetaMediaType {
                        content_type: ExportFormat::NDJSON,
                        schema: file(),
                    },
                ],
                headers: vec![MetaHeader {
                    name: "Content-Disposition".to_owned(),
                    description: Some("`attachment` with a file name.".to_owned()),
                    required: true,
                    deprecated: false,
                    schema: MetaSchemaRef::Inline(Box::new(MetaSchema::new("string"))),
                }],
            }],
        }
    }

    fn register(_registry: &mut poem_openapi::registry::Registry) {}
}
