//! `ivr-reports collect` never loses a report silently: crashes mid-request, signals,
//! refused credentials, health.

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use ivr_reports_collector::JsonlSink;
use ivr_reports_sandbox::{Faults, SandboxHandle};

use crate::{KEY, env_for, fixed_reports, run, sandbox, stderr, temp_dir};

/// Starts the binary (clean environment plus the sandbox's), output captured.
fn spawn(args: &[&str], sandbox: &SandboxHandle) -> Child {
    spawn_with_key(args, sandbox, KEY)
}

/// [`spawn`] with another API key.
fn spawn_with_key(args: &[&str], sandbox: &SandboxHandle, key: &str) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ivr-reports"));
    cmd.args(args)
        .env_remove("INFOBIP_BASE_URL")
        .env_remove("INFOBIP_API_KEY")
        .env_remove("INFOBIP_USERNAME")
        .env_remove("INFOBIP_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env_for(sandbox) {
        cmd.env(k, v);
    }
    cmd.env("INFOBIP_API_KEY", key);
    cmd.spawn().unwrap()
}

/// Waits (bounded) for `child` to exit; kills it and fails the test after `limit`.
async fn wait_exit(mut child: Child, limit: Duration, what: &str) -> Output {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
                .await
                .unwrap();
            let all = format!("{}{}", stdout_of(&output), stderr(&output));
            assert!(!all.contains(KEY), "the secret leaked:\n{all}");
            return output;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "{what}: still running after {limit:?}; stderr so far:\n{}",
                stderr(&output)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn stdout_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Waits (bounded) until the spool holds an in-flight marker: a report request is out.
async fn wait_in_flight(spool: &Path, child: &mut Child) {
    let start = Instant::now();
    while std::fs::metadata(spool).map_or(0, |m| m.len()) == 0 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the collector exited before its request was in flight"
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no request in flight after 20 s (no marker in {})",
            spool.display()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_kill_while_a_request_is_in_flight_is_a_possible_loss_incident() {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    // The answer comes 3 s after the request: time to kill the collector meanwhile.
    s.set_faults(Faults::new().latency_ms(3000)).unwrap();
    let dir = temp_dir("inflight-kill");
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    let spool = dir.join("r.spool");
    let spool_arg = spool.display().to_string();
    // Without reconciliation: these reports were sent in 2015, so no log holds them (the
    // reconciled case is in reconcile.rs). One request in flight at a time: the kill finds
    // exactly one (with K in flight, each is an incident of its own: collector tests).
    let args = [
        "collect",
        "--once",
        "--no-reconcile",
        "--concurrency",
        "1",
        "--sink",
        &sink,
        "--spool",
        &spool_arg,
    ];

    let mut child = spawn(&args, &s);
    wait_in_flight(&spool, &mut child).await;
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait().unwrap();

    // The restart finds the request that was in flight: exit 3, the incident named, even
    // though its own pull fails (a possible loss outranks any other failure).
    s.set_faults(Faults::new().rate_500(1.0)).unwrap();
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = run(&args, &env).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("possible-loss incident #1 (in flight at crash)"),
        "{err}"
    );
    assert!(err.contains("1 possible-loss incidents"), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "{err}"
    );
    s.set_faults(Faults::new()).unwrap();
    let log = std::fs::read_to_string(dir.join("r.spool.incidents")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    let incident: serde_json::Value = serde_json::from_str(log.trim()).unwrap();
    assert_eq!(incident["reason"], "in flight at crash");
    assert_eq!(incident["query"], "limit=1000");
    assert_eq!(incident["generation"], 1);
    assert!(incident["openedAt"].as_i64() <= incident["closedAt"].as_i64());

    // Accounted for: the next run neither repeats it nor fails.
    let o = run(&args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("r.spool.incidents"))
            .unwrap()
            .lines()
            .count(),
        1
    );
    // What the sandbox handed out is stored, except what the killed request may have
    // carried: that is the incident.
    let stored = JsonlSink::read(dir.join("r.jsonl")).await.unwrap().len() as u64;
    let c = s.counters();
    assert!(c.handed_out - stored <= 3 && c.pending == 0, "{c:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SIGINT or SIGTERM while a page is in flight: the page is finished and stored, the
/// summary printed, exit 0, no panic.
async fn stop_during_a_slow_pull(signal: &str) {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    s.set_faults(Faults::new().latency_ms(1500)).unwrap();
    let dir = temp_dir(&format!("stop-{signal}"));
    let journal = dir.join("r.jsonl");
    let sink = format!("jsonl:{}", journal.display());
    let spool = dir.join("r.spool");
    let spool_arg = spool.display().to_string();
    let mut child = spawn(
        &[
            "collect",
            "--sink",
            &sink,
            "--spool",
            &spool_arg,
            "--poll-interval",
            "60",
        ],
        &s,
    );
    wait_in_flight(&spool, &mut child).await;
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = wait_exit(child, Duration::from_secs(30), signal).await;
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains(&format!("SIG{signal}: stopping")), "{err}");
    assert!(err.contains("received 3 by pull"), "summary: {err}");
    assert_eq!(JsonlSink::read(&journal).await.unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn sigint_during_a_pull_finishes_the_page_and_exits_0() {
    stop_during_a_slow_pull("INT").await;
}

#[tokio::test]
async fn sigterm_during_a_pull_finishes_the_page_and_exits_0() {
    stop_during_a_slow_pull("TERM").await;
}

#[tokio::test]
async fn refused_credentials_stop_collect_with_exit_2_and_one_line() {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    let dir = temp_dir("refused");
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    let spool = dir.join("r.spool").display().to_string();
    let wrong = "not-the-sandbox-key-7";
    let child = spawn_with_key(
        &[
            "collect",
            "--sink",
            &sink,
            "--spool",
            &spool,
            "--poll-interval",
            "1",
        ],
        &s,
        wrong,
    );
    // Within seconds, not after polling forever.
    let o = wait_exit(child, Duration::from_secs(20), "collect with a refused key").await;
    let err = stderr(&o);
    assert!(!err.contains(wrong), "the key leaked: {err}");
    assert_eq!(o.status.code(), Some(2), "{err}");
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].contains("refused the credentials") && errors[0].contains("401"),
        "{err}"
    );
    // Nothing was consumed.
    assert_eq!(s.counters().pending, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_report_postgres_refuses_is_quarantined_alone() {
    let url = crate::pg_url("a_report_postgres_refuses_is_quarantined_alone");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("t_cli_poison_{}_{nanos}", std::process::id());
    // Create the schema and tables, then point the binary at them by search_path.
    let sink = ivr_reports_collector::PgSink::builder(url.clone())
        .schema(schema.clone())
        .connect()
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let cli_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");

    let s = sandbox().await;
    // A page where one report has a NUL in a string (`\u0000` on the wire): PostgreSQL's
    // text and jsonb refuse it. Then a later page of good reports.
    let mut page = fixed_reports();
    page[1].to = "4179\u{0}3026727".into();
    s.inject_v1(page);
    let dir = temp_dir("poison");
    let spool = dir.join("r.spool").display().to_string();
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let args = ["collect", "--once", "--sink", &cli_url, "--spool", &spool];
    let o = run(&args, &env).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("1 items were quarantined and 0 conflicting"),
        "{err}"
    );
    assert!(err.contains("stored 2 new"), "{err}");

    // The collection goes on: a later page is stored.
    let mut later = fixed_reports();
    for (i, r) in later.iter_mut().enumerate() {
        r.message_id = format!("later-{i}");
    }
    s.inject_v1(later);
    let o = run(&args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("stored 3 new"), "{}", stderr(&o));

    let stored: Vec<String> = ivr_reports_collector::Sink::reports(&sink)
        .await
        .unwrap()
        .iter()
        .map(|r| r.message_id().to_string())
        .collect();
    assert_eq!(stored.len(), 5, "{stored:?}");
    assert!(!stored.contains(&"12db39c3-7822-4e72-a3ec-c87442c0ffc5".to_string()));
    let quarantined = ivr_reports_collector::Sink::quarantined(&sink)
        .await
        .unwrap();
    assert_eq!(quarantined.len(), 1);
    let item = &quarantined[0].item;
    assert!(
        String::from_utf8_lossy(&item.raw).contains("12db39c3-7822-4e72-a3ec-c87442c0ffc5"),
        "the poison report is kept whole"
    );
    assert!(item.reason.contains("refused"), "{}", item.reason);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_conflicting_duplicate_is_kept_and_counted_not_dropped() {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    let dir = temp_dir("conflict");
    let journal = dir.join("r.jsonl");
    let sink = format!("jsonl:{}", journal.display());
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = run(&["collect", "--once", "--sink", &sink], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // The same three ids again: one with a different duration, two unchanged.
    let mut again = fixed_reports();
    again[0].duration = Some(11);
    s.inject_v1(again);
    let o = run(&["collect", "--once", "--sink", &sink], &env).await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("stored 0 new, 2 duplicates, 1 conflicts"),
        "{err}"
    );
    let quarantine = std::fs::read_to_string(dir.join("r.jsonl.quarantine")).unwrap();
    let entry: serde_json::Value = serde_json::from_str(quarantine.trim()).unwrap();
    assert_eq!(entry["scope"], "conflict");
    let both: serde_json::Value = serde_json::from_str(entry["raw"].as_str().unwrap()).unwrap();
    assert_eq!(both["stored"]["report"]["duration"], 10);
    assert_eq!(both["incoming"]["report"]["duration"], 11);
    assert_eq!(JsonlSink::read(&journal).await.unwrap().len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A plain HTTP/1.1 GET on 127.0.0.1: (status, body).
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

/// Polls `GET path` (bounded) until its status is `want`; returns the body.
async fn wait_status(addr: &str, path: &str, want: u16, limit: Duration) -> String {
    let start = Instant::now();
    loop {
        let (addr, p) = (addr.to_string(), path.to_string());
        let (status, body) = tokio::task::spawn_blocking(move || http_get(&addr, &p))
            .await
            .unwrap();
        if status == want {
            return body;
        }
        assert!(
            start.elapsed() < limit,
            "GET {path}: still {status} after {limit:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn metrics_and_healthz_follow_the_pull() {
    use std::io::BufRead;
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    let dir = temp_dir("metrics");
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    let spool = dir.join("r.spool").display().to_string();
    let mut child = spawn(
        &[
            "collect",
            "--sink",
            &sink,
            "--spool",
            &spool,
            "--poll-interval",
            "0.05",
            "--metrics",
            "127.0.0.1:0",
            "--unhealthy-after",
            "2",
        ],
        &s,
    );
    // The listener's address is on stderr; keep reading stderr in a thread.
    let stderr_pipe = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr_pipe).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("no metrics address on stderr");
        // A log line: `<time>  INFO ivr_reports_cli: metrics at http://ADDR/metrics, ...`.
        if let Some((_, rest)) = line.split_once("metrics at http://") {
            break rest.split('/').next().unwrap().to_string();
        }
    };

    // Ready and healthy after the first good pull; the counters are served.
    assert_eq!(
        wait_status(&addr, "/healthz", 200, Duration::from_secs(20)).await,
        "ok\n"
    );
    let metrics = wait_status(&addr, "/metrics", 200, Duration::from_secs(5)).await;
    assert!(metrics.contains("ivr_reports_ready 1\n"), "{metrics}");
    assert!(metrics.contains("ivr_reports_healthy 1\n"), "{metrics}");
    assert!(
        metrics.contains("ivr_reports_possible_loss_incidents_total 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ivr_reports_conflicts_total 0\n"),
        "{metrics}"
    );

    // Every pull fails: unhealthy after 2, with the reason.
    s.set_faults(Faults::new().rate_500(1.0)).unwrap();
    let body = wait_status(&addr, "/healthz", 503, Duration::from_secs(30)).await;
    assert!(body.starts_with("unhealthy: "), "{body}");
    assert!(body.contains("500"), "{body}");
    // Healthy again after a good pull.
    s.set_faults(Faults::new()).unwrap();
    wait_status(&addr, "/healthz", 200, Duration::from_secs(30)).await;
    assert_eq!(http_get(&addr, "/other").0, 404);

    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = wait_exit(child, Duration::from_secs(30), "collect --metrics").await;
    reader.join().unwrap();
    let rest: Vec<String> = rx.try_iter().collect();
    assert_eq!(o.status.code(), Some(0), "{rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("received 3 by pull")),
        "{rest:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A running `collect` reconciles a lost response while it pulls (not only when it
/// stops): the lost reports show up in the journal, recovered from logs, while the
/// process still runs; it then stops with exit 0, the incident closed.
#[tokio::test]
async fn a_running_collector_reconciles_a_lost_response_while_it_pulls() {
    let s = sandbox().await;
    let ids: std::collections::BTreeSet<String> =
        s.simulate_campaign("live", 30).into_iter().collect();
    s.set_faults(Faults::new().drop_after_take(1.0)).unwrap();
    let dir = temp_dir("live-reconcile");
    let journal = dir.join("r.jsonl");
    let sink = format!("jsonl:{}", journal.display());
    let spool_arg = dir.join("r.spool").display().to_string();
    let mut child = spawn(
        &[
            "collect",
            "--sink",
            &sink,
            "--spool",
            &spool_arg,
            "--poll-interval",
            "0.2",
            "--reconcile-every",
            "0.2",
        ],
        &s,
    );
    let start = Instant::now();
    loop {
        let stored = JsonlSink::read_stored(&journal).await.unwrap_or_default();
        let got: std::collections::BTreeSet<String> = stored
            .iter()
            .filter(|r| r.origin == ivr_reports_collector::Origin::Recovered)
            .map(|r| r.report.message_id().to_string())
            .collect();
        if got == ids {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the collector exited before reconciling"
        );
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "not reconciled within 20 s ({} of 30 recovered)",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    s.set_faults(Faults::new()).unwrap();
    let sent = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let o = wait_exit(child, Duration::from_secs(30), "TERM").await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("incident #1: closed"), "{err}");
    // Said when it happened, once (the library's own events wait for -v).
    let lost: Vec<&str> = err.lines().filter(|l| l.contains("lost")).collect();
    assert_eq!(lost.len(), 1, "{err}");
    assert!(
        lost[0].contains("possible-loss incident #1 (response lost)")
            && lost[0].contains("reconciling"),
        "{err}"
    );
    let log = std::fs::read_to_string(dir.join("r.spool.incidents")).unwrap();
    assert!(log.contains("\"reconciled\":1"), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A lost response is said on ONE stderr line at the default verbosity (the CLI's own: what
/// it means and that reconciliation is what to do), not once per layer; `-v` still shows
/// each layer's event.
#[tokio::test]
async fn a_lost_response_is_one_line_at_the_default_verbosity() {
    let s = sandbox().await;
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    s.set_faults(Faults::new().drop_after_take(1.0)).unwrap();
    let dir = temp_dir("lost-once");
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    let mentions = |err: &str| -> Vec<String> {
        err.lines()
            .filter(|l| l.to_lowercase().contains("lost"))
            .map(str::to_string)
            .collect()
    };
    for args in [
        &["collect", "--once", "--no-reconcile", "--sink", &sink][..],
        &["fetch", "-o", "jsonl"][..],
    ] {
        s.inject_v1(fixed_reports());
        let o = run(args, &env).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{err}");
        let lines = mentions(&err);
        assert_eq!(lines.len(), 1, "{args:?}: {err}");
        assert!(lines[0].starts_with("error:"), "{err}");
        assert!(lines[0].contains("consumed"), "{err}");
        assert!(lines[0].contains("reconcile"), "what to do: {err}");

        // -v: every layer's detail is there to see.
        s.inject_v1(fixed_reports());
        let mut verbose = vec!["-v"];
        verbose.extend(args);
        let o = run(&verbose, &env).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains("ivr_reports_transport"), "{err}");
        assert!(mentions(&err).len() > 1, "{err}");

        // RUST_LOG too.
        s.inject_v1(fixed_reports());
        let mut with_rust_log = env.clone();
        with_rust_log.push(("RUST_LOG", "ivr_reports_transport=debug"));
        let o = run(args, &with_rust_log).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(
            err.contains("ivr_reports_transport") && err.contains("response lost"),
            "{err}"
        );
    }

    // Only what the CLI restates is hidden: another failure's warning still shows.
    s.set_faults(Faults::new().rate_500(1.0)).unwrap();
    s.inject_v1(fixed_reports());
    let o = run(
        &["collect", "--once", "--no-reconcile", "--sink", &sink],
        &env,
    )
    .await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(" WARN ") && err.contains("pull failed"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
