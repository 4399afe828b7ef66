//! The reference provider survives slow and greedy clients: slowloris headers, half-sent bodies,
//! idle keep-alives and connection floods are dropped in bounded time, and a normal request is
//! still answered meanwhile. Loopback only.

use std::time::{Duration, Instant};

use nvcert::provider::{self, ProviderConfig, ProviderHandle, ServerLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn start(limits: Option<ServerLimits>) -> ProviderHandle {
    let mut config = ProviderConfig::embedded();
    if let Some(limits) = limits {
        config.server = limits;
    }
    provider::spawn(config, ([127, 0, 0, 1], 0).into(), None)
        .await
        .expect("provider starts")
}

/// A normal discovery request on a fresh connection, timed.
async fn normal_request(handle: &ProviderHandle) -> (u16, Duration) {
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let status = client
        .get(handle.endpoint("/.well-known/openid-configuration"))
        .send()
        .await
        .map_or(0, |r| r.status().as_u16());
    (status, started.elapsed())
}

/// Reads until the server closes the connection (EOF or reset); what was read.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_connections_are_closed_and_normal_requests_still_answered_with_the_defaults() {
    let defaults = ServerLimits::default();
    // The guarantee below (closed within 20 s) holds because of these defaults.
    assert!(defaults.header_read_timeout_secs <= 10, "{defaults:?}");
    assert!(defaults.max_connections > 1500, "{defaults:?}");
    let handle = start(None).await;
    let addr = handle.local_addr;
    let started = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..1500 {
        let mut stream = TcpStream::connect(addr).await.expect("connect");
        // Headers begun, never finished.
        stream
            .write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("write");
        slow.push(stream);
    }
    // Keep trickling a byte on each, as slowloris does, while a normal client asks.
    let trickle = async {
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            for stream in &mut slow {
                let _ = stream.write_all(b"a").await;
            }
        }
    };
    let ((status, took), ()) = tokio::join!(normal_request(&handle), trickle);
    assert_eq!(status, 200, "a normal request under 1,500 slow connections");
    assert!(took < Duration::from_secs(2), "answered in {took:?}");

    // Every slow connection is closed by the server within 20 s of being opened.
    let closes = slow.iter_mut().map(|stream| async move {
        tokio::time::timeout(Duration::from_secs(20), read_until_closed(stream)).await
    });
    let outcomes = futures::future::join_all(closes).await;
    let still_open = outcomes.iter().filter(|o| o.is_err()).count();
    assert_eq!(still_open, 0, "slow connections still open after 20 s");
    assert!(started.elapsed() < Duration::from_secs(25));
    // And the server is still fine.
    assert_eq!(normal_request(&handle).await.0, 200);
    handle.shutdown().await.expect("clean shutdown");
}

fn short_limits(max_connections: usize) -> ServerLimits {
    ServerLimits {
        header_read_timeout_secs: 1,
        request_timeout_secs: 1,
        max_connections,
    }
}

#[tokio::test]
async fn a_half_sent_body_gets_408_and_the_connection_closes() {
    let handle = start(Some(short_limits(64))).await;
    let mut stream = TcpStream::connect(handle.local_addr)
        .await
        .expect("connect");
    stream
        .write_all(
            b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type=",
        )
        .await
        .expect("write");
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(5), read_until_closed(&mut stream))
        .await
        .expect("closed within 5 s");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(3));
    handle.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let handle = start(Some(short_limits(64))).await;
    let mut stream = TcpStream::connect(handle.local_addr)
        .await
        .expect("connect");
    stream
        .write_all(b"GET /jwks HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("write");
    let mut buf = [0u8; 4096];
    let n = stream.read(&mut buf).await.expect("answer");
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    // Now idle: the server ends the connection after the header-read timeout.
    let started = Instant::now();
    tokio::time::timeout(Duration::from_secs(5), read_until_closed(&mut stream))
        .await
        .expect("closed within 5 s");
    assert!(started.elapsed() < Duration::from_secs(3));
    handle.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn connections_beyond_the_cap_are_refused_with_503_and_served_again_once_freed() {
    let handle = start(Some(short_limits(4))).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(
            TcpStream::connect(handle.local_addr)
                .await
                .expect("connect"),
        );
    }
    // Let the server accept the four.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(handle.local_addr)
        .await
        .expect("connect");
    let answer = tokio::time::timeout(Duration::from_secs(2), read_until_closed(&mut extra))
        .await
        .expect("refused at once");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("retry-after"), "{text}");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(normal_request(&handle).await.0, 200);
    handle.shutdown().await.expect("clean shutdown");
}
