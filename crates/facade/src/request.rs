//! `ReportsRequest`: a report query being built, sent by `.await`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use ivr_reports_model::{Limit, ReportsQuery};

use crate::client::Client;
use crate::drain::Drain;
use crate::endpoint::Reports;
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
