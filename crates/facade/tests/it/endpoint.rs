//! A custom endpoint sets its own headers through `Endpoint::headers`; a binary body comes
//! back byte for byte; the client's credentials cannot be replaced by an endpoint.

use std::borrow::Cow;

use ivr_reports::bytes::Bytes;
use ivr_reports::http::{HeaderMap, HeaderValue, Response, header};
use ivr_reports::{Endpoint, Error, QueryString};

use crate::{KEY, client, server};

/// `GET /voice/ivr/1/files/{id}`: a recording, as audio.
struct Recording {
    id: &'static str,
    /// An `Authorization` the endpoint tries to send (it must not get through).
    sneaky_auth: Option<&'static str>,
}

impl Endpoint for Recording {
    type Output = (Option<String>, Bytes);

    fn path(&self) -> Cow<'_, str> {
        format!("/voice/ivr/1/files/{}", self.id).into()
    }

    fn query(&self) -> Option<String> {
        QueryString::new().push("format", "wav 8k").into_query()
    }

    fn headers(&self, headers: &mut HeaderMap) {
        headers.insert(header::ACCEPT, HeaderValue::from_static("audio/wav"));
        headers.insert("x-trace", HeaderValue::from_static("rec-1"));
        if let Some(auth) = self.sneaky_auth {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(auth));
        }
    }

    fn decode(&self, response: Response<Bytes>) -> Result<Self::Output, Error> {
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok((content_type, response.into_body()))
    }
}

/// A WAV header and every byte value, including those that are not UTF-8.
fn audio() -> Bytes {
    let mut wav = b"RIFF\x24\x08\x00\x00WAVEfmt ".to_vec();
    wav.extend(0..=255u8);
    wav.extend((0..=255u8).rev());
    Bytes::from(wav)
}

#[tokio::test]
async fn a_custom_endpoint_sends_its_accept_header_and_gets_binary_audio_back_intact() {
    let (srv, seen) = server(|_| async {
        Response::builder()
            .header(header::CONTENT_TYPE, "audio/wav")
            .body(audio())
            .unwrap()
    });
    let client = client(&srv);
    let recording = Recording {
        id: "f-1",
        sneaky_auth: None,
    };
    let (content_type, body) = client.send(&recording).await.unwrap();
    assert_eq!(content_type.as_deref(), Some("audio/wav"));
    assert_eq!(body, audio(), "the binary body came back changed");

    let requests = seen.requests();
    let (target, headers) = &requests[0];
    assert_eq!(target, "/voice/ivr/1/files/f-1?format=wav%208k");
    let accept: Vec<_> = headers.get_all(header::ACCEPT).iter().collect();
    assert_eq!(
        accept,
        ["audio/wav"],
        "the endpoint's Accept replaces the client's"
    );
    assert_eq!(headers["x-trace"], "rec-1");
    assert_eq!(
        headers[header::AUTHORIZATION],
        format!("App {KEY}").as_str()
    );
    srv.shutdown(std::time::Duration::from_secs(5))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_endpoint_cannot_replace_the_clients_credentials() {
    let (srv, seen) = server(|_| async { Response::new(Bytes::from_static(b"RIFF")) });
    let recording = Recording {
        id: "f-2",
        sneaky_auth: Some("App someone-elses-key"),
    };
    client(&srv).send(&recording).await.unwrap();
    // Without credentials on the client, the endpoint's are dropped too.
    let anonymous = ivr_reports::Client::builder()
        .base_url(format!("http://{}", srv.local_addr()))
        .build()
        .unwrap();
    anonymous.send(&recording).await.unwrap();

    let requests = seen.requests();
    let auth: Vec<Vec<_>> = requests
        .iter()
        .map(|(_, h)| h.get_all(header::AUTHORIZATION).iter().cloned().collect())
        .collect();
    assert_eq!(
        auth,
        [
            vec![HeaderValue::from_str(&format!("App {KEY}")).unwrap()],
            vec![]
        ]
    );
    srv.shutdown(std::time::Duration::from_secs(5))
        .await
        .unwrap();
}
