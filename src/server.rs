//! Serves HTTP/1.1 and HTTP/2 connections under limits poem's `Server` leaves open.
//!
//! poem's `Server` gives hyper no timer, so HTTP/2 connections had no keep-alive pings and no
//! idle limit, it advertises no stream limit, and it retries a failing `accept` at once (with
//! file descriptors exhausted, that loop spun a core while every client timed out). This loop
//! serves the same poem endpoint with:
//!
//! - a **connection cap** ([`ConnectionLimits::max_connections`], kept below the process's
//!   file-descriptor limit): at the cap the loop stops accepting, so new connections wait in
//!   the kernel's backlog until one closes; the process never spins;
//! - a pause after a failed `accept` instead of an immediate retry;
//! - the **head deadline** of [`crate::slow_clients`] (HTTP/1 heads, the HTTP/2 preface);
//! - an **idle limit** for both protocols: a connection with no request in flight for
//!   [`ConnectionLimits::idle`] is shut down gracefully (HTTP/2: GOAWAY);
//! - HTTP/2 keep-alive pings (a peer that stops answering is dropped), at most
//!   [`H2_MAX_CONCURRENT_STREAMS`] streams per connection and a bounded header list.

use std::{
    convert::Infallible,
    io,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use hyper::{body::Incoming, service::service_fn};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use poem::{
    Addr, Endpoint, EndpointExt, IntoResponse,
    endpoint::BoxEndpoint,
    http::uri::Scheme,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    time::Instant,
};

use crate::{
    error::ApiError,
    load::Load,
    request_id,
    slow_clients::{HEAD_TIMEOUT, HeadDeadline, WRITE_STALL_LIMIT},
};

/// How long a connection may sit with no request in flight (or before its first one).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Streams one HTTP/2 connection may have open at once (advertised in its SETTINGS; a client
/// that opens more gets them refused). One client cannot take the whole server this way.
pub const H2_MAX_CONCURRENT_STREAMS: u32 = 100;

/// Largest request header list, in bytes as HTTP/2 counts it (names + values + 32 per field).
/// HTTP/1 heads are bounded by hyper's buffer (about 400 KiB) and 100 fields.
pub const MAX_HEADER_LIST_BYTES: u32 = 16 * 1024;

/// After a graceful shutdown starts (idle limit, SIGTERM), how long what is left to send may
/// take: a client that stops reading (or an HTTP/2 peer that keeps its window shut) must not
/// hold the connection, and its slot under the cap, forever.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// HTTP/2 keep-alive: a ping after this long without frames; no answer within
/// [`H2_PING_TIMEOUT`] closes the connection.
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// After `accept` fails (out of file descriptors, most often), wait this long before the
/// next try. The failure repeats at once until something closes, so retrying at once spins.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// File descriptors kept free of client connections besides the database pool's: the health
/// check's and the token listener's connections, log files, the embedded PostgreSQL's pipes,
/// the listener itself.
const RESERVED_FDS: usize = 64;

/// The limits every connection lives under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a request head's first byte to its blank line (HTTP/2: the preface and settings).
    pub head: Duration,
    /// With no request in flight, from the last response (or the connection's start).
    pub idle: Duration,
    /// Open connections at most; more wait to be accepted.
    pub max_connections: usize,
    /// How long a write may wait for the client to read.
    pub write_stall: Duration,
}

impl ConnectionLimits {
    /// The default time limits with at most `max_connections` connections, lowered to what
    /// the file-descriptor limit allows beside a pool of `pool_size` (see [`fd_budget`]).
    pub fn new(max_connections: usize, pool_size: usize) -> Self {
        let budget = fd_budget().saturating_sub(pool_size);
        if budget < max_connections {
            tracing::warn!(
                configured = max_connections,
                allowed = budget,
                "MAX_CONNECTIONS is above what the open-file limit allows; using the lower figure \
                 (raise `ulimit -n` to allow more)"
            );
        }
        Self {
            head: HEAD_TIMEOUT,
            idle: IDLE_TIMEOUT,
            max_connections: max_connections.min(budget).max(1),
            write_stall: WRITE_STALL_LIMIT,
        }
    }
}

/// Connections the process can hold: its open-file limit (raised to the hard limit first, as
/// most servers do) less [`RESERVED_FDS`]. Unknown limits leave the cap as configured.
pub fn fd_budget() -> usize {
    match raise_open_file_limit() {
        Some(limit) => limit.saturating_sub(RESERVED_FDS),
        None => usize::MAX,
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard one and returns the soft limit in force.
#[allow(unsafe_code)] // two libc calls on a local struct; no safe wrapper is in our dependencies
fn raise_open_file_limit() -> Option<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, exclusively borrowed rlimit for the duration of each call.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return None;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                limit = raised;
            }
        }
    }
    usize::try_from(limit.rlim_cur).ok()
}

/// Serves `endpoint` on `listener` until `stop` resolves, then lets open connections finish
/// their requests for up to `grace` (HTTP/2 connections get a GOAWAY).
pub async fn serve<E>(
    listener: TcpListener,
    endpoint: E,
    limits: ConnectionLimits,
    load: Load,
    stop: impl Future<Output = ()>,
    grace: Duration,
) -> io::Result<()>
where
    E: Endpoint<Output = poem::Response> + 'static,
{
    let endpoint = Arc::new(endpoint.boxed());
    let local = LocalAddr(Addr::SocketAddr(listener.local_addr()?));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stopping, stopped) = watch::channel(false);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // The head deadline is ours (it starts at a head's first byte, not while idle).
        .header_read_timeout(None);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT)
        .max_concurrent_streams(H2_MAX_CONCURRENT_STREAMS)
        .max_header_list_size(MAX_HEADER_LIST_BYTES)
        .max_pending_accept_reset_streams(20);
    let builder = Arc::new(builder);

    tokio::pin!(stop);
    // Under attack the cap is hit constantly: say so at most every ten seconds.
    let mut warned_at: Option<Instant> = None;
    loop {
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if warned_at.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "at the connection limit: new connections wait until one closes"
                    );
                    warned_at = Some(Instant::now());
                }
                tokio::select! {
                    () = &mut stop => break,
                    slot = Arc::clone(&slots).acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                }
            }
        };
        let accepted = tokio::select! {
            () = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                tracing::warn!(error = %err, "accept failed; pausing before the next one");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let connection = Connection {
            endpoint: Arc::clone(&endpoint),
            builder: Arc::clone(&builder),
            local: local.clone(),
            remote,
            limits,
            load: load.clone(),
            stopped: stopped.clone(),
            _slot: slot,
        };
        tokio::spawn(connection.serve(stream));
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    let _ = stopping.send(true);
    // Every connection holds a slot until it ends; all slots back means all connections done.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the grace period; closing them");
    }
    Ok(())
}

/// One accepted connection and what it needs.
struct Connection {
    endpoint: Arc<BoxEndpoint<'static, poem::Response>>,
    builder: Arc<auto::Builder<TokioExecutor>>,
    local: LocalAddr,
    remote: SocketAddr,
    limits: ConnectionLimits,
    load: Load,
    stopped: watch::Receiver<bool>,
    /// Returned to the cap when the connection ends.
    _slot: OwnedSemaphorePermit,
}

impl Connection {
    async fn serve(mut self, stream: TcpStream) {
        let activity = Arc::new(Activity::new());
        let service = {
            let activity = Arc::clone(&activity);
            let endpoint = Arc::clone(&self.endpoint);
            let local = self.local.clone();
            let remote = RemoteAddr(Addr::SocketAddr(self.remote));
            let load = self.load.clone();
            service_fn(move |request: hyper::Request<Incoming>| {
                let in_flight = InFlight::begin(&activity);
                let endpoint = Arc::clone(&endpoint);
                let request =
                    poem::Request::from((request, local.clone(), remote.clone(), Scheme::HTTP));
                let handling = load.begin();
                async move {
                    let response = endpoint.get_response(request).await.into_response();
                    drop(handling);
                    // In flight until its body is sent (or dropped), not only until the
                    // handler returns: an export streams for long after.
                    let response = hyper::Response::from(response).map(|body| Counted {
                        body,
                        _in_flight: in_flight,
                    });
                    Ok::<_, Infallible>(response)
                }
            })
        };
        let io = TokioIo::new(HyperErrorsAsProblems::new(
            HeadDeadline::new(stream, self.limits.head).with_write_limit(self.limits.write_stall),
        ));
        let connection = self.builder.serve_connection_with_upgrades(io, service);
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = self.stopped.wait_for(|stopped| *stopped) => {}
            () = activity.idle_for(self.limits.idle) => {}
        }
        // Requests in flight finish; an idle HTTP/1 connection closes, HTTP/2 gets a GOAWAY.
        connection.as_mut().graceful_shutdown();
        if tokio::time::timeout(DRAIN_LIMIT, connection).await.is_err() {
            tracing::info!("closing a connection that did not finish within the drain limit");
        }
    }
}

/// Requests in flight on one connection, and when the last one ended.
#[derive(Debug)]
struct Activity {
    in_flight: AtomicUsize,
    last_ended: Mutex<Instant>,
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            last_ended: Mutex::new(Instant::now()),
        }
    }

    fn last_ended(&self) -> Instant {
        match self.last_ended.lock() {
            Ok(at) => *at,
            Err(poisoned) => *poisoned.into_inner(),
        }
    }

    /// Resolves once no request has been in flight for `limit`.
    async fn idle_for(&self, limit: Duration) {
        loop {
            let wake_at = if self.in_flight.load(Ordering::Acquire) == 0 {
                let idle_until = self.last_ended() + limit;
                if Instant::now() >= idle_until {
                    return;
                }
                idle_until
            } else {
                Instant::now() + limit
            };
            tokio::time::sleep_until(wake_at).await;
        }
    }
}

/// A response body that keeps its request counted as in flight until it is dropped.
struct Counted<B> {
    body: B,
    _in_flight: InFlight,
}

impl<B: http_body::Body + Unpin> http_body::Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Counts a request as in flight until dropped (also when its future is cancelled).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn begin(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut at) = self.0.last_ended.lock() {
            *at = Instant::now();
        }
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answers in problem+json where hyper answers a request it cannot parse (a malformed head:
/// 400, a target too long: 414, too many or too large headers: 431). hyper writes those itself,
/// before any of our code runs, as a bare status with `content-length: 0` and no request id.
/// They are recognised on the way out by that exact shape (every response of ours carries
/// `x-request-id` and a body), and the same status goes out as a problem instead, with a fresh
/// request id that the log line repeats. hyper closes the connection after them either way.
struct HyperErrorsAsProblems<Io> {
    io: Io,
    /// A replacement being written, and how much of it is out; hyper is told its own bytes
    /// were written once all of it is.
    replacing: Option<(Vec<u8>, usize)>,
}

impl<Io> HyperErrorsAsProblems<Io> {
    fn new(io: Io) -> Self {
        Self {
            io,
            replacing: None,
        }
    }
}

/// The status of `bytes` if they are one of hyper's own error answers.
fn hypers_own_error(bytes: &[u8]) -> Option<poem::http::StatusCode> {
    // Every response passes here: the common case must cost one comparison. hyper's error
    // answers are a short head alone (about 100 bytes), never over 256.
    if bytes.len() > 256 || !bytes.starts_with(b"HTTP/1.1 4") {
        return None;
    }
    let rest = bytes.strip_prefix(b"HTTP/1.1 ")?;
    let code = std::str::from_utf8(rest.get(..3)?).ok()?.parse().ok()?;
    let status = poem::http::StatusCode::from_u16(code).ok()?;
    let head_end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = bytes[..head_end].to_ascii_lowercase();
    let has = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    let bare = head_end + 4 == bytes.len()
        && has(b"\r\ncontent-length: 0")
        && has(b"\r\nconnection: close")
        && !has(request_id::HEADER.as_bytes());
    (status.is_client_error() && bare).then_some(status)
}

impl<Io: AsyncWrite + Unpin> HyperErrorsAsProblems<Io> {
    /// Writes `bytes` in hyper's place: replaced by a problem if they are one of its bare
    /// errors, else passed through.
    fn write(&mut self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<io::Result<usize>> {
        if self.replacing.is_none()
            && let Some(status) = hypers_own_error(bytes)
        {
            let id = request_id::from_header(None);
            tracing::info!(
                request_id = %id,
                status = status.as_u16(),
                "refused a request whose head could not be read"
            );
            self.replacing = Some((ApiError::UnreadableHead(status).into_raw_response(&id), 0));
        }
        let Some((replacement, written)) = self.replacing.as_mut() else {
            return Pin::new(&mut self.io).poll_write(cx, bytes);
        };
        while *written < replacement.len() {
            match Pin::new(&mut self.io).poll_write(cx, &replacement[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                other => return other,
            }
        }
        self.replacing = None;
        Poll::Ready(Ok(bytes.len()))
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for HyperErrorsAsProblems<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for HyperErrorsAsProblems<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // hyper's own errors are one slice (a head, no body); anything else passes through.
        match bufs.iter().filter(|b| !b.is_empty()).count() {
            1 if self.replacing.is_some() || bufs.iter().any(|b| hypers_own_error(b).is_some()) => {
                let Some(only) = bufs.iter().find(|b| !b.is_empty()) else {
                    return Poll::Ready(Ok(0));
                };
                self.write(cx, only)
            }
            _ => Pin::new(&mut self.io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::hypers_own_error;

    #[test]
    fn only_hypers_bare_error_heads_are_recognised() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
                     content-length: 0\r\ndate: Wed, 25 Nov 2026 16:39:37 GMT\r\n\r\n";
        assert_eq!(hypers_own_error(bare).map(|s| s.as_u16()), Some(431));
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\
                     x-request-id: abc\r\n\r\n";
        assert_eq!(hypers_own_error(ours), None);
        let with_body =
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n{}";
        assert_eq!(hypers_own_error(with_body), None);
        assert_eq!(hypers_own_error(b"HTTP/1.1 200 OK\r\n\r\n"), None);
        assert_eq!(hypers_own_error(b"\0\0\x12\x04"), None);
    }
}
