//! The [`Sink`] conformance suite, shipped for implementors (feature `test-util`).
//!
//! [`check_sink`] runs every rule of the [`Sink`] contract against a sink factory and
//! returns the rules that failed, by name ([`Rule`]), each with what was seen. It never
//! panics on a failed rule, so a test can print the whole list; a panic inside the sink
//! under test propagates as it is.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use ivr_reports_collector::{JsonlSink, Sink};
//! use ivr_reports_collector::testing::check_sink;
//!
//! let dir = std::env::temp_dir().join(format!("check-sink-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("reports.jsonl");
//! let outcome = check_sink(|| {
//!     let path = path.clone();
//!     async move { Ok(Arc::new(JsonlSink::open(&path).await?) as Arc<dyn Sink>) }
//! })
//! .await;
//! std::fs::remove_dir_all(&dir)?;
//! outcome?; // `Failures` lists every failed rule by name
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use ivr_reports::Format;
use ivr_reports_model::{CallReport, Decimal, Price, Status, Timestamp, VoiceCall, VoiceReport};

use crate::error::Error;
use crate::error::ErrorKind;
use crate::quarantine::{Quarantined, Scope, Source};
use crate::sink::{Origin, Sink, Stored};
use ivr_reports_model::{AnyReport, Generation};

/// One rule of the [`Sink`] contract, as [`check_sink`] checks it (each is written in the
/// [`Sink`] docs under the same name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// The factory opens the sink (first open and reopen).
    Opens,
    /// `read-back`: reports stored are read back by [`Sink::reports`] exactly (both
    /// generations, every field); an empty batch stores nothing.
    ReadBack,
    /// `duplicates`: a report stored again with the same content (in a later batch or twice
    /// in one batch) is counted a duplicate and not stored twice.
    Duplicates,
    /// `first-write-wins`: a report whose `messageId` is stored with different content is
    /// not stored and is reported in [`Stored::conflicts`] with both versions (within one
    /// batch too); the stored version stays.
    FirstWriteWins,
    /// `concurrent-writers`: concurrent tasks storing overlapping batches store each
    /// `messageId` once, and their `new` counts add up to the distinct ids.
    ConcurrentWriters,
    /// `quarantine-kept`: quarantined items read back with their exact bytes, reason,
    /// source, format, generation and scope, each with an id of its own.
    QuarantineKept,
    /// `release`: [`Sink::release`] removes the entries it names, ignoring unknown ids.
    Release,
    /// `reopen`: after the sink is dropped and opened again, its reports and quarantine are
    /// still there, duplicates and conflicts are still told apart, and new quarantine ids
    /// stay unique.
    Reopen,
    /// `describe`: [`Sink::describe`] is not empty.
    Describe,
    /// `recovered-replaced`: a report stored as recovered from logs
    /// ([`Origin::Recovered`]) is replaced by a pulled or pushed one for the same
    /// `messageId` (counted in [`Stored::replaced`], read back once with the later origin),
    /// and a recovered report never replaces nor conflicts with a stored one; across a
    /// reopen too. Checked only when [`Sink::store_from`] accepts [`Origin::Recovered`]
    /// (the default refuses it as unsupported, and the rule is then skipped).
    RecoveredReplaced,
}

impl Rule {
    /// The rule's name, as the [`Sink`] docs write it (`first-write-wins`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Opens => "opens",
            Self::ReadBack => "read-back",
            Self::Duplicates => "duplicates",
            Self::FirstWriteWins => "first-write-wins",
            Self::ConcurrentWriters => "concurrent-writers",
            Self::QuarantineKept => "quarantine-kept",
            Self::Release => "release",
            Self::Reopen => "reopen",
            Self::Describe => "describe",
            Self::RecoveredReplaced => "recovered-replaced",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A rule that failed, with what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// The rule.
    pub rule: Rule,
    /// What went wrong (the first check of the rule that failed).
    pub message: String,
}

/// The rules a sink broke, in the order checked: the error of [`check_sink`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failures(Vec<Failure>);

impl Failures {
    /// Every failed rule, in the order checked (never empty).
    #[must_use]
    pub fn failures(&self) -> &[Failure] {
        &self.0
    }

    /// The failed rules.
    #[must_use]
    pub fn rules(&self) -> Vec<Rule> {
        self.0.iter().map(|f| f.rule).collect()
    }
}

impl fmt::Display for Failures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the sink breaks {} rule(s) of the Sink contract",
            self.0.len()
        )?;
        for failure in &self.0 {
            write!(f, "\n  {}: {}", failure.rule, failure.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Failures {}

/// Runs every [`Rule`] against the sink `open` opens, and returns those it breaks.
///
/// `open` is called twice (the second time after every handle of the first was dropped, for
/// [`Rule::Reopen`]) and must open the *same* storage each time. The storage may hold
/// other data: the suite writes and checks only `messageId`s starting with `conformance-`
/// and quarantine reasons starting with `conformance`, except that all quarantine ids must
/// be unique. Run it in a fresh storage to be safe: it leaves about 800 reports behind.
///
/// Needs a tokio runtime (the concurrent writers are `tokio::spawn`ed); a multi-threaded one
/// checks concurrency for real.
///
/// # Errors
/// [`Failures`], listing every rule broken, by name, with what was seen.
pub async fn check_sink<F, Fut>(open: F) -> Result<(), Failures>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<Arc<dyn Sink>, Error>>,
{
    let mut failures = Vec::new();
    let mut record = |rule: Rule, outcome: Result<(), String>| {
        if let Err(message) = outcome {
            failures.push(Failure { rule, message });
        }
    };
    let sink = match open().await {
        Ok(sink) => sink,
        Err(e) => {
            record(Rule::Opens, Err(format!("the first open failed: {e}")));
            return Err(Failures(failures));
        }
    };
    record(Rule::ReadBack, read_back(&sink).await);
    record(Rule::Duplicates, duplicates(&sink).await);
    record(Rule::FirstWriteWins, first_write_wins(&sink).await);
    record(Rule::ConcurrentWriters, concurrent_writers(&sink).await);
    record(Rule::QuarantineKept, quarantine_kept(&sink).await);
    record(Rule::Release, release(&sink).await);
    record(
        Rule::Describe,
        if sink.describe().is_empty() {
            Err("describe() is empty".into())
        } else {
            Ok(())
        },
    );
    let recovered = recovered_replaced(&sink).await;
    let keeps_origins = matches!(recovered, Ok(true));
    record(Rule::RecoveredReplaced, recovered.map(|_| ()));
    match reopen_before(&sink).await {
        Err(message) => record(Rule::Reopen, Err(message)),
        Ok(before) => {
            drop(sink);
            match open().await {
                Err(e) => record(Rule::Opens, Err(format!("the second open failed: {e}"))),
                Ok(sink) => {
                    record(Rule::Reopen, reopen_after(&sink, before).await);
                    if keeps_origins {
                        record(Rule::RecoveredReplaced, recovered_after_reopen(&sink).await);
                    }
                }
            }
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failures(failures))
    }
}

/// Returns `Err(message)` from the rule when `cond` is false.
macro_rules! ensure {
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err(format!($($message)+));
        }
    };
}

/// The prefix of every `messageId` the suite writes.
const PREFIX: &str = "conformance-";
/// The prefix of every quarantine reason the suite writes.
const REASON: &str = "conformance";

/// Names a sink error for a failure message.
fn call<T>(what: &str, result: Result<T, Error>) -> Result<T, String> {
    result.map_err(|e| format!("{what} failed: {e}"))
}

/// A v1 report with every column-like field set.
fn v1(id: &str) -> AnyReport {
    let mut r = VoiceReport::new(id, "41790000001");
    r.bulk_id = Some("bulk-1".into());
    r.duration = Some(12);
    r.price = Some(Price::new(Decimal::new(125, 4), "EUR"));
    r.status = Status::known(5);
    r.sent_at = Timestamp::parse("2015-02-12T09:58:20.323+0100").ok();
    r.done_at = Timestamp::parse("2015-02-12T09:59:20.323+0100").ok();
    AnyReport::from(r)
}

/// A v2 report with a voice call.
fn v2(id: &str) -> AnyReport {
    let mut r = CallReport::new(id, "41790000002");
    r.from = Some("38599".into());
    r.bulk_id = Some("bulk-2".into());
    r.price = Some(Price::new(Decimal::new(1, 2), "USD"));
    r.status = Status::known(5);
    let mut call = VoiceCall::new();
    call.duration = Some(7);
    call.dtmf_codes = Some("3, 9".into());
    r.voice_call = Some(call);
    AnyReport::from(r)
}

/// Reports `conformance-{rule}-{i}` for `i` in `range`, alternating generations.
fn batch(rule: &str, range: std::ops::Range<usize>) -> Vec<AnyReport> {
    range
        .map(|i| {
            let id = format!("{PREFIX}{rule}-{i}");
            if i % 2 == 0 { v1(&id) } else { v2(&id) }
        })
        .collect()
}

/// The same report with other content.
fn changed(report: &AnyReport) -> AnyReport {
    let mut other = report.clone();
    match &mut other {
        AnyReport::V1(r) => r.duration = Some(999),
        AnyReport::V2(r) => r.to = "41790000099".into(),
    }
    other
}

/// The stored reports of one rule.
async fn stored_of(sink: &Arc<dyn Sink>, rule: &str) -> Result<Vec<AnyReport>, String> {
    let prefix = format!("{PREFIX}{rule}-");
    let all = call("reports()", sink.reports().await)?;
    Ok(all
        .into_iter()
        .filter(|r| r.message_id().starts_with(&prefix))
        .collect())
}

fn expect_stored(what: &str, got: &Stored, new: u64, duplicates: u64) -> Result<(), String> {
    ensure!(
        got.new == new && got.duplicates == duplicates && got.conflicts.is_empty(),
        "{what}: expected {new} new, {duplicates} duplicates, no conflict; got {} new, {} \
         duplicates, {} conflicts",
        got.new,
        got.duplicates,
        got.conflicts.len()
    );
    Ok(())
}

async fn read_back(sink: &Arc<dyn Sink>) -> Result<(), String> {
    let reports = batch("read", 0..100);
    let got = call("store", sink.store(&reports).await)?;
    expect_stored("storing 100 new reports", &got, 100, 0)?;
    let got = call("store of an empty batch", sink.store(&[]).await)?;
    expect_stored("storing an empty batch", &got, 0, 0)?;
    let back = stored_of(sink, "read").await?;
    ensure!(
        back.len() == 100,
        "100 reports stored, {} read back",
        back.len()
    );
    for r in &reports {
        ensure!(
            back.contains(r),
            "{} ({}) did not read back unchanged",
            r.message_id(),
            r.generation()
        );
    }
    Ok(())
}

async fn duplicates(sink: &Arc<dyn Sink>) -> Result<(), String> {
    let first = batch("dup", 0..100);
    let got = call("store", sink.store(&first).await)?;
    expect_stored("storing 100 new reports", &got, 100, 0)?;
    let mut second = batch("dup", 50..150);
    second.push(second[60].clone());
    second.push(second[0].clone());
    let got = call("store", sink.store(&second).await)?;
    expect_stored(
        "storing 50 stored + 50 new + 2 repeated within the batch",
        &got,
        50,
        52,
    )?;
    let back = stored_of(sink, "dup").await?;
    ensure!(
        back.len() == 150,
        "150 distinct reports stored, {} read back",
        back.len()
    );
    Ok(())
}

async fn first_write_wins(sink: &Arc<dyn Sink>) -> Result<(), String> {
    let first = batch("fww", 0..2);
    call("store", sink.store(&first).await)?;
    let other = changed(&first[0]);
    let twin = batch("fww", 2..3).remove(0);
    let twin_other = changed(&twin);
    let incoming = vec![
        first[1].clone(),
        other.clone(),
        twin.clone(),
        twin_other.clone(),
    ];
    let got = call("store", sink.store(&incoming).await)?;
    ensure!(
        (got.new, got.duplicates) == (1, 1),
        "a batch of 1 duplicate, 1 conflict with a stored report, 1 new and its changed twin: \
         expected 1 new, 1 duplicate; got {} new, {} duplicates",
        got.new,
        got.duplicates
    );
    ensure!(
        got.conflicts.len() == 2,
        "expected 2 conflicts (one with a stored report, one within the batch), got {}",
        got.conflicts.len()
    );
    ensure!(
        got.conflicts[0].stored == first[0] && got.conflicts[0].incoming == other,
        "the conflict with a stored report does not carry both versions"
    );
    ensure!(
        got.conflicts[1].stored == twin && got.conflicts[1].incoming == twin_other,
        "the conflict within the batch does not carry both versions"
    );
    let back = stored_of(sink, "fww").await?;
    ensure!(
        back.len() == 3,
        "3 reports stored, {} read back",
        back.len()
    );
    ensure!(
        back.contains(&first[0]) && !back.contains(&other),
        "the first version of a conflicting report was not kept"
    );
    ensure!(
        back.contains(&twin) && !back.contains(&twin_other),
        "the first version of a conflicting twin within a batch was not kept"
    );
    Ok(())
}

/// One task per writer, each storing its batches in order, all at once: what they counted,
/// summed.
async fn store_concurrently(
    sink: &Arc<dyn Sink>,
    writers: Vec<Vec<Vec<AnyReport>>>,
) -> Result<Stored, String> {
    let mut tasks = tokio::task::JoinSet::new();
    for batches in writers {
        let sink = Arc::clone(sink);
        tasks.spawn(async move {
            let mut total = Stored::default();
            for batch in &batches {
                total.add(sink.store(batch).await?);
            }
            Ok::<Stored, Error>(total)
        });
    }
    let mut total = Stored::default();
    while let Some(joined) = tasks.join_next().await {
        let stored = joined.map_err(|e| format!("a writer task failed: {e}"))?;
        total.add(call("store", stored)?);
    }
    Ok(total)
}

async fn concurrent_writers(sink: &Arc<dyn Sink>) -> Result<(), String> {
    let writers = (0..8)
        .map(|t| {
            batch("conc", t * 50..t * 50 + 200)
                .chunks(25)
                .map(<[AnyReport]>::to_vec)
                .collect()
        })
        .collect();
    let total = store_concurrently(sink, writers).await?;
    ensure!(
        total.new == 550,
        "8 writers over 550 distinct ids counted {} new",
        total.new
    );
    ensure!(
        total.duplicates == 8 * 200 - 550 && total.conflicts.is_empty(),
        "8 writers storing 1600 reports of 550 ids, the same content each time, counted {} \
         duplicates and {} conflicts (want 1050 and 0)",
        total.duplicates,
        total.conflicts.len()
    );
    let back = stored_of(sink, "conc").await?;
    let ids: BTreeSet<&str> = back.iter().map(AnyReport::message_id).collect();
    ensure!(
        back.len() == 550 && ids.len() == 550,
        "550 distinct ids written concurrently: {} reports, {} distinct ids read back",
        back.len(),
        ids.len()
    );
    concurrent_conflicts(sink).await
}

/// Two writers store two versions of the same 100 ids at once, in single-report batches:
/// whichever lands first is kept, so every id is stored once and is one conflict, whose
/// stored version is the one read back.
async fn concurrent_conflicts(sink: &Arc<dyn Sink>) -> Result<(), String> {
    let first = batch("concx", 0..100);
    let second: Vec<AnyReport> = first.iter().map(changed).collect();
    let writers = [first, second]
        .into_iter()
        .map(|version| version.into_iter().map(|r| vec![r]).collect())
        .collect();
    let total = store_concurrently(sink, writers).await?;
    ensure!(
        total.new == 100 && total.duplicates == 0 && total.conflicts.len() == 100,
        "two writers storing two versions of 100 ids at once counted {} new, {} duplicates, \
         {} conflicts (want 100, 0, 100)",
        total.new,
        total.duplicates,
        total.conflicts.len()
    );
    let back = stored_of(sink, "concx").await?;
    ensure!(
        back.len() == 100,
        "100 ids written concurrently in two versions: {} reports read back",
        back.len()
    );
    for conflict in &total.conflicts {
        let id = conflict.incoming.message_id();
        let kept = back.iter().find(|r| r.message_id() == id);
        ensure!(
            kept == Some(&conflict.stored) && conflict.stored != conflict.incoming,
            "the conflict on {id} names a stored version other than the one read back"
        );
    }
    Ok(())
}

/// Two items to quarantine: one report (JSON, v1) and one broken body (XML, no generation).
fn items(rule: &str) -> [Quarantined; 2] {
    [
        Quarantined::new(
            &b"{\"to\":\"1\"}"[..],
            format!("{REASON} {rule}: results[0].messageId: missing field"),
            Source::Pull,
            Format::Json,
            Some(Generation::V1),
            Scope::Report,
        ),
        Quarantined::new(
            &[0xff, 0xfe, b'<', 0][..],
            format!("{REASON} {rule}: not a page"),
            Source::Push,
            Format::Xml,
            None,
            Scope::Body,
        ),
    ]
}

/// The quarantine entries of one rule, oldest first.
async fn quarantined_of(
    sink: &Arc<dyn Sink>,
    rule: &str,
) -> Result<Vec<crate::QuarantineEntry>, String> {
    let prefix = format!("{REASON} {rule}:");
    let all = call("quarantined()", sink.quarantined().await)?;
    Ok(all
        .into_iter()
        .filter(|e| e.item.reason.starts_with(&prefix))
        .collect())
}

fn same_item(got: &Quarantined, want: &Quarantined) -> bool {
    got.raw == want.raw
        && got.reason == want.reason
        && got.source == want.source
        && got.format == want.format
        && got.generation == want.generation
        && got.scope == want.scope
}

async fn quarantine_kept(sink: &Arc<dyn Sink>) -> Result<(), String> {
    let items = items("kept");
    call("quarantine", sink.quarantine(&items).await)?;
    call("quarantine", sink.quarantine(&items[..1]).await)?;
    let entries = quarantined_of(sink, "kept").await?;
    ensure!(
        entries.len() == 3,
        "3 items quarantined, {} read back",
        entries.len()
    );
    for (entry, want) in entries.iter().zip([&items[0], &items[1], &items[0]]) {
        ensure!(
            same_item(&entry.item, want),
            "entry {} did not read back unchanged (oldest first)",
            entry.id
        );
    }
    let ids: BTreeSet<u64> = entries.iter().map(|e| e.id).collect();
    ensure!(ids.len() == 3, "quarantine entry ids are not unique");
    Ok(())
}

async fn release(sink: &Arc<dyn Sink>) -> Result<(), String> {
    let items = items("release");
    call("quarantine", sink.quarantine(&items).await)?;
    let entries = quarantined_of(sink, "release").await?;
    ensure!(
        entries.len() == 2,
        "2 items quarantined, {} read back",
        entries.len()
    );
    let unknown = entries.iter().map(|e| e.id).max().unwrap_or(0) + 1_000_000;
    call("release", sink.release(&[entries[0].id, unknown]).await)?;
    let left = quarantined_of(sink, "release").await?;
    ensure!(
        left.len() == 1 && left[0].id == entries[1].id,
        "after releasing one of 2 entries (and an unknown id), {} are left",
        left.len()
    );
    Ok(())
}

/// What logs give of `full`: a v1 report with the fields logs carry (no duration here, to
/// differ from the full report).
fn recovered_of(full: &AnyReport) -> AnyReport {
    let mut r = VoiceReport::new(full.message_id(), full.to());
    r.bulk_id = full.bulk_id().map(str::to_string);
    r.status = full.status().cloned();
    AnyReport::from(r)
}

/// The stored reports of the rule `recovered`, with their origins.
async fn origins_of(
    sink: &Arc<dyn Sink>,
    prefix: &str,
) -> Result<Vec<crate::sink::StoredReport>, String> {
    let all = call("stored()", sink.stored().await)?;
    Ok(all
        .into_iter()
        .filter(|s| s.report.message_id().starts_with(prefix))
        .collect())
}

fn expect_outcome(
    what: &str,
    got: &Stored,
    new: u64,
    duplicates: u64,
    replaced: u64,
) -> Result<(), String> {
    ensure!(
        got.new == new
            && got.duplicates == duplicates
            && got.replaced == replaced
            && got.conflicts.is_empty(),
        "{what}: expected {new} new, {duplicates} duplicates, {replaced} replaced, no \
         conflict; got {} new, {} duplicates, {} replaced, {} conflicts",
        got.new,
        got.duplicates,
        got.replaced,
        got.conflicts.len()
    );
    Ok(())
}

/// `Ok(false)` when the sink does not keep recovered reports (the rule is skipped).
async fn recovered_replaced(sink: &Arc<dyn Sink>) -> Result<bool, String> {
    let prefix = format!("{PREFIX}recovered-");
    let full = batch("recovered", 0..3);
    let rec: Vec<AnyReport> = full.iter().map(recovered_of).collect();
    let got = match sink
        .store_from(
            Origin::Recovered,
            &[rec[0].clone(), rec[1].clone(), rec[0].clone()],
        )
        .await
    {
        Err(e) if e.kind() == ErrorKind::Unsupported => return Ok(false),
        other => call("store_from(recovered)", other)?,
    };
    expect_outcome("storing 2 recovered reports, one twice", &got, 2, 1, 0)?;
    let mut other = rec[0].clone();
    if let AnyReport::V1(r) = &mut other {
        r.duration = Some(3);
    }
    let got = call(
        "store_from(recovered)",
        sink.store_from(Origin::Recovered, std::slice::from_ref(&other))
            .await,
    )?;
    expect_outcome("a recovered report again, other content", &got, 0, 1, 0)?;
    let got = call(
        "store_from(pulled)",
        sink.store_from(Origin::Pulled, &[full[0].clone(), full[0].clone()])
            .await,
    )?;
    expect_outcome(
        "pulling a recovered report (twice in the batch)",
        &got,
        0,
        1,
        1,
    )?;
    let got = call(
        "store_from(pushed)",
        sink.store_from(Origin::Pushed, std::slice::from_ref(&full[0]))
            .await,
    )?;
    expect_outcome("pushing the report pulled after recovery", &got, 0, 1, 0)?;
    let got = call(
        "store_from(pulled)",
        sink.store_from(Origin::Pulled, std::slice::from_ref(&full[2]))
            .await,
    )?;
    expect_outcome("pulling a new report", &got, 1, 0, 0)?;
    let got = call(
        "store_from(recovered)",
        sink.store_from(Origin::Recovered, &[rec[0].clone(), rec[2].clone()])
            .await,
    )?;
    expect_outcome("recovering reports pulled already", &got, 0, 2, 0)?;
    let back = origins_of(sink, &prefix).await?;
    ensure!(
        back.len() == 3,
        "3 messages stored (one recovered then pulled), {} read back",
        back.len()
    );
    for (i, origin) in [
        (0, Origin::Pulled),
        (1, Origin::Recovered),
        (2, Origin::Pulled),
    ] {
        let expected = if origin == Origin::Recovered {
            &rec[i]
        } else {
            &full[i]
        };
        ensure!(
            back.iter()
                .any(|s| &s.report == expected && s.origin == origin),
            "{} should read back {origin}, with its content",
            expected.message_id()
        );
    }
    Ok(true)
}

async fn recovered_after_reopen(sink: &Arc<dyn Sink>) -> Result<(), String> {
    let prefix = format!("{PREFIX}recovered-");
    let full = batch("recovered", 0..3);
    let back = origins_of(sink, &prefix).await?;
    ensure!(
        back.len() == 3
            && back
                .iter()
                .any(|s| s.report.message_id() == full[1].message_id()
                    && s.origin == Origin::Recovered),
        "after the reopen, 3 messages with one recovered expected; got {} ({:?})",
        back.len(),
        back.iter().map(|s| s.origin).collect::<Vec<_>>()
    );
    let got = call(
        "store_from(pushed)",
        sink.store_from(Origin::Pushed, &full).await,
    )?;
    expect_outcome(
        "pushing 3 reports (one recovered, two pulled) after the reopen",
        &got,
        0,
        2,
        1,
    )?;
    let back = origins_of(sink, &prefix).await?;
    ensure!(
        back.len() == 3
            && back
                .iter()
                .any(|s| s.report == full[1] && s.origin == Origin::Pushed),
        "after pushing the recovered report, it should read back once, pushed"
    );
    Ok(())
}

/// What the reopen rule wrote before the reopen.
struct BeforeReopen {
    reports: Vec<AnyReport>,
    entries: usize,
}

async fn reopen_before(sink: &Arc<dyn Sink>) -> Result<BeforeReopen, String> {
    let reports = batch("reopen", 0..20);
    call("store", sink.store(&reports).await)?;
    call("quarantine", sink.quarantine(&items("reopen")).await)?;
    let entries = quarantined_of(sink, "reopen").await?.len();
    Ok(BeforeReopen { reports, entries })
}

async fn reopen_after(sink: &Arc<dyn Sink>, before: BeforeReopen) -> Result<(), String> {
    let back = stored_of(sink, "reopen").await?;
    ensure!(
        back.len() == before.reports.len(),
        "{} reports stored before the reopen, {} read back after",
        before.reports.len(),
        back.len()
    );
    for r in &before.reports {
        ensure!(
            back.contains(r),
            "{} did not read back unchanged after the reopen",
            r.message_id()
        );
    }
    let got = call("store", sink.store(&before.reports).await)?;
    expect_stored("storing the same reports after the reopen", &got, 0, 20)?;
    let other = changed(&before.reports[0]);
    let got = call("store", sink.store(std::slice::from_ref(&other)).await)?;
    ensure!(
        got.new == 0 && got.conflicts.len() == 1 && got.conflicts[0].stored == before.reports[0],
        "changed content under a stored id after the reopen: expected one conflict with the \
         stored version, got {} new, {} duplicates, {} conflicts",
        got.new,
        got.duplicates,
        got.conflicts.len()
    );
    let entries = quarantined_of(sink, "reopen").await?;
    ensure!(
        entries.len() == before.entries,
        "{} quarantine entries before the reopen, {} after",
        before.entries,
        entries.len()
    );
    call("quarantine", sink.quarantine(&items("reopen")[..1]).await)?;
    let all = call("quarantined()", sink.quarantined().await)?;
    let ids: BTreeSet<u64> = all.iter().map(|e| e.id).collect();
    ensure!(
        ids.len() == all.len(),
        "quarantine ids are not unique after the reopen ({} entries, {} ids)",
        all.len(),
        ids.len()
    );
    Ok(())
}
