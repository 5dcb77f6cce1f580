//! Fuzz target: the API's error body (`requestError.serviceException`) in JSON and in XML
//! decodes without panicking, and what was accepted round-trips unchanged.
#![no_main]

use ivr_reports_codec::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ivr_reports_fuzz::api_error_round_trip(Format::Json, data);
    ivr_reports_fuzz::api_error_round_trip(Format::Xml, data);
});
