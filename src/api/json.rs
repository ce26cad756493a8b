//! `JsonBody<T>`: the `application/json` payload of every operation, in both directions.
//!
//! Requests are read with a byte limit, parsed, checked against `T`'s published schema by
//! [`validation::check`](super::validation::check) (every bad field at once), and only then built
//! into `T`. Compared with poem-openapi's `Json<T>` this answers 400/413/422 problem+json instead
//! of a first-error 400, and its media type is plain `application/json` (no `; charset=utf-8`
//! key in the spec, which trips some client generators).

use poem::{IntoResponse, Request, RequestBody, Response, error::ReadBodyError};
use poem_openapi::{
    ApiResponse, impl_apirequest_for_payload,
    payload::{ParsePayload, Payload},
    registry::{MetaMediaType, MetaResponse, MetaResponses, MetaSchemaRef, Registry},
    types::{ParseFromJSON, ToJSON, Type},
};

use super::validation;
use crate::error::{ApiError, FieldError, MAX_BODY_BYTES};

/// A JSON body: validated against the spec on the way in, serialized on the way out.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        content_type.parse::<mime::Mime>().is_ok_and(|mime| {
            mime.type_() == mime::APPLICATION
                && (mime.subtype() == mime::JSON || mime.suffix() == Some(mime::JSON))
        })
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: ParseFromJSON + 'static> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(_request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = body
            .take()?
            .into_bytes_limit(MAX_BODY_BYTES)
            .await
            .map_err(|err| match err {
                ReadBodyError::PayloadTooLarge => ApiError::PayloadTooLarge,
                other => ApiError::MalformedBody(other.to_string()),
            })?;
        if bytes.is_empty() {
            return Err(ApiError::MalformedBody("the body is empty".to_owned()).into());
        }
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|err| ApiError::MalformedBody(err.to_string()))?;
        let errors = validation::check::<T>(&value);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors).into());
        }
        // The schema check passed, so this only fails if a type's parser is stricter than the
        // schema it publishes: still the client's input, so still a 422, never a 500.
        let value = T::parse_from_json(Some(value)).map_err(|err| {
            ApiError::Validation(vec![FieldError::new("", "invalid", err.into_message())])
        })?;
        Ok(Self(value))
    }
}

impl<T: ToJSON> IntoResponse for JsonBody<T> {
    fn into_response(self) -> Response {
        let body = self.0.to_json().unwrap_or_default().to_string();
        Response::builder()
            .content_type(<Self as Payload>::CONTENT_TYPE)
            .body(body)
    }
}

impl<T: ToJSON> ApiResponse for JsonBody<T> {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: <Self as Payload>::CONTENT_TYPE,
                    schema: T::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl_apirequest_for_payload!(JsonBody<T>, T: ParseFromJSON + 'static);
