//! RFC 4180's quoting, checked byte by byte beside `csv_core`, which reads leniently: it takes
//! `"ef"gh` as `efgh`, keeps a quote inside an unquoted field, and lets an unterminated quote
//! swallow the rest of the file. A spreadsheet export with a stray quote would then import
//! other data than the file holds; instead its record is refused, naming the line and column.

/// What is wrong with a record's quoting, and where (lines and columns count from 1; a column
/// counts characters, not bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub line: u64,
    pub column: u64,
    pub kind: FaultKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// `ab"cd`: a quote in a field that does not start with one.
    QuoteInUnquoted,
    /// `"ab"cd`: text between a closing quote and the next comma or line end.
    TextAfterQuote,
    /// The file ends inside a quoted field; `line` and `column` are where its quote opened.
    Unterminated,
}

impl Fault {
    pub fn message(&self) -> String {
        let Fault { line, column, kind } = self;
        match kind {
            FaultKind::QuoteInUnquoted => format!(
                "line {line}, column {column}: a quote inside an unquoted field; a field that \
                 holds a quote is quoted whole, with the quote doubled (\"ab\"\"cd\")"
            ),
            FaultKind::TextAfterQuote => format!(
                "line {line}, column {column}: text after a closing quote; a quoted field ends \
                 at a comma or the line's end (a quote inside it is doubled: \"ab\"\"cd\")"
            ),
            FaultKind::Unterminated => format!(
                "line {line}, column {column}: this quoted field is never closed (the file ends \
                 inside it)"
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: a doubled quote, or the field's end.
    QuoteInQuoted,
    /// A closing quote, then `\r`: fine only if `\n` follows (a CRLF line end).
    CarriageReturnAfterQuote,
}

/// The quoting of the bytes read so far; feed it exactly what `csv_core` consumed.
#[derive(Debug)]
pub struct Quoting {
    state: State,
    line: u64,
    /// Characters read on this line so far.
    column: u64,
    /// Where the quoted field being read opened.
    opened: (u64, u64),
    /// The first fault since the last record ended.
    fault: Option<Fault>,
}

impl Default for Quoting {
    fn default() -> Self {
        Self {
            state: State::FieldStart,
            line: 1,
            column: 0,
            opened: (1, 1),
            fault: None,
        }
    }
}

impl Quoting {
    pub fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            // A UTF-8 continuation byte belongs to the character before it.
            if byte & 0xC0 != 0x80 {
                self.column += 1;
            }
            self.state = self.next(byte);
            if byte == b'\n' {
                self.line += 1;
                self.column = 0;
            }
        }
    }

    fn next(&mut self, byte: u8) -> State {
        use State::*;
        match (self.state, byte) {
            (Quoted, b'"') => QuoteInQuoted,
            (Quoted, _) => Quoted,
            (QuoteInQuoted, b'"') => Quoted,
            (QuoteInQuoted, b'\r') => CarriageReturnAfterQuote,
            (_, b',' | b'\n') if self.state != CarriageReturnAfterQuote || byte == b'\n' => {
                FieldStart
            }
            (FieldStart, b'"') => {
                self.opened = (self.line, self.column);
                Quoted
            }
            (Unquoted, b'"') => {
                self.found(FaultKind::QuoteInUnquoted);
                Unquoted
            }
            (FieldStart | Unquoted, _) => Unquoted,
            (QuoteInQuoted | CarriageReturnAfterQuote, _) => {
                self.found(FaultKind::TextAfterQuote);
                if byte == b',' { FieldStart } else { Unquoted }
            }
        }
    }

    fn found(&mut self, kind: FaultKind) {
        self.fault.get_or_insert(Fault {
            line: self.line,
            column: self.column,
            kind,
        });
    }

    /// The fault of the record `csv_core` just ended, if any; `at_end`: the file ended with
    /// it, so a quoted field still open is never closed.
    pub fn record_fault(&mut self, at_end: bool) -> Option<Fault> {
        if at_end && self.state == State::Quoted {
            let (line, column) = self.opened;
            self.fault.get_or_insert(Fault {
                line,
                column,
                kind: FaultKind::Unterminated,
            });
        }
        self.fault.take()
    }
}

#[cfg(test)]
mod tests {
    use super::{Fault, FaultKind, Quoting};

    /// The faults of each record of `text`, one per line-ended record.
    fn faults(text: &str) -> Vec<Option<(u64, u64, FaultKind)>> {
        let mut quoting = Quoting::default();
        let mut found = Vec::new();
        let mut rest = text.as_bytes();
        // Records end at a `\n` outside quotes; feed up to each one, as csv_core consumes.
        while !rest.is_empty() {
            let mut quoted = false;
            let end = rest
                .iter()
                .position(|&b| {
                    if b == b'"' {
                        quoted = !quoted;
                    }
                    b == b'\n' && !quoted
                })
                .map_or(rest.len(), |at| at + 1);
            quoting.feed(&rest[..end]);
            rest = &rest[end..];
            let fault = quoting.record_fault(rest.is_empty());
            found.push(fault.map(|Fault { line, column, kind }| (line, column, kind)));
        }
        found
    }

    #[test]
    fn rfc_4180_quoting_passes() {
        let good = "name,grade\n\"Ann, Lee\",A\n\"Said \"\"Sam\"\"\",B\r\n\"two\nlines\",C\n,\n\"\",\"\"\n";
        assert!(
            faults(good).iter().all(Option::is_none),
            "{:?}",
            faults(good)
        );
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_named_with_its_column() {
        assert_eq!(
            faults("name,grade\nab\"cd,A\n"),
            vec![None, Some((2, 3, FaultKind::QuoteInUnquoted))]
        );
    }

    #[test]
    fn text_after_a_closing_quote_is_named() {
        assert_eq!(
            faults("name,grade\n\"ef\"gh,A\nok,B\n"),
            vec![None, Some((2, 5, FaultKind::TextAfterQuote)), None]
        );
        // A carriage return is a line end only before a newline.
        assert_eq!(
            faults("\"a\"\rb,A\n"),
            vec![Some((1, 5, FaultKind::TextAfterQuote))]
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(
            faults("Zoë \"Z\",A\n"),
            vec![Some((1, 5, FaultKind::QuoteInUnquoted))]
        );
    }

    #[test]
    fn an_unterminated_quote_names_where_it_opened() {
        assert_eq!(
            faults("name,grade\nab,A\n\"ef,B\nx,A\n"),
            vec![None, None, Some((3, 1, FaultKind::Unterminated))]
        );
    }
}
