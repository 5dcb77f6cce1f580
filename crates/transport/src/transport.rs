//! The extension point: an object-safe [`HttpTransport`] trait and a cheap shared handle.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};

use crate::error::Error;

/// A boxed, `Send` future, as [`HttpTransport::send`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A response extension: the server throttled this request before answering it (a `429 Too
/// Many Requests` or `503 Service Unavailable` the client retried, or the final answer
/// itself). The crate's `Client` inserts it into the response it returns whenever at least
/// one attempt was throttled, so a caller that paces its own requests (a collector keeping
/// several in flight) can slow down; the retries themselves already waited.
///
/// ```
/// use ivr_reports_transport::Throttled;
///
/// let response = http::Response::new(bytes::Bytes::new());
/// if let Some(t) = response.extensions().get::<Throttled>() {
///     println!("{} throttled answers, last Retry-After {:?}", t.responses, t.retry_after);
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Throttled {
    /// How many answers were `429` or `503` (the final one included when it is one).
    pub responses: u32,
    /// The `Retry-After` of the last of them, when it carried one.
    pub retry_after: Option<std::time::Duration>,
}

impl Throttled {
    /// A record of `responses` throttled answers, the last asking to wait `retry_after`.
    #[must_use]
    pub fn new(responses: u32, retry_after: Option<std::time::Duration>) -> Self {
        Self {
            responses,
            retry_after,
        }
    }
}

/// A request extension: sending this request again has no effect on the server (it only
/// reads, e.g. `GET /tts/3/logs`, which may be read any number of times), so a transport may
/// resend it even when its response was lost after it was sent.
///
/// Without it nothing that may have been processed is ever resent: reading delivery reports
/// consumes them, and a resent report request would answer with the *next* reports while
/// the lost ones are gone. The crate's `Client` retries a lost response of a request marked
/// so under its `RetryPolicy` (attempts, backoff, deadline), like a refused connection.
///
/// ```
/// use bytes::Bytes;
/// use ivr_reports_transport::ReplaySafe;
///
/// let mut request = http::Request::get("https://api.infobip.com/tts/3/logs").body(Bytes::new())?;
/// request.extensions_mut().insert(ReplaySafe);
/// assert!(ReplaySafe::is_set(&request));
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ReplaySafe;

impl ReplaySafe {
    /// Whether `request` carries the extension.
    #[must_use]
    pub fn is_set<B>(request: &Request<B>) -> bool {
        request.extensions().get::<Self>().is_some()
    }
}

/// Sends one HTTP request and returns its whole response.
///
/// The crate's `Client` (feature `client`) is the implementation in this tree; tests and
/// callers can plug in their own (a recording double, a proxy, another HTTP stack) and hand
/// it around as a [`SharedTransport`]. The trait is object safe.
///
/// An implementation must keep the crate's loss-safety promise: it must not resend a request
/// that may have been processed (unless the request carries the [`ReplaySafe`] extension),
/// and must report a lost response as
/// [`ErrorKind::ResponseLost`](crate::ErrorKind::ResponseLost) (or any error whose
/// [`maybe_processed`](Error::maybe_processed) is `true`).
pub trait HttpTransport: Send + Sync {
    /// Sends `request` and resolves to the complete response, whatever its status.
    ///
    /// # Errors
    /// Any failure to obtain a complete response; see [`Error`].
    fn send(&self, request: Request<Bytes>) -> BoxFuture<'_, Result<Response<Bytes>, Error>>;
}

impl<T: HttpTransport + ?Sized> HttpTransport for Arc<T> {
    fn send(&self, request: Request<Bytes>) -> BoxFuture<'_, Result<Response<Bytes>, Error>> {
        (**self).send(request)
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for Box<T> {
    fn send(&self, request: Request<Bytes>) -> BoxFuture<'_, Result<Response<Bytes>, Error>> {
        (**self).send(request)
    }
}

/// A cheap, cloneable handle to any [`HttpTransport`] (an `Arc<dyn HttpTransport>`).
#[derive(Clone)]
pub struct SharedTransport(Arc<dyn HttpTransport>);

impl SharedTransport {
    /// Wraps a transport.
    pub fn new(transport: impl HttpTransport + 'static) -> Self {
        Self(Arc::new(transport))
    }
}

impl HttpTransport for SharedTransport {
    fn send(&self, request: Request<Bytes>) -> BoxFuture<'_, Result<Response<Bytes>, Error>> {
        self.0.send(request)
    }
}

impl fmt::Debug for SharedTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedTransport").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Echo;

    impl HttpTransport for Echo {
        fn send(&self, request: Request<Bytes>) -> BoxFuture<'_, Result<Response<Bytes>, Error>> {
            Box::pin(async move { Ok(Response::new(request.into_body())) })
        }
    }

    #[test]
    fn shared_transport_is_send_sync_clone_and_object_safe() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<SharedTransport>();
        let _object: &dyn HttpTransport = &Echo;
        let shared = SharedTransport::new(Echo);
        let _again = SharedTransport::new(shared.clone());
    }
}
