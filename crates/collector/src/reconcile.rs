//! Reconciliation: possible-loss incidents closed from the API's voice logs.
//!
//! Infobip keeps a log of every voice message for 48 hours, readable any number of times
//! (`GET /tts/3/logs`). For an open [`Incident`] the collector reads the logs of the
//! incident's window, widened by a margin on both sides (by default back to the start of
//! the logs' retention: a report in a lost response may belong to any message sent before); a page that comes back full
//! (`limit` entries: there is no cursor) makes it split the window in halves and read each
//! half, within the logs' rate limit (120 requests a minute by default). Every message whose
//! status is final and that has no stored report is stored as a report *recovered from
//! logs* ([`Origin::Recovered`], the fields logs lack left empty:
//! [`Origin::RECOVERED_LACKS`]). The incident is closed when its window holds no pending
//! message; otherwise it stays open and the next reconciliation reads it again. Once the
//! incident's request is older than the retention, the logs no longer hold its window:
//! whatever they still hold is recovered, but the incident is never closed, and every run
//! says so ([`IncidentState::BeyondRetention`], an `ERROR` event).
//!
//! The limit: a report whose message was sent more than 48 hours before the incident is
//! in no log, so reconciliation cannot see it.

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ivr_reports::BoxFuture;
use ivr_reports_model::{AnyReport, Limit, LogEntry, LogsQuery, Timestamp};

use crate::error::{Error, ErrorKind};
use crate::incident::Incident;
use crate::sink::{Origin, Sink};

/// Where reconciliation reads the voice logs: one page per call, for a query (a window of
/// `sentSince`/`sentUntil` and a `limit`). The facade's [`Client`](crate::Client) is one
/// (`GET /tts/3/logs`); tests may give a source of their own.
pub trait LogSource: Send + Sync + fmt::Debug {
    /// One page of log entries for `query` (at most `query.limit` of them).
    ///
    /// # Errors
    /// The logs could not be read; reconciliation stops and the incident stays open.
    fn logs<'a>(&'a self, query: &'a LogsQuery) -> BoxFuture<'a, Result<Vec<LogEntry>, Error>>;
}

/// The facade's client reads `GET /tts/3/logs` (a 429 is retried by its retry policy,
/// honouring `Retry-After`). A page holding an entry the codec cannot read is an error: a
/// message whose status is unknown cannot let an incident close.
impl LogSource for crate::Client {
    fn logs<'a>(&'a self, query: &'a LogsQuery) -> BoxFuture<'a, Result<Vec<LogEntry>, Error>> {
        Box::pin(async move {
            let page = crate::Client::logs(self)
                .query(query.clone())
                .await
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Fetch,
                        "cannot read the voice logs (GET /tts/3/logs)",
                    )
                    .with_source(e)
                })?;
            if !page.rejected.is_empty() {
                return Err(Error::new(
                    ErrorKind::Fetch,
                    format!(
                        "{} entries of a logs page could not be read",
                        page.rejected.len()
                    ),
                ));
            }
            Ok(page.reports)
        })
    }
}

/// How reconciliation reads the logs. Every setter documents its default.
#[derive(Clone, Debug)]
#[must_use]
pub struct ReconcileConfig {
    margin: Duration,
    retention: Duration,
    requests_per_minute: u32,
    page_limit: Limit,
    now: Option<SystemTime>,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl ReconcileConfig {
    /// The defaults: a margin of 48 hours (all the logs keep), a retention of 48 hours,
    /// 120 requests a minute, pages of 1000.
    pub fn new() -> Self {
        Self {
            margin: Duration::from_secs(48 * 3600),
            retention: Duration::from_secs(48 * 3600),
            requests_per_minute: 120,
            page_limit: Limit::MAX,
            now: None,
        }
    }

    /// How far before the incident's request (and after it) the logs are read: a report
    /// handed out in a lost response belongs to a message *sent* earlier, as much earlier
    /// as the report waited to be pulled, which nothing bounds. The default, 48 hours,
    /// reads everything the logs still keep before the incident (clamped to the
    /// retention): the most reconciliation can prove, at the cost of one request per
    /// 1000 messages of those 48 hours. A smaller margin reads less but cannot see a
    /// report that waited longer than it.
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// How long the API keeps logs. Default 48 hours.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// The logs' rate limit per credential; requests are spaced evenly within it (at least
    /// 1). Default 120.
    pub fn requests_per_minute(mut self, n: u32) -> Self {
        self.requests_per_minute = n.max(1);
        self
    }

    /// The `limit` of each logs request; a page with this many entries is taken as full
    /// and its window split. Default 1000 (the API's maximum).
    pub fn page_limit(mut self, limit: Limit) -> Self {
        self.page_limit = limit;
        self
    }

    /// The time reconciliation takes as now (for the window's end and the retention).
    /// Default the system clock; for tests against a server with a clock of its own.
    pub fn now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    pub(crate) fn requests_per_minute_value(&self) -> u32 {
        self.requests_per_minute
    }

    fn now_or_system(&self) -> SystemTime {
        self.now.unwrap_or_else(SystemTime::now)
    }
}

/// What became of an incident in one reconciliation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IncidentState {
    /// Closed: its window holds no pending message, and every final one has a stored
    /// report.
    Closed,
    /// Still open: this many messages of its window are pending; the next reconciliation
    /// reads it again.
    Pending(u64),
    /// Still open for good: its window reaches back beyond the logs' retention, so the
    /// logs cannot prove it complete. What they still hold was recovered.
    BeyondRetention,
    /// Still open: the logs or the sink failed (the message); the next reconciliation
    /// tries again.
    Failed(String),
}

impl fmt::Display for IncidentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closed => f.write_str("closed"),
            Self::Pending(n) => write!(f, "open: {n} pending message(s), retried later"),
            Self::BeyondRetention => f.write_str(
                "open: beyond the logs' 48-hour retention, it can no longer be reconciled",
            ),
            Self::Failed(why) => write!(f, "open: reconciliation failed: {why}"),
        }
    }
}

/// One incident's reconciliation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IncidentOutcome {
    /// The incident's id.
    pub id: u64,
    /// What became of it.
    pub state: IncidentState,
    /// Log entries read in its window.
    pub entries: u64,
    /// Final messages of the window that had a stored report already.
    pub already_stored: u64,
    /// Final messages of its window stored now as recovered from logs (one message may
    /// be in the windows of several incidents).
    pub recovered: u64,
}

/// What one reconciliation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reconciliation {
    /// Each open incident examined, oldest first.
    pub incidents: Vec<IncidentOutcome>,
    /// Reports recovered from logs (each once).
    pub recovered: u64,
    /// Logs requests made (one read covers every incident's window).
    pub requests: u64,
}

impl Reconciliation {
    /// Incidents still open after it.
    #[must_use]
    pub fn still_open(&self) -> u64 {
        self.incidents
            .iter()
            .filter(|i| i.state != IncidentState::Closed)
            .count() as u64
    }
}

/// Spaces requests evenly within the rate limit.
#[derive(Debug)]
pub(crate) struct Pacer {
    interval: Duration,
    next: Option<tokio::time::Instant>,
}

impl Pacer {
    pub(crate) fn new(requests_per_minute: u32) -> Self {
        Self {
            interval: Duration::from_secs(60) / requests_per_minute.max(1),
            next: None,
        }
    }

    async fn wait(&mut self) {
        let now = tokio::time::Instant::now();
        if let Some(next) = self.next
            && next > now
        {
            tokio::time::sleep_until(next).await;
        }
        self.next = Some(tokio::time::Instant::now() + self.interval);
    }
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn timestamp(millis: i64) -> Result<Timestamp, Error> {
    Timestamp::from_unix_millis(millis).map_err(|e| {
        Error::new(
            ErrorKind::InvalidConfig,
            format!("the time {millis} ms cannot be written in a logs query"),
        )
        .with_source(e)
    })
}

/// What reading a window of the logs found.
#[derive(Debug, Default)]
pub(crate) struct WindowRead {
    pub(crate) entries: Vec<LogEntry>,
    pub(crate) requests: u64,
    /// A window of one millisecond still came back full: entries may be missing.
    pub(crate) overfull: bool,
}

/// Reads every log entry sent in `[since, until)` (Unix milliseconds), splitting the window
/// while pages come back full. Entries are deduplicated by `messageId`.
pub(crate) async fn read_window(
    source: &dyn LogSource,
    since: i64,
    until: i64,
    limit: Limit,
    base: &LogsQuery,
    pacer: &mut Pacer,
) -> Result<WindowRead, Error> {
    let mut read = WindowRead::default();
    let mut seen = HashSet::new();
    let mut todo = vec![(since, until)];
    while let Some((a, b)) = todo.pop() {
        if a >= b {
            continue;
        }
        let query = base
            .clone()
            .sent_since(timestamp(a)?)
            .sent_until(timestamp(b)?)
            .limit(limit);
        pacer.wait().await;
        let page = source.logs(&query).await?;
        read.requests += 1;
        if page.len() >= usize::from(limit.get()) {
            if b - a > 1 {
                let mid = a + (b - a) / 2;
                // Earlier half first.
                todo.push((mid, b));
                todo.push((a, mid));
                continue;
            }
            read.overfull = true;
        }
        for entry in page {
            if seen.insert(entry.message_id.clone()) {
                read.entries.push(entry);
            }
        }
    }
    Ok(read)
}

/// Reads every log entry sent in `[since, until)` that matches `filter` (its own window
/// and limit are replaced), splitting the window while pages come back full (pages of
/// `config`'s limit), within `config`'s rate limit: for audits. Each `messageId` once.
///
/// # Errors
/// The source's error; [`ErrorKind::InvalidConfig`] for a time that cannot be written in
/// a query; [`ErrorKind::Fetch`] when more than a page of messages were sent within one
/// millisecond (the logs cannot list them all).
pub async fn read_logs(
    source: &dyn LogSource,
    since: SystemTime,
    until: SystemTime,
    filter: &LogsQuery,
    config: &ReconcileConfig,
) -> Result<Vec<LogEntry>, Error> {
    let mut pacer = Pacer::new(config.requests_per_minute);
    let read = read_window(
        source,
        millis(since),
        millis(until),
        config.page_limit,
        filter,
        &mut pacer,
    )
    .await?;
    if read.overfull {
        return Err(Error::new(
            ErrorKind::Fetch,
            "more than a page of messages were sent within one millisecond: the logs cannot \
             list them all",
        ));
    }
    Ok(read.entries)
}

/// An incident's window in Unix milliseconds, `[since, until)`, clamped to the retention,
/// and whether its request is older than the retention.
fn window(incident: &Incident, config: &ReconcileConfig, now: SystemTime) -> (i64, i64, bool) {
    let oldest_kept = now.checked_sub(config.retention).unwrap_or(UNIX_EPOCH);
    let since = incident
        .opened_at
        .checked_sub(config.margin)
        .unwrap_or(UNIX_EPOCH)
        .max(oldest_kept);
    let until = (incident.closed_at + config.margin).min(now);
    // The window's end is inclusive of its last millisecond.
    (
        millis(since),
        millis(until) + 1,
        incident.opened_at < oldest_kept,
    )
}

/// Reconciles `incidents` against the logs with one read of the union of their windows
/// (they overlap: each reaches back the margin); `stored` holds every stored `messageId`
/// and grows with the recovered ones. Returns each incident's outcome and the requests
/// made.
pub(crate) async fn reconcile_all(
    incidents: &[Incident],
    source: &dyn LogSource,
    sink: &dyn Sink,
    stored: &mut HashSet<String>,
    config: &ReconcileConfig,
    pacer: &mut Pacer,
) -> (Vec<IncidentOutcome>, u64) {
    let now = config.now_or_system();
    let windows: Vec<(i64, i64, bool)> = incidents.iter().map(|i| window(i, config, now)).collect();
    let outcome = |incident: &Incident, state: IncidentState| IncidentOutcome {
        id: incident.id,
        state,
        entries: 0,
        already_stored: 0,
        recovered: 0,
    };
    let failed = |why: &Error| -> Vec<IncidentOutcome> {
        incidents
            .iter()
            .map(|i| outcome(i, IncidentState::Failed(why.to_string())))
            .collect()
    };
    let (Some(since), Some(until)) = (
        windows.iter().map(|w| w.0).min(),
        windows.iter().map(|w| w.1).max(),
    ) else {
        return (Vec::new(), 0);
    };
    let read = match read_window(
        source,
        since,
        until,
        config.page_limit,
        &LogsQuery::new(),
        pacer,
    )
    .await
    {
        Ok(read) => read,
        Err(e) => return (failed(&e), 0),
    };
    let recover: Vec<AnyReport> = read
        .entries
        .iter()
        .filter(|e| e.is_final() && !stored.contains(&e.message_id))
        .map(|e| AnyReport::from(e.to_recovered_report()))
        .collect();
    let mut recovered_now: HashSet<String> = HashSet::new();
    if !recover.is_empty() {
        if let Err(e) = sink.store_from(Origin::Recovered, &recover).await {
            return (failed(&e), read.requests);
        }
        recovered_now.extend(recover.iter().map(|r| r.message_id().to_string()));
        stored.extend(recovered_now.iter().cloned());
    }
    let mut out = Vec::with_capacity(incidents.len());
    for (incident, &(since, until, beyond)) in incidents.iter().zip(&windows) {
        let mut o = outcome(incident, IncidentState::Closed);
        let mut pending = 0u64;
        for e in &read.entries {
            let sent = e.sent_at.map(|t| t.unix_millis());
            if !sent.is_some_and(|t| since <= t && t < until) {
                continue;
            }
            o.entries += 1;
            if !e.is_final() {
                pending += 1;
            } else if recovered_now.contains(&e.message_id) {
                o.recovered += 1;
            } else {
                o.already_stored += 1;
            }
        }
        o.state = if beyond {
            IncidentState::BeyondRetention
        } else if read.overfull {
            IncidentState::Failed(
                "more than a page of messages were sent within one millisecond: the logs \
                 cannot list them all"
                    .into(),
            )
        } else if pending > 0 {
            IncidentState::Pending(pending)
        } else {
            IncidentState::Closed
        };
        out.push(o);
    }
    (out, read.requests)
}

/// [`reconcile_all`] for one incident.
#[cfg(test)]
async fn reconcile_incident(
    incident: &Incident,
    source: &dyn LogSource,
    sink: &dyn Sink,
    stored: &mut HashSet<String>,
    config: &ReconcileConfig,
    pacer: &mut Pacer,
) -> (IncidentOutcome, u64) {
    let (mut out, requests) = reconcile_all(
        std::slice::from_ref(incident),
        source,
        sink,
        stored,
        config,
        pacer,
    )
    .await;
    (out.remove(0), requests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    use ivr_reports_model::Status;

    use crate::incident::IncidentReason;
    use crate::jsonl::JsonlSink;
    use ivr_reports_model::Generation;

    /// Logs in memory, filtered as the API filters, with a record of every request (its
    /// tokio time and query).
    #[derive(Debug, Default)]
    struct Logs {
        entries: Mutex<Vec<LogEntry>>,
        requests: Mutex<Vec<(tokio::time::Instant, LogsQuery)>>,
    }

    impl LogSource for Logs {
        fn logs<'a>(&'a self, query: &'a LogsQuery) -> BoxFuture<'a, Result<Vec<LogEntry>, Error>> {
            Box::pin(async move {
                self.requests
                    .lock()
                    .unwrap()
                    .push((tokio::time::Instant::now(), query.clone()));
                Ok(self
                    .entries
                    .lock()
                    .unwrap()
                    .iter()
                    .filter(|e| query.matches(e))
                    .take(usize::from(query.effective_limit().get()))
                    .cloned()
                    .collect())
            })
        }
    }

    const T0: i64 = 1_780_000_000_000;

    fn at(ms: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap())
    }

    fn entry(i: usize, sent: i64, status: u32) -> LogEntry {
        let mut e = LogEntry::new(format!("m{i}"), "385981178");
        e.bulk_id = Some("b1".into());
        e.sent_at = Timestamp::from_unix_millis(sent).ok();
        e.duration = Some(7);
        e.status = Status::known(status);
        e
    }

    fn incident(opened: i64, closed: i64) -> Incident {
        Incident {
            id: 1,
            opened_at: at(opened),
            closed_at: at(closed),
            generation: Generation::V1,
            query: "limit=1000".into(),
            reason: IncidentReason::ResponseLost,
            reconciled_at: None,
            recovered: 0,
            request: 0,
        }
    }

    struct Fixture {
        dir: std::path::PathBuf,
        sink: JsonlSink,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    async fn fixture(name: &str) -> Fixture {
        let dir = std::env::temp_dir().join(format!("ivr-reconcile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let sink = JsonlSink::open(dir.join("r.jsonl")).await.unwrap();
        Fixture { dir, sink }
    }

    // Status 5 is DELIVERED_TO_HANDSET (final), 26 PENDING_ACCEPTED (pending).
    const DELIVERED: u32 = 5;
    const PENDING: u32 = 26;

    #[tokio::test(start_paused = true)]
    async fn a_window_larger_than_a_page_is_split_within_the_rate_limit() {
        let f = fixture("split").await;
        let logs = Logs::default();
        // 250 final messages over 10 minutes, 40 of them stored already.
        let entries: Vec<LogEntry> = (0..250)
            .map(|i| entry(i, T0 + i as i64 * 2400, DELIVERED))
            .collect();
        let stored_before: Vec<AnyReport> = entries[..40]
            .iter()
            .map(|e| {
                let mut r = e.to_recovered_report();
                r.callback_data = Some("pulled".into());
                AnyReport::from(r)
            })
            .collect();
        f.sink
            .store_from(Origin::Pulled, &stored_before)
            .await
            .unwrap();
        *logs.entries.lock().unwrap() = entries;
        let config = ReconcileConfig::new()
            .page_limit(Limit::new(50).unwrap())
            .margin(Duration::from_secs(60))
            .now(at(T0 + 3_600_000));
        let mut stored: HashSet<String> = stored_before
            .iter()
            .map(|r| r.message_id().to_string())
            .collect();
        let mut pacer = Pacer::new(120);
        let started = tokio::time::Instant::now();
        let (out, used) = reconcile_incident(
            &incident(T0 + 60_000, T0 + 540_000),
            &logs,
            &f.sink,
            &mut stored,
            &config,
            &mut pacer,
        )
        .await;
        assert_eq!(out.state, IncidentState::Closed);
        assert_eq!(
            (out.entries, out.already_stored, out.recovered),
            (250, 40, 210)
        );
        // Every page was split until it held fewer than 50 entries.
        let requests = logs.requests.lock().unwrap().clone();
        assert_eq!(used, requests.len() as u64);
        assert!(requests.len() > 250 / 50, "{} requests", requests.len());
        // 120 a minute: never two requests within 500 ms (tokio's paused clock).
        for pair in requests.windows(2) {
            assert!(pair[1].0 - pair[0].0 >= Duration::from_millis(500));
        }
        assert!(started.elapsed() >= Duration::from_millis(500) * (requests.len() as u32 - 1));
        // Each message once; the recovered ones marked so; the pulled ones untouched.
        let back = f.sink.stored().await.unwrap();
        assert_eq!(back.len(), 250);
        assert_eq!(
            back.iter()
                .filter(|s| s.origin == Origin::Recovered)
                .count(),
            210
        );
    }

    #[tokio::test(start_paused = true)]
    async fn pending_messages_keep_the_incident_open_until_they_are_final() {
        let f = fixture("pending").await;
        let logs = Logs::default();
        *logs.entries.lock().unwrap() = vec![
            entry(1, T0, DELIVERED),
            entry(2, T0 + 10, PENDING),
            entry(3, T0 + 20, PENDING),
        ];
        let config = ReconcileConfig::new().now(at(T0 + 60_000));
        let mut stored = HashSet::new();
        let mut pacer = Pacer::new(120);
        let inc = incident(T0, T0 + 1000);
        let (out, _) =
            reconcile_incident(&inc, &logs, &f.sink, &mut stored, &config, &mut pacer).await;
        assert_eq!(out.state, IncidentState::Pending(2));
        assert_eq!(out.recovered, 1);
        // Later they are final: the next run recovers them and closes it.
        *logs.entries.lock().unwrap() = vec![
            entry(1, T0, DELIVERED),
            entry(2, T0 + 10, DELIVERED),
            entry(3, T0 + 20, 97),
        ];
        let (out, _) =
            reconcile_incident(&inc, &logs, &f.sink, &mut stored, &config, &mut pacer).await;
        assert_eq!(out.state, IncidentState::Closed);
        assert_eq!((out.recovered, out.already_stored), (2, 1));
        assert_eq!(f.sink.stored().await.unwrap().len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn an_incident_older_than_the_retention_stays_open() {
        let f = fixture("retention").await;
        let logs = Logs::default();
        *logs.entries.lock().unwrap() = vec![entry(1, T0 + 3_600_500, DELIVERED)];
        let config = ReconcileConfig::new().now(at(T0 + 49 * 3_600_000));
        let mut stored = HashSet::new();
        let mut pacer = Pacer::new(120);
        let (out, _) = reconcile_incident(
            &incident(T0, T0 + 1000),
            &logs,
            &f.sink,
            &mut stored,
            &config,
            &mut pacer,
        )
        .await;
        assert_eq!(out.state, IncidentState::BeyondRetention);
        // What the logs still hold is recovered all the same.
        assert_eq!(out.recovered, 1);
        // Only the part of the window the logs still keep was asked for.
        let requests = logs.requests.lock().unwrap().clone();
        let since = requests[0].1.sent_since.unwrap().unix_millis();
        assert_eq!(since, T0 + 3_600_000);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_source_leaves_the_incident_open() {
        #[derive(Debug)]
        struct Down;
        impl LogSource for Down {
            fn logs<'a>(&'a self, _: &'a LogsQuery) -> BoxFuture<'a, Result<Vec<LogEntry>, Error>> {
                Box::pin(async { Err(Error::new(ErrorKind::Io, "logs are down")) })
            }
        }
        let f = fixture("down").await;
        let (out, _) = reconcile_incident(
            &incident(T0, T0 + 1000),
            &Down,
            &f.sink,
            &mut HashSet::new(),
            &ReconcileConfig::new().now(at(T0 + 60_000)),
            &mut Pacer::new(120),
        )
        .await;
        assert!(matches!(out.state, IncidentState::Failed(ref m) if m.contains("logs are down")));
    }
}
