//! How the sinks keep a report: the model's [`AnyReport`] in the codec's canonical JSON,
//! with its [`Generation`] beside it (the journal line of the JSONL sink).

use crate::sink::Origin;
use ivr_reports_codec::{Codec, Format};
use ivr_reports_model::{AnyReport, Generation};

/// The report alone in the codec's canonical JSON (the API's shape, compact, absent fields
/// omitted, decimals written from their exact text): what the sinks store, and what "the same
/// content" means for duplicates and conflicts (`0.01` and `0.010` are equal decimals, `==`,
/// but not the same content).
///
/// ```
/// use ivr_reports_collector::canonical_json;
/// use ivr_reports_collector::model::{AnyReport, VoiceReport};
///
/// let report = AnyReport::from(VoiceReport::new("m1", "385981178"));
/// assert_eq!(canonical_json(&report), br#"{"messageId":"m1","to":"385981178"}"#);
/// ```
#[must_use]
pub fn canonical_json(report: &AnyReport) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    write_json(report, &mut out);
    out
}

fn write_json(report: &AnyReport, out: &mut Vec<u8>) {
    // The `json` feature of the codec is always on in this crate, so `new` succeeds.
    if let Ok(codec) = Codec::new(Format::Json) {
        codec.encode_any(report.as_ref(), out);
    }
}

/// Reads a report of `generation` from JSON ([`canonical_json`]'s output).
pub(crate) fn from_json(
    generation: Generation,
    json: &[u8],
) -> Result<AnyReport, ivr_reports_codec::Error> {
    Codec::new(Format::Json)?.decode_any(generation, json)
}

/// Appends the journal line: `{"generation":N,"origin":"pulled","report":{...}}` and a
/// newline (without `origin` for [`Origin::Unknown`], as lines were before origins were kept).
/// Returns where the report's JSON is in `out`: exactly [`canonical_json`] of `report`, so
/// the journal hashes it there instead of encoding the report a second time.
pub(crate) fn write_journal_line(
    report: &AnyReport,
    origin: Origin,
    out: &mut Vec<u8>,
) -> std::ops::Range<usize> {
    out.extend_from_slice(JOURNAL_LINE_START);
    out.push(b'0' + report.generation().number());
    if origin != Origin::Unknown {
        out.extend_from_slice(b",\"origin\":\"");
        out.extend_from_slice(origin.as_str().as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b",\"report\":");
    let start = out.len();
    write_json(report, out);
    let json = start..out.len();
    out.extend_from_slice(b"}\n");
    json
}

/// The bytes every journal line starts with (then the generation digit).
const JOURNAL_LINE_START: &[u8] = b"{\"generation\":";

/// Whether `tail` (bytes after the last newline) can be a journal line cut short by a
/// crash: it must start as [`write_journal_line`] starts every line. Anything else is not
/// a torn journal line, and must never be cut away.
pub(crate) fn could_be_torn_journal_line(tail: &[u8]) -> bool {
    if tail.len() <= JOURNAL_LINE_START.len() {
        return JOURNAL_LINE_START.starts_with(tail);
    }
    tail.starts_with(JOURNAL_LINE_START)
        && tail[JOURNAL_LINE_START.len()]
            .checked_sub(b'0')
            .and_then(Generation::from_number)
            .is_some()
}

/// Reads one line of a [`JsonlSink`](crate::JsonlSink) journal (without its newline): the
/// report and its origin. Lets a reader stream a journal of any size line by line, where
/// [`JsonlSink::read`](crate::JsonlSink::read) loads it whole.
///
/// # Errors
///
/// [`ErrorKind::Corrupt`](crate::ErrorKind::Corrupt) when the line is not a journal line.
///
/// ```
/// use ivr_reports_collector::{Origin, read_journal_line};
/// let line = br#"{"generation":1,"origin":"pulled","report":{"messageId":"m1","to":"385"}}"#;
/// let stored = read_journal_line(line).unwrap();
/// assert_eq!(stored.origin, Origin::Pulled);
/// assert!(read_journal_line(b"hello").is_err());
/// ```
pub fn read_journal_line(line: &[u8]) -> Result<crate::StoredReport, crate::Error> {
    let (report, origin) = parse_journal_line(line).map_err(|why| {
        crate::Error::new(
            crate::ErrorKind::Corrupt,
            format!("not a journal line: {why}"),
        )
    })?;
    Ok(crate::StoredReport::new(report, origin))
}

/// Reads a journal line (without its newline); a line without `origin` (written before
/// origins were kept) is [`Origin::Unknown`].
pub(crate) fn parse_journal_line(line: &[u8]) -> Result<(AnyReport, Origin), String> {
    let rest = line
        .strip_prefix(JOURNAL_LINE_START)
        .ok_or("not a journal line")?;
    let (&digit, rest) = rest.split_first().ok_or("not a journal line")?;
    let generation = digit
        .checked_sub(b'0')
        .and_then(Generation::from_number)
        .ok_or("unknown generation")?;
    let (origin, rest) = match rest.strip_prefix(b",\"origin\":\"") {
        Some(rest) => {
            let end = rest
                .iter()
                .position(|&b| b == b'"')
                .ok_or("not a journal line")?;
            let origin = std::str::from_utf8(&rest[..end])
                .ok()
                .and_then(Origin::parse)
                .ok_or("unknown origin")?;
            (origin, &rest[end + 1..])
        }
        None => (Origin::Unknown, rest),
    };
    let json = rest
        .strip_prefix(b",\"report\":")
        .and_then(|r| r.strip_suffix(b"}"))
        .ok_or("not a journal line")?;
    let report = from_json(generation, json).map_err(|e| e.to_string())?;
    Ok((report, origin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivr_reports_model::{CallReport, Decimal, Price, VoiceReport};

    #[test]
    fn journal_lines_round_trip_both_generations() {
        let mut v1 = VoiceReport::new("a\"b", "385");
        v1.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
        v1.duration = Some(10);
        let v2 = CallReport::new("m2", "386");
        for report in [AnyReport::from(v1), AnyReport::from(v2)] {
            for origin in [
                Origin::Pulled,
                Origin::Pushed,
                Origin::Recovered,
                Origin::Unknown,
            ] {
                // After other bytes: the range returned is where the report is in `line`.
                let mut line = b"before".to_vec();
                let json = write_journal_line(&report, origin, &mut line);
                assert_eq!(line[json].to_vec(), canonical_json(&report));
                let line = line.split_off(b"before".len());
                assert_eq!(line.last(), Some(&b'\n'));
                assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
                let parsed = parse_journal_line(&line[..line.len() - 1]).unwrap();
                assert_eq!(parsed, (report.clone(), origin));
            }
        }
        // A line written before origins were kept still reads.
        let (old, origin) =
            parse_journal_line(br#"{"generation":1,"report":{"messageId":"m","to":"1"}}"#).unwrap();
        assert_eq!((old.message_id(), origin), ("m", Origin::Unknown));
    }

    #[test]
    fn bad_journal_lines_are_refused() {
        for bad in [
            &b""[..],
            b"{\"generation\":3,\"report\":{\"messageId\":\"x\"}}",
            b"{\"generation\":1,\"report\":{\"to\":\"x\"}}",
            b"{\"generation\":1,\"report\":{\"messageId\":\"x\"}",
            b"{\"generation\":1,\"origin\":\"stolen\",\"report\":{\"messageId\":\"x\",\"to\":\"1\"}}",
        ] {
            assert!(parse_journal_line(bad).is_err());
        }
    }

    #[test]
    fn only_a_journal_line_cut_short_counts_as_torn() {
        let mut line = Vec::new();
        write_journal_line(
            &AnyReport::from(VoiceReport::new("m", "385")),
            Origin::Pulled,
            &mut line,
        );
        // Every cut of a real line (before its newline) is a torn journal line.
        for cut in 1..line.len() {
            assert!(could_be_torn_journal_line(&line[..cut]), "cut at {cut}");
        }
        for foreign in [
            &b"remember to call the bank"[..],
            b"messageId,to,status",
            b"{\"messageId\":\"m\"}",
            b"{\"generation\":7,\"report\":{",
            b" {\"generation\":1",
            b"\xef\xbb\xbf{\"generation\":1",
        ] {
            assert!(
                !could_be_torn_journal_line(foreign),
                "{}",
                String::from_utf8_lossy(foreign)
            );
        }
    }
}
