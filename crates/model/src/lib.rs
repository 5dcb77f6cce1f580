//! Domain types for Infobip's Outbound IVR delivery reports.
//!
//! Infobip reports the outcome of every voice/IVR call it places (status, DTMF answers,
//! duration, price, recordings) through `GET /tts/3/reports` (v1, flat reports: [`VoiceReport`])
//! and `GET /voice/1/reports` (v2, nested: [`CallReport`] with [`VoiceCall`] and [`IvrData`]),
//! or by pushing the same reports to a webhook. This crate holds those reports as Rust types
//! that do not lose information:
//!
//! - money and file durations are exact [`Decimal`]s, never floats;
//! - dates are [`Timestamp`]s that keep the offset and precision they were written with, so
//!   they print back exactly as received;
//! - status and error groups are enums with an `Unknown` arm ([`StatusGroup`], [`ErrorGroup`]),
//!   and names are kept as sent, so a code Infobip adds tomorrow never breaks decoding; the
//!   codes known today are in tables ([`status_info`], [`error_info`]);
//! - request parameters ([`ReportsQuery`], [`Limit`]) and the API's error body ([`ApiError`])
//!   are validated values.
//!
//! What it does **not** do: read or write the wire formats (JSON and XML, with their quirks,
//! are `ivr-reports-codec`'s job), or talk HTTP. With the `serde` feature every type derives
//! `Serialize`/`Deserialize` in the API's camelCase JSON shape (decimals as strings; see the
//! feature notes below), which is handy for storage, but it is not the lenient wire decoder.
//!
//! The crate is `#![no_std]` and needs only `alloc`.
//!
//! # Example
//! ```
//! use ivr_reports_model::{Decimal, Price, ReportError, Status, StatusGroup, Timestamp, VoiceReport};
//!
//! let mut report = VoiceReport::new("ff4804ef-6ab6-4abd-984d-ab3b1387e852", "385981178");
//! report.sent_at = Some("2015-02-12T09:58:20.323+0100".parse::<Timestamp>()?);
//! report.duration = Some(10);
//! report.price = Some(Price::new("0.01".parse::<Decimal>().unwrap(), "EUR"));
//! report.status = Status::known(5);
//! report.error = ReportError::known(5000);
//!
//! assert_eq!(report.status_group(), Some(StatusGroup::Delivered));
//! assert_eq!(report.cost().map(|c| c.to_string()), Some("0.10".to_string()));
//! assert_eq!(report.sent_at.unwrap().to_string(), "2015-02-12T09:58:20.323+0100");
//! # Ok::<(), ivr_reports_model::Error>(())
//! ```
//!
//! # Features
//! - `std` (default): enables `std` in `rust_decimal` and converts [`Timestamp`] into
//!   `std::time::SystemTime`.
//! - `serde`: `Serialize`/`Deserialize` for every type. Timestamps are written in the
//!   documented form and read from any accepted form or epoch milliseconds; decimals are
//!   written as strings (`"0.01"`) so they never pass through `f64`, and read from strings or
//!   numbers.

#![no_std]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod api_error;
mod codes;
mod error;
mod price;
mod query;
mod results_page;
#[cfg(feature = "serde")]
mod serde_util;
mod status;
mod timestamp;
mod v1;
mod v2;

// The public API, in one place.
pub use crate::api_error::ApiError;
pub use crate::codes::{
    ERRORS, ErrorGroup, ErrorInfo, STATUSES, StatusGroup, StatusInfo, error_info, status_info,
};
pub use crate::error::{Error, ErrorKind};
pub use crate::price::Price;
pub use crate::query::{Limit, ReportsQuery};
pub use crate::results_page::ResultsPage;
pub use crate::status::{ReportError, Status};
pub use crate::timestamp::Timestamp;
pub use crate::v1::VoiceReport;
pub use crate::v2::{AnsweredBy, CallReport, Direction, IvrData, VoiceCall};
/// The exact decimal type used for prices and durations (from `rust_decimal`).
pub use rust_decimal::Decimal;

/// This crate's README.md example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
