//! Logs on stderr through the binary: `--log-format json`, `-q`, `-v`, `RUST_LOG`, and never
//! a secret (the API key is checked by `run` on every output).

use crate::{env_for, fixed_reports, run, sandbox, stderr, stdout};

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Every stderr line as JSON; panics on a line that is not.
fn json_lines(err: &str) -> Vec<serde_json::Value> {
    err.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn json_logs_are_json_with_spans_and_no_secret() {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    let env = env_for(&s);
    let o = run(
        &["-vv", "--log-format", "json", "fetch", "-o", "jsonl"],
        &env_refs(&env),
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().count(),
        3,
        "stdout keeps the reports only"
    );
    let lines = json_lines(&stderr(&o));
    let response = lines
        .iter()
        .find(|l| l["fields"]["message"] == "response")
        .unwrap_or_else(|| panic!("no response event: {lines:?}"));
    assert_eq!(response["level"], "DEBUG");
    assert_eq!(response["target"], "ivr_reports_transport::client");
    assert_eq!(response["fields"]["status"], 200);
    assert_eq!(response["span"]["name"], "http_request");
    assert_eq!(response["span"]["path"], "/tts/3/reports");
    assert!(
        lines
            .iter()
            .any(|l| l["level"] == "INFO" && l["target"] == "ivr_reports_cli"),
        "{lines:?}"
    );

    // A failure ends with a JSON error event carrying the exit code, not a plain line.
    let o = run(
        &[
            "--log-format",
            "json",
            "fetch",
            "--base-url",
            s.base_url(),
            "--api-key",
            "wrong",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    let lines = json_lines(&stderr(&o));
    let last = lines.last().unwrap();
    assert_eq!(last["level"], "ERROR");
    assert_eq!(last["fields"]["exit_code"], 1);
    assert!(
        last["fields"]["message"]
            .as_str()
            .unwrap()
            .starts_with("401 from")
    );
}

#[tokio::test]
async fn quiet_silences_info_and_verbose_adds_debug() {
    let s = sandbox().await;
    let env = env_for(&s);

    s.inject_v1(fixed_reports());
    let o = run(&["fetch", "-o", "jsonl"], &env_refs(&env)).await;
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(err.contains(" INFO ") && err.contains("consumed"), "{err}");
    assert!(!err.contains("DEBUG"), "{err}");

    s.inject_v1(fixed_reports());
    let o = run(&["-q", "fetch", "-o", "jsonl"], &env_refs(&env)).await;
    assert!(o.status.success());
    assert_eq!(stderr(&o), "", "-q: nothing but errors");
    assert_eq!(stdout(&o).lines().count(), 3);

    s.inject_v1(fixed_reports());
    let o = run(&["--verbose", "fetch", "-o", "jsonl"], &env_refs(&env)).await;
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("DEBUG") && err.contains("http_request"),
        "{err}"
    );
    assert!(!err.contains("TRACE"), "{err}");

    // -q still shows the one error line.
    let o = run(
        &[
            "-q",
            "fetch",
            "--base-url",
            s.base_url(),
            "--api-key",
            "wrong",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).starts_with("error: 401 from"));

    let o = run(&["-q", "-v", "fetch"], &env_refs(&env)).await;
    assert_eq!(o.status.code(), Some(2), "-q and -v conflict");
}

#[tokio::test]
async fn rust_log_overrides_the_flags_and_trace_shows_no_secret() {
    let s = sandbox().await;
    let env = env_for(&s);

    s.inject_v1(fixed_reports());
    let mut with_rust_log = env_refs(&env);
    with_rust_log.push(("RUST_LOG", "ivr_reports_transport=debug"));
    let o = run(&["-q", "fetch", "-o", "jsonl"], &with_rust_log).await;
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("DEBUG") && err.contains("ivr_reports_transport"),
        "{err}"
    );
    assert!(
        !err.contains("ivr_reports_cli"),
        "only the target RUST_LOG names: {err}"
    );

    // Everything, from every crate (hyper, h2, rustls...): the key still never shows (`run`
    // checks), nor does the Basic password.
    for auth in [vec![], vec!["basic"]] {
        s.inject_v1(fixed_reports());
        let c = s.credentials();
        let mut env = vec![("INFOBIP_BASE_URL", s.base_url()), ("RUST_LOG", "trace")];
        if auth.is_empty() {
            env.push(("INFOBIP_API_KEY", crate::KEY));
        } else {
            env.push(("INFOBIP_USERNAME", c.username()));
            env.push(("INFOBIP_PASSWORD", c.password()));
        }
        let o = run(&["--log-format", "json", "fetch", "-o", "jsonl"], &env).await;
        assert!(o.status.success(), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("DEBUG"), "{err}");
        assert!(
            !err.contains(c.password()),
            "the Basic password leaked: {err}"
        );
        json_lines(&err);
    }
}

#[tokio::test]
async fn collect_speaks_through_the_logger() {
    let dir = crate::temp_dir("collect-logs");
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    let args = [
        "collect",
        "--sandbox",
        "--calls",
        "20",
        "--sink",
        sink.as_str(),
    ];

    // JSON: every stderr line is an object, the summary among them.
    let mut json = vec!["--log-format", "json"];
    json.extend(args);
    let o = run(&json, &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let lines = json_lines(&stderr(&o));
    assert!(
        lines.iter().any(|l| l["target"] == "ivr_reports_cli"
            && l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("received 20 by pull"))),
        "{lines:?}"
    );

    // Quiet: nothing on stderr; the statistics still on stdout.
    let mut quiet = vec!["-q"];
    quiet.extend(args);
    let o = run(&quiet, &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "", "-q leaves only errors");
    // Only this run's campaign, though the sink holds the first run's too.
    assert!(stdout(&o).contains("All calls: 20 calls"), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
