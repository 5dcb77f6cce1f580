//! The shipped `Sink` conformance suite (`testing::check_sink`) run against this crate's sinks,
//! and against a sink that breaks the contract (the suite must name what it breaks).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use ivr_reports_collector::testing::{Rule, check_sink};
use ivr_reports_collector::{
    AnyReport, BoxFuture, Error, JsonlSink, QuarantineEntry, Quarantined, Sink, Stored,
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
