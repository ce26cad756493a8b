//! The errors poem and poem-openapi raise themselves (unknown route, wrong method, wrong content
//! type, a query or path parameter their extractors refused), as our problems, in our words.

use poem::http::StatusCode;
use poem_openapi::error::{ContentTypeError, ParseParamError, ParsePathError};

use crate::{
    domain::Code,
    error::{ApiError, FieldError},
};

/// What the published spec says that poem's errors do not: which parameter names are headers
/// (poem-openapi reports query and header parameters alike), and the values of an enum schema
/// by its name (poem-openapi's enums say only "Expect a valid enumeration value.").
pub trait SpecFacts {
    fn is_header(&self, name: &str) -> bool;
    fn enum_values(&self, schema: &str) -> Option<&[String]>;
}

/// Turns an error poem or poem-openapi raised into our problem.
pub fn from_poem(err: &poem::Error, spec: &impl SpecFacts) -> ApiError {
    if let Some(param) = err.downcast_ref::<ParseParamError>() {
        let place = if spec.is_header(param.name) {
            "header"
        } else {
            "query"
        };
        return ApiError::Validation(vec![FieldError::new(
            format!("{place}.{}", param.name),
            Code::InvalidParameter.as_str(),
            in_our_words(&param.reason, spec),
        )]);
    }
    if let Some(path) = err.downcast_ref::<ParsePathError>() {
        return ApiError::Validation(vec![FieldError::new(
            format!("path.{}", path.name),
            Code::InvalidParameter.as_str(),
            in_our_words(&path.reason, spec),
        )]);
    }
    if let Some(content_type) = err.downcast_ref::<ContentTypeError>() {
        return ApiError::UnsupportedMediaType(match content_type {
            // Which type is right depends on the operation (signIn takes a form, an import
            // a file), and this error does not say which operation it was.
            ContentTypeError::ExpectContentType => "the request has no `Content-Type` header; \
                 send the type of its body, as the operation's request body in the spec lists \
                 it (`application/json`, `application/x-www-form-urlencoded` for signIn)"
                .to_owned(),
            other => format!("{other}; send `Content-Type: application/json`"),
        });
    }
    match err.status() {
        StatusCode::NOT_FOUND => ApiError::RouteNotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit_bytes: super::json::MAX_BODY_BYTES,
        },
        StatusCode::BAD_REQUEST => ApiError::MalformedBody(err.to_string()),
        // CORS: a browser request from an origin outside the allow-list.
        StatusCode::FORBIDDEN => ApiError::Forbidden(err.to_string()),
        _ => ApiError::Internal(err.to_string().into()),
    }
}

/// poem-openapi wraps a parser's message in its own type names: `failed to parse "PageLimit":
/// must be … (occurred while parsing "optional_PageLimit")`. Our parameter types say what they
/// accept in the API's words, so keep just that; for the built-in types and poem-openapi's
/// enums, say it ourselves.
fn in_our_words(reason: &str, spec: &impl SpecFacts) -> String {
    let mut text = reason;
    while let Some(start) = text.rfind(" (occurred while parsing \"")
        && text.ends_with("\")")
    {
        text = &text[..start];
    }
    let Some((type_name, message)) = text
        .strip_prefix("failed to parse \"")
        .and_then(|rest| rest.split_once("\": "))
    else {
        return text.to_owned();
    };
    match (type_name, spec.enum_values(type_name)) {
        ("boolean", _) => "must be `true` or `false`".to_owned(),
        (_, Some(values)) if message == POEM_ENUM_MESSAGE => {
            format!("must be one of {}", values.join(", "))
        }
        _ => message.to_owned(),
    }
}

/// What poem-openapi's derived `Enum` says of a value it does not know.
const POEM_ENUM_MESSAGE: &str = "Expect a valid enumeration value.";

#[cfg(test)]
mod tests {
    use super::{SpecFacts, in_our_words};

    struct Spec;
    impl SpecFacts for Spec {
        fn is_header(&self, _: &str) -> bool {
            false
        }
        fn enum_values(&self, schema: &str) -> Option<&[String]> {
            static ON_ERROR: std::sync::LazyLock<Vec<String>> =
                std::sync::LazyLock::new(|| vec!["reject".to_owned(), "skip".to_owned()]);
            (schema == "OnError").then_some(ON_ERROR.as_slice())
        }
    }

    #[test]
    fn parameter_messages_lose_poems_type_names() {
        assert_eq!(
            in_our_words(
                "failed to parse \"PageLimit\": must be a whole number from 1 to 100 \
                 (occurred while parsing \"optional_PageLimit\")",
                &Spec
            ),
            "must be a whole number from 1 to 100"
        );
        assert_eq!(
            in_our_words(
                "failed to parse \"Grade\": must be one of A+, F (occurred while parsing \
                 \"[Grade]\") (occurred while parsing \"optional_[Grade]\")",
                &Spec
            ),
            "must be one of A+, F"
        );
        assert_eq!(
            in_our_words(
                "failed to parse \"boolean\": provided string was not `true` or `false` \
                 (occurred while parsing \"optional_boolean\")",
                &Spec
            ),
            "must be `true` or `false`"
        );
        assert_eq!(
            in_our_words(
                "failed to parse \"OnError\": Expect a valid enumeration value. \
                 (occurred while parsing \"optional_OnError\")",
                &Spec
            ),
            "must be one of reject, skip"
        );
    }
}
