//! `MemorySink`: reports and quarantine in memory, keeping the whole `Sink` contract.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use ivr_reports_collector::{
    AnyReport, BoxFuture, Conflict, Error, ErrorKind, QuarantineEntry, Quarantined, Sink, Stored,
    canonical_json,
};

/// A sink in memory (not durable: "reopening" it means handing out the same instance).
/// First write wins; duplicates are told from conflicts by the canonical JSON; quarantine
/// ids are never reused.
#[derive(Debug, Default)]
pub struct MemorySink {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    reports: Vec<AnyReport>,
    index: HashMap<String, usize>,
    quarantine: Vec<QuarantineEntry>,
    last_id: u64,
}

impl MemorySink {
    /// An empty sink.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> Result<MutexGuard<'_, State>, Error> {
        self.state
            .lock()
            .map_err(|_| Error::new(ErrorKind::Io, "the memory sink is poisoned"))
    }
}

impl Sink for MemorySink {
    fn store<'a>(&'a self, reports: &'a [AnyReport]) -> BoxFuture<'a, Result<Stored, Error>> {
        Box::pin(async move {
            let mut state = self.state()?;
            let (mut new, mut duplicates, mut conflicts) = (0, 0, Vec::new());
            for report in reports {
                if report.message_id().is_empty() {
                    return Err(Error::new(
                        ErrorKind::Rejected,
                        "a report without a messageId",
                    ));
                }
                match state.index.get(report.message_id()).copied() {
                    Some(at) if canonical_json(&state.reports[at]) == canonical_json(report) => {
                        duplicates += 1;
                    }
                    Some(at) => {
                        conflicts.push(Conflict::new(state.reports[at].clone(), report.clone()));
                    }
                    None => {
                        let at = state.reports.len();
                        state.index.insert(report.message_id().to_string(), at);
                        state.reports.push(report.clone());
                        new += 1;
                    }
                }
            }
            Ok(Stored::new(new, duplicates).with_conflicts(conflicts))
        })
    }

    fn quarantine<'a>(&'a self, items: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut state = self.state()?;
            for item in items {
                state.last_id += 1;
                let id = state.last_id;
                state
                    .quarantine
                    .push(QuarantineEntry::new(id, item.clone()));
            }
            Ok(())
        })
    }

    fn reports(&self) -> BoxFuture<'_, Result<Vec<AnyReport>, Error>> {
        Box::pin(async move { Ok(self.state()?.reports.clone()) })
    }

    fn quarantined(&self) -> BoxFuture<'_, Result<Vec<QuarantineEntry>, Error>> {
        Box::pin(async move { Ok(self.state()?.quarantine.clone()) })
    }

    fn release<'a>(&'a self, ids: &'a [u64]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.state()?.quarantine.retain(|e| !ids.contains(&e.id));
            Ok(())
        })
    }

    fn describe(&self) -> String {
        "memory".into()
    }
}
