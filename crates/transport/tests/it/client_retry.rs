//! The client's retry rules: retried only when the server provably did not process a request.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use ivr_reports_transport::{ErrorKind, ReplaySafe};
use tokio::io::AsyncWriteExt;

use crate::support::*;

#[tokio::test]
async fn refused_connection_is_retried_then_reported() {
    let addr = refused_addr();
    let client = client_with(|b| b.retry(quick_retry(3)));
    let err = client.send(get(url(addr, "/"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert_eq!(err.attempts(), 3);
    assert!(!err.maybe_processed());
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn request_read_then_connection_closed_is_response_lost_and_not_retried() {
    let (addr, seen) = raw_server(5, |socket| async move { drop(socket) }).await;
    let client = client_with(|b| b.retry(quick_retry(5)));
    let err = client
        .send(get(url(addr, "/tts/3/reports")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost);
    assert!(err.maybe_processed());
    assert!(!err.is_timeout());
    assert_eq!(err.attempts(), 1);
    assert!(err.to_string().contains("may have processed"));
    assert_eq!(seen.get(), 1, "the server must see exactly one request");
}

#[tokio::test]
async fn half_written_response_is_response_lost() {
    let (addr, seen) = raw_server(5, |mut socket| async move {
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial")
            .await;
    })
    .await;
    let client = client_with(|b| b.retry(quick_retry(5)));
    let err = client.send(get(url(addr, "/"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost);
    assert!(err.maybe_processed());
    assert_eq!(seen.get(), 1);
}

#[tokio::test]
async fn response_timeout_is_response_lost_and_not_retried() {
    let (server, seen) = serve_counting(|_, _| std::future::pending());
    let client = client_with(|b| {
        b.retry(quick_retry(5))
            .response_timeout(Duration::from_millis(300))
    });
    let err = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost);
    assert!(err.is_timeout());
    assert!(err.maybe_processed());
    assert_eq!(seen.get(), 1);
}

#[tokio::test]
async fn status_429_with_retry_after_is_retried_after_about_a_second() {
    let (server, seen) = serve_counting(|n, _| async move {
        if n == 1 {
            let mut r = status(429);
            r.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            r
        } else {
            status(200)
        }
    });
    let client = client_with(|b| b.retry(quick_retry(3)));
    let started = Instant::now();
    let response = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(seen.get(), 2);
    assert!(
        elapsed >= Duration::from_millis(900),
        "retried after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "retried after {elapsed:?}"
    );
}

#[tokio::test]
async fn status_500_is_returned_not_retried() {
    let (server, seen) = serve_counting(|_, _| async { status(500) });
    let client = client_with(|b| b.retry(quick_retry(5)));
    let response = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.body().as_ref(), b"body");
    assert_eq!(seen.get(), 1);
}

#[tokio::test]
async fn status_503_is_retried_until_success() {
    let (server, seen) =
        serve_counting(|n, _| async move { if n < 3 { status(503) } else { status(200) } });
    let client = client_with(|b| b.retry(quick_retry(5)));
    let response = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(seen.get(), 3);
    // The caller learns it was throttled twice (no Retry-After given).
    assert_eq!(
        response
            .extensions()
            .get::<ivr_reports_transport::Throttled>(),
        Some(&ivr_reports_transport::Throttled::new(2, None))
    );
}

#[tokio::test]
async fn an_answer_never_throttled_carries_no_throttled_extension() {
    let (server, _) = serve_counting(|_, _| async { status(200) });
    let client = client_with(|b| b.retry(quick_retry(5)));
    let response = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap();
    assert!(
        response
            .extensions()
            .get::<ivr_reports_transport::Throttled>()
            .is_none()
    );
}

#[tokio::test]
async fn status_503_after_the_last_attempt_is_returned_as_a_response() {
    let (server, seen) = serve_counting(|_, _| async { status(503) });
    let client = client_with(|b| b.retry(quick_retry(2)));
    let response = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(seen.get(), 2);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_returned_at_once() {
    let (server, seen) = serve_counting(|_, _| async {
        let mut r = status(429);
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("3600"));
        r
    });
    let client = client_with(|b| b.retry(quick_retry(5).max_retry_after(Duration::from_secs(5))));
    let response = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(seen.get(), 1);
    // The final answer is throttled too, with the wait it asked for.
    assert_eq!(
        response
            .extensions()
            .get::<ivr_reports_transport::Throttled>(),
        Some(&ivr_reports_transport::Throttled::new(
            1,
            Some(Duration::from_secs(3600))
        ))
    );
}

#[tokio::test]
async fn total_deadline_stops_retries() {
    let (server, seen) = serve_counting(|_, _| async {
        let mut r = status(503);
        r.headers_mut()
            .insert("retry-after", HeaderValue::from_static("1"));
        r
    });
    let client = client_with(|b| b.retry(quick_retry(10).deadline(Duration::from_millis(1500))));
    let started = Instant::now();
    let response = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    // One wait of a second fits in 1.5 s, a second one does not: it is not even started
    // (waiting it out would take 2 s or more). The slack above 1.5 s is for loaded machines.
    assert_eq!(seen.get(), 2);
    assert!(elapsed < Duration::from_millis(1900), "took {elapsed:?}");
}

#[tokio::test]
async fn total_deadline_cuts_a_hanging_response() {
    let (server, seen) = serve_counting(|_, _| std::future::pending());
    let client = client_with(|b| {
        b.retry(quick_retry(5).deadline(Duration::from_millis(400)))
            .response_timeout(Duration::from_secs(60))
    });
    let started = Instant::now();
    let err = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost);
    assert!(err.is_timeout());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(seen.get(), 1);
}

#[tokio::test]
async fn oversized_response_body_is_refused() {
    let (server, _) =
        serve_counting(|_, _| async { http::Response::new(Bytes::from(vec![b'x'; 4096])) });
    let client = client_with(|b| b.max_response_body(1024).retry(quick_retry(3)));
    let err = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge);
    assert!(err.maybe_processed());
    assert_eq!(err.attempts(), 1);
}

#[tokio::test]
async fn oversized_chunked_response_body_is_refused() {
    let (addr, seen) = raw_server(3, |mut socket| async move {
        let _ = socket
            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            .await;
        for _ in 0..4 {
            let _ = socket.write_all(b"200\r\n").await;
            let _ = socket.write_all(&[b'y'; 0x200]).await;
            let _ = socket.write_all(b"\r\n").await;
        }
        let _ = socket.write_all(b"0\r\n\r\n").await;
    })
    .await;
    let client = client_with(|b| b.max_response_body(1024).retry(quick_retry(3)));
    let err = client.send(get(url(addr, "/"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BodyTooLarge);
    assert_eq!(seen.get(), 1);
}

#[tokio::test]
async fn connections_are_reused() {
    let (server, seen) = serve_counting(|_, req| async move {
        http::Response::new(Bytes::from(req.uri().path().to_owned()))
    });
    let client = client_with(|b| b);
    for i in 0..5 {
        let path = format!("/r{i}");
        let response = client
            .send(get(url(server.local_addr(), &path)))
            .await
            .unwrap();
        assert_eq!(response.body().as_ref(), path.as_bytes());
    }
    assert_eq!(seen.get(), 5);
}

#[tokio::test]
async fn a_pooled_connection_closed_by_the_server_is_replaced() {
    // The server answers with `connection: close` and closes: the next request must open a
    // new connection, not fail.
    let (server, seen) = serve_counting(|_, _| async {
        let mut r = status(200);
        r.headers_mut()
            .insert("connection", HeaderValue::from_static("close"));
        r
    });
    let client = client_with(|b| b.retry(crate::support::quick_retry(1)));
    for _ in 0..3 {
        let response = client
            .send(get(url(server.local_addr(), "/")))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(seen.get(), 3);
}

#[tokio::test]
async fn a_replay_safe_request_whose_response_was_lost_is_retried() {
    // The first connection reads the request and closes; the second one answers.
    let answered = Counter::default();
    let second = answered.clone();
    let (addr, seen) = raw_server(5, move |mut socket| {
        let n = second.bump();
        async move {
            if n > 1 {
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            }
        }
    })
    .await;
    let client = client_with(|b| b.retry(quick_retry(3)));
    let mut request = get(url(addr, "/tts/3/logs"));
    request.extensions_mut().insert(ReplaySafe);
    let response = client.send(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), &Bytes::from_static(b"ok"));
    assert_eq!(seen.get(), 2, "sent once, lost, sent again");
}

#[tokio::test]
async fn a_replay_safe_request_stops_at_max_attempts() {
    let (addr, seen) = raw_server(10, |socket| async move { drop(socket) }).await;
    let client = client_with(|b| b.retry(quick_retry(3)));
    let mut request = get(url(addr, "/tts/3/logs"));
    request.extensions_mut().insert(ReplaySafe);
    let err = client.send(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost);
    assert_eq!(err.attempts(), 3);
    assert_eq!(seen.get(), 3);
}
