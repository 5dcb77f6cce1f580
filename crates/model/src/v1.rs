//! `VoiceReport`: the flat v1 delivery report of `GET /tts/3/reports` and v1 webhooks.

use alloc::string::String;

use rust_decimal::Decimal;

use crate::{ErrorGroup, Price, ReportError, Status, StatusGroup, Timestamp};

/// One v1 (flat) delivery report, as returned by `GET /tts/3/reports` and pushed to v1
/// webhooks (`notifyContentVersion` 1).
///
/// The API declares no field required; real traffic omits or nulls many (unanswered calls
/// have no `answerTime`, `fileDuration` or `dtmfCodes`), so all but `messageId` and `to` are
/// `Option`. An empty string stays `Some("")`: answered calls without keypresses send
/// `"dtmfCodes": ""`.
///
/// ```
/// use ivr_reports_model::{Decimal, Price, Status, Timestamp, VoiceReport};
///
/// let mut r = VoiceReport::new("ff4804ef-6ab6-4abd-984d-ab3b1387e852", "385981178");
/// r.sent_at = Some(Timestamp::parse("2015-02-12T09:58:20.323+0100")?);
/// r.duration = Some(10);
/// r.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
/// r.status = Status::known(5);
/// assert!(r.is_delivered());
/// assert_eq!(r.cost(), Some(Decimal::new(10, 2)));
/// # Ok::<(), ivr_reports_model::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
pub struct VoiceReport {
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
    /// Message id: unique per call, the key to deduplicate by.
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
    /// DTMF codes the callee entered (`""` when none).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub dtmf_codes: Option<String>,
    /// URL of the call recording: absolute, or relative (`/tts/3/files/{messageId}/{to}`).
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub recorded_audio_file_url: Option<String>,
    /// IVR scenario id, for IVR calls.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub scenario_id: Option<String>,
    /// IVR scenario name, for IVR calls.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub scenario_name: Option<String>,
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
    /// Push only: the DTMF codes as a JSON array encoded in a string.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub dtmf_codes_as_json: Option<String>,
    /// Push only: URL of the transcription of the recorded audio.
    #[cfg_attr(
        feature = "serde",
        serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "crate::serde_util::opt_string"
        )
    )]
    pub transcribed_audio_file_url: Option<String>,
}

impl VoiceReport {
    /// A report with its two identifying fields and nothing else.
    pub fn new(message_id: impl Into<String>, to: impl Into<String>) -> Self {
        Self {
            bulk_id: None,
            message_id: message_id.into(),
            to: to.into(),
            sent_at: None,
            done_at: None,
            start_time: None,
            end_time: None,
            answer_time: None,
            duration: None,
            file_duration: None,
            mcc_mnc: None,
            callback_data: None,
            dtmf_codes: None,
            recorded_audio_file_url: None,
            scenario_id: None,
            scenario_name: None,
            price: None,
            status: None,
            error: None,
            dtmf_codes_as_json: None,
            transcribed_audio_file_url: None,
        }
    }

    /// The status group, when a status was sent.
    #[must_use]
    pub fn status_group(&self) -> Option<StatusGroup> {
        self.status.as_ref().map(|s| s.group)
    }

    /// The error group, when an error was sent.
    #[must_use]
    pub fn error_group(&self) -> Option<ErrorGroup> {
        self.error.as_ref().map(|e| e.group)
    }

    /// Whether the call was delivered (status group `DELIVERED`).
    #[must_use]
    pub fn is_delivered(&self) -> bool {
        self.status_group() == Some(StatusGroup::Delivered)
    }

    /// What the call cost: `duration` x `price.pricePerSecond`, exactly; `None` when either
    /// is missing (or on decimal overflow).
    #[must_use]
    pub fn cost(&self) -> Option<Decimal> {
        self.price.as_ref()?.cost_of(self.duration?)
    }
}
