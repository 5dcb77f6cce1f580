//! Properties the fuzz targets share: what a decoder accepted must survive being encoded and
//! decoded again, unchanged. A violation panics, which libFuzzer reports as a crash.

use std::fmt::Debug;

use ivr_reports_codec::model::{ApiError, LogEntry};
use ivr_reports_codec::{Codec, Format, Report};

/// Decodes `data` as a page of `R` in `format` (which must not panic, whatever `data` is);
/// when reports were accepted, encodes them as a page and as single fragments and checks
/// that both decode back to the same reports, with nothing rejected.
pub fn page_round_trip<R: Report + Clone + PartialEq + Debug>(format: Format, data: &[u8]) {
    let Ok(codec) = Codec::new(format) else {
        return;
    };
    let Ok(batch) = codec.decode_page::<R>(data) else {
        return;
    };
    for rejected in &batch.rejected {
        // The raw bytes of a rejected item are a slice of the input, kept for a retry.
        assert!(
            contains(data, &rejected.raw),
            "rejected item {} raw bytes are not from the input",
            rejected.index
        );
        let _ = rejected.error.to_string();
    }
    if batch.reports.is_empty() {
        return;
    }
    let page = codec.encode_page(&batch.reports);
    let back = codec.decode_page::<R>(&page).unwrap_or_else(|e| {
        panic!(
            "our own {format} page does not decode: {e}\n{}",
            lossy(&page)
        )
    });
    assert!(
        back.rejected.is_empty(),
        "our own {format} page has rejected items: {:?}\n{}",
        back.rejected,
        lossy(&page)
    );
    assert_eq!(
        back.reports,
        batch.reports,
        "{format} page round trip changed reports\n{}",
        lossy(&page)
    );
    // The collector stores what either format decoded as JSON, the sandbox answers in
    // either: the other format must carry the same reports too.
    let other = match format {
        Format::Json => Format::Xml,
        _ => Format::Json,
    };
    if let Ok(other) = Codec::new(other) {
        let page = other.encode_page(&batch.reports);
        let back = other.decode_page::<R>(&page).unwrap_or_else(|e| {
            panic!(
                "the {format} page as {} does not decode: {e}\n{}",
                other.format(),
                lossy(&page)
            )
        });
        assert_eq!(
            back.reports,
            batch.reports,
            "{format} reports written as {} changed\n{}",
            other.format(),
            lossy(&page)
        );
    }
    for report in &batch.reports {
        let mut one = Vec::new();
        codec.encode_report(report, &mut one);
        let again = codec.decode_report::<R>(&one).unwrap_or_else(|e| {
            panic!(
                "our own {format} report does not decode: {e}\n{}",
                lossy(&one)
            )
        });
        assert_eq!(&again, report, "{format} report round trip changed it");
    }
}

/// Decodes `data` as an API error body in `format`; an accepted one must round-trip.
pub fn api_error_round_trip(format: Format, data: &[u8]) {
    let Ok(codec) = Codec::new(format) else {
        return;
    };
    let Ok(error) = codec.decode_api_error(data) else {
        return;
    };
    let _ = error.to_string();
    let body = codec.encode_api_error(&error);
    let back: ApiError = codec.decode_api_error(&body).unwrap_or_else(|e| {
        panic!(
            "our own {format} error body does not decode: {e}\n{}",
            lossy(&body)
        )
    });
    assert_eq!(
        back,
        error,
        "{format} error round trip changed it\n{}",
        lossy(&body)
    );
}

/// Decodes `data` as a page of voice logs in `format` (which must not panic); when entries
/// were accepted, they must survive `encode_logs` and `decode_logs` in both formats, and one
/// by one through `decode_log`, unchanged and with nothing rejected.
pub fn logs_round_trip(format: Format, data: &[u8]) {
    let Ok(codec) = Codec::new(format) else {
        return;
    };
    let Ok(batch) = codec.decode_logs(data) else {
        return;
    };
    for rejected in &batch.rejected {
        assert!(
            contains(data, &rejected.raw),
            "rejected log {} raw bytes are not from the input",
            rejected.index
        );
        let _ = rejected.error.to_string();
    }
    if batch.reports.is_empty() {
        return;
    }
    for other in [Format::Json, Format::Xml] {
        let Ok(other) = Codec::new(other) else {
            continue;
        };
        let page = other.encode_logs(&batch.reports);
        let back = other.decode_logs(&page).unwrap_or_else(|e| {
            panic!(
                "the {format} logs as {} do not decode: {e}\n{}",
                other.format(),
                lossy(&page)
            )
        });
        assert!(
            back.rejected.is_empty(),
            "our own {} logs page has rejected items: {:?}\n{}",
            other.format(),
            back.rejected,
            lossy(&page)
        );
        assert_eq!(
            back.reports,
            batch.reports,
            "{format} logs written as {} changed\n{}",
            other.format(),
            lossy(&page)
        );
    }
    for log in &batch.reports {
        let one = codec.encode_logs(std::slice::from_ref(log));
        let again: Vec<LogEntry> = codec
            .decode_logs(&one)
            .map(|b| b.reports)
            .unwrap_or_default();
        assert_eq!(
            again.as_slice(),
            std::slice::from_ref(log),
            "{}",
            lossy(&one)
        );
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
