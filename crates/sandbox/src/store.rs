//! The pending-report store: every report waits here until exactly one response takes it.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use crate::outcomes::Call;
use crate::pieces::Compact;

pub(crate) use ivr_reports_model::Generation;

/// One pending report.
#[derive(Clone, Debug)]
pub(crate) enum Entry {
    /// A simulated call, rendered in whichever generation it is fetched as.
    Call(Arc<Call>),
    /// An injected report, pre-encoded (compactly, see [`Compact`]) so that a page is a
    /// concatenation. Shared with its log book entry.
    Encoded(Arc<Compact>),
}

impl Entry {
    pub(crate) fn message_id(&self) -> &str {
        match self {
            Self::Call(call) => &call.message_id,
            Self::Encoded(e) => e.message_id(),
        }
    }

    pub(crate) fn bulk_id(&self) -> Option<&str> {
        match self {
            Self::Call(call) => call.bulk_id.as_deref(),
            Self::Encoded(e) => e.bulk_id(),
        }
    }
}

/// Which pending reports a request asks for.
#[derive(Clone, Debug)]
pub(crate) struct Filter {
    /// The endpoint's generation: simulated calls render in either, injected reports are
    /// handed out only by the endpoint of their own generation (no lossy conversion).
    pub(crate) generation: Generation,
    pub(crate) bulk_id: Option<String>,
    pub(crate) message_id: Option<String>,
}

impl Filter {
    /// Every report of a generation.
    #[cfg(test)]
    pub(crate) fn all(generation: Generation) -> Self {
        Self {
            generation,
            bulk_id: None,
            message_id: None,
        }
    }

    fn matches(&self, entry: &Entry) -> bool {
        let generation_ok = match entry {
            Entry::Call(_) => true,
            Entry::Encoded(e) => e.generation() == self.generation,
        };
        generation_ok
            && self
                .bulk_id
                .as_deref()
                .is_none_or(|b| entry.bulk_id() == Some(b))
            && self
                .message_id
                .as_deref()
                .is_none_or(|m| entry.message_id() == m)
    }

    fn is_empty(&self) -> bool {
        self.bulk_id.is_none() && self.message_id.is_none()
    }
}

/// Pending reports in arrival order. Callers hold it behind one lock, so a report taken by
/// one request is never seen by another.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pending: VecDeque<Entry>,
    /// Reports held back: their messages are not final yet (PENDING in the logs) and no
    /// request can take them until they are released.
    held: Vec<Entry>,
}

impl Store {
    pub(crate) fn push(&mut self, entry: Entry) {
        self.pending.push_back(entry);
    }

    /// Puts an entry back at the front (a taken report that could not be answered).
    pub(crate) fn push_front(&mut self, entry: Entry) {
        self.pending.push_front(entry);
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    pub(crate) fn clear(&mut self) {
        self.pending = VecDeque::new();
        self.held = Vec::new();
    }

    pub(crate) fn held_len(&self) -> usize {
        self.held.len()
    }

    /// The message ids of the held reports.
    pub(crate) fn held_ids(&self) -> HashSet<String> {
        self.held
            .iter()
            .map(|e| e.message_id().to_string())
            .collect()
    }

    /// Moves the pending reports that `pick` chooses to the held ones; returns how many.
    /// Reports already handed out cannot be held back.
    pub(crate) fn hold(&mut self, pick: impl Fn(&Entry) -> bool) -> usize {
        let before = self.held.len();
        let mut kept = VecDeque::with_capacity(self.pending.len());
        for entry in self.pending.drain(..) {
            if pick(&entry) {
                self.held.push(entry);
            } else {
                kept.push_back(entry);
            }
        }
        self.pending = kept;
        self.held.len() - before
    }

    /// Moves the held reports that `pick` chooses back to the end of the pending ones, in
    /// the order they were held; returns how many.
    pub(crate) fn release(&mut self, pick: impl Fn(&Entry) -> bool) -> usize {
        let released = self.unhold(pick);
        let n = released.len();
        self.pending.extend(released);
        n
    }

    /// Removes the held reports that `pick` chooses and returns them (they become final
    /// and are gone: the caller records them as lost).
    pub(crate) fn unhold(&mut self, pick: impl Fn(&Entry) -> bool) -> Vec<Entry> {
        let (released, kept): (Vec<Entry>, Vec<Entry>) =
            std::mem::take(&mut self.held).into_iter().partition(pick);
        self.held = kept;
        released
    }

    /// Removes and returns up to `limit` of the oldest entries that match `filter`.
    pub(crate) fn take(&mut self, filter: &Filter, limit: usize) -> Vec<Entry> {
        if filter.is_empty() {
            // The common case: a prefix of entries that all match is a cheap drain.
            let n = self
                .pending
                .iter()
                .take(limit)
                .take_while(|e| filter.matches(e))
                .count();
            if n == limit.min(self.pending.len()) {
                return self.pending.drain(..n).collect();
            }
        }
        let mut taken = Vec::new();
        let mut kept = VecDeque::with_capacity(self.pending.len());
        for entry in self.pending.drain(..) {
            if taken.len() < limit && filter.matches(&entry) {
                taken.push(entry);
            } else {
                kept.push_back(entry);
            }
        }
        self.pending = kept;
        taken
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, bulk: Option<&str>) -> Entry {
        entry_of(Generation::V1, id, bulk)
    }

    fn entry_of(generation: Generation, id: &str, bulk: Option<&str>) -> Entry {
        let mut pieces = crate::pieces::Pieces::default();
        Entry::Encoded(Arc::new(Compact::new(
            &mut pieces,
            generation,
            b"{}",
            id,
            bulk,
        )))
    }

    fn all() -> Filter {
        Filter::all(Generation::V1)
    }

    fn ids(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(Entry::message_id).collect()
    }

    #[test]
    fn takes_oldest_first_and_only_once() {
        let mut s = Store::default();
        for i in 0..5 {
            s.push(entry(&i.to_string(), None));
        }
        assert_eq!(ids(&s.take(&all(), 2)), ["0", "1"]);
        assert_eq!(ids(&s.take(&all(), 10)), ["2", "3", "4"]);
        assert!(s.take(&all(), 10).is_empty());
    }

    #[test]
    fn filters_keep_the_rest_in_order() {
        let mut s = Store::default();
        s.push(entry("a", Some("x")));
        s.push(entry("b", Some("y")));
        s.push(entry("c", Some("x")));
        s.push(entry("d", None));
        let by_bulk = Filter {
            bulk_id: Some("x".into()),
            ..all()
        };
        assert_eq!(ids(&s.take(&by_bulk, 1)), ["a"]);
        let by_id = Filter {
            message_id: Some("d".into()),
            ..all()
        };
        assert_eq!(ids(&s.take(&by_id, 50)), ["d"]);
        assert_eq!(ids(&s.take(&all(), 50)), ["b", "c"]);
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn held_reports_are_out_of_reach_until_released() {
        let mut s = Store::default();
        for id in ["a", "b", "c"] {
            s.push(entry(id, Some("x")));
        }
        assert_eq!(s.hold(|e| e.message_id() != "b"), 2);
        assert_eq!(s.held_ids(), HashSet::from(["a".into(), "c".into()]));
        assert_eq!(ids(&s.take(&all(), 50)), ["b"]);
        assert_eq!(s.release(|e| e.message_id() == "c"), 1);
        assert_eq!(ids(&s.take(&all(), 50)), ["c"]);
        assert_eq!(s.release(|_| true), 1);
        assert_eq!((s.held_len(), ids(&s.take(&all(), 50))), (0, vec!["a"]));
    }

    #[test]
    fn injected_reports_stay_in_their_generation() {
        let mut s = Store::default();
        s.push(entry_of(Generation::V2, "v2", None));
        s.push(entry_of(Generation::V1, "v1", None));
        assert_eq!(ids(&s.take(&Filter::all(Generation::V1), 50)), ["v1"]);
        assert!(s.take(&Filter::all(Generation::V1), 50).is_empty());
        assert_eq!(ids(&s.take(&Filter::all(Generation::V2), 50)), ["v2"]);
    }
}
