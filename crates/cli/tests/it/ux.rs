//! What a user of the command line expects: clap's full errors, each subcommand showing its
//! own flags, completions, a quiet end on a closed pipe, flags and environment variables.

use std::process::{Command, Output, Stdio};

use crate::{run, stderr, stdout};

/// Runs the binary with no colour or API settings inherited, plus `env`.
fn run_plain(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ivr-reports"));
    cmd.args(args)
        .env_remove("INFOBIP_BASE_URL")
        .env_remove("INFOBIP_API_KEY")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn usage_errors_are_claps_whole_message() {
    // The possible values are listed.
    let o = run(&["fetch", "--wire", "yaml"], &[]).await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("[possible values: json, xml]"), "{err}");
    // "Did you mean".
    let o = run(&["fetch", "--limt", "5"], &[]).await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("--limit"), "{err}");
    assert!(err.contains("similar"), "{err}");
    let o = run(&["colect"], &[]).await;
    assert!(stderr(&o).contains("'collect'"), "{}", stderr(&o));
    // The missing flag is named.
    let o = run(&["collect", "--calls", "5"], &[]).await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("--sandbox"), "{err}");
    assert!(err.contains("Usage:"), "{err}");
}

#[test]
fn colour_only_when_wanted_and_never_with_no_color() {
    let piped = run_plain(&["fetch", "--wire", "yaml"], &[]);
    assert!(!stderr(&piped).contains('\x1b'), "{}", stderr(&piped));
    let forced = run_plain(&["fetch", "--wire", "yaml"], &[("CLICOLOR_FORCE", "1")]);
    assert!(stderr(&forced).contains('\x1b'), "{}", stderr(&forced));
    let no_color = run_plain(
        &["fetch", "--wire", "yaml"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")],
    );
    assert!(!stderr(&no_color).contains('\x1b'), "{}", stderr(&no_color));
}

#[tokio::test]
async fn each_subcommand_shows_only_its_own_flags() {
    for command in ["sandbox", "stats"] {
        let help = stdout(&run(&[command, "--help"], &[]).await);
        assert!(!help.contains("--base-url"), "{command}: {help}");
        assert!(!help.contains("--allow-insecure-http"), "{command}: {help}");
    }
    let help = stdout(&run(&["stats", "--help"], &[]).await);
    assert!(!help.contains("--api-key"), "{help}");
    // The sandbox names the credentials it accepts.
    let help = stdout(&run(&["sandbox", "--help"], &[]).await);
    assert!(help.contains("--api-key"), "{help}");
    for command in ["fetch", "collect", "reconcile", "audit"] {
        let help = stdout(&run(&[command, "--help"], &[]).await);
        assert!(help.contains("--base-url"), "{command}: {help}");
        assert!(help.contains("--api-key"), "{command}: {help}");
    }
}

#[tokio::test]
async fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ivr-reports"),
        ("fish", "complete -c ivr-reports"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let o = run(&["completions", shell], &[]).await;
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = stdout(&o);
        assert!(script.contains(marker), "{shell}: {script}");
        // Subcommands and their own flags are completed.
        assert!(script.contains("collect"), "{shell}");
        assert!(script.contains("poll-interval"), "{shell}");
    }
    let o = run(&["completions", "tcsh"], &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("possible values"), "{}", stderr(&o));
}

/// Runs the binary with its stdout a pipe whose reading end is closed before the command
/// writes anything (as `| head` does once it has its lines). The exit code and stderr;
/// killed (and the test failed) if it is still running after 30 s.
async fn run_into_closed_pipe(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ivr-reports"));
    cmd.args(args)
        .env_remove("INFOBIP_BASE_URL")
        .env_remove("INFOBIP_API_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let label = format!("{args:?}");
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        drop(child.stdout.take());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{label} still ran 30 s after its stdout closed");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let output = child.wait_with_output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_closed_pipe_ends_quietly_with_exit_0() {
    let s = crate::sandbox().await;
    s.simulate_campaign("pipe", 500);
    let env = crate::env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let dir = std::env::temp_dir().join(format!("ivr-cli-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    let commands: [&[&str]; 6] = [
        &["completions", "bash"],
        &["--help"],
        &["fetch", "--limit", "1000", "--output", "jsonl"],
        &["fetch", "--output", "table"],
        &["collect", "--sandbox", "--calls", "300", "--sink", &sink],
        &["sandbox", "--addr", "127.0.0.1:0", "--seed", "5"],
    ];
    for args in commands {
        s.simulate_campaign("pipe", 100);
        let (code, err) = run_into_closed_pipe(args, &env).await;
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
        assert!(!err.contains("error"), "{args:?}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn messages_speak_the_clis_language_and_say_things_once() {
    // The flag, not the library method.
    let o = run(
        &[
            "fetch",
            "--base-url",
            "http://example.com",
            "--api-key",
            "k",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("--allow-insecure-http"), "{err}");
    assert!(!err.contains("allow_insecure_http"), "{err}");

    // The "consumed" note: once on success, never on a failure.
    let s = crate::sandbox().await;
    s.simulate_campaign("note", 3);
    let env = crate::env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let o = run(&["fetch", "-o", "jsonl"], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("consumed").count(), 1, "{}", stderr(&o));
    let o = run(&["fetch", "--api-key", "wrong"], &env).await;
    assert_eq!(o.status.code(), Some(1));
    assert!(!stderr(&o).contains("consumed"), "{}", stderr(&o));

    // A lost response is said once, on one line.
    s.set_faults(ivr_reports_sandbox::Faults::new().drop_after_take(1.0))
        .unwrap();
    for args in [
        &["fetch", "-o", "jsonl"][..],
        &[
            "-q",
            "collect",
            "--once",
            "--no-reconcile",
            "--sink",
            "jsonl:",
        ][..],
    ] {
        s.inject_v1(crate::fixed_reports());
        let dir = std::env::temp_dir().join(format!("ivr-cli-drop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
        let args: Vec<&str> = args
            .iter()
            .map(|a| if *a == "jsonl:" { sink.as_str() } else { *a })
            .collect();
        let o = run(&args, &env).await;
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
        let err = stderr(&o);
        let line = err.lines().find(|l| l.starts_with("error:")).unwrap();
        assert_eq!(line.matches("lost").count(), 1, "{line}");
        assert_eq!(line.matches("consumed").count(), 1, "{line}");
        assert!(!err.contains("hands each report out only once"), "{err}");
    }
}

#[tokio::test]
async fn the_sandbox_banner_shows_how_to_authenticate_and_seed_is_a_count() {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivr-reports"))
        .args(["sandbox", "--addr", "127.0.0.1:0"])
        .env_remove("INFOBIP_API_KEY")
        .env_remove("INFOBIP_USERNAME")
        .env_remove("INFOBIP_PASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let banner = tokio::task::spawn_blocking(move || {
        let mut banner = String::new();
        let mut byte = [0u8; 1];
        while !banner.contains("Ctrl-C stops it.") && out.read(&mut byte).unwrap() == 1 {
            banner.push(byte[0] as char);
        }
        banner
    })
    .await
    .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    for wanted in [
        "Authorization: App sandbox-api-key",
        "sandbox / sandbox-password",
        "Bearer sandbox-admin-token",
    ] {
        assert!(banner.contains(wanted), "{wanted}: {banner}");
    }
    let help = stdout(&run(&["sandbox", "--help"], &[]).await);
    assert!(help.contains("--seed <COUNT>"), "{help}");
    assert!(help.contains("a count"), "{help}");
}

#[tokio::test]
async fn deployment_settings_come_from_the_environment_too() {
    // A sink (a path-like setting).
    let dir = std::env::temp_dir().join(format!("ivr-cli-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("from-env.jsonl");
    let sink = format!("jsonl:{}", journal.display());
    let o = run(
        &["collect", "--sandbox", "--calls", "20", "--output", "json"],
        &[("IVR_REPORTS_SINK", sink.as_str())],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stored = std::fs::read_to_string(&journal).unwrap();
    assert!(stored.lines().count() >= 20, "{stored}");
    std::fs::remove_dir_all(&dir).unwrap();

    // A timeout (a duration): a slow API outlasts IVR_REPORTS_RESPONSE_TIMEOUT.
    let s = crate::sandbox().await;
    s.inject_v1(crate::fixed_reports());
    s.set_faults(ivr_reports_sandbox::Faults::new().latency_ms(5_000))
        .unwrap();
    let env = crate::env_for(&s);
    let mut env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("IVR_REPORTS_RESPONSE_TIMEOUT", "0.3"));
    let o = run(&["fetch", "-o", "jsonl"], &env).await;
    // Lost (3), where the default 60 s would have waited and printed the reports.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));

    // Addresses and a poll interval: the environment's value is the flag's (clap names
    // the flag when the value is bad).
    for (var, value, flag) in [
        ("IVR_REPORTS_METRICS_ADDR", "nowhere", "--metrics"),
        ("IVR_REPORTS_WEBHOOK_ADDR", "nowhere", "--webhook"),
        ("IVR_REPORTS_POLL_INTERVAL", "soon", "--poll-interval"),
        ("IVR_REPORTS_CONCURRENCY", "0", "--concurrency"),
        ("IVR_REPORTS_CONCURRENCY", "65", "--concurrency"),
        ("IVR_REPORTS_CONNECT_TIMEOUT", "-1", "--connect-timeout"),
    ] {
        let o = run(&["collect", "--once", "--api-key", "k"], &[(var, value)]).await;
        assert_eq!(o.status.code(), Some(2), "{var}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{var}: {}", stderr(&o));
    }
}

#[tokio::test]
async fn no_progress_display_when_stderr_is_piped() {
    let dir = std::env::temp_dir().join(format!("ivr-cli-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    let o = run(
        &["collect", "--sandbox", "--calls", "500", "--sink", &sink],
        &[],
    )
    .await;
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(!err.contains('\r'), "{err:?}");
    assert!(!err.contains('\x1b'), "{err:?}");
    assert!(!err.contains("/500 stored"), "{err:?}");
}
