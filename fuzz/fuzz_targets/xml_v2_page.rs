//! Fuzz target: a Xml page of `CallReport`s decodes without panicking, and the reports it
//! accepted round-trip through our encoder unchanged.
#![no_main]

use ivr_reports_codec::Format;
use ivr_reports_codec::model::CallReport;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    ivr_reports_fuzz::page_round_trip::<CallReport>(Format::Xml, data);
});
