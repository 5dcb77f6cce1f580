//! `LogEntry` and `LogsQuery`: the sent-message logs of `GET /tts/3/logs`, the second source
//! of truth beside the once-only reports.

use alloc::string::String;
use alloc::vec::Vec;

use crate::{Limit, Price, ReportError, Status, StatusGroup, Timestamp, VoiceReport};

/// One entry of the voice logs (`GET /tts/3/logs`): what Infobip knows about a message it
/// sent in the last 48 hours, readable any number of times (reports are handed out once).
///
/// A log carries the v1 report's identity, timing, price, status and error, plus `from` and
/// `text`; it has **no** DTMF codes, recording, answer/start/end times or `callbackData`.
/// [`to_recovered_report`](Self::to_recovered_report) turns a final entry into the
/// [`VoiceReport`] it stands for, with those fields left empty.
///
/// ```
/// use ivr_reports_model::{LogEntry, Status, StatusGroup};
///
/// let mut log = LogEntry::new("ff4804ef-6ab6-4abd-984d-ab3b1387e852", "385981178");
/// log.duration = Some(10);
/// assert!(!log.is_final()); // no status yet
/// log.status = Status::known(7); // PENDING_ENROUTE
/// assert!(!log.is_final());
/// log.status = Status::known(5); // DELIVERED_TO_HANDSET
/// assert!(log.is_final());
///
/// let report = log.to_recovered_report();
/// assert_eq!(report.message_id, log.message_id);
/// assert_eq!(report.status_group(), Some(StatusGroup::Delivered));
/// assert_eq!((report.duration, report.dtmf_codes), (Some(10), None));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
pub struct LogEntry {
    /// Bulk id: present when the request had more than one destination.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub bulk_id: Option<String>,
    /// Message id: unique per call, the key reports are deduplicated by.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::serde_util::string")
    )]
    pub message_id: String,
    /// Destination number.
    #[cfg_attr(
        feature = "serde",
        serde(default, deserialize_with = "crate::serde_util::string_or_empty")
    )]
    pub to: String,
    /// Caller id the call was placed from.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub from: Option<String>,
    /// The text that was spoken (text-to-speech messages).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub text: Option<String>,
    /// When the call was sent.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_timestamp"
        )
    )]
    pub sent_at: Option<Timestamp>,
    /// When Infobip finished processing the call.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_timestamp"
        )
    )]
    pub done_at: Option<Timestamp>,
    /// Call duration in whole seconds.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_u32"
        )
    )]
    pub duration: Option<u32>,
    /// Mobile country and network codes (`"0"` when unknown).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub mcc_mnc: Option<String>,
    /// Price per second.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_price"
        )
    )]
    pub price: Option<Price>,
    /// Current status (group `PENDING` while the call is not final).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_status"
        )
    )]
    pub status: Option<Status>,
    /// Why the call ended (group `OK` for answered calls).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_error"
        )
    )]
    pub error: Option<ReportError>,
}

impl LogEntry {
    /// A log entry with its two identifying fields and nothing else.
    pub fn new(message_id: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            bulk_id: None,
            message_id: message_id.into(),
            to: to.into(),
            from: None,
            text: None,
            sent_at: None,
            done_at: None,
            duration: None,
            mcc_mnc: None,
            price: None,
            status: None,
            error: None,
        }
    }

    /// The status group, when a status was sent.
    #[must_use]
    pub fn status_group(&self) -> Option<StatusGroup> {
        self.status.as_ref().map(|s| s.group)
    }

    /// Whether the message's outcome is final: a status is present and its group is not
    /// `PENDING`. A final entry will not change any more; its report is (or was) available.
    #[must_use]
    pub fn is_final(&self) -> bool {
        self.status_group()
            .is_some_and(|group| group != StatusGroup::Pending)
    }

    /// The v1 report this entry stands for, with every field a log carries (`bulkId`,
    /// `messageId`, `to`, `sentAt`, `doneAt`, `duration`, `mccMnc`, `price`, `status`,
    /// `error`) and every other field `None`: logs have no DTMF codes, recording,
    /// start/answer/end times, file duration, scenario or `callbackData`. `from` and `text`
    /// have no place in a v1 report and are dropped.
    #[must_use]
    pub fn to_recovered_report(&self) -> VoiceReport {
        let mut r = VoiceReport::new(self.message_id.clone(), self.to.clone());
        r.bulk_id.clone_from(&self.bulk_id);
        r.sent_at = self.sent_at;
        r.done_at = self.done_at;
        r.duration = self.duration;
        r.mcc_mnc.clone_from(&self.mcc_mnc);
        r.price.clone_from(&self.price);
        r.status.clone_from(&self.status);
        r.error.clone_from(&self.error);
        r
    }
}

/// The parameters of a logs request (`GET /tts/3/logs`): all optional. There is no cursor:
/// to read more than [`limit`](Self::limit) entries, narrow the time window.
///
/// `bulk_id` and `message_id` are repeatable (each value is one more `bulkId=`/`messageId=`
/// parameter; an entry matches any of them). Times are sent with millisecond precision in
/// the offset they carry (`2026-12-01T10:00:00.000+01:00`).
///
/// ```
/// use ivr_reports_model::{Limit, LogsQuery, StatusGroup, Timestamp};
///
/// let q = LogsQuery::new()
///     .bulk_id("b1")
///     .bulk_id("b2")
///     .general_status(StatusGroup::Delivered)
///     .sent_since(Timestamp::parse("2026-12-01T10:00:00.000+01:00")?)
///     .limit(Limit::MAX);
/// assert_eq!(q.bulk_id, ["b1", "b2"]);
/// assert_eq!(q.effective_limit().get(), 1000);
/// assert_eq!(LogsQuery::new().effective_limit(), Limit::DEFAULT);
/// # Ok::<(), ivr_reports_model::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
#[must_use]
pub struct LogsQuery {
    /// Only messages sent from this caller id (`from`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub from: Option<String>,
    /// Only messages to this destination (`to`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub to: Option<String>,
    /// Only messages of these bulks (`bulkId`, repeated); empty: any bulk.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub bulk_id: Vec<String>,
    /// Only these messages (`messageId`, repeated); empty: any message.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub message_id: Vec<String>,
    /// Only messages whose status is in this group (`generalStatus`, sent by name;
    /// [`StatusGroup::Unknown(0)`](StatusGroup::Unknown) is `ACCEPTED`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub general_status: Option<StatusGroup>,
    /// Only messages sent at or after this time (`sentSince`).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_timestamp"
        )
    )]
    pub sent_since: Option<Timestamp>,
    /// Only messages sent before this time (`sentUntil`).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_timestamp"
        )
    )]
    pub sent_until: Option<Timestamp>,
    /// At most this many entries (`limit`); `None` sends none (the API's default, 50).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub limit: Option<Limit>,
    /// Only messages to this mobile country code (`mcc`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub mcc: Option<String>,
    /// Only messages to this mobile network code (`mnc`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub mnc: Option<String>,
}

impl LogsQuery {
    /// A query with no filter and the default limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only messages sent from this caller id. Default: any.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Only messages to this destination. Default: any.
    pub fn to(mut self, to: impl Into<String>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// Also messages of this bulk (repeatable). Default: any bulk.
    pub fn bulk_id(mut self, bulk_id: impl Into<String>) -> Self {
        self.bulk_id.push(bulk_id.into());
        self
    }

    /// Also this message (repeatable). Default: any message.
    pub fn message_id(mut self, message_id: impl Into<String>) -> Self {
        self.message_id.push(message_id.into());
        self
    }

    /// Only messages whose status is in this group. Default: any.
    pub fn general_status(mut self, group: StatusGroup) -> Self {
        self.general_status = Some(group);
        self
    }

    /// Only messages sent at or after this time. Default: 48 hours back (all the API keeps).
    pub fn sent_since(mut self, since: Timestamp) -> Self {
        self.sent_since = Some(since);
        self
    }

    /// Only messages sent before this time. Default: now.
    pub fn sent_until(mut self, until: Timestamp) -> Self {
        self.sent_until = Some(until);
        self
    }

    /// At most this many entries. Default: the API's default, 50.
    pub fn limit(mut self, limit: Limit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Only messages to this mobile country code. Default: any.
    pub fn mcc(mut self, mcc: impl Into<String>) -> Self {
        self.mcc = Some(mcc.into());
        self
    }

    /// Only messages to this mobile network code. Default: any.
    pub fn mnc(mut self, mnc: impl Into<String>) -> Self {
        self.mnc = Some(mnc.into());
        self
    }

    /// The limit the API applies: the one set, or 50.
    #[must_use]
    pub fn effective_limit(&self) -> Limit {
        self.limit.unwrap_or_default()
    }

    /// Whether `entry` passes every filter of this query but the limit, as the API
    /// filters: `sentSince` inclusive, `sentUntil` exclusive (an entry without `sentAt`
    /// passes no time filter), `generalStatus` on the status group (an entry without a
    /// status passes none), `mcc`/`mnc` on the start/rest of `mccMnc` (the first three
    /// digits are the country). Servers (the sandbox) and tests filter with it.
    ///
    /// ```
    /// use ivr_reports_model::{LogEntry, LogsQuery};
    ///
    /// let mut e = LogEntry::new("m1", "385981178");
    /// e.bulk_id = Some("b2".into());
    /// e.mcc_mnc = Some("21901".into());
    /// assert!(LogsQuery::new().bulk_id("b1").bulk_id("b2").mcc("219").mnc("01").matches(&e));
    /// assert!(!LogsQuery::new().message_id("m2").matches(&e));
    /// ```
    #[must_use]
    pub fn matches(&self, entry: &LogEntry) -> bool {
        let one_of = |wanted: &[String], value: Option<&str>| {
            wanted.is_empty() || value.is_some_and(|v| wanted.iter().any(|w| w == v))
        };
        let equal = |wanted: &Option<String>, value: Option<&str>| {
            wanted.as_deref().is_none_or(|w| value == Some(w))
        };
        let mcc_mnc = entry.mcc_mnc.as_deref();
        let (mcc, mnc) = match mcc_mnc {
            Some(m) if m.len() > 3 && m.is_char_boundary(3) => (Some(&m[..3]), Some(&m[3..])),
            other => (other, None),
        };
        one_of(&self.bulk_id, entry.bulk_id.as_deref())
            && one_of(&self.message_id, Some(&entry.message_id))
            && equal(&self.from, entry.from.as_deref())
            && equal(&self.to, Some(&entry.to))
            && equal(&self.mcc, mcc)
            && equal(&self.mnc, mnc)
            && self
                .general_status
                .is_none_or(|g| entry.status_group() == Some(g))
            && self
                .sent_since
                .is_none_or(|since| entry.sent_at.is_some_and(|t| t.cmp_instant(&since).is_ge()))
            && self
                .sent_until
                .is_none_or(|until| entry.sent_at.is_some_and(|t| t.cmp_instant(&until).is_lt()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Decimal, ErrorGroup};

    #[test]
    fn final_means_a_status_outside_pending() {
        let mut e = LogEntry::new("m", "385");
        assert!(!e.is_final());
        e.status = Some(Status::new(26, StatusGroup::Pending, "PENDING_ACCEPTED"));
        assert!(!e.is_final());
        for group in [
            StatusGroup::Undeliverable,
            StatusGroup::Delivered,
            StatusGroup::Expired,
            StatusGroup::Rejected,
        ] {
            e.status = Some(Status::new(1, group, "X"));
            assert!(e.is_final(), "{group}");
        }
    }

    #[test]
    fn recovered_report_keeps_every_log_field_and_nothing_else() {
        let mut e = LogEntry::new("m", "385981178");
        e.bulk_id = Some("b".into());
        e.from = Some("41793026727".into());
        e.text = Some("Hello".into());
        e.sent_at = Some(Timestamp::parse("2015-02-12T09:58:20.323+0100").unwrap());
        e.done_at = Some(Timestamp::parse("2015-02-12T09:58:40.323+0100").unwrap());
        e.duration = Some(10);
        e.mcc_mnc = Some("21901".into());
        e.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
        e.status = Status::known(5);
        e.error = ReportError::known(5000);
        let r = e.to_recovered_report();
        let mut expected = VoiceReport::new("m", "385981178");
        expected.bulk_id = e.bulk_id.clone();
        expected.sent_at = e.sent_at;
        expected.done_at = e.done_at;
        expected.duration = Some(10);
        expected.mcc_mnc = e.mcc_mnc.clone();
        expected.price = e.price.clone();
        expected.status = e.status.clone();
        expected.error = e.error.clone();
        assert_eq!(r, expected);
        assert_eq!(r.error_group(), Some(ErrorGroup::Ok));
    }

    #[test]
    fn matching_follows_every_filter() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        let mut e = LogEntry::new("m1", "385981178");
        e.from = Some("4179".into());
        e.sent_at = Some(t("2026-12-01T10:00:00.000+01:00"));
        e.status = Status::known(5);
        e.mcc_mnc = Some("21901".into());
        assert!(LogsQuery::new().matches(&e));
        assert!(LogsQuery::new().from("4179").to("385981178").matches(&e));
        assert!(!LogsQuery::new().to("1").matches(&e));
        assert!(!LogsQuery::new().bulk_id("b").matches(&e));
        assert!(
            LogsQuery::new()
                .general_status(StatusGroup::Delivered)
                .matches(&e)
        );
        assert!(
            !LogsQuery::new()
                .general_status(StatusGroup::Pending)
                .matches(&e)
        );
        assert!(!LogsQuery::new().mcc("218").matches(&e));
        assert!(!LogsQuery::new().mnc("02").matches(&e));
        // The same instant in another offset: since is inclusive, until exclusive.
        let same = t("2026-12-01T09:00:00.000Z");
        assert!(LogsQuery::new().sent_since(same).matches(&e));
        assert!(!LogsQuery::new().sent_until(same).matches(&e));
        e.sent_at = None;
        assert!(!LogsQuery::new().sent_since(same).matches(&e));
    }
}
