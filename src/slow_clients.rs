//! Closes connections whose request head trickles in (slowloris). hyper has a header-read
//! timeout, but it needs a timer and poem does not give hyper one, so a client sending one
//! header line every few seconds could hold a connection (and a task) forever. Each connection
//! is wrapped here: once the first byte of a request head arrives, the whole head (up to the
//! blank line) must follow within [`HEAD_TIMEOUT`], or reads fail and hyper drops the
//! connection. Idle keep-alive connections are closed here too, after [`IDLE_TIMEOUT`]. Bodies
//! are bounded where they are read (`JsonBody`).
//!
//! One timer per connection serves both limits, and it is reset once per request (when a head
//! starts). poem's own `idle_timeout` runs a second task per connection that every read and
//! write wakes; on small requests that cost more CPU than the rest of our middleware together.

use std::{
    future::Future,
    io,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use poem::{
    http::uri::Scheme,
    listener::Acceptor,
    web::{LocalAddr, RemoteAddr},
};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    time::{Instant, Sleep},
};

/// How long a request head may take from its first byte to its blank line. Real clients send
/// a head in one packet; this only ever stops a client that is stalling on purpose.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a keep-alive connection may sit between requests (or before its first one).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The two limits a connection lives under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From a head's first byte to its blank line.
    pub head: Duration,
    /// From the last response (or the connection's start) to the next head's first byte.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            head: HEAD_TIMEOUT,
            idle: IDLE_TIMEOUT,
        }
    }
}

/// Wraps every connection an acceptor yields in a [`HeadDeadline`].
pub struct HeadDeadlineAcceptor<A> {
    inner: A,
    limits: Limits,
}

impl<A> std::fmt::Debug for HeadDeadlineAcceptor<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadDeadlineAcceptor")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<A> HeadDeadlineAcceptor<A> {
    pub fn new(inner: A, limits: Limits) -> Self {
        Self { inner, limits }
    }
}

impl<A: Acceptor> Acceptor for HeadDeadlineAcceptor<A> {
    type Io = HeadDeadline<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    fn accept(
        &mut self,
    ) -> impl Future<Output = io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)>> + Send {
        let limits = self.limits;
        let accepted = self.inner.accept();
        async move {
            let (io, local, remote, scheme) = accepted.await?;
            Ok((HeadDeadline::new(io, limits), local, remote, scheme))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests: nothing of the next head has arrived.
    Idle,
    /// Reading a head; the deadline is armed.
    Head,
    /// The head is complete; the request is being answered.
    Answering,
    /// HTTP/2 (prior knowledge): frames, not heads; not watched.
    Http2,
}

/// A connection whose request heads must arrive within a time limit, closed when idle too long.
pub struct HeadDeadline<Io> {
    io: Io,
    limits: Limits,
    phase: Phase,
    /// Armed for the head limit when a head starts; when it fires in any other phase it is
    /// re-armed for the idle limit, counted from `idle_since` (so a response costs no reset).
    deadline: Pin<Box<Sleep>>,
    idle_since: Instant,
    /// The last bytes seen, to find a `\r\n\r\n` split across reads.
    tail: [u8; 3],
    first_read: bool,
}

impl<Io> std::fmt::Debug for HeadDeadline<Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadDeadline")
            .field("limits", &self.limits)
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

impl<Io> HeadDeadline<Io> {
    fn new(io: Io, limits: Limits) -> Self {
        Self {
            io,
            limits,
            phase: Phase::Idle,
            deadline: Box::pin(tokio::time::sleep(limits.idle)),
            idle_since: Instant::now(),
            tail: [0; 3],
            first_read: true,
        }
    }

    /// A response going out means its request was read: the next head starts afresh, and the
    /// connection is idle until it does.
    fn wrote(&mut self, written: &Poll<io::Result<usize>>) {
        if self.phase == Phase::Answering && matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.phase = Phase::Idle;
            self.idle_since = Instant::now();
        }
    }

    /// With no bytes to read: whether a limit has run out, and else that the timer will wake us.
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<Expired> {
        while self.deadline.as_mut().poll(cx).is_ready() {
            match self.phase {
                Phase::Head => return Some(Expired::Head),
                Phase::Idle if self.idle_since.elapsed() >= self.limits.idle => {
                    return Some(Expired::Idle);
                }
                Phase::Idle => {
                    let at = self.idle_since + self.limits.idle;
                    self.deadline.as_mut().reset(at);
                }
                Phase::Answering => {
                    // The handler's time is not limited here; check again later.
                    let at = Instant::now() + self.limits.idle;
                    self.deadline.as_mut().reset(at);
                }
                Phase::Http2 => return None,
            }
        }
        None
    }

    /// Moves the phase on for bytes just read.
    fn saw(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if std::mem::take(&mut self.first_read) && bytes.starts_with(b"PRI * HTTP/2.0") {
            self.phase = Phase::Http2;
        }
        if matches!(self.phase, Phase::Answering | Phase::Http2) {
            return;
        }
        if self.phase == Phase::Idle {
            self.phase = Phase::Head;
            self.tail = [0; 3];
            let at = Instant::now() + self.limits.head;
            self.deadline.as_mut().reset(at);
        }
        if self.phase == Phase::Head && ends_head(self.tail, bytes) {
            self.phase = Phase::Answering;
        }
        let mut window = [0u8; 3];
        let keep = bytes.len().min(3);
        window[..3 - keep].copy_from_slice(&self.tail[keep..]);
        window[3 - keep..].copy_from_slice(&bytes[bytes.len() - keep..]);
        self.tail = window;
    }
}

/// Which limit ran out.
enum Expired {
    Head,
    Idle,
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
            Poll::Pending => match this.expired(cx) {
                None => Poll::Pending,
                Some(Expired::Head) => {
                    tracing::info!("closing a connection whose request head was too slow");
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "request head not received in time",
                    )))
                }
                // As if the client had closed it: hyper ends the connection quietly.
                Some(Expired::Idle) => Poll::Ready(Ok(())),
            },
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
        self.wrote(&written);
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
        self.wrote(&written);
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

    const LIMITS: Limits = Limits {
        head: Duration::from_secs(5),
        idle: Duration::from_secs(60),
    };

    /// Reads from the server's side until EOF or an error; returns whether it was an error.
    /// Panics if the connection is still open after an hour (of paused, simulated time).
    async fn read_until_closed<Io: AsyncRead + Unpin>(conn: &mut HeadDeadline<Io>) -> bool {
        let mut buf = [0u8; 256];
        let closed = async {
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) => return false,
                    Ok(_) => {}
                    Err(_) => return true,
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(3600), closed)
            .await
            .expect("the connection was never closed")
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_that_never_sends_is_closed_after_the_idle_limit() {
        let (_client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMITS);
        let started = Instant::now();
        assert!(!read_until_closed(&mut conn).await, "closed quietly (EOF)");
        assert_eq!(started.elapsed(), LIMITS.idle);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_counts_from_the_last_response() {
        let (mut client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMITS);
        tokio::time::sleep(Duration::from_secs(50)).await;
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
        let mut buf = [0u8; 256];
        assert!(conn.read(&mut buf).await.unwrap() > 0);
        conn.write_all(b"HTTP/1.1 200 OK\r\n\r\n").await.unwrap();
        let answered = Instant::now();
        assert!(!read_until_closed(&mut conn).await);
        assert_eq!(answered.elapsed(), LIMITS.idle);
    }

    #[tokio::test(start_paused = true)]
    async fn a_head_that_stalls_fails_after_the_head_limit() {
        let (mut client, server) = duplex(1024);
        let mut conn = HeadDeadline::new(server, LIMITS);
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let started = Instant::now();
        assert!(
            read_until_closed(&mut conn).await,
            "an error, not a quiet close"
        );
        assert_eq!(started.elapsed(), LIMITS.head);
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
