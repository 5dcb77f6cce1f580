//! Errors through every layer: API errors parsed, retries only when safe, lost responses
//! reported as such, secrets never shown.

use std::time::Duration;

use ivr_reports::{Auth, Client, ErrorKind, Format, RetryPolicy};
use ivr_reports_sandbox::Faults;

use crate::{KEY, v1_reports};

#[tokio::test]
async fn bad_credentials_are_an_api_error_with_the_parsed_body() {
    let sandbox = crate::sandbox().await;
    for format in Format::ALL {
        let client = Client::builder()
            .base_url(sandbox.base_url())
            .auth(Auth::app("wrong-secret-4711"))
            .format(format)
            .build()
            .unwrap();
        let e = client.call_reports().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Api);
        assert_eq!(e.status().map(|s| s.as_u16()), Some(401));
        let api = e.api_error().unwrap();
        assert_eq!(
            (api.message_id.as_str(), api.text.as_str()),
            ("UNAUTHORIZED", "Invalid login details")
        );
        let shown = format!("{e}");
        assert_eq!(
            shown,
            format!(
                "401 from {}/voice/1/reports: Invalid login details",
                sandbox.base_url()
            )
        );
        assert!(!format!("{e:?} {client:?}").contains("wrong-secret-4711"));
    }
}

#[tokio::test]
async fn a_429_is_retried_by_the_transport_and_then_succeeds() {
    let sandbox = crate::sandbox().await;
    sandbox.inject_v1(v1_reports("r", None, 30));
    sandbox
        .set_faults(Faults::new().rate_429(0.5).retry_after_secs(0))
        .unwrap();
    let retry = RetryPolicy::new()
        .max_attempts(30)
        .initial_backoff(Duration::from_millis(1))
        .max_backoff(Duration::from_millis(5));
    let client = crate::client_with(&sandbox, retry);
    let mut got = 0;
    for _ in 0..10 {
        got += client.reports().limit(3).await.unwrap().reports.len();
    }
    assert_eq!(got, 30);
    let c = sandbox.counters();
    assert!(
        c.faults_injected > 0,
        "some requests were refused with 429: {c:?}"
    );
    assert_eq!((c.handed_out, c.pending), (30, 0));
}

#[tokio::test]
async fn a_500_is_surfaced_not_retried() {
    let sandbox = crate::sandbox().await;
    sandbox.inject_v1(v1_reports("s", None, 2));
    sandbox.set_faults(Faults::new().rate_500(1.0)).unwrap();
    let client = crate::client(&sandbox, Format::Json);
    let e = client.reports().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(e.api_error().unwrap().message_id, "GENERAL_ERROR");
    assert_eq!(
        sandbox.counters().faults_injected,
        1,
        "exactly one request: no retry"
    );
    assert_eq!(sandbox.counters().pending, 2);
}

#[tokio::test]
async fn take_then_drop_is_response_lost_and_counted_by_the_sandbox() {
    let sandbox = crate::sandbox().await;
    sandbox.inject_v1(v1_reports("t", None, 7));
    sandbox
        .set_faults(Faults::new().drop_after_take(1.0))
        .unwrap();
    let client = crate::client(&sandbox, Format::Json);
    let e = client.reports().limit(5).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResponseLost, "{e}");
    assert!(e.maybe_processed());
    assert!(e.to_string().contains("may have been consumed"), "{e}");
    let c = sandbox.counters();
    assert_eq!((c.lost_in_transit, c.pending, c.handed_out), (5, 2, 0));
}

#[tokio::test]
async fn nobody_listening_is_a_transport_error_after_retries() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .base_url(format!("http://127.0.0.1:{port}"))
        .auth(Auth::app(KEY))
        .retry(
            RetryPolicy::new()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .unwrap();
    let e = client.reports().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Transport, "{e:?}");
    assert!(!e.maybe_processed());
}
