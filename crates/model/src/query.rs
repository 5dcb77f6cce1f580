//! `ReportsQuery` and `Limit`: what a report request asks for.

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use crate::error::{Detail, Error};

/// The `limit` of a report request: how many reports one response may hold, 1 to 1000.
///
/// Infobip's default is 50; it documents no maximum, but its report endpoints cap at 1000,
/// and so do we.
///
/// ```
/// use ivr_reports_model::Limit;
///
/// assert_eq!(Limit::default().get(), 50);
/// let l: Limit = "1000".parse()?;
/// assert_eq!(l, Limit::MAX);
/// assert!("0".parse::<Limit>().is_err());
/// assert!(Limit::try_from(1001u32).is_err());
/// assert_eq!(
///     "ten".parse::<Limit>().unwrap_err().to_string(),
///     "invalid limit \"ten\": not a whole number"
/// );
/// # Ok::<(), ivr_reports_model::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Limit(u16);

impl Limit {
    /// The smallest limit, 1.
    pub const MIN: Self = Self(1);
    /// The largest limit, 1000.
    pub const MAX: Self = Self(1000);
    /// The API's default, 50.
    pub const DEFAULT: Self = Self(50);

    /// The limit `n`, if it is within 1 to 1000.
    #[must_use]
    pub const fn new(n: u16) -> Option<Self> {
        if n >= Self::MIN.0 && n <= Self::MAX.0 {
            Some(Self(n))
        } else {
            None
        }
    }

    /// The number of reports.
    #[must_use]
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for Limit {
    /// [`Limit::DEFAULT`], 50.
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl TryFrom<u64> for Limit {
    type Error = Error;

    /// # Errors
    /// [`ErrorKind::InvalidLimit`](crate::ErrorKind::InvalidLimit) outside 1 to 1000.
    fn try_from(n: u64) -> Result<Self, Error> {
        u16::try_from(n)
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| Error::limit(&alloc::format!("{n}"), Detail::LimitOutOfRange))
    }
}

impl TryFrom<u32> for Limit {
    type Error = Error;

    /// # Errors
    /// [`ErrorKind::InvalidLimit`](crate::ErrorKind::InvalidLimit) outside 1 to 1000.
    fn try_from(n: u32) -> Result<Self, Error> {
        Self::try_from(u64::from(n))
    }
}

impl TryFrom<i64> for Limit {
    type Error = Error;

    /// # Errors
    /// [`ErrorKind::InvalidLimit`](crate::ErrorKind::InvalidLimit) outside 1 to 1000.
    fn try_from(n: i64) -> Result<Self, Error> {
        u64::try_from(n)
            .map_err(|_| Error::limit(&alloc::format!("{n}"), Detail::LimitOutOfRange))
            .and_then(Self::try_from)
    }
}

impl FromStr for Limit {
    type Err = Error;

    /// Parses a decimal number (surrounding ASCII spaces allowed, a leading `+` allowed).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidLimit`](crate::ErrorKind::InvalidLimit): not a whole number, or
    /// outside 1 to 1000.
    fn from_str(s: &str) -> Result<Self, Error> {
        let trimmed = s.trim_matches(' ');
        let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::limit(s, Detail::LimitNotANumber));
        }
        match digits.parse::<u64>() {
            Ok(n) => Self::try_from(n),
            // All digits, so the only failure is overflow: a number, just far too large.
            Err(_) => Err(Error::limit(s, Detail::LimitOutOfRange)),
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Limit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Limit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = <u64 as serde::Deserialize>::deserialize(d)?;
        Self::try_from(n).map_err(serde::de::Error::custom)
    }
}

/// The parameters of a report request (`GET /tts/3/reports` or `/voice/1/reports`): all
/// optional; an absent `limit` means the API's default of 50.
///
/// ```
/// use ivr_reports_model::{Limit, ReportsQuery};
///
/// let q = ReportsQuery::new().bulk_id("campaign-7").limit(Limit::MAX);
/// assert_eq!(q.bulk_id.as_deref(), Some("campaign-7"));
/// assert_eq!(q.effective_limit().get(), 1000);
/// assert_eq!(ReportsQuery::new().effective_limit(), Limit::DEFAULT);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
#[non_exhaustive]
#[must_use]
pub struct ReportsQuery {
    /// Only reports of this bulk (`bulkId`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub bulk_id: Option<String>,
    /// Only the report of this message (`messageId`).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub message_id: Option<String>,
    /// At most this many reports (`limit`); `None` sends no `limit` (the API's default, 50).
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub limit: Option<Limit>,
}

impl ReportsQuery {
    /// A query with no filter and the default limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only reports of this bulk. Default: any bulk.
    pub fn bulk_id(mut self, bulk_id: impl Into<String>) -> Self {
        self.bulk_id = Some(bulk_id.into());
        self
    }

    /// Only the report of this message. Default: any message.
    pub fn message_id(mut self, message_id: impl Into<String>) -> Self {
        self.message_id = Some(message_id.into());
        self
    }

    /// At most this many reports. Default: the API's default, 50.
    pub fn limit(mut self, limit: Limit) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The limit the API applies: the one set, or 50.
    #[must_use]
    pub fn effective_limit(&self) -> Limit {
        self.limit.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    #[test]
    fn bounds() {
        assert_eq!(Limit::new(0), None);
        assert_eq!(Limit::new(1), Some(Limit::MIN));
        assert_eq!(Limit::new(1000), Some(Limit::MAX));
        assert_eq!(Limit::new(1001), None);
        assert!(Limit::try_from(-1i64).is_err());
        assert_eq!(Limit::try_from(50i64).unwrap(), Limit::DEFAULT);
    }

    #[test]
    fn parse_errors_are_clear() {
        for (input, msg) in [
            ("0", "invalid limit 0: must be between 1 and 1000"),
            ("1001", "invalid limit 1001: must be between 1 and 1000"),
            (
                "99999999999999999999999",
                "invalid limit 99999999999999999999999: must be between 1 and 1000",
            ),
            ("", "invalid limit \"\": not a whole number"),
            ("-5", "invalid limit \"-5\": not a whole number"),
            ("5.0", "invalid limit \"5.0\": not a whole number"),
            ("1e3", "invalid limit \"1e3\": not a whole number"),
        ] {
            let err = input.parse::<Limit>().unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidLimit);
            assert_eq!(err.to_string(), msg);
        }
        assert_eq!(" +7 ".parse::<Limit>().unwrap().get(), 7);
        assert_eq!("0042".parse::<Limit>().unwrap().get(), 42);
    }

    proptest! {
        #[test]
        fn valid_limits_round_trip(n in 1u16..=1000) {
            let limit = Limit::new(n).unwrap();
            prop_assert_eq!(limit.to_string().parse::<Limit>().unwrap(), limit);
            prop_assert_eq!(Limit::try_from(u32::from(n)).unwrap().get(), n);
        }

        #[test]
        fn out_of_range_is_rejected(n in prop_oneof![Just(0u64), 1001u64..]) {
            prop_assert!(Limit::try_from(n).is_err());
            prop_assert!(n.to_string().parse::<Limit>().is_err());
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,12}") {
            if let Ok(limit) = s.parse::<Limit>() {
                prop_assert!((1..=1000).contains(&limit.get()));
            }
        }
    }
}
