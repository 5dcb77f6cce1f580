//! The facade's extension points and builder against real hyper servers on 127.0.0.1: custom
//! endpoints with their own headers and bodies, custom paged endpoints drained, and the
//! builder's settings reaching the built-in transport.
#![cfg(all(feature = "client", feature = "json"))]
// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod builder;
mod endpoint;
mod logs;
mod paged;
mod quickstart;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use ivr_reports::bytes::Bytes;
use ivr_reports::http::{HeaderMap, Request, Response};
use ivr_reports::transport::{Server, ServerHandle};
use ivr_reports::{Auth, Client};

/// The API key the test clients send.
const KEY: &str = "facade-test-key";

/// What a test server was asked: every request's path and query, and headers.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, HeaderMap)>>>);

impl Seen {
    fn requests(&self) -> Vec<(String, HeaderMap)> {
        self.0.lock().unwrap().clone()
    }
}

/// A real hyper server on 127.0.0.1 port 0 answering with `answer`, recording every request.
fn server<F, Fut>(answer: F) -> (ServerHandle, Seen)
where
    F: Fn(Request<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Response<Bytes>> + Send + 'static,
{
    let seen = Seen::default();
    let log = seen.clone();
    let handle = Server::bind(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        move |request: Request<Bytes>| {
            let target = request
                .uri()
                .path_and_query()
                .map_or_else(String::new, ToString::to_string);
            log.0
                .lock()
                .unwrap()
                .push((target, request.headers().clone()));
            let reply = answer(request);
            async move { Ok::<_, std::convert::Infallible>(reply.await) }
        },
    )
    .unwrap();
    (handle, seen)
}

/// A client of `server` with the test key.
fn client(server: &ServerHandle) -> Client {
    Client::builder()
        .base_url(format!("http://{}", server.local_addr()))
        .auth(Auth::app(KEY))
        .build()
        .unwrap()
}
