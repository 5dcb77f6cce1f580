//! `stats --output html` rendered by a real headless Chromium: the page shows the totals.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{HOW, run, stderr, stdout};

/// The Chromium that `cargo xtask env` exports; fails the test, saying how to provide it,
/// when it is missing: an HTML test never passes without a browser.
fn chromium(test: &str) -> PathBuf {
    let path = match std::env::var("IVR_REPORTS_CHROMIUM") {
        Ok(p) if !p.is_empty() => PathBuf::from(p),
        _ => panic!(
            "{test} needs Chromium: IVR_REPORTS_CHROMIUM is unset (Debian: apt-get install -y \
             chromium; then IVR_REPORTS_CHROMIUM=/usr/bin/chromium); {HOW}"
        ),
    };
    assert!(
        path.is_file(),
        "{test} needs Chromium: IVR_REPORTS_CHROMIUM={} is not a file; {HOW}",
        path.display()
    );
    path
}

/// Runs Chromium headless (bounded to 120 s), returning its stdout (through a file: a
/// page's DOM overflows a pipe that nobody reads while we wait).
fn headless(chromium: &Path, profile: &Path, args: &[&str]) -> String {
    let out_path = profile.with_extension("stdout");
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("chromium took over 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    String::from_utf8_lossy(&std::fs::read(&out_path).unwrap()).into_owned()
}

#[tokio::test]
async fn the_html_page_renders_the_campaign_totals_in_chromium() {
    let browser = chromium("the_html_page_renders_the_campaign_totals_in_chromium");
    let dir = std::env::temp_dir().join(format!("ivr-cli-html-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("campaign.jsonl");
    let sink = format!("jsonl:{}", journal.display());
    // Two campaigns (two bulks) in one journal, for the chart per bulk.
    for calls in ["300", "120"] {
        let o = run(
            &[
                "collect",
                "--sandbox",
                "--calls",
                calls,
                "--sink",
                &sink,
                "-q",
            ],
            &[],
        )
        .await;
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let o = run(&["stats", journal.to_str().unwrap(), "-o", "json"], &[]).await;
    let totals: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let o = run(
        &["stats", journal.to_str().unwrap(), "--output", "html"],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let page = stdout(&o);

    // Self-contained: no scripts, no stylesheets or images from elsewhere.
    for banned in ["<script", "<link", "src=", "href=", "@import", "url("] {
        assert!(!page.contains(banned), "the page holds {banned:?}");
    }
    assert!(
        page.matches("<svg").count() >= 7,
        "charts: outcomes, answered by, time, cost, durations, DTMF, per bulk"
    );

    let file = dir.join("campaign.html");
    std::fs::write(&file, &page).unwrap();
    let url = format!("file://{}", file.display());
    let profile = dir.join("profile");
    let dom = headless(&browser, &profile, &["--dump-dom", &url]);
    let overall = &totals["overall"];
    let calls = overall["calls"].as_u64().unwrap();
    assert!(calls > 0);
    assert!(
        dom.contains(&format!("{calls} calls")),
        "the rendered page shows the total:\n{dom}"
    );
    for key in [
        "answeredByHuman",
        "answeredByMachine",
        "busy",
        "noAnswer",
        "failed",
    ] {
        let n = overall[key].as_u64().unwrap();
        assert!(
            dom.contains(&format!("<td class=\"n\">{n}</td>")),
            "the rendered page shows {key} = {n}"
        );
    }
    for (currency, cost) in overall["cost"].as_object().unwrap() {
        let shown = format!("{} {currency}", cost.as_str().unwrap());
        assert!(
            dom.contains(&shown),
            "the rendered page shows the cost {shown}"
        );
    }

    // Each chart's numbers (folded under it) are those of `--output json`: the hourly
    // calls and cost, the duration distribution, the outcomes per bulk.
    let row = |cells: &[String]| {
        let mut tr = format!("<tr><td>{}</td>", cells[0]);
        for c in &cells[1..] {
            tr.push_str(&format!("<td class=\"n\">{c}</td>"));
        }
        tr + "</tr>"
    };
    let shown = |cells: Vec<String>| {
        let tr = row(&cells);
        assert!(dom.contains(&tr), "the rendered page shows {tr}");
    };
    let hourly = overall["hourly"].as_array().unwrap();
    assert!(!hourly.is_empty());
    let mut hourly_calls = 0;
    for h in hourly {
        let hour = h["hour"].as_str().unwrap().to_string();
        hourly_calls += h["calls"].as_u64().unwrap();
        shown(vec![hour.clone(), h["calls"].to_string()]);
        for cost in h["cost"].as_object().unwrap().values() {
            shown(vec![hour.clone(), cost.as_str().unwrap().to_string()]);
        }
    }
    assert_eq!(hourly_calls, calls);
    let durations = overall["durations"].as_array().unwrap();
    assert_eq!(
        durations
            .iter()
            .map(|d| d["calls"].as_u64().unwrap())
            .sum::<u64>(),
        calls
    );
    for d in durations {
        shown(vec![
            d["bucket"].as_str().unwrap().to_string(),
            d["calls"].to_string(),
        ]);
    }
    assert!(dom.contains("Outcomes per bulk"), "the chart per bulk");
    let per_bulk_chart = page
        .split_once("Outcomes per bulk")
        .and_then(|(_, rest)| rest.split_once("</svg>"))
        .map(|(chart, _)| chart)
        .expect("the chart per bulk is an SVG");
    let bulks = totals["bulks"].as_object().unwrap();
    assert_eq!(bulks.len(), 2);
    for (bulk, b) in bulks {
        let mut cells = vec![bulk.clone(), b["calls"].to_string()];
        for key in [
            "answeredByHuman",
            "answeredByMachine",
            "busy",
            "noAnswer",
            "failed",
        ] {
            cells.push(b[key].to_string());
        }
        shown(cells);
        // Its bar is labelled in the chart.
        assert!(
            per_bulk_chart.contains(bulk.as_str()),
            "{bulk} in the chart"
        );
    }

    // One bar per bulk (a failed share in each), also when a page holds a single bulk.
    let failed_bars = |chart: &str| {
        chart
            .split("<rect ")
            .skip(1)
            .filter(|r| r.contains("fill=\"#C62828\"") && !r.contains("width=\"0\""))
            .count()
    };
    assert_eq!(failed_bars(per_bulk_chart), 2, "{per_bulk_chart}");
    let one = bulks.keys().next().unwrap();
    let o = run(
        &[
            "stats",
            journal.to_str().unwrap(),
            "--bulk-id",
            one,
            "-o",
            "html",
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let single = stdout(&o);
    let chart = single
        .split_once("Outcomes per bulk")
        .and_then(|(_, rest)| rest.split_once("</svg>"))
        .map(|(chart, _)| chart)
        .unwrap();
    assert_eq!(failed_bars(chart), 1, "a lone bulk has its bar: {chart}");

    let png = dir.join("campaign.png");
    headless(
        &browser,
        &profile,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1200,2000",
            &url,
        ],
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    // A blank 1200x2000 page compresses to a few KiB; charts and text take far more.
    assert!(
        bytes.len() > 30_000,
        "the screenshot is near-empty ({} bytes)",
        bytes.len()
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        // Inside this crate, so the packaged crate holds what its test refreshes.
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/campaign.png");
        std::fs::copy(&png, docs).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
