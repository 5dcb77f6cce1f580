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
