//! Closes connections whose request head trickles in (slowloris). A client sending one
//! header line every few seconds could otherwise hold a connection (and a task) forever.
//! Each connection is wrapped here: once the first byte of a request head arrives, the whole
//! head (up to the blank line) must follow within [`HEAD_TIMEOUT`], or reads fail and hyper
//! drops the connection. An HTTP/2 connection's "head" is its preface and first SETTINGS
//! frame; after those, HTTP/2 keep-alive pings and the idle limit watch it
//! ([`crate::server`]). Bodies are bounded where they are read (`JsonBody`).
//!
//! A client that stops reading its answers is a slow client too: a write that cannot proceed
//! for the write limit fails, and hyper drops the connection (and its slot under the cap).
//!
//! One timer per connection, reset once per request (when a head starts). hyper's own
//! `header_read_timeout` also runs while a keep-alive connection is idle, so it cannot tell a
//! slow head from a quiet client.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};

/// How long a request head may take from its first byte to its blank line. Real clients send
/// a head in one packet; this only ever stops a client that is stalling on purpose.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// What an HTTP/2 client sends first (RFC 9113 §3.4), followed by a SETTINGS frame.
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The preface and the 9-byte header of the SETTINGS frame that follows it.
const H2_PRELUDE_LEN: usize = H2_PREFACE.len() + 9;

/// Most bytes of one request (head and body) kept to find where a pipelined next head starts;
/// a longer request is not followed (its successor gets the idle limit, as before).
const TRACKED_REQUEST_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests: nothing of the next head has arrived.
    Idle,
    /// The connection's first bytes, which may be the HTTP/2 preface; the deadline is armed.
    Prelude,
    /// Reading an HTTP/1 head; the deadline is armed.
    Head,
    /// The head is complete; the request is being answered.
    Answering,
    /// HTTP/2 past its preface and settings: frames, not heads; not watched here.
    Http2,
}

/// How long a write may wait for the client to make room (to read what was sent).
pub const WRITE_STALL_LIMIT: Duration = Duration::from_secs(30);

/// A connection whose request heads must arrive within a time limit, and whose client must keep
/// reading what is written to it.
pub struct HeadDeadline<Io> {
    io: Io,
    limit: Duration,
    write_limit: Duration,
    /// Armed while a write waits for room; allocated only then.
    stalled_write: Option<Pin<Box<Sleep>>>,
    phase: Phase,
    /// Armed when a head starts; disarmed when it is complete.
    deadline: Pin<Box<Sleep>>,
    armed: bool,
    /// The last bytes seen, to find a `\r\n\r\n` split across reads.
    tail: [u8; 3],
    /// The connection's first bytes, to recognise HTTP/2 and find its SETTINGS frame's end.
    prelude: [u8; H2_PRELUDE_LEN],
    read_total: usize,
    /// The current request's bytes as read (head, then body, then perhaps the start of a
    /// pipelined next head), while it stays under [`TRACKED_REQUEST_BYTES`]; else `None`.
    request: Option<Vec<u8>>,
    /// Where the current request ends in `request`: its head and declared body; `None` until
    /// the head is complete, or when the body's length is not declared (chunked).
    request_len: Option<usize>,
}

impl<Io> std::fmt::Debug for HeadDeadline<Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadDeadline")
            .field("limit", &self.limit)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl<Io> HeadDeadline<Io> {
    pub fn new(io: Io, limit: Duration) -> Self {
        Self {
            io,
            limit,
            write_limit: WRITE_STALL_LIMIT,
            stalled_write: None,
            phase: Phase::Idle,
            deadline: Box::pin(tokio::time::sleep(limit)),
            armed: false,
            tail: [0; 3],
            prelude: [0; H2_PRELUDE_LEN],
            read_total: 0,
            request: None,
            request_len: None,
        }
    }

    /// Replaces the write limit ([`WRITE_STALL_LIMIT`]).
    pub fn with_write_limit(mut self, limit: Duration) -> Self {
        self.write_limit = limit;
        self
    }

    /// A write that waits for room longer than the write limit fails.
    fn bound_write(
        &mut self,
        cx: &mut Context<'_>,
        written: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        if written.is_ready() {
            self.stalled_write = None;
            return written;
        }
        let limit = self.write_limit;
        let stalled = self
            .stalled_write
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if stalled.as_mut().poll(cx).is_ready() {
            tracing::info!("closing a connection whose client stopped reading");
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            )));
        }
        Poll::Pending
    }

    /// A response going out means its request was read: the next head starts afresh. If bytes
    /// past the request's end have arrived (a pipelined next request), that head has started:
    /// its limit runs from now, not the idle one. An interim `1xx` (`100 Continue`) is not the
    /// answer: the body follows it.
    fn wrote(&mut self, first_bytes: &[u8], written: &Poll<io::Result<usize>>) {
        if self.phase != Phase::Answering || !matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            return;
        }
        if first_bytes.starts_with(b"HTTP/1.1 1") {
            return;
        }
        self.phase = Phase::Idle;
        let surplus = match (self.request.take(), self.request_len.take()) {
            (Some(request), Some(end)) if request.len() > end => request[end..].to_vec(),
            _ => return,
        };
        self.advance(&surplus);
    }

    /// With no bytes to read: whether the head's time has run out (else the timer wakes us).
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.armed && self.deadline.as_mut().poll(cx).is_ready()
    }

    fn arm(&mut self) {
        let at = Instant::now() + self.limit;
        self.deadline.as_mut().reset(at);
        self.armed = true;
    }

    /// Moves the phase on for bytes just read.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.read_total = self.read_total.saturating_add(bytes.len());
        self.advance(bytes);
    }

    /// Moves the phase on for `bytes`, the connection's next ones (just read, or read earlier
    /// past a request's end).
    fn advance(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.phase == Phase::Idle {
            self.phase = if self.read_total == bytes.len() {
                Phase::Prelude
            } else {
                Phase::Head
            };
            self.tail = [0; 3];
            self.request = Some(Vec::new());
            self.request_len = None;
            self.arm();
        }
        if self.phase == Phase::Http2 {
            return;
        }
        if let Some(request) = self.request.as_mut() {
            if request.len() + bytes.len() <= TRACKED_REQUEST_BYTES {
                request.extend_from_slice(bytes);
            } else {
                self.request = None;
            }
        }
        if self.phase == Phase::Prelude {
            self.read_prelude(self.read_total - bytes.len(), bytes);
            if self.phase == Phase::Http2 {
                self.request = None;
            }
        }
        if self.phase == Phase::Head {
            self.read_head(bytes);
            if self.phase == Phase::Answering {
                self.request_len = self.request.as_deref().and_then(request_length);
            }
        }
    }

    /// The connection's first bytes: the HTTP/2 preface and its SETTINGS frame, or an HTTP/1
    /// head.
    fn read_prelude(&mut self, before: usize, bytes: &[u8]) {
        if before < H2_PRELUDE_LEN {
            let take = bytes.len().min(H2_PRELUDE_LEN - before);
            self.prelude[before..before + take].copy_from_slice(&bytes[..take]);
        }
        let have = self.read_total.min(H2_PRELUDE_LEN);
        let compared = have.min(H2_PREFACE.len());
        if self.prelude[..compared] != H2_PREFACE[..compared] {
            self.phase = Phase::Head;
            return;
        }
        if have == H2_PRELUDE_LEN {
            let [a, b, c] = [self.prelude[24], self.prelude[25], self.prelude[26]];
            let settings_len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            if self.read_total >= H2_PRELUDE_LEN + settings_len {
                self.phase = Phase::Http2;
                self.armed = false;
            }
        }
    }

    fn read_head(&mut self, bytes: &[u8]) {
        if ends_head(self.tail, bytes) {
            self.phase = Phase::Answering;
            self.armed = false;
        }
        let mut window = [0u8; 3];
        let keep = bytes.len().min(3);
        window[..3 - keep].copy_from_slice(&self.tail[keep..]);
        window[3 - keep..].copy_from_slice(&bytes[bytes.len() - keep..]);
        self.tail = window;
    }
}

/// Where a request whose bytes start `request` ends: its head, plus the body its
/// `Content-Length` declares (none declared: no body). `None` when that cannot be told from the
/// head alone: chunked, a length given twice or unreadable, or the head not all here.
fn request_length(request: &[u8]) -> Option<usize> {
    let head_end = request.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let mut length = None;
    for line in request[..head_end].split(|&b| b == b'\n').skip(1) {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.eq_ignore_ascii_case(b"transfer-encoding") {
            return None;
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let value = std::str::from_utf8(value).ok()?.trim();
            if length.is_some() {
                return None;
            }
            length = Some(value.parse::<usize>().ok()?);
        }
    }
    head_end.checked_add(length.unwrap_or(0))
}

/// Whether `\r\n\r\n` occurs in `tail` (the previous three bytes) followed by `bytes`.
fn ends_head(tail: [u8; 3], bytes: &[u8]) -> bool {
    let mut seam = [0u8; 6];
    let joined = 3 + bytes.len().min(3);
    seam[..3].copy_from_slice(&tail);
    seam[3..joined].copy_from_slice(&bytes[..joined - 3]);
    seam[..joined].windows(4).any(|w| w == b"\r\n\r\n")
        || bytes.windows(4).any(|w| w == b"\r\n\r\n")
}

impl<Io: AsyncRead + Unpin> AsyncRead for HeadDeadline<Io> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.saw(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending if this.expired(cx) => {
                tracing::info!("closing a connection whose request head was too slow");
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "request head not received in time",
                )))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for HeadDeadline<Io> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, buf);
        let written = self.bound_write(cx, written);
        self.wrote(buf, &written);
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        let written = self.bound_write(cx, written);
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &b[..]);
        self.wrote(first, &written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // a failed step is a failed test
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    use super::*;

    const LIMIT: Duration = HEAD_TIMEOUT;

    /// Reads from the server's side until EOF or an error; returns when that happened, or
    /// `None` if the connection was still open after an hour (of paused, simulated time).
    async fn closed_after<Io: AsyncRead + Unpin>(conn: &mut HeadDeadline<Io>) -> Option<Duration> {
        let started = Instant::now();
        let mut buf = [0u8; 256];
        let closed = async {
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(3600), closed)
            .await
            .ok()
            .map(|()| started.elapsed())
    }

    /// The preface and an empty SETTINGS frame, as an HTTP/2 client opens a connection.
    fn h2_prelude() -> Vec<u8> {
        let mut bytes = H2_PREFACE.to_vec();
        bytes.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        bytes
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_that_stalls_fails_after_the_head_limit() {
        let (mut client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMIT);
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        assert_eq!(closed_after(&mut conn).await, Some(LIMIT));
    }

    #[tokio::test(start_paused = true)]
    async fn a_quiet_connection_is_not_this_limits_business() {
        // The idle limit is the server's (crate::server); a head deadline never arms for it.
        let (_client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMIT);
        assert_eq!(closed_after(&mut conn).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn the_next_head_gets_its_own_limit_after_a_response() {
        let (mut client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMIT);
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 256];
        assert!(conn.read(&mut buf).await.unwrap() > 0);
        conn.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_secs(50)).await;
        client.write_all(b"GET /next HTTP/1.1\r\n").await.unwrap();
        assert_eq!(closed_after(&mut conn).await, Some(LIMIT));
    }

    #[tokio::test(start_paused = true)]
    async fn an_http2_preface_without_its_settings_fails_after_the_head_limit() {
        let (mut client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMIT);
        client.write_all(H2_PREFACE).await.unwrap();
        assert_eq!(closed_after(&mut conn).await, Some(LIMIT));
    }

    #[tokio::test(start_paused = true)]
    async fn settings_sent_a_byte_at_a_time_still_count_as_one_head() {
        let (mut client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMIT);
        let mut buf = [0u8; 256];
        for byte in h2_prelude() {
            client.write_all(&[byte]).await.unwrap();
            assert_eq!(conn.read(&mut buf).await.unwrap(), 1);
        }
        // Past its settings, an HTTP/2 connection is watched by pings and the idle limit.
        assert_eq!(closed_after(&mut conn).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn half_a_head_pipelined_behind_a_request_gets_the_head_limit() {
        let (mut client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMIT);
        client
            .write_all(b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}GET /next HTTP/1.1\r\nHo")
            .await
            .unwrap();
        let mut buf = [0u8; 256];
        assert!(conn.read(&mut buf).await.unwrap() > 0);
        tokio::time::sleep(Duration::from_secs(3)).await;
        conn.write_all(b"HTTP/1.1 201 Created\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(closed_after(&mut conn).await, Some(LIMIT));
    }

    #[tokio::test(start_paused = true)]
    async fn a_whole_pipelined_request_is_not_cut_off() {
        let (mut client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMIT);
        client
            .write_all(b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 256];
        assert!(conn.read(&mut buf).await.unwrap() > 0);
        conn.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        conn.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        assert_eq!(closed_after(&mut conn).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_100_continue_is_not_the_answer_its_body_follows() {
        let (mut client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMIT);
        client
            .write_all(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 256];
        assert!(conn.read(&mut buf).await.unwrap() > 0);
        conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        client.write_all(b"{}").await.unwrap();
        assert_eq!(conn.read(&mut buf).await.unwrap(), 2);
        // A handler slower than the head limit does not cut the connection.
        tokio::time::sleep(LIMIT * 2).await;
        conn.write_all(b"HTTP/1.1 201 Created\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(closed_after(&mut conn).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_that_stops_reading_fails_the_write_after_the_write_limit() {
        let (_client, server) = duplex(64);
        let mut conn = HeadDeadline::new(server, LIMIT).with_write_limit(Duration::from_secs(7));
        let started = Instant::now();
        let written = conn.write_all(&[b'x'; 1024]).await;
        assert_eq!(written.map_err(|e| e.kind()), Err(io::ErrorKind::TimedOut));
        assert_eq!(started.elapsed(), Duration::from_secs(7));
    }

    #[test]
    fn a_request_ends_after_its_declared_body() {
        assert_eq!(
            request_length(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET"),
            Some(27)
        );
        assert_eq!(
            request_length(b"POST / HTTP/1.1\r\ncontent-LENGTH: 2\r\n\r\n{}"),
            Some(40)
        );
        assert_eq!(
            request_length(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            None
        );
        assert_eq!(request_length(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
    }

    #[test]
    fn the_blank_line_is_found_even_split_across_reads() {
        assert!(ends_head([0; 3], b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(ends_head(*b"x\r\n", b"\r\n"));
        assert!(ends_head(*b"\r\n\r", b"\n"));
        assert!(ends_head(*b"\n\r\n", b"\r\nbody"));
        assert!(!ends_head(*b"a\r\n", b"b\r\n"));
        assert!(!ends_head([0; 3], b"GET / HTTP/1.1\r\nHost: x\r\n"));
    }
}
