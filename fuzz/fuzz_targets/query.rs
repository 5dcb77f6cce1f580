//! Fuzz target: what the sandbox parses from a request line and its headers. A report
//! query string (`parse_query`) or a logs query string (`parse_logs_query`) that parses must
//! survive encoding and parsing again; `Accept` negotiation and `Content-Type` sniffing must
//! not panic.
#![no_main]

use ivr_reports_codec::{Format, encode_logs_query, encode_query, parse_logs_query, parse_query};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(query) = parse_query(text) {
        let encoded = encode_query(&query);
        let back = parse_query(&encoded)
            .unwrap_or_else(|e| panic!("{text:?} parsed, but {encoded:?} did not: {e}"));
        assert_eq!(back, query, "{text:?} -> {encoded:?} changed the query");
    }
    if let Ok(query) = parse_logs_query(text) {
        let encoded = encode_logs_query(&query);
        let back = parse_logs_query(&encoded)
            .unwrap_or_else(|e| panic!("{text:?} parsed as logs, but {encoded:?} did not: {e}"));
        assert_eq!(
            back, query,
            "{text:?} -> {encoded:?} changed the logs query"
        );
    }
    let _ = Format::negotiate(text);
    let _ = Format::from_content_type(text);
    let _ = Format::of_body(Some(text), data);
});
