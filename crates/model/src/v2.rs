//! `CallReport`: the nested v2 delivery report of `GET /voice/1/reports` and current webhooks.

use alloc::string::String;
use core::fmt;

use rust_decimal::Decimal;

use crate::{Price, ReportError, Status, StatusGroup, Timestamp};

/// One v2 (nested) delivery report, as returned by `GET /voice/1/reports` and pushed to v2
/// webhooks (`notifyContentVersion` 2, the default). Call details live in
/// [`voice_call`](Self::voice_call).
///
/// ```
/// use ivr_reports_model::{AnsweredBy, CallReport, Status, VoiceCall};
///
/// let mut call = VoiceCall::new();
/// call.duration = Some(12);
/// call.answered_by = Some(AnsweredBy::Human);
/// let mut r = CallReport::new("msg-1", "41793026727");
/// r.status = Status::known(5);
/// r.voice_call = Some(call);
/// assert_eq!(r.voice_call.as_ref().and_then(|c| c.duration), Some(12));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
pub struct CallReport {
    /// Bulk id.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub bulk_id: Option<String>,
    /// Message id: unique per call, the key to deduplicate by.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::serde_util::string")
    )]
    pub message_id: String,
    /// Caller id the call was made from.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub from: Option<String>,
    /// Destination number.
    #[cfg_attr(
        feature = "serde",
        serde(default, deserialize_with = "crate::serde_util::string_or_empty")
    )]
    pub to: String,
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
    /// Mobile country and network codes.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub mcc_mnc: Option<String>,
    /// The `callbackData` given when sending, echoed back.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub callback_data: Option<String>,
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
    /// Delivery status.
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
    /// Details of the call itself.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_voice_call"
        )
    )]
    pub voice_call: Option<VoiceCall>,
}

impl CallReport {
    /// A report with its two identifying fields and nothing else.
    pub fn new(message_id: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            bulk_id: None,
            message_id: message_id.into(),
            from: None,
            to: to.into(),
            sent_at: None,
            mcc_mnc: None,
            callback_data: None,
            price: None,
            status: None,
            error: None,
            voice_call: None,
        }
    }

    /// The status group, when a status was sent.
    #[must_use]
    pub fn status_group(&self) -> Option<StatusGroup> {
        self.status.as_ref().map(|s| s.group)
    }

    /// What the call cost: charged duration (or else duration) x `pricePerSecond`, exactly.
    #[must_use]
    pub fn cost(&self) -> Option<Decimal> {
        let call = self.voice_call.as_ref()?;
        self.price
            .as_ref()?
            .cost_of(call.charged_duration.or(call.duration)?)
    }
}

/// The `voiceCall` object of a v2 report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
pub struct VoiceCall {
    /// The product feature, e.g. `Voice-message` or `Text-to-Speech`.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub feature: Option<String>,
    /// When the call started ringing.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_timestamp"
        )
    )]
    pub start_time: Option<Timestamp>,
    /// When the call was answered.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_timestamp"
        )
    )]
    pub answer_time: Option<Timestamp>,
    /// When the call ended.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_timestamp"
        )
    )]
    pub end_time: Option<Timestamp>,
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
    /// Charged duration in whole seconds.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_u32"
        )
    )]
    pub charged_duration: Option<u32>,
    /// Duration of the played audio file, in seconds (exact decimal).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::serde_util::opt_decimal"
        )
    )]
    pub file_duration: Option<Decimal>,
    /// Call direction.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub direction: Option<Direction>,
    /// DTMF codes entered, e.g. `"3, 9"`.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub dtmf_codes: Option<String>,
    /// Who answered, when machine detection ran.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub answered_by: Option<AnsweredBy>,
    /// Id of the call recording file.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub call_recording_file_id: Option<String>,
    /// IVR scenario data, for IVR calls.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_ivr"
        )
    )]
    pub ivr: Option<IvrData>,
}

impl VoiceCall {
    /// Call details with every field absent.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

/// The `voiceCall.ivr` object of a v2 report. All fields are strings on the wire; the
/// collected ones hold JSON encoded as a string, kept as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
pub struct IvrData {
    /// IVR scenario id.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub scenario_id: Option<String>,
    /// IVR scenario name.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub scenario_name: Option<String>,
    /// DTMF input collected by the scenario (JSON in a string).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub collected_dtmfs: Option<String>,
    /// Collected DTMF input after mapping (JSON in a string).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub collected_mapped_dtmfs: Option<String>,
    /// Speech recognised by the scenario.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub spoken_input: Option<String>,
    /// Recognised speech matched to the scenario's expectations.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub matched_spoken_input: Option<String>,
}

impl IvrData {
    /// IVR data with every field absent.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The value for a wire string; [`Self::Unknown`] keeps anything else.
            #[must_use]
            pub fn from_wire(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)*
                    other => Self::Unknown(String::from(other)),
                }
            }

            /// The wire string.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(other) => other,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Numbers and booleans as their text, as the codec reads them.
                let value = crate::serde_util::wire_text(d)?;
                Ok(Self::from_wire(&value))
            }
        }
    };
}

wire_enum! {
    /// Call direction (`INBOUND` or `OUTBOUND`).
    ///
    /// ```
    /// use ivr_reports_model::Direction;
    /// assert_eq!(Direction::from_wire("OUTBOUND"), Direction::Outbound);
    /// assert_eq!(Direction::from_wire("SIDEWAYS").as_str(), "SIDEWAYS");
    /// ```
    Direction {
        /// `INBOUND`: the call came in.
        Inbound => "INBOUND",
        /// `OUTBOUND`: the call went out.
        Outbound => "OUTBOUND",
    }
}

wire_enum! {
    /// Who answered the call, by machine detection (`HUMAN` or `MACHINE`).
    ///
    /// ```
    /// use ivr_reports_model::AnsweredBy;
    /// assert_eq!(AnsweredBy::from_wire("MACHINE"), AnsweredBy::Machine);
    /// assert_eq!(AnsweredBy::Human.to_string(), "HUMAN");
    /// ```
    AnsweredBy {
        /// `HUMAN`: a person answered.
        Human => "HUMAN",
        /// `MACHINE`: an answering machine or voicemail answered.
        Machine => "MACHINE",
    }
}
