//! `ReportsRequest` and `LogsRequest`: a report or logs query being built, sent by `.await`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use ivr_reports_model::{Limit, LogEntry, LogsQuery, ReportsQuery, StatusGroup, Timestamp};

use crate::client::Client;
use crate::drain::Drain;
use crate::endpoint::{Logs, Reports};
use crate::error::Error;
use crate::page::Page;
use ivr_reports_model::Report;

/// A request for one page of reports of generation `R`. Set filters, then `.await` it (it
/// implements [`IntoFuture`]), or [`drain`](Self::drain) every page.
///
/// ```no_run
/// # async fn run(client: ivr_reports::Client) -> Result<(), ivr_reports::Error> {
/// let page = client.call_reports().bulk_id("campaign-7").limit(1000).await?;
/// # Ok(())
/// # }
/// ```
#[must_use = "a request does nothing until it is awaited"]
pub struct ReportsRequest<'a, R> {
    client: &'a Client,
    query: ReportsQuery,
    invalid: Option<Error>,
    kind: std::marker::PhantomData<fn() -> R>,
}

impl<R> std::fmt::Debug for ReportsRequest<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportsRequest")
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl<'a, R: Report> ReportsRequest<'a, R> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self {
            client,
            query: ReportsQuery::new(),
            invalid: None,
            kind: std::marker::PhantomData,
        }
    }

    /// Only reports of this bulk. Default: any bulk.
    pub fn bulk_id(mut self, bulk_id: impl Into<String>) -> Self {
        self.query = self.query.bulk_id(bulk_id);
        self
    }

    /// Only the report of this message. Default: any message.
    pub fn message_id(mut self, message_id: impl Into<String>) -> Self {
        self.query = self.query.message_id(message_id);
        self
    }

    /// At most `limit` reports, 1 to 1000. Default: the API's default, 50. A value outside
    /// the range makes the request fail with
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) without sending it.
    pub fn limit(mut self, limit: u16) -> Self {
        match Limit::try_from(u32::from(limit)) {
            Ok(limit) => self.query = self.query.limit(limit),
            Err(e) => self.invalid = Some(Error::invalid(e.to_string()).with_source(e)),
        }
        self
    }

    /// Replaces the whole query.
    pub fn query(mut self, query: ReportsQuery) -> Self {
        self.query = query;
        self
    }

    /// Fetches every page matching the query until an empty one (see [`Client::drain`]).
    ///
    /// # Errors
    /// The stream's first item is the error when the request is invalid.
    pub fn drain(self) -> Drain<Reports<R>> {
        match self.invalid {
            Some(e) => Drain::failed(self.client.clone(), e),
            None => self.client.drain(self.query),
        }
    }
}

impl<'a, R: Report> IntoFuture for ReportsRequest<'a, R> {
    type Output = Result<Page<R>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if let Some(e) = self.invalid {
                return Err(e);
            }
            self.client.send(&Reports::<R>::new(self.query)).await
        })
    }
}

/// A request for the voice logs (`GET /tts/3/logs`): set filters (every parameter the API
/// takes), then `.await` it for a [`Page`] of [`LogEntry`]s. Logs are never consumed, so
/// the same request may be sent any number of times; a 429 answer (120 requests a minute)
/// and a response lost in transit are retried under the client's
/// `RetryPolicy`.
///
/// ```no_run
/// # async fn run(client: ivr_reports::Client) -> Result<(), ivr_reports::Error> {
/// use ivr_reports::{StatusGroup, Timestamp};
///
/// let page = client
///     .logs()
///     .bulk_id("campaign-7")
///     .bulk_id("campaign-8")
///     .general_status(StatusGroup::Delivered)
///     .sent_since(Timestamp::parse("2026-12-01T10:00:00.000+01:00").unwrap())
///     .limit(1000)
///     .await?;
/// for entry in page.reports.iter().filter(|e| e.is_final()) {
///     println!("{} {:?}", entry.message_id, entry.status_group());
/// }
/// # Ok(())
/// # }
/// ```
#[must_use = "a request does nothing until it is awaited"]
pub struct LogsRequest<'a> {
    client: &'a Client,
    query: LogsQuery,
    invalid: Option<Error>,
}

impl std::fmt::Debug for LogsRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogsRequest")
            .field("query", &self.query)
            .finish_non_exhaustive()
    }
}

impl<'a> LogsRequest<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Self {
            client,
            query: LogsQuery::new(),
            invalid: None,
        }
    }

    /// Only messages sent from this caller id (`from`). Default: any.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.query = self.query.from(from);
        self
    }

    /// Only messages to this destination (`to`). Default: any.
    pub fn to(mut self, to: impl Into<String>) -> Self {
        self.query = self.query.to(to);
        self
    }

    /// Also messages of this bulk (`bulkId`; call again for more). Default: any bulk.
    pub fn bulk_id(mut self, bulk_id: impl Into<String>) -> Self {
        self.query = self.query.bulk_id(bulk_id);
        self
    }

    /// Also this message (`messageId`; call again for more). Default: any message.
    pub fn message_id(mut self, message_id: impl Into<String>) -> Self {
        self.query = self.query.message_id(message_id);
        self
    }

    /// Only messages whose status is in this group (`generalStatus`). Default: any.
    pub fn general_status(mut self, group: StatusGroup) -> Self {
        self.query = self.query.general_status(group);
        self
    }

    /// Only messages sent at or after this time (`sentSince`). Default: as far back as the
    /// API keeps logs (48 hours).
    pub fn sent_since(mut self, since: Timestamp) -> Self {
        self.query = self.query.sent_since(since);
        self
    }

    /// Only messages sent before this time (`sentUntil`). Default: now.
    pub fn sent_until(mut self, until: Timestamp) -> Self {
        self.query = self.query.sent_until(until);
        self
    }

    /// At most `limit` entries, 1 to 1000. Default: the API's default, 50. A value outside
    /// the range makes the request fail with
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest) without sending it.
    pub fn limit(mut self, limit: u16) -> Self {
        match Limit::try_from(u32::from(limit)) {
            Ok(limit) => self.query = self.query.limit(limit),
            Err(e) => self.invalid = Some(Error::invalid(e.to_string()).with_source(e)),
        }
        self
    }

    /// Only messages to this mobile country code (`mcc`). Default: any.
    pub fn mcc(mut self, mcc: impl Into<String>) -> Self {
        self.query = self.query.mcc(mcc);
        self
    }

    /// Only messages to this mobile network code (`mnc`). Default: any.
    pub fn mnc(mut self, mnc: impl Into<String>) -> Self {
        self.query = self.query.mnc(mnc);
        self
    }

    /// Replaces the whole query.
    pub fn query(mut self, query: LogsQuery) -> Self {
        self.query = query;
        self
    }
}

impl<'a> IntoFuture for LogsRequest<'a> {
    type Output = Result<Page<LogEntry>, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if let Some(e) = self.invalid {
                return Err(e);
            }
            self.client.send(&Logs::new(self.query)).await
        })
    }
}
