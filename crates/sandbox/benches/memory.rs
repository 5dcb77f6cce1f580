//! Sandbox memory per pending report: 1,000,000 reports placed (injected v1 spec reports,
//! injected v2 reports, a simulated campaign), and the growth of the process's resident
//! memory (everything the sandbox keeps for them: the store and the log book) divided by
//! their number. A counting global allocator would need `unsafe`, which the workspace
//! forbids; resident memory is also what a user pays.
//! Run with `cargo xtask bench sandbox-memory`.
//!
//! Each scenario runs in a child process of its own (this program again, with
//! `IVR_BENCH_MEMORY_SCENARIO` set), so the resident memory of one does not hide in the
//! freed pages of another. Bounded: a fixed number of reports per scenario.

// A benchmark program: a panic is its failure report.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use ivr_reports_model::{CallReport, VoiceReport};
use ivr_reports_sandbox::Sandbox;

#[path = "support/spec_report.rs"]
mod spec_report;

const PENDING: usize = 1_000_000;
/// The target for every scenario.
const TARGET: f64 = 512.0;
const SCENARIO_VAR: &str = "IVR_BENCH_MEMORY_SCENARIO";

/// Resident memory of this process, in bytes (Linux).
fn rss() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<i64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// The scenarios: name, what is placed.
const SCENARIOS: &[(&str, &str)] = &[
    ("v1", "injected v1 reports (the spec's example report)"),
    ("v2", "injected v2 reports (the spec's example as v2)"),
    ("campaign", "a simulated campaign (collect --sandbox)"),
];

fn v2_of(r: &VoiceReport) -> CallReport {
    let mut c = CallReport::new(r.message_id.clone(), r.to.clone());
    c.bulk_id.clone_from(&r.bulk_id);
    c.from = Some("41790000100".into());
    c.sent_at = r.sent_at;
    c.mcc_mnc.clone_from(&r.mcc_mnc);
    c.price.clone_from(&r.price);
    c.status.clone_from(&r.status);
    c.error = ivr_reports_model::ReportError::known(10000);
    c
}

/// Runs one scenario in this process and prints its line.
fn run(name: &str, about: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let sandbox = Sandbox::builder().api_key("bench").start().await.unwrap();
        let template = spec_report::template();
        let before = rss();
        let started = Instant::now();
        match name {
            "v1" | "v2" => {
                // In chunks, so the model values never all live at once: what stays is
                // the store (and the logs).
                for chunk in (0..PENDING).collect::<Vec<_>>().chunks(50_000) {
                    let reports = chunk.iter().map(|&i| spec_report::report(&template, i));
                    if name == "v1" {
                        sandbox.inject_v1(reports);
                    } else {
                        sandbox.inject_v2(reports.map(|r| v2_of(&r)));
                    }
                }
            }
            _ => {
                drop(sandbox.simulate_campaign("bench-campaign", PENDING));
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let after = rss();
        assert_eq!(sandbox.counters().pending, PENDING as u64);
        let per = (after - before) as f64 / PENDING as f64;
        println!(
            "{name:<9} {per:>5.0} B resident per pending report: {about}; placed in {elapsed:.1}s{}",
            if per <= TARGET { "" } else { "  (OVER TARGET)" },
        );
        sandbox.shutdown().await.unwrap();
    });
}

fn main() {
    if let Ok(name) = std::env::var(SCENARIO_VAR) {
        let about = SCENARIOS.iter().find(|s| s.0 == name).map_or("?", |s| s.1);
        run(&name, about);
        return;
    }
    println!(
        "sandbox memory: {PENDING} pending reports per scenario, each in its own process; \
         target <= {TARGET:.0} B per pending report"
    );
    let me = std::env::current_exe().unwrap();
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for (name, _) in SCENARIOS {
        if !filter.is_empty() && !filter.iter().any(|f| f == name) {
            continue;
        }
        let status = std::process::Command::new(&me)
            .env(SCENARIO_VAR, name)
            .status()
            .unwrap();
        assert!(status.success(), "scenario {name} failed: {status}");
    }
}
