//! One conformance suite for every `Sink`: batches, duplicates, concurrent writers, reopen.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ivr_reports::Format;
use ivr_reports_collector::{JsonlSink, Quarantined, Scope, Sink, Source, Stored, StoredReport};

use crate::{TempDir, v1, v2};

/// Opens the sink under test; called again to reopen the same storage.
pub(crate) type Open =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Arc<dyn Sink>> + Send>> + Send + Sync>;

fn batch(prefix: &str, range: std::ops::Range<usize>) -> Vec<StoredReport> {
    range
        .map(|i| {
            let id = format!("{prefix}-{i}");
            if i % 2 == 0 {
                StoredReport::from(v1(&id))
            } else {
                StoredReport::from(v2(&id))
            }
        })
        .collect()
}

fn ids(reports: &[StoredReport]) -> BTreeSet<String> {
    reports.iter().map(|r| r.message_id().to_string()).collect()
}

/// The contract of `Sink`, checked against any implementation.
pub(crate) async fn suite(open: Open) {
    let sink = open().await;

    // Batches: new reports are stored, and read back exactly (both generations).
    let first = batch("b", 0..100);
    assert_eq!(sink.store(&first).await.unwrap(), Stored::new(100, 0));
    assert_eq!(sink.store(&[]).await.unwrap(), Stored::new(0, 0));
    let back = sink.reports().await.unwrap();
    assert_eq!(back.len(), 100);
    for r in &first {
        assert!(
            back.contains(r),
            "{} did not read back unchanged",
            r.message_id()
        );
    }

    // Duplicates across batches and within one batch.
    let mut second = batch("b", 50..150);
    second.push(second[60].clone());
    second.push(second[0].clone());
    assert_eq!(sink.store(&second).await.unwrap(), Stored::new(50, 52));
    assert_eq!(sink.reports().await.unwrap().len(), 150);

    // Conflicts: an id stored already with different content is neither stored nor
    // counted a duplicate: it comes back with both versions. The same content is a
    // duplicate. Within one batch too.
    let mut changed = first[0].clone();
    if let StoredReport::V1(r) = &mut changed {
        r.duration = Some(999);
    }
    let mut twins = batch("t", 0..1);
    let mut twin = twins[0].clone();
    if let StoredReport::V1(r) = &mut twin {
        r.to = "41790000099".into();
    }
    twins.push(twin.clone());
    let mut with_conflicts = vec![first[1].clone(), changed.clone()];
    with_conflicts.extend(twins.iter().cloned());
    let outcome = sink.store(&with_conflicts).await.unwrap();
    assert_eq!((outcome.new, outcome.duplicates), (1, 1), "{outcome:?}");
    assert_eq!(outcome.conflicts.len(), 2, "{outcome:?}");
    assert_eq!(outcome.conflicts[0].stored, first[0]);
    assert_eq!(outcome.conflicts[0].incoming, changed);
    assert_eq!(outcome.conflicts[1].stored, twins[0]);
    assert_eq!(outcome.conflicts[1].incoming, twin);
    let back = sink.reports().await.unwrap();
    assert_eq!(back.len(), 151);
    assert!(back.contains(&first[0]) && !back.contains(&changed));

    // Concurrent writers with overlapping batches: each id stored once, and the "new"
    // counts add up to the number of distinct ids.
    let mut tasks = Vec::new();
    for t in 0..8 {
        let sink = Arc::clone(&sink);
        tasks.push(tokio::spawn(async move {
            let mut new = 0;
            for chunk in batch("c", t * 50..t * 50 + 200).chunks(25) {
                new += sink.store(chunk).await.unwrap().new;
            }
            new
        }));
    }
    let mut new = 0;
    for t in tasks {
        new += t.await.unwrap();
    }
    assert_eq!(new, 550, "8 writers over c-0..c-550");
    let all = sink.reports().await.unwrap();
    assert_eq!(all.len(), 701);
    assert_eq!(ids(&all).len(), 701, "no messageId twice");

    // Quarantine: kept with its bytes, released by id.
    let items = [
        Quarantined::new(
            &b"{\"to\":\"1\"}"[..],
            "results[0].messageId: missing field",
            Source::Pull,
            Format::Json,
            Some(ivr_reports_collector::Generation::V1),
            Scope::Report,
        ),
        Quarantined::new(
            &[0xff, 0xfe, b'<'][..],
            "not a page",
            Source::Push,
            Format::Xml,
            None,
            Scope::Body,
        ),
    ];
    sink.quarantine(&items).await.unwrap();
    sink.quarantine(&items[..1]).await.unwrap();
    let entries = sink.quarantined().await.unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1].item.raw, items[1].raw);
    assert_eq!(entries[1].item.source, Source::Push);
    assert_eq!(entries[1].item.generation, None);
    assert_eq!(entries[0].item.reason, items[0].reason);
    let ids_before: BTreeSet<u64> = entries.iter().map(|e| e.id).collect();
    assert_eq!(ids_before.len(), 3, "entry ids are unique");
    sink.release(&[entries[2].id, 999_999]).await.unwrap();
    assert_eq!(sink.quarantined().await.unwrap().len(), 2);

    // Reopen: everything is still there, nothing is stored twice.
    drop(sink);
    let sink = open().await;
    let all = sink.reports().await.unwrap();
    assert_eq!(all.len(), 701);
    // Conflicts are still told from duplicates after a reopen.
    let outcome = sink
        .store(&[changed.clone(), first[0].clone()])
        .await
        .unwrap();
    assert_eq!((outcome.new, outcome.duplicates), (0, 1));
    assert_eq!(outcome.conflicts.len(), 1);
    assert_eq!(outcome.conflicts[0].stored, first[0]);
    assert_eq!(
        sink.store(&batch("b", 0..150)).await.unwrap(),
        Stored::new(0, 150)
    );
    assert_eq!(
        sink.store(&batch("d", 0..3)).await.unwrap(),
        Stored::new(3, 0)
    );
    let entries = sink.quarantined().await.unwrap();
    assert_eq!(entries.len(), 2);
    sink.quarantine(&items[..1]).await.unwrap();
    let after: BTreeSet<u64> = sink
        .quarantined()
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(after.len(), 3, "ids stay unique after a reopen");
    assert!(!sink.describe().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jsonl_journal_conforms() {
    let dir = Arc::new(TempDir::new("conformance"));
    let path = dir.join("reports.jsonl");
    suite(Box::new(move || {
        let path = path.clone();
        let _keep = Arc::clone(&dir);
        Box::pin(async move { Arc::new(JsonlSink::open(&path).await.unwrap()) as Arc<dyn Sink> })
    }))
    .await;
}

#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_sink_conforms() {
    let url = crate::pg_url("the_postgres_sink_conforms");
    let schema = crate::unique_schema("conformance");
    suite(Box::new(move || {
        let (url, schema) = (url.clone(), schema.clone());
        Box::pin(async move {
            Arc::new(
                ivr_reports_collector::PgSink::builder(url)
                    .schema(schema)
                    .connect()
                    .await
                    .unwrap(),
            ) as Arc<dyn Sink>
        })
    }))
    .await;
}
