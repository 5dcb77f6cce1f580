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

/// Runs the binary (clean API environment plus `env`), killed and the test failed after
/// 60 s: a setting that did not take (`--once`) must not hang the suite.
async fn run_bounded(args: &[&str], env: &[(&str, &str)]) -> Output {
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
    let label = format!("{args:?} {env:?}");
    tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let output = child.wait_with_output().unwrap();
                panic!("{label} still ran after 60 s: {}", stderr(&output));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn on_off_settings_come_from_the_environment_as_true_false_1_0() {
    // Each is named in --help, beside its flag.
    for (command, vars) in [
        (
            "collect",
            &[
                "IVR_REPORTS_ONCE",
                "IVR_REPORTS_V2",
                "IVR_REPORTS_NO_RECONCILE",
                "IVR_REPORTS_WEBHOOK_NO_AUTH",
                "IVR_REPORTS_WEBHOOK_MEMORY_BUDGET",
                "IVR_REPORTS_WEBHOOK_MAX_QUARANTINE",
                "IVR_REPORTS_RECONCILE_MARGIN",
                "IVR_REPORTS_LOGS_RATE",
                "IVR_REPORTS_ALLOW_INSECURE_HTTP",
                "IVR_REPORTS_LOG_FORMAT",
                "IVR_REPORTS_SINK",
                "IVR_REPORTS_SPOOL",
            ][..],
        ),
        (
            "reconcile",
            &[
                "IVR_REPORTS_SINK",
                "IVR_REPORTS_SPOOL",
                "IVR_REPORTS_LOGS_RATE",
            ][..],
        ),
        (
            "audit",
            &["IVR_REPORTS_SINK", "IVR_REPORTS_RECONCILE_MARGIN"][..],
        ),
        ("stats", &["IVR_REPORTS_SINK"][..]),
        (
            "sandbox",
            &[
                "IVR_REPORTS_SANDBOX_ADDR",
                "IVR_REPORTS_SANDBOX_SEED",
                "IVR_REPORTS_SANDBOX_MAX_BODY_BYTES",
                "IVR_REPORTS_SANDBOX_LOGS_RATE_LIMIT",
            ][..],
        ),
        ("fetch", &["IVR_REPORTS_ALLOW_INSECURE_HTTP"][..]),
    ] {
        let help = stdout(&run(&[command, "--help"], &[]).await);
        for var in vars {
            assert!(
                help.contains(&format!("[env: {var}")),
                "{command}: {var}\n{help}"
            );
        }
    }

    let s = crate::sandbox().await;
    let api = crate::env_for(&s);
    let dir = std::env::temp_dir().join(format!("ivr-cli-env-bool-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sink = format!("jsonl:{}", dir.join("r.jsonl").display());
    // A webhook on every interface without credentials: refused, unless
    // IVR_REPORTS_WEBHOOK_NO_AUTH says so; IVR_REPORTS_ONCE stops the pull after the first
    // empty page (without it, this would poll until killed).
    let args = ["collect", "--webhook", "0.0.0.0:0", "--no-reconcile"];
    for (value, accepted) in [("true", true), ("1", true), ("false", false), ("0", false)] {
        if accepted {
            s.simulate_campaign("env-bool", 3);
        }
        let mut env: Vec<(&str, &str)> = api.iter().map(|(k, v)| (*k, v.as_str())).collect();
        env.extend([
            ("IVR_REPORTS_SINK", sink.as_str()),
            ("IVR_REPORTS_ONCE", "1"),
            ("IVR_REPORTS_WEBHOOK_NO_AUTH", value),
        ]);
        let o = run_bounded(&args, &env).await;
        let err = stderr(&o);
        if accepted {
            assert_eq!(o.status.code(), Some(0), "{value}: {err}");
            assert!(err.contains("WITHOUT authentication"), "{value}: {err}");
            assert!(err.contains("received 3 by pull"), "{value}: {err}");
        } else {
            assert_eq!(o.status.code(), Some(2), "{value}: {err}");
            assert!(err.contains("--webhook-no-auth"), "{value}: {err}");
        }
    }
    // Anything else is a usage error that names the flag.
    let o = run_bounded(&args, &[("IVR_REPORTS_WEBHOOK_NO_AUTH", "maybe")]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--webhook-no-auth"), "{}", stderr(&o));

    // IVR_REPORTS_V2: the pull takes v2 reports (stored as generation 2).
    s.simulate_campaign("env-v2", 2);
    let journal = dir.join("v2.jsonl");
    let v2_sink = format!("jsonl:{}", journal.display());
    let mut env: Vec<(&str, &str)> = api.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend([("IVR_REPORTS_V2", "true"), ("IVR_REPORTS_ONCE", "true")]);
    let o = run_bounded(&["collect", "--sink", &v2_sink, "--no-reconcile"], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stored = ivr_reports_collector::JsonlSink::read(&journal)
        .await
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert!(
        stored
            .iter()
            .all(|r| matches!(r, ivr_reports_collector::AnyReport::V2(_))),
        "{stored:?}"
    );

    // IVR_REPORTS_ALLOW_INSECURE_HTTP: credentials over plain http to a host the CLI does
    // not know as loopback (an IPv4-mapped IPv6 address, which still reaches the sandbox).
    let port = s
        .base_url()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/');
    let mapped = format!("http://[::ffff:127.0.0.1]:{port}");
    s.simulate_campaign("env-insecure", 1);
    let fetch = ["fetch", "--base-url", &mapped, "-o", "jsonl"];
    let key = [("INFOBIP_API_KEY", crate::KEY)];
    let o = run_bounded(&fetch, &key).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--allow-insecure-http"),
        "{}",
        stderr(&o)
    );
    let o = run_bounded(
        &fetch,
        &[key[0], ("IVR_REPORTS_ALLOW_INSECURE_HTTP", "true")],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 1, "{}", stdout(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn sink_is_one_argument_everywhere() {
    // The same help, environment variable and default wherever it is taken.
    let mut blocks = Vec::new();
    for command in ["collect", "reconcile", "audit", "stats"] {
        let help = stdout(&run(&[command, "--help"], &[]).await);
        let start = help
            .find("--sink <SINK>")
            .unwrap_or_else(|| panic!("{command}: {help}"));
        let block: String = help[start..]
            .lines()
            .take_while(|l| !l.trim().starts_with("[default:"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            block.contains("[env: IVR_REPORTS_SINK]"),
            "{command}: {block}"
        );
        assert!(help[start..].contains("[default: jsonl:./ivr-reports.jsonl]"));
        blocks.push(block);
    }
    assert!(blocks.windows(2).all(|w| w[0] == w[1]), "{blocks:#?}");
}

/// Runs the binary with stdin, stdout and stderr on a pseudo-terminal (util-linux's
/// `script`), `env` added and the locale variables only as given; everything it drew,
/// with ANSI escapes removed. Killed (and the test failed) after 120 s.
fn run_in_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
        .unwrap_or_else(|| {
            panic!(
                "this test needs `script` (util-linux) for a pseudo-terminal; {}",
                crate::HOW
            )
        });
    let quote = |a: &str| format!("'{}'", a.replace('\'', "'\\''"));
    let mut command = quote(env!("CARGO_BIN_EXE_ivr-reports"));
    for a in args {
        command.push(' ');
        command.push_str(&quote(a));
    }
    let mut cmd = Command::new(script);
    cmd.args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env_remove("INFOBIP_BASE_URL")
        .env_remove("INFOBIP_API_KEY")
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_CTYPE")
        .env_remove("RUST_LOG")
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        std::io::Read::read_to_end(&mut out, &mut all).unwrap();
        all
    });
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("{args:?} on a terminal still ran after 120 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = child.wait().unwrap();
    let raw = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    assert!(status.success(), "{args:?} on a terminal: {status}\n{raw}");
    // Without CSI escapes (`ESC [ ... letter`).
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            text.push(c);
        }
    }
    text
}

/// The progress frames drawn: the pieces of the output between carriage returns and line
/// feeds that mention what is stored.
fn frames(text: &str) -> Vec<&str> {
    text.split(['\r', '\n'])
        .filter(|f| f.contains(" stored") && !f.contains("INFO"))
        .collect()
}

/// A rate such as `2880/s` among the words of a frame.
fn has_rate(frame: &str) -> bool {
    frame.split_whitespace().any(|w| {
        w.strip_suffix("/s")
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_on_a_terminal_a_bar_or_a_spinner_ascii_without_utf8_none_with_q() {
    let dir = std::env::temp_dir().join(format!("ivr-cli-pty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sink = |name: &str| format!("jsonl:{}", dir.join(name).display());

    // The total is known: a bar with the total, a rate and an ETA.
    let utf8 = sink("utf8.jsonl");
    let args = ["collect", "--sandbox", "--calls", "10000", "--sink", &utf8];
    let text = tokio::task::block_in_place(|| run_in_terminal(&args, &[("LANG", "C.UTF-8")]));
    let drawn = frames(&text);
    assert!(!drawn.is_empty(), "no progress drawn:\n{text}");
    assert!(
        drawn.iter().all(|f| f.contains("/10000 stored")),
        "{drawn:#?}"
    );
    assert!(drawn.iter().all(|f| f.contains("ETA ")), "{drawn:#?}");
    assert!(drawn.iter().any(|f| has_rate(f)), "{drawn:#?}");
    assert!(drawn.iter().any(|f| f.contains('░')), "{drawn:#?}");

    // Not UTF-8 (LANG=C): the same bar in ASCII.
    let c = sink("c.jsonl");
    let args = ["collect", "--sandbox", "--calls", "10000", "--sink", &c];
    let text = tokio::task::block_in_place(|| run_in_terminal(&args, &[("LANG", "C")]));
    let drawn = frames(&text);
    assert!(!drawn.is_empty(), "no progress drawn:\n{text}");
    assert!(drawn.iter().all(|f| f.is_ascii()), "{drawn:#?}");
    assert!(drawn.iter().any(|f| f.contains("---")), "{drawn:#?}");

    // The total is not known (a pull from an API): a spinner with the rate, no total.
    let s = crate::sandbox().await;
    s.simulate_campaign("pty", 3000);
    let base = s.base_url().to_string();
    let once = sink("once.jsonl");
    let text = tokio::task::block_in_place(|| {
        run_in_terminal(
            &["collect", "--once", "--no-reconcile", "--sink", &once],
            &[
                ("LC_ALL", "C"),
                ("INFOBIP_BASE_URL", &base),
                ("INFOBIP_API_KEY", crate::KEY),
            ],
        )
    });
    let drawn = frames(&text);
    assert!(!drawn.is_empty(), "no spinner drawn:\n{text}");
    assert!(drawn.iter().all(|f| f.is_ascii()), "{drawn:#?}");
    assert!(drawn.iter().all(|f| !f.contains("ETA")), "{drawn:#?}");
    assert!(drawn.iter().all(|f| !f.contains("/3000")), "{drawn:#?}");
    assert!(drawn.iter().any(|f| has_rate(f)), "{drawn:#?}");
    assert!(
        drawn
            .iter()
            .any(|f| f.trim_start().starts_with(['-', '\\', '|', '/'])),
        "a spinner: {drawn:#?}"
    );
    assert!(text.contains("received 3000 by pull"), "{text}");

    // -q on a terminal: nothing drawn (the statistics still print).
    let quiet = sink("quiet.jsonl");
    let args = [
        "-q",
        "collect",
        "--sandbox",
        "--calls",
        "2000",
        "--sink",
        &quiet,
    ];
    let text = tokio::task::block_in_place(|| run_in_terminal(&args, &[("LANG", "C.UTF-8")]));
    assert!(frames(&text).is_empty(), "{text}");
    assert!(text.contains("All calls: 2000 calls"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}
