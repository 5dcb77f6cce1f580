//! `JsonlSink`: the embedded default sink, an append-only JSONL journal with a dedupe index.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions, TryLockError};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

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
/// before [`Sink::store`] returns. The set of stored `messageId`s is kept in memory and
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
        let path = path.as_ref().to_path_buf();
        let p = path.clone();
        let inner = blocking(move || open_blocking(&p)).await?;
        Ok(Self {
            path,
            inner: Arc::new(Mutex::new(inner)),
        })
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

fn line_hash(line: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    line.hash(&mut h);
    h.finish()
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

    /// Appends `buf` to the journal and syncs; on failure rolls the file back to its length
    /// before, or poisons the sink when even that fails.
    fn append(&mut self, buf: &[u8], path: &Path) -> Result<(), Error> {
        let result = self
            .journal
            .write_all(buf)
            .and_then(|()| self.journal.sync_data());
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
        self.len += buf.len() as u64;
        Ok(())
    }
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
        // Encode outside the lock, on the caller's task. Each line is copied out of one
        // scratch buffer at its exact length: a page of tiny reports must not cost a
        // 600-byte allocation per report.
        let mut scratch = Vec::with_capacity(1024);
        let lines: Vec<(String, u64, Vec<u8>)> = reports
            .iter()
            .map(|r| {
                scratch.clear();
                crate::report::write_journal_line(r, origin, &mut scratch);
                let hash = line_hash(&crate::report::canonical_json(r));
                (r.message_id().to_string(), hash, scratch.clone())
            })
            .collect();
        let inner = Arc::clone(&self.inner);
        let path = self.path.clone();
        Box::pin(async move {
            let (new, duplicates, replaced, conflicts) = blocking(move || {
                let mut inner = lock(&inner);
                inner.check()?;
                // id -> (hash, index in the batch) of the reports written by this batch.
                let mut batch: HashMap<String, (u64, usize)> = HashMap::new();
                let mut buf = Vec::new();
                let (mut duplicates, mut replaced) = (0u64, 0u64);
                // (index of the incoming report, the stored version)
                let mut conflicts: Vec<(usize, Result<AnyReport, usize>)> = Vec::new();
                let mut fresh = Vec::new();
                for (index, (id, hash, line)) in lines.into_iter().enumerate() {
                    if let Some(&(first_hash, first)) = batch.get(&id) {
                        if first_hash == hash || origin == Origin::Recovered {
                            duplicates += 1;
                        } else {
                            conflicts.push((index, Err(first)));
                        }
                        continue;
                    }
                    if let Some(&kept) = inner.ids.get(&id) {
                        if replaces(kept.origin, origin) {
                            replaced += 1;
                        } else {
                            if kept.hash == hash || origin == Origin::Recovered {
                                duplicates += 1;
                            } else {
                                let stored = read_at(&inner.journal, &path, kept.offset)?;
                                conflicts.push((index, Ok(stored)));
                            }
                            continue;
                        }
                    }
                    batch.insert(id.clone(), (hash, index));
                    let kept = Kept {
                        hash,
                        offset: inner.len + buf.len() as u64,
                        origin,
                    };
                    fresh.push((id, kept));
                    buf.extend_from_slice(&line);
                }
                if !buf.is_empty() {
                    inner.append(&buf, &path)?;
                }
                let new = fresh.len() as u64 - replaced;
                inner.ids.extend(fresh);
                Ok((new, duplicates, replaced, conflicts))
            })
            .await?;
            let conflicts = conflicts
                .into_iter()
                .map(|(index, stored)| {
                    let stored = stored.unwrap_or_else(|first| reports[first].clone());
                    Conflict::new(stored, reports[index].clone())
                })
                .collect();
            Ok(Stored::new(new, duplicates)
                .with_conflicts(conflicts)
                .with_replaced(replaced))
        })
    }

    fn quarantine<'a>(&'a self, items: &'a [Quarantined]) -> BoxFuture<'a, Result<(), Error>> {
        let items = items.to_vec();
        let inner = Arc::clone(&self.inner);
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
            rewrite_atomically(path, &buf)
        }))
    }

    fn describe(&self) -> String {
        format!("jsonl:{}", self.path.display())
    }

    /// The quarantine file's length.
    fn quarantine_bytes(&self) -> BoxFuture<'_, Result<Option<u64>, Error>> {
        let path = self.quarantine_path();
        Box::pin(blocking(move || match std::fs::metadata(&path) {
            Ok(meta) => Ok(Some(meta.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Some(0)),
            Err(e) => Err(Error::io(format!("cannot read {}", path.display()), e)),
        }))
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
