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
//! - the two generations are one concept: [`Generation`] names them (and their endpoints),
//!   the sealed [`Report`] trait reads the same facts from either shape (id, bulk, destination,
//!   status, error, price, duration, cost, DTMF, times), and [`AnyReport`] / [`ReportRef`] hold
//!   a report of either; every other crate builds on these instead of matching shapes itself;
//! - request parameters ([`ReportsQuery`], [`LogsQuery`], [`Limit`]) and the API's error
//!   body ([`ApiError`]) are validated values;
//! - the voice logs (`GET /tts/3/logs`, kept 48 hours and readable any number of times) are
//!   [`LogEntry`]s: [`LogEntry::is_final`] and [`LogEntry::to_recovered_report`] turn a lost
//!   report back into a [`VoiceReport`] with the fields logs carry.
//!
//! What it does **not** do: talk HTTP, or read XML and whole pages with per-report error
//! recovery (that is `ivr-reports-codec`'s job). With the `serde` feature every type
//! implements `Serialize`/`Deserialize` in the API's JSON form, as the codec writes and reads
//! it; see [the feature notes](#the-serde-form) below.
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
//! - `serde`: `Serialize`/`Deserialize` for every type, in the wire form described below.
//!   Pulls in `serde_json` (with `alloc` and `raw_value` only: still `no_std`).
//!
//! ## The serde form
//! With serde_json, a report serializes to the same bytes as `ivr-reports-codec` writes
//! (field names and order, absent fields left out; only U+0008 and U+000C in strings are
//! escaped differently, `\b` and `\f` against `\u0008` and `\u000c`, the same text either
//! way), and reads everything the codec's JSON decoder reads, to the same value. A property test in the codec's tests checks both ways
//! on generated v1 and v2 reports and [`ResultsPage`]s.
//!
//! - Decimals (prices, `fileDuration`) are JSON numbers with every digit (`0.01`,
//!   `12345678901234567.0123456789`), never through `f64`: serde_json's `raw_value` hook
//!   carries the text, both ways. Read from numbers or strings, with exponents; more than
//!   28 significant digits are rounded to fit, as the codec does.
//! - Timestamps are written in the documented form (`"2015-02-12T09:58:20.323+0100"`, with
//!   the offset and digits they were read with) and read from every form
//!   [`Timestamp::parse`] accepts, epoch milliseconds included (number or string).
//! - The codec's leniency: whole numbers from `10`, `10.0` or `"10.00"`; `permanent` from
//!   `true`, `"true"` or `"1"`; `null` and `""` are absent for every non-string field;
//!   numbers and booleans are taken as their text in string fields; `null`, `{}` and
//!   objects that say nothing (a price without amount, empty `voiceCall`/`ivr`) are absent;
//!   a missing status or error group or name is filled in from the code tables; a missing
//!   or `null` `to` is `""`; unknown fields are skipped.
//! - An error whose group is [`ErrorGroup::Unknown(0)`](ErrorGroup::Unknown) (no group
//!   known) is written without `groupId`, as the codec writes it: `groupId` 0 means OK.
//!
//! Where serde differs from the codec (tested, the compact case in this crate and the others
//! in the codec's `serde_parity` tests, except the last two):
//! - a field sent twice is refused (`duplicate field`); the codec takes one of them;
//! - a price with both `pricePerSecond` and `pricePerMessage` takes `pricePerSecond`; the
//!   codec takes the later one;
//! - a page ([`ResultsPage`]) with one unreadable report is refused whole; the codec sets
//!   that report aside and keeps the others;
//! - a UTF-8 byte order mark is refused by serde_json; the codec skips it;
//! - through a deserializer other than serde_json's own (another format, or serde's
//!   buffering for `#[serde(flatten)]` and untagged enums) numbers arrive as `f64`: exact up
//!   to 15 significant digits only;
//! - other human-readable serializers see a decimal as serde_json's raw-value struct, a
//!   one-entry map; compact (not human-readable) ones get the decimal as a string;
//! - error messages are serde's (with serde_json's line and column), not the codec's.

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
mod log;
mod price;
mod query;
mod report;
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
pub use crate::log::{LogEntry, LogsQuery};
pub use crate::price::Price;
pub use crate::query::{Limit, ReportsQuery};
pub use crate::report::{AnyReport, Generation, Report, ReportRef};
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
