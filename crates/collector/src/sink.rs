//! The `Sink` extension point: where reports and quarantined items are kept, exactly once.

use std::path::PathBuf;
use std::sync::Arc;

use ivr_reports::BoxFuture;
use ivr_reports_transport::redact_url;

use crate::error::{Error, ErrorKind};
use crate::quarantine::{QuarantineEntry, Quarantined};
use ivr_reports_model::AnyReport;

/// What a [`Sink::store`] call did: how many reports were new, how many were already there
/// (or repeated within the batch) unchanged, and which were already there with different
/// content.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Stored {
    /// Reports stored by this call.
    pub new: u64,
    /// Reports skipped because their `messageId` was already stored with the same content
    /// (earlier, by another writer, or earlier in the same batch).
    pub duplicates: u64,
    /// Reports not stored because their `messageId` was already stored with *different*
    /// content: both versions, for the collector to keep in the quarantine.
    pub conflicts: Vec<Conflict>,
    /// Reports that replaced a stored report *recovered from logs* ([`Origin::Recovered`]):
    /// a pulled or pushed report has more fields, so it takes the recovered one's place
    /// (the rule **recovered-replaced**). Not counted in [`new`](Stored::new).
    pub replaced: u64,
}

impl Stored {
    /// An outcome without conflicts.
    #[must_use]
    pub fn new(new: u64, duplicates: u64) -> Self {
        Self {
            new,
            duplicates,
            conflicts: Vec::new(),
            replaced: 0,
        }
    }

    /// The same outcome with this many replaced recovered reports.
    #[must_use]
    pub fn with_replaced(mut self, replaced: u64) -> Self {
        self.replaced = replaced;
        self
    }

    /// The same outcome with these conflicts.
    #[must_use]
    pub fn with_conflicts(mut self, conflicts: Vec<Conflict>) -> Self {
        self.conflicts = conflicts;
        self
    }

    /// Adds another outcome to this one.
    pub(crate) fn add(&mut self, other: Stored) {
        self.new += other.new;
        self.duplicates += other.duplicates;
        self.conflicts.extend(other.conflicts);
        self.replaced += other.replaced;
    }
}

/// Where a stored report came from.
///
/// Sinks that keep it write it beside the report (the JSONL journal's `"origin"` field, the
/// PostgreSQL `origin` column). Records written before origins were kept read back as
/// [`Origin::Unknown`].
///
/// ```
/// use ivr_reports_collector::Origin;
///
/// assert_eq!(Origin::Recovered.as_str(), "recovered");
/// assert_eq!(Origin::parse("pulled"), Some(Origin::Pulled));
/// assert!(Origin::RECOVERED_LACKS.contains(&"callbackData"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Origin {
    /// Pulled from the reports endpoint.
    Pulled,
    /// Pushed to the webhook.
    Pushed,
    /// Recovered from the API's logs (`GET /tts/3/logs`) after a possible-loss incident:
    /// a v1 report holding only what logs carry; the fields named in
    /// [`Origin::RECOVERED_LACKS`] are left empty. A pulled or pushed report for the same
    /// `messageId` replaces it.
    Recovered,
    /// Stored without an origin: by [`Sink::store`], or before origins were kept.
    Unknown,
}

impl Origin {
    /// The report fields (API names) that logs do not carry, so a recovered report never
    /// has them.
    pub const RECOVERED_LACKS: &'static [&'static str] = &[
        "startTime",
        "endTime",
        "answerTime",
        "fileDuration",
        "callbackData",
        "dtmfCodes",
        "recordedAudioFileUrl",
        "scenarioId",
        "scenarioName",
        "dtmfCodesAsJson",
        "transcribedAudioFileUrl",
    ];

    /// `pulled`, `pushed`, `recovered` or `unknown`: as the sinks write it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pulled => "pulled",
            Self::Pushed => "pushed",
            Self::Recovered => "recovered",
            Self::Unknown => "unknown",
        }
    }

    /// The origin written as [`as_str`](Origin::as_str) does.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pulled" => Some(Self::Pulled),
            "pushed" => Some(Self::Pushed),
            "recovered" => Some(Self::Recovered),
            "unknown" => Some(Self::Unknown),
            _ => None,
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored report with its [`Origin`], as [`Sink::stored`] reads it back.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StoredReport {
    /// The report.
    pub report: AnyReport,
    /// Where it came from.
    pub origin: Origin,
}

impl StoredReport {
    /// A stored report: for [`Sink`] implementations.
    #[must_use]
    pub fn new(report: AnyReport, origin: Origin) -> Self {
        Self { report, origin }
    }
}

/// A report whose `messageId` is already stored with different content: the API (or a
/// sender) gave two versions of one report. Neither is dropped: the stored one stays, the
/// incoming one goes to the quarantine with both ([`Scope::Conflict`](crate::Scope)).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Conflict {
    /// The version already stored.
    pub stored: AnyReport,
    /// The version that came now.
    pub incoming: AnyReport,
}

impl Conflict {
    /// A conflict: for [`Sink`] implementations.
    #[must_use]
    pub fn new(stored: AnyReport, incoming: AnyReport) -> Self {
        Self { stored, incoming }
    }
}

/// Durable storage of reports, idempotent by `messageId`, with a quarantine beside it.
///
/// The contract every implementation keeps. Each rule has a name: the conformance suite,
/// `testing::check_sink` (feature `test-util`), checks every one of them against a sink and
/// reports those broken by these names.
/// - **read-back**: [`reports`](Sink::reports) reads back every stored report exactly (both
///   generations, every field); storing an empty batch stores nothing.
/// - **duplicates**: a report whose `messageId` is stored already with the same content
///   (compared as the canonical JSON, [`canonical_json`](crate::canonical_json)), in an earlier batch or
///   earlier in the same batch, is counted in [`Stored::duplicates`] and not stored twice.
/// - **first-write-wins**: a report whose `messageId` is stored already with *different*
///   content is not stored: the stored version stays, and both are returned as a
///   [`Conflict`] in [`Stored::conflicts`] (earlier in the same batch too), never silently
///   dropped.
/// - **concurrent-writers**: a `messageId` is stored at most once, whatever the batches,
///   the writers (tasks, processes, machines: as far as the sink supports them) or the
///   repetitions; the [`Stored::new`] counts of concurrent writers add up to the distinct
///   ids.
/// - **quarantine-kept**: [`quarantine`](Sink::quarantine) is durable when it returns `Ok`;
///   [`quarantined`](Sink::quarantined) reads every item back, oldest first, with its exact
///   bytes, reason, source, format, generation and scope, each under an id of its own.
/// - **release**: [`release`](Sink::release) removes the entries it names; unknown ids are
///   ignored.
/// - **reopen**: all of the above holds across a close and reopen of the same storage:
///   reports and quarantine are still there, duplicates and conflicts are still told apart,
///   and quarantine ids stay unique (never reused).
/// - **describe**: [`describe`](Sink::describe) says which sink this is, never empty and
///   never a secret.
/// - **recovered-replaced** (for sinks that keep origins, i.e. whose
///   [`store_from`](Sink::store_from) accepts [`Origin::Recovered`]): a report stored as
///   recovered from logs is replaced by a report pulled or pushed later for the same
///   `messageId` (it has more fields): counted in [`Stored::replaced`], never a conflict,
///   never stored twice; [`stored`](Sink::stored) then reads it back once, with the later
///   origin. A recovered report for a `messageId` stored already (whatever its origin) is a
///   duplicate, never a conflict: it never overwrites. This holds across a reopen too.
///
/// Two more rules the suite cannot provoke from outside: [`store`](Sink::store) is atomic
/// enough to be retried (when it returns `Ok`, every report of the batch is durably stored,
/// now or before; when it returns `Err`, a retry of the same batch stores the rest), and
/// data the sink cannot store at all is [`ErrorKind::Rejected`], never a connection error.
///
/// Object safe and `Send + Sync`: the collector holds an `Arc<dyn Sink>`. Futures are boxed
/// ([`BoxFuture`]) so any async runtime code can implement it. Errors are built with
/// [`Error::new`] and [`Error::with_source`].
///
/// A sink in memory that keeps the whole contract (it is not durable, so a "reopen" must
/// hand out the same instance), checked by the suite when the `test-util` feature is on:
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::{Arc, Mutex, MutexGuard};
/// use ivr_reports::BoxFuture;
/// use ivr_reports_collector::{
///     AnyReport, Conflict, Error, ErrorKind, QuarantineEntry, Quarantined, Sink, Stored,
///     canonical_json,
/// };
///
/// /// Reports and quarantine in memory: for tests.
/// #[derive(Debug, Default)]
/// struct Memory(Mutex<State>);
///
/// #[derive(Debug, Default)]
/// struct State {
///     reports: Vec<AnyReport>,
///     by_id: BTreeMap<String, usize>,
///     quarantine: Vec<QuarantineEntry>,
///     next_id: u64,
/// }
///
/// impl Memory {
///     fn state(&self) -> Result<MutexGuard<'_, State>, Error> {
///         self.0
///             .lock()
///             .map_err(|_| Error::new(ErrorKind::Io, "the memory sink is poisoned"))
///     }
/// }
///
/// impl Sink for Memory {
///     fn store<'a>(&'a self, reports: &'a [AnyReport]) -> BoxFuture<'a, Result<Stored, Error>> {
///         Box::pin(async move {
///             let mut state = self.state()?;
///             let (mut new, mut duplicates, mut conflicts) = (0, 0, Vec::new());
///             for r in reports {
///                 match state.by_id.get(r.message_id()) {
///                     // First write wins: same content is a duplicate, other content a
///                     // conflict with both versions.
///                     Some(&at) if canonical_json(&state.reports[at]) == canonical_json(r) => duplicates += 1,
///                     Some(&at) => conflicts.push(Conflict::new(state.reports[at].clone(), r.clone())),
///                     None => {
///                         let at = state.reports.len();
///                         state.by_id.insert(r.message_id().to_string(), at);
///                         state.reports.push(r.clone());
///                         new += 1;
///                     }
///                 }
///             }
///             Ok(Stored::new(new, duplicates).with_conflicts(conflicts))
///         })
///     }
///     fn quarantine<'a>(&'a self, items: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>> {
///         Box::pin(async move {
///             let mut state = self.state()?;
///             for item in items {
///                 state.next_id += 1; // ids are never reused
///                 let id = state.next_id;
///                 state.quarantine.push(QuarantineEntry::new(id, item.clone()));
///             }
///             Ok(())
///         })
///     }
///     fn reports(&self) -> BoxFuture<'_, Result<Vec<AnyReport>, Error>> {
///         Box::pin(async move { Ok(self.state()?.reports.clone()) })
///     }
///     fn quarantined(&self) -> BoxFuture<'_, Result<Vec<QuarantineEntry>, Error>> {
///         Box::pin(async move { Ok(self.state()?.quarantine.clone()) })
///     }
///     fn release<'a>(&'a self, ids: &'a [u64]) -> BoxFuture<'a, Result<(), Error>> {
///         Box::pin(async move {
///             self.state()?.quarantine.retain(|e| !ids.contains(&e.id));
///             Ok(())
///         })
///     }
///     fn describe(&self) -> String {
///         "memory".into()
///     }
/// }
///
/// # #[cfg(feature = "test-util")]
/// # tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?
/// #     .block_on(async {
/// // The shipped suite: `Err` lists every broken rule by name.
/// let memory = Arc::new(Memory::default());
/// ivr_reports_collector::testing::check_sink(|| {
///     let memory = Arc::clone(&memory);
///     async move { Ok(memory as Arc<dyn Sink>) }
/// })
/// .await
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Sink: Send + Sync + std::fmt::Debug {
    /// Stores a batch durably; reports whose `messageId` is already stored are skipped.
    ///
    /// # Errors
    /// The storage failed; some of the batch may be stored, and a retry stores the rest.
    /// [`ErrorKind::Rejected`] when the sink refuses the data itself (not a connection or
    /// I/O problem): the collector then stores smaller batches down to single reports and
    /// quarantines those refused alone, so one bad report never blocks the others.
    fn store<'a>(&'a self, reports: &'a [AnyReport]) -> BoxFuture<'a, Result<Stored, Error>>;

    /// Quarantines items durably.
    ///
    /// # Errors
    /// The storage failed.
    fn quarantine<'a>(&'a self, items: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>>;

    /// Every stored report, in the order stored where the sink keeps one.
    ///
    /// # Errors
    /// The storage could not be read.
    fn reports(&self) -> BoxFuture<'_, Result<Vec<AnyReport>, Error>>;

    /// Every quarantine entry, oldest first.
    ///
    /// # Errors
    /// The storage could not be read.
    fn quarantined(&self) -> BoxFuture<'_, Result<Vec<QuarantineEntry>, Error>>;

    /// Removes quarantine entries by id (unknown ids are ignored).
    ///
    /// # Errors
    /// The storage failed; the entries may still be there.
    fn release<'a>(&'a self, ids: &'a [u64]) -> BoxFuture<'a, Result<(), Error>>;

    /// Stores a batch as [`store`](Sink::store) does, keeping where it came from.
    ///
    /// The default ignores `origin` for [`Origin::Pulled`], [`Origin::Pushed`] and
    /// [`Origin::Unknown`] (it calls `store`) and refuses [`Origin::Recovered`] with
    /// [`ErrorKind::Unsupported`]: a sink that cannot tell a recovered report from a pulled
    /// one could not let the pulled one replace it (the rule **recovered-replaced**).
    ///
    /// # Errors
    /// As [`store`](Sink::store); [`ErrorKind::Unsupported`] as above.
    fn store_from<'a>(
        &'a self,
        origin: Origin,
        reports: &'a [AnyReport],
    ) -> BoxFuture<'a, Result<Stored, Error>> {
        match origin {
            Origin::Recovered => Box::pin(async {
                Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "the sink {} does not keep reports recovered from logs",
                        self.describe()
                    ),
                ))
            }),
            _ => self.store(reports),
        }
    }

    /// Every stored report with its [`Origin`], each `messageId` once, in the order stored
    /// where the sink keeps one. The default reads [`reports`](Sink::reports), all
    /// [`Origin::Unknown`].
    ///
    /// # Errors
    /// The storage could not be read.
    fn stored(&self) -> BoxFuture<'_, Result<Vec<StoredReport>, Error>> {
        Box::pin(async move {
            Ok(self
                .reports()
                .await?
                .into_iter()
                .map(|r| StoredReport::new(r, Origin::Unknown))
                .collect())
        })
    }

    /// A short description for messages (`jsonl:/var/lib/reports.jsonl`), never a secret.
    fn describe(&self) -> String;

    /// How many bytes the quarantine takes now, as far as the sink can tell cheaply (the
    /// webhook caps the quarantine by it:
    /// [`WebhookConfig::max_quarantine_bytes`](crate::WebhookConfig::max_quarantine_bytes)).
    /// The default, `None`, means unknown: such a sink's quarantine is not capped.
    ///
    /// # Errors
    /// The storage could not be read.
    fn quarantine_bytes(&self) -> BoxFuture<'_, Result<Option<u64>, Error>> {
        Box::pin(async { Ok(None) })
    }
}

/// Where to store, as an operator writes it: `jsonl:PATH` (or a path ending in `.jsonl`) or
/// a `postgres://` / `postgresql://` URL.
///
/// ```
/// use ivr_reports_collector::SinkSpec;
///
/// let spec: SinkSpec = "jsonl:./reports.jsonl".parse()?;
/// assert_eq!(spec.to_string(), "jsonl:./reports.jsonl");
/// assert_eq!(spec.default_spool_path().to_str(), Some("./reports.jsonl.spool"));
///
/// let pg: SinkSpec = "postgres://ivr:secret@db.example/reports".parse()?;
/// assert_eq!(pg.to_string(), "postgres://ivr:***@db.example/reports");
/// # Ok::<(), ivr_reports_collector::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SinkSpec {
    /// A JSONL journal at this path ([`JsonlSink`](crate::JsonlSink)).
    Jsonl(PathBuf),
    /// A PostgreSQL database at this URL (`PgSink`, feature `postgres`).
    Postgres(String),
}

impl std::fmt::Debug for SinkSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SinkSpec({self})")
    }
}

impl std::str::FromStr for SinkSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if let Some(path) = s.strip_prefix("jsonl:") {
            if path.is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    "the sink `jsonl:` needs a path, e.g. jsonl:./reports.jsonl",
                ));
            }
            return Ok(Self::Jsonl(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Self::Postgres(s.to_string()));
        }
        if s.ends_with(".jsonl") {
            return Ok(Self::Jsonl(PathBuf::from(s)));
        }
        Err(Error::new(
            ErrorKind::InvalidConfig,
            "unknown sink: use jsonl:PATH or a postgres:// URL",
        ))
    }
}

impl std::fmt::Display for SinkSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Jsonl(path) => write!(f, "jsonl:{}", path.display()),
            Self::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

impl SinkSpec {
    /// Where the pull spool goes by default: beside the journal (`PATH.spool`) for JSONL,
    /// `./ivr-reports.spool` for PostgreSQL (each collector machine has its own spool).
    #[must_use]
    pub fn default_spool_path(&self) -> PathBuf {
        match self {
            Self::Jsonl(path) => {
                let mut p = path.clone().into_os_string();
                p.push(".spool");
                PathBuf::from(p)
            }
            Self::Postgres(_) => PathBuf::from("./ivr-reports.spool"),
        }
    }

    /// Opens the sink (for PostgreSQL: connects and creates the tables if missing).
    ///
    /// # Errors
    /// As [`JsonlSink::open`](crate::JsonlSink::open) and `PgSink::connect`;
    /// [`ErrorKind::Unsupported`] for a PostgreSQL URL without the `postgres` feature.
    pub async fn open(&self) -> Result<Arc<dyn Sink>, Error> {
        match self {
            Self::Jsonl(path) => Ok(Arc::new(crate::jsonl::JsonlSink::open(path).await?)),
            #[cfg(feature = "postgres")]
            Self::Postgres(url) => Ok(Arc::new(crate::pg::PgSink::connect(url).await?)),
            #[cfg(not(feature = "postgres"))]
            Self::Postgres(_) => Err(Error::new(
                ErrorKind::Unsupported,
                "this build has no PostgreSQL sink (cargo feature `postgres`)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_hide_passwords() {
        assert!(matches!(
            "x.jsonl".parse::<SinkSpec>(),
            Ok(SinkSpec::Jsonl(_))
        ));
        assert!("jsonl:".parse::<SinkSpec>().is_err());
        assert!("mysql://x".parse::<SinkSpec>().is_err());
        let pg: SinkSpec = "postgresql://u:p%40ss@h:5432/db?sslmode=disable"
            .parse()
            .unwrap();
        let shown = format!("{pg} {pg:?}");
        assert!(!shown.contains("p%40ss"), "{shown}");
        assert!(shown.contains("postgresql://u:***@h:5432/db?sslmode=disable"));
        for url in [
            "postgres://u:pa/SECRET@h/db",
            "postgres://u:pa?SECRET@h/db",
            "postgres://u@h/db?password=SECRET",
        ] {
            let spec: SinkSpec = url.parse().unwrap();
            let shown = format!("{spec} {spec:?}");
            assert!(!shown.contains("SECRET"), "{shown}");
        }
    }
}
