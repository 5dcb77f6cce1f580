//! Crash safety: a collector killed with SIGKILL at random moments loses nothing it received.
//!
//! The parent test runs the sandbox (50,000 pending v2 reports, 2% of responses dropped
//! after the reports were taken) and re-runs this test binary as the child collector
//! (`crash_child`, selected by an environment variable). The child prints the collector's
//! events; the parent kills it at a random moment (20 to 300 ms after it is ready) at least
//! 20 times (the sandbox answers after 40 ms and the child pauses 80 ms after each commit,
//! so that the kills land before it has drained everything), then lets a last run finish. After every kill the parent recovers the journal
//! as a restart would (replaying the spool) and audits it against the sandbox's counters.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ivr_reports::{Auth, Client};
use ivr_reports_collector::{Collector, Event, JsonlSink, Sink};
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
    let say = |what: &str| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "EVENT {what}").unwrap();
        out.flush().unwrap();
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let sink = Arc::new(JsonlSink::open(&journal).await.unwrap());
        let collector = Collector::builder(sink)
            .spool_path(spool)
            .on_event(move |event| match event {
                Event::Fetching => say("fetching"),
                Event::Spooled { .. } => say("spooled"),
                // Slow the child down after each commit (before the spool is emptied), so
                // that 20 kills land before it has drained the sandbox, many of them in
                // the spooled-but-not-yet-emptied stretch.
                Event::Committed { .. } => std::thread::sleep(Duration::from_millis(80)),
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

/// The journal after a restart: recovered from the spool, then read. Returns (lines in the
/// file, distinct message ids).
async fn audit(journal: &std::path::Path, spool: &std::path::Path) -> (usize, BTreeSet<String>) {
    let sink = Arc::new(JsonlSink::open(journal).await.unwrap());
    let collector = Collector::builder(Arc::clone(&sink) as Arc<dyn Sink>)
        .spool_path(spool)
        .build();
    collector.recover().await.unwrap();
    let ids = sink
        .reports()
        .await
        .unwrap()
        .iter()
        .map(|r| r.message_id().to_string())
        .collect();
    let lines = std::fs::read_to_string(journal).unwrap().lines().count();
    (lines, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_nothing_that_was_spooled() {
    let started = Instant::now();
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..REPORTS).map(|i| v2(&format!("k-{i}"))));
    sandbox
        .set_faults(Faults::new().drop_after_take(0.02).latency_ms(40))
        .unwrap();
    let dir = TempDir::new("crash");
    let journal = dir.join("reports.jsonl");
    let spool = dir.join("reports.spool");
    let spec = format!(
        "{}\n{}\n{}",
        sandbox.base_url(),
        journal.display(),
        spool.display()
    );
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().unwrap();

    let mut kills = 0usize;
    let mut kills_in_window = 0usize;
    let mut deficit = 0u64;
    let mut finished = false;
    for run in 0..200 {
        assert!(
            started.elapsed() < Duration::from_secs(240),
            "crash test over time"
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
        // Wait (bounded) until the child has recovered and starts pulling.
        loop {
            let event = rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|e| panic!("run {run}: no event from the child: {e}"));
            let ready = event == "ready";
            events.push(event);
            if ready {
                break;
            }
        }
        let killed = if kills < KILLS {
            let delay = rng.between(20, 300);
            tokio::time::sleep(Duration::from_millis(delay)).await;
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
            kills += 1;
        } else {
            assert!(
                status.success() && done,
                "run {run}: the child failed: {status}"
            );
            finished = true;
        }
        // Did the kill land between a request and the spooling of its body?
        let in_window = !done
            && events
                .iter()
                .rev()
                .find(|e| *e == "fetching" || *e == "spooled")
                .is_some_and(|e| e == "fetching");
        kills_in_window += usize::from(killed && in_window);

        // Restart as the next run would, then audit against the sandbox.
        let (lines, ids) = audit(&journal, &spool).await;
        assert_eq!(
            lines,
            ids.len(),
            "run {run}: a report is in the journal twice"
        );
        let counters = sandbox.counters();
        let stored = ids.len() as u64;
        assert!(
            stored <= counters.handed_out,
            "run {run}: more stored than handed out"
        );
        let now = counters.handed_out - stored;
        if in_window {
            assert!(now - deficit <= 1000, "run {run}: more than one page lost");
        } else {
            assert_eq!(
                now, deficit,
                "run {run}: a kill outside the receive-to-spool window lost reports"
            );
        }
        deficit = now;
        if finished {
            break;
        }
    }
    assert!(finished, "the last run never finished");
    assert!(kills >= KILLS, "only {kills} kills");
    let c = sandbox.counters();
    let (_, ids) = audit(&journal, &spool).await;
    let expected: BTreeSet<String> = (0..REPORTS).map(|i| format!("k-{i}")).collect();
    assert!(ids.is_subset(&expected));
    assert_eq!(c.pending, 0);
    assert_eq!(c.handed_out + c.lost_in_transit, REPORTS);
    assert_eq!(ids.len() as u64, c.handed_out - deficit);
    if kills_in_window == 0 {
        assert_eq!(
            deficit, 0,
            "no kill in the window, so nothing may be missing"
        );
    }
    eprintln!(
        "crash test (seed {seed}): {kills} kills, {kills_in_window} between request and spool, \
         {} stored, {} lost in transit (sandbox), {deficit} lost to in-window kills, {:.1}s",
        ids.len(),
        c.lost_in_transit,
        started.elapsed().as_secs_f64()
    );
}
