//! `cargo xtask fuzz`: builds the libFuzzer targets in fuzz/ with coverage instrumentation and
//! runs them for a bounded time each, without needing cargo-fuzz installed.
//!
//! The build uses the flags `cargo fuzz build --sanitizer none` passes (sancov with inline
//! 8-bit counters, a PC table and compare tracing, `--cfg fuzzing`, debug assertions and
//! overflow checks), an explicit `--target` so build scripts and proc macros stay
//! uninstrumented, and its own target directory (target/fuzz). libfuzzer-sys compiles
//! libFuzzer itself with the machine's C++ compiler.
//!
//! Each run reads the committed seeds in fuzz/corpus/TARGET and keeps what it learns in
//! target/fuzz/corpus/TARGET (so the committed corpus never changes under you); a crash is
//! written to target/fuzz/artifacts/TARGET/ and fails the command.

use std::env;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{Result, cargo, output};

/// The fuzz targets: name (a `[[bin]]` of fuzz/Cargo.toml) and what it feeds.
const TARGETS: &[(&str, &str)] = &[
    (
        "json_v1_page",
        "Codec(Json).decode_page::<VoiceReport>; accepted reports round-trip",
    ),
    (
        "json_v2_page",
        "Codec(Json).decode_page::<CallReport>; accepted reports round-trip",
    ),
    (
        "xml_v1_page",
        "Codec(Xml).decode_page::<VoiceReport>; accepted reports round-trip",
    ),
    (
        "xml_v2_page",
        "Codec(Xml).decode_page::<CallReport>; accepted reports round-trip",
    ),
    (
        "logs_page",
        "Codec::decode_logs in JSON and XML; accepted log entries round-trip in both",
    ),
    (
        "api_error",
        "decode_api_error in JSON and XML; accepted errors round-trip",
    ),
    (
        "query",
        "parse_query and parse_logs_query (as the sandbox reads them) round-trip; Accept/Content-Type",
    ),
    ("timestamp", "Timestamp::parse; parse(format(t)) == t"),
    (
        "webhook_body",
        "the webhook's body path: Format::of_body, then either generation, as the collector decodes it",
    ),
];

/// Seconds per target for `cargo xtask ci fuzz`.
const CI_SECONDS: u64 = 15;
/// Seconds per target for `cargo xtask fuzz` without `--time`.
const DEFAULT_SECONDS: u64 = 60;

/// `cargo xtask fuzz [TARGET...] [--time S]`.
pub(crate) fn command(root: &Path, args: &[String]) -> Result {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print_help();
        return Ok(());
    }
    let mut seconds = DEFAULT_SECONDS;
    let mut names = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = if arg == "--time" {
            Some(
                args.next()
                    .ok_or("--time needs a number of seconds")?
                    .as_str(),
            )
        } else {
            arg.strip_prefix("--time=")
        };
        match value {
            Some(v) => {
                seconds = v
                    .parse()
                    .map_err(|_| format!("--time: `{v}` is not a whole number of seconds"))?;
            }
            None if arg.starts_with('-') => {
                return Err(format!(
                    "unknown option `{arg}`; `cargo xtask fuzz --help` lists them"
                ));
            }
            None => names.push(arg.as_str()),
        }
    }
    let selected = select(&names)?;
    fuzz(root, &selected, seconds)
}

fn print_help() {
    println!("usage: cargo xtask fuzz [TARGET...] [--time S]\n");
    println!(
        "Builds the fuzz targets (libFuzzer, no sanitizer) and runs each for S seconds \
         (default {DEFAULT_SECONDS}).\nSeeds: fuzz/corpus/TARGET; corpus grown: \
         target/fuzz/corpus/TARGET; crashes: target/fuzz/artifacts/TARGET.\n"
    );
    println!("targets:");
    for (name, about) in TARGETS {
        println!("  {name:<13} {about}");
    }
}

fn select<'a>(names: &[&str]) -> Result<Vec<&'a str>> {
    if names.is_empty() {
        return Ok(TARGETS.iter().map(|t| t.0).collect());
    }
    names
        .iter()
        .map(|name| {
            TARGETS
                .iter()
                .find(|t| t.0 == *name)
                .map(|t| t.0)
                .ok_or_else(|| {
                    format!("unknown fuzz target `{name}`; `cargo xtask fuzz --help` lists them")
                })
        })
        .collect()
}

/// The CI step: every target, briefly.
pub(crate) fn ci(root: &Path) -> Result {
    let all: Vec<&str> = TARGETS.iter().map(|t| t.0).collect();
    fuzz(root, &all, CI_SECONDS)
}

/// The flags `cargo fuzz build --sanitizer none` uses (coverage level 4 and compare tracing
/// for libFuzzer's value profile, `cfg(fuzzing)`, and every check on).
const RUSTFLAGS: &[&str] = &[
    "-Cpasses=sancov-module",
    "-Cllvm-args=-sanitizer-coverage-level=4",
    "-Cllvm-args=-sanitizer-coverage-inline-8bit-counters",
    "-Cllvm-args=-sanitizer-coverage-pc-table",
    "-Cllvm-args=-sanitizer-coverage-trace-compares",
    "--cfg",
    "fuzzing",
    "-Cdebug-assertions",
    "-Coverflow-checks",
];

fn host_triple(root: &Path) -> Result<String> {
    let mut cmd = Command::new(env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string()));
    cmd.current_dir(root).arg("-vV");
    let text = output(cmd)?;
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .ok_or_else(|| "rustc -vV printed no host triple".to_string())
}

fn fuzz(root: &Path, targets: &[&str], seconds: u64) -> Result {
    let triple = host_triple(root)?;
    let target_dir = root.join("target").join("fuzz");
    let t = Instant::now();
    let mut build = cargo(root);
    build
        .env("CARGO_ENCODED_RUSTFLAGS", RUSTFLAGS.join("\u{1f}"))
        .env_remove("RUSTFLAGS")
        .args(["build", "--release", "--manifest-path"])
        .arg(root.join("fuzz").join("Cargo.toml"))
        // Not --locked: fuzz/Cargo.lock is the fuzz crate's own, and a dependency added to a
        // library crate must not break this step; cargo adds it to the lock file.
        .args(["--target", &triple, "--target-dir"])
        .arg(&target_dir);
    for name in targets {
        build.args(["--bin", name]);
    }
    let shown = format!(
        "cargo build --release --manifest-path fuzz/Cargo.toml --target {triple} \
         --target-dir target/fuzz --bin {}",
        targets.join(" --bin ")
    );
    println!("    $ RUSTFLAGS='{}' {shown}", RUSTFLAGS.join(" "));
    let status = build
        .status()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    if !status.success() {
        return Err(format!("{shown} exited with {status}"));
    }
    println!("    built in {:.1}s", t.elapsed().as_secs_f64());

    let bin_dir = target_dir.join(&triple).join("release");
    let mut failed = Vec::new();
    for name in targets {
        match run_target(root, &bin_dir, &target_dir, name, seconds) {
            Ok(stats) => println!("    {name}: {stats}"),
            Err(e) => {
                println!("    {name}: FAILED: {e}");
                failed.push(*name);
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "fuzz target(s) {} failed; reproduce with target/fuzz/{triple}/release/TARGET ARTIFACT",
            failed.join(", ")
        ))
    }
}

fn run_target(
    root: &Path,
    bin_dir: &Path,
    target_dir: &Path,
    name: &str,
    seconds: u64,
) -> Result<String> {
    let corpus = target_dir.join("corpus").join(name);
    let artifacts = target_dir.join("artifacts").join(name);
    let logs = target_dir.join("logs");
    for dir in [&corpus, &artifacts, &logs] {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let seeds = root.join("fuzz").join("corpus").join(name);
    let log_path = logs.join(format!("{name}.log"));
    let log = fs::File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut cmd = Command::new(bin_dir.join(name));
    cmd.current_dir(root)
        .arg(&corpus)
        .arg(&seeds)
        .arg(format!("-max_total_time={seconds}"))
        // One input taking this long is a hang, and a finding.
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-max_len=65536")
        .arg("-len_control=1000")
        .arg("-use_value_profile=1")
        .arg("-print_final_stats=1")
        .arg(artifact_prefix(&artifacts))
        .stdout(Stdio::null())
        .stderr(log);
    let dict = root.join("fuzz").join("dict").join(dictionary(name));
    if dict.is_file() {
        cmd.arg(format!("-dict={}", dict.display()));
    }
    println!("    $ {} ... ({seconds}s)", bin_dir.join(name).display());
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {name}: {e}"))?;
    let text = fs::read_to_string(&log_path).unwrap_or_default();
    if !status.success() {
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "exited with {status}; log {}:\n{}",
            log_path.display(),
            tail.join("\n")
        ));
    }
    Ok(summary(&text))
}

/// The token dictionary in fuzz/dict/ that helps a target reach deeper: field names and
/// syntax of its format.
fn dictionary(target: &str) -> &'static str {
    if target.starts_with("json_") {
        "json.dict"
    } else if target.starts_with("xml_") {
        "xml.dict"
    } else if matches!(target, "api_error" | "webhook_body" | "logs_page") {
        "any.dict"
    } else {
        "none"
    }
}

fn artifact_prefix(dir: &Path) -> String {
    // libFuzzer prepends the prefix as text: a directory needs its trailing slash.
    let mut prefix = dir.display().to_string();
    prefix.push('/');
    format!("-artifact_prefix={prefix}")
}

/// The final statistics libFuzzer printed: executions, speed, coverage, corpus size.
fn summary(log: &str) -> String {
    let stat = |key: &str| {
        log.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{key}:")))
            .map_or("?", str::trim)
            .to_string()
    };
    // The last status line, e.g. "#123456 DONE cov: 1234 ft: 5678 corp: 90/12Kb ...".
    let last = log
        .lines()
        .rev()
        .find(|l| l.starts_with('#') && l.contains("cov:"))
        .unwrap_or("");
    let field = |key: &str| {
        last.split_whitespace()
            .skip_while(|w| *w != key)
            .nth(1)
            .unwrap_or("?")
            .to_string()
    };
    format!(
        "{} executions ({}/s), cov {}, ft {}, corpus {}, peak RSS {} MB",
        stat("number_of_executed_units"),
        stat("average_exec_per_sec"),
        field("cov:"),
        field("ft:"),
        field("corp:"),
        stat("peak_rss_mb"),
    )
}
