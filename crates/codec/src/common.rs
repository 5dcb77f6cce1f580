//! Helpers both formats share: the BOM, error positions, and writing numbers and dates.

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

fn two(out: &mut Vec<u8>, n: u8) {
    out.extend_from_slice(&[b'0' + n / 10 % 10, b'0' + n % 10]);
}

/// Writes a timestamp's documented form (no quotes).
pub(crate) fn write_timestamp(out: &mut Vec<u8>, t: &Timestamp) {
    let (y, mo, d, h, mi, s) = t.local_date_time();
    let y = y.min(9999);
    out.extend_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
    ]);
    two(out, mo);
    out.push(b'-');
    two(out, d);
    out.push(b'T');
    two(out, h);
    out.push(b':');
    two(out, mi);
    out.push(b':');
    two(out, s);
    let precision = u32::from(t.precision().min(9));
    if precision > 0 {
        out.push(b'.');
        let mut digits = t.subsec_nanos() / 10u32.pow(9 - precision);
        let mut buf = [b'0'; 9];
        for i in (0..precision as usize).rev() {
            buf[i] = b'0' + (digits % 10) as u8;
            digits /= 10;
        }
        out.extend_from_slice(buf.get(..precision as usize).unwrap_or_default());
    }
    let offset = t.offset_minutes();
    out.push(if offset < 0 { b'-' } else { b'+' });
    let off = offset.unsigned_abs();
    two(out, u8::try_from(off / 60).unwrap_or(99));
    two(out, u8::try_from(off % 60).unwrap_or(99));
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
