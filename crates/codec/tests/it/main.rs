//! Behaviour tests of ivr-reports-codec: golden fixtures, leniency, isolation, hostile input
//! and round trips, in one test binary.

// Helpers outside #[test] functions panic on purpose too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api_errors;
mod fixtures;
mod fuzzed;
mod hostile;
mod isolation;
mod leniency;
mod logs;
mod repeats;
mod roundtrip;
mod serde_parity;
mod strategies;

use ivr_reports_codec::{Codec, Format};

/// The codec of `format` (both are compiled in for these tests).
fn codec(format: Format) -> Codec {
    Codec::new(format).unwrap()
}
