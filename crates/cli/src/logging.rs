//! Logs on stderr: the `tracing` subscriber behind `-v`, `-q`, `--log-format` and `RUST_LOG`.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    /// One human-readable line per event (colours on a terminal).
    #[default]
    Text,
    /// One JSON object per line: timestamp, level, target, fields, spans.
    Json,
}

/// The filter for our crates' targets (all start with `ivr_reports`) given `-v` / `-q`;
/// other crates log warnings and errors only.
fn default_directives(verbose: u8, quiet: bool) -> &'static str {
    match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn,ivr_reports=info",
        (false, 1) => "warn,ivr_reports=debug",
        (false, _) => "warn,ivr_reports=trace",
    }
}

/// Whether a progress display may be drawn on stderr: not with `-q`, nor when every stderr
/// line must be a JSON object.
static PROGRESS_ALLOWED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Whether a progress display may be drawn on stderr (a terminal is checked separately).
pub(crate) fn progress_allowed() -> bool {
    PROGRESS_ALLOWED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Installs the subscriber: `RUST_LOG` when set (it overrides `-v` and `-q`), else the
/// level `-v` / `-q` give. Returns a warning to show when `RUST_LOG` could not be read.
pub(crate) fn init(verbose: u8, quiet: bool, format: LogFormat) -> Option<String> {
    if quiet || format == LogFormat::Json {
        PROGRESS_ALLOWED.store(false, std::sync::atomic::Ordering::Relaxed);
    }
    let mut warning = None;
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => match EnvFilter::try_new(&value) {
            Ok(filter) => filter,
            Err(e) => {
                warning = Some(format!("RUST_LOG ignored: {e}"));
                EnvFilter::new(default_directives(verbose, quiet))
            }
        },
        _ => EnvFilter::new(default_directives(verbose, quiet)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .try_init(),
    };
    if let Err(e) = installed {
        warning = Some(format!("logging is off: {e}"));
    }
    warning
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_flags() {
        assert_eq!(default_directives(0, true), "error");
        assert_eq!(default_directives(3, true), "error");
        assert!(default_directives(0, false).ends_with("=info"));
        assert!(default_directives(1, false).ends_with("=debug"));
        assert!(default_directives(2, false).ends_with("=trace"));
    }
}
