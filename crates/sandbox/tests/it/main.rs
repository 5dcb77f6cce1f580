//! Behaviour of the sandbox over real HTTP on 127.0.0.1: every endpoint, in both formats.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admin;
mod load;
mod logs;
mod outcomes;
mod push;
mod python;
mod reports;
mod send;

use bytes::Bytes;
use http::{Request, Response};
use ivr_reports_codec::{Codec, Format};
use ivr_reports_model::{ApiError, CallReport, VoiceReport};
use ivr_reports_sandbox::{Sandbox, SandboxHandle};
use ivr_reports_transport::{Client, RetryPolicy};

/// A sandbox and a plain client (no retries) to talk to it.
pub(crate) struct Fixture {
    pub(crate) sandbox: SandboxHandle,
    pub(crate) client: Client,
}

pub(crate) const KEY: &str = "test-api-key";
pub(crate) const ADMIN: &str = "test-admin-token";

impl Fixture {
    pub(crate) async fn start() -> Self {
        let sandbox = Sandbox::builder()
            .api_key(KEY)
            .admin_token(ADMIN)
            .push_backoff(
                std::time::Duration::from_millis(10),
                std::time::Duration::from_millis(40),
            )
            .start()
            .await
            .unwrap();
        let client = Client::builder()
            .retry(RetryPolicy::never())
            .build()
            .unwrap();
        Self { sandbox, client }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// A GET with `App KEY` and an `Accept`.
    pub(crate) async fn get(&self, path: &str, accept: &str) -> Response<Bytes> {
        self.get_as(path, accept, Some(&format!("App {KEY}"))).await
    }

    pub(crate) async fn get_as(
        &self,
        path: &str,
        accept: &str,
        auth: Option<&str>,
    ) -> Response<Bytes> {
        let mut req = Request::get(self.url(path)).header("accept", accept);
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        self.client
            .send(req.body(Bytes::new()).unwrap())
            .await
            .unwrap()
    }

    /// A JSON POST with `App KEY`.
    pub(crate) async fn post(&self, path: &str, body: &str) -> Response<Bytes> {
        self.post_as(path, body, &format!("App {KEY}")).await
    }

    pub(crate) async fn post_as(&self, path: &str, body: &str, auth: &str) -> Response<Bytes> {
        let req = Request::post(self.url(path))
            .header("content-type", "application/json")
            .header("authorization", auth)
            .body(Bytes::from(body.to_string()))
            .unwrap();
        self.client.send(req).await.unwrap()
    }

    /// A request to the admin API.
    pub(crate) async fn admin(&self, method: &str, path: &str, body: &str) -> Response<Bytes> {
        let req = Request::builder()
            .method(method)
            .uri(self.url(path))
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {ADMIN}"))
            .body(Bytes::from(body.to_string()))
            .unwrap();
        self.client.send(req).await.unwrap()
    }

    /// Fetches one v1 page and decodes it (asserting 200 and a clean batch).
    pub(crate) async fn v1_page(&self, query: &str, format: Format) -> Vec<VoiceReport> {
        let r = self
            .get(&format!("/tts/3/reports{query}"), format.mime())
            .await;
        assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
        assert_eq!(r.headers()["content-type"], format.mime());
        let batch = codec(format).decode_page::<VoiceReport>(r.body()).unwrap();
        assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
        batch.reports
    }

    /// Fetches one v2 page and decodes it.
    pub(crate) async fn v2_page(&self, query: &str, format: Format) -> Vec<CallReport> {
        let r = self
            .get(&format!("/voice/1/reports{query}"), format.mime())
            .await;
        assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
        assert_eq!(r.headers()["content-type"], format.mime());
        let batch = codec(format).decode_page::<CallReport>(r.body()).unwrap();
        assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
        batch.reports
    }
}

pub(crate) fn codec(format: Format) -> Codec {
    Codec::new(format).unwrap()
}

pub(crate) fn json(response: &Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(response.body()).unwrap()
}

/// Decodes an Infobip error body of the response's own format.
pub(crate) fn api_error(response: &Response<Bytes>) -> ApiError {
    let content_type = response.headers()["content-type"].to_str().unwrap();
    let format = Format::from_content_type(content_type).unwrap();
    codec(format).decode_api_error(response.body()).unwrap()
}

/// `n` v1 reports with ids `{prefix}-{i}` in bulk `bulk`.
pub(crate) fn v1_reports(prefix: &str, bulk: Option<&str>, n: usize) -> Vec<VoiceReport> {
    (0..n)
        .map(|i| {
            let mut r = VoiceReport::new(format!("{prefix}-{i}"), format!("4179000{i:04}"));
            r.bulk_id = bulk.map(str::to_string);
            r.duration = Some(u32::try_from(i).unwrap());
            r.price = Some(ivr_reports_model::Price::new(
                "0.01".parse().unwrap(),
                "EUR",
            ));
            r.status = ivr_reports_model::Status::known(5);
            r.sent_at = Some("2015-02-12T09:58:20.323+0100".parse().unwrap());
            r
        })
        .collect()
}
