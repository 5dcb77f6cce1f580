//! Memory that does not grow with the campaign, measured through the binary.

use crate::stats::run_measuring_peak_kib;
use crate::temp_dir;

/// `collect --sandbox` keeps the sandbox's pending reports and the sink's index of stored
/// ids, and sums the statistics by streaming the journal: it never holds the campaign's
/// reports. The bound is 1 GiB per 1,000,000 calls (the target), scaled to this
/// campaign, plus a fixed 32 MiB for the program itself. 50,000 calls (about 20 s in a debug
/// build) peak near 56 MiB; holding every report decoded at the end, as `collect` once did
/// (1.45 GB for 1,000,000 calls), adds about 40 MiB and breaks the bound.
/// `IVR_REPORTS_COLLECT_CALLS` sets another size (the bound scales with it).
#[test]
fn collect_sandbox_peak_memory_scales_within_a_gigabyte_per_million_calls() {
    let calls: u64 = std::env::var("IVR_REPORTS_COLLECT_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let dir = temp_dir("collect-memory");
    let sink = format!("jsonl:{}", dir.join("campaign.jsonl").display());
    let spool = dir.join("spool");
    let calls_arg = calls.to_string();
    let (o, peak_kib) = run_measuring_peak_kib(&[
        "collect",
        "--sandbox",
        "--calls",
        &calls_arg,
        "--sink",
        &sink,
        "--spool",
        spool.to_str().unwrap(),
        "-o",
        "json",
    ]);
    std::fs::remove_dir_all(&dir).unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["overall"]["calls"], calls, "{out}");
    let bound_kib = calls * 1024 * 1024 / 1_000_000 + 32 * 1024;
    eprintln!("collect --sandbox --calls {calls}: peak RSS {peak_kib} KiB (bound {bound_kib} KiB)");
    assert!(peak_kib > 0, "no memory sample: /proc not readable?");
    assert!(
        peak_kib < bound_kib,
        "collect --sandbox --calls {calls} peaked at {peak_kib} KiB resident, over {bound_kib} KiB: \
         memory must not grow past 1 GiB per 1,000,000 calls"
    );
}
