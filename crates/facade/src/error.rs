//! The one error type of the facade, and what each kind means for your reports.

use std::error::Error as StdError;
use std::fmt;

use bytes::Bytes;
use http::StatusCode;
use ivr_reports_model::ApiError;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why a request failed. Match on [`Error::kind`]; the underlying cause, if any, is the
/// [`source`](StdError::source).
///
/// The message names the URL (never a credential) and what went wrong, e.g.
/// `401 from https://api.infobip.com/tts/3/reports: Invalid login details`.
pub struct Error {
    inner: Box<Inner>,
}

/// Boxed so that `Result<T, Error>` stays one pointer wide on the error side.
struct Inner {
    kind: ErrorKind,
    url: Option<String>,
    message: Option<String>,
    status: Option<StatusCode>,
    api: Option<ApiError>,
    body: Option<Bytes>,
    throttled: Option<ivr_reports_transport::Throttled>,
    source: Option<BoxError>,
}

/// The category of an [`Error`], and what to do about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No response, and nothing was consumed: the request provably was not processed
    /// (connection refused, DNS, TLS, a timeout before anything was sent), or it went to a
    /// [`replay_safe`](crate::Endpoint::replay_safe) endpoint such as the logs, which hands
    /// nothing out (its lost responses were already retried under the client's policy). It is
    /// safe to try again later. (When retries on 429/503 run out, the last answer comes back
    /// as [`ErrorKind::Api`].)
    Transport,
    /// The request reached the server, but its response was lost (the connection dropped,
    /// or a timeout struck while waiting for the answer). Only for endpoints that are not
    /// [`replay_safe`](crate::Endpoint::replay_safe): the report pages.
    ///
    /// **The reports that response carried may be gone**: Infobip hands each report out
    /// once. They are not lost for good if you also receive reports by webhook; otherwise
    /// record the incident (time, query) so the campaign's accounting can say which calls
    /// have no report, and do not treat the next empty page as "everything received". The
    /// client never retries such a request by itself.
    ResponseLost,
    /// The server answered with an error status. [`Error::status`] has it and
    /// [`Error::api_error`] the parsed Infobip error body (`requestError.serviceException`),
    /// or [`Error::body`] the raw body when it was not one. Nothing was handed out.
    Api,
    /// The server answered 2xx but the body is not what the endpoint decodes (for the report
    /// endpoints: not a report page, e.g. not JSON/XML or no `results`; the
    /// [`source`](std::error::Error::source) says what was wrong). The raw body is kept in
    /// [`Error::body`]: **it may hold reports**, so
    /// store it before anything else. (A page whose envelope is fine but some reports are not
    /// is not an error: those reports come back in `Page::rejected` with their raw bytes.)
    Decode,
    /// The request was not sent because it is invalid: a bad base URL, a `limit` outside 1 to
    /// 1000, credentials over plain `http://` to a host that is not loopback.
    InvalidRequest,
}

impl Error {
    fn new(kind: ErrorKind) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                url: None,
                message: None,
                status: None,
                api: None,
                body: None,
                throttled: None,
                source: None,
            }),
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        let mut e = Self::new(ErrorKind::InvalidRequest);
        e.inner.message = Some(message.into());
        e
    }

    pub(crate) fn at(mut self, url: impl Into<String>) -> Self {
        self.inner.url = Some(url.into());
        self
    }

    pub(crate) fn with_source(mut self, source: impl Into<BoxError>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    pub(crate) fn from_transport(error: ivr_reports_transport::Error) -> Self {
        Self::from_transport_to(error, false)
    }

    /// As [`Error::from_transport`], for a request to an endpoint that is `replay_safe` or not:
    /// a lost response of a replay-safe one consumed nothing, so it is no `ResponseLost`.
    pub(crate) fn from_transport_to(
        error: ivr_reports_transport::Error,
        replay_safe: bool,
    ) -> Self {
        use ivr_reports_transport::ErrorKind as T;
        let kind = match error.kind() {
            T::InvalidRequest | T::InsecureCredentials | T::Config => ErrorKind::InvalidRequest,
            _ if error.maybe_processed() && !replay_safe => ErrorKind::ResponseLost,
            _ => ErrorKind::Transport,
        };
        Self::new(kind).with_source(error)
    }

    pub(crate) fn with_throttled(
        mut self,
        throttled: Option<ivr_reports_transport::Throttled>,
    ) -> Self {
        self.inner.throttled = throttled;
        self
    }

    pub(crate) fn api(status: StatusCode, api: Option<ApiError>, body: Bytes) -> Self {
        let mut e = Self::new(ErrorKind::Api);
        e.inner.status = Some(status);
        e.inner.api = api;
        e.inner.body = Some(body);
        e
    }

    /// A [`ErrorKind::Decode`] error for a 2xx body that could not be read: for
    /// [`Endpoint::decode`](crate::Endpoint::decode) implementations. The body is kept.
    pub fn decode(body: Bytes, source: impl Into<BoxError>) -> Self {
        let mut e = Self::new(ErrorKind::Decode);
        e.inner.body = Some(body);
        e.inner.source = Some(source.into());
        e
    }

    /// The category of the error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Whether the server may have processed the request (and handed out reports):
    /// [`ErrorKind::ResponseLost`] and [`ErrorKind::Decode`].
    #[must_use]
    pub fn maybe_processed(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::ResponseLost | ErrorKind::Decode)
    }

    /// Whether a time limit ended the request.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        self.inner
            .source
            .as_deref()
            .and_then(|s| s.downcast_ref::<ivr_reports_transport::Error>())
            .is_some_and(ivr_reports_transport::Error::is_timeout)
    }

    /// The HTTP status of an [`ErrorKind::Api`] error.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// The parsed Infobip error body of an [`ErrorKind::Api`] error, when it was one.
    #[must_use]
    pub fn api_error(&self) -> Option<&ApiError> {
        self.inner.api.as_ref()
    }

    /// The raw response body of an [`ErrorKind::Api`] or [`ErrorKind::Decode`] error.
    #[must_use]
    pub fn body(&self) -> Option<&Bytes> {
        self.inner.body.as_ref()
    }

    /// Whether the server throttled the request (`429` or `503`, retried or final) and the
    /// last `Retry-After` it gave: on an [`ErrorKind::Api`] error whose answers were
    /// throttled (see [`transport::Throttled`](crate::transport::Throttled); a successful
    /// response carries it as an extension).
    #[must_use]
    pub fn throttled(&self) -> Option<ivr_reports_transport::Throttled> {
        self.inner.throttled
    }

    /// The URL the request went to (without query), when it got that far.
    #[must_use]
    pub fn url(&self) -> Option<&str> {
        self.inner.url.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.inner.url.as_deref().unwrap_or("the API");
        match self.inner.kind {
            ErrorKind::Transport => write!(f, "request to {url} failed"),
            ErrorKind::ResponseLost => write!(
                f,
                "response from {url} lost: reports it carried may have been consumed"
            ),
            ErrorKind::Api => {
                let status = self.inner.status.map_or(0, |s| s.as_u16());
                write!(f, "{status} from {url}")?;
                match &self.inner.api {
                    Some(api) if !api.text.is_empty() => {
                        write!(f, ": {}", api.text)?;
                        for (field, problems) in &api.validation_errors {
                            for problem in problems {
                                write!(f, "; {field}: {problem}")?;
                            }
                        }
                        Ok(())
                    }
                    Some(api) => write!(f, ": {}", api.message_id),
                    None => Ok(()),
                }
            }
            // Any endpoint's (a report page, a recording, ...): the source says what was wrong.
            ErrorKind::Decode => write!(f, "the response from {url} could not be decoded"),
            ErrorKind::InvalidRequest => {
                f.write_str(self.inner.message.as_deref().unwrap_or("invalid request"))
            }
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &format_args!("{self}"));
        if let Some(body) = &self.inner.body {
            d.field("body_len", &body.len());
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}
