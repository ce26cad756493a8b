//! The real binary stopping: SIGTERM lets requests in flight finish before it exits; SIGKILL
//! mid-writes loses no acknowledged write.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    binary::{Scratch, signal, start_binary},
    helpers::walk_pages,
};

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_then_exits() {
    let scratch = Scratch::new("sigterm-in-flight");
    let mut app = start_binary(&scratch.data_dir());
    let address = format!("127.0.0.1:{}", app.port);

    // Five requests caught half-way: head and half the body sent.
    let mut in_flight = Vec::new();
    for n in 0..5 {
        let body = format!(r#"{{"name": "In flight {n}", "grade": "A"}}"#);
        let (first, rest) = body.split_at(body.len() / 2);
        let mut stream = TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST /api/students HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {}\r\nContent-Length: {}\r\n\r\n{first}",
            app.token,
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        in_flight.push((stream, rest.to_owned()));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&app.child, "-TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;

    for (n, (mut stream, rest)) in in_flight.into_iter().enumerate() {
        stream.write_all(rest.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
            .await
            .expect("answered and closed")
            .unwrap();
        let response = String::from_utf8_lossy(&response);
        assert!(
            response.starts_with("HTTP/1.1 201"),
            "request {n}: {response}"
        );
    }
    let status = tokio::task::spawn_blocking(move || app.child.wait().unwrap())
        .await
        .unwrap();
    assert!(
        status.success(),
        "clean exit after the last answer: {status}"
    );
    // New connections are no longer taken.
    assert!(TcpStream::connect(&address).await.is_err());
}

#[tokio::test]
async fn sigkill_mid_writes_loses_no_acknowledged_write() {
    let scratch = Scratch::new("sigkill-mid-writes");
    let mut acknowledged = Vec::new();
    for round in 0..3 {
        let mut app = start_binary(&scratch.data_dir());
        let client = app.client();
        let url = format!("http://127.0.0.1:{}/api/students", app.port);
        let writers: Vec<_> = (0..4)
            .map(|writer| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let mut ids = Vec::new();
                    for n in 0.. {
                        let body =
                            json!({"name": format!("R{round} W{writer} #{n}"), "grade": "C"});
                        match client.post(&url).json(&body).send().await {
                            Ok(response) if response.status() == 201 => {
                                match response.json::<Value>().await {
                                    Ok(student) => ids.push(student["id"].as_i64().unwrap()),
                                    Err(_) => break, // killed while answering: not acknowledged
                                }
                            }
                            _ => break,
                        }
                    }
                    ids
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(700)).await;
        signal(&app.child, "-KILL");
        app.child.wait().unwrap();
        for writer in writers {
            acknowledged.extend(writer.await.unwrap());
        }
    }
    assert!(
        acknowledged.len() > 100,
        "writes happened: {}",
        acknowledged.len()
    );

    // The data directory's server recovers; every acknowledged student is there.
    let mut app = start_binary(&scratch.data_dir());
    let base = format!("http://127.0.0.1:{}", app.port);
    let (students, _) = walk_pages(
        &app.client(),
        &base,
        "/api/students?limit=100",
        async |_, _| {},
    )
    .await;
    let listed: std::collections::HashSet<i64> = students
        .iter()
        .map(|student| student["id"].as_i64().unwrap())
        .collect();
    let lost: Vec<&i64> = acknowledged
        .iter()
        .filter(|id| !listed.contains(id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged writes lost",
        lost.len(),
        acknowledged.len()
    );
    println!(
        "kill -9 x3: {} acknowledged writes, all present after recovery",
        acknowledged.len()
    );
    signal(&app.child, "-TERM");
    app.child.wait().unwrap();
}

#[tokio::test]
async fn sigterm_ends_open_change_streams_at_once() {
    let scratch = Scratch::new("sigterm-streams");
    let mut app = start_binary(&scratch.data_dir());
    let address = format!("127.0.0.1:{}", app.port);
    let mut streams = Vec::new();
    for _ in 0..3 {
        let mut stream = TcpStream::connect(&address).await.unwrap();
        let request = format!(
            "GET /api/students/changes?after=now HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {}\r\n\r\n",
            app.token
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = [0u8; 256];
        let read = stream.read(&mut head).await.unwrap();
        assert!(head[..read].starts_with(b"HTTP/1.1 200"));
        streams.push(stream);
    }
    let stopped = std::time::Instant::now();
    signal(&app.child, "-TERM");
    let status = tokio::task::spawn_blocking(move || app.child.wait().unwrap())
        .await
        .unwrap();
    let took = stopped.elapsed();
    assert!(status.success(), "{status}");
    // The grace period for requests in flight is 10 s; streams must not wait it out.
    assert!(took < Duration::from_secs(5), "exited after {took:?}");
    for mut stream in streams {
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest).await;
        assert!(
            rest.ends_with(b"0\r\n\r\n"),
            "each stream ended properly: {:?}",
            String::from_utf8_lossy(&rest)
        );
    }
}

/// Behind a load balancer (`SHUTDOWN_DRAIN`): after SIGTERM the instance keeps serving for the
/// drain, with `/readyz` at 503 (a balancer that probes it stops sending requests) and every
/// HTTP/1 response closing its connection (so none is left idle in a balancer's pool), new
/// change streams refused with 503 (a client's reconnect goes elsewhere); then it closes.
#[tokio::test]
async fn sigterm_with_a_drain_serves_with_readiness_503_then_closes() {
    let scratch = Scratch::new("sigterm-drain");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_students-api"));
    command
        .env_remove("DATABASE_URL")
        .env("STUDENTS_API_PGDATA", scratch.data_dir())
        .env("SHUTDOWN_DRAIN", "2s");
    let mut app = crate::binary::start(command);
    let client = app.client();
    let url = |path: &str| format!("http://127.0.0.1:{}{path}", app.port);
    assert_eq!(
        client.get(url("/readyz")).send().await.unwrap().status(),
        200
    );
    let before = client.get(url("/api/students")).send().await.unwrap();
    assert!(
        before.headers().get("connection").is_none(),
        "keep-alive before the signal"
    );

    let stopped = std::time::Instant::now();
    signal(&app.child, "-TERM");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ready = client.get(url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let served = client.get(url("/api/students")).send().await.unwrap();
    assert_eq!(served.status(), 200, "still serving while draining");
    assert_eq!(served.headers()["connection"], "close");
    let stream = client
        .get(url("/api/students/changes?after=now"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 503);
    assert_eq!(stream.headers()["retry-after"], "1");

    let status = tokio::task::spawn_blocking(move || app.child.wait().unwrap())
        .await
        .unwrap();
    let took = stopped.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "the drain, then a prompt exit: {took:?}"
    );
}
