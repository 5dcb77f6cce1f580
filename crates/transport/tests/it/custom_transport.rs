//! `HttpTransport` implemented outside the crate and carried by `SharedTransport`.

use std::sync::Mutex;

use bytes::Bytes;
use http::{Request, Response};
use ivr_reports_transport::{BoxFuture, Error, HttpTransport, SharedTransport};

/// A test double: records request paths and answers with a canned body.
#[derive(Default)]
struct Recording {
    paths: Mutex<Vec<String>>,
}

impl HttpTransport for Recording {
    fn send(&self, request: Request<Bytes>) -> BoxFuture<'_, Result<Response<Bytes>, Error>> {
        Box::pin(async move {
            self.paths
                .lock()
                .unwrap()
                .push(request.uri().path().to_owned());
            Ok(Response::new(Bytes::from_static(b"{\"results\":[]}")))
        })
    }
}

async fn fetch(transport: &dyn HttpTransport) -> Result<Response<Bytes>, Error> {
    let request = Request::get("https://example.invalid/tts/3/reports")
        .body(Bytes::new())
        .unwrap();
    transport.send(request).await
}

#[tokio::test]
async fn an_outside_implementation_plugs_in() {
    let recording = std::sync::Arc::new(Recording::default());
    let shared = SharedTransport::new(recording.clone());
    let clone = shared.clone();
    assert_eq!(
        fetch(&shared).await.unwrap().body().as_ref(),
        b"{\"results\":[]}"
    );
    fetch(&clone).await.unwrap();
    let boxed: Box<dyn HttpTransport> = Box::new(shared);
    fetch(&*boxed).await.unwrap();
    assert_eq!(recording.paths.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn the_client_is_a_transport() {
    let (server, seen) =
        crate::support::serve_counting(|_, _| async { Response::new(Bytes::new()) });
    let shared = SharedTransport::new(crate::support::client_with(|b| b));
    let url = crate::support::url(server.local_addr(), "/");
    shared.send(crate::support::get(url)).await.unwrap();
    assert_eq!(seen.get(), 1);
}
