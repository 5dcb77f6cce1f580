//! Draining 100,000 v1 reports from a sandbox through `Client::drain` (limit 1000), beside a
//! minimal hand-written hyper client that fetches the same pages and decodes them with plain
//! serde_json derive structs, in the same run. Run with `cargo bench -p ivr-reports`.
//!
//! Bounded: three alternating rounds per side; prints reports/s and the ratio of the best.

// A benchmark program: a panic is its failure report.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use ivr_reports::{Auth, Client, Limit, ReportsQuery, VoiceReport};
use ivr_reports_sandbox::{Sandbox, SandboxHandle};

const REPORTS: usize = 100_000;
const ROUNDS: usize = 3;
const KEY: &str = "bench-key";

#[path = "support/spec_report.rs"]
mod spec_report;
use spec_report::{report, template};

// The baseline's own types: what a hand-written client would decode into.
#[path = "support/baseline.rs"]
mod baseline;
use baseline::BasePage;

fn inject(sandbox: &SandboxHandle, template: &VoiceReport) {
    for start in (0..REPORTS).step_by(20_000) {
        sandbox.inject_v1((start..start + 20_000).map(|i| report(template, i)));
    }
}

async fn ours(client: &Client) -> usize {
    let mut n = 0;
    let mut pages = client.drain::<VoiceReport>(ReportsQuery::new().limit(Limit::MAX));
    while let Some(page) = pages.next().await {
        n += page
            .unwrap_or_else(|e| panic!("drain failed: {e:?}"))
            .reports
            .len();
    }
    n
}

async fn baseline(addr: SocketAddr) -> usize {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut n = 0;
    loop {
        let req = http::Request::get("/tts/3/reports?limit=1000")
            .header("host", addr.to_string())
            .header("accept", "application/json")
            .header("authorization", format!("App {KEY}"))
            .body(Empty::<Bytes>::new())
            .unwrap();
        // hyper wants the connection polled ready before each request.
        sender.ready().await.unwrap();
        let response = sender.send_request(req).await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let page: BasePage = serde_json::from_slice(&body).unwrap();
        if page.results.is_empty() {
            return n;
        }
        n += page.results.len();
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = Sandbox::builder().api_key(KEY).start().await.unwrap();
        let client = Client::builder()
            .base_url(sandbox.base_url())
            .auth(Auth::app(KEY))
            .build()
            .unwrap();
        let template = template();
        let (mut best_ours, mut best_base) = (0f64, 0f64);
        for round in 1..=ROUNDS {
            inject(&sandbox, &template);
            let t = Instant::now();
            let n = ours(&client).await;
            let rate = n as f64 / t.elapsed().as_secs_f64();
            assert_eq!(n, REPORTS);
            best_ours = best_ours.max(rate);

            inject(&sandbox, &template);
            let t = Instant::now();
            let n = baseline(sandbox.local_addr()).await;
            let base = n as f64 / t.elapsed().as_secs_f64();
            assert_eq!(n, REPORTS);
            best_base = best_base.max(base);
            println!("round {round}: Client::drain {rate:>9.0} reports/s, hand-written hyper + serde_json {base:>9.0} reports/s");
        }
        println!("best of {ROUNDS}: Client::drain {best_ours:.0} reports/s, baseline {best_base:.0} reports/s");
        println!("ratio Client::drain / baseline: {:.2}x (target >= 0.9x)", best_ours / best_base);
        sandbox.shutdown().await.unwrap();
    });
}
