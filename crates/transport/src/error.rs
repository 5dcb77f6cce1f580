//! The crate's one error type: what went wrong with an exchange, and whether the server may
//! have processed the request.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

/// A boxed error as kept in [`Error::source`].
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why an exchange (or a server) failed.
///
/// Shaped like `std::io::Error`: a [`kind`](Error::kind), two predicates that decide what a
/// caller may do next ([`maybe_processed`](Error::maybe_processed) and
/// [`is_timeout`](Error::is_timeout)), and the underlying cause through
/// [`source`](std::error::Error::source) only. The message is lowercase, does not repeat the
/// source, and never contains a credential.
pub struct Error {
    kind: ErrorKind,
    maybe_processed: bool,
    timeout: bool,
    attempts: u32,
    context: Option<Cow<'static, str>>,
    source: Option<BoxError>,
}

/// The category of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection could not be made: the host name did not resolve, or every address
    /// refused or was unreachable. Nothing was sent.
    Connect,
    /// The TLS handshake failed (for example an untrusted certificate). Nothing was sent.
    Tls,
    /// A time limit ran out before the request was written: the connect timeout, or the total
    /// deadline while waiting to retry. Nothing was sent by the attempt that timed out.
    Timeout,
    /// The request was (or may have been) written, and no complete response came back: the
    /// connection closed or was reset, or a time limit ran out while waiting for the response.
    ///
    /// **The server may have processed the request.** For an endpoint that hands out data
    /// once (Infobip's reports), the reports may have been consumed and are gone; this is
    /// why such an exchange is never retried automatically.
    ResponseLost,
    /// The response body was larger than the configured cap. The response was dropped with
    /// its connection (HTTP/1.1) or stream (HTTP/2). The server processed the request.
    BodyTooLarge,
    /// The peer broke the HTTP protocol (an unparsable response, an HTTP/2 protocol error).
    Protocol,
    /// The request could not be sent as given: a URI without scheme or host, an unsupported
    /// scheme, an invalid header value. Nothing was sent.
    InvalidRequest,
    /// Credentials were about to travel over plain `http://` to a host that is not loopback.
    /// Nothing was sent. See `ClientBuilder::allow_insecure_http`.
    InsecureCredentials,
    /// The configuration given to a builder is invalid (for example an unparsable root
    /// certificate).
    Config,
    /// An operating-system level failure outside an exchange: binding a listening socket, or
    /// no async runtime to run on.
    Io,
    /// The server did not finish its in-flight requests before the shutdown deadline; the
    /// remaining connections were closed.
    ShutdownTimedOut,
}

impl Error {
    /// An error of `kind` with a message saying what failed (lowercase, one level, never a
    /// credential): for [`HttpTransport`](crate::HttpTransport) implementations and others
    /// outside this crate. The message follows the kind's own text in `Display` (an empty
    /// one adds nothing).
    ///
    /// [`ErrorKind::ResponseLost`] and [`ErrorKind::BodyTooLarge`] are
    /// [`maybe_processed`](Error::maybe_processed) from the start; mark any other kind with
    /// [`processed`](Error::processed), and a time limit with
    /// [`timed_out`](Error::timed_out).
    ///
    /// ```
    /// use ivr_reports_transport::{Error, ErrorKind};
    ///
    /// // The request went out and no answer came within the limit:
    /// let io = std::io::Error::from(std::io::ErrorKind::TimedOut);
    /// let err = Error::new(ErrorKind::ResponseLost, "no answer from the proxy")
    ///     .timed_out()
    ///     .with_source(io);
    /// assert!(err.maybe_processed());
    /// assert!(err.is_timeout());
    /// assert!(err.to_string().ends_with(": no answer from the proxy"));
    /// assert!(std::error::Error::source(&err).is_some());
    /// ```
    #[must_use]
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        let message = message.into();
        let mut error = Self::of(kind);
        if !message.is_empty() {
            error.context = Some(message);
        }
        error
    }

    /// An error of `kind` without a message.
    pub(crate) fn of(kind: ErrorKind) -> Self {
        Self {
            kind,
            maybe_processed: matches!(kind, ErrorKind::ResponseLost | ErrorKind::BodyTooLarge),
            timeout: false,
            attempts: 0,
            context: None,
            source: None,
        }
    }

    /// Attaches the underlying cause, shown through [`source`](StdError::source) only (not
    /// in `Display`).
    ///
    /// ```
    /// use ivr_reports_transport::{Error, ErrorKind};
    ///
    /// let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    /// let err = Error::new(ErrorKind::Connect, "").with_source(refused);
    /// assert_eq!(err.to_string(), "could not connect");
    /// assert!(std::error::Error::source(&err).is_some());
    /// ```
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    pub(crate) fn with_context(mut self, context: &'static str) -> Self {
        self.context = Some(Cow::Borrowed(context));
        self
    }

    /// Marks the error as caused by a time limit: [`is_timeout`](Error::is_timeout) then
    /// answers `true`. For [`ErrorKind::ResponseLost`] the message says it timed out.
    ///
    /// ```
    /// use ivr_reports_transport::{Error, ErrorKind};
    ///
    /// let err = Error::new(ErrorKind::ResponseLost, "").timed_out();
    /// assert!(err.is_timeout() && err.maybe_processed());
    /// assert!(err.to_string().contains("timed out after the request was sent"));
    /// ```
    #[must_use]
    pub fn timed_out(mut self) -> Self {
        self.timeout = true;
        self
    }

    /// Marks that the server may have processed the request
    /// ([`maybe_processed`](Error::maybe_processed) answers `true`), e.g. a
    /// [`ErrorKind::Protocol`] error in the response to a request that was written.
    ///
    /// ```
    /// use ivr_reports_transport::{Error, ErrorKind};
    ///
    /// let err = Error::new(ErrorKind::Protocol, "garbled response").processed();
    /// assert!(err.maybe_processed());
    /// assert!(!Error::new(ErrorKind::Protocol, "").maybe_processed());
    /// ```
    #[must_use]
    pub fn processed(mut self) -> Self {
        self.maybe_processed = true;
        self
    }

    #[cfg_attr(not(feature = "client"), allow(dead_code))]
    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// The category of the error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether a time limit caused the error (connect timeout, response timeout, total
    /// deadline). A timeout after the request was written has kind
    /// [`ErrorKind::ResponseLost`] and also answers `true` here.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        self.timeout || self.kind == ErrorKind::Timeout
    }

    /// Whether the server may have processed the request: `true` once the request may have
    /// been written (kinds [`ErrorKind::ResponseLost`], [`ErrorKind::BodyTooLarge`], and a
    /// [`ErrorKind::Protocol`] error in the response). A caller must then assume the effect
    /// happened (for reports: that they were handed out) and must not blindly resend.
    #[must_use]
    pub fn maybe_processed(&self) -> bool {
        self.maybe_processed
    }

    /// How many attempts the client made before giving up (0 when the error did not come from
    /// a client exchange).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self.kind {
            ErrorKind::Connect => "could not connect",
            ErrorKind::Tls => "tls handshake failed",
            ErrorKind::Timeout => "timed out before the request was sent",
            ErrorKind::ResponseLost => {
                if self.timeout {
                    "response lost: timed out after the request was sent; the server may have \
                     processed it (reports may have been consumed)"
                } else {
                    "response lost: the connection failed after the request was sent; the \
                     server may have processed it (reports may have been consumed)"
                }
            }
            ErrorKind::BodyTooLarge => "response body exceeds the configured limit",
            ErrorKind::Protocol => "http protocol error",
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::InsecureCredentials => {
                "refusing to send credentials over plain http to a host that is not loopback"
            }
            ErrorKind::Config => "invalid configuration",
            ErrorKind::Io => "i/o error",
            ErrorKind::ShutdownTimedOut => {
                "server shutdown deadline passed before in-flight requests finished"
            }
        };
        f.write_str(text)?;
        if let Some(context) = &self.context {
            write!(f, ": {context}")?;
        }
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind)
            .field("maybe_processed", &self.maybe_processed)
            .field("timeout", &self.is_timeout());
        if self.attempts > 0 {
            d.field("attempts", &self.attempts);
        }
        if let Some(context) = &self.context {
            d.field("context", context);
        }
        if let Some(source) = &self.source {
            d.field("source", &format_args!("{source}"));
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_lowercase_and_does_not_repeat_the_source() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused by peer");
        let err = Error::of(ErrorKind::Connect).with_source(io);
        let text = err.to_string();
        assert_eq!(text, "could not connect");
        assert!(err.source().is_some());
        assert!(!text.contains("refused by peer"));
    }

    #[test]
    fn response_lost_says_it_may_have_been_processed() {
        let err = Error::of(ErrorKind::ResponseLost).timed_out();
        assert!(err.maybe_processed());
        assert!(err.is_timeout());
        assert!(err.to_string().contains("may have processed"));
        let err = Error::of(ErrorKind::Connect);
        assert!(!err.maybe_processed());
        assert!(!err.is_timeout());
        assert!(Error::of(ErrorKind::Timeout).is_timeout());
    }

    #[test]
    fn attempts_show_in_the_message() {
        let err = Error::of(ErrorKind::Connect).with_attempts(3);
        assert_eq!(err.attempts(), 3);
        assert_eq!(err.to_string(), "could not connect (after 3 attempts)");
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static + StdError>() {}
        check::<Error>();
    }
}
