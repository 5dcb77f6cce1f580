//! `Generation` and `Report`: the two report generations, and what every layer asks of a
//! report whichever generation it is.
//!
//! This is the one home of the concept: the codec reads and writes a `R: Report`, the facade
//! picks the endpoint from [`Report::GENERATION`], the collector stores an [`AnyReport`] and
//! the command line flattens through the accessors. Adding an accessor here makes it
//! available everywhere.

use core::fmt;

use rust_decimal::Decimal;

use crate::{
    AnsweredBy, CallReport, Price, ReportError, Status, StatusGroup, Timestamp, VoiceReport,
};

/// A report generation: which endpoint serves it and which shape it has.
///
/// Like [`AnyReport`] and [`ReportRef`] it is exhaustive on purpose: a new generation is a
/// breaking change that every `match` (the codec's readers and writers first) must handle.
///
/// ```
/// use ivr_reports_model::Generation;
///
/// assert_eq!(Generation::V1.path(), "/tts/3/reports");
/// assert_eq!(Generation::from_number(2), Some(Generation::V2));
/// assert_eq!(Generation::V2.to_string(), "v2");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
// Exhaustive on purpose: a new generation is a breaking change that every layer's `match`
// must handle, rather than fall into a wildcard arm.
pub enum Generation {
    /// v1 flat reports ([`VoiceReport`], `GET /tts/3/reports`, `notifyContentVersion` 1).
    V1,
    /// v2 nested reports ([`CallReport`], `GET /voice/1/reports`, `notifyContentVersion` 2).
    V2,
}

impl Generation {
    /// Every generation, oldest first.
    pub const ALL: [Self; 2] = [Self::V1, Self::V2];

    /// The version number: 1 or 2 (also the webhook's `notifyContentVersion`).
    #[must_use]
    pub const fn number(self) -> u8 {
        match self {
            Self::V1 => 1,
            Self::V2 => 2,
        }
    }

    /// The generation of a version number.
    #[must_use]
    pub const fn from_number(n: u8) -> Option<Self> {
        match n {
            1 => Some(Self::V1),
            2 => Some(Self::V2),
            _ => None,
        }
    }

    /// The path of the endpoint that hands out reports of this generation.
    #[must_use]
    pub const fn path(self) -> &'static str {
        match self {
            Self::V1 => "/tts/3/reports",
            Self::V2 => "/voice/1/reports",
        }
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.number())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::VoiceReport {}
    impl Sealed for crate::CallReport {}
}

/// A delivery report of one [`Generation`]: [`VoiceReport`] (v1) or [`CallReport`] (v2).
///
/// The accessors read the same fact from either shape (v2 keeps call details in
/// `voiceCall`), so code written against `R: Report` works for both generations. The trait
/// is sealed: the codec reads and writes each generation, so only this crate adds one.
///
/// ```
/// use ivr_reports_model::{CallReport, Generation, Report, VoiceCall, VoiceReport};
///
/// fn line<R: Report>(r: &R) -> String {
///     format!("{} {} {:?}", R::GENERATION, r.message_id(), r.duration())
/// }
///
/// let mut v1 = VoiceReport::new("m1", "385981178");
/// v1.duration = Some(10);
/// let mut call = VoiceCall::new();
/// call.duration = Some(12);
/// let mut v2 = CallReport::new("m2", "385981179");
/// v2.voice_call = Some(call);
/// assert_eq!(line(&v1), "v1 m1 Some(10)");
/// assert_eq!(line(&v2), "v2 m2 Some(12)");
/// assert_eq!(v2.into_any().generation(), Generation::V2);
/// ```
pub trait Report:
    sealed::Sealed + Clone + fmt::Debug + PartialEq + Send + Sync + Sized + 'static
{
    /// The generation of this type.
    const GENERATION: Generation;

    /// The `messageId`: unique per call, the key to deduplicate by.
    fn message_id(&self) -> &str;
    /// The `bulkId`.
    fn bulk_id(&self) -> Option<&str>;
    /// The destination number.
    fn to(&self) -> &str;
    /// The mobile country and network codes.
    fn mcc_mnc(&self) -> Option<&str>;
    /// The `callbackData` given when sending, echoed back.
    fn callback_data(&self) -> Option<&str>;
    /// The delivery status.
    fn status(&self) -> Option<&Status>;
    /// The status group, when a status was sent.
    fn status_group(&self) -> Option<StatusGroup> {
        self.status().map(|s| s.group)
    }
    /// Why the call ended (group `OK` for answered calls).
    fn error(&self) -> Option<&ReportError>;
    /// The price per second.
    fn price(&self) -> Option<&Price>;
    /// The call duration in seconds (v2: `voiceCall.duration`).
    fn duration(&self) -> Option<u32>;
    /// What the call cost, exactly (see each type's `cost`).
    fn cost(&self) -> Option<Decimal>;
    /// When the call was sent.
    fn sent_at(&self) -> Option<Timestamp>;
    /// When the call was done (v1 `doneAt`; v2 `voiceCall.endTime`).
    fn done_at(&self) -> Option<Timestamp>;
    /// The DTMF digits the callee pressed, as sent (`"3, 9"`; v2: `voiceCall.dtmfCodes`).
    fn dtmf_codes(&self) -> Option<&str>;
    /// Who answered the call, when the report says: v2 `voiceCall.answeredBy`, else the
    /// error code (v1 5000 `VOICE_ANSWERED` is a human and 5001 `VOICE_ANSWERED_MACHINE` a
    /// machine; current codes 10003 `HUMAN_DETECTED` and 10002 `MACHINE_DETECTED`).
    fn answered_by(&self) -> Option<AnsweredBy> {
        answered_by_code(self.error())
    }

    /// The report as an [`AnyReport`].
    fn into_any(self) -> AnyReport;
    /// The report of this generation inside `report`, or `report` back when it holds
    /// another generation.
    ///
    /// # Errors
    /// `report` itself when it is of another generation.
    // Giving the report back whole is the point; boxing it would cost every decode.
    #[allow(clippy::result_large_err)]
    fn from_any(report: AnyReport) -> Result<Self, AnyReport>;
    /// The report borrowed as a [`ReportRef`].
    fn as_any(&self) -> ReportRef<'_>;
}

fn answered_by_code(error: Option<&ReportError>) -> Option<AnsweredBy> {
    match error.map(|e| e.id) {
        Some(5000 | 10003) => Some(AnsweredBy::Human),
        Some(5001 | 10002) => Some(AnsweredBy::Machine),
        _ => None,
    }
}

impl Report for VoiceReport {
    const GENERATION: Generation = Generation::V1;

    fn message_id(&self) -> &str {
        &self.message_id
    }
    fn bulk_id(&self) -> Option<&str> {
        self.bulk_id.as_deref()
    }
    fn to(&self) -> &str {
        &self.to
    }
    fn mcc_mnc(&self) -> Option<&str> {
        self.mcc_mnc.as_deref()
    }
    fn callback_data(&self) -> Option<&str> {
        self.callback_data.as_deref()
    }
    fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }
    fn error(&self) -> Option<&ReportError> {
        self.error.as_ref()
    }
    fn price(&self) -> Option<&Price> {
        self.price.as_ref()
    }
    fn duration(&self) -> Option<u32> {
        self.duration
    }
    fn cost(&self) -> Option<Decimal> {
        VoiceReport::cost(self)
    }
    fn sent_at(&self) -> Option<Timestamp> {
        self.sent_at
    }
    fn done_at(&self) -> Option<Timestamp> {
        self.done_at
    }
    fn dtmf_codes(&self) -> Option<&str> {
        self.dtmf_codes.as_deref()
    }
    fn into_any(self) -> AnyReport {
        AnyReport::V1(self)
    }
    fn from_any(report: AnyReport) -> Result<Self, AnyReport> {
        match report {
            AnyReport::V1(r) => Ok(r),
            other => Err(other),
        }
    }
    fn as_any(&self) -> ReportRef<'_> {
        ReportRef::V1(self)
    }
}

impl Report for CallReport {
    const GENERATION: Generation = Generation::V2;

    fn message_id(&self) -> &str {
        &self.message_id
    }
    fn bulk_id(&self) -> Option<&str> {
        self.bulk_id.as_deref()
    }
    fn to(&self) -> &str {
        &self.to
    }
    fn mcc_mnc(&self) -> Option<&str> {
        self.mcc_mnc.as_deref()
    }
    fn callback_data(&self) -> Option<&str> {
        self.callback_data.as_deref()
    }
    fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }
    fn error(&self) -> Option<&ReportError> {
        self.error.as_ref()
    }
    fn price(&self) -> Option<&Price> {
        self.price.as_ref()
    }
    fn duration(&self) -> Option<u32> {
        self.voice_call.as_ref().and_then(|c| c.duration)
    }
    fn cost(&self) -> Option<Decimal> {
        CallReport::cost(self)
    }
    fn sent_at(&self) -> Option<Timestamp> {
        self.sent_at
    }
    fn done_at(&self) -> Option<Timestamp> {
        self.voice_call.as_ref().and_then(|c| c.end_time)
    }
    fn dtmf_codes(&self) -> Option<&str> {
        self.voice_call
            .as_ref()
            .and_then(|c| c.dtmf_codes.as_deref())
    }
    fn answered_by(&self) -> Option<AnsweredBy> {
        self.voice_call
            .as_ref()
            .and_then(|c| c.answered_by.clone())
            .or_else(|| answered_by_code(self.error()))
    }
    fn into_any(self) -> AnyReport {
        AnyReport::V2(self)
    }
    fn from_any(report: AnyReport) -> Result<Self, AnyReport> {
        match report {
            AnyReport::V2(r) => Ok(r),
            other => Err(other),
        }
    }
    fn as_any(&self) -> ReportRef<'_> {
        ReportRef::V2(self)
    }
}

/// A report of either generation, owned: what a store of both keeps.
///
/// It has every [`Report`] accessor, answered by the report inside.
///
/// ```
/// use ivr_reports_model::{AnyReport, CallReport, Generation, Report, VoiceReport};
///
/// let reports = [
///     VoiceReport::new("m1", "385981178").into_any(),
///     CallReport::new("m2", "385981179").into_any(),
/// ];
/// let ids: Vec<_> = reports.iter().map(|r| (r.generation(), r.message_id())).collect();
/// assert_eq!(ids, [(Generation::V1, "m1"), (Generation::V2, "m2")]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AnyReport {
    /// A v1 flat report.
    V1(VoiceReport),
    /// A v2 nested report.
    V2(CallReport),
}

/// A report of either generation, borrowed. See [`AnyReport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReportRef<'a> {
    /// A v1 flat report.
    V1(&'a VoiceReport),
    /// A v2 nested report.
    V2(&'a CallReport),
}

impl From<VoiceReport> for AnyReport {
    fn from(report: VoiceReport) -> Self {
        Self::V1(report)
    }
}

impl From<CallReport> for AnyReport {
    fn from(report: CallReport) -> Self {
        Self::V2(report)
    }
}

/// The accessors of `Report`, on the report of either generation inside.
macro_rules! any_accessors {
    ($($(#[$doc:meta])* fn $name:ident -> $ty:ty;)*) => {
        impl<'a> ReportRef<'a> {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(self) -> $ty {
                    match self {
                        Self::V1(r) => Report::$name(r),
                        Self::V2(r) => Report::$name(r),
                    }
                }
            )*
        }

        impl AnyReport {
            $(
                $(#[$doc])*
                #[must_use]
                #[allow(clippy::needless_lifetimes)]
                pub fn $name<'a>(&'a self) -> $ty {
                    self.as_ref().$name()
                }
            )*
        }
    };
}

any_accessors! {
    /// The `messageId`: unique per call, the key to deduplicate by.
    fn message_id -> &'a str;
    /// The `bulkId`.
    fn bulk_id -> Option<&'a str>;
    /// The destination number.
    fn to -> &'a str;
    /// The mobile country and network codes.
    fn mcc_mnc -> Option<&'a str>;
    /// The `callbackData` given when sending, echoed back.
    fn callback_data -> Option<&'a str>;
    /// The delivery status.
    fn status -> Option<&'a Status>;
    /// The status group, when a status was sent.
    fn status_group -> Option<StatusGroup>;
    /// Why the call ended.
    fn error -> Option<&'a ReportError>;
    /// The price per second.
    fn price -> Option<&'a Price>;
    /// The call duration in seconds (v2: `voiceCall.duration`).
    fn duration -> Option<u32>;
    /// What the call cost, exactly.
    fn cost -> Option<Decimal>;
    /// When the call was sent.
    fn sent_at -> Option<Timestamp>;
    /// When the call was done (v1 `doneAt`; v2 `voiceCall.endTime`).
    fn done_at -> Option<Timestamp>;
    /// The DTMF digits the callee pressed, as sent.
    fn dtmf_codes -> Option<&'a str>;
    /// Who answered the call, when the report says (see [`Report::answered_by`]).
    fn answered_by -> Option<AnsweredBy>;
}

impl<'a> ReportRef<'a> {
    /// The generation of the report.
    #[must_use]
    pub fn generation(self) -> Generation {
        match self {
            Self::V1(_) => Generation::V1,
            Self::V2(_) => Generation::V2,
        }
    }
}

impl AnyReport {
    /// The generation of the report.
    #[must_use]
    pub fn generation(&self) -> Generation {
        self.as_ref().generation()
    }

    /// The report borrowed.
    #[must_use]
    pub fn as_ref(&self) -> ReportRef<'_> {
        match self {
            Self::V1(r) => ReportRef::V1(r),
            Self::V2(r) => ReportRef::V2(r),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VoiceCall;

    #[test]
    fn accessors_read_both_shapes() {
        let mut v1 = VoiceReport::new("a", "1");
        v1.error = ReportError::known(5001);
        v1.duration = Some(7);
        v1.dtmf_codes = Some("1, 2".into());
        let any = v1.clone().into_any();
        assert_eq!(any.answered_by(), Some(AnsweredBy::Machine));
        assert_eq!((any.duration(), any.dtmf_codes()), (Some(7), Some("1, 2")));
        assert_eq!(VoiceReport::from_any(any), Ok(v1));

        let mut call = VoiceCall::new();
        call.answered_by = Some(AnsweredBy::Machine);
        call.duration = Some(9);
        let mut v2 = CallReport::new("c", "1");
        v2.voice_call = Some(call);
        v2.error = ReportError::known(10003);
        assert_eq!(v2.answered_by(), Some(AnsweredBy::Machine));
        assert_eq!(v2.duration(), Some(9));
        let any = AnyReport::from(v2);
        assert_eq!(any.generation(), Generation::V2);
        assert!(VoiceReport::from_any(any.clone()).is_err());
        assert_eq!(CallReport::from_any(any).map(|r| r.to), Ok("1".into()));
        assert_eq!(CallReport::new("d", "1").answered_by(), None);
    }

    #[test]
    fn generations_round_trip_their_numbers() {
        for g in Generation::ALL {
            assert_eq!(Generation::from_number(g.number()), Some(g));
        }
        assert_eq!(Generation::from_number(3), None);
        assert_eq!(VoiceReport::GENERATION, Generation::V1);
        assert_eq!(CallReport::GENERATION, Generation::V2);
    }
}
