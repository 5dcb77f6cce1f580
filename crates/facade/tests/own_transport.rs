//! A client on a hand-written transport: what a user without the `client` feature (no hyper,
//! no tokio networking) gets. CI also runs this with `--no-default-features --features json`.
#![cfg(feature = "json")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::sync::Mutex;

use ivr_reports::bytes::Bytes;
use ivr_reports::http::{Request, Response, StatusCode};
use ivr_reports::{
    Auth, BoxFuture, Client, ErrorKind, HttpTransport, Limit, ReportsQuery, VoiceReport, transport,
};

/// Answers with canned responses in order and records what it was asked.
struct Canned {
    answers: Mutex<VecDeque<Response<Bytes>>>,
    seen: Mutex<Vec<String>>,
}

impl Canned {
    fn new(answers: Vec<(u16, &'static str)>) -> Self {
        let answers = answers
            .into_iter()
            .map(|(status, body)| {
                let mut response = Response::new(Bytes::from_static(body.as_bytes()));
                *response.status_mut() = StatusCode::from_u16(status).unwrap();
                response
                    .headers_mut()
                    .insert("content-type", "application/json".parse().unwrap());
                response
            })
            .collect();
        Self {
            answers: Mutex::new(answers),
            seen: Mutex::new(Vec::new()),
        }
    }
}

impl HttpTransport for Canned {
    fn send(
        &self,
        request: Request<Bytes>,
    ) -> BoxFuture<'_, Result<Response<Bytes>, transport::Error>> {
        let auth = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_string();
        self.seen
            .lock()
            .unwrap()
            .push(format!("{} {} {auth}", request.method(), request.uri()));
        let answer = self.answers.lock().unwrap().pop_front();
        // Each test queues exactly the answers it asks for.
        let response = answer.expect("the test asked for more answers than it queued");
        Box::pin(async move { Ok(response) })
    }
}

const PAGE: &str = r#"{"results":[{"messageId":"m-1","to":"385"},{"messageId":"m-2"}]}"#;
const EMPTY: &str = r#"{"results":[]}"#;

#[tokio::test(flavor = "current_thread")]
async fn a_client_on_my_transport_requests_and_drains() {
    let canned = std::sync::Arc::new(Canned::new(vec![(200, PAGE), (200, PAGE), (200, EMPTY)]));
    let client = Client::builder()
        .base_url("https://xyz.api.infobip.com")
        .auth(Auth::app("my-key"))
        .transport(canned.clone())
        .build()
        .unwrap();

    let page = client.reports().limit(2).await.unwrap();
    let ids: Vec<&str> = page.reports.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, ["m-1", "m-2"]);

    let mut pages = client.drain::<VoiceReport>(ReportsQuery::new().limit(Limit::MAX));
    let mut drained = 0;
    while let Some(page) = pages.next().await {
        drained += page.unwrap().reports.len();
    }
    assert_eq!(drained, 2);

    let seen = canned.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(
        seen[0].starts_with("GET https://xyz.api.infobip.com/tts/3/reports?limit=2 App my-key"),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn errors_from_my_transports_answers_are_typed() {
    let canned = Canned::new(vec![
        (
            401,
            r#"{"requestError":{"serviceException":{"messageId":"UNAUTHORIZED","text":"Invalid login details"}}}"#,
        ),
        (200, "not json"),
    ]);
    let client = Client::builder()
        .base_url("https://xyz.api.infobip.com")
        .transport(canned)
        .build()
        .unwrap();
    let e = client.reports().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Api);
    assert_eq!(e.status().map(|s| s.as_u16()), Some(401));
    let e = client.call_reports().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Decode);
    assert_eq!(e.body().map(|b| &b[..]), Some(&b"not json"[..]));
}
