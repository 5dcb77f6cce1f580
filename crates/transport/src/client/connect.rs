//! Opening a connection: DNS, TCP, optional TLS, and the HTTP/1.1 or HTTP/2 handshake.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;

use crate::error::{Error, ErrorKind};

/// The request body type our connections carry.
pub(crate) type ReqBody = Full<Bytes>;

/// Where a request goes: the pool key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Target {
    pub(crate) https: bool,
    /// The host without IPv6 brackets.
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Target {
    pub(crate) fn is_loopback(&self) -> bool {
        crate::is_loopback_host(&self.host)
    }
}

/// A ready connection's request sender.
pub(crate) enum Conn {
    H1(http1::SendRequest<ReqBody>),
    H2(http2::SendRequest<ReqBody>),
}

/// A connect failure, and whether retrying can help.
pub(crate) struct ConnectError {
    pub(crate) error: Error,
    pub(crate) retriable: bool,
}

impl ConnectError {
    fn new(error: Error) -> Self {
        Self {
            error,
            retriable: true,
        }
    }
}

/// What the connector needs from the client's configuration.
#[derive(Clone)]
pub(crate) struct Connector {
    #[cfg(feature = "rustls")]
    pub(crate) tls: std::sync::Arc<rustls::ClientConfig>,
    pub(crate) http2_keep_alive: Option<Duration>,
}

impl Connector {
    /// Opens a new connection to `target`. No request byte is written here.
    pub(crate) async fn connect(&self, target: &Target) -> Result<Conn, ConnectError> {
        let tcp = tcp_connect(target).await?;
        if target.https {
            self.tls_handshake(target, tcp).await
        } else {
            handshake_h1(tcp).await
        }
    }

    #[cfg(feature = "rustls")]
    async fn tls_handshake(&self, target: &Target, tcp: TcpStream) -> Result<Conn, ConnectError> {
        let name = rustls_pki_types::ServerName::try_from(target.host.clone()).map_err(|e| {
            ConnectError {
                error: Error::of(ErrorKind::InvalidRequest)
                    .with_context("host is not a valid tls server name")
                    .with_source(e),
                retriable: false,
            }
        })?;
        let connector = tokio_rustls::TlsConnector::from(self.tls.clone());
        let stream = connector.connect(name, tcp).await.map_err(|e| {
            let certificate = super::tls::is_certificate_error(&e);
            ConnectError {
                error: Error::of(ErrorKind::Tls).with_source(e),
                retriable: !certificate,
            }
        })?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
        if h2 {
            self.handshake_h2(stream).await
        } else {
            handshake_h1(stream).await
        }
    }

    #[cfg(not(feature = "rustls"))]
    async fn tls_handshake(&self, _: &Target, _: TcpStream) -> Result<Conn, ConnectError> {
        Err(ConnectError {
            error: Error::of(ErrorKind::InvalidRequest)
                .with_context("https needs the `rustls` feature"),
            retriable: false,
        })
    }

    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    async fn handshake_h2<T>(&self, io: T) -> Result<Conn, ConnectError>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let mut builder = http2::Builder::new(TokioExecutor::new());
        builder.timer(TokioTimer::new());
        if let Some(interval) = self.http2_keep_alive {
            builder
                .keep_alive_interval(interval)
                .keep_alive_while_idle(true);
        }
        let (sender, conn) = builder
            .handshake(TokioIo::new(io))
            .await
            .map_err(|e| ConnectError::new(Error::of(ErrorKind::Protocol).with_source(e)))?;
        tokio::spawn(async move {
            // The connection's outcome reaches callers through their request futures.
            let _ = conn.await;
        });
        Ok(Conn::H2(sender))
    }
}

async fn handshake_h1<T>(io: T) -> Result<Conn, ConnectError>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::Builder::new()
        .handshake(TokioIo::new(io))
        .await
        .map_err(|e| ConnectError::new(Error::of(ErrorKind::Protocol).with_source(e)))?;
    tokio::spawn(async move {
        // The connection's outcome reaches callers through their request futures.
        let _ = conn.await;
    });
    Ok(Conn::H1(sender))
}

async fn tcp_connect(target: &Target) -> Result<TcpStream, ConnectError> {
    let addrs: Vec<SocketAddr> = match target.host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, target.port)],
        Err(_) => tokio::net::lookup_host((target.host.as_str(), target.port))
            .await
            .map_err(|e| {
                ConnectError::new(
                    Error::of(ErrorKind::Connect)
                        .with_context("could not resolve the host name")
                        .with_source(e),
                )
            })?
            .collect(),
    };
    let mut last: Option<io::Error> = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                // Small requests go out at once; failure here only costs latency.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    let error = Error::of(ErrorKind::Connect);
    Err(ConnectError::new(match last {
        Some(e) => error.with_source(e),
        None => error.with_context("the host name resolved to no address"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str) -> Target {
        Target {
            https: false,
            host: host.to_owned(),
            port: 80,
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "LOCALHOST",
            "api.localhost",
            "127.0.0.1",
            "127.9.9.9",
            "::1",
        ] {
            assert!(target(host).is_loopback(), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "localhost.example.com", "::2"] {
            assert!(!target(host).is_loopback(), "{host}");
        }
    }
}
