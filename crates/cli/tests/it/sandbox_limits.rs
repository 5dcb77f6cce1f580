//! The sandbox binary under abuse: big unauthenticated uploads, HTTP/2 stream floods,
//! connection floods, and readiness right after start.

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use hyper::body::{Body, Frame};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A running `ivr-reports sandbox`, killed when dropped.
pub(crate) struct Running {
    child: Child,
    pub(crate) addr: SocketAddr,
}

impl Running {
    /// Starts the binary with `args` after `sandbox` and waits for its banner.
    pub(crate) async fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ivr-reports"))
            .arg("sandbox")
            .args(args)
            .env_remove("INFOBIP_API_KEY")
            .env_remove("INFOBIP_USERNAME")
            .env_remove("INFOBIP_PASSWORD")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let first = tokio::task::spawn_blocking(move || {
            let mut reader = BufReader::new(out);
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            // Keep draining so the sandbox never blocks on a full pipe.
            std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
            line
        })
        .await
        .unwrap();
        let url = first.trim().rsplit(' ').next().unwrap().to_string();
        let addr = url
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in the banner: {first}"));
        Self { child, addr }
    }

    /// The peak resident set size of the sandbox process so far, in bytes (VmHWM).
    pub(crate) fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .expect("VmHWM in /proc/PID/status");
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap();
        kib * 1024
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MIB: usize = 1024 * 1024;
/// The size of each abusive upload, as in the issue.
const UPLOAD: usize = 60 * MIB;
/// The peak RSS the sandbox must stay under through all of it (today it reaches ~1 GB).
const RSS_BUDGET: u64 = 200 * MIB as u64;

/// A request body of `chunks` MiB, streamed without a length; never ends early.
struct Upload {
    chunk: Bytes,
    left: usize,
}

impl Upload {
    fn new(bytes: usize) -> Self {
        Self {
            chunk: Bytes::from(vec![b'x'; MIB]),
            left: bytes / MIB,
        }
    }
}

impl Body for Upload {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        Poll::Ready(Some(Ok(Frame::data(self.chunk.clone()))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }
}

/// Sends one HTTP/1.1 upload of `UPLOAD` bytes announced by `Content-Length`, until the
/// server stops taking it or 60 s pass. Returns how many bytes were written.
async fn http1_upload(addr: SocketAddr, authorization: Option<&str>) -> usize {
    let mut sent = 0;
    let upload = async {
        let mut socket = TcpStream::connect(addr).await.ok()?;
        let auth = authorization
            .map(|a| format!("authorization: {a}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "POST /tts/3/advanced HTTP/1.1\r\nhost: sandbox\r\ncontent-type: application/json\r\n{auth}content-length: {UPLOAD}\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.ok()?;
        let chunk = vec![b'x'; MIB];
        while sent < UPLOAD {
            socket.write_all(&chunk).await.ok()?;
            sent += MIB;
        }
        Some(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(60), upload).await;
    sent
}

/// Opens `streams` HTTP/2 (prior knowledge) streams on one connection, each uploading
/// `UPLOAD` bytes; returns the statuses that came back within 60 s.
async fn http2_uploads(
    addr: SocketAddr,
    streams: usize,
    authorization: Option<&str>,
) -> Vec<StatusCode> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    let conn = tokio::spawn(conn);
    let mut tasks = Vec::new();
    for _ in 0..streams {
        let mut sender = sender.clone();
        let mut request = Request::post(format!("http://{addr}/tts/3/advanced"))
            .header("content-type", "application/json")
            .body(Upload::new(UPLOAD))
            .unwrap();
        if let Some(a) = authorization {
            request
                .headers_mut()
                .insert("authorization", a.parse().unwrap());
        }
        tasks.push(tokio::spawn(async move {
            sender.ready().await.ok()?;
            let response = sender.send_request(request).await.ok()?;
            Some(response.status())
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        if let Ok(Ok(Some(status))) = tokio::time::timeout(Duration::from_secs(60), task).await {
            statuses.push(status);
        }
    }
    conn.abort();
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_uploads_and_http2_streams_do_not_exhaust_the_sandbox_memory() {
    let sandbox = Running::start(&["--addr", "127.0.0.1:0"]).await;
    let addr = sandbox.addr;
    let at_start = sandbox.peak_rss();

    // 16 unauthenticated 60 MB uploads at once over HTTP/1.1.
    let uploads: Vec<_> = (0..16)
        .map(|_| tokio::spawn(http1_upload(addr, None)))
        .collect();
    let mut written = 0;
    for u in uploads {
        written += u.await.unwrap();
    }
    let after_http1 = sandbox.peak_rss();

    // 30 unauthenticated HTTP/2 streams of 60 MB each on one connection.
    let refused = http2_uploads(addr, 30, None).await;
    let after_http2 = sandbox.peak_rss();
    // 30 authenticated ones: over the sandbox's body limit, read at most a few at a time.
    let too_big = http2_uploads(addr, 30, Some("App sandbox-api-key")).await;
    let after_authenticated = sandbox.peak_rss();

    eprintln!(
        "peak RSS: start {} MiB, after 16 HTTP/1.1 uploads {} MiB ({} MiB written), \
         after 30 HTTP/2 streams {} MiB, after 30 authenticated streams {} MiB",
        at_start / MIB as u64,
        after_http1 / MIB as u64,
        written / MIB,
        after_http2 / MIB as u64,
        after_authenticated / MIB as u64,
    );
    assert!(
        after_authenticated < RSS_BUDGET,
        "the sandbox peaked at {} MiB (budget {} MiB)",
        after_authenticated / MIB as u64,
        RSS_BUDGET / MIB as u64
    );
    assert!(
        refused.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{refused:?}"
    );
    assert!(
        too_big.iter().all(|s| *s == StatusCode::PAYLOAD_TOO_LARGE),
        "{too_big:?}"
    );

    // And it still serves.
    let o = crate::run(
        &["fetch", "--limit", "10", "-o", "jsonl"],
        &[
            ("INFOBIP_BASE_URL", format!("http://{addr}").as_str()),
            ("INFOBIP_API_KEY", "sandbox-api-key"),
        ],
    )
    .await;
    assert!(o.status.success(), "{}", crate::stderr(&o));
}

/// A port that was free a moment ago (the sandbox binds it itself).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One raw HTTP/1.1 GET; returns the whole answer (the server closes after it).
async fn raw_get(addr: SocketAddr, path: &str, authorization: &str) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut socket = TcpStream::connect(addr).await.ok()?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: sandbox\r\nauthorization: {authorization}\r\nconnection: close\r\n\r\n"
    );
    socket.write_all(request.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn the_seeded_campaign_is_there_for_the_very_first_request() {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let addr_arg = addr.to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivr-reports"))
        .args(["sandbox", "--addr", &addr_arg, "--seed", "200000"])
        .env_remove("INFOBIP_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Ask as soon as the port answers, without waiting for the banner: at most 10 s.
    let started = std::time::Instant::now();
    let answer = loop {
        if let Some(answer) = raw_get(addr, "/tts/3/reports?limit=1", "App sandbox-api-key").await
            && !answer.is_empty()
        {
            break answer;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the sandbox did not answer within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("\"messageId\""),
        "the first page was empty: {answer}"
    );
}

#[tokio::test]
async fn two_sandbox_collects_in_one_folder_store_two_campaigns() {
    let dir = crate::temp_dir("two-campaigns");
    let journal = dir.join("campaigns.jsonl");
    let sink = format!("jsonl:{}", journal.display());
    let args = ["collect", "--sandbox", "--calls", "50", "--sink", &sink];
    let first = crate::run(&args, &[]).await;
    assert!(first.status.success(), "{}", crate::stderr(&first));
    assert!(
        crate::stderr(&first).contains("stored 50 new"),
        "{}",
        crate::stderr(&first)
    );
    let second = crate::run(&args, &[]).await;
    assert!(second.status.success(), "{}", crate::stderr(&second));
    assert!(
        crate::stderr(&second).contains("stored 50 new"),
        "the second run's ids repeated the first's: {}",
        crate::stderr(&second)
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    let ids: std::collections::HashSet<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.pointer("/report/messageId")
                .or_else(|| v.get("messageId"))
                .and_then(|m| m.as_str())
                .unwrap_or_else(|| panic!("no messageId in {l}"))
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 100);
}
