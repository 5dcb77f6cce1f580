//! `drain`: every report once, then the end.

use std::collections::HashSet;
use std::pin::Pin;

use futures_core::Stream;
use ivr_reports::{ErrorKind, Format, Limit, ReportsQuery, VoiceReport};
use ivr_reports_sandbox::Faults;

use crate::v1_reports;

#[tokio::test]
async fn draining_ten_thousand_reports_yields_each_once_and_ends() {
    let sandbox = crate::sandbox().await;
    let injected = v1_reports("d", None, 10_000);
    sandbox.inject_v1(injected.clone());
    let client = crate::client(&sandbox, Format::Json);

    let mut seen = Vec::new();
    let mut pages = 0;
    let mut drain = client.drain::<VoiceReport>(ReportsQuery::new().limit(Limit::MAX));
    while let Some(page) = drain.next().await {
        let page = page.unwrap();
        assert!(page.rejected.is_empty());
        pages += 1;
        seen.extend(page.reports.into_iter().map(|r| r.message_id));
    }
    assert_eq!(pages, 10);
    assert!(
        drain.next().await.is_none(),
        "a finished drain stays finished"
    );
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no report twice");
    let expected: Vec<_> = injected.into_iter().map(|r| r.message_id).collect();
    assert_eq!(seen, expected);
    assert_eq!(sandbox.counters().pending, 0);
}

#[tokio::test]
async fn drain_is_a_stream_that_stops_at_the_first_error() {
    let sandbox = crate::sandbox().await;
    sandbox.inject_v1(v1_reports("e", None, 5));
    let client = crate::client(&sandbox, Format::Xml);
    let mut drain = client.reports().limit(2).drain();
    let first = std::future::poll_fn(|cx| Pin::new(&mut drain).poll_next(cx)).await;
    assert_eq!(first.unwrap().unwrap().reports.len(), 2);
    sandbox
        .set_faults(Faults::new().drop_after_take(1.0))
        .unwrap();
    let second = std::future::poll_fn(|cx| Pin::new(&mut drain).poll_next(cx)).await;
    assert_eq!(second.unwrap().unwrap_err().kind(), ErrorKind::ResponseLost);
    let third = std::future::poll_fn(|cx| Pin::new(&mut drain).poll_next(cx)).await;
    assert!(third.is_none());
    assert_eq!(sandbox.counters().lost_in_transit, 2);

    let invalid = client.reports().limit(0).drain().next().await;
    assert_eq!(
        invalid.unwrap().unwrap_err().kind(),
        ErrorKind::InvalidRequest
    );
}
