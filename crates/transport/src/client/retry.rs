//! The retry policy: when a request may be sent again, and how long to wait first.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode, header};

/// When and how often the client retries.
///
/// A request is retried only when the server provably did not process it: the connection
/// was refused or the name did not resolve, the TLS handshake failed (other than for an
/// untrusted or invalid certificate, which a retry cannot fix), the connect timeout ran out,
/// the server answered 429 or 503, or refused the HTTP/2 stream (`REFUSED_STREAM`). Never
/// once the request may have been written and the response was lost, unless the request
/// carries the [`ReplaySafe`](crate::ReplaySafe) extension (sending it again has no effect,
/// e.g. reading the voice logs): then a lost response is retried like a refused connection.
///
/// Waits use exponential backoff with full jitter (a random wait between zero and
/// `initial_backoff * 2^(attempt-1)`, at most `max_backoff`), or exactly the server's
/// `Retry-After` (seconds or an HTTP date) when a 429 or 503 carries one. A `Retry-After`
/// longer than `max_retry_after` is not waited for: the response goes back to the caller.
/// No wait goes past the total `deadline`; when it would, the last outcome is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
    deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
            deadline: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The default policy (see each setter for its default).
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy that never retries (one attempt).
    pub fn never() -> Self {
        Self::default().max_attempts(1)
    }

    /// The most attempts per request, the first included. Default 3; 0 counts as 1.
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff before the first retry (the jitter's upper bound). Default 200 ms.
    pub fn initial_backoff(mut self, backoff: Duration) -> Self {
        self.initial_backoff = backoff;
        self
    }

    /// The largest backoff between two attempts. Default 10 s.
    pub fn max_backoff(mut self, backoff: Duration) -> Self {
        self.max_backoff = backoff;
        self
    }

    /// The longest `Retry-After` the client waits for; longer ones are returned to the caller
    /// as the response. Default 60 s.
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// The total time for one call, every attempt and wait included. Default 120 s.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The attempts allowed.
    #[must_use]
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The total deadline.
    #[must_use]
    pub fn total_deadline(&self) -> Duration {
        self.deadline
    }

    /// The jittered backoff before attempt `attempt + 1`, `attempt` >= 1.
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let ceiling = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let ceiling_ns = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if ceiling_ns == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random() % (ceiling_ns + 1))
    }

    /// The wait a 429/503 response asks for: `Some(wait)` to retry after it, `None` when the
    /// status is not retriable or the server asks for more than `max_retry_after`.
    pub(crate) fn wait_for_status(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        attempt: u32,
        now: SystemTime,
    ) -> Option<Duration> {
        if status != StatusCode::TOO_MANY_REQUESTS && status != StatusCode::SERVICE_UNAVAILABLE {
            return None;
        }
        match retry_after(headers, now) {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(attempt)),
        }
    }
}

/// Parses `Retry-After` as delta seconds or an HTTP date (a past date means "now").
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A xorshift64* generator seeded from the clock and a counter: jitter, not cryptography.
fn random() -> u64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Truncation is fine: any bits make a seed.
        #[allow(clippy::cast_possible_truncation)]
        let seed = (nanos as u64) ^ 0x9E37_79B9_7F4A_7C15;
        x = seed | 1;
    }
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    STATE.store(x, Ordering::Relaxed);
    x.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(retry_after: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::RETRY_AFTER,
            HeaderValue::from_str(retry_after).unwrap(),
        );
        h
    }

    #[test]
    fn retry_after_in_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            retry_after(&headers("1"), now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            retry_after(&headers(" 120 "), now),
            Some(Duration::from_secs(120))
        );
        // 2015-10-21T07:28:00Z is `now`; the date is 10 s later.
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:10 GMT"), now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:27:00 GMT"), now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn only_429_and_503_are_retried_and_long_waits_are_capped() {
        let policy = RetryPolicy::new().max_retry_after(Duration::from_secs(5));
        let now = SystemTime::now();
        let h = headers("2");
        for status in [200, 400, 404, 500, 502, 504] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(policy.wait_for_status(status, &h, 1, now), None);
        }
        assert_eq!(
            policy.wait_for_status(StatusCode::TOO_MANY_REQUESTS, &h, 1, now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.wait_for_status(StatusCode::SERVICE_UNAVAILABLE, &h, 1, now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            policy.wait_for_status(StatusCode::SERVICE_UNAVAILABLE, &headers("6"), 1, now),
            None
        );
        assert!(
            policy
                .wait_for_status(StatusCode::SERVICE_UNAVAILABLE, &HeaderMap::new(), 1, now)
                .is_some()
        );
    }

    #[test]
    fn backoff_is_jittered_within_the_exponential_ceiling() {
        let policy = RetryPolicy::new()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_millis(350));
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
            assert!(policy.backoff(3) <= Duration::from_millis(350));
            assert!(policy.backoff(40) <= Duration::from_millis(350));
        }
        let distinct: std::collections::BTreeSet<Duration> =
            (0..50).map(|_| policy.backoff(3)).collect();
        assert!(distinct.len() > 10, "jitter looks constant: {distinct:?}");
        assert_eq!(
            RetryPolicy::new()
                .initial_backoff(Duration::ZERO)
                .backoff(3),
            Duration::ZERO
        );
    }

    #[test]
    fn never_means_one_attempt() {
        assert_eq!(RetryPolicy::never().attempts(), 1);
        assert_eq!(RetryPolicy::new().max_attempts(0).attempts(), 1);
    }
}
