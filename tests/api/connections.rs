//! Connections under the server's limits (src/server.rs): HTTP/2 is timed out like HTTP/1, one
//! HTTP/2 connection cannot open unbounded streams, and the number of connections is capped so
//! that running out of file descriptors cannot make the process spin.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use students_api::server::{ConnectionLimits, H2_MAX_CONCURRENT_STREAMS};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    binary::{signal, start},
    helpers::{TestApp, drop_database, fresh_database_url, spawn_app_with_limits},
};

const SHORT: ConnectionLimits = ConnectionLimits {
    head: Duration::from_secs(1),
    idle: Duration::from_secs(2),
    max_connections: 10_000,
    write_stall: Duration::from_secs(1),
};

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// How long until the server closes `stream` (EOF or reset), reading and discarding what it
/// sends; `None` if it is still open after `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let closed = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(within, closed)
        .await
        .ok()
        .map(|()| started.elapsed())
}

/// An HTTP/2 client connection, handshake done; the connection is driven in the background
/// and the handle resolves when the server ends it.
async fn h2_connect(
    app: &TestApp,
) -> (
    h2::client::SendRequest<bytes::Bytes>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let (send, connection) = h2::client::handshake(connect(app).await).await.unwrap();
    (send, tokio::spawn(connection))
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_idle_limit() {
    let app = spawn_app_with_limits(SHORT).await;
    let mut stream = connect(&app).await;
    let closed = closed_within(&mut stream, Duration::from_secs(10)).await;
    assert!(
        closed.is_some_and(|after| after >= SHORT.idle - Duration::from_millis(100)),
        "closed after {closed:?}, the idle limit is {:?}",
        SHORT.idle
    );
}

#[tokio::test]
async fn an_http2_preface_alone_is_closed_after_the_head_limit() {
    let app = spawn_app_with_limits(SHORT).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    let closed = closed_within(&mut stream, Duration::from_secs(10)).await;
    assert!(
        closed.is_some_and(|after| after < SHORT.idle),
        "closed after {closed:?}: the head limit ({:?}) applies, not the idle one",
        SHORT.head
    );
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_the_idle_limit_but_serves_until_then() {
    let app = spawn_app_with_limits(SHORT).await;
    let (mut send, connection) = h2_connect(&app).await;
    // A request, answered over HTTP/2.
    let request = poem::http::Request::get(app.url("/healthz"))
        .body(())
        .unwrap();
    let (response, _) = send.send_request(request, true).unwrap();
    let response = response.await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), poem::http::Version::HTTP_2);
    // Then nothing: the server sends GOAWAY and closes.
    let started = Instant::now();
    let ended = tokio::time::timeout(Duration::from_secs(10), connection).await;
    assert!(
        ended.is_ok(),
        "an idle HTTP/2 connection must not stay open forever"
    );
    assert!(started.elapsed() >= SHORT.idle - Duration::from_millis(500));
}

#[tokio::test]
async fn http2_advertises_a_stream_limit_and_a_header_list_limit() {
    let app = spawn_app_with_limits(SHORT).await;
    let (mut raw, settings) = raw_server_settings(&app).await;
    assert_eq!(
        settings.get(&0x3).copied(),
        Some(H2_MAX_CONCURRENT_STREAMS),
        "SETTINGS_MAX_CONCURRENT_STREAMS"
    );
    assert_eq!(
        settings.get(&0x6).copied(),
        Some(students_api::server::MAX_HEADER_LIST_BYTES),
        "SETTINGS_MAX_HEADER_LIST_SIZE"
    );
    // Enforced: a client that opens more streams than that has the excess refused, and the
    // server keeps serving the connection's other streams.
    let refused = open_streams(&mut raw, H2_MAX_CONCURRENT_STREAMS + 50).await;
    println!("HTTP/2: 150 streams opened at once on one connection, {refused} refused");
    assert!(
        refused >= 50,
        "{refused} streams refused of {} over the limit",
        50
    );
}

/// Opens a raw HTTP/2 connection (preface and empty SETTINGS) and reads the server's SETTINGS
/// frame: identifier → value.
async fn raw_server_settings(app: &TestApp) -> (TcpStream, std::collections::HashMap<u16, u32>) {
    let mut stream = connect(app).await;
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .await
        .unwrap();
    let mut header = [0u8; 9];
    stream.read_exact(&mut header).await.unwrap();
    assert_eq!(header[3], 0x4, "the server's first frame is SETTINGS");
    let len = usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).await.unwrap();
    let settings = payload
        .chunks_exact(6)
        .map(|s| {
            (
                u16::from_be_bytes([s[0], s[1]]),
                u32::from_be_bytes([s[2], s[3], s[4], s[5]]),
            )
        })
        .collect();
    // Acknowledge them, as a client must.
    stream
        .write_all(&[0, 0, 0, 0x4, 0x1, 0, 0, 0, 0])
        .await
        .unwrap();
    (stream, settings)
}

/// Sends `count` HEADERS frames, each opening a stream that waits for a body that never comes
/// (no END_STREAM), then counts the RST_STREAM frames the server answers with.
async fn open_streams(stream: &mut TcpStream, count: u32) -> u32 {
    // HPACK: :method POST and :scheme http (static table 3 and 6), then literals without
    // indexing: :path (name 4), :authority (name 1), content-type (name 31).
    let mut block = vec![0x83, 0x86, 0x04, 13];
    block.extend_from_slice(b"/api/students");
    block.extend_from_slice(&[0x01, 1, b't', 0x0f, 0x10, 16]);
    block.extend_from_slice(b"application/json");
    let mut frames = Vec::new();
    for n in 0..count {
        let id = 1 + 2 * n;
        frames.extend_from_slice(&[0, 0, block.len() as u8, 0x1, 0x4]);
        frames.extend_from_slice(&id.to_be_bytes());
        frames.extend_from_slice(&block);
    }
    stream.write_all(&frames).await.unwrap();
    let mut refused = 0;
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut header = [0u8; 9];
    while Instant::now() < deadline {
        let read = tokio::time::timeout(Duration::from_millis(500), stream.read_exact(&mut header));
        let Ok(Ok(_)) = read.await else { break };
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        let mut payload = vec![0u8; len];
        if stream.read_exact(&mut payload).await.is_err() {
            break;
        }
        // RST_STREAM with REFUSED_STREAM (7).
        if header[3] == 0x3 && payload == [0, 0, 0, 7] {
            refused += 1;
        }
    }
    refused
}

#[tokio::test]
async fn connections_over_the_cap_wait_until_one_closes() {
    let limits = ConnectionLimits {
        max_connections: 3,
        ..SHORT
    };
    let app = spawn_app_with_limits(limits).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&app).await;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 1024];
        assert!(stream.read(&mut buf).await.unwrap() > 0, "served");
        held.push(stream);
    }
    // The fourth is connected by the kernel but not accepted: no answer while three are open.
    let mut fourth = connect(&app).await;
    fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let early =
        tokio::time::timeout(Duration::from_millis(500), fourth.read_to_end(&mut answer)).await;
    assert!(early.is_err(), "answered over the cap: {answer:?}");
    // One closes: the fourth is served.
    drop(held.pop());
    tokio::time::timeout(Duration::from_secs(5), fourth.read_to_end(&mut answer))
        .await
        .expect("served once a slot was free")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}

/// This process's soft limit on open files.
fn own_open_file_limit() -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

/// Seconds of CPU `pid` has used (user + system).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line; 12 and 13 after the name.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

#[tokio::test]
async fn more_connections_than_file_descriptors_neither_spin_nor_stop_the_server() {
    let url = fresh_database_url();
    const SERVER_FDS: usize = 128;
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--nofile={SERVER_FDS}"))
        .args(["--", env!("CARGO_BIN_EXE_students-api")])
        .env("DATABASE_URL", &url);
    let mut app = start(command);
    let address = format!("127.0.0.1:{}", app.port);

    // Up to 2,000 connections that send nothing, against 128 file descriptors; never more
    // than a quarter of this test process's own limit, which the other tests share.
    let attempts = (own_open_file_limit() / 4).min(2_000);
    assert!(
        attempts > 2 * SERVER_FDS,
        "this process may open only {attempts}"
    );
    // Past the kernel's backlog a connect is not answered; all are tried at once, for 1 s.
    let connecting: Vec<_> = (0..attempts)
        .map(|_| {
            let connect = TcpStream::connect(address.clone());
            tokio::spawn(tokio::time::timeout(Duration::from_secs(1), connect))
        })
        .collect();
    let mut attackers = Vec::new();
    for connecting in connecting {
        if let Ok(Ok(Ok(stream))) = connecting.await {
            attackers.push(stream);
        }
    }
    assert!(
        attackers.len() > SERVER_FDS,
        "only {} connected",
        attackers.len()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = cpu_seconds(app.child.id());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = cpu_seconds(app.child.id()) - before;
    assert!(
        used < 0.5,
        "the server used {used:.2} s of CPU in 2 s while at its limit: it spins"
    );

    // The attackers leave: the server serves again at once.
    let attackers_count = attackers.len();
    drop(attackers);
    let started = Instant::now();
    let client = reqwest::Client::new();
    let response = tokio::time::timeout(
        Duration::from_secs(10),
        client.get(format!("http://{address}/healthz")).send(),
    )
    .await
    .expect("served within 10 s of the attackers leaving")
    .unwrap();
    assert_eq!(response.status(), 200);
    println!(
        "{} connections against {SERVER_FDS} descriptors: {used:.2} s of CPU in 2 s; \
         served {:?} after they left",
        attackers_count,
        started.elapsed()
    );
    signal(&app.child, "-TERM");
    let _ = app.child.wait();
    drop_database(&url);
}

#[tokio::test]
async fn half_a_head_pipelined_behind_a_request_gets_the_head_limit_not_the_idle_one() {
    let limits = ConnectionLimits {
        idle: Duration::from_secs(30),
        ..SHORT
    };
    let app = spawn_app_with_limits(limits).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /healthz HTTP/1.1\r\nHo")
        .await
        .unwrap();
    let closed = closed_within(&mut stream, Duration::from_secs(10)).await;
    assert!(
        closed.is_some_and(|after| after < Duration::from_secs(5)),
        "closed after {closed:?}: the pipelined head's 1 s limit applies, not the idle 30 s"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_loses_its_connection_and_frees_its_slot() {
    // Found in review: a response blocked on a client that never reads held its connection,
    // and its slot under the cap, forever.
    let limits = ConnectionLimits {
        max_connections: 1,
        idle: Duration::from_secs(60),
        ..SHORT
    };
    let app = spawn_app_with_limits(limits).await;
    // The only slot: a client asks for the spec (about 100 KB) fifty times and reads nothing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let address = app.address.trim_start_matches("http://").parse().unwrap();
    let mut stalled = socket.connect(address).await.unwrap();
    let request = b"GET /openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(50);
    stalled.write_all(&request).await.unwrap();
    // A second client waits for the slot; it gets it once the write limit (1 s) cuts the first.
    let started = Instant::now();
    let mut second = connect(&app).await;
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), second.read_to_end(&mut answer))
        .await
        .expect("served once the stalled connection was closed")
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    println!(
        "a reader that stopped was cut off; the next client served after {:?}",
        started.elapsed()
    );
    drop(stalled);
}

#[tokio::test]
async fn expect_100_continue_then_a_slow_handler_is_not_cut_off() {
    // Found in review: the `100 Continue` counted as the answer, so the body was read as the
    // next head and held to the head limit.
    let app = spawn_app_with_limits(SHORT).await;
    let mut stream = connect(&app).await;
    let body = br#"{"name": "Continued", "grade": "A"}"#;
    stream
        .write_all(
            format!(
                "POST /api/students HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
                 Content-Type: application/json\r\n\
                 Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
                app.token,
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 100"));
    // The body, then more than the head limit (1 s) with the connection quiet.
    stream.write_all(body).await.unwrap();
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 201"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let n = stream.read(&mut buf).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"),
        "the keep-alive connection still serves"
    );
}

#[tokio::test]
async fn the_open_file_soft_limit_is_raised_to_the_hard_one_at_start() {
    let url = fresh_database_url();
    let mut command = Command::new("prlimit");
    command
        .args([
            "--nofile=256:2048",
            "--",
            env!("CARGO_BIN_EXE_students-api"),
        ])
        .env("DATABASE_URL", &url);
    let mut app = start(command);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", app.child.id())).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    let soft: usize = line.split_whitespace().nth(3).unwrap().parse().unwrap();
    signal(&app.child, "-TERM");
    let _ = app.child.wait();
    drop_database(&url);
    assert_eq!(soft, 2048, "{line}");
}
