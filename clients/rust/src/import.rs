//! Importing students from a CSV or NDJSON file, `importStudents` (written by hand; `lib.rs` is
//! generated and declares this module). progenitor takes one request media type per operation
//! and this one takes two, told apart by the `Content-Type` (clients/rust/generator, fix 4).

use std::time::Duration;

use progenitor_client::{ClientHooks, ClientInfo, Error, OperationInfo, QueryParam, ResponseValue};

use crate::{Client, types};

/// How long an import may take, upload and answer together, unless [`ImportStudents::timeout`]
/// says otherwise: far above the 15 s of [`Client::with_token`], which fits single-student
/// requests, not a file of thousands of rows.
pub const DEFAULT_IMPORT_TIMEOUT: Duration = Duration::from_secs(600);

/// Builder for [`Client::import_students`]: give the file with [`csv`](Self::csv) or
/// [`ndjson`](Self::ndjson), then [`send`](Self::send).
#[derive(Debug)]
pub struct ImportStudents<'a> {
    client: &'a Client,
    body: Option<(&'static str, reqwest::Body)>,
    dry_run: Option<bool>,
    on_error: Option<types::OnError>,
    idempotency_key: Option<String>,
    timeout: Duration,
}

impl Client {
    /// Creates a student of every row of a CSV or NDJSON file (`POST /api/students/import`;
    /// needs the scope `students:write`).
    ///
    /// All or nothing by default: when a row breaks a rule nothing is written and `send` fails
    /// with `Error::ErrorResponse`, a `422` problem of type
    /// `urn:students-api:problem:invalid-rows` whose `errors` name each bad row and field
    /// (`/rows/2/grade`) with its `line`. Otherwise the answer is the
    /// [`ImportReport`](types::ImportReport): `201` when students were created, `200` for a
    /// dry run.
    ///
    /// ```no_run
    /// # async fn run(client: &students_api_client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let report = client
    ///     .import_students()
    ///     .csv("name,grade,email\nAda Lovelace,A+,ada@example.com\n")
    ///     .idempotency_key("import-2026-01-01")
    ///     .send()
    ///     .await?
    ///     .into_inner();
    /// println!("{} created", report.created);
    /// # Ok(()) }
    /// ```
    pub fn import_students(&self) -> ImportStudents<'_> {
        ImportStudents {
            client: self,
            body: None,
            dry_run: None,
            on_error: None,
            idempotency_key: None,
            timeout: DEFAULT_IMPORT_TIMEOUT,
        }
    }
}

impl ImportStudents<'_> {
    /// The file as CSV (`text/csv`): a header row naming the columns (`name`, `grade`,
    /// `email`), then a student a row. A `String`, `Vec<u8>`, `bytes::Bytes`, or a stream
    /// (`reqwest::Body::wrap_stream`) for a big file read as it is sent.
    pub fn csv(mut self, body: impl Into<reqwest::Body>) -> Self {
        self.body = Some(("text/csv", body.into()));
        self
    }

    /// The file as NDJSON (`application/x-ndjson`): one `StudentCreate` object a line.
    pub fn ndjson(mut self, body: impl Into<reqwest::Body>) -> Self {
        self.body = Some(("application/x-ndjson", body.into()));
        self
    }

    /// `true`: check every row and report what an import would do (`200`), writing nothing.
    pub fn dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = Some(dry_run);
        self
    }

    /// What to do with rows that break a rule: `Reject` (the server's default) writes nothing
    /// and fails with the `422`; `Skip` writes the valid rows and lists the others in the report.
    pub fn on_error(mut self, on_error: types::OnError) -> Self {
        self.on_error = Some(on_error);
        self
    }

    /// Makes the import safe to retry (1–255 visible ASCII characters; a UUID is a good
    /// choice): a retry with the same key and file within 24 hours gets the first answer and
    /// writes nothing.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// How long the whole request may take (default [`DEFAULT_IMPORT_TIMEOUT`]); it replaces
    /// the client's total timeout for this request only.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sends `POST /api/students/import`.
    pub async fn send(self) -> Result<ResponseValue<types::ImportReport>, Error<types::Problem>> {
        let Self {
            client,
            body,
            dry_run,
            on_error,
            idempotency_key,
            timeout,
        } = self;
        let (content_type, body) = body.ok_or_else(|| {
            Error::InvalidRequest("no file: give it with `.csv(..)` or `.ndjson(..)`".into())
        })?;
        let mut headers = reqwest::header::HeaderMap::with_capacity(3);
        headers.insert(
            reqwest::header::HeaderName::from_static("api-version"),
            reqwest::header::HeaderValue::from_static(Client::api_version()),
        );
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            reqwest::header::HeaderValue::from_static(content_type),
        );
        if let Some(key) = idempotency_key {
            let valid = (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
            if !valid {
                return Err(Error::InvalidRequest(
                    "an Idempotency-Key is 1 to 255 visible ASCII characters".into(),
                ));
            }
            headers.insert(
                reqwest::header::HeaderName::from_static("idempotency-key"),
                reqwest::header::HeaderValue::from_str(&key)
                    .map_err(|err| Error::InvalidRequest(err.to_string()))?,
            );
        }
        let mut request = client
            .client()
            .post(format!("{}/api/students/import", client.baseurl()))
            .query(&QueryParam::new("dry_run", &dry_run))
            .query(&QueryParam::new("on_error", &on_error))
            .headers(headers)
            .body(body)
            .timeout(timeout)
            .build()?;
        let info = OperationInfo {
            operation_id: "import_students",
        };
        client.pre(&mut request, &info).await?;
        let result = client.exec(request, &info).await;
        client.post(&result, &info).await?;
        let response = result?;
        match response.status().as_u16() {
            200 | 201 => ResponseValue::from_response(response).await,
            400 | 401 | 403 | 408 | 409 | 413 | 415 | 422 | 429 | 500 | 503 => Err(
                Error::ErrorResponse(ResponseValue::from_response(response).await?),
            ),
            _ => Err(Error::UnexpectedResponse(response)),
        }
    }
}
