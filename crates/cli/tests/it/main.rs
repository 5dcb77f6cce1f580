//! The real `ivr-reports` binary against a sandbox on 127.0.0.1: outputs, exit codes, secrets.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod collect;
mod csv;
mod fetch;
mod html;
mod logging;
mod loss;
mod memory;
mod pg_tls;
mod reconcile;
mod sandbox;
mod sandbox_limits;
mod secrets;
mod stats;
mod ux;
mod webhook;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use ivr_reports::{Decimal, Price, ReportError, Status, Timestamp, VoiceReport};
use ivr_reports_sandbox::{Sandbox, SandboxHandle};

/// How to get what a test needs; said by every test that finds it missing.
pub(crate) const HOW: &str = "`cargo xtask ci test` prepares it (README.md, \"Tests\"); \
                   to run the tests another way, `eval \"$(cargo xtask env)\"` first";

/// The variable `name` that `.ci/start-postgres` exports. Fails the test, saying how to
/// provide it, when it is unset: a PostgreSQL test never passes without PostgreSQL.
pub(crate) fn pg_var(test: &str, name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => panic!("{test} needs PostgreSQL: {name} is unset; {HOW}"),
    }
}

/// The URL in `IVR_REPORTS_PG_URL`, once something answers at its host and port (else the
/// test fails, saying how to provide PostgreSQL).
pub(crate) fn pg_url(test: &str) -> String {
    let url = pg_var(test, "IVR_REPORTS_PG_URL");
    assert_pg_answers(test, "IVR_REPORTS_PG_URL", &url);
    url
}

/// Fails the test unless a TCP connection to `url`'s host and port succeeds. Only host and
/// port are shown: the URL may hold a password.
pub(crate) fn assert_pg_answers(test: &str, var: &str, url: &str) {
    let (host, port) =
        pg_host_port(url).unwrap_or_else(|| panic!("{test}: {var} has no host:port I can read"));
    let reached = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
        .map_err(|e| e.to_string())
        .and_then(|mut addrs| {
            addrs
                .find_map(|a| {
                    std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(5)).ok()
                })
                .ok_or_else(|| "connection refused or timed out".to_string())
        });
    if let Err(e) = reached {
        panic!("{test} needs PostgreSQL: nothing answers at {host}:{port} ({var}): {e}; {HOW}");
    }
}

/// Host and port of a `postgres://[user[:password]@]host[:port][/db][?options]` URL.
fn pg_host_port(url: &str) -> Option<(String, u16)> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host_port.rsplit_once(':') {
        Some((host, port)) => Some((
            host.trim_matches(['[', ']']).to_string(),
            port.parse().ok()?,
        )),
        None => Some((host_port.to_string(), 5432)),
    }
}

/// The API key of the test sandboxes: it must never appear in any output.
pub(crate) const KEY: &str = "cli-test-secret-key-0042";

pub(crate) async fn sandbox() -> SandboxHandle {
    Sandbox::builder().api_key(KEY).start().await.unwrap()
}

/// Runs the binary with a clean environment plus `env`, and checks no secret leaked.
pub(crate) async fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ivr-reports"));
    cmd.args(args)
        .env_remove("INFOBIP_BASE_URL")
        .env_remove("INFOBIP_API_KEY")
        .env_remove("INFOBIP_USERNAME")
        .env_remove("INFOBIP_PASSWORD")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let output = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !all.contains(KEY),
        "the secret leaked into the output:\n{all}"
    );
    output
}

/// The environment that points the binary at `sandbox`.
pub(crate) fn env_for(sandbox: &SandboxHandle) -> Vec<(&'static str, String)> {
    vec![
        ("INFOBIP_BASE_URL", sandbox.base_url().to_string()),
        ("INFOBIP_API_KEY", KEY.to_string()),
    ]
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Three fixed reports, so table and CSV output can be compared with golden files.
pub(crate) fn fixed_reports() -> Vec<VoiceReport> {
    let sent = Timestamp::parse("2015-02-12T09:58:20.323+0100").unwrap();
    let rows = [
        (
            "ff4804ef-6ab6-4abd-984d-ab3b1387e852",
            "385981178",
            10,
            Some("1"),
            5,
            5000,
        ),
        (
            "12db39c3-7822-4e72-a3ec-c87442c0ffc5",
            "41793026727",
            0,
            None,
            97,
            5002,
        ),
        (
            "a1b2c3d4-0000-4000-a000-000000000003",
            "14155550100",
            61,
            Some("2, 9"),
            5,
            5001,
        ),
    ];
    rows.iter()
        .map(|&(id, to, duration, dtmf, status, error)| {
            let mut r = VoiceReport::new(id, to);
            r.bulk_id = Some("golden-bulk".into());
            r.sent_at = Some(sent);
            r.duration = Some(duration);
            r.dtmf_codes = dtmf.map(str::to_string);
            let (amount, currency) = if to.starts_with("385") {
                ("0.01", "EUR")
            } else if to.starts_with("41") {
                ("0.03", "CHF")
            } else {
                ("0.0085", "USD")
            };
            r.price = Some(Price::new(amount.parse::<Decimal>().unwrap(), currency));
            r.status = Status::known(status);
            r.error = ReportError::known(error);
            r
        })
        .collect()
}

/// A fresh temporary directory for one test.
pub(crate) fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ivr-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compares `actual` with the golden file `name` (under `tests/golden/`). With
/// `UPDATE_GOLDEN=1` it writes the file instead.
pub(crate) fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "output differs from {}", path.display());
}
