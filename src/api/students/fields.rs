//! How the domain's field types appear on the wire: their schemas are built from the domain's
//! own constants (`StudentName::RULE`, `Email::PATTERN`, `GRADES`), and they parse with the
//! domain's `parse()`, so the rule a client reads in the spec is the rule enforced.

use poem_openapi::registry::MetaSchema;
use serde_json::Value;

use crate::{
    api::types::{domain_string_type, inline_scalar_type, named_scalar_type},
    domain::{Email, GRADES, Grade, StudentName},
};

domain_string_type!(
    StudentName,
    inline_scalar_type!(
        "StudentName",
        MetaSchema {
            description: Some(
                "Full name: 1–100 characters as sent, counted as Unicode code points (as \
                 JSON Schema's `maxLength` counts; JavaScript's `length` and HTML's `maxlength` \
                 count UTF-16 units, in which an emoji is 2), stored with surrounding \
                 whitespace trimmed. It must show something: a name of only spaces, fillers, \
                 joiners or combining marks is blank. Control characters and invisible \
                 formatting characters (bidi overrides and isolates, zero-width space, \
                 byte-order mark) are refused. `pattern` must work in JavaScript, which cannot \
                 name characters beyond the Basic Multilingual Plane in a class; the few such \
                 invisible ones (tags alone, musical and hieroglyph format controls) are \
                 refused by the server all the same."
            ),
            min_length: Some(StudentName::RULE.min_chars),
            max_length: StudentName::RULE.max_chars,
            pattern: Some(StudentName::PATTERN.to_owned()),
            example: Some("Ada Lovelace".into()),
            ..MetaSchema::new("string")
        }
    )
);

// No `example` on the field types: Swagger UI pre-fills query parameters from it, and a
// pre-filled `email` filter silently narrows a newcomer's first list to one student. The
// request and response schemas carry whole examples instead.
domain_string_type!(
    Email,
    inline_scalar_type!(
        "Email",
        MetaSchema {
            description: Some(
                "E-mail address, stored lower-cased with surrounding whitespace trimmed; \
                 unique across students, ignoring case. ASCII only: a local part of 1-64 \
                 characters, `@`, and a host name. An internationalised domain is sent in its \
                 ASCII (punycode) form, `xn--bcher-kva.de` for `bücher.de`, so every address \
                 has one spelling and look-alike twins (decomposed letters, full-width dots, \
                 zero-width spaces) are refused rather than stored beside it."
            ),
            max_length: Email::RULE.max_chars,
            pattern: Some(Email::PATTERN.to_owned()),
            // Not `format: email`: validators read that as RFC 5322 (dot-atoms, no surrounding
            // space), which is not quite this rule; `pattern` is the whole rule, exactly.
            ..MetaSchema::new("string")
        }
    )
);

// `Grade` is a named component (`#/components/schemas/Grade`), so generated clients get an enum.
domain_string_type!(
    Grade,
    named_scalar_type!(
        "Grade",
        MetaSchema {
            description: Some("A letter grade, best first."),
            enum_items: GRADES.iter().map(|g| Value::from(g.as_str())).collect(),
            ..MetaSchema::new("string")
        }
    )
);

/// Identifiers for the `Grade` values in generated code (`A+` → `A_PLUS`), published as
/// `x-enum-varnames`: generators cannot make identifiers of `+`/`-`, and without this some
/// (openapi-python-client) collapse `A+`, `A` and `A-` into one `A` and give up.
pub fn grade_variant_names() -> Vec<String> {
    GRADES
        .iter()
        .map(|g| g.as_str().replace('+', "_PLUS").replace('-', "_MINUS"))
        .collect()
}
