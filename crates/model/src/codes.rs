//! Status and error groups, and the tables of known voice status and error codes.
//!
//! Sources: Infobip's public OpenAPI specification and official SDKs, and real payloads (see
//! the project's `spec/infobip-facts.md`). Group ids of the legacy (5xxx) error codes differ
//! between sources, so nothing here ever rejects an unexpected combination: the tables only
//! name what is known.

use core::fmt;

macro_rules! group_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident = $id:literal => $wire:literal,)* }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A group id this version does not know, kept as sent.
            Unknown(u32),
        }

        impl $name {
            /// Every known group, in id order.
            pub const KNOWN: &'static [Self] = &[$(Self::$variant,)*];

            /// The group with this wire id; [`Self::Unknown`] keeps any other id.
            #[must_use]
            pub const fn from_id(id: u32) -> Self {
                match id {
                    $($id => Self::$variant,)*
                    other => Self::Unknown(other),
                }
            }

            /// The wire id of the group.
            #[must_use]
            pub const fn id(self) -> u32 {
                match self {
                    $(Self::$variant => $id,)*
                    Self::Unknown(id) => id,
                }
            }

            /// The wire name of a known group (`None` for [`Self::Unknown`]).
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$variant => Some($wire),)*
                    Self::Unknown(_) => None,
                }
            }

            /// The known group with this wire name.
            #[must_use]
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($wire => Some(Self::$variant),)*
                    _ => None,
                }
            }
        }

        impl From<u32> for $name {
            fn from(id: u32) -> Self {
                Self::from_id(id)
            }
        }

        impl From<$name> for u32 {
            fn from(group: $name) -> Self {
                group.id()
            }
        }

        impl fmt::Display for $name {
            /// The wire name, or `UNKNOWN(<id>)`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "UNKNOWN({})", self.id()),
                }
            }
        }

        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u32(self.id())
            }
        }

        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <u32 as serde::Deserialize>::deserialize(d).map(Self::from_id)
            }
        }
    };
}

group_enum! {
    /// The group of a delivery [`Status`](crate::Status): where the call stands.
    ///
    /// ```
    /// use ivr_reports_model::StatusGroup;
    ///
    /// assert_eq!(StatusGroup::from_id(3), StatusGroup::Delivered);
    /// assert_eq!(StatusGroup::Delivered.name(), Some("DELIVERED"));
    /// assert_eq!(StatusGroup::from_id(42), StatusGroup::Unknown(42));
    /// assert_eq!(StatusGroup::Unknown(42).to_string(), "UNKNOWN(42)");
    /// ```
    StatusGroup {
        /// 1: accepted, not final yet.
        Pending = 1 => "PENDING",
        /// 2: could not be delivered (busy, no answer, cancelled, ...).
        Undeliverable = 2 => "UNDELIVERABLE",
        /// 3: delivered (answered).
        Delivered = 3 => "DELIVERED",
        /// 4: expired (Infobip reports no answer, declined and unavailable this way too).
        Expired = 4 => "EXPIRED",
        /// 5: rejected before any call was placed.
        Rejected = 5 => "REJECTED",
    }
}

group_enum! {
    /// The group of a [`ReportError`](crate::ReportError): who or what ended the call.
    ///
    /// ```
    /// use ivr_reports_model::ErrorGroup;
    ///
    /// assert_eq!(ErrorGroup::from_id(0), ErrorGroup::Ok);
    /// assert_eq!(ErrorGroup::from_name("USER_ERRORS"), Some(ErrorGroup::UserErrors));
    /// ```
    ErrorGroup {
        /// 0: no error (the call was answered).
        Ok = 0 => "OK",
        /// 1: the handset or device.
        HandsetErrors = 1 => "HANDSET_ERRORS",
        /// 2: the callee (busy, no answer, declined) or the request.
        UserErrors = 2 => "USER_ERRORS",
        /// 3: the operator or network.
        OperatorErrors = 3 => "OPERATOR_ERRORS",
    }
}

/// A known voice status code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusInfo {
    /// Status id.
    pub id: u32,
    /// Status name, as on the wire.
    pub name: &'static str,
    /// The group the status belongs to.
    pub group: StatusGroup,
    /// Human-readable description.
    pub description: &'static str,
}

/// A known voice error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ErrorInfo {
    /// Error id.
    pub id: u32,
    /// Error name, as on the wire.
    pub name: &'static str,
    /// The group the error belongs to (for legacy codes: our best reading of the sources).
    pub group: ErrorGroup,
    /// Human-readable description.
    pub description: &'static str,
    /// Whether retrying the same call cannot succeed.
    pub permanent: bool,
}

const fn st(
    id: u32,
    name: &'static str,
    group: StatusGroup,
    description: &'static str,
) -> StatusInfo {
    StatusInfo {
        id,
        name,
        group,
        description,
    }
}

const fn er(
    id: u32,
    name: &'static str,
    group: ErrorGroup,
    description: &'static str,
    permanent: bool,
) -> ErrorInfo {
    ErrorInfo {
        id,
        name,
        group,
        description,
        permanent,
    }
}

use ErrorGroup as E;
use StatusGroup as S;

/// Every known voice status, sorted by id.
pub const STATUSES: &[StatusInfo] = &[
    st(
        5,
        "DELIVERED_TO_HANDSET",
        S::Delivered,
        "Message delivered to handset",
    ),
    st(15, "EXPIRED_EXPIRED", S::Expired, "Message expired"),
    st(
        26,
        "PENDING_ACCEPTED",
        S::Pending,
        "Message sent to next instance",
    ),
    st(
        53,
        "REJECTED_INVALID_AUDIO_FILE_URL",
        S::Rejected,
        "Invalid audio file URL",
    ),
    st(
        54,
        "REJECTED_UNSUPPORTED_LANGUAGE",
        S::Rejected,
        "Unsupported language",
    ),
    st(
        55,
        "REJECTED_MESSAGE_IS_EMPTY",
        S::Rejected,
        "Message is empty",
    ),
    st(
        56,
        "REJECTED_INVALID_NOTIFY_URL",
        S::Rejected,
        "Invalid notify URL",
    ),
    st(
        57,
        "REJECTED_INVALID_NOTIFY_CONTENT_TYPE",
        S::Rejected,
        "Invalid notify content type",
    ),
    st(
        58,
        "REJECTED_INVALID_DTMF_SIGN",
        S::Rejected,
        "Invalid DTMF sign",
    ),
    st(
        59,
        "REJECTED_INVALID_DTMF_TIMEOUT",
        S::Rejected,
        "Invalid DTMF timeout",
    ),
    st(
        60,
        "REJECTED_INVALID_RING_TIMEOUT",
        S::Rejected,
        "Invalid ring timeout",
    ),
    st(
        61,
        "REJECTED_INVALID_CALL_TIMEOUT",
        S::Rejected,
        "Invalid call timeout",
    ),
    st(
        62,
        "REJECTED_INVALID_MACHINE_DETECTION",
        S::Rejected,
        "Invalid machine detection",
    ),
    st(
        83,
        "REJECTED_MACHINE_DETECTION_DISABLED",
        S::Rejected,
        "Machine detection disabled",
    ),
    st(91, "REJECTED_INVALID_SSML", S::Rejected, "Invalid SSML"),
    st(96, "NO_ANSWER", S::Undeliverable, "Call not answered"),
    st(97, "BUSY", S::Undeliverable, "Destination busy"),
    st(98, "CANCELLED", S::Undeliverable, "Call cancelled"),
    st(99, "REJECTED", S::Rejected, "Call rejected"),
    st(
        100,
        "UNDELIVERABLE_REJECTED_PLATFORM",
        S::Rejected,
        "Rejected by the platform",
    ),
];

/// Every known voice error, sorted by id: the legacy 5xxx codes of `/tts/3/reports` and the
/// 10xxx codes current since 2024-10-09.
pub const ERRORS: &[ErrorInfo] = &[
    er(
        5000,
        "VOICE_ANSWERED",
        E::Ok,
        "Call answered by human",
        true,
    ),
    er(
        5001,
        "VOICE_ANSWERED_MACHINE",
        E::Ok,
        "Call answered by machine",
        true,
    ),
    er(
        5002,
        "EC_VOICE_USER_BUSY",
        E::UserErrors,
        "User was busy",
        false,
    ),
    er(
        5003,
        "EC_VOICE_NO_ANSWER",
        E::UserErrors,
        "User did not answer",
        false,
    ),
    er(
        5004,
        "EC_VOICE_ERROR_DOWNLOADING_FILE",
        E::UserErrors,
        "Error downloading audio file",
        false,
    ),
    er(
        5005,
        "EC_VOICE_ERROR_UNSUPPORTED_AUDIO_FORMAT",
        E::UserErrors,
        "Unsupported audio format",
        true,
    ),
    er(
        5404,
        "DESTINATION_NOT_FOUND",
        E::OperatorErrors,
        "Destination not found",
        false,
    ),
    er(
        5408,
        "REQUEST_TIMEOUT",
        E::OperatorErrors,
        "Request timeout",
        false,
    ),
    er(
        5480,
        "TEMPORARILY_NOT_AVAILABLE",
        E::UserErrors,
        "Destination temporarily not available",
        false,
    ),
    er(
        5487,
        "REQUEST_TERMINATED",
        E::UserErrors,
        "Request terminated",
        false,
    ),
    er(5603, "EC_DECLINE", E::UserErrors, "Call declined", false),
    er(10000, "NORMAL_HANGUP", E::Ok, "Call ended normally", false),
    er(
        10001,
        "ANSWERED_ELSEWHERE",
        E::Ok,
        "Call answered elsewhere",
        false,
    ),
    er(10002, "MACHINE_DETECTED", E::Ok, "Machine detected", false),
    er(10003, "HUMAN_DETECTED", E::Ok, "Human detected", false),
    er(
        10004,
        "MAX_DURATION_REACHED",
        E::Ok,
        "Maximum call duration reached",
        false,
    ),
    er(10200, "NO_ANSWER", E::UserErrors, "No answer", false),
    er(10201, "BUSY", E::UserErrors, "Destination busy", false),
    er(10202, "CANCELLED", E::UserErrors, "Call cancelled", false),
    er(10203, "REJECTED", E::UserErrors, "Call rejected", false),
    er(
        10204,
        "TEMPORARILY_UNAVAILABLE",
        E::UserErrors,
        "Destination temporarily unavailable",
        false,
    ),
];

/// The known status with this id.
///
/// ```
/// let s = ivr_reports_model::status_info(26).unwrap();
/// assert_eq!(s.name, "PENDING_ACCEPTED");
/// assert_eq!(s.group, ivr_reports_model::StatusGroup::Pending);
/// assert!(ivr_reports_model::status_info(4242).is_none());
/// ```
#[must_use]
pub fn status_info(id: u32) -> Option<&'static StatusInfo> {
    STATUSES
        .binary_search_by_key(&id, |s| s.id)
        .ok()
        .and_then(|i| STATUSES.get(i))
}

/// The known error with this id.
///
/// ```
/// let e = ivr_reports_model::error_info(5000).unwrap();
/// assert_eq!((e.name, e.permanent), ("VOICE_ANSWERED", true));
/// ```
#[must_use]
pub fn error_info(id: u32) -> Option<&'static ErrorInfo> {
    ERRORS
        .binary_search_by_key(&id, |e| e.id)
        .ok()
        .and_then(|i| ERRORS.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        assert!(STATUSES.windows(2).all(|w| w[0].id < w[1].id));
        assert!(ERRORS.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn every_entry_is_found_by_id() {
        for s in STATUSES {
            assert_eq!(status_info(s.id), Some(s));
        }
        for e in ERRORS {
            assert_eq!(error_info(e.id), Some(e));
        }
        assert_eq!(status_info(0), None);
        assert_eq!(error_info(u32::MAX), None);
    }

    #[test]
    fn facts_from_the_spec() {
        let delivered = status_info(5).unwrap();
        assert_eq!(
            (delivered.name, delivered.group),
            ("DELIVERED_TO_HANDSET", S::Delivered)
        );
        let pending = status_info(26).unwrap();
        assert_eq!(pending.group, S::Pending);
        assert_eq!(status_info(97).unwrap().group, S::Undeliverable);
        assert_eq!(status_info(91).unwrap().group, S::Rejected);
        let answered = error_info(5000).unwrap();
        assert_eq!((answered.group, answered.permanent), (E::Ok, true));
        assert_eq!(error_info(5003).unwrap().group, E::UserErrors);
        assert!(!error_info(5480).unwrap().permanent);
        assert_eq!(error_info(10201).unwrap().name, "BUSY");
    }

    #[test]
    fn groups_round_trip_ids_and_names() {
        for &g in StatusGroup::KNOWN {
            assert_eq!(StatusGroup::from_id(g.id()), g);
            assert_eq!(StatusGroup::from_name(g.name().unwrap()), Some(g));
        }
        for &g in ErrorGroup::KNOWN {
            assert_eq!(ErrorGroup::from_id(g.id()), g);
            assert_eq!(ErrorGroup::from_name(g.name().unwrap()), Some(g));
        }
        assert_eq!(StatusGroup::KNOWN.len(), 5);
        assert_eq!(ErrorGroup::KNOWN.len(), 4);
        assert_eq!(u32::from(StatusGroup::Unknown(9)), 9);
        assert_eq!(ErrorGroup::from(7), ErrorGroup::Unknown(7));
        assert_eq!(ErrorGroup::from_name("NOPE"), None);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn groups_serialize_as_ids() {
        use alloc::string::ToString;
        for g in [StatusGroup::Rejected, StatusGroup::Unknown(77)] {
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(json, g.id().to_string());
            assert_eq!(serde_json::from_str::<StatusGroup>(&json).unwrap(), g);
        }
        for g in [ErrorGroup::Ok, ErrorGroup::Unknown(12)] {
            let json = serde_json::to_string(&g).unwrap();
            assert_eq!(serde_json::from_str::<ErrorGroup>(&json).unwrap(), g);
        }
    }
}
