//! Test helpers: servers on 127.0.0.1 port 0 (ours, raw TCP, hyper over TLS, h2) and clients.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use ivr_reports_transport::{Client, ClientBuilder, RetryPolicy, Server, ServerHandle};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A counter shared with a server task.
#[derive(Clone, Default)]
pub(crate) struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub(crate) fn bump(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }

    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// A fast retry policy for tests: tiny backoff, generous deadline.
pub(crate) fn quick_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy::new()
        .max_attempts(attempts)
        .initial_backoff(Duration::from_millis(10))
        .max_backoff(Duration::from_millis(50))
        .deadline(Duration::from_secs(20))
}

pub(crate) fn client_with(build: impl FnOnce(ClientBuilder) -> ClientBuilder) -> Client {
    build(Client::builder()).build().unwrap()
}

pub(crate) fn get(url: impl AsRef<str>) -> Request<Bytes> {
    Request::get(url.as_ref()).body(Bytes::new()).unwrap()
}

/// Our server with one handler that sees a request count.
pub(crate) fn serve_counting<F, Fut>(handler: F) -> (ServerHandle, Counter)
where
    F: Fn(usize, Request<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Bytes>> + Send + 'static,
{
    let seen = Counter::default();
    let counter = seen.clone();
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), move |req| {
        let n = counter.bump();
        let fut = handler(n, req);
        async move { Ok::<_, Infallible>(fut.await) }
    })
    .unwrap();
    (server, seen)
}

pub(crate) fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

pub(crate) fn status(code: u16) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from_static(b"body"));
    *r.status_mut() = http::StatusCode::from_u16(code).unwrap();
    r
}

/// An address where nothing listens: bound, then released.
pub(crate) fn refused_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A raw TCP server: for each of at most `max` connections, reads a request head, counts it,
/// then runs `then` on the socket.
pub(crate) async fn raw_server<F, Fut>(max: usize, then: F) -> (SocketAddr, Counter)
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Counter::default();
    let counter = seen.clone();
    tokio::spawn(async move {
        for _ in 0..max {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            // Bounded: a head is small; stop at its end or at EOF.
            for _ in 0..64 {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
                if head.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            counter.bump();
            then(socket).await;
        }
    });
    (addr, seen)
}

/// A self-signed certificate for `localhost` and 127.0.0.1, made now.
pub(crate) struct TestCert {
    pub(crate) cert: CertificateDer<'static>,
    pub(crate) key: Vec<u8>,
}

pub(crate) fn test_cert() -> TestCert {
    let made =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    TestCert {
        cert: made.cert.der().clone(),
        key: made.signing_key.serialize_der(),
    }
}

pub(crate) fn tls_acceptor(cert: &TestCert, alpn: &[&[u8]]) -> TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.key.clone()));
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.clone()], key)
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsAcceptor::from(Arc::new(config))
}

/// A hyper server over TLS (HTTP/1.1 and HTTP/2, by ALPN) answering with the request's HTTP
/// version. Returns its address and the number of TLS connections accepted.
pub(crate) async fn tls_server(
    acceptor: TlsAcceptor,
    max_connections: usize,
) -> (SocketAddr, Counter) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Counter::default();
    let counter = connections.clone();
    tokio::spawn(async move {
        for _ in 0..max_connections {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                counter.bump();
                let service = service_fn(|req: Request<Incoming>| async move {
                    let version = format!("{:?}", req.version());
                    let _ = req.into_body().collect().await;
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(version))))
                });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, connections)
}

/// Writes a whole raw HTTP/1.1 exchange and reads until the server closes (bounded in time).
pub(crate) async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request).await.unwrap();
    read_until_close(&mut socket).await
}

/// Reads until EOF or a reset, at most 10 s.
pub(crate) async fn read_until_close(socket: &mut tokio::net::TcpStream) -> String {
    let mut out = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the server did not close the connection within 10 s");
    String::from_utf8_lossy(&out).into_owned()
}
