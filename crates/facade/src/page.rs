//! `Page`: one response of a report endpoint, with its metadata.

use http::{HeaderMap, Response, StatusCode};
use ivr_reports_codec::Rejected;

/// One page of reports: those that decoded, those that did not (with their raw bytes, so
/// nothing is lost), and the response's metadata.
///
/// An empty page (no reports, none rejected) means nothing was pending.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Page<R> {
    /// The reports that decoded, in the order of the response.
    pub reports: Vec<R>,
    /// The reports that could not be decoded: index in the page, exact raw bytes, reason.
    /// **Store them**: the API will not hand these reports out again.
    pub rejected: Vec<Rejected>,
    /// Status and notable headers of the response.
    pub meta: ResponseMeta,
}

impl<R> Page<R> {
    /// A page of `reports`, `rejected` and `meta`: what a custom endpoint's
    /// [`decode`](crate::Endpoint::decode) returns when its answer is a page.
    ///
    /// ```
    /// use ivr_reports::http::Response;
    /// use ivr_reports::{Page, ResponseMeta, VoiceReport};
    ///
    /// let response = Response::new(());
    /// let page: Page<VoiceReport> = Page::new(Vec::new(), Vec::new(), ResponseMeta::of(&response));
    /// assert!(page.is_empty());
    /// assert_eq!(page.meta.status, 200);
    /// ```
    #[must_use]
    pub fn new(reports: Vec<R>, rejected: Vec<Rejected>, meta: ResponseMeta) -> Self {
        Self {
            reports,
            rejected,
            meta,
        }
    }

    /// Whether the page holds nothing at all (the end of a drain).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.reports.is_empty() && self.rejected.is_empty()
    }

    /// How many reports the response carried, decoded or not.
    #[must_use]
    pub fn len(&self) -> usize {
        self.reports.len() + self.rejected.len()
    }
}

/// What a response said besides its body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseMeta {
    /// The HTTP status (200 for a page).
    pub status: StatusCode,
    /// The `Deprecation` header: `/tts/3/reports` is deprecated since 2020-07-01.
    pub deprecation: Option<String>,
    /// The `Sunset` header: when the endpoint is planned to go away.
    pub sunset: Option<String>,
    /// A request id (`X-Request-Id`, or `X-Correlation-Id`), to quote to support.
    pub request_id: Option<String>,
}

impl ResponseMeta {
    /// Metadata with this status and no notable header (for tests and transports that
    /// build pages without a response; [`of`](Self::of) reads a real one).
    #[must_use]
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }

    /// The metadata of a response: its status and notable headers.
    #[must_use]
    pub fn of<B>(response: &Response<B>) -> Self {
        let headers = response.headers();
        Self {
            status: response.status(),
            deprecation: text(headers, "deprecation"),
            sunset: text(headers, "sunset"),
            request_id: text(headers, "x-request-id").or_else(|| text(headers, "x-correlation-id")),
        }
    }
}

fn text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_reads_the_notable_headers() {
        let response = Response::builder()
            .status(200)
            .header("Deprecation", "@1593561600")
            .header("Sunset", "Wed, 01 Jul 2026 00:00:00 GMT")
            .header("X-Correlation-Id", "abc")
            .body(())
            .unwrap();
        let meta = ResponseMeta::of(&response);
        assert_eq!(meta.deprecation.as_deref(), Some("@1593561600"));
        assert_eq!(
            meta.sunset.as_deref(),
            Some("Wed, 01 Jul 2026 00:00:00 GMT")
        );
        assert_eq!(meta.request_id.as_deref(), Some("abc"));
        assert_eq!(ResponseMeta::of(&Response::new(())).deprecation, None);
    }
}
