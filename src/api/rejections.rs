//! The errors poem and poem-openapi raise themselves (unknown route, wrong method, wrong content
//! type, a query or path parameter their extractors refused), as our problems, in our words.

use poem::http::StatusCode;
use poem_openapi::error::{ContentTypeError, ParseParamError, ParsePathError};

use crate::{
    domain::Code,
    error::{ApiError, FieldError},
};

/// Turns an error poem or poem-openapi raised into our problem. poem-openapi reports query and
/// header parameters alike; `is_header` tells which names are headers.
pub fn from_poem(err: &poem::Error, is_header: impl Fn(&str) -> bool) -> ApiError {
    if let Some(param) = err.downcast_ref::<ParseParamError>() {
        let place = if is_header(param.name) {
            "header"
        } else {
            "query"
        };
        return ApiError::Validation(vec![FieldError::new(
            format!("{place}.{}", param.name),
            Code::InvalidParameter.as_str(),
            in_our_words(&param.reason),
        )]);
    }
    if let Some(path) = err.downcast_ref::<ParsePathError>() {
        return ApiError::Validation(vec![FieldError::new(
            format!("path.{}", path.name),
            Code::InvalidParameter.as_str(),
            in_our_words(&path.reason),
        )]);
    }
    if let Some(content_type) = err.downcast_ref::<ContentTypeError>() {
        return ApiError::UnsupportedMediaType(format!(
            "{content_type}; send `Content-Type: application/json`"
        ));
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
/// accept in the API's words, so keep just that; for the built-in types, say it ourselves.
fn in_our_words(reason: &str) -> String {
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
    match type_name {
        "boolean" => "must be `true` or `false`".to_owned(),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::in_our_words;

    #[test]
    fn parameter_messages_lose_poems_type_names() {
        assert_eq!(
            in_our_words(
                "failed to parse \"PageLimit\": must be a whole number from 1 to 100 \
                 (occurred while parsing \"optional_PageLimit\")"
            ),
            "must be a whole number from 1 to 100"
        );
        assert_eq!(
            in_our_words(
                "failed to parse \"Grade\": must be one of A+, F (occurred while parsing \
                 \"[Grade]\") (occurred while parsing \"optional_[Grade]\")"
            ),
            "must be one of A+, F"
        );
        assert_eq!(
            in_our_words(
                "failed to parse \"boolean\": provided string was not `true` or `false` \
                 (occurred while parsing \"optional_boolean\")"
            ),
            "must be `true` or `false`"
        );
    }
}
