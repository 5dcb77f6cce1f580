//! The one error type of the collector, shaped like `std::io::Error`.

use std::error::Error as StdError;
use std::fmt;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What went wrong in the collector. Match on [`Error::kind`]; the underlying cause, if any,
/// is the [`source`](StdError::source). The message never holds a credential.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<BoxError>,
}

/// The category of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading or writing a file (journal, spool, quarantine) failed.
    Io,
    /// A file holds something the collector did not write (not a torn last line, which is
    /// repaired): it is left untouched.
    Corrupt,
    /// Another process holds the file's lock: one journal or spool per process.
    Locked,
    /// The database refused or failed a statement, or the connection is gone.
    Database,
    /// The sink refused the data itself, not for want of a connection or space (e.g.
    /// PostgreSQL refusing a `\u0000` in text): retrying the same batch fails the same way.
    /// The collector then stores the batch in halves down to single reports, and
    /// quarantines the reports refused alone (with the reason); their siblings are stored.
    /// [`Sink`](crate::Sink) implementations return it for such data errors only.
    Rejected,
    /// The configuration is invalid: a bad sink spec, table name, address or path.
    InvalidConfig,
    /// A feature needed for this is not compiled in (e.g. `postgres`).
    Unsupported,
    /// The webhook server could not start or stop.
    Server,
    /// Fetching reports failed before anything could have been consumed, or with an error
    /// status (the source is the facade's [`ivr_reports::Error`]). Safe to try again.
    Fetch,
    /// The API refused the credentials (`401` or `403`): retrying cannot help, so the pull
    /// loop stops with it (the source is the facade's [`ivr_reports::Error`]).
    Credentials,
    /// A report request was sent but its response was lost: the reports it carried may be
    /// gone (the source is the facade's [`ivr_reports::Error`]). Counted in
    /// [`Counters::lost_response_incidents`](crate::Counters::lost_response_incidents).
    ResponseLost,
}

impl Error {
    /// An error of `kind` with a message (lowercase, one level, saying what failed and
    /// where, never a credential): for [`Sink`](crate::Sink) implementations and others
    /// outside this crate. [`ErrorKind::Rejected`] is the one a sink returns for data it
    /// cannot store at all.
    ///
    /// ```
    /// use ivr_reports_collector::{Error, ErrorKind};
    ///
    /// let err = Error::new(ErrorKind::Rejected, "report m-1: the store refuses a NUL byte");
    /// assert_eq!(err.kind(), ErrorKind::Rejected);
    /// assert_eq!(err.to_string(), "report m-1: the store refuses a NUL byte");
    /// ```
    #[must_use]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause, shown through [`source`](StdError::source) only (not
    /// in `Display`).
    ///
    /// ```
    /// use ivr_reports_collector::{Error, ErrorKind};
    ///
    /// let io = std::io::Error::other("disk full");
    /// let err = Error::new(ErrorKind::Io, "cannot append to the store").with_source(io);
    /// assert_eq!(err.to_string(), "cannot append to the store");
    /// assert_eq!(
    ///     std::error::Error::source(&err).map(ToString::to_string).as_deref(),
    ///     Some("disk full")
    /// );
    /// ```
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// An [`ErrorKind::Io`] error about `what`, caused by `e`.
    pub(crate) fn io(what: impl Into<String>, e: std::io::Error) -> Self {
        Self::new(ErrorKind::Io, what).with_source(e)
    }

    /// The category of the error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("message", &self.message);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_one_level_and_source_is_kept() {
        let e = Error::io(
            "cannot open the journal /tmp/x",
            std::io::Error::other("disk full"),
        );
        assert_eq!(e.to_string(), "cannot open the journal /tmp/x");
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(
            e.source().map(ToString::to_string).as_deref(),
            Some("disk full")
        );
    }
}
