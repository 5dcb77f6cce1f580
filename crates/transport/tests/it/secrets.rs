//! Credentials never appear in `Debug` output or error messages.

use std::error::Error as _;

use bytes::Bytes;
use http::Request;
use ivr_reports_transport::{Auth, Client, Error, ErrorKind};

use crate::support::*;

const SECRET: &str = "hunter2-very-secret";

fn all_text(err: &Error) -> String {
    let mut text = format!("{err} {err:?} {err:#?}");
    let mut source = err.source();
    for _ in 0..16 {
        let Some(s) = source else { break };
        text.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    text
}

fn schemes() -> Vec<Auth> {
    vec![
        Auth::app(SECRET),
        Auth::basic("reports-user", SECRET),
        Auth::ibsso(SECRET),
        Auth::bearer(SECRET),
    ]
}

#[test]
fn debug_of_auth_builder_and_client_hides_secrets() {
    for auth in schemes() {
        let builder = Client::builder().auth(auth.clone());
        let text = format!("{auth:?} {builder:?}");
        let client = builder.build().unwrap();
        let text = format!("{text} {client:?} {client:#?}");
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains("***"));
    }
}

#[tokio::test]
async fn errors_never_contain_secrets() {
    let refused = refused_addr();
    for auth in schemes() {
        let client = client_with(|b| b.auth(auth.clone()).retry(quick_retry(2)));
        // Connection refused, after retries.
        let err = client.send(get(url(refused, "/"))).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert!(!all_text(&err).contains(SECRET));
        // Plain http to a host that is not loopback: refused before anything is sent.
        let err = client
            .send(get("http://reports.example.com/tts/3/reports"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InsecureCredentials);
        assert!(!all_text(&err).contains(SECRET));
    }
}

#[tokio::test]
async fn a_caller_supplied_authorization_header_is_guarded_too() {
    let client = client_with(|b| b);
    let request = Request::get("http://reports.example.com/")
        .header("authorization", format!("App {SECRET}"))
        .body(Bytes::new())
        .unwrap();
    let err = client.send(request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InsecureCredentials);
    assert!(!all_text(&err).contains(SECRET));
}

#[tokio::test]
async fn the_server_receives_the_header_and_a_lost_response_does_not_leak_it() {
    let (server, _) = serve_counting(|_, req| async move {
        let auth = req
            .headers()
            .get("authorization")
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_default();
        http::Response::new(Bytes::from(auth))
    });
    let client = client_with(|b| b.auth(Auth::app(SECRET)));
    let response = client
        .send(get(url(server.local_addr(), "/")))
        .await
        .unwrap();
    assert_eq!(response.body().as_ref(), format!("App {SECRET}").as_bytes());

    let (addr, _) = raw_server(1, |socket| async move { drop(socket) }).await;
    let err = client.send(get(url(addr, "/"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost);
    assert!(!all_text(&err).contains(SECRET));
}
