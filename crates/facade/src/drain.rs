//! `Drain`: every page of reports until the API has nothing more.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use ivr_reports_model::ReportsQuery;

use crate::client::Client;
use crate::endpoint::Reports;
use crate::error::Error;
use crate::page::Page;
use ivr_reports_model::Report;
use tracing::Instrument;

type PageFuture<R> = Pin<Box<dyn Future<Output = Result<Page<R>, Error>> + Send>>;

/// A stream of pages: fetches until a page comes back empty, then ends. On an error it
/// yields the error and ends (a [`ResponseLost`](crate::ErrorKind::ResponseLost) error
/// included: the drain never retries a request that may have consumed reports).
///
/// Implements [`futures_core::Stream`]; [`Drain::next`] works without any stream library.
#[must_use = "a drain does nothing until polled"]
pub struct Drain<R> {
    client: Client,
    query: ReportsQuery,
    in_flight: Option<PageFuture<R>>,
    error: Option<Error>,
    done: bool,
    /// `drain` span: every page's request runs in it.
    span: tracing::Span,
    pages: u64,
    reports: u64,
}

impl<R> std::fmt::Debug for Drain<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drain")
            .field("query", &self.query)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: Report> Drain<R> {
    pub(crate) fn new(client: Client, query: ReportsQuery) -> Self {
        Self {
            client,
            query,
            in_flight: None,
            error: None,
            done: false,
            span: tracing::info_span!("drain", path = R::GENERATION.path()),
            pages: 0,
            reports: 0,
        }
    }

    pub(crate) fn failed(client: Client, error: Error) -> Self {
        let mut drain = Self::new(client, ReportsQuery::new());
        drain.error = Some(error);
        drain
    }

    /// The next page, or `None` once a page came back empty or an error was yielded.
    pub async fn next(&mut self) -> Option<Result<Page<R>, Error>> {
        std::future::poll_fn(|cx| self.poll_page(cx)).await
    }

    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Page<R>, Error>>> {
        if let Some(e) = self.error.take() {
            self.done = true;
            return Poll::Ready(Some(Err(e)));
        }
        if self.done {
            return Poll::Ready(None);
        }
        let fut = self.in_flight.get_or_insert_with(|| {
            let page_span =
                tracing::debug_span!(parent: &self.span, "page", number = self.pages + 1);
            let client = self.client.clone();
            let endpoint = Reports::<R>::new(self.query.clone());
            Box::pin(async move { client.send(&endpoint).await }.instrument(page_span))
        });
        let result = match fut.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        self.in_flight = None;
        let _entered = self.span.enter();
        match result {
            Ok(page) if page.is_empty() => {
                self.done = true;
                tracing::info!(
                    pages = self.pages,
                    reports = self.reports,
                    "drained: the API has nothing more"
                );
                Poll::Ready(None)
            }
            Ok(page) => {
                self.pages += 1;
                self.reports += page.len() as u64;
                tracing::debug!(
                    page = self.pages,
                    reports = page.reports.len(),
                    rejected = page.rejected.len(),
                    "page received"
                );
                Poll::Ready(Some(Ok(page)))
            }
            Err(e) => {
                self.done = true;
                tracing::warn!(
                    pages = self.pages,
                    reports = self.reports,
                    error = %e,
                    "drain stopped by an error"
                );
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

impl<R: Report> futures_core::Stream for Drain<R> {
    type Item = Result<Page<R>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_page(cx)
    }
}

impl<R: Report> futures_core::FusedStream for Drain<R> {
    fn is_terminated(&self) -> bool {
        self.done && self.error.is_none()
    }
}
