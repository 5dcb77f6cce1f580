//! The shipped `Sink` conformance suite (`testing::check_sink`) run against this crate's sinks,
//! and against a sink that breaks the contract (the suite must name what it breaks).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ivr_reports_collector::testing::{Rule, check_sink};
use ivr_reports_collector::{
    AnyReport, BoxFuture, Error, JsonlSink, Origin, QuarantineEntry, Quarantined, Sink, Stored,
    StoredReport,
};

use crate::TempDir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jsonl_journal_conforms() {
    let dir = TempDir::new("conformance");
    let path = dir.join("reports.jsonl");
    let outcome = check_sink(|| {
        let path = path.clone();
        async move { Ok(Arc::new(JsonlSink::open(&path).await?) as Arc<dyn Sink>) }
    })
    .await;
    if let Err(failures) = outcome {
        panic!("{failures}");
    }
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_sink_conforms() {
    let url = crate::pg_url("the_postgres_sink_conforms");
    let schema = crate::unique_schema("conformance");
    let outcome = check_sink(|| {
        let (url, schema) = (url.clone(), schema.clone());
        async move {
            let sink = ivr_reports_collector::PgSink::builder(url)
                .schema(schema)
                .connect()
                .await?;
            Ok(Arc::new(sink) as Arc<dyn Sink>)
        }
    })
    .await;
    if let Err(failures) = outcome {
        panic!("{failures}");
    }
}

/// The `Sink` doc example as it was: it overwrites duplicates and drops the quarantine.
#[derive(Debug, Default)]
struct Overwriting(Mutex<BTreeMap<String, AnyReport>>);

impl Sink for Overwriting {
    fn store<'a>(&'a self, reports: &'a [AnyReport]) -> BoxFuture<'a, Result<Stored, Error>> {
        Box::pin(async move {
            let mut map = self.0.lock().unwrap();
            let mut outcome = Stored::default();
            for r in reports {
                if map.insert(r.message_id().to_string(), r.clone()).is_none() {
                    outcome.new += 1;
                } else {
                    outcome.duplicates += 1;
                }
            }
            Ok(outcome)
        })
    }
    fn quarantine<'a>(&'a self, _: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Ok(()) })
    }
    fn reports(&self) -> BoxFuture<'_, Result<Vec<AnyReport>, Error>> {
        Box::pin(async move { Ok(self.0.lock().unwrap().values().cloned().collect()) })
    }
    fn quarantined(&self) -> BoxFuture<'_, Result<Vec<QuarantineEntry>, Error>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn release<'a>(&'a self, _: &'a [u64]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Ok(()) })
    }
    fn describe(&self) -> String {
        "overwriting".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_names_every_rule_a_sink_breaks() {
    let sink = Arc::new(Overwriting::default());
    let failures = check_sink(|| {
        let sink = Arc::clone(&sink);
        async move { Ok(sink as Arc<dyn Sink>) }
    })
    .await
    .expect_err("a sink that overwrites and drops the quarantine conforms");
    assert_eq!(
        failures.rules(),
        [
            Rule::FirstWriteWins,
            // It takes conflicts for duplicates when two writers race, too.
            Rule::ConcurrentWriters,
            Rule::QuarantineKept,
            Rule::Release,
            Rule::Reopen
        ],
        "{failures}"
    );
    let text = failures.to_string();
    assert!(text.contains("first-write-wins: "), "{text}");
    assert!(text.contains("quarantine-kept: "), "{text}");
}

/// A journal that keeps origins but lets the first write win even over a recovered report:
/// it breaks `recovered-replaced` (a pulled report must replace what logs gave).
#[derive(Debug)]
struct RecoveredSticks(JsonlSink);

impl Sink for RecoveredSticks {
    fn store<'a>(&'a self, reports: &'a [AnyReport]) -> BoxFuture<'a, Result<Stored, Error>> {
        self.0.store(reports)
    }
    fn store_from<'a>(
        &'a self,
        origin: Origin,
        reports: &'a [AnyReport],
    ) -> BoxFuture<'a, Result<Stored, Error>> {
        Box::pin(async move {
            let stored = self.0.stored().await?;
            let fresh: Vec<AnyReport> = reports
                .iter()
                .filter(|r| {
                    !stored
                        .iter()
                        .any(|s| s.report.message_id() == r.message_id())
                })
                .cloned()
                .collect();
            let skipped = (reports.len() - fresh.len()) as u64;
            let mut outcome = self.0.store_from(origin, &fresh).await?;
            outcome.duplicates += skipped;
            Ok(outcome)
        })
    }
    fn quarantine<'a>(&'a self, items: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>> {
        self.0.quarantine(items)
    }
    fn reports(&self) -> BoxFuture<'_, Result<Vec<AnyReport>, Error>> {
        self.0.reports()
    }
    fn stored(&self) -> BoxFuture<'_, Result<Vec<StoredReport>, Error>> {
        self.0.stored()
    }
    fn quarantined(&self) -> BoxFuture<'_, Result<Vec<QuarantineEntry>, Error>> {
        self.0.quarantined()
    }
    fn release<'a>(&'a self, ids: &'a [u64]) -> BoxFuture<'a, Result<(), Error>> {
        self.0.release(ids)
    }
    fn describe(&self) -> String {
        "recovered-sticks".into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_names_a_sink_whose_recovered_reports_are_never_replaced() {
    let dir = TempDir::new("conformance-sticks");
    let path = dir.join("reports.jsonl");
    let failures = check_sink(|| {
        let path = path.clone();
        async move { Ok(Arc::new(RecoveredSticks(JsonlSink::open(&path).await?)) as Arc<dyn Sink>) }
    })
    .await
    .expect_err("a sink whose recovered reports stick conforms");
    assert_eq!(failures.rules(), [Rule::RecoveredReplaced], "{failures}");
    assert!(
        failures.to_string().contains("recovered-replaced: "),
        "{failures}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_written_before_origins_reads_as_unknown_and_takes_origins() {
    let dir = TempDir::new("conformance-old-journal");
    let path = dir.join("reports.jsonl");
    // A line as the first release wrote it: no origin.
    std::fs::write(
        &path,
        "{\"generation\":1,\"report\":{\"messageId\":\"old-1\",\"to\":\"385\"}}\n",
    )
    .unwrap();
    let sink = JsonlSink::open(&path).await.unwrap();
    let stored = sink.stored().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].origin, Origin::Unknown);
    let recovered = AnyReport::from(ivr_reports_collector::model::VoiceReport::new("m2", "386"));
    let got = sink
        .store_from(Origin::Recovered, std::slice::from_ref(&recovered))
        .await
        .unwrap();
    assert_eq!((got.new, got.duplicates), (1, 0));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .starts_with("{\"generation\":1,\"origin\":\"recovered\",\"report\":"),
        "{text}"
    );
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_table_made_before_origins_gets_the_column() {
    let url = crate::pg_url("a_postgres_table_made_before_origins_gets_the_column");
    let schema = crate::unique_schema("origins");
    // The table as the first release created it, with one row.
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!(
            "CREATE SCHEMA \"{schema}\";
             CREATE TABLE \"{schema}\".ivr_reports (
               message_id text PRIMARY KEY, generation smallint NOT NULL, bulk_id text,
               to_number text NOT NULL, status_id bigint, status_group_id bigint,
               error_id bigint, duration_seconds bigint, price_per_second numeric,
               currency text, sent_at timestamptz, done_at timestamptz,
               stored_at timestamptz NOT NULL DEFAULT now(), seq bigserial,
               report jsonb NOT NULL);
             INSERT INTO \"{schema}\".ivr_reports (message_id, generation, to_number, report)
               VALUES ('old-1', 1, '385', '{{\"messageId\":\"old-1\",\"to\":\"385\"}}');"
        ))
        .await
        .unwrap();
    let sink = ivr_reports_collector::PgSink::builder(url)
        .schema(schema)
        .connect()
        .await
        .unwrap();
    let stored = sink.stored().await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].origin, Origin::Unknown);
    let recovered = AnyReport::from(ivr_reports_collector::model::VoiceReport::new("m2", "386"));
    sink.store_from(Origin::Recovered, std::slice::from_ref(&recovered))
        .await
        .unwrap();
    let mut pulled = ivr_reports_collector::model::VoiceReport::new("m2", "386");
    pulled.duration = Some(4);
    let got = sink
        .store_from(Origin::Pulled, &[AnyReport::from(pulled.clone())])
        .await
        .unwrap();
    assert_eq!((got.new, got.replaced), (0, 1));
    let stored = sink.stored().await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].origin, Origin::Pulled);
    assert_eq!(stored[1].report, AnyReport::from(pulled));
}
