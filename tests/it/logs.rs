//! `client.logs()` against the sandbox's `/tts/3/logs`: every parameter as the facade
//! encodes it is understood by the sandbox, in both formats, and its 429 is waited out.

use std::time::Duration;

use ivr_reports::{Auth, Client, Format, RetryPolicy, StatusGroup, Timestamp};
use ivr_reports_sandbox::Sandbox;

use crate::KEY;

#[tokio::test]
async fn every_logs_parameter_reaches_the_sandbox() {
    let sandbox = crate::sandbox().await;
    let old = sandbox.simulate_campaign("old", 10);
    sandbox.advance_clock(Duration::from_secs(600));
    // A time with a +01:00 offset: the '+' must arrive encoded.
    let since = Timestamp::parse("2000-01-01T01:00:00.000+01:00").unwrap();
    let cut = sandbox.now();
    let new = sandbox.simulate_campaign("new", 20);
    for format in Format::ALL {
        let client = crate::client(&sandbox, format);
        let all = client.logs().limit(1000).await.unwrap();
        assert!(all.rejected.is_empty());
        assert_eq!(all.reports.len(), 30, "{format:?}");
        assert_eq!(
            client.logs().await.unwrap().reports.len(),
            30,
            "never consumed"
        );

        let page = client
            .logs()
            .bulk_id("old")
            .bulk_id("new")
            .sent_since(since)
            .sent_until(cut)
            .await
            .unwrap();
        let ids: Vec<&str> = page.reports.iter().map(|e| e.message_id.as_str()).collect();
        let expected: Vec<&str> = old.iter().rev().map(String::as_str).collect();
        assert_eq!(ids, expected, "{format:?}");

        let page = client
            .logs()
            .message_id(&new[0])
            .message_id(&old[1])
            .from("41790000100")
            .to(format!("4179{:07}", 1))
            .mcc("228")
            .mnc("01")
            .general_status(StatusGroup::Delivered)
            .limit(5)
            .await
            .unwrap();
        let ids: Vec<&str> = page.reports.iter().map(|e| e.message_id.as_str()).collect();
        assert_eq!(
            ids,
            [old[1].as_str()],
            "{format:?}: call 1 of old, answered"
        );
        assert!(page.reports[0].is_final());
        assert_eq!(page.reports[0].to_recovered_report().message_id, old[1]);
    }
}

#[tokio::test]
async fn the_logs_429_is_waited_out_by_retry_after() {
    let sandbox = Sandbox::builder()
        .api_key(KEY)
        .logs_rate_limit(1, Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    sandbox.simulate_campaign("c", 3);
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .auth(Auth::app(KEY))
        // Back-off of milliseconds: only honouring Retry-After makes the retry wait.
        .retry(
            RetryPolicy::new()
                .max_attempts(5)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    assert_eq!(client.logs().await.unwrap().reports.len(), 3);
    assert_eq!(client.logs().await.unwrap().reports.len(), 3, "after a 429");
    // One 429, then the retry after Retry-After: 1 found room (an eager retry would
    // have run into the 1 s window again).
    assert_eq!(sandbox.counters().logs_throttled, 1);
}
