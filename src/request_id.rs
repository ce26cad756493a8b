//! The id of the request being answered: taken from the caller's `X-Request-Id` when it is a
//! sane token (so ids can be followed across services), else a new random one. It is readable
//! anywhere below the middleware that sets it (problem bodies quote it, log lines carry it).

/// The header that carries the request id both ways.
pub const HEADER: &str = "x-request-id";

/// The longest caller-chosen id we keep.
const MAX_LEN: usize = 64;

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being answered; empty outside a request.
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_default()
}

/// Runs `future` with `id` as the current request id.
pub async fn scope<F: Future>(id: String, future: F) -> F::Output {
    REQUEST_ID.scope(id, future).await
}

/// The caller's id when it is 1–64 characters of `[A-Za-z0-9-_.:]`, else a new random one.
pub fn from_header(value: Option<&str>) -> String {
    value
        .filter(|id| {
            !id.is_empty()
                && id.len() <= MAX_LEN
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
        })
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

#[cfg(test)]
mod tests {
    use super::from_header;

    #[test]
    fn a_sane_caller_id_is_kept_and_anything_else_replaced() {
        assert_eq!(from_header(Some("abc-123_x.y:z")), "abc-123_x.y:z");
        for bad in ["", "has space", "a\u{0}b", &"x".repeat(65)] {
            let id = from_header(Some(bad));
            assert_eq!(id.len(), 32, "{bad:?} gets a new id");
        }
    }
}
