//! `replay`: run the quarantine through the codec again, and keep what now decodes.

use ivr_reports_codec::Codec;
use ivr_reports_model::{CallReport, VoiceReport};

use crate::collector::decode_body;
use crate::error::Error;
use crate::quarantine::{QuarantineEntry, Quarantined, Scope};
use crate::sink::Sink;
use ivr_reports_model::{AnyReport, Generation};

/// What [`replay`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ReplaySummary {
    /// Quarantine entries examined.
    pub examined: u64,
    /// Entries that decoded now and left the quarantine.
    pub released: u64,
    /// Reports newly stored from them.
    pub stored: u64,
    /// Reports from them that were already stored.
    pub duplicates: u64,
    /// Entries still quarantined (including new single-report entries split off a body
    /// whose envelope now decodes but some of whose reports still do not).
    pub remaining: u64,
}

/// Re-runs every quarantine entry through the codec (e.g. after a codec upgrade, or after
/// fixing a sender). A single report that decodes now is stored; a whole body whose
/// envelope decodes now has its reports stored and its still-undecodable items quarantined
/// as single reports. Either way the entry is then released. Entries that still fail stay.
///
/// Safe to interrupt and re-run: storing is idempotent, and an entry is released only after
/// what it held was committed (an interruption between the two can at worst quarantine a
/// body's still-rejected items twice).
///
/// # Errors
/// The sink's errors; entries not yet released stay in the quarantine.
pub async fn replay(sink: &dyn Sink) -> Result<ReplaySummary, Error> {
    let entries = sink.quarantined().await?;
    let mut summary = ReplaySummary {
        examined: entries.len() as u64,
        ..ReplaySummary::default()
    };
    for entry in entries {
        let Some((reports, requarantine)) = retry(&entry) else {
            summary.remaining += 1;
            continue;
        };
        let stored = match sink.store_from(entry.item.source.origin(), &reports).await {
            Ok(stored) => stored,
            // The sink still refuses it: it stays where it is.
            Err(e) if e.kind() == crate::ErrorKind::Rejected => {
                summary.remaining += 1;
                continue;
            }
            Err(e) => return Err(e),
        };
        summary.stored += stored.new;
        summary.duplicates += stored.duplicates;
        if !requarantine.is_empty() {
            sink.quarantine(&requarantine).await?;
            summary.remaining += requarantine.len() as u64;
        }
        sink.release(&[entry.id]).await?;
        summary.released += 1;
    }
    Ok(summary)
}

/// The reports an entry decodes to now, and what must stay quarantined; `None` when it
/// still does not decode at all.
fn retry(entry: &QuarantineEntry) -> Option<(Vec<AnyReport>, Vec<Quarantined>)> {
    let item = &entry.item;
    let codec = Codec::new(item.format).ok()?;
    match item.scope {
        Scope::Report => {
            let report = match item.generation.unwrap_or(Generation::V2) {
                Generation::V1 => {
                    AnyReport::V1(codec.decode_report::<VoiceReport>(&item.raw).ok()?)
                }
                Generation::V2 => AnyReport::V2(codec.decode_report::<CallReport>(&item.raw).ok()?),
            };
            Some((vec![report], Vec::new()))
        }
        // Two versions of one report: a person decides, not the codec.
        Scope::Conflict => None,
        Scope::Body => {
            let (generation, reports, rejected) =
                decode_body(codec, item.generation, &item.raw).ok()?;
            let requarantine = rejected
                .into_iter()
                .map(|r| {
                    Quarantined::new(
                        r.raw,
                        r.error.to_string(),
                        item.source,
                        item.format,
                        Some(generation),
                        Scope::Report,
                    )
                })
                .collect();
            Some((reports, requarantine))
        }
    }
}
