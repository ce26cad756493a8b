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
use crate::error::{ApiError, FieldError};

/// The largest request body we read, in bytes. A student is well under 1 KiB; 64 KiB leaves room
/// for generous names without letting one request hold megabytes of memory.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

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

/// How long a request body may take to arrive.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A request body type. Every body can take the full path: parsed, checked against its
/// schema (every bad field at once), then built. A body on the hot path can also be read in one
/// pass from the bytes when it is valid ([`Body::read_valid`]); anything that one pass does not
/// accept takes the full path, which says what is wrong.
pub trait Body: ParseFromJSON + 'static {
    /// `bytes` as `Self` when they are a valid body, judged field by field as the full path
    /// judges them ([`valid_field`]); `None` to take the full path (the default).
    fn read_valid(bytes: &[u8]) -> Option<Self> {
        let _ = bytes;
        None
    }
}

/// `raw` as the field type `T`, exactly as the full path would build it: its published schema's
/// check, then its parse. `None` when either refuses.
pub fn valid_field<T: Type + ParseFromJSON + 'static>(raw: &str) -> Option<T> {
    let value = serde_json::Value::String(raw.to_owned());
    if !validation::field_passes::<T>(&value) {
        return None;
    }
    T::parse_from_json(Some(value)).ok()
}

impl<T: Body> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = read_bounded(request, body).await?;
        if bytes.is_empty() {
            return Err(ApiError::MalformedBody("the body is empty".to_owned()).into());
        }
        if let Some(body) = T::read_valid(&bytes) {
            return Ok(Self(body));
        }
        let value = parse(&bytes).map_err(ApiError::MalformedBody)?;
        validated(value)
            .map(Self)
            .map_err(|errors| ApiError::Validation(errors).into())
    }
}

/// A request body of at most [`MAX_BODY_BYTES`], uncompressed, arriving within
/// [`BODY_TIMEOUT`]: how every body but an import's is read.
pub async fn read_bounded(
    request: &Request,
    body: &mut RequestBody,
) -> Result<bytes::Bytes, ApiError> {
    uncompressed(request)?;
    // A declared length over the limit is refused before a byte is read: waiting for a
    // body we would refuse anyway only holds the connection.
    if declared_length(request).is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(ApiError::PayloadTooLarge {
            limit_bytes: MAX_BODY_BYTES,
        });
    }
    // The byte limit counts what is read (so chunked bodies are bounded too); the time
    // limit stops a client trickling a body in to hold the connection.
    let read = body
        .take()
        .map_err(|err| ApiError::MalformedBody(err.to_string()))?
        .into_bytes_limit(MAX_BODY_BYTES);
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .map_err(|_| ApiError::RequestTimeout)?
        .map_err(|err| match err {
            ReadBodyError::PayloadTooLarge => ApiError::PayloadTooLarge {
                limit_bytes: MAX_BODY_BYTES,
            },
            other => ApiError::MalformedBody(other.to_string()),
        })
}

/// The body's length as `Content-Length` declares it, if it does.
pub fn declared_length(request: &Request) -> Option<u64> {
    request
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok())
}

/// Refuses a compressed body: a media type we do not read (415), not a malformed one (400).
pub fn uncompressed(request: &Request) -> Result<(), ApiError> {
    match request
        .headers()
        .get(poem::http::header::CONTENT_ENCODING)
        .filter(|encoding| !encoding.as_bytes().eq_ignore_ascii_case(b"identity"))
    {
        Some(encoding) => Err(ApiError::UnsupportedMediaType(format!(
            "the content encoding `{}` is not supported; send the body uncompressed",
            String::from_utf8_lossy(encoding.as_bytes())
        ))),
        None => Ok(()),
    }
}

/// A JSON document with no repeated keys (see [`UniqueKeys`]), or why it is not one.
pub fn parse(bytes: &[u8]) -> Result<serde_json::Value, String> {
    serde_json::from_slice::<UniqueKeys>(bytes)
        .map(|unique| unique.0)
        .map_err(|err| err.to_string())
}

/// `value` as a `T`, or every way it breaks `T`'s published schema: the one check of every
/// request body, and of every row of an import.
pub fn validated<T: ParseFromJSON + 'static>(
    value: serde_json::Value,
) -> Result<T, Vec<FieldError>> {
    let errors = validation::check::<T>(&value);
    if !errors.is_empty() {
        return Err(errors);
    }
    // The schema check passed, so this only fails if a type's parser is stricter than the
    // schema it publishes: still the client's input, so still a 422, never a 500.
    T::parse_from_json(Some(value))
        .map_err(|err| vec![FieldError::new("", "invalid", err.into_message())])
}

/// Responses are written straight from the structs by serde: poem-openapi's `ToJSON` first
/// builds a whole `serde_json::Value` tree (an allocation per field) and then writes that. Both
/// must produce the same JSON; `tests` below holds them to it for every response type.
impl<T: Type + serde::Serialize + Send> IntoResponse for JsonBody<T> {
    fn into_response(self) -> Response {
        // Serializing our own types cannot fail (no maps with non-string keys, no I/O).
        let body = serde_json::to_vec(&self.0).unwrap_or_default();
        Response::builder()
            .content_type(<Self as Payload>::CONTENT_TYPE)
            .body(body)
    }
}

impl<T: ToJSON + serde::Serialize> ApiResponse for JsonBody<T> {
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

impl_apirequest_for_payload!(JsonBody<T>, T: Body);

/// A JSON value whose objects have no repeated keys. serde_json keeps the last of
/// `{"name": "Ada", "name": "Eve"}`; other parsers keep the first, and that disagreement is
/// how a body passes one check and means something else to the next reader. We refuse it (400).
struct UniqueKeys(serde_json::Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UniqueKeysVisitor)
            .map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom(format_args!(
                    "duplicate key `{key}`"
                )));
            }
            let value = map.next_value::<UniqueKeys>()?.0;
            object.insert(key, value);
        }
        Ok(serde_json::Value::Object(object))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<UniqueKeys>()? {
            items.push(item.0);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::types::{Example, ToJSON};
    use serde::Serialize;

    use crate::{
        api::{
            contract::example_problem,
            students::{
                cursor::Cursor,
                schemas::{StudentPage, StudentRead},
            },
            types::Nullable,
        },
        domain::{Email, StudentName},
    };

    /// What a client receives must not depend on which of the two serializers wrote it: the
    /// spec (and every SDK) is generated from the `ToJSON` side, responses use the serde side.
    fn assert_same_json<T: ToJSON + Serialize>(value: &T) {
        let from_schema = value.to_json().unwrap_or_default();
        let written = serde_json::to_string(value).unwrap_or_default();
        assert_eq!(
            written,
            from_schema.to_string(),
            "serde and ToJSON disagree"
        );
    }

    fn students() -> Vec<StudentRead> {
        let mut unusual = StudentRead::example();
        unusual.name = StudentName::parse("Zoë \"Z\" O'Brien, Jr. \\ 李").unwrap_or_else(|_| {
            unreachable!("a valid literal");
        });
        unusual.email = Nullable(Email::parse("zoe+tag@example.com").ok());
        let mut without_email = StudentRead::example();
        without_email.email = Nullable(None);
        without_email.id = i64::MAX;
        vec![StudentRead::example(), unusual, without_email]
    }

    #[test]
    fn students_are_written_as_their_schema_says() {
        for student in students() {
            assert_same_json(&student);
        }
    }

    #[test]
    fn pages_are_written_as_their_schema_says() {
        for next_cursor in [None, Some(Cursor::example())] {
            for total in [None, Some(0), Some(12_345)] {
                assert_same_json(&StudentPage {
                    items: students(),
                    next_cursor: Nullable(next_cursor.clone()),
                    total,
                    estimated_total: total,
                });
            }
        }
        assert_same_json(&StudentPage {
            items: vec![],
            next_cursor: Nullable(None),
            total: None,
            estimated_total: None,
        });
    }

    #[test]
    fn problems_are_written_as_their_schema_says() {
        for status in [400, 404, 409, 422, 503] {
            let problem = example_problem(status).unwrap_or_else(|| unreachable!("{status}"));
            assert_same_json(&problem);
        }
    }
}
