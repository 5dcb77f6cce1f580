//! `ivr-reports fetch`: every output format, --save, errors and exit codes.

use ivr_reports::codec::Codec;
use ivr_reports::{Format, VoiceReport};
use ivr_reports_sandbox::Faults;

use crate::{KEY, env_for, fixed_reports, golden, run, sandbox, stderr, stdout};

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test]
async fn table_and_csv_match_the_golden_files() {
    for (output, file) in [("table", "fetch.table.txt"), ("csv", "fetch.csv")] {
        let s = sandbox().await;
        s.inject_v1(fixed_reports());
        let env = env_for(&s);
        let o = run(&["fetch", "--output", output], &env_refs(&env)).await;
        assert!(o.status.success(), "{}", stderr(&o));
        golden(file, &stdout(&o));
        assert!(
            stderr(&o).contains("consumed"),
            "warns that reports are consumed"
        );
    }
}

#[tokio::test]
async fn json_and_jsonl_decode_back_to_the_reports() {
    let codec = Codec::new(Format::Json).unwrap();
    for (output, wire) in [("json", "json"), ("jsonl", "xml")] {
        let s = sandbox().await;
        s.inject_v1(fixed_reports());
        let env = env_for(&s);
        let o = run(
            &["fetch", "--output", output, "--wire", wire],
            &env_refs(&env),
        )
        .await;
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        let reports: Vec<VoiceReport> = if output == "json" {
            codec.decode_page(text.as_bytes()).unwrap().reports
        } else {
            text.lines()
                .map(|l| codec.decode_report(l.as_bytes()).unwrap())
                .collect()
        };
        assert_eq!(reports, fixed_reports());
    }
}

#[tokio::test]
async fn v2_filters_and_limit() {
    let s = sandbox().await;
    s.simulate_campaign("camp-a", 5);
    s.simulate_campaign("camp-b", 5);
    let env = env_for(&s);
    let o = run(
        &[
            "fetch",
            "--v2",
            "--bulk-id",
            "camp-b",
            "--limit",
            "3",
            "-o",
            "csv",
        ],
        &env_refs(&env),
    )
    .await;
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<_> = stdout(&o).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 4, "header and three reports");
    assert!(lines[1..].iter().all(|l| l.contains("camp-b")));
    assert_eq!(s.counters().pending, 7);
}

#[tokio::test]
async fn save_writes_the_reports_before_printing() {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    let dir = std::env::temp_dir().join(format!("ivr-cli-save-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("saved.jsonl");
    let _ = std::fs::remove_file(&file);
    let env = env_for(&s);
    // Stdout closed at once: printing fails, but the reports are already on disk.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ivr-reports"));
    cmd.args(["fetch", "-o", "jsonl", "--save", file.to_str().unwrap()])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let codec = Codec::new(Format::Json).unwrap();
    let saved: Vec<VoiceReport> = codec
        .decode_page(&std::fs::read(&file).unwrap())
        .unwrap()
        .reports;
    assert_eq!(
        saved,
        fixed_reports(),
        "saved even though printing failed ({status})"
    );
    // A second fetch refuses to overwrite the file, before consuming anything.
    s.inject_v1(fixed_reports());
    let o = run(
        &["fetch", "--save", file.to_str().unwrap()],
        &env_refs(&env),
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(s.counters().pending, 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn failures_are_one_line_with_documented_exit_codes() {
    let s = sandbox().await;
    let url = s.base_url().to_string();
    // (arguments, environment, exit code, start of the one error line)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, i32, String);
    let cases: Vec<Case<'_>> = vec![
        (
            vec!["fetch", "--limit", "0"],
            vec![],
            2,
            "error: invalid value '0' for '--limit".into(),
        ),
        (
            vec!["fetch", "--output", "yaml"],
            vec![],
            2,
            "error: invalid value 'yaml'".into(),
        ),
        (
            vec!["frobnicate"],
            vec![],
            2,
            "error: unrecognized subcommand".into(),
        ),
        (vec!["fetch"], vec![], 2, "error: no credentials".into()),
        (
            vec!["fetch", "--base-url", "not a url", "--api-key", "k"],
            vec![],
            2,
            "error: invalid base URL".into(),
        ),
        (
            vec![
                "fetch",
                "--base-url",
                "http://example.com",
                "--api-key",
                KEY,
            ],
            vec![],
            2,
            "error: refusing to send credentials over plain http".into(),
        ),
        (
            vec!["fetch", "--base-url", &url, "--api-key", "wrong"],
            vec![],
            1,
            format!("error: 401 from {url}/tts/3/reports: Invalid login details"),
        ),
    ];
    for (args, env, code, first) in cases {
        let o = run(&args, &env).await;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        let error_lines: Vec<_> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(error_lines.len(), 1, "{args:?}: {err}");
        assert!(error_lines[0].starts_with(&first), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_lost_response_has_its_own_exit_code() {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    s.set_faults(Faults::new().drop_after_take(1.0)).unwrap();
    let env = env_for(&s);
    let o = run(&["fetch"], &env_refs(&env)).await;
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("may have been consumed"));
    assert_eq!(s.counters().lost_in_transit, 3);
}

#[tokio::test]
async fn basic_credentials_from_the_environment() {
    let s = sandbox().await;
    s.inject_v1(fixed_reports());
    let c = s.credentials();
    let env = [
        ("INFOBIP_BASE_URL", s.base_url()),
        ("INFOBIP_USERNAME", c.username()),
        ("INFOBIP_PASSWORD", c.password()),
    ];
    let o = run(&["--verbose", "fetch", "-o", "jsonl"], &env).await;
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3);
    assert!(
        !stderr(&o).contains(c.password()),
        "verbose never shows the password"
    );
}

/// A real HTTP server on 127.0.0.1 answering every request 200 with `body` as JSON.
fn serve(body: &'static [u8]) -> ivr_reports_transport::ServerHandle {
    ivr_reports_transport::Server::bind(
        "127.0.0.1:0".parse().unwrap(),
        move |_req: ivr_reports::http::Request<ivr_reports::bytes::Bytes>| async move {
            let response = ivr_reports::http::Response::builder()
                .header("content-type", "application/json")
                .body(ivr_reports::bytes::Bytes::from_static(body))
                .unwrap();
            Ok::<_, std::convert::Infallible>(response)
        },
    )
    .unwrap()
}

#[tokio::test]
async fn save_keeps_an_undecodable_body_and_exits_4() {
    // Reports were handed out, but the body broke off: only the raw bytes can save them.
    const BODY: &[u8] = br#"{"results":[{"bulkId":"b-1","messageId":"kept-by-save-1","to":"385981178","sentAt":"2015-02-12T09:58:20.323+0100","#;
    let server = serve(BODY);
    let url = format!("http://{}", server.local_addr());
    let dir = crate::temp_dir("save-undecodable");
    let file = dir.join("body.json");
    let o = run(
        &["fetch", "--save", file.to_str().unwrap()],
        &[("INFOBIP_BASE_URL", url.as_str()), ("INFOBIP_API_KEY", KEY)],
    )
    .await;
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        BODY,
        "the body, byte for byte"
    );
    let errors: Vec<_> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("could not be decoded"), "{err}");
    assert!(errors[0].contains(file.to_str().unwrap()), "{err}");

    // Without --save the exit code says the same, and how to keep the body next time.
    let o = run(
        &["fetch"],
        &[("INFOBIP_BASE_URL", url.as_str()), ("INFOBIP_API_KEY", KEY)],
    )
    .await;
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("--save"), "{}", stderr(&o));
    server
        .shutdown(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn save_keeps_rejected_reports_raw_and_exits_4() {
    // One good report, one without a messageId: the good one prints, the body is kept.
    const BODY: &[u8] = br#"{"results":[{"messageId":"good-1","to":"385981178"},{"to":"no-id"}]}"#;
    let server = serve(BODY);
    let url = format!("http://{}", server.local_addr());
    let dir = crate::temp_dir("save-rejected");
    let file = dir.join("body.json");
    let o = run(
        &["fetch", "-o", "jsonl", "--save", file.to_str().unwrap()],
        &[("INFOBIP_BASE_URL", url.as_str()), ("INFOBIP_API_KEY", KEY)],
    )
    .await;
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(std::fs::read(&file).unwrap(), BODY);
    assert_eq!(stdout(&o).lines().count(), 1, "the good report is printed");
    assert!(stdout(&o).contains("good-1"));
    assert!(
        stderr(&o).contains("1 of 2 reports could not be decoded"),
        "{}",
        stderr(&o)
    );
    server
        .shutdown(std::time::Duration::from_secs(5))
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
