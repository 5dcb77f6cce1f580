//! `ivr-reports-collector`: the never-lose pipeline for Infobip IVR delivery reports.
//!
//! Infobip hands out each delivery report **once**. This crate takes them in, by pull and by
//! push, and keeps every one exactly once:
//!
//! - **Pull** ([`Collector::run_pull`], [`Collector::drain`]): fetches pages of 1000 from
//!   `GET /voice/1/reports` (or `/tts/3/reports`) until an empty page, then waits the poll
//!   interval; backs off on errors. Up to [`CollectorBuilder::concurrency`] requests are in
//!   flight at once (halved while the API answers `429`/`503`, waiting its `Retry-After`).
//!   Before each request an **in-flight marker** (id, time, generation, query) is appended
//!   to a **spool** file and synced; each raw response body is appended and synced *before*
//!   it is decoded (the records of concurrent requests share their syncs). After a crash (even `kill -9`) the next
//!   start replays the spool's bodies into the sink, and a marker no body follows becomes a
//!   **possible-loss incident**: the server may have handed out reports that never
//!   arrived. A lost response seen live (the request went out, the answer never came) is
//!   one too. Incidents are kept durably in a log beside the spool ([`Incident`],
//!   [`Collector::incidents`]), counted and never silent: only the API's logs can say what
//!   such a response held. [`Collector::reconcile`] reads them (any [`LogSource`]; the
//!   facade's [`Client`] is one): every final call of an incident's window without a stored
//!   report is stored as *recovered from logs* ([`Origin::Recovered`]), and the incident is
//!   closed once its window holds no pending call. Logs are kept 48 hours: an incident not
//!   reconciled by then stays open for good, loudly.
//! - **Push** ([`Collector::serve_webhook`]): a webhook on transport's hardened server
//!   accepting v1 or v2 bodies, JSON or XML. It answers `200` only once the sink has
//!   committed; a body it cannot read is committed to the quarantine and then answered
//!   `200`; when the sink fails it answers `503` so the sender retries. `GET /metrics`
//!   serves the [`Counters`] as Prometheus text. It cannot be fooled or exhausted
//!   ([`WebhookConfig`]): off loopback it refuses to start without credentials (Basic auth
//!   or a secret path token, or an explicit opt-out), and checks them before reading a
//!   body; decoding and storing run within a memory budget (pushes beyond it wait, then get
//!   `503`); a full quarantine refuses further undecodable pushes with `507`. Neither
//!   refusal is an acknowledgement: the sender keeps the reports and retries.
//! - **Exactly once**: every [`Sink`] is idempotent by `messageId`, so a report that comes
//!   by pull and by push, twice, or again from the spool is stored once. One that comes
//!   again with *different* content is a [`Conflict`]: the stored version stays, both
//!   versions go to the quarantine, and it is counted ([`Counters::conflicts`]); a report
//!   with an empty `messageId` is quarantined, never taken for a duplicate. (The codec reads
//!   a numeric `messageId` as its text: `123` and `"123"` are the same id, a duplicate when
//!   the content is the same, a conflict otherwise.) Reports the codec
//!   rejects are kept, raw, in the sink's **quarantine** with the reason; [`replay`] runs
//!   them through the codec again. A report the sink itself refuses
//!   ([`ErrorKind::Rejected`], e.g. a `\u0000` PostgreSQL cannot store) is found by storing
//!   the batch in halves and quarantined alone: its siblings and later pages are stored.
//! - **Health and metrics** ([`Collector::health`], [`Collector::bind_metrics`]): ready
//!   after the first good pull, unhealthy after N consecutive failed pulls (default 5);
//!   `GET /metrics` (Prometheus: the [`Counters`] and the health) and `GET /healthz` (`200`
//!   or `503` with the reason) on a listener of their own.
//! - **Sinks**: [`JsonlSink`] (the embedded default: a JSONL journal, fsync per batch,
//!   concurrent batches sharing one fsync (group commit), torn last line repaired on open)
//!   and `PgSink` (feature `postgres`: one table keyed by `message_id`, shared by
//!   collectors on many machines; concurrent batches share one statement). [`SinkSpec`] opens either from
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
//! - `client` (default): the facade's built-in HTTP client, so [`Client::builder`] builds
//!   one with this crate alone; off when you bring your own `HttpTransport`.
//! - `postgres`: the PostgreSQL sink, on tokio-postgres, with TLS by rustls (`sslmode`).
//! - `test-util`: `testing::check_sink`, the [`Sink`] conformance suite for implementors.
//!
//! Everything runs within a tokio runtime (file I/O on its blocking pool).
//!
//! # Tracing
//! The collector reports through [`tracing`](https://docs.rs/tracing) (install any
//! subscriber): a `pull` span per drain and a `page` span per request; a `WARN` event for
//! every failed pull, quarantined item and conflicting duplicate, an `INFO` event for every
//! backoff, and an `ERROR` event for every possible-loss incident, when it happens. Fields
//! never hold a credential.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]

mod collector;
mod counters;
mod error;
mod incident;
mod jsonl;
mod metrics;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
mod pg_connect;
mod quarantine;
mod reconcile;
mod replay;
mod report;
mod sink;
mod spool;
#[cfg(feature = "test-util")]
pub mod testing;
mod webhook;

// The public API, in one place.
pub use crate::collector::{Collector, CollectorBuilder, DrainSummary, Event};
pub use crate::counters::Counters;
pub use crate::error::{Error, ErrorKind};
pub use crate::incident::{Incident, IncidentReason};
pub use crate::jsonl::{DEFAULT_COMMIT_WINDOW, JsonlSink, JsonlSinkBuilder};
pub use crate::metrics::{Health, MetricsServer};
#[cfg(feature = "postgres")]
#[cfg_attr(docsrs, doc(cfg(feature = "postgres")))]
pub use crate::pg::{PgSink, PgSinkBuilder};
pub use crate::quarantine::{QuarantineEntry, Quarantined, Scope, Source};
pub use crate::reconcile::{
    IncidentOutcome, IncidentState, LogSource, ReconcileConfig, Reconciliation, read_logs,
};
pub use crate::replay::{ReplaySummary, replay};
pub use crate::report::{canonical_json, read_journal_line};
pub use crate::sink::{Conflict, Origin, Sink, SinkSpec, Stored, StoredReport};
#[doc(hidden)]
pub use crate::webhook::decode_push_body;
pub use crate::webhook::{Webhook, WebhookConfig};
/// Boxed futures, as [`Sink`] returns them.
pub use ivr_reports::BoxFuture;
/// The client the pull loop fetches with.
pub use ivr_reports::Client;
/// Domain types: reports, prices, statuses (`ivr-reports-model`).
pub use ivr_reports_model as model;
pub use ivr_reports_model::{AnyReport, Generation};

/// This crate's README.md example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
