//! `Status` and `ReportError`: where a call ended up and why, as the API reports them.

use alloc::borrow::Cow;

use crate::codes::{ErrorGroup, StatusGroup, error_info, status_info};

/// The delivery status of a call: `{groupId, groupName, id, name, description}` on the wire.
///
/// Names are [`Cow<'static, str>`](Cow) so decoders can borrow the known names from the code
/// tables instead of allocating; any name the API sends is kept as sent.
///
/// ```
/// use ivr_reports_model::{Status, StatusGroup};
///
/// let s = Status::known(5).unwrap();
/// assert_eq!(s.group, StatusGroup::Delivered);
/// assert_eq!(s.name, "DELIVERED_TO_HANDSET");
///
/// let custom = Status::new(4242, StatusGroup::Unknown(9), "SOMETHING_NEW");
/// assert_eq!(custom.group_name, "");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
pub struct Status {
    /// Status group (`groupId` on the wire).
    #[cfg_attr(feature = "serde", serde(rename = "groupId"))]
    pub group: StatusGroup,
    /// Status group name, as sent (`groupName`).
    pub group_name: Cow<'static, str>,
    /// Status id.
    pub id: u32,
    /// Status name, as sent.
    pub name: Cow<'static, str>,
    /// Human-readable description, as sent.
    pub description: Cow<'static, str>,
}

impl Status {
    /// A status with an empty description; the group name is the group's known name, or empty.
    pub fn new(id: u32, group: StatusGroup, name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            group,
            group_name: Cow::Borrowed(group.name().unwrap_or("")),
            id,
            name: name.into(),
            description: Cow::Borrowed(""),
        }
    }

    /// The status with this id from the table of known codes, fully filled in.
    #[must_use]
    pub fn known(id: u32) -> Option<Self> {
        status_info(id).map(|info| Self {
            group: info.group,
            group_name: Cow::Borrowed(info.group.name().unwrap_or("")),
            id,
            name: Cow::Borrowed(info.name),
            description: Cow::Borrowed(info.description),
        })
    }
}

/// Why a call ended: `{groupId, groupName, id, name, description, permanent}` on the wire.
///
/// Despite the wire name `error`, answered calls carry one too (group `OK`, e.g. 5000
/// `VOICE_ANSWERED` or 10000 `NORMAL_HANGUP`).
///
/// ```
/// use ivr_reports_model::{ErrorGroup, ReportError};
///
/// let e = ReportError::known(5003).unwrap();
/// assert_eq!((e.group, e.name.as_ref()), (ErrorGroup::UserErrors, "EC_VOICE_NO_ANSWER"));
/// assert!(e.permanent);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
pub struct ReportError {
    /// Error group (`groupId` on the wire; left out for `ErrorGroup::Unknown(0)`, the codec's
    /// "no group known", since `groupId` 0 means OK).
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "groupId",
            skip_serializing_if = "crate::serde_util::is_no_error_group"
        )
    )]
    pub group: ErrorGroup,
    /// Error group name, as sent (`groupName`).
    pub group_name: Cow<'static, str>,
    /// Error id.
    pub id: u32,
    /// Error name, as sent.
    pub name: Cow<'static, str>,
    /// Human-readable description, as sent.
    pub description: Cow<'static, str>,
    /// Whether retrying the same call cannot succeed.
    pub permanent: bool,
}

impl ReportError {
    /// An error with an empty description, not permanent; the group name is the group's
    /// known name, or empty.
    pub fn new(id: u32, group: ErrorGroup, name: impl Into<Cow<'static, str>>) -> Self {
        Self {
            group,
            group_name: Cow::Borrowed(group.name().unwrap_or("")),
            id,
            name: name.into(),
            description: Cow::Borrowed(""),
            permanent: false,
        }
    }

    /// The error with this id from the table of known codes, fully filled in.
    #[must_use]
    pub fn known(id: u32) -> Option<Self> {
        error_info(id).map(|info| Self {
            group: info.group,
            group_name: Cow::Borrowed(info.group.name().unwrap_or("")),
            id,
            name: Cow::Borrowed(info.name),
            description: Cow::Borrowed(info.description),
            permanent: info.permanent,
        })
    }

    /// Whether the error says the call went through (group `OK`).
    #[must_use]
    pub fn is_ok(&self) -> bool {
        self.group == ErrorGroup::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fills_from_tables() {
        let s = Status::known(26).unwrap();
        assert_eq!(s.group_name, "PENDING");
        assert_eq!(s.description, "Message accepted, pending for delivery.");
        assert!(matches!(s.name, Cow::Borrowed(_)));
        assert!(Status::known(1234).is_none());
        let e = ReportError::known(5000).unwrap();
        assert!(e.permanent && e.is_ok());
        assert_eq!(e.group_name, "OK");
        assert!(!ReportError::known(10201).unwrap().is_ok());
    }

    #[test]
    fn new_keeps_unknown_groups() {
        let e = ReportError::new(7, ErrorGroup::Unknown(8), alloc::string::String::from("X"));
        assert_eq!(
            (e.group.id(), e.group_name.as_ref(), e.name.as_ref()),
            (8, "", "X")
        );
        let s = Status::new(5, StatusGroup::Delivered, "DELIVERED_TO_HANDSET");
        assert_eq!(s.group_name, "DELIVERED");
    }
}
