//! The downstream extensions against real servers on 127.0.0.1: the sandbox, and raw TCP
//! servers that misbehave on purpose.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ivr_reports::model::VoiceReport;
use ivr_reports::{Auth, Client, ErrorKind};
use ivr_reports_collector::testing::check_sink;
use ivr_reports_collector::{Collector, Generation, Sink};
use ivr_reports_downstream::{MemorySink, MiniHttp, Recording};
use ivr_reports_sandbox::Sandbox;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const KEY: &str = "downstream-key";

fn client(base_url: &str, transport: MiniHttp) -> Client {
    Client::builder()
        .base_url(base_url)
        .auth(Auth::app(KEY))
        .transport(transport)
        .build()
        .unwrap()
}

/// What a raw server does once it has read a request head.
enum Then {
    /// Closes the connection without a byte.
    Close,
    /// Keeps the connection open, silent, this long.
    Hold(Duration),
    /// Writes these bytes and closes.
    Reply(&'static [u8]),
    /// Answers `audio/wav` whose body is `RIFF` and the request head it read, and closes.
    EchoAsAudio,
}

/// A server on 127.0.0.1 that takes one connection (within 10 s), reads the request head,
/// then does `then`.
async fn raw_server(then: Then) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let accepted = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await;
        let Ok(Ok((mut stream, _))) = accepted else {
            return;
        };
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        match then {
            Then::Close => drop(stream),
            Then::Hold(how_long) => {
                tokio::time::sleep(how_long).await;
                drop(stream);
            }
            Then::Reply(bytes) => {
                let _ = stream.write_all(bytes).await;
                let _ = stream.shutdown().await;
            }
            Then::EchoAsAudio => {
                let mut reply = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: audio/wav\r\ncontent-length: {}\r\n\r\nRIFF",
                    head.len() + 4
                )
                .into_bytes();
                reply.extend_from_slice(&head);
                let _ = stream.write_all(&reply).await;
                let _ = stream.shutdown().await;
            }
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_on_mini_http_fetches_reports_and_a_recording_from_the_sandbox() {
    let sandbox = Sandbox::builder().api_key(KEY).start().await.unwrap();
    sandbox.inject_v1((0..3).map(|i| VoiceReport::new(format!("m-{i}"), "41790000001")));
    let client = client(sandbox.base_url(), MiniHttp::new());

    let page = client.reports().await.unwrap();
    let ids: Vec<&str> = page.reports.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, ["m-0", "m-1", "m-2"]);
    assert!(
        client.reports().await.unwrap().is_empty(),
        "handed out once"
    );

    let wav = client.send(&Recording::new("recording-1")).await.unwrap();
    assert!(wav.starts_with(b"RIFF"));
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_connection_closed_after_the_request_is_a_lost_response() {
    let addr = raw_server(Then::Close).await;
    let client = client(&format!("http://{addr}"), MiniHttp::new());
    let err = client.reports().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost, "{err:?}");
    assert!(err.maybe_processed());
    assert!(!err.is_timeout());
    assert!(err.to_string().contains("may have been consumed"), "{err}");
}

#[tokio::test]
async fn a_silent_server_is_a_timed_out_lost_response() {
    let addr = raw_server(Then::Hold(Duration::from_secs(5))).await;
    let transport = MiniHttp::new().response_timeout(Duration::from_millis(200));
    let client = client(&format!("http://{addr}"), transport);
    let err = client.reports().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost, "{err:?}");
    assert!(err.maybe_processed());
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn nothing_listening_is_a_transport_error_not_a_loss() {
    let addr = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let client = client(&format!("http://{addr}"), MiniHttp::new());
    let err = client.reports().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    assert!(!err.maybe_processed());
}

#[tokio::test]
async fn a_recording_asks_for_audio_through_the_header_hook() {
    let addr = raw_server(Then::EchoAsAudio).await;
    let client = client(&format!("http://{addr}"), MiniHttp::new());
    let wav = client.send(&Recording::new("rec 1")).await.unwrap();
    let head = String::from_utf8_lossy(&wav).to_ascii_lowercase();
    assert!(head.starts_with("riffget /tts/3/files/rec%201 "), "{head}");
    assert!(head.contains("\r\naccept: audio/wav\r\n"), "{head}");
    assert!(!head.contains("application/json"), "{head}");
}

#[tokio::test]
async fn a_recording_that_is_not_audio_is_a_decode_error() {
    let addr = raw_server(Then::Reply(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello",
    ))
    .await;
    let client = client(&format!("http://{addr}"), MiniHttp::new());
    let err = client.send(&Recording::new("r")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode, "{err:?}");
    assert_eq!(err.body().map(|b| &b[..]), Some(&b"hello"[..]));
    let source = std::error::Error::source(&err)
        .and_then(|s| s.downcast_ref::<ivr_reports::codec::Error>())
        .expect("the codec error built by the endpoint");
    assert_eq!(source.kind(), ivr_reports::codec::ErrorKind::InvalidValue);
    // The message is about this endpoint's answer, not about report pages.
    let shown = err.to_string();
    assert!(!shown.contains("report page"), "{shown}");
    assert!(shown.contains("could not be decoded"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_sink_passes_the_shipped_conformance_suite() {
    let sink = Arc::new(MemorySink::new());
    let outcome = check_sink(|| {
        let sink = Arc::clone(&sink);
        async move { Ok(sink as Arc<dyn Sink>) }
    })
    .await;
    if let Err(failures) = outcome {
        panic!("{failures}");
    }
}

/// A spool path of its own for one test (the collector writes its spool beside it).
fn spool(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ivr-downstream-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("pull.spool")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collector_drains_the_sandbox_into_the_memory_sink_over_mini_http() {
    let sandbox = Sandbox::builder().api_key(KEY).start().await.unwrap();
    sandbox.inject_v1((0..5).map(|i| VoiceReport::new(format!("c-{i}"), "41790000001")));
    let client = client(sandbox.base_url(), MiniHttp::new());
    let sink = Arc::new(MemorySink::new());
    let path = spool("drain");
    let collector = Collector::builder(Arc::clone(&sink) as Arc<dyn Sink>)
        .generation(Generation::V1)
        .spool_path(path.clone())
        .build();
    let summary = collector.drain(&client).await.unwrap();
    assert_eq!((summary.received, summary.stored), (5, 5), "{summary:?}");
    assert_eq!(sink.reports().await.unwrap().len(), 5);
    sandbox.shutdown().await.unwrap();
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collector_counts_a_response_mini_http_lost_as_an_incident() {
    let addr = raw_server(Then::Close).await;
    let client = client(&format!("http://{addr}"), MiniHttp::new());
    let path = spool("lost");
    // One request in flight, so one lost response and one incident (with more, every
    // request whose connection the server drops is an incident of its own).
    let collector = Collector::builder(Arc::new(MemorySink::new()) as Arc<dyn Sink>)
        .generation(Generation::V1)
        .spool_path(path.clone())
        .concurrency(1)
        .build();
    let err = collector.drain(&client).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ivr_reports_collector::ErrorKind::ResponseLost,
        "{err:?}"
    );
    assert_eq!(collector.counters().lost_response_incidents, 1);
    let _ = std::fs::remove_dir_all(path.parent().unwrap());
}
