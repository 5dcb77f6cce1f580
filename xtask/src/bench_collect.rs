//! `cargo xtask bench collect`: how fast the release `ivr-reports collect` drains a sandbox,
//! against Infobip's official Python SDK draining the same sandbox in the same run.
//!
//! Every scenario starts a fresh release `ivr-reports sandbox` seeded with [`REPORTS`]
//! calls, optionally sets a fault latency (`PUT /sandbox/faults`), lets its drainer take
//! every report, checks with `GET /sandbox/counters` that all of them were handed out, and
//! stops the sandbox. The whole list runs [`RUNS`] times; each rate is printed with its
//! spread (min, median, max), with the peak resident memory of the drainer and the ratio of
//! each `collect` to the SDK at the same latency.
//!
//! Bounded: [`REPORTS`] per scenario, [`RUNS`] rounds, and every process is killed (and the
//! bench fails) past [`TIME_CAP`].

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// Reports the sandbox is seeded with, per scenario.
const REPORTS: u64 = 100_000;
/// Rounds of the whole scenario list (the spread is over them).
const RUNS: usize = 3;
/// The simulated upstream latency of the latency scenarios, per report response.
const LATENCY_MS: u64 = 50;
/// The longest any one process may take.
const TIME_CAP: Duration = Duration::from_secs(300);
/// The API key the bench's sandboxes accept.
const KEY: &str = "bench-key";

/// Who drains the sandbox.
#[derive(Clone, Copy, Debug)]
enum Drainer {
    /// Infobip's official Python SDK (`xtask/bench/sdk_drain.py`), every report kept in a
    /// list: the baseline.
    PythonSdk,
    /// `ivr-reports collect --once --v2` into a fresh JSONL journal and spool.
    Collect(Concurrency),
    // Push load is measured after the pull scenarios, by the webhook bench (see `run`).
}

/// How many report requests `collect` keeps in flight.
#[derive(Clone, Copy, Debug)]
enum Concurrency {
    /// `--concurrency K` (skipped when the binary has no `--concurrency` and K is not 1).
    Fixed(u32),
    /// The binary's default (skipped when the binary has no `--concurrency`: it is K=1).
    Default,
}

/// One measured configuration.
struct Scenario {
    name: &'static str,
    drainer: Drainer,
    /// `latencyMs` of the sandbox's faults: every report response waits this long.
    latency_ms: u64,
}

/// Every scenario, in the order they run and print. A `collect` scenario's ratio is taken
/// against the `PythonSdk` scenario of the same latency.
const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "python-sdk",
        drainer: Drainer::PythonSdk,
        latency_ms: 0,
    },
    Scenario {
        name: "collect-k1",
        drainer: Drainer::Collect(Concurrency::Fixed(1)),
        latency_ms: 0,
    },
    Scenario {
        name: "collect-default-k",
        drainer: Drainer::Collect(Concurrency::Default),
        latency_ms: 0,
    },
    Scenario {
        name: "python-sdk-50ms",
        drainer: Drainer::PythonSdk,
        latency_ms: LATENCY_MS,
    },
    Scenario {
        name: "collect-k1-50ms",
        drainer: Drainer::Collect(Concurrency::Fixed(1)),
        latency_ms: LATENCY_MS,
    },
    Scenario {
        name: "collect-default-k-50ms",
        drainer: Drainer::Collect(Concurrency::Default),
        latency_ms: LATENCY_MS,
    },
];

/// What a drain measured.
#[derive(Clone, Copy, Debug)]
struct Measure {
    /// Reports per second.
    rate: f64,
    /// Peak resident memory of the drainer, KiB (0 when not sampled).
    peak_kib: u64,
}

/// What the bench needs from the machine.
struct Setup {
    binary: PathBuf,
    python: String,
    script: PathBuf,
    has_concurrency: bool,
    scratch: PathBuf,
}

/// `cargo xtask bench collect`.
pub(crate) fn run(root: &Path) -> Result {
    let mut build = crate::cargo(root);
    build.args(["build", "--release", "-p", "ivr-reports-cli"]);
    crate::run(build)?;
    let binary = root.join("target/release/ivr-reports");
    let help = Command::new(&binary)
        .args(["collect", "--help"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let has_concurrency = String::from_utf8_lossy(&help.stdout).contains("--concurrency");
    let scratch = root.join("target/bench-collect");
    let setup = Setup {
        binary,
        python: crate::testenv::python(root)?,
        script: root.join("xtask/bench/sdk_drain.py"),
        has_concurrency,
        scratch,
    };
    println!(
        "collect bench: {REPORTS} v2 reports per scenario from a release `ivr-reports sandbox`, \
         {RUNS} rounds; `--concurrency` {}",
        if has_concurrency {
            "available"
        } else {
            "not in this binary: the default-K scenarios are skipped"
        }
    );
    let mut results: Vec<Vec<Measure>> = vec![Vec::new(); SCENARIOS.len()];
    for round in 1..=RUNS {
        for (i, scenario) in SCENARIOS.iter().enumerate() {
            let Some(args) = setup.collect_args(scenario.drainer) else {
                continue;
            };
            let m = run_scenario(&setup, scenario, &args)
                .map_err(|e| format!("scenario {} (round {round}): {e}", scenario.name))?;
            println!(
                "    round {round} {:<24} {:>9.0} reports/s{}",
                scenario.name,
                m.rate,
                peak(m.peak_kib)
            );
            results[i].push(m);
        }
    }
    print_summary(&results);
    let _ = std::fs::remove_dir_all(&setup.scratch);
    // Push load: the webhook's Rust load generator (32 keep-alive senders, bounded in count
    // and time), with and without group commit, in the same run.
    println!("collect bench, push side: `cargo xtask bench webhook`");
    let mut push = crate::cargo(root);
    push.args(crate::WEBHOOK_BENCH);
    crate::run(push)
}

impl Setup {
    /// The extra `collect` arguments of a drainer; `None` when this binary cannot run it.
    fn collect_args(&self, drainer: Drainer) -> Option<Vec<String>> {
        match drainer {
            Drainer::PythonSdk => Some(Vec::new()),
            Drainer::Collect(Concurrency::Fixed(k)) if self.has_concurrency => {
                Some(vec!["--concurrency".into(), k.to_string()])
            }
            Drainer::Collect(Concurrency::Fixed(1)) => Some(Vec::new()),
            Drainer::Collect(_) if self.has_concurrency => Some(Vec::new()),
            Drainer::Collect(_) => None,
        }
    }
}

fn peak(kib: u64) -> String {
    if kib == 0 {
        String::new()
    } else {
        format!(", peak RSS {:.1} MiB", kib as f64 / 1024.0)
    }
}

/// Min, median and max.
fn spread(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    (values[0], values[n / 2], values[n - 1])
}

fn print_summary(results: &[Vec<Measure>]) {
    println!("collect bench summary ({RUNS} rounds; min / median / max):");
    let median_of = |i: usize| spread(results[i].iter().map(|m| m.rate).collect()).1;
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        if results[i].is_empty() {
            println!("  {:<24} skipped", scenario.name);
            continue;
        }
        let (lo, mid, hi) = spread(results[i].iter().map(|m| m.rate).collect());
        let (_, peak_mid, peak_hi) = spread(results[i].iter().map(|m| m.peak_kib as f64).collect());
        let mut line = format!(
            "  {:<24} {lo:>9.0} / {mid:>9.0} / {hi:>9.0} reports/s",
            scenario.name
        );
        if peak_hi > 0.0 {
            line.push_str(&format!(
                "; peak RSS median {:.1} MiB (max {:.1})",
                peak_mid / 1024.0,
                peak_hi / 1024.0
            ));
        }
        if matches!(scenario.drainer, Drainer::Collect(_)) {
            let baseline = SCENARIOS.iter().position(|s| {
                matches!(s.drainer, Drainer::PythonSdk) && s.latency_ms == scenario.latency_ms
            });
            if let Some(b) = baseline.filter(|&b| !results[b].is_empty()) {
                let ratios: Vec<f64> = results[i]
                    .iter()
                    .zip(&results[b])
                    .map(|(m, base)| m.rate / base.rate)
                    .collect();
                let (rlo, rmid, rhi) = spread(ratios);
                line.push_str(&format!(
                    "; {rmid:.2}x the Python SDK (rounds {rlo:.2}x..{rhi:.2}x, baseline median {:.0}/s)",
                    median_of(b)
                ));
            }
        }
        println!("{line}");
    }
    // Concurrency against K=1 at the same latency: what `--concurrency` buys.
    for (i, scenario) in SCENARIOS.iter().enumerate() {
        if !matches!(scenario.drainer, Drainer::Collect(Concurrency::Default))
            || results[i].is_empty()
        {
            continue;
        }
        let k1 = SCENARIOS.iter().position(|s| {
            matches!(s.drainer, Drainer::Collect(Concurrency::Fixed(1)))
                && s.latency_ms == scenario.latency_ms
        });
        if let Some(k1) = k1.filter(|&k| !results[k].is_empty()) {
            println!(
                "  {:<24} {:.2}x collect at K=1 (medians)",
                scenario.name,
                median_of(i) / median_of(k1)
            );
        }
    }
}

/// A running `ivr-reports sandbox`, killed when dropped.
struct SandboxProcess {
    child: Child,
    base_url: String,
    admin_token: String,
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SandboxProcess {
    /// Starts the sandbox on a free loopback port, seeded with [`REPORTS`] calls; returns
    /// once its banner says it serves.
    fn start(setup: &Setup) -> Result<Self> {
        let mut child = Command::new(&setup.binary)
            .args(["sandbox", "--addr", "127.0.0.1:0", "--api-key", KEY])
            .args([
                "--seed",
                &REPORTS.to_string(),
                "--logs-rate-limit",
                "0",
                "-q",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the sandbox: {e}"))?;
        let stdout = child.stdout.take().ok_or("the sandbox has no stdout")?;
        let mut process = Self {
            child,
            base_url: String::new(),
            admin_token: String::new(),
        };
        let started = Instant::now();
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading the sandbox's banner: {e}"))?;
            if let Some(url) = line.strip_prefix("Infobip-compatible sandbox at ") {
                process.base_url = url.trim().to_string();
            }
            if let Some(at) = line.find("(Authorization: Bearer ") {
                let token = &line[at + "(Authorization: Bearer ".len()..];
                process.admin_token = token.trim_end_matches(')').trim().to_string();
            }
            if line.contains("Ctrl-C stops it") {
                break;
            }
            if started.elapsed() > TIME_CAP {
                return Err("the sandbox did not print its banner".into());
            }
        }
        if process.base_url.is_empty() || process.admin_token.is_empty() {
            return Err("the sandbox's banner lacks its URL or admin token".into());
        }
        Ok(process)
    }

    /// `METHOD path` on the admin API, with `body`; returns the response body on 200.
    fn admin(&self, method: &str, path: &str, body: &str) -> Result<String> {
        let host = self
            .base_url
            .strip_prefix("http://")
            .ok_or_else(|| format!("not a plain HTTP sandbox URL: {}", self.base_url))?
            .trim_end_matches('/');
        let mut stream =
            TcpStream::connect(host).map_err(|e| format!("cannot reach the sandbox: {e}"))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.admin_token,
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let mut response = String::new();
        stream
            .read_to_string(&mut response)
            .map_err(|e| format!("{method} {path}: {e}"))?;
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        if !head.starts_with("HTTP/1.1 200") {
            return Err(format!(
                "{method} {path}: {}",
                head.lines().next().unwrap_or("")
            ));
        }
        Ok(body.to_string())
    }

    /// How many reports were handed out and are still pending.
    fn handed_out_and_pending(&self) -> Result<(u64, u64)> {
        let body = self.admin("GET", "/sandbox/counters", "")?;
        // The body may be chunked; the JSON object is between its first `{` and last `}`.
        let json = body
            .find('{')
            .zip(body.rfind('}'))
            .map(|(a, b)| &body[a..=b])
            .unwrap_or("");
        let v: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| format!("the sandbox's counters do not parse: {e}"))?;
        let get = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(u64::MAX)
        };
        Ok((get("handedOut"), get("pending")))
    }
}

fn run_scenario(setup: &Setup, scenario: &Scenario, collect_args: &[String]) -> Result<Measure> {
    let sandbox = SandboxProcess::start(setup)?;
    if scenario.latency_ms > 0 {
        sandbox.admin(
            "PUT",
            "/sandbox/faults",
            &format!("{{\"latencyMs\":{}}}", scenario.latency_ms),
        )?;
    }
    let measure = match scenario.drainer {
        Drainer::PythonSdk => {
            let mut cmd = Command::new(&setup.python);
            cmd.arg(&setup.script).arg(&sandbox.base_url).arg(KEY);
            let (out, _, peak_kib) = run_measured(cmd)?;
            // "drained N reports in S seconds"
            let words: Vec<&str> = out.split_whitespace().collect();
            let n: f64 = words.get(1).and_then(|w| w.parse().ok()).unwrap_or(0.0);
            let secs: f64 = words.get(4).and_then(|w| w.parse().ok()).unwrap_or(0.0);
            if n as u64 != REPORTS || secs <= 0.0 {
                return Err(format!("the SDK drain printed {out:?}"));
            }
            Measure {
                rate: n / secs,
                peak_kib,
            }
        }
        Drainer::Collect(_) => {
            let dir = setup.scratch.join(scenario.name);
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let mut cmd = Command::new(&setup.binary);
            cmd.args(["collect", "--once", "--v2", "--no-reconcile", "-q"])
                .arg("--sink")
                .arg(format!("jsonl:{}", dir.join("journal.jsonl").display()))
                .arg("--spool")
                .arg(dir.join("spool"))
                .args(collect_args)
                .env("INFOBIP_BASE_URL", &sandbox.base_url)
                .env("INFOBIP_API_KEY", KEY);
            let (_, elapsed, peak_kib) = run_measured(cmd)?;
            Measure {
                rate: REPORTS as f64 / elapsed.as_secs_f64(),
                peak_kib,
            }
        }
    };
    let (handed_out, pending) = sandbox.handed_out_and_pending()?;
    if handed_out != REPORTS || pending != 0 {
        return Err(format!(
            "the sandbox handed out {handed_out} reports and still holds {pending}: \
             the drain was incomplete"
        ));
    }
    Ok(measure)
}

/// Runs `cmd` to the end: its stdout, its wall time and its peak resident memory (KiB),
/// sampled from /proc while it runs (a lower bound that misses at most the last few
/// milliseconds). Fails when it fails or runs past [`TIME_CAP`].
fn run_measured(mut cmd: Command) -> Result<(String, Duration, u64)> {
    let shown = crate::shown(&cmd);
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) => {}
            Err(e) => return Err(format!("{shown}: {e}")),
        }
        if started.elapsed() > TIME_CAP {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("{shown} ran past {} s", TIME_CAP.as_secs()));
        }
        if let Some(kib) = std::fs::read_to_string(&status_path)
            .ok()
            .and_then(|s| vm_hwm_kib(&s))
        {
            peak_kib = peak_kib.max(kib);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let elapsed = started.elapsed();
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{shown}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        return Err(format!(
            "{shown} exited with {}: {}{}",
            output.status,
            stdout.trim(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok((stdout, elapsed, peak_kib))
}

/// `VmHWM` of a /proc status text, in KiB.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_min_median_max() {
        assert_eq!(spread(vec![3.0, 1.0, 2.0]), (1.0, 2.0, 3.0));
        assert_eq!(spread(Vec::new()), (0.0, 0.0, 0.0));
    }

    #[test]
    fn peak_memory_is_read_from_proc_status() {
        assert_eq!(vm_hwm_kib("Name:\tx\nVmHWM:\t  1234 kB\n"), Some(1234));
        assert_eq!(vm_hwm_kib("Name:\tx\n"), None);
    }

    #[test]
    fn every_collect_scenario_has_a_python_baseline_at_its_latency() {
        for s in SCENARIOS {
            assert!(
                SCENARIOS.iter().any(
                    |b| matches!(b.drainer, Drainer::PythonSdk) && b.latency_ms == s.latency_ms
                ),
                "{}",
                s.name
            );
        }
    }
}
