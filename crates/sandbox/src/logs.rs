//! The sandbox's message log behind `GET /tts/3/logs`: its clock, retention and rate limit.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ivr_reports_model::{LogEntry, LogsQuery, Report, Status, StatusGroup};

use crate::outcomes::Call;
use crate::pieces::Compact;

/// How long a log entry stays readable, in sandbox time: 48 hours, as with the real API.
pub(crate) const RETENTION_MS: i64 = 48 * 3600 * 1000;

/// The most log entries kept at once, whatever their age: the oldest go first. A sandbox
/// that runs for days with heavy traffic stays bounded in memory.
pub(crate) const MAX_ENTRIES: usize = 1_000_000;

/// How far ahead of the machine's clock sandbox time may go: 100 years.
pub(crate) const MAX_OFFSET_MS: i64 = 100 * 365 * 24 * 3600 * 1000;

/// The sandbox clock: the machine's clock plus an offset that only grows (the admin API
/// advances it). Calls are sent at sandbox time, and retention is judged by it.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Sandbox time now, in epoch milliseconds.
    pub(crate) fn now_ms(&self) -> i64 {
        crate::app::now_millis().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves sandbox time forward, by at most [`MAX_OFFSET_MS`] in all: an absurd advance
    /// pins the clock a century ahead, where timestamps are still valid.
    pub(crate) fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let _ = self
            .offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |o| {
                Some(o.saturating_add(ms).min(MAX_OFFSET_MS))
            });
    }

    /// Back to the machine's clock.
    pub(crate) fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

/// One message the sandbox placed. Compact: the call is shared with the report store (one
/// allocation for both), the text with the other destinations of its message.
#[derive(Clone, Debug)]
pub(crate) struct Placed {
    pub(crate) call: Arc<Call>,
    pub(crate) text: Option<Arc<str>>,
}

/// One log book entry.
#[derive(Clone, Debug)]
pub(crate) enum Logged {
    /// A call the sandbox placed (a send or a campaign).
    Placed(Placed),
    /// An injected report's message, kept from `at_ms` (sandbox time of the injection) for
    /// the retention, whatever its `sentAt`. The report is shared with the store; its log
    /// entry (the fields of the report that logs carry) is built when it is read.
    Injected { report: Arc<Compact>, at_ms: i64 },
}

/// The log entry of an injected report: the fields of the report that logs carry.
pub(crate) fn injected_entry<R: Report>(report: &R) -> LogEntry {
    let mut e = LogEntry::new(report.message_id(), report.to());
    e.bulk_id = report.bulk_id().map(str::to_string);
    e.sent_at = report.sent_at();
    e.done_at = report.done_at();
    e.duration = report.duration();
    e.mcc_mnc = report.mcc_mnc().map(str::to_string);
    e.price = report.price().cloned();
    e.status = report.status().cloned();
    e.error = report.error().cloned();
    e
}

impl Logged {
    pub(crate) fn placed(call: Arc<Call>, text: Option<Arc<str>>) -> Self {
        Self::Placed(Placed { call, text })
    }

    /// When the entry was logged, for the retention (sandbox time).
    fn logged_at_ms(&self) -> i64 {
        match self {
            Self::Placed(p) => p.call.sent_at_ms,
            Self::Injected { at_ms, .. } => *at_ms,
        }
    }

    pub(crate) fn message_id(&self) -> &str {
        match self {
            Self::Placed(p) => &p.call.message_id,
            Self::Injected { report, .. } => report.message_id(),
        }
    }

    /// The entry now; see [`Placed::entry`]. A held injected report shows PENDING too.
    /// `injected` builds an injected report's entry (`None`: it could not be read).
    pub(crate) fn entry(
        &self,
        held: bool,
        base_url: &str,
        injected: &dyn Fn(&Compact) -> Option<LogEntry>,
    ) -> Option<LogEntry> {
        match self {
            Self::Placed(p) => Some(p.entry(held, base_url)),
            Self::Injected { report, .. } => {
                let entry = injected(report)?;
                if !held {
                    return Some(entry);
                }
                let mut e = LogEntry::new(entry.message_id, entry.to);
                e.bulk_id = entry.bulk_id;
                e.sent_at = entry.sent_at;
                e.price = entry.price;
                e.status = Status::known(26);
                Some(e)
            }
        }
    }

    /// A cheap first look: whether the entry may pass `q` (the full check is
    /// [`LogsQuery::matches`] on the built entry). A held message is PENDING, and only
    /// a held message is.
    fn may_match(&self, q: &LogsQuery, held: bool) -> bool {
        let pending_ok = match q.general_status {
            Some(StatusGroup::Pending) => held || matches!(self, Self::Injected { .. }),
            Some(_) => !held,
            None => true,
        };
        pending_ok
            && match self {
                Self::Placed(p) => p.may_match(q),
                Self::Injected { report, .. } => {
                    (q.bulk_id.is_empty()
                        || report
                            .bulk_id()
                            .is_some_and(|b| q.bulk_id.iter().any(|q| q == b)))
                        && (q.message_id.is_empty()
                            || q.message_id.iter().any(|m| m == report.message_id()))
                }
            }
    }
}

impl Placed {
    /// The log entry as `GET /tts/3/logs` shows it now: a held message is PENDING
    /// (`PENDING_ACCEPTED`, its price known, nothing else yet); any other is final, with
    /// every field its report carries that logs carry.
    pub(crate) fn entry(&self, held: bool, base_url: &str) -> LogEntry {
        let call = &self.call;
        let mut e = LogEntry::new(&*call.message_id, &*call.to);
        e.bulk_id = call.bulk_id.as_deref().map(str::to_string);
        e.from = call.from.as_deref().map(str::to_string);
        e.text = self.text.as_deref().map(str::to_string);
        let report = call.v1_report(base_url);
        e.sent_at = report.sent_at;
        e.price = report.price;
        if held {
            e.status = Status::known(26);
            return e;
        }
        e.done_at = report.done_at;
        e.duration = report.duration;
        e.mcc_mnc = report.mcc_mnc;
        e.status = report.status;
        e.error = report.error;
        e
    }

    /// A cheap first look, before the entry is built: whether the query's filters on the
    /// call's own fields (ids, numbers, send time) let it through.
    pub(crate) fn may_match(&self, q: &LogsQuery) -> bool {
        let call = &self.call;
        let millis = |t: &ivr_reports_model::Timestamp| t.unix_millis();
        (q.bulk_id.is_empty()
            || call
                .bulk_id
                .as_deref()
                .is_some_and(|b| q.bulk_id.iter().any(|q| q == b)))
            && (q.message_id.is_empty() || q.message_id.iter().any(|m| **m == *call.message_id))
            && q.to.as_deref().is_none_or(|t| t == &*call.to)
            && q.from
                .as_deref()
                .is_none_or(|f| Some(f) == call.from.as_deref())
            && q.sent_since
                .as_ref()
                .is_none_or(|s| call.sent_at_ms >= millis(s))
            && q.sent_until
                .as_ref()
                .is_none_or(|u| call.sent_at_ms < millis(u))
    }
}

/// Every message placed in the last 48 hours of sandbox time, oldest first.
#[derive(Debug)]
pub(crate) struct LogBook {
    entries: VecDeque<Logged>,
    /// The earliest `logged_at_ms` of any entry (`i64::MAX` when empty): pruning is a
    /// comparison unless something is due.
    oldest_ms: i64,
}

impl Default for LogBook {
    fn default() -> Self {
        Self {
            entries: VecDeque::new(),
            oldest_ms: i64::MAX,
        }
    }
}

impl LogBook {
    pub(crate) fn push(&mut self, entry: Logged) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.pop_front();
        }
        self.oldest_ms = self.oldest_ms.min(entry.logged_at_ms());
        self.entries.push_back(entry);
    }

    /// Forgets every entry sent before `cutoff_ms`.
    pub(crate) fn prune(&mut self, cutoff_ms: i64) {
        if cutoff_ms <= self.oldest_ms {
            return;
        }
        self.entries.retain(|e| e.logged_at_ms() >= cutoff_ms);
        self.oldest_ms = self
            .entries
            .iter()
            .map(Logged::logged_at_ms)
            .min()
            .unwrap_or(i64::MAX);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries `query` asks for, newest first, at most its limit.
    pub(crate) fn select(
        &self,
        query: &LogsQuery,
        is_held: impl Fn(&str) -> bool,
        base_url: &str,
        injected: &dyn Fn(&Compact) -> Option<LogEntry>,
    ) -> Vec<LogEntry> {
        let limit = usize::from(query.effective_limit().get());
        self.entries
            .iter()
            .rev()
            .filter_map(|l| {
                let held = is_held(l.message_id());
                if l.may_match(query, held) {
                    l.entry(held, base_url, injected)
                } else {
                    None
                }
            })
            .filter(|e| query.matches(e))
            .take(limit)
            .collect()
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

/// A sliding-window rate limit per credential: at most `limit` requests in any `window`.
#[derive(Debug)]
pub(crate) struct Throttle {
    limit: usize,
    window: Duration,
    hits: Mutex<HashMap<&'static str, VecDeque<Instant>>>,
}

impl Throttle {
    /// `limit` 0 means no limit.
    pub(crate) fn new(limit: u32, window: Duration) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            window,
            hits: Mutex::default(),
        }
    }

    /// Counts a request by `who`; `Err(seconds)` when it is over the limit, with the
    /// whole seconds until a request would be accepted again (at least 1). Refused
    /// requests do not count.
    pub(crate) fn check(&self, who: &'static str) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut hits = self.hits.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = hits.entry(who).or_default();
        while mine
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            mine.pop_front();
        }
        if mine.len() < self.limit {
            mine.push_back(now);
            return Ok(());
        }
        let oldest = mine.front().copied().unwrap_or(now);
        let wait = self.window.saturating_sub(now.duration_since(oldest));
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Err(secs.max(1))
    }

    pub(crate) fn reset(&self) {
        self.hits
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_counts_per_credential_and_says_when() {
        let t = Throttle::new(2, Duration::from_secs(60));
        assert_eq!(t.check("App"), Ok(()));
        assert_eq!(t.check("App"), Ok(()));
        let wait = t.check("App").unwrap_err();
        assert!((59..=60).contains(&wait), "{wait}");
        assert_eq!(t.check("Basic"), Ok(()));
        t.reset();
        assert_eq!(t.check("App"), Ok(()));
        let off = Throttle::new(0, Duration::from_secs(60));
        assert!((0..1000).all(|_| off.check("App").is_ok()));
    }

    #[test]
    fn pruning_forgets_only_what_is_due() {
        let mut book = LogBook::default();
        let at = |ms| Logged::Injected {
            report: Arc::new(Compact::new(
                &mut crate::pieces::Pieces::default(),
                crate::store::Generation::V1,
                b"{}",
                &format!("m{ms}"),
                None,
            )),
            at_ms: ms,
        };
        for ms in [30, 10, 20] {
            book.push(at(ms));
        }
        book.prune(10);
        assert_eq!(book.len(), 3);
        book.prune(21);
        assert_eq!((book.len(), book.oldest_ms), (1, 30));
        book.prune(31);
        assert_eq!((book.len(), book.oldest_ms), (0, i64::MAX));
    }

    #[test]
    fn clock_only_moves_forward_by_the_advance() {
        let c = Clock::default();
        let before = c.now_ms();
        c.advance(Duration::from_secs(3600));
        let after = c.now_ms();
        assert!(after - before >= 3_600_000 && after - before < 3_660_000);
        c.advance(Duration::MAX);
        assert!(c.now_ms() > after);
        c.reset();
        assert!(c.now_ms() < after);
    }
}
