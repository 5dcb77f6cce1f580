//! `JsonlSink`: the embedded default sink, an append-only JSONL journal with a dedupe index.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions, TryLockError};
use std::hash::{BuildHasher, RandomState};
use std::io::{BufRead, BufReader, IoSlice, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use ivr_reports::BoxFuture;

use crate::error::{Error, ErrorKind};
use crate::quarantine::{self, QuarantineEntry, Quarantined};
use crate::sink::{Conflict, Origin, Sink, Stored, StoredReport};
use ivr_reports_model::AnyReport;

/// A JSONL journal: one stored report per line, never twice.
///
/// **Format.** Each line is `{"generation":1|2,"origin":"pulled","report":{...}}` where
/// `report` is the codec's canonical JSON of the report ([`canonical_json`](crate::canonical_json)): the API's
/// own shape, compact, exact decimals, so `jq` and any JSON reader can use the file.
/// `origin` is `pulled`, `pushed` or `recovered` ([`Origin`]); lines written by
/// [`Sink::store`] without an origin, and every line of a journal written before origins
/// were kept, have no `origin` and read as [`Origin::Unknown`]: old journals need no
/// migration. A report recovered from logs that is pulled or pushed later is replaced by
/// appending the fuller line: the journal then holds both lines, and every reader here
/// ([`Sink::stored`], [`Sink::reports`], [`JsonlSink::read`], the dedupe index) keeps the
/// later, so the report is counted and read once. (A `jq` user reading the file alone keeps
/// the last line per `messageId`.) Quarantined items
/// go to a sibling file, `PATH.quarantine`, one JSON object per line with the raw bytes
/// (`raw` as text when UTF-8, else `rawHex`), the reason, source, format, generation and
/// scope.
///
/// **Durability.** A batch is written with one `write` and made durable with one `fsync`
/// before [`Sink::store`] returns. **Group commit**: batches stored concurrently (webhook
/// pushes, concurrent pages) share that `write` and `fsync`: while one commit is on disk,
/// the batches arriving meanwhile queue up and go together in the next one, and when the
/// previous commit carried several batches the next waits up to a
/// [`commit_window`](JsonlSinkBuilder::commit_window) for as many companions (a lone
/// writer never waits). Each batch is deduplicated as if the batches of a group had been
/// stored one after the other, in the order they arrived; each caller returns only once its
/// own batch is durable, and a failed write or `fsync` fails every batch of its group (none
/// is reported stored, the journal is rolled back). [`JsonlSink::builder`] sets the window,
/// or turns grouping off. The set of stored `messageId`s is kept in memory and
/// rebuilt from the file on [`open`](JsonlSink::open). A crash (even `kill -9` or power loss
/// mid-write) can leave a torn last line: `open` truncates it away, when it starts as every
/// journal line starts (a last line without a newline that does not is refused, never cut). Those reports were not
/// acknowledged, so their source still has them (the pull spool, or a webhook sender's
/// retry). A line that is not a journal line is never dropped: `open` refuses the file
/// ([`ErrorKind::InvalidConfig`] when it is not a journal at all, else
/// [`ErrorKind::Corrupt`]) and leaves it unchanged.
///
/// **One writer.** The journal is locked (an OS advisory lock) while open: a second
/// `JsonlSink` on the same file, in this process or another, gets [`ErrorKind::Locked`].
/// Several tasks may share one `JsonlSink` (it is `Sync`); several machines need
/// PostgreSQL.
///
/// File I/O runs on tokio's blocking pool: use it within a tokio runtime.
#[derive(Debug)]
pub struct JsonlSink {
    path: PathBuf,
    inner: Arc<Mutex<Inner>>,
    queue: Arc<Queue>,
    /// The quarantine file's length, kept here (the sink is its only writer) so that the
    /// webhook's check before every push costs no file system call and no wait for a commit.
    quarantine_len: Arc<AtomicU64>,
}

/// Configures a [`JsonlSink`] before opening it. Every setter documents its default.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use ivr_reports_collector::JsonlSink;
///
/// let dir = std::env::temp_dir().join(format!("jsonl-builder-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// // Concurrent batches wait at most 2 ms for companions before their shared fsync.
/// let sink = JsonlSink::builder(dir.join("r.jsonl"))
///     .commit_window(Duration::from_millis(2))
///     .open()
///     .await?;
/// assert!(sink.is_empty());
/// # drop(sink);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct JsonlSinkBuilder {
    path: PathBuf,
    group_commit: bool,
    window: Duration,
}

/// The default [`JsonlSinkBuilder::commit_window`], chosen by `cargo xtask bench webhook`
/// (32 concurrent single-report pushes on a shared 2-core machine, three runs): 1 ms gave
/// 12,300-13,700 pushes/s, where no window gave 8,600-10,900, 2 ms 10,700-16,900 (higher
/// but less steady) and 3 ms 9,400-10,700; one fsync per push gave 970-1,730.
pub const DEFAULT_COMMIT_WINDOW: Duration = Duration::from_millis(1);

impl JsonlSinkBuilder {
    /// Whether concurrent batches share one `write` and `fsync` (group commit). Default
    /// `true`. Off, every batch is written and synced on its own, one after another: for
    /// comparison (the webhook benchmark's baseline).
    pub fn group_commit(mut self, on: bool) -> Self {
        self.group_commit = on;
        self
    }

    /// The longest a commit waits for companions once recent commits carried several
    /// batches: it goes as soon as as many batches as the largest recent commit are queued
    /// (that expectation decays by a quarter per smaller commit), or when the window ends.
    /// A lone writer never waits (its commits carry one batch), and batches arriving while
    /// a commit is on disk always go together in the next one, whatever the window. Default [`DEFAULT_COMMIT_WINDOW`] (1 ms); zero never waits.
    pub fn commit_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Opens (or creates) the journal: see [`JsonlSink::open`].
    ///
    /// # Errors
    /// As [`JsonlSink::open`].
    pub async fn open(self) -> Result<JsonlSink, Error> {
        let p = self.path.clone();
        let (inner, quarantine_len) = blocking(move || {
            let inner = open_blocking(&p)?;
            let len = match std::fs::metadata(&inner.quarantine_path) {
                Ok(meta) => meta.len(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
                Err(e) => {
                    return Err(Error::io(
                        format!("cannot read {}", inner.quarantine_path.display()),
                        e,
                    ));
                }
            };
            Ok((inner, len))
        })
        .await?;
        Ok(JsonlSink {
            path: self.path,
            inner: Arc::new(Mutex::new(inner)),
            queue: Arc::new(Queue {
                pending: Mutex::new(Pending::default()),
                arrived: Condvar::new(),
                group_commit: self.group_commit,
                window: self.window,
            }),
            quarantine_len: Arc::new(AtomicU64::new(quarantine_len)),
        })
    }
}

/// The batches waiting for a commit, and who commits them.
#[derive(Debug)]
struct Queue {
    pending: Mutex<Pending>,
    /// Signalled when a batch is queued (for a leader waiting for companions).
    arrived: Condvar,
    group_commit: bool,
    window: Duration,
}

#[derive(Debug, Default)]
struct Pending {
    batches: Vec<Batch>,
    /// Whether a leader (a blocking task committing groups) is running.
    leader: bool,
    /// How many batches a commit may expect: the largest recent group, decaying by a
    /// quarter per smaller commit (so a burst split in two still waits for its second half,
    /// and a writer left alone stops waiting after a few commits).
    expect: usize,
    /// Tests hold the leader here to make a group of exactly the batches they queue.
    #[cfg(test)]
    paused: bool,
}

/// One caller's batch, encoded, waiting for its commit.
#[derive(Debug)]
struct Batch {
    origin: Origin,
    /// The batch's journal lines, one after another.
    buf: Vec<u8>,
    /// (messageId, hash of the canonical JSON, where the journal line is in `buf`)
    lines: Vec<(String, u64, Range<usize>)>,
    done: oneshot::Sender<Result<Outcome, Error>>,
}

/// What a committed batch did; conflicts name the incoming report by its index in the
/// batch, and the stored version either read (`Ok`) or earlier in the same batch (`Err`).
#[derive(Debug, Default)]
struct Outcome {
    new: u64,
    duplicates: u64,
    replaced: u64,
    conflicts: Vec<(usize, Result<AnyReport, usize>)>,
}

/// What the index keeps of a stored report.
#[derive(Clone, Copy, Debug)]
struct Kept {
    hash: u64,
    offset: u64,
    origin: Origin,
}

/// Whether a line of `incoming` origin for a `messageId` kept with `kept` origin replaces
/// it: the rule **recovered-replaced**.
fn replaces(kept: Origin, incoming: Origin) -> bool {
    kept == Origin::Recovered && incoming != Origin::Recovered
}

#[derive(Debug)]
struct Inner {
    journal: File,
    /// Bytes of complete lines: where the next batch starts.
    len: u64,
    /// Every stored `messageId`, with a hash of its report's canonical JSON (to tell a
    /// duplicate from a conflict), the offset of its line (to read the stored version of a
    /// conflict) and its origin.
    ids: HashMap<String, Kept>,
    quarantine_path: PathBuf,
    next_quarantine_id: u64,
    /// Set when a failed write could not be rolled back: the file may hold a partial line.
    poisoned: bool,
    /// Fault injection: the next append fails as if `fsync` had.
    #[cfg(test)]
    fail_next_sync: bool,
    /// How many appends (commits) were made.
    #[cfg(test)]
    commits: u64,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::new(ErrorKind::Io, "a storage task failed").with_source(e))?
}

impl JsonlSink {
    /// Opens (or creates) the journal at `path`: locks it, repairs a torn last line, and
    /// rebuilds the dedupe index. The quarantine file is `PATH.quarantine`.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the file cannot be opened, read or repaired;
    /// [`ErrorKind::Locked`] when another `JsonlSink` has it open;
    /// [`ErrorKind::InvalidConfig`] when the file is not a journal (its first line, complete
    /// or not, is not a journal line); [`ErrorKind::Corrupt`] when a later line is not a
    /// journal line, or the last line has no newline and is not a torn journal line. The file
    /// is then left unchanged: only a torn *journal* line is ever cut.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::builder(path).open().await
    }

    /// A builder for the journal at `path`, to set how concurrent batches share commits.
    pub fn builder(path: impl AsRef<Path>) -> JsonlSinkBuilder {
        JsonlSinkBuilder {
            path: path.as_ref().to_path_buf(),
            group_commit: true,
            window: DEFAULT_COMMIT_WINDOW,
        }
    }

    /// The journal's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The quarantine file's path (`PATH.quarantine`).
    #[must_use]
    pub fn quarantine_path(&self) -> PathBuf {
        sibling(&self.path, ".quarantine")
    }

    /// How many reports the journal holds.
    #[must_use]
    pub fn len(&self) -> usize {
        lock(&self.inner).ids.len()
    }

    /// Whether the journal holds no report.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads every report of the journal at `path` without opening it for writing: no lock
    /// is taken, so a collector may be writing it meanwhile (for `stats`). A torn last line
    /// (a write in progress) is left out, not repaired.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the file cannot be read (a missing file included);
    /// [`ErrorKind::InvalidConfig`] and [`ErrorKind::Corrupt`] as [`open`](JsonlSink::open).
    pub async fn read(path: impl AsRef<Path>) -> Result<Vec<AnyReport>, Error> {
        Ok(Self::read_stored(path)
            .await?
            .into_iter()
            .map(|s| s.report)
            .collect())
    }

    /// Reads every report of the journal at `path` with its [`Origin`], as
    /// [`read`](JsonlSink::read) does (no lock taken): each `messageId` once, a recovered
    /// report replaced by a later pulled or pushed one.
    ///
    /// # Errors
    /// As [`read`](JsonlSink::read).
    pub async fn read_stored(path: impl AsRef<Path>) -> Result<Vec<StoredReport>, Error> {
        let path = path.as_ref().to_path_buf();
        blocking(move || {
            let file = File::open(&path)
                .map_err(|e| Error::io(format!("cannot open the journal {}", path.display()), e))?;
            read_all(&file, &path)
        })
        .await
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_os_string();
    p.push(suffix);
    PathBuf::from(p)
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    // A panic while holding the lock leaves nothing half-done in memory that matters: the
    // file state is re-checked by `poisoned`.
    inner
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Opens a file for appending and reading, creating it, and takes its exclusive lock.
pub(crate) fn open_locked(path: &Path, what: &str) -> Result<File, Error> {
    let created = !path.exists();
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| Error::io(format!("cannot open the {what} {}", path.display()), e))?;
    if created {
        // Make the new file's directory entry durable too.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir).and_then(|d| d.sync_all()).map_err(|e| {
                Error::io(
                    format!("cannot sync the directory of {}", path.display()),
                    e,
                )
            })?;
        }
    }
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(Error::new(
            ErrorKind::Locked,
            format!(
                "the {what} {} is in use by another collector",
                path.display()
            ),
        )),
        Err(TryLockError::Error(e)) => Err(Error::io(
            format!("cannot lock the {what} {}", path.display()),
            e,
        )),
    }
}

/// Reads complete lines from the start of `file`, calling `each(line_number, line)`; returns
/// the length of the complete lines (a torn last line, without its newline, is not counted).
pub(crate) fn scan_lines(
    file: &File,
    path: &Path,
    what: &str,
    mut each: impl FnMut(usize, &[u8]) -> Result<(), Error>,
) -> Result<u64, Error> {
    let read_err = |e| Error::io(format!("cannot read the {what} {}", path.display()), e);
    let mut reader = BufReader::with_capacity(1 << 16, file);
    reader.seek(SeekFrom::Start(0)).map_err(read_err)?;
    let mut line = Vec::with_capacity(1024);
    let mut good = 0u64;
    let mut number = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(read_err)?;
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(good);
        }
        number += 1;
        each(number, &line[..line.len() - 1])?;
        good += n as u64;
    }
}

/// The first bytes (at most 64) after the last complete line, `None` when the file ends
/// with a newline (or is empty): what a crash mid-write may have left.
pub(crate) fn torn_tail(
    file: &File,
    path: &Path,
    good: u64,
    what: &str,
) -> Result<Option<Vec<u8>>, Error> {
    let read_err = |e| Error::io(format!("cannot read the {what} {}", path.display()), e);
    let len = file.metadata().map_err(read_err)?.len();
    if len <= good {
        return Ok(None);
    }
    let mut f = file.try_clone().map_err(read_err)?;
    f.seek(SeekFrom::Start(good)).map_err(read_err)?;
    let mut tail = Vec::with_capacity(64);
    f.take(64).read_to_end(&mut tail).map_err(read_err)?;
    Ok(Some(tail))
}

/// Truncates a torn tail (bytes after the last complete line, `good`) and syncs. The
/// caller has checked with [`torn_tail`] that the tail is one the collector may have torn.
pub(crate) fn repair_tail(file: &File, path: &Path, good: u64, what: &str) -> Result<(), Error> {
    let len = file
        .metadata()
        .map_err(|e| Error::io(format!("cannot read the {what} {}", path.display()), e))?
        .len();
    if len > good {
        file.set_len(good)
            .and_then(|()| file.sync_all())
            .map_err(|e| {
                Error::io(
                    format!(
                        "cannot repair the torn last line of the {what} {}",
                        path.display()
                    ),
                    e,
                )
            })?;
    }
    Ok(())
}

/// Line `number` of the journal is not a journal line: on the first line the file is not
/// a journal at all (the path is wrong: [`ErrorKind::InvalidConfig`]), later the journal
/// holds a foreign line ([`ErrorKind::Corrupt`]). Either way, nothing was changed.
fn not_journal_line(path: &Path, number: usize, problem: &str) -> Error {
    if number == 1 {
        Error::new(
            ErrorKind::InvalidConfig,
            format!(
                "{} is not a journal (its first line is not one the collector writes: \
                 {problem}); it was left unchanged",
                path.display()
            ),
        )
    } else {
        corrupt(path, "journal", number, problem)
    }
}

/// Scans the journal's complete lines with `each`, then checks its torn tail, if any, is a
/// journal line cut short; returns the length of the complete lines and whether there is
/// a torn tail (to cut when writing, to skip when reading).
fn scan_journal(
    file: &File,
    path: &Path,
    mut each: impl FnMut(usize, &[u8]) -> Result<(), Error>,
) -> Result<(u64, bool), Error> {
    let mut lines = 0;
    let good = scan_lines(file, path, "journal", |number, line| {
        lines = number;
        each(number, line)
    })?;
    match torn_tail(file, path, good, "journal")? {
        None => Ok((good, false)),
        Some(tail) if crate::report::could_be_torn_journal_line(&tail) => Ok((good, true)),
        Some(_) => Err(not_journal_line(
            path,
            lines + 1,
            "not a journal line, and not a torn one",
        )),
    }
}

fn corrupt(path: &Path, what: &str, number: usize, problem: &str) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!(
            "line {number} of the {what} {} is not one the collector wrote: {problem}",
            path.display()
        ),
    )
}

/// The hash of a report's canonical JSON, kept in memory only (never written): the journal
/// line's report bytes when storing, [`canonical_json`](crate::canonical_json) of the parsed
/// line when opening. Both must be the same bytes, or a report stored before a restart would
/// read as a conflict.
///
/// Equal hashes under one `messageId` read as a duplicate, so the hash must not be one a
/// sender can collide on purpose; it need only be stable within the process. SipHash
/// (`DefaultHasher`) was 5% of a drain's CPU: this is a folded multiply over 16-byte
/// blocks (the construction of wyhash and foldhash) keyed by a random per-process seed.
fn line_hash(bytes: &[u8]) -> u64 {
    static SEED: OnceLock<[u64; 3]> = OnceLock::new();
    let &[s0, s1, s2] = SEED.get_or_init(|| {
        let random = RandomState::new();
        [1u64, 2, 3].map(|n| random.hash_one(n))
    });
    // The 128-bit product of `a` and `b`, its halves xored.
    let fold = |a: u64, b: u64| {
        let p = u128::from(a) * u128::from(b);
        (p as u64) ^ ((p >> 64) as u64)
    };
    let word = |w: &[u8]| {
        let mut le = [0u8; 8];
        le[..w.len()].copy_from_slice(w);
        u64::from_le_bytes(le)
    };
    let mut h = fold(s0 ^ bytes.len() as u64, s1);
    let mut blocks = bytes.chunks_exact(16);
    for block in &mut blocks {
        let (a, b) = block.split_at(8);
        h = fold(word(a) ^ s1, word(b) ^ h);
    }
    let tail = blocks.remainder();
    let (a, b) = tail.split_at(tail.len().min(8));
    h = fold(word(a) ^ s2, word(b) ^ h);
    fold(h ^ s0, s2)
}

/// Every report of the journal, each `messageId` once (at the place of its first line), a
/// recovered one replaced by a later pulled or pushed one.
fn read_all(file: &File, path: &Path) -> Result<Vec<StoredReport>, Error> {
    let mut out: Vec<StoredReport> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    scan_journal(file, path, |number, line| {
        let (report, origin) = crate::report::parse_journal_line(line)
            .map_err(|problem| not_journal_line(path, number, &problem))?;
        match at.get(report.message_id()) {
            Some(&i) => {
                if replaces(out[i].origin, origin) {
                    out[i] = StoredReport::new(report, origin);
                }
            }
            None => {
                at.insert(report.message_id().to_string(), out.len());
                out.push(StoredReport::new(report, origin));
            }
        }
        Ok(())
    })?;
    Ok(out)
}

/// The report on the journal line at `offset`.
fn read_at(file: &File, path: &Path, offset: u64) -> Result<AnyReport, Error> {
    let read_err = |e| Error::io(format!("cannot read the journal {}", path.display()), e);
    let mut f = file.try_clone().map_err(read_err)?;
    f.seek(SeekFrom::Start(offset)).map_err(read_err)?;
    let mut line = Vec::new();
    BufReader::new(f)
        .read_until(b'\n', &mut line)
        .map_err(read_err)?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    crate::report::parse_journal_line(&line)
        .map(|(report, _)| report)
        .map_err(|problem| corrupt(path, "journal", 0, &problem))
}

fn open_blocking(path: &Path) -> Result<Inner, Error> {
    let journal = open_locked(path, "journal")?;
    let mut ids: HashMap<String, Kept> = HashMap::new();
    let mut offset = 0u64;
    let (len, torn) = scan_journal(&journal, path, |number, line| {
        let (report, origin) = crate::report::parse_journal_line(line)
            .map_err(|problem| not_journal_line(path, number, &problem))?;
        // Hash the report as this version encodes it, so that the same report compares
        // equal even if an older version wrote it differently.
        let kept = Kept {
            hash: line_hash(&crate::report::canonical_json(&report)),
            offset,
            origin,
        };
        match ids.get_mut(report.message_id()) {
            Some(old) if replaces(old.origin, origin) => *old = kept,
            Some(_) => {}
            None => {
                ids.insert(report.message_id().to_string(), kept);
            }
        }
        offset += line.len() as u64 + 1;
        Ok(())
    })?;
    if torn {
        repair_tail(&journal, path, len, "journal")?;
    }

    let quarantine_path = sibling(path, ".quarantine");
    let mut next_quarantine_id = 1;
    if quarantine_path.exists() {
        let file = open_locked(&quarantine_path, "quarantine")?;
        let mut lines = 0;
        let good = scan_lines(&file, &quarantine_path, "quarantine", |number, line| {
            lines = number;
            let entry = quarantine::from_line(line)
                .map_err(|problem| corrupt(&quarantine_path, "quarantine", number, &problem))?;
            next_quarantine_id = next_quarantine_id.max(entry.id + 1);
            Ok(())
        })?;
        // Every quarantine line is a JSON object: a tail that does not start as one was
        // not torn by the collector, and is left alone.
        if let Some(tail) = torn_tail(&file, &quarantine_path, good, "quarantine")? {
            if tail.first() != Some(&b'{') {
                return Err(corrupt(
                    &quarantine_path,
                    "quarantine",
                    lines + 1,
                    "not a quarantine line, and not a torn one",
                ));
            }
            repair_tail(&file, &quarantine_path, good, "quarantine")?;
        }
    }
    Ok(Inner {
        journal,
        len,
        ids,
        quarantine_path,
        next_quarantine_id,
        poisoned: false,
        #[cfg(test)]
        fail_next_sync: false,
        #[cfg(test)]
        commits: 0,
    })
}

impl Inner {
    fn check(&self) -> Result<(), Error> {
        if self.poisoned {
            Err(Error::new(
                ErrorKind::Io,
                "the journal may hold a partial line after a failed write: reopen it",
            ))
        } else {
            Ok(())
        }
    }

    /// Appends `parts` to the journal, one after another, and syncs; on failure rolls the
    /// file back to its length before, or poisons the sink when even that fails.
    fn append(&mut self, parts: &[&[u8]], path: &Path) -> Result<(), Error> {
        let result =
            write_all_parts(&mut self.journal, parts).and_then(|()| self.journal.sync_data());
        #[cfg(test)]
        let result = if std::mem::take(&mut self.fail_next_sync) {
            result.and(Err(std::io::Error::other("injected fsync failure")))
        } else {
            self.commits += 1;
            result
        };
        if let Err(e) = result {
            if self
                .journal
                .set_len(self.len)
                .and_then(|()| self.journal.sync_data())
                .is_err()
            {
                self.poisoned = true;
            }
            return Err(Error::io(
                format!("cannot write to the journal {}", path.display()),
                e,
            ));
        }
        self.len += parts.iter().map(|part| part.len() as u64).sum::<u64>();
        Ok(())
    }

    /// Takes out of the index what a group that failed put in: every entry at or past
    /// `base` (the journal's length before the group), and the entries it replaced back.
    fn forget_since(&mut self, base: u64, replaced: Vec<(String, Kept)>) {
        self.ids.retain(|_, kept| kept.offset < base);
        self.ids
            .extend(replaced.into_iter().filter(|(_, kept)| kept.offset < base));
    }
}

/// Writes `parts` one after another with as few `write` calls as the OS allows (a body is
/// written from where it is, never copied into one buffer first).
pub(crate) fn write_all_parts(file: &mut File, parts: &[&[u8]]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = parts
        .iter()
        .filter(|part| !part.is_empty())
        .map(|part| IoSlice::new(part))
        .collect();
    let mut left = &mut slices[..];
    while !left.is_empty() {
        match file.write_vectored(left) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut left, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Queue {
    fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a batch; `true` when no leader runs, so the caller must start one.
    fn enqueue(&self, batch: Batch) -> bool {
        let mut pending = self.pending();
        pending.batches.push(batch);
        self.arrived.notify_one();
        !std::mem::replace(&mut pending.leader, true)
    }

    /// The next group to commit, or `None` (and no leader any more) when nothing waits.
    fn next_group(&self) -> Option<Vec<Batch>> {
        let mut pending = self.pending();
        #[cfg(test)]
        while pending.paused {
            pending = self
                .arrived
                .wait(pending)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if !self.group_commit {
            if pending.batches.is_empty() {
                pending.leader = false;
                return None;
            }
            return Some(vec![pending.batches.remove(0)]);
        }
        // After a commit of several batches, wait (within the window) for as many: their
        // callers are likely on their way back. A lone writer never waits.
        let want = pending.expect;
        if want > 1 && !self.window.is_zero() && pending.batches.len() < want {
            let deadline = Instant::now() + self.window;
            while pending.batches.len() < want {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                pending = self
                    .arrived
                    .wait_timeout(pending, left)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
        }
        if pending.batches.is_empty() {
            pending.leader = false;
            pending.expect = 0;
            return None;
        }
        let group = std::mem::take(&mut pending.batches);
        pending.expect = group.len().max(pending.expect - pending.expect / 4);
        Some(group)
    }
}

/// Ends a leader: when it unwinds, the batches still queued are dropped (their callers get
/// an error, never a hang) and the next caller starts a new leader.
struct Resign<'a>(&'a Queue);

impl Drop for Resign<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut pending = self.0.pending();
            pending.batches.clear();
            pending.leader = false;
        }
    }
}

/// Commits groups of queued batches until none is left.
fn lead(queue: &Queue, inner: &Weak<Mutex<Inner>>, path: &Path) {
    let _resign = Resign(queue);
    while let Some(group) = queue.next_group() {
        commit_group(inner, path, group);
    }
}

/// Deduplicates every batch of `group` as if stored one after another, writes all their
/// new lines with one `write` and one `fsync`, and answers every caller.
fn commit_group(inner: &Weak<Mutex<Inner>>, path: &Path, mut group: Vec<Batch>) {
    let result = match inner.upgrade() {
        None => Err(Error::new(
            ErrorKind::Io,
            format!("the journal {} was closed", path.display()),
        )),
        Some(inner) => {
            let mut inner = lock(&inner);
            let base = inner.len;
            let mut replaced = Vec::new();
            let result = plan_group(&mut inner, path, &mut group, &mut replaced).and_then(
                |(segments, outcomes)| {
                    let parts: Vec<&[u8]> = segments
                        .iter()
                        .map(|(b, range)| &group[*b].buf[range.clone()])
                        .collect();
                    if !parts.is_empty() {
                        inner.append(&parts, path)?;
                    }
                    Ok(outcomes)
                },
            );
            if result.is_err() {
                inner.forget_since(base, replaced);
            }
            result
            // The journal is let go before any caller hears: one that drops the sink
            // then closes the file.
        }
    };
    match result {
        Ok(outcomes) => {
            for (batch, outcome) in group.into_iter().zip(outcomes) {
                // A caller that went away (its connection closed) needs no answer: its
                // batch is stored all the same.
                let _ = batch.done.send(Ok(outcome));
            }
        }
        Err(e) => {
            // Every batch of the group failed with it: none of them is stored.
            let message = e.to_string();
            let kind = e.kind();
            let mut source = Some(e);
            for batch in group {
                let err = match source.take() {
                    Some(e) => e,
                    None => Error::new(kind, message.clone()),
                };
                let _ = batch.done.send(Err(err));
            }
        }
    }
}

/// The new lines of a group, in journal order: (batch, range of its buffer), a run of
/// consecutive new lines of one batch as one range.
type Segments = Vec<(usize, Range<usize>)>;

/// Deduplicates `group` against the index and against itself, as if its batches were
/// stored one after another, and enters its new lines in the index at once (one hash per
/// report; the ids are moved out of the batches), at offsets from `inner.len` on. Entries
/// it replaces go to `replaced`, so that a failed commit can take it all back
/// ([`Inner::forget_since`]). Returns the lines to write and each batch's outcome.
fn plan_group(
    inner: &mut Inner,
    path: &Path,
    group: &mut [Batch],
    replaced: &mut Vec<(String, Kept)>,
) -> Result<(Segments, Vec<Outcome>), Error> {
    inner.check()?;
    let base = inner.len;
    let mut size = 0u64;
    let mut segments: Segments = Vec::new();
    // The lines this group writes, in journal order: (offset, batch, index in the batch).
    // An index entry at or past `base` was made by this group: its writer is found here.
    let mut written: Vec<(u64, usize, usize)> = Vec::new();
    inner
        .ids
        .reserve(group.iter().map(|batch| batch.lines.len()).sum());
    let mut outcomes = Vec::with_capacity(group.len());
    for b in 0..group.len() {
        let origin = group[b].origin;
        let mut outcome = Outcome::default();
        let mut fresh = 0u64;
        for index in 0..group[b].lines.len() {
            let (id, hash, line) = &mut group[b].lines[index];
            let (id, hash, line) = (std::mem::take(id), *hash, line.clone());
            let offset = base + size;
            let new = Kept {
                hash,
                offset,
                origin,
            };
            match inner.ids.entry(id) {
                Entry::Vacant(slot) => {
                    slot.insert(new);
                }
                Entry::Occupied(mut slot) => {
                    let kept = *slot.get();
                    if replaces(kept.origin, origin) {
                        outcome.replaced += 1;
                        replaced.push((slot.key().clone(), kept));
                        slot.insert(new);
                    } else {
                        if kept.hash == hash || origin == Origin::Recovered {
                            outcome.duplicates += 1;
                        } else {
                            let stored = if kept.offset < base {
                                Ok(read_at(&inner.journal, path, kept.offset)?)
                            } else {
                                let at = written.partition_point(|w| w.0 < kept.offset);
                                match written.get(at) {
                                    // Earlier in the same batch: the caller has that report.
                                    Some(&(_, wb, wi)) if wb == b => Err(wi),
                                    // Earlier in the group: read it back from its batch.
                                    Some(&(_, wb, wi)) => Ok(line_of(&group[wb], wi, path)?),
                                    None => {
                                        return Err(corrupt(
                                            path,
                                            "journal",
                                            0,
                                            "a line of this commit is missing",
                                        ));
                                    }
                                }
                            };
                            outcome.conflicts.push((index, stored));
                        }
                        continue;
                    }
                }
            }
            written.push((offset, b, index));
            match segments.last_mut() {
                Some((sb, run)) if *sb == b && run.end == line.start => run.end = line.end,
                _ => segments.push((b, line.clone())),
            }
            size += line.len() as u64;
            fresh += 1;
        }
        outcome.new = fresh - outcome.replaced;
        outcomes.push(outcome);
    }
    Ok((segments, outcomes))
}

/// The report of line `index` of `batch` (a line about to be written).
fn line_of(batch: &Batch, index: usize, path: &Path) -> Result<AnyReport, Error> {
    let line = batch
        .lines
        .get(index)
        .and_then(|(_, _, range)| batch.buf.get(range.clone()))
        .unwrap_or_default();
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    crate::report::parse_journal_line(line)
        .map(|(report, _)| report)
        .map_err(|problem| corrupt(path, "journal", 0, &problem))
}

impl Sink for JsonlSink {
    /// Stores with [`Origin::Unknown`] (a line without `origin`); the collector uses
    /// [`store_from`](Sink::store_from).
    fn store<'a>(&'a self, reports: &'a [AnyReport]) -> BoxFuture<'a, Result<Stored, Error>> {
        self.store_from(Origin::Unknown, reports)
    }

    fn store_from<'a>(
        &'a self,
        origin: Origin,
        reports: &'a [AnyReport],
    ) -> BoxFuture<'a, Result<Stored, Error>> {
        // Encode outside the lock, on the caller's task, once: every line goes into one
        // buffer, and the report's canonical JSON is hashed where the line holds it.
        let mut buf = Vec::with_capacity(1024);
        let lines: Vec<(String, u64, Range<usize>)> = reports
            .iter()
            .map(|r| {
                let start = buf.len();
                let json = crate::report::write_journal_line(r, origin, &mut buf);
                if start == 0 {
                    // Room for the rest, by the first line's length and a quarter more:
                    // growing by doubling copied the buffer ~10 times per page.
                    buf.reserve(buf.len().saturating_mul(reports.len()) / 4 * 5);
                }
                let hash = line_hash(&buf[json]);
                (r.message_id().to_string(), hash, start..buf.len())
            })
            .collect();
        Box::pin(async move {
            if lines.is_empty() {
                return Ok(Stored::default());
            }
            let (done, outcome) = oneshot::channel();
            let batch = Batch {
                origin,
                buf,
                lines,
                done,
            };
            if self.queue.enqueue(batch) {
                let queue = Arc::clone(&self.queue);
                // Weak: the journal closes (and its lock goes) as soon as the sink is
                // dropped, never later when the leader ends.
                let inner = Arc::downgrade(&self.inner);
                let path = self.path.clone();
                // The leader commits groups until the queue is empty. Not awaited: its
                // batches' callers hear from it through their channels.
                drop(tokio::task::spawn_blocking(move || {
                    lead(&queue, &inner, &path)
                }));
            }
            let outcome = outcome.await.map_err(|_| {
                Error::new(
                    ErrorKind::Io,
                    "the journal's commit task ended without committing the batch",
                )
            })??;
            let conflicts = outcome
                .conflicts
                .into_iter()
                .map(|(index, stored)| {
                    let stored = stored.unwrap_or_else(|first| reports[first].clone());
                    Conflict::new(stored, reports[index].clone())
                })
                .collect();
            Ok(Stored::new(outcome.new, outcome.duplicates)
                .with_conflicts(conflicts)
                .with_replaced(outcome.replaced))
        })
    }

    fn quarantine<'a>(&'a self, items: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>> {
        let items = items.to_vec();
        let inner = Arc::clone(&self.inner);
        let quarantine_len = Arc::clone(&self.quarantine_len);
        Box::pin(blocking(move || {
            if items.is_empty() {
                return Ok(());
            }
            let mut inner = lock(&inner);
            let path = inner.quarantine_path.clone();
            let mut buf = Vec::new();
            let first = inner.next_quarantine_id;
            for (n, item) in (first..).zip(&items) {
                buf.extend_from_slice(&quarantine::to_line(n, item));
            }
            let mut file = open_locked(&path, "quarantine")?;
            let before = file
                .metadata()
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?
                .len();
            if let Err(e) = file.write_all(&buf).and_then(|()| file.sync_data()) {
                // Best effort: do not leave a partial line for the next append.
                let _ = file.set_len(before);
                return Err(Error::io(
                    format!("cannot write to the quarantine {}", path.display()),
                    e,
                ));
            }
            inner.next_quarantine_id = first + items.len() as u64;
            quarantine_len.store(before + buf.len() as u64, Ordering::Relaxed);
            Ok(())
        }))
    }

    fn reports(&self) -> BoxFuture<'_, Result<Vec<AnyReport>, Error>> {
        Box::pin(async move { Ok(self.stored().await?.into_iter().map(|s| s.report).collect()) })
    }

    fn stored(&self) -> BoxFuture<'_, Result<Vec<StoredReport>, Error>> {
        let inner = Arc::clone(&self.inner);
        let path = self.path.clone();
        Box::pin(blocking(move || {
            let inner = lock(&inner);
            read_all(&inner.journal, &path)
        }))
    }

    fn quarantined(&self) -> BoxFuture<'_, Result<Vec<QuarantineEntry>, Error>> {
        let inner = Arc::clone(&self.inner);
        Box::pin(blocking(move || {
            let inner = lock(&inner);
            read_quarantine(&inner.quarantine_path)
        }))
    }

    fn release<'a>(&'a self, ids: &'a [u64]) -> BoxFuture<'a, Result<(), Error>> {
        let ids: HashSet<u64> = ids.iter().copied().collect();
        let inner = Arc::clone(&self.inner);
        let quarantine_len = Arc::clone(&self.quarantine_len);
        Box::pin(blocking(move || {
            let inner = lock(&inner);
            let path = &inner.quarantine_path;
            let entries = read_quarantine(path)?;
            if !entries.iter().any(|e| ids.contains(&e.id)) {
                return Ok(());
            }
            let mut buf = Vec::new();
            for entry in entries.iter().filter(|e| !ids.contains(&e.id)) {
                buf.extend_from_slice(&quarantine::to_line(entry.id, &entry.item));
            }
            rewrite_atomically(path, &buf)?;
            quarantine_len.store(buf.len() as u64, Ordering::Relaxed);
            Ok(())
        }))
    }

    fn describe(&self) -> String {
        format!("jsonl:{}", self.path.display())
    }

    /// The quarantine file's length, as this sink (its only writer) last wrote it: no file
    /// system call, so the webhook may ask before every push.
    fn quarantine_bytes(&self) -> BoxFuture<'_, Result<Option<u64>, Error>> {
        let len = self.quarantine_len.load(Ordering::Relaxed);
        Box::pin(async move { Ok(Some(len)) })
    }
}

fn read_quarantine(path: &Path) -> Result<Vec<QuarantineEntry>, Error> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let file = open_locked(path, "quarantine")?;
    let mut out = Vec::new();
    scan_lines(&file, path, "quarantine", |number, line| {
        out.push(
            quarantine::from_line(line)
                .map_err(|problem| corrupt(path, "quarantine", number, &problem))?,
        );
        Ok(())
    })?;
    Ok(out)
}

/// Replaces `path` by `contents` so that a crash leaves either the old or the new file.
fn rewrite_atomically(path: &Path, contents: &[u8]) -> Result<(), Error> {
    let tmp = sibling(path, ".tmp");
    let err = |e| Error::io(format!("cannot rewrite {}", path.display()), e);
    let mut file = File::create(&tmp).map_err(err)?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename itself durable.
        File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivr_reports_model::VoiceReport;

    fn report(id: &str, duration: u32) -> AnyReport {
        let mut r = VoiceReport::new(id, "41790000001");
        r.duration = Some(duration);
        AnyReport::from(r)
    }

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("jsonl-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Holds the leader so that the next commit carries exactly the batches stored until
    /// [`release_group`] is called.
    fn pause(sink: &JsonlSink) {
        sink.queue.pending().paused = true;
    }

    /// Waits (boundedly) until `n` batches are queued.
    async fn queued(sink: &JsonlSink, n: usize) {
        for _ in 0..10_000 {
            if sink.queue.pending().batches.len() == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        panic!("the batches were not all queued");
    }

    /// Waits until `n` batches are queued, then lets the leader commit them as one group.
    async fn release_group(sink: &JsonlSink, n: usize) {
        queued(sink, n).await;
        let mut pending = sink.queue.pending();
        assert_eq!(pending.batches.len(), n, "the batches were not all queued");
        pending.paused = false;
        sink.queue.arrived.notify_all();
    }

    fn commits(sink: &JsonlSink) -> u64 {
        lock(&sink.inner).commits
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_group_dedups_its_batches_as_if_stored_one_after_another() {
        let dir = dir("group");
        let sink = Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap());
        // Stored before the group: a recovered report and a plain one.
        let mut recovered = VoiceReport::new("rec", "41790000001");
        recovered.duration = None;
        sink.store_from(Origin::Recovered, &[AnyReport::from(recovered)])
            .await
            .unwrap();
        sink.store(&[report("old", 1)]).await.unwrap();
        let before = commits(&sink);

        pause(&sink);
        // Queued in this order, one at a time, so that the group's order is known.
        let batches: Vec<(Origin, Vec<AnyReport>)> = vec![
            (Origin::Pushed, vec![report("a", 1), report("b", 1)]),
            // a again (same content): duplicate; c new; b changed: conflict with batch 0's.
            (
                Origin::Pushed,
                vec![report("a", 1), report("c", 1), report("b", 2)],
            ),
            // old changed: conflict with the journal's; rec: replaces the recovered one.
            (Origin::Pulled, vec![report("old", 2), report("rec", 7)]),
            // rec again, now stored as pulled: a duplicate; d twice in one batch, changed.
            (
                Origin::Pushed,
                vec![report("rec", 7), report("d", 1), report("d", 2)],
            ),
        ];
        let mut tasks = Vec::new();
        for (n, (origin, reports)) in batches.into_iter().enumerate() {
            let writer = Arc::clone(&sink);
            tasks.push(tokio::spawn(async move {
                writer.store_from(origin, &reports).await
            }));
            queued(&sink, n + 1).await;
        }
        release_group(&sink, 4).await;
        let mut got = Vec::new();
        for t in tasks {
            got.push(t.await.unwrap().unwrap());
        }
        assert_eq!(
            commits(&sink),
            before + 1,
            "one write and fsync for the group"
        );

        assert_eq!((got[0].new, got[0].duplicates), (2, 0));
        assert!(got[0].conflicts.is_empty());
        assert_eq!((got[1].new, got[1].duplicates), (1, 1));
        assert_eq!(got[1].conflicts.len(), 1);
        assert_eq!(got[1].conflicts[0].stored, report("b", 1));
        assert_eq!(got[1].conflicts[0].incoming, report("b", 2));
        assert_eq!((got[2].new, got[2].duplicates, got[2].replaced), (0, 0, 1));
        assert_eq!(got[2].conflicts[0].stored, report("old", 1));
        assert_eq!((got[3].new, got[3].duplicates), (1, 1));
        assert_eq!(got[3].conflicts[0].stored, report("d", 1));

        // What a reopen reads: each id once, the first version, rec as pulled.
        drop(sink);
        let stored = JsonlSink::read_stored(dir.join("r.jsonl")).await.unwrap();
        let ids: Vec<(&str, Origin)> = stored
            .iter()
            .map(|s| (s.report.message_id(), s.origin))
            .collect();
        assert_eq!(
            ids,
            [
                ("rec", Origin::Pulled),
                ("old", Origin::Unknown),
                ("a", Origin::Pushed),
                ("b", Origin::Pushed),
                ("c", Origin::Pushed),
                ("d", Origin::Pushed),
            ]
        );
        let sink = JsonlSink::open(dir.join("r.jsonl")).await.unwrap();
        assert_eq!(sink.len(), 6);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_fsync_fails_every_batch_of_its_group() {
        let dir = dir("fsync");
        let sink = Arc::new(JsonlSink::open(dir.join("r.jsonl")).await.unwrap());
        sink.store(&[report("before", 1)]).await.unwrap();
        let len = std::fs::metadata(dir.join("r.jsonl")).unwrap().len();

        pause(&sink);
        lock(&sink.inner).fail_next_sync = true;
        let mut tasks = Vec::new();
        for n in 0..8 {
            let sink = Arc::clone(&sink);
            tasks.push(tokio::spawn(async move {
                let reports = [report(&format!("m{n}"), 1), report("shared", 1)];
                sink.store(&reports).await
            }));
        }
        release_group(&sink, 8).await;
        for t in tasks {
            let err = t.await.unwrap().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Io);
        }
        // Nothing of the group is in the journal, nor taken for stored.
        assert_eq!(std::fs::metadata(dir.join("r.jsonl")).unwrap().len(), len);
        assert_eq!(sink.len(), 1);

        // A retry stores every batch: each id is new once.
        let mut new = 0;
        for n in 0..8 {
            let reports = [report(&format!("m{n}"), 1), report("shared", 1)];
            new += sink.store(&reports).await.unwrap().new;
        }
        assert_eq!(new, 9);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Equal bytes hash alike; any other bytes (every length up to 80, every flipped bit,
    /// a zero byte added) hash apart.
    #[test]
    fn line_hash_tells_every_change_apart() {
        let bytes: Vec<u8> = (0u8..80).map(|b| b.wrapping_mul(37)).collect();
        let mut seen = HashSet::new();
        for len in 0..=bytes.len() {
            let line = &bytes[..len];
            let copy = line.to_vec();
            assert_eq!(line_hash(line), line_hash(&copy));
            assert!(seen.insert(line_hash(line)), "length {len}");
            let mut padded = line.to_vec();
            padded.push(0);
            assert_ne!(line_hash(line), line_hash(&padded), "length {len}");
            for bit in 0..len * 8 {
                let mut flipped = line.to_vec();
                flipped[bit / 8] ^= 1 << (bit % 8);
                assert!(seen.insert(line_hash(&flipped)), "length {len}, bit {bit}");
            }
        }
    }

    /// The index takes a group's entries in while planning it: a failed commit must leave
    /// it as it was, a replaced recovered report included.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_commit_leaves_the_index_as_it_was() {
        let dir = dir("rollback");
        let sink = JsonlSink::open(dir.join("r.jsonl")).await.unwrap();
        let mut recovered = VoiceReport::new("rec", "41790000001");
        recovered.duration = None;
        sink.store_from(Origin::Recovered, &[AnyReport::from(recovered)])
            .await
            .unwrap();
        let pulled = [report("rec", 7), report("new", 1), report("new", 2)];

        lock(&sink.inner).fail_next_sync = true;
        let err = sink.store_from(Origin::Pulled, &pulled).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Io);
        assert_eq!(sink.len(), 1);

        // The retry finds the index as before the failure: rec still recovered (replaced
        // now), new not stored (new once, then a conflict within the batch).
        let got = sink.store_from(Origin::Pulled, &pulled).await.unwrap();
        assert_eq!((got.new, got.duplicates, got.replaced), (1, 0, 1));
        assert_eq!(got.conflicts.len(), 1);
        assert_eq!(got.conflicts[0].stored, report("new", 1));
        drop(sink);
        let stored = JsonlSink::read_stored(dir.join("r.jsonl")).await.unwrap();
        assert_eq!(stored.len(), 2);
        assert_eq!(stored[0].origin, Origin::Pulled);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn without_group_commit_every_batch_has_its_own_fsync() {
        let dir = dir("nogroup");
        let sink = Arc::new(
            JsonlSink::builder(dir.join("r.jsonl"))
                .group_commit(false)
                .open()
                .await
                .unwrap(),
        );
        pause(&sink);
        let mut tasks = Vec::new();
        for n in 0..4 {
            let sink = Arc::clone(&sink);
            tasks.push(tokio::spawn(async move {
                sink.store(&[report(&format!("m{n}"), 1)]).await
            }));
        }
        release_group(&sink, 4).await;
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap().new, 1);
        }
        assert_eq!(commits(&sink), 4);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
