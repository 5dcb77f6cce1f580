//! TLS against local rustls servers with a certificate made at test time: ALPN, HTTP/2,
//! handshake failures, HTTP/2 REFUSED_STREAM.

use std::net::SocketAddr;

use bytes::Bytes;
use http::StatusCode;
use ivr_reports_transport::{Client, ErrorKind};
use tokio::net::TcpListener;

use crate::support::*;

fn trusting(cert: &TestCert) -> Client {
    client_with(|b| {
        b.builtin_roots(false)
            .add_root_certificate_der(cert.cert.to_vec())
            .retry(quick_retry(3))
    })
}

fn https(addr: SocketAddr, path: &str) -> String {
    format!("https://localhost:{}{path}", addr.port())
}

#[tokio::test]
async fn http2_is_negotiated_by_alpn_and_one_connection_is_shared() {
    let cert = test_cert();
    let (addr, connections) = tls_server(tls_acceptor(&cert, &[b"h2", b"http/1.1"]), 10).await;
    let client = trusting(&cert);
    for _ in 0..3 {
        let response = client.send(get(https(addr, "/"))).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body().as_ref(), b"HTTP/2.0");
    }
    // Concurrent requests share the HTTP/2 connection too.
    let sends = (0..4).map(|_| {
        let client = client.clone();
        let url = https(addr, "/");
        tokio::spawn(async move { client.send(get(url)).await })
    });
    for send in sends {
        assert_eq!(send.await.unwrap().unwrap().body().as_ref(), b"HTTP/2.0");
    }
    assert_eq!(connections.get(), 1);
}

#[tokio::test]
async fn http11_over_tls_when_the_server_offers_only_http11_and_connections_are_pooled() {
    let cert = test_cert();
    let (addr, connections) = tls_server(tls_acceptor(&cert, &[b"http/1.1"]), 10).await;
    let client = trusting(&cert);
    for _ in 0..3 {
        let response = client.send(get(https(addr, "/x"))).await.unwrap();
        assert_eq!(response.body().as_ref(), b"HTTP/1.1");
    }
    assert_eq!(connections.get(), 1);
}

#[tokio::test]
async fn an_ip_address_host_is_verified_too() {
    let cert = test_cert();
    let (addr, _) = tls_server(tls_acceptor(&cert, &[b"h2"]), 2).await;
    let response = trusting(&cert)
        .send(get(format!("https://127.0.0.1:{}/", addr.port())))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_untrusted_certificate_fails_the_handshake_and_is_not_retried() {
    let cert = test_cert();
    let (addr, connections) = tls_server(tls_acceptor(&cert, &[b"h2"]), 10).await;
    // Only the bundled web roots: the self-signed certificate is unknown.
    let client = client_with(|b| b.retry(quick_retry(3)));
    let err = client.send(get(https(addr, "/"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert!(!err.maybe_processed());
    assert_eq!(
        err.attempts(),
        1,
        "a certificate error cannot be fixed by retrying"
    );
    assert_eq!(connections.get(), 0);
}

#[tokio::test]
async fn a_handshake_cut_by_the_server_is_retried() {
    // Accepts TCP and closes at once: the TLS handshake fails before any request was written.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Counter::default();
    let counter = accepted.clone();
    tokio::spawn(async move {
        for _ in 0..10 {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            counter.bump();
            drop(socket);
        }
    });
    let cert = test_cert();
    let err = trusting(&cert)
        .send(get(https(addr, "/")))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Tls);
    assert!(!err.maybe_processed());
    assert_eq!(err.attempts(), 3);
    assert_eq!(accepted.get(), 3);
}

#[tokio::test]
async fn http2_refused_stream_is_retried() {
    let cert = test_cert();
    let acceptor = tls_acceptor(&cert, &[b"h2"]);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let streams = Counter::default();
    let counter = streams.clone();
    tokio::spawn(async move {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let Ok(tls) = acceptor.accept(tcp).await else {
            return;
        };
        let Ok(mut conn) = h2::server::handshake(tls).await else {
            return;
        };
        // Bounded: this test sends two streams.
        for _ in 0..4 {
            let Some(Ok((_request, mut respond))) = conn.accept().await else {
                return;
            };
            if counter.bump() == 1 {
                respond.send_reset(h2::Reason::REFUSED_STREAM);
            } else {
                let response = http::Response::new(());
                let Ok(mut body) = respond.send_response(response, false) else {
                    return;
                };
                let _ = body.send_data(Bytes::from_static(b"second"), true);
            }
        }
    });
    let response = trusting(&cert).send(get(https(addr, "/"))).await.unwrap();
    assert_eq!(response.body().as_ref(), b"second");
    assert_eq!(streams.get(), 2);
}

#[tokio::test]
async fn a_stalled_handshake_hits_the_connect_timeout_and_is_retried() {
    // Accepts TCP and never answers the ClientHello: nothing of the request was written.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Counter::default();
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..10 {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            counter.bump();
            held.push(socket);
        }
    });
    let cert = test_cert();
    let client = client_with(|b| {
        b.builtin_roots(false)
            .add_root_certificate_der(cert.cert.to_vec())
            .connect_timeout(std::time::Duration::from_millis(200))
            .retry(quick_retry(2))
    });
    let err = client.send(get(https(addr, "/"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.is_timeout());
    assert!(!err.maybe_processed());
    assert_eq!(err.attempts(), 2);
    assert_eq!(accepted.get(), 2);
}

/// PEM-encodes a DER certificate (RFC 7468), to test the PEM root option.
fn pem(der: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(char::from(TABLE[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                b64.push('=');
            }
        }
    }
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| std::str::from_utf8(l).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

#[tokio::test]
async fn a_pem_root_is_trusted() {
    let cert = test_cert();
    let (addr, _) = tls_server(tls_acceptor(&cert, &[b"h2"]), 2).await;
    let client = client_with(|b| {
        b.builtin_roots(false)
            .add_root_certificate_pem(pem(&cert.cert))
    });
    let response = client.send(get(https(addr, "/"))).await.unwrap();
    assert_eq!(response.body().as_ref(), b"HTTP/2.0");
}
