//! Webhook pushes: retried until the receiver accepts, in each version and format.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use ivr_reports_codec::Format;
use ivr_reports_model::{CallReport, VoiceReport};
use ivr_reports_transport::{Server, ServerHandle};
use tokio::sync::mpsc;

use crate::{Fixture, codec};

/// A webhook that refuses the first `failures` pushes with 500, then accepts; every
/// accepted body (with its content type) goes to the channel.
fn receiver(
    failures: usize,
) -> (
    ServerHandle,
    mpsc::UnboundedReceiver<(String, Bytes)>,
    Arc<AtomicUsize>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let attempts = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&attempts);
    let server = Server::builder()
        .bind(
            "127.0.0.1:0".parse().unwrap(),
            move |req: Request<Bytes>| {
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let tx = tx.clone();
                async move {
                    let mut response = Response::new(Bytes::new());
                    if n < failures {
                        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    } else {
                        let content_type =
                            req.headers()["content-type"].to_str().unwrap().to_string();
                        tx.send((content_type, req.into_body())).unwrap();
                    }
                    Ok::<_, std::convert::Infallible>(response)
                }
            },
        )
        .unwrap();
    (server, rx, attempts)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<(String, Bytes)>) -> (String, Bytes) {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("no push within 10 s")
        .unwrap()
}

/// Waits (bounded) until the sandbox has counted `n` pushes.
async fn pushed(f: &Fixture, n: u64) {
    for _ in 0..1000 {
        if f.sandbox.counters().pushed >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("pushed counter stuck at {}", f.sandbox.counters().pushed);
}

fn advanced(url: &str, to: &str, id: &str, content_type: &str, version: u8) -> String {
    format!(
        r#"{{"messages":[{{"destinations":[{{"to":"{to}","messageId":"{id}"}}],"text":"Hi","notifyUrl":"{url}","notifyContentType":"{content_type}","notifyContentVersion":{version}}}]}}"#
    )
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_report_once() {
    let f = Fixture::start().await;
    let (server, mut rx, attempts) = receiver(2);
    let url = format!("http://{}/hook", server.local_addr());
    let r = f
        .post(
            "/tts/3/advanced",
            &advanced(&url, "41790000001", "p-1", "application/json", 2),
        )
        .await;
    assert_eq!(r.status(), 200);

    let (content_type, body) = next(&mut rx).await;
    assert_eq!(content_type, "application/json");
    let batch = codec(Format::Json)
        .decode_page::<CallReport>(&body)
        .unwrap();
    assert_eq!(batch.reports.len(), 1);
    assert_eq!(batch.reports[0].message_id, "p-1");
    pushed(&f, 1).await;
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    let c = f.sandbox.counters();
    assert_eq!(
        (c.pushed, c.push_failures, c.pending),
        (1, 0, 0),
        "pushed, not kept for pull"
    );
    assert!(rx.try_recv().is_err(), "accepted exactly once");
    let records = f.sandbox.records();
    assert_eq!(records.pushed, ["p-1"], "the push is on the record, once");
    assert!(records.handed_out.is_empty() && records.lost_in_transit.is_empty());
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn v1_xml_push_decodes_with_our_codec() {
    let f = Fixture::start().await;
    let (server, mut rx, _) = receiver(0);
    let url = format!("http://{}/hook", server.local_addr());
    f.post(
        "/tts/3/advanced",
        &advanced(&url, "41790000002", "x-1", "application/xml", 1),
    )
    .await;
    let (content_type, body) = next(&mut rx).await;
    assert_eq!(content_type, "application/xml");
    let batch = codec(Format::Xml)
        .decode_page::<VoiceReport>(&body)
        .unwrap();
    let report = &batch.reports[0];
    assert_eq!(report.message_id, "x-1");
    assert_eq!(report.dtmf_codes.as_deref(), Some("2"));
    assert_eq!(report.dtmf_codes_as_json.as_deref(), Some(r#"["2"]"#));
    assert!(report.is_delivered());
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn a_receiver_that_never_accepts_counts_as_a_failure() {
    let f = Fixture::start().await;
    // Nothing listens on this port once the listener is dropped.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    f.post(
        "/tts/3/advanced",
        &advanced(&url, "41790000001", "f-1", "application/json", 2),
    )
    .await;
    for _ in 0..1000 {
        if f.sandbox.counters().push_failures == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("push never given up: {:?}", f.sandbox.counters());
}
