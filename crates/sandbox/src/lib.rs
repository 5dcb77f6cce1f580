//! An Infobip-compatible local voice server: test your IVR report handling without the real API.
//!
//! The sandbox speaks the parts of Infobip's voice API that produce and hand out delivery
//! reports, over real HTTP on loopback:
//!
//! - `GET /tts/3/reports` (v1, flat) and `GET /voice/1/reports` (v2, nested): all four
//!   authorization schemes, `limit` (default 50, 1 to 1000, else 400 with
//!   `validationErrors`), `bulkId` and `messageId` filters, JSON or XML by `Accept` (406
//!   otherwise), and the one hard rule of the real API: **each report is handed out once**,
//!   even to many concurrent callers; then `{"results":[]}`.
//! - `POST /tts/3/single`, `/tts/3/multi`, `/tts/3/advanced` and `/voice/ivr/1/messages`
//!   (JSON bodies) place simulated calls whose outcome depends only on the destination number
//!   (see [`Outcome`] for the table of test numbers), answer with `bulkId`/`messageId`s and
//!   status 26 `PENDING_ACCEPTED`, and keep client-given ids. A simulated call's report is
//!   available from both report endpoints (once). Calls sent to `/tts/3/advanced` or
//!   `/voice/ivr/1/messages` with `notifyUrl` are pushed there instead (v1 or v2 per
//!   `notifyContentVersion`, JSON or XML per `notifyContentType`), retried with backoff until
//!   the receiver answers 200. As in the real API, single and multi have no `notifyUrl`: one
//!   sent there is ignored, like any unknown field.
//! - `GET /tts/3/logs`: a log entry for every message placed (sends and campaigns, pushed
//!   ones too; and every injected report, with the fields it carries that logs carry,
//!   kept 48 hours from its injection whatever its `sentAt`) with its *current* status,
//!   never consumed, for the last 48 hours of a sandbox clock the admin API can advance
//!   ([`SandboxHandle::advance_clock`]). Filters `from`, `to`, `bulkId`*,
//!   `messageId`*, `generalStatus`, `sentSince` (inclusive), `sentUntil` (exclusive),
//!   `mcc`, `mnc`; newest first, `limit` 1 to 1000 (default 50), no cursor. A message is
//!   final as soon as it is placed unless held ([`SandboxHandle::hold`]): then it is
//!   PENDING and its report cannot be fetched until released. Throttled per credential at
//!   120 requests a minute ([`SandboxBuilder::logs_rate_limit`]): `429` with the legacy
//!   error body and `Retry-After`.
//! - An admin API under `/sandbox/` (its own bearer token, see [`SandboxHandle::admin_token`]):
//!   `POST /sandbox/reports/v1` and `/sandbox/reports/v2` inject report pages (JSON or XML
//!   bodies; injected reports are handed out by their own generation's endpoint only, with
//!   their dates in the API's form `2015-02-12T09:58:20.323+0100` whatever form they came in),
//!   `GET /sandbox/counters` ([`Counters`]), `GET`/`PUT /sandbox/faults` ([`Faults`]: latency,
//!   429/500/503 rates, and "take the reports then drop the connection"),
//!   `GET /sandbox/records` ([`Records`]: which message ids were handed out, lost in transit
//!   or pushed), `GET /sandbox/clock`, `POST /sandbox/clock/advance` `{"seconds": N}`,
//!   `POST /sandbox/hold` and `/sandbox/release` `{"messageIds": [...], "bulkIds": [...]}`
//!   (release with `"lost": true` loses the reports instead, as a dropped response would),
//!   and `POST /sandbox/reset`. The same operations are methods of [`SandboxHandle`].
//!
//! Credentials come before bodies: a request's head is judged before its body is read, so
//! an unauthenticated (or misrouted) upload is refused at once and costs no memory; bodies
//! are capped ([`SandboxBuilder::max_body_bytes`], 8 MiB) and read a few at a time
//! ([`SandboxBuilder::max_concurrent_body_reads`], 8).
//!
//! What it does **not** do: place real calls, play audio (`/tts/3/files/...` serves a short
//! silent WAV), accept XML send bodies, or keep anything across restarts.
//!
//! # Example
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ivr_reports_sandbox::Sandbox;
//! use ivr_reports_model::VoiceReport;
//!
//! let sandbox = Sandbox::builder().api_key("test-key").start().await?;
//! println!("Infobip-compatible API at {}", sandbox.base_url());
//! sandbox.inject_v1([VoiceReport::new("msg-1", "41790000001")]);
//! assert_eq!(sandbox.counters().pending, 1);
//! sandbox.shutdown().await?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
mod auth;
mod error;
mod faults;
mod logs;
mod outcomes;
mod pieces;
mod push;
mod send;
mod store;
mod wire;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ivr_reports_model::{CallReport, Timestamp, VoiceReport};
use ivr_reports_transport::ServerHandle;

use crate::app::State;
use crate::push::{PushPolicy, Pusher};

// The public API, in one place.
pub use crate::auth::Credentials;
pub use crate::error::{Error, ErrorKind};
pub use crate::faults::{Counters, Faults, Records};
pub use crate::outcomes::Outcome;

/// The entry point: [`Sandbox::builder`] or [`Sandbox::start`].
#[derive(Debug)]
pub struct Sandbox(());

impl Sandbox {
    /// A builder with the defaults: `127.0.0.1`, a free port, the default [`Credentials`].
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// Starts a sandbox with the defaults.
    ///
    /// # Errors
    /// As [`SandboxBuilder::start`].
    pub async fn start() -> Result<SandboxHandle, Error> {
        Self::builder().start().await
    }
}

/// Configures and starts a sandbox.
#[derive(Debug)]
#[must_use]
pub struct SandboxBuilder {
    addr: SocketAddr,
    listener: Option<TcpListener>,
    credentials: Credentials,
    admin_token: String,
    seed: Option<u64>,
    campaigns: Vec<(String, usize)>,
    push: PushPolicy,
    faults: Faults,
    limits: app::Limits,
    logs_rate_limit: (u32, Duration),
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            listener: None,
            credentials: Credentials::default(),
            admin_token: "sandbox-admin-token".into(),
            seed: None,
            campaigns: Vec::new(),
            push: PushPolicy::default(),
            faults: Faults::default(),
            limits: app::Limits {
                max_body_bytes: 8 * 1024 * 1024,
                max_concurrent_body_reads: 8,
            },
            logs_rate_limit: (120, Duration::from_secs(60)),
        }
    }
}

impl SandboxBuilder {
    /// The address to listen on. Default `127.0.0.1:0` (a free port on loopback).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Serve on an already bound listener instead of binding [`SandboxBuilder::addr`].
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// The API key accepted as `App <key>`. Default `sandbox-api-key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.credentials.api_key = key.into();
        self
    }

    /// The username and password accepted as `Basic`. Default `sandbox` /
    /// `sandbox-password`.
    pub fn basic(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials.username = username.into();
        self.credentials.password = password.into();
        self
    }

    /// The token accepted as `IBSSO <token>`. Default `sandbox-ibsso-token`.
    pub fn ibsso_token(mut self, token: impl Into<String>) -> Self {
        self.credentials.ibsso_token = token.into();
        self
    }

    /// The token accepted as `Bearer <token>`. Default `sandbox-bearer-token`.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.credentials.bearer_token = token.into();
        self
    }

    /// The bearer token of the admin API under `/sandbox/`. Default `sandbox-admin-token`.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = token.into();
        self
    }

    /// Seeds the generator behind fault rates and generated ids, for repeatable runs: two
    /// sandboxes with the same seed hand out the same ids. Default: fault rates from a fixed
    /// seed, and ids unique to each start (time, process and a counter), so a second run
    /// never repeats the message ids of the first.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Places `calls` simulated calls in bulk `bulk_id` before the sandbox accepts its first
    /// connection, as [`SandboxHandle::simulate_campaign`] would: the very first request
    /// already sees them. May be given several times. Default none.
    pub fn campaign(mut self, bulk_id: impl Into<String>, calls: usize) -> Self {
        self.campaigns.push((bulk_id.into(), calls));
        self
    }

    /// Faults active from the start. Default none.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// How many times a webhook push is attempted before it counts as failed. Default 10.
    pub fn push_attempts(mut self, attempts: u32) -> Self {
        self.push.max_attempts = attempts.max(1);
        self
    }

    /// The first wait between push attempts (doubling up to `max`). Default 200 ms, up to
    /// 10 s.
    pub fn push_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.push.initial_backoff = initial;
        self.push.max_backoff = max.max(initial);
        self
    }

    /// The largest request body accepted, in bytes; larger ones get `413`. Default 8 MiB,
    /// room for a send request of 10,000 destinations or an injected page of thousands of
    /// reports.
    pub fn max_body_bytes(mut self, bytes: u64) -> Self {
        self.limits.max_body_bytes = bytes;
        self
    }

    /// How many request bodies are read at once; further uploads wait. With
    /// [`max_body_bytes`](SandboxBuilder::max_body_bytes) this bounds the memory request
    /// bodies can take (by default 8 × 8 MiB). Unauthenticated requests never get their
    /// bodies read at all. Default 8; 0 counts as 1.
    pub fn max_concurrent_body_reads(mut self, max: usize) -> Self {
        self.limits.max_concurrent_body_reads = max.max(1);
        self
    }

    /// The rate limit of `GET /tts/3/logs`: at most `requests` per credential in any
    /// `window` (sliding); further requests get `429 Too Many Requests` with Infobip's
    /// legacy error body and a `Retry-After`. Default 120 per minute, as the real API;
    /// `requests` 0 turns the limit off.
    pub fn logs_rate_limit(mut self, requests: u32, window: Duration) -> Self {
        self.logs_rate_limit = (requests, window.max(Duration::from_millis(1)));
        self
    }

    /// Binds and starts serving. Must be called within a tokio runtime.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] for invalid faults or empty credentials,
    /// [`ErrorKind::Bind`] when the address cannot be bound.
    pub async fn start(self) -> Result<SandboxHandle, Error> {
        self.faults
            .validate()
            .map_err(|m| Error::new(ErrorKind::InvalidConfig, format!("faults: {m}")))?;
        let c = &self.credentials;
        if [
            &c.api_key,
            &c.username,
            &c.password,
            &c.ibsso_token,
            &c.bearer_token,
            &self.admin_token,
        ]
        .iter()
        .any(|s| s.trim().is_empty())
        {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "credentials must not be empty",
            ));
        }
        let listener = match self.listener {
            Some(l) => l,
            // Bound by transport: an explicit, deep listen backlog.
            None => app::server_builder(self.limits)
                .listen(self.addr)
                .map_err(|e| {
                    Error::with_source(
                        ErrorKind::Bind,
                        format!("cannot listen on {}", self.addr),
                        e,
                    )
                })?,
        };
        let addr = listener
            .local_addr()
            .map_err(|e| Error::with_source(ErrorKind::Bind, "cannot read the bound address", e))?;
        let base_url = format!("http://{addr}");
        let counters = Arc::default();
        let state = Arc::new(State {
            store: Mutex::default(),
            counters: Arc::clone(&counters),
            faults: RwLock::new(self.faults),
            dice: faults::Dice::new(self.seed.unwrap_or(DEFAULT_SEED)),
            credentials: self.credentials,
            admin_token: self.admin_token,
            base_url: base_url.clone(),
            pusher: Pusher::new(self.push, counters),
            codecs: wire::Codecs::new()?,
            id_prefix: self.seed.map_or_else(unique_id_prefix, |seed| {
                seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            }),
            next_id: AtomicU64::new(1),
            clock: logs::Clock::default(),
            logbook: Mutex::default(),
            logs_throttle: logs::Throttle::new(self.logs_rate_limit.0, self.logs_rate_limit.1),
            pieces: std::sync::RwLock::default(),
        });
        // Seeded campaigns are in place before the first connection is accepted: a client
        // that connects at once must not conclude from an empty page that all is received.
        for (bulk_id, calls) in &self.campaigns {
            state.simulate_campaign(bulk_id, *calls);
        }
        let server = app::serve(listener, Arc::clone(&state), self.limits)?;
        Ok(SandboxHandle {
            state,
            server,
            addr,
            base_url,
        })
    }
}

/// A sandbox time as a timestamp. The clock's offset is capped (see `logs::Clock`), so it
/// always stays in range; the epoch stands in otherwise.
fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_unix_millis(ms)
        .or_else(|_| Timestamp::from_unix_millis(0))
        .unwrap_or_else(|_| unreachable_epoch())
}

#[allow(clippy::panic)]
fn unreachable_epoch() -> Timestamp {
    panic!("the Unix epoch is a valid timestamp")
}

fn owned<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    items.iter().map(|s| s.as_ref().to_string()).collect()
}

/// The fault dice's seed when none is given.
const DEFAULT_SEED: u64 = 0x5eed;

/// An id prefix unique to this start: the clock, the process and a per-process counter,
/// mixed (splitmix64), so runs and sandboxes side by side never share generated ids.
fn unique_id_prefix() -> u64 {
    static STARTS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let n = STARTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut z =
        nanos ^ (u64::from(std::process::id()) << 40) ^ n.wrapping_mul(0xA24B_AED4_963E_E407);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A running sandbox: its address and credentials, injection, counters, faults, shutdown.
#[derive(Debug)]
pub struct SandboxHandle {
    state: Arc<State>,
    server: ServerHandle,
    addr: SocketAddr,
    base_url: String,
}

impl SandboxHandle {
    /// The base URL to give a client, e.g. `http://127.0.0.1:40123`.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The address the sandbox listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The credentials it accepts.
    #[must_use]
    pub fn credentials(&self) -> &Credentials {
        &self.state.credentials
    }

    /// The bearer token of the admin API under `/sandbox/`.
    #[must_use]
    pub fn admin_token(&self) -> &str {
        &self.state.admin_token
    }

    /// Adds v1 reports to the pending pool (handed out by `GET /tts/3/reports`).
    /// Returns how many were added.
    pub fn inject_v1(&self, reports: impl IntoIterator<Item = VoiceReport>) -> usize {
        self.state.inject(reports)
    }

    /// Adds v2 reports to the pending pool (handed out by `GET /voice/1/reports`).
    /// Returns how many were added.
    pub fn inject_v2(&self, reports: impl IntoIterator<Item = CallReport>) -> usize {
        self.state.inject(reports)
    }

    /// Adds reports of any generation to the pending pool of their endpoint
    /// ([`Report::GENERATION`](ivr_reports_model::Report::GENERATION)). Returns how many
    /// were added.
    pub fn inject<R: ivr_reports_model::Report>(
        &self,
        reports: impl IntoIterator<Item = R>,
    ) -> usize {
        self.state.inject(reports)
    }

    /// Places `calls` simulated calls in bulk `bulk_id`, as if sent through
    /// `POST /tts/3/advanced`, spread evenly over every [`Outcome`]: call `i` goes to
    /// `4179` followed by `i` in seven digits, so its last digit picks the outcome. Their
    /// reports become pending (for both report endpoints). Returns the message ids in order.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = ivr_reports_sandbox::Sandbox::start().await?;
    /// let ids = sandbox.simulate_campaign("campaign-1", 20);
    /// assert_eq!(ids.len(), 20);
    /// assert_eq!(sandbox.counters().pending, 20);
    /// # Ok(())
    /// # }
    /// ```
    pub fn simulate_campaign(&self, bulk_id: &str, calls: usize) -> Vec<String> {
        self.state.simulate_campaign(bulk_id, calls)
    }

    /// The counters now.
    #[must_use]
    pub fn counters(&self) -> Counters {
        self.state.counters()
    }

    /// The sandbox's records of which reports left it: handed out, lost in transit,
    /// pushed (see [`Records`]).
    #[must_use]
    pub fn records(&self) -> Records {
        self.state.records()
    }

    /// Sandbox time now: the machine's clock plus every
    /// [`advance_clock`](SandboxHandle::advance_clock) so far. Calls are sent at sandbox
    /// time, and the logs keep the last 48 hours of it.
    #[must_use]
    pub fn now(&self) -> Timestamp {
        timestamp(self.state.clock.now_ms())
    }

    /// Moves sandbox time forward by `by` (as `POST /sandbox/clock/advance`
    /// `{"seconds": N}`): log entries sent more than 48 hours before the new time are
    /// gone. Reports waiting to be fetched are not affected. Returns the new sandbox time.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    ///
    /// let sandbox = ivr_reports_sandbox::Sandbox::start().await?;
    /// sandbox.simulate_campaign("old", 3);
    /// assert_eq!(sandbox.counters().logged, 3);
    /// sandbox.advance_clock(Duration::from_secs(48 * 3600 + 1));
    /// assert_eq!(sandbox.counters().logged, 0);
    /// assert_eq!(sandbox.counters().pending, 3); // the reports are still there
    /// # Ok(())
    /// # }
    /// ```
    pub fn advance_clock(&self, by: Duration) -> Timestamp {
        timestamp(self.state.advance_clock(by))
    }

    /// Keeps the given messages from becoming final (as `POST /sandbox/hold`
    /// `{"messageIds": [...]}`): their reports are held back from the report endpoints and
    /// their log entries say PENDING until [`release`](SandboxHandle::release). Only
    /// reports still waiting to be fetched can be held (not ones handed out or pushed).
    /// Returns how many were held.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = ivr_reports_sandbox::Sandbox::start().await?;
    /// let ids = sandbox.simulate_campaign("c", 10);
    /// assert_eq!(sandbox.hold(&ids[..4]), 4);
    /// assert_eq!((sandbox.counters().pending, sandbox.counters().held), (6, 4));
    /// assert_eq!(sandbox.release(&ids[..1]), 1);
    /// assert_eq!(sandbox.release_all(), 3);
    /// assert_eq!(sandbox.counters().pending, 10);
    /// # Ok(())
    /// # }
    /// ```
    pub fn hold<S: AsRef<str>>(&self, message_ids: &[S]) -> usize {
        self.state.hold(&owned(message_ids), &[])
    }

    /// Holds every waiting report of the given bulks, as [`hold`](SandboxHandle::hold)
    /// (`POST /sandbox/hold` `{"bulkIds": [...]}`).
    pub fn hold_bulks<S: AsRef<str>>(&self, bulk_ids: &[S]) -> usize {
        self.state.hold(&[], &owned(bulk_ids))
    }

    /// Makes held messages final (as `POST /sandbox/release` `{"messageIds": [...]}`):
    /// their reports can be fetched, their log entries show their final status. Returns
    /// how many were released.
    pub fn release<S: AsRef<str>>(&self, message_ids: &[S]) -> usize {
        if message_ids.is_empty() {
            return 0;
        }
        self.state.release(&owned(message_ids), &[], false)
    }

    /// Makes held messages final with their reports lost (as `POST /sandbox/release`
    /// `{"messageIds": [...], "lost": true}`): as if handed out in a response that never
    /// arrived, so they are never fetchable and only the logs know them; they go on the
    /// records as lost in transit. Returns how many. For "a pending message became final
    /// and its report was lost" without racing a `dropAfterTake` fault.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = ivr_reports_sandbox::Sandbox::start().await?;
    /// let ids = sandbox.simulate_campaign("c", 3);
    /// sandbox.hold(&ids);
    /// assert_eq!(sandbox.release_lost(&ids[..2]), 2);
    /// assert_eq!(sandbox.records().lost_in_transit, ids[..2]);
    /// assert_eq!((sandbox.counters().pending, sandbox.counters().held), (0, 1));
    /// # Ok(())
    /// # }
    /// ```
    pub fn release_lost<S: AsRef<str>>(&self, message_ids: &[S]) -> usize {
        if message_ids.is_empty() {
            return 0;
        }
        self.state.release(&owned(message_ids), &[], true)
    }

    /// Makes every held message final (`POST /sandbox/release` `{}`).
    pub fn release_all(&self) -> usize {
        self.state.release(&[], &[], false)
    }

    /// The faults now in force.
    #[must_use]
    pub fn faults(&self) -> Faults {
        self.state.faults()
    }

    /// Replaces the faults in force.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidConfig`] when a rate is outside 0 to 1 (see [`Faults::validate`]).
    pub fn set_faults(&self, faults: Faults) -> Result<(), Error> {
        faults
            .validate()
            .map_err(|m| Error::new(ErrorKind::InvalidConfig, format!("faults: {m}")))?;
        self.state.set_faults(faults);
        Ok(())
    }

    /// Drops every pending and held report and every log entry, zeroes the counters and
    /// records, clears the faults and the logs rate limit, and puts the clock back.
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Stops accepting connections, lets requests in flight finish (up to 10 s) and stops
    /// pushes still retrying.
    ///
    /// # Errors
    /// [`ErrorKind::Shutdown`] when requests were still running at the deadline.
    pub async fn shutdown(self) -> Result<(), Error> {
        self.state.pusher.abort_all();
        self.server
            .shutdown(Duration::from_secs(10))
            .await
            .map_err(|e| Error::with_source(ErrorKind::Shutdown, "shutdown did not complete", e))
    }
}

/// This crate's README.md example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct CrateReadmeDoctests;
