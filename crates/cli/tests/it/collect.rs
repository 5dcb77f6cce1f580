//! `ivr-reports collect` and `ivr-reports stats`: stored once, summarised right.

use ivr_reports_collector::{AnyReport, JsonlSink, Sink};
use ivr_reports_sandbox::Faults;

use crate::{env_for, fixed_reports, golden, run, sandbox, stderr, stdout, temp_dir};

#[tokio::test]
async fn collect_sandbox_stores_the_campaign_and_prints_its_statistics() {
    let dir = temp_dir("campaign");
    let journal = dir.join("campaign.jsonl");
    let sink = format!("jsonl:{}", journal.display());
    let o = run(
        &[
            "collect",
            "--sandbox",
            "--calls",
            "2000",
            "--sink",
            &sink,
            "-o",
            "json",
        ],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("stored 2000 new"), "{}", stderr(&o));

    // The numbers follow from the test-number table: 2000 calls, 200 per last digit.
    let stats: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let all = &stats["overall"];
    assert_eq!(all["calls"], 2000);
    assert_eq!(all["answeredByHuman"], 600, "digits 0, 1 and 2");
    assert_eq!(all["answeredByMachine"], 200);
    assert_eq!(all["busy"], 200);
    assert_eq!(all["noAnswer"], 200);
    assert_eq!(
        all["failed"], 800,
        "declined, unavailable, invalid, rejected"
    );
    assert_eq!(
        all["dtmf"],
        serde_json::json!({"": 400, "1": 200, "2": 200})
    );
    // Every destination is +41 (0.03 CHF/s): the cost is the total duration times 0.03.
    let seconds = all["totalDuration"].as_u64().unwrap();
    let cost: ivr_reports::Decimal = all["cost"]["CHF"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        cost,
        ivr_reports::Decimal::from(seconds) * "0.03".parse::<ivr_reports::Decimal>().unwrap()
    );

    let stored = JsonlSink::read(&journal).await.unwrap();
    assert_eq!(stored.len(), 2000);
    // `stats` over the journal agrees with what `collect` printed.
    let o = run(&["stats", journal.to_str().unwrap(), "-o", "json"], &[]).await;
    let again: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(again["overall"], stats["overall"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn stats_table_and_csv_match_the_golden_files() {
    let dir = temp_dir("stats");
    let journal = dir.join("fixed.jsonl");
    {
        let sink = JsonlSink::open(&journal).await.unwrap();
        let reports: Vec<AnyReport> = fixed_reports().into_iter().map(AnyReport::from).collect();
        sink.store(&reports).await.unwrap();
    }
    for (output, file) in [("table", "stats.table.txt"), ("csv", "stats.csv")] {
        let o = run(
            &["stats", journal.to_str().unwrap(), "--output", output],
            // Bars drawn with blocks: a UTF-8 terminal.
            &[("LC_ALL", "C.UTF-8")],
        )
        .await;
        assert!(o.status.success(), "{}", stderr(&o));
        golden(file, &stdout(&o));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `stats --output json` carries the series the HTML page charts: calls and cost per hour
/// sent, the duration distribution, and all of it per bulk.
#[tokio::test]
async fn stats_json_carries_the_charts_series() {
    let dir = temp_dir("stats-series");
    let journal = dir.join("fixed.jsonl");
    {
        let sink = JsonlSink::open(&journal).await.unwrap();
        let mut reports: Vec<AnyReport> =
            fixed_reports().into_iter().map(AnyReport::from).collect();
        // A fourth call an hour later, in another bulk.
        let mut later = fixed_reports().remove(0);
        later.message_id = "later-0000-4000-a000-000000000004".parse().unwrap();
        later.bulk_id = Some("other-bulk".into());
        later.sent_at =
            Some(ivr_reports::Timestamp::parse("2015-02-12T10:05:00.000+0100").unwrap());
        later.duration = Some(400);
        reports.push(AnyReport::from(later));
        sink.store(&reports).await.unwrap();
    }
    let o = run(&["stats", journal.to_str().unwrap(), "-o", "json"], &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let overall = &doc["overall"];
    assert_eq!(
        overall["hourly"],
        serde_json::json!([
            {"hour": "2015-02-12T09", "calls": 3, "cost": {"CHF": "0", "EUR": "0.10", "USD": "0.5185"}},
            {"hour": "2015-02-12T10", "calls": 1, "cost": {"EUR": "4.00"}},
        ])
    );
    let durations: Vec<(String, u64)> = overall["durations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["bucket"].as_str().unwrap().to_string(),
                d["calls"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("0s", 1),
        ("1-15s", 1),
        ("16-30s", 0),
        ("31-60s", 0),
        ("1-2m", 1),
        ("2-5m", 0),
        ("over 5m", 1),
    ];
    assert_eq!(
        durations,
        expected.map(|(b, n)| (b.to_string(), n)).to_vec()
    );
    assert_eq!(overall["durations"][6]["fromSeconds"], 301);
    assert_eq!(
        overall["durations"][6]["toSeconds"],
        serde_json::Value::Null
    );
    // Per bulk, the same series.
    assert_eq!(doc["bulks"]["other-bulk"]["calls"], 1);
    assert_eq!(doc["bulks"]["other-bulk"]["durations"][6]["calls"], 1);
    assert_eq!(doc["bulks"]["golden-bulk"]["hourly"][0]["calls"], 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn collect_once_from_the_configured_api() {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    let dir = temp_dir("once");
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = run(&["collect", "--once", "--sink", &sink], &env).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(JsonlSink::read(dir.join("r.jsonl")).await.unwrap().len(), 3);
    // Run again: nothing new, nothing duplicated.
    s.inject_v1(fixed_reports());
    let o = run(&["collect", "--once", "--sink", &sink], &env).await;
    assert!(
        stderr(&o).contains("stored 0 new, 3 duplicates"),
        "{}",
        stderr(&o)
    );
    assert_eq!(JsonlSink::read(dir.join("r.jsonl")).await.unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_lost_response_while_collecting_exits_3() {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    s.set_faults(Faults::new().drop_after_take(1.0)).unwrap();
    let dir = temp_dir("lost");
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // Without reconciliation (these reports were sent in 2015: no log holds them).
    let o = run(
        &["collect", "--once", "--no-reconcile", "--sink", &sink],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let errors: Vec<_> = stderr(&o)
        .lines()
        .filter(|l| l.starts_with("error:"))
        .map(str::to_string)
        .collect();
    assert_eq!(errors.len(), 1, "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn bad_sinks_and_sources_are_usage_errors() {
    let o = run(&["collect", "--sink", "mysql://x", "--api-key", "k"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("error: unknown sink"),
        "{}",
        stderr(&o)
    );
    let o = run(&["stats", "/nonexistent/reports.jsonl"], &[]).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).starts_with("error: cannot open the journal"),
        "{}",
        stderr(&o)
    );
    let o = run(&["collect", "--calls", "5"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "--calls needs --sandbox");
}

#[tokio::test]
async fn the_jsonl_sink_refuses_a_file_that_is_not_a_journal() {
    // Issue #14: a one-line file with no final newline looked like a torn last line, and
    // `collect` silently emptied it. Several shapes of "not a journal", each left unchanged.
    let s = sandbox().await;
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dir = temp_dir("notajournal");
    for (name, contents) in [
        ("notes.txt", &b"remember to call the bank"[..]),
        ("export.csv", b"messageId,to,status"),
        (
            "other.json",
            b"{\"messageId\":\"m\",\"to\":\"41793026727\"}",
        ),
        ("lines.txt", b"first line\nsecond line without newline"),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, contents).unwrap();
        let sink = format!("jsonl:{}", file.display());
        let o = run(&["collect", "--once", "--sink", &sink], &env).await;
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("not a journal"),
            "{name}: {}",
            stderr(&o)
        );
        assert_eq!(
            std::fs::read(&file).unwrap(),
            contents,
            "{name} is unchanged, byte for byte"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
