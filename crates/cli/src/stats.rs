//! Campaign statistics: per bulk and overall, how calls ended, how long they lasted, what
//! they cost (exact decimals) and which keys callees pressed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use ivr_reports::{AnsweredBy, Decimal, StatusGroup};
use ivr_reports_collector::{AnyReport, PgSink, SinkSpec, read_journal_line};
use serde_json::json;

use crate::Failure;
use crate::collect::collector_failure;
use crate::output::{CsvOut, Output, write_table};

pub(crate) const EXAMPLES: &str = "\
Examples:
  ivr-reports stats                                   # ./ivr-reports.jsonl
  ivr-reports stats /var/lib/ivr/reports.jsonl --output csv
  ivr-reports stats postgres://ivr:...@db/ivr_reports --bulk-id campaign-7 --output json";

#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// The reports: a journal (any PATH, or jsonl:PATH; recognised by its content) or a
    /// postgres:// URL. Given, it wins over --sink and IVR_REPORTS_SINK.
    #[arg(value_name = "SOURCE")]
    source: Option<String>,
    #[command(flatten)]
    sink: crate::config::SinkArgs,
    /// Only this bulk.
    #[arg(long, value_name = "ID")]
    bulk_id: Option<String>,
    /// How to print (jsonl prints the JSON document; html a self-contained page with charts).
    #[arg(long, short, value_enum, default_value = "table")]
    output: StatsOutput,
}

/// How statistics are printed: the report outputs, and an HTML page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum StatsOutput {
    /// Aligned columns with bars.
    Table,
    /// One JSON document.
    Json,
    /// The same JSON document.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
    /// One self-contained HTML page with charts (no network, no scripts).
    Html,
}

pub(crate) async fn run(args: StatsArgs) -> Result<(), Failure> {
    let source = args.source.as_deref().unwrap_or(&args.sink.sink);
    let spec = if source.starts_with("postgres://") || source.starts_with("postgresql://") {
        let spec: SinkSpec = crate::config::parse_sink(source)?;
        if !matches!(spec, SinkSpec::Postgres(_)) {
            return Err(Failure::usage(format!("not a PostgreSQL URL: {spec}")));
        }
        spec
    } else {
        SinkSpec::Jsonl(PathBuf::from(
            source.strip_prefix("jsonl:").unwrap_or(source),
        ))
    };
    let stats = of_sink(&spec, args.bulk_id).await?;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    stats.write_as(&mut out, args.output)?;
    out.flush()?;
    Ok(())
}

/// The statistics of the reports stored at `spec` (of one bulk, or of all), streamed:
/// memory does not grow with the number of reports. A journal is read from the file (a torn
/// last line is skipped, and said on stderr); a database a page of rows at a time.
pub(crate) async fn of_sink(spec: &SinkSpec, bulk_id: Option<String>) -> Result<Stats, Failure> {
    let wanted = move |r: &Facts| bulk_id.is_none() || r.bulk_id == bulk_id;
    match spec {
        SinkSpec::Postgres(url) => {
            // The database keeps one row per messageId: nothing to deduplicate here.
            let mut stats = Stats::default();
            let sink = PgSink::connect(url).await.map_err(collector_failure)?;
            sink.for_each_report(10_000, |r| {
                let facts = Facts::of(&r);
                if wanted(&facts) {
                    stats.add(&facts);
                }
            })
            .await
            .map_err(collector_failure)?;
            Ok(stats)
        }
        SinkSpec::Jsonl(path) => {
            let path = path.clone();
            let read = tokio::task::spawn_blocking(move || {
                let mut stats = Stats::default();
                let torn = stream_journal(&path, |facts| {
                    if wanted(&facts) {
                        stats.add(&facts);
                    }
                })?;
                Ok::<_, Failure>((stats, torn, path))
            })
            .await
            .map_err(|e| Failure::failed(format!("reading the journal failed: {e}")))?;
            let (stats, torn, path) = read?;
            if let Some(bytes) = torn {
                eprintln!(
                    "note: skipped a torn last line ({bytes} bytes without a final newline) at the end \
                     of {}: a write that was interrupted; its reports were never acknowledged, so \
                     their source still has them",
                    path.display()
                );
            }
            Ok(stats)
        }
        other => Err(Failure::usage(format!(
            "cannot read statistics from {other}"
        ))),
    }
}

/// A hash of the `messageId` text of a journal line, found without parsing the line.
fn id_hash(line: &[u8]) -> u64 {
    const KEY: &[u8] = b"\"messageId\":\"";
    let id = line
        .windows(KEY.len())
        .position(|w| w == KEY)
        .map(|at| {
            let rest = &line[at + KEY.len()..];
            let mut end = 0;
            while end < rest.len() && rest[end] != b'"' {
                end += if rest[end] == b'\\' { 2 } else { 1 };
            }
            &rest[..end.min(rest.len())]
        })
        .unwrap_or(line);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// Calls `each` once per `messageId` of the journal at `path` (a later line replaces an
/// earlier one: a recovered report then the pulled one), with memory independent of the
/// number of reports: a first pass keeps one 8-byte hash per report to find the few ids
/// seen twice, the second keeps only those in full. Returns the size of a torn last line
/// it skipped (no final newline: an interrupted write, which the sink itself truncates).
/// A complete line that is not a journal line fails: the file is not a journal.
fn stream_journal(path: &Path, mut each: impl FnMut(Facts)) -> Result<Option<usize>, Failure> {
    let name = path.display();
    let open = || {
        File::open(path)
            .map(BufReader::new)
            .map_err(|e| Failure::failed(format!("cannot open the journal {name}: {e}")))
    };
    let read_err = |e: io::Error| Failure::failed(format!("reading {name} failed: {e}"));
    let mut seen: HashSet<u64> = HashSet::new();
    let mut twice: HashSet<u64> = HashSet::new();
    let mut line = Vec::with_capacity(4096);
    let mut torn = None;
    let mut reader = open()?;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(read_err)? == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            torn = Some(line.len());
            break;
        }
        let h = id_hash(&line);
        if !seen.insert(h) {
            twice.insert(h);
        }
    }
    drop(seen);
    let mut repeated: HashMap<String, Facts> = HashMap::new();
    let mut reader = open()?;
    let mut number = 0_u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(read_err)? == 0
            || line.last() != Some(&b'\n')
        {
            break;
        }
        number += 1;
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let stored = read_journal_line(text).map_err(|e| {
            Failure::usage(format!(
                "{name} is not an ivr-reports journal: line {number}: {}",
                crate::one_line(&e)
            ))
        })?;
        let facts = Facts::of(&stored.report);
        if twice.contains(&id_hash(&line)) {
            repeated.insert(stored.report.message_id().to_string(), facts);
        } else {
            each(facts);
        }
    }
    repeated.into_values().for_each(each);
    Ok(torn)
}

/// How a call ended, for the statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Class {
    Human,
    Machine,
    Busy,
    NoAnswer,
    Failed,
}

/// What the statistics need of a report, in either generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Facts {
    pub(crate) bulk_id: Option<String>,
    pub(crate) class: Class,
    pub(crate) duration: u64,
    pub(crate) cost: Option<(Decimal, String)>,
    pub(crate) dtmf: Option<String>,
    /// The hour the call was sent (`2015-02-12T09`, in the report's own offset), for the
    /// charts over time.
    pub(crate) hour: Option<String>,
}

fn class_of(error_id: Option<u32>, status_id: Option<u32>, group: Option<StatusGroup>) -> Class {
    match error_id {
        Some(5000 | 10000 | 10001 | 10003 | 10004) if group == Some(StatusGroup::Delivered) => {
            Class::Human
        }
        Some(5001 | 10002) => Class::Machine,
        Some(5002 | 10201) => Class::Busy,
        Some(5003 | 10200) => Class::NoAnswer,
        _ => match (status_id, group) {
            (Some(97), _) => Class::Busy,
            (Some(96), _) => Class::NoAnswer,
            (_, Some(StatusGroup::Delivered)) => Class::Human,
            _ => Class::Failed,
        },
    }
}

impl Facts {
    /// The facts of a stored report of either generation (the collector's accessors read
    /// v2 values from `voiceCall`).
    pub(crate) fn of(r: &AnyReport) -> Self {
        let class = match r.answered_by() {
            Some(AnsweredBy::Machine) => Class::Machine,
            Some(AnsweredBy::Human) => Class::Human,
            _ => class_of(
                r.error().map(|e| e.id),
                r.status().map(|s| s.id),
                r.status_group(),
            ),
        };
        Self {
            bulk_id: r.bulk_id().map(str::to_string),
            class,
            duration: u64::from(r.duration().unwrap_or(0)),
            cost: r.cost().zip(r.price().map(|p| p.currency.clone())),
            dtmf: answered(class)
                .then(|| r.dtmf_codes().map(str::to_string))
                .flatten(),
            hour: r
                .sent_at()
                .map(|t| t.to_string().chars().take(13).collect()),
        }
    }
}

fn answered(class: Class) -> bool {
    matches!(class, Class::Human | Class::Machine)
}

/// The statistics of one group of calls.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    pub(crate) calls: u64,
    pub(crate) human: u64,
    pub(crate) machine: u64,
    pub(crate) busy: u64,
    pub(crate) no_answer: u64,
    pub(crate) failed: u64,
    pub(crate) total_duration: u64,
    /// Total cost per currency.
    pub(crate) cost: BTreeMap<String, Decimal>,
    /// How many answered calls entered each DTMF code (`""`: none).
    pub(crate) dtmf: BTreeMap<String, u64>,
    /// Calls and cost per currency per hour sent (bounded by the campaign's length, not by
    /// its number of calls).
    pub(crate) hours: BTreeMap<String, (u64, BTreeMap<String, Decimal>)>,
    /// How many calls lasted within each of [`DURATION_BUCKETS`].
    pub(crate) durations: [u64; DURATION_BUCKETS.len()],
}

/// The duration distribution's buckets: upper bounds in seconds (inclusive), and a label.
pub(crate) const DURATION_BUCKETS: [(u64, &str); 7] = [
    (0, "0s"),
    (15, "1-15s"),
    (30, "16-30s"),
    (60, "31-60s"),
    (120, "1-2m"),
    (300, "2-5m"),
    (u64::MAX, "over 5m"),
];

impl Summary {
    fn add(&mut self, f: &Facts) {
        self.calls += 1;
        *match f.class {
            Class::Human => &mut self.human,
            Class::Machine => &mut self.machine,
            Class::Busy => &mut self.busy,
            Class::NoAnswer => &mut self.no_answer,
            Class::Failed => &mut self.failed,
        } += 1;
        self.total_duration += f.duration;
        let bucket = DURATION_BUCKETS
            .iter()
            .position(|(max, _)| f.duration <= *max)
            .unwrap_or(DURATION_BUCKETS.len() - 1);
        self.durations[bucket] += 1;
        let hour = self
            .hours
            .entry(f.hour.clone().unwrap_or_else(|| "unknown".into()))
            .or_default();
        hour.0 += 1;
        if let Some((cost, currency)) = &f.cost {
            let total = self.cost.entry(currency.clone()).or_default();
            *total = total.checked_add(*cost).unwrap_or(*total);
            let total = hour.1.entry(currency.clone()).or_default();
            *total = total.checked_add(*cost).unwrap_or(*total);
        }
        if let Some(dtmf) = &f.dtmf {
            *self.dtmf.entry(dtmf.trim().to_string()).or_default() += 1;
        }
    }

    /// Average duration in seconds, to two decimals.
    pub(crate) fn average_duration(&self) -> Decimal {
        if self.calls == 0 {
            return Decimal::ZERO;
        }
        (Decimal::from(self.total_duration) / Decimal::from(self.calls)).round_dp(2)
    }
}

/// Statistics overall and per bulk (reports without a bulk under `-`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    pub(crate) overall: Summary,
    pub(crate) bulks: BTreeMap<String, Summary>,
}

impl Stats {
    pub(crate) fn add(&mut self, facts: &Facts) {
        self.overall.add(facts);
        let bulk = facts.bulk_id.clone().unwrap_or_else(|| "-".to_string());
        self.bulks.entry(bulk).or_default().add(facts);
    }

    /// In one of the report outputs (as `collect` prints its summary).
    pub(crate) fn write(&self, out: &mut dyn Write, output: Output) -> io::Result<()> {
        let output = match output {
            Output::Table => StatsOutput::Table,
            Output::Json => StatsOutput::Json,
            Output::Jsonl => StatsOutput::Jsonl,
            Output::Csv => StatsOutput::Csv,
        };
        self.write_as(out, output)
    }

    pub(crate) fn write_as(&self, out: &mut dyn Write, output: StatsOutput) -> io::Result<()> {
        match output {
            StatsOutput::Table => self.write_table(out),
            StatsOutput::Csv => self.write_csv(out),
            StatsOutput::Html => crate::html::write_page(self, out),
            StatsOutput::Json | StatsOutput::Jsonl => {
                let mut bulks = serde_json::Map::new();
                for (bulk, s) in &self.bulks {
                    bulks.insert(bulk.clone(), summary_json(s));
                }
                let doc = json!({"overall": summary_json(&self.overall), "bulks": bulks});
                writeln!(out, "{doc}")
            }
        }
    }

    fn write_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let unicode = utf8_locale();
        let mut groups: Vec<(&str, &Summary)> = vec![("overall", &self.overall)];
        if self.bulks.len() > 1 {
            groups.extend(self.bulks.iter().map(|(b, s)| (b.as_str(), s)));
        }
        for (i, (name, s)) in groups.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            let title = if *name == "overall" {
                "All calls".to_string()
            } else {
                format!("Bulk {name}")
            };
            writeln!(out, "{title}: {} calls", s.calls)?;
            let rows = [
                ("answered by human", s.human),
                ("answered by machine", s.machine),
                ("busy", s.busy),
                ("no answer", s.no_answer),
                ("failed", s.failed),
            ];
            let cells: Vec<[String; 3]> = rows
                .iter()
                .map(|(label, n)| [label.to_string(), n.to_string(), bar(*n, s.calls, unicode)])
                .collect();
            write_table(
                out,
                &["outcome", "calls", "share"],
                [false, true, false],
                cells
                    .iter()
                    .map(|c| [c[0].as_str(), c[1].as_str(), c[2].as_str()]),
            )?;
            writeln!(
                out,
                "duration: {} in all, {} on average",
                duration(Decimal::from(s.total_duration)),
                duration(s.average_duration())
            )?;
            let costs: Vec<String> = s.cost.iter().map(|(c, v)| format!("{v} {c}")).collect();
            writeln!(
                out,
                "cost: {}",
                if costs.is_empty() {
                    "-".to_string()
                } else {
                    costs.join(", ")
                }
            )?;
            if !s.dtmf.is_empty() {
                let answered = s.human + s.machine;
                let cells: Vec<[String; 3]> = s
                    .dtmf
                    .iter()
                    .map(|(code, n)| {
                        let code = if code.is_empty() {
                            "(none)".to_string()
                        } else {
                            code.clone()
                        };
                        [code, n.to_string(), bar(*n, answered, unicode)]
                    })
                    .collect();
                write_table(
                    out,
                    &["dtmf", "calls", "share of answered"],
                    [false, true, false],
                    cells
                        .iter()
                        .map(|c| [c[0].as_str(), c[1].as_str(), c[2].as_str()]),
                )?;
            }
        }
        Ok(())
    }

    /// One line per bulk (`*`: all calls), amounts and currencies in their own columns; a
    /// group that paid in several currencies gets one more line per further currency, with
    /// only `bulkId`, `cost` and `currency` filled, so column sums stay right.
    fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut csv = CsvOut::new(out);
        csv.record(&[
            "bulkId",
            "calls",
            "human",
            "machine",
            "busy",
            "noAnswer",
            "failed",
            "totalDuration",
            "averageDuration",
            "cost",
            "currency",
            "dtmf",
        ])?;
        let mut groups: Vec<(&str, &Summary)> = vec![("*", &self.overall)];
        groups.extend(self.bulks.iter().map(|(b, s)| (b.as_str(), s)));
        for (bulk, s) in groups {
            let dtmf: Vec<String> = s.dtmf.iter().map(|(d, n)| format!("{d}={n}")).collect();
            let mut costs = s.cost.iter().map(|(c, v)| (v.to_string(), c.as_str()));
            let (cost, currency) = costs.next().unwrap_or_default();
            csv.record(&[
                bulk,
                &s.calls.to_string(),
                &s.human.to_string(),
                &s.machine.to_string(),
                &s.busy.to_string(),
                &s.no_answer.to_string(),
                &s.failed.to_string(),
                &s.total_duration.to_string(),
                &s.average_duration().to_string(),
                &cost,
                currency,
                &dtmf.join("; "),
            ])?;
            for (cost, currency) in costs {
                csv.record(&[bulk, "", "", "", "", "", "", "", "", &cost, currency, ""])?;
            }
        }
        csv.finish()
    }
}

/// Amounts per currency as JSON strings (exact decimals).
fn cost_json(cost: &BTreeMap<String, Decimal>) -> serde_json::Value {
    cost.iter()
        .map(|(c, v)| (c.clone(), json!(v.to_string())))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The duration buckets as `(label, first second, last second or None)`, in order.
pub(crate) fn duration_buckets() -> impl Iterator<Item = (&'static str, u64, Option<u64>)> {
    let mut from = 0;
    DURATION_BUCKETS.iter().map(move |&(max, label)| {
        let bucket = (label, from, (max != u64::MAX).then_some(max));
        from = max.saturating_add(1);
        bucket
    })
}

fn summary_json(s: &Summary) -> serde_json::Value {
    let cost = cost_json(&s.cost);
    // The series the HTML page charts, with the same numbers.
    let hourly: Vec<serde_json::Value> = s
        .hours
        .iter()
        .map(|(hour, (calls, cost))| json!({"hour": hour, "calls": calls, "cost": cost_json(cost)}))
        .collect();
    let durations: Vec<serde_json::Value> = duration_buckets()
        .zip(s.durations)
        .map(|((label, from, to), calls)| {
            json!({"bucket": label, "fromSeconds": from, "toSeconds": to, "calls": calls})
        })
        .collect();
    json!({
        "calls": s.calls,
        "answeredByHuman": s.human,
        "answeredByMachine": s.machine,
        "busy": s.busy,
        "noAnswer": s.no_answer,
        "failed": s.failed,
        "totalDuration": s.total_duration,
        "averageDuration": s.average_duration().to_string(),
        "cost": cost,
        "dtmf": s.dtmf,
        "hourly": hourly,
        "durations": durations,
    })
}

/// Whether the terminal's locale is UTF-8 (`LC_ALL`, else `LC_CTYPE`, else `LANG`, as
/// POSIX orders them); without one, the C locale: ASCII.
pub(crate) fn utf8_locale() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
        .is_some_and(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        })
}

/// Seconds as a duration people read: `45s`, `12.5s`, `3m 05s`, `2h 03m 05s`.
pub(crate) fn duration(seconds: Decimal) -> String {
    if seconds < Decimal::from(60) {
        return format!("{}s", seconds.round_dp(1).normalize());
    }
    let whole = u64::try_from(seconds.round()).unwrap_or(u64::MAX);
    let (h, m, s) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else {
        format!("{m}m {s:02}s")
    }
}

/// A proportion as a 20-character bar and a percentage, e.g. `██████░░░░  30.0%`
/// (`######....  30.0%` when the terminal is not UTF-8).
fn bar(part: u64, whole: u64, unicode: bool) -> String {
    const WIDTH: u64 = 20;
    let share = |scale: u64| (part * scale + whole / 2).checked_div(whole).unwrap_or(0);
    let (filled, permille) = (share(WIDTH), share(1000));
    let filled = usize::try_from(filled.min(WIDTH)).unwrap_or(0);
    format!(
        "{}{} {:>3}.{}%",
        if unicode { "█" } else { "#" }.repeat(filled),
        if unicode { "░" } else { "." }.repeat(20 - filled),
        permille / 10,
        permille % 10
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ivr_reports::{Price, ReportError, Status, VoiceReport};

    fn v1(bulk: &str, status: u32, error: u32, duration: u32, dtmf: Option<&str>) -> VoiceReport {
        let mut r = VoiceReport::new("m", "385981178");
        r.bulk_id = Some(bulk.into());
        r.status = Status::known(status);
        r.error = ReportError::known(error);
        r.duration = Some(duration);
        r.dtmf_codes = dtmf.map(str::to_string);
        r.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
        r
    }

    #[test]
    fn classes_counts_costs_and_keys() {
        let mut stats = Stats::default();
        for r in [
            v1("a", 5, 5000, 10, Some("1")),
            v1("a", 5, 5000, 20, Some("1")),
            v1("a", 5, 5001, 30, Some("")),
            v1("b", 97, 5002, 0, None),
            v1("b", 15, 5003, 0, None),
            v1("b", 15, 5603, 0, None),
        ] {
            stats.add(&Facts::of(&AnyReport::from(r)));
        }
        let o = &stats.overall;
        assert_eq!(
            (o.calls, o.human, o.machine, o.busy, o.no_answer, o.failed),
            (6, 2, 1, 1, 1, 1)
        );
        assert_eq!(o.total_duration, 60);
        assert_eq!(o.average_duration().to_string(), "10");
        assert_eq!(o.cost["EUR"].to_string(), "0.60");
        assert_eq!(
            o.dtmf,
            BTreeMap::from([("".to_string(), 1), ("1".to_string(), 2)])
        );
        assert_eq!(stats.bulks["b"].calls, 3);
    }

    #[test]
    fn bars_show_proportions() {
        assert_eq!(bar(1, 4, true), "█████░░░░░░░░░░░░░░░  25.0%");
        assert_eq!(bar(0, 0, true), "░░░░░░░░░░░░░░░░░░░░   0.0%");
        assert_eq!(bar(3, 3, true), "████████████████████ 100.0%");
        assert_eq!(bar(1, 4, false), "#####...............  25.0%");
    }

    #[test]
    fn durations_read_as_durations() {
        assert_eq!(duration(Decimal::from(45)), "45s");
        assert_eq!(duration(Decimal::new(125, 1)), "12.5s");
        assert_eq!(duration(Decimal::from(185)), "3m 05s");
        assert_eq!(duration(Decimal::from(7385)), "2h 03m 05s");
    }
}
