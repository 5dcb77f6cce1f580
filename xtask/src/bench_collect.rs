//! `cargo xtask bench collect`: `ivr-reports collect --once --v2` (release build) draining
//! 100,000 reports from `ivr-reports sandbox` on 127.0.0.1, at several `--concurrency`
//! values, with the sandbox answering at once and after 50 ms (`latencyMs`). Prints each
//! rate (median of the runs, with the spread) and the ratios against K=1 measured in the
//! same run. Timings are printed, never asserted.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

const REPORTS: usize = 100_000;
const KEY: &str = "sandbox-api-key";
/// The sandbox's admin token (`/sandbox/faults`).
const ADMIN: &str = "sandbox-admin-token";
/// Runs per configuration (the median is shown, with the min-max spread).
const RUNS: usize = 3;

/// A sandbox child, killed when dropped.
struct Sandbox {
    child: Child,
    addr: String,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// One HTTP/1.1 exchange with the sandbox; returns the status line and body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> Result<(String, String)> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("write to {addr}: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("read from {addr}: {e}"))?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head.lines().next().unwrap_or("").to_string();
    Ok((status, body.to_string()))
}

fn start_sandbox(exe: &Path, latency_ms: u64) -> Result<Sandbox> {
    let addr = format!("127.0.0.1:{}", free_port()?);
    let child = Command::new(exe)
        .args(["sandbox", "--addr", &addr, "--seed", &REPORTS.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", exe.display()))?;
    let sandbox = Sandbox { child, addr };
    // Bounded wait until it answers.
    let started = Instant::now();
    loop {
        if http(&sandbox.addr, "GET", "/sandbox/faults", "")
            .is_ok_and(|(status, _)| status.contains(" 200 "))
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!("the sandbox at {} never answered", sandbox.addr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, body) = http(
        &sandbox.addr,
        "PUT",
        "/sandbox/faults",
        &format!("{{\"latencyMs\":{latency_ms}}}"),
    )?;
    if !status.contains(" 200 ") {
        return Err(format!("setting the sandbox's faults: {status} {body}"));
    }
    Ok(sandbox)
}

/// One `collect --once --v2` of the whole sandbox; returns reports per second.
fn collect_once(exe: &Path, latency_ms: u64, concurrency: usize, dir: &Path) -> Result<f64> {
    let sandbox = start_sandbox(exe, latency_ms)?;
    let journal = dir.join(format!("bench-{latency_ms}-{concurrency}.jsonl"));
    let _ = std::fs::remove_file(&journal);
    let _ = std::fs::remove_file(journal.with_extension("spool"));
    let mut cmd = Command::new(exe);
    cmd.args([
        "collect",
        "--once",
        "--v2",
        "--no-reconcile",
        "--concurrency",
        &concurrency.to_string(),
        "--sink",
        &format!("jsonl:{}", journal.display()),
    ])
    .env("INFOBIP_BASE_URL", format!("http://{}", sandbox.addr))
    .env("INFOBIP_API_KEY", KEY)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let started = Instant::now();
    let status = cmd
        .status()
        .map_err(|e| format!("could not run collect: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64();
    if !status.success() {
        return Err(format!("collect exited with {status}"));
    }
    let lines = std::fs::read_to_string(&journal)
        .map_err(|e| format!("reading {}: {e}", journal.display()))?
        .lines()
        .count();
    if lines != REPORTS {
        return Err(format!(
            "collect stored {lines} reports, not {REPORTS} (K={concurrency})"
        ));
    }
    let _ = std::fs::remove_file(&journal);
    Ok(REPORTS as f64 / elapsed)
}

/// Median, min and max of `runs` measurements.
fn measure(exe: &Path, latency_ms: u64, concurrency: usize, dir: &Path) -> Result<(f64, f64, f64)> {
    let mut rates = Vec::new();
    for _ in 0..RUNS {
        rates.push(collect_once(exe, latency_ms, concurrency, dir)?);
    }
    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    Ok((median, rates[0], rates[rates.len() - 1]))
}

pub(crate) fn run(root: &Path) -> Result {
    let mut build = crate::cargo(root);
    build.args(["build", "--release", "-p", "ivr-reports-cli"]);
    crate::run(build)?;
    let exe = root.join("target/release/ivr-reports");
    let dir = std::env::temp_dir().join(format!("ivr-bench-collect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let configs: &[(u64, &[usize])] = &[(0, &[1, 2, 4, 8, 16]), (50, &[1, 4, 8, 16])];
    println!(
        "collect --once --v2 of {REPORTS} reports from the sandbox (release build, journal \
         sink), {RUNS} runs each: median rate [min-max], ratio to K=1 of the same run"
    );
    let mut results = Vec::new();
    for (latency, ks) in configs {
        let mut base = None;
        for &k in *ks {
            let (median, low, high) = measure(&exe, *latency, k, &dir)?;
            let base = *base.get_or_insert(median);
            println!(
                "  latency {latency:>2} ms  K={k:<2} {median:>9.0} reports/s [{low:.0}-{high:.0}]  \
                 {:.2}x K=1",
                median / base
            );
            results.push((*latency, k, median / base));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    if let Some((_, _, ratio)) = results.iter().find(|(l, k, _)| *l == 50 && *k == 8) {
        println!(
            "  target (issue #15): K=8 >= 6x K=1 with 50 ms latency: {ratio:.2}x, {}",
            if *ratio >= 6.0 { "met" } else { "NOT met" }
        );
    }
    Ok(())
}
