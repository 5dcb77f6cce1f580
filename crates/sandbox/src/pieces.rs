//! Injected reports kept compact: their canonical JSON with the members that repeat from
//! report to report (bulk id, status, error, price, ...) stored once for the whole sandbox
//! and spliced back in when a page is written.

use std::collections::HashMap;
use std::sync::Arc;

use crate::store::Generation;

/// The top-level members whose values repeat across reports: kept once, in [`Pieces`].
/// Members not listed (ids, numbers, times, URLs, callback data) are the report's own.
const SHARED_KEYS: &[&[u8]] = &[
    b"\"bulkId\"",
    b"\"from\"",
    b"\"mccMnc\"",
    b"\"dtmfCodes\"",
    b"\"price\"",
    b"\"status\"",
    b"\"error\"",
    b"\"scenarioId\"",
    b"\"scenarioName\"",
];

/// The most distinct shared pieces kept; past it, new ones stay in their reports. Bounds
/// the table (which never forgets: a piece may still be in a report taken but not yet
/// written) when a shared member is not shared after all.
const MAX_PIECES: usize = 1 << 16;

/// The shared members of every injected report, each once, by index.
#[derive(Debug, Default)]
pub(crate) struct Pieces {
    index: HashMap<Arc<[u8]>, u32>,
    pieces: Vec<Arc<[u8]>>,
    /// Bulk ids, each once, for filtering without the JSON.
    bulks: HashMap<Arc<str>, ()>,
}

impl Pieces {
    /// The index of `bytes`, added when new; `None` when the table is full.
    fn intern(&mut self, bytes: &[u8]) -> Option<u32> {
        if let Some(&i) = self.index.get(bytes) {
            return Some(i);
        }
        if self.pieces.len() >= MAX_PIECES {
            return None;
        }
        let i = u32::try_from(self.pieces.len()).ok()?;
        let piece: Arc<[u8]> = Arc::from(bytes);
        self.pieces.push(Arc::clone(&piece));
        self.index.insert(piece, i);
        Some(i)
    }

    fn bulk(&mut self, bulk: &str) -> Arc<str> {
        if let Some((b, ())) = self.bulks.get_key_value(bulk) {
            return Arc::clone(b);
        }
        let b: Arc<str> = Arc::from(bulk);
        if self.bulks.len() < MAX_PIECES {
            self.bulks.insert(Arc::clone(&b), ());
        }
        b
    }

    fn get(&self, i: u32) -> &[u8] {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.pieces.get(i))
            .map_or(&[], |p| &p[..])
    }
}

/// An injected report: its JSON without the shared members, where they go back, and where
/// its message id is. One allocation besides the shared ones.
#[derive(Clone, Debug)]
pub(crate) struct Compact {
    generation: Generation,
    /// The own JSON bytes, then 8 bytes per splice (offset in the own bytes, piece index;
    /// little-endian `u32`s), then the message id when its JSON form has escapes.
    data: Box<[u8]>,
    own_len: u32,
    splices: u32,
    /// The message id: offset and length in `data`.
    id_at: u32,
    id_len: u32,
    bulk: Option<Arc<str>>,
}

/// The span of every top-level member of a JSON object (without its separating commas),
/// for the compact JSON our encoder writes. Empty when `json` is not an object.
fn members(json: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if json.first() != Some(&b'{') {
        return out;
    }
    let (mut depth, mut in_string, mut escaped) = (0_usize, false, false);
    let mut start = 1;
    for (i, &b) in json.iter().enumerate().skip(1) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'}' if depth > 0 => depth -= 1,
            b'}' | b',' if depth == 0 => {
                if i > start {
                    out.push((start, i));
                }
                start = i + 1;
                if b == b'}' {
                    break;
                }
            }
            _ => {}
        }
    }
    out
}

/// The value of a string member `"key":"value"` as raw JSON bytes (escapes kept).
fn string_value<'a>(member: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let rest = member.strip_prefix(key)?.strip_prefix(b":\"")?;
    rest.strip_suffix(b"\"")
}

impl Compact {
    /// Cuts the shared members out of `json` (the report's canonical JSON).
    pub(crate) fn new(
        pieces: &mut Pieces,
        generation: Generation,
        json: &[u8],
        message_id: &str,
        bulk_id: Option<&str>,
    ) -> Self {
        let mut own = Vec::with_capacity(json.len());
        let mut splices: Vec<(u32, u32)> = Vec::new();
        let mut id_at = None;
        let mut copied = 0;
        for (start, end) in members(json) {
            let member = &json[start..end];
            if SHARED_KEYS.iter().any(|k| member.starts_with(k)) {
                if let Some(i) = pieces.intern(member) {
                    own.extend_from_slice(&json[copied..start]);
                    copied = end;
                    splices.push((u32::try_from(own.len()).unwrap_or(u32::MAX), i));
                }
            } else if let Some(v) = string_value(member, b"\"messageId\"")
                && v == message_id.as_bytes()
            {
                // Where the value will be in the own bytes: the member is copied as it is.
                let in_member = member.len() - v.len() - 1;
                id_at = Some(own.len() + (start - copied) + in_member);
            }
        }
        own.extend_from_slice(&json[copied..]);
        let own_len = own.len();
        for (at, i) in &splices {
            own.extend_from_slice(&at.to_le_bytes());
            own.extend_from_slice(&i.to_le_bytes());
        }
        let id_at = id_at.unwrap_or_else(|| {
            let at = own.len();
            own.extend_from_slice(message_id.as_bytes());
            at
        });
        Self {
            generation,
            data: own.into_boxed_slice(),
            own_len: u32::try_from(own_len).unwrap_or(u32::MAX),
            splices: u32::try_from(splices.len()).unwrap_or(0),
            id_at: u32::try_from(id_at).unwrap_or(u32::MAX),
            id_len: u32::try_from(message_id.len()).unwrap_or(0),
            bulk: bulk_id.map(|b| pieces.bulk(b)),
        }
    }

    pub(crate) fn generation(&self) -> Generation {
        self.generation
    }

    pub(crate) fn message_id(&self) -> &str {
        let at = self.id_at as usize;
        self.data
            .get(at..at + self.id_len as usize)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }

    pub(crate) fn bulk_id(&self) -> Option<&str> {
        self.bulk.as_deref()
    }

    /// Appends the report's canonical JSON to `out`.
    pub(crate) fn write_json(&self, pieces: &Pieces, out: &mut Vec<u8>) {
        let own_len = self.own_len as usize;
        let own = self.data.get(..own_len).unwrap_or_default();
        let table = self.data.get(own_len..).unwrap_or_default();
        let mut copied = 0;
        for splice in table.chunks_exact(8).take(self.splices as usize) {
            let word = |b: &[u8]| u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            let (at, i) = (word(&splice[..4]) as usize, word(&splice[4..]));
            let at = at.min(own.len()).max(copied);
            out.extend_from_slice(&own[copied..at]);
            out.extend_from_slice(pieces.get(i));
            copied = at;
        }
        out.extend_from_slice(&own[copied..]);
    }

    /// The length of [`write_json`](Compact::write_json)'s output.
    pub(crate) fn json_len(&self, pieces: &Pieces) -> usize {
        let own_len = self.own_len as usize;
        let table = self.data.get(own_len..).unwrap_or_default();
        own_len
            + table
                .chunks_exact(8)
                .take(self.splices as usize)
                .map(|s| {
                    pieces
                        .get(u32::from_le_bytes([s[4], s[5], s[6], s[7]]))
                        .len()
                })
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(json: &str, id: &str, bulk: Option<&str>) -> (Compact, Pieces) {
        let mut pieces = Pieces::default();
        let c = Compact::new(&mut pieces, Generation::V1, json.as_bytes(), id, bulk);
        let mut out = Vec::new();
        c.write_json(&pieces, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), json);
        assert_eq!(c.json_len(&pieces), json.len());
        assert_eq!((c.message_id(), c.bulk_id()), (id, bulk));
        (c, pieces)
    }

    #[test]
    fn shared_members_are_stored_once_and_spliced_back() {
        let a = r#"{"bulkId":"b","messageId":"m-1","to":"1","price":{"pricePerSecond":0.01,"currency":"EUR"},"status":{"id":5,"name":"X,}\"{"},"error":{"id":0}}"#;
        let (c, mut pieces) = round_trip(a, "m-1", Some("b"));
        assert_eq!(c.splices, 4, "bulkId, price, status, error");
        let b = a.replace("m-1", "m-2");
        let c2 = Compact::new(&mut pieces, Generation::V1, b.as_bytes(), "m-2", Some("b"));
        assert_eq!(pieces.pieces.len(), 4, "no new piece for the second report");
        assert!(c2.data.len() < b.len() / 2);
    }

    #[test]
    fn odd_reports_still_round_trip() {
        round_trip("{}", "", None);
        round_trip(r#"{"messageId":"a\"b"}"#, "a\"b", None);
        round_trip(r#"{"status":{"id":1}}"#, "x", None);
        round_trip(r#"{"messageId":"m","to":"[,]{"}"#, "m", Some("q"));
        round_trip("not json", "m", None);
    }
}
