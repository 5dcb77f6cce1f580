//! `ivr-reports`: fetch, collect and summarise Infobip IVR delivery reports, or run a sandbox.
//!
//! Exit codes: 0 success, 1 failure, 2 usage or configuration error, 3 a possible loss that
//! nothing ruled out (a lost response or crash incident that reconciliation from the voice
//! logs could not close, a response `fetch` lost, or a final call `audit` found without a
//! stored report: alert on it), 4 reports arrived
//! but some could not be stored as they came and were set aside for a human (an undecodable
//! body kept by `fetch --save`; items `collect` quarantined or kept as conflicts).

mod audit;
mod collect;
mod config;
mod fetch;
mod html;
mod logging;
mod output;
mod reconcile;
mod sandbox;
mod stats;

use std::process::ExitCode;

use clap::{ArgAction, CommandFactory, Parser, Subcommand};

/// The `tracing` target of this binary's own events (its crate is also called `ivr_reports`,
/// like the library's).
const LOG_TARGET: &str = "ivr_reports_cli";

/// Exit code: success.
const EXIT_OK: u8 = 0;
/// Exit code: the command failed.
const EXIT_FAILURE: u8 = 1;
/// Exit code: bad flags, a bad URL or missing credentials.
const EXIT_USAGE: u8 = 2;
/// Exit code: a response was lost after the server may have handed out reports.
const EXIT_RESPONSE_LOST: u8 = 3;
/// Exit code: reports arrived but some could not be stored as they came: they were set aside
/// for a human (an undecodable body kept by `fetch --save`, the collector's quarantine).
const EXIT_SET_ASIDE: u8 = 4;

/// Fetch, collect and summarise Infobip Outbound IVR delivery reports, or run a local
/// Infobip-compatible sandbox.
///
/// Infobip hands out each delivery report ONCE: reports this command fetches are consumed.
/// Credentials come from INFOBIP_API_KEY (or INFOBIP_USERNAME and INFOBIP_PASSWORD) and the
/// API from INFOBIP_BASE_URL; flags override them. Secrets are never printed.
///
/// Exit codes: 0 ok, 1 failure, 2 usage or configuration error, 3 a response was lost
/// (reports may have been consumed without arriving), 4 reports arrived but some were set
/// aside for a human (`fetch --save` keeps an undecodable body; `collect` quarantines).
#[derive(Debug, Parser)]
#[command(name = "ivr-reports", version, propagate_version = true, after_help = EXAMPLES)]
struct Cli {
    /// Log more on stderr: -v debug, -vv trace, for this tool's crates (never secrets).
    /// RUST_LOG, when set, overrides -v and -q (e.g. RUST_LOG=ivr_reports_transport=trace).
    #[arg(long, short, global = true, action = ArgAction::Count, help_heading = "Logging")]
    verbose: u8,

    /// Log errors only.
    #[arg(
        long,
        short,
        global = true,
        conflicts_with = "verbose",
        help_heading = "Logging"
    )]
    quiet: bool,

    /// How log lines on stderr look: text, or one JSON object per line.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "IVR_REPORTS_LOG_FORMAT",
        value_name = "FORMAT",
        help_heading = "Logging"
    )]
    log_format: logging::LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fetch one page of reports (they are consumed) and print it.
    #[command(after_help = fetch::EXAMPLES)]
    Fetch {
        #[command(flatten)]
        args: fetch::FetchArgs,
        #[command(flatten)]
        api: config::ApiArgs,
    },
    /// Store every report exactly once (pull, and push with --webhook); with --sandbox,
    /// collect a simulated campaign and print its statistics.
    #[command(after_help = collect::EXAMPLES)]
    Collect {
        #[command(flatten)]
        args: collect::CollectArgs,
        #[command(flatten)]
        api: config::ApiArgs,
    },
    /// Run an Infobip-compatible sandbox until Ctrl-C.
    #[command(after_help = sandbox::EXAMPLES)]
    Sandbox {
        #[command(flatten)]
        args: sandbox::SandboxArgs,
        /// The credentials the sandbox accepts (default: the API key `sandbox-api-key`).
        #[command(flatten)]
        credentials: config::Credentials,
    },
    /// Summarise stored reports per bulk and overall: outcomes, durations, cost, DTMF keys.
    #[command(after_help = stats::EXAMPLES)]
    Stats(stats::StatsArgs),
    /// Close possible-loss incidents from the API's voice logs (GET /tts/3/logs): every
    /// final call of an incident's window without a stored report is stored as recovered
    /// from logs. Exit 3 while an incident stays open.
    #[command(after_help = reconcile::EXAMPLES)]
    Reconcile {
        #[command(flatten)]
        args: reconcile::ReconcileArgs,
        #[command(flatten)]
        api: config::ApiArgs,
    },
    /// Compare the voice logs with the sink, per bulk: sent, final, stored (pulled /
    /// pushed / recovered), pending, missing. Exit 0 only when no final call is missing.
    #[command(after_help = audit::EXAMPLES)]
    Audit {
        #[command(flatten)]
        args: audit::AuditArgs,
        #[command(flatten)]
        api: config::ApiArgs,
    },
    /// Print a shell completion script for this command on stdout.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  ivr-reports completions bash > ~/.local/share/bash-completion/completions/ivr-reports
  ivr-reports completions zsh > ~/.zfunc/_ivr-reports     # with fpath+=~/.zfunc in ~/.zshrc
  ivr-reports completions fish > ~/.config/fish/completions/ivr-reports.fish
  ivr-reports completions powershell >> $PROFILE";

/// Writes the completion script for `shell` on stdout.
fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "ivr-reports", &mut script);
    let mut out = std::io::stdout().lock();
    std::io::Write::write_all(&mut out, &script)?;
    std::io::Write::flush(&mut out)?;
    Ok(())
}

const EXAMPLES: &str = "\
Examples:
  cargo run --release -p ivr-reports-cli -- collect --sandbox
  ivr-reports sandbox --seed 10000
  INFOBIP_BASE_URL=http://127.0.0.1:8080 INFOBIP_API_KEY=sandbox-api-key ivr-reports fetch --limit 5
  ivr-reports stats ivr-reports.jsonl";

/// A failure, with the exit code it maps to and the one line to print.
#[derive(Debug)]
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn usage(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_USAGE,
            message: message.into(),
        }
    }

    /// Whoever read stdout stopped reading (`| head`): not a failure, the command ends
    /// quietly with exit 0.
    fn closed_pipe() -> Self {
        Self {
            code: EXIT_OK,
            message: String::new(),
        }
    }

    fn failed(message: impl Into<String>) -> Self {
        Self {
            code: EXIT_FAILURE,
            message: message.into(),
        }
    }
}

impl From<ivr_reports::Error> for Failure {
    fn from(e: ivr_reports::Error) -> Self {
        use ivr_reports::ErrorKind;
        let code = match e.kind() {
            ErrorKind::ResponseLost => EXIT_RESPONSE_LOST,
            ErrorKind::InvalidRequest => EXIT_USAGE,
            _ => EXIT_FAILURE,
        };
        let message = if code == EXIT_RESPONSE_LOST {
            lost_once(&e)
        } else {
            one_line(&e)
        };
        Self { code, message }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Self::closed_pipe();
        }
        Self::failed(e.to_string())
    }
}

/// A lost response on one line that says so once: the API error's own line (which URL, that
/// reports may have been consumed) and the root cause, without the layers in between that
/// repeat it.
fn lost_once(error: &(dyn std::error::Error + 'static)) -> String {
    let mut api = None;
    let mut root = error;
    let mut link = Some(error);
    while let Some(e) = link {
        if api.is_none() && e.downcast_ref::<ivr_reports::Error>().is_some() {
            api = Some(e.to_string());
        }
        root = e;
        link = e.source();
    }
    let Some(mut line) = api else {
        return one_line(error);
    };
    let cause = root.to_string();
    if !cause.is_empty() && !line.contains(&cause) {
        line.push_str(" (");
        line.push_str(&cause);
        line.push(')');
    }
    line.replace('\n', " ")
}

/// An error and its causes on one line: `outer: cause: cause`.
fn one_line(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line.replace('\n', " ")
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::from(EXIT_OK);
        }
        Err(e) => {
            // clap's whole error: the flag at fault, the possible values, "did you mean",
            // the usage line; coloured on a terminal unless NO_COLOR is set.
            let _ = e.print();
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Command::Completions { shell } = cli.command {
        return match completions(shell) {
            Ok(()) => ExitCode::from(EXIT_OK),
            Err(failure) if failure.code == EXIT_OK => ExitCode::from(EXIT_OK),
            Err(failure) => {
                eprintln!("error: {}", failure.message);
                ExitCode::from(failure.code)
            }
        };
    }
    if let Some(warning) = logging::init(cli.verbose, cli.quiet, cli.log_format) {
        eprintln!("warning: {warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Fetch { args, api } => fetch::run(&api, args).await,
            Command::Collect { args, api } => collect::run(&api, args).await,
            Command::Sandbox { args, credentials } => sandbox::run(&credentials, args).await,
            Command::Stats(args) => stats::run(args).await,
            Command::Reconcile { args, api } => reconcile::run(&api, args).await,
            Command::Audit { args, api } => audit::run(&api, args).await,
            Command::Completions { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(failure) if failure.code == EXIT_OK => ExitCode::from(EXIT_OK),
        Err(failure) => {
            if cli.log_format == logging::LogFormat::Json {
                // Every stderr line stays a JSON object; the exit code says the rest.
                tracing::error!(
                    target: LOG_TARGET,
                    exit_code = failure.code,
                    "{}",
                    failure.message
                );
            } else {
                eprintln!("error: {}", failure.message);
            }
            ExitCode::from(failure.code)
        }
    }
}
