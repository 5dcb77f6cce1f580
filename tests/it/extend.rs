//! Extending the facade from outside: another endpoint, another transport.

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ivr_reports::bytes::Bytes;
use ivr_reports::http::{Request, Response};
use ivr_reports::{
    Auth, BoxFuture, Client, Endpoint, Error, ErrorKind, Format, HttpTransport, SharedTransport,
};
use ivr_reports_transport::Server;

/// `GET /tts/3/logs?bulkId=...`: a logs endpoint the facade does not ship.
struct Logs {
    bulk_id: String,
}

impl Endpoint for Logs {
    type Output = Vec<String>;

    fn path(&self) -> Cow<'_, str> {
        "/tts/3/logs".into()
    }

    fn query(&self) -> Option<String> {
        Some(format!("bulkId={}", self.bulk_id))
    }

    fn format(&self, _preferred: Format) -> Format {
        Format::Json
    }

    fn decode(&self, response: Response<Bytes>) -> Result<Vec<String>, Error> {
        let body = response.into_body();
        let text = std::str::from_utf8(&body).map_err(|e| Error::decode(body.clone(), e))?;
        Ok(text.split(',').map(str::to_string).collect())
    }
}

#[tokio::test]
async fn an_endpoint_from_outside_goes_through_client_send() {
    let server = Server::builder()
        .bind(
            "127.0.0.1:0".parse().unwrap(),
            |req: Request<Bytes>| async move {
                let ok = req.uri().path() == "/tts/3/logs"
                    && req.uri().query() == Some("bulkId=b-1")
                    && req.headers()["accept"] == "application/json"
                    && req.headers()["authorization"] == "App logs-key";
                let mut response = Response::new(Bytes::from_static(b"m-1,m-2"));
                if !ok {
                    *response.status_mut() = ivr_reports::http::StatusCode::BAD_REQUEST;
                }
                Ok::<_, std::convert::Infallible>(response)
            },
        )
        .unwrap();
    let client = Client::builder()
        .base_url(format!("http://{}", server.local_addr()))
        .auth(Auth::app("logs-key"))
        .build()
        .unwrap();
    let logs = client
        .send(&Logs {
            bulk_id: "b-1".into(),
        })
        .await
        .unwrap();
    assert_eq!(logs, ["m-1", "m-2"]);
    let e = client
        .send(&Logs {
            bulk_id: "other".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.status().map(|s| s.as_u16())),
        (ErrorKind::Api, Some(400))
    );
    assert_eq!(
        e.body().map(|b| b.as_ref()),
        Some(&b"m-1,m-2"[..]),
        "a non-Infobip body is kept raw"
    );
    server
        .shutdown(std::time::Duration::from_secs(5))
        .await
        .unwrap();
}

/// A transport that answers every request itself and counts them.
struct Canned {
    calls: Arc<AtomicUsize>,
}

impl HttpTransport for Canned {
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> BoxFuture<'_, Result<Response<Bytes>, ivr_reports::transport::Error>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let body = if request.uri().path() == "/voice/1/reports" {
            r#"{"results":[{"messageId":"canned-1","to":"41790000001","voiceCall":{"duration":3}},{"to":"no-id"}]}"#
        } else {
            "{}"
        };
        Box::pin(async move {
            let mut response = Response::new(Bytes::from_static(body.as_bytes()));
            response
                .headers_mut()
                .insert("content-type", "application/json".parse().unwrap());
            response
                .headers_mut()
                .insert("deprecation", "true".parse().unwrap());
            Ok(response)
        })
    }
}

#[tokio::test]
async fn a_transport_from_outside_carries_the_requests() {
    let calls = Arc::new(AtomicUsize::new(0));
    let client = Client::builder()
        .transport(SharedTransport::new(Canned {
            calls: Arc::clone(&calls),
        }))
        .auth(Auth::bearer("t"))
        .build()
        .unwrap();
    let page = client.call_reports().await.unwrap();
    assert_eq!(page.reports[0].message_id, "canned-1");
    assert_eq!(
        page.reports[0].voice_call.as_ref().unwrap().duration,
        Some(3)
    );
    assert_eq!(
        page.rejected.len(),
        1,
        "the report without messageId is kept aside, not lost"
    );
    assert_eq!(page.rejected[0].raw, br#"{"to":"no-id"}"#);
    assert_eq!(page.meta.deprecation.as_deref(), Some("true"));
    let e = client.reports().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode, "{e}");
    assert_eq!(e.body().map(|b| b.as_ref()), Some(&b"{}"[..]));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
