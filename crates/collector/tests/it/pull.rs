//! The pull loop against the sandbox: drains, lost responses, backoff, stop, spool replay.

use std::sync::Arc;
use std::time::Duration;

use ivr_reports_collector::{AnyReport, Collector, ErrorKind, Generation, JsonlSink, Sink};
use ivr_reports_sandbox::Faults;

use crate::{FlakySink, TempDir, client, sandbox, v1, v2, wait_until};

async fn journal(dir: &TempDir) -> Arc<dyn Sink> {
    Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_takes_every_page_until_an_empty_one() {
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..2500).map(|i| v2(&format!("m-{i}"))));
    sandbox.inject_v1((0..30).map(|i| v1(&format!("old-{i}"))));
    let dir = TempDir::new("drain");
    let sink = journal(&dir).await;
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .build();
    let client = client(&sandbox);

    let summary = collector.drain(&client).await.unwrap();
    assert_eq!(
        (summary.pages, summary.received, summary.stored),
        (3, 2500, 2500)
    );
    assert_eq!(sandbox.counters().handed_out, 2500);
    assert_eq!(collector.drain(&client).await.unwrap().pages, 0);

    // The v1 endpoint is another collector's job here (one spool per collector).
    let v1_collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool-v1"))
        .generation(Generation::V1)
        .build();
    assert_eq!(v1_collector.drain(&client).await.unwrap().stored, 30);

    let stored = sink.reports().await.unwrap();
    assert_eq!(stored.len(), 2530);
    let first = stored.iter().find(|r| r.message_id() == "m-0").unwrap();
    assert_eq!(first, &AnyReport::from(v2("m-0")), "stored exactly as sent");
    assert!(stored.iter().any(|r| r.generation() == Generation::V1));
    let c = collector.counters();
    assert_eq!(
        (c.received_pull, c.stored, c.duplicates, c.quarantined),
        (2500, 2500, 0, 0)
    );
    assert_eq!(sandbox.counters().pending, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_response_is_an_incident_of_its_own() {
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..10).map(|i| v2(&format!("l-{i}"))));
    sandbox
        .set_faults(Faults::new().drop_after_take(1.0))
        .unwrap();
    let dir = TempDir::new("lost");
    let collector = Collector::builder(journal(&dir).await)
        .spool_path(dir.join("spool"))
        .build();
    let e = collector.drain(&client(&sandbox)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseLost, "{e}");
    assert!(e.to_string().contains("may have been consumed"), "{e}");
    assert_eq!(collector.counters().lost_response_incidents, 1);
    assert_eq!(sandbox.counters().lost_in_transit, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_pull_polls_backs_off_and_stops_cleanly() {
    let sandbox = sandbox().await;
    sandbox.set_faults(Faults::new().rate_500(1.0)).unwrap();
    let dir = TempDir::new("run");
    let sink = journal(&dir).await;
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .poll_interval(Duration::from_millis(30))
        .backoff(Duration::from_millis(10), Duration::from_millis(40))
        .build();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = {
        let collector = collector.clone();
        let client = client(&sandbox);
        tokio::spawn(async move {
            collector
                .run_pull(&client, async {
                    let _ = stop_rx.await;
                })
                .await
        })
    };
    wait_until("two failed pulls", Duration::from_secs(10), || {
        collector.counters().pull_errors >= 2
    })
    .await;
    assert!(
        collector
            .last_error()
            .unwrap()
            .starts_with("fetching reports failed: 500 from http://127.0.0.1")
    );

    sandbox.set_faults(Faults::new()).unwrap();
    sandbox.inject_v2((0..1500).map(|i| v2(&format!("p-{i}"))));
    wait_until("1500 stored", Duration::from_secs(20), || {
        collector.counters().stored == 1500
    })
    .await;
    // Reports arriving later are picked up after the poll interval.
    sandbox.inject_v2((0..5).map(|i| v2(&format!("q-{i}"))));
    wait_until("5 more stored", Duration::from_secs(20), || {
        collector.counters().stored == 1505
    })
    .await;

    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("run_pull stops")
        .unwrap()
        .unwrap();
    assert_eq!(sink.reports().await.unwrap().len(), 1505);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_spooled_before_a_sink_failure_is_replayed() {
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..20).map(|i| v2(&format!("s-{i}"))));
    let dir = TempDir::new("spool");
    let sink = journal(&dir).await;
    let flaky = Arc::new(FlakySink::new(Arc::clone(&sink), 1));
    // One request at a time: the one body in the spool is replayed once.
    let collector = Collector::builder(flaky)
        .spool_path(dir.join("spool"))
        .concurrency(1)
        .build();
    let client = client(&sandbox);

    let e = collector.drain(&client).await.unwrap_err();
    assert_eq!(
        e.kind(),
        ErrorKind::Locked,
        "the flaky sink's error comes back: {e}"
    );
    assert_eq!(
        sandbox.counters().handed_out,
        20,
        "the reports left the sandbox"
    );
    assert!(sink.reports().await.unwrap().is_empty());
    assert!(
        std::fs::metadata(dir.join("spool")).unwrap().len() > 0,
        "but not the spool"
    );

    let summary = collector.drain(&client).await.unwrap();
    assert_eq!(summary.stored, 0, "the drain itself found nothing new");
    assert_eq!(sink.reports().await.unwrap().len(), 20);
    let c = collector.counters();
    assert_eq!((c.spool_replays, c.stored), (1, 20));
    assert_eq!(std::fs::metadata(dir.join("spool")).unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backoff_starts_afresh_after_progress() {
    // A backlog of 30 pages, 30% of requests answered 500. Without the reset the wait
    // doubles on every failure across the whole backlog (10 ms, 20 ms, ... 40 s); with it
    // each failure after a stored page waits 10 ms again. The bound is generous: the
    // drain takes well under a second once the backoff resets.
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..30_000).map(|i| v2(&format!("b-{i}"))));
    sandbox.set_faults(Faults::new().rate_500(0.3)).unwrap();
    let dir = TempDir::new("backoff-reset");
    let sink = journal(&dir).await;
    let waits = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&waits);
    let progress = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // One request at a time: a failed page is a failed drain. With more in flight, the
    // failures of one drain count once, and fewer than 5 drains may fail (seen in CI).
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .concurrency(1)
        .poll_interval(Duration::from_millis(10))
        .backoff(Duration::from_millis(10), Duration::from_secs(60))
        .on_event(move |event| match event {
            ivr_reports_collector::Event::Committed { received, .. } if *received > 0 => {
                progress.store(true, std::sync::atomic::Ordering::SeqCst);
            }
            ivr_reports_collector::Event::BackingOff { wait } => {
                let after_progress = progress.swap(false, std::sync::atomic::Ordering::SeqCst);
                seen.lock().unwrap().push((after_progress, *wait));
            }
            _ => {}
        })
        .build();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let task = {
        let collector = collector.clone();
        let client = client(&sandbox);
        tokio::spawn(async move {
            collector
                .run_pull(&client, async {
                    let _ = stop_rx.await;
                })
                .await
        })
    };
    wait_until("30,000 stored", Duration::from_secs(30), || {
        collector.counters().stored == 30_000
    })
    .await;
    stop_tx.send(()).unwrap();
    task.await.unwrap().unwrap();
    let c = collector.counters();
    assert!(c.pull_errors >= 5, "the faults struck: {c:?}");
    let waits = waits.lock().unwrap();
    for (after_progress, wait) in waits.iter() {
        if *after_progress {
            assert_eq!(*wait, Duration::from_millis(10), "{waits:?}");
        }
    }
    assert!(waits.iter().any(|(p, _)| *p), "{waits:?}");
}
