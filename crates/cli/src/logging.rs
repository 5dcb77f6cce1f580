//! Logs on stderr: the `tracing` subscriber behind `-v`, `-q`, `--log-format` and `RUST_LOG`.

use std::io::IsTerminal;

use clap::ValueEnum;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::FilterExt as _;
use tracing_subscriber::layer::{Context, Filter, Layer as _, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

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
    let rust_log = std::env::var("RUST_LOG");
    let rust_log_set = rust_log.as_ref().is_ok_and(|v| !v.trim().is_empty());
    let filter = match rust_log {
        Ok(value) if !value.trim().is_empty() => match EnvFilter::try_new(&value) {
            Ok(filter) => filter,
            Err(e) => {
                warning = Some(format!("RUST_LOG ignored: {e}"));
                EnvFilter::new(default_directives(verbose, quiet))
            }
        },
        _ => EnvFilter::new(default_directives(verbose, quiet)),
    };
    // At the default verbosity (and with -q) a human reads stderr: events the CLI restates
    // in its own words are left to -v and RUST_LOG. JSON logs keep every event.
    let restated = Restated {
        active: format == LogFormat::Text && verbose == 0 && !rust_log_set,
    };
    let filter = filter.and(restated);
    let installed = match format {
        LogFormat::Text => tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_filter(filter),
            )
            .try_init(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(std::io::stderr)
                    .with_filter(filter),
            )
            .try_init(),
    };
    if let Err(e) = installed {
        warning = Some(format!("logging is off: {e}"));
    }
    warning
}

/// Hides, unless asked for (`-v`, `RUST_LOG`), the collector's "possible-loss incident
/// recorded": the CLI names each incident itself (live, or in its last line). The layers
/// below do not repeat a lost response on their own (the transport returns it, at DEBUG;
/// the collector's "pull failed" of a lost response is DEBUG too), so nothing else needs
/// hiding. Other library warnings and errors still show.
#[derive(Clone, Copy, Debug)]
struct Restated {
    active: bool,
}

impl Restated {
    fn hides(event: &Event<'_>) -> bool {
        let meta = event.metadata();
        if !meta.target().starts_with("ivr_reports_collector") || *meta.level() != Level::ERROR {
            return false;
        }
        let mut message = Message::default();
        event.record(&mut message);
        message.0.starts_with("possible-loss incident")
    }
}

impl<S> Filter<S> for Restated {
    fn enabled(&self, _: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _: &Context<'_, S>) -> bool {
        !(self.active && Self::hides(event))
    }
}

/// The message [`Restated`] reads.
#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
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
