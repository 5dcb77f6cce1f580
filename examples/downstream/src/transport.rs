//! `MiniHttp`: a minimal HTTP/1.1 transport of the downstream crate's own.

use std::time::Duration;

use ivr_reports::bytes::Bytes;
use ivr_reports::http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use ivr_reports::transport::{Error, ErrorKind};
use ivr_reports::{BoxFuture, HttpTransport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Plain `http://` over one tokio `TcpStream` per request (`Connection: close`), never
/// retried. Keeps the [`HttpTransport`] promise: once the request may have been written,
/// any failure to get the whole response is [`ErrorKind::ResponseLost`] (timed out when
/// the response timeout ran out), so the facade reports it as a possible loss.
///
/// ```no_run
/// # async fn run() -> Result<(), ivr_reports::Error> {
/// use ivr_reports::{Auth, Client};
/// use ivr_reports_downstream::MiniHttp;
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8080")
///     .auth(Auth::app("key"))
///     .transport(MiniHttp::new())
///     .build()?;
/// let page = client.reports().await?;
/// # drop(page);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MiniHttp {
    connect_timeout: Duration,
    response_timeout: Duration,
    max_response: u64,
}

impl Default for MiniHttp {
    fn default() -> Self {
        Self::new()
    }
}

impl MiniHttp {
    /// Connect timeout 5 s, response timeout 30 s, responses up to 16 MiB.
    #[must_use]
    pub fn new() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            response_timeout: Duration::from_secs(30),
            max_response: 16 << 20,
        }
    }

    /// How long to wait for the whole response once connected.
    #[must_use]
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    async fn exchange(&self, request: Request<Bytes>) -> Result<Response<Bytes>, Error> {
        let (parts, body) = request.into_parts();
        let uri = &parts.uri;
        if uri.scheme_str() != Some("http") {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "mini-http speaks plain http:// only",
            ));
        }
        let host = uri
            .host()
            .ok_or_else(|| Error::new(ErrorKind::InvalidRequest, "the url has no host"))?;
        let port = uri.port_u16().unwrap_or(80);
        let connect = TcpStream::connect((host, port));
        let mut stream = match tokio::time::timeout(self.connect_timeout, connect).await {
            Err(_) => return Err(Error::new(ErrorKind::Timeout, "connect timeout")),
            Ok(Err(e)) => return Err(Error::new(ErrorKind::Connect, "").with_source(e)),
            Ok(Ok(stream)) => stream,
        };

        let mut head = Vec::with_capacity(256);
        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        head.extend_from_slice(format!("{} {target} HTTP/1.1\r\n", parts.method).as_bytes());
        head.extend_from_slice(format!("host: {host}:{port}\r\n").as_bytes());
        head.extend_from_slice(b"connection: close\r\n");
        head.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        for (name, value) in &parts.headers {
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");

        // From the first byte written on, the server may process the request: every
        // failure below is a lost response, never "nothing was sent".
        let lost = |e: std::io::Error| {
            Error::new(
                ErrorKind::ResponseLost,
                "the connection failed after the request was written",
            )
            .with_source(e)
        };
        let limit = self.max_response;
        let exchange = async {
            stream.write_all(&head).await.map_err(lost)?;
            stream.write_all(&body).await.map_err(lost)?;
            let mut raw = Vec::new();
            (&mut stream)
                .take(limit + 1)
                .read_to_end(&mut raw)
                .await
                .map_err(lost)?;
            Ok::<_, Error>(raw)
        };
        let raw = match tokio::time::timeout(self.response_timeout, exchange).await {
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::ResponseLost,
                    "no complete response within the response timeout",
                )
                .timed_out());
            }
            Ok(raw) => raw?,
        };
        if raw.len() as u64 > limit {
            return Err(Error::new(ErrorKind::BodyTooLarge, ""));
        }
        parse(&raw)
    }
}

impl HttpTransport for MiniHttp {
    fn send(&self, request: Request<Bytes>) -> BoxFuture<'_, Result<Response<Bytes>, Error>> {
        Box::pin(self.exchange(request))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A lost response: the connection ended before the response was complete.
fn cut_short(what: &'static str) -> Error {
    Error::new(ErrorKind::ResponseLost, what)
}

/// A response that breaks HTTP, after the request was processed.
fn garbled(what: &'static str) -> Error {
    Error::new(ErrorKind::Protocol, what).processed()
}

/// Parses a whole `Connection: close` response.
fn parse(raw: &[u8]) -> Result<Response<Bytes>, Error> {
    let end = find(raw, b"\r\n\r\n")
        .ok_or_else(|| cut_short("the connection closed before the response head ended"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|e| garbled("a head").with_source(e))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| garbled("an unreadable status line"))?;
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| garbled("a header line without a colon"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|e| garbled("an invalid header name").with_source(e))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|e| garbled("an invalid header value").with_source(e))?;
        response.headers_mut().append(name, value);
    }
    let rest = &raw[end + 4..];
    let headers = response.headers();
    let chunked = headers
        .get(header::TRANSFER_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    let body = if chunked {
        dechunk(rest).ok_or_else(|| cut_short("the chunked body ended early"))?
    } else if let Some(length) = headers.get(header::CONTENT_LENGTH) {
        let length: usize = length
            .to_str()
            .ok()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| garbled("an invalid content-length"))?;
        if rest.len() < length {
            return Err(cut_short("the connection closed before the body ended"));
        }
        rest[..length].to_vec()
    } else {
        rest.to_vec()
    };
    *response.body_mut() = Bytes::from(body);
    Ok(response)
}

/// The body of a chunked transfer, or `None` when it ends early or is malformed.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = find(data, b"\r\n")?;
        let size = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        data = data.get(line_end + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size + 2..)?;
    }
}
