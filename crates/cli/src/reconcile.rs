//! `ivr-reports reconcile`: close possible-loss incidents from the API's voice logs, on
//! demand (`collect` does it by itself).

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use ivr_reports::Format;
use ivr_reports_collector::{Collector, IncidentState, ReconcileConfig, Reconciliation, SinkSpec};

use crate::collect::collector_failure;
use crate::config::ApiArgs;
use crate::{EXIT_RESPONSE_LOST, Failure, LOG_TARGET};

pub(crate) const EXAMPLES: &str = "\
Examples:
  INFOBIP_API_KEY=... ivr-reports reconcile --sink jsonl:/var/lib/ivr/reports.jsonl
  INFOBIP_API_KEY=... ivr-reports reconcile --sink postgres://ivr:...@db/ivr_reports --spool /var/lib/ivr/spool";

#[derive(Debug, Args)]
pub(crate) struct ReconcileArgs {
    #[command(flatten)]
    sink: crate::config::SinkArgs,
    /// The pull spool whose incident log (SPOOL.incidents) is reconciled. Default: as
    /// `collect` chooses it.
    #[arg(long, env = "IVR_REPORTS_SPOOL", value_name = "PATH")]
    spool: Option<std::path::PathBuf>,
    #[command(flatten)]
    logs: LogsArgs,
}

/// How the logs are read, shared by `collect`, `reconcile` and `audit`.
#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Reconciliation reads the logs this many seconds before and after an incident's
    /// request (default: all the logs keep, 48 hours).
    #[arg(
        long,
        env = "IVR_REPORTS_RECONCILE_MARGIN",
        default_value_t = 48 * 3600,
        value_name = "SECONDS"
    )]
    pub(crate) reconcile_margin: u64,
    /// The logs' rate limit per credential (requests a minute).
    #[arg(
        long,
        env = "IVR_REPORTS_LOGS_RATE",
        default_value_t = 120,
        value_name = "N"
    )]
    pub(crate) logs_rate: u32,
}

impl LogsArgs {
    pub(crate) fn config(&self) -> ReconcileConfig {
        ReconcileConfig::new()
            .margin(Duration::from_secs(self.reconcile_margin))
            .requests_per_minute(self.logs_rate)
    }
}

pub(crate) async fn run(api: &ApiArgs, args: ReconcileArgs) -> Result<(), Failure> {
    let spec: SinkSpec = args.sink.spec()?;
    let client = api.client(Format::Json)?;
    let sink = spec.open().await.map_err(collector_failure)?;
    let collector = Arc::new(
        Collector::builder(sink)
            .spool_path(args.spool.unwrap_or_else(|| spec.default_spool_path()))
            .build(),
    );
    // Takes the spool's lock (a running collector has it: it reconciles by itself) and
    // turns a crash's marker into an incident first.
    collector.recover().await.map_err(collector_failure)?;
    let done = collector
        .reconcile(&client, &args.logs.config())
        .await
        .map_err(collector_failure)?;
    tell(&done);
    verdict(&done, collector.incidents_path())
}

/// One line per incident examined, then a summary.
pub(crate) fn tell(done: &Reconciliation) {
    for i in &done.incidents {
        let line = format!(
            "incident #{}: {} ({} log entries in its window, {} already stored, {} recovered \
             from logs)",
            i.id, i.state, i.entries, i.already_stored, i.recovered
        );
        match i.state {
            IncidentState::Closed => tracing::info!(target: LOG_TARGET, "{line}"),
            _ => tracing::error!(target: LOG_TARGET, "{line}"),
        }
    }
    if !done.incidents.is_empty() {
        tracing::info!(
            target: LOG_TARGET,
            "reconciled {} incidents: {} closed, {} still open, {} reports recovered from logs \
             ({} logs requests)",
            done.incidents.len(),
            done.incidents.len() as u64 - done.still_open(),
            done.still_open(),
            done.recovered,
            done.requests
        );
    }
}

/// Exit 3 while an incident is still open.
pub(crate) fn verdict(done: &Reconciliation, log: &std::path::Path) -> Result<(), Failure> {
    if done.still_open() > 0 {
        return Err(Failure {
            code: EXIT_RESPONSE_LOST,
            message: format!(
                "{} possible-loss incidents are still open after reconciliation; see {}",
                done.still_open(),
                log.display()
            ),
        });
    }
    Ok(())
}
