//! `Collector`: the pull loop (spool, decode, store) and the ingestion shared with the webhook.

use std::borrow::Cow;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::Duration;

use bytes::Bytes;
use http::Response;
use ivr_reports::{Client, Endpoint, Limit, ReportsQuery};
use ivr_reports_codec::{Codec, Format, Rejected};
use ivr_reports_model::{CallReport, VoiceReport};
use tracing::Instrument;

use crate::counters::{Counters, LiveCounters};
use crate::error::{Error, ErrorKind};
use crate::incident::{self, Incident, IncidentReason};
use crate::quarantine::{Quarantined, Scope, Source};
use crate::replay::{self, ReplaySummary};
use crate::sink::{Origin, Sink, Stored};
use crate::spool::{InFlight, Record, Spool};
use ivr_reports_model::{AnyReport, Generation, Report};
use std::time::SystemTime;

/// The never-lose pipeline: pulls reports into a [`Sink`] through a durable spool, and
/// receives pushed ones ([`Collector::serve_webhook`]).
///
/// Cheap to clone (shared state); `Send + Sync`. One collector pulls with one spool file;
/// run several collectors (each with its own spool) against one PostgreSQL sink to share
/// the work across machines.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use ivr_reports::{Auth, Client};
/// use ivr_reports_collector::{Collector, SinkSpec};
///
/// let spec: SinkSpec = "jsonl:./reports.jsonl".parse()?;
/// let collector = Collector::builder(spec.open().await?)
///     .spool_path(spec.default_spool_path())
///     .build();
/// let client = Client::builder()
///     .base_url("https://xyz.api.infobip.com")
///     .auth(Auth::app("key"))
///     .build()?;
/// // Until Ctrl-C (any future works as the stop signal):
/// collector.run_pull(&client, async { /* e.g. tokio::signal::ctrl_c() */ }).await?;
/// println!("{:?}", collector.counters());
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Collector {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) sink: Arc<dyn Sink>,
    pub(crate) counters: LiveCounters,
    spool_path: PathBuf,
    /// The incident log beside the spool.
    incidents_path: PathBuf,
    /// The incidents this collector recorded.
    recorded: Mutex<Vec<Incident>>,
    /// The open spool; `None` until the first pull or recovery, and again after a failure
    /// (so the next attempt re-reads what the file holds).
    spool: tokio::sync::Mutex<Option<Spool>>,
    poll_interval: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
    generation: Generation,
    last_error: Mutex<Option<String>>,
    observer: Option<Observer>,
    /// A pull got a good answer.
    ready: std::sync::atomic::AtomicBool,
    /// Failed pulls since the last good one.
    consecutive_failures: std::sync::atomic::AtomicU32,
    unhealthy_after: u32,
    /// The most report requests in flight ([`CollectorBuilder::concurrency`]).
    concurrency: usize,
    /// How many are allowed now: lowered when the API throttles.
    limit: Mutex<Aimd>,
}

/// Additive increase, multiplicative decrease of the requests in flight: halved on a
/// throttled answer (once per window: answers to requests sent before the last decrease
/// do not halve it again), one more after as many good pages in a row as the limit.
#[derive(Debug, Clone, Copy)]
struct Aimd {
    limit: usize,
    good_run: usize,
    /// Decreases so far; a request remembers the epoch it was sent in.
    epoch: u64,
}

impl Aimd {
    fn throttled(&mut self, sent_in: u64) -> Option<usize> {
        self.good_run = 0;
        if sent_in != self.epoch || self.limit == 1 {
            return None;
        }
        self.epoch += 1;
        self.limit = (self.limit / 2).max(1);
        Some(self.limit)
    }

    fn good(&mut self, max: usize) -> Option<usize> {
        if self.limit >= max {
            return None;
        }
        self.good_run += 1;
        if self.good_run < self.limit {
            return None;
        }
        self.good_run = 0;
        self.limit += 1;
        Some(self.limit)
    }
}

type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// What the collector is doing, for progress displays and tests
/// ([`CollectorBuilder::on_event`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The pull loop is about to request a page (its in-flight marker is synced): from here
    /// until [`Event::Spooled`], the reports of that page exist only in flight, and a crash
    /// becomes a possible-loss incident at the next start.
    Fetching,
    /// A fetched body is in the spool and synced (`bytes` long): from here on it survives a
    /// crash.
    Spooled {
        /// The body's length.
        bytes: usize,
    },
    /// A pull failed: [`Collector::run_pull`] waits `wait` before the next one (the
    /// backoff doubles on consecutive failures and starts afresh after any stored page).
    BackingOff {
        /// How long it waits.
        wait: Duration,
    },
    /// The number of report requests the pull keeps in flight changed: halved because the
    /// API throttled (`429`/`503`), or one more after a run of good pages (also in
    /// [`Counters::concurrency`]).
    Concurrency {
        /// Requests allowed in flight from now on.
        limit: usize,
        /// Whether it was lowered because the API throttled.
        throttled: bool,
    },
    /// A possible-loss incident was recorded durably ([`Collector::incidents`]).
    Incident {
        /// Its id in the incident log.
        id: u64,
        /// Why.
        reason: IncidentReason,
    },
    /// A body's reports are committed to the sink (and its rejected items to the
    /// quarantine).
    Committed {
        /// Where the body came from.
        source: Source,
        /// Reports it held, decoded or not.
        received: u64,
        /// Reports newly stored.
        stored: u64,
        /// Reports already stored.
        duplicates: u64,
        /// Items quarantined (conflicts apart).
        quarantined: u64,
        /// Reports whose `messageId` was stored with different content: kept in the
        /// quarantine with both versions.
        conflicts: u64,
    },
}

/// Configures a [`Collector`]. Every setter documents its default.
#[must_use]
pub struct CollectorBuilder {
    sink: Arc<dyn Sink>,
    spool_path: PathBuf,
    poll_interval: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
    generation: Generation,
    observer: Option<Observer>,
    unhealthy_after: u32,
    concurrency: usize,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("sink", &self.sink.describe())
            .field("spool_path", &self.spool_path)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for CollectorBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectorBuilder")
            .field("sink", &self.sink.describe())
            .field("spool_path", &self.spool_path)
            .field("poll_interval", &self.poll_interval)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl CollectorBuilder {
    /// Calls `observer` on every [`Event`], on the task that caused it (keep it quick).
    /// Default none.
    pub fn on_event(mut self, observer: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// The spool file of the pull loop. Default `./ivr-reports.spool`
    /// ([`SinkSpec::default_spool_path`](crate::SinkSpec::default_spool_path) gives one
    /// beside a journal). Locked while in use: one collector per spool.
    pub fn spool_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.spool_path = path.into();
        self
    }

    /// How long [`Collector::run_pull`] waits after an empty page. Default 5 s.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// The wait after a failed pull, doubling on each further failure up to `max`, back to
    /// `initial` once a page was stored. Default 500 ms up to 60 s.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max.max(initial);
        self
    }

    /// After how many consecutive failed pulls [`Collector::health`] says unhealthy (at
    /// least 1). Default 5.
    pub fn unhealthy_after(mut self, failures: u32) -> Self {
        self.unhealthy_after = failures.max(1);
        self
    }

    /// How many report requests a pull keeps in flight at most (1 to 64; 0 counts as 1).
    /// Each has its own in-flight marker in the spool; their spool writes share syncs. A
    /// throttled answer (`429`/`503`) halves the number in flight, and it grows back by one
    /// after a run of good pages ([`Event::Concurrency`], [`Counters::concurrency`]).
    /// With 2 or more, a request whose body is in the spool no longer counts: its page is
    /// stored beside the next requests (at most as many pages waiting for the sink as
    /// requests allowed in flight). With 1, one page at a time: no request is in flight
    /// while a page is stored, the smallest window for a crash to fall in (the pull loop
    /// before concurrency).
    /// Default 8, by measurement (`cargo xtask bench collect` and by hand, 2-core machine,
    /// sandbox and collector sharing it, 100,000 reports): with the sandbox answering after
    /// 50 ms, K=8 drained 5.5-6.8 times as fast as K=1 (median 6.3x; K=4: 3.4-3.7x, K=16:
    /// 8.9-9.6x); without latency K=8 was 2.0-2.2x K=1 and K=16 slower than K=8 (1.8x).
    /// Real APIs answer in tens of milliseconds, so 8 buys most of what concurrency can
    /// without costing a local upstream anything, while a throttling API lowers it by
    /// itself.
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.concurrency = requests.clamp(1, MAX_CONCURRENCY);
        self
    }

    /// Which endpoint to pull: [`Generation::V2`] (`GET /voice/1/reports`, the default) or
    /// [`Generation::V1`] (`GET /tts/3/reports`).
    pub fn generation(mut self, generation: Generation) -> Self {
        self.generation = generation;
        self
    }

    /// Builds the collector. Nothing is opened yet: the spool is opened (and replayed) by
    /// the first pull or [`Collector::recover`].
    pub fn build(self) -> Collector {
        Collector {
            shared: Arc::new(Shared {
                sink: self.sink,
                counters: LiveCounters::default(),
                incidents_path: incident::log_path(&self.spool_path),
                recorded: Mutex::new(Vec::new()),
                spool_path: self.spool_path,
                spool: tokio::sync::Mutex::new(None),
                poll_interval: self.poll_interval,
                backoff_initial: self.backoff_initial,
                backoff_max: self.backoff_max,
                generation: self.generation,
                last_error: Mutex::new(None),
                observer: self.observer,
                ready: std::sync::atomic::AtomicBool::new(false),
                consecutive_failures: std::sync::atomic::AtomicU32::new(0),
                unhealthy_after: self.unhealthy_after,
                concurrency: self.concurrency,
                limit: Mutex::new(Aimd {
                    limit: self.concurrency,
                    good_run: 0,
                    epoch: 0,
                }),
            }),
        }
    }
}

/// What one [`Collector::drain`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DrainSummary {
    /// Non-empty pages fetched.
    pub pages: u64,
    /// Reports received (decoded or not).
    pub received: u64,
    /// Reports newly stored.
    pub stored: u64,
    /// Reports already stored.
    pub duplicates: u64,
    /// Items quarantined (conflicts apart).
    pub quarantined: u64,
    /// Reports whose `messageId` was already stored with different content (kept in the
    /// quarantine with both versions).
    pub conflicts: u64,
}

/// What ingesting one body did.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Ingested {
    pub(crate) received: u64,
    pub(crate) stored: u64,
    pub(crate) duplicates: u64,
    pub(crate) quarantined: u64,
    pub(crate) conflicts: u64,
    pub(crate) replaced: u64,
    /// The envelope could not be read: the whole body went to the quarantine.
    pub(crate) body_quarantined: bool,
}

impl DrainSummary {
    fn add(&mut self, i: Ingested) {
        self.received += i.received;
        self.stored += i.stored;
        self.duplicates += i.duplicates;
        self.quarantined += i.quarantined;
        self.conflicts += i.conflicts;
    }
}

/// A report page fetched as raw bytes: the body must reach the spool before it is decoded.
struct RawPage {
    generation: Generation,
    query: ReportsQuery,
}

/// A fetched page: its format, its body, and whether the API throttled it first.
type Fetched = (Format, Bytes, Option<ivr_reports_transport::Throttled>);

impl Endpoint for RawPage {
    type Output = Fetched;

    fn path(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.generation.path())
    }

    fn query(&self) -> Option<String> {
        let q = ivr_reports_codec::encode_query(&self.query);
        (!q.is_empty()).then_some(q)
    }

    fn decode(&self, response: Response<Bytes>) -> Result<Fetched, ivr_reports::Error> {
        let throttled = response
            .extensions()
            .get::<ivr_reports_transport::Throttled>()
            .copied();
        let content_type = response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.into_body();
        Ok((
            Format::of_body(content_type.as_deref(), &body),
            body,
            throttled,
        ))
    }
}

/// Whether raw report bytes carry a v2-only field (`voiceCall` or `from`).
fn looks_v2(raw: &[u8]) -> bool {
    let has = |needle: &[u8]| raw.windows(needle.len()).any(|w| w == needle);
    has(b"\"voiceCall\"") || has(b"\"from\"") || has(b"<voiceCall") || has(b"<from>")
}

/// Whether a body may hold a v2-only field: its name appears in the bytes (`<from` also
/// matches `<fromX`, which only costs a trial decode), or a JSON escape could spell it.
fn may_be_v2(body: &[u8]) -> bool {
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    has(b"\"from\"") || has(b"\"voiceCall\"") || has(b"<from") || has(b"<voiceCall") || has(b"\\u")
}

/// A decoded body: the generation it was read as, its reports and its rejected items.
type Decoded = (Generation, Vec<AnyReport>, Vec<Rejected>);

fn decode_as<R: Report>(codec: Codec, body: &[u8]) -> Result<Decoded, ivr_reports_codec::Error> {
    let batch = codec.decode_page::<R>(body)?;
    Ok((
        R::GENERATION,
        batch.reports.into_iter().map(R::into_any).collect(),
        batch.rejected,
    ))
}

/// Decodes a page of `generation`, or, when it is `None`, of the generation the body holds:
/// v2 when a report decoded as v2 has a v2-only field (`from`, `voiceCall`), else v1. (Both
/// decoders ignore fields they do not know, and a v2 report without those fields has only
/// fields v1 has too, so nothing is lost either way.)
pub(crate) fn decode_body(
    codec: Codec,
    generation: Option<Generation>,
    body: &[u8],
) -> Result<Decoded, ivr_reports_codec::Error> {
    match generation {
        Some(Generation::V1) => decode_as::<VoiceReport>(codec, body),
        Some(Generation::V2) => decode_as::<CallReport>(codec, body),
        // No v2-only field name in the bytes: no report can have one. Skipping the trial v2
        // decode matters: a page of tiny reports expands ~25 times per decode.
        None if !may_be_v2(body) => decode_as::<VoiceReport>(codec, body),
        None => {
            let v2 = codec.decode_page::<CallReport>(body)?;
            if v2
                .reports
                .iter()
                .any(|r| r.from.is_some() || r.voice_call.is_some())
            {
                Ok((
                    Generation::V2,
                    v2.reports.into_iter().map(AnyReport::V2).collect(),
                    v2.rejected,
                ))
            } else {
                // Free the trial decode before decoding again.
                drop(v2);
                decode_as::<VoiceReport>(codec, body)
            }
        }
    }
}

/// The raw bytes of a conflict's quarantine entry: both versions, as JSON.
fn conflict_json(c: &crate::sink::Conflict) -> Vec<u8> {
    let version = |r: &AnyReport| {
        let mut v = b"{\"generation\":".to_vec();
        v.extend_from_slice(r.generation().number().to_string().as_bytes());
        v.extend_from_slice(b",\"report\":");
        v.extend_from_slice(&crate::report::canonical_json(r));
        v.push(b'}');
        v
    };
    let mut out = b"{\"messageId\":".to_vec();
    out.extend_from_slice(
        serde_json::Value::from(c.incoming.message_id())
            .to_string()
            .as_bytes(),
    );
    out.extend_from_slice(b",\"stored\":");
    out.extend_from_slice(&version(&c.stored));
    out.extend_from_slice(b",\"incoming\":");
    out.extend_from_slice(&version(&c.incoming));
    out.push(b'}');
    out
}

fn fetch_error(e: ivr_reports::Error) -> Error {
    let (kind, message) = match e.kind() {
        ivr_reports::ErrorKind::ResponseLost => (
            ErrorKind::ResponseLost,
            "a report response was lost: the reports it carried may have been consumed",
        ),
        ivr_reports::ErrorKind::InvalidRequest => {
            (ErrorKind::InvalidConfig, "the report request is invalid")
        }
        ivr_reports::ErrorKind::Api
            if matches!(e.status().map(|s| s.as_u16()), Some(401 | 403)) =>
        {
            (
                ErrorKind::Credentials,
                "the API refused the credentials: check the API key or username and password",
            )
        }
        _ => (ErrorKind::Fetch, "fetching reports failed"),
    };
    Error::new(kind, message).with_source(e)
}

/// An error and its causes, `: `-separated (for [`Collector::last_error`]).
fn chain(e: &Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Whether the pull loop must give up instead of backing off.
/// Keeps the failure a drain reports: of several requests that failed at once, a lost
/// response wins (the caller must learn of the possible loss, whatever else went wrong
/// beside it), then an error retrying cannot fix, then the first.
fn keep_worst(failure: &mut Option<Error>, e: Error) {
    fn rank(e: &Error) -> u8 {
        match e.kind() {
            ErrorKind::ResponseLost => 2,
            _ if is_fatal(e) => 1,
            _ => 0,
        }
    }
    match failure {
        Some(kept) if rank(kept) >= rank(&e) => {}
        _ => *failure = Some(e),
    }
}

fn is_fatal(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Locked
            | ErrorKind::InvalidConfig
            | ErrorKind::Unsupported
            | ErrorKind::Corrupt
            | ErrorKind::Credentials
    )
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "a spool task failed").with_source(e))
}

fn unix_millis(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A stop signal that may be polled again after it completed (an `async fn` panics with
/// "resumed after completion" when it is): once ready, it stays ready without polling the
/// inner future again.
struct Fused<F> {
    inner: Option<Pin<Box<F>>>,
}

impl<F: Future<Output = ()>> Fused<F> {
    fn new(stop: F) -> Self {
        Self {
            inner: Some(Box::pin(stop)),
        }
    }
}

impl<F: Future<Output = ()>> Future for Fused<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> std::task::Poll<()> {
        let Some(inner) = self.inner.as_mut() else {
            return std::task::Poll::Ready(());
        };
        if inner.as_mut().poll(cx).is_ready() {
            self.inner = None;
            return std::task::Poll::Ready(());
        }
        std::task::Poll::Pending
    }
}

/// Whether `stop` has completed, without waiting.
fn stopped<F: Future<Output = ()>>(stop: Pin<&mut F>) -> bool {
    stop.poll(&mut Context::from_waker(Waker::noop()))
        .is_ready()
}

/// Waits `duration`; `true` when `stop` completed first.
async fn wait_or_stop<F: Future<Output = ()>>(duration: Duration, stop: Pin<&mut F>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(duration) => false,
        () = stop => true,
    }
}

impl Collector {
    /// A builder storing into `sink`.
    pub fn builder(sink: Arc<dyn Sink>) -> CollectorBuilder {
        CollectorBuilder {
            sink,
            spool_path: PathBuf::from("./ivr-reports.spool"),
            poll_interval: Duration::from_secs(5),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
            generation: Generation::V2,
            observer: None,
            unhealthy_after: 5,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Whether it is ready (a pull got a good answer) and healthy (fewer than
    /// [`CollectorBuilder::unhealthy_after`] consecutive failed pulls), for `/healthz`.
    #[must_use]
    pub fn health(&self) -> crate::Health {
        use std::sync::atomic::Ordering;
        let failures = self.shared.consecutive_failures.load(Ordering::Relaxed);
        crate::Health {
            ready: self.shared.ready.load(Ordering::Relaxed),
            healthy: failures < self.shared.unhealthy_after,
            consecutive_failures: failures,
            last_error: self.last_error(),
        }
    }

    /// The sink.
    #[must_use]
    pub fn sink(&self) -> &Arc<dyn Sink> {
        &self.shared.sink
    }

    /// The spool file's path.
    #[must_use]
    pub fn spool_path(&self) -> &Path {
        &self.shared.spool_path
    }

    /// The counters now.
    #[must_use]
    pub fn counters(&self) -> Counters {
        self.shared.counters.snapshot()
    }

    /// The last pull error [`Collector::run_pull`] backed off from, with its causes
    /// (`fetching reports failed: 401 from https://...: Invalid login details`), if any.
    #[must_use]
    pub fn last_error(&self) -> Option<String> {
        self.shared
            .last_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Opens the spool and replays the bodies a previous run left in it (it crashed, or the
    /// sink failed, after a body was spooled and before it was committed) into the sink;
    /// records a possible-loss incident ([`IncidentReason::InFlightAtCrash`]) for each
    /// request it had in flight; then empties it. Returns how many bodies were replayed
    /// (see [`Counters::possible_loss_incidents`] and [`Collector::recorded_incidents`] for
    /// the incidents). Pulls do this by themselves first; call it to recover without
    /// pulling.
    ///
    /// # Errors
    /// [`ErrorKind::Locked`] when another collector uses the spool; [`ErrorKind::Io`];
    /// the sink's errors (the bodies stay in the spool).
    pub async fn recover(&self) -> Result<u64, Error> {
        let mut guard = self.shared.spool.lock().await;
        self.recover_locked(&mut guard).await
    }

    async fn recover_locked(&self, guard: &mut Option<Spool>) -> Result<u64, Error> {
        if guard.is_some() {
            return Ok(0);
        }
        let path = self.shared.spool_path.clone();
        let (mut spool, left) = blocking(move || Spool::open(&path)).await??;
        let mut replayed = 0;
        for record in &left.bodies {
            self.shared
                .ingest(
                    Source::Pull,
                    record.format,
                    Some(record.generation),
                    &record.body,
                )
                .await?;
            replayed += 1;
            LiveCounters::add(&self.shared.counters.spool_replays, 1);
        }
        // Requests the previous run had in flight when it died: the window closes now,
        // when the restart notices (the process died somewhere in between).
        let now = std::time::SystemTime::now();
        for marker in &left.in_flight {
            self.shared
                .record_incident(marker, now, IncidentReason::InFlightAtCrash)
                .await?;
        }
        if !left.is_empty() {
            spool = blocking(move || spool.clear().map(|()| spool)).await??;
        }
        *guard = Some(spool);
        Ok(replayed)
    }

    /// The incidents recorded in the incident log beside the spool (`SPOOL.incidents`),
    /// by this collector and earlier runs, oldest first.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the log cannot be read; [`ErrorKind::Corrupt`] when a line
    /// is not one the collector wrote.
    pub async fn incidents(&self) -> Result<Vec<Incident>, Error> {
        let path = self.shared.incidents_path.clone();
        blocking(move || incident::read_log(&path)).await?
    }

    /// Reconciles every open incident of the incident log from the API's voice logs (see
    /// [`LogSource`](crate::LogSource) and [`ReconcileConfig`](crate::ReconcileConfig)):
    /// every final message of an incident's window without a stored report is stored as
    /// recovered from logs ([`Origin::Recovered`]), and an incident whose window holds no
    /// pending message is closed (a line appended to the incident log). An incident it
    /// cannot close stays open: pending messages are read again next time; one beyond the
    /// logs' retention stays open for good and is reported at `ERROR` level each time.
    ///
    /// Run it where no other process appends to the same incident log (the collector's own
    /// `collect` does, after a restart and after a lost response).
    ///
    /// # Errors
    /// The incident log or the sink could not be read, or the log not written. A failure
    /// of the logs themselves is not an error: the incident's outcome says it
    /// ([`IncidentState::Failed`](crate::IncidentState::Failed)).
    pub async fn reconcile(
        &self,
        source: &dyn crate::reconcile::LogSource,
        config: &crate::reconcile::ReconcileConfig,
    ) -> Result<crate::reconcile::Reconciliation, Error> {
        use crate::reconcile::{IncidentState, Pacer, Reconciliation, reconcile_all};
        let open: Vec<Incident> = self
            .incidents()
            .await?
            .into_iter()
            .filter(Incident::is_open)
            .collect();
        let mut out = Reconciliation::default();
        if open.is_empty() {
            return Ok(out);
        }
        let mut stored: std::collections::HashSet<String> = self
            .sink()
            .stored()
            .await?
            .into_iter()
            .map(|s| s.report.message_id().to_string())
            .collect();
        let before = stored.len();
        let mut pacer = Pacer::new(config.requests_per_minute_value());
        let (outcomes, requests) = reconcile_all(
            &open,
            source,
            self.sink().as_ref(),
            &mut stored,
            config,
            &mut pacer,
        )
        .await;
        out.requests = requests;
        out.recovered = (stored.len() - before) as u64;
        LiveCounters::add(&self.shared.counters.recovered, out.recovered);
        for (incident, outcome) in open.iter().zip(outcomes) {
            match &outcome.state {
                IncidentState::Closed => {
                    let path = self.shared.incidents_path.clone();
                    let (id, recovered) = (incident.id, outcome.recovered);
                    blocking(move || {
                        incident::mark_reconciled(&path, id, SystemTime::now(), recovered)
                    })
                    .await??;
                    tracing::info!(
                        id = incident.id,
                        recovered = outcome.recovered,
                        already_stored = outcome.already_stored,
                        "possible-loss incident reconciled from the logs and closed"
                    );
                }
                IncidentState::BeyondRetention => tracing::error!(
                    id = incident.id,
                    recovered = outcome.recovered,
                    "possible-loss incident beyond the logs' retention: it stays open, \
                     reports of its window may be lost for good"
                ),
                state => tracing::warn!(
                    id = incident.id,
                    recovered = outcome.recovered,
                    state = %state,
                    "possible-loss incident still open after reconciliation"
                ),
            }
            out.incidents.push(outcome);
        }
        Ok(out)
    }

    /// The incidents this collector recorded (counted in
    /// [`Counters::possible_loss_incidents`]), oldest first.
    #[must_use]
    pub fn recorded_incidents(&self) -> Vec<Incident> {
        self.shared
            .recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The incident log's path (`SPOOL.incidents`).
    #[must_use]
    pub fn incidents_path(&self) -> &Path {
        &self.shared.incidents_path
    }

    /// Fetches pages (`limit=1000`) until one comes back empty, each body spooled and synced
    /// before it is decoded and stored. Replays the spool first.
    ///
    /// # Errors
    /// [`ErrorKind::ResponseLost`] (counted in
    /// [`Counters::lost_response_incidents`] and recorded as an [`Incident`]),
    /// [`ErrorKind::Fetch`] (including a 2xx body
    /// that is not a report page: it is kept in the quarantine), spool and sink errors.
    /// Everything stored before the error stays stored; a body that was spooled but not
    /// committed is replayed by the next pull or [`Collector::recover`].
    pub async fn drain(&self, client: &Client) -> Result<DrainSummary, Error> {
        self.drain_pinned(client, pin!(std::future::pending::<()>()))
            .await
    }

    /// [`Collector::drain`] until `stop` completes: no request is sent after it, the pages
    /// in flight then are finished and stored, and the summary so far returned (`Ok`). Use it to stop a long drain on
    /// a signal.
    ///
    /// # Errors
    /// As [`Collector::drain`].
    pub async fn drain_until(
        &self,
        client: &Client,
        stop: impl Future<Output = ()> + Send,
    ) -> Result<DrainSummary, Error> {
        let mut stop = Fused::new(stop);
        self.drain_pinned(client, Pin::new(&mut stop)).await
    }

    async fn drain_pinned<F: Future<Output = ()>>(
        &self,
        client: &Client,
        stop: Pin<&mut F>,
    ) -> Result<DrainSummary, Error> {
        let mut summary = DrainSummary::default();
        self.drain_progress(client, stop, &mut summary)
            .await
            .map(|()| summary)
    }

    /// Drains into `summary`, which keeps what was done even when an error ends it.
    async fn drain_progress<F: Future<Output = ()>>(
        &self,
        client: &Client,
        mut stop: Pin<&mut F>,
        summary: &mut DrainSummary,
    ) -> Result<(), Error> {
        let span = tracing::info_span!("pull", generation = %self.shared.generation);
        let mut guard = self.shared.spool.lock().instrument(span.clone()).await;
        let result = self
            .drain_locked(client, &mut guard, stop.as_mut(), summary)
            .instrument(span.clone())
            .await;
        if result.is_err() {
            // Re-open (and replay) the spool next time: it may hold the failed body.
            *guard = None;
        }
        // Health: a good answer makes it ready and ends a run of failures.
        use std::sync::atomic::Ordering;
        if summary.pages > 0 || result.is_ok() {
            self.shared.ready.store(true, Ordering::Relaxed);
            self.shared.consecutive_failures.store(0, Ordering::Relaxed);
        }
        if let Err(e) = &result {
            let failures = self
                .shared
                .consecutive_failures
                .fetch_add(1, Ordering::Relaxed)
                + 1;
            // A lost response was said at ERROR with its incident, once; a second warning
            // for it would be noise.
            let said_with_its_incident = e.kind() == ErrorKind::ResponseLost;
            span.in_scope(|| {
                if said_with_its_incident {
                    tracing::debug!(
                        error = %chain(e),
                        pages = summary.pages,
                        consecutive_failures = failures,
                        "pull failed: a lost response (its incident is recorded)"
                    );
                } else {
                    tracing::warn!(
                        error = %chain(e),
                        kind = ?e.kind(),
                        pages = summary.pages,
                        consecutive_failures = failures,
                        "pull failed"
                    );
                }
            });
            *self
                .shared
                .last_error
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(chain(e));
        }
        result
    }

    async fn drain_locked<F: Future<Output = ()>>(
        &self,
        client: &Client,
        guard: &mut Option<Spool>,
        stop: Pin<&mut F>,
        summary: &mut DrainSummary,
    ) -> Result<(), Error> {
        self.recover_locked(guard).await?;
        let Some(mut spool) = guard.take() else {
            return Err(Error::new(ErrorKind::Io, "the spool is not open"));
        };
        let mut next_id = spool.take_id();
        let (writer, handle) = SpoolWriter::start(spool);
        let result = self
            .drain_concurrently(client, &writer, &mut next_id, stop, summary)
            .await;
        drop(writer);
        let mut spool = handle
            .await
            .map_err(|e| Error::new(ErrorKind::Io, "the spool writer failed").with_source(e))?;
        spool.skip_ids_below(next_id);
        // After an error the spool is opened (and replayed) afresh by the next pull.
        if result.is_ok() {
            *guard = Some(spool);
        }
        result
    }

    /// Keeps up to the concurrency limit of page requests in flight until a page comes back
    /// empty, an error, or `stop`; then stops sending and finishes (stores) what is in
    /// flight. Empties the spool whenever nothing is in flight and nothing in it is
    /// pending.
    ///
    /// With a concurrency of 2 or more, a request stops counting against the limit once its
    /// body is in the spool: storing the page goes on beside the next request (at most the
    /// limit of pages are being stored at once), so the upstream's latency and the sink's
    /// commit overlap. With 1, one page at a time: nothing is in flight while a page is
    /// stored (the smallest window for a crash to fall in).
    async fn drain_concurrently<F: Future<Output = ()>>(
        &self,
        client: &Client,
        writer: &SpoolWriter,
        next_id: &mut u64,
        mut stop: Pin<&mut F>,
        summary: &mut DrainSummary,
    ) -> Result<(), Error> {
        let generation = self.shared.generation;
        let endpoint = Arc::new(RawPage {
            generation,
            query: ReportsQuery::new().limit(Limit::MAX),
        });
        let mut tasks: tokio::task::JoinSet<PageOutcome> = tokio::task::JoinSet::new();
        // The tasks whose request is not answered yet (their body is not in the spool).
        let mut requesting: std::collections::HashSet<u64> = std::collections::HashSet::new();
        let (answered_tx, mut answered_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let mut issuing = true;
        let mut failure: Option<Error> = None;
        // The spool holds records since it was last emptied, and how many body bytes.
        let (mut dirty, mut spooled) = (false, 0u64);
        // A body that reached the spool but not the sink: the spool must be kept.
        let mut keep_spool = false;
        // No new request before this (a Retry-After).
        let mut resume_at = tokio::time::Instant::now();
        self.publish_limit();
        loop {
            if issuing && stopped(stop.as_mut()) {
                issuing = false;
            }
            if tasks.is_empty() && dirty && !keep_spool {
                if let Err(e) = writer.clear().await {
                    keep_worst(&mut failure, e);
                    issuing = false;
                }
                (dirty, spooled) = (false, 0);
            }
            let limit = self.limit().limit;
            let now = tokio::time::Instant::now();
            while issuing
                && requesting.len() < limit
                // Pages still being stored wait for the sink: no more of them than the limit.
                && tasks.len() < limit * 2
                && now >= resume_at
                // Let the spool be emptied now and then during a long backlog.
                && spooled < SPOOL_SOFT_LIMIT
            {
                let id = *next_id;
                *next_id += 1;
                dirty = true;
                let epoch = self.limit().epoch;
                let span = tracing::debug_span!("page", page = id, bytes = tracing::field::Empty);
                requesting.insert(id);
                tasks.spawn(
                    pull_page(
                        Arc::clone(&self.shared),
                        client.clone(),
                        writer.clone(),
                        Arc::clone(&endpoint),
                        Page {
                            id,
                            epoch,
                            answered: (self.shared.concurrency > 1).then(|| answered_tx.clone()),
                        },
                    )
                    .instrument(span),
                );
            }
            if tasks.is_empty() {
                if !issuing {
                    break;
                }
                // Waiting for a Retry-After to pass.
                tokio::select! {
                    () = tokio::time::sleep_until(resume_at) => {}
                    () = stop.as_mut() => issuing = false,
                }
                continue;
            }
            let joined = tokio::select! {
                joined = tasks.join_next() => joined,
                Some(id) = answered_rx.recv() => {
                    requesting.remove(&id);
                    continue;
                }
                () = stop.as_mut(), if issuing => {
                    issuing = false;
                    continue;
                }
                () = tokio::time::sleep_until(resume_at), if issuing && resume_at > now => continue,
            };
            let Some(joined) = joined else {
                continue;
            };
            let outcome = match joined {
                Ok(outcome) => {
                    requesting.remove(&outcome.id);
                    outcome
                }
                Err(e) => {
                    // Its id cannot be known: none of the tasks that are left is waiting
                    // for an answer anymore as far as the limit goes, and no new request
                    // is sent.
                    requesting.clear();
                    keep_spool = true;
                    keep_worst(
                        &mut failure,
                        Error::new(ErrorKind::Io, "a page request task failed").with_source(e),
                    );
                    issuing = false;
                    continue;
                }
            };
            spooled += outcome.spooled;
            keep_spool |= outcome.keep_spool;
            if let Some(throttled) = outcome.throttled {
                LiveCounters::add(&self.shared.counters.throttled, 1);
                let lowered = self
                    .shared
                    .limit
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .throttled(outcome.epoch);
                if let Some(limit) = lowered {
                    tracing::info!(limit, "the API throttles: fewer report requests in flight");
                    self.publish_limit();
                    self.shared.emit(&Event::Concurrency {
                        limit,
                        throttled: true,
                    });
                }
                if let Some(wait) = throttled.retry_after {
                    resume_at = resume_at.max(tokio::time::Instant::now() + wait);
                }
            }
            match outcome.result {
                Ok(ingested) if ingested.body_quarantined => {
                    keep_worst(
                        &mut failure,
                        Error::new(
                            ErrorKind::Fetch,
                            "a report response was not a report page; its body is in the quarantine",
                        ),
                    );
                    issuing = false;
                }
                // An empty page: the backlog is drained; what is in flight is finished.
                Ok(ingested) if ingested.received == 0 => issuing = false,
                Ok(ingested) => {
                    summary.pages += 1;
                    summary.add(ingested);
                    let raised = self
                        .shared
                        .limit
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .good(self.shared.concurrency);
                    if let Some(limit) = raised {
                        self.publish_limit();
                        self.shared.emit(&Event::Concurrency {
                            limit,
                            throttled: false,
                        });
                    }
                }
                // Throttled to the end while others are in flight: nothing was taken, the
                // limit is lower now; send it again later.
                Err(e) if outcome.throttled.is_some() && limit > 1 && !is_fatal(&e) => {
                    tracing::debug!(error = %chain(&e), "a throttled request is sent again later");
                }
                Err(e) => {
                    keep_worst(&mut failure, e);
                    issuing = false;
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn limit(&self) -> Aimd {
        *self
            .shared
            .limit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn publish_limit(&self) {
        let limit = self.limit().limit;
        self.shared
            .counters
            .concurrency
            .store(limit as u64, std::sync::atomic::Ordering::Relaxed);
    }

    /// Pulls until `stop` completes: drains, waits the poll interval, drains again; after an
    /// error waits the backoff (doubling) instead. The pages in flight when `stop` completes
    /// are finished and stored first: stopping never drops a response. `stop` may be any
    /// future (a signal, a channel); it is not polled again once it completed.
    ///
    /// # Errors
    /// Only what retrying cannot fix: [`ErrorKind::Locked`] (another collector uses the
    /// spool), [`ErrorKind::Credentials`] (the API answered 401 or 403),
    /// [`ErrorKind::InvalidConfig`], [`ErrorKind::Corrupt`], [`ErrorKind::Unsupported`].
    /// Other errors are counted ([`Counters::pull_errors`]), kept in
    /// [`Collector::last_error`], and retried.
    pub async fn run_pull(
        &self,
        client: &Client,
        stop: impl Future<Output = ()> + Send,
    ) -> Result<(), Error> {
        // Polled again after it completed (by the drain, then here): fused.
        let mut stop = Fused::new(stop);
        let mut stop = Pin::new(&mut stop);
        let mut backoff = self.shared.backoff_initial;
        loop {
            let mut summary = DrainSummary::default();
            let result = self
                .drain_progress(client, stop.as_mut(), &mut summary)
                .await;
            // Any page stored is progress: the next failure starts the backoff afresh (a
            // backlog answered with sporadic 500s must not wait longer and longer).
            if summary.pages > 0 {
                backoff = self.shared.backoff_initial;
            }
            let wait = match result {
                Ok(()) => {
                    backoff = self.shared.backoff_initial;
                    self.shared.poll_interval
                }
                Err(e) if is_fatal(&e) => {
                    tracing::error!(error = %chain(&e), kind = ?e.kind(), "pulling stops: retrying cannot help");
                    return Err(e);
                }
                Err(e) => {
                    LiveCounters::add(&self.shared.counters.pull_errors, 1);
                    *self
                        .shared
                        .last_error
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(chain(&e));
                    let wait = backoff;
                    backoff = (backoff * 2).min(self.shared.backoff_max);
                    tracing::info!(wait = ?wait, "backing off before the next pull");
                    self.shared.emit(&Event::BackingOff { wait });
                    wait
                }
            };
            if stopped(stop.as_mut()) || wait_or_stop(wait, stop.as_mut()).await {
                return Ok(());
            }
        }
    }

    /// Re-runs the quarantine through the codec: what decodes now is stored and leaves the
    /// quarantine (see [`replay`](crate::replay)).
    ///
    /// # Errors
    /// The sink's errors.
    pub async fn replay_quarantine(&self) -> Result<ReplaySummary, Error> {
        let summary = replay::replay(self.shared.sink.as_ref()).await?;
        LiveCounters::add(&self.shared.counters.stored, summary.stored);
        LiveCounters::add(&self.shared.counters.duplicates, summary.duplicates);
        Ok(summary)
    }
}

/// The default of [`CollectorBuilder::concurrency`].
const DEFAULT_CONCURRENCY: usize = 8;
/// The most requests in flight [`CollectorBuilder::concurrency`] accepts.
const MAX_CONCURRENCY: usize = 64;
/// Body bytes in the spool after which no new request is sent until those in flight are
/// done and the spool is emptied (a long backlog must not grow it without bound).
const SPOOL_SOFT_LIMIT: u64 = 64 << 20;

/// One page request: its spool id, the concurrency epoch it is sent in, and where it says
/// that its body is in the spool (it no longer counts against the limit from there);
/// `None`: it counts until its page is stored.
struct Page {
    id: u64,
    epoch: u64,
    answered: Option<tokio::sync::mpsc::UnboundedSender<u64>>,
}

/// Bodies smaller than this are stored before their request stops counting against the
/// limit: an empty page (the end of the backlog) must stop new requests before one is sent.
const STORE_FIRST_BELOW: usize = 4096;

/// What one page request came to.
struct PageOutcome {
    /// Its spool id.
    id: u64,
    result: Result<Ingested, Error>,
    /// The API throttled it (retried, or final).
    throttled: Option<ivr_reports_transport::Throttled>,
    /// The concurrency epoch it was sent in.
    epoch: u64,
    /// Body bytes it added to the spool.
    spooled: u64,
    /// The spool must be kept for the next start: a body in it is not committed to the
    /// sink (replay it), or a marker is not resolved (record its incident).
    keep_spool: bool,
}

/// Requests one page (its in-flight marker synced first), spools its body (synced) and
/// commits it to the sink. Its spool records go through the group commit: a sync shared
/// with the other requests in flight.
async fn pull_page(
    shared: Arc<Shared>,
    client: Client,
    writer: SpoolWriter,
    endpoint: Arc<RawPage>,
    page: Page,
) -> PageOutcome {
    let Page {
        id,
        epoch,
        answered,
    } = page;
    let mut outcome = PageOutcome {
        id,
        result: Ok(Ingested::default()),
        throttled: None,
        epoch,
        spooled: 0,
        keep_spool: false,
    };
    let generation = endpoint.generation;
    let marker = InFlight {
        id,
        started_at: unix_millis(std::time::SystemTime::now()),
        generation,
        query: endpoint.query().unwrap_or_default(),
    };
    if let Err(e) = writer.append(Record::Marker(marker.clone())).await {
        outcome.keep_spool = true;
        outcome.result = Err(e);
        return outcome;
    }
    shared.emit(&Event::Fetching);
    let (format, body) = match client.send(endpoint.as_ref()).await {
        Ok((format, body, throttled)) => {
            outcome.throttled = throttled;
            (format, body)
        }
        Err(e) => {
            outcome.throttled = e.throttled().or_else(|| {
                matches!(e.status().map(|s| s.as_u16()), Some(429 | 503))
                    .then(ivr_reports_transport::Throttled::default)
            });
            if e.kind() == ivr_reports::ErrorKind::ResponseLost {
                LiveCounters::add(&shared.counters.lost_response_incidents, 1);
                if let Err(recording) = shared
                    .record_incident(
                        &marker,
                        std::time::SystemTime::now(),
                        IncidentReason::ResponseLost,
                    )
                    .await
                {
                    // The marker stays unresolved: the next start records the incident.
                    outcome.keep_spool = true;
                    outcome.result = Err(recording);
                    return outcome;
                }
            }
            // Accounted for: a lost response is in the incident log, any other failure
            // consumed nothing.
            let cancelled = writer.append(Record::Cancel { id, generation }).await;
            outcome.keep_spool = cancelled.is_err();
            outcome.result = Err(match cancelled {
                Ok(()) => fetch_error(e),
                Err(spool) => spool,
            });
            return outcome;
        }
    };
    let appended = writer
        .append(Record::Body {
            id,
            generation,
            format,
            body: body.clone(),
        })
        .await;
    if let Err(e) = appended {
        // The body is only in memory now: commit it directly rather than drop it, then
        // report the spool's failure so the loop backs off.
        // Its marker stays unresolved: should that fail too, the next start records the
        // incident.
        let _ = shared
            .ingest(Source::Pull, format, Some(generation), &body)
            .await;
        outcome.keep_spool = true;
        outcome.result = Err(e);
        return outcome;
    }
    outcome.spooled = body.len() as u64;
    shared.emit(&Event::Spooled { bytes: body.len() });
    tracing::Span::current().record("bytes", body.len());
    if let Some(answered) = answered.filter(|_| body.len() >= STORE_FIRST_BELOW) {
        // The drain may be gone (it stopped on an error): nobody to tell.
        let _ = answered.send(id);
    }
    outcome.result = shared
        .ingest(Source::Pull, format, Some(generation), &body)
        .await;
    outcome.keep_spool = outcome.result.is_err();
    outcome
}

/// The spool's group commit: the records of concurrent requests that arrive while a sync
/// is under way are written and synced together by the next one, on a blocking thread that
/// owns the spool for the drain.
#[derive(Clone)]
struct SpoolWriter {
    tx: std::sync::mpsc::Sender<SpoolOp>,
}

enum SpoolOp {
    Append(Record, tokio::sync::oneshot::Sender<Result<(), Error>>),
    Clear(tokio::sync::oneshot::Sender<Result<(), Error>>),
}

impl SpoolWriter {
    fn start(spool: Spool) -> (Self, tokio::task::JoinHandle<Spool>) {
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = tokio::task::spawn_blocking(move || write_spool(spool, &rx));
        (Self { tx }, handle)
    }

    fn stopped() -> Error {
        Error::new(ErrorKind::Io, "the spool writer stopped")
    }

    /// Appends `record`; returns once it is synced.
    async fn append(&self, record: Record) -> Result<(), Error> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.tx
            .send(SpoolOp::Append(record, done))
            .map_err(|_| Self::stopped())?;
        wait.await.map_err(|_| Self::stopped())?
    }

    /// Empties the spool (nothing may be pending).
    async fn clear(&self) -> Result<(), Error> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.tx
            .send(SpoolOp::Clear(done))
            .map_err(|_| Self::stopped())?;
        wait.await.map_err(|_| Self::stopped())?
    }
}

/// The writer thread: takes every operation waiting, writes the records with one sync, and
/// answers each; returns the spool once every sender is gone.
fn write_spool(mut spool: Spool, rx: &std::sync::mpsc::Receiver<SpoolOp>) -> Spool {
    let flush =
        |spool: &mut Spool,
         records: &mut Vec<Record>,
         waiting: &mut Vec<tokio::sync::oneshot::Sender<Result<(), Error>>>| {
            if records.is_empty() {
                return;
            }
            let result = spool.write_batch(records);
            records.clear();
            for done in waiting.drain(..) {
                let answer = match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(Error::new(e.kind(), chain(e))),
                };
                let _ = done.send(answer);
            }
        };
    while let Ok(first) = rx.recv() {
        let (mut records, mut waiting) = (Vec::new(), Vec::new());
        for op in std::iter::once(first).chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match op {
                SpoolOp::Append(record, done) => {
                    records.push(record);
                    waiting.push(done);
                }
                SpoolOp::Clear(done) => {
                    flush(&mut spool, &mut records, &mut waiting);
                    let _ = done.send(spool.clear());
                }
            }
        }
        flush(&mut spool, &mut records, &mut waiting);
    }
    spool
}

impl Shared {
    fn emit(&self, event: &Event) {
        if let Some(observer) = &self.observer {
            observer(event);
        }
    }

    /// Records a possible-loss incident durably, counts it and tells the observer.
    async fn record_incident(
        &self,
        marker: &InFlight,
        closed_at: std::time::SystemTime,
        reason: IncidentReason,
    ) -> Result<Incident, Error> {
        let path = self.incidents_path.clone();
        let m = marker.clone();
        let incident = blocking(move || {
            incident::record_request(
                &path,
                m.id,
                incident::from_millis(m.started_at),
                closed_at,
                m.generation,
                &m.query,
                reason,
            )
        })
        .await??;
        tracing::error!(
            id = incident.id,
            reason = %reason,
            generation = %incident.generation,
            query = %incident.query,
            opened_at_ms = marker.started_at,
            closed_at_ms = unix_millis(closed_at),
            log = %self.incidents_path.display(),
            "possible-loss incident recorded: the reports of this response may be gone"
        );
        LiveCounters::add(&self.counters.possible_loss_incidents, 1);
        self.recorded
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(incident.clone());
        self.emit(&Event::Incident {
            id: incident.id,
            reason,
        });
        Ok(incident)
    }

    /// Stores `reports`; when the sink refuses the data ([`ErrorKind::Rejected`]), stores
    /// the halves, down to single reports: returns what was stored and the reports refused
    /// alone, with the sink's reason. Other errors end it (a retry stores the rest).
    async fn store_isolating(
        &self,
        origin: Origin,
        reports: &[AnyReport],
    ) -> Result<(Stored, Vec<(AnyReport, String)>), Error> {
        let mut total = Stored::default();
        let mut refused = Vec::new();
        let mut todo = vec![reports];
        while let Some(chunk) = todo.pop() {
            match self.sink.store_from(origin, chunk).await {
                Ok(stored) => total.add(stored),
                Err(e) if e.kind() == ErrorKind::Rejected => match chunk {
                    [] => {}
                    [one] => {
                        refused.push((one.clone(), format!("the sink refused it: {}", chain(&e))))
                    }
                    _ => {
                        let (first, second) = chunk.split_at(chunk.len() / 2);
                        todo.push(second);
                        todo.push(first);
                    }
                },
                Err(e) => return Err(e),
            }
        }
        Ok((total, refused))
    }

    /// Decodes a body and commits it: reports to the sink, rejected items (or the whole
    /// body, when its envelope is broken) to the quarantine. Counters move only once both
    /// are durable.
    pub(crate) async fn ingest(
        &self,
        source: Source,
        format: Format,
        generation: Option<Generation>,
        body: &[u8],
    ) -> Result<Ingested, Error> {
        let codec = Codec::new(format).map_err(|e| {
            Error::new(
                ErrorKind::Unsupported,
                "the body's format is not compiled in",
            )
            .with_source(e)
        })?;
        let mut ingested = Ingested::default();
        let quarantine = match decode_body(codec, generation, body) {
            Ok((decoded_as, mut reports, rejected)) => {
                ingested.received = (reports.len() + rejected.len()) as u64;
                // A report without an id cannot be deduplicated: it is kept apart, not
                // stored (and not taken for a duplicate of another one without an id).
                // (Split only when there is one: moving every report of a page into a
                // growing Vec cost 3% of a drain.)
                let no_id_at = |r: &AnyReport| r.message_id().trim().is_empty();
                let no_id: Vec<AnyReport> = if reports.iter().any(no_id_at) {
                    let (no_id, with_id) =
                        std::mem::take(&mut reports).into_iter().partition(no_id_at);
                    reports = with_id;
                    no_id
                } else {
                    Vec::new()
                };
                let (stored, refused) = self.store_isolating(source.origin(), &reports).await?;
                ingested.stored = stored.new;
                ingested.duplicates = stored.duplicates;
                ingested.conflicts = stored.conflicts.len() as u64;
                ingested.replaced = stored.replaced;
                let no_id = no_id.into_iter().map(|report| {
                    (
                        report,
                        "the report has an empty messageId: it cannot be deduplicated".to_string(),
                    )
                });
                let refused = refused.into_iter().chain(no_id).map(|(report, reason)| {
                    Quarantined::new(
                        crate::report::canonical_json(&report),
                        reason,
                        source,
                        Format::Json,
                        Some(report.generation()),
                        Scope::Report,
                    )
                });
                let conflicts = stored.conflicts.iter().map(|c| {
                    Quarantined::new(
                        conflict_json(c),
                        format!(
                            "messageId {:?} is already stored with different content; the \
                             stored version is kept",
                            c.incoming.message_id()
                        ),
                        source,
                        Format::Json,
                        Some(c.incoming.generation()),
                        Scope::Conflict,
                    )
                });
                rejected
                    .into_iter()
                    .map(|r| {
                        let g = match generation {
                            Some(g) => g,
                            None if looks_v2(&r.raw) => Generation::V2,
                            None => decoded_as,
                        };
                        Quarantined::new(
                            r.raw,
                            r.error.to_string(),
                            source,
                            format,
                            Some(g),
                            Scope::Report,
                        )
                    })
                    .chain(refused)
                    .chain(conflicts)
                    .collect::<Vec<_>>()
            }
            Err(e) => {
                ingested.body_quarantined = true;
                vec![Quarantined::new(
                    body,
                    e.to_string(),
                    source,
                    format,
                    generation,
                    Scope::Body,
                )]
            }
        };
        if !quarantine.is_empty() {
            self.sink.quarantine(&quarantine).await?;
            for item in &quarantine {
                if item.scope == Scope::Conflict {
                    tracing::warn!(
                        source = %source,
                        reason = %item.reason,
                        "conflicting duplicate kept in the quarantine with both versions"
                    );
                } else {
                    tracing::warn!(
                        source = %source,
                        scope = item.scope.as_str(),
                        reason = %item.reason,
                        bytes = item.raw.len(),
                        "quarantined"
                    );
                }
            }
        }
        ingested.quarantined = quarantine.len() as u64 - ingested.conflicts;
        let c = &self.counters;
        let received = match source {
            Source::Pull => &c.received_pull,
            Source::Push => &c.received_push,
        };
        LiveCounters::add(received, ingested.received);
        LiveCounters::add(&c.stored, ingested.stored);
        LiveCounters::add(&c.duplicates, ingested.duplicates);
        LiveCounters::add(&c.quarantined, ingested.quarantined);
        LiveCounters::add(&c.conflicts, ingested.conflicts);
        LiveCounters::add(&c.replaced_recovered, ingested.replaced);
        self.emit(&Event::Committed {
            source,
            received: ingested.received,
            stored: ingested.stored,
            duplicates: ingested.duplicates,
            quarantined: ingested.quarantined,
            conflicts: ingested.conflicts,
        });
        Ok(ingested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `123` and `"123"` decode to the same messageId "123" (the codec reads a number as
    /// its text): identical content is a plain duplicate, different content a conflict kept
    /// in the quarantine. An empty messageId is quarantined, never a duplicate.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn numeric_and_string_ids_and_empty_ids() {
        let dir = std::env::temp_dir().join(format!("ivr-ids-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sink: Arc<dyn Sink> =
            Arc::new(crate::JsonlSink::open(dir.join("r.jsonl")).await.unwrap());
        let collector = Collector::builder(Arc::clone(&sink))
            .spool_path(dir.join("spool"))
            .build();
        let ingest = |body: &'static [u8]| {
            let shared = Arc::clone(&collector.shared);
            async move {
                shared
                    .ingest(Source::Push, Format::Json, Some(Generation::V1), body)
                    .await
                    .unwrap()
            }
        };
        let first = ingest(br#"{"results":[{"messageId":123,"to":"41","duration":5}]}"#).await;
        assert_eq!(first.stored, 1);
        let same = ingest(br#"{"results":[{"messageId":"123","to":"41","duration":5}]}"#).await;
        assert_eq!((same.stored, same.duplicates, same.conflicts), (0, 1, 0));
        let other = ingest(br#"{"results":[{"messageId":"123","to":"41","duration":6}]}"#).await;
        assert_eq!((other.stored, other.duplicates, other.conflicts), (0, 0, 1));
        let empty = ingest(
            br#"{"results":[{"messageId":"","to":"1"},{"messageId":" ","to":"2"},{"messageId":"x","to":"3"}]}"#,
        )
        .await;
        assert_eq!(
            (empty.stored, empty.duplicates, empty.quarantined),
            (1, 0, 2)
        );

        let entries = sink.quarantined().await.unwrap();
        assert_eq!(entries.len(), 3);
        let conflict = &entries[0].item;
        assert_eq!(conflict.scope, Scope::Conflict);
        let both: serde_json::Value = serde_json::from_slice(&conflict.raw).unwrap();
        assert_eq!(both["messageId"], "123");
        assert_eq!(both["stored"]["report"]["duration"], 5);
        assert_eq!(both["incoming"]["report"]["duration"], 6);
        assert!(entries[1].item.reason.contains("empty messageId"));
        let c = collector.counters();
        assert_eq!(
            (c.stored, c.duplicates, c.conflicts, c.quarantined),
            (2, 1, 1, 2)
        );
        assert_eq!(sink.reports().await.unwrap().len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Records of concurrent requests waiting for the writer are written with one sync,
    /// and each waiter hears back once its record is durable.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_spool_records_share_one_sync() {
        let dir = std::env::temp_dir().join(format!("ivr-group-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (mut spool, _) = Spool::open(&dir.join("spool")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let mut answers = Vec::new();
        for id in 1..=3 {
            let (done, answer) = tokio::sync::oneshot::channel();
            let marker = InFlight {
                id,
                started_at: 1,
                generation: Generation::V2,
                query: "limit=1000".into(),
            };
            tx.send(SpoolOp::Append(Record::Marker(marker), done))
                .unwrap();
            answers.push(answer);
        }
        drop(tx);
        spool = write_spool(spool, &rx);
        assert_eq!(spool.syncs(), 1, "three records, one sync");
        for answer in answers {
            answer.await.unwrap().unwrap();
        }
        drop(spool);
        let (_, left) = Spool::open(&dir.join("spool")).unwrap();
        assert_eq!(left.in_flight.len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A crash with three requests in flight, two of them answered and spooled: the
    /// restart replays the two bodies and records one possible-loss incident.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_markers_and_two_bodies_recover_into_two_replays_and_one_incident() {
        let dir = std::env::temp_dir().join(format!("ivr-three-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let spool_path = dir.join("spool");
        {
            let (mut spool, _) = Spool::open(&spool_path).unwrap();
            let marker = |id| {
                Record::Marker(InFlight {
                    id,
                    started_at: 1_700_000_000_000 + id as i64,
                    generation: Generation::V2,
                    query: "limit=1000".into(),
                })
            };
            let body = |id: u64, message: &str| Record::Body {
                id,
                generation: Generation::V2,
                format: Format::Json,
                body: Bytes::from(format!(
                    r#"{{"results":[{{"messageId":"{message}","to":"41","from":"38"}}]}}"#
                )),
            };
            spool
                .write_batch(&[marker(1), marker(2), marker(3)])
                .unwrap();
            spool
                .write_batch(&[body(3, "third"), body(1, "first")])
                .unwrap();
        }
        let sink: Arc<dyn Sink> =
            Arc::new(crate::JsonlSink::open(dir.join("r.jsonl")).await.unwrap());
        let collector = Collector::builder(Arc::clone(&sink))
            .spool_path(&spool_path)
            .build();
        assert_eq!(collector.recover().await.unwrap(), 2, "two bodies replayed");
        let c = collector.counters();
        assert_eq!(
            (c.spool_replays, c.stored, c.possible_loss_incidents),
            (2, 2, 1)
        );
        let incidents = collector.incidents().await.unwrap();
        assert_eq!(incidents.len(), 1);
        assert_eq!(incidents[0].reason, IncidentReason::InFlightAtCrash);
        assert_eq!(
            incidents[0].opened_at,
            incident::from_millis(1_700_000_000_002),
            "the incident is the unanswered request's"
        );
        assert_eq!(std::fs::metadata(&spool_path).unwrap().len(), 0);
        drop(collector);

        // Two requests started within the same millisecond, both in flight at a crash:
        // two incidents, not one.
        {
            let (mut spool, _) = Spool::open(&spool_path).unwrap();
            let marker = |id| {
                Record::Marker(InFlight {
                    id,
                    started_at: 1_700_000_000_100,
                    generation: Generation::V2,
                    query: "limit=1000".into(),
                })
            };
            spool.write_batch(&[marker(4), marker(5)]).unwrap();
        }
        let collector = Collector::builder(Arc::clone(&sink))
            .spool_path(&spool_path)
            .build();
        assert_eq!(collector.recover().await.unwrap(), 0);
        assert_eq!(collector.counters().possible_loss_incidents, 2);
        assert_eq!(collector.incidents().await.unwrap().len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn generation_is_detected_from_the_body() {
        let codec = Codec::new(Format::Json).unwrap();
        let v2 = br#"{"results":[{"messageId":"a","from":"x","to":"1"}]}"#;
        let v1 = br#"{"results":[{"messageId":"b","to":"1","duration":3,"doneAt":"2015-02-12T09:58:20.323+0100"}]}"#;
        assert_eq!(decode_body(codec, None, v2).unwrap().0, Generation::V2);
        let (g, reports, _) = decode_body(codec, None, v1).unwrap();
        assert_eq!(g, Generation::V1);
        assert_eq!(reports[0].duration(), Some(3));
        let xml = b"<reportResponse><results><result><messageId>c</messageId><voiceCall><duration>4</duration></voiceCall></result></results></reportResponse>";
        let xml_codec = Codec::new(Format::Xml).unwrap();
        let (g, reports, _) = decode_body(xml_codec, None, xml).unwrap();
        assert_eq!((g, reports[0].duration()), (Generation::V2, Some(4)));
        assert!(looks_v2(br#"{"from":"1"}"#));
        assert!(!looks_v2(br#"{"to":"1"}"#));
        // The shortcut never decides what the trial decode would not.
        assert!(!may_be_v2(v1));
        assert!(may_be_v2(v2) && may_be_v2(xml));
        assert!(may_be_v2(
            br#"{"results":[{"messageId":"e","\u0066rom":"x"}]}"#
        ));
        let escaped = br#"{"results":[{"messageId":"e","\u0066rom":"x"}]}"#;
        assert_eq!(decode_body(codec, None, escaped).unwrap().0, Generation::V2);
    }
}
