//! Fuzz target: a page of voice logs (`GET /tts/3/logs`), read as JSON and as XML, decodes
//! without panicking, and the entries it accepted round-trip through our encoder unchanged,
//! in both formats.
#![no_main]

use ivr_reports_codec::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ivr_reports_fuzz::logs_round_trip(Format::Json, data);
    ivr_reports_fuzz::logs_round_trip(Format::Xml, data);
});
