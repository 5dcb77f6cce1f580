//! The pull spool: requests in flight and raw response bodies, made durable before they
//! matter.
//!
//! Two kinds of record, both `MAGIC`, the payload length (u32 LE), the generation (1 or
//! 2), the format (0 JSON, 1 XML), an FNV-1a 64 checksum (u64 LE) of those two bytes and
//! the payload, then the payload:
//! - `b"IVRM"`, an **in-flight marker**, written and synced before each report request: the
//!   payload is JSON `{"startedAt":MILLIS,"query":"limit=1000"}`.
//! - `b"IVRS"`, a fetched **body**, synced before it is decoded. It resolves the marker
//!   before it.
//!
//! The spool is emptied once the sink committed what the body held, or once a failed
//! request is accounted for. On open, every complete, intact body is handed back for replay,
//! and every marker no body follows is handed back as a request that was in flight when the
//! process died (a *possible-loss incident*: the server may have handed out reports that
//! never arrived). A torn tail (a crash mid-append) is cut off.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ivr_reports_codec::Format;

use crate::error::{Error, ErrorKind};
use ivr_reports_model::Generation;

const MAGIC: &[u8; 4] = b"IVRS";
const MARKER_MAGIC: &[u8; 4] = b"IVRM";
const HEADER: usize = 4 + 4 + 1 + 1 + 8;

/// A report request that was in flight: written before the request, resolved by the body
/// record after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InFlight {
    /// When the request started, in milliseconds since the Unix epoch.
    pub(crate) started_at: i64,
    pub(crate) generation: Generation,
    /// The request's query string (`limit=1000`).
    pub(crate) query: String,
}

/// What a spool held when it was opened.
#[derive(Debug, Default)]
pub(crate) struct Leftovers {
    /// Bodies spooled and not yet emptied: replay them.
    pub(crate) bodies: Vec<SpoolRecord>,
    /// Requests whose marker no body follows: they were in flight when the process died.
    pub(crate) in_flight: Vec<InFlight>,
}

impl Leftovers {
    pub(crate) fn is_empty(&self) -> bool {
        self.bodies.is_empty() && self.in_flight.is_empty()
    }
}

/// A body waiting in the spool.
#[derive(Debug, Clone)]
pub(crate) struct SpoolRecord {
    pub(crate) generation: Generation,
    pub(crate) format: Format,
    pub(crate) body: Vec<u8>,
}

/// An open, locked spool file.
#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    file: File,
    len: u64,
    /// The last record is a marker no body resolved yet.
    dangling: bool,
}

fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn format_byte(format: Format) -> u8 {
    match format {
        Format::Xml => 1,
        _ => 0,
    }
}

impl Spool {
    /// Opens (or creates) and locks the spool; returns it with what a previous run left,
    /// after cutting off a torn tail.
    pub(crate) fn open(path: &Path) -> Result<(Self, Leftovers), Error> {
        let mut file = crate::jsonl::open_locked(path, "spool")?;
        let read_err = |e| Error::io(format!("cannot read the spool {}", path.display()), e);
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0)).map_err(read_err)?;
        file.read_to_end(&mut bytes).map_err(read_err)?;
        let mut left = Leftovers::default();
        let mut pending: Option<InFlight> = None;
        let mut at = 0usize;
        while let Some(header) = bytes.get(at..at + HEADER) {
            let is_marker = &header[..4] == MARKER_MAGIC;
            if &header[..4] != MAGIC && !is_marker {
                break;
            }
            let mut len = [0u8; 4];
            len.copy_from_slice(&header[4..8]);
            let len = u32::from_le_bytes(len) as usize;
            let (generation, format) = (header[8], header[9]);
            let mut sum = [0u8; 8];
            sum.copy_from_slice(&header[10..18]);
            let Some(body) = bytes.get(at + HEADER..at + HEADER + len) else {
                break;
            };
            if fnv1a(&[&[generation, format], body]) != u64::from_le_bytes(sum) {
                break;
            }
            if is_marker {
                let Some(marker) =
                    Generation::from_number(generation).and_then(|g| parse_marker(g, body))
                else {
                    break;
                };
                // A marker after a marker: the first request got no body.
                left.in_flight.extend(pending.replace(marker));
                at += HEADER + len;
                continue;
            }
            let (Some(generation), Some(format)) = (
                Generation::from_number(generation),
                match format {
                    0 => Some(Format::Json),
                    1 => Some(Format::Xml),
                    _ => None,
                },
            ) else {
                break;
            };
            pending = None;
            left.bodies.push(SpoolRecord {
                generation,
                format,
                body: body.to_vec(),
            });
            at += HEADER + len;
        }
        let dangling = pending.is_some();
        left.in_flight.extend(pending);
        let good = at as u64;
        if (bytes.len() as u64) > good {
            file.set_len(good)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(format!("cannot repair the spool {}", path.display()), e))?;
        }
        Ok((
            Self {
                path: path.to_path_buf(),
                file,
                len: good,
                dangling,
            },
            left,
        ))
    }

    /// Records, durably, that a report request is about to be sent.
    pub(crate) fn mark_in_flight(&mut self, marker: &InFlight) -> Result<(), Error> {
        let payload = serde_json::json!({
            "startedAt": marker.started_at,
            "query": marker.query,
        })
        .to_string();
        self.write_record(
            MARKER_MAGIC,
            marker.generation,
            Format::Json,
            payload.as_bytes(),
        )?;
        self.dangling = true;
        Ok(())
    }

    /// Appends a body and syncs it to disk.
    pub(crate) fn append(
        &mut self,
        generation: Generation,
        format: Format,
        body: &[u8],
    ) -> Result<(), Error> {
        self.write_record(MAGIC, generation, format, body)?;
        self.dangling = false;
        Ok(())
    }

    fn write_record(
        &mut self,
        magic: &[u8; 4],
        generation: Generation,
        format: Format,
        body: &[u8],
    ) -> Result<(), Error> {
        let len = u32::try_from(body.len()).map_err(|_| {
            Error::new(
                ErrorKind::InvalidConfig,
                "a response body over 4 GiB cannot be spooled",
            )
        })?;
        let (g, f) = (generation.number(), format_byte(format));
        let mut record = Vec::with_capacity(HEADER + body.len());
        record.extend_from_slice(magic);
        record.extend_from_slice(&len.to_le_bytes());
        record.extend_from_slice(&[g, f]);
        record.extend_from_slice(&fnv1a(&[&[g, f], body]).to_le_bytes());
        record.extend_from_slice(body);
        let result = self
            .file
            .write_all(&record)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = result {
            // Cut a partial record off so later records stay readable.
            let _ = self.file.set_len(self.len);
            return Err(Error::io(
                format!("cannot write to the spool {}", self.path.display()),
                e,
            ));
        }
        self.len += record.len() as u64;
        Ok(())
    }

    /// Empties the spool once its bodies are committed to the sink (or its marker is
    /// accounted for). When the last record is a body, not synced on its own: should the
    /// truncation be lost in a crash, the bodies are replayed and deduplicated, and the next
    /// marker's sync makes it durable. A lone marker is synced away, or a crash would make
    /// it look like a request in flight.
    pub(crate) fn clear(&mut self) -> Result<(), Error> {
        if self.len == 0 {
            return Ok(());
        }
        let sync = self.dangling;
        self.file
            .set_len(0)
            .and_then(|()| if sync { self.file.sync_data() } else { Ok(()) })
            .map_err(|e| Error::io(format!("cannot empty the spool {}", self.path.display()), e))?;
        self.len = 0;
        self.dangling = false;
        Ok(())
    }

    /// Whether it holds no record.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
}

fn parse_marker(generation: Generation, payload: &[u8]) -> Option<InFlight> {
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    Some(InFlight {
        started_at: v.get("startedAt")?.as_i64()?,
        generation,
        query: v.get("query")?.as_str()?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ivr-spool-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        dir
    }

    #[test]
    fn records_survive_reopen_and_a_torn_tail_is_cut() {
        let path = temp("torn");
        {
            let (mut spool, old) = Spool::open(&path).unwrap();
            assert!(old.is_empty());
            spool
                .append(Generation::V1, Format::Json, b"{\"results\":[]}")
                .unwrap();
            spool.append(Generation::V2, Format::Xml, b"<r/>").unwrap();
        }
        // A torn third record.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"IVRS\x10\x00\x00\x00\x02\x00abc").unwrap();
        drop(f);
        let (mut spool, left) = Spool::open(&path).unwrap();
        let records = left.bodies;
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].body, b"<r/>");
        assert_eq!(records[1].format, Format::Xml);
        assert_eq!(records[0].generation, Generation::V1);
        spool.clear().unwrap();
        assert!(spool.is_empty());
        drop(spool);
        let (_, left) = Spool::open(&path).unwrap();
        assert!(left.is_empty());
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_marker_without_a_body_is_a_request_in_flight() {
        let path = temp("marker");
        let marker = |n: i64| InFlight {
            started_at: n,
            generation: Generation::V2,
            query: "limit=1000".into(),
        };
        {
            let (mut spool, _) = Spool::open(&path).unwrap();
            // Resolved: a marker, then its body.
            spool.mark_in_flight(&marker(1)).unwrap();
            spool.append(Generation::V2, Format::Json, b"{}").unwrap();
            // Not resolved: the process dies while the request is in flight.
            spool.mark_in_flight(&marker(2)).unwrap();
        }
        let (mut spool, left) = Spool::open(&path).unwrap();
        assert_eq!(left.bodies.len(), 1);
        assert_eq!(left.in_flight, vec![marker(2)]);
        spool.clear().unwrap();
        spool.mark_in_flight(&marker(3)).unwrap();
        spool.mark_in_flight(&marker(4)).unwrap();
        drop(spool);
        let (_, left) = Spool::open(&path).unwrap();
        assert_eq!(left.in_flight, vec![marker(3), marker(4)]);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_flipped_byte_ends_the_readable_records() {
        let path = temp("flip");
        {
            let (mut spool, _) = Spool::open(&path).unwrap();
            spool
                .append(Generation::V1, Format::Json, b"hello")
                .unwrap();
        }
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let (_, left) = Spool::open(&path).unwrap();
        assert!(left.is_empty());
        let _ = std::fs::remove_file(&path);
    }
}
