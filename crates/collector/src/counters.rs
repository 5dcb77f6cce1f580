//! Counters of what the collector received, stored, skipped and quarantined.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a collector's counters (since it was built).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Counters {
    /// Reports received by the pull loop (decoded or not), spool replays included.
    pub received_pull: u64,
    /// Reports received by the webhook (decoded or not).
    pub received_push: u64,
    /// Reports newly stored in the sink.
    pub stored: u64,
    /// Reports skipped because their `messageId` was already stored.
    pub duplicates: u64,
    /// Items put into the quarantine (single reports or whole bodies), conflicts apart.
    pub quarantined: u64,
    /// Reports whose `messageId` was already stored with different content: kept in the
    /// quarantine with both versions ([`Scope::Conflict`](crate::Scope::Conflict)).
    pub conflicts: u64,
    /// Reports recovered from logs that a pulled or pushed report replaced (it has more
    /// fields): the message is still stored once ([`Stored::replaced`](crate::Stored)).
    pub replaced_recovered: u64,
    /// Reports stored as recovered from the voice logs by reconciliation
    /// ([`Collector::reconcile`](crate::Collector::reconcile)).
    pub recovered: u64,
    /// Requests whose response was lost after the request was sent
    /// ([`ResponseLost`](ivr_reports::ErrorKind::ResponseLost)): the reports it carried may
    /// be gone unless they also arrive by webhook.
    pub lost_response_incidents: u64,
    /// Possible-loss incidents recorded (durably, in the incident log) by this collector:
    /// lost responses seen live, and requests a restart found in flight at a crash
    /// ([`Collector::incidents`](crate::Collector::incidents)). Alert on it.
    pub possible_loss_incidents: u64,
    /// Failed pull attempts of any kind (the loop backs off and tries again).
    pub pull_errors: u64,
    /// Webhook requests answered 503 because the sink failed (the sender retries).
    pub push_errors: u64,
    /// Spooled bodies replayed into the sink after a restart or a sink failure.
    pub spool_replays: u64,
    /// Webhook requests answered 401: missing or wrong credentials (the body unread).
    pub push_unauthorized: u64,
    /// Webhook requests answered 503 because the decode memory budget stayed full too long
    /// (the sender retries).
    pub push_overloaded: u64,
    /// Webhook requests answered 507 because they would grow a full quarantine (the sender
    /// retries).
    pub push_quarantine_full: u64,
    /// Report requests the API throttled (`429` or `503`, retried by the client or final):
    /// each one halves the pull's concurrency ([`Counters::concurrency`]).
    pub throttled: u64,
    /// A gauge: how many report requests the pull keeps in flight now, at most
    /// [`CollectorBuilder::concurrency`](crate::CollectorBuilder::concurrency); lowered when
    /// the API throttles, raised again after a run of good pages. 0 before the first pull.
    pub concurrency: u64,
}

impl Counters {
    /// The counters in the Prometheus text exposition format (version 0.0.4), as served at
    /// `/metrics` by the webhook.
    ///
    /// ```
    /// let text = ivr_reports_collector::Counters::default().to_prometheus();
    /// assert!(text.contains("ivr_reports_received_total{source=\"pull\"} 0\n"));
    /// ```
    // Written by hand on purpose (issue #14 review): a fixed set of integer samples whose
    // names and labels are constants (nothing to escape), so prometheus-client (a registry,
    // a derive macro and its syn tree) would add more to every collector build than the
    // thirty lines it replaces. The test below checks the exposition grammar instead.
    #[must_use]
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(1024);
        let mut metric = |name: &str, help: &str, samples: &[(&str, u64)]| {
            let _ = writeln!(out, "# HELP ivr_reports_{name} {help}");
            let _ = writeln!(out, "# TYPE ivr_reports_{name} counter");
            for (labels, value) in samples {
                let _ = writeln!(out, "ivr_reports_{name}{labels} {value}");
            }
        };
        metric(
            "received_total",
            "Reports received, decoded or not.",
            &[
                ("{source=\"pull\"}", self.received_pull),
                ("{source=\"push\"}", self.received_push),
            ],
        );
        metric(
            "stored_total",
            "Reports newly stored.",
            &[("", self.stored)],
        );
        metric(
            "duplicates_total",
            "Reports skipped as already stored.",
            &[("", self.duplicates)],
        );
        metric(
            "quarantined_total",
            "Items put into the quarantine.",
            &[("", self.quarantined)],
        );
        metric(
            "conflicts_total",
            "Reports whose messageId was stored with different content (kept in the quarantine).",
            &[("", self.conflicts)],
        );
        metric(
            "replaced_recovered_total",
            "Reports recovered from logs replaced by a pulled or pushed report.",
            &[("", self.replaced_recovered)],
        );
        metric(
            "recovered_total",
            "Reports stored as recovered from the voice logs by reconciliation.",
            &[("", self.recovered)],
        );
        metric(
            "lost_response_incidents_total",
            "Report responses lost after the request was sent.",
            &[("", self.lost_response_incidents)],
        );
        metric(
            "possible_loss_incidents_total",
            "Possible-loss incidents recorded: lost responses and requests in flight at a crash.",
            &[("", self.possible_loss_incidents)],
        );
        metric(
            "pull_errors_total",
            "Failed pull attempts.",
            &[("", self.pull_errors)],
        );
        metric(
            "push_errors_total",
            "Webhook requests refused because the sink failed.",
            &[("", self.push_errors)],
        );
        metric(
            "spool_replays_total",
            "Spooled bodies replayed into the sink.",
            &[("", self.spool_replays)],
        );
        metric(
            "push_refused_total",
            "Webhook requests refused: unauthorized (401), over the memory budget (503), quarantine full (507).",
            &[
                ("{reason=\"unauthorized\"}", self.push_unauthorized),
                ("{reason=\"overloaded\"}", self.push_overloaded),
                ("{reason=\"quarantine_full\"}", self.push_quarantine_full),
            ],
        );
        metric(
            "throttled_total",
            "Report requests the API answered 429 or 503.",
            &[("", self.throttled)],
        );
        let _ = writeln!(
            out,
            "# HELP ivr_reports_pull_concurrency Report requests the pull keeps in flight now.\n\
             # TYPE ivr_reports_pull_concurrency gauge\n\
             ivr_reports_pull_concurrency {}",
            self.concurrency
        );
        out
    }
}

/// The live counters behind [`Counters`].
#[derive(Debug, Default)]
pub(crate) struct LiveCounters {
    pub(crate) received_pull: AtomicU64,
    pub(crate) received_push: AtomicU64,
    pub(crate) stored: AtomicU64,
    pub(crate) duplicates: AtomicU64,
    pub(crate) quarantined: AtomicU64,
    pub(crate) conflicts: AtomicU64,
    pub(crate) replaced_recovered: AtomicU64,
    pub(crate) recovered: AtomicU64,
    pub(crate) lost_response_incidents: AtomicU64,
    pub(crate) possible_loss_incidents: AtomicU64,
    pub(crate) pull_errors: AtomicU64,
    pub(crate) push_errors: AtomicU64,
    pub(crate) spool_replays: AtomicU64,
    pub(crate) push_unauthorized: AtomicU64,
    pub(crate) push_overloaded: AtomicU64,
    pub(crate) push_quarantine_full: AtomicU64,
    pub(crate) throttled: AtomicU64,
    pub(crate) concurrency: AtomicU64,
}

impl LiveCounters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Counters {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Counters {
            received_pull: get(&self.received_pull),
            received_push: get(&self.received_push),
            stored: get(&self.stored),
            duplicates: get(&self.duplicates),
            quarantined: get(&self.quarantined),
            conflicts: get(&self.conflicts),
            replaced_recovered: get(&self.replaced_recovered),
            recovered: get(&self.recovered),
            lost_response_incidents: get(&self.lost_response_incidents),
            possible_loss_incidents: get(&self.possible_loss_incidents),
            pull_errors: get(&self.pull_errors),
            push_errors: get(&self.push_errors),
            spool_replays: get(&self.spool_replays),
            push_unauthorized: get(&self.push_unauthorized),
            push_overloaded: get(&self.push_overloaded),
            push_quarantine_full: get(&self.push_quarantine_full),
            throttled: get(&self.throttled),
            concurrency: get(&self.concurrency),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text exposition format 0.0.4, as Prometheus parses it: every sample belongs to a
    /// metric declared once by `# HELP` then `# TYPE` just before its samples, names and
    /// label names are valid, label values quoted, values numbers, counters end `_total`.
    #[test]
    fn the_text_follows_the_exposition_grammar() {
        let counters = Counters {
            received_pull: 7,
            stored: 3,
            ..Counters::default()
        };
        let text = counters.to_prometheus();
        assert!(text.ends_with('\n'));
        let name_ok = |n: &str| {
            !n.is_empty()
                && n.bytes().enumerate().all(|(i, b)| {
                    b.is_ascii_alphabetic()
                        || b == b'_'
                        || b == b':'
                        || (i > 0 && b.is_ascii_digit())
                })
        };
        let mut declared = std::collections::HashSet::new();
        let (mut help, mut current): (Option<&str>, Option<(&str, &str)>) = (None, None);
        let mut samples = 0;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, doc) = rest.split_once(' ').unwrap();
                assert!(name_ok(name) && !doc.is_empty(), "{line}");
                assert!(declared.insert(name), "declared twice: {name}");
                help = Some(name);
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert_eq!(help, Some(name), "TYPE right after its HELP: {line}");
                assert!(matches!(kind, "counter" | "gauge"), "{line}");
                if kind == "counter" {
                    assert!(name.ends_with("_total"), "{line}");
                }
                current = Some((name, kind));
            } else {
                let (series, value) = line.rsplit_once(' ').unwrap();
                value.parse::<u64>().unwrap();
                let (name, labels) = match series.split_once('{') {
                    Some((name, labels)) => (name, Some(labels.strip_suffix('}').unwrap())),
                    None => (series, None),
                };
                assert_eq!(
                    current.map(|c| c.0),
                    Some(name),
                    "sample under its TYPE: {line}"
                );
                for pair in labels.into_iter().flat_map(|l| l.split(',')) {
                    let (label, quoted) = pair.split_once('=').unwrap();
                    assert!(name_ok(label) && !label.starts_with("__"), "{line}");
                    let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'));
                    assert!(
                        inner.is_some_and(|v| !v.contains(['"', '\\', '\n'])),
                        "{line}"
                    );
                }
                samples += 1;
            }
        }
        assert!(samples >= declared.len());
        assert!(text.contains("ivr_reports_received_total{source=\"pull\"} 7\n"));
        assert!(text.contains("ivr_reports_stored_total 3\n"));
    }
}
