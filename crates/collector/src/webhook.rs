//! The webhook receiver: pushed reports committed to the sink before they are acknowledged.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use ivr_reports::{Auth, Secret};
use ivr_reports_codec::Format;
use ivr_reports_transport::{Server, ServerHandle};

use crate::collector::{Collector, Shared};
use crate::counters::LiveCounters;
use crate::error::{Error, ErrorKind};
use crate::quarantine::Source;
use crate::report::Generation;

/// How the webhook receives pushes. Every setter documents its default.
///
/// ```
/// use ivr_reports_collector::{Generation, WebhookConfig};
///
/// let config = WebhookConfig::new()
///     .path("/infobip/reports")
///     .basic_auth("infobip", "s3cret")
///     .generation(Some(Generation::V2));
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct WebhookConfig {
    path: String,
    basic: Option<(String, Secret)>,
    generation: Option<Generation>,
    max_body_bytes: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            path: "/webhook".into(),
            basic: None,
            generation: None,
            max_body_bytes: 8 * 1024 * 1024,
        }
    }
}

impl WebhookConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The path pushes are POSTed to. Default `/webhook`. (`/metrics` is taken.)
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Require `Authorization: Basic` with these credentials (answer 401 otherwise).
    /// Default none: any sender is accepted.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.basic = Some((username.into(), password.into()));
        self
    }

    /// The generation of pushed bodies (`notifyContentVersion`). Default `None`: detected
    /// per body, v2 when a report has a v2-only field (`from`, `voiceCall`), else v1 (no
    /// field is lost either way).
    pub fn generation(mut self, generation: Option<Generation>) -> Self {
        self.generation = generation;
        self
    }

    /// The largest body accepted; larger ones get `413`. Default 8 MiB.
    pub fn max_body_bytes(mut self, bytes: u64) -> Self {
        self.max_body_bytes = bytes;
        self
    }
}

/// A running webhook server. Dropping it stops the server at once;
/// [`shutdown`](Webhook::shutdown) lets requests in flight finish.
#[derive(Debug)]
pub struct Webhook {
    handle: ServerHandle,
    path: String,
}

impl Webhook {
    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// The URL to give a sender as `notifyUrl`, e.g. `http://127.0.0.1:40123/webhook`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}{}", self.local_addr(), self.path)
    }

    /// Stops accepting connections and lets requests in flight finish within `grace`.
    ///
    /// # Errors
    /// [`ErrorKind::Server`] when requests were still running at the deadline.
    pub async fn shutdown(self, grace: Duration) -> Result<(), Error> {
        self.handle.shutdown(grace).await.map_err(|e| {
            Error::new(ErrorKind::Server, "the webhook did not stop in time").with_source(e)
        })
    }
}

struct Config {
    path: String,
    auth: Option<HeaderValue>,
    generation: Option<Generation>,
}

impl Collector {
    /// Serves the webhook on `addr` (port 0 picks a free one). See
    /// [`Collector::serve_webhook`].
    ///
    /// # Errors
    /// [`ErrorKind::Server`] when the address cannot be bound or no tokio runtime runs;
    /// [`ErrorKind::InvalidConfig`] for a path not starting with `/`, or credentials a
    /// header cannot carry.
    pub fn bind_webhook(&self, addr: SocketAddr, config: WebhookConfig) -> Result<Webhook, Error> {
        let listener = TcpListener::bind(addr).map_err(|e| {
            Error::new(ErrorKind::Server, format!("cannot listen on {addr}")).with_source(e)
        })?;
        self.serve_webhook(listener, config)
    }

    /// Serves the webhook on a bound listener, on transport's hardened server, within the
    /// current tokio runtime:
    ///
    /// - `POST <path>` with a v1 or v2 body, JSON or XML by `Content-Type` (sniffed when
    ///   absent or unknown): answered `200` only once the sink has committed the reports;
    ///   an undecodable body or report is committed to the quarantine, then answered `200`
    ///   (resending would not help); a body over the limit gets `413`; when the sink fails,
    ///   `503` with `Retry-After`, so the sender retries and nothing is lost. Wrong
    ///   credentials get `401`, other methods `405`.
    /// - `GET /metrics`: the counters as Prometheus text (no credentials needed: they hold
    ///   no secret).
    ///
    /// # Errors
    /// As [`Collector::bind_webhook`].
    pub fn serve_webhook(
        &self,
        listener: TcpListener,
        config: WebhookConfig,
    ) -> Result<Webhook, Error> {
        if !config.path.starts_with('/') || config.path == "/metrics" {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "the webhook path must start with / and not be /metrics",
            ));
        }
        let auth = config
            .basic
            .map(|(user, password)| Auth::basic(user, password).header_value())
            .transpose()
            .map_err(|e| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    "the webhook credentials hold characters a header cannot carry",
                )
                .with_source(e)
            })?;
        let cfg = Arc::new(Config {
            path: config.path.clone(),
            auth,
            generation: config.generation,
        });
        let shared = Arc::clone(&self.shared);
        let handle = Server::builder()
            .max_body_bytes(config.max_body_bytes)
            .serve(listener, move |req: Request<Bytes>| {
                let shared = Arc::clone(&shared);
                let cfg = Arc::clone(&cfg);
                async move { Ok::<_, Infallible>(handle(&shared, &cfg, req).await) }
            })
            .map_err(|e| {
                Error::new(ErrorKind::Server, "cannot start the webhook").with_source(e)
            })?;
        Ok(Webhook {
            handle,
            path: config.path,
        })
    }
}

fn respond(status: StatusCode, body: &'static str) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from_static(body.as_bytes()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn handle(shared: &Shared, cfg: &Config, req: Request<Bytes>) -> Response<Bytes> {
    let path = req.uri().path();
    if path == "/metrics" {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            let mut r = respond(StatusCode::METHOD_NOT_ALLOWED, "use GET\n");
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let mut r = Response::new(Bytes::from(shared.counters.snapshot().to_prometheus()));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        );
        return r;
    }
    if path != cfg.path {
        return respond(StatusCode::NOT_FOUND, "not found\n");
    }
    if req.method() != Method::POST {
        let mut r = respond(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return r;
    }
    if let Some(expected) = &cfg.auth {
        let given = req.headers().get(header::AUTHORIZATION);
        if !given.is_some_and(|g| same(g.as_bytes(), expected.as_bytes())) {
            let mut r = respond(StatusCode::UNAUTHORIZED, "unauthorized\n");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"ivr-reports\""),
            );
            return r;
        }
    }
    let body = req.body();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = Format::of_body(content_type, body);
    match shared
        .ingest(Source::Push, format, cfg.generation, body)
        .await
    {
        Ok(_) => respond(StatusCode::OK, "stored\n"),
        Err(_) => {
            LiveCounters::add(&shared.counters.push_errors, 1);
            let mut r = respond(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage unavailable, retry\n",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
    }
}

/// The webhook's body handling without a server or a sink, for the fuzz target
/// `webhook_body` (fuzz/): the format from the `Content-Type` or sniffed from the body, as
/// [`Webhook`] picks it, then the page decoded as a push is ingested: the generation it was
/// read as, the reports as the sink receives them, and the rejected items the quarantine
/// receives. Not part of the API; it may change at any time.
///
/// # Errors
/// The codec's error when the body as a whole is unreadable (a push quarantines the body).
#[doc(hidden)]
pub fn decode_push_body(
    content_type: Option<&str>,
    generation: Option<Generation>,
    body: &[u8],
) -> Result<
    (
        Generation,
        Vec<crate::StoredReport>,
        Vec<ivr_reports_codec::Rejected>,
    ),
    ivr_reports_codec::Error,
> {
    let codec = ivr_reports_codec::Codec::new(Format::of_body(content_type, body))?;
    crate::collector::decode_body(codec, generation, body)
}
