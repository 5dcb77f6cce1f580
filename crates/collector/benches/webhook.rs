//! Webhook throughput: single-report pushes acknowledged per second with 32 concurrent
//! senders (keep-alive HTTP/1.1, hyper client) into a JSONL journal, with group commit
//! (at a few commit windows) and without it (the baseline: one write and fsync per push),
//! measured in the same run. Run with `cargo xtask bench webhook`.
//!
//! Bounded: at most `PUSHES` pushes per configuration and `TIME_CAP` each, so it ends by
//! itself. Every acknowledged push is checked stored exactly once afterwards.
//!
//! `WEBHOOK_BENCH_PUSHES` and `WEBHOOK_BENCH_SENDERS` override the count and the senders.

// A benchmark program: a panic is its failure report.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use ivr_reports_collector::{Collector, JsonlSink, Sink, WebhookConfig};
use tokio::net::TcpStream;

const PUSHES: u64 = 50_000;
const SENDERS: usize = 32;
const TIME_CAP: Duration = Duration::from_secs(20);

/// One v1 report, as Infobip pushes it (the API's own example), with `ID` for its id.
const TEMPLATE: &str = r#"{"results":[{"bulkId":"8c20f086-d82b-48cc-b2b3-3ca5f7aca9fb","messageId":"ID","to":"385981178","sentAt":"2015-02-12T09:58:20.323+0100","doneAt":"2015-02-12T09:58:20.337+0100","duration":10,"mccMnc":"21901","dtmfCodes":"1","price":{"pricePerSecond":0.01,"currency":"EUR"},"status":{"id":5,"groupId":3,"groupName":"DELIVERED","name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"},"error":{"groupId":0,"groupName":"OK","id":5000,"name":"VOICE_ANSWERED","description":"Call answered by human","permanent":true}}]}"#;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Pushes up to `pushes` single-report bodies from `senders` keep-alive connections, on a
/// runtime of its own (two threads, as a separate load generator would have); returns the
/// number acknowledged (`200`) and the elapsed time.
fn load(addr: SocketAddr, prefix: &'static str, pushes: u64, senders: usize) -> (u64, Duration) {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("load")
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let next = Arc::new(AtomicU64::new(0));
                let acked = Arc::new(AtomicU64::new(0));
                let started = Instant::now();
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..senders {
                    let next = Arc::clone(&next);
                    let acked = Arc::clone(&acked);
                    tasks.spawn(async move {
                        let stream = TcpStream::connect(addr).await.unwrap();
                        stream.set_nodelay(true).unwrap();
                        let (mut sender, conn) =
                            hyper::client::conn::http1::handshake(TokioIo::new(stream))
                                .await
                                .unwrap();
                        tokio::spawn(conn);
                        loop {
                            let n = next.fetch_add(1, Ordering::Relaxed);
                            if n >= pushes || started.elapsed() > TIME_CAP {
                                break;
                            }
                            let body = TEMPLATE.replace("\"ID\"", &format!("\"{prefix}-{n}\""));
                            let req = http::Request::post("/webhook")
                                .header("host", "127.0.0.1")
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap();
                            sender.ready().await.unwrap();
                            let response = sender.send_request(req).await.unwrap();
                            let status = response.status();
                            response.into_body().collect().await.unwrap();
                            assert_eq!(status, 200, "push {n} not acknowledged");
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
                while let Some(done) = tasks.join_next().await {
                    done.unwrap();
                }
                (acked.load(Ordering::Relaxed), started.elapsed())
            })
    })
    .join()
    .unwrap()
}

/// One configuration: a fresh sink and webhook, loaded; pushes acknowledged per second.
async fn run(
    name: &str,
    prefix: &'static str,
    sink: Arc<dyn Sink>,
    dir: &std::path::Path,
    pushes: u64,
    senders: usize,
) -> f64 {
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join(format!("{prefix}.spool")))
        .build();
    let webhook = collector
        .bind_webhook("127.0.0.1:0".parse().unwrap(), WebhookConfig::new())
        .unwrap();
    let addr = webhook.local_addr();
    let (acked, elapsed) = tokio::task::spawn_blocking(move || load(addr, prefix, pushes, senders))
        .await
        .unwrap();
    webhook.shutdown(Duration::from_secs(10)).await.unwrap();
    // Every acknowledged push is in the journal, once.
    let stored = sink.reports().await.unwrap();
    assert_eq!(stored.len() as u64, acked, "{name}: stored != acknowledged");
    let counters = collector.counters();
    assert_eq!(counters.stored, acked, "{name}");
    let rate = acked as f64 / elapsed.as_secs_f64();
    println!(
        "{name:<34} {rate:>9.0} pushes/s  ({acked} pushes in {:.2}s)",
        elapsed.as_secs_f64()
    );
    rate
}

fn main() {
    let pushes = env_or("WEBHOOK_BENCH_PUSHES", PUSHES);
    let senders = env_or("WEBHOOK_BENCH_SENDERS", SENDERS);
    let dir = std::env::temp_dir().join(format!("ivr-webhook-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("collector")
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "webhook: single-report JSON pushes, {senders} senders (keep-alive), at most {pushes} \
             pushes and {}s per configuration, JSONL journal in {}",
            TIME_CAP.as_secs(),
            dir.display()
        );
        let baseline = run(
            "no group commit (baseline)",
            "base",
            Arc::new(
                JsonlSink::builder(dir.join("base.jsonl"))
                    .group_commit(false)
                    .open()
                    .await
                    .unwrap(),
            ),
            &dir,
            pushes,
            senders,
        )
        .await;
        let mut best = (0.0, Duration::ZERO);
        for (name, prefix, window) in [
            ("group commit, window 0", "w0", Duration::ZERO),
            ("group commit, window 1 ms", "w1", Duration::from_millis(1)),
            ("group commit, window 2 ms", "w2", Duration::from_millis(2)),
            ("group commit, window 3 ms", "w3", Duration::from_millis(3)),
        ] {
            let sink = JsonlSink::builder(dir.join(format!("{prefix}.jsonl")))
                .commit_window(window)
                .open()
                .await
                .unwrap();
            let rate = run(name, prefix, Arc::new(sink), &dir, pushes, senders).await;
            println!("{:<34} {:>9.2}x the baseline", "", rate / baseline);
            if rate > best.0 {
                best = (rate, window);
            }
        }
        println!(
            "best: window {} ms, {:.0} pushes/s, {:.2}x the baseline (target >= 10,000 pushes/s)",
            best.1.as_millis(),
            best.0,
            best.0 / baseline
        );
        postgres(&dir, pushes, senders).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same load into PostgreSQL (`IVR_REPORTS_PG_URL`, as the tests use it; feature
/// `postgres`): concurrent stores grouped into one statement, against one statement per
/// push. Each run gets a schema of its own, dropped afterwards.
#[cfg(feature = "postgres")]
async fn postgres(dir: &std::path::Path, pushes: u64, senders: usize) {
    use ivr_reports_collector::PgSink;
    let Some(url) = std::env::var("IVR_REPORTS_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("postgres: skipped (set IVR_REPORTS_PG_URL, e.g. eval \"$(cargo xtask env)\")");
        return;
    };
    let mut baseline = 0.0;
    for (name, prefix, group) in [
        ("postgres, one statement per push", "pg-base", false),
        ("postgres, grouped statements", "pg-group", true),
    ] {
        let schema = format!("bench_webhook_{}_{prefix}", std::process::id()).replace('-', "_");
        let sink = PgSink::builder(url.clone())
            .schema(schema.clone())
            .group_commit(group)
            .connect()
            .await
            .unwrap();
        let rate = run(name, prefix, Arc::new(sink), dir, pushes, senders).await;
        if group {
            println!(
                "{:<34} {:>9.2}x one statement per push",
                "",
                rate / baseline
            );
        } else {
            baseline = rate;
        }
        if let Ok((db, connection)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
            tokio::spawn(connection);
            let _ = db
                .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                .await;
        }
    }
}

#[cfg(not(feature = "postgres"))]
async fn postgres(_: &std::path::Path, _: u64, _: usize) {
    println!("postgres: skipped (build with --features postgres)");
}
