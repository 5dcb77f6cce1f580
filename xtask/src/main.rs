//! `cargo xtask`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! `cargo xtask ci` is the single entry point CI uses (see `.ci/run` and README.md); each of
//! its steps also runs alone (`cargo xtask ci clippy`). `cargo xtask ci --help` lists them.
//! Its `test` step prepares what the tests need (see `testenv.rs`); `cargo xtask env` prints it.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod bench_collect;
mod fuzz;
mod layers;
mod package;
mod testenv;

type Result<T = (), E = String> = std::result::Result<T, E>;

/// A CI step: its name, what it checks, and how.
struct Step {
    name: &'static str,
    about: &'static str,
    run: fn(&Path) -> Result,
}

const STEPS: &[Step] = &[
    Step {
        name: "fmt",
        about: "cargo fmt --check over the whole workspace",
        run: fmt,
    },
    Step {
        name: "clippy",
        about: "clippy -D warnings: all targets and features, and model without default features",
        run: clippy,
    },
    Step {
        name: "test",
        about: "prepares the Python SDK and PostgreSQL (as `cargo xtask env`), then tests \
                (cargo-nextest when installed, else cargo test), then doc tests",
        run: test,
    },
    Step {
        name: "doc",
        about: "cargo doc -D warnings: the workspace with all features, each library crate with no \
                features, its default features and each feature alone, and as docs.rs builds it \
                (--cfg docsrs)",
        run: doc,
    },
    Step {
        name: "nostd",
        about: "model builds without std (alone and with serde), and serde's std stays off",
        run: nostd,
    },
    Step {
        name: "features",
        about: "each library crate, with no default features and with each feature alone, is clippy-clean; \
                the facade without `client` pulls in no hyper/tokio and works on its own transport",
        run: features,
    },
    Step {
        name: "tidy",
        about: "the dependency rules ARCHITECTURE.md states (parsed from its table); each published \
                crate's README, licence files, description, keywords, categories and docs.rs \
                metadata; //! headers; no dbg!/todo!/unimplemented!",
        run: tidy,
    },
    Step {
        name: "package",
        about: "cargo package --workspace; each published crate's tests, benches, examples and doc \
                tests build from its .crate alone; no path reaches outside a crate; mirrored \
                fixtures equal their originals",
        run: package::ci,
    },
    Step {
        name: "fuzz",
        about: "builds the libFuzzer targets in fuzz/ and runs each for 15 s (cargo xtask fuzz)",
        run: fuzz::ci,
    },
];

/// A command of `cargo xtask`: its name, its arguments, what it does, and how. `--help` and
/// the dispatch both read this table, so a command cannot exist without being listed.
struct Task {
    name: &'static str,
    args: &'static str,
    about: &'static str,
    run: fn(&Path, &[String]) -> Result,
}

const TASKS: &[Task] = &[
    Task {
        name: "ci",
        args: "[STEP...]",
        about: "run the CI checks (all, or the named steps); `ci --help` lists them",
        run: ci,
    },
    Task {
        name: "bench",
        args: "[NAME...]",
        about: "run the benchmarks; `bench --help` lists them",
        run: bench,
    },
    Task {
        name: "fuzz",
        args: "[TARGET...] [--time S]",
        about: "run the fuzz targets, S seconds each; `fuzz --help` lists them",
        run: fuzz::command,
    },
    Task {
        name: "env",
        args: "",
        about: "prepare the tests' Python SDK and PostgreSQL; print `export` lines",
        run: testenv::command,
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("-h" | "--help" | "help") | None => {
            print!("{}", usage());
            Ok(())
        }
        Some(name) => match TASKS.iter().find(|t| t.name == name) {
            Some(task) => (task.run)(&root, &args[1..]),
            None => Err(format!(
                "unknown command `{name}`; try `cargo xtask --help`"
            )),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask --help`: every command of [`TASKS`].
fn usage() -> String {
    let mut text = String::from("usage: cargo xtask <command>\n\ncommands:\n");
    for task in TASKS {
        let call = format!("{} {}", task.name, task.args);
        text.push_str(&format!("  {call:<28} {}\n", task.about));
    }
    text.push_str(&format!("  {:<28} {}\n", "help", "print this list"));
    text
}

/// How a benchmark runs.
enum BenchRun {
    /// `cargo` with these arguments (a bench target of a crate).
    Cargo(&'static [&'static str]),
    /// A driver here in xtask (it builds what it runs).
    Driver(fn(&Path) -> Result),
}

/// The webhook's load generator (crates/collector/benches/webhook.rs): `bench webhook`, and
/// the push side of `bench collect`.
const WEBHOOK_BENCH: &[&str] = &[
    "bench",
    "-p",
    "ivr-reports-collector",
    "--features",
    "postgres",
    "--bench",
    "webhook",
];

/// Benchmarks: name, what it measures, and how it runs.
const BENCHES: &[(&str, &str, BenchRun)] = &[
    (
        "codec",
        "decode/encode pages of 1, 50, 1000 v1 reports vs plain serde_json and quick_xml::de",
        BenchRun::Cargo(&["bench", "-p", "ivr-reports-codec"]),
    ),
    (
        "transport",
        "requests/s of our client and server vs a minimal hyper pair, ~35 KB bodies",
        BenchRun::Cargo(&["bench", "-p", "ivr-reports-transport"]),
    ),
    (
        "facade",
        "draining 100,000 reports through Client::drain vs a minimal hyper + serde_json client",
        BenchRun::Cargo(&["bench", "-p", "ivr-reports", "--bench", "drain"]),
    ),
    (
        "webhook",
        "single-report pushes/s, 32 senders, JSONL and PostgreSQL: group commit vs one commit per push",
        BenchRun::Cargo(WEBHOOK_BENCH),
    ),
    (
        "sandbox",
        "GET /tts/3/reports?limit=50 with 1,000,000 pending vs a bare hyper server; RSS/report",
        BenchRun::Cargo(&[
            "bench",
            "-p",
            "ivr-reports-sandbox",
            "--bench",
            "throughput",
        ]),
    ),
    (
        "sandbox-memory",
        "resident bytes per pending report: 1,000,000 injected v1, v2, and simulated calls",
        BenchRun::Cargo(&["bench", "-p", "ivr-reports-sandbox", "--bench", "memory"]),
    ),
    (
        "collect",
        "release `collect --once --v2` draining 100,000 reports from a release sandbox, at K=1 \
         and the default K, without and with 50 ms latency, vs the official Python SDK; 3 rounds; \
         then the push side (`webhook`)",
        BenchRun::Driver(bench_collect::run),
    ),
];

fn bench(root: &Path, args: &[String]) -> Result {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: cargo xtask bench [NAME...]\n");
        for (name, about, _) in BENCHES {
            println!("  {name:<15} {about}");
        }
        return Ok(());
    }
    if let Some(unknown) = args
        .iter()
        .find(|a| !BENCHES.iter().any(|b| b.0 == a.as_str()))
    {
        return Err(format!(
            "unknown benchmark `{unknown}`; `cargo xtask bench --help` lists them"
        ));
    }
    for (name, about, how) in BENCHES {
        if !args.is_empty() && !args.iter().any(|a| a == name) {
            continue;
        }
        // Run as the push side of `collect` when every bench runs: not twice.
        if args.is_empty() && *name == "webhook" {
            continue;
        }
        println!("==> bench {name}: {about}");
        match how {
            BenchRun::Cargo(cargo_args) => {
                let mut cmd = cargo(root);
                cmd.args(*cargo_args);
                run(cmd)?;
            }
            BenchRun::Driver(driver) => driver(root)?,
        }
    }
    Ok(())
}

fn ci(root: &Path, args: &[String]) -> Result {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("usage: cargo xtask ci [STEP...]\n");
        println!("Runs every step in this order, stopping at the first failure:\n");
        for step in STEPS {
            println!("  {:<9} {}", step.name, step.about);
        }
        return Ok(());
    }
    let selected: Vec<&Step> = if args.is_empty() {
        STEPS.iter().collect()
    } else {
        args.iter()
            .map(|name| {
                STEPS.iter().find(|s| s.name == name).ok_or_else(|| {
                    format!("unknown step `{name}`; `cargo xtask ci --help` lists them")
                })
            })
            .collect::<Result<_>>()?
    };
    let started = Instant::now();
    for step in selected {
        println!("==> ci {}: {}", step.name, step.about);
        let t = Instant::now();
        (step.run)(root).map_err(|e| format!("ci step `{}` failed: {e}", step.name))?;
        println!(
            "==> ci {} passed in {:.1}s",
            step.name,
            t.elapsed().as_secs_f64()
        );
    }
    println!("==> ci passed in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .map_or(manifest.clone(), Path::to_path_buf)
}

fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".to_string()));
    cmd.current_dir(root);
    cmd
}

fn run(mut cmd: Command) -> Result {
    let shown = shown(&cmd);
    println!("    $ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} exited with {status}"))
    }
}

/// `cmd` as a shell line for the log. The value of a variable whose name ends in `_URL` or
/// holds `PASSWORD` is hidden: a PostgreSQL URL someone set may carry a real password.
fn shown(cmd: &Command) -> String {
    let mut line = String::new();
    if let Some(dir) = cmd.get_current_dir() {
        line.push_str(&format!("cd {} && ", dir.display()));
    }
    for (name, value) in cmd.get_envs() {
        let (name, Some(value)) = (name.to_string_lossy(), value) else {
            continue;
        };
        if name.ends_with("_URL") || name.contains("PASSWORD") {
            line.push_str(&format!("{name}=(hidden) "));
        } else {
            line.push_str(&format!("{name}={} ", value.to_string_lossy()));
        }
    }
    line.push_str(&cmd.get_program().to_string_lossy());
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

fn output(mut cmd: Command) -> Result<String> {
    let shown = format!("{cmd:?}").replace('"', "");
    let out = cmd
        .output()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{shown} exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("{shown} printed non-UTF-8: {e}"))
}

fn fmt(root: &Path) -> Result {
    let mut cmd = cargo(root);
    cmd.args(["fmt", "--all", "--", "--check"]);
    run(cmd)?;
    // The fuzz crate is outside the workspace (see fuzz/Cargo.toml), so `--all` skips it.
    let mut fuzz = cargo(root);
    fuzz.args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]);
    run(fuzz)
}

fn clippy(root: &Path) -> Result {
    let mut all = cargo(root);
    all.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]);
    run(all)?;
    let mut model = cargo(root);
    model.args([
        "clippy",
        "-p",
        "ivr-reports-model",
        "--no-default-features",
        "--",
        "-D",
        "warnings",
    ]);
    run(model)
}

fn has_nextest(root: &Path) -> bool {
    let mut cmd = cargo(root);
    cmd.args(["nextest", "--version"]);
    cmd.output().map(|o| o.status.success()).unwrap_or(false)
}

fn test(root: &Path) -> Result {
    // The PostgreSQL and Python SDK tests fail without these: prepare them, never skip.
    let vars = testenv::prepare(root)?;
    let mut cmd = cargo(root);
    cmd.envs(vars.iter().map(|(k, v)| (k, v)));
    if has_nextest(root) {
        cmd.args([
            "nextest",
            "run",
            "--workspace",
            "--all-features",
            "--no-fail-fast",
        ]);
    } else {
        println!("    (cargo-nextest not installed: using cargo test)");
        cmd.args(["test", "--workspace", "--all-features", "--no-fail-fast"]);
    }
    run(cmd)?;
    let mut doc = cargo(root);
    doc.envs(vars.iter().map(|(k, v)| (k, v)));
    doc.args(["test", "--doc", "--workspace", "--all-features"]);
    run(doc)
}

fn doc(root: &Path) -> Result {
    let mut cmd = cargo(root);
    cmd.env("RUSTDOCFLAGS", "-D warnings").args([
        "doc",
        "--workspace",
        "--no-deps",
        "--all-features",
    ]);
    run(cmd)?;
    // Each feature set a user documents (none, the defaults, each feature alone): a broken
    // link or a doc example that only resolves with some feature shows here, not on docs.rs.
    for package in metadata(root)? {
        if !package.is_lib || !package.manifest_dir.starts_with(root.join("crates")) {
            continue;
        }
        // No features, the defaults, then each feature alone.
        let mut sets: Vec<Vec<&str>> = vec![vec!["--no-default-features"], vec![]];
        for feature in &package.features {
            sets.push(vec!["--no-default-features", "--features", feature]);
        }
        for set in sets {
            let mut cmd = cargo(root);
            cmd.env("RUSTDOCFLAGS", "-D warnings")
                .args(["doc", "--no-deps", "-p", &package.name])
                .args(set);
            run(cmd)?;
        }
    }
    // What docs.rs builds ([package.metadata.docs.rs]): all features with `--cfg docsrs`,
    // which turns on the `doc_cfg` badges. That needs a nightly feature; RUSTC_BOOTSTRAP lets
    // the stable toolchain CI uses check it (for this doc build only).
    let mut docsrs = cargo(root);
    docsrs
        .env("RUSTC_BOOTSTRAP", "1")
        .env("RUSTDOCFLAGS", "--cfg docsrs -D warnings")
        .args(["doc", "--workspace", "--no-deps", "--all-features"]);
    run(docsrs)
}

fn nostd(root: &Path) -> Result {
    for features in [None, Some("serde")] {
        let mut cmd = cargo(root);
        cmd.args(["build", "-p", "ivr-reports-model", "--no-default-features"]);
        if let Some(f) = features {
            cmd.args(["--features", f]);
        }
        run(cmd)?;
    }
    let mut tree = cargo(root);
    tree.args([
        "tree",
        "-p",
        "ivr-reports-model",
        "--no-default-features",
        "--features",
        "serde",
        "-e",
        "features,normal",
        "--prefix",
        "none",
    ]);
    let text = output(tree)?;
    let leaks: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("feature \"std\""))
        .collect();
    if leaks.is_empty() {
        println!("    no dependency of model enables `std` without the `std` feature");
        Ok(())
    } else {
        Err(format!(
            "model without `std` still enables std in dependencies:\n{}",
            leaks.join("\n")
        ))
    }
}

/// The workspace packages as `cargo metadata` reports them.
struct Package {
    name: String,
    manifest_dir: PathBuf,
    features: Vec<String>,
    /// Normal and build dependencies: (name, is_workspace_member).
    deps: Vec<String>,
    is_lib: bool,
}

/// `cargo metadata`'s array of the workspace's packages, as JSON.
fn metadata_json(root: &Path) -> Result<Vec<serde_json::Value>> {
    let mut cmd = cargo(root);
    cmd.args(["metadata", "--format-version", "1", "--no-deps"]);
    let text = output(cmd)?;
    let mut json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("cargo metadata: {e}"))?;
    match json["packages"].take() {
        serde_json::Value::Array(packages) => Ok(packages),
        _ => Err("cargo metadata: no packages array".to_string()),
    }
}

fn metadata(root: &Path) -> Result<Vec<Package>> {
    let packages = metadata_json(root)?;
    let mut out = Vec::new();
    for p in &packages {
        let name = p["name"].as_str().unwrap_or_default().to_string();
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap_or_default());
        let features = p["features"]
            .as_object()
            .map(|f| f.keys().filter(|k| *k != "default").cloned().collect())
            .unwrap_or_default();
        let deps = p["dependencies"]
            .as_array()
            .map(|deps| {
                deps.iter()
                    .filter(|d| d["kind"].is_null() || d["kind"] == "build")
                    .filter_map(|d| d["name"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let is_lib = p["targets"].as_array().is_some_and(|targets| {
            targets.iter().any(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.iter().any(|k| k == "lib"))
            })
        });
        out.push(Package {
            name,
            manifest_dir: manifest.parent().map(Path::to_path_buf).unwrap_or_default(),
            features,
            deps,
            is_lib,
        });
    }
    Ok(out)
}

fn features(root: &Path) -> Result {
    for package in metadata(root)? {
        let under_crates = package.manifest_dir.starts_with(root.join("crates"));
        if !package.is_lib || !under_crates {
            continue;
        }
        let mut combos: Vec<Option<&str>> = vec![None];
        combos.extend(package.features.iter().map(|f| Some(f.as_str())));
        for combo in combos {
            let mut cmd = cargo(root);
            cmd.args(["clippy", "-p", &package.name, "--no-default-features"]);
            if let Some(feature) = combo {
                cmd.args(["--features", feature]);
            }
            // Dead code under one feature is a warning here, and warnings fail.
            cmd.args(["--", "-D", "warnings"]);
            run(cmd)?;
        }
    }
    facade_without_client(root)
}

/// Third-party crates that only the built-in HTTP client may bring into the facade.
const CLIENT_ONLY: &[&str] = &[
    "hyper",
    "hyper-util",
    "h2",
    "tokio",
    "tokio-rustls",
    "rustls",
    "mio",
    "socket2",
];

/// The facade without its `client` feature: no HTTP stack among its normal dependencies
/// (asserted on `cargo tree`), and a client on a hand-written transport still works.
fn facade_without_client(root: &Path) -> Result {
    let features = "json,xml";
    let leaks = facade_stack_leaks(root, features)?;
    if !leaks.is_empty() {
        return Err(format!(
            "ivr-reports without `client` (features {features}) still depends on:\n{}",
            leaks.join("\n")
        ));
    }
    println!("    ivr-reports without `client` depends on none of {CLIENT_ONLY:?}");
    let mut test = cargo(root);
    test.args([
        "test",
        "-p",
        "ivr-reports",
        "--no-default-features",
        "--features",
        features,
        "--lib",
        "--test",
        "own_transport",
    ]);
    run(test)
}

/// The lines of `cargo tree` (normal dependencies of the facade with these features) that name
/// a crate of the built-in HTTP client.
fn facade_stack_leaks(root: &Path, features: &str) -> Result<Vec<String>> {
    let mut tree = cargo(root);
    tree.args([
        "tree",
        "-p",
        "ivr-reports",
        "--no-default-features",
        "--features",
        features,
        "-e",
        "normal",
        "--prefix",
        "none",
    ]);
    let text = output(tree)?;
    Ok(text
        .lines()
        .filter(|line| {
            let name = line.split(' ').next().unwrap_or_default();
            CLIENT_ONLY.contains(&name)
        })
        .map(str::to_string)
        .collect())
}

/// The dependency problems of the crates under `crates/`, against the rules ARCHITECTURE.md
/// states (see `layers.rs`).
fn layer_problems(root: &Path) -> Result<Vec<String>> {
    let path = root.join("ARCHITECTURE.md");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rules = layers::parse(&text)?;
    let packages = metadata(root)?;
    let crates: Vec<layers::Node<'_>> = packages
        .iter()
        .filter(|p| p.manifest_dir.starts_with(root.join("crates")))
        .map(|p| layers::Node {
            name: &p.name,
            deps: &p.deps,
        })
        .collect();
    Ok(layers::check(&rules, &crates))
}

fn tidy(root: &Path) -> Result {
    let mut problems = layer_problems(root)?;
    problems.extend(package::shelf_problems(root, &metadata_json(root)?)?);

    let forbidden = [
        concat!("dbg", "!("),
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
    ];
    let mut files = Vec::new();
    for dir in ["crates", "xtask", "tests", "fuzz", "examples"] {
        collect_rs(&root.join(dir), &mut files)?;
    }
    for file in &files {
        let text = fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let shown = file.strip_prefix(root).unwrap_or(file).display();
        if !text.starts_with("//!") {
            problems.push(format!(
                "{shown}: must start with a `//!` line saying what it holds"
            ));
        }
        for (n, line) in text.lines().enumerate() {
            for needle in forbidden {
                if line.contains(needle) {
                    problems.push(format!("{shown}:{}: `{needle}` left in", n + 1));
                }
            }
        }
    }
    println!(
        "    checked {} .rs files and the dependency graph",
        files.len()
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("tidy found:\n  {}", problems.join("\n  ")))
    }
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) -> Result {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                collect_rs(&path, out)?;
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_lists_every_command() {
        let text = usage();
        for task in TASKS {
            assert!(
                text.lines().any(|l| l.trim_start().starts_with(task.name)),
                "{} missing from:\n{text}",
                task.name
            );
        }
    }

    #[test]
    fn the_no_hyper_check_sees_the_client_stack_when_it_is_there() {
        let root = workspace_root();
        let with_client = facade_stack_leaks(&root, "json,xml,client").unwrap();
        assert!(
            with_client.iter().any(|l| l.starts_with("hyper ")),
            "{with_client:?}"
        );
        let without = facade_stack_leaks(&root, "json,xml").unwrap();
        assert!(without.is_empty(), "{without:?}");
    }

    #[test]
    fn the_workspace_keeps_the_rules_architecture_md_states() {
        let problems = layer_problems(&workspace_root()).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
    }

    /// The real document and the real dependency graph, with one upward edge added: tidy's
    /// check must name it.
    #[test]
    fn tidy_fails_on_an_edge_architecture_md_forbids() {
        let root = workspace_root();
        let text = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
        let rules = layers::parse(&text).unwrap();
        let mut packages = metadata(&root).unwrap();
        packages.retain(|p| p.manifest_dir.starts_with(root.join("crates")));
        for p in &mut packages {
            if p.name == "ivr-reports-codec" {
                p.deps.push("ivr-reports-transport".into());
            }
            if p.name == "ivr-reports-model" {
                p.deps.push("tokio".into());
            }
        }
        let nodes: Vec<layers::Node<'_>> = packages
            .iter()
            .map(|p| layers::Node {
                name: &p.name,
                deps: &p.deps,
            })
            .collect();
        let problems = layers::check(&rules, &nodes);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("ivr-reports-codec depends on ivr-reports-transport")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("ivr-reports-model depends on tokio")),
            "{problems:?}"
        );
    }

    #[test]
    fn architecture_md_lists_every_ci_step() {
        let text = fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).unwrap();
        let names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
        let list = names.join(", ");
        assert!(
            text.contains(&list),
            "ARCHITECTURE.md's list of steps is not `{list}`"
        );
    }

    #[test]
    fn logged_commands_hide_urls_and_passwords() {
        let mut cmd = Command::new("cargo");
        cmd.current_dir("/w")
            .env("IVR_REPORTS_PG_URL", "postgres://u:secret@h/db")
            .env("PGPASSWORD", "secret")
            .env("RUSTDOCFLAGS", "-D warnings")
            .args(["nextest", "run"]);
        let line = shown(&cmd);
        assert!(!line.contains("secret"), "{line}");
        assert!(line.starts_with("cd /w && "), "{line}");
        assert!(line.contains("IVR_REPORTS_PG_URL=(hidden)"), "{line}");
        assert!(line.contains("RUSTDOCFLAGS=-D warnings"), "{line}");
        assert!(line.ends_with("cargo nextest run"), "{line}");
    }
}
