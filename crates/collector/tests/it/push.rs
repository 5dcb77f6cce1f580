//! The webhook: pushes from the sandbox, duplicates, a failing sink, quarantine and replay.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use ivr_reports::Format;
use ivr_reports_collector::{
    AnyReport, Collector, ErrorKind, Generation, JsonlSink, Quarantined, Scope, Sink, Source,
    WebhookConfig,
};

use crate::{
    FlakySink, GatedSink, TempDir, client, get, post, sandbox, send_calls, v1, wait_until,
};

async fn journal(dir: &TempDir) -> Arc<dyn Sink> {
    Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap())
}

fn ids(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_of_each_version_and_format_are_stored() {
    let sandbox = sandbox().await;
    let dir = TempDir::new("push");
    let sink = journal(&dir).await;
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .build();
    let webhook = collector
        .bind_webhook("127.0.0.1:0".parse().unwrap(), WebhookConfig::new())
        .unwrap();
    let url = webhook.url();
    for (prefix, content_type, version) in [
        ("j1", "application/json", 1),
        ("j2", "application/json", 2),
        ("x1", "application/xml", 1),
        ("x2", "application/xml", 2),
    ] {
        send_calls(&sandbox, &url, &ids(prefix, 3), content_type, version).await;
    }
    wait_until("12 pushes stored", Duration::from_secs(20), || {
        collector.counters().stored == 12
    })
    .await;
    let stored = sink.reports().await.unwrap();
    for r in &stored {
        // Ids are `j1-0`, `x2-1`...: the digit is the pushed version.
        let version = &r.message_id()[1..2];
        let generation = if version == "1" {
            Generation::V1
        } else {
            Generation::V2
        };
        assert_eq!(r.generation(), generation, "{}", r.message_id());
        assert!(r.status().is_some());
    }
    let c = collector.counters();
    assert_eq!((c.received_push, c.duplicates, c.quarantined), (12, 0, 0));
    let s = sandbox.counters();
    assert_eq!((s.pushed, s.push_failures), (12, 0));
    webhook.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_pushes_and_a_concurrent_pull_store_each_report_once() {
    let sandbox = sandbox().await;
    let dir = TempDir::new("dups");
    let sink = journal(&dir).await;
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .build();
    let webhook = collector
        .bind_webhook("127.0.0.1:0".parse().unwrap(), WebhookConfig::new())
        .unwrap();
    let ids = ids("d", 200);
    // The same reports are waiting for pull, and are pushed twice.
    sandbox.inject_v2(ids.iter().map(|id| crate::v2(id)));
    let pull = {
        let collector = collector.clone();
        let client = client(&sandbox);
        tokio::spawn(async move { collector.drain(&client).await })
    };
    send_calls(&sandbox, &webhook.url(), &ids, "application/json", 2).await;
    send_calls(&sandbox, &webhook.url(), &ids, "application/xml", 2).await;
    pull.await.unwrap().unwrap();
    wait_until("400 pushes accepted", Duration::from_secs(30), || {
        sandbox.counters().pushed == 400
    })
    .await;

    let stored = sink.reports().await.unwrap();
    let unique: BTreeSet<&str> = stored.iter().map(AnyReport::message_id).collect();
    assert_eq!(stored.len(), 200, "each report once");
    assert_eq!(unique.len(), 200);
    let c = collector.counters();
    assert_eq!(c.received_pull + c.received_push, 600);
    // The pushes come from calls the sandbox simulates for the same ids, so their content
    // differs from the injected reports: whichever came second is a conflict (kept in the
    // quarantine), or a duplicate when it is the same push again.
    assert_eq!((c.stored, c.duplicates + c.conflicts), (200, 400));
    let lines = std::fs::read_to_string(dir.join("r.jsonl")).unwrap();
    assert_eq!(
        lines.lines().count(),
        200,
        "the journal holds each report once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_sink_gets_503_and_the_sender_retries_until_stored() {
    let sandbox = sandbox().await;
    let dir = TempDir::new("flaky-push");
    let sink = journal(&dir).await;
    let collector = Collector::builder(Arc::new(FlakySink::new(Arc::clone(&sink), 3)))
        .spool_path(dir.join("spool"))
        .build();
    let webhook = collector
        .bind_webhook("127.0.0.1:0".parse().unwrap(), WebhookConfig::new())
        .unwrap();
    let ids = ids("f", 5);
    for id in &ids {
        send_calls(
            &sandbox,
            &webhook.url(),
            std::slice::from_ref(id),
            "application/json",
            2,
        )
        .await;
    }
    wait_until("5 pushes accepted", Duration::from_secs(30), || {
        sandbox.counters().pushed == 5
    })
    .await;
    let s = sandbox.counters();
    assert_eq!(s.push_failures, 0, "nothing given up");
    assert_eq!(collector.counters().push_errors, 3, "three 503s");
    let stored: BTreeSet<String> = sink
        .reports()
        .await
        .unwrap()
        .iter()
        .map(|r| r.message_id().to_string())
        .collect();
    assert_eq!(stored, ids.into_iter().collect(), "nothing lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_bodies_are_quarantined_answered_200_and_replayed_later() {
    let dir = TempDir::new("quarantine");
    let sink = journal(&dir).await;
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .build();
    let webhook = collector
        .bind_webhook("127.0.0.1:0".parse().unwrap(), WebhookConfig::new())
        .unwrap();
    let url = webhook.url();

    // One bad report in an otherwise good page; a body that is no page at all.
    let r = post(
        &url,
        "application/json",
        None,
        r#"{"results":[{"messageId":"ok-1","to":"1","duration":3},{"to":"2","duration":"x"}]}"#,
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = post(
        &url,
        "application/xml",
        None,
        "<reportResponse><results><result>",
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = post(&url, "text/plain", None, "garbage").await;
    assert_eq!(r.status(), 200);

    let entries = sink.quarantined().await.unwrap();
    assert_eq!(entries.len(), 3, "{entries:?}");
    assert_eq!(entries[0].item.raw, br#"{"to":"2","duration":"x"}"#);
    assert_eq!(entries[0].item.scope, Scope::Report);
    assert!(
        entries[0].item.reason.starts_with("results[1]."),
        "{}",
        entries[0].item.reason
    );
    assert_eq!(entries[2].item.scope, Scope::Body);
    assert_eq!(entries[2].item.source, Source::Push);
    assert_eq!(sink.reports().await.unwrap().len(), 1);
    assert_eq!(collector.counters().quarantined, 3);

    // Replay: nothing decodes yet...
    let summary = collector.replay_quarantine().await.unwrap();
    assert_eq!(
        (summary.examined, summary.released, summary.remaining),
        (3, 0, 3)
    );
    // ...but an item an older codec rejected does, and leaves the quarantine.
    let mut raw = Vec::new();
    ivr_reports::codec::Codec::new(Format::Json)
        .unwrap()
        .encode_report(&v1("late-1"), &mut raw);
    sink.quarantine(&[Quarantined::new(
        raw,
        "rejected by an older codec",
        Source::Pull,
        Format::Json,
        Some(Generation::V1),
        Scope::Report,
    )])
    .await
    .unwrap();
    let summary = collector.replay_quarantine().await.unwrap();
    assert_eq!(
        (summary.examined, summary.released, summary.stored),
        (4, 1, 1)
    );
    assert_eq!(sink.quarantined().await.unwrap().len(), 3);
    assert!(
        sink.reports()
            .await
            .unwrap()
            .contains(&AnyReport::from(v1("late-1")))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_methods_limits_and_metrics() {
    let dir = TempDir::new("auth");
    let collector = Collector::builder(journal(&dir).await)
        .spool_path(dir.join("spool"))
        .build();
    let webhook = collector
        .bind_webhook(
            "127.0.0.1:0".parse().unwrap(),
            WebhookConfig::new()
                .path("/hooks/ivr")
                .basic_auth("infobip", "pw-123")
                .max_body_bytes(1024),
        )
        .unwrap();
    let url = webhook.url();
    assert!(url.ends_with("/hooks/ivr"));
    let body = r#"{"results":[{"messageId":"a-1","to":"1"}]}"#;
    let good = ivr_reports::Auth::basic("infobip", "pw-123")
        .header_value()
        .unwrap();
    let good = good.to_str().unwrap();

    let r = post(&url, "application/json", None, body).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    let r = post(
        &url,
        "application/json",
        Some("Basic aW5mb2JpcDp3cm9uZw=="),
        body,
    )
    .await;
    assert_eq!(r.status(), 401);
    let r = post(&url, "application/json", Some(good), body).await;
    assert_eq!(r.status(), 200);
    let big = format!(
        r#"{{"results":[{{"messageId":"b","to":"{}"}}]}}"#,
        "9".repeat(2000)
    );
    let r = post(&url, "application/json", Some(good), big).await;
    assert_eq!(r.status(), 413);
    assert_eq!(get(&url).await.status(), 405);
    let base = format!("http://{}", webhook.local_addr());
    assert_eq!(get(&format!("{base}/elsewhere")).await.status(), 404);

    let metrics = get(&format!("{base}/metrics")).await;
    assert_eq!(metrics.status(), 200);
    let text = std::str::from_utf8(metrics.body()).unwrap();
    assert!(
        text.contains("ivr_reports_received_total{source=\"push\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("ivr_reports_stored_total 1\n"), "{text}");
    assert!(
        text.contains("# TYPE ivr_reports_duplicates_total counter\n"),
        "{text}"
    );
    assert!(!text.contains("pw-123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_webhook_needs_credentials_and_keeps_its_secret_path_secret() {
    let dir = TempDir::new("exposure");
    let collector = Collector::builder(journal(&dir).await)
        .spool_path(dir.join("spool"))
        .build();
    let public: std::net::SocketAddr = "0.0.0.0:0".parse().unwrap();
    let kind = |config| collector.bind_webhook(public, config).unwrap_err().kind();
    assert_eq!(kind(WebhookConfig::new()), ErrorKind::InvalidConfig);
    assert_eq!(
        kind(WebhookConfig::new().secret_path("short")),
        ErrorKind::InvalidConfig,
        "a guessable token is no secret"
    );
    assert_eq!(
        kind(WebhookConfig::new().basic_auth("infobip", "")),
        ErrorKind::InvalidConfig
    );

    let token = "Zq4mV8rT2kW9xN3bL7cY5hJ1";
    let webhook = collector
        .bind_webhook(
            "127.0.0.1:0".parse().unwrap(),
            WebhookConfig::new().secret_path(token),
        )
        .unwrap();
    assert!(webhook.url().ends_with(&format!("/webhook/{token}")));
    assert!(!webhook.redacted_url().contains(token));
    assert!(!format!("{webhook:?}").contains(token));
    let body = r#"{"results":[{"messageId":"s-1","to":"1"}]}"#;
    let base = format!("http://{}", webhook.local_addr());
    for wrong in ["/webhook", "/webhook/Zq4mV8rT2kW9xN3bL7cY5hJ2", "/"] {
        let r = post(&format!("{base}{wrong}"), "application/json", None, body).await;
        assert_eq!(r.status(), 404, "{wrong}");
    }
    let r = post(&webhook.url(), "application/json", None, body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(collector.counters().stored, 1);
    webhook.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_that_waits_too_long_for_the_memory_budget_gets_503() {
    let dir = TempDir::new("budget");
    let gated = Arc::new(GatedSink {
        inner: journal(&dir).await,
        entered: tokio::sync::Notify::new(),
        gate: tokio::sync::Semaphore::new(0),
    });
    let collector = Collector::builder(Arc::clone(&gated) as Arc<dyn Sink>)
        .spool_path(dir.join("spool"))
        .build();
    // A budget of 1 KiB: every push takes all of it, so pushes run one at a time, and one
    // that waits more than 200 ms is turned away.
    let webhook = collector
        .bind_webhook(
            "127.0.0.1:0".parse().unwrap(),
            WebhookConfig::new()
                .memory_budget(1024)
                .max_wait(Duration::from_millis(200)),
        )
        .unwrap();
    let url = webhook.url();
    let first = {
        let url = url.clone();
        tokio::spawn(async move {
            post(
                &url,
                "application/json",
                None,
                r#"{"results":[{"messageId":"b-1"}]}"#,
            )
            .await
        })
    };
    // The first push is inside the sink, holding the whole budget, until the gate opens.
    tokio::time::timeout(Duration::from_secs(10), gated.entered.notified())
        .await
        .unwrap();
    let second = post(
        &url,
        "application/json",
        None,
        r#"{"results":[{"messageId":"b-2"}]}"#,
    )
    .await;
    assert_eq!(second.status(), 503);
    assert!(second.headers().contains_key("retry-after"));
    gated.gate.add_permits(10);
    assert_eq!(first.await.unwrap().status(), 200);
    let c = collector.counters();
    assert_eq!((c.stored, c.push_overloaded), (1, 1));
    webhook.shutdown(Duration::from_secs(5)).await.unwrap();
}

/// Every span and event, as text: `LEVEL target message field=value ...`.
#[derive(Clone, Default)]
struct Capture(Arc<std::sync::Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={value:?}", field.name()));
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut line = format!("span {}", span.metadata().name());
        span.record(&mut Fields(&mut line));
        let mut all = self.0.lock().unwrap();
        all.push(line);
        tracing::span::Id::from_u64(all.len() as u64)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut line = "record".to_string();
        values.record(&mut Fields(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = format!("{} {}", event.metadata().level(), event.metadata().target());
        event.record(&mut Fields(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn pushes_are_traced_without_secrets() {
    const PASSWORD: &str = "trace-test-password-5521";
    const TOKEN: &str = "Tr4ceT0kenAbcdefghij0123";
    let capture = Capture::default();
    let lines = Arc::clone(&capture.0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tracing::subscriber::with_default(capture, || {
        runtime.block_on(async {
            let dir = TempDir::new("traced");
            let collector = Collector::builder(journal(&dir).await)
                .spool_path(dir.join("spool"))
                .build();
            let webhook = collector
                .bind_webhook(
                    "127.0.0.1:0".parse().unwrap(),
                    WebhookConfig::new()
                        .basic_auth("infobip", PASSWORD)
                        .secret_path(TOKEN),
                )
                .unwrap();
            let body = r#"{"results":[{"messageId":"t-1","to":"1"},{"to":"2"}]}"#;
            let r = post(&webhook.url(), "application/json", None, body).await;
            assert_eq!(r.status(), 401);
            let right = format!(
                "Basic {}",
                "aW5mb2JpcDp0cmFjZS10ZXN0LXBhc3N3b3JkLTU1MjE=" // infobip:PASSWORD
            );
            let r = post(&webhook.url(), "application/json", Some(&right), body).await;
            assert_eq!(r.status(), 200);
            webhook.shutdown(Duration::from_secs(5)).await.unwrap();
        });
    });
    let lines = lines.lock().unwrap();
    let all = lines.join("\n");
    assert!(all.contains("webhook listening"), "{all}");
    assert!(all.contains("401"), "the refusal is logged: {all}");
    assert!(all.contains("span push bytes="), "a span per push: {all}");
    assert!(
        all.contains("received=2") && all.contains("stored=1"),
        "{all}"
    );
    assert!(all.contains("webhook push quarantined"), "{all}");
    for secret in [
        PASSWORD,
        TOKEN,
        "aW5mb2JpcDp0cmFjZS10ZXN0LXBhc3N3b3JkLTU1MjE=",
    ] {
        assert!(!all.contains(secret), "a secret in the trace: {all}");
    }
}

/// The quarantine cap on both sinks: `quarantine_bytes` grows with what is quarantined, and
/// past `max_quarantine_bytes` an undecodable push gets 507 while a clean one is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quarantine_cap_holds_on_every_sink() {
    let dir = TempDir::new("cap");
    #[cfg_attr(not(feature = "postgres"), allow(unused_mut))]
    let mut sinks: Vec<Arc<dyn Sink>> = vec![journal(&dir).await];
    #[cfg(feature = "postgres")]
    {
        let url = crate::pg_url("the_quarantine_cap_holds_on_every_sink");
        let pg = ivr_reports_collector::PgSink::builder(url)
            .schema(crate::unique_schema("cap"))
            .connect()
            .await
            .unwrap();
        sinks.push(Arc::new(pg));
    }
    for (n, sink) in sinks.into_iter().enumerate() {
        let what = sink.describe();
        assert_eq!(sink.quarantine_bytes().await.unwrap(), Some(0), "{what}");
        let collector = Collector::builder(Arc::clone(&sink))
            .spool_path(dir.join(&format!("spool-{n}")))
            .build();
        let webhook = collector
            .bind_webhook(
                "127.0.0.1:0".parse().unwrap(),
                WebhookConfig::new().max_quarantine_bytes(10_000),
            )
            .unwrap();
        let garbage = "z".repeat(4_000);
        let mut statuses = Vec::new();
        for _ in 0..5 {
            let r = post(&webhook.url(), "application/json", None, garbage.clone()).await;
            statuses.push(r.status().as_u16());
        }
        assert_eq!(statuses, [200, 200, 507, 507, 507], "{what}");
        let used = sink.quarantine_bytes().await.unwrap().unwrap();
        assert!(
            (8_000..=10_000 + 4_000 * 2).contains(&used),
            "{what}: {used}"
        );
        let clean = r#"{"results":[{"messageId":"clean-1","to":"1"}]}"#;
        let r = post(&webhook.url(), "application/json", None, clean).await;
        assert_eq!(r.status(), 200, "{what}");
        let c = collector.counters();
        assert_eq!(
            (c.push_quarantine_full, c.stored, c.quarantined),
            (3, 1, 2),
            "{what}"
        );
        webhook.shutdown(Duration::from_secs(5)).await.unwrap();
    }
}

/// Bodies waiting for the memory budget are in memory already: once they hold a quarter of
/// it, a further push is turned away at once instead of joining them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_waiting_for_the_budget_are_bounded_too() {
    let dir = TempDir::new("waiting");
    let gated = Arc::new(GatedSink {
        inner: journal(&dir).await,
        entered: tokio::sync::Notify::new(),
        gate: tokio::sync::Semaphore::new(0),
    });
    let collector = Collector::builder(Arc::clone(&gated) as Arc<dyn Sink>)
        .spool_path(dir.join("spool"))
        .build();
    // A budget of 1 KiB (every push takes all of it): 256 bytes of bodies may wait.
    let webhook = collector
        .bind_webhook(
            "127.0.0.1:0".parse().unwrap(),
            WebhookConfig::new()
                .memory_budget(1024)
                .max_wait(Duration::from_secs(60)),
        )
        .unwrap();
    let push = |id: String| {
        let url = webhook.url();
        tokio::spawn(async move {
            let body = format!(r#"{{"results":[{{"messageId":"{id}"}}]}}"#);
            post(&url, "application/json", None, body).await.status()
        })
    };
    let first = push("w-1".into());
    tokio::time::timeout(Duration::from_secs(10), gated.entered.notified())
        .await
        .unwrap();
    // Two bodies of ~200 bytes: one may wait, the other would exceed 256 waiting bytes.
    let waiting = [
        push(format!("w-2-{}", "a".repeat(170))),
        push(format!("w-3-{}", "b".repeat(170))),
    ];
    wait_until(
        "one push turned away at once",
        Duration::from_secs(10),
        || waiting.iter().any(|t| t.is_finished()),
    )
    .await;
    gated.gate.add_permits(10);
    assert_eq!(first.await.unwrap(), 200);
    let mut statuses = Vec::new();
    for t in waiting {
        statuses.push(t.await.unwrap().as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 503]);
    let c = collector.counters();
    assert_eq!((c.stored, c.push_overloaded), (2, 1));
    webhook.shutdown(Duration::from_secs(5)).await.unwrap();
}

/// A single-report v1 push body for `id`, as Infobip sends it.
fn one_report_body(id: &str) -> String {
    format!(
        r#"{{"results":[{{"bulkId":"b-1","messageId":"{id}","to":"385981178","sentAt":"2015-02-12T09:58:20.323+0100","doneAt":"2015-02-12T09:58:20.337+0100","duration":10,"price":{{"pricePerSecond":0.01,"currency":"EUR"}},"status":{{"id":5,"groupId":3,"groupName":"DELIVERED","name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"}}}}]}}"#
    )
}

/// Pushes `distinct` reports twice each (`{prefix}-{i}`, the two copies from different
/// senders) from 32 concurrent senders on keep-alive connections, every push answered `200`;
/// then checks every report stored exactly once, the second copies counted as duplicates.
pub(crate) async fn thirty_two_senders_store_every_push_once(
    sink: Arc<dyn Sink>,
    dir: &TempDir,
    prefix: &str,
    distinct: u64,
) {
    const SENDERS: u64 = 32;
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(dir.join("spool"))
        .build();
    let webhook = collector
        .bind_webhook("127.0.0.1:0".parse().unwrap(), WebhookConfig::new())
        .unwrap();
    let url = webhook.url();
    let client = ivr_reports_transport::Client::builder()
        .retry(ivr_reports::RetryPolicy::never())
        .build()
        .unwrap();
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..SENDERS {
        let (client, url, next) = (client.clone(), url.clone(), Arc::clone(&next));
        let prefix = prefix.to_string();
        senders.spawn(async move {
            loop {
                // Push n carries report n / 2: the two copies go out one after the other,
                // from whichever senders take them, so they often meet in one commit.
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= 2 * distinct {
                    return;
                }
                let body = one_report_body(&format!("{prefix}-{}", n / 2));
                let req = http::Request::post(url.as_str())
                    .header("content-type", "application/json")
                    .body(bytes::Bytes::from(body))
                    .unwrap();
                let response = client.send(req).await.unwrap();
                assert_eq!(response.status(), 200, "push {n}: {:?}", response.body());
            }
        });
    }
    while let Some(done) = senders.join_next().await {
        done.unwrap();
    }
    let c = collector.counters();
    assert_eq!(
        (c.received_push, c.stored, c.duplicates, c.quarantined),
        (2 * distinct, distinct, distinct, 0)
    );
    let stored = sink.reports().await.unwrap();
    let ids: BTreeSet<String> = stored.iter().map(|r| r.message_id().to_string()).collect();
    assert_eq!(stored.len() as u64, distinct, "each report once");
    let want: BTreeSet<String> = (0..distinct).map(|i| format!("{prefix}-{i}")).collect();
    assert_eq!(ids, want);
    assert!(sink.quarantined().await.unwrap().is_empty());
    webhook.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_senders_store_every_push_once_in_the_journal() {
    let dir = TempDir::new("push-32");
    let sink = journal(&dir).await;
    thirty_two_senders_store_every_push_once(Arc::clone(&sink), &dir, "c32", 2_000).await;
    // And the journal reads back the same after a reopen.
    drop(sink);
    let back = JsonlSink::read(dir.join("r.jsonl")).await.unwrap();
    assert_eq!(back.len(), 2_000);
}
