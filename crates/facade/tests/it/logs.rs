//! `client.logs()` against real hyper servers on 127.0.0.1: every parameter reaches the
//! server encoded, pages decode in JSON and XML, 429 is waited out, a lost response is
//! retried (logs are never consumed) while a lost report response still is not.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ivr_reports::bytes::Bytes;
use ivr_reports::codec::{Codec, parse_logs_query};
use ivr_reports::http::{Request, Response, header};
use ivr_reports::transport::{AbortConnection, Server, ServerHandle};
use ivr_reports::{
    Auth, Client, ErrorKind, Format, Limit, LogEntry, LogsQuery, RetryPolicy, Status, StatusGroup,
    Timestamp,
};

use crate::{client, server};

fn json(body: &'static str) -> Response<Bytes> {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

const PAGE: &str = r#"{"results":[
{"bulkId":"b1","messageId":"m1","to":"385981178","from":"41793026727","text":"Hi",
 "sentAt":"2026-12-01T10:00:00.000+0100","duration":3,"status":{"id":5}},
{"messageId":"m2","duration":"three"}]}"#;

#[tokio::test]
async fn every_parameter_reaches_the_server_encoded() {
    let (srv, seen) = server(|_| async { json(PAGE) });
    let t = |s: &str| Timestamp::parse(s).unwrap();
    let page = client(&srv)
        .logs()
        .from("41 79")
        .to("+385981178")
        .bulk_id("b1")
        .bulk_id("b 2")
        .message_id("m1")
        .message_id("m&2")
        .general_status(StatusGroup::Delivered)
        .sent_since(t("2026-12-01T10:00:00.000+01:00"))
        .sent_until(t("2026-12-01T10:30:00.000-02:30"))
        .limit(1000)
        .mcc("219")
        .mnc("01")
        .await
        .unwrap();
    let requests = seen.requests();
    assert_eq!(requests.len(), 1);
    let (target, headers) = &requests[0];
    assert_eq!(
        target,
        "/tts/3/logs?from=41%2079&to=%2B385981178&bulkId=b1&bulkId=b%202\
         &messageId=m1&messageId=m%262&generalStatus=DELIVERED\
         &sentSince=2026-12-01T10%3A00%3A00.000%2B01%3A00\
         &sentUntil=2026-12-01T10%3A30%3A00.000-02%3A30&limit=1000&mcc=219&mnc=01"
    );
    assert_eq!(headers[header::ACCEPT], "application/json");
    // What the sandbox parses is what was set.
    let query = target.split_once('?').unwrap().1;
    let expected = LogsQuery::new()
        .from("41 79")
        .to("+385981178")
        .bulk_id("b1")
        .bulk_id("b 2")
        .message_id("m1")
        .message_id("m&2")
        .general_status(StatusGroup::Delivered)
        .sent_since(t("2026-12-01T10:00:00.000+01:00"))
        .sent_until(t("2026-12-01T10:30:00.000-02:30"))
        .limit(Limit::MAX)
        .mcc("219")
        .mnc("01");
    assert_eq!(parse_logs_query(query).unwrap(), expected);

    // The page: one entry decoded, one kept with its raw bytes.
    assert_eq!(page.reports.len(), 1);
    let entry = &page.reports[0];
    assert_eq!(entry.message_id, "m1");
    assert_eq!(entry.text.as_deref(), Some("Hi"));
    assert!(entry.is_final());
    assert_eq!(page.rejected.len(), 1);
    assert_eq!(
        page.rejected[0].raw,
        br#"{"messageId":"m2","duration":"three"}"#
    );
    assert_eq!(page.rejected[0].error.path(), "results[1].duration");
}

#[tokio::test]
async fn no_parameter_sends_no_query_and_a_bad_limit_sends_nothing() {
    let (srv, seen) = server(|_| async { json(r#"{"results":[]}"#) });
    let c = client(&srv);
    let page = c.logs().await.unwrap();
    assert!(page.is_empty());
    let err = c.logs().bulk_id("b").limit(0).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let targets: Vec<_> = seen.requests().into_iter().map(|(t, _)| t).collect();
    assert_eq!(targets, ["/tts/3/logs"]);
}

#[tokio::test]
async fn an_xml_page_under_logs_response_decodes() {
    let mut entry = LogEntry::new("m1", "385981178");
    entry.from = Some("41793026727".into());
    entry.status = Status::known(7);
    let body = Codec::new(Format::Xml)
        .unwrap()
        .encode_logs(&[entry.clone()]);
    assert!(body.starts_with(b"<logsResponse>"));
    let body = Bytes::from(body);
    let (srv, seen) = server(move |_| {
        let body = body.clone();
        async move {
            Response::builder()
                .header(header::CONTENT_TYPE, "application/xml")
                .body(body)
                .unwrap()
        }
    });
    let c = Client::builder()
        .base_url(format!("http://{}", srv.local_addr()))
        .auth(Auth::app(crate::KEY))
        .format(Format::Xml)
        .build()
        .unwrap();
    let page = c.logs().message_id("m1").await.unwrap();
    assert_eq!(page.reports, [entry]);
    assert!(!page.reports[0].is_final());
    assert_eq!(seen.requests()[0].1[header::ACCEPT], "application/xml");
}

#[tokio::test]
async fn a_body_that_is_not_a_logs_page_is_a_decode_error_naming_the_logs_endpoint() {
    let (srv, _) = server(|_| async { json(r#"[{"messageId":"m1"}]"#) });
    let err = client(&srv).logs().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let text = err.to_string();
    assert!(text.contains("/tts/3/logs"), "{text}");
    assert!(text.contains("could not be decoded"), "{text}");
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(source.contains("results"), "{source}");
    assert_eq!(err.body().map(|b| b.len()), Some(20));
}

#[tokio::test]
async fn status_429_with_retry_after_is_waited_out_then_the_page_comes() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let (srv, seen) = server(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Response::builder()
                    .status(429)
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::RETRY_AFTER, "1")
                    .body(Bytes::from_static(
                        br#"{"requestError":{"serviceException":{"messageId":"TOO_MANY_REQUESTS","text":"Too many requests"}}}"#,
                    ))
                    .unwrap()
            } else {
                json(PAGE)
            }
        }
    });
    let started = Instant::now();
    // The default retry policy: 3 attempts, Retry-After honoured up to 60 s.
    let page = client(&srv).logs().bulk_id("b1").await.unwrap();
    let waited = started.elapsed();
    assert_eq!(page.reports.len(), 1);
    assert_eq!(seen.requests().len(), 2, "one 429, then the page");
    // Retry-After: 1 is a lower bound on the wait (the upper bound is only generous).
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
    assert!(waited < Duration::from_secs(30), "waited {waited:?}");
}

#[tokio::test]
async fn status_429_beyond_the_policy_is_an_api_error() {
    let (srv, seen) = server(|_| async {
        Response::builder()
            .status(429)
            .header(header::RETRY_AFTER, "3600")
            .body(Bytes::new())
            .unwrap()
    });
    let err = client(&srv).logs().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Api);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(seen.requests().len(), 1);
}

/// A real hyper server whose first `drop_first` requests lose their response (the
/// connection is cut after the request was read), the rest answer `PAGE`.
fn losing_server(drop_first: usize) -> (ServerHandle, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let handle = Server::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        move |_request: Request<Bytes>| {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < drop_first {
                    Err(AbortConnection)
                } else {
                    Ok(json(PAGE))
                }
            }
        },
    )
    .unwrap();
    (handle, calls)
}

fn quick(srv: &ServerHandle) -> Client {
    Client::builder()
        .base_url(format!("http://{}", srv.local_addr()))
        .auth(Auth::app(crate::KEY))
        .retry(
            RetryPolicy::new()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(10))
                .max_backoff(Duration::from_millis(50)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_lost_logs_response_is_retried_because_logs_are_never_consumed() {
    let (srv, calls) = losing_server(1);
    let page = quick(&srv).logs().bulk_id("b1").await.unwrap();
    assert_eq!(page.reports.len(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_lost_report_response_is_still_never_retried() {
    let (srv, calls) = losing_server(1);
    let err = quick(&srv).reports().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn lost_logs_responses_stop_at_the_policy_attempts() {
    let (srv, calls) = losing_server(usize::MAX);
    let err = quick(&srv).logs().await.unwrap_err();
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // Reading logs consumes nothing: no "response lost" (which tells a user reports may be
    // gone), but a transport failure that is safe to try again.
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(!err.maybe_processed());
    let message = err.to_string();
    assert!(!message.contains("consumed"), "{message}");
}
