//! `tracing` events of the collector: pull and page spans; an event for every pull error,
//! backoff, incident, quarantine and conflict, when it happens; no secret in any field.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ivr_reports_collector::{Collector, JsonlSink};
use ivr_reports_sandbox::Faults;
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};

use crate::{KEY, TempDir, client, sandbox, v2};

/// Records the collector's spans and events as lines of text.
struct Capture {
    lines: Arc<Mutex<Vec<String>>>,
    next: AtomicU64,
}

struct Fields(String);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with("ivr_reports_collector")
            || metadata.target().starts_with("ivr_reports_transport")
    }

    fn new_span(&self, attributes: &span::Attributes<'_>) -> span::Id {
        let mut fields = Fields(String::new());
        attributes.record(&mut fields);
        self.lines.lock().unwrap().push(format!(
            "span {}{}",
            attributes.metadata().name(),
            fields.0
        ));
        span::Id::from_u64(self.next.fetch_add(1, Ordering::SeqCst) + 1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.lines
            .lock()
            .unwrap()
            .push(format!("{}{}", event.metadata().level(), fields.0));
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

#[test]
fn pulls_emit_spans_and_an_event_for_every_error_backoff_incident_and_conflict() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let capture = Capture {
        lines: Arc::clone(&lines),
        next: AtomicU64::new(0),
    };
    let ms = Duration::from_millis;
    tracing::subscriber::with_default(capture, || {
        // One thread: every event of the collector is seen by this subscriber.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let sandbox = sandbox().await;
            sandbox.inject_v2((0..3).map(|i| v2(&format!("e-{i}"))));
            let dir = TempDir::new("events");
            let sink = Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap());
            let collector = Collector::builder(sink)
                .spool_path(dir.join("spool"))
                .backoff(ms(5), ms(20))
                .poll_interval(ms(5))
                .build();
            let client = client(&sandbox);
            collector.drain(&client).await.unwrap();
            // The same id with other content, and a report without an id.
            let mut changed = v2("e-0");
            changed.to = "41790000999".into();
            sandbox.inject_v2([changed, v2("")]);
            collector.drain(&client).await.unwrap();
            // A lost response: an incident.
            sandbox.inject_v2([v2("e-9")]);
            sandbox
                .set_faults(Faults::new().drop_after_take(1.0))
                .unwrap();
            assert!(collector.drain(&client).await.is_err());
            // Failing pulls: errors and backoffs.
            sandbox.set_faults(Faults::new().rate_500(1.0)).unwrap();
            collector
                .run_pull(&client, tokio::time::sleep(ms(200)))
                .await
                .unwrap();
        });
    });
    let lines = lines.lock().unwrap();
    let all = lines.join("\n");
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has("span pull generation=v2"), "{all}");
    assert!(has("span page page=1"), "{all}");
    assert!(
        has("WARN message=conflicting duplicate kept in the quarantine"),
        "{all}"
    );
    assert!(has("WARN message=quarantined"), "{all}");
    assert!(has("empty messageId"), "{all}");
    assert!(
        has("ERROR message=possible-loss incident recorded") && has("reason=response lost"),
        "{all}"
    );
    assert!(has("WARN message=pull failed"), "{all}");
    // The lost response is said once above DEBUG, by its incident: the transport returns
    // it (DEBUG) and the failed pull does not warn about it again.
    let loud_lost: Vec<&String> = lines
        .iter()
        .filter(|l| {
            (l.starts_with("WARN") || l.starts_with("ERROR")) && l.to_lowercase().contains("lost")
        })
        .collect();
    assert_eq!(loud_lost.len(), 1, "{loud_lost:#?}");
    assert!(
        has("INFO message=backing off before the next pull"),
        "{all}"
    );
    assert!(!all.contains(KEY), "a secret in a field:\n{all}");
}
