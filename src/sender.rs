//! Sends one webhook: the HTTP client, the rules on where it may connect (SSRF), the Standard
//! Webhooks headers, and what came back. Used by the deliveries (`webhooks`) and by
//! `testWebhook`; imports only [`domain`](crate::domain).

use std::{
    net::{IpAddr, SocketAddr},
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use reqwest::{
    StatusCode,
    dns::{Addrs, Name, Resolve, Resolving},
};

use crate::domain::{WebhookSecret, WebhookUrl, signature_header};

/// How long a receiver has to answer (Svix's, and within the specification's 15–30 s).
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// How long a test event waits (`testWebhook`): a person is waiting for the answer.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(8);

/// How long a name may take to resolve, and a connection to open: a receiver that cannot be
/// reached in this time is a failed attempt, not a request (or a round) held up.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The most of an answer's body kept in the delivery log.
pub const RESPONSE_BYTES: usize = 1024;

/// Where webhooks may go. Without a host in `allowed_hosts`, a URL must be `https` and its host
/// must not be, or resolve to, an address that reaches inside: loopback, private, link-local
/// (cloud metadata services live there), shared, unspecified, multicast. A host in the list
/// may use `http` and any address (a receiver on the same network, a test on loopback).
#[derive(Debug, Clone, Default)]
pub struct Policy {
    allowed_hosts: Vec<String>,
}

/// Why a URL may not be called.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "must be https: http is allowed only to a host in WEBHOOK_ALLOWED_HOSTS (`{host}` is not)"
    )]
    NotHttps { host: String },
    #[error(
        "`{host}` is {address}, a {range} address, which webhooks may not reach unless \
         WEBHOOK_ALLOWED_HOSTS names the host"
    )]
    Internal {
        host: String,
        address: IpAddr,
        range: &'static str,
    },
}

impl Policy {
    /// `hosts`: names or addresses, compared with the URL's host without its port, ignoring
    /// case (`[::1]` for an IPv6 address).
    pub fn new(hosts: &[String]) -> Self {
        Self {
            allowed_hosts: hosts.iter().map(|host| host.to_ascii_lowercase()).collect(),
        }
    }

    fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.allowed_hosts.contains(&host)
    }

    /// The URL's scheme and, for an address written in it, the address. A name's addresses
    /// are checked by [`Self::check_resolved`] and again at every connection.
    pub fn check_url(&self, url: &WebhookUrl) -> Result<(), Refusal> {
        let parsed = url.url();
        let host = parsed.host_str().unwrap_or_default();
        if self.allows(host) {
            return Ok(());
        }
        if parsed.scheme() != "https" {
            return Err(Refusal::NotHttps {
                host: host.to_owned(),
            });
        }
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(address)) => Some(IpAddr::V4(address)),
            Some(url::Host::Ipv6(address)) => Some(IpAddr::V6(address)),
            _ => None,
        };
        match literal.and_then(|address| internal_range(address).map(|range| (address, range))) {
            Some((address, range)) => Err(Refusal::Internal {
                host: host.to_owned(),
                address,
                range,
            }),
            None => Ok(()),
        }
    }

    /// [`Self::check_url`], then the addresses the host resolves to now. A name that does not
    /// resolve is accepted (it may before the first change); deliveries fail until it does.
    pub async fn check_resolved(&self, url: &WebhookUrl) -> Result<(), Refusal> {
        self.check_url(url)?;
        let parsed = url.url();
        let host = parsed.host_str().unwrap_or_default();
        if self.allows(host) || !matches!(parsed.host(), Some(url::Host::Domain(_))) {
            return Ok(());
        }
        let port = parsed.port_or_known_default().unwrap_or(443);
        match tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host, port))).await {
            Ok(Ok(addresses)) => self.screen(host, addresses).map(drop),
            // Unresolvable now (or slow to say): deliveries check again at every connection.
            Ok(Err(_)) | Err(_) => Ok(()),
        }
    }

    /// The addresses a connection may use; refused when the host resolves only to internal
    /// ones. One internal address among public ones refuses the lot: a name that points at
    /// both is a rebinding attempt, not a receiver.
    fn screen(
        &self,
        host: &str,
        addresses: impl Iterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, Refusal> {
        let addresses: Vec<SocketAddr> = addresses.collect();
        if self.allows(host) {
            return Ok(addresses);
        }
        match addresses
            .iter()
            .find_map(|a| internal_range(a.ip()).map(|range| (a.ip(), range)))
        {
            Some((address, range)) => Err(Refusal::Internal {
                host: host.to_owned(),
                address,
                range,
            }),
            None => Ok(addresses),
        }
    }
}

/// The kind of internal address `address` is, if it is one.
pub fn internal_range(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_loopback() {
                Some("loopback")
            } else if v4.is_private() {
                Some("private")
            } else if v4.is_link_local() {
                Some("link-local (cloud metadata)")
            } else if a == 100 && (64..128).contains(&b) {
                Some("shared (carrier-grade NAT)")
            } else if v4.is_unspecified() || a == 0 {
                Some("unspecified")
            } else if v4.is_multicast() || v4.is_broadcast() || a >= 240 {
                Some("multicast or reserved")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return internal_range(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback")
            } else if v6.is_unspecified() {
                Some("unspecified")
            } else if first & 0xfe00 == 0xfc00 {
                Some("private (unique local)")
            } else if first & 0xffc0 == 0xfe80 {
                Some("link-local")
            } else if v6.is_multicast() {
                Some("multicast or reserved")
            } else {
                None
            }
        }
    }
}

/// Resolves names for the client and drops what the policy refuses: the check happens at
/// connection time, on the addresses actually used, so a name that resolved to a public
/// address when the endpoint was saved and to 127.0.0.1 now (DNS rebinding) is refused now.
#[derive(Debug)]
struct GuardedResolver {
    policy: Policy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found =
                tokio::time::timeout(LOOKUP_TIMEOUT, tokio::net::lookup_host((host.as_str(), 0)))
                    .await
                    .map_err(|_| {
                        std::io::Error::other(format!("`{host}` did not resolve within 3 s"))
                    })??;
            let allowed = policy.screen(&host, found)?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The answer's status; `None`: there was none (see `error`).
    pub status: Option<u16>,
    pub latency: Duration,
    /// The answer body's first [`RESPONSE_BYTES`], as text.
    pub response: String,
    /// Why there was no answer, or what was wrong with it.
    pub error: Option<String>,
    /// The answer's `Retry-After`, on a 429, 502, 503 or 504.
    pub retry_after: Option<Duration>,
}

impl Outcome {
    pub fn delivered(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }

    /// `410 Gone`: the receiver asks never to be sent anything again.
    pub fn gone(&self) -> bool {
        self.status == Some(410)
    }

    /// Nothing was sent: the policy refused the URL or the address it resolved to.
    fn not_sent(why: impl std::fmt::Display) -> Self {
        Self {
            status: None,
            latency: Duration::ZERO,
            response: String::new(),
            error: Some(format!("not sent: {why}")),
            retry_after: None,
        }
    }
}

/// One message to send: the same bytes, id and timestamp are signed and sent.
#[derive(Debug, Clone)]
pub struct Message {
    /// `webhook-id`: the change's feed position (receivers de-duplicate on it).
    pub id: String,
    pub body: Bytes,
}

/// Certificate authorities trusted for receivers' certificates besides the built-in (Mozilla)
/// roots (`WEBHOOK_CA_FILE`): receivers behind an internal CA.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    roots: Vec<reqwest::Certificate>,
}

/// Why `WEBHOOK_CA_FILE` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)")]
    NoCertificate { path: String },
    #[error("{path}: {source}")]
    Invalid {
        path: String,
        source: reqwest::Error,
    },
}

impl Trust {
    /// The built-in roots and every certificate in the PEM file at `path`.
    pub fn with_pem_file(path: &Path) -> Result<Self, TrustError> {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|source| TrustError::Read {
            path: shown.clone(),
            source,
        })?;
        let roots =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| TrustError::Invalid {
                path: shown.clone(),
                source,
            })?;
        if roots.is_empty() {
            return Err(TrustError::NoCertificate { path: shown });
        }
        Ok(Self { roots })
    }
}

/// The client every delivery of this instance uses (connections are kept alive per host).
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: Policy,
    trust: Trust,
}

impl Sender {
    pub fn new(policy: Policy, trust: Trust) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder();
        for root in &trust.roots {
            builder = builder.add_root_certificate(root.clone());
        }
        let client = builder
            .connect_timeout(CONNECT_TIMEOUT)
            // A redirect would take the delivery somewhere nobody checked.
            .redirect(reqwest::redirect::Policy::none())
            // The proxy would connect to the address we refused.
            .no_proxy()
            .user_agent(concat!("students-api-webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Self {
            client,
            policy,
            trust,
        })
    }

    /// A sender with the same rules and a client (connection pool) of its own: the
    /// deliveries' runtime keeps its connections apart from the requests' runtime.
    pub fn another(&self) -> Result<Self, reqwest::Error> {
        Self::new(self.policy.clone(), self.trust.clone())
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// POSTs `message` to `url`, signed with each of `secrets` (the current one first), with
    /// `timeout` for the whole attempt ([`TIMEOUT`] for deliveries).
    pub async fn send(
        &self,
        url: &str,
        secrets: &[&WebhookSecret],
        message: &Message,
        timeout: Duration,
    ) -> Outcome {
        // Stored URLs were checked when set; a row written in psql, or a setting changed
        // since, is checked here too.
        let checked = WebhookUrl::parse(url)
            .map_err(|violation| format!("the URL {}", violation.message))
            .and_then(|url| self.policy.check_url(&url).map_err(|r| r.to_string()));
        if let Err(why) = checked {
            return Outcome::not_sent(why);
        }
        let timestamp = chrono::Utc::now().timestamp();
        let signature = signature_header(secrets, &message.id, timestamp, &message.body);
        let started = Instant::now();
        let sent = self
            .client
            .post(url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(message.body.clone())
            .send()
            .await;
        let mut response = match sent {
            Ok(response) => response,
            Err(err) => {
                if let Some(refusal) = refusal_in(&err) {
                    return Outcome::not_sent(refusal);
                }
                return Outcome {
                    status: None,
                    latency: started.elapsed(),
                    response: String::new(),
                    error: Some(describe(&err, timeout)),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        let retry_after = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
        )
        .then(|| retry_after(response.headers()))
        .flatten();
        let mut body = Vec::new();
        let mut error = None;
        while body.len() < RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(err) => {
                    error = Some(describe(&err, timeout));
                    break;
                }
            }
        }
        body.truncate(RESPONSE_BYTES);
        let text = String::from_utf8_lossy(&body).replace('\0', "\u{FFFD}");
        let response_text: String = text.chars().take(RESPONSE_BYTES).collect();
        let outcome = Outcome {
            status: Some(status.as_u16()),
            latency: started.elapsed(),
            response: response_text,
            error,
            retry_after,
        };
        // A 2xx whose body broke off is still delivered: the receiver answered.
        if outcome.delivered() {
            Outcome {
                error: None,
                ..outcome
            }
        } else {
            outcome
        }
    }
}

/// Our resolver's refusal, somewhere in the error's chain.
fn refusal_in(err: &reqwest::Error) -> Option<Refusal> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(refusal) = current.downcast_ref::<Refusal>() {
            return Some(refusal.clone());
        }
        source = current.source();
    }
    None
}

/// A transport error in a line: what happened and its innermost cause.
fn describe(err: &reqwest::Error, timeout: Duration) -> String {
    let what = if err.is_connect() {
        "could not connect".to_owned()
    } else if err.is_timeout() {
        format!("no answer within {} s", timeout.as_secs())
    } else {
        "the request failed".to_owned()
    };
    let mut root: &dyn std::error::Error = err;
    while let Some(next) = root.source() {
        root = next;
    }
    let cause = root.to_string();
    let mut line = format!("{what}: {cause}");
    line.truncate(500);
    line
}

/// `Retry-After` in seconds or as an HTTP date.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let raw = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = raw.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
    (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
        .to_std()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> WebhookUrl {
        WebhookUrl::parse(raw).unwrap_or_else(|v| panic!("{raw}: {}", v.message))
    }

    #[test]
    fn internal_addresses_are_refused_unless_the_host_is_allowed() {
        let strict = Policy::new(&[]);
        for bad in [
            "http://example.com/",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://172.16.0.1/",
            "https://192.168.1.1/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.100.100.200/",
            "https://0.0.0.0/",
            "https://[::1]/",
            "https://[fd00:ec2::254]/",
            "https://[fe80::1]/",
            "https://[::ffff:127.0.0.1]/",
        ] {
            assert!(strict.check_url(&url(bad)).is_err(), "{bad}");
        }
        assert_eq!(strict.check_url(&url("https://example.com/hook")), Ok(()));
        assert_eq!(strict.check_url(&url("https://93.184.215.14/")), Ok(()));
        let local = Policy::new(&["127.0.0.1".into(), "Receiver.Internal".into()]);
        assert_eq!(local.check_url(&url("http://127.0.0.1:9000/")), Ok(()));
        assert_eq!(local.check_url(&url("http://receiver.internal/")), Ok(()));
        assert!(local.check_url(&url("https://10.0.0.1/")).is_err());
    }

    #[test]
    fn retry_after_is_read_in_seconds_or_as_a_date() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "120".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(120)));
        let soon = (chrono::Utc::now() + chrono::TimeDelta::seconds(90)).to_rfc2822();
        headers.insert(
            reqwest::header::RETRY_AFTER,
            soon.parse().unwrap_or_else(|_| unreachable!()),
        );
        assert!(retry_after(&headers).is_some_and(|wait| wait > Duration::from_secs(80)));
        headers.insert(
            reqwest::header::RETRY_AFTER,
            "soon".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[tokio::test]
    async fn a_name_that_resolves_inside_is_refused() {
        let strict = Policy::new(&[]);
        let refused = strict.check_resolved(&url("https://localhost:9/")).await;
        assert!(
            matches!(
                refused,
                Err(Refusal::Internal {
                    range: "loopback",
                    ..
                })
            ),
            "{refused:?}"
        );
    }
}
