//! Webhooks: where other services want changes sent, which changes, and how each delivery is
//! signed (Standard Webhooks 1.0, standardwebhooks.com) and retried.

use std::time::Duration;

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::{ChangeKind, Code, TextRule, Violation, is_control, rules::has_format_character};

/// A receiver's URL, as sent (the API stores the parsed, normalised form: `HTTPS://Example.COM`
/// becomes `https://example.com/`). Whether it may be *called* (https, or http to an allowed
/// host; no private addresses) is the sender's policy, which depends on settings: see
/// `sender::Policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    pub const MAX_CHARS: usize = 2000;
    /// Published, and the table's `webhook_endpoints_url_valid`: an `http`/`https` URL with a
    /// host, no credentials, no fragment, nothing invisible.
    pub const PATTERN: &'static str =
        r"^https?://[^/?#@\u0000-\u0020\u007F]+([/?][^#\u0000-\u0020\u007F]*)?$";

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(Violation::new(
                Code::TooLong,
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if raw.chars().any(|c| is_control(c) || c == ' ') || has_format_character(raw) {
            return Err(Violation::new(
                Code::Pattern,
                "must not contain spaces, control characters or invisible formatting characters",
            ));
        }
        let url = url::Url::parse(raw).map_err(|err| {
            Violation::new(
                Code::Pattern,
                format!("must be an absolute http or https URL ({err})"),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Violation::new(
                Code::Pattern,
                "must be an https URL (or http to a host in WEBHOOK_ALLOWED_HOSTS)",
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(Violation::new(Code::Pattern, "must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Violation::new(
                Code::Pattern,
                "must not carry a username or password: receivers check the signature instead",
            ));
        }
        if url.fragment().is_some() {
            return Err(Violation::new(
                Code::Pattern,
                "must not have a #fragment (it is never sent)",
            ));
        }
        if url.as_str().chars().count() > Self::MAX_CHARS {
            return Err(Violation::new(
                Code::TooLong,
                format!(
                    "must be at most {} characters once normalised",
                    Self::MAX_CHARS
                ),
            ));
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

/// What an endpoint is for (`billing sync`), as people read it in a list; may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDescription(String);

impl WebhookDescription {
    pub const RULE: TextRule = TextRule {
        min_chars: 0,
        max_chars: Some(500),
    };

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        Self::RULE.check(raw).map(|text| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The kinds of event an endpoint can subscribe to: one per kind of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    StudentCreated,
    StudentUpdated,
    StudentDeleted,
}

/// Every event type, in the order the docs list them: the table's CHECK
/// `webhook_endpoints_events_known`.
pub const EVENT_TYPES: [EventType; 3] = [
    EventType::StudentCreated,
    EventType::StudentUpdated,
    EventType::StudentDeleted,
];

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::StudentCreated => "student.created",
            EventType::StudentUpdated => "student.updated",
            EventType::StudentDeleted => "student.deleted",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Violation> {
        EVENT_TYPES
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| {
                Violation::new(
                    Code::InvalidEnum,
                    "must be one of student.created, student.updated, student.deleted",
                )
            })
    }

    pub fn of(kind: ChangeKind) -> Self {
        match kind {
            ChangeKind::Created => EventType::StudentCreated,
            ChangeKind::Updated => EventType::StudentUpdated,
            ChangeKind::Deleted => EventType::StudentDeleted,
        }
    }
}

/// Why an endpoint is not being sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisabledReason {
    /// Someone disabled it (`enabled: false`).
    Paused,
    /// It answered `410 Gone`.
    Gone,
    /// Every attempt failed for [`FAILING_DISABLES_AFTER`].
    Failing,
}

impl DisabledReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DisabledReason::Paused => "paused",
            DisabledReason::Gone => "gone",
            DisabledReason::Failing => "failing",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Paused, Self::Gone, Self::Failing]
            .into_iter()
            .find(|reason| reason.as_str() == raw)
    }
}

/// An endpoint whose every attempt has failed for this long is disabled (Svix's rule).
pub const FAILING_DISABLES_AFTER: Duration = Duration::from_secs(5 * 86_400);

/// How long a rotated-out secret still signs, beside the new one.
pub const OLD_SECRET_LASTS: Duration = Duration::from_secs(86_400);

/// Waits between attempts, after the first (which is immediate): Standard Webhooks'
/// recommended schedule, about 3 days in all. `WEBHOOK_RETRY_DELAYS` replaces it (tests use
/// seconds).
pub const RETRY_DELAYS: [Duration; 9] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(14 * 3600),
    Duration::from_secs(20 * 3600),
    Duration::from_secs(24 * 3600),
];

/// The longest `Retry-After` honoured: a receiver cannot park an event for longer than the
/// schedule's longest wait.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// When to try again after `attempts` failed attempts (`None`: give up, the event has failed).
/// `jitter` in [0, 1) spreads the wait over ±10%, so events that failed together (a receiver
/// was down) are not all retried in the same second. A `Retry-After` the receiver sent is
/// honoured: never sooner than it asks.
pub fn retry_delay(
    schedule: &[Duration],
    attempts: u32,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    let base = *schedule.get(index)?;
    let spread = base.mul_f64(0.9 + 0.2 * jitter.clamp(0.0, 1.0));
    Some(spread.max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER)))
}

/// `whsec_` and the base64 of the key: Standard Webhooks' secret format, which the
/// `standardwebhooks` libraries take as it is.
pub const SECRET_PREFIX: &str = "whsec_";

/// An endpoint's signing secret. Never `Debug`-printed.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl WebhookSecret {
    /// Random bytes in a new key (the specification asks for 24 to 64).
    const KEY_BYTES: usize = 32;
    /// Published: `whsec_` and 32 bytes in base64.
    pub const PATTERN: &'static str = "^whsec_[A-Za-z0-9+/]{43}=$";

    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = [0u8; Self::KEY_BYTES];
        getrandom::fill(&mut key)?;
        Ok(Self(format!("{SECRET_PREFIX}{}", STANDARD.encode(key))))
    }

    /// A stored secret (the table's CHECK holds its shape); `None` if its key is not base64.
    pub fn from_stored(stored: String) -> Option<Self> {
        let key = stored.strip_prefix(SECRET_PREFIX)?;
        STANDARD.decode(key).ok().filter(|key| !key.is_empty())?;
        Some(Self(stored))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    fn key(&self) -> Vec<u8> {
        self.0
            .strip_prefix(SECRET_PREFIX)
            .and_then(|key| STANDARD.decode(key).ok())
            .unwrap_or_default()
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`: one entry of the
    /// `webhook-signature` header.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let signature = Hmac::<Sha256>::new_from_slice(&self.key())
            .map(|mut mac| {
                mac.update(id.as_bytes());
                mac.update(b".");
                mac.update(timestamp.to_string().as_bytes());
                mac.update(b".");
                mac.update(body);
                mac.finalize().into_bytes().to_vec()
            })
            .unwrap_or_default();
        format!("v1,{}", STANDARD.encode(signature))
    }
}

/// The `webhook-signature` header: the current secret's signature, then the one being rotated
/// out while it lasts, space-separated (receivers accept a delivery when any one matches).
pub fn signature_header(
    secrets: &[&WebhookSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_http_or_https_with_a_host_and_no_credentials() {
        assert_eq!(
            WebhookUrl::parse("HTTPS://Example.COM").map(|url| url.as_str().to_owned()),
            Ok("https://example.com/".to_owned())
        );
        for bad in [
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "https://example.com/#top",
            "example.com/hook",
            "https://exa mple.com/",
            "https://example.com/\u{200B}",
            "https://example.com/\0",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
        let pattern = regex::Regex::new(WebhookUrl::PATTERN).ok();
        for good in ["https://example.com/", "http://127.0.0.1:8080/hooks?x=1"] {
            assert!(WebhookUrl::parse(good).is_ok());
            assert!(pattern.as_ref().is_some_and(|p| p.is_match(good)), "{good}");
        }
    }

    #[test]
    fn the_schedule_spreads_waits_honours_retry_after_and_ends() {
        assert_eq!(
            retry_delay(&RETRY_DELAYS, 1, 0.5, None),
            Some(Duration::from_secs(5))
        );
        let low = retry_delay(&RETRY_DELAYS, 2, 0.0, None);
        let high = retry_delay(&RETRY_DELAYS, 2, 0.999, None);
        assert_eq!(low, Some(Duration::from_secs(270)));
        assert!(high > Some(Duration::from_secs(329)) && high <= Some(Duration::from_secs(330)));
        assert_eq!(
            retry_delay(&RETRY_DELAYS, 1, 0.5, Some(Duration::from_secs(60))),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_delay(
                &RETRY_DELAYS,
                1,
                0.5,
                Some(Duration::from_secs(10 * 86_400))
            ),
            Some(MAX_RETRY_AFTER)
        );
        // Ten attempts in all: the first, then one after each of the nine waits.
        assert!(retry_delay(&RETRY_DELAYS, 9, 0.5, None).is_some());
        assert_eq!(retry_delay(&RETRY_DELAYS, 10, 0.5, None), None);
        let total: Duration = RETRY_DELAYS.iter().sum();
        assert!(total > Duration::from_secs(3 * 86_400) && total < Duration::from_secs(4 * 86_400));
    }

    #[test]
    fn signatures_follow_the_specifications_example() {
        // Standard Webhooks' own test vector (spec/standard-webhooks.md, "Signature scheme").
        let secret = WebhookSecret::from_stored("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into());
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.map(|s| s.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".to_owned())
        );
    }

    #[test]
    fn new_secrets_have_the_published_shape() {
        let pattern = regex::Regex::new(WebhookSecret::PATTERN).ok();
        let secret = WebhookSecret::generate().ok();
        assert!(
            pattern
                .zip(secret)
                .is_some_and(|(p, s)| p.is_match(s.expose()))
        );
    }
}
