//! How a value breaks a rule: the stable codes clients switch on, and the text rule every
//! string from outside obeys. The wire layer (`api::validation`) and the domain types both
//! report through these, so a code means the same thing wherever it appears.

/// Why a value was refused, for programs: the `code` of a problem's `errors` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A control character (C0, DEL or C1; NUL included) anywhere in the text.
    ControlCharacter,
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
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ControlCharacter => "control_character",
            Code::TooShort => "too_short",
            Code::TooLong => "too_long",
            Code::Pattern => "pattern",
            Code::InvalidEmail => "invalid_email",
            Code::InvalidEnum => "invalid_enum",
            Code::TooSmall => "too_small",
            Code::TooLarge => "too_large",
            Code::InvalidParameter => "invalid_parameter",
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

/// The bounds of one kind of text, in characters (not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// At least this many characters besides surrounding whitespace (1: not blank).
    pub min_chars: usize,
    /// At most this many characters, counting everything sent, as JSON Schema's `maxLength`
    /// does: what a client validates against the spec is what the server accepts.
    pub max_chars: Option<usize>,
}

impl TextRule {
    /// `raw` with surrounding whitespace trimmed, if it obeys the rule: no control characters,
    /// at least `min_chars` after trimming, at most `max_chars` as sent.
    pub fn check(self, raw: &str) -> Result<&str, Violation> {
        if raw.chars().any(is_control) {
            return Err(Violation::new(
                Code::ControlCharacter,
                "must not contain control characters",
            ));
        }
        let text = raw.trim();
        if text.chars().count() < self.min_chars {
            let message = if self.min_chars == 1 {
                "must not be blank".to_owned()
            } else {
                format!("must be at least {} characters", self.min_chars)
            };
            return Err(Violation::new(Code::TooShort, message));
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
}
