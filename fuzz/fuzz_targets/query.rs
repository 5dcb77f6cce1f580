//! Fuzz target: what the sandbox parses from a request line and its headers. A report
//! query string (`parse_query`) that parses must survive `encode_query` and parsing again;
//! `Accept` negotiation and `Content-Type` sniffing must not panic.
#![no_main]

use ivr_reports_codec::{Format, encode_query, parse_query};
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
    let _ = Format::negotiate(text);
    let _ = Format::from_content_type(text);
    let _ = Format::of_body(Some(text), data);
});
