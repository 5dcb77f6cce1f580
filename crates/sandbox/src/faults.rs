//! Fault injection for the report endpoints, and the sandbox's counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

/// Faults the sandbox injects into report requests (`GET /tts/3/reports` and
/// `GET /voice/1/reports`), set with [`SandboxHandle::set_faults`](crate::SandboxHandle::set_faults)
/// or `PUT /sandbox/faults`. Rates are probabilities from 0 to 1, drawn from a generator
/// seeded by the sandbox's seed, so a run is repeatable.
///
/// JSON shape: `{"latencyMs":0,"rate429":0.0,"retryAfterSecs":1,"rate500":0.0,"rate503":0.0,
/// "dropAfterTake":0.0}`; missing fields take their defaults.
///
/// ```
/// use ivr_reports_sandbox::Faults;
///
/// let f = Faults::new().rate_429(0.5).retry_after_secs(2).drop_after_take(1.0);
/// assert!(f.validate().is_ok());
/// assert!(Faults::new().rate_500(1.5).validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Faults {
    /// Added latency before every report response, in milliseconds. Default 0.
    pub latency_ms: u64,
    /// Share of report requests answered 429 with `Retry-After`. Default 0.
    #[serde(rename = "rate429")]
    pub rate_429: f64,
    /// The `Retry-After` of 429 and 503 answers, in seconds. Default 1.
    pub retry_after_secs: u64,
    /// Share of report requests answered 500 (nothing taken). Default 0.
    #[serde(rename = "rate500")]
    pub rate_500: f64,
    /// Share of report requests answered 503 with `Retry-After` (nothing taken). Default 0.
    #[serde(rename = "rate503")]
    pub rate_503: f64,
    /// Share of report requests whose reports are taken, then the connection is dropped
    /// without an answer: those reports count as lost in transit. Default 0.
    pub drop_after_take: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            latency_ms: 0,
            rate_429: 0.0,
            retry_after_secs: 1,
            rate_500: 0.0,
            rate_503: 0.0,
            drop_after_take: 0.0,
        }
    }
}

impl Faults {
    /// No faults.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`Faults::latency_ms`].
    #[must_use]
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }

    /// Sets [`Faults::rate_429`].
    #[must_use]
    pub fn rate_429(mut self, rate: f64) -> Self {
        self.rate_429 = rate;
        self
    }

    /// Sets [`Faults::retry_after_secs`].
    #[must_use]
    pub fn retry_after_secs(mut self, secs: u64) -> Self {
        self.retry_after_secs = secs;
        self
    }

    /// Sets [`Faults::rate_500`].
    #[must_use]
    pub fn rate_500(mut self, rate: f64) -> Self {
        self.rate_500 = rate;
        self
    }

    /// Sets [`Faults::rate_503`].
    #[must_use]
    pub fn rate_503(mut self, rate: f64) -> Self {
        self.rate_503 = rate;
        self
    }

    /// Sets [`Faults::drop_after_take`].
    #[must_use]
    pub fn drop_after_take(mut self, rate: f64) -> Self {
        self.drop_after_take = rate;
        self
    }

    /// Checks that every rate is within 0 to 1, that the three error rates add up to at
    /// most 1, and that latency stays under a minute.
    ///
    /// # Errors
    /// A message naming the field at fault.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("rate429", self.rate_429),
            ("rate500", self.rate_500),
            ("rate503", self.rate_503),
            ("dropAfterTake", self.drop_after_take),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name}: must be between 0 and 1, got {rate}"));
            }
        }
        if self.rate_429 + self.rate_500 + self.rate_503 > 1.0 {
            return Err("rate429 + rate500 + rate503: must add up to at most 1".into());
        }
        if self.latency_ms > 60_000 {
            return Err(format!("latencyMs: at most 60000, got {}", self.latency_ms));
        }
        Ok(())
    }
}

/// What a report request runs into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    None,
    TooManyRequests,
    ServerError,
    Unavailable,
}

/// A small, seedable random generator (xorshift64*), shared lock-free.
#[derive(Debug)]
pub(crate) struct Dice {
    state: AtomicU64,
}

impl Dice {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed | 1),
        }
    }

    /// A uniform draw in [0, 1).
    pub(crate) fn roll(&self) -> f64 {
        let step = |mut x: u64| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x
        };
        let previous = self
            .state
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| Some(step(x)))
            .unwrap_or(1);
        let x = step(previous).wrapping_mul(0x2545_F491_4F6C_DD1D);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn chance(&self, rate: f64) -> bool {
        rate > 0.0 && self.roll() < rate
    }

    /// Which error, if any, a report request gets under `faults`.
    pub(crate) fn injected(&self, faults: &Faults) -> Injected {
        let total = faults.rate_429 + faults.rate_500 + faults.rate_503;
        if total <= 0.0 {
            return Injected::None;
        }
        let r = self.roll();
        if r < faults.rate_429 {
            Injected::TooManyRequests
        } else if r < faults.rate_429 + faults.rate_500 {
            Injected::ServerError
        } else if r < total {
            Injected::Unavailable
        } else {
            Injected::None
        }
    }
}

/// The sandbox's counters, as read with
/// [`SandboxHandle::counters`](crate::SandboxHandle::counters) or `GET /sandbox/counters`.
///
/// JSON shape: `{"pending":0,"handedOut":0,"pushed":0,"pushFailures":0,"lostInTransit":0,
/// "callsPlaced":0,"injected":0,"faultsInjected":0,"held":0,"logged":0,"logsThrottled":0}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Counters {
    /// Reports waiting to be fetched.
    pub pending: u64,
    /// Reports written into a report response (each exactly once).
    pub handed_out: u64,
    /// Reports a webhook accepted (answered 200).
    pub pushed: u64,
    /// Reports whose push was given up after the last retry.
    pub push_failures: u64,
    /// Reports taken by a request whose connection was then dropped (the
    /// `dropAfterTake` fault): they are gone, as with the real API.
    pub lost_in_transit: u64,
    /// Calls placed through the send endpoints (including rejected ones).
    pub calls_placed: u64,
    /// Reports injected through the admin API.
    pub injected: u64,
    /// Report requests answered with an injected 429, 500 or 503.
    pub faults_injected: u64,
    /// Reports held back (their messages stay PENDING in the logs) until released.
    pub held: u64,
    /// Entries `GET /tts/3/logs` can list now (the last 48 hours of sandbox time).
    pub logged: u64,
    /// Logs requests answered 429 by the logs rate limit.
    pub logs_throttled: u64,
}

/// The sandbox's records of which messages' reports left it, as read with
/// [`SandboxHandle::records`](crate::SandboxHandle::records) or `GET /sandbox/records`: the
/// ground truth for "every report handed out is stored exactly once".
///
/// Each list is in the order things happened and holds each report once (a report leaves
/// the sandbox once). JSON shape: `{"handedOut":["id",...],"lostInTransit":[...],
/// "pushed":[...],"truncated":false}`. Each list keeps at most 1,000,000 ids; `truncated`
/// says when one overflowed (the counters still count everything).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Records {
    /// Message ids written into a report response that was sent (`GET /tts/3/reports` and
    /// `GET /voice/1/reports`).
    pub handed_out: Vec<String>,
    /// Message ids taken by a request whose connection was then dropped (the
    /// `dropAfterTake` fault): the client never saw them, the API will not hand them out
    /// again. Only the logs still know them.
    pub lost_in_transit: Vec<String>,
    /// Message ids whose report a webhook accepted (answered 200).
    pub pushed: Vec<String>,
    /// Whether some list reached its cap and dropped later ids.
    pub truncated: bool,
}

impl Records {
    /// Every message id whose report left the sandbox: handed out, lost in transit or
    /// pushed.
    pub fn all(&self) -> impl Iterator<Item = &str> {
        self.handed_out
            .iter()
            .chain(&self.lost_in_transit)
            .chain(&self.pushed)
            .map(String::as_str)
    }
}

/// The most ids each [`Records`] list keeps.
const MAX_RECORDS: usize = 1_000_000;

/// The live counters behind [`Counters`] (pending is read from the store).
#[derive(Debug, Default)]
pub(crate) struct LiveCounters {
    pub(crate) handed_out: AtomicU64,
    pub(crate) pushed: AtomicU64,
    pub(crate) push_failures: AtomicU64,
    pub(crate) lost_in_transit: AtomicU64,
    pub(crate) calls_placed: AtomicU64,
    pub(crate) injected: AtomicU64,
    pub(crate) faults_injected: AtomicU64,
    pub(crate) logs_throttled: AtomicU64,
    records: Mutex<Records>,
}

/// Which [`Records`] list an id goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    HandedOut,
    LostInTransit,
    Pushed,
}

impl LiveCounters {
    pub(crate) fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// Adds message ids to a [`Records`] list.
    pub(crate) fn record<'a>(&self, list: Record, ids: impl IntoIterator<Item = &'a str>) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        let records = &mut *records;
        let target = match list {
            Record::HandedOut => &mut records.handed_out,
            Record::LostInTransit => &mut records.lost_in_transit,
            Record::Pushed => &mut records.pushed,
        };
        for id in ids {
            if target.len() >= MAX_RECORDS {
                records.truncated = true;
                break;
            }
            target.push(id.to_string());
        }
    }

    pub(crate) fn records(&self) -> Records {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn snapshot(&self, pending: usize, held: usize, logged: usize) -> Counters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        Counters {
            held: n(held),
            logged: n(logged),
            logs_throttled: get(&self.logs_throttled),
            pending: n(pending),
            handed_out: get(&self.handed_out),
            pushed: get(&self.pushed),
            push_failures: get(&self.push_failures),
            lost_in_transit: get(&self.lost_in_transit),
            calls_placed: get(&self.calls_placed),
            injected: get(&self.injected),
            faults_injected: get(&self.faults_injected),
        }
    }

    pub(crate) fn reset(&self) {
        for c in [
            &self.handed_out,
            &self.pushed,
            &self.push_failures,
            &self.lost_in_transit,
            &self.calls_placed,
            &self.injected,
            &self.faults_injected,
            &self.logs_throttled,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        *self.records.lock().unwrap_or_else(PoisonError::into_inner) = Records::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_are_uniform_enough_and_repeatable() {
        let a = Dice::new(7);
        let b = Dice::new(7);
        let draws: Vec<f64> = (0..10_000).map(|_| a.roll()).collect();
        assert!(draws.iter().all(|r| (0.0..1.0).contains(r)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((0.45..0.55).contains(&mean), "{mean}");
        assert_eq!(b.roll(), draws[0]);
    }

    #[test]
    fn rates_of_one_and_zero_are_exact() {
        let dice = Dice::new(1);
        let always = Faults::new().rate_503(1.0);
        assert!((0..100).all(|_| dice.injected(&always) == Injected::Unavailable));
        assert!((0..100).all(|_| dice.injected(&Faults::new()) == Injected::None));
        assert!((0..100).all(|_| !dice.chance(0.0) && dice.chance(1.0)));
    }

    #[test]
    fn faults_json_shape() {
        let f: Faults = serde_json::from_str(r#"{"rate429":0.25,"dropAfterTake":1}"#).unwrap();
        assert_eq!(f, Faults::new().rate_429(0.25).drop_after_take(1.0));
        assert!(serde_json::from_str::<Faults>(r#"{"rate_429":1}"#).is_err());
        assert!(
            Faults::new()
                .rate_429(0.6)
                .rate_503(0.6)
                .validate()
                .is_err()
        );
    }
}
