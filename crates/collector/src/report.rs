//! `StoredReport`: a report of either generation, as the sinks keep it.

use std::fmt;

use ivr_reports_codec::{Codec, Format, Report};
use ivr_reports_model::{
    AnsweredBy, CallReport, Decimal, Price, ReportError, Status, StatusGroup, Timestamp,
    VoiceReport,
};

/// A report generation: which endpoint and which shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Generation {
    /// v1 flat reports ([`VoiceReport`], `GET /tts/3/reports`, `notifyContentVersion` 1).
    V1,
    /// v2 nested reports ([`CallReport`], `GET /voice/1/reports`, `notifyContentVersion` 2).
    V2,
}

impl Generation {
    /// The version number: 1 or 2.
    #[must_use]
    pub fn number(self) -> u8 {
        match self {
            Self::V1 => 1,
            Self::V2 => 2,
        }
    }

    /// The generation of a version number.
    #[must_use]
    pub fn from_number(n: u8) -> Option<Self> {
        match n {
            1 => Some(Self::V1),
            2 => Some(Self::V2),
            _ => None,
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.number())
    }
}

/// A report as stored: the decoded report of its generation, unchanged.
///
/// Sinks keep the report whole, in the codec's canonical JSON ([`StoredReport::to_json`]),
/// with its generation beside it, so nothing the API sent is flattened away; the common
/// fields have accessors that work for both generations (v2 values come from `voiceCall`).
///
/// ```
/// use ivr_reports_collector::{Generation, StoredReport};
/// use ivr_reports_collector::model::{CallReport, VoiceReport};
///
/// let v1 = StoredReport::from(VoiceReport::new("m1", "385981178"));
/// let v2 = StoredReport::from(CallReport::new("m2", "385981179"));
/// assert_eq!((v1.message_id(), v1.generation()), ("m1", Generation::V1));
/// assert_eq!((v2.message_id(), v2.to()), ("m2", "385981179"));
/// let json = v1.to_json();
/// assert_eq!(StoredReport::from_json(Generation::V1, &json).unwrap(), v1);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StoredReport {
    /// A v1 flat report.
    V1(VoiceReport),
    /// A v2 nested report.
    V2(CallReport),
}

impl From<VoiceReport> for StoredReport {
    fn from(report: VoiceReport) -> Self {
        Self::V1(report)
    }
}

impl From<CallReport> for StoredReport {
    fn from(report: CallReport) -> Self {
        Self::V2(report)
    }
}

/// Turns a decoded report of either generation into a [`StoredReport`].
pub(crate) trait IntoStored: Report + ivr_reports::ReportKind {
    const GENERATION: Generation;
    fn into_stored(self) -> StoredReport;
}

impl IntoStored for VoiceReport {
    const GENERATION: Generation = Generation::V1;
    fn into_stored(self) -> StoredReport {
        StoredReport::V1(self)
    }
}

impl IntoStored for CallReport {
    const GENERATION: Generation = Generation::V2;
    fn into_stored(self) -> StoredReport {
        StoredReport::V2(self)
    }
}

impl StoredReport {
    /// The `messageId`: the key every sink deduplicates by.
    #[must_use]
    pub fn message_id(&self) -> &str {
        match self {
            Self::V1(r) => &r.message_id,
            Self::V2(r) => &r.message_id,
        }
    }

    /// The generation.
    #[must_use]
    pub fn generation(&self) -> Generation {
        match self {
            Self::V1(_) => Generation::V1,
            Self::V2(_) => Generation::V2,
        }
    }

    /// The `bulkId`.
    #[must_use]
    pub fn bulk_id(&self) -> Option<&str> {
        match self {
            Self::V1(r) => r.bulk_id.as_deref(),
            Self::V2(r) => r.bulk_id.as_deref(),
        }
    }

    /// The destination number.
    #[must_use]
    pub fn to(&self) -> &str {
        match self {
            Self::V1(r) => &r.to,
            Self::V2(r) => &r.to,
        }
    }

    /// The status.
    #[must_use]
    pub fn status(&self) -> Option<&Status> {
        match self {
            Self::V1(r) => r.status.as_ref(),
            Self::V2(r) => r.status.as_ref(),
        }
    }

    /// The status group.
    #[must_use]
    pub fn status_group(&self) -> Option<StatusGroup> {
        self.status().map(|s| s.group)
    }

    /// The error.
    #[must_use]
    pub fn error(&self) -> Option<&ReportError> {
        match self {
            Self::V1(r) => r.error.as_ref(),
            Self::V2(r) => r.error.as_ref(),
        }
    }

    /// The call duration in seconds (v2: `voiceCall.duration`).
    #[must_use]
    pub fn duration(&self) -> Option<u32> {
        match self {
            Self::V1(r) => r.duration,
            Self::V2(r) => r.voice_call.as_ref().and_then(|c| c.duration),
        }
    }

    /// The price per second.
    #[must_use]
    pub fn price(&self) -> Option<&Price> {
        match self {
            Self::V1(r) => r.price.as_ref(),
            Self::V2(r) => r.price.as_ref(),
        }
    }

    /// What the call cost: duration × price per second, exactly.
    #[must_use]
    pub fn cost(&self) -> Option<Decimal> {
        match self {
            Self::V1(r) => r.cost(),
            Self::V2(r) => r.cost(),
        }
    }

    /// When the call was sent.
    #[must_use]
    pub fn sent_at(&self) -> Option<Timestamp> {
        match self {
            Self::V1(r) => r.sent_at,
            Self::V2(r) => r.sent_at,
        }
    }

    /// When the call was done (v1 `doneAt`; v2 `voiceCall.endTime`).
    #[must_use]
    pub fn done_at(&self) -> Option<Timestamp> {
        match self {
            Self::V1(r) => r.done_at,
            Self::V2(r) => r.voice_call.as_ref().and_then(|c| c.end_time),
        }
    }

    /// The DTMF digits the callee pressed, as sent (`"3, 9"`).
    #[must_use]
    pub fn dtmf_codes(&self) -> Option<&str> {
        match self {
            Self::V1(r) => r.dtmf_codes.as_deref(),
            Self::V2(r) => r.voice_call.as_ref().and_then(|c| c.dtmf_codes.as_deref()),
        }
    }

    /// Who answered the call, when the report says: v2 `voiceCall.answeredBy`, else the
    /// error code (v1 5000 `VOICE_ANSWERED` is a human and 5001 `VOICE_ANSWERED_MACHINE` a
    /// machine; current codes 10003 `HUMAN_DETECTED` and 10002 `MACHINE_DETECTED`).
    #[must_use]
    pub fn answered_by(&self) -> Option<AnsweredBy> {
        if let Self::V2(r) = self
            && let Some(by) = r.voice_call.as_ref().and_then(|c| c.answered_by.clone())
        {
            return Some(by);
        }
        match self.error().map(|e| e.id) {
            Some(5000 | 10003) => Some(AnsweredBy::Human),
            Some(5001 | 10002) => Some(AnsweredBy::Machine),
            _ => None,
        }
    }

    /// The report alone in the codec's canonical JSON (the API's shape, compact, absent
    /// fields omitted, exact decimals).
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut Vec<u8>) {
        // The `json` feature of the codec is always on in this crate, so `new` succeeds.
        if let Ok(codec) = Codec::new(Format::Json) {
            match self {
                Self::V1(r) => codec.encode_report(r, out),
                Self::V2(r) => codec.encode_report(r, out),
            }
        }
    }

    /// Reads a report of `generation` from JSON (e.g. [`StoredReport::to_json`]'s output).
    ///
    /// # Errors
    /// The codec's error when the JSON is not a report of that generation.
    pub fn from_json(
        generation: Generation,
        json: &[u8],
    ) -> Result<Self, ivr_reports_codec::Error> {
        let codec = Codec::new(Format::Json)?;
        Ok(match generation {
            Generation::V1 => Self::V1(codec.decode_report(json)?),
            Generation::V2 => Self::V2(codec.decode_report(json)?),
        })
    }

    /// Appends the journal line: `{"generation":N,"report":{...}}` and a newline.
    pub(crate) fn write_journal_line(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"generation\":");
        out.push(b'0' + self.generation().number());
        out.extend_from_slice(b",\"report\":");
        self.write_json(out);
        out.extend_from_slice(b"}\n");
    }

    /// Reads a journal line (without its newline).
    pub(crate) fn parse_journal_line(line: &[u8]) -> Result<Self, String> {
        let rest = line
            .strip_prefix(b"{\"generation\":")
            .ok_or("not a journal line")?;
        let (&digit, rest) = rest.split_first().ok_or("not a journal line")?;
        let generation = digit
            .checked_sub(b'0')
            .and_then(Generation::from_number)
            .ok_or("unknown generation")?;
        let json = rest
            .strip_prefix(b",\"report\":")
            .and_then(|r| r.strip_suffix(b"}"))
            .ok_or("not a journal line")?;
        Self::from_json(generation, json).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_lines_round_trip_both_generations() {
        let mut v1 = VoiceReport::new("a\"b", "385");
        v1.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
        v1.duration = Some(10);
        let v2 = CallReport::new("m2", "386");
        for report in [StoredReport::from(v1), StoredReport::from(v2)] {
            let mut line = Vec::new();
            report.write_journal_line(&mut line);
            assert_eq!(line.last(), Some(&b'\n'));
            assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
            let parsed = StoredReport::parse_journal_line(&line[..line.len() - 1]).unwrap();
            assert_eq!(parsed, report);
        }
    }

    #[test]
    fn answered_by_reads_v2_fields_and_v1_codes() {
        let mut v1 = VoiceReport::new("a", "1");
        v1.error = ReportError::known(5001);
        assert_eq!(
            StoredReport::from(v1).answered_by(),
            Some(AnsweredBy::Machine)
        );
        let mut v1 = VoiceReport::new("b", "1");
        v1.error = ReportError::known(5000);
        assert_eq!(
            StoredReport::from(v1).answered_by(),
            Some(AnsweredBy::Human)
        );
        let mut v2 = CallReport::new("c", "1");
        let mut call = ivr_reports_model::VoiceCall::new();
        call.answered_by = Some(AnsweredBy::Machine);
        v2.voice_call = Some(call);
        v2.error = ReportError::known(10000);
        assert_eq!(
            StoredReport::from(v2).answered_by(),
            Some(AnsweredBy::Machine)
        );
        assert_eq!(
            StoredReport::from(CallReport::new("d", "1")).answered_by(),
            None
        );
    }

    #[test]
    fn bad_journal_lines_are_refused() {
        for bad in [
            &b""[..],
            b"{\"generation\":3,\"report\":{\"messageId\":\"x\"}}",
            b"{\"generation\":1,\"report\":{\"to\":\"x\"}}",
            b"{\"generation\":1,\"report\":{\"messageId\":\"x\"}",
        ] {
            assert!(StoredReport::parse_journal_line(bad).is_err());
        }
    }
}
