//! `ivr-reports audit`: the API's voice logs against the sink, per bulk: which final calls
//! have no stored report.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use clap::{Args, ValueEnum};
use ivr_reports::Format;
use ivr_reports_collector::model::{LogsQuery, Timestamp};
use ivr_reports_collector::{JsonlSink, Origin, SinkSpec, StoredReport, read_logs};
use serde_json::json;

use crate::collect::collector_failure;
use crate::config::ApiArgs;
use crate::reconcile::LogsArgs;
use crate::{EXIT_RESPONSE_LOST, Failure};

pub(crate) const EXAMPLES: &str = "\
Examples:
  INFOBIP_API_KEY=... ivr-reports audit --since 2026-12-01T00:00:00.000+00:00 --until 2026-12-02T00:00:00.000+00:00
  INFOBIP_API_KEY=... ivr-reports audit --since ... --until ... --bulk-id campaign-7 --output csv --sink postgres://...";

#[derive(Debug, Args)]
pub(crate) struct AuditArgs {
    /// Messages sent from this time (inclusive), e.g. 2026-12-01T10:00:00.000+01:00.
    #[arg(long, value_name = "TIME")]
    since: String,
    /// Messages sent before this time (exclusive).
    #[arg(long, value_name = "TIME")]
    until: String,
    /// Only this bulk (repeatable).
    #[arg(long, value_name = "ID")]
    bulk_id: Vec<String>,
    #[command(flatten)]
    sink: crate::config::SinkArgs,
    /// How to print.
    #[arg(long, short, value_enum, default_value = "table")]
    output: AuditOutput,
    #[command(flatten)]
    logs: LogsArgs,
}

/// How the audit is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuditOutput {
    /// Aligned columns, then the missing messageIds.
    Table,
    /// One JSON document.
    Json,
    /// Comma-separated values: one line per bulk.
    Csv,
}

#[derive(Debug, Default)]
struct Bulk {
    sent: u64,
    final_: u64,
    pulled: u64,
    pushed: u64,
    recovered: u64,
    unknown: u64,
    pending: u64,
    missing: Vec<String>,
}

fn time(what: &str, s: &str) -> Result<std::time::SystemTime, Failure> {
    let t = Timestamp::parse(s).map_err(|e| {
        Failure::usage(format!(
            "--{what} {s:?} is not a time like 2026-12-01T10:00:00.000+01:00: {e}"
        ))
    })?;
    let ms = u64::try_from(t.unix_millis())
        .map_err(|_| Failure::usage(format!("--{what} is before 1970")))?;
    Ok(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

pub(crate) async fn run(api: &ApiArgs, args: AuditArgs) -> Result<(), Failure> {
    let since = time("since", &args.since)?;
    let until = time("until", &args.until)?;
    if until <= since {
        return Err(Failure::usage("--until must be after --since"));
    }
    let spec: SinkSpec = args.sink.spec()?;
    let client = api.client(Format::Json)?;
    let mut filter = LogsQuery::new();
    for b in &args.bulk_id {
        filter = filter.bulk_id(b.clone());
    }
    let entries = read_logs(&client, since, until, &filter, &args.logs.config())
        .await
        .map_err(collector_failure)?;
    let stored: Vec<StoredReport> = match &spec {
        SinkSpec::Jsonl(path) => JsonlSink::read_stored(path)
            .await
            .map_err(collector_failure)?,
        other => other
            .open()
            .await
            .map_err(collector_failure)?
            .stored()
            .await
            .map_err(collector_failure)?,
    };
    let origins: HashMap<&str, Origin> = stored
        .iter()
        .map(|s| (s.report.message_id(), s.origin))
        .collect();
    let mut bulks: BTreeMap<String, Bulk> = BTreeMap::new();
    for e in &entries {
        let bulk = bulks
            .entry(e.bulk_id.clone().unwrap_or_default())
            .or_default();
        bulk.sent += 1;
        if !e.is_final() {
            bulk.pending += 1;
            continue;
        }
        bulk.final_ += 1;
        match origins.get(e.message_id.as_str()) {
            Some(Origin::Pulled) => bulk.pulled += 1,
            Some(Origin::Pushed) => bulk.pushed += 1,
            Some(Origin::Recovered) => bulk.recovered += 1,
            Some(_) => bulk.unknown += 1,
            None => bulk.missing.push(e.message_id.clone()),
        }
    }
    for b in bulks.values_mut() {
        b.missing.sort();
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    write(&mut out, &bulks, args.output)?;
    out.flush()?;
    let missing: usize = bulks.values().map(|b| b.missing.len()).sum();
    if missing > 0 {
        return Err(Failure {
            code: EXIT_RESPONSE_LOST,
            message: format!("{missing} final calls have no stored report"),
        });
    }
    Ok(())
}

const COLUMNS: [&str; 10] = [
    "bulkId",
    "sent",
    "final",
    "stored",
    "pulled",
    "pushed",
    "recovered",
    "pending",
    "missing",
    "missingMessageIds",
];

fn write(out: &mut impl Write, bulks: &BTreeMap<String, Bulk>, how: AuditOutput) -> io::Result<()> {
    let stored = |b: &Bulk| b.pulled + b.pushed + b.recovered + b.unknown;
    match how {
        AuditOutput::Json => {
            let doc: Vec<_> = bulks
                .iter()
                .map(|(id, b)| {
                    json!({
                        "bulkId": id, "sent": b.sent, "final": b.final_, "stored": stored(b),
                        "pulled": b.pulled, "pushed": b.pushed, "recovered": b.recovered,
                        "unknownOrigin": b.unknown, "pending": b.pending,
                        "missing": b.missing.len(), "missingMessageIds": b.missing,
                    })
                })
                .collect();
            writeln!(out, "{}", json!({ "bulks": doc }))
        }
        AuditOutput::Csv => {
            let mut csv = crate::output::CsvOut::new(out);
            csv.record(&COLUMNS)?;
            for (id, b) in bulks {
                let numbers = [
                    b.sent,
                    b.final_,
                    stored(b),
                    b.pulled,
                    b.pushed,
                    b.recovered,
                    b.pending,
                    b.missing.len() as u64,
                ]
                .map(|n| n.to_string());
                let missing = b.missing.join(" ");
                let mut cells = vec![id.as_str()];
                cells.extend(numbers.iter().map(String::as_str));
                cells.push(&missing);
                csv.record(&cells)?;
            }
            csv.finish()
        }
        AuditOutput::Table => {
            writeln!(
                out,
                "{:<36} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8}",
                "bulk id",
                "sent",
                "final",
                "stored",
                "pulled",
                "pushed",
                "recovered",
                "pending",
                "missing"
            )?;
            for (id, b) in bulks {
                writeln!(
                    out,
                    "{:<36} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8}",
                    if id.is_empty() { "(none)" } else { id },
                    b.sent,
                    b.final_,
                    stored(b),
                    b.pulled,
                    b.pushed,
                    b.recovered,
                    b.pending,
                    b.missing.len()
                )?;
            }
            for (id, b) in bulks {
                for m in &b.missing {
                    writeln!(out, "missing: {m} (bulk {id})")?;
                }
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_goes_through_the_csv_writer_and_defuses_formulas() {
        let mut bulks = BTreeMap::new();
        let bulk = Bulk {
            missing: vec!["m1".into(), "m,2".into()],
            ..Bulk::default()
        };
        bulks.insert("=HYPERLINK(1)".to_string(), bulk);
        let mut out = Vec::new();
        write(&mut out, &bulks, AuditOutput::Csv).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(COLUMNS.join(",").as_str()));
        assert_eq!(
            lines.next(),
            Some("'=HYPERLINK(1),0,0,0,0,0,0,0,2,\"m1 m,2\"")
        );
    }
}
