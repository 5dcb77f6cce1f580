//! `ivr-reports-collector`: the never-lose pipeline for Infobip IVR delivery reports.
//!
//! Infobip hands out each delivery report **once**. This crate takes them in, by pull and by
//! push, and keeps every one exactly once:
//!
//! - **Pull** ([`Collector::run_pull`], [`Collector::drain`]): fetches pages of 1000 from
//!   `GET /voice/1/reports` (or `/tts/3/reports`) until an empty page, then waits the poll
//!   interval; backs off on errors. Each raw response body is appended to a **spool** file
//!   and synced *before* it is decoded; after a crash (even `kill -9`) the next start
//!   replays the spool into the sink. A lost response (the request went out, the answer
//!   never came) is counted as an incident: only the API could say what it held.
//! - **Push** ([`Collector::serve_webhook`]): a webhook on transport's hardened server
//!   (path and Basic auth configurable) accepting v1 or v2 bodies, JSON or XML. It answers
//!   `200` only once the sink has committed; a body it cannot read is committed to the
//!   quarantine and then answered `200`; when the sink fails it answers `503` so the sender
//!   retries. `GET /metrics` serves the [`Counters`] as Prometheus text.
//! - **Exactly once**: every [`Sink`] is idempotent by `messageId`, so a report that comes
//!   by pull and by push, twice, or again from the spool is stored once. Reports the codec
//!   rejects are kept, raw, in the sink's **quarantine** with the reason; [`replay`] runs
//!   them through the codec again.
//! - **Sinks**: [`JsonlSink`] (the embedded default: a JSONL journal, fsync per batch,
//!   torn last line repaired on open) and `PgSink` (feature `postgres`: one table keyed by
//!   `message_id`, shared by collectors on many machines). [`SinkSpec`] opens either from
//!   `jsonl:PATH` or a `postgres://` URL.
//!
//! What it leaves to others: HTTP and credentials (`ivr-reports`, whose [`Client`] you pass
//! in), decoding (`ivr-reports-codec`), argument parsing, signals and progress display (the
//! `ivr-reports` command), and statistics (computed by the command from
//! [`Sink::reports`]).
//!
//! # Example
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ivr_reports_collector::{Collector, SinkSpec, WebhookConfig};
//!
//! let dir = std::env::temp_dir().join(format!("collector-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let spec = SinkSpec::Jsonl(dir.join("reports.jsonl"));
//! let collector = Collector::builder(spec.open().await?)
//!     .spool_path(spec.default_spool_path())
//!     .build();
//!
//! // Receive pushes (give `webhook.url()` to the sender as notifyUrl):
//! let webhook = collector.bind_webhook("127.0.0.1:0".parse()?, WebhookConfig::new())?;
//! // ... and pull with `collector.run_pull(&client, stop)` beside it.
//!
//! webhook.shutdown(std::time::Duration::from_secs(5)).await?;
//! assert_eq!(collector.counters().stored, 0);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//! - `postgres`: the PostgreSQL sink, on tokio-postgres (no TLS).
//!
//! Everything runs within a tokio runtime (file I/O on its blocking pool).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod collector;
mod counters;
mod error;
mod jsonl;
#[cfg(feature = "postgres")]
mod pg;
mod quarantine;
mod replay;
mod report;
mod sink;
mod spool;
mod webhook;

// The public API, in one place.
pub use crate::collector::{Collector, CollectorBuilder, DrainSummary, Event};
pub use crate::counters::Counters;
pub use crate::error::{Error, ErrorKind};
pub use crate::jsonl::JsonlSink;
#[cfg(feature = "postgres")]
pub use crate::pg::{PgSink, PgSinkBuilder};
pub use crate::quarantine::{QuarantineEntry, Quarantined, Scope, Source};
pub use crate::replay::{ReplaySummary, replay};
pub use crate::report::{Generation, StoredReport};
pub use crate::sink::{Sink, SinkSpec, Stored};
#[doc(hidden)]
pub use crate::webhook::decode_push_body;
pub use crate::webhook::{Webhook, WebhookConfig};
/// Boxed futures, as [`Sink`] returns them.
pub use ivr_reports::BoxFuture;
/// The client the pull loop fetches with.
pub use ivr_reports::Client;
/// Domain types: reports, prices, statuses (`ivr-reports-model`).
pub use ivr_reports_model as model;
