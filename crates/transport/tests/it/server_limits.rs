//! The server's limits and lifecycle: slow headers, body cap, connection cap, idle timeout,
//! graceful shutdown, failing handlers, HTTP/1.1 and HTTP/2 on one port.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use ivr_reports_transport::{ErrorKind, Rejection, Server, ServerBuilder, ServerHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};

use crate::support::*;

fn echo_server(builder: ServerBuilder) -> ServerHandle {
    builder
        .bind("127.0.0.1:0".parse().unwrap(), |req: Request<Bytes>| async move {
            Ok::<_, Infallible>(Response::new(req.into_body()))
        })
        .unwrap()
}

#[tokio::test]
async fn slow_headers_are_cut_at_the_timeout() {
    let server = echo_server(Server::builder().header_read_timeout(Duration::from_millis(300)));
    let mut socket = TcpStream::connect(server.local_addr()).await.unwrap();
    socket
        .write_all(b"GET / HTTP/1.1\r\nhost: localhost\r\nx-slow: ")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let answer = read_until_close(&mut socket).await;
    assert!(!answer.contains("200"), "{answer}");
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn a_silent_connection_is_closed_after_the_idle_timeout() {
    let server = echo_server(Server::builder().idle_timeout(Duration::from_millis(300)));
    let mut socket = TcpStream::connect(server.local_addr()).await.unwrap();
    let answer = read_until_close(&mut socket).await;
    assert_eq!(answer, "");
}

#[tokio::test]
async fn an_announced_oversized_body_gets_413_without_being_read() {
    let server = echo_server(Server::builder().max_body_bytes(1024));
    // Announces 10 MB, sends 10 bytes: the answer must come without the rest.
    let answer = raw_exchange(
        server.local_addr(),
        b"POST / HTTP/1.1\r\nhost: localhost\r\ncontent-length: 10000000\r\n\r\n0123456789",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn a_chunked_oversized_body_gets_413() {
    let server = echo_server(Server::builder().max_body_bytes(1000));
    let mut request =
        b"POST / HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..2 {
        request.extend_from_slice(b"258\r\n");
        request.extend_from_slice(&[b'z'; 600]);
        request.extend_from_slice(b"\r\n");
    }
    let answer = raw_exchange(server.local_addr(), &request).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
}

#[tokio::test]
async fn bodies_within_the_limit_pass_through_our_client() {
    let server = echo_server(Server::builder().max_body_bytes(4096));
    let client = client_with(|b| b);
    let ok = Request::post(url(server.local_addr(), "/"))
        .body(Bytes::from(vec![b'a'; 4096]))
        .unwrap();
    let response = client.send(ok).await.unwrap();
    assert_eq!(response.body().len(), 4096);
    let too_big = Request::post(url(server.local_addr(), "/"))
        .body(Bytes::from(vec![b'a'; 4097]))
        .unwrap();
    let response = client.send(too_big).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn oversized_headers_are_refused() {
    let server = echo_server(Server::builder().max_header_bytes(8192));
    let mut request = b"GET / HTTP/1.1\r\nhost: localhost\r\nx-big: ".to_vec();
    request.extend_from_slice(&[b'h'; 20_000]);
    request.extend_from_slice(b"\r\n\r\n");
    let answer = raw_exchange(server.local_addr(), &request).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "{answer}"
    );
}

#[tokio::test]
async fn the_connection_cap_holds() {
    let release = Arc::new(Notify::new());
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let started_tx = std::sync::Mutex::new(Some(started_tx));
    let gate = release.clone();
    let server = Server::builder()
        .max_connections(1)
        .bind(
            "127.0.0.1:0".parse().unwrap(),
            move |req: Request<Bytes>| {
                let gate = gate.clone();
                let hold = req.uri().path() == "/hold";
                if hold && let Some(tx) = started_tx.lock().unwrap().take() {
                    let _ = tx.send(());
                }
                async move {
                    if hold {
                        gate.notified().await;
                    }
                    Ok::<_, Infallible>(Response::new(Bytes::from_static(b"done")))
                }
            },
        )
        .unwrap();
    let addr = server.local_addr();

    let mut first = TcpStream::connect(addr).await.unwrap();
    first
        .write_all(b"GET /hold HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    started_rx.await.unwrap();

    let mut second = TcpStream::connect(addr).await.unwrap();
    second
        .write_all(b"GET /quick HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(500), second.read(&mut byte)).await;
    assert!(
        early.is_err(),
        "the second connection was served while the cap was reached"
    );

    release.notify_one();
    assert!(read_until_close(&mut first).await.contains("done"));
    let answer = read_until_close(&mut second).await;
    assert!(answer.contains("done"), "{answer}");
}

#[tokio::test]
async fn graceful_shutdown_completes_an_in_flight_request() {
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let started_tx = std::sync::Mutex::new(Some(started_tx));
    let go_rx = Arc::new(tokio::sync::Mutex::new(Some(go_rx)));
    let server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        move |_req: Request<Bytes>| {
            if let Some(tx) = started_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            let go_rx = go_rx.clone();
            async move {
                if let Some(rx) = go_rx.lock().await.take() {
                    let _ = rx.await;
                }
                Ok::<_, Infallible>(Response::new(Bytes::from_static(b"finished")))
            }
        },
    )
    .unwrap();
    let addr = server.local_addr();
    let client = client_with(|b| b.retry(quick_retry(1)));
    let in_flight = tokio::spawn(async move { client.send(get(url(addr, "/"))).await });
    started_rx.await.unwrap();

    let shutdown = tokio::spawn(server.shutdown(Duration::from_secs(10)));
    // The server stops accepting while the request is still running. A connect may still
    // land in the backlog of the closing listener, so only a refusal or no answer is fine.
    go_tx.send(()).unwrap();
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.body().as_ref(), b"finished");
    shutdown.await.unwrap().unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn shutdown_past_its_deadline_cuts_the_request() {
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let started_tx = std::sync::Mutex::new(Some(started_tx));
    let server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        move |_req: Request<Bytes>| {
            if let Some(tx) = started_tx.lock().unwrap().take() {
                let _ = tx.send(());
            }
            std::future::pending::<Result<Response<Bytes>, Infallible>>()
        },
    )
    .unwrap();
    let addr = server.local_addr();
    let client = client_with(|b| b.retry(quick_retry(1)));
    let in_flight = tokio::spawn(async move { client.send(get(url(addr, "/"))).await });
    started_rx.await.unwrap();
    let err = server
        .shutdown(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ShutdownTimedOut);
    let lost = in_flight.await.unwrap().unwrap_err();
    assert_eq!(lost.kind(), ErrorKind::ResponseLost);
}

#[tokio::test]
async fn a_panicking_handler_gives_500_and_the_server_goes_on() {
    let server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        |req: Request<Bytes>| async move {
            match req.uri().path() {
                "/panic" => panic!("handler bug (expected by this test)"),
                "/error" => Err("handler failed".into()),
                _ => Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Response::new(
                    Bytes::from_static(b"fine"),
                )),
            }
        },
    )
    .unwrap();
    let client = client_with(|b| b.retry(quick_retry(1)));
    let addr = server.local_addr();
    let response = client.send(get(url(addr, "/panic"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!String::from_utf8_lossy(response.body()).contains("handler bug"));
    let response = client.send(get(url(addr, "/error"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!String::from_utf8_lossy(response.body()).contains("handler failed"));
    let response = client.send(get(url(addr, "/"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body().as_ref(), b"fine");
}

#[tokio::test]
async fn http1_and_http2_prior_knowledge_on_one_port() {
    let server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        |req: Request<Bytes>| async move {
            Ok::<_, Infallible>(Response::new(Bytes::from(format!("{:?}", req.version()))))
        },
    )
    .unwrap();
    let addr = server.local_addr();

    let response = client_with(|b| b).send(get(url(addr, "/"))).await.unwrap();
    assert_eq!(response.body().as_ref(), b"HTTP/1.1");

    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let request = Request::get(url(addr, "/"))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.as_ref(), b"HTTP/2.0");
}

#[tokio::test]
async fn serving_a_std_listener_reports_its_address() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Server::builder()
        .serve(listener, |_req: Request<Bytes>| async {
            Ok::<_, Infallible>(Response::new(Bytes::from_static(b"std")))
        })
        .unwrap();
    assert_eq!(server.local_addr(), addr);
    let response = client_with(|b| b).send(get(url(addr, "/"))).await.unwrap();
    assert_eq!(response.body().as_ref(), b"std");
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[test]
fn binding_a_used_address_is_an_io_error() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let err = Server::bind(taken.local_addr().unwrap(), |_req: Request<Bytes>| async {
        Ok::<_, Infallible>(Response::new(Bytes::new()))
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
}

#[tokio::test]
async fn an_oversized_http2_body_gets_413_and_the_connection_goes_on() {
    let server = echo_server(Server::builder().max_body_bytes(1024));
    let addr = server.local_addr();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    let big = Request::post(url(addr, "/"))
        .body(Full::new(Bytes::from(vec![b'b'; 2048])))
        .unwrap();
    let response = sender.send_request(big).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!response.headers().contains_key("connection"));
    sender.ready().await.unwrap();
    let small = Request::post(url(addr, "/"))
        .body(Full::new(Bytes::from_static(b"small")))
        .unwrap();
    let response = sender.send_request(small).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.as_ref(), b"small");
}

#[tokio::test]
async fn a_host_name_is_resolved() {
    let server = echo_server(Server::builder());
    let url = format!("http://localhost:{}/", server.local_addr().port());
    let request = Request::post(url).body(Bytes::from_static(b"hi")).unwrap();
    let response = client_with(|b| b).send(request).await.unwrap();
    assert_eq!(response.body().as_ref(), b"hi");
}

#[tokio::test]
async fn a_connection_stalling_before_its_first_head_is_cut_at_the_header_timeout() {
    // Half an HTTP/2 preface: hyper still waits to tell HTTP/1.1 from HTTP/2, and no hyper
    // timer runs yet; our watchdog cuts it.
    let server = echo_server(
        Server::builder()
            .header_read_timeout(Duration::from_millis(300))
            .idle_timeout(Duration::from_secs(600)),
    );
    let mut socket = TcpStream::connect(server.local_addr()).await.unwrap();
    socket.write_all(b"PRI * HTTP/2").await.unwrap();
    let answer = read_until_close(&mut socket).await;
    assert!(!answer.contains("200"), "{answer}");
}

#[tokio::test]
async fn abort_connection_drops_the_connection_without_an_answer() {
    let server = Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        |req: Request<Bytes>| async move {
            if req.uri().path() == "/abort" {
                Err(ivr_reports_transport::AbortConnection.into())
            } else {
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Response::new(
                    Bytes::from_static(b"fine"),
                ))
            }
        },
    )
    .unwrap();
    let client = client_with(|b| b.retry(quick_retry(3)));
    let addr = server.local_addr();
    let err = client.send(get(url(addr, "/abort"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost, "{err}");
    assert_eq!(err.attempts(), 1, "a lost response is never retried");
    let response = client.send(get(url(addr, "/"))).await.unwrap();
    assert_eq!(response.body().as_ref(), b"fine", "the server goes on");
}

fn denied() -> Rejection {
    let mut response = Response::new(Bytes::from_static(b"who are you"));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    Rejection::from(response)
}

/// An echo server that counts its handler calls and lets through only `x-key: ok`.
fn guarded_server(builder: ServerBuilder) -> (ServerHandle, Counter) {
    let calls = Counter::default();
    let seen = calls.clone();
    let server = builder
        .authorize(|head: &http::request::Parts| {
            if head.headers.get("x-key").is_some_and(|v| v == "ok") {
                Ok(())
            } else {
                Err(denied())
            }
        })
        .bind(
            "127.0.0.1:0".parse().unwrap(),
            move |req: Request<Bytes>| {
                seen.bump();
                async move { Ok::<_, Infallible>(Response::new(req.into_body())) }
            },
        )
        .unwrap();
    (server, calls)
}

#[tokio::test]
async fn a_rejected_head_is_answered_before_its_body_is_sent() {
    let (server, calls) = guarded_server(Server::builder());
    // Announces 60 MB within the body limit and sends none of it: the answer must come
    // from the head alone, and the connection closes (the body is unread).
    let mut socket = TcpStream::connect(server.local_addr()).await.unwrap();
    socket
        .write_all(b"POST / HTTP/1.1\r\nhost: localhost\r\ncontent-length: 6000000\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_close(&mut socket).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(answer.ends_with("who are you"), "{answer}");
    assert_eq!(calls.get(), 0);

    // A bodiless rejection keeps the connection; an accepted request reaches the handler.
    let answer = raw_exchange(
        server.local_addr(),
        b"GET / HTTP/1.1\r\nhost: localhost\r\n\r\nPOST / HTTP/1.1\r\nhost: localhost\r\nx-key: ok\r\ncontent-length: 2\r\nconnection: close\r\n\r\nhi",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("hi"), "{answer}");
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn a_rejected_http2_stream_is_answered_and_the_connection_goes_on() {
    let (server, calls) = guarded_server(Server::builder());
    let addr = server.local_addr();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(conn);
    // A body that never ends: only the head can have been judged.
    let request = Request::post(url(addr, "/")).body(Stalled.boxed()).unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(!response.headers().contains_key("connection"));
    let mut ok = Request::post(url(addr, "/"))
        .body(Full::new(Bytes::from_static(b"hi")).boxed())
        .unwrap();
    ok.headers_mut().insert("x-key", "ok".parse().unwrap());
    sender.ready().await.unwrap();
    let response = sender.send_request(ok).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(calls.get(), 1);
}

#[tokio::test]
async fn body_reads_beyond_the_bound_wait_and_bodiless_requests_do_not() {
    let (server, calls) = guarded_server(Server::builder().max_concurrent_body_reads(1));
    let addr = server.local_addr();
    // The first upload takes the only permit and stalls halfway.
    let mut first = TcpStream::connect(addr).await.unwrap();
    first
        .write_all(b"POST / HTTP/1.1\r\nhost: localhost\r\nx-key: ok\r\ncontent-length: 4\r\nconnection: close\r\n\r\nab")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // A complete second upload must wait for the permit...
    let second = tokio::spawn(raw_exchange(
        addr,
        b"POST / HTTP/1.1\r\nhost: localhost\r\nx-key: ok\r\ncontent-length: 2\r\nconnection: close\r\n\r\nzz",
    ));
    // ...while a bodiless request is served at once.
    let answer = raw_exchange(
        addr,
        b"GET / HTTP/1.1\r\nhost: localhost\r\nx-key: ok\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(calls.get(), 1, "the second body was read beside the first");
    assert!(!second.is_finished());
    first.write_all(b"cd").await.unwrap();
    assert!(read_until_close(&mut first).await.ends_with("abcd"));
    assert!(second.await.unwrap().ends_with("zz"));
    assert_eq!(calls.get(), 3);
}

/// A request body that never sends a byte nor ends.
struct Stalled;

impl hyper::body::Body for Stalled {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        std::task::Poll::Pending
    }
}
