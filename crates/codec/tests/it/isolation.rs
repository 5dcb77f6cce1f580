//! Per-report isolation: one malformed report among 50 costs only itself.

use ivr_reports_codec::model::{Decimal, Price, Status, VoiceReport};
use ivr_reports_codec::{ErrorKind, Format};

use crate::codec;

fn reports(n: usize) -> Vec<VoiceReport> {
    (0..n)
        .map(|i| {
            let mut r = VoiceReport::new(format!("msg-{i}"), format!("3859811{i:02}"));
            r.duration = Some(10);
            r.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
            r.status = Status::known(5);
            r
        })
        .collect()
}

fn fragments(format: Format, reports: &[VoiceReport]) -> Vec<Vec<u8>> {
    let c = codec(format);
    reports
        .iter()
        .map(|r| {
            let mut f = Vec::new();
            c.encode_report(r, &mut f);
            f
        })
        .collect()
}

fn check(format: Format, bad_index: usize, bad: &[u8], kind: ErrorKind, path: &str) {
    let originals = reports(50);
    let mut parts = fragments(format, &originals);
    parts[bad_index] = bad.to_vec();
    let mut page = Vec::new();
    codec(format).encode_page_from_fragments(parts.iter().map(Vec::as_slice), &mut page);

    let batch = codec(format).decode_page::<VoiceReport>(&page).unwrap();
    assert_eq!(
        batch.reports.len(),
        49,
        "{format}: {:?}",
        batch
            .rejected
            .iter()
            .map(|r| r.error.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(batch.rejected.len(), 1);
    let rejected = &batch.rejected[0];
    assert_eq!(rejected.index, bad_index);
    assert!(
        rejected.raw == bad,
        "{format}: {}",
        String::from_utf8_lossy(&rejected.raw)
    );
    assert_eq!(rejected.error.kind(), kind, "{}", rejected.error);
    assert_eq!(rejected.error.path(), path);
    assert!(rejected.error.line().is_some());
    let mut expected = originals;
    expected.remove(bad_index);
    assert_eq!(batch.reports, expected);
}

#[test]
fn a_bad_value_costs_only_its_report_json() {
    check(
        Format::Json,
        17,
        br#"{"messageId":"x","price":{"pricePerSecond":"abc","currency":"EUR"}}"#,
        ErrorKind::InvalidValue,
        "results[17].price.pricePerSecond",
    );
    check(
        Format::Json,
        0,
        br#"{"to":"385"}"#,
        ErrorKind::MissingField,
        "results[0].messageId",
    );
    check(
        Format::Json,
        49,
        br#"{"messageId":"x","sentAt":"2015-02-30T09:58:20.323+0100"}"#,
        ErrorKind::InvalidValue,
        "results[49].sentAt",
    );
}

#[test]
fn broken_syntax_inside_one_report_costs_only_that_report_json() {
    check(
        Format::Json,
        3,
        br#"{"messageId": , "to": [1, 2]}"#,
        ErrorKind::Syntax,
        "results[3].messageId",
    );
    check(
        Format::Json,
        4,
        b"42",
        ErrorKind::InvalidValue,
        "results[4]",
    );
}

/// The JSON decoder validates UTF-8 once per page, up to the first invalid byte; the
/// reports after that byte are validated string by string, and must read the same.
#[test]
fn invalid_utf8_costs_only_its_report_json() {
    check(
        Format::Json,
        17,
        b"{\"messageId\":\"x\",\"to\":\"38\xff5\"}",
        ErrorKind::InvalidValue,
        "results[17].to",
    );
    check(
        Format::Json,
        0,
        b"{\"messageId\":\"\xc3\"}",
        ErrorKind::InvalidValue,
        "results[0].messageId",
    );
    // In a field nobody reads, it costs nothing.
    let mut parts = fragments(Format::Json, &reports(3));
    parts[1].splice(1..1, *b"\"x\":\"\xff\",");
    let mut page = Vec::new();
    codec(Format::Json).encode_page_from_fragments(parts.iter().map(Vec::as_slice), &mut page);
    let batch = codec(Format::Json)
        .decode_page::<VoiceReport>(&page)
        .unwrap();
    assert!(batch.is_clean(), "{:?}", batch.rejected);
    assert_eq!(batch.reports, reports(3));
}

#[test]
fn a_bad_value_costs_only_its_report_xml() {
    check(
        Format::Xml,
        17,
        b"<result><messageId>x</messageId><price><pricePerMessage>abc</pricePerMessage></price></result>",
        ErrorKind::InvalidValue,
        "results[17].price.pricePerMessage",
    );
    check(
        Format::Xml,
        5,
        b"<result><to>385</to></result>",
        ErrorKind::MissingField,
        "results[5].messageId",
    );
    check(
        Format::Xml,
        6,
        b"<result><messageId>x</messageId><to><b>nested</b></to></result>",
        ErrorKind::InvalidValue,
        "results[6].to",
    );
    // XML text is checked once per page up to the first invalid byte; the reports after
    // it are decoded piece by piece, and must read the same.
    check(
        Format::Xml,
        8,
        b"<result><messageId>x</messageId><to>38\xff5</to></result>",
        ErrorKind::InvalidValue,
        "results[8].to",
    );
    check(
        Format::Xml,
        7,
        b"<result/>",
        ErrorKind::MissingField,
        "results[7].messageId",
    );
}

#[test]
fn error_positions_point_into_the_page() {
    let body =
        b"{\"results\":[\n{\"messageId\":\"a\"},\n{\"messageId\":\"b\",\"duration\":\"ten\"}\n]}";
    let batch = codec(Format::Json)
        .decode_page::<VoiceReport>(body)
        .unwrap();
    let e = &batch.rejected[0].error;
    assert_eq!(
        e.to_string(),
        "results[1].duration: expected a whole number of seconds, found \"ten\" (line 3, column 29)"
    );
    assert_eq!(e.byte_offset(), Some(60));
}

#[test]
fn a_truncated_page_keeps_the_reports_before_the_cut() {
    for format in Format::ALL {
        let originals = reports(5);
        let page = codec(format).encode_page(&originals);
        let parts = fragments(format, &originals);
        // Cut in the middle of the fourth report.
        let header = if format == Format::Json { 12 } else { 25 };
        let cut: usize = header + parts[..3].iter().map(Vec::len).sum::<usize>() + 3 + 10;
        let batch = codec(format)
            .decode_page::<VoiceReport>(&page[..cut])
            .unwrap();
        assert_eq!(batch.reports, originals[..3], "{format}");
        assert_eq!(batch.rejected.len(), 1);
        assert_eq!(batch.rejected[0].index, 3);
        assert!(page[..cut].ends_with(&batch.rejected[0].raw));
    }
}
