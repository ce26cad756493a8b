//! Slow clients cannot hold connections: a trickled head is cut off, a trickled body is a 408,
//! and a client that is merely idle between requests is left alone.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::spawn_app;

async fn connect(address: &str) -> TcpStream {
    TcpStream::connect(address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Whether the server has closed the connection (a read gives EOF or an error at once).
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    matches!(
        tokio::time::timeout(Duration::from_millis(20), stream.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test]
async fn a_head_sent_one_line_at_a_time_is_cut_off_within_10_seconds() {
    let app = spawn_app().await;
    let mut stream = connect(&app.address).await;
    let started = Instant::now();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    while started.elapsed() < Duration::from_secs(12) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let _ = stream.write_all(b"X-Slow: still here\r\n").await;
        if closed(&mut stream).await {
            break;
        }
    }
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(10),
        "closed after {elapsed:?}"
    );
    assert!(
        elapsed >= Duration::from_secs(4),
        "not before the limit: {elapsed:?}"
    );
}

#[tokio::test]
async fn a_body_trickled_in_is_a_408_problem() {
    let app = spawn_app().await;
    let mut stream = connect(&app.address).await;
    stream
        .write_all(&app.authorized(
            b"POST /api/students HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
              Content-Length: 40\r\n\r\n{",
        ))
        .await
        .unwrap();
    let started = Instant::now();
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(15) && response.is_empty() {
        let _ = stream.write_all(b" ").await;
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(900), stream.read(&mut buf)).await
        {
            response.extend_from_slice(&buf[..n]);
        }
    }
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("application/problem+json"), "{response}");
    assert!(started.elapsed() < Duration::from_secs(12));
}

#[tokio::test]
async fn an_idle_keep_alive_connection_still_serves_the_next_request() {
    let app = spawn_app().await;
    let mut stream = connect(&app.address).await;
    let request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let mut buf = [0u8; 4096];
    for round in 0..2 {
        stream.write_all(request).await.unwrap();
        let n = stream.read(&mut buf).await.unwrap();
        let response = String::from_utf8_lossy(&buf[..n]);
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "round {round}: {response}"
        );
        // Longer than the head limit: being idle between requests is not being slow.
        tokio::time::sleep(Duration::from_secs(6)).await;
    }
}
