//! `ivr-reports`: fetch Infobip Outbound IVR delivery reports without losing any.
//!
//! Infobip reports how every voice/IVR call ended (status, DTMF answers, duration, price,
//! recording) at `GET /voice/1/reports` (v2, [`CallReport`]) and the older
//! `GET /tts/3/reports` (v1, [`VoiceReport`]). **Each report is handed out once**: a second
//! request returns an empty list. This crate is the small client built around that fact.
//!
//! # Quickstart
//! ```no_run
//! use ivr_reports::{Auth, Client};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), ivr_reports::Error> {
//! let client = Client::builder()
//!     .base_url("https://xyz.api.infobip.com") // your personal base URL
//!     .auth(Auth::app(std::env::var("INFOBIP_API_KEY").unwrap_or_default()))
//!     .build()?;
//!
//! // One page (at most 1000 reports):
//! let page = client.call_reports().limit(1000).await?;
//! for report in &page.reports {
//!     println!("{} {:?} cost {:?}", report.message_id, report.status_group(), report.cost());
//! }
//!
//! // Or every page until the API has nothing more:
//! let mut pages = client.call_reports().limit(1000).drain();
//! while let Some(page) = pages.next().await {
//!     let page = page?;
//!     // store page.reports and page.rejected durably here
//! }
//! # Ok(())
//! # }
//! ```
//!
//! A runnable version that needs no account is `examples/quickstart.rs`
//! (`cargo run -p ivr-reports --example quickstart`): it starts a local sandbox.
//!
//! # How it keeps your reports safe
//! - **No blind retries.** A request is retried only when it provably was not processed:
//!   the connection was refused, DNS or TLS failed before anything was sent, or the API
//!   answered 429/503 (honouring `Retry-After`). Once a request may have reached the server,
//!   a failure is [`ErrorKind::ResponseLost`]: the reports of that response may be gone.
//!   Record it; if you also receive reports by webhook they will arrive there, and the
//!   voice logs (below) still know every message of the last 48 hours.
//! - **One bad report never costs the others.** A page decodes report by report: those that
//!   cannot be read come back in [`Page::rejected`] with their exact raw bytes and the
//!   reason. Store them with the rest: the API will not hand them out again.
//! - **A broken body is kept.** When a 2xx body is not a page at all
//!   ([`ErrorKind::Decode`]), [`Error::body`] still holds it.
//! - **Exact values.** Prices are [`Decimal`]s, timestamps keep the offset they were written
//!   with, unknown codes keep their wire values.
//! - **Secrets stay secret.** Credentials print as `***` and appear in no error; URLs are
//!   shown through [`redact_url`] (no password, no secret query value).
//!
//! For the full never-lose pipeline (durable spool, webhook receiver, deduplication), see the
//! `ivr-reports-collector` crate.
//!
//! # The voice logs: the second source of truth
//! Infobip also keeps a log entry of every voice message sent in the last **48 hours**
//! (`GET /tts/3/logs`), readable any number of times. [`Client::logs`] reads them: a
//! [`LogsRequest`] with every parameter of the API (`from`, `to`, repeatable `bulkId` and
//! `messageId`, `generalStatus`, `sentSince`, `sentUntil`, `limit` 1 to 1000, `mcc`, `mnc`),
//! answering a [`Page`] of [`LogEntry`]s. A final entry ([`LogEntry::is_final`]) whose report
//! never arrived becomes that report, with the fields logs lack left empty, through
//! [`LogEntry::to_recovered_report`].
//!
//! Logs are the one exception to "no blind retries": reading them consumes nothing, so the
//! [`Logs`] endpoint is [`replay_safe`](Endpoint::replay_safe) and a response lost in
//! transit is retried under the client's `RetryPolicy` like a refused connection (when the
//! attempts run out it is an [`ErrorKind::Transport`], never a `ResponseLost`). A 429
//! (Infobip allows 120 logs requests a minute) is waited out, honouring `Retry-After`. There
//! is no cursor: to read more than `limit` entries, narrow the time window.
//!
//! ```no_run
//! # async fn run(client: ivr_reports::Client) -> Result<(), ivr_reports::Error> {
//! use ivr_reports::{StatusGroup, Timestamp};
//!
//! let page = client
//!     .logs()
//!     .bulk_id("campaign-7")
//!     .sent_since(Timestamp::parse("2026-12-01T10:00:00.000+01:00").unwrap())
//!     .limit(1000)
//!     .await?;
//! let pending = page.reports.iter().filter(|e| !e.is_final()).count();
//! println!("{} entries, {pending} still pending", page.reports.len());
//! # Ok(())
//! # }
//! ```
//!
//! # Extending
//! - Other operations: implement [`Endpoint`] and call [`Client::send`]. Build the query
//!   with [`QueryString`] (the report endpoints' percent-encoding), set or override request
//!   headers in [`Endpoint::headers`] (a recording asks for `Accept: audio/wav`;
//!   `Authorization` stays the client's), and return a [`Page::new`] from
//!   [`Endpoint::decode`] when the answer is a page.
//! - Paged operations: implement [`Paged`] too (how many items a page holds, which request
//!   fetches the next) and [`Client::drain_endpoint`] fetches every page; the report
//!   endpoints ([`Reports`]) are paged the same way.
//! - Another HTTP stack, a proxy, a recording double: implement [`HttpTransport`] and pass it
//!   to [`ClientBuilder::transport`].
//!
//! # Features
//! - `json` (default): the JSON wire format.
//! - `xml` (default): the XML wire format ([`ClientBuilder::format`]).
//! - `client` (default): the built-in HTTP client (hyper and tokio), with
//!   `ClientBuilder::{connect_timeout, response_timeout, retry, max_response_body}`,
//!   `ClientBuilder::http_client` for every other setting of the transport's builder (whose
//!   defaults and checks are the ones used), and `RetryPolicy`. Without it the crate pulls in neither hyper nor tokio: requests, drains,
//!   errors and every type stay, and you pass your own [`HttpTransport`] to
//!   [`ClientBuilder::transport`] (`build()` fails without one).
//! - `rustls` (default, implies `client`): `https://` through rustls with the bundled web PKI
//!   roots.
//!
//! # Crates underneath
//! [`model`] (the types), [`codec`] (JSON/XML), [`transport`] (HTTP); this crate re-exports
//! what a user needs.

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod drain;
mod endpoint;
mod error;
mod page;
mod request;

// The API of this crate.
pub use crate::client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use crate::drain::Drain;
pub use crate::endpoint::{Endpoint, Logs, Paged, Reports};
pub use crate::error::{Error, ErrorKind};
pub use crate::page::{Page, ResponseMeta};
pub use crate::request::{LogsRequest, ReportsRequest};

// What a user needs from the layers below, so `ivr-reports` is the only dependency.
pub use ivr_reports_codec::{Format, QueryString, Rejected};
pub use ivr_reports_model::{
    AnsweredBy, AnyReport, ApiError, CallReport, Decimal, Direction, ErrorGroup, Generation,
    IvrData, Limit, LogEntry, LogsQuery, Price, Report, ReportError, ReportRef, ReportsQuery,
    Status, StatusGroup, Timestamp, VoiceCall, VoiceReport,
};
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use ivr_reports_transport::RetryPolicy;
pub use ivr_reports_transport::{
    Auth, BoxFuture, HttpTransport, Secret, SharedTransport, redact_url,
};

/// The `bytes` crate, whose `Bytes` carries bodies.
pub use bytes;
/// The `http` crate, whose types [`Endpoint`] and [`HttpTransport`] use.
pub use http;
/// Wire formats (`ivr-reports-codec`).
pub use ivr_reports_codec as codec;
/// Domain types: reports, prices, statuses, timestamps, queries (`ivr-reports-model`).
pub use ivr_reports_model as model;
/// HTTP exchange (`ivr-reports-transport`).
pub use ivr_reports_transport as transport;

/// This crate's README.md example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
