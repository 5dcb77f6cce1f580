//! Helpers both formats share: the BOM, error positions, reading the documented timestamp
//! form, and writing numbers and dates.

use std::io::Write as _;

use ivr_reports_model::{Decimal, Timestamp};

use crate::batch::{Batch, Rejected};
use crate::error::LineCounter;
use crate::{Error, ErrorKind};

/// The input without a UTF-8 byte order mark, and the mark's length.
pub(crate) fn strip_bom(input: &[u8]) -> (&[u8], usize) {
    match input.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, 3),
        None => (input, 0),
    }
}

/// Sets line and column of every rejected item's error, in one pass over the input.
pub(crate) fn locate_all(rejected: &mut [Rejected], input: &[u8], base: usize) {
    let mut lines = LineCounter::default();
    for r in rejected {
        let error = std::mem::replace(&mut r.error, Error::new(ErrorKind::Syntax, ""));
        let mut error = error.shifted(base);
        if let Some(offset) = error.offset() {
            error.set_line_column(lines.advance(input, offset));
        }
        r.error = error;
    }
}

/// Reads the documented timestamp form (`2015-02-12T09:58:20.323+0100`: what the API sends)
/// without the general parser, which costs several times more; `None` for any other form or
/// any invalid field, left to [`Timestamp::parse`] (which accepts the variants and words
/// the errors). Whatever this returns, `Timestamp::parse` returns too (a property test says
/// so).
pub(crate) fn documented_timestamp(text: &str) -> Option<Timestamp> {
    documented_timestamp_bytes(text.as_bytes().try_into().ok()?)
}

/// [`documented_timestamp`] on the form's 28 bytes (only ASCII digits and separators are
/// accepted, so they are text).
#[inline]
pub(crate) fn documented_timestamp_bytes(b: &[u8; 28]) -> Option<Timestamp> {
    let [
        y0,
        y1,
        y2,
        y3,
        b'-',
        mo0,
        mo1,
        b'-',
        d0,
        d1,
        b'T',
        h0,
        h1,
        b':',
        mi0,
        mi1,
        b':',
        s0,
        s1,
        b'.',
        f0,
        f1,
        f2,
        sign,
        oh0,
        oh1,
        om0,
        om1,
    ] = *b
    else {
        return None;
    };
    let digits = [
        y0, y1, y2, y3, mo0, mo1, d0, d1, h0, h1, mi0, mi1, s0, s1, f0, f1, f2, oh0, oh1, om0, om1,
    ];
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digit = |c: u8| u32::from(c - b'0');
    let two = |hi: u8, lo: u8| digit(hi) * 10 + digit(lo);
    let year = two(y0, y1) * 100 + two(y2, y3);
    let (month, day) = (two(mo0, mo1), two(d0, d1));
    let (hour, minute, second) = (two(h0, h1), two(mi0, mi1), two(s0, s1));
    let millis = two(f0, f1) * 10 + digit(f2);
    let (off_hours, off_minutes) = (two(oh0, oh1), two(om0, om1));
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=12).contains(&month)
        || !(1..=month_days).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
        || off_hours > 23
        || off_minutes > 59
    {
        return None;
    }
    let offset = i16::try_from(off_hours * 60 + off_minutes).ok()?;
    let offset = match sign {
        b'+' => offset,
        b'-' => -offset,
        _ => return None,
    };
    // Days since 1970-01-01 (H. Hinnant's days_from_civil, as the model computes them).
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * i64::from((month + 9) % 12) + 2) / 5 + i64::from(day) - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let local = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let secs = local - i64::from(offset) * 60;
    Timestamp::from_unix(secs, millis * 1_000_000, offset, 3).ok()
}

pub(crate) fn write_u32(out: &mut Vec<u8>, mut n: u32) {
    let mut buf = [0u8; 10];
    let mut i = buf.len();
    loop {
        i -= 1;
        // A single digit.
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(buf.get(i..).unwrap_or_default());
}

/// `00` to `99`.
const PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// `n` (below 100; more is written as `99`) as two digits.
#[inline]
fn two(n: u8) -> [u8; 2] {
    PAIRS.get(usize::from(n)).copied().unwrap_or(*b"99")
}

/// Writes a timestamp's documented form (no quotes): built in place, written in three
/// copies rather than a push per byte.
pub(crate) fn write_timestamp(out: &mut Vec<u8>, t: &Timestamp) {
    let (y, mo, d, h, mi, s) = t.local_date_time();
    let y = y.min(9999);
    // Both below 100 (the year is at most 9999).
    let ([y0, y1], [y2, y3]) = (two((y / 100) as u8), two((y % 100) as u8));
    let ([mo0, mo1], [d0, d1]) = (two(mo), two(d));
    let ([h0, h1], [mi0, mi1], [s0, s1]) = (two(h), two(mi), two(s));
    out.reserve(34);
    out.extend_from_slice(&[
        y0, y1, y2, y3, b'-', mo0, mo1, b'-', d0, d1, b'T', h0, h1, b':', mi0, mi1, b':', s0, s1,
    ]);
    let precision = usize::from(t.precision().min(9));
    if precision > 0 {
        // `.` and the first `precision` of the nine digits of the nanoseconds.
        let mut frac = [b'.'; 10];
        let digits = frac.get_mut(1..=precision).unwrap_or_default();
        let mut n = t.subsec_nanos() / 10u32.pow(9 - precision as u32);
        for slot in digits.iter_mut().rev() {
            *slot = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend_from_slice(frac.get(..=precision).unwrap_or_default());
    }
    let offset = t.offset_minutes();
    let off = offset.unsigned_abs();
    let [oh0, oh1] = two(u8::try_from(off / 60).unwrap_or(99));
    let [om0, om1] = two(u8::try_from(off % 60).unwrap_or(99));
    let sign = if offset < 0 { b'-' } else { b'+' };
    out.extend_from_slice(&[sign, oh0, oh1, om0, om1]);
}

pub(crate) fn write_decimal(out: &mut Vec<u8>, d: &Decimal) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{d}");
}

/// After the envelope ended at `pos`, anything but whitespace may hold reports (a spliced or
/// concatenated body, a field after `results`), so it is kept as one rejected item.
pub(crate) fn keep_tail<T>(batch: &mut Batch<T>, input: &[u8], pos: usize) {
    let tail = input.get(pos..).unwrap_or_default();
    if tail.trim_ascii().is_empty() {
        return;
    }
    let start = pos + (tail.len() - tail.trim_ascii_start().len());
    let error = Error::new(ErrorKind::Syntax, "unexpected content after results").at(start);
    batch.rejected.push(Rejected::new(
        batch.len(),
        input.get(start..).unwrap_or_default().trim_ascii_end(),
        error,
    ));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn documented_timestamps_read_exactly() {
        for (text, read) in [
            ("2015-02-12T09:58:20.323+0100", true),
            ("2016-02-29T23:59:59.999-0530", true),
            ("0000-01-01T00:00:00.000+0000", true),
            ("9999-12-31T23:59:59.999+0000", true),
            // Out of range once the offset is applied: the parser words the error.
            ("0000-01-01T00:00:00.000+0100", false),
            ("2015-02-29T09:58:20.323+0100", false),
            ("2015-02-12t09:58:20.323+0100", false),
            ("2015-02-12T09:58:20.323+01:00", false),
            ("2015-02-12T09:58:20.323Z", false),
            ("2015-02-12T24:58:20.323+0100", false),
            ("2015-02-12T09:58:20.323+2400", false),
        ] {
            let fast = documented_timestamp(text);
            assert_eq!(fast.is_some(), read, "{text}");
            if let Some(fast) = fast {
                assert_eq!(Timestamp::parse(text).unwrap(), fast, "{text}");
                let mut out = Vec::new();
                write_timestamp(&mut out, &fast);
                assert_eq!(out, text.as_bytes());
            }
        }
    }

    proptest! {
        /// On text of the documented shape, with any digits: the fast path reads exactly
        /// what the model's parser reads, and refuses exactly what it refuses.
        #[test]
        fn documented_timestamps_agree_with_the_parser(
            text in "[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9]\\.[0-9]{3}[+-][0-2][0-9][0-6][0-9]",
        ) {
            prop_assert_eq!(documented_timestamp(&text), Timestamp::parse(&text).ok());
        }

        /// Any timestamp is written as the model displays it (every precision, offset and
        /// year the model allows).
        #[test]
        fn timestamps_write_as_displayed(
            secs in -62_167_219_200i64..253_402_300_800,
            nanos in 0u32..1_000_000_000,
            offset in -1439i16..=1439,
            precision in 0u8..=9,
        ) {
            if let Ok(t) = Timestamp::from_unix(secs, nanos, offset, precision) {
                let mut out = Vec::new();
                write_timestamp(&mut out, &t);
                prop_assert_eq!(String::from_utf8(out).unwrap(), t.to_string());
            }
        }

        /// On any text, what the fast path reads the parser reads the same.
        #[test]
        fn documented_timestamps_never_disagree(text in "[0-9T:.+-]{20,30}|\\PC{0,30}") {
            if let Some(fast) = documented_timestamp(&text) {
                prop_assert_eq!(Some(fast), Timestamp::parse(&text).ok());
            }
        }
    }
}
