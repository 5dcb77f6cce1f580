//! `Timestamp`: an instant as Infobip writes it, with its original UTC offset and precision.

use core::cmp::Ordering;
use core::fmt;
use core::str::FromStr;

use crate::error::{Error, TimestampProblem};

/// Seconds in a day.
const DAY: i64 = 86_400;
/// The first instant we represent: `0000-01-01T00:00:00Z`.
const MIN_SECS: i64 = -62_167_219_200;
/// One past the last second we represent: `10000-01-01T00:00:00Z`.
const MAX_SECS: i64 = 253_402_300_800;
/// The largest UTC offset accepted, in minutes (`±23:59`).
const MAX_OFFSET_MINUTES: i16 = 23 * 60 + 59;

/// A date and time from a report: an instant, the UTC offset it was written with, and how many
/// fractional-second digits it carried.
///
/// Infobip documents dates as `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, e.g.
/// `2015-02-12T09:58:20.323+0100`. [`Timestamp::parse`] accepts that form and the variants
/// seen in real traffic: `+01:00` and `Z` offsets, 0 to 9 fractional digits, and epoch
/// milliseconds (`1423731500323`, read as UTC with millisecond precision). [`Display`]
/// writes the documented form, keeping the offset and the number of fractional digits, so
/// `parse(format(t)) == t` for every `t`.
///
/// Two timestamps are equal when instant, offset and precision are all equal. Ordering is
/// by instant first (then offset and precision, only to stay consistent with equality); use
/// [`Timestamp::same_instant`] to compare instants alone.
///
/// Years 0000 to 9999 are representable, in UTC and in the written offset.
///
/// ```
/// use ivr_reports_model::Timestamp;
///
/// let t: Timestamp = "2015-02-12T09:58:20.323+0100".parse()?;
/// assert_eq!(t.unix_millis(), 1_423_731_500_323);
/// assert_eq!(t.offset_minutes(), 60);
/// assert_eq!(t.to_string(), "2015-02-12T09:58:20.323+0100");
///
/// let z = Timestamp::parse("2015-02-12T08:58:20.323Z")?;
/// assert!(z.same_instant(&t));
/// assert_eq!(z.to_string(), "2015-02-12T08:58:20.323+0000");
///
/// let bad = Timestamp::parse("2015-02-30T09:58:20.323+0100").unwrap_err();
/// assert!(bad.to_string().contains("day 30"));
/// # Ok::<(), ivr_reports_model::Error>(())
/// ```
///
/// [`Display`]: core::fmt::Display
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Seconds since the Unix epoch, UTC.
    secs: i64,
    /// Nanoseconds within the second, truncated to `precision` digits.
    nanos: u32,
    /// The UTC offset the timestamp was written with, in minutes east of UTC.
    offset_minutes: i16,
    /// Number of fractional-second digits written (0 to 9).
    precision: u8,
}

impl Timestamp {
    /// The number of fractional digits of the documented form (`.SSS`).
    pub const DOCUMENTED_PRECISION: u8 = 3;

    /// Parses any accepted form: see the type's documentation.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidTimestamp`](crate::ErrorKind::InvalidTimestamp), naming the problem
    /// (a syntax error and its position, or the out-of-range field: month 13, February 30,
    /// offset `+2500`, ...).
    pub fn parse(input: &str) -> Result<Self, Error> {
        parse(input.as_bytes()).map_err(|problem| Error::timestamp(input, problem))
    }

    /// A timestamp from epoch milliseconds, in UTC with millisecond precision: how old
    /// webhooks sent `startTime`, `endTime` and `answerTime`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidTimestamp`](crate::ErrorKind::InvalidTimestamp) when the instant
    /// falls outside years 0000 to 9999.
    pub fn from_unix_millis(millis: i64) -> Result<Self, Error> {
        let secs = millis.div_euclid(1000);
        // In 0..1000, so the product fits a u32.
        let nanos = u32::try_from(millis.rem_euclid(1000)).unwrap_or(0) * 1_000_000;
        Self::from_unix(secs, nanos, 0, Self::DOCUMENTED_PRECISION).map_err(|_| {
            let mut buf = NumBuf::new();
            Error::timestamp(buf.format(millis), TimestampProblem::OutOfRange)
        })
    }

    /// A timestamp from its parts: seconds since the Unix epoch (UTC), nanoseconds within
    /// the second, the UTC offset in minutes east, and the number of fractional digits to
    /// write (0 to 9). Nanoseconds beyond `precision` digits are truncated.
    ///
    /// ```
    /// use ivr_reports_model::Timestamp;
    ///
    /// let t = Timestamp::from_unix(1_423_731_500, 323_456_789, 60, 3)?;
    /// assert_eq!(t.to_string(), "2015-02-12T09:58:20.323+0100");
    /// assert_eq!(t.subsec_nanos(), 323_000_000);
    /// # Ok::<(), ivr_reports_model::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidTimestamp`](crate::ErrorKind::InvalidTimestamp) when `nanos` is a
    /// second or more, `precision` is above 9, the offset is beyond ±23:59, or the instant
    /// (in UTC or in the offset) falls outside years 0000 to 9999.
    pub fn from_unix(
        secs: i64,
        nanos: u32,
        offset_minutes: i16,
        precision: u8,
    ) -> Result<Self, Error> {
        let problem = if nanos >= 1_000_000_000 {
            Some(TimestampProblem::Nanos(nanos))
        } else if precision > 9 {
            Some(TimestampProblem::TooPrecise)
        } else if offset_minutes.unsigned_abs() > MAX_OFFSET_MINUTES.unsigned_abs() {
            Some(TimestampProblem::Offset(offset_minutes))
        } else {
            let local = secs.checked_add(i64::from(offset_minutes) * 60);
            let in_range = |s: i64| (MIN_SECS..MAX_SECS).contains(&s);
            match local {
                Some(local) if in_range(secs) && in_range(local) => None,
                _ => Some(TimestampProblem::OutOfRange),
            }
        };
        if let Some(problem) = problem {
            let mut buf = NumBuf::new();
            return Err(Error::timestamp(buf.format(secs), problem));
        }
        let unit = 10u32.pow(9 - u32::from(precision));
        Ok(Self {
            secs,
            nanos: nanos - nanos % unit,
            offset_minutes,
            precision,
        })
    }

    /// Seconds since the Unix epoch (UTC), rounded towards the past.
    #[must_use]
    pub const fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    #[must_use]
    pub const fn subsec_nanos(&self) -> u32 {
        self.nanos
    }

    /// Milliseconds since the Unix epoch (UTC), rounded towards the past.
    #[must_use]
    pub const fn unix_millis(&self) -> i64 {
        self.secs * 1000 + (self.nanos / 1_000_000) as i64
    }

    /// The UTC offset the timestamp was written with, in minutes east of UTC.
    #[must_use]
    pub const fn offset_minutes(&self) -> i16 {
        self.offset_minutes
    }

    /// The number of fractional-second digits the timestamp was written with (0 to 9).
    #[must_use]
    pub const fn precision(&self) -> u8 {
        self.precision
    }

    /// Whether both denote the same instant, whatever their offsets and precisions.
    #[must_use]
    pub fn same_instant(&self, other: &Self) -> bool {
        self.cmp_instant(other) == Ordering::Equal
    }

    /// Compares the instants alone.
    #[must_use]
    pub fn cmp_instant(&self, other: &Self) -> Ordering {
        (self.secs, self.nanos).cmp(&(other.secs, other.nanos))
    }

    /// The same instant written with another offset (minutes east of UTC).
    ///
    /// # Errors
    /// As [`Timestamp::from_unix`]: the offset is beyond ±23:59 or the local date leaves
    /// years 0000 to 9999.
    pub fn with_offset(self, offset_minutes: i16) -> Result<Self, Error> {
        Self::from_unix(self.secs, self.nanos, offset_minutes, self.precision)
    }

    /// The same instant written with `precision` fractional digits (0 to 9); extra digits
    /// are truncated.
    ///
    /// # Errors
    /// As [`Timestamp::from_unix`]: `precision` is above 9.
    pub fn with_precision(self, precision: u8) -> Result<Self, Error> {
        Self::from_unix(self.secs, self.nanos, self.offset_minutes, precision)
    }

    /// The date and time of day in the written offset:
    /// `(year, month, day, hour, minute, second)`.
    ///
    /// ```
    /// # use ivr_reports_model::Timestamp;
    /// let t = Timestamp::parse("2015-02-12T09:58:20.323+0100")?;
    /// assert_eq!(t.local_date_time(), (2015, 2, 12, 9, 58, 20));
    /// # Ok::<(), ivr_reports_model::Error>(())
    /// ```
    #[must_use]
    pub fn local_date_time(&self) -> (u16, u8, u8, u8, u8, u8) {
        let local = self.secs + i64::from(self.offset_minutes) * 60;
        let (year, month, day) = civil_from_days(local.div_euclid(DAY));
        let tod = local.rem_euclid(DAY);
        // Construction keeps the local date in years 0..=9999, so these narrowings are exact.
        (
            u16::try_from(year).unwrap_or(0),
            month,
            day,
            (tod / 3600) as u8,
            (tod % 3600 / 60) as u8,
            (tod % 60) as u8,
        )
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    /// By instant; ties (same instant, another offset or precision) by offset, then precision.
    fn cmp(&self, other: &Self) -> Ordering {
        self.cmp_instant(other)
            .then(self.offset_minutes.cmp(&other.offset_minutes))
            .then(self.precision.cmp(&other.precision))
    }
}

impl FromStr for Timestamp {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Timestamp {
    /// The documented form, `2015-02-12T09:58:20.323+0100`, with as many fractional digits
    /// as the timestamp carries (none: no dot).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d, h, mi, s) = self.local_date_time();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")?;
        if self.precision > 0 {
            let digits = self.nanos / 10u32.pow(9 - u32::from(self.precision));
            write!(f, ".{digits:0width$}", width = usize::from(self.precision))?;
        }
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let off = self.offset_minutes.unsigned_abs();
        write!(f, "{sign}{:02}{:02}", off / 60, off % 60)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<Timestamp> for std::time::SystemTime {
    fn from(t: Timestamp) -> Self {
        use std::time::{Duration, UNIX_EPOCH};
        let since = Duration::new(t.secs.unsigned_abs(), 0);
        let base = if t.secs >= 0 {
            UNIX_EPOCH + since
        } else {
            UNIX_EPOCH - since
        };
        base + Duration::from_nanos(u64::from(t.nanos))
    }
}

/// A cursor over the input bytes for the parser.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn expect(&mut self, byte: u8, what: &'static str) -> Result<(), TimestampProblem> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(what))
        }
    }

    fn digits(&mut self, count: usize, what: &'static str) -> Result<u32, TimestampProblem> {
        let mut value = 0u32;
        for _ in 0..count {
            match self.peek() {
                Some(b @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(b - b'0');
                    self.pos += 1;
                }
                _ => return Err(self.syntax(what)),
            }
        }
        Ok(value)
    }

    fn syntax(&self, expected: &'static str) -> TimestampProblem {
        TimestampProblem::Syntax {
            expected,
            at: self.pos,
        }
    }
}

fn parse(bytes: &[u8]) -> Result<Timestamp, TimestampProblem> {
    let bytes = trim_ascii(bytes);
    if bytes.is_empty() {
        return Err(TimestampProblem::Empty);
    }
    if bytes.len() <= 20
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| b.is_ascii_digit() || (i == 0 && *b == b'-'))
        && bytes.iter().any(u8::is_ascii_digit)
    {
        return parse_millis(bytes);
    }
    let mut c = Cursor { bytes, pos: 0 };
    let year = c.digits(4, "a four-digit year")?;
    c.expect(b'-', "'-' after the year")?;
    let month = c.digits(2, "a two-digit month")?;
    c.expect(b'-', "'-' after the month")?;
    let day = c.digits(2, "a two-digit day")?;
    match c.peek() {
        Some(b'T' | b't') => c.pos += 1,
        _ => return Err(c.syntax("'T' between date and time")),
    }
    let hour = c.digits(2, "a two-digit hour")?;
    c.expect(b':', "':' after the hour")?;
    let minute = c.digits(2, "two-digit minutes")?;
    c.expect(b':', "':' after the minutes")?;
    let second = c.digits(2, "two-digit seconds")?;

    let (mut nanos, mut precision) = (0u32, 0u8);
    if c.peek() == Some(b'.') {
        c.pos += 1;
        while let Some(b @ b'0'..=b'9') = c.peek() {
            if precision == 9 {
                return Err(TimestampProblem::TooPrecise);
            }
            nanos = nanos * 10 + u32::from(b - b'0');
            precision += 1;
            c.pos += 1;
        }
        if precision == 0 {
            return Err(c.syntax("fractional digits after '.'"));
        }
        nanos *= 10u32.pow(9 - u32::from(precision));
    }

    let offset = match c.peek() {
        Some(b'Z' | b'z') => {
            c.pos += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            c.pos += 1;
            let hours = c.digits(2, "a two-digit offset hour")?;
            if c.peek() == Some(b':') {
                c.pos += 1;
            }
            let minutes = c.digits(2, "two-digit offset minutes")?;
            if hours > 23 || minutes > 59 {
                let raw = i16::try_from(hours * 100 + minutes).unwrap_or(i16::MAX);
                return Err(TimestampProblem::OffsetHhmm(if sign == b'-' {
                    -raw
                } else {
                    raw
                }));
            }
            // At most 23 * 60 + 59, which fits an i16.
            let total = i16::try_from(hours * 60 + minutes).unwrap_or(0);
            if sign == b'-' { -total } else { total }
        }
        _ => return Err(c.syntax("an offset ('Z', '+hhmm' or '+hh:mm')")),
    };
    if c.pos != bytes.len() {
        return Err(c.syntax("the end of the timestamp"));
    }

    if !(1..=12).contains(&month) {
        return Err(TimestampProblem::Month(month));
    }
    // `year` has four digits, so it fits every integer type used below.
    let year = i64::from(year);
    let max_day = days_in_month(year, month);
    if day == 0 || day > max_day {
        return Err(TimestampProblem::Day { day, month, year });
    }
    if hour > 23 {
        return Err(TimestampProblem::Hour(hour));
    }
    if minute > 59 {
        return Err(TimestampProblem::Minute(minute));
    }
    if second > 59 {
        return Err(TimestampProblem::Second(second));
    }
    let local = days_from_civil(year, month, day) * DAY
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    let secs = local - i64::from(offset) * 60;
    if !(MIN_SECS..MAX_SECS).contains(&secs) {
        return Err(TimestampProblem::OutOfRange);
    }
    Ok(Timestamp {
        secs,
        nanos,
        offset_minutes: offset,
        precision,
    })
}

fn parse_millis(bytes: &[u8]) -> Result<Timestamp, TimestampProblem> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    let mut millis: i64 = 0;
    for &b in digits {
        millis = millis
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(b - b'0')))
            .ok_or(TimestampProblem::OutOfRange)?;
    }
    if negative {
        millis = -millis;
    }
    Timestamp::from_unix_millis(millis).map_err(|_| TimestampProblem::OutOfRange)
}

fn trim_ascii(mut bytes: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = bytes {
        if first.is_ascii_whitespace() {
            bytes = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = bytes {
        if last.is_ascii_whitespace() {
            bytes = rest;
        } else {
            break;
        }
    }
    bytes
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // Both are small and positive by construction.
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Formats an integer without allocating, for error messages.
struct NumBuf {
    buf: [u8; 20],
}

impl NumBuf {
    fn new() -> Self {
        Self { buf: [0; 20] }
    }

    fn format(&mut self, value: i64) -> &str {
        let mut n = value.unsigned_abs();
        let mut i = self.buf.len();
        loop {
            i -= 1;
            self.buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if value < 0 {
            i -= 1;
            self.buf[i] = b'-';
        }
        core::str::from_utf8(&self.buf[i..]).unwrap_or("?")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn documented_form_round_trips_and_keeps_offset() {
        let t = ts("2015-02-12T09:58:20.323+0100");
        assert_eq!(t.unix_seconds(), 1_423_731_500);
        assert_eq!(t.subsec_nanos(), 323_000_000);
        assert_eq!(t.offset_minutes(), 60);
        assert_eq!(t.precision(), 3);
        assert_eq!(t.to_string(), "2015-02-12T09:58:20.323+0100");
    }

    #[test]
    fn tolerated_variants() {
        let reference = ts("2015-02-12T09:58:20.323+0100");
        for variant in [
            "2015-02-12T09:58:20.323+01:00",
            "2015-02-12T08:58:20.323Z",
            "2015-02-12T08:58:20.323000Z",
            "2015-02-12T08:58:20.323000000Z",
            "2015-02-12T03:28:20.323-0530",
            "1423731500323",
            " 2015-02-12T09:58:20.323+0100 ",
        ] {
            assert!(ts(variant).same_instant(&reference), "{variant}");
        }
        let nanos = ts("2025-02-10T12:27:27.765995100Z");
        assert_eq!(nanos.subsec_nanos(), 765_995_100);
        assert_eq!(nanos.precision(), 9);
        assert_eq!(nanos.to_string(), "2025-02-10T12:27:27.765995100+0000");
        let whole = ts("2015-02-12T09:58:20+0100");
        assert_eq!(whole.precision(), 0);
        assert_eq!(whole.to_string(), "2015-02-12T09:58:20+0100");
        let one = ts("2015-02-12T09:58:20.5-0000");
        assert_eq!(one.to_string(), "2015-02-12T09:58:20.5+0000");
    }

    #[test]
    fn epoch_millis() {
        let t = Timestamp::from_unix_millis(-1).unwrap();
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.999+0000");
        assert_eq!(t.unix_millis(), -1);
        assert_eq!(ts("0").to_string(), "1970-01-01T00:00:00.000+0000");
        assert!(Timestamp::from_unix_millis(i64::MAX).is_err());
        assert!(Timestamp::parse("99999999999999999999").is_err());
    }

    #[test]
    fn impossible_dates_are_named() {
        let cases = [
            ("2015-13-01T00:00:00.000+0100", "month 13"),
            ("2015-00-01T00:00:00.000+0100", "month 0"),
            ("2015-02-30T00:00:00.000+0100", "day 30"),
            ("2015-02-29T00:00:00.000+0100", "day 29"),
            ("2015-04-31T00:00:00.000+0100", "day 31"),
            ("2015-02-12T24:00:00.000+0100", "hour 24"),
            ("2015-02-12T23:60:00.000+0100", "minute 60"),
            ("2015-02-12T23:59:60.000+0100", "second 60"),
            ("2015-02-12T09:58:20.323+2500", "offset +2500"),
            ("2015-02-12T09:58:20.323-0popcorn", "offset hour"),
            ("2015-02-12T09:58:20.3234567891Z", "more than 9"),
            ("2015-02-12 09:58:20.323Z", "'T'"),
            ("2015-02-12T09:58:20.Z", "fractional digits"),
            ("2015-02-12T09:58:20.323", "offset"),
            ("2015-02-12T09:58:20.323+0100x", "end of the timestamp"),
            ("", "empty"),
            ("0000-01-01T00:00:00.000+0100", "out of range"),
        ];
        for (input, needle) in cases {
            let err = Timestamp::parse(input).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidTimestamp);
            let msg = err.to_string();
            assert!(msg.contains(needle), "{input}: {msg}");
        }
        assert!(Timestamp::parse("2016-02-29T00:00:00.000+0100").is_ok());
        assert!(Timestamp::parse("2000-02-29T00:00:00.000+0100").is_ok());
        assert!(Timestamp::parse("1900-02-29T00:00:00.000+0100").is_err());
    }

    #[test]
    fn ordering_is_by_instant() {
        let a = ts("2015-02-12T09:58:20.323+0100");
        let b = ts("2015-02-12T09:00:00.000+0000");
        assert!(b > a, "09:00Z is after 08:58Z");
        let same = ts("2015-02-12T08:58:20.323Z");
        assert!(a.same_instant(&same));
        assert_ne!(a, same);
        assert_eq!(a.cmp_instant(&same), Ordering::Equal);
    }

    #[test]
    fn from_unix_validates_and_truncates() {
        assert!(Timestamp::from_unix(0, 1_000_000_000, 0, 3).is_err());
        assert!(Timestamp::from_unix(0, 0, 0, 10).is_err());
        assert!(Timestamp::from_unix(0, 0, 24 * 60, 3).is_err());
        assert!(Timestamp::from_unix(MAX_SECS, 0, 0, 3).is_err());
        let t = Timestamp::from_unix(0, 123_456_789, -90, 4).unwrap();
        assert_eq!(t.subsec_nanos(), 123_400_000);
        assert_eq!(t.to_string(), "1969-12-31T22:30:00.1234-0130");
        assert_eq!(
            t.with_precision(1).unwrap().to_string(),
            "1969-12-31T22:30:00.1-0130"
        );
        assert_eq!(
            t.with_offset(0).unwrap().to_string(),
            "1970-01-01T00:00:00.1234+0000"
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn converts_to_system_time() {
        use std::time::{Duration, SystemTime, UNIX_EPOCH};
        let t = ts("1969-12-31T23:59:59.500Z");
        assert_eq!(SystemTime::from(t), UNIX_EPOCH - Duration::from_millis(500));
    }

    #[test]
    fn civil_conversions_agree() {
        for days in (-719_528..2_932_896).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, u32::from(m), u32::from(d)), days);
        }
    }

    /// The hand-written calendar agrees with the `time` crate's, day by day, over every
    /// year a timestamp can have (0000 to 9999), leap days and month lengths included.
    #[test]
    fn calendar_agrees_with_the_time_crate() {
        // 1970-01-01 is Julian day 2 440 588.
        const EPOCH_JULIAN_DAY: i64 = 2_440_588;
        for days in -719_528..=2_932_896 {
            let jd = i32::try_from(days + EPOCH_JULIAN_DAY).unwrap();
            let reference = time::Date::from_julian_day(jd).unwrap();
            let (y, m, d) = civil_from_days(days);
            assert_eq!(
                (y, m, d),
                (
                    i64::from(reference.year()),
                    u8::from(reference.month()),
                    reference.day()
                ),
                "day {days}"
            );
            assert_eq!(days_from_civil(y, u32::from(m), u32::from(d)), days);
            assert_eq!(
                days_in_month(y, u32::from(m)),
                u32::from(reference.month().length(reference.year())),
                "{y}-{m}"
            );
        }
    }

    fn arb_timestamp() -> impl Strategy<Value = Timestamp> {
        (
            MIN_SECS + DAY..MAX_SECS - DAY,
            0u32..1_000_000_000,
            -MAX_OFFSET_MINUTES..=MAX_OFFSET_MINUTES,
            0u8..=9,
        )
            .prop_map(|(secs, nanos, offset, precision)| {
                Timestamp::from_unix(secs, nanos, offset, precision).unwrap()
            })
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(t in arb_timestamp()) {
            let text = t.to_string();
            let back = Timestamp::parse(&text).unwrap();
            prop_assert_eq!(back, t);
            prop_assert_eq!(back.to_string(), text);
        }

        #[test]
        fn millis_round_trip(ms in (MIN_SECS * 1000)..(MAX_SECS * 1000)) {
            let t = Timestamp::from_unix_millis(ms).unwrap();
            prop_assert_eq!(t.unix_millis(), ms);
            prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Timestamp::parse(&s);
        }

        #[test]
        fn ordering_matches_instants(a in arb_timestamp(), b in arb_timestamp()) {
            let by_nanos = (a.unix_seconds(), a.subsec_nanos()).cmp(&(b.unix_seconds(), b.subsec_nanos()));
            prop_assert_eq!(a.cmp_instant(&b), by_nanos);
            if by_nanos != Ordering::Equal {
                prop_assert_eq!(a.cmp(&b), by_nanos);
            }
        }
    }
}
