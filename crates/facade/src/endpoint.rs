//! The `Endpoint` and `Paged` extension points, and the endpoints built on them: the two
//! report endpoints and the voice logs.

use std::borrow::Cow;
use std::marker::PhantomData;

use bytes::Bytes;
use http::{HeaderMap, Method, Response};
use ivr_reports_codec::{Batch, Rejected};
use ivr_reports_codec::{Codec, Format};
use ivr_reports_model::{LogEntry, LogsQuery, Report, ReportsQuery};

use crate::error::Error;
use crate::page::{Page, ResponseMeta};

/// One API operation: how to build its request and read its (2xx) response.
///
/// [`Client::send`](crate::Client::send) does the rest: base URL, authorization, the
/// `Accept` header (unless [`headers`](Self::headers) sets another), transport, and turning error statuses into [`ErrorKind::Api`] errors with
/// the parsed Infobip error body. The report endpoints and the logs endpoint are built on it;
/// add your own for other operations.
///
/// ```
/// use std::borrow::Cow;
/// use ivr_reports::{Endpoint, Error, Format};
///
/// /// `GET /account/1/balance`: the account balance, kept as raw JSON here.
/// struct Balance;
///
/// impl Endpoint for Balance {
///     type Output = String;
///     fn path(&self) -> Cow<'_, str> {
///         "/account/1/balance".into()
///     }
///     fn format(&self, _preferred: Format) -> Format {
///         Format::Json
///     }
///     fn decode(&self, response: http::Response<bytes::Bytes>) -> Result<String, Error> {
///         let body = response.into_body();
///         String::from_utf8(body.to_vec()).map_err(|e| Error::decode(body, e))
///     }
/// }
/// ```
///
/// [`ErrorKind::Api`]: crate::ErrorKind::Api
pub trait Endpoint {
    /// What a successful response decodes to.
    type Output;

    /// The HTTP method. Default `GET`.
    fn method(&self) -> Method {
        Method::GET
    }

    /// The path below the base URL, starting with `/`.
    fn path(&self) -> Cow<'_, str>;

    /// The query string, without `?`. Default none.
    fn query(&self) -> Option<String> {
        None
    }

    /// The format to ask for (`Accept`), given the client's preferred one. Default: that one.
    fn format(&self, preferred: Format) -> Format {
        preferred
    }

    /// The request body and its format. Default none.
    fn body(&self) -> Option<(Format, Bytes)> {
        None
    }

    /// Sets or overrides request headers. Called after the client has set its own
    /// (`Accept` from [`format`](Self::format), `Content-Type` from [`body`](Self::body)),
    /// so an endpoint may replace those, e.g. `Accept: audio/wav` for a recording.
    /// Default: nothing.
    ///
    /// `Authorization` is the client's alone: whatever the endpoint does to it is undone
    /// (the client's credentials, if any, are put back; none otherwise), so credentials are
    /// only ever the ones [`ClientBuilder::auth`](crate::ClientBuilder::auth) checked
    /// against the base URL. The transport below sets `Host`, `User-Agent` (when none is
    /// set here) and the body's length.
    ///
    /// ```
    /// use ivr_reports::http::{HeaderMap, HeaderValue, header};
    /// # use ivr_reports::{Endpoint, Error};
    /// # struct Recording;
    /// # impl Endpoint for Recording {
    /// #     type Output = ivr_reports::bytes::Bytes;
    /// #     fn path(&self) -> std::borrow::Cow<'_, str> { "/voice/ivr/1/files/f-1".into() }
    /// #     fn decode(&self, r: ivr_reports::http::Response<Self::Output>) -> Result<Self::Output, Error> { Ok(r.into_body()) }
    /// fn headers(&self, headers: &mut HeaderMap) {
    ///     headers.insert(header::ACCEPT, HeaderValue::from_static("audio/wav"));
    /// }
    /// # }
    /// ```
    fn headers(&self, headers: &mut HeaderMap) {
        let _ = headers;
    }

    /// Whether sending the request again has no effect on the server, so that a response
    /// lost after the request was sent may be retried (the request then carries the
    /// transport's [`ReplaySafe`](crate::transport::ReplaySafe) extension, and the built-in
    /// client retries it under its `RetryPolicy`). Default `false`.
    ///
    /// Only for reads without side effects, such as the voice logs ([`Logs`]). **Never** for
    /// the report endpoints: the API hands each report out once, so a resent report request
    /// answers with the next reports and the lost ones are gone.
    fn replay_safe(&self) -> bool {
        false
    }

    /// Reads a successful (2xx) response.
    ///
    /// # Errors
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) (see [`Error::decode`]) when the
    /// body cannot be read.
    fn decode(&self, response: Response<Bytes>) -> Result<Self::Output, Error>;
}

/// An [`Endpoint`] whose answers are pages: what [`Client::drain_endpoint`] needs to fetch
/// every page until there is no more.
///
/// The drain sends the endpoint, and then:
/// - a page with no items ([`items`](Self::items) is 0) ends it, and is not yielded;
/// - any other page is yielded, and [`next_page`](Self::next_page) says what to send next:
///   `Some(endpoint)` continues with it, `None` ends the drain after this page.
///
/// The report endpoints ([`Reports`]) hand each report out once, so the next page is the
/// same request again and only an empty page ends. An endpoint paged by a number or a
/// cursor returns the request for the following page, and `None` after the last.
///
/// ```
/// use std::borrow::Cow;
/// use ivr_reports::{Endpoint, Error, Paged, QueryString};
///
/// /// `GET /example/logs?page=N`, paged by number; `decode` reads the items and whether
/// /// more pages follow.
/// struct Logs {
///     page: u32,
/// }
///
/// struct LogPage {
///     lines: Vec<String>,
///     more: bool,
/// }
///
/// impl Endpoint for Logs {
///     type Output = LogPage;
///     fn path(&self) -> Cow<'_, str> {
///         "/example/logs".into()
///     }
///     fn query(&self) -> Option<String> {
///         QueryString::new().push("page", self.page).into_query()
///     }
///     fn decode(&self, response: http::Response<bytes::Bytes>) -> Result<LogPage, Error> {
///         let more = response.headers().contains_key("x-more-pages");
///         let body = response.into_body();
///         let text = std::str::from_utf8(&body).map_err(|e| Error::decode(body.clone(), e))?;
///         let lines = text.lines().map(str::to_string).collect();
///         Ok(LogPage { lines, more })
///     }
/// }
///
/// impl Paged for Logs {
///     fn items(page: &LogPage) -> usize {
///         page.lines.len()
///     }
///     fn next_page(&self, page: &LogPage) -> Option<Self> {
///         page.more.then(|| Logs { page: self.page + 1 })
///     }
/// }
/// ```
///
/// [`Client::drain_endpoint`]: crate::Client::drain_endpoint
pub trait Paged: Endpoint + Sized {
    /// How many items `page` holds. A page of none ends the drain and is not yielded.
    fn items(page: &Self::Output) -> usize;

    /// The endpoint fetching the page after `page` (which held items), or `None` when
    /// `page` is the last: the drain yields it and ends.
    fn next_page(&self, page: &Self::Output) -> Option<Self>;
}

/// The report endpoint of generation `R` ([`Report::GENERATION`] names its path), for one
/// query. Built by
/// [`Client::reports`](crate::Client::reports) and friends; public so it can be sent with
/// [`Client::send`](crate::Client::send), drained with
/// [`Client::drain_endpoint`](crate::Client::drain_endpoint) or wrapped.
#[derive(Debug)]
#[must_use]
pub struct Reports<R> {
    query: ReportsQuery,
    kind: PhantomData<fn() -> R>,
}

impl<R> Clone for Reports<R> {
    fn clone(&self) -> Self {
        Self {
            query: self.query.clone(),
            kind: PhantomData,
        }
    }
}

impl<R: Report> Reports<R> {
    /// The endpoint for `query`.
    pub fn new(query: ReportsQuery) -> Self {
        Self {
            query,
            kind: PhantomData,
        }
    }

    /// The query it sends, as a [`ReportsQuery`]. (Named apart from
    /// [`Endpoint::query`], the encoded query string, so that neither shadows the other.)
    pub fn reports_query(&self) -> &ReportsQuery {
        &self.query
    }
}

impl<R: Report> Endpoint for Reports<R> {
    type Output = Page<R>;

    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(R::GENERATION.path())
    }

    fn query(&self) -> Option<String> {
        let q = ivr_reports_codec::encode_query(&self.query);
        (!q.is_empty()).then_some(q)
    }

    fn decode(&self, response: Response<Bytes>) -> Result<Page<R>, Error> {
        decode_page(response, "reports", |codec, body| {
            codec.decode_page::<R>(body)
        })
    }
}

/// Reads a 2xx page response with `decode`, in the format its `Content-Type` (or its first
/// byte) says: the items that decoded, those that did not (`what` names them in the log),
/// and the response's metadata.
fn decode_page<T>(
    response: Response<Bytes>,
    what: &'static str,
    decode: impl FnOnce(&Codec, &[u8]) -> Result<Batch<T>, ivr_reports_codec::Error>,
) -> Result<Page<T>, Error> {
    let meta = ResponseMeta::of(&response);
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.into_body();
    let format = Format::of_body(content_type.as_deref(), &body);
    let codec = Codec::new(format).map_err(|e| Error::decode(body.clone(), e))?;
    let Batch {
        reports, rejected, ..
    } = decode(&codec, &body).map_err(|e| Error::decode(body.clone(), e))?;
    log_rejected(what, reports.len(), &rejected);
    Ok(Page::new(reports, rejected, meta))
}

fn log_rejected(what: &'static str, decoded: usize, rejected: &[Rejected]) {
    if rejected.is_empty() {
        tracing::debug!(what, decoded, "page decoded");
    } else {
        tracing::warn!(
            what,
            decoded,
            rejected = rejected.len(),
            "items could not be decoded: their raw bytes are in Page::rejected"
        );
    }
}

/// Each report is handed out once: the next page is the same request again, and only an
/// empty page ends a drain.
impl<R: Report> Paged for Reports<R> {
    fn items(page: &Page<R>) -> usize {
        page.len()
    }

    fn next_page(&self, _page: &Page<R>) -> Option<Self> {
        Some(self.clone())
    }
}

/// The voice logs endpoint, `GET /tts/3/logs`, for one query: every message sent in the
/// last 48 hours with its current status, readable any number of times (nothing is
/// consumed). Built by [`Client::logs`](crate::Client::logs); public so it can be sent with
/// [`Client::send`](crate::Client::send) or wrapped.
///
/// Its answer is a [`Page`] of [`LogEntry`]s (entries that do not decode are in
/// [`Page::rejected`] with their raw bytes). There is no cursor: to read more than the
/// limit, narrow the time window ([`LogsQuery::sent_since`], [`LogsQuery::sent_until`]).
///
/// It is [`replay_safe`](Endpoint::replay_safe): reading logs has no effect, so a response
/// lost in transit is retried under the client's `RetryPolicy`, as
/// are 429 answers (Infobip allows 120 logs requests a minute), honouring `Retry-After`.
///
/// ```
/// use ivr_reports::{Endpoint, Logs, LogsQuery, StatusGroup};
///
/// let logs = Logs::new(LogsQuery::new().bulk_id("b1").general_status(StatusGroup::Pending));
/// assert_eq!(logs.path(), "/tts/3/logs");
/// assert_eq!(logs.query().as_deref(), Some("bulkId=b1&generalStatus=PENDING"));
/// assert!(logs.replay_safe());
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Logs {
    query: LogsQuery,
}

impl Logs {
    /// The path of the voice logs.
    pub const PATH: &'static str = "/tts/3/logs";

    /// The endpoint for `query`.
    pub fn new(query: LogsQuery) -> Self {
        Self { query }
    }

    /// The query it sends, as a [`LogsQuery`] (named apart from [`Endpoint::query`], the
    /// encoded query string).
    pub fn logs_query(&self) -> &LogsQuery {
        &self.query
    }
}

impl Endpoint for Logs {
    type Output = Page<LogEntry>;

    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(Self::PATH)
    }

    fn query(&self) -> Option<String> {
        let q = ivr_reports_codec::encode_logs_query(&self.query);
        (!q.is_empty()).then_some(q)
    }

    fn replay_safe(&self) -> bool {
        true
    }

    fn decode(&self, response: Response<Bytes>) -> Result<Page<LogEntry>, Error> {
        decode_page(response, "log entries", |codec, body| {
            codec.decode_logs(body)
        })
    }
}
