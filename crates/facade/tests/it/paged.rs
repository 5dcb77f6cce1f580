//! A custom paged endpoint (paged by number, not consumed like reports) drained with
//! `Client::drain_endpoint` against a real server; its pages built with `Page::new`.

use std::borrow::Cow;

use ivr_reports::bytes::Bytes;
use ivr_reports::http::{Response, header};
use ivr_reports::{Endpoint, Error, ErrorKind, Page, Paged, QueryString, ResponseMeta};

use crate::{client, server};

/// `GET /example/{list}/logs?page=N`: log lines, and the number of the next page, if any.
struct Logs {
    list: &'static str,
    page: u32,
}

/// One answer: the lines as a `Page`, and where the next page is.
struct LogPage {
    page: Page<String>,
    next: Option<u32>,
}

#[derive(serde::Deserialize)]
struct Wire {
    lines: Vec<String>,
    next: Option<u32>,
}

impl Endpoint for Logs {
    type Output = LogPage;

    fn path(&self) -> Cow<'_, str> {
        format!("/example/{}/logs", self.list).into()
    }

    fn query(&self) -> Option<String> {
        QueryString::new().push("page", self.page).into_query()
    }

    fn decode(&self, response: Response<Bytes>) -> Result<LogPage, Error> {
        let meta = ResponseMeta::of(&response);
        let body = response.into_body();
        let wire: Wire = serde_json::from_slice(&body).map_err(|e| Error::decode(body, e))?;
        Ok(LogPage {
            page: Page::new(wire.lines, Vec::new(), meta),
            next: wire.next,
        })
    }
}

impl Paged for Logs {
    fn items(page: &LogPage) -> usize {
        page.page.len()
    }

    fn next_page(&self, page: &LogPage) -> Option<Self> {
        page.next.map(|page| Logs {
            list: self.list,
            page,
        })
    }
}

/// `short`: two pages, the second says it is the last. `long`: two pages, then an empty
/// one that still names a next. `broken`: page 2 answers 500.
fn answer(path: &str, page: u32) -> Response<Bytes> {
    let body = match (path, page) {
        (_, 1) => r#"{"lines":["a","b"],"next":2}"#,
        ("/example/short/logs", 2) => r#"{"lines":["c"],"next":null}"#,
        ("/example/long/logs", 2) => r#"{"lines":["c"],"next":3}"#,
        ("/example/long/logs", 3) => r#"{"lines":[],"next":4}"#,
        _ => {
            return Response::builder()
                .status(500)
                .body(Bytes::from_static(b"{}"))
                .unwrap();
        }
    };
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-request-id", format!("req-{page}"))
        .body(Bytes::from_static(body.as_bytes()))
        .unwrap()
}

fn logs_server() -> (ivr_reports::transport::ServerHandle, crate::Seen) {
    server(|request| {
        let page = request
            .uri()
            .query()
            .and_then(|q| q.strip_prefix("page="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let reply = answer(request.uri().path(), page);
        async move { reply }
    })
}

/// Drains `list`: the lines of each yielded page, and the error that ended it, if any.
async fn drain(list: &'static str) -> (Vec<Vec<String>>, Option<Error>, Vec<String>) {
    let (srv, seen) = logs_server();
    let mut pages = client(&srv).drain_endpoint(Logs { list, page: 1 });
    let mut lines = Vec::new();
    let mut error = None;
    // Bounded: three pages at most are served before the end or an error.
    for _ in 0..10 {
        match pages.next().await {
            Some(Ok(page)) => {
                assert_eq!(page.page.meta.status, 200);
                assert!(page.page.meta.request_id.is_some());
                lines.push(page.page.reports);
            }
            Some(Err(e)) => error = Some(e),
            None => break,
        }
    }
    assert!(pages.next().await.is_none(), "a drain stays ended");
    let targets = seen.requests().into_iter().map(|(t, _)| t).collect();
    srv.shutdown(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    (lines, error, targets)
}

#[tokio::test]
async fn a_custom_paged_endpoint_drains_until_its_last_page() {
    let (lines, error, targets) = drain("short").await;
    assert_eq!(lines, [vec!["a", "b"], vec!["c"]]);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(
        targets,
        ["/example/short/logs?page=1", "/example/short/logs?page=2"],
        "no request after the last page"
    );
}

#[tokio::test]
async fn an_empty_page_ends_a_drain_unyielded() {
    let (lines, error, targets) = drain("long").await;
    assert_eq!(lines, [vec!["a", "b"], vec!["c"]]);
    assert!(error.is_none(), "{error:?}");
    assert_eq!(targets.len(), 3, "{targets:?}");
}

#[tokio::test]
async fn an_error_ends_a_custom_drain_after_yielding_it() {
    let (lines, error, targets) = drain("broken").await;
    assert_eq!(lines, [vec!["a", "b"]]);
    assert_eq!(error.map(|e| e.kind()), Some(ErrorKind::Api));
    assert_eq!(targets.len(), 2, "{targets:?}");
}
