//! `Drain`: every page of a paged endpoint until there is no more.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::client::Client;
use crate::endpoint::Paged;
use crate::error::Error;
use tracing::Instrument;

/// One page in flight: the endpoint that fetched it travels with it, to ask for the next.
type PageFuture<E> =
    Pin<Box<dyn Future<Output = (E, Result<<E as crate::Endpoint>::Output, Error>)> + Send>>;

/// A stream of pages of the [`Paged`] endpoint `E`: fetches until a page holds no items or
/// the endpoint says it was the last, then ends. On an error it yields the error and ends (a
/// [`ResponseLost`](crate::ErrorKind::ResponseLost) error included: the drain never retries
/// a request that may have consumed reports).
///
/// Built by [`Client::drain`] (the report endpoints: `Drain<Reports<R>>`, yielding
/// [`Page<R>`](crate::Page)s) and [`Client::drain_endpoint`] (any paged endpoint).
/// Implements [`futures_core::Stream`]; [`Drain::next`] works without any stream library.
#[must_use = "a drain does nothing until polled"]
pub struct Drain<E: Paged> {
    client: Client,
    /// The endpoint of the next page; `None` once the drain knows it is over.
    next: Option<E>,
    in_flight: Option<PageFuture<E>>,
    error: Option<Error>,
    done: bool,
    /// `drain` span: every page's request runs in it.
    span: tracing::Span,
    pages: u64,
    items: u64,
}

// The endpoint is never pinned: it is only moved into and out of the boxed future.
impl<E: Paged> Unpin for Drain<E> {}

impl<E: Paged> std::fmt::Debug for Drain<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Drain")
            .field("path", &self.next.as_ref().map(|e| e.path().into_owned()))
            .field("pages", &self.pages)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<E> Drain<E>
where
    E: Paged + Send + Sync + 'static,
    E::Output: Send,
{
    pub(crate) fn new(client: Client, endpoint: E) -> Self {
        let span = tracing::info_span!("drain", path = %endpoint.path());
        Self {
            client,
            next: Some(endpoint),
            in_flight: None,
            error: None,
            done: false,
            span,
            pages: 0,
            items: 0,
        }
    }

    pub(crate) fn failed(client: Client, error: Error) -> Self {
        Self {
            client,
            next: None,
            in_flight: None,
            error: Some(error),
            done: false,
            span: tracing::Span::none(),
            pages: 0,
            items: 0,
        }
    }

    /// The next page, or `None` once the drain ended (an empty page, the last page, or an
    /// error yielded).
    pub async fn next(&mut self) -> Option<Result<E::Output, Error>> {
        std::future::poll_fn(|cx| self.poll_page(cx)).await
    }

    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<E::Output, Error>>> {
        if let Some(e) = self.error.take() {
            self.done = true;
            return Poll::Ready(Some(Err(e)));
        }
        if self.done {
            return Poll::Ready(None);
        }
        if self.in_flight.is_none() {
            let Some(endpoint) = self.next.take() else {
                self.done = true;
                return Poll::Ready(None);
            };
            let page_span =
                tracing::debug_span!(parent: &self.span, "page", number = self.pages + 1);
            let client = self.client.clone();
            self.in_flight = Some(Box::pin(
                async move {
                    let result = client.send(&endpoint).await;
                    (endpoint, result)
                }
                .instrument(page_span),
            ));
        }
        let Some(fut) = self.in_flight.as_mut() else {
            return Poll::Ready(None);
        };
        let (endpoint, result) = match fut.as_mut().poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(out) => out,
        };
        self.in_flight = None;
        let _entered = self.span.enter();
        match result {
            Ok(page) if E::items(&page) == 0 => {
                self.done = true;
                tracing::info!(
                    pages = self.pages,
                    items = self.items,
                    "drained: the API has nothing more"
                );
                Poll::Ready(None)
            }
            Ok(page) => {
                let items = E::items(&page);
                self.pages += 1;
                self.items += items as u64;
                self.next = endpoint.next_page(&page);
                tracing::debug!(
                    page = self.pages,
                    items,
                    last = self.next.is_none(),
                    "page received"
                );
                if self.next.is_none() {
                    tracing::info!(
                        pages = self.pages,
                        items = self.items,
                        "drained: that was the last page"
                    );
                }
                Poll::Ready(Some(Ok(page)))
            }
            Err(e) => {
                self.done = true;
                // The stream yields the error: its consumer decides how loud it is.
                tracing::debug!(
                    pages = self.pages,
                    items = self.items,
                    error = %e,
                    "drain stopped by an error"
                );
                Poll::Ready(Some(Err(e)))
            }
        }
    }
}

impl<E> futures_core::Stream for Drain<E>
where
    E: Paged + Send + Sync + 'static,
    E::Output: Send,
{
    type Item = Result<E::Output, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_page(cx)
    }
}

impl<E> futures_core::FusedStream for Drain<E>
where
    E: Paged + Send + Sync + 'static,
    E::Output: Send,
{
    fn is_terminated(&self) -> bool {
        self.done && self.error.is_none()
    }
}
