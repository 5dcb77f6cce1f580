//! Crash safety: a collector killed with SIGKILL loses nothing it had spooled.
//!
//! The parent test runs the sandbox and re-runs this test binary as the child collector
//! (`crash_child`, selected by an environment variable). The child prints the collector's
//! events (`fetching` before a request, `spooled` once its body is synced); the parent
//! kills it, then lets a last run finish. After every run the parent recovers the journal
//! as a restart would (replaying the spool) and audits it against the sandbox's counters:
//! no report twice; a kill outside the request-to-spool window costs nothing; one inside
//! it at most the page in flight.
//!
//! - 50,000 pending reports, 2% of responses dropped after the reports were taken (the
//!   sandbox counts those as lost in transit), at least 20 kills at random moments 20 to
//!   300 ms after the child is ready (the sandbox answers after 40 ms and the child pauses
//!   80 ms after each commit, so that the kills land before it has drained everything).
//! - 10,000 pending reports, no faults, a kill right after each run's first spooled body:
//!   handed out == stored, nothing lost in transit, and the spool was replayed.
//!
//! Nothing is silent: every report handed out and not stored is covered by a recorded
//! possible-loss incident (at most one page of 1000 per incident), and a kill between a
//! request and the spooling of its body always records one.
//!
//! The random and mixed series run the child with 4 requests in flight (each with its own
//! marker; a kill may cost up to 4 pages, each covered by an incident); the
//! kill-after-spool series with 1, where "after the first body is spooled" means no request
//! is in flight.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ivr_reports::{Auth, Client};
use ivr_reports_collector::{Collector, Event, Incident, IncidentReason, JsonlSink, Sink};
use ivr_reports_sandbox::Faults;

use crate::{KEY, TempDir, sandbox, v2};

const CHILD: &str = "IVR_REPORTS_COLLECTOR_CRASH_CHILD";
const REPORTS: u64 = 50_000;
const KILLS: usize = 20;

/// The child collector: does nothing unless started by the crash test.
#[test]
fn crash_child() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let mut parts = spec.split('\n');
    let (base_url, journal, spool) = (
        parts.next().unwrap().to_string(),
        parts.next().unwrap().to_string(),
        parts.next().unwrap().to_string(),
    );
    let pause = Duration::from_millis(parts.next().unwrap().parse().unwrap());
    let concurrency: usize = parts.next().unwrap().parse().unwrap();
    let say = |what: &str| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "EVENT {what}").unwrap();
        out.flush().unwrap();
    };
    // The pause after a commit blocks the thread that says so: enough threads that the
    // pages paused in it (up to twice the concurrency: in flight, and waiting to be stored)
    // never keep a request whose marker is synced from saying "fetching", or the parent
    // would see an incident for a request it never heard of.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2 + 2 * concurrency)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let sink = open_sink(&journal).await;
        let collector = Collector::builder(sink)
            .spool_path(spool)
            .concurrency(concurrency)
            .on_event(move |event| match event {
                Event::Fetching => say("fetching"),
                Event::Spooled { .. } => say("spooled"),
                Event::Incident {
                    reason: IncidentReason::ResponseLost,
                    ..
                } => say("lost"),
                // Slow the child down after each commit (before the spool is emptied), so
                // that the kills land before it has drained the sandbox, many of them in
                // the spooled-but-not-yet-emptied stretch.
                Event::Committed { .. } => std::thread::sleep(pause),
                _ => {}
            })
            .build();
        collector.recover().await.unwrap();
        say("ready");
        let client = Client::builder()
            .base_url(base_url)
            .auth(Auth::app(KEY))
            .build()
            .unwrap();
        for _ in 0..10_000 {
            match collector.drain(&client).await {
                Ok(_) => {
                    say("done");
                    return;
                }
                // A response the sandbox dropped: counted, then go on.
                Err(e) => assert_eq!(
                    e.kind(),
                    ivr_reports_collector::ErrorKind::ResponseLost,
                    "{e}"
                ),
            }
        }
        panic!("the child never drained the sandbox");
    });
}

/// A small deterministic generator (xorshift64*), seeded and printed for reproduction.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }
}

/// Opens the sink a crash series writes: a JSONL journal at a path, or `pg:SCHEMA` (the
/// PostgreSQL sink in that schema of `IVR_REPORTS_PG_URL`).
async fn open_sink(target: &str) -> Arc<dyn Sink> {
    #[cfg(feature = "postgres")]
    if let Some(schema) = target.strip_prefix("pg:") {
        let url = crate::pg_url("crash");
        return Arc::new(
            ivr_reports_collector::PgSink::builder(url)
                .schema(schema)
                .connect()
                .await
                .unwrap(),
        );
    }
    Arc::new(JsonlSink::open(target).await.unwrap())
}

/// The journal after a restart: recovered from the spool, then read. Returns (lines in the
/// file, distinct message ids, bodies replayed from the spool, incidents in the log).
async fn audit(
    journal: &str,
    spool: &std::path::Path,
) -> (usize, BTreeSet<String>, u64, Vec<Incident>) {
    let sink = open_sink(journal).await;
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(spool)
        .build();
    let replayed = collector.recover().await.unwrap();
    let ids = sink
        .reports()
        .await
        .unwrap()
        .iter()
        .map(|r| r.message_id().to_string())
        .collect();
    // A journal's lines, or a table's rows.
    let lines = if journal.starts_with("pg:") {
        sink.reports().await.unwrap().len()
    } else {
        std::fs::read_to_string(journal).unwrap().lines().count()
    };
    (lines, ids, replayed, collector.incidents().await.unwrap())
}

/// When the parent kills a child.
#[derive(Clone, Copy)]
enum KillAt {
    /// 20 to 300 ms after it is ready.
    Random,
    /// As soon as it says it has spooled its first body: outside the request-to-spool
    /// window, in the decode/store/empty-the-spool stretch.
    FirstSpooled,
    /// Alternately at a random moment (as `Random`) and pinned inside the request-to-spool
    /// window: as soon as it says it is fetching (the marker is synced, the request is
    /// going out, the sandbox answers 40 ms later).
    Mixed,
}

/// What a crash series saw.
struct Outcome {
    kills: usize,
    kills_in_window: usize,
    /// Reports handed out by the sandbox and missing from the journal.
    deficit: u64,
    /// Spooled bodies the restarts replayed.
    replayed: u64,
    stored: usize,
    /// Incidents recorded for requests in flight at a kill.
    in_flight_incidents: u64,
    /// Incidents recorded for responses the child saw lost.
    lost_incidents: u64,
}

/// Runs the child collector against `sandbox`, killing it `kills` times by `policy`, then
/// lets a last run drain everything. After every run the parent restarts the journal (as
/// the next run would) and audits it against the sandbox's counters.
async fn crash_series(
    sandbox: &ivr_reports_sandbox::SandboxHandle,
    dir: &TempDir,
    target: Option<&str>,
    name: &str,
    kills_wanted: usize,
    policy: KillAt,
    concurrency: usize,
) -> Outcome {
    let started = Instant::now();
    let journal = target.map_or_else(
        || dir.join("reports.jsonl").display().to_string(),
        str::to_string,
    );
    let spool = dir.join("reports.spool");
    // After each commit the child pauses: long enough, when killing after a spool, that
    // the parent's kill lands before the next request even on a loaded machine.
    // (With several requests in flight, as many commits pause together: the pause grows
    // with them, so that the kills still land before the sandbox is drained.)
    let pause_ms = match policy {
        KillAt::Random | KillAt::Mixed => 80 * concurrency,
        KillAt::FirstSpooled => 500,
    };
    let spec = format!(
        "{}\n{}\n{}\n{pause_ms}\n{concurrency}",
        sandbox.base_url(),
        journal,
        spool.display()
    );
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("{name}: seed {seed}");
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().unwrap();

    let mut out = Outcome {
        kills: 0,
        kills_in_window: 0,
        deficit: 0,
        replayed: 0,
        stored: 0,
        in_flight_incidents: 0,
        lost_incidents: 0,
    };
    let mut finished = false;
    for run in 0..200 {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "{name}: over time"
        );
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, &spec)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may print `test crash::crash_child ... ` on the same line first.
                if let Some(at) = line.find("EVENT ") {
                    let _ = tx.send(line[at + 6..].trim().to_string());
                }
            }
        });
        let mut events = Vec::new();
        let next = |events: &mut Vec<String>| {
            let event = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("{name} run {run}: no event from the child: {e}"));
            events.push(event.clone());
            event
        };
        // Wait (bounded) until the child has recovered and starts pulling.
        while next(&mut events) != "ready" {}
        let killed = if out.kills < kills_wanted {
            match policy {
                KillAt::Mixed if out.kills % 2 == 1 => loop {
                    let event = next(&mut events);
                    if event == "fetching" || event == "done" {
                        break;
                    }
                },
                KillAt::Random | KillAt::Mixed => {
                    let delay = rng.between(20, 300);
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                }
                KillAt::FirstSpooled => loop {
                    let event = next(&mut events);
                    if event == "spooled" || event == "done" {
                        break;
                    }
                },
            }
            child.kill().unwrap(); // SIGKILL on Unix
            true
        } else {
            false
        };
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        reader.join().unwrap();
        events.extend(rx.try_iter());
        let done = events.last().is_some_and(|e| e == "done");
        if killed && !done {
            out.kills += 1;
        } else {
            assert!(
                status.success() && done,
                "{name} run {run}: the child failed: {status}"
            );
            finished = true;
        }
        // Did the kill land between a request and the spooling of its body? (With several
        // in flight: was any request without its body? Lost responses aside, which the
        // child saw and recorded itself.)
        let fetching = events.iter().filter(|e| *e == "fetching").count();
        let spooled = events.iter().filter(|e| *e == "spooled").count();
        let lost = events.iter().filter(|e| *e == "lost").count();
        let in_window = !done
            && if concurrency == 1 {
                events
                    .iter()
                    .rev()
                    .find(|e| *e == "fetching" || *e == "spooled")
                    .is_some_and(|e| e == "fetching")
            } else {
                fetching > spooled + lost
            };
        out.kills_in_window += usize::from(killed && in_window);

        // Restart as the next run would, then audit against the sandbox.
        let (lines, ids, replayed, incidents) = audit(&journal, &spool).await;
        out.replayed += replayed;
        let count = |reason| incidents.iter().filter(|i| i.reason == reason).count() as u64;
        let in_flight = count(IncidentReason::InFlightAtCrash);
        let new_incidents = in_flight - out.in_flight_incidents;
        out.in_flight_incidents = in_flight;
        out.lost_incidents = count(IncidentReason::ResponseLost);
        assert_eq!(
            lines,
            ids.len(),
            "{name} run {run}: a report is in the journal twice"
        );
        let counters = sandbox.counters();
        let stored = ids.len() as u64;
        assert!(
            stored <= counters.handed_out,
            "{name} run {run}: more stored than handed out"
        );
        let deficit = counters.handed_out - stored;
        // Nothing silent: every page the kills cost is in a recorded incident. (Counted
        // over the runs so far: the sandbox may take the page of a request the kill cut off
        // after this audit recorded its incident.)
        assert!(
            deficit <= 1000 * in_flight,
            "{name} run {run}: {deficit} reports lost with {in_flight} incidents recorded"
        );
        assert!(
            new_incidents <= concurrency as u64,
            "{name} run {run}: one kill, {new_incidents} incidents with {concurrency} in flight"
        );
        if concurrency > 1 {
            if !in_window {
                // No request the child said it sent was unanswered: nothing may be lost. (An
                // incident may still appear: a marker is synced before the child can say
                // "fetching", and a kill in between leaves a marker for a request that never
                // went out; reconciling it finds nothing.)
                assert_eq!(
                    deficit, out.deficit,
                    "{name} run {run}: a kill outside the request-to-spool window lost reports \
                     ({new_incidents} new incidents)"
                );
            }
        } else if in_window {
            // (The last event may also be the request before a lost response, with the
            // kill before the next marker: then nothing is missing and no incident due.)
            assert!(
                new_incidents <= 1,
                "{name} run {run}: one kill, {new_incidents} incidents"
            );
            assert!(
                deficit - out.deficit <= 1000,
                "{name} run {run}: more than one page lost"
            );
        } else {
            assert_eq!(
                deficit, out.deficit,
                "{name} run {run}: a kill outside the request-to-spool window lost reports"
            );
        }
        out.deficit = deficit;
        out.stored = ids.len();
        if finished {
            break;
        }
    }
    assert!(finished, "{name}: the last run never finished");
    assert!(
        out.kills >= kills_wanted,
        "{name}: only {} kills",
        out.kills
    );
    eprintln!(
        "{name}: {} kills, {} between request and spool, {} bodies replayed from the spool, \
         {} stored, {} lost to in-window kills, {} in-flight incidents, {} lost-response \
         incidents, {:.1}s",
        out.kills,
        out.kills_in_window,
        out.replayed,
        out.stored,
        out.deficit,
        out.in_flight_incidents,
        out.lost_incidents,
        started.elapsed().as_secs_f64()
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_nothing_that_was_spooled() {
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..REPORTS).map(|i| v2(&format!("k-{i}"))));
    sandbox
        .set_faults(Faults::new().drop_after_take(0.02).latency_ms(40))
        .unwrap();
    let dir = TempDir::new("random-kills");
    let out = crash_series(
        &sandbox,
        &dir,
        None,
        "random-kills",
        KILLS,
        KillAt::Random,
        4,
    )
    .await;

    let c = sandbox.counters();
    assert_eq!(c.pending, 0);
    assert_eq!(c.handed_out + c.lost_in_transit, REPORTS);
    assert_eq!(out.stored as u64, c.handed_out - out.deficit);
    // Handed out == stored + what the recorded incidents may hold: nothing silent.
    assert!(
        out.deficit <= 1000 * out.in_flight_incidents,
        "{} reports lost, {} in-flight incidents",
        out.deficit,
        out.in_flight_incidents
    );
    // A response the sandbox dropped is a lost-response incident, unless the kill came
    // before the child noticed: then the restart records it as in flight at the crash.
    assert!(
        c.lost_in_transit + out.deficit <= 1000 * (out.lost_incidents + out.in_flight_incidents),
        "{} reports lost in transit and {} to kills, {} lost-response and {} in-flight incidents",
        c.lost_in_transit,
        out.deficit,
        out.lost_incidents,
        out.in_flight_incidents
    );
    if out.kills_in_window == 0 {
        assert_eq!(
            out.deficit, 0,
            "no kill in the window, so nothing may be missing"
        );
    }
    eprintln!(
        "random-kills: {} lost in transit (sandbox)",
        c.lost_in_transit
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_spooling_loses_nothing_at_all() {
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..10_000).map(|i| v2(&format!("s-{i}"))));
    let dir = TempDir::new("kills-after-spool");
    let out = crash_series(
        &sandbox,
        &dir,
        None,
        "kills-after-spool",
        8,
        KillAt::FirstSpooled,
        1,
    )
    .await;

    // Every kill landed after its body was spooled: the sandbox's counters prove that
    // nothing was lost.
    let c = sandbox.counters();
    assert_eq!(out.kills_in_window, 0);
    assert_eq!(
        out.in_flight_incidents, 0,
        "no kill between request and spool"
    );
    assert_eq!((c.pending, c.lost_in_transit), (0, 0));
    assert_eq!(c.handed_out, 10_000);
    assert_eq!(out.stored, 10_000, "handed out == stored");
    assert_eq!(out.deficit, 0);
    assert!(
        out.replayed > 0,
        "some kills left a body in the spool for the restart"
    );
}

/// The goal of Step 3: SIGKILLs at random moments *and* pinned inside the
/// request-to-spool window, plus responses dropped after the reports were taken; then one
/// reconciliation from the sandbox's voice logs. Proved from the sandbox's records: every
/// messageId it handed out (delivered or lost in transit) is in the journal exactly once,
/// and every incident is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_and_lost_responses_reconcile_to_every_report_exactly_once() {
    reconcile_crash(None).await;
}

/// The same into PostgreSQL.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_and_lost_responses_reconcile_to_every_report_exactly_once_in_postgres() {
    let schema = crate::unique_schema("crash");
    reconcile_crash(Some(&format!("pg:{schema}"))).await;
}

async fn reconcile_crash(target: Option<&str>) {
    use ivr_reports_collector::{IncidentState, Origin, ReconcileConfig};

    // The logs' rate limit is the sandbox's default ten times over, to keep the test short
    // (the limit itself is tested in reconcile.rs, on tokio's clock).
    let sandbox = ivr_reports_sandbox::Sandbox::builder()
        .api_key(KEY)
        .logs_rate_limit(1200, Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    // Campaigns of 750 calls a few milliseconds apart: the sandbox places a campaign's
    // calls in one millisecond, and the logs cannot list more than a page within one.
    let mut placed = BTreeSet::new();
    for c in 0..16 {
        placed.extend(sandbox.simulate_campaign(&format!("crash-{c}"), 750));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sandbox
        .set_faults(Faults::new().drop_after_take(0.05).latency_ms(40))
        .unwrap();
    let dir = TempDir::new("reconcile-crash");
    let out = crash_series(
        &sandbox,
        &dir,
        target,
        "reconcile-crash",
        12,
        KillAt::Mixed,
        4,
    )
    .await;
    assert!(out.kills_in_window > 0, "no kill landed in the window");

    let journal = target.map_or_else(
        || dir.join("reports.jsonl").display().to_string(),
        str::to_string,
    );
    let spool = dir.join("reports.spool");
    let sink = open_sink(&journal).await;
    let collector = Collector::builder(Arc::clone(&sink))
        .spool_path(&spool)
        .build();
    let client = Client::builder()
        .base_url(sandbox.base_url())
        .auth(Auth::app(KEY))
        .build()
        .unwrap();
    let started = Instant::now();
    let done = collector
        .reconcile(&client, &ReconcileConfig::new().requests_per_minute(1200))
        .await
        .unwrap();
    eprintln!(
        "reconcile-crash: {} incidents reconciled with {} logs requests in {:.1}s, {} \
         recovered",
        done.incidents.len(),
        done.requests,
        started.elapsed().as_secs_f64(),
        done.recovered
    );
    assert!(
        done.incidents
            .iter()
            .all(|i| i.state == IncidentState::Closed),
        "{:?}",
        done.incidents
    );
    assert!(
        collector
            .incidents()
            .await
            .unwrap()
            .iter()
            .all(|i| !i.is_open())
    );

    let records = sandbox.records();
    let handed: BTreeSet<String> = records.all().map(str::to_string).collect();
    assert!(
        handed == placed,
        "the sandbox did not hand out every call placed"
    );
    let stored = sink.stored().await.unwrap();
    let ids: BTreeSet<String> = stored
        .iter()
        .map(|s| s.report.message_id().to_string())
        .collect();
    assert_eq!(ids.len(), stored.len(), "a messageId stored twice");
    let missing = handed.difference(&ids).count();
    let foreign = ids.difference(&handed).count();
    assert!(
        missing == 0 && foreign == 0,
        "{missing} messageIds handed out are not stored, {foreign} stored were never handed out"
    );
    if target.is_none() {
        let lines = std::fs::read_to_string(&journal).unwrap().lines().count();
        assert_eq!(lines, ids.len(), "a journal line twice");
    }
    let recovered = stored
        .iter()
        .filter(|s| s.origin == Origin::Recovered)
        .count() as u64;
    assert_eq!(recovered, done.recovered);
    assert!(
        recovered >= out.deficit,
        "the {} reports the kills cost were recovered ({recovered})",
        out.deficit
    );
}
