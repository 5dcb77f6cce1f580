//! The facade's `ClientBuilder` wraps the transport's: settings given here reach the
//! built-in client, and its defaults are the transport's.

use std::time::{Duration, Instant};

use ivr_reports::bytes::Bytes;
use ivr_reports::http::{Response, header};
use ivr_reports::{Client, ErrorKind, RetryPolicy, transport};

use crate::server;

#[tokio::test]
async fn the_response_timeout_given_to_the_facade_reaches_the_transport() {
    // A server that answers only after 10 s.
    let (srv, seen) = server(|_| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Response::new(Bytes::from_static(br#"{"results":[]}"#))
    });
    let client = Client::builder()
        .base_url(format!("http://{}", srv.local_addr()))
        .response_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.reports().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost, "{err:?}");
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up after {:?}, not within 2 s",
        started.elapsed()
    );
    assert_eq!(seen.requests().len(), 1, "a lost response is never resent");
    srv.shutdown(Duration::from_millis(100)).await.ok();
}

#[tokio::test]
async fn the_body_cap_and_any_transport_setting_reach_the_transport() {
    let (srv, seen) = server(|_| async { Response::new(Bytes::from(vec![b' '; 4096])) });
    let base = format!("http://{}", srv.local_addr());
    let err = Client::builder()
        .base_url(&base)
        .max_response_body(1024)
        .retry(RetryPolicy::never())
        .http_client(|http| http.user_agent("downstream-app/2.0"))
        .build()
        .unwrap()
        .reports()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost, "{err:?}");
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<transport::Error>())
        .expect("the transport's error");
    assert_eq!(source.kind(), transport::ErrorKind::BodyTooLarge);

    // Defaults: the transport's user agent.
    let _ = Client::builder()
        .base_url(&base)
        .build()
        .unwrap()
        .reports()
        .await;
    let agents: Vec<_> = seen
        .requests()
        .iter()
        .map(|(_, h)| h[header::USER_AGENT].to_str().unwrap().to_string())
        .collect();
    assert_eq!(agents[0], "downstream-app/2.0");
    assert!(agents[1].starts_with("ivr-reports/"), "{agents:?}");
    srv.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[test]
fn the_defaults_are_the_transports() {
    let ours = format!("{:?}", Client::builder());
    let theirs = format!("{:?}", transport::Client::builder());
    assert!(ours.contains(&theirs), "{ours}\ndoes not hold\n{theirs}");
}

#[test]
fn the_transports_checks_run_at_build() {
    let err = Client::builder()
        .http_client(|http| http.user_agent("bad\nagent"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err:?}");
}
