//! `importStudents`: a CSV or NDJSON file of students, streamed into one transaction.
//!
//! Three things run at once: the upload is read chunk by chunk (its size and stalls bounded,
//! its digest taken for `Idempotency-Key`); a blocking thread reads rows from those chunks
//! and checks each with `createStudent`'s rules (`rows`); and the good rows are COPYed into a
//! staging table as they come (`db::Import`). E-mail addresses are then checked against each
//! other and the table in one query, and the students are written with one statement, or
//! nothing is.

mod quoting;
mod rows;

use std::io::{self, Read};

use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use poem::{Body, Request, RequestBody};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, Enum, ExtractParamOptions, Object,
    registry::{MetaMediaType, MetaRequest, MetaSchema, MetaSchemaRef},
};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

pub use self::rows::MAX_ERRORS;
use self::rows::{Batch, Format, ReadError};
use crate::{
    api::{
        budget::ExpensiveWork,
        contract::{ErrorStatuses, statuses},
        json::{self, BODY_TIMEOUT, JsonBody},
    },
    db::{self, Actor, Duplicate},
    error::{ApiError, FieldError, TAKEN},
};

/// What to do with rows that break a rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Enum, serde::Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Write nothing and answer `422` naming every bad row.
    #[default]
    Reject,
    /// Write the good rows and list the bad ones in the report.
    Skip,
}

/// What an import did, or (a dry run) would do.
#[derive(Debug, Clone, Object, serde::Serialize, serde::Deserialize)]
pub struct ImportReport {
    /// Students in the file (its rows, blank lines aside).
    #[oai(validator(minimum(value = "0"), maximum(value = "9223372036854775807")))]
    pub rows: i64,
    /// Rows that obey every rule: what an import writes.
    #[oai(validator(minimum(value = "0"), maximum(value = "9223372036854775807")))]
    pub valid: i64,
    /// Rows that break a rule: left out with `on_error=skip`.
    #[oai(validator(minimum(value = "0"), maximum(value = "9223372036854775807")))]
    pub invalid: i64,
    /// Students created; 0 in a dry run.
    #[oai(validator(minimum(value = "0"), maximum(value = "9223372036854775807")))]
    pub created: i64,
    /// What is wrong with the invalid rows, the first 1,000 in file order: `location` names
    /// the row and field (`/rows/17/email`, rows counted from 1), `line` the file's line.
    #[oai(validator(max_items = 1000))] // MAX_ERRORS
    pub errors: Vec<FieldError>,
    /// Whether nothing was written because `dry_run` was asked for.
    pub dry_run: bool,
}

/// How an import ended.
#[derive(Debug, ApiResponse)]
pub enum ImportResponse {
    /// The students were created (with `on_error=skip`, those of the valid rows) in one
    /// transaction; the report counts them and lists what was left out.
    #[oai(status = 201)]
    Created(JsonBody<ImportReport>),
    /// A dry run: every row was checked and nothing written; the report says what an import
    /// of this file would do.
    #[oai(status = 200)]
    Checked(JsonBody<ImportReport>),
}

/// `importStudents`: the upload's own limits and media types, and the rows' rules.
#[derive(Debug)]
pub struct ImportErrors;
impl ErrorStatuses for ImportErrors {
    const STATUSES: &'static [(u16, &'static str)] = &[
        (400, "The upload broke off before its end."),
        (
            408,
            "No byte of the upload arrived for 10 seconds, or less than 10 KiB in 10 seconds; \
             nothing was written.",
        ),
        (
            409,
            "A request with this `Idempotency-Key` is still running, or another request took \
             one of the file's e-mail addresses while the import ran; nothing was written.",
        ),
        (
            413,
            "The upload is larger than `IMPORT_MAX_BYTES` (default 100 MiB); nothing was \
             written.",
        ),
        (
            415,
            "The body is neither `text/csv` nor `application/x-ndjson`.",
        ),
        (
            422,
            "Rows break the rules (`invalid-rows`: `errors` names each bad row and field, \
             with its line), the CSV header names unknown columns, a parameter is invalid, or \
             the `Idempotency-Key` was used with another file; nothing was written.",
        ),
        statuses::INTERNAL,
        (
            503,
            "The database is unavailable, or every connection set aside for expensive work \
             is in use (`busy`); retry after `Retry-After`.",
        ),
    ];
}

/// The import's settings from the query.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    pub dry_run: bool,
    pub on_error: OnError,
}

/// The upload: its format, from `Content-Type`, and its body, not yet read.
pub struct ImportUpload {
    format: Format,
    declared_length: Option<u64>,
    body: Body,
}

impl std::fmt::Debug for ImportUpload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportUpload")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

const CSV: &str = "text/csv";
const NDJSON: &str = "application/x-ndjson";

impl ImportUpload {
    /// The format a `Content-Type` names, or why it is not one we read.
    fn format(content_type: Option<&str>) -> Result<Format, ApiError> {
        let refuse = |why: String| {
            Err(ApiError::UnsupportedMediaType(format!(
                "{why}; send `Content-Type: {CSV}` or `{NDJSON}` (UTF-8)"
            )))
        };
        let Some(content_type) = content_type else {
            return refuse("the request has no content type".to_owned());
        };
        let Ok(mime) = content_type.parse::<mime::Mime>() else {
            return refuse(format!("`{content_type}` is not a media type"));
        };
        if mime.get_param(mime::CHARSET).is_some_and(|charset| {
            !["utf-8", "utf8"].contains(&charset.as_str().to_ascii_lowercase().as_str())
        }) {
            return refuse(format!("the charset of `{content_type}` is not UTF-8"));
        }
        match mime.essence_str() {
            CSV => Ok(Format::Csv),
            NDJSON | "application/ndjson" | "application/jsonl" => Ok(Format::Ndjson),
            _ => refuse(format!(
                "the content type `{content_type}` is not supported here"
            )),
        }
    }
}

impl<'a> ApiExtractor<'a> for ImportUpload {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn request_meta() -> Option<MetaRequest> {
        // The limit in bytes, as the default setting has it (a binary string's length is its
        // bytes).
        let file = |example: &str| {
            MetaSchemaRef::Inline(Box::new(MetaSchema {
                format: Some("binary"),
                max_length: usize::try_from(crate::config::DEFAULT_IMPORT_MAX_BYTES).ok(),
                example: Some(serde_json::Value::from(example)),
                ..MetaSchema::new("string")
            }))
        };
        Some(MetaRequest {
            description: Some(
                "CSV with a header row naming its columns (`name`, `grade`, `email`; an \
                 export's `id`, `created_at`, `updated_at` are read past), or one \
                 `StudentCreate` object a line. UTF-8, with or without a BOM. At most \
                 `IMPORT_MAX_BYTES` bytes (`maxLength` is its default; a larger file is a `413`).",
            ),
            content: vec![
                MetaMediaType {
                    content_type: CSV,
                    schema: file(
                        "name,grade,email\nAda Lovelace,A-,ada@example.com\nAlan Turing,B+,\n",
                    ),
                },
                MetaMediaType {
                    content_type: NDJSON,
                    schema: file(
                        "{\"name\": \"Ada Lovelace\", \"grade\": \"A-\", \"email\": \"ada@example.com\"}\n",
                    ),
                },
            ],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _options: ExtractParamOptions<()>,
    ) -> poem::Result<Self> {
        json::uncompressed(request)?;
        let format = Self::format(request.content_type())?;
        Ok(Self {
            format,
            declared_length: json::declared_length(request),
            body: body.take()?,
        })
    }
}

/// The slowest upload read: less than this in a [`BODY_TIMEOUT`] window is a `408`, so a client
/// trickling a file in cannot hold a connection and an expensive-work slot for hours.
pub const MIN_BYTES_PER_WINDOW: u64 = 10 * 1024;

/// Reads `body` chunk by chunk into `chunks` (while anyone takes them), bounded by `limit`
/// bytes, by [`BODY_TIMEOUT`] without a byte and by [`MIN_BYTES_PER_WINDOW`]; returns the
/// SHA-256 of all of it.
async fn pump(
    body: Body,
    limit: u64,
    chunks: Option<tokio::sync::mpsc::Sender<Bytes>>,
) -> Result<[u8; 32], ApiError> {
    let mut stream = std::pin::pin!(body.into_bytes_stream());
    let mut digest = Sha256::new();
    let mut total = 0u64;
    let (mut window_start, mut window_bytes) = (tokio::time::Instant::now(), 0u64);
    loop {
        let chunk = match tokio::time::timeout(BODY_TIMEOUT, stream.next()).await {
            Err(_) => return Err(ApiError::RequestTimeout),
            Ok(None) => break,
            Ok(Some(Err(err))) => return Err(ApiError::UploadIncomplete(err.to_string())),
            Ok(Some(Ok(chunk))) => chunk,
        };
        total += chunk.len() as u64;
        if total > limit {
            return Err(too_large(limit));
        }
        window_bytes += chunk.len() as u64;
        if window_start.elapsed() >= BODY_TIMEOUT {
            if window_bytes < MIN_BYTES_PER_WINDOW {
                return Err(ApiError::RequestTimeout);
            }
            (window_start, window_bytes) = (tokio::time::Instant::now(), 0);
        }
        digest.update(&chunk);
        if let Some(chunks) = &chunks {
            let waiting = tokio::time::Instant::now();
            if chunks.send(chunk).await.is_err() {
                // The reader stopped (the database failed): that error is the answer.
                break;
            }
            // Time the database took to take the rows is not the client's: it does not count
            // against the upload's pace.
            window_start += waiting.elapsed();
        }
    }
    Ok(digest.finalize().into())
}

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge {
        limit_bytes: usize::try_from(limit).unwrap_or(usize::MAX),
    }
}

/// The upload's chunks as a blocking reader, for the row reader's thread.
struct ChunkReader {
    chunks: tokio::sync::mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

/// What a retry with the same key must match: the file (by digest) and the options.
fn request_record(digest: &[u8; 32], format: Format, options: ImportOptions) -> serde_json::Value {
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    serde_json::json!({
        "import": {
            "sha256": hex,
            "format": match format { Format::Csv => "csv", Format::Ndjson => "ndjson" },
            "on_error": options.on_error,
        }
    })
}

/// Runs an import to its end: the answer, or why there is none (nothing written then).
pub async fn run(
    pool: &PgPool,
    work: &ExpensiveWork,
    actor: &Actor,
    key: Option<&str>,
    options: ImportOptions,
    upload: ImportUpload,
) -> Result<ImportResponse, ApiError> {
    let limit = work.import_max_bytes;
    if upload.declared_length.is_some_and(|length| length > limit) {
        return Err(too_large(limit));
    }
    let _slot = work.begin()?;
    let mut import = db::Import::begin(pool).await?;
    // A dry run writes nothing, so it has nothing to make safe to retry.
    let key = key.filter(|_| !options.dry_run);
    if let Some(key) = key
        && let Some((request, response)) =
            db::claim_idempotency_key(import.connection(), key).await?
    {
        let digest = pump(upload.body, limit, None).await?;
        if request != request_record(&digest, upload.format, options) {
            return Err(db::Error::KeyReused.into());
        }
        let report: ImportReport = serde_json::from_value(response).map_err(|err| {
            db::Error::Corrupt(format!(
                "idempotency key {key:?} holds an unreadable import report: {err}"
            ))
        })?;
        tracing::info!(key, "replaying an idempotent import");
        return Ok(ImportResponse::Created(JsonBody(report)));
    }

    let (chunks, chunk_reader) = tokio::sync::mpsc::channel::<Bytes>(8);
    let (batches, mut batch_reader) = tokio::sync::mpsc::channel::<Batch>(4);
    let format = upload.format;
    let reader = tokio::task::spawn_blocking(move || {
        let input = ChunkReader {
            chunks: chunk_reader,
            current: Bytes::new(),
        };
        rows::read(format, input, |batch| batches.blocking_send(batch).is_ok())
    });
    let mut copy = import.copy().await?;
    let mut errors = Vec::new();
    let load = async {
        while let Some(batch) = batch_reader.recv().await {
            if !batch.copy.is_empty() {
                copy.send(batch.copy).await?;
            }
            errors.extend(batch.errors);
        }
        Ok::<_, db::Error>(())
    };
    let (uploaded, loaded) = tokio::join!(pump(upload.body, limit, Some(chunks)), load);
    let read = reader
        .await
        .map_err(|err| ApiError::Internal(Box::new(err)))?;
    let outcome = match (uploaded, loaded, read) {
        (Err(err), ..) => Err(err),
        (_, Err(err), _) => Err(err.into()),
        (_, _, Err(ReadError::Header(errors))) => Err(ApiError::Validation(errors)),
        (_, _, Err(ReadError::Io(err))) => Err(ApiError::Internal(Box::new(err))),
        (_, _, Err(ReadError::Stopped)) => Err(ApiError::Internal("the row reader stopped".into())),
        (Ok(digest), Ok(()), Ok(tally)) => Ok((digest, tally)),
    };
    let (digest, tally) = match outcome {
        Ok(outcome) => outcome,
        Err(err) => {
            // Ended cleanly, the connection goes back to the pool (rolled back) instead of
            // being closed mid-COPY.
            let _ = copy.abort("the import was refused").await;
            return Err(err);
        }
    };
    copy.finish().await.map_err(db::Error::from)?;

    let duplicates = import.duplicates(MAX_ERRORS as i64).await?;
    let invalid = tally.bad_rows + duplicates.total;
    let listed = merge(errors, &duplicates.first);
    if invalid > 0 && options.on_error == OnError::Reject {
        return Err(ApiError::InvalidRows {
            rows: tally.rows,
            invalid,
            errors: tally.errors + duplicates.total,
            listed,
        });
    }
    let mut report = ImportReport {
        rows: count(tally.rows),
        valid: count(tally.rows - invalid),
        invalid: count(invalid),
        created: 0,
        errors: listed,
        dry_run: options.dry_run,
    };
    if options.dry_run {
        return Ok(ImportResponse::Checked(JsonBody(report)));
    }
    if duplicates.total > 0 {
        import.drop_duplicates().await?;
    }
    report.created = count(import.write(actor).await?);
    if let Some(key) = key {
        let response =
            serde_json::to_value(&report).map_err(|err| ApiError::Internal(Box::new(err)))?;
        let request = request_record(&digest, upload.format, options);
        db::remember_idempotency_key(import.connection(), key, &request, &response).await?;
    }
    import.commit().await?;
    Ok(ImportResponse::Created(JsonBody(report)))
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The rows' own errors and the duplicates, in file order, the first [`MAX_ERRORS`].
fn merge(mut errors: Vec<FieldError>, duplicates: &[Duplicate]) -> Vec<FieldError> {
    errors.extend(duplicates.iter().map(|duplicate| {
        let location = format!("/rows/{}/email", duplicate.row);
        let error = match duplicate.earlier_row {
            None => FieldError::new(location, "taken", TAKEN),
            Some(earlier) => FieldError::new(
                location,
                "duplicate",
                format!("is the address of row {earlier} too (compared case-insensitively)"),
            ),
        };
        error.on_line(duplicate.line)
    }));
    // Lines grow with rows, and the sort is stable: a row's errors keep their order.
    errors.sort_by_key(|error| error.line);
    errors.truncate(MAX_ERRORS);
    errors
}
