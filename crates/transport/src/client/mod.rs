//! The pooled, loss-safe HTTP client: [`Client`], its [`ClientBuilder`] and [`RetryPolicy`].

mod connect;
mod pool;
mod retry;
#[cfg(feature = "rustls")]
mod tls;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderValue};
use http::uri::{PathAndQuery, Scheme};
use http::{Method, Request, Response, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use tracing::Instrument;

use self::connect::{Conn, Connector, ReqBody, Target};
use self::pool::Pool;
pub use self::retry::RetryPolicy;
use crate::auth::Auth;
use crate::error::{Error, ErrorKind};
use crate::transport::{BoxFuture, HttpTransport};

/// The `User-Agent` sent unless a request or the builder sets another.
const DEFAULT_USER_AGENT: &str = concat!("ivr-reports/", env!("CARGO_PKG_VERSION"));

/// How many connections a request may try when pooled ones turn out closed before the
/// request could be handed to them.
const MAX_UNSENT_TRIES: usize = 3;

/// Builds a [`Client`]. Every setter documents its default.
#[must_use]
pub struct ClientBuilder {
    connect_timeout: Duration,
    response_timeout: Duration,
    pool_idle_timeout: Duration,
    pool_max_idle_per_host: usize,
    max_response_body: u64,
    user_agent: String,
    auth: Option<Auth>,
    allow_insecure_http: bool,
    retry: RetryPolicy,
    http2_keep_alive: Option<Duration>,
    #[cfg(feature = "rustls")]
    builtin_roots: bool,
    #[cfg(feature = "rustls")]
    extra_roots: Vec<tls::ExtraRoot>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(60),
            pool_idle_timeout: Duration::from_secs(30),
            pool_max_idle_per_host: 32,
            max_response_body: 64 * 1024 * 1024,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            auth: None,
            allow_insecure_http: false,
            retry: RetryPolicy::default(),
            http2_keep_alive: None,
            #[cfg(feature = "rustls")]
            builtin_roots: true,
            #[cfg(feature = "rustls")]
            extra_roots: Vec::new(),
        }
    }
}

impl ClientBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The time to resolve, connect and finish the TLS handshake. Default 10 s. Running out
    /// gives [`ErrorKind::Timeout`] (nothing was sent: retried under the [`RetryPolicy`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The time from handing the request to a connection until the whole response body has
    /// arrived. Default 60 s. Running out gives [`ErrorKind::ResponseLost`] (never retried,
    /// unless the request carries [`ReplaySafe`](crate::ReplaySafe)).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// How long an unused connection stays in the pool. Default 30 s. Keep it below the
    /// server's keep-alive timeout: a request written onto a connection the server is closing
    /// at that moment is a lost response.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The most idle HTTP/1.1 connections kept per host. Default 32; 0 disables pooling.
    pub fn pool_max_idle_per_host(mut self, max: usize) -> Self {
        self.pool_max_idle_per_host = max;
        self
    }

    /// The largest response body accepted, in bytes. Default 64 MiB. A larger body gives
    /// [`ErrorKind::BodyTooLarge`] and its connection (or HTTP/2 stream) is dropped.
    pub fn max_response_body(mut self, bytes: u64) -> Self {
        self.max_response_body = bytes;
        self
    }

    /// The `User-Agent` for requests that carry none. Default `ivr-reports/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Credentials sent as `Authorization` on requests that carry none. Default none.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Allows credentials over plain `http://` to hosts that are not loopback. Default
    /// `false`: such a request fails with [`ErrorKind::InsecureCredentials`] before anything
    /// is sent.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The retry policy. Default [`RetryPolicy::default`].
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sends HTTP/2 pings at this interval to detect dead connections. Default off.
    pub fn http2_keep_alive_interval(mut self, interval: Option<Duration>) -> Self {
        self.http2_keep_alive = interval;
        self
    }

    /// Trusts an extra root certificate given in DER (for tests and corporate proxies).
    /// Checked by [`build`](Self::build).
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(tls::ExtraRoot::Der(der.into()));
        self
    }

    /// Trusts the root certificates in a PEM text. Checked by [`build`](Self::build).
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(tls::ExtraRoot::Pem(pem.into()));
        self
    }

    /// Whether the bundled Mozilla roots (`webpki-roots`) are trusted. Default `true`; turn
    /// it off to trust only the roots added here.
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    pub fn builtin_roots(mut self, enabled: bool) -> Self {
        self.builtin_roots = enabled;
        self
    }

    /// Builds the client. Needs no runtime; sending does (tokio).
    ///
    /// # Errors
    /// [`ErrorKind::Config`] for a user agent or credentials that cannot be a header value,
    /// or a root certificate that does not parse.
    pub fn build(self) -> Result<Client, Error> {
        let user_agent = HeaderValue::try_from(self.user_agent.as_str()).map_err(|e| {
            Error::of(ErrorKind::Config)
                .with_context("user agent is not a valid header value")
                .with_source(e)
        })?;
        let auth_header = match &self.auth {
            Some(auth) => Some(auth.header_value().map_err(|_| {
                Error::of(ErrorKind::Config)
                    .with_context("credentials contain characters not allowed in a header")
            })?),
            None => None,
        };
        let connector = Connector {
            #[cfg(feature = "rustls")]
            tls: tls::client_config(self.builtin_roots, &self.extra_roots)?,
            http2_keep_alive: self.http2_keep_alive,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                pool: Arc::new(Pool::new(
                    self.pool_idle_timeout,
                    self.pool_max_idle_per_host,
                )),
                connector,
                connect_timeout: self.connect_timeout,
                response_timeout: self.response_timeout,
                max_response_body: self.max_response_body,
                user_agent,
                auth: self.auth,
                auth_header,
                allow_insecure_http: self.allow_insecure_http,
                retry: self.retry,
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("max_response_body", &self.max_response_body)
            .field("user_agent", &self.user_agent)
            .field("auth", &self.auth)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// A pooled HTTP/1.1 and HTTP/2 client that never resends a request the server may have
/// processed. Cheap to clone (one `Arc`); clones share the pool.
///
/// - `http://` speaks HTTP/1.1; `https://` (feature `rustls`) negotiates HTTP/2 or HTTP/1.1
///   by ALPN.
/// - Every response comes back whole, as `Bytes`, whatever its status: a 500 is a response,
///   not an error. 429 and 503 are retried under the [`RetryPolicy`] and, once it gives up,
///   returned as they are.
/// - Sending needs a tokio runtime (with the time and I/O drivers).
///
/// ```no_run
/// use bytes::Bytes;
/// use ivr_reports_transport::{Auth, Client};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder().auth(Auth::app("my-api-key")).build()?;
/// let request = http::Request::get("https://api.infobip.com/tts/3/reports?limit=1000")
///     .header("accept", "application/json")
///     .body(Bytes::new())?;
/// match client.send(request).await {
///     Ok(response) => println!("{} {} bytes", response.status(), response.body().len()),
///     Err(e) if e.maybe_processed() => eprintln!("{e}: store what you can, do not resend"),
///     Err(e) => eprintln!("{e}: nothing was processed, try again later"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Arc<Pool>,
    connector: Connector,
    connect_timeout: Duration,
    response_timeout: Duration,
    max_response_body: u64,
    user_agent: HeaderValue,
    auth: Option<Auth>,
    auth_header: Option<HeaderValue>,
    allow_insecure_http: bool,
    retry: RetryPolicy,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Client")
            .field("connect_timeout", &inner.connect_timeout)
            .field("response_timeout", &inner.response_timeout)
            .field("max_response_body", &inner.max_response_body)
            .field("auth", &inner.auth)
            .field("allow_insecure_http", &inner.allow_insecure_http)
            .field("retry", &inner.retry)
            .finish_non_exhaustive()
    }
}

/// A request checked once, ready to be sent (again).
struct Prepared {
    target: Target,
    method: Method,
    absolute: Uri,
    origin: Uri,
    /// Headers for HTTP/1.1 (with `Host`).
    headers: HeaderMap,
    body: Bytes,
    /// The request carried [`ReplaySafe`](crate::ReplaySafe): a lost response may be retried.
    replay_safe: bool,
}

impl Prepared {
    fn h1(&self) -> Request<ReqBody> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.origin.clone();
        *req.version_mut() = Version::HTTP_11;
        *req.headers_mut() = self.headers.clone();
        req
    }

    fn h2(&self) -> Request<ReqBody> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.absolute.clone();
        *req.version_mut() = Version::HTTP_2;
        let mut headers = self.headers.clone();
        headers.remove(header::HOST);
        headers.remove(header::CONNECTION);
        *req.headers_mut() = headers;
        req
    }
}

/// The outcome of one attempt.
enum Attempt {
    Response(Response<Bytes>),
    Failed { error: Error, retriable: bool },
}

impl Attempt {
    fn fatal(error: Error) -> Self {
        Self::Failed {
            error,
            retriable: false,
        }
    }
}

/// The outcome of one exchange on one connection.
enum Exchange {
    /// The request came back unsent: the connection was closed before it took it.
    NotSent,
    Done(Attempt),
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Sends `request` and returns the whole response, retrying only while the server
    /// provably did not process it (see [`RetryPolicy`]).
    ///
    /// The request needs an absolute `http://` or `https://` URI without user info.
    ///
    /// # Errors
    /// See [`ErrorKind`]; check [`Error::maybe_processed`] before sending anything again.
    ///
    /// Logs through `tracing` (target `ivr_reports_transport`): a span `http_request` with
    /// the method, host and path (secret-looking segments hidden by
    /// [`redact_path`](crate::redact_path); never the query, which may carry filters or
    /// secrets, nor any header), a `debug` event per response, a `warn` event per retry and per failure,
    /// and an `error` event when a response is lost after the request was sent.
    pub async fn send(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        let span = tracing::info_span!(
            "http_request",
            method = %request.method(),
            host = request.uri().host().unwrap_or(""),
            path = %crate::redact_path(request.uri().path()),
        );
        self.send_logged(request).instrument(span).await
    }

    async fn send_logged(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        let started = Instant::now();
        let result = self.send_with_retries(request, started).await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match &result {
            Ok(response) => {
                tracing::debug!(status = response.status().as_u16(), elapsed_ms, "response");
            }
            // The error goes back to the caller, who decides how loud it is (a collector
            // records an incident, a CLI says it once): here it is detail, for -v.
            Err(e) if e.maybe_processed() => tracing::debug!(
                error = %e,
                attempts = e.attempts(),
                elapsed_ms,
                "response lost after the request was sent: what it carried may be gone"
            ),
            Err(e) => tracing::debug!(
                error = %e,
                attempts = e.attempts(),
                elapsed_ms,
                "request failed, not processed by the server"
            ),
        }
        result
    }

    async fn send_with_retries(
        &self,
        request: Request<Bytes>,
        started: Instant,
    ) -> Result<Response<Bytes>, Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::of(ErrorKind::Io).with_context("the client needs a tokio runtime"));
        }
        let prepared = self.prepare(request)?;
        let policy = self.inner.retry;
        let deadline = started + policy.total_deadline();
        let mut attempt: u32 = 0;
        // Throttled answers so far, told to the caller on the response it gets.
        let mut throttled = crate::Throttled::default();
        loop {
            attempt += 1;
            let (result, wait) = match self.attempt(&prepared, deadline).await {
                Attempt::Response(mut response) => {
                    let now = SystemTime::now();
                    if response.status() == http::StatusCode::TOO_MANY_REQUESTS
                        || response.status() == http::StatusCode::SERVICE_UNAVAILABLE
                    {
                        throttled.responses += 1;
                        throttled.retry_after = retry::retry_after(response.headers(), now);
                    }
                    if throttled.responses > 0 {
                        response.extensions_mut().insert(throttled);
                    }
                    let wait =
                        policy.wait_for_status(response.status(), response.headers(), attempt, now);
                    match wait {
                        Some(wait) => (Ok(response), wait),
                        None => return Ok(response),
                    }
                }
                Attempt::Failed {
                    error,
                    retriable: true,
                } => (Err(error), policy.backoff(attempt)),
                // Sending it again has no effect: a lost response is only a lost read.
                Attempt::Failed { error, .. }
                    if prepared.replay_safe && error.kind() == ErrorKind::ResponseLost =>
                {
                    (Err(error), policy.backoff(attempt))
                }
                Attempt::Failed { error, .. } => return Err(error.with_attempts(attempt)),
            };
            let past_deadline = Instant::now()
                .checked_add(wait)
                .is_none_or(|resume| resume >= deadline);
            if attempt >= policy.attempts() || past_deadline {
                return result.map_err(|e| e.with_attempts(attempt));
            }
            let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
            match &result {
                Ok(response) => tracing::warn!(
                    attempt,
                    status = response.status().as_u16(),
                    wait_ms,
                    "retrying: the server did not process the request"
                ),
                Err(e) if e.maybe_processed() => tracing::warn!(
                    attempt,
                    error = %e,
                    wait_ms,
                    "retrying a replay-safe request whose response was lost"
                ),
                Err(e) => tracing::warn!(
                    attempt,
                    error = %e,
                    wait_ms,
                    "retrying: the request was not sent"
                ),
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn prepare(&self, request: Request<Bytes>) -> Result<Prepared, Error> {
        let replay_safe = crate::ReplaySafe::is_set(&request);
        let (parts, body) = request.into_parts();
        let invalid = |context| Error::of(ErrorKind::InvalidRequest).with_context(context);
        let https = match parts.uri.scheme() {
            Some(s) if *s == Scheme::HTTPS => true,
            Some(s) if *s == Scheme::HTTP => false,
            Some(_) => return Err(invalid("the uri scheme must be http or https")),
            None => return Err(invalid("the uri must be absolute (scheme and host)")),
        };
        let authority = parts
            .uri
            .authority()
            .ok_or_else(|| invalid("the uri must be absolute (scheme and host)"))?;
        if authority.as_str().contains('@') {
            return Err(invalid(
                "the uri must not carry credentials; use the client's auth",
            ));
        }
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let target = Target {
            https,
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
        };
        let mut headers = parts.headers;
        if let Some(auth) = &self.inner.auth_header
            && !headers.contains_key(header::AUTHORIZATION)
        {
            headers.insert(header::AUTHORIZATION, auth.clone());
        }
        if let Some(value) = headers.get_mut(header::AUTHORIZATION) {
            value.set_sensitive(true);
            if !https && !self.inner.allow_insecure_http && !target.is_loopback() {
                return Err(Error::of(ErrorKind::InsecureCredentials));
            }
        }
        if !headers.contains_key(header::USER_AGENT) {
            headers.insert(header::USER_AGENT, self.inner.user_agent.clone());
        }
        if !headers.contains_key(header::HOST) {
            let host = HeaderValue::from_str(authority.as_str())
                .map_err(|_| invalid("the uri authority is not a valid host header"))?;
            headers.insert(header::HOST, host);
        }
        let origin = parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        let origin = Uri::from(origin);
        Ok(Prepared {
            target,
            method: parts.method,
            absolute: parts.uri,
            origin,
            headers,
            body,
            replay_safe,
        })
    }

    async fn attempt(&self, prepared: &Prepared, deadline: Instant) -> Attempt {
        let inner = &self.inner;
        let mut pooled = true;
        for _ in 0..MAX_UNSENT_TRIES {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Attempt::fatal(
                    Error::of(ErrorKind::Timeout).with_context("total deadline reached"),
                );
            }
            let checked_out = if pooled {
                inner.pool.checkout(&prepared.target)
            } else {
                None
            };
            let conn = match checked_out {
                Some(conn) => conn,
                None => {
                    let limit = inner.connect_timeout.min(remaining);
                    let connecting = inner.connector.connect(&prepared.target);
                    match tokio::time::timeout(limit, connecting).await {
                        Err(_) => {
                            return Attempt::Failed {
                                error: Error::of(ErrorKind::Timeout)
                                    .with_context("connect timeout"),
                                retriable: true,
                            };
                        }
                        Ok(Err(e)) => {
                            return Attempt::Failed {
                                error: e.error,
                                retriable: e.retriable,
                            };
                        }
                        Ok(Ok(conn)) => {
                            if let Conn::H2(sender) = &conn {
                                inner.pool.share_h2(&prepared.target, sender);
                            }
                            conn
                        }
                    }
                }
            };
            let remaining = deadline.saturating_duration_since(Instant::now());
            let end = tokio::time::Instant::now() + inner.response_timeout.min(remaining);
            match self.exchange(conn, prepared, end).await {
                Exchange::NotSent => pooled = false,
                Exchange::Done(attempt) => return attempt,
            }
        }
        Attempt::Failed {
            error: Error::of(ErrorKind::Connect)
                .with_context("connections closed before the request could be sent"),
            retriable: true,
        }
    }

    async fn exchange(
        &self,
        conn: Conn,
        prepared: &Prepared,
        end: tokio::time::Instant,
    ) -> Exchange {
        let cap = self.inner.max_response_body;
        let exchange = async move {
            match conn {
                Conn::H1(mut sender) => {
                    let response = match sender.try_send_request(prepared.h1()).await {
                        Ok(response) => response,
                        Err(mut e) => {
                            if e.take_message().is_some() {
                                return Exchange::NotSent;
                            }
                            return Exchange::Done(failed_after_send(e.into_error()));
                        }
                    };
                    match read_response(response, cap).await {
                        Ok(response) => {
                            self.inner.pool.put_h1(prepared.target.clone(), sender);
                            Exchange::Done(Attempt::Response(response))
                        }
                        // Dropping the sender closes the connection.
                        Err(error) => Exchange::Done(Attempt::fatal(error)),
                    }
                }
                Conn::H2(mut sender) => {
                    let response = match sender.try_send_request(prepared.h2()).await {
                        Ok(response) => response,
                        Err(mut e) => {
                            if e.take_message().is_some() {
                                return Exchange::NotSent;
                            }
                            return Exchange::Done(failed_after_send(e.into_error()));
                        }
                    };
                    // Dropping an unread body resets the stream only.
                    match read_response(response, cap).await {
                        Ok(response) => Exchange::Done(Attempt::Response(response)),
                        Err(error) => Exchange::Done(Attempt::fatal(error)),
                    }
                }
            }
        };
        match tokio::time::timeout_at(end, exchange).await {
            Ok(exchange) => exchange,
            Err(_) => Exchange::Done(Attempt::fatal(
                Error::of(ErrorKind::ResponseLost).timed_out(),
            )),
        }
    }
}

impl HttpTransport for Client {
    fn send(&self, request: Request<Bytes>) -> BoxFuture<'_, Result<Response<Bytes>, Error>> {
        Box::pin(Client::send(self, request))
    }
}

/// Classifies a failure once the connection took the request.
fn failed_after_send(err: hyper::Error) -> Attempt {
    if refused_stream(&err) {
        return Attempt::Failed {
            error: Error::of(ErrorKind::Protocol)
                .with_context("the server refused the http/2 stream without processing it")
                .with_source(err),
            retriable: true,
        };
    }
    let error = if err.is_parse() || err.is_parse_status() {
        Error::of(ErrorKind::Protocol).processed()
    } else {
        let lost = Error::of(ErrorKind::ResponseLost);
        if err.is_timeout() {
            lost.timed_out()
        } else {
            lost
        }
    };
    Attempt::fatal(error.with_source(err))
}

/// Whether an HTTP/2 error is `REFUSED_STREAM` (the server did not process the stream).
fn refused_stream(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    for _ in 0..8 {
        let Some(e) = current else { break };
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return h2.reason() == Some(h2::Reason::REFUSED_STREAM);
        }
        current = e.source();
    }
    false
}

/// Reads a whole response body, refusing more than `cap` bytes.
async fn read_response(response: Response<Incoming>, cap: u64) -> Result<Response<Bytes>, Error> {
    let (parts, mut body) = response.into_parts();
    let too_large = || Error::of(ErrorKind::BodyTooLarge);
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > cap) {
        return Err(too_large());
    }
    let mut first: Option<Bytes> = None;
    let mut rest: Option<BytesMut> = None;
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            Error::of(ErrorKind::ResponseLost)
                .with_context("the connection failed while the body was read")
                .with_source(e)
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len() as u64);
        if total > cap {
            return Err(too_large());
        }
        match (&mut first, &mut rest) {
            (None, _) => first = Some(data),
            (Some(head), None) => {
                let capacity = declared
                    .and_then(|len| usize::try_from(len).ok())
                    .unwrap_or(head.len() + data.len());
                let mut buf = BytesMut::with_capacity(capacity.max(head.len() + data.len()));
                buf.extend_from_slice(head);
                buf.extend_from_slice(&data);
                rest = Some(buf);
            }
            (Some(_), Some(buf)) => buf.extend_from_slice(&data),
        }
    }
    let body = match (first, rest) {
        (_, Some(buf)) => buf.freeze(),
        (Some(one), None) => one,
        (None, None) => Bytes::new(),
    };
    Ok(Response::from_parts(parts, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(allow: bool) -> Client {
        Client::builder()
            .auth(Auth::app("topsecret"))
            .allow_insecure_http(allow)
            .build()
            .unwrap()
    }

    fn get(uri: &str) -> Request<Bytes> {
        Request::get(uri).body(Bytes::new()).unwrap()
    }

    #[test]
    fn credentials_over_plain_http_only_to_loopback() {
        let c = client(false);
        let err = c
            .prepare(get("http://api.example.com/tts/3/reports"))
            .err()
            .unwrap();
        assert_eq!(err.kind(), ErrorKind::InsecureCredentials);
        assert!(!err.to_string().contains("topsecret"));
        assert!(c.prepare(get("http://127.0.0.1:8080/x")).is_ok());
        assert!(c.prepare(get("http://[::1]:8080/x")).is_ok());
        assert!(c.prepare(get("http://localhost/x")).is_ok());
        assert!(c.prepare(get("https://api.example.com/x")).is_ok());
        assert!(
            client(true)
                .prepare(get("http://api.example.com/x"))
                .is_ok()
        );
        let anonymous = Client::builder().build().unwrap();
        assert!(anonymous.prepare(get("http://api.example.com/x")).is_ok());
    }

    #[test]
    fn requests_get_auth_user_agent_and_host() {
        let p = client(false)
            .prepare(get("http://127.0.0.1:8080/a?b=c"))
            .unwrap();
        let h1 = p.h1();
        assert_eq!(h1.uri(), "/a?b=c");
        assert_eq!(h1.headers()[header::HOST], "127.0.0.1:8080");
        assert_eq!(h1.headers()[header::USER_AGENT], DEFAULT_USER_AGENT);
        assert!(h1.headers()[header::AUTHORIZATION].is_sensitive());
        let h2 = p.h2();
        assert_eq!(h2.uri(), "http://127.0.0.1:8080/a?b=c");
        assert!(!h2.headers().contains_key(header::HOST));
        assert_eq!(p.target.port, 8080);
    }

    #[test]
    fn bad_uris_are_refused_before_sending() {
        let c = client(false);
        for uri in [
            "/relative",
            "ftp://example.com/",
            "https://user:pw@example.com/",
        ] {
            let err = c.prepare(get(uri)).err().unwrap();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{uri}");
            assert!(!err.to_string().contains("pw"));
        }
    }

    #[test]
    fn sending_without_a_runtime_is_an_error_not_a_panic() {
        let c = client(false);
        let send = c.send(get("http://127.0.0.1:9/"));
        // Poll once by hand, outside any runtime.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut send = std::pin::pin!(send);
        match send.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(Err(e)) => assert_eq!(e.kind(), ErrorKind::Io),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = client(false);
        let text = format!(
            "{c:?} {:?}",
            Client::builder().auth(Auth::bearer("topsecret"))
        );
        assert!(!text.contains("topsecret"), "{text}");
        assert!(text.contains("***"));
    }
}
