//! The test-number table: how a simulated call ends, decided by its destination number alone.

use std::sync::Arc;

use ivr_reports_model::{
    AnsweredBy, CallReport, Decimal, Direction, IvrData, Price, ReportError, Status, Timestamp,
    VoiceCall, VoiceReport,
};

/// How a simulated call ends. The **last digit** of the destination number decides:
///
/// | last digit | outcome | example | v1 status / error | v2 status / error |
/// |---|---|---|---|---|
/// | 0 | answered by a human, no key pressed (`dtmfCodes: ""`) | `41790000000` | 5 DELIVERED_TO_HANDSET / 5000 VOICE_ANSWERED | 5 / 10000 NORMAL_HANGUP, answeredBy HUMAN |
/// | 1 | answered by a human who pressed `1` | `41790000001` | 5 / 5000 | 5 / 10000, HUMAN |
/// | 2 | answered by a human who pressed `2` | `41790000002` | 5 / 5000 | 5 / 10000, HUMAN |
/// | 3 | answered by a machine (voicemail) | `41790000003` | 5 / 5001 VOICE_ANSWERED_MACHINE | 5 / 10002 MACHINE_DETECTED, MACHINE |
/// | 4 | busy | `41790000004` | 97 BUSY / 5002 EC_VOICE_USER_BUSY | 97 / 10201 BUSY |
/// | 5 | no answer | `41790000005` | 15 EXPIRED_EXPIRED / 5003 EC_VOICE_NO_ANSWER | 15 / 10200 NO_ANSWER |
/// | 6 | declined by the callee | `41790000006` | 15 / 5603 EC_DECLINE | 15 / 10203 REJECTED |
/// | 7 | temporarily unavailable | `41790000007` | 15 / 5480 EC_VOICE_ERROR_TEMPORARILY_NOT_AVAILABLE | 15 / 10204 TEMPORARILY_UNAVAILABLE |
/// | 8 | invalid destination | `41790000008` | 15 / 5404 EC_VOICE_ERROR_DESTINATION_NOT_FOUND | 15 / 10303 DESTINATION_NOT_FOUND |
/// | 9 | rejected at send: no call is placed | `41790000009` | 100 UNDELIVERABLE_REJECTED_PLATFORM / none | 100 / none |
///
/// Names, groups, descriptions and `permanent` flags come from the model's code tables
/// ([`ivr_reports_model::ERRORS`]), which follow Infobip's code pages and, where real traffic
/// differs, real traffic.
///
/// A number without any digit counts as an invalid destination. Answered calls last
/// 5 to 60 seconds (machines 20 to 29), derived from the number's digits, so the same number
/// always gives the same report; unanswered calls have duration 0, no start, answer or end
/// time, no `fileDuration`, `mccMnc` `"0"` and no `dtmfCodes`, as real traffic does.
///
/// Price per second by destination prefix: `385` 0.01 EUR, `41` 0.03 CHF, `44` 0.012 GBP,
/// `1` 0.0085 USD, anything else 0.02 EUR. `mccMnc` of answered calls: `385` 21901, `41`
/// 22801, `44` 23410, `1` 310260, else `0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Answered by a human, no key pressed.
    AnsweredNoKeys,
    /// Answered by a human who pressed `1`.
    AnsweredPressed1,
    /// Answered by a human who pressed `2`.
    AnsweredPressed2,
    /// Answered by a machine.
    Machine,
    /// The destination was busy.
    Busy,
    /// Nobody answered.
    NoAnswer,
    /// The callee declined the call.
    Declined,
    /// The destination was temporarily unavailable.
    Unavailable,
    /// The destination does not exist.
    InvalidDestination,
    /// The platform rejected the send; no call was placed.
    Rejected,
}

impl Outcome {
    /// Every outcome, in the order of the table (index = last digit).
    pub const ALL: [Self; 10] = [
        Self::AnsweredNoKeys,
        Self::AnsweredPressed1,
        Self::AnsweredPressed2,
        Self::Machine,
        Self::Busy,
        Self::NoAnswer,
        Self::Declined,
        Self::Unavailable,
        Self::InvalidDestination,
        Self::Rejected,
    ];

    /// The outcome of a call to `to`: decided by its last digit.
    ///
    /// ```
    /// use ivr_reports_sandbox::Outcome;
    ///
    /// assert_eq!(Outcome::for_number("41790000004"), Outcome::Busy);
    /// assert_eq!(Outcome::for_number("+385 98 117 81"), Outcome::AnsweredPressed1);
    /// assert_eq!(Outcome::for_number("nobody"), Outcome::InvalidDestination);
    /// ```
    #[must_use]
    pub fn for_number(to: &str) -> Self {
        match to.bytes().rev().find(u8::is_ascii_digit) {
            Some(d) => Self::ALL[usize::from(d - b'0')],
            None => Self::InvalidDestination,
        }
    }

    /// A test number with this outcome (`4179000000` followed by the outcome's digit).
    #[must_use]
    pub fn example_number(self) -> String {
        format!("4179000000{}", self.digit())
    }

    /// The last digit that selects this outcome.
    #[must_use]
    pub fn digit(self) -> u8 {
        // ALL is indexed by digit and holds every variant.
        Self::ALL.iter().position(|o| *o == self).unwrap_or(0) as u8
    }

    /// Whether a call with this outcome was answered (by a human or a machine).
    #[must_use]
    pub fn is_answered(self) -> bool {
        matches!(
            self,
            Self::AnsweredNoKeys | Self::AnsweredPressed1 | Self::AnsweredPressed2 | Self::Machine
        )
    }

    /// Whether the platform rejects the send itself (no call placed).
    #[must_use]
    pub fn is_rejected_at_send(self) -> bool {
        self == Self::Rejected
    }

    /// The DTMF codes the callee entered: `Some("")` when answered without keys.
    #[must_use]
    pub fn dtmf_codes(self) -> Option<&'static str> {
        match self {
            Self::AnsweredNoKeys | Self::Machine => Some(""),
            Self::AnsweredPressed1 => Some("1"),
            Self::AnsweredPressed2 => Some("2"),
            _ => None,
        }
    }

    /// The status id both generations report.
    fn status_id(self) -> u32 {
        match self {
            o if o.is_answered() => 5,
            Self::Busy => 97,
            Self::Rejected => 100,
            _ => 15,
        }
    }

    /// The v1 (legacy) error id, if any.
    fn v1_error_id(self) -> Option<u32> {
        Some(match self {
            Self::AnsweredNoKeys | Self::AnsweredPressed1 | Self::AnsweredPressed2 => 5000,
            Self::Machine => 5001,
            Self::Busy => 5002,
            Self::NoAnswer => 5003,
            Self::Declined => 5603,
            Self::Unavailable => 5480,
            Self::InvalidDestination => 5404,
            Self::Rejected => return None,
        })
    }

    /// The v2 (current) error, if any.
    fn v2_error(self) -> Option<ReportError> {
        let id = match self {
            Self::AnsweredNoKeys | Self::AnsweredPressed1 | Self::AnsweredPressed2 => 10000,
            Self::Machine => 10002,
            Self::Busy => 10201,
            Self::NoAnswer => 10200,
            Self::Declined => 10203,
            Self::Unavailable => 10204,
            Self::InvalidDestination => 10303,
            Self::Rejected => return None,
        };
        ReportError::known(id)
    }
}

/// What a simulated call plays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Feature {
    /// Text to speech (`text`).
    Tts,
    /// A recorded audio file (`audioFileUrl`).
    Audio,
    /// An IVR scenario.
    Ivr { scenario_id: Arc<str> },
}

/// A simulated call: everything its report is derived from. Compact, as it waits in the
/// store and the log book once per call: the texts a send shares between its calls (bulk
/// id, sender, callback data, scenario) are shared, the others are boxed (no spare
/// capacity), and the report itself is built only when it is handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Call {
    pub(crate) message_id: Box<str>,
    pub(crate) bulk_id: Option<Arc<str>>,
    pub(crate) from: Option<Arc<str>>,
    pub(crate) to: Box<str>,
    pub(crate) callback_data: Option<Arc<str>>,
    pub(crate) feature: Feature,
    /// When the call was sent, in epoch milliseconds.
    pub(crate) sent_at_ms: i64,
}

/// The shape of one call's timeline, in milliseconds after `sentAt`, and its figures.
struct Timeline {
    outcome: Outcome,
    /// Ringing starts (answered calls only).
    start: i64,
    answer: i64,
    end: i64,
    done: i64,
    duration: u32,
}

fn digit_sum(to: &str) -> u32 {
    to.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .sum()
}

fn timeline(to: &str) -> Timeline {
    let outcome = Outcome::for_number(to);
    let h = digit_sum(to) * 7 + u32::try_from(to.len()).unwrap_or(0);
    let start = 800 + i64::from(h % 400);
    let ring = 2_000 + i64::from(h % 5) * 1_000;
    let duration = match outcome {
        Outcome::Machine => 20 + h % 10,
        o if o.is_answered() => 5 + h % 56,
        _ => 0,
    };
    let answer = start + ring;
    let end = answer + i64::from(duration) * 1000;
    let done = match outcome {
        o if o.is_answered() => end + 150,
        Outcome::Rejected => 20,
        Outcome::Busy | Outcome::Declined => start + 1_500,
        _ => start + 30_000,
    };
    Timeline {
        outcome,
        start,
        answer,
        end,
        done,
        duration,
    }
}

/// Price per second by destination prefix (longest match), as documented on [`Outcome`].
pub(crate) fn price_for(to: &str) -> Price {
    let digits = to.trim_start_matches(['+', '0', ' ']);
    let (amount, scale, currency) = if digits.starts_with("385") {
        (1, 2, "EUR")
    } else if digits.starts_with("41") {
        (3, 2, "CHF")
    } else if digits.starts_with("44") {
        (12, 3, "GBP")
    } else if digits.starts_with('1') {
        (85, 4, "USD")
    } else {
        (2, 2, "EUR")
    };
    Price::new(Decimal::new(amount, scale), currency)
}

fn mcc_mnc_for(to: &str, answered: bool) -> String {
    let digits = to.trim_start_matches(['+', '0', ' ']);
    let code = if !answered {
        "0"
    } else if digits.starts_with("385") {
        "21901"
    } else if digits.starts_with("41") {
        "22801"
    } else if digits.starts_with("44") {
        "23410"
    } else if digits.starts_with('1') {
        "310260"
    } else {
        "0"
    };
    code.to_string()
}

/// A shared text as the model's owned one.
fn text(shared: Option<&Arc<str>>) -> Option<String> {
    shared.map(|s| s.to_string())
}

fn at(base_ms: i64, delta_ms: i64) -> Option<Timestamp> {
    Timestamp::from_unix_millis(base_ms.saturating_add(delta_ms)).ok()
}

impl Call {
    /// The call's outcome, from its destination.
    pub(crate) fn outcome(&self) -> Outcome {
        Outcome::for_number(&self.to)
    }

    /// The v1 (flat) report of this call. `base_url` makes the recording URL absolute.
    pub(crate) fn v1_report(&self, base_url: &str) -> VoiceReport {
        let t = timeline(&self.to);
        let answered = t.outcome.is_answered();
        let base = self.sent_at_ms;
        let mut r = VoiceReport::new(&*self.message_id, &*self.to);
        r.bulk_id = text(self.bulk_id.as_ref());
        r.sent_at = at(base, 0);
        r.done_at = at(base, t.done);
        if answered {
            r.start_time = at(base, t.start);
            r.answer_time = at(base, t.answer);
            r.end_time = at(base, t.end);
            r.file_duration = Some(Decimal::new(i64::from(t.duration) * 10 - 15, 1));
            r.recorded_audio_file_url = Some(format!(
                "{}/tts/3/files/{}/{}",
                base_url.trim_end_matches('/'),
                self.message_id,
                self.to
            ));
        }
        r.duration = Some(t.duration);
        r.mcc_mnc = Some(mcc_mnc_for(&self.to, answered));
        r.callback_data = text(self.callback_data.as_ref());
        r.dtmf_codes = t.outcome.dtmf_codes().map(str::to_string);
        if let Feature::Ivr { scenario_id } = &self.feature {
            r.scenario_id = Some(scenario_id.to_string());
            r.scenario_name = Some(format!("Scenario {scenario_id}"));
        }
        r.price = Some(price_for(&self.to));
        r.status = Status::known(t.outcome.status_id());
        r.error = t.outcome.v1_error_id().and_then(ReportError::known);
        r
    }

    /// The v1 report as pushed to a v1 webhook: with the push-only fields.
    pub(crate) fn v1_push_report(&self, base_url: &str) -> VoiceReport {
        let mut r = self.v1_report(base_url);
        r.dtmf_codes_as_json = r.dtmf_codes.as_deref().map(|codes| {
            if codes.is_empty() {
                "[]".to_string()
            } else {
                format!("[\"{codes}\"]")
            }
        });
        r
    }

    /// The v2 (nested) report of this call.
    pub(crate) fn v2_report(&self) -> CallReport {
        let t = timeline(&self.to);
        let answered = t.outcome.is_answered();
        let base = self.sent_at_ms;
        let mut r = CallReport::new(&*self.message_id, &*self.to);
        r.bulk_id = text(self.bulk_id.as_ref());
        r.from = text(self.from.as_ref());
        r.sent_at = at(base, 0);
        r.mcc_mnc = Some(mcc_mnc_for(&self.to, answered));
        r.callback_data = text(self.callback_data.as_ref());
        r.price = Some(price_for(&self.to));
        r.status = Status::known(t.outcome.status_id());
        r.error = t.outcome.v2_error();
        if t.outcome.is_rejected_at_send() {
            return r;
        }
        let mut call = VoiceCall::new();
        call.feature = Some(
            match self.feature {
                Feature::Tts => "Text-to-Speech",
                Feature::Audio | Feature::Ivr { .. } => "Voice-message",
            }
            .to_string(),
        );
        call.duration = Some(t.duration);
        call.charged_duration = Some(t.duration);
        call.direction = Some(Direction::Outbound);
        if answered {
            call.start_time = at(base, t.start);
            call.answer_time = at(base, t.answer);
            call.end_time = at(base, t.end);
            call.file_duration = Some(Decimal::new(i64::from(t.duration) * 10 - 15, 1));
            call.dtmf_codes = t.outcome.dtmf_codes().map(str::to_string);
            call.answered_by = Some(if t.outcome == Outcome::Machine {
                AnsweredBy::Machine
            } else {
                AnsweredBy::Human
            });
            call.call_recording_file_id = Some(format!("rec-{}", self.message_id));
        }
        if let Feature::Ivr { scenario_id } = &self.feature {
            let mut ivr = IvrData::new();
            ivr.scenario_id = Some(scenario_id.to_string());
            ivr.scenario_name = Some(format!("Scenario {scenario_id}"));
            if answered {
                let digits = t.outcome.dtmf_codes().unwrap_or("");
                ivr.collected_dtmfs = Some(format!("{{\"menu\":\"{digits}\"}}"));
                ivr.collected_mapped_dtmfs = Some(format!("{{\"menu\":\"{digits}\"}}"));
            }
            call.ivr = Some(ivr);
        }
        r.voice_call = Some(call);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivr_reports_model::StatusGroup;

    fn call(to: &str) -> Call {
        Call {
            message_id: "m-1".into(),
            bulk_id: Some("b-1".into()),
            from: Some("41790000100".into()),
            to: to.into(),
            callback_data: Some("cb".into()),
            feature: Feature::Tts,
            sent_at_ms: 1_423_731_500_323,
        }
    }

    #[test]
    fn every_digit_has_its_outcome() {
        for (digit, outcome) in Outcome::ALL.iter().enumerate() {
            assert_eq!(usize::from(outcome.digit()), digit);
            assert_eq!(Outcome::for_number(&outcome.example_number()), *outcome);
        }
    }

    #[test]
    fn times_are_ordered_and_reports_coherent() {
        for outcome in Outcome::ALL {
            let c = call(&outcome.example_number());
            let v1 = c.v1_report("http://127.0.0.1:1");
            let sent = v1.sent_at.unwrap();
            let done = v1.done_at.unwrap();
            assert!(sent <= done, "{outcome:?}");
            if outcome.is_answered() {
                let (s, a, e) = (
                    v1.start_time.unwrap(),
                    v1.answer_time.unwrap(),
                    v1.end_time.unwrap(),
                );
                assert!(sent <= s && s <= a && a <= e && e <= done, "{outcome:?}");
                let secs = (e.unix_millis() - a.unix_millis()) / 1000;
                assert_eq!(Some(u32::try_from(secs).unwrap()), v1.duration);
                assert!(v1.is_delivered());
                assert!(v1.error.as_ref().unwrap().is_ok());
            } else {
                assert_eq!(v1.duration, Some(0));
                assert_eq!(v1.mcc_mnc.as_deref(), Some("0"));
                assert!(v1.start_time.is_none() && v1.file_duration.is_none());
                assert!(!v1.is_delivered());
            }
            let v2 = c.v2_report();
            assert_eq!(v2.status, v1.status);
            assert_eq!(v2.price, v1.price);
            assert_eq!(v2.callback_data.as_deref(), Some("cb"));
            if outcome.is_rejected_at_send() {
                assert_eq!(v2.status_group(), Some(StatusGroup::Rejected));
                assert!(v2.voice_call.is_none());
            } else {
                let vc = v2.voice_call.as_ref().unwrap();
                assert_eq!(vc.duration, v1.duration);
                assert_eq!(vc.dtmf_codes, v1.dtmf_codes);
                assert!(v2.error.as_ref().unwrap().id >= 10_000);
            }
        }
    }

    #[test]
    fn same_number_same_report() {
        let a = call("38598111").v1_report("x");
        let b = call("38598111").v1_report("x");
        assert_eq!(a, b);
        assert_eq!(a.price.as_ref().unwrap().per_second.to_string(), "0.01");
        assert_eq!(a.mcc_mnc.as_deref(), Some("21901"));
        assert_eq!(price_for("+1 555 0100").currency, "USD");
        assert_eq!(price_for("0044 20").per_second.to_string(), "0.012");
    }
}
