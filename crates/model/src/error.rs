//! The crate's one error type: what input was refused, and why.

use alloc::string::String;
use core::fmt;

/// Why a value could not be built: an unparsable or impossible [`Timestamp`](crate::Timestamp),
/// an out-of-range [`Limit`](crate::Limit).
///
/// The message names the offending input and the problem, e.g.
/// `invalid timestamp "2015-13-01T00:00:00.000+0100": month 13 is out of range (1 to 12)`.
/// Inputs longer than 64 characters are cut in the message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    input: String,
    detail: Detail,
}

/// The category of an [`Error`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A timestamp did not parse or names an impossible date, time or offset.
    InvalidTimestamp,
    /// A `limit` was not a number or not within 1 to 1000.
    InvalidLimit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Detail {
    Timestamp(TimestampProblem),
    LimitNotANumber,
    LimitOutOfRange,
}

/// What is wrong with a timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimestampProblem {
    Empty,
    Syntax {
        expected: &'static str,
        at: usize,
    },
    TooPrecise,
    Month(u32),
    Day {
        day: u32,
        month: u32,
        year: i64,
    },
    Hour(u32),
    Minute(u32),
    Second(u32),
    /// An offset as written (`+2500` is 2500).
    OffsetHhmm(i16),
    /// An offset in minutes.
    Offset(i16),
    Nanos(u32),
    OutOfRange,
}

/// The longest input quoted in a message, in characters.
const MAX_QUOTED: usize = 64;

impl Error {
    fn new(kind: ErrorKind, input: &str, detail: Detail) -> Self {
        let input = match input.char_indices().nth(MAX_QUOTED) {
            Some((cut, _)) => {
                let mut s = String::from(&input[..cut]);
                s.push('…');
                s
            }
            None => String::from(input),
        };
        Self {
            kind,
            input,
            detail,
        }
    }

    pub(crate) fn timestamp(input: &str, problem: TimestampProblem) -> Self {
        Self::new(
            ErrorKind::InvalidTimestamp,
            input,
            Detail::Timestamp(problem),
        )
    }

    pub(crate) fn limit(input: &str, detail: Detail) -> Self {
        Self::new(ErrorKind::InvalidLimit, input, detail)
    }

    /// The category of the error.
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The refused input as text (cut after 64 characters).
    #[must_use]
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = &self.input;
        match self.detail {
            Detail::Timestamp(problem) => {
                write!(f, "invalid timestamp \"{input}\": ")?;
                fmt_problem(problem, f)
            }
            Detail::LimitNotANumber => {
                write!(f, "invalid limit \"{input}\": not a whole number")
            }
            Detail::LimitOutOfRange => write!(
                f,
                "invalid limit {input}: must be between {} and {}",
                crate::Limit::MIN.get(),
                crate::Limit::MAX.get()
            ),
        }
    }
}

fn fmt_problem(problem: TimestampProblem, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match problem {
        TimestampProblem::Empty => f.write_str("empty"),
        TimestampProblem::Syntax { expected, at } => {
            write!(f, "expected {expected} at byte {at}")
        }
        TimestampProblem::TooPrecise => f.write_str("more than 9 fractional digits"),
        TimestampProblem::Month(m) => write!(f, "month {m} is out of range (1 to 12)"),
        TimestampProblem::Day { day, month, year } => {
            write!(f, "day {day} does not exist in {year:04}-{month:02}")
        }
        TimestampProblem::Hour(h) => write!(f, "hour {h} is out of range (0 to 23)"),
        TimestampProblem::Minute(m) => write!(f, "minute {m} is out of range (0 to 59)"),
        TimestampProblem::Second(s) => write!(f, "second {s} is out of range (0 to 59)"),
        TimestampProblem::OffsetHhmm(o) => {
            let sign = if o < 0 { '-' } else { '+' };
            write!(
                f,
                "offset {sign}{:04} is out of range (-2359 to +2359)",
                o.unsigned_abs()
            )
        }
        TimestampProblem::Offset(o) => {
            write!(f, "offset of {o} minutes is out of range (±1439)")
        }
        TimestampProblem::Nanos(n) => write!(f, "{n} nanoseconds is a second or more"),
        TimestampProblem::OutOfRange => f.write_str("out of range (years 0000 to 9999)"),
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &format_args!("{self}"))
            .finish()
    }
}

impl core::error::Error for Error {}
