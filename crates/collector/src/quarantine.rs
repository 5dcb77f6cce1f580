//! The quarantine: what could not be decoded, kept with its raw bytes and the reason.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ivr_reports_codec::Format;
use serde_json::{Map, Value, json};

use ivr_reports_model::Generation;

/// Where a quarantined item came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Source {
    /// A page fetched by the pull loop.
    Pull,
    /// A body pushed to the webhook.
    Push,
}

impl Source {
    /// `"pull"` or `"push"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pull => "pull",
            Self::Push => "push",
        }
    }

    /// The origin a report from this source is stored with.
    pub(crate) fn origin(self) -> crate::sink::Origin {
        match self {
            Self::Pull => crate::sink::Origin::Pulled,
            Self::Push => crate::sink::Origin::Pushed,
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "pull" => Some(Self::Pull),
            "push" => Some(Self::Push),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the raw bytes of a quarantined item are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scope {
    /// One report of a page that decoded otherwise (a codec `Rejected` item): replayed with
    /// `Codec::decode_report`.
    Report,
    /// A whole body whose envelope could not be read: replayed with `Codec::decode_page`.
    Body,
    /// Two versions of one report (a `messageId` already stored with different content):
    /// `raw` is JSON `{"messageId":..,"stored":{"generation":..,"report":..},
    /// "incoming":{..}}`. Not replayed: someone has to decide.
    Conflict,
}

impl Scope {
    /// `"report"`, `"body"` or `"conflict"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Report => "report",
            Self::Body => "body",
            Self::Conflict => "conflict",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "report" => Some(Self::Report),
            "body" => Some(Self::Body),
            "conflict" => Some(Self::Conflict),
            _ => None,
        }
    }
}

/// An item to quarantine: raw bytes the codec could not read, and everything needed to try
/// again later ([`replay`](crate::replay)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Quarantined {
    /// The exact bytes received (one report, or a whole body; see `scope`).
    pub raw: Vec<u8>,
    /// Why it could not be decoded (the codec's message, with the path).
    pub reason: String,
    /// Where it came from.
    pub source: Source,
    /// Its wire format.
    pub format: Format,
    /// The generation it was read as; `None` when the body was too broken to tell.
    pub generation: Option<Generation>,
    /// Whether `raw` is one report or a whole body.
    pub scope: Scope,
    /// When it was received.
    pub received_at: SystemTime,
}

impl Quarantined {
    /// An item received now.
    #[must_use]
    pub fn new(
        raw: impl Into<Vec<u8>>,
        reason: impl Into<String>,
        source: Source,
        format: Format,
        generation: Option<Generation>,
        scope: Scope,
    ) -> Self {
        Self {
            raw: raw.into(),
            reason: reason.into(),
            source,
            format,
            generation,
            scope,
            received_at: SystemTime::now(),
        }
    }

    /// Milliseconds since the Unix epoch of `received_at`.
    pub(crate) fn received_at_millis(&self) -> i64 {
        self.received_at
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    pub(crate) fn from_millis(millis: i64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(u64::try_from(millis).unwrap_or(0))
    }
}

/// A quarantined item as a sink keeps it, with the id to [`release`](crate::Sink::release)
/// it by.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuarantineEntry {
    /// The sink's id of the entry (unique within that sink).
    pub id: u64,
    /// The item.
    pub item: Quarantined,
}

impl QuarantineEntry {
    /// An entry: for [`Sink`](crate::Sink) implementations reading their quarantine back.
    #[must_use]
    pub fn new(id: u64, item: Quarantined) -> Self {
        Self { id, item }
    }
}

pub(crate) fn format_str(format: Format) -> &'static str {
    match format {
        Format::Xml => "xml",
        _ => "json",
    }
}

pub(crate) fn parse_format(s: &str) -> Option<Format> {
    match s {
        "json" => Some(Format::Json),
        "xml" => Some(Format::Xml),
        _ => None,
    }
}

/// One line of the JSONL quarantine file. The raw bytes are a JSON string when they are
/// UTF-8 (`raw`), else hex (`rawHex`).
pub(crate) fn to_line(id: u64, item: &Quarantined) -> Vec<u8> {
    let mut obj = Map::new();
    obj.insert("id".into(), json!(id));
    obj.insert("source".into(), json!(item.source.as_str()));
    obj.insert("format".into(), json!(format_str(item.format)));
    obj.insert(
        "generation".into(),
        item.generation.map_or(Value::Null, |g| json!(g.number())),
    );
    obj.insert("scope".into(), json!(item.scope.as_str()));
    obj.insert("receivedAt".into(), json!(item.received_at_millis()));
    obj.insert("reason".into(), json!(item.reason));
    match std::str::from_utf8(&item.raw) {
        Ok(text) => obj.insert("raw".into(), json!(text)),
        Err(_) => obj.insert("rawHex".into(), json!(hex(&item.raw))),
    };
    let mut line = Value::Object(obj).to_string().into_bytes();
    line.push(b'\n');
    line
}

pub(crate) fn from_line(line: &[u8]) -> Result<QuarantineEntry, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let id = v.get("id").and_then(Value::as_u64).ok_or("no id")?;
    let raw = match (s("raw"), s("rawHex")) {
        (Some(text), _) => text.as_bytes().to_vec(),
        (None, Some(h)) => unhex(h).ok_or("bad rawHex")?,
        (None, None) => return Err("no raw bytes".into()),
    };
    let generation = match v.get("generation") {
        Some(Value::Null) | None => None,
        Some(g) => Some(
            g.as_u64()
                .and_then(|n| u8::try_from(n).ok())
                .and_then(Generation::from_number)
                .ok_or("bad generation")?,
        ),
    };
    Ok(QuarantineEntry {
        id,
        item: Quarantined {
            raw,
            reason: s("reason").unwrap_or_default().to_string(),
            source: s("source").and_then(Source::parse).ok_or("bad source")?,
            format: s("format").and_then(parse_format).ok_or("bad format")?,
            generation,
            scope: s("scope").and_then(Scope::parse).ok_or("bad scope")?,
            received_at: Quarantined::from_millis(
                v.get("receivedAt").and_then(Value::as_i64).unwrap_or(0),
            ),
        },
    })
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    s.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => Some(digit(*hi)? << 4 | digit(*lo)?),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_text_and_binary() {
        for raw in [&b"{\"to\":\"1\"}\n<x/>"[..], &[0xff, 0x00, 0x7f][..]] {
            let item = Quarantined::new(
                raw,
                "results[0].messageId: missing field",
                Source::Push,
                Format::Xml,
                Some(Generation::V1),
                Scope::Report,
            );
            let line = to_line(7, &item);
            assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
            let back = from_line(&line[..line.len() - 1]).unwrap();
            assert_eq!(back.id, 7);
            assert_eq!(back.item.raw, raw);
            assert_eq!(back.item.reason, item.reason);
            assert_eq!(back.item.received_at_millis(), item.received_at_millis());
        }
    }
}
