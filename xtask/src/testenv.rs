//! What the tests need besides cargo: a Python virtualenv with Infobip's SDK, a local PostgreSQL and Chromium.
//!
//! `cargo xtask ci test` calls [`prepare`] and hands the variables to the test processes;
//! `cargo xtask env` prints them as `export` lines for `eval "$(cargo xtask env)"`, so that
//! `cargo nextest run ...` alone finds them too. The PostgreSQL logic stays in ONE place,
//! `.ci/start-postgres` (bash), which this runs and reads the exported variables back from.
//! A variable already set in the environment wins: point one at your own interpreter or server.

use std::env;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::Result;

/// The interpreter with `infobip-api-python-client` for the sandbox's conformance test.
const PYTHON: &str = "IVR_REPORTS_PYTHON";

/// The headless browser that renders `stats --output html` in the CLI's tests.
const CHROMIUM: &str = "IVR_REPORTS_CHROMIUM";

/// What `.ci/start-postgres` exports for the collector's and the CLI's PostgreSQL tests.
const PG_VARS: [&str; 3] = [
    "IVR_REPORTS_PG_URL",
    "IVR_REPORTS_PG_CA",
    "IVR_REPORTS_PG_PASSWORD_URL",
];

/// The SDK version the conformance test is written against.
const SDK: &str = "infobip-api-python-client==6.0.0";

/// `cargo xtask env`: prepares everything, then prints `export NAME='value'` lines (only
/// those on stdout; progress goes to stderr).
pub(crate) fn command(root: &Path, args: &[String]) -> Result {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: eval \"$(cargo xtask env)\"\n");
        println!("Prepares what the tests need (target/py-venv with {SDK}, a local PostgreSQL");
        println!("via .ci/start-postgres, Chromium: apt-get install chromium when missing) and");
        println!("prints the variables the tests read:");
        println!("  {PYTHON} {CHROMIUM} {}", PG_VARS.join(" "));
        return Ok(());
    }
    if let Some(extra) = args.first() {
        return Err(format!(
            "`cargo xtask env` takes no argument (got `{extra}`)"
        ));
    }
    for (name, value) in prepare(root)? {
        println!("export {name}={}", shell_quote(&value));
    }
    Ok(())
}

/// Makes the virtualenv and starts (or reuses) PostgreSQL; returns every variable the tests
/// read, with its value. Progress goes to stderr so `cargo xtask env` keeps stdout clean.
pub(crate) fn prepare(root: &Path) -> Result<Vec<(String, String)>> {
    let mut vars = Vec::new();
    match preset(PYTHON) {
        Some(python) => {
            eprintln!("==> python: {PYTHON}={python} (from the environment)");
            vars.push((PYTHON.to_string(), python));
        }
        None => vars.push((PYTHON.to_string(), python_venv(root)?)),
    }
    match preset(CHROMIUM) {
        Some(chromium) => {
            eprintln!("==> chromium: {CHROMIUM}={chromium} (from the environment)");
            vars.push((CHROMIUM.to_string(), chromium));
        }
        None => vars.push((CHROMIUM.to_string(), chromium()?)),
    }
    let missing: Vec<&str> = PG_VARS
        .iter()
        .copied()
        .filter(|v| preset(v).is_none())
        .collect();
    let started = if missing.is_empty() {
        Vec::new()
    } else {
        start_postgres(root)?
    };
    for name in PG_VARS {
        let value = match preset(name) {
            Some(value) => {
                // Not echoed: a URL someone set may hold a real password.
                eprintln!("==> PostgreSQL: {name} is set in the environment: kept");
                value
            }
            None => started
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!(".ci/start-postgres did not export {name}"))?,
        };
        vars.push((name.to_string(), value));
    }
    Ok(vars)
}

/// Chromium's path: on PATH (`chromium`, `chromium-browser`), else installed with Debian's
/// `apt-get install -y chromium` (as `.ci/start-postgres` installs PostgreSQL).
fn chromium() -> Result<String> {
    let find = || {
        let path = env::var_os("PATH").unwrap_or_default();
        env::split_paths(&path)
            .flat_map(|dir| ["chromium", "chromium-browser"].map(|name| dir.join(name)))
            .find(|p| p.is_file())
    };
    if find().is_none() {
        eprintln!("==> chromium: installing Debian's chromium package");
        let mut update = Command::new("apt-get");
        update.args(["update", "-qq"]);
        run_to_stderr(update)?;
        let mut apt = Command::new("apt-get");
        apt.args(["install", "-y", "--no-install-recommends", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        run_to_stderr(apt).map_err(|e| {
            format!("{e}\n(the HTML test needs Chromium: apt-get install chromium as root, or set {CHROMIUM})")
        })?;
    }
    let found = find()
        .ok_or_else(|| format!("chromium is not on PATH after installing it; set {CHROMIUM}"))?
        .display()
        .to_string();
    eprintln!("==> chromium: {CHROMIUM}={found}");
    Ok(found)
}

/// The Python interpreter with the SDK: `IVR_REPORTS_PYTHON` when set, else the
/// virtualenv of [`prepare`] (made when missing).
pub(crate) fn python(root: &Path) -> Result<String> {
    match preset(PYTHON) {
        Some(python) => Ok(python),
        None => python_venv(root),
    }
}

/// The variable's value when the caller set it (an empty value counts as unset).
fn preset(name: &str) -> Option<String> {
    env::var(name).ok().filter(|v| !v.is_empty())
}

/// `target/py-venv` with the SDK installed; returns its interpreter's absolute path.
/// pip runs only when the SDK is missing or another version, so a warm run needs no network.
fn python_venv(root: &Path) -> Result<String> {
    let venv = root.join("target/py-venv");
    let python = venv.join("bin/python");
    if !python.is_file() {
        eprintln!("==> python: creating {}", venv.display());
        let mut cmd = Command::new("python3");
        cmd.args(["-m", "venv"]).arg(&venv);
        run_to_stderr(cmd).map_err(|e| {
            format!("{e}\n(the tests need python3 with the venv module, e.g. apt-get install python3-venv)")
        })?;
    }
    let wanted = SDK.split_once("==").map_or(SDK, |(_, v)| v);
    let check = format!(
        "import importlib.metadata as m, sys; sys.exit(m.version('infobip-api-python-client') != '{wanted}')"
    );
    let installed = Command::new(&python)
        .args(["-c", &check])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        eprintln!("==> python: installing {SDK}");
        let mut pip = Command::new(&python);
        pip.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            SDK,
        ]);
        run_to_stderr(pip)?;
    }
    let shown = python.display().to_string();
    eprintln!("==> python: {PYTHON}={shown} ({SDK})");
    Ok(shown)
}

/// Sources `.ci/start-postgres` in bash (its messages go to stderr) and returns the
/// `IVR_REPORTS_PG_*` variables it exported.
fn start_postgres(root: &Path) -> Result<Vec<(String, String)>> {
    let mut cmd = Command::new("bash");
    cmd.current_dir(root)
        .args(["-c", "source .ci/start-postgres >&2 && env -0"])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let out = cmd
        .output()
        .map_err(|e| format!("could not start bash for .ci/start-postgres: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            ".ci/start-postgres failed ({}); its messages are above. The PostgreSQL tests need \
             a server: fix that, or set {} yourself",
            out.status,
            PG_VARS.join(", ")
        ));
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|e| format!(".ci/start-postgres: the environment is not UTF-8: {e}"))?;
    Ok(parse_env0(&text)
        .into_iter()
        .filter(|(name, _)| PG_VARS.contains(&name.as_str()))
        .collect())
}

/// `env -0` output: `NAME=value` entries separated by NUL (values may hold newlines).
fn parse_env0(text: &str) -> Vec<(String, String)> {
    text.split('\0')
        .filter_map(|entry| entry.split_once('='))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}

/// `value` quoted for a POSIX shell: in single quotes, each `'` written as `'\''`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// Runs `cmd` with its stdout sent to our stderr (stdout is for `export` lines only).
fn run_to_stderr(mut cmd: Command) -> Result {
    let shown = format!("{cmd:?}").replace('"', "");
    let status = cmd
        .stdout(Stdio::from(io::stderr()))
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} exited with {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env0_entries_keep_newlines_and_equals_signs() {
        let text = "A=1\0IVR_REPORTS_PG_URL=postgres://a@h:5432/d?x=y\0B=two\nlines\0";
        assert_eq!(
            parse_env0(text),
            [
                ("A".to_string(), "1".to_string()),
                (
                    "IVR_REPORTS_PG_URL".to_string(),
                    "postgres://a@h:5432/d?x=y".to_string()
                ),
                ("B".to_string(), "two\nlines".to_string()),
            ]
        );
    }

    #[test]
    fn shell_quote_survives_single_quotes() {
        assert_eq!(shell_quote("/a b/c"), "'/a b/c'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
