//! Sandbox throughput and memory: `GET /tts/3/reports?limit=50` against 1,000,000 pending
//! reports, beside a bare hyper server returning a fixed body of the same size, with the same
//! load generator in the same run. Run with `cargo xtask bench sandbox`.
//!
//! Bounded: a fixed number of requests per server (and a time cap), so it ends by itself.

// A benchmark program: a panic is its failure report.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use ivr_reports_sandbox::Sandbox;
use tokio::net::{TcpListener, TcpStream};

const PENDING: usize = 1_000_000;
const REQUESTS: u64 = 15_000;
const CONNECTIONS: usize = 16;
const TIME_CAP: Duration = Duration::from_secs(60);

#[path = "support/spec_report.rs"]
mod spec_report;
use spec_report::{report, template};

/// Resident and peak resident memory of this process, in bytes (Linux).
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Sends `REQUESTS` GETs over `CONNECTIONS` keep-alive connections; returns requests/s and
/// the body size of the first response.
/// Runs [`load`] on a runtime of its own (its own two threads), as a separate load generator
/// would, so the server under test does not share its workers with its clients.
fn load_from_outside(addr: SocketAddr, path: &'static str, auth: &'static str) -> (f64, usize) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("load")
            .enable_all()
            .build()
            .unwrap()
            .block_on(load(addr, path, auth))
    })
    .join()
    .unwrap()
}

async fn load(addr: SocketAddr, path: &'static str, auth: &'static str) -> (f64, usize) {
    let remaining = Arc::new(AtomicU64::new(REQUESTS));
    let body_size = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let remaining = Arc::clone(&remaining);
        let body_size = Arc::clone(&body_size);
        tasks.spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .unwrap();
            tokio::spawn(conn);
            while remaining
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
            {
                if started.elapsed() > TIME_CAP {
                    break;
                }
                let req = http::Request::get(path)
                    .header("host", "127.0.0.1")
                    .header("accept", "application/json")
                    .header("authorization", auth)
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                // hyper wants the connection polled ready before each request.
                sender.ready().await.unwrap();
                let response = sender.send_request(req).await.unwrap();
                assert_eq!(response.status(), 200);
                let body = response.into_body().collect().await.unwrap().to_bytes();
                body_size.store(body.len() as u64, Ordering::Relaxed);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let done = REQUESTS - remaining.load(Ordering::Relaxed);
    let rate = done as f64 / started.elapsed().as_secs_f64();
    (rate, body_size.load(Ordering::Relaxed) as usize)
}

/// A bare hyper HTTP/1.1 server answering every request with `body`.
async fn bare_server(body: Bytes) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            stream.set_nodelay(true).unwrap();
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        let mut response = http::Response::new(Full::new(body));
                        response.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("server")
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = Sandbox::builder().api_key("bench").start().await.unwrap();
        let template = template();
        let (before, _) = rss();
        let started = Instant::now();
        // In chunks, so the model values never all live at once: what stays is the store.
        for chunk in (0..PENDING).collect::<Vec<_>>().chunks(50_000) {
            sandbox.inject_v1(chunk.iter().map(|&i| report(&template, i)));
        }
        let (after, peak) = rss();
        println!(
            "sandbox: {PENDING} pending v1 reports injected in {:.1}s; resident memory {:.0} B per report (peak {:.0} B)",
            started.elapsed().as_secs_f64(),
            (after.saturating_sub(before)) as f64 / PENDING as f64,
            (peak.saturating_sub(before)) as f64 / PENDING as f64,
        );

        let addr = sandbox.local_addr();
        let (sandbox_rate, size) =
            tokio::task::spawn_blocking(move || load_from_outside(addr, "/tts/3/reports?limit=50", "App bench"))
                .await
                .unwrap();
        let bare = bare_server(Bytes::from(vec![b' '; size])).await;
        let (bare_rate, _) = tokio::task::spawn_blocking(move || {
            load_from_outside(bare, "/tts/3/reports?limit=50", "App bench")
        })
        .await
        .unwrap();
        println!("body of a 50-report page: {size} bytes; {REQUESTS} requests in all, over {CONNECTIONS} connections, per server");
        println!("sandbox:     {sandbox_rate:>9.0} requests/s");
        println!("bare hyper:  {bare_rate:>9.0} requests/s");
        println!("ratio sandbox / bare hyper: {:.2}x (target >= 0.5x)", sandbox_rate / bare_rate);
        println!("pending after the run: {}", sandbox.counters().pending);
        sandbox.shutdown().await.unwrap();
    });
}
