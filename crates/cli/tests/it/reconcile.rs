//! Reconciliation and audit through the binary, against the sandbox's voice logs: a lost
//! response is recovered from the logs (not an exit 3 any more), and `audit` names exactly
//! the final calls without a stored report.

use std::collections::BTreeSet;
use std::time::Duration;

use ivr_reports_collector::{JsonlSink, Origin};
use ivr_reports_sandbox::Faults;

use crate::{env_for, run, sandbox, stderr, temp_dir};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[tokio::test]
async fn a_lost_response_is_reconciled_from_the_logs_and_audited() {
    let s = sandbox().await;
    let lost: Vec<String> = s.simulate_campaign("lost-bulk", 40);
    // Every report request hands its reports out and drops the answer.
    s.set_faults(Faults::new().drop_after_take(1.0)).unwrap();
    let dir = temp_dir("reconcile-lost");
    let journal = dir.join("r.jsonl");
    let sink = format!("jsonl:{}", journal.display());
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let o = run(&["collect", "--once", "--sink", &sink], &env).await;
    let err = stderr(&o);
    // The pull stopped on the lost response, but reconciliation recovered every report it
    // carried: not a possible loss (3), a plain failure of the pull (1).
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("reconciled from the logs"), "{err}");
    assert!(err.contains("40 reports recovered from logs"), "{err}");
    let handed_out: BTreeSet<String> = s.records().lost_in_transit.into_iter().collect();
    assert_eq!(handed_out, lost.iter().cloned().collect::<BTreeSet<_>>());
    let stored = JsonlSink::read_stored(&journal).await.unwrap();
    assert_eq!(stored.len(), 40);
    assert!(stored.iter().all(|r| r.origin == Origin::Recovered));
    let ids: BTreeSet<String> = stored
        .iter()
        .map(|r| r.report.message_id().to_string())
        .collect();
    assert_eq!(ids, handed_out);
    let log = std::fs::read_to_string(dir.join("r.jsonl.spool.incidents")).unwrap();
    assert!(log.contains("\"reconciled\":1"), "{log}");

    // A second campaign is pulled normally; then three of its journal lines are deleted.
    s.set_faults(Faults::new()).unwrap();
    let kept: Vec<String> = s.simulate_campaign("kept-bulk", 20);
    let o = run(&["collect", "--once", "--sink", &sink], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let since = (s.now().unix_millis() - 3_600_000).to_string();
    let since = ivr_reports_collector::model::Timestamp::from_unix_millis(since.parse().unwrap())
        .unwrap()
        .to_string();
    let until = ivr_reports_collector::model::Timestamp::from_unix_millis(
        s.now().unix_millis() + 3_600_000,
    )
    .unwrap()
    .to_string();
    let audit = |extra: &'static [&'static str]| {
        let mut args = vec![
            "audit".to_string(),
            "--since".into(),
            since.clone(),
            "--until".into(),
            until.clone(),
            "--sink".into(),
            sink.clone(),
        ];
        args.extend(extra.iter().map(|a| (*a).to_string()));
        args
    };
    let args = audit(&["--output", "json"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let bulks = doc["bulks"].as_array().unwrap();
    let lost_row = bulks.iter().find(|b| b["bulkId"] == "lost-bulk").unwrap();
    assert_eq!(lost_row["recovered"], 40, "{doc}");
    assert_eq!(lost_row["missing"], 0, "{doc}");
    let kept_row = bulks.iter().find(|b| b["bulkId"] == "kept-bulk").unwrap();
    assert_eq!(kept_row["pulled"], 20, "{doc}");

    let text = std::fs::read_to_string(&journal).unwrap();
    let deleted: BTreeSet<String> = kept[3..6].iter().cloned().collect();
    let remaining: String = text
        .lines()
        .filter(|l| !deleted.iter().any(|id| l.contains(&format!("\"{id}\""))))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(remaining.lines().count(), 57);
    std::fs::write(&journal, remaining).unwrap();
    for how in ["table", "csv", "json"] {
        let args = audit(&[]);
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(["--bulk-id", "kept-bulk", "--output", how]);
        let o = run(&args, &env).await;
        let out = stdout(&o);
        assert_eq!(o.status.code(), Some(3), "{how}: {out}{}", stderr(&o));
        assert!(stderr(&o).contains("3 final calls have no stored report"));
        // Exactly the deleted ones are named, and only this bulk is listed.
        let named: BTreeSet<String> = kept
            .iter()
            .filter(|id| out.contains(id.as_str()))
            .cloned()
            .collect();
        assert_eq!(named, deleted, "{how}: {out}");
        assert!(!out.contains("lost-bulk"), "{how}: {out}");
    }
    let _ = Duration::ZERO;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `ivr-reports reconcile` on demand, into PostgreSQL: a lost response collected without
/// reconciliation exits 3; `reconcile` recovers its reports and closes the incident (exit
/// 0); `audit` finds nothing missing; a second `reconcile` has nothing to do.
#[tokio::test]
async fn reconcile_on_demand_into_postgres_closes_the_incident() {
    let url = crate::pg_url("reconcile_on_demand_into_postgres_closes_the_incident");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("t_cli_reconcile_{}_{nanos}", std::process::id());
    let sink = ivr_reports_collector::PgSink::builder(url.clone())
        .schema(schema.clone())
        .connect()
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let cli_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");

    let s = sandbox().await;
    let ids: BTreeSet<String> = s.simulate_campaign("pg-bulk", 25).into_iter().collect();
    s.set_faults(Faults::new().drop_after_take(1.0)).unwrap();
    let dir = temp_dir("reconcile-pg");
    let spool = dir.join("r.spool").display().to_string();
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = run(
        &[
            "collect",
            "--once",
            "--no-reconcile",
            "--sink",
            &cli_url,
            "--spool",
            &spool,
        ],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    s.set_faults(Faults::new()).unwrap();

    let o = run(&["reconcile", "--sink", &cli_url, "--spool", &spool], &env).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("incident #1: closed"), "{err}");
    assert!(err.contains("25 reports recovered from logs"), "{err}");
    let stored = ivr_reports_collector::Sink::stored(&sink).await.unwrap();
    let got: BTreeSet<String> = stored
        .iter()
        .map(|r| r.report.message_id().to_string())
        .collect();
    assert_eq!(got, ids);
    assert!(stored.iter().all(|r| r.origin == Origin::Recovered));

    let now = s.now().unix_millis();
    let t = |ms: i64| {
        ivr_reports_collector::model::Timestamp::from_unix_millis(ms)
            .unwrap()
            .to_string()
    };
    let (since, until) = (t(now - 600_000), t(now + 600_000));
    let o = run(
        &[
            "audit", "--since", &since, "--until", &until, "--sink", &cli_url, "-o", "csv",
        ],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("pg-bulk,25,25,25,0,0,25,0,0,"),
        "{}",
        stdout(&o)
    );

    let o = run(&["reconcile", "--sink", &cli_url, "--spool", &spool], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("incident #1"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}
