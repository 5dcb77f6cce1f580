//! The webhook receiver: pushed reports committed to the sink before they are acknowledged.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use ivr_reports::{Auth, Secret};
use ivr_reports_codec::{Codec, Format};
use ivr_reports_transport::{Rejection, Server, ServerHandle};
use tokio::sync::Semaphore;
use tracing::Instrument as _;

use crate::collector::{Collector, Shared, decode_body};
use crate::counters::LiveCounters;
use crate::error::{Error, ErrorKind};
use crate::quarantine::{self, Source};
use ivr_reports_model::Generation;

/// How the webhook receives pushes. Every setter documents its default.
///
/// **Who may push.** On a loopback address (`127.0.0.0/8`, `::1`) anyone on the machine
/// may; on any other address the webhook refuses to start
/// ([`ErrorKind::InvalidConfig`]) unless it has credentials:
/// [`basic_auth`](WebhookConfig::basic_auth), a [`secret_path`](WebhookConfig::secret_path)
/// token, or both; or the explicit opt-out
/// [`allow_unauthenticated`](WebhookConfig::allow_unauthenticated). Credentials are checked
/// from the request head, before its body is read.
///
/// **What pushes may cost.** Decoding expands a body many times over (a page of tiny
/// reports most of all), so decoding and storing run within a
/// [`memory_budget`](WebhookConfig::memory_budget); pushes beyond it wait, and get `503`
/// with `Retry-After` when they wait too long. Pushes that would add to a quarantine already
/// holding [`max_quarantine_bytes`](WebhookConfig::max_quarantine_bytes) get `507` with
/// `Retry-After`: not acknowledged, so the sender keeps them and nothing is lost.
///
/// ```
/// use ivr_reports_collector::{Generation, WebhookConfig};
///
/// let config = WebhookConfig::new()
///     .path("/infobip/reports")
///     .basic_auth("infobip", "s3cret")
///     .secret_path("Zq4mV8rT2kW9xN3bL7cY5hJ1")
///     .generation(Some(Generation::V2));
/// let debug = format!("{config:?}");
/// assert!(!debug.contains("s3cret") && !debug.contains("Zq4mV8rT2kW9xN3bL7cY5hJ1"));
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct WebhookConfig {
    path: String,
    basic: Option<(String, Secret)>,
    secret_path: Option<Secret>,
    allow_unauthenticated: bool,
    generation: Option<Generation>,
    max_body_bytes: u64,
    memory_budget: u64,
    max_wait: Duration,
    max_quarantine_bytes: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            path: "/webhook".into(),
            basic: None,
            secret_path: None,
            allow_unauthenticated: false,
            generation: None,
            max_body_bytes: 8 * 1024 * 1024,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            max_wait: Duration::from_secs(10),
            max_quarantine_bytes: 1024 * 1024 * 1024,
        }
    }
}

/// The default [`WebhookConfig::memory_budget`]: 512 MiB.
const DEFAULT_MEMORY_BUDGET: u64 = 512 * 1024 * 1024;

/// How many bytes of memory decoding and storing one body byte may take, from the worst
/// case measured: a 7.7 MB JSON page of tiny reports (`{"messageId":"p0-0000001"}`, 26
/// bytes each) took the collector's peak RSS up by ~400 MB (~52 per byte: a 632-byte
/// report struct, then a 760-byte stored one, per 26 bytes), with some margin. Bodies of
/// full reports expand far less.
pub(crate) const DECODE_EXPANSION: u64 = 64;

/// The shortest [`WebhookConfig::secret_path`] token accepted: 22 characters of the
/// URL-safe alphabet are 128 bits when drawn at random.
const MIN_TOKEN_LEN: usize = ivr_reports_transport::SECRET_SEGMENT_MIN_LEN;

impl WebhookConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The path pushes are POSTed to. Default `/webhook`. (`/metrics` is taken.) With a
    /// [`secret_path`](WebhookConfig::secret_path), pushes go to `<path>/<token>`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Require `Authorization: Basic` with these credentials (answer `401` otherwise, before
    /// the body is read). Default none.
    pub fn basic_auth(mut self, username: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.basic = Some((username.into(), password.into()));
        self
    }

    /// Accept pushes only at `<path>/<token>`, for senders that cannot send credentials:
    /// the URL itself is the secret (every other path gets `404`, before the body is read).
    /// The token must be at least 22 characters of `A-Z a-z 0-9 - _ . ~`, drawn at random
    /// (e.g. `openssl rand -hex 16`). [`Webhook::url`] holds it; [`Webhook::redacted_url`]
    /// does not. Default none.
    pub fn secret_path(mut self, token: impl Into<Secret>) -> Self {
        self.secret_path = Some(token.into());
        self
    }

    /// Accept pushes without credentials on a non-loopback address: anyone who reaches the
    /// port can then store a forged report before the real one arrives (which is then a
    /// duplicate). Only behind something that authenticates for you. Default `false`.
    pub fn allow_unauthenticated(mut self, allow: bool) -> Self {
        self.allow_unauthenticated = allow;
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

    /// The memory that decoding and storing pushes may take at once. Each push reserves
    /// its body's length times the worst-case expansion of decoding (64: a page of tiny
    /// reports) for as long as it decodes and stores; pushes that do not fit wait their turn
    /// (first come, first served). A push larger than the whole budget runs alone. The
    /// bodies waiting are in memory already: once they hold a quarter of the budget, further
    /// pushes that do not fit get `503` with `Retry-After` at once. Default 512 MiB, which
    /// fits one 8 MiB page of the worst kind plus many small pushes.
    pub fn memory_budget(mut self, bytes: u64) -> Self {
        self.memory_budget = bytes;
        self
    }

    /// How long a push may wait for room in the
    /// [`memory_budget`](WebhookConfig::memory_budget) before it is answered `503` with
    /// `Retry-After` (the sender tries again later; nothing is lost). Default 10 s.
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// The quarantine size (bytes of raw quarantined items, as the sink counts them) beyond
    /// which the webhook stops quarantining: a push that would add to the quarantine gets
    /// `507` with `Retry-After` instead (not acknowledged: the sender retries, nothing is
    /// lost) until the quarantine is replayed or emptied. Pushes that decode cleanly are
    /// still stored. Counted in [`Counters::push_quarantine_full`](crate::Counters) and
    /// logged. Sinks that cannot tell their quarantine's size
    /// ([`Sink::quarantine_bytes`](crate::Sink::quarantine_bytes) is `None`) are not
    /// capped. Concurrent pushes may overshoot by the bodies in flight. Default 1 GiB.
    pub fn max_quarantine_bytes(mut self, bytes: u64) -> Self {
        self.max_quarantine_bytes = bytes;
        self
    }
}

/// A running webhook server. Dropping it stops the server at once;
/// [`shutdown`](Webhook::shutdown) lets requests in flight finish.
pub struct Webhook {
    handle: ServerHandle,
    path: String,
    /// Whether `path` ends in a secret token.
    secret: bool,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.redacted_url())
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.handle.local_addr()
    }

    /// The URL to give a sender as `notifyUrl`, e.g. `http://127.0.0.1:40123/webhook`.
    /// With a [`secret_path`](WebhookConfig::secret_path) it holds the token: do not log
    /// it ([`redacted_url`](Webhook::redacted_url) is for messages).
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}{}", self.local_addr(), self.path)
    }

    /// [`url`](Webhook::url) with a secret path token replaced by `***`, for messages.
    #[must_use]
    pub fn redacted_url(&self) -> String {
        if self.secret {
            let base = self.path.rsplit_once('/').map_or("", |(base, _)| base);
            format!("http://{}{base}/***", self.local_addr())
        } else {
            self.url()
        }
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
    /// The full path pushes go to (`<path>/<token>` with a secret path).
    path: String,
    auth: Option<HeaderValue>,
    generation: Option<Generation>,
    /// The memory budget, in KiB permits.
    budget: Arc<Semaphore>,
    budget_kib: u32,
    /// Bytes of the bodies waiting for room in the budget (they are in memory already).
    waiting: AtomicU64,
    max_wait: Duration,
    max_quarantine_bytes: u64,
}

fn invalid(message: &str) -> Error {
    Error::new(ErrorKind::InvalidConfig, message)
}

impl Collector {
    /// Serves the webhook on `addr` (port 0 picks a free one). See
    /// [`Collector::serve_webhook`].
    ///
    /// # Errors
    /// [`ErrorKind::Server`] when the address cannot be bound or no tokio runtime runs;
    /// [`ErrorKind::InvalidConfig`] for a path not starting with `/`, credentials a header
    /// cannot carry, a secret path token too short to be secret, or a non-loopback address
    /// without credentials (see [`WebhookConfig`]).
    pub fn bind_webhook(&self, addr: SocketAddr, config: WebhookConfig) -> Result<Webhook, Error> {
        // Refuse before binding: a bad configuration never opens the port.
        check_exposure(addr, &config)?;
        // Through the server's own `listen`: its deep accept backlog, not std's 128.
        let listener = Server::builder().listen(addr).map_err(|e| {
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
    ///   credentials get `401` and a wrong path `404`, both before the body is read; other
    ///   methods `405`. A push that waits too long for room in the memory budget gets `503`,
    ///   one that would grow a full quarantine `507`, both with `Retry-After`.
    /// - `GET /metrics`: the counters as Prometheus text (no credentials needed: they hold
    ///   no secret).
    ///
    /// Each push runs in a `push` tracing span; refusals and quarantined items are logged
    /// as events (never with a credential or the secret path).
    ///
    /// # Errors
    /// As [`Collector::bind_webhook`].
    pub fn serve_webhook(
        &self,
        listener: TcpListener,
        config: WebhookConfig,
    ) -> Result<Webhook, Error> {
        let local = listener.local_addr().map_err(|e| {
            Error::new(ErrorKind::Server, "cannot read the listener's address").with_source(e)
        })?;
        check_exposure(local, &config)?;
        if !config.path.starts_with('/') || config.path == "/metrics" {
            return Err(invalid(
                "the webhook path must start with / and not be /metrics",
            ));
        }
        let auth = config
            .basic
            .as_ref()
            .map(|(user, password)| Auth::basic(user.as_str(), password.clone()).header_value())
            .transpose()
            .map_err(|e| {
                invalid("the webhook credentials hold characters a header cannot carry")
                    .with_source(e)
            })?;
        let path = match &config.secret_path {
            Some(token) => format!("{}/{}", config.path.trim_end_matches('/'), token.expose()),
            None => config.path.clone(),
        };
        let budget_kib = u32::try_from(config.memory_budget / 1024)
            .unwrap_or(u32::MAX)
            .clamp(1, u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX));
        let cfg = Arc::new(Config {
            path: path.clone(),
            auth,
            generation: config.generation,
            budget: Arc::new(Semaphore::new(budget_kib as usize)),
            budget_kib,
            waiting: AtomicU64::new(0),
            max_wait: config.max_wait,
            max_quarantine_bytes: config.max_quarantine_bytes,
        });
        let shared = Arc::clone(&self.shared);
        let head_cfg = Arc::clone(&cfg);
        let head_shared = Arc::clone(&self.shared);
        let handle = Server::builder()
            .max_body_bytes(config.max_body_bytes)
            // Path, method and credentials are judged from the head: a refused request's
            // body is never read, so it costs no memory.
            .authorize(move |head: &http::request::Parts| {
                check_head(&head_shared, &head_cfg, head).map_err(|r| Rejection::new(*r))
            })
            .serve(listener, move |req: Request<Bytes>| {
                let shared = Arc::clone(&shared);
                let cfg = Arc::clone(&cfg);
                async move { Ok::<_, Infallible>(handle(&shared, &cfg, req).await) }
            })
            .map_err(|e| {
                Error::new(ErrorKind::Server, "cannot start the webhook").with_source(e)
            })?;
        tracing::info!(
            addr = %local,
            basic_auth = config.basic.is_some(),
            secret_path = config.secret_path.is_some(),
            memory_budget = config.memory_budget,
            max_quarantine_bytes = config.max_quarantine_bytes,
            "webhook listening"
        );
        Ok(Webhook {
            handle,
            path,
            secret: config.secret_path.is_some(),
        })
    }
}

/// Refuses a webhook reachable from other machines without credentials, and a secret path
/// token that is no secret.
fn check_exposure(addr: SocketAddr, config: &WebhookConfig) -> Result<(), Error> {
    if let Some(token) = &config.secret_path {
        let token = token.expose();
        let url_safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~');
        if token.len() < MIN_TOKEN_LEN || !token.chars().all(url_safe) {
            return Err(invalid(
                "the webhook's secret path token must be at least 22 random characters of A-Z a-z 0-9 - _ . ~",
            ));
        }
    }
    if config
        .basic
        .as_ref()
        .is_some_and(|(_, p)| p.expose().is_empty())
    {
        return Err(invalid("the webhook's Basic auth password is empty"));
    }
    let open = config.basic.is_none() && config.secret_path.is_none();
    if open && !addr.ip().to_canonical().is_loopback() && !config.allow_unauthenticated {
        return Err(invalid(
            "a webhook on a non-loopback address needs credentials (Basic auth or a secret path) or an explicit opt-out",
        ));
    }
    Ok(())
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

fn retry_later(status: StatusCode, body: &'static str, seconds: &'static str) -> Response<Bytes> {
    let mut r = respond(status, body);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
    r
}

/// Compares in time independent of where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Decides a request from its head alone, before its body is read: `/metrics`, the path,
/// the method and the credentials. `Err` is the answer.
fn check_head(
    shared: &Shared,
    cfg: &Config,
    head: &http::request::Parts,
) -> Result<(), Box<Response<Bytes>>> {
    let path = head.uri.path();
    if path == "/metrics" {
        return Ok(());
    }
    if !same(path.as_bytes(), cfg.path.as_bytes()) {
        tracing::debug!(method = %head.method, "webhook request to an unknown path");
        return Err(Box::new(respond(StatusCode::NOT_FOUND, "not found\n")));
    }
    if head.method != Method::POST {
        let mut r = respond(StatusCode::METHOD_NOT_ALLOWED, "use POST\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Err(Box::new(r));
    }
    if let Some(expected) = &cfg.auth {
        let given = head.headers.get(header::AUTHORIZATION);
        if !given.is_some_and(|g| same(g.as_bytes(), expected.as_bytes())) {
            LiveCounters::add(&shared.counters.push_unauthorized, 1);
            tracing::warn!(
                credentials = if given.is_some() { "wrong" } else { "missing" },
                "webhook push refused: 401, body not read"
            );
            let mut r = respond(StatusCode::UNAUTHORIZED, "unauthorized\n");
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"ivr-reports\""),
            );
            return Err(Box::new(r));
        }
    }
    Ok(())
}

async fn handle(shared: &Shared, cfg: &Config, req: Request<Bytes>) -> Response<Bytes> {
    let (head, body) = req.into_parts();
    if head.uri.path() == "/metrics" {
        if head.method != Method::GET && head.method != Method::HEAD {
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
    // The server ran `check_head` before reading the body; it runs again here so that the
    // handler never depends on how it was reached.
    if let Err(r) = check_head(shared, cfg, &head) {
        return *r;
    }
    let content_type = head
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let format = Format::of_body(content_type, &body);
    let span = tracing::info_span!(
        "push",
        bytes = body.len(),
        format = quarantine::format_str(format),
        received = tracing::field::Empty,
        stored = tracing::field::Empty,
    );
    push(shared, cfg, format, &body, &span)
        .instrument(span.clone())
        .await
}

/// A body waiting for room in the memory budget: counted in [`Config::waiting`] while it
/// lives (a dropped connection drops it too).
struct Waiting<'a> {
    counter: &'a AtomicU64,
    bytes: u64,
}

impl<'a> Waiting<'a> {
    /// Counts `bytes` as waiting, unless the bodies already waiting would then hold more than
    /// a quarter of the budget (one body may always wait).
    fn enter(cfg: &'a Config, bytes: u64) -> Option<Self> {
        let limit = u64::from(cfg.budget_kib) * 1024 / 4;
        cfg.waiting
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                let after = now.saturating_add(bytes);
                (now == 0 || after <= limit).then_some(after)
            })
            .ok()?;
        Some(Self {
            counter: &cfg.waiting,
            bytes,
        })
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.counter.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// Decodes and stores one authorized push within the memory budget.
async fn push(
    shared: &Shared,
    cfg: &Config,
    format: Format,
    body: &Bytes,
    span: &tracing::Span,
) -> Response<Bytes> {
    let weight_kib = u32::try_from(
        (body.len() as u64)
            .saturating_mul(DECODE_EXPANSION)
            .div_ceil(1024),
    )
    .unwrap_or(u32::MAX)
    .clamp(1, cfg.budget_kib);
    let permit = match Arc::clone(&cfg.budget).try_acquire_many_owned(weight_kib) {
        Ok(permit) => Ok(permit),
        Err(_) => match Waiting::enter(cfg, body.len() as u64) {
            // The bodies already waiting hold a quarter of the budget: do not add one more.
            None => {
                LiveCounters::add(&shared.counters.push_overloaded, 1);
                tracing::warn!(
                    waiting_bytes = cfg.waiting.load(Ordering::Relaxed),
                    "webhook push refused: 503, too many bodies wait for the decode memory budget"
                );
                return retry_later(StatusCode::SERVICE_UNAVAILABLE, "busy, retry\n", "5");
            }
            Some(_waiting) => tokio::time::timeout(
                cfg.max_wait,
                Arc::clone(&cfg.budget).acquire_many_owned(weight_kib),
            )
            .await
            .map_err(|_| ())
            .and_then(|acquired| acquired.map_err(|_| ())),
        },
    };
    let permit = match permit {
        Ok(permit) => permit,
        Err(()) => {
            LiveCounters::add(&shared.counters.push_overloaded, 1);
            tracing::warn!(
                waited_ms = u64::try_from(cfg.max_wait.as_millis()).unwrap_or(u64::MAX),
                reserve_kib = weight_kib,
                "webhook push refused: 503, the decode memory budget stayed full"
            );
            return retry_later(StatusCode::SERVICE_UNAVAILABLE, "busy, retry\n", "5");
        }
    };
    match quarantine_room(shared, cfg, format, body).await {
        Ok(true) => {}
        Ok(false) => {
            LiveCounters::add(&shared.counters.push_quarantine_full, 1);
            tracing::warn!(
                max_quarantine_bytes = cfg.max_quarantine_bytes,
                "webhook push refused: 507, it would grow a full quarantine"
            );
            return retry_later(
                StatusCode::INSUFFICIENT_STORAGE,
                "the quarantine is full, retry later\n",
                "60",
            );
        }
        Err(e) => return sink_failed(shared, &e),
    }
    let result = shared
        .ingest(Source::Push, format, cfg.generation, body)
        .await;
    drop(permit);
    match result {
        Ok(ingested) => {
            span.record("received", ingested.received);
            span.record("stored", ingested.stored);
            if ingested.quarantined > 0 {
                tracing::warn!(
                    items = ingested.quarantined,
                    whole_body = ingested.body_quarantined,
                    "webhook push quarantined"
                );
            } else {
                tracing::debug!(duplicates = ingested.duplicates, "webhook push stored");
            }
            respond(StatusCode::OK, "stored\n")
        }
        Err(e) => sink_failed(shared, &e),
    }
}

fn sink_failed(shared: &Shared, e: &Error) -> Response<Bytes> {
    LiveCounters::add(&shared.counters.push_errors, 1);
    tracing::error!(error = %e, kind = ?e.kind(), "webhook push refused: 503, the sink failed");
    retry_later(
        StatusCode::SERVICE_UNAVAILABLE,
        "storage unavailable, retry\n",
        "1",
    )
}

/// Whether this push may go on: always when the quarantine has room for the whole body;
/// when it has not, only when the body would add nothing to it (it is decoded once more to
/// tell: a cost paid only while the quarantine is full).
async fn quarantine_room(
    shared: &Shared,
    cfg: &Config,
    format: Format,
    body: &[u8],
) -> Result<bool, Error> {
    let Some(used) = shared.sink.quarantine_bytes().await? else {
        return Ok(true);
    };
    if used.saturating_add(body.len() as u64) <= cfg.max_quarantine_bytes {
        return Ok(true);
    }
    let Ok(codec) = Codec::new(format) else {
        // `ingest` reports the missing format as an error: nothing quarantined.
        return Ok(true);
    };
    Ok(match decode_body(codec, cfg.generation, body) {
        Ok((_, _, rejected)) => rejected.is_empty(),
        Err(_) => false,
    })
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
        Vec<crate::AnyReport>,
        Vec<ivr_reports_codec::Rejected>,
    ),
    ivr_reports_codec::Error,
> {
    let codec = ivr_reports_codec::Codec::new(Format::of_body(content_type, body))?;
    crate::collector::decode_body(codec, generation, body)
}
