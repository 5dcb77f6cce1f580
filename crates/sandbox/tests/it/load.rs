//! Once-only under load: many concurrent pollers, every report handed out exactly once.

use std::collections::HashSet;
use std::sync::Arc;

use ivr_reports_codec::Format;
use ivr_reports_model::VoiceReport;

use crate::{Fixture, codec, v1_reports};

const REPORTS: usize = 100_000;
const POLLERS: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_pollers_drain_each_report_exactly_once() {
    let f = Arc::new(Fixture::start().await);
    let injected = v1_reports("load", None, REPORTS);
    let expected: HashSet<String> = injected.iter().map(|r| r.message_id.clone()).collect();
    f.sandbox.inject_v1(injected);

    let mut pollers = tokio::task::JoinSet::new();
    for _ in 0..POLLERS {
        let f = Arc::clone(&f);
        pollers.spawn(async move {
            let mut got = Vec::new();
            // Bounded: far more rounds than needed to drain the pool.
            for _ in 0..REPORTS {
                let r = f.get("/tts/3/reports?limit=200", "application/json").await;
                assert_eq!(r.status(), 200);
                let batch = codec(Format::Json)
                    .decode_page::<VoiceReport>(r.body())
                    .unwrap();
                if batch.reports.is_empty() {
                    break;
                }
                got.extend(batch.reports.into_iter().map(|r| r.message_id));
            }
            got
        });
    }
    let mut all = Vec::with_capacity(REPORTS);
    while let Some(got) = pollers.join_next().await {
        all.extend(got.unwrap());
    }
    let unique: HashSet<String> = all.iter().cloned().collect();
    assert_eq!(all.len(), unique.len(), "a report was handed out twice");
    assert_eq!(unique, expected);
    let c = f.sandbox.counters();
    assert_eq!((c.pending, c.handed_out), (0, REPORTS as u64));
}
