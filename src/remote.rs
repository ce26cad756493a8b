//! `students-api import FILE`: a file of students streamed to a running server's
//! `importStudents`, with a progress bar (bytes and lines sent, rate, ETA), then its report.
//! A client of the API like any other: it knows the wire format, not the server's code.

use std::process::ExitCode;

use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::config::ImportArgs;

#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("cannot read {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("the server could not be reached or stopped answering: {0}")]
    Http(#[from] reqwest::Error),
}

/// `students-api healthcheck`: success when `url` answers 200 within 3 s. What failed goes to
/// stderr, which Docker keeps in the container's health log.
pub async fn healthcheck(url: &str) -> ExitCode {
    // Never through HTTP_PROXY: the server asked about is this machine's.
    let client = match reqwest::Client::builder().no_proxy().build() {
        Ok(client) => client,
        Err(err) => {
            eprintln!("cannot make an HTTP client: {err}");
            return ExitCode::FAILURE;
        }
    };
    let answer = client
        .get(url)
        .timeout(std::time::Duration::from_secs(3))
        .send()
        .await;
    match answer {
        Ok(response) if response.status() == reqwest::StatusCode::OK => ExitCode::SUCCESS,
        Ok(response) => {
            eprintln!("{url} answered {}", response.status());
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("{url} did not answer: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Sends the file; prints the report (stdout) or the refusal (stderr). Exit status 0 for a
/// `201`/`200`, 1 when the server refused the file.
pub async fn import(args: &ImportArgs) -> Result<ExitCode, RemoteError> {
    let path = args.file.display().to_string();
    let content_type = match args.format.as_deref().or_else(|| {
        args.file.extension().and_then(|e| e.to_str()).map(|e| {
            if e == "ndjson" || e == "jsonl" {
                "ndjson"
            } else {
                "csv"
            }
        })
    }) {
        Some("ndjson") => "application/x-ndjson",
        Some("csv") | None => "text/csv",
        Some(other) => {
            return Err(RemoteError::Usage(format!(
                "--format {other}: csv or ndjson"
            )));
        }
    };
    let metadata = tokio::fs::metadata(&args.file)
        .await
        .map_err(|source| RemoteError::File {
            path: path.clone(),
            source,
        })?;
    if metadata.is_dir() {
        return Err(RemoteError::Usage(format!(
            "{path} is a directory, not a file"
        )));
    }
    // A pipe (`<(…)`, /dev/stdin) has no length: it is sent chunked, and read once.
    let size = metadata.is_file().then_some(metadata.len());
    let mut url = format!("{}/api/students/import", args.url.trim_end_matches('/'));
    let mut query = Vec::new();
    if args.dry_run {
        query.push("dry_run=true");
    }
    if args.skip_invalid {
        query.push("on_error=skip");
    }
    if !query.is_empty() {
        url = format!("{url}?{}", query.join("&"));
    }
    let client = reqwest::Client::new();
    let mut attempt = 1;
    let response = loop {
        let file = tokio::fs::File::open(&args.file)
            .await
            .map_err(|source| RemoteError::File {
                path: path.clone(),
                source,
            })?;
        let bar = match size {
            Some(size) => ProgressBar::new(size),
            None => ProgressBar::no_length(),
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:30} {bytes}/{total_bytes} {msg} {bytes_per_sec} ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let progress = bar.clone();
        let mut lines = 0u64;
        let chunks = file_chunks(file).map(move |chunk| {
            if let Ok(chunk) = &chunk {
                lines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
                progress.inc(chunk.len() as u64);
                progress.set_message(format!("{lines} lines"));
            }
            chunk
        });
        let mut request = client
            .post(&url)
            .bearer_auth(&args.token)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(reqwest::Body::wrap_stream(chunks));
        if let Some(size) = size {
            request = request.header(reqwest::header::CONTENT_LENGTH, size);
        }
        if let Some(key) = &args.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await;
        bar.finish_and_clear();
        let response = response?;
        // Busy (every slot for expensive work taken): a file can be sent again; a pipe cannot.
        if response.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE
            && size.is_some()
            && attempt < 5
        {
            let wait = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
                .unwrap_or(1)
                .min(30);
            eprintln!("{path}: the server is busy; retrying in {wait} s");
            tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
            attempt += 1;
            continue;
        }
        break response;
    };
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        println!(
            "{}: {} rows, {} valid, {} invalid; {} students created{}",
            path,
            body["rows"],
            body["valid"],
            body["invalid"],
            body["created"],
            if body["dry_run"] == true {
                " (dry run: nothing written)"
            } else {
                ""
            }
        );
        print_errors(&body, false);
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("{path}: refused ({status}): {}", text(&body["detail"]));
    print_errors(&body, true);
    Ok(ExitCode::FAILURE)
}

/// Reads a file as a stream of chunks.
fn file_chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> {
    futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buffer = vec![0u8; 256 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(bytes::Bytes::from(buffer)), file))
            }
            Err(err) => Some((Err(err), file)),
        }
    })
}

/// One line per error: `line 17, /rows/16/grade: must be one of …`.
fn print_errors(body: &Value, to_stderr: bool) {
    for error in body["errors"].as_array().into_iter().flatten() {
        let line = match &error["line"] {
            Value::Number(line) => format!("line {line}, "),
            _ => String::new(),
        };
        let text = format!(
            "  {line}{}: {} ({})",
            text(&error["location"]),
            text(&error["message"]),
            text(&error["code"])
        );
        if to_stderr {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}
