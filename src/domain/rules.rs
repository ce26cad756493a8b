//! How a value breaks a rule: the stable codes clients switch on, and the text rule every
//! string from outside obeys. The wire layer (`api::validation`) and the domain types both
//! report through these, so a code means the same thing wherever it appears.
//!
//! The character classes below are regular-expression text, written with `\uXXXX` escapes
//! only (no `\s`, no `\p{..}`): the same text means the same set in Rust's `regex`,
//! ECMAScript (where `\s` would include U+FEFF), Python's `re` and PostgreSQL, so the published
//! patterns, the server and the table's CHECKs agree character for character. A few such
//! characters lie outside the Basic Multilingual Plane; ECMAScript without the `u` flag cannot
//! name those in a class, so they have `\UXXXXXXXX` classes of their own (`*_astral!`), which the
//! server and PostgreSQL use and the published patterns leave out.

use std::sync::LazyLock;

use regex::Regex;

/// C0, DEL and C1 control characters (NUL included).
macro_rules! control_characters {
    () => {
        r"\x00-\x1F\x7F-\x9F"
    };
}

/// Characters that change how text is shown while showing nothing (Unicode's format
/// characters, `Cf`, less the joiners and tags text needs): the soft hyphen, Arabic number signs
/// and letter mark, the Mongolian vowel separator, zero-width space, left-to-right and
/// right-to-left marks, line and paragraph separators, bidi embeddings, overrides and isolates
/// (which let a name spoof how a row reads), word joiner, invisible operators and deprecated
/// format characters, the byte-order mark, interlinear annotation marks; and noncharacters.
/// Refused in every string.
macro_rules! format_characters {
    () => {
        r"\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B\u200E\u200F\u2028\u2029\u202A-\u202E\u2060-\u206F\uFDD0-\uFDEF\uFEFF\uFFF9-\uFFFB\uFFFE\uFFFF"
    };
}

/// [`format_characters`] outside the BMP: Kaithi number signs, Egyptian hieroglyph and
/// shorthand format controls, musical symbol formatting, the language tag.
macro_rules! format_characters_astral {
    () => {
        r"\U000110BD\U000110CD\U00013430-\U0001343F\U0001BCA0-\U0001BCA3\U0001D173-\U0001D17A\U000E0001"
    };
}

/// White space that is not a control character: what trimming removes (Rust's `str::trim`,
/// less the characters refused above).
macro_rules! white_space {
    () => {
        r"\u0020\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000"
    };
}

/// Characters that show nothing on their own: white space, Hangul fillers, the blank Braille
/// pattern, zero-width (non-)joiners, Khmer inherent vowels, Mongolian variation selectors,
/// combining marks and variation selectors. Allowed inside text (joiners and marks are needed
/// by many scripts and emoji) but never all of it.
macro_rules! blank_characters {
    () => {
        concat!(
            white_space!(),
            r"\u115F\u1160\u3164\uFFA0\u2800\u200C\u200D\u17B4\u17B5\u180B-\u180D\u180F",
            r"\u0300-\u036F\u0483-\u0489\u1AB0-\u1AFF\u1DC0-\u1DFF\u20D0-\u20FF\uFE00-\uFE0F\uFE20-\uFE2F"
        )
    };
}

/// [`blank_characters`] outside the BMP: the Khitan filler, tags (which follow a flag emoji, but
/// show nothing alone) and the variation selectors supplement.
macro_rules! blank_characters_astral {
    () => {
        r"\U00016FE4\U000E0020-\U000E007F\U000E0100-\U000E01EF"
    };
}

pub(crate) use {
    blank_characters, blank_characters_astral, control_characters, format_characters,
    format_characters_astral, white_space,
};

static FORMAT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        "[",
        format_characters!(),
        format_characters_astral!(),
        "]"
    ))
    .ok()
});
static VISIBLE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        "[^",
        control_characters!(),
        format_characters!(),
        format_characters_astral!(),
        blank_characters!(),
        blank_characters_astral!(),
        "]"
    ))
    .ok()
});

/// Why a value was refused, for programs: the `code` of a problem's `errors` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A control character (C0, DEL or C1; NUL included) anywhere in the text.
    ControlCharacter,
    /// An invisible formatting character (bidi override, zero-width space, BOM, …).
    InvisibleCharacter,
    /// Blank, or fewer characters than the minimum.
    TooShort,
    /// More characters than the maximum (counting what was sent).
    TooLong,
    /// Does not match the published `pattern`.
    Pattern,
    /// Not an e-mail address as `Email::PATTERN` defines it.
    InvalidEmail,
    /// Not one of the published `enum` values.
    InvalidEnum,
    /// A number below the minimum.
    TooSmall,
    /// A number above the maximum.
    TooLarge,
    /// A query, path or header parameter that is not what it should be.
    InvalidParameter,
    /// A password on the list of the most common ones.
    CommonPassword,
    /// A value that must be sent and was not.
    Required,
    /// A form parameter sent more than once.
    Repeated,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ControlCharacter => "control_character",
            Code::InvisibleCharacter => "invisible_character",
            Code::TooShort => "too_short",
            Code::TooLong => "too_long",
            Code::Pattern => "pattern",
            Code::InvalidEmail => "invalid_email",
            Code::InvalidEnum => "invalid_enum",
            Code::TooSmall => "too_small",
            Code::TooLarge => "too_large",
            Code::InvalidParameter => "invalid_parameter",
            Code::CommonPassword => "common_password",
            Code::Required => "required",
            Code::Repeated => "repeated",
        }
    }
}

/// Why a value was refused: a stable `code` and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: Code,
    pub message: String,
}

impl Violation {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// True for Unicode control characters (C0, DEL and C1), NUL included.
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// Whether `text` holds an invisible formatting character ([`format_characters`]).
pub fn has_format_character(text: &str) -> bool {
    FORMAT.as_ref().is_none_or(|re| re.is_match(text))
}

/// Whether `text` has at least one character that shows something.
pub fn has_visible_character(text: &str) -> bool {
    VISIBLE.as_ref().is_some_and(|re| re.is_match(text))
}

/// `raw` as a whole number written the one canonical way: an optional `-`, then digits with no
/// leading zero (`0` itself aside). No spaces, no `+`, no `01`: `str::parse` takes `+1` and
/// numbers are also read after trimming elsewhere, and a parameter must mean one thing as sent.
pub fn whole_number(raw: &str) -> Option<i64> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && raw != "-0";
    canonical.then(|| raw.parse().ok()).flatten()
}

/// The bounds of one kind of text, in characters (Unicode code points, as JSON Schema counts
/// them; not bytes, and not JavaScript's UTF-16 units, in which an emoji counts two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// At least this many characters besides surrounding whitespace; 1 means "not blank": at
    /// least one character that shows something.
    pub min_chars: usize,
    /// At most this many characters, counting everything sent, as JSON Schema's `maxLength`
    /// does: what a client validates against the spec is what the server accepts.
    pub max_chars: Option<usize>,
}

impl TextRule {
    /// `raw` with surrounding whitespace trimmed, if it obeys the rule: no control or
    /// invisible formatting characters, at least `min_chars` after trimming (and something
    /// visible), at most `max_chars` as sent.
    pub fn check(self, raw: &str) -> Result<&str, Violation> {
        if raw.chars().any(is_control) {
            return Err(Violation::new(
                Code::ControlCharacter,
                "must not contain control characters",
            ));
        }
        if has_format_character(raw) {
            return Err(Violation::new(
                Code::InvisibleCharacter,
                "must not contain invisible formatting characters (such as U+200B zero-width \
                 space, U+202E right-to-left override or U+FEFF byte-order mark)",
            ));
        }
        let text = raw.trim();
        if self.min_chars > 0 && !has_visible_character(text) {
            return Err(Violation::new(
                Code::TooShort,
                "must not be blank (it needs at least one visible character)",
            ));
        }
        if text.chars().count() < self.min_chars {
            return Err(Violation::new(
                Code::TooShort,
                format!("must be at least {} characters", self.min_chars),
            ));
        }
        if let Some(max) = self.max_chars.filter(|max| raw.chars().count() > *max) {
            return Err(Violation::new(
                Code::TooLong,
                format!("must be at most {max} characters"),
            ));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: TextRule = TextRule {
        min_chars: 1,
        max_chars: Some(5),
    };

    #[test]
    fn text_is_trimmed_and_its_length_counts_what_was_sent() {
        assert_eq!(RULE.check(" ab "), Ok("ab"));
        assert_eq!(RULE.check("abcde"), Ok("abcde"));
        assert_eq!(RULE.check(" abcde").map_err(|v| v.code), Err(Code::TooLong));
        assert_eq!(RULE.check("é".repeat(5).as_str()).map(str::len), Ok(10));
        assert_eq!(
            RULE.check(" \u{3000} ").map_err(|v| v.code),
            Err(Code::TooShort)
        );
        assert_eq!(
            RULE.check("a\u{0}").map_err(|v| v.code),
            Err(Code::ControlCharacter)
        );
    }

    #[test]
    fn whole_numbers_are_read_only_in_their_canonical_form() {
        assert_eq!(whole_number("42"), Some(42));
        assert_eq!(whole_number("0"), Some(0));
        assert_eq!(whole_number("-7"), Some(-7));
        for odd in [
            "",
            "-",
            "+1",
            "01",
            "-0",
            " 1",
            "1\t",
            "1\u{85}",
            "\u{3000}1",
            "1e3",
            "٣",
        ] {
            assert_eq!(whole_number(odd), None, "{odd:?}");
        }
        assert_eq!(whole_number("99999999999999999999"), None);
    }

    #[test]
    fn text_that_shows_nothing_is_blank() {
        for blank in [
            "\u{3164}",
            "\u{2800}",
            "\u{0301}",
            "\u{200D}\u{200C}",
            " \u{115F} \u{FE0F} ",
            "\u{E0041}",
            "\u{17B4}\u{180B}",
            "\u{16FE4}",
            "\u{E0100}",
        ] {
            assert_eq!(
                RULE.check(blank).map_err(|v| v.code),
                Err(Code::TooShort),
                "{blank:?}"
            );
        }
        // Marks and joiners inside real text are fine.
        assert_eq!(RULE.check("Zoe\u{0301}"), Ok("Zoe\u{0301}"));
        assert_eq!(RULE.check("👩\u{200D}💻"), Ok("👩\u{200D}💻"));
        // England's flag: a black flag and tags.
        let england = "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
        let long = TextRule {
            min_chars: 1,
            max_chars: Some(100),
        };
        assert_eq!(long.check(england), Ok(england));
    }

    #[test]
    fn invisible_formatting_characters_are_refused_anywhere() {
        for sneaky in [
            "\u{FEFF}",
            "Ada\u{200B}",
            "\u{202E}ecalevoL",
            "A\u{2066}b",
            "a\u{2028}b",
            "a\u{206A}",
            "\u{1D173}x",
            "\u{E0001}",
            "\u{0600}1",
            "a\u{FFFF}",
        ] {
            assert_eq!(
                RULE.check(sneaky).map_err(|v| v.code),
                Err(Code::InvisibleCharacter),
                "{sneaky:?}"
            );
        }
    }
}
