//! CSV cells a spreadsheet would run, both ways: the export neutralises them, the import
//! restores them, so export → import gives back every value exactly.

use std::borrow::Cow;

/// A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
const FORMULA_STARTS: [char; 4] = ['=', '+', '-', '@'];

/// The cell for `value`: a leading `'` makes a spreadsheet show the text instead of running
/// it. A value that already looks neutralised (`'` then one of those) gets one more `'`, so
/// [`restore`] can tell the two apart. NDJSON keeps values exact and needs none of this.
pub fn neutralise(value: &str) -> Cow<'_, str> {
    if value.trim_start_matches('\'').starts_with(FORMULA_STARTS) {
        format!("'{value}").into()
    } else {
        value.into()
    }
}

/// The value a cell written by [`neutralise`] holds: one leading `'` dropped where neutralise
/// added one, anything else as it is.
pub fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(value) if value.trim_start_matches('\'').starts_with(FORMULA_STARTS) => value,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::{neutralise, restore};

    #[test]
    fn cells_a_spreadsheet_would_run_are_shown_as_text() {
        assert_eq!(neutralise("=1+2"), "'=1+2");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Ada = 1"), "Ada = 1");
    }

    #[test]
    fn restore_undoes_neutralise_for_every_value() {
        for value in [
            "", "Ada", "=1+2", "+44", "-Ada", "@x", "'", "'=1", "''@x", "'Ada", "O'Brien", "=",
        ] {
            assert_eq!(restore(&neutralise(value)), value, "{value:?}");
        }
        // A cell typed by hand with a leading `'` before a formula reads as its text.
        assert_eq!(restore("'=SUM(A1)"), "=SUM(A1)");
    }
}
