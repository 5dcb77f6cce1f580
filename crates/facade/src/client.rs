//! `Client` and its builder: where requests go, how they authenticate, how they travel.

use std::fmt;
use std::sync::Arc;
#[cfg(feature = "client")]
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Request, Response, Uri};
use ivr_reports_codec::{Codec, Format};
use ivr_reports_model::{CallReport, ReportsQuery, VoiceReport};
#[cfg(feature = "client")]
use ivr_reports_transport::RetryPolicy;
use ivr_reports_transport::{Auth, HttpTransport, ReplaySafe, SharedTransport, redact_url};

use crate::drain::Drain;
use crate::endpoint::{Endpoint, Paged, Reports};
use crate::error::Error;
use crate::request::{LogsRequest, ReportsRequest};
use ivr_reports_model::Report;
use tracing::Instrument;

/// The default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.infobip.com";

/// A client of the Infobip voice report API. Cheap to clone (one shared connection pool);
/// `Send + Sync`.
///
/// ```no_run
/// # async fn run() -> Result<(), ivr_reports::Error> {
/// use ivr_reports::{Auth, Client};
///
/// let client = Client::builder()
///     .base_url("https://xyz.api.infobip.com")
///     .auth(Auth::app("your-api-key"))
///     .build()?;
/// let page = client.reports().limit(1000).await?;
/// for report in &page.reports {
///     println!("{} {:?}", report.message_id, report.status_group());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// Scheme and authority, and a path prefix without a trailing `/`.
    base: String,
    auth: Option<HeaderValue>,
    auth_debug: Option<Auth>,
    format: Format,
    transport: SharedTransport,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &redact_url(&self.inner.base))
            .field("auth", &self.inner.auth_debug)
            .field("format", &self.inner.format)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with the defaults (see [`ClientBuilder`]).
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The v1 report request (`GET /tts/3/reports`): set filters, then `.await` it.
    pub fn reports(&self) -> ReportsRequest<'_, VoiceReport> {
        ReportsRequest::new(self)
    }

    /// The v2 report request (`GET /voice/1/reports`, the current endpoint): set filters,
    /// then `.await` it.
    pub fn call_reports(&self) -> ReportsRequest<'_, CallReport> {
        ReportsRequest::new(self)
    }

    /// The voice logs request (`GET /tts/3/logs`): every message sent in the last 48
    /// hours with its current status, readable any number of times. Set filters, then
    /// `.await` it (see [`LogsRequest`]).
    pub fn logs(&self) -> LogsRequest<'_> {
        LogsRequest::new(self)
    }

    /// Fetches pages of generation `R` matching `query` until an empty page: a
    /// [`Stream`](futures_core::Stream) of pages (also usable with [`Drain::next`]). On an
    /// error it yields the error and ends.
    ///
    /// ```no_run
    /// # async fn run(client: ivr_reports::Client) -> Result<(), ivr_reports::Error> {
    /// use ivr_reports::{Limit, ReportsQuery, VoiceReport};
    ///
    /// let mut pages = client.drain::<VoiceReport>(ReportsQuery::new().limit(Limit::MAX));
    /// while let Some(page) = pages.next().await {
    ///     let page = page?;
    ///     println!("{} reports, {} rejected", page.reports.len(), page.rejected.len());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn drain<R: Report>(&self, query: ReportsQuery) -> Drain<Reports<R>> {
        self.drain_endpoint(Reports::new(query))
    }

    /// Fetches every page of any [`Paged`] endpoint: sends it, then what
    /// [`Paged::next_page`] says, until a page holds no items or was the last. A
    /// [`Stream`](futures_core::Stream) of pages (also usable with [`Drain::next`]); on an
    /// error it yields the error and ends.
    ///
    /// ```no_run
    /// # async fn run(client: ivr_reports::Client) -> Result<(), ivr_reports::Error> {
    /// use ivr_reports::{CallReport, ReportsQuery, Reports};
    ///
    /// // The report endpoints are paged too; so is any endpoint implementing `Paged`.
    /// let endpoint = Reports::<CallReport>::new(ReportsQuery::new().bulk_id("campaign-7"));
    /// let mut pages = client.drain_endpoint(endpoint);
    /// while let Some(page) = pages.next().await {
    ///     println!("{} reports", page?.reports.len());
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn drain_endpoint<E>(&self, endpoint: E) -> Drain<E>
    where
        E: Paged + Send + Sync + 'static,
        E::Output: Send,
    {
        Drain::new(self.clone(), endpoint)
    }

    /// The wire format the client asks for.
    #[must_use]
    pub fn format(&self) -> Format {
        self.inner.format
    }

    /// The base URL requests go to.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// Sends any [`Endpoint`]: builds the request (base URL, path, query, `Accept`, the
    /// endpoint's own [`headers`](Endpoint::headers), authorization), sends it through the transport, and decodes a 2xx response with
    /// [`Endpoint::decode`].
    ///
    /// # Errors
    /// See [`ErrorKind`](crate::ErrorKind): `Transport`, `ResponseLost`, `Api` (an error
    /// status, with the parsed Infobip error body), `Decode`, `InvalidRequest`.
    ///
    /// Logs through `tracing` (target `ivr_reports`): a span `send` with the method and
    /// path (never the query or a credential), and a `warn` event for an error status or a
    /// body that does not decode; the transport below logs the exchange itself.
    pub async fn send<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Output, Error> {
        let span = tracing::info_span!(
            "send",
            method = %endpoint.method(),
            path = %endpoint.path(),
        );
        self.send_in_span(endpoint).instrument(span).await
    }

    async fn send_in_span<E: Endpoint + ?Sized>(&self, endpoint: &E) -> Result<E::Output, Error> {
        let path = endpoint.path();
        let url = format!("{}{}", self.inner.base, path);
        let full = match endpoint.query() {
            Some(q) if !q.is_empty() => format!("{url}?{q}"),
            _ => url.clone(),
        };
        let format = endpoint.format(self.inner.format);
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(format.mime()));
        let body = match endpoint.body() {
            Some((body_format, body)) => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(body_format.mime()),
                );
                body
            }
            None => Bytes::new(),
        };
        endpoint.headers(&mut headers);
        // Credentials are the client's alone (see `Endpoint::headers`).
        match &self.inner.auth {
            Some(auth) => {
                if headers
                    .insert(header::AUTHORIZATION, auth.clone())
                    .is_some()
                {
                    tracing::warn!(
                        "the endpoint's Authorization header was replaced by the client's"
                    );
                }
            }
            None => {
                if headers.remove(header::AUTHORIZATION).is_some() {
                    tracing::warn!(
                        "the endpoint's Authorization header was dropped: credentials are set on the client"
                    );
                }
            }
        }
        let mut request = Request::builder()
            .method(endpoint.method())
            .uri(full)
            .body(body)
            .map_err(|e| {
                Error::invalid(format!("cannot build a request to {url}")).with_source(e)
            })?;
        *request.headers_mut() = headers;
        let replay_safe = endpoint.replay_safe();
        if replay_safe {
            request.extensions_mut().insert(ReplaySafe);
        }
        let response = self
            .inner
            .transport
            .send(request)
            .await
            .map_err(|e| Error::from_transport_to(e, replay_safe).at(url.as_str()))?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            endpoint.decode(response).map_err(|e| {
                tracing::warn!(status, error = %e, "the response body could not be decoded");
                e.at(url.as_str())
            })
        } else {
            let e = api_error(response);
            tracing::warn!(status, error = %e, "the API answered with an error status");
            Err(e.at(url.as_str()))
        }
    }
}

/// The error of a non-2xx response, with the Infobip error body parsed when it is one.
fn api_error(response: Response<Bytes>) -> Error {
    let status = response.status();
    let format = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(Format::from_content_type);
    let throttled = response
        .extensions()
        .get::<ivr_reports_transport::Throttled>()
        .copied();
    let body = response.into_body();
    let parsed = format
        .and_then(|f| Codec::new(f).ok())
        .and_then(|codec| codec.decode_api_error(&body).ok());
    Error::api(status, parsed, body).with_throttled(throttled)
}

/// Configures a [`Client`]. `build()` checks everything once.
///
/// With the `client` feature (default) requests travel through the built-in hyper client,
/// the transport's `ClientBuilder`, which this builder wraps: its settings, defaults and
/// checks are the transport's (the common ones have setters here, every other one is
/// reached through `http_client`). Without it there is no built-in client: pass your own
/// [`HttpTransport`] to [`transport`](Self::transport), or `build()` fails.
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    auth: Option<Auth>,
    format: Format,
    allow_insecure_http: bool,
    transport: Option<SharedTransport>,
    /// The built-in client's own builder: its defaults are the ones used.
    #[cfg(feature = "client")]
    http: ivr_reports_transport::ClientBuilder,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ClientBuilder");
        s.field("base_url", &redact_url(&self.base_url))
            .field("auth", &self.auth)
            .field("format", &self.format)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("transport", &self.transport.as_ref().map(|_| "custom"));
        #[cfg(feature = "client")]
        s.field("http", &self.http);
        s.finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            auth: None,
            format: Format::Json,
            allow_insecure_http: false,
            transport: None,
            #[cfg(feature = "client")]
            http: ivr_reports_transport::ClientBuilder::default(),
        }
    }
}

impl ClientBuilder {
    /// Where the API lives. Default `https://api.infobip.com`; personal base URLs such as
    /// `https://xyz.api.infobip.com` work, and so does a sandbox's `http://127.0.0.1:PORT`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// How requests authenticate. Default none (the API will answer 401).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The wire format to ask for. Default JSON.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Time allowed to connect: the transport's
    /// [`connect_timeout`](ivr_reports_transport::ClientBuilder::connect_timeout) (default
    /// 10 s).
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.http_client(|http| http.connect_timeout(timeout))
    }

    /// Time allowed for the whole response once the request is sent: the transport's
    /// [`response_timeout`](ivr_reports_transport::ClientBuilder::response_timeout)
    /// (default 60 s). When it runs out the error is
    /// [`ErrorKind::ResponseLost`](crate::ErrorKind::ResponseLost).
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    pub fn response_timeout(self, timeout: Duration) -> Self {
        self.http_client(|http| http.response_timeout(timeout))
    }

    /// When requests that provably were not processed are retried: the transport's
    /// [`retry`](ivr_reports_transport::ClientBuilder::retry) (default
    /// [`RetryPolicy::default`]); [`RetryPolicy::never`] turns retries off.
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    pub fn retry(self, policy: RetryPolicy) -> Self {
        self.http_client(|http| http.retry(policy))
    }

    /// The largest response body accepted: the transport's
    /// [`max_response_body`](ivr_reports_transport::ClientBuilder::max_response_body)
    /// (default 64 MiB).
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    pub fn max_response_body(self, bytes: u64) -> Self {
        self.http_client(|http| http.max_response_body(bytes))
    }

    /// Any other setting of the built-in client (user agent, pool, HTTP/2 keep-alive, root
    /// certificates, ...), on the transport's
    /// [`ClientBuilder`](ivr_reports_transport::ClientBuilder) itself; its checks run at
    /// [`build`](Self::build). Credentials and `allow_insecure_http` belong to this builder
    /// ([`auth`](Self::auth), [`allow_insecure_http`](Self::allow_insecure_http)): `build()`
    /// hands the transport this builder's `allow_insecure_http`.
    ///
    /// ```
    /// use ivr_reports::Client;
    ///
    /// let client = Client::builder()
    ///     .http_client(|http| http.user_agent("my-app/1.0").pool_max_idle_per_host(4))
    ///     .build()?;
    /// # Ok::<(), ivr_reports::Error>(())
    /// ```
    #[cfg(feature = "client")]
    #[cfg_attr(docsrs, doc(cfg(feature = "client")))]
    pub fn http_client(
        mut self,
        configure: impl FnOnce(
            ivr_reports_transport::ClientBuilder,
        ) -> ivr_reports_transport::ClientBuilder,
    ) -> Self {
        self.http = configure(self.http);
        self
    }

    /// Allow credentials over plain `http://` to a host that is not loopback. Default
    /// `false`: such a client is refused at `build()`.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Send through this transport instead of the built-in hyper client (the timeouts, retry
    /// policy, body cap and `http_client` settings then do not apply:
    /// the transport has its own). Without the
    /// `client` feature this is the only way to send, and `build()` requires it.
    pub fn transport(mut self, transport: impl HttpTransport + 'static) -> Self {
        self.transport = Some(SharedTransport::new(transport));
        self
    }

    /// Checks the configuration and builds the client.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest): the base URL is not
    /// an absolute `http(s)://` URL (or carries user info, a query or a fragment);
    /// credentials would travel over plain `http://` to a host that is not loopback; a
    /// credential holds characters a header cannot carry; the format is not compiled in; no
    /// [`transport`](Self::transport) was given and the `client` feature is off.
    pub fn build(self) -> Result<Client, Error> {
        let base = self.base_url.trim().trim_end_matches('/').to_string();
        // Every message shows the URL redacted: a rejected base URL may hold a key.
        let shown = redact_url(&base);
        // Before parsing: `https://user:pa/ss@host` parses as host `user` with the password
        // in the path, and would be sent (and printed) as such.
        if base.contains('@') {
            return Err(Error::invalid(format!(
                "invalid base URL {shown:?}: user info is not allowed; use .auth() for credentials"
            )));
        }
        let uri: Uri = base
            .parse()
            .map_err(|e| Error::invalid(format!("invalid base URL {shown:?}")).with_source(e))?;
        let scheme = uri.scheme_str().unwrap_or("");
        if scheme != "http" && scheme != "https" {
            return Err(Error::invalid(format!(
                "invalid base URL {shown:?}: it must start with https:// (or http:// for a local sandbox)"
            )));
        }
        let Some(authority) = uri.authority() else {
            return Err(Error::invalid(format!(
                "invalid base URL {shown:?}: no host"
            )));
        };
        if uri.query().is_some() || base.contains('#') {
            return Err(Error::invalid(format!(
                "invalid base URL {shown:?}: no query or fragment allowed; use .auth() for credentials"
            )));
        }
        if scheme == "http"
            && self.auth.is_some()
            && !self.allow_insecure_http
            && !ivr_reports_transport::is_loopback_host(authority.host())
        {
            return Err(Error::invalid(format!(
                "refusing to send credentials over plain http to {}: use https, or allow_insecure_http(true)",
                authority.host()
            )));
        }
        if !self.format.is_supported() {
            return Err(Error::invalid(format!(
                "the {} format is not compiled in (cargo feature `{}`)",
                self.format, self.format
            )));
        }
        let auth = self
            .auth
            .as_ref()
            .map(Auth::header_value)
            .transpose()
            .map_err(Error::from_transport)?;
        let transport = match self.transport {
            Some(t) => t,
            #[cfg(feature = "client")]
            None => built_in_transport(self.http, self.allow_insecure_http)?,
            #[cfg(not(feature = "client"))]
            None => return Err(no_transport()),
        };
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                auth,
                auth_debug: self.auth,
                format: self.format,
                transport,
            }),
        })
    }
}

/// The built-in hyper client, as its builder was configured.
#[cfg(feature = "client")]
fn built_in_transport(
    http: ivr_reports_transport::ClientBuilder,
    allow_insecure_http: bool,
) -> Result<SharedTransport, Error> {
    let client = http
        // The same rule as checked above with the credentials in view; the transport
        // applies it again to every request that carries them.
        .allow_insecure_http(allow_insecure_http)
        .build()
        .map_err(Error::from_transport)?;
    Ok(SharedTransport::new(client))
}

/// Without the `client` feature there is nothing built in to send with.
#[cfg(not(feature = "client"))]
fn no_transport() -> Error {
    Error::invalid(
        "no transport: the built-in HTTP client is not compiled in (cargo feature `client`); \
         pass your own with ClientBuilder::transport",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// Without the built-in client the checks are the same; only the transport differs.
    #[cfg(not(feature = "client"))]
    struct Unreachable;

    #[cfg(not(feature = "client"))]
    impl HttpTransport for Unreachable {
        fn send(
            &self,
            _request: Request<Bytes>,
        ) -> ivr_reports_transport::BoxFuture<
            '_,
            Result<Response<Bytes>, ivr_reports_transport::Error>,
        > {
            unreachable!("these tests never send")
        }
    }

    fn builder() -> ClientBuilder {
        #[cfg(feature = "client")]
        return Client::builder();
        #[cfg(not(feature = "client"))]
        return Client::builder().transport(Unreachable);
    }

    fn build(url: &str, auth: bool) -> Result<Client, Error> {
        let mut b = builder().base_url(url);
        if auth {
            b = b.auth(Auth::app("secret-key-123"));
        }
        b.build()
    }

    #[test]
    fn base_urls_are_checked_once() {
        assert!(build("https://api.infobip.com", true).is_ok());
        assert_eq!(
            build("https://xyz.api.infobip.com/", true)
                .unwrap()
                .base_url(),
            "https://xyz.api.infobip.com"
        );
        assert!(build("http://127.0.0.1:9000", true).is_ok());
        assert!(build("http://localhost:9000", true).is_ok());
        assert!(build("http://[::1]:9000", true).is_ok());
        // The transport's loopback rule, not one of our own: it sends credentials to
        // `*.localhost` over plain http, so the builder must not refuse them.
        assert!(build("http://sandbox.localhost:9000", true).is_ok());
        assert!(build("http://127.0.0.2:9000", true).is_ok());
        assert!(
            build("http://api.example.com", false).is_ok(),
            "no credentials, no risk"
        );
        for bad in [
            "api.infobip.com",
            "ftp://x",
            "https://user:pw@x.com",
            "https://x.com?a=b",
            "not a url",
            "",
        ] {
            let e = build(bad, true).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidRequest, "{bad}");
        }
        let e = build("http://api.infobip.com", true).unwrap_err();
        assert!(e.to_string().contains("plain http"), "{e}");
        assert!(
            builder()
                .base_url("http://api.infobip.com")
                .auth(Auth::app("k"))
                .allow_insecure_http(true)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn debug_and_errors_hide_credentials() {
        let c = build("https://api.infobip.com", true).unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("secret-key-123"), "{shown}");
        let b = Client::builder().auth(Auth::basic("user", "pass-word-9"));
        assert!(!format!("{b:?}").contains("pass-word-9"));
        let e = builder()
            .base_url("http://example.com")
            .auth(Auth::app("secret-key-123"))
            .build()
            .unwrap_err();
        assert!(!format!("{e} {e:?}").contains("secret-key-123"));
    }

    #[test]
    #[cfg(not(feature = "client"))]
    fn without_the_client_feature_a_transport_is_required() {
        let e = Client::builder().build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        assert!(e.to_string().contains("feature `client`"), "{e}");
    }

    #[test]
    fn client_is_send_and_sync() {
        fn check<T: Send + Sync + Clone>() {}
        check::<Client>();
    }
}
