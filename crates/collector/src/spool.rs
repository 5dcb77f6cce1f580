//! The pull spool: requests in flight and raw response bodies, made durable before they
//! matter.
//!
//! Every record is a magic, the payload length (u32 LE), the generation (1 or 2), the format
//! (0 JSON, 1 XML), a checksum (u64 LE) of those two bytes and the payload (FNV-1a 64; for
//! `IVRB` bodies FNV-1a's prime over 8-byte words, see `word_sum`), then the payload:
//! - `b"IVRM"`, an **in-flight marker**, written and synced before each report request: the
//!   payload is JSON `{"id":7,"startedAt":MILLIS,"query":"limit=1000"}`. The id names the
//!   request among those in flight together (up to the collector's concurrency).
//! - `b"IVRB"`, a fetched **body**, synced before it is decoded: the payload is the id of
//!   the marker it resolves (u64 LE), then the body.
//! - `b"IVRC"`, a request **accounted for without a body** (it failed, or its lost response
//!   is in the incident log): the payload is the marker's id (u64 LE).
//! - `b"IVRS"`, a body of an older spool (no id): it resolves the latest marker.
//!
//! Records of concurrent requests are written and synced together ([`Spool::write_batch`],
//! driven by the collector's group commit). The spool is emptied only when nothing is
//! pending (every marker resolved, every body committed to the sink). On open, every
//! complete, intact body is handed back for replay, and every marker neither a body nor an
//! accounting record resolves is handed back as a request that was in flight when the
//! process died (a *possible-loss incident*: the server may have handed out reports that
//! never arrived). A torn tail (a crash mid-append) is cut off.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use ivr_reports_codec::Format;

use crate::error::{Error, ErrorKind};
use ivr_reports_model::Generation;

/// A body without a marker id (older spools).
const LEGACY_BODY_MAGIC: &[u8; 4] = b"IVRS";
const BODY_MAGIC: &[u8; 4] = b"IVRB";
const MARKER_MAGIC: &[u8; 4] = b"IVRM";
const CANCEL_MAGIC: &[u8; 4] = b"IVRC";
const HEADER: usize = 4 + 4 + 1 + 1 + 8;

/// A report request that was in flight: written before the request, resolved by the body
/// record after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InFlight {
    /// The marker's id in the spool (unique until the spool is emptied; 0 in older
    /// spools).
    pub(crate) id: u64,
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

/// One record to append ([`Spool::write_batch`]).
#[derive(Debug, Clone)]
pub(crate) enum Record {
    /// A request about to be sent.
    Marker(InFlight),
    /// The body that resolves marker `id`.
    Body {
        id: u64,
        generation: Generation,
        format: Format,
        body: bytes::Bytes,
    },
    /// Marker `id` is accounted for without a body.
    Cancel { id: u64, generation: Generation },
}

/// An open, locked spool file.
#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    file: File,
    len: u64,
    /// The next marker id to hand out.
    next_id: u64,
    /// Syncs made by [`Spool::write_batch`] (for the group commit's tests).
    syncs: u64,
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

/// The checksum of `IVRB` bodies: FNV-1a's prime over 8-byte words (a byte-wise FNV-1a over
/// a 1 MB body was a tenth of a concurrent drain's CPU). Each part is hashed on its own,
/// with its length: the writer and the reader split a payload the same way (id, body).
fn word_sum(head: [u8; 2], parts: &[&[u8]]) -> u64 {
    const PRIME: u64 = 0x0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ u64::from(u16::from_le_bytes(head));
    for part in parts {
        let mut words = part.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            hash = (hash ^ u64::from_le_bytes(w)).wrapping_mul(PRIME);
        }
        let tail = words.remainder();
        let mut w = [0u8; 8];
        w[..tail.len()].copy_from_slice(tail);
        hash = (hash ^ u64::from_le_bytes(w)).wrapping_mul(PRIME);
        hash = (hash ^ part.len() as u64).wrapping_mul(PRIME);
        hash ^= hash >> 29;
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
        // Markers not resolved yet, by id (in id order: the incidents come out in the order
        // the requests were made).
        let mut pending: std::collections::BTreeMap<u64, InFlight> = Default::default();
        let mut max_id = 0u64;
        // Markers without an id (older spools) get ids above every other.
        let mut legacy = u64::MAX / 2;
        let mut at = 0usize;
        while let Some(header) = bytes.get(at..at + HEADER) {
            let magic: &[u8] = &header[..4];
            if ![LEGACY_BODY_MAGIC, BODY_MAGIC, MARKER_MAGIC, CANCEL_MAGIC]
                .iter()
                .any(|m| m.as_slice() == magic)
            {
                break;
            }
            let mut len = [0u8; 4];
            len.copy_from_slice(&header[4..8]);
            let len = u32::from_le_bytes(len) as usize;
            let (generation, format) = (header[8], header[9]);
            let mut sum = [0u8; 8];
            sum.copy_from_slice(&header[10..18]);
            let Some(payload) = bytes.get(at + HEADER..at + HEADER + len) else {
                break;
            };
            let expected = if magic == BODY_MAGIC {
                let (id, body) = payload.split_at(payload.len().min(8));
                word_sum([generation, format], &[id, body])
            } else {
                fnv1a(&[&[generation, format], payload])
            };
            if expected != u64::from_le_bytes(sum) {
                break;
            }
            let Some(generation) = Generation::from_number(generation) else {
                break;
            };
            if magic == MARKER_MAGIC {
                let Some(mut marker) = parse_marker(generation, payload) else {
                    break;
                };
                if marker.id == 0 {
                    legacy += 1;
                    marker.id = legacy;
                } else {
                    max_id = max_id.max(marker.id);
                }
                pending.insert(marker.id, marker);
                at += HEADER + len;
                continue;
            }
            let id_of = |p: &[u8]| -> Option<u64> {
                let mut id = [0u8; 8];
                id.copy_from_slice(p.get(..8)?);
                Some(u64::from_le_bytes(id))
            };
            if magic == CANCEL_MAGIC {
                let Some(id) = id_of(payload) else {
                    break;
                };
                pending.remove(&id);
                at += HEADER + len;
                continue;
            }
            let Some(format) = (match format {
                0 => Some(Format::Json),
                1 => Some(Format::Xml),
                _ => None,
            }) else {
                break;
            };
            let body = if magic == BODY_MAGIC {
                let Some(id) = id_of(payload) else {
                    break;
                };
                pending.remove(&id);
                &payload[8..]
            } else {
                // An older body resolves the latest marker.
                if let Some((&id, _)) = pending.iter().next_back() {
                    pending.remove(&id);
                }
                payload
            };
            left.bodies.push(SpoolRecord {
                generation,
                format,
                body: body.to_vec(),
            });
            at += HEADER + len;
        }
        left.in_flight.extend(pending.into_values());
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
                next_id: max_id + 1,
                syncs: 0,
            },
            left,
        ))
    }

    /// The id for the next marker (ids are unique within the spool's life: they keep
    /// counting after it is emptied).
    pub(crate) fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Makes sure no id below `next` is handed out again.
    pub(crate) fn skip_ids_below(&mut self, next: u64) {
        self.next_id = self.next_id.max(next);
    }

    /// Appends the body resolving marker `id` and syncs it to disk.
    #[cfg(test)]
    pub(crate) fn append(
        &mut self,
        id: u64,
        generation: Generation,
        format: Format,
        body: &[u8],
    ) -> Result<(), Error> {
        self.write_batch(&[Record::Body {
            id,
            generation,
            format,
            body: bytes::Bytes::copy_from_slice(body),
        }])
    }

    /// Appends `records` with one write and one sync (group commit): when it returns `Ok`,
    /// all of them are durable; on an error none of them counts (a partial write is cut
    /// off so later records stay readable).
    pub(crate) fn write_batch(&mut self, records: &[Record]) -> Result<(), Error> {
        // Headers (and the short prefixes: marker JSON, ids) go into one small buffer; a
        // body is written from where it is, never copied (`write_vectored`).
        let mut heads = Vec::with_capacity(records.len() * (HEADER + 64));
        // Per record: where its head is in `heads`, and its payload after the prefix.
        let mut layout: Vec<(Range<usize>, &[u8])> = Vec::with_capacity(records.len());
        for record in records {
            let (magic, generation, format, prefix, payload): (_, _, _, Vec<u8>, &[u8]) =
                match record {
                    Record::Marker(marker) => {
                        let json = serde_json::json!({
                            "id": marker.id,
                            "startedAt": marker.started_at,
                            "query": marker.query,
                        })
                        .to_string()
                        .into_bytes();
                        (MARKER_MAGIC, marker.generation, Format::Json, json, &[])
                    }
                    Record::Body {
                        id,
                        generation,
                        format,
                        body,
                    } => (
                        BODY_MAGIC,
                        *generation,
                        *format,
                        id.to_le_bytes().to_vec(),
                        body.as_ref(),
                    ),
                    Record::Cancel { id, generation } => (
                        CANCEL_MAGIC,
                        *generation,
                        Format::Json,
                        id.to_le_bytes().to_vec(),
                        &[],
                    ),
                };
            let len = u32::try_from(prefix.len() + payload.len()).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidConfig,
                    "a response body over 4 GiB cannot be spooled",
                )
            })?;
            let (g, f) = (generation.number(), format_byte(format));
            let start = heads.len();
            heads.extend_from_slice(magic);
            heads.extend_from_slice(&len.to_le_bytes());
            heads.extend_from_slice(&[g, f]);
            let sum = if magic == BODY_MAGIC {
                word_sum([g, f], &[&prefix, payload])
            } else {
                fnv1a(&[&[g, f], &prefix, payload])
            };
            heads.extend_from_slice(&sum.to_le_bytes());
            heads.extend_from_slice(&prefix);
            layout.push((start..heads.len(), payload));
        }
        if heads.is_empty() {
            return Ok(());
        }
        let parts: Vec<&[u8]> = layout
            .iter()
            .flat_map(|(head, payload)| [&heads[head.clone()], *payload])
            .collect();
        let written: u64 = parts.iter().map(|part| part.len() as u64).sum();
        let result = crate::jsonl::write_all_parts(&mut self.file, &parts)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = result {
            // Cut a partial record off so later records stay readable.
            // (The file is in append mode: the next write lands at the new end.)
            let _ = self.file.set_len(self.len);
            return Err(Error::io(
                format!("cannot write to the spool {}", self.path.display()),
                e,
            ));
        }
        self.len += written;
        self.syncs += 1;
        Ok(())
    }

    /// Empties the spool once nothing in it is pending: its bodies are committed to the
    /// sink and its markers resolved (by a body or an accounting record, both synced). Not
    /// synced on its own: should the truncation be lost in a crash, the bodies are replayed
    /// and deduplicated, and every marker is still resolved.
    pub(crate) fn clear(&mut self) -> Result<(), Error> {
        if self.len == 0 {
            return Ok(());
        }
        self.file
            .set_len(0)
            .map_err(|e| Error::io(format!("cannot empty the spool {}", self.path.display()), e))?;
        self.len = 0;
        Ok(())
    }

    /// How many syncs [`Spool::write_batch`] made.
    #[cfg(test)]
    pub(crate) fn syncs(&self) -> u64 {
        self.syncs
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
        id: v.get("id").and_then(serde_json::Value::as_u64).unwrap_or(0),
        started_at: v.get("startedAt")?.as_i64()?,
        generation,
        query: v.get("query")?.as_str()?.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ivr-spool-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        dir
    }

    fn marker(id: u64) -> InFlight {
        InFlight {
            id,
            started_at: 1000 + id as i64,
            generation: Generation::V2,
            query: "limit=1000".into(),
        }
    }

    #[test]
    fn records_survive_reopen_and_a_torn_tail_is_cut() {
        let path = temp("torn");
        {
            let (mut spool, old) = Spool::open(&path).unwrap();
            assert!(old.is_empty());
            spool
                .append(1, Generation::V1, Format::Json, b"{\"results\":[]}")
                .unwrap();
            spool
                .append(2, Generation::V2, Format::Xml, b"<r/>")
                .unwrap();
        }
        // A torn third record.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"IVRB\x10\x00\x00\x00\x02\x00abc").unwrap();
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

    /// Three requests in flight together, two answered: reopening replays the two bodies
    /// and hands back the third marker, whatever order the records were written in.
    #[test]
    fn three_markers_and_two_bodies_are_two_replays_and_one_request_in_flight() {
        let path = temp("three");
        {
            let (mut spool, _) = Spool::open(&path).unwrap();
            let ids = [spool.take_id(), spool.take_id(), spool.take_id()];
            assert_eq!(ids, [1, 2, 3]);
            // One group commit for the three markers, then the bodies of 3 and 1.
            spool
                .write_batch(&[
                    Record::Marker(marker(1)),
                    Record::Marker(marker(2)),
                    Record::Marker(marker(3)),
                ])
                .unwrap();
            spool
                .append(3, Generation::V2, Format::Json, b"third")
                .unwrap();
            spool
                .append(1, Generation::V2, Format::Json, b"first")
                .unwrap();
        }
        let (mut spool, left) = Spool::open(&path).unwrap();
        let bodies: Vec<&[u8]> = left.bodies.iter().map(|b| b.body.as_slice()).collect();
        assert_eq!(bodies, [b"third".as_slice(), b"first".as_slice()]);
        assert_eq!(left.in_flight, vec![marker(2)]);
        // Ids keep counting past those in the file.
        assert_eq!(spool.take_id(), 4);
        // A request accounted for without a body (it failed) is no longer in flight.
        spool.clear().unwrap();
        spool
            .write_batch(&[
                Record::Marker(marker(4)),
                Record::Marker(marker(5)),
                Record::Cancel {
                    id: 4,
                    generation: Generation::V2,
                },
            ])
            .unwrap();
        drop(spool);
        let (_, left) = Spool::open(&path).unwrap();
        assert!(left.bodies.is_empty());
        assert_eq!(left.in_flight, vec![marker(5)]);
        let _ = std::fs::remove_file(&path);
    }

    /// A spool written before markers had ids: a body resolves the marker before it.
    #[test]
    fn an_older_spool_still_reads() {
        let path = temp("legacy");
        let record = |magic: &[u8; 4], payload: &[u8]| {
            let mut r = magic.to_vec();
            r.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            r.extend_from_slice(&[2, 0]);
            r.extend_from_slice(&fnv1a(&[&[2, 0], payload]).to_le_bytes());
            r.extend_from_slice(payload);
            r
        };
        let m1 = br#"{"startedAt":1,"query":"limit=1000"}"#;
        let m2 = br#"{"startedAt":2,"query":"limit=1000"}"#;
        let mut bytes = record(b"IVRM", m1);
        bytes.extend(record(b"IVRS", b"{}"));
        bytes.extend(record(b"IVRM", m2));
        std::fs::write(&path, bytes).unwrap();
        let (_, left) = Spool::open(&path).unwrap();
        assert_eq!(left.bodies.len(), 1);
        assert_eq!(left.in_flight.len(), 1);
        assert_eq!(left.in_flight[0].started_at, 2);
        let _ = std::fs::remove_file(&path);
    }

    /// The bytes of a batch are the records one after another, as the module documents
    /// them: written from their parts, they are the same as built in one buffer.
    #[test]
    fn a_batch_is_its_records_byte_for_byte() {
        let path = temp("bytes");
        let body = b"{\"results\":[{\"messageId\":\"m\"}]}".as_slice();
        {
            let (mut spool, _) = Spool::open(&path).unwrap();
            spool
                .write_batch(&[
                    Record::Marker(marker(1)),
                    Record::Body {
                        id: 1,
                        generation: Generation::V2,
                        format: Format::Xml,
                        body: bytes::Bytes::from_static(body),
                    },
                    Record::Cancel {
                        id: 2,
                        generation: Generation::V1,
                    },
                ])
                .unwrap();
        }
        let record = |magic: &[u8; 4], g: u8, f: u8, payload: &[u8], sum: u64| {
            let mut r = magic.to_vec();
            r.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            r.extend_from_slice(&[g, f]);
            r.extend_from_slice(&sum.to_le_bytes());
            r.extend_from_slice(payload);
            r
        };
        let m = br#"{"id":1,"query":"limit=1000","startedAt":1001}"#;
        let mut want = record(b"IVRM", 2, 0, m, fnv1a(&[&[2, 0], m]));
        let mut b = 1u64.to_le_bytes().to_vec();
        b.extend_from_slice(body);
        want.extend(record(
            b"IVRB",
            2,
            1,
            &b,
            word_sum([2, 1], &[&1u64.to_le_bytes(), body]),
        ));
        let c = 2u64.to_le_bytes();
        want.extend(record(b"IVRC", 1, 0, &c, fnv1a(&[&[1, 0], &c])));
        assert_eq!(std::fs::read(&path).unwrap(), want);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_flipped_byte_ends_the_readable_records() {
        let path = temp("flip");
        {
            let (mut spool, _) = Spool::open(&path).unwrap();
            spool
                .append(1, Generation::V1, Format::Json, b"hello")
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
