//! Wire formats for Infobip Outbound IVR delivery reports: bytes in, [`ivr_reports_model`]
//! types out, and back.
//!
//! This crate is sans-IO: it never opens a socket or knows an HTTP library. It will hold the
//! JSON and XML encoders and decoders for both report generations, content negotiation, the
//! `pricePerMessage`/`pricePerSecond` quirk and per-report lenient decoding (see the
//! project's "Step 2/7" issue). Today it only re-exports the model it builds on.

/// The domain types this crate encodes and decodes.
pub use ivr_reports_model as model;
