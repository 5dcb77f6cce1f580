//! Wire formats for Infobip Outbound IVR delivery reports: bytes in, [`ivr_reports_model`]
//! types out, and back.
//!
//! Infobip hands out each delivery report once, as JSON or XML, in two generations: v1 flat
//! reports ([`VoiceReport`](model::VoiceReport), `GET /tts/3/reports`) and v2 nested ones
//! ([`CallReport`](model::CallReport), `GET /voice/1/reports`), and pushes the same
//! envelopes to webhooks. This crate reads and writes all of them, and the API's error body:
//!
//! - [`Codec`] decodes a page into a [`Batch`]: the reports that decoded, and the ones that
//!   did not as [`Rejected`] items with their exact raw bytes and the reason, so one
//!   malformed report never costs the others. Only a broken envelope fails a whole call.
//! - Decoding is lenient where the API is inconsistent: numbers sent as strings and the
//!   reverse, every date form, `pricePerMessage` or `pricePerSecond`, `null` or empty XML
//!   elements as absent, unknown fields ignored. Money is read from its source text into an
//!   exact decimal, never through `f64`.
//! - Errors ([`Error`]) name the path and position:
//!   `results[3].price.pricePerSecond: expected a decimal, found "abc" (line 1, column 812)`.
//! - Hostile input cannot make it panic or work without bound: nesting depth is limited,
//!   XML doctypes and custom entities are refused, never expanded.
//! - [`Format`] picks JSON or XML from a `Content-Type` or by negotiating an `Accept` header;
//!   [`QueryString`] builds query strings (custom endpoints use it too); [`encode_query`]
//!   and [`parse_query`] handle the report endpoints' ones, [`encode_logs_query`] and
//!   [`parse_logs_query`] the logs endpoint's.
//! - The voice logs (`GET /tts/3/logs`) are read and written the same way:
//!   [`Codec::decode_logs`] and [`Codec::encode_logs`] (XML root `logsResponse`).
//!
//! What it does **not** do: I/O of any kind, or HTTP (no HTTP library is a dependency); the
//! transport and facade crates do that. It only ever sees byte slices.
//!
//! # Example
//! ```
//! use ivr_reports_codec::{Codec, Format};
//! use ivr_reports_codec::model::{StatusGroup, VoiceReport};
//!
//! let body = br#"{"results":[
//!   {"messageId":"ff4804ef","to":"385981178","sentAt":"2015-02-12T09:58:20.323+0100",
//!    "duration":"10","price":{"pricePerSecond":0.01,"currency":"EUR"},"status":{"id":5}},
//!   {"to":"385981112"}
//! ]}"#;
//! let format = Format::from_content_type("application/json").unwrap();
//! let batch = Codec::new(format)?.decode_page::<VoiceReport>(body)?;
//!
//! let report = &batch.reports[0];
//! assert_eq!(report.duration, Some(10));
//! assert_eq!(report.cost().unwrap().to_string(), "0.10");
//! assert_eq!(report.status_group(), Some(StatusGroup::Delivered));
//! assert_eq!(report.status.as_ref().unwrap().name, "DELIVERED_TO_HANDSET");
//!
//! let rejected = &batch.rejected[0];
//! assert_eq!(rejected.raw, br#"{"to":"385981112"}"#);
//! assert_eq!(rejected.error.to_string(), "results[1].messageId: missing field (line 4, column 3)");
//! # Ok::<(), ivr_reports_codec::Error>(())
//! ```
//!
//! # Features
//! - `json` (default): the JSON format, with a hand-written tokenizer and writer.
//! - `xml` (default): the XML format, read with quick-xml's pull parser.
//!
//! With neither, [`Format`], [`Error`] and the query strings still work, and
//! [`Codec::new`] reports [`ErrorKind::Unsupported`].

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod batch;
mod codec;
#[cfg(any(feature = "json", feature = "xml"))]
mod common;
mod error;
mod format;
#[cfg(feature = "json")]
mod json;
mod query;
#[cfg(any(feature = "json", feature = "xml"))]
mod schema;
#[cfg(feature = "xml")]
mod xml;

// The public API, in one place.
pub use crate::batch::{Batch, Rejected};
pub use crate::codec::{Codec, PriceName};
pub use crate::error::{Error, ErrorKind};
pub use crate::format::Format;
pub use crate::query::{
    QueryString, encode_logs_query, encode_query, parse_logs_query, parse_query,
};
/// The domain types this crate encodes and decodes (`ivr-reports-model`).
pub use ivr_reports_model as model;
/// The report generations the codec reads and writes (from the model).
pub use ivr_reports_model::{AnyReport, Generation, Report, ReportRef};

/// This crate's README.md example, compiled and run as a doc test.
#[cfg(all(doctest, feature = "json"))]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
