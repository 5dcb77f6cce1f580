//! `ivr-reports`: fetch Infobip Outbound IVR delivery reports without losing any.
//!
//! Infobip hands out each delivery report exactly once. This crate will be the small public
//! API (`Client`, request builders, a drain stream) composed from the model, codec and
//! transport layers (see the project's "Step 5/7" issue). Today it re-exports the layers.

/// Wire formats.
pub use ivr_reports_codec as codec;
/// Domain types: reports, prices, statuses, timestamps, queries.
pub use ivr_reports_model as model;
/// HTTP exchange.
pub use ivr_reports_transport as transport;

/// README.md's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
