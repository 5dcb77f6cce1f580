//! Reconciliation against the sandbox's voice logs: windows larger than a page, pending
//! messages that become final later, the logs' rate limit, and the 48-hour retention.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use ivr_reports::{Auth, Client};
use ivr_reports_collector::model::Limit;
use ivr_reports_collector::{
    Collector, ErrorKind, IncidentState, JsonlSink, Origin, ReconcileConfig, Sink,
};
use ivr_reports_sandbox::{Faults, Sandbox, SandboxHandle};

use crate::{KEY, TempDir};

async fn sandbox_with_logs_limit(requests: u32, window: Duration) -> SandboxHandle {
    Sandbox::builder()
        .api_key(KEY)
        .logs_rate_limit(requests, window)
        .start()
        .await
        .unwrap()
}

/// A client without retries: a 429 would show up as an error, not be hidden by a retry.
fn client(sandbox: &SandboxHandle) -> Client {
    Client::builder()
        .base_url(sandbox.base_url())
        .auth(Auth::app(KEY))
        .build()
        .unwrap()
}

async fn collector(dir: &TempDir) -> (Arc<JsonlSink>, Collector) {
    let sink = Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap());
    let collector = Collector::builder(Arc::clone(&sink) as Arc<dyn Sink>)
        .spool_path(dir.join("r.spool"))
        .build();
    (sink, collector)
}

/// Every report request of `collector` loses its answer once: one incident.
async fn lose_a_response(sandbox: &SandboxHandle, collector: &Collector) {
    sandbox
        .set_faults(Faults::new().drop_after_take(1.0))
        .unwrap();
    let e = collector.drain(&client(sandbox)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseLost, "{e}");
    sandbox.set_faults(Faults::new()).unwrap();
    assert_eq!(collector.incidents().await.unwrap().len(), 1);
}

/// Logs requests a minute reconciliation asks for (the sandbox allows 600).
const RATE: u32 = 480;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_split_pending_waits_and_the_rate_limit_holds() {
    // 10 logs requests a second at most; reconciliation asks for 8.
    let s = sandbox_with_logs_limit(10, Duration::from_secs(1)).await;
    let mut ids = Vec::new();
    for c in 0..6 {
        ids.extend(s.simulate_campaign(&format!("r-{c}"), 100));
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    // Five calls are still going on: pending in the logs, no report yet.
    assert_eq!(s.hold(&ids[..5]), 5);
    let dir = TempDir::new("reconcile-sandbox");
    let (sink, collector) = collector(&dir).await;
    lose_a_response(&s, &collector).await;
    assert_eq!(s.counters().lost_in_transit, 595);

    // Pages of 150 over 600 messages (100 a millisecond): the window is split.
    // (A margin of 10 minutes rather than 48 hours: fewer halvings to reach the calls.)
    let config = ReconcileConfig::new()
        .margin(Duration::from_secs(600))
        .page_limit(Limit::new(150).unwrap())
        .requests_per_minute(RATE);
    let logs = client(&s);
    let done = collector.reconcile(&logs, &config).await.unwrap();
    assert_eq!(done.incidents.len(), 1);
    assert_eq!(done.incidents[0].state, IncidentState::Pending(5));
    assert_eq!(done.recovered, 595);
    assert!(done.requests > 6, "{} requests", done.requests);
    assert_eq!(s.counters().logs_throttled, 0, "over the logs' rate limit");
    assert!(collector.incidents().await.unwrap()[0].is_open());

    // The calls end: the next reconciliation recovers them and closes the incident.
    assert_eq!(s.release_all(), 5);
    let done = collector.reconcile(&logs, &config).await.unwrap();
    assert_eq!(done.incidents[0].state, IncidentState::Closed);
    assert_eq!(done.recovered, 5);
    assert!(!collector.incidents().await.unwrap()[0].is_open());
    // Nothing open: nothing read.
    let again = collector.reconcile(&logs, &config).await.unwrap();
    assert_eq!((again.incidents.len(), again.requests), (0, 0));

    // Their reports were never handed out: a pull now brings the full reports, which
    // replace the recovered ones; each message is stored once.
    collector.drain(&logs).await.unwrap();
    let c = collector.counters();
    assert_eq!((c.recovered, c.replaced_recovered, c.stored), (600, 5, 0));
    let metrics = c.to_prometheus();
    assert!(
        metrics.contains("ivr_reports_replaced_recovered_total 5\n"),
        "{metrics}"
    );
    let stored = sink.stored().await.unwrap();
    assert_eq!(stored.len(), 600);
    let pulled: Vec<_> = stored
        .iter()
        .filter(|r| r.origin == Origin::Pulled)
        .map(|r| r.report.message_id().to_string())
        .collect();
    assert_eq!(pulled.len(), 5);
    assert!(pulled.iter().all(|id| ids[..5].contains(id)));
    assert_eq!(s.counters().logs_throttled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_older_than_the_retention_stays_open() {
    let s = sandbox_with_logs_limit(120, Duration::from_secs(60)).await;
    s.simulate_campaign("old", 20);
    let dir = TempDir::new("reconcile-retention");
    let (sink, collector) = collector(&dir).await;
    lose_a_response(&s, &collector).await;
    // 49 hours later (sandbox time): the logs of the incident's window are gone.
    let now = s.advance_clock(Duration::from_secs(49 * 3600));
    let now = UNIX_EPOCH + Duration::from_millis(u64::try_from(now.unix_millis()).unwrap());
    let config = ReconcileConfig::new().now(now);
    for _ in 0..2 {
        let done = collector.reconcile(&client(&s), &config).await.unwrap();
        assert_eq!(done.incidents.len(), 1, "it stays open, every run");
        assert_eq!(done.incidents[0].state, IncidentState::BeyondRetention);
        assert_eq!(done.recovered, 0);
    }
    assert!(collector.incidents().await.unwrap()[0].is_open());
    assert!(sink.stored().await.unwrap().is_empty());
}
