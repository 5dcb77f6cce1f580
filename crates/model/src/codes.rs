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

/// Every known voice status, sorted by id: the status groups and names of Infobip's response
/// code pages (the general table, the voice table, and the call outcomes 96 to 100).
///
/// Id 87 is `SIGNALS_BLOCKED` in the general table and `REJECTED_INVALID_DELIVERY_TIME_WINDOW`
/// among the voice statuses; this is a voice table, so the voice name wins.
pub const STATUSES: &[StatusInfo] = &[
    st(
        2,
        "DELIVERED_TO_OPERATOR",
        S::Delivered,
        "Message delivered to operator",
    ),
    st(
        3,
        "PENDING_WAITING_DELIVERY",
        S::Pending,
        "Message sent, waiting for delivery report",
    ),
    st(
        4,
        "UNDELIVERABLE_REJECTED_OPERATOR",
        S::Undeliverable,
        "Message rejected by operator",
    ),
    st(
        5,
        "DELIVERED_TO_HANDSET",
        S::Delivered,
        "Message delivered to handset",
    ),
    st(6, "REJECTED_NETWORK", S::Rejected, "Network is forbidden"),
    st(
        7,
        "PENDING_ENROUTE",
        S::Pending,
        "Message sent to next instance",
    ),
    st(
        8,
        "REJECTED_PREFIX_MISSING",
        S::Rejected,
        "Number prefix missing",
    ),
    st(
        9,
        "UNDELIVERABLE_NOT_DELIVERED",
        S::Undeliverable,
        "Message sent not delivered",
    ),
    st(10, "REJECTED_DND", S::Rejected, "Destination on DND list"),
    st(11, "REJECTED_SOURCE", S::Rejected, "Invalid source address"),
    st(
        12,
        "REJECTED_NOT_ENOUGH_CREDITS",
        S::Rejected,
        "Not enough credits",
    ),
    st(13, "REJECTED_SENDER", S::Rejected, "Sender blocklisted"),
    st(
        14,
        "REJECTED_DESTINATION_BLOCKLISTED",
        S::Rejected,
        "Destination blocklisted",
    ),
    st(15, "EXPIRED_EXPIRED", S::Expired, "Message expired"),
    st(
        17,
        "REJECTED_PREPAID_PACKAGE_EXPIRED",
        S::Rejected,
        "Account credits expired",
    ),
    st(
        18,
        "REJECTED_DESTINATION_NOT_REGISTERED",
        S::Rejected,
        "Destination not registered",
    ),
    st(
        19,
        "REJECTED_ROUTE_NOT_AVAILABLE",
        S::Rejected,
        "Route not available",
    ),
    st(
        20,
        "REJECTED_FLOODING_FILTER",
        S::Rejected,
        "Rejected flooding",
    ),
    st(21, "REJECTED_SYSTEM_ERROR", S::Rejected, "System error"),
    st(
        23,
        "REJECTED_DUPLICATE_MESSAGE_ID",
        S::Rejected,
        "Rejected duplicate message ID",
    ),
    st(
        24,
        "REJECTED_INVALID_UDH",
        S::Rejected,
        "Rejected invalid UDH",
    ),
    st(
        25,
        "REJECTED_MESSAGE_TOO_LONG",
        S::Rejected,
        "Rejected message too long",
    ),
    st(
        26,
        "PENDING_ACCEPTED",
        S::Pending,
        "Message accepted, pending for delivery.",
    ),
    st(
        29,
        "EXPIRED_DLR_UNKNOWN",
        S::Expired,
        "Message expired, delivery report unknown",
    ),
    st(
        31,
        "UNDELIVERABLE_NOT_SENT",
        S::Undeliverable,
        "Message not sent",
    ),
    st(51, "MISSING_TO", S::Rejected, "Missing destination"),
    st(
        52,
        "REJECTED_DESTINATION",
        S::Rejected,
        "Invalid destination address",
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
        63,
        "REJECTED_INVALID_ACTIONS",
        S::Rejected,
        "Invalid actions",
    ),
    st(
        64,
        "REJECTED_INVALID_ACTION_GROUPS",
        S::Rejected,
        "Invalid action groups",
    ),
    st(
        83,
        "REJECTED_MACHINE_DETECTION_DISABLED",
        S::Rejected,
        "Machine detection disabled",
    ),
    st(
        87,
        "REJECTED_INVALID_DELIVERY_TIME_WINDOW",
        S::Rejected,
        "Invalid delivery time window",
    ),
    st(91, "REJECTED_INVALID_SSML", S::Rejected, "Invalid SSML"),
    st(96, "NO_ANSWER", S::Undeliverable, "Call not answered"),
    st(97, "BUSY", S::Undeliverable, "Destination busy"),
    st(98, "CANCELLED", S::Undeliverable, "Call cancelled"),
    st(99, "REJECTED", S::Rejected, "Call declined by the end user"),
    st(
        100,
        "UNDELIVERABLE_REJECTED_PLATFORM",
        S::Rejected,
        "Rejected by the platform",
    ),
];

/// Every known voice error, sorted by id: `0 NO_ERROR`, the legacy 5xxx codes of
/// `/tts/3/reports` and the 10xxx codes current since 2024-10-09.
///
/// Names, `permanent` flags and groups follow Infobip's code pages, except where real traffic
/// disagrees on a group: there the table says what the API really sends (5003
/// `EC_VOICE_NO_ANSWER` is `USER_ERRORS`; 5480 and 5603 are `OPERATOR_ERRORS`). Real traffic
/// also spells 5480 `EC_VOICE_ERROR_TEMPORARILY_NOT_AVAILABE`; the table keeps the code page's
/// spelling, and decoders keep whatever name was sent. 5500 comes from the WebRTC SDK's list of
/// the same SIP-derived scheme, which the voice code page lacks.
pub const ERRORS: &[ErrorInfo] = &[
    er(0, "NO_ERROR", E::Ok, "No error", false),
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
        E::OperatorErrors,
        "User was busy during call attempt",
        true,
    ),
    er(
        5003,
        "EC_VOICE_NO_ANSWER",
        E::UserErrors,
        "User was notified, but did not answer call",
        true,
    ),
    er(
        5004,
        "EC_VOICE_ERROR_DOWNLOADING_FILE",
        E::OperatorErrors,
        "File provided for call could not be downloaded",
        true,
    ),
    er(
        5005,
        "EC_VOICE_ERROR_UNSUPPORTED_AUDIO_FORMAT",
        E::OperatorErrors,
        "Format of file provided for call is not supported",
        true,
    ),
    er(
        5400,
        "EC_VOICE_ERROR_BAD_REQUEST",
        E::OperatorErrors,
        "Malformed call request",
        false,
    ),
    er(
        5403,
        "EC_VOICE_ERROR_FORBIDDEN",
        E::OperatorErrors,
        "Call rejected by operator",
        false,
    ),
    er(
        5404,
        "EC_VOICE_ERROR_DESTINATION_NOT_FOUND",
        E::OperatorErrors,
        "Destination not found",
        false,
    ),
    er(
        5407,
        "EC_VOICE_ERROR_PROXY_AUTHENTICATION_REQUIRED",
        E::OperatorErrors,
        "Proxy authentication required",
        false,
    ),
    er(
        5408,
        "EC_VOICE_ERROR_REQUEST_TIMEOUT",
        E::OperatorErrors,
        "Request timeout",
        false,
    ),
    er(
        5410,
        "EC_VOICE_ERROR_GONE",
        E::OperatorErrors,
        "Destination gone",
        false,
    ),
    er(
        5413,
        "EC_VOICE_ERROR_REQUEST_ENTITY_TOO_LARGE",
        E::OperatorErrors,
        "Request entity too large",
        false,
    ),
    er(
        5414,
        "EC_VOICE_ERROR_REQUEST_URI_TOO_LONG",
        E::OperatorErrors,
        "Request URI too long",
        false,
    ),
    er(
        5415,
        "EC_VOICE_UNSUPPORTED_MEDIA_TYPE",
        E::OperatorErrors,
        "Unsupported media type",
        false,
    ),
    er(
        5480,
        "EC_VOICE_ERROR_TEMPORARILY_NOT_AVAILABLE",
        E::OperatorErrors,
        "Callee currently unavailable",
        false,
    ),
    er(
        5481,
        "EC_VOICE_ERROR_CALL_DOES_NOT_EXIST",
        E::OperatorErrors,
        "Call does not exist",
        false,
    ),
    er(
        5484,
        "EC_VOICE_ERROR_ADDRESS_INCOMPLETE",
        E::OperatorErrors,
        "Address incomplete",
        false,
    ),
    er(
        5487,
        "EC_VOICE_ERROR_REQUEST_TERMINATED",
        E::OperatorErrors,
        "Request terminated",
        false,
    ),
    er(
        5488,
        "EC_VOICE_ERROR_NOT_ACCEPTABLE_HERE",
        E::OperatorErrors,
        "Not acceptable here",
        false,
    ),
    er(
        5491,
        "EC_VOICE_ERROR_REQUEST_PENDING",
        E::OperatorErrors,
        "Request pending",
        false,
    ),
    er(
        5500,
        "EC_VOICE_INTERNAL_SERVER_ERROR",
        E::OperatorErrors,
        "Internal server error",
        false,
    ),
    er(
        5501,
        "EC_NOT_IMPLEMENTED",
        E::OperatorErrors,
        "Not implemented",
        true,
    ),
    er(
        5503,
        "EC_SERVICE_UNAVAILABLE",
        E::OperatorErrors,
        "Service unavailable",
        true,
    ),
    er(5603, "EC_DECLINE", E::OperatorErrors, "Decline.", false),
    er(10000, "NORMAL_HANGUP", E::Ok, "Call ended normally", true),
    er(
        10001,
        "ANSWERED_ELSEWHERE",
        E::Ok,
        "Call answered elsewhere",
        true,
    ),
    er(10002, "MACHINE_DETECTED", E::Ok, "Machine detected", true),
    er(10003, "HUMAN_DETECTED", E::Ok, "Human detected", true),
    er(
        10004,
        "MAX_DURATION_REACHED",
        E::Ok,
        "Maximum call duration reached",
        true,
    ),
    er(
        10100,
        "DEVICE_FORBIDDEN",
        E::HandsetErrors,
        "Device forbidden",
        true,
    ),
    er(
        10101,
        "DEVICE_NOT_FOUND",
        E::HandsetErrors,
        "Device not found",
        true,
    ),
    er(
        10102,
        "DEVICE_UNAVAILABLE",
        E::HandsetErrors,
        "Device unavailable",
        true,
    ),
    er(10103, "MEDIA_ERROR", E::HandsetErrors, "Media error", true),
    er(10200, "NO_ANSWER", E::UserErrors, "No answer", true),
    er(10201, "BUSY", E::UserErrors, "Destination busy", true),
    er(10202, "CANCELLED", E::UserErrors, "Call cancelled", true),
    er(10203, "REJECTED", E::UserErrors, "Call rejected", true),
    er(
        10204,
        "TEMPORARILY_UNAVAILABLE",
        E::UserErrors,
        "Destination temporarily unavailable",
        true,
    ),
    er(10300, "FORBIDDEN", E::OperatorErrors, "Forbidden", true),
    er(
        10301,
        "INSUFFICIENT_FUNDS",
        E::OperatorErrors,
        "Insufficient funds",
        true,
    ),
    er(
        10302,
        "UNAUTHENTICATED",
        E::OperatorErrors,
        "Unauthenticated",
        true,
    ),
    er(
        10303,
        "DESTINATION_NOT_FOUND",
        E::OperatorErrors,
        "Destination not found",
        true,
    ),
    er(
        10304,
        "DESTINATION_UNAVAILABLE",
        E::OperatorErrors,
        "Destination unavailable",
        true,
    ),
    er(
        10305,
        "INVALID_DESTINATION",
        E::OperatorErrors,
        "Invalid destination",
        true,
    ),
    er(
        10306,
        "INVALID_REQUEST",
        E::OperatorErrors,
        "Invalid request",
        true,
    ),
    er(
        10307,
        "REQUEST_TIMEOUT",
        E::OperatorErrors,
        "Request timeout",
        true,
    ),
    er(
        10308,
        "NETWORK_ERROR",
        E::OperatorErrors,
        "Network error",
        true,
    ),
    er(
        10309,
        "SERVICE_UNAVAILABLE",
        E::OperatorErrors,
        "Service unavailable",
        true,
    ),
    er(10310, "UNKNOWN", E::OperatorErrors, "Unknown error", true),
    er(
        10311,
        "FEATURE_UNAVAILABLE",
        E::OperatorErrors,
        "Feature unavailable",
        true,
    ),
    er(10312, "CONGESTION", E::OperatorErrors, "Congestion", true),
    er(
        10313,
        "UNAUTHORIZED",
        E::OperatorErrors,
        "Unauthorized",
        true,
    ),
    er(
        10400,
        "URL_NOT_FOUND",
        E::OperatorErrors,
        "URL not found",
        true,
    ),
    er(
        10401,
        "URL_UNREACHABLE",
        E::OperatorErrors,
        "URL unreachable",
        true,
    ),
    er(
        10402,
        "INVALID_RESPONSE",
        E::OperatorErrors,
        "Invalid response",
        true,
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
        assert_eq!(error_info(5480).unwrap().group, E::OperatorErrors);
        assert_eq!(error_info(10300).unwrap().name, "FORBIDDEN");
        assert_eq!(error_info(10303).unwrap().name, "DESTINATION_NOT_FOUND");
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
