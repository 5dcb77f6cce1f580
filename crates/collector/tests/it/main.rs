//! Behaviour of the collector against a real sandbox over HTTP on 127.0.0.1, real files and
//! a real PostgreSQL at `IVR_REPORTS_PG_URL` (`cargo xtask ci test` starts one and sets it;
//! without it the PostgreSQL tests fail and say so, they never pass unrun).

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// Needs `testing` (feature `test-util`, always on here through the self dev-dependency;
// a packaged copy without that dev-dependency builds without these tests).
mod concurrency;
#[cfg(feature = "test-util")]
mod conformance;
mod crash;
mod events;
mod journal;
mod postgres;
mod pull;
mod push;
mod reconcile;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ivr_reports::{Auth, Client, Decimal, Price, RetryPolicy, Status, Timestamp};
use ivr_reports_collector::model::{CallReport, VoiceCall, VoiceReport};
use ivr_reports_collector::{AnyReport, Quarantined, Sink};
use ivr_reports_sandbox::{Sandbox, SandboxHandle};
use std::sync::Arc;

pub(crate) const KEY: &str = "collector-test-key";

/// A directory removed when dropped.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ivr-collector-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub(crate) fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A sandbox with quick push retries.
pub(crate) async fn sandbox() -> SandboxHandle {
    Sandbox::builder()
        .api_key(KEY)
        .push_backoff(Duration::from_millis(10), Duration::from_millis(50))
        .push_attempts(50)
        .start()
        .await
        .unwrap()
}

/// A client of `sandbox`, with the default (loss-safe) retry policy.
pub(crate) fn client(sandbox: &SandboxHandle) -> Client {
    Client::builder()
        .base_url(sandbox.base_url())
        .auth(Auth::app(KEY))
        .retry(RetryPolicy::new())
        .build()
        .unwrap()
}

/// A v1 report with the fields the sinks put in columns.
pub(crate) fn v1(id: &str) -> VoiceReport {
    let mut r = VoiceReport::new(id, "41790000001");
    r.bulk_id = Some("bulk-1".into());
    r.duration = Some(12);
    r.price = Some(Price::new(Decimal::new(125, 4), "EUR"));
    r.status = Status::known(5);
    r.sent_at = Some(Timestamp::parse("2015-02-12T09:58:20.323+0100").unwrap());
    r.done_at = Some(Timestamp::parse("2015-02-12T09:59:20.323+0100").unwrap());
    r
}

/// A v2 report with a voice call.
pub(crate) fn v2(id: &str) -> CallReport {
    let mut r = CallReport::new(id, "41790000002");
    r.from = Some("38599".into());
    r.bulk_id = Some("bulk-2".into());
    r.price = Some(Price::new(Decimal::new(1, 2), "USD"));
    r.status = Status::known(5);
    let mut call = VoiceCall::new();
    call.duration = Some(7);
    call.dtmf_codes = Some("3, 9".into());
    r.voice_call = Some(call);
    r
}

/// How to get what a test needs; said by every test that finds it missing.
#[cfg(feature = "postgres")]
const HOW: &str = "`cargo xtask ci test` prepares it (README.md, \"Tests\"); \
                   to run the tests another way, `eval \"$(cargo xtask env)\"` first";

/// The PostgreSQL URL for tests. Fails the test, saying how to provide one, when
/// `IVR_REPORTS_PG_URL` is unset or nothing answers at its host and port: a PostgreSQL
/// test never passes without PostgreSQL.
#[cfg(feature = "postgres")]
pub(crate) fn pg_url(test: &str) -> String {
    let url = match std::env::var("IVR_REPORTS_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!("{test} needs PostgreSQL: IVR_REPORTS_PG_URL is unset; {HOW}"),
    };
    // Only host and port are shown: the URL may hold a password.
    let (host, port) = pg_host_port(&url)
        .unwrap_or_else(|| panic!("{test}: IVR_REPORTS_PG_URL has no host:port I can read"));
    let reached = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
        .map_err(|e| e.to_string())
        .and_then(|mut addrs| {
            addrs
                .find_map(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_secs(5)).ok())
                .ok_or_else(|| "connection refused or timed out".to_string())
        });
    if let Err(e) = reached {
        panic!(
            "{test} needs PostgreSQL: nothing answers at {host}:{port} (IVR_REPORTS_PG_URL): {e}; {HOW}"
        );
    }
    url
}

/// Host and port of a `postgres://[user[:password]@]host[:port][/db][?options]` URL.
#[cfg(feature = "postgres")]
fn pg_host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host_port.rsplit_once(':') {
        Some((host, port)) => Some((
            host.trim_matches(['[', ']']).to_string(),
            port.parse().ok()?,
        )),
        None => Some((host_port.to_string(), 5432)),
    }
}

/// A schema name no other test (or test run) uses.
#[cfg(feature = "postgres")]
pub(crate) fn unique_schema(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("t_{test}_{}_{nanos}", std::process::id())
}

/// Polls `cond` every 10 ms until it holds, for at most `limit`.
pub(crate) async fn wait_until(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A plain HTTP POST (no retries), for the sandbox's send endpoints and the webhook.
pub(crate) async fn post(
    url: &str,
    content_type: &str,
    auth: Option<&str>,
    body: impl Into<bytes::Bytes>,
) -> http::Response<bytes::Bytes> {
    let client = ivr_reports_transport::Client::builder()
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    let mut req = http::Request::post(url).header("content-type", content_type);
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    client.send(req.body(body.into()).unwrap()).await.unwrap()
}

/// A GET (no retries).
pub(crate) async fn get(url: &str) -> http::Response<bytes::Bytes> {
    let client = ivr_reports_transport::Client::builder()
        .retry(RetryPolicy::never())
        .build()
        .unwrap();
    client
        .send(http::Request::get(url).body(bytes::Bytes::new()).unwrap())
        .await
        .unwrap()
}

/// Asks the sandbox to place calls whose reports it pushes to `notify_url`.
pub(crate) async fn send_calls(
    sandbox: &SandboxHandle,
    notify_url: &str,
    ids: &[String],
    content_type: &str,
    version: u8,
) {
    let destinations: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"to":"41790000001","messageId":"{id}"}}"#))
        .collect();
    let body = format!(
        r#"{{"messages":[{{"destinations":[{}],"text":"Hi","notifyUrl":"{notify_url}","notifyContentType":"{content_type}","notifyContentVersion":{version}}}]}}"#,
        destinations.join(",")
    );
    let r = post(
        &format!("{}/tts/3/advanced", sandbox.base_url()),
        "application/json",
        Some(&format!("App {KEY}")),
        body,
    )
    .await;
    assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
}

/// A sink that fails its first `failures` stores, then delegates: a `Sink` implemented
/// outside the crate, and a way to make the storage fail on purpose.
#[derive(Debug)]
pub(crate) struct FlakySink {
    inner: std::sync::Arc<dyn ivr_reports_collector::Sink>,
    failures: AtomicUsize,
}

impl FlakySink {
    pub(crate) fn new(
        inner: std::sync::Arc<dyn ivr_reports_collector::Sink>,
        failures: usize,
    ) -> Self {
        Self {
            inner,
            failures: AtomicUsize::new(failures),
        }
    }
}

impl ivr_reports_collector::Sink for FlakySink {
    fn store<'a>(
        &'a self,
        reports: &'a [ivr_reports_collector::AnyReport],
    ) -> ivr_reports_collector::BoxFuture<
        'a,
        Result<ivr_reports_collector::Stored, ivr_reports_collector::Error>,
    > {
        let fail = self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            // Any error of the crate will do: a journal that is locked elsewhere.
            return Box::pin(async {
                let dir = TempDir::new("flaky");
                let path = dir.join("x.jsonl");
                let _held = ivr_reports_collector::JsonlSink::open(&path).await.unwrap();
                Err(ivr_reports_collector::JsonlSink::open(&path)
                    .await
                    .unwrap_err())
            });
        }
        self.inner.store(reports)
    }

    fn quarantine<'a>(
        &'a self,
        items: &'a [ivr_reports_collector::Quarantined],
    ) -> ivr_reports_collector::BoxFuture<'a, Result<(), ivr_reports_collector::Error>> {
        self.inner.quarantine(items)
    }

    fn reports(
        &self,
    ) -> ivr_reports_collector::BoxFuture<
        '_,
        Result<Vec<ivr_reports_collector::AnyReport>, ivr_reports_collector::Error>,
    > {
        self.inner.reports()
    }

    fn quarantined(
        &self,
    ) -> ivr_reports_collector::BoxFuture<
        '_,
        Result<Vec<ivr_reports_collector::QuarantineEntry>, ivr_reports_collector::Error>,
    > {
        self.inner.quarantined()
    }

    fn release<'a>(
        &'a self,
        ids: &'a [u64],
    ) -> ivr_reports_collector::BoxFuture<'a, Result<(), ivr_reports_collector::Error>> {
        self.inner.release(ids)
    }

    fn describe(&self) -> String {
        format!("flaky {}", self.inner.describe())
    }
}

/// A sink whose `store` waits until the test opens the gate.
#[derive(Debug)]
pub(crate) struct GatedSink {
    pub(crate) inner: Arc<dyn Sink>,
    pub(crate) entered: tokio::sync::Notify,
    pub(crate) gate: tokio::sync::Semaphore,
}

impl Sink for GatedSink {
    fn store<'a>(
        &'a self,
        reports: &'a [AnyReport],
    ) -> ivr_reports_collector::BoxFuture<
        'a,
        Result<ivr_reports_collector::Stored, ivr_reports_collector::Error>,
    > {
        Box::pin(async move {
            self.entered.notify_one();
            let _pass = self.gate.acquire().await.unwrap();
            self.inner.store(reports).await
        })
    }
    fn quarantine<'a>(
        &'a self,
        items: &'a [Quarantined],
    ) -> ivr_reports_collector::BoxFuture<'a, Result<(), ivr_reports_collector::Error>> {
        self.inner.quarantine(items)
    }
    fn reports(
        &self,
    ) -> ivr_reports_collector::BoxFuture<'_, Result<Vec<AnyReport>, ivr_reports_collector::Error>>
    {
        self.inner.reports()
    }
    fn quarantined(
        &self,
    ) -> ivr_reports_collector::BoxFuture<
        '_,
        Result<Vec<ivr_reports_collector::QuarantineEntry>, ivr_reports_collector::Error>,
    > {
        self.inner.quarantined()
    }
    fn release<'a>(
        &'a self,
        ids: &'a [u64],
    ) -> ivr_reports_collector::BoxFuture<'a, Result<(), ivr_reports_collector::Error>> {
        self.inner.release(ids)
    }
    fn describe(&self) -> String {
        "gated".into()
    }
}
