//! Possible-loss incidents: report requests whose answer never reached the spool, kept
//! durably in a JSON-lines log beside the spool.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::error::{Error, ErrorKind};
use ivr_reports_model::Generation;

/// Why an [`Incident`] was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum IncidentReason {
    /// A restart found a request marked in flight with no body after it: the process died
    /// (crash, `kill -9`, power loss) between sending the request and spooling its answer.
    InFlightAtCrash,
    /// The request was sent and its response was lost while the collector watched (the
    /// connection dropped, or a timeout struck while waiting for the answer).
    ResponseLost,
}

impl IncidentReason {
    /// `"in flight at crash"` or `"response lost"`, as written in the incident log.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InFlightAtCrash => "in flight at crash",
            Self::ResponseLost => "response lost",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "in flight at crash" => Some(Self::InFlightAtCrash),
            "response lost" => Some(Self::ResponseLost),
            _ => None,
        }
    }
}

impl fmt::Display for IncidentReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A *possible-loss incident*: a report request the API may have answered with reports
/// that never arrived. Infobip hands each report out once, so only the API's logs (or the
/// webhook) can tell which calls of the window have no report; the collector records the
/// window so that can be reconciled later.
///
/// Incidents are kept in a JSON-lines log beside the spool (`SPOOL.incidents`), one object
/// per line: `{"id":1,"openedAt":MILLIS,"closedAt":MILLIS,"generation":2,
/// "query":"limit=1000","reason":"in flight at crash","request":3}` (`request`: the
/// in-flight marker's id in the spool, telling apart requests in flight together).
/// Reconciliation from the API's logs
/// ([`Collector::reconcile`](crate::Collector::reconcile)) closes an incident by appending
/// `{"reconciled":1,"at":MILLIS,"recovered":N}`: the window held no pending message and
/// every final one has a stored report (`N` of them recovered from logs). An incident never
/// reconciled stays open; past the logs' retention (48 hours) it can no longer be, and
/// reconciliation says so loudly each time.
///
/// ```
/// use ivr_reports_collector::{Incident, IncidentReason};
///
/// fn alert(incident: &Incident) -> String {
///     match incident.reason {
///         IncidentReason::InFlightAtCrash => format!("crash during a pull: {incident}"),
///         _ => format!("lost response: {incident}"),
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Incident {
    /// Its id in the log (1, 2, ...).
    pub id: u64,
    /// When the request started: the window opens here.
    pub opened_at: SystemTime,
    /// When the window closes: when the response was seen lost, or, after a crash, when
    /// the restart noticed the marker (the process died somewhere in between).
    pub closed_at: SystemTime,
    /// The generation (endpoint) of the request.
    pub generation: Generation,
    /// The request's query string (`limit=1000`).
    pub query: String,
    /// Why it was recorded.
    pub reason: IncidentReason,
    /// When reconciliation closed it (`None`: still open).
    pub reconciled_at: Option<SystemTime>,
    /// How many reports reconciliation recovered from logs for it (over every run).
    pub recovered: u64,
    /// The in-flight marker's id in the spool (0 when unknown): with several requests in
    /// flight, two may start within the same millisecond, and each is its own incident.
    pub(crate) request: u64,
}

impl Incident {
    /// Whether it is still open (not reconciled).
    #[must_use]
    pub fn is_open(&self) -> bool {
        self.reconciled_at.is_none()
    }
}

impl fmt::Display for Incident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "possible-loss incident #{} ({}): a {} report request ({}) between {} and {}",
            self.id,
            self.reason,
            self.generation,
            self.query,
            show_time(self.opened_at),
            show_time(self.closed_at)
        )
    }
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub(crate) fn from_millis(millis: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
}

fn show_time(t: SystemTime) -> String {
    ivr_reports_model::Timestamp::from_unix_millis(millis(t))
        .map_or_else(|_| format!("{} ms", millis(t)), |ts| ts.to_string())
}

/// The log file of the spool at `spool`.
pub(crate) fn log_path(spool: &Path) -> PathBuf {
    let mut p = spool.as_os_str().to_os_string();
    p.push(".incidents");
    PathBuf::from(p)
}

fn to_line(incident: &Incident) -> Vec<u8> {
    let mut v = json!({
        "id": incident.id,
        "openedAt": millis(incident.opened_at),
        "closedAt": millis(incident.closed_at),
        "generation": incident.generation.number(),
        "query": incident.query,
        "reason": incident.reason.as_str(),
    });
    if incident.request != 0 {
        v["request"] = json!(incident.request);
    }
    let mut line = v.to_string().into_bytes();
    line.push(b'\n');
    line
}

/// A line of the log: an incident, or the closing of one.
enum Line {
    Incident(Incident),
    Reconciled { id: u64, at: i64, recovered: u64 },
}

fn reconciled_line(id: u64, at: SystemTime, recovered: u64) -> Vec<u8> {
    let mut line = json!({ "reconciled": id, "at": millis(at), "recovered": recovered })
        .to_string()
        .into_bytes();
    line.push(b'\n');
    line
}

fn from_line(line: &[u8]) -> Result<Line, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    if let Some(id) = v.get("reconciled") {
        return Ok(Line::Reconciled {
            id: id.as_u64().ok_or("bad reconciled id")?,
            at: v.get("at").and_then(Value::as_i64).ok_or("no at")?,
            recovered: v.get("recovered").and_then(Value::as_u64).unwrap_or(0),
        });
    }
    let int = |k: &str| v.get(k).and_then(Value::as_i64).ok_or(format!("no {k}"));
    Ok(Line::Incident(Incident {
        id: v.get("id").and_then(Value::as_u64).ok_or("no id")?,
        opened_at: from_millis(int("openedAt")?),
        closed_at: from_millis(int("closedAt")?),
        generation: v
            .get("generation")
            .and_then(Value::as_u64)
            .and_then(|n| u8::try_from(n).ok())
            .and_then(Generation::from_number)
            .ok_or("bad generation")?,
        query: v
            .get("query")
            .and_then(Value::as_str)
            .ok_or("no query")?
            .to_string(),
        reason: v
            .get("reason")
            .and_then(Value::as_str)
            .and_then(IncidentReason::parse)
            .ok_or("bad reason")?,
        reconciled_at: None,
        recovered: 0,
        request: v.get("request").and_then(Value::as_u64).unwrap_or(0),
    }))
}

/// Reads every incident of the log at `path` (none when it does not exist). A torn last
/// line (a crash mid-append) is left out.
pub(crate) fn read_log(path: &Path) -> Result<Vec<Incident>, Error> {
    Ok(read_log_len(path)?.0)
}

/// The incidents of the log and the length of its complete lines.
fn read_log_len(path: &Path) -> Result<(Vec<Incident>, u64), Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => {
            return Err(Error::io(
                format!("cannot open the incident log {}", path.display()),
                e,
            ));
        }
    };
    let mut out: Vec<Incident> = Vec::new();
    let good = crate::jsonl::scan_lines(&file, path, "incident log", |number, line| {
        let line = from_line(line).map_err(|problem| {
            Error::new(
                ErrorKind::Corrupt,
                format!(
                    "line {number} of the incident log {} is not one the collector wrote: {problem}",
                    path.display()
                ),
            )
        })?;
        match line {
            Line::Incident(incident) => out.push(incident),
            Line::Reconciled { id, at, recovered } => {
                if let Some(incident) = out.iter_mut().find(|i| i.id == id) {
                    incident.reconciled_at = Some(from_millis(at));
                    incident.recovered += recovered;
                }
            }
        }
        Ok(())
    })?;
    Ok((out, good))
}

/// Appends an incident to the log at `path` and syncs it; returns it with its id. The
/// caller holds the spool's lock, so there is one writer. An incident already in the log
/// (same window start, generation, query and reason: a restart that died before it emptied
/// the spool) is returned as it is, not written twice.
#[cfg(test)]
pub(crate) fn record(
    path: &Path,
    opened_at: SystemTime,
    closed_at: SystemTime,
    generation: Generation,
    query: &str,
    reason: IncidentReason,
) -> Result<Incident, Error> {
    record_request(path, 0, opened_at, closed_at, generation, query, reason)
}

/// Records the incident of the request with in-flight marker `request` (see [`record`]):
/// recording the same request again (same marker, start and query) returns the incident
/// already in the log, whatever the reason given now: a run that recorded a lost response
/// and died before its spool said so leaves the marker open, and the restart must not
/// count that request twice. (Marker 0, requests of an older spool without ids, still
/// needs the same reason too.)
pub(crate) fn record_request(
    path: &Path,
    request: u64,
    opened_at: SystemTime,
    closed_at: SystemTime,
    generation: Generation,
    query: &str,
    reason: IncidentReason,
) -> Result<Incident, Error> {
    let _one = APPENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (existing, good) = read_log_len(path)?;
    if let Some(same) = existing.iter().find(|i| {
        millis(i.opened_at) == millis(opened_at)
            && i.generation == generation
            && i.query == query
            && (i.reason == reason || request != 0)
            && i.request == request
    }) {
        return Ok(same.clone());
    }
    let incident = Incident {
        id: existing.iter().map(|i| i.id).max().unwrap_or(0) + 1,
        opened_at,
        closed_at,
        generation,
        query: query.to_string(),
        reason,
        reconciled_at: None,
        recovered: 0,
        request,
    };
    append(path, good, &to_line(&incident))?;
    Ok(incident)
}

/// Appends the line closing incident `id` (reconciled at `at`, `recovered` reports
/// recovered from logs) and syncs it.
pub(crate) fn mark_reconciled(
    path: &Path,
    id: u64,
    at: SystemTime,
    recovered: u64,
) -> Result<(), Error> {
    let _one = APPENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (_, good) = read_log_len(path)?;
    append(path, good, &reconciled_line(id, at, recovered))
}

/// Serialises appends within this process (the pull loop records, reconciliation closes).
static APPENDING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Appends `line` to the log (whose complete lines are `good` bytes long) and syncs.
/// The caller holds [`APPENDING`] since it read `good`.
fn append(path: &Path, good: u64, line: &[u8]) -> Result<(), Error> {
    let write_err = |e| {
        Error::io(
            format!("cannot write the incident log {}", path.display()),
            e,
        )
    };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(write_err)?;
    // A torn last line from an earlier crash is cut off first.
    if file.metadata().map_err(write_err)?.len() > good {
        file.set_len(good).map_err(write_err)?;
    }
    file.write_all(line)
        .and_then(|()| file.sync_data())
        .map_err(write_err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty directory of its own, and the incident log path in it.
    fn fresh_log(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("ivr-incidents-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = log_path(&dir.join("x.spool"));
        (dir, path)
    }

    /// A lost response recorded, then the crash before the spool resolved its marker: the
    /// restart's in-flight incident for the same request is the one already recorded.
    #[test]
    fn one_request_is_one_incident_whatever_the_second_reason() {
        let (dir, path) = fresh_log("one");
        let t = from_millis(1_700_000_000_000);
        let at = |request, reason| {
            record_request(&path, request, t, t, Generation::V2, "limit=1000", reason).unwrap()
        };
        let lost = at(7, IncidentReason::ResponseLost);
        let restart = at(7, IncidentReason::InFlightAtCrash);
        assert_eq!(restart, lost);
        // Another request of the same millisecond is another incident.
        let other = at(8, IncidentReason::InFlightAtCrash);
        assert_eq!((lost.id, other.id), (1, 2));
        assert_eq!(read_log(&path).unwrap().len(), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn incidents_are_numbered_kept_and_not_written_twice() {
        let (dir, path) = fresh_log("numbered");
        assert!(read_log(&path).unwrap().is_empty());
        let t = from_millis(1_700_000_000_000);
        let a = record(
            &path,
            t,
            t,
            Generation::V2,
            "limit=1000",
            IncidentReason::InFlightAtCrash,
        )
        .unwrap();
        let again = record(
            &path,
            t,
            t,
            Generation::V2,
            "limit=1000",
            IncidentReason::InFlightAtCrash,
        )
        .unwrap();
        assert_eq!(a, again);
        // A torn line after it does not hide the next one.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":9")
            .unwrap();
        let b = record(
            &path,
            t,
            t,
            Generation::V1,
            "limit=1000",
            IncidentReason::ResponseLost,
        )
        .unwrap();
        assert_eq!((a.id, b.id), (1, 2));
        assert_eq!(read_log(&path).unwrap(), vec![a.clone(), b.clone()]);
        // Reconciling closes one; the other stays open; ids go on.
        mark_reconciled(&path, 1, t, 3).unwrap();
        let read = read_log(&path).unwrap();
        assert!(!read[0].is_open() && read[1].is_open());
        assert_eq!(read[0].recovered, 3);
        let c = record(
            &path,
            from_millis(1_700_000_000_001),
            t,
            Generation::V1,
            "limit=1000",
            IncidentReason::ResponseLost,
        )
        .unwrap();
        assert_eq!(c.id, 3);
        assert!(
            a.to_string()
                .contains("possible-loss incident #1 (in flight at crash)")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
