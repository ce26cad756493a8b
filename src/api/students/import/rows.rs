//! An import's rows, read one at a time from a blocking reader (the upload, as it arrives):
//! CSV or NDJSON, each row checked by exactly `createStudent`'s rules (`json::validated` with
//! `StudentCreate`) and written out as a line of PostgreSQL's COPY text format.
//!
//! Memory stays bounded whatever the upload: one row of at most [`MAX_ROW_BYTES`], one batch
//! of [`BATCH_ROWS`] rows, and the first [`MAX_ERRORS`] errors (the rest are only counted).

use std::io::{self, BufRead, BufReader, Read};

use serde_json::{Map, Value};

use super::quoting::Quoting;
use crate::{
    api::{
        json,
        students::{schemas::StudentCreate, spreadsheet},
    },
    domain::{Email, NewStudent},
    error::FieldError,
};

/// The longest row read: as much as one `createStudent` body may be.
pub const MAX_ROW_BYTES: usize = json::MAX_BODY_BYTES;
/// The errors an answer lists; past them, errors are counted.
pub const MAX_ERRORS: usize = 1000;
/// Rows handed over at once.
const BATCH_ROWS: usize = 2000;
/// Fields an export writes that the server sets itself: read past, in both formats, so an
/// export imports as it is (ids and times are the new students' own).
const SERVER_SET: [&str; 3] = ["id", "created_at", "updated_at"];

/// The two formats an import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

/// Rows ready for COPY (`row, line, name, grade, email`), and the errors of the others.
#[derive(Debug, Default)]
pub struct Batch {
    pub copy: Vec<u8>,
    pub errors: Vec<FieldError>,
}

/// What the whole file held.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    /// Rows read (students in the file).
    pub rows: u64,
    /// Rows with at least one error.
    pub bad_rows: u64,
    /// Errors found, listed or not.
    pub errors: u64,
}

#[derive(Debug)]
pub enum ReadError {
    /// The CSV header is missing or names columns we do not read: no row can be read.
    Header(Vec<FieldError>),
    /// The upload failed (it was cut, too slow or too large: the caller knows which).
    Io(io::Error),
    /// Whoever took the batches stopped taking them.
    Stopped,
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> Self {
        ReadError::Io(err)
    }
}

/// Reads every row of `reader`, handing batches to `send` (which answers `false` to stop).
pub fn read(
    format: Format,
    reader: impl Read,
    send: impl FnMut(Batch) -> bool,
) -> Result<Tally, ReadError> {
    let mut rows = Rows {
        tally: Tally::default(),
        batch: Batch::default(),
        batch_rows: 0,
        send,
    };
    let input = BufReader::with_capacity(64 * 1024, without_bom(reader)?);
    match format {
        Format::Csv => read_csv(input, &mut rows)?,
        Format::Ndjson => read_ndjson(input, &mut rows)?,
    }
    rows.flush()?;
    Ok(rows.tally)
}

/// `reader` without a leading UTF-8 byte-order mark, however the upload's chunks split it.
fn without_bom(mut reader: impl Read) -> io::Result<impl Read> {
    let mut start = [0u8; 3];
    let mut filled = 0;
    while filled < start.len() {
        match reader.read(&mut start[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    let kept = if start[..filled] == *b"\xEF\xBB\xBF" {
        0
    } else {
        filled
    };
    Ok(io::Cursor::new(start[..kept].to_vec()).chain(reader))
}

struct Rows<F> {
    tally: Tally,
    batch: Batch,
    batch_rows: usize,
    send: F,
}

impl<F: FnMut(Batch) -> bool> Rows<F> {
    /// One row, numbered from 1, starting on `line`: checked, then queued for COPY or reported.
    fn row(&mut self, line: u64, value: Result<Value, Vec<FieldError>>) -> Result<(), ReadError> {
        self.tally.rows += 1;
        let row = self.tally.rows;
        match value.and_then(json::validated::<StudentCreate>) {
            Ok(student) => copy_line(&mut self.batch.copy, row, line, &student.into()),
            Err(errors) => {
                self.tally.bad_rows += 1;
                for error in errors {
                    self.tally.errors += 1;
                    if self.tally.errors <= MAX_ERRORS as u64 {
                        let location = format!("/rows/{row}{}", error.location);
                        // A quoting fault is already placed, at its own line and column.
                        let error = match error.line {
                            Some(_) => FieldError { location, ..error },
                            None => FieldError { location, ..error }.on_line(line),
                        };
                        self.batch.errors.push(error);
                    }
                }
            }
        }
        self.batch_rows += 1;
        if self.batch_rows >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ReadError> {
        self.batch_rows = 0;
        let batch = std::mem::take(&mut self.batch);
        if (self.send)(batch) {
            Ok(())
        } else {
            Err(ReadError::Stopped)
        }
    }
}

/// One row of COPY's text format: tab-separated, `\N` for null, backslashes escaped (the
/// domain types already refused control characters, so tabs and newlines cannot occur).
fn copy_line(out: &mut Vec<u8>, row: u64, line: u64, student: &NewStudent) {
    use std::io::Write;
    let _ = write!(out, "{row}\t{line}\t");
    copy_text(out, student.name.as_str());
    out.push(b'\t');
    out.extend_from_slice(student.grade.as_str().as_bytes());
    out.push(b'\t');
    match &student.email {
        Some(email) => copy_text(out, Email::as_str(email)),
        None => out.extend_from_slice(b"\\N"),
    }
    out.push(b'\n');
}

fn copy_text(out: &mut Vec<u8>, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

/// A CSV column: one a student has, or one the export writes and the server sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Name,
    Grade,
    Email,
    ServerSet,
}

/// The header's columns, or every problem with it.
fn columns(fields: &[&[u8]]) -> Result<Vec<Column>, Vec<FieldError>> {
    let mut columns = Vec::with_capacity(fields.len());
    let mut errors = Vec::new();
    if fields.iter().any(|field| field.contains(&b'\r')) {
        return Err(vec![
            FieldError::new(
                "/header",
                "line_endings",
                "holds a carriage return: lines must end with LF or CRLF (not CR alone)",
            )
            .on_line(1),
        ]);
    }
    for (index, raw) in fields.iter().enumerate() {
        let location = format!("/header/{}", index + 1);
        let name = String::from_utf8_lossy(raw).trim().to_ascii_lowercase();
        let column = match name.as_str() {
            "name" => Column::Name,
            "grade" => Column::Grade,
            "email" => Column::Email,
            other if SERVER_SET.contains(&other) => Column::ServerSet,
            _ => {
                errors.push(
                    FieldError::new(
                        location,
                        "unknown_column",
                        format!(
                            "`{name}` is not a column an import reads: name, grade, email (and \
                             an export's id, created_at, updated_at, which are ignored)"
                        ),
                    )
                    .on_line(1),
                );
                continue;
            }
        };
        if column != Column::ServerSet && columns.contains(&column) {
            errors.push(
                FieldError::new(
                    location,
                    "duplicate",
                    format!("`{name}` is a second column"),
                )
                .on_line(1),
            );
        }
        columns.push(column);
    }
    for (needed, name) in [(Column::Name, "name"), (Column::Grade, "grade")] {
        if errors.is_empty() && !columns.contains(&needed) {
            errors.push(
                FieldError::new(
                    "/header",
                    "required",
                    format!("has no `{name}` column; the first line names the columns"),
                )
                .on_line(1),
            );
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

/// A CSV record as a `StudentCreate` object, or what is wrong with it.
fn csv_object(columns: &[Column], fields: &[&[u8]]) -> Result<Value, Vec<FieldError>> {
    if fields.len() != columns.len() {
        return Err(vec![FieldError::new(
            "",
            "columns",
            format!(
                "has {} fields; the header has {}",
                fields.len(),
                columns.len()
            ),
        )]);
    }
    let mut object = Map::new();
    let mut errors = Vec::new();
    for (column, raw) in columns.iter().zip(fields) {
        let key = match column {
            Column::Name => "name",
            Column::Grade => "grade",
            Column::Email => "email",
            Column::ServerSet => continue,
        };
        let Ok(text) = std::str::from_utf8(raw) else {
            errors.push(FieldError::new(
                format!("/{key}"),
                "invalid_utf8",
                "is not UTF-8 text",
            ));
            continue;
        };
        let value = match (column, spreadsheet::restore(text)) {
            // The export writes an empty cell for "no e-mail address".
            (Column::Email, "") => Value::Null,
            (_, text) => Value::String(text.to_owned()),
        };
        object.insert(key.to_owned(), value);
    }
    if errors.is_empty() {
        Ok(Value::Object(object))
    } else {
        Err(errors)
    }
}

/// RFC 4180 CSV with a header row (a UTF-8 BOM is skipped), read with `csv_core` into a
/// fixed buffer: a row longer than [`MAX_ROW_BYTES`] is reported, never held. `csv_core`
/// forgives broken quoting; [`Quoting`] reads the same bytes and refuses it.
fn read_csv<F: FnMut(Batch) -> bool>(
    mut input: impl BufRead,
    rows: &mut Rows<F>,
) -> Result<(), ReadError> {
    const MAX_FIELDS: usize = 64;
    // Records end at `\n` only, so the line count moves exactly at each record's end; the
    // `\r` of a CRLF ending is dropped from the last field below.
    let mut parser = csv_core::ReaderBuilder::new()
        .terminator(csv_core::Terminator::Any(b'\n'))
        .build();
    let mut output = vec![0u8; MAX_ROW_BYTES];
    let mut ends = [0usize; MAX_FIELDS];
    let (mut out_len, mut ends_len) = (0, 0);
    let (mut too_long, mut too_many) = (false, false);
    let mut header: Option<Vec<Column>> = None;
    // Lines are counted from the bytes read, not by csv_core (which skips blank lines
    // without counting them): a record starts on the line after the newlines read before it,
    // less those inside its quoted cells.
    let (mut newlines, mut ended_with_newline) = (0u64, false);
    let mut quoting = Quoting::default();
    loop {
        let available = input.fill_buf()?;
        let at_end = available.is_empty();
        let (result, read, written, ended) =
            parser.read_record(available, &mut output[out_len..], &mut ends[ends_len..]);
        let consumed = &available[..read];
        quoting.feed(consumed);
        newlines += consumed.iter().filter(|&&byte| byte == b'\n').count() as u64;
        if let Some(&last) = consumed.last() {
            ended_with_newline = last == b'\n';
        }
        input.consume(read);
        out_len += written;
        ends_len += ended;
        match result {
            csv_core::ReadRecordResult::InputEmpty => {}
            // Past the limit the row is only read through: its text is dropped.
            csv_core::ReadRecordResult::OutputFull => (too_long, out_len) = (true, 0),
            csv_core::ReadRecordResult::OutputEndsFull => (too_many, ends_len) = (true, 0),
            csv_core::ReadRecordResult::End => break,
            csv_core::ReadRecordResult::Record => {
                let inside = output[..out_len].iter().filter(|&&b| b == b'\n').count() as u64;
                let last_line = newlines + u64::from(!ended_with_newline);
                let line = last_line.saturating_sub(inside).max(1);
                let fault = quoting.record_fault(at_end).map(|fault| {
                    FieldError::new("", "csv_quoting", fault.message()).at(fault.line, fault.column)
                });
                let problem = if too_long {
                    Some(format!("is longer than {MAX_ROW_BYTES} bytes"))
                } else if too_many {
                    Some(format!("has more than {MAX_FIELDS} fields"))
                } else {
                    None
                };
                let fields: Vec<&[u8]> = if problem.is_some() {
                    Vec::new()
                } else {
                    let mut start = 0;
                    let mut fields: Vec<&[u8]> = ends[..ends_len]
                        .iter()
                        .map(|&end| {
                            let field = &output[start..end];
                            start = end;
                            field
                        })
                        .collect();
                    if let Some(last) = fields.last_mut() {
                        *last = last.strip_suffix(b"\r").unwrap_or(last);
                    }
                    fields
                };
                (out_len, ends_len, too_long, too_many) = (0, 0, false, false);
                match &header {
                    None if fault.is_some() => {
                        let error = fault.map(|error| FieldError {
                            location: "/header".to_owned(),
                            ..error
                        });
                        return Err(ReadError::Header(error.into_iter().collect()));
                    }
                    None => match problem {
                        Some(problem) => {
                            let error = FieldError::new("/header", "too_long", problem);
                            return Err(ReadError::Header(vec![error.on_line(line)]));
                        }
                        None => header = Some(columns(&fields).map_err(ReadError::Header)?),
                    },
                    // A blank line is no student.
                    Some(columns)
                        if fields.len() == 1 && fields[0].is_empty() && columns.len() > 1 => {}
                    Some(columns) => {
                        let value = match (fault, problem) {
                            (Some(fault), _) => Err(vec![fault]),
                            (None, Some(problem)) => {
                                Err(vec![FieldError::new("", "too_long", problem)])
                            }
                            (None, None) => csv_object(columns, &fields),
                        };
                        rows.row(line, value)?;
                    }
                }
            }
        }
    }
    if header.is_none() {
        return Err(ReadError::Header(vec![
            FieldError::new(
                "/header",
                "required",
                "the file is empty: its first line names the columns (name,grade,email)",
            )
            .on_line(1),
        ]));
    }
    Ok(())
}

/// One JSON object a line (`createStudent`'s body, or an export's line: its `id`,
/// `created_at` and `updated_at` are read past). Blank lines are skipped.
fn read_ndjson<F: FnMut(Batch) -> bool>(
    mut input: impl BufRead,
    rows: &mut Rows<F>,
) -> Result<(), ReadError> {
    let mut text = Vec::with_capacity(1024);
    let mut line = 0u64;
    loop {
        text.clear();
        line += 1;
        let read = (&mut input)
            .take(MAX_ROW_BYTES as u64 + 1)
            .read_until(b'\n', &mut text)?;
        if read == 0 {
            return Ok(());
        }
        if text.len() > MAX_ROW_BYTES && text.last() != Some(&b'\n') {
            input.skip_until(b'\n')?;
            let problem = format!("is longer than {MAX_ROW_BYTES} bytes");
            rows.row(line, Err(vec![FieldError::new("", "too_long", problem)]))?;
            continue;
        }
        let content = text.as_slice();
        if content.trim_ascii().is_empty() {
            continue;
        }
        let value = json::parse(content)
            .map_err(|why| vec![FieldError::new("", "malformed", why)])
            .map(|mut value| {
                if let Some(object) = value.as_object_mut() {
                    for key in SERVER_SET {
                        object.remove(key);
                    }
                }
                value
            });
        rows.row(line, value)?;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed step is a failed test
mod tests {
    use crate::api::students::import::rows::{
        Format, MAX_ERRORS, MAX_ROW_BYTES, ReadError, Tally, read,
    };
    use crate::error::FieldError;

    fn read_all(format: Format, text: &str) -> (Tally, String, Vec<FieldError>) {
        let mut copy = Vec::new();
        let mut errors = Vec::new();
        let tally = read(format, text.as_bytes(), |batch| {
            copy.extend(batch.copy);
            errors.extend(batch.errors);
            true
        })
        .unwrap();
        (tally, String::from_utf8(copy).unwrap(), errors)
    }

    #[test]
    fn csv_rows_become_copy_lines_with_their_line_numbers() {
        // The id cell of the second row spans two lines (ids are read past).
        let (tally, copy, errors) = read_all(
            Format::Csv,
            "\u{FEFF}id,name,grade,email\r\n1,Ada,A,ADA@example.com\n\"2\n2\",\"Lovelace, \"\"Ada\"\" \\\",B+,\n3,'=1+2,C,\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(tally.rows, 3);
        assert_eq!(
            copy,
            "1\t2\tAda\tA\tada@example.com\n2\t3\tLovelace, \"Ada\" \\\\\tB+\t\\N\n3\t5\t=1+2\tC\t\\N\n"
        );
    }

    /// A reader that hands over one byte at a time, as the worst-chunked upload would.
    struct OneByte<'a>(&'a [u8]);

    impl std::io::Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some((&first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            if buf.is_empty() {
                return Ok(0);
            }
            buf[0] = first;
            self.0 = rest;
            Ok(1)
        }
    }

    #[test]
    fn a_byte_order_mark_is_skipped_however_the_upload_is_split() {
        for format in [Format::Csv, Format::Ndjson] {
            let text = match format {
                Format::Csv => "\u{FEFF}name,grade\nAda,A\n",
                Format::Ndjson => "\u{FEFF}{\"name\":\"Ada\",\"grade\":\"A\"}\n",
            };
            let mut copy = Vec::new();
            let tally = read(format, OneByte(text.as_bytes()), |batch| {
                copy.extend(batch.copy);
                true
            })
            .unwrap();
            assert_eq!((tally.rows, tally.bad_rows), (1, 0), "{format:?}");
            assert_eq!(
                String::from_utf8(copy).unwrap(),
                format!(
                    "1\t{}\tAda\tA\t\\N\n",
                    if format == Format::Csv { 2 } else { 1 }
                )
            );
        }
    }

    #[test]
    fn blank_lines_count_as_lines_in_csv_too() {
        let (_, _, errors) = read_all(
            Format::Csv,
            "name,grade,email\nG1,A,\n\nG2,Z,\n\n\nG3,Q,\n\"Multi\nline\",Q,\nLast,Q,",
        );
        let lines: Vec<Option<i64>> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [Some(4), Some(7), Some(8), Some(8), Some(10)]);
        let (_, _, errors) = read_all(Format::Csv, "name,grade\r\n\r\n\r\nB1,Z\r\n");
        assert_eq!(errors[0].line, Some(4));
    }

    #[test]
    fn a_row_of_more_than_64_fields_is_an_error_of_its_own() {
        let wide = vec!["x"; 70].join(",");
        let (tally, copy, errors) = read_all(Format::Csv, &format!("name,grade\n{wide}\nAda,A\n"));
        assert_eq!((tally.rows, tally.bad_rows), (2, 1));
        assert_eq!(
            (errors[0].location.as_str(), errors[0].line),
            ("/rows/1", Some(2))
        );
        assert!(
            errors[0].message.contains("more than 64 fields"),
            "{errors:?}"
        );
        assert_eq!(copy, "2\t3\tAda\tA\t\\N\n");
    }

    #[test]
    fn carriage_returns_alone_are_named_as_line_endings() {
        let result = read(Format::Csv, "name,grade\rAda,A\r".as_bytes(), |_| true);
        let Err(ReadError::Header(errors)) = result else {
            panic!("{result:?}");
        };
        assert_eq!(errors[0].code, "line_endings");
    }

    #[test]
    fn every_bad_field_is_named_with_its_row_and_line() {
        let (tally, copy, errors) = read_all(
            Format::Csv,
            "id,name,grade,email,created_at\n1,Ada,A,,x\n2,,E,nope,x\n3,Eve,B\n",
        );
        assert_eq!((tally.rows, tally.bad_rows, tally.errors), (3, 2, 4));
        assert_eq!(copy, "1\t2\tAda\tA\t\\N\n");
        let found: Vec<(&str, &str, Option<i64>)> = errors
            .iter()
            .map(|e| (e.location.as_str(), e.code.as_str(), e.line))
            .collect();
        assert_eq!(
            found,
            [
                ("/rows/2/name", "too_short", Some(3)),
                ("/rows/2/grade", "invalid_enum", Some(3)),
                ("/rows/2/email", "invalid_email", Some(3)),
                ("/rows/3", "columns", Some(4)),
            ]
        );
    }

    #[test]
    fn a_header_we_cannot_read_stops_the_import() {
        for text in [
            "",
            "name,grade,colour\n",
            "name,email\n",
            "name,name,grade\n",
        ] {
            let result = read(Format::Csv, text.as_bytes(), |_| true);
            assert!(matches!(result, Err(ReadError::Header(_))), "{text:?}");
        }
    }

    #[test]
    fn rows_past_the_limit_are_reported_not_held() {
        let long = "x".repeat(MAX_ROW_BYTES + 10);
        let (tally, _, errors) = read_all(Format::Csv, &format!("name,grade\n{long},A\nAda,A\n"));
        assert_eq!((tally.rows, tally.bad_rows), (2, 1));
        assert_eq!(errors[0].code, "too_long");
        let (tally, copy, errors) = read_all(
            Format::Ndjson,
            &format!("\"{long}\"\n{{\"name\":\"Ada\",\"grade\":\"A\"}}\n"),
        );
        assert_eq!((tally.rows, tally.bad_rows), (2, 1));
        assert_eq!(errors[0].location, "/rows/1");
        assert_eq!(copy, "2\t2\tAda\tA\t\\N\n");
    }

    #[test]
    fn ndjson_rows_obey_the_create_rules_and_read_past_server_fields() {
        let (tally, copy, errors) = read_all(
            Format::Ndjson,
            "{\"id\":7,\"name\":\"Ada\",\"grade\":\"A\",\"email\":null,\"created_at\":\"x\"}\n\n{\"name\":\"Eve\",\"grade\":\"A\",\"age\":3}\n{\"name\":\"Bo\",\n",
        );
        assert_eq!((tally.rows, tally.bad_rows), (3, 2));
        assert_eq!(copy, "1\t1\tAda\tA\t\\N\n");
        assert_eq!(errors[0].location, "/rows/2/age");
        assert_eq!(errors[0].line, Some(3));
        assert_eq!(
            (errors[1].location.as_str(), errors[1].code.as_str()),
            ("/rows/3", "malformed")
        );
    }

    #[test]
    fn only_the_first_errors_are_kept() {
        let mut text = String::from("name,grade\n");
        for _ in 0..MAX_ERRORS + 5 {
            text.push_str("Ada,E\n");
        }
        let (tally, _, errors) = read_all(Format::Csv, &text);
        assert_eq!(errors.len(), MAX_ERRORS);
        assert_eq!(tally.errors, MAX_ERRORS as u64 + 5);
    }
}
