//! Concurrent pulls: several report requests in flight, each with its own in-flight marker,
//! their spool writes sharing syncs; every report still stored exactly once; a throttling
//! API lowers the number in flight.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ivr_reports_collector::{Collector, Event, JsonlSink, Sink};
use ivr_reports_sandbox::{Faults, SandboxHandle};

use crate::{GatedSink, TempDir, client, sandbox, v2};

/// Counts requests in flight (marker synced, body not yet spooled) as the events say, and
/// keeps the largest number seen and every concurrency change.
#[derive(Default)]
struct Watch {
    now: AtomicUsize,
    most: AtomicUsize,
    limits: Mutex<Vec<(usize, bool)>>,
}

impl Watch {
    fn observe(self: &Arc<Self>) -> impl Fn(&Event) + Send + Sync + 'static {
        let watch = Arc::clone(self);
        move |event| match event {
            Event::Fetching => {
                let n = watch.now.fetch_add(1, Ordering::SeqCst) + 1;
                watch.most.fetch_max(n, Ordering::SeqCst);
            }
            Event::Spooled { .. } => {
                watch.now.fetch_sub(1, Ordering::SeqCst);
            }
            Event::Concurrency { limit, throttled } => {
                watch.limits.lock().unwrap().push((*limit, *throttled));
            }
            _ => {}
        }
    }
}

/// Drains `sink` with 8 requests in flight and checks, from the sandbox's records, that
/// every report it handed out is stored exactly once.
async fn exactly_once_with_eight(sandbox: &SandboxHandle, sink: Arc<dyn Sink>, dir: &TempDir) {
    const N: usize = 20_000;
    sandbox.inject_v2((0..N).map(|i| v2(&format!("c-{i}"))));
    // Answers come after 20 ms, so requests overlap.
    sandbox.set_faults(Faults::new().latency_ms(20)).unwrap();
    let watch = Arc::new(Watch::default());
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .concurrency(8)
        .on_event(watch.observe())
        .build();
    let client = client(sandbox);

    let summary = collector.drain(&client).await.unwrap();
    assert_eq!((summary.received, summary.stored), (N as u64, N as u64));
    assert_eq!(summary.pages, 20, "every non-empty page counted once");
    assert!(
        watch.most.load(Ordering::SeqCst) > 1,
        "requests were in flight together"
    );
    assert_eq!(
        watch.now.load(Ordering::SeqCst),
        0,
        "every request answered"
    );
    let c = sandbox.counters();
    assert_eq!(
        (c.pending, c.handed_out, c.lost_in_transit),
        (0, N as u64, 0)
    );
    let stored = sink.reports().await.unwrap();
    let ids: BTreeSet<String> = stored.iter().map(|r| r.message_id().to_string()).collect();
    let handed: BTreeSet<String> = sandbox.records().all().map(str::to_string).collect();
    assert_eq!(stored.len(), ids.len(), "a report stored twice");
    assert!(ids == handed, "stored and handed out differ");
    let counters = collector.counters();
    assert_eq!((counters.stored, counters.duplicates), (N as u64, 0));
    assert_eq!(counters.concurrency, 8);
    assert_eq!(
        std::fs::metadata(dir.join("spool")).unwrap().len(),
        0,
        "the spool is emptied once nothing is pending"
    );
    // And again: nothing new, no incident.
    assert_eq!(collector.drain(&client).await.unwrap().pages, 0);
    assert_eq!(collector.counters().possible_loss_incidents, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_in_flight_store_every_report_exactly_once() {
    let sandbox = sandbox().await;
    let dir = TempDir::new("eight");
    let sink: Arc<dyn Sink> = Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap());
    exactly_once_with_eight(&sandbox, Arc::clone(&sink), &dir).await;
    let lines = std::fs::read_to_string(dir.join("r.jsonl"))
        .unwrap()
        .lines()
        .count();
    assert_eq!(lines, 20_000, "one journal line per report");
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_in_flight_store_every_report_exactly_once_in_postgres() {
    let url = crate::pg_url("eight_in_flight_store_every_report_exactly_once_in_postgres");
    let sandbox = sandbox().await;
    let dir = TempDir::new("eight-pg");
    let sink = ivr_reports_collector::PgSink::builder(url)
        .schema(crate::unique_schema("eight"))
        .connect()
        .await
        .unwrap();
    exactly_once_with_eight(&sandbox, Arc::new(sink), &dir).await;
}

/// Half the requests answered 429 (Retry-After: 0): the number in flight is halved (seen
/// in the events and the counters), and every report is still stored exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_lowers_the_requests_in_flight_and_loses_nothing() {
    const N: usize = 30_000;
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..N).map(|i| v2(&format!("t-{i}"))));
    sandbox
        .set_faults(Faults::new().rate_429(0.5).retry_after_secs(0))
        .unwrap();
    let dir = TempDir::new("throttled");
    let sink: Arc<dyn Sink> = Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap());
    let watch = Arc::new(Watch::default());
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .concurrency(8)
        .on_event(watch.observe())
        .build();
    let client = client(&sandbox);

    // A request throttled on every attempt at one in flight ends the drain (the pull loop
    // backs off); drain again, a bounded number of times.
    let mut drained = false;
    for _ in 0..200 {
        match collector.drain(&client).await {
            Ok(_) if sandbox.counters().pending == 0 => {
                drained = true;
                break;
            }
            Ok(_) => {}
            Err(e) => assert!(e.to_string().contains("fetching"), "{e}"),
        }
    }
    assert!(drained, "the sandbox was never drained");
    let c = collector.counters();
    assert!(c.throttled > 0, "the sandbox throttled");
    let limits = watch.limits.lock().unwrap().clone();
    let lowest = limits
        .iter()
        .filter(|(_, throttled)| *throttled)
        .map(|(limit, _)| *limit)
        .min();
    assert!(
        lowest.is_some_and(|l| l < 8),
        "the limit went down: {limits:?}"
    );
    // Halved, never below one.
    assert!(limits.iter().all(|(limit, _)| (1..=8).contains(limit)));
    assert!((1..=8).contains(&c.concurrency));

    let stored = sink.reports().await.unwrap();
    let ids: BTreeSet<String> = stored.iter().map(|r| r.message_id().to_string()).collect();
    assert_eq!((stored.len(), ids.len()), (N, N), "each report once");
    let s = sandbox.counters();
    assert_eq!((s.handed_out, s.lost_in_transit), (N as u64, 0));
    assert_eq!(c.possible_loss_incidents, 0);
}

/// Stopping a drain with 8 requests in flight sends no further request and stores what
/// those in flight bring: no response is dropped, no incident, the spool is emptied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_finishes_every_request_in_flight() {
    const N: usize = 20_000;
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..N).map(|i| v2(&format!("s-{i}"))));
    sandbox.set_faults(Faults::new().latency_ms(200)).unwrap();
    let dir = TempDir::new("stop-eight");
    let sink: Arc<dyn Sink> = Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap());
    // Stop as soon as the first request is on its way.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let tx = Mutex::new(Some(tx));
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .concurrency(8)
        .on_event(move |event| {
            if matches!(event, Event::Fetching)
                && let Some(tx) = tx.lock().unwrap().take()
            {
                let _ = tx.send(());
            }
        })
        .build();
    let client = client(&sandbox);

    let summary = collector
        .drain_until(&client, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    let c = sandbox.counters();
    assert!(
        c.handed_out > 0 && c.handed_out <= 8 * 1000,
        "only the requests in flight at the stop were answered: {c:?}"
    );
    assert_eq!(summary.stored, c.handed_out, "every answer stored");
    assert_eq!(sink.reports().await.unwrap().len() as u64, c.handed_out);
    assert_eq!(collector.counters().possible_loss_incidents, 0);
    assert_eq!(std::fs::metadata(dir.join("spool")).unwrap().len(), 0);
}

/// Of several requests that fail at once, the drain reports the lost response, whatever
/// failed beside it and whichever answer came first: the caller must learn of the possible
/// loss. (Seen through a crate outside the workspace: a drain that lost a response said
/// "fetching reports failed" because a refused sibling's error was kept instead.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_response_outranks_the_other_failures_of_its_drain() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // The first connection is answered by nothing (after a while, so that the other
        // requests' answers arrive first); every later one gets a 500 at once.
        for n in 0..64 {
            let Ok(Ok((mut stream, _))) =
                tokio::time::timeout(std::time::Duration::from_secs(10), listener.accept()).await
            else {
                return;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(k) => head.extend_from_slice(&buf[..k]),
                    }
                }
                if n == 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                    drop(stream);
                } else {
                    let _ = stream
                        .write_all(
                            b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                        )
                        .await;
                    let _ = stream.shutdown().await;
                }
            });
        }
    });
    let client = ivr_reports::Client::builder()
        .base_url(format!("http://{addr}"))
        .auth(ivr_reports::Auth::app(crate::KEY))
        .build()
        .unwrap();
    let dir = TempDir::new("worst");
    let sink = JsonlSink::open(dir.join("reports.jsonl")).await.unwrap();
    let collector = Collector::builder(Arc::new(sink))
        .spool_path(dir.join("pull.spool"))
        .concurrency(4)
        .build();
    let err = collector.drain(&client).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ivr_reports_collector::ErrorKind::ResponseLost,
        "{err:?}"
    );
    assert_eq!(collector.counters().lost_response_incidents, 1);
}

/// A request stops counting against the limit once its body is in the spool: with two
/// requests in flight, the next pages are asked for while the sink still stores the first
/// two, and no more pages than the limit wait for the sink. (Before, a page held its slot
/// until stored, so the upstream's latency and the sink's commit added up.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_waiting_for_the_sink_does_not_hold_back_the_next_request() {
    const N: usize = 6_000;
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..N).map(|i| v2(&format!("g-{i}"))));
    let dir = TempDir::new("store-beside");
    let gated = Arc::new(GatedSink {
        inner: Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap()),
        entered: tokio::sync::Notify::new(),
        gate: tokio::sync::Semaphore::new(0),
    });
    let collector = Collector::builder(Arc::clone(&gated) as Arc<dyn Sink>)
        .spool_path(dir.join("spool"))
        .concurrency(2)
        .build();
    let client = client(&sandbox);
    let drain = tokio::spawn({
        let collector = collector.clone();
        async move { collector.drain(&client).await }
    });

    // The first two pages wait for the gate; two more requests are answered all the same.
    let four_pages = async {
        while sandbox.counters().handed_out < 4_000 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(20), four_pages)
        .await
        .expect("no page was asked for while the first two waited for the sink");
    // Four pages wait for the sink now: two waiting to be stored plus two in flight would
    // be past the limit, so no fifth request.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        sandbox.counters().handed_out,
        4_000,
        "no more pages waiting than the limit"
    );
    assert_eq!(collector.counters().stored, 0);

    gated.gate.add_permits(1_000);
    let summary = drain.await.unwrap().unwrap();
    assert_eq!((summary.received, summary.stored), (N as u64, N as u64));
    let stored = gated.reports().await.unwrap();
    let ids: BTreeSet<String> = stored.iter().map(|r| r.message_id().to_string()).collect();
    assert_eq!(
        (stored.len(), ids.len()),
        (N, N),
        "every report stored once"
    );
    assert_eq!(std::fs::metadata(dir.join("spool")).unwrap().len(), 0);
}
