//! `Recording`: a custom endpoint whose body is audio, not a report page.

use std::borrow::Cow;
use std::fmt::Write as _;

use ivr_reports::bytes::Bytes;
use ivr_reports::codec::{Error as CodecError, ErrorKind as CodecErrorKind};
use ivr_reports::http::{HeaderMap, HeaderValue, Response, header};
use ivr_reports::{Endpoint, Error};

/// `GET /tts/3/files/{id}`: the audio file of a recorded call, as its WAV bytes.
///
/// It asks for audio (`Accept: audio/wav`, through [`Endpoint::headers`]) instead of the
/// client's JSON or XML.
///
/// ```
/// use ivr_reports::Endpoint;
/// use ivr_reports_downstream::Recording;
///
/// assert_eq!(Recording::new("rec 1/2").path(), "/tts/3/files/rec%201%2F2");
/// ```
#[derive(Clone, Debug)]
pub struct Recording {
    path: String,
}

impl Recording {
    /// The recording with this file id (escaped into the path).
    #[must_use]
    pub fn new(file_id: &str) -> Self {
        let mut path = String::from("/tts/3/files/");
        for byte in file_id.bytes() {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                path.push(char::from(byte));
            } else {
                let _ = write!(path, "%{byte:02X}");
            }
        }
        Self { path }
    }
}

impl Endpoint for Recording {
    type Output = Bytes;

    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.path)
    }

    /// Audio, not the client's report format.
    fn headers(&self, headers: &mut HeaderMap) {
        headers.insert(header::ACCEPT, HeaderValue::from_static("audio/wav"));
    }

    /// The body, when it is audio in a RIFF container; else a decode error whose source is
    /// a codec error built outside the codec.
    fn decode(&self, response: Response<Bytes>) -> Result<Bytes, Error> {
        let audio = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"audio/"));
        let body = response.into_body();
        if audio && body.starts_with(b"RIFF") {
            Ok(body)
        } else {
            let why = CodecError::new(
                CodecErrorKind::InvalidValue,
                "expected an audio body in a RIFF container",
            );
            Err(Error::decode(body, why))
        }
    }
}
