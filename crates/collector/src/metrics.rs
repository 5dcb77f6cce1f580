//! Health state and the metrics listener: `GET /metrics` (Prometheus) and `GET /healthz`.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use ivr_reports_transport::{Server, ServerHandle};

use crate::collector::Collector;
use crate::error::{Error, ErrorKind};

/// Whether a collector is ready and healthy ([`Collector::health`]), for `/healthz`.
///
/// Ready once a pull got a good answer; unhealthy after
/// [`unhealthy_after`](crate::CollectorBuilder::unhealthy_after) consecutive failed pulls
/// (default 5), healthy again after the next good one.
///
/// ```
/// use ivr_reports_collector::{Collector, JsonlSink};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::env::temp_dir().join(format!("health-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let collector = Collector::builder(std::sync::Arc::new(JsonlSink::open(dir.join("r.jsonl")).await?))
///     .build();
/// let health = collector.health();
/// assert!(!health.ready && health.healthy);
/// assert_eq!(health.problem().as_deref(), Some("not ready: no successful pull yet"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// A pull got a good answer since the collector was built.
    pub ready: bool,
    /// Fewer consecutive pull failures than the threshold.
    pub healthy: bool,
    /// Failed pulls since the last good one.
    pub consecutive_failures: u32,
    /// The last pull error, with its causes (never a credential).
    pub last_error: Option<String>,
}

impl Health {
    /// Why it is not ready or not healthy; `None` when it is both.
    #[must_use]
    pub fn problem(&self) -> Option<String> {
        if !self.healthy {
            let mut text = format!(
                "unhealthy: {} consecutive pull failures",
                self.consecutive_failures
            );
            if let Some(e) = &self.last_error {
                let _ = write!(text, "; last: {e}");
            }
            return Some(text);
        }
        if !self.ready {
            return Some("not ready: no successful pull yet".into());
        }
        None
    }
}

/// A running metrics listener ([`Collector::bind_metrics`]). Dropping it stops the server
/// at once; [`shutdown`](MetricsServer::shutdown) lets requests in flight finish.
#[derive(Debug)]
pub struct MetricsServer {
    handle: ServerHandle,
}

impl MetricsServer {
    /// The address it listens on (the real port when bound to port 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// The base URL, e.g. `http://127.0.0.1:9090` (serving `/metrics` and `/healthz`).
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.local_addr())
    }

    /// Stops accepting connections and lets requests in flight finish within `grace`.
    ///
    /// # Errors
    /// [`ErrorKind::Server`] when requests were still running at the deadline.
    pub async fn shutdown(self, grace: Duration) -> Result<(), Error> {
        self.handle.shutdown(grace).await.map_err(|e| {
            Error::new(
                ErrorKind::Server,
                "the metrics listener did not stop in time",
            )
            .with_source(e)
        })
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Bytes> {
    let mut r = Response::new(Bytes::from(body));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

impl Collector {
    /// The counters as Prometheus text, with the health as gauges (`ivr_reports_ready`,
    /// `ivr_reports_healthy`, `ivr_reports_consecutive_pull_failures`).
    #[must_use]
    pub fn prometheus(&self) -> String {
        let mut out = self.counters().to_prometheus();
        let health = self.health();
        let mut gauge = |name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP ivr_reports_{name} {help}");
            let _ = writeln!(out, "# TYPE ivr_reports_{name} gauge");
            let _ = writeln!(out, "ivr_reports_{name} {value}");
        };
        gauge(
            "ready",
            "1 once a pull got a good answer.",
            u64::from(health.ready),
        );
        gauge(
            "healthy",
            "0 after too many consecutive pull failures.",
            u64::from(health.healthy),
        );
        gauge(
            "consecutive_pull_failures",
            "Failed pulls since the last good one.",
            u64::from(health.consecutive_failures),
        );
        out
    }

    /// Serves `GET /metrics` ([`Collector::prometheus`]) and `GET /healthz` (`200 ok` when
    /// ready and healthy, else `503` with [`Health::problem`]) on `addr`, on transport's
    /// hardened server, within the current tokio runtime. Independent of the webhook.
    ///
    /// # Errors
    /// [`ErrorKind::Server`] when the address cannot be bound or no tokio runtime runs.
    pub fn bind_metrics(&self, addr: SocketAddr) -> Result<MetricsServer, Error> {
        let collector = self.clone();
        let handle = Server::builder()
            .max_body_bytes(0)
            .bind(addr, move |req: Request<Bytes>| {
                let collector = collector.clone();
                async move { Ok::<_, Infallible>(collector.serve_metrics(&req)) }
            })
            .map_err(|e| {
                Error::new(ErrorKind::Server, format!("cannot listen on {addr}")).with_source(e)
            })?;
        Ok(MetricsServer { handle })
    }

    fn serve_metrics(&self, req: &Request<Bytes>) -> Response<Bytes> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut r = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain; charset=utf-8",
                "use GET\n".into(),
            );
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        match req.uri().path() {
            "/metrics" => text(
                StatusCode::OK,
                "text/plain; version=0.0.4; charset=utf-8",
                self.prometheus(),
            ),
            "/healthz" => match self.health().problem() {
                None => text(StatusCode::OK, "text/plain; charset=utf-8", "ok\n".into()),
                Some(problem) => text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain; charset=utf-8",
                    format!("{problem}\n"),
                ),
            },
            _ => text(
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "not found: GET /metrics or /healthz\n".into(),
            ),
        }
    }
}
