//! Closes connections whose request head trickles in (slowloris). hyper has a header-read
//! timeout, but it needs a timer and poem does not give hyper one, so a client sending one
//! header line every few seconds could hold a connection (and a task) forever. Each connection
//! is wrapped here: once the first byte of a request head arrives, the whole head (up to the
//! blank line) must follow within [`HEAD_TIMEOUT`], or reads fail and hyper drops the
//! connection. Bodies are bounded where they are read (`JsonBody`), idle keep-alive connections
//! by the server's idle timeout.

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

/// Wraps every connection an acceptor yields in a [`HeadDeadline`].
pub struct HeadDeadlineAcceptor<A> {
    inner: A,
    limit: Duration,
}

impl<A> std::fmt::Debug for HeadDeadlineAcceptor<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadDeadlineAcceptor")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<A> HeadDeadlineAcceptor<A> {
    pub fn new(inner: A, limit: Duration) -> Self {
        Self { inner, limit }
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
        let limit = self.limit;
        let accepted = self.inner.accept();
        async move {
            let (io, local, remote, scheme) = accepted.await?;
            Ok((HeadDeadline::new(io, limit), local, remote, scheme))
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

/// A connection whose request heads must arrive within a time limit.
pub struct HeadDeadline<Io> {
    io: Io,
    limit: Duration,
    phase: Phase,
    deadline: Pin<Box<Sleep>>,
    /// The last bytes seen, to find a `\r\n\r\n` split across reads.
    tail: [u8; 3],
    first_read: bool,
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
    fn new(io: Io, limit: Duration) -> Self {
        Self {
            io,
            limit,
            phase: Phase::Idle,
            deadline: Box::pin(tokio::time::sleep(limit)),
            tail: [0; 3],
            first_read: true,
        }
    }

    /// A response going out means its request was read: the next head starts afresh.
    fn wrote(&mut self, written: &Poll<io::Result<usize>>) {
        if self.phase == Phase::Answering && matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.phase = Phase::Idle;
        }
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
            let at = Instant::now() + self.limit;
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

/// Whether `\r\n\r\n` occurs in `tail` (the previous three bytes) followed by `bytes`.
fn ends_head(tail: [u8; 3], bytes: &[u8]) -> bool {
    let head: Vec<u8> = tail.iter().chain(bytes.iter().take(3)).copied().collect();
    head.windows(4).any(|w| w == b"\r\n\r\n") || bytes.windows(4).any(|w| w == b"\r\n\r\n")
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
            Poll::Pending => {
                if this.phase == Phase::Head && this.deadline.as_mut().poll(cx).is_ready() {
                    tracing::info!("closing a connection whose request head was too slow");
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "request head not received in time",
                    )));
                }
                Poll::Pending
            }
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
mod tests {
    use super::*;

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
