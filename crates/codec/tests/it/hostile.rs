//! Hostile input: arbitrary bytes and mutated valid pages never panic, and never lose a
//! report whose bytes are still intact.
//!
//! The mutated pages draw their strings from an alphabet without brackets, quotes or angle
//! brackets: when a flipped quote inverts which bytes are "inside a string", text that
//! itself looks like structure could realign items anywhere, and no decoder can tell where
//! reports begin. With plain text, every way a page can break ends in one rejected item
//! holding the rest of the input, which is what the property checks.

use ivr_reports_codec::model::{CallReport, VoiceReport};
use ivr_reports_codec::{Batch, ErrorKind, Format, Report};
use proptest::prelude::*;

use crate::codec;
use crate::strategies::{plain_text, v1_with, v2_with};

fn decode_everything(bytes: &[u8]) {
    for format in Format::ALL {
        let c = codec(format);
        let _ = c.decode_page::<VoiceReport>(bytes);
        let _ = c.decode_page::<CallReport>(bytes);
        let _ = c.decode_report::<VoiceReport>(bytes);
        let _ = c.decode_report::<CallReport>(bytes);
        let _ = c.decode_api_error(bytes);
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Set the byte at a position (a fraction of the length) to a value.
    Flip(f64, u8),
    /// Cut the input at a position.
    Truncate(f64),
    /// Insert a slice of the page (from, len) at a position.
    Splice(f64, f64, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0.0..1.0f64, any::<u8>()).prop_map(|(p, b)| Mutation::Flip(p, b)),
        (0.0..1.0f64).prop_map(Mutation::Truncate),
        (0.0..1.0f64, 0.0..1.0f64, 1usize..80).prop_map(|(p, f, l)| Mutation::Splice(p, f, l)),
    ]
}

/// Applies the mutation; returns the new bytes and the original byte range it touched
/// (`start..end`: bytes at or after `start` and before `end` are changed or gone).
fn apply(page: &[u8], m: &Mutation) -> (Vec<u8>, usize, usize) {
    let at = |p: f64| ((page.len() as f64) * p) as usize;
    match *m {
        Mutation::Flip(p, b) => {
            let i = at(p).min(page.len() - 1);
            let mut out = page.to_vec();
            out[i] = b;
            (out, i, i + 1)
        }
        Mutation::Truncate(p) => (page[..at(p)].to_vec(), at(p), usize::MAX),
        Mutation::Splice(p, f, len) => {
            let i = at(p);
            let from = at(f);
            let piece = &page[from..(from + len).min(page.len())];
            let mut out = page[..i].to_vec();
            out.extend_from_slice(piece);
            out.extend_from_slice(&page[i..]);
            // Inserting at `i` touches the boundary between i-1 and i.
            (out, i, i)
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn check_mutated<R: Report + PartialEq + std::fmt::Debug>(
    format: Format,
    reports: &[R],
    m: &Mutation,
) -> Result<(), TestCaseError> {
    let c = codec(format);
    let mut page = Vec::new();
    let mut spans = Vec::new();
    let header: &[u8] = if format == Format::Json {
        b"{\"results\":["
    } else {
        b"<reportResponse><results>"
    };
    page.extend_from_slice(header);
    for (i, r) in reports.iter().enumerate() {
        if i > 0 && format == Format::Json {
            page.push(b',');
        }
        let start = page.len();
        c.encode_report(r, &mut page);
        spans.push(start..page.len());
    }
    page.extend_from_slice(if format == Format::Json {
        b"]}"
    } else {
        b"</results></reportResponse>"
    });
    prop_assert_eq!(&page, &c.encode_page(reports));

    let (mutated, start, end) = apply(&page, m);
    let result = c.decode_page::<R>(&mutated);
    let batch: Batch<R> = match result {
        Ok(batch) => batch,
        Err(e) => {
            // Only a broken envelope may fail the whole call.
            prop_assert!(start <= header.len(), "{format}: {e} after {m:?}");
            return Ok(());
        }
    };
    for (r, span) in reports.iter().zip(&spans) {
        // A splice at `i` leaves a report intact unless it lands strictly inside it.
        let intact = if start == end {
            start <= span.start || start >= span.end
        } else {
            end <= span.start || start >= span.end
        };
        if !intact {
            continue;
        }
        let raw = &page[span.clone()];
        let kept =
            batch.reports.contains(r) || batch.rejected.iter().any(|x| contains(&x.raw, raw));
        prop_assert!(
            kept,
            "{format}: lost report {} after {m:?}\n{}\n{:?}",
            r.message_id(),
            String::from_utf8_lossy(&mutated),
            batch.rejected
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        decode_everything(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(s in "[{}\\[\\]<>/\"a-z:,&;#!? =-]{0,300}") {
        decode_everything(s.as_bytes());
        let mut xml = b"<reportResponse><results><result>".to_vec();
        xml.extend_from_slice(s.as_bytes());
        decode_everything(&xml);
        let mut json = b"{\"results\":[{".to_vec();
        json.extend_from_slice(s.as_bytes());
        decode_everything(&json);
    }

    #[test]
    fn mutated_pages_lose_no_intact_report(
        reports in prop::collection::vec(v1_with(plain_text().boxed()), 1..6),
        m in mutation(),
    ) {
        check_mutated(Format::Json, &reports, &m)?;
        check_mutated(Format::Xml, &reports, &m)?;
    }

    #[test]
    fn mutated_v2_pages_lose_no_intact_report(
        reports in prop::collection::vec(v2_with(plain_text().boxed()), 1..5),
        m in mutation(),
    ) {
        check_mutated(Format::Json, &reports, &m)?;
        check_mutated(Format::Xml, &reports, &m)?;
    }
}

#[test]
fn deep_nesting_is_refused_not_followed() {
    for (format, open) in [
        (Format::Json, "[".repeat(200_000)),
        (Format::Xml, "<a>".repeat(200_000)),
    ] {
        let c = codec(format);
        let body = open.into_bytes();
        let e = c.decode_page::<VoiceReport>(&body).unwrap_err();
        assert!(
            matches!(
                e.kind(),
                ErrorKind::TooDeep | ErrorKind::Envelope | ErrorKind::Syntax
            ),
            "{e}"
        );
        let mut page = if format == Format::Json {
            b"{\"results\":[{\"messageId\":\"m\",\"x\":".to_vec()
        } else {
            b"<r><results><result><messageId>m</messageId><x>".to_vec()
        };
        page.extend_from_slice(&body);
        let batch = c.decode_page::<VoiceReport>(&page).unwrap();
        assert_eq!(batch.rejected.len(), 1);
        assert_eq!(
            batch.rejected[0].error.kind(),
            ErrorKind::TooDeep,
            "{format}"
        );
    }
}

#[test]
fn entity_expansion_is_refused() {
    let billion_laughs = br#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<reportResponse><results><result><messageId>&lol2;</messageId></result></results></reportResponse>"#;
    let e = codec(Format::Xml)
        .decode_page::<VoiceReport>(billion_laughs)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forbidden);
    assert_eq!(
        e.to_string(),
        "document type declarations are not allowed (line 2, column 1)"
    );

    let custom = b"<reportResponse><results><result><messageId>&lol;</messageId></result></results></reportResponse>";
    let batch = codec(Format::Xml)
        .decode_page::<VoiceReport>(custom)
        .unwrap();
    assert_eq!(batch.rejected[0].error.kind(), ErrorKind::Forbidden);
    assert_eq!(batch.rejected[0].error.path(), "results[0].messageId");
}

#[test]
fn envelope_errors_fail_the_call() {
    for (format, body, kind) in [
        (Format::Json, &b""[..], ErrorKind::Envelope),
        (Format::Json, b"[]", ErrorKind::Envelope),
        (Format::Json, b"{\"result\":[]}", ErrorKind::Envelope),
        (Format::Json, b"{\"results\":{}}", ErrorKind::Envelope),
        (Format::Json, b"{\"results\"", ErrorKind::Syntax),
        (Format::Xml, b"", ErrorKind::Syntax),
        (Format::Xml, b"not xml", ErrorKind::Envelope),
        (Format::Xml, b"<reportResponse/>", ErrorKind::Envelope),
        (
            Format::Xml,
            b"<reportResponse><other/></reportResponse>",
            ErrorKind::Envelope,
        ),
    ] {
        let e = codec(format).decode_page::<VoiceReport>(body).unwrap_err();
        assert_eq!(
            e.kind(),
            kind,
            "{format} {:?}: {e}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn content_after_results_is_kept_not_dropped() {
    let json = br#"{"results":[{"messageId":"a"}]} {"results":[{"messageId":"b"}]}"#;
    let batch = codec(Format::Json)
        .decode_page::<VoiceReport>(json)
        .unwrap();
    assert_eq!(batch.reports.len(), 1);
    assert_eq!(batch.rejected[0].raw, br#"{"results":[{"messageId":"b"}]}"#);
    assert_eq!(batch.rejected[0].index, 1);

    let xml = b"<r><results><result><messageId>a</messageId></result></results><results><result><messageId>b</messageId></result></results></r>";
    let batch = codec(Format::Xml).decode_page::<VoiceReport>(xml).unwrap();
    assert_eq!(batch.reports.len(), 1);
    assert!(
        batch.rejected[0]
            .raw
            .starts_with(b"<results><result><messageId>b")
    );

    // A report that swallowed the rest of a broken page keeps its raw bytes too.
    let swallowed = br#"{"results":[{"messageId":"a","x":[{"messageId":"b"}]}"#;
    let batch = codec(Format::Json)
        .decode_page::<VoiceReport>(swallowed)
        .unwrap();
    assert_eq!(batch.reports.len(), 1);
    assert_eq!(&batch.rejected[0].raw[..], &swallowed[12..]);
}
