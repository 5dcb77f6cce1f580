//! `limit` and filters through the facade.

use ivr_reports::{ErrorKind, Format};

use crate::v1_reports;

#[tokio::test]
async fn limit_and_filters_reach_the_api() {
    let sandbox = crate::sandbox().await;
    let client = crate::client(&sandbox, Format::Json);
    sandbox.inject_v1(v1_reports("a", Some("bulk-a"), 60));
    sandbox.inject_v1(v1_reports("b", Some("bulk-b"), 3));

    let page = client.reports().await.unwrap();
    assert_eq!(page.reports.len(), 50, "the API's default limit");
    assert_eq!(page.meta.status, 200);
    let page = client.reports().bulk_id("bulk-b").limit(2).await.unwrap();
    let ids: Vec<_> = page.reports.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, ["b-0", "b-1"]);
    let page = client.reports().message_id("b-2").await.unwrap();
    assert_eq!(page.reports[0].message_id, "b-2");
    let page = client.reports().limit(1000).await.unwrap();
    assert_eq!(page.reports.len(), 10);
    assert!(client.reports().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_invalid_limit_is_refused_before_sending() {
    let sandbox = crate::sandbox().await;
    let client = crate::client(&sandbox, Format::Json);
    sandbox.inject_v1(v1_reports("x", None, 1));
    for limit in [0, 1001] {
        let e = client.reports().limit(limit).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        assert!(e.to_string().contains("between 1 and 1000"), "{e}");
    }
    assert_eq!(sandbox.counters().pending, 1, "nothing was sent");
}
