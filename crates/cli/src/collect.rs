//! `ivr-reports collect`: every report stored exactly once, by pull (and push); with
//! `--sandbox`, a whole simulated campaign collected and summarised.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args};
use ivr_reports::{Auth, Client, Format};
use ivr_reports_collector::{Collector, Counters, ErrorKind, Generation, SinkSpec};
use ivr_reports_sandbox::Sandbox;

use crate::config::ApiArgs;
use crate::output::Output;
use crate::{EXIT_RESPONSE_LOST, Failure, LOG_TARGET};

mod webhook;

pub(crate) const EXAMPLES: &str = "\
Examples:
  ivr-reports collect --sandbox                       # simulate a 10,000-call campaign, collect, summarise
  ivr-reports collect --sandbox --calls 2000 --sink jsonl:/tmp/campaign.jsonl
  INFOBIP_API_KEY=... IVR_REPORTS_WEBHOOK_PASSWORD=... ivr-reports collect --sink jsonl:/var/lib/ivr/reports.jsonl \
      --webhook 0.0.0.0:8088 --webhook-user infobip
  INFOBIP_API_KEY=... ivr-reports collect --v2 --once --sink postgres://ivr:...@db/ivr_reports";

#[derive(Debug, Args)]
pub(crate) struct CollectArgs {
    #[command(flatten)]
    sink: crate::config::SinkArgs,
    /// Serve GET /metrics (Prometheus) and GET /healthz (200 when ready and healthy, else
    /// 503 with the reason) on this address, with or without a webhook.
    #[arg(long, env = "IVR_REPORTS_METRICS_ADDR", value_name = "ADDR")]
    metrics: Option<std::net::SocketAddr>,
    /// For /healthz: unhealthy after this many consecutive failed pulls.
    #[arg(
        long,
        env = "IVR_REPORTS_UNHEALTHY_AFTER",
        default_value_t = 5,
        value_name = "N"
    )]
    unhealthy_after: u32,
    /// Seconds to wait after an empty page before pulling again.
    #[arg(
        long,
        env = "IVR_REPORTS_POLL_INTERVAL",
        default_value_t = 5.0,
        value_name = "SECONDS"
    )]
    poll_interval: f64,
    /// Report requests kept in flight at once (1 to 64), each with its own in-flight marker
    /// in the spool; halved while the API throttles (429/503), grown back after good pages.
    #[arg(
        long,
        env = "IVR_REPORTS_CONCURRENCY",
        default_value_t = 8,
        value_parser = clap::value_parser!(u16).range(1..=64),
        value_name = "K"
    )]
    concurrency: u16,
    /// Stop after the first empty page instead of polling on.
    #[arg(
        long,
        env = "IVR_REPORTS_ONCE",
        action = ArgAction::SetTrue,
        value_parser = BoolishValueParser::new()
    )]
    once: bool,
    /// Pull v2 reports (GET /voice/1/reports) instead of v1 (GET /tts/3/reports).
    #[arg(
        long,
        env = "IVR_REPORTS_V2",
        action = ArgAction::SetTrue,
        value_parser = BoolishValueParser::new()
    )]
    v2: bool,
    /// Where the pull spool lives (raw bodies kept until stored). Default: beside a JSONL
    /// journal, or ./ivr-reports.spool.
    #[arg(long, env = "IVR_REPORTS_SPOOL", value_name = "PATH")]
    spool: Option<std::path::PathBuf>,
    /// Collect from an embedded sandbox seeded with a simulated campaign, then print its
    /// statistics (no account needed).
    #[arg(long)]
    sandbox: bool,
    /// With --sandbox: how many calls the campaign places, spread over every test-number
    /// outcome.
    #[arg(long, default_value_t = 10_000, value_name = "N", requires = "sandbox")]
    calls: usize,
    /// With --sandbox: how to print the statistics.
    #[arg(long, short, value_enum, default_value = "table", requires = "sandbox")]
    output: Output,
    #[command(flatten)]
    webhook: webhook::WebhookArgs,
    /// Do not reconcile possible-loss incidents from the voice logs (by default: after a
    /// restart finds incidents and after a lost response, every minute while one is open,
    /// and once more when the pull ends).
    #[arg(
        long,
        env = "IVR_REPORTS_NO_RECONCILE",
        action = ArgAction::SetTrue,
        value_parser = BoolishValueParser::new()
    )]
    no_reconcile: bool,
    /// While pulling: seconds between checks for open incidents to reconcile.
    #[arg(
        long,
        env = "IVR_REPORTS_RECONCILE_EVERY",
        default_value_t = 60.0,
        value_name = "SECONDS"
    )]
    reconcile_every: f64,
    #[command(flatten)]
    logs: crate::reconcile::LogsArgs,
}

pub(crate) async fn run(api: &ApiArgs, args: CollectArgs) -> Result<(), Failure> {
    let webhook_config = args.webhook.config()?;
    let spec: SinkSpec = args.sink.spec()?;
    if !(args.reconcile_every.is_finite() && args.reconcile_every > 0.0) {
        return Err(Failure::usage(
            "--reconcile-every must be a number of seconds, more than 0",
        ));
    }
    if !(args.poll_interval.is_finite() && args.poll_interval >= 0.0) {
        return Err(Failure::usage(
            "--poll-interval must be a number of seconds, 0 or more",
        ));
    }
    // Before connecting, so a failing connection says where it went; redacted.
    tracing::debug!(target: LOG_TARGET, "storing into {spec}");
    let sink = spec.open().await.map_err(collector_failure)?;
    let generation = if args.v2 {
        Generation::V2
    } else {
        Generation::V1
    };
    let progress = Progress::new(
        io::stderr().is_terminal() && crate::logging::progress_allowed(),
        args.sandbox.then_some(args.calls as u64),
    );
    // Pulling until stopped, an incident is said when it happens; a single pass says it in
    // its last line.
    let daemon = !(args.once || args.sandbox);
    let incidents_log = Arc::new(std::sync::OnceLock::new());
    let collector = Arc::new(
        Collector::builder(sink)
            .spool_path(
                args.spool
                    .clone()
                    .unwrap_or_else(|| spec.default_spool_path()),
            )
            .poll_interval(Duration::from_secs_f64(args.poll_interval))
            .unhealthy_after(args.unhealthy_after)
            .concurrency(usize::from(args.concurrency))
            .generation(generation)
            .on_event(incident_teller(
                daemon,
                Arc::clone(&incidents_log),
                args.no_reconcile,
            ))
            .build(),
    );
    let _ = incidents_log.set(collector.incidents_path().to_path_buf());
    let recovered = collector.recover().await.map_err(collector_failure);
    report_incidents(&collector, 0);
    let recovered = recovered?;
    if recovered > 0 {
        tracing::info!(
            target: LOG_TARGET,
            "recovered {recovered} reports from the spool of an earlier run"
        );
    }

    let mut sandbox = None;
    // Unique per run (two runs in one second into one sink are two campaigns), and still
    // readable: the start time first.
    let bulk_id = format!("sandbox-campaign-{}-{}", unix_seconds(), std::process::id());
    let client = if args.sandbox {
        let started = Sandbox::builder()
            .start()
            .await
            .map_err(|e| Failure::failed(crate::one_line(&e)))?;
        started.simulate_campaign(&bulk_id, args.calls);
        tracing::info!(
            target: LOG_TARGET,
            "sandbox at {}: placed {} simulated calls in bulk {bulk_id}",
            started.base_url(),
            args.calls
        );
        let client = Client::builder()
            .base_url(started.base_url())
            .auth(Auth::app(started.credentials().api_key()))
            .format(Format::Json)
            .build()?;
        sandbox = Some(started);
        client
    } else {
        api.client(Format::Json)?
    };

    let webhook = match webhook_config {
        Some((addr, config)) => {
            let hook = collector
                .bind_webhook(addr, config)
                .map_err(collector_failure)?;
            tracing::info!(target: LOG_TARGET, "{}", args.webhook.banner(&hook));
            Some(hook)
        }
        None => None,
    };

    let metrics = match args.metrics {
        Some(addr) => {
            let server = collector.bind_metrics(addr).map_err(collector_failure)?;
            tracing::info!(
                target: LOG_TARGET,
                "metrics at {url}/metrics, health at {url}/healthz",
                url = server.url()
            );
            Some(server)
        }
        None => None,
    };

    let ticker = progress.start(Arc::clone(&collector));
    let reconcile_config = args.logs.config();
    // While the pull runs, open incidents (from an earlier run, or a lost response now)
    // are reconciled every minute (--reconcile-every).
    let every = Duration::from_secs_f64(args.reconcile_every);
    let reconciler = (!(args.no_reconcile || args.once || args.sandbox)).then(|| {
        let (collector, client, config) = (
            Arc::clone(&collector),
            client.clone(),
            reconcile_config.clone(),
        );
        tokio::spawn(async move {
            loop {
                let open = collector
                    .incidents()
                    .await
                    .map(|all| all.iter().any(|i| i.is_open()))
                    .unwrap_or(false);
                if open {
                    match collector.reconcile(&client, &config).await {
                        Ok(done) => crate::reconcile::tell(&done),
                        Err(e) => tracing::error!(
                            target: LOG_TARGET,
                            "reconciliation failed: {}",
                            crate::one_line(&e)
                        ),
                    }
                }
                tokio::time::sleep(every).await;
            }
        })
    });
    // Ctrl-C and SIGTERM stop the pull the same way: the page in flight is finished and
    // stored, then the summary is printed.
    let stop = stop_signal()?;
    let result = if args.once || args.sandbox {
        collector.drain_until(&client, stop).await.map(|_| ())
    } else {
        tracing::info!(
            target: LOG_TARGET,
            "collecting from {} until Ctrl-C or SIGTERM",
            ivr_reports::redact_url(client.base_url())
        );
        collector.run_pull(&client, stop).await
    };
    progress.stop(ticker).await;
    if let Some(hook) = webhook {
        hook.shutdown(Duration::from_secs(10))
            .await
            .map_err(collector_failure)?;
    }
    if let Some(server) = metrics {
        server
            .shutdown(Duration::from_secs(5))
            .await
            .map_err(collector_failure)?;
    }
    if let Some(task) = reconciler {
        task.abort();
        let _ = task.await;
    }
    let counters = collector.counters();
    tracing::info!(target: LOG_TARGET, "{}", summary_line(&counters));
    // The pull has taken what the API still had: reconcile what may be gone. An incident
    // reconciled is not a loss; one still open is (exit 3).
    let still_open = if args.no_reconcile {
        counters
            .possible_loss_incidents
            .max(counters.lost_response_incidents)
    } else {
        match collector.reconcile(&client, &reconcile_config).await {
            Ok(done) => {
                crate::reconcile::tell(&done);
                done.still_open()
            }
            Err(e) => {
                tracing::error!(
                    target: LOG_TARGET,
                    "reconciliation failed: {}",
                    crate::one_line(&e)
                );
                let open = collector
                    .incidents()
                    .await
                    .map(|all| all.iter().filter(|i| i.is_open()).count() as u64)
                    .unwrap_or(u64::MAX);
                open.max(1)
            }
        }
    };
    if let Err(e) = result {
        let mut failure = collector_failure(e);
        if failure.code == EXIT_RESPONSE_LOST && still_open == 0 {
            // The lost response was reconciled: nothing is lost, but the pull stopped.
            failure.code = crate::EXIT_FAILURE;
            failure
                .message
                .push_str(" (reconciled from the logs: no report is missing)");
        }
        // A possible loss outranks any other failure: it is what must be alerted on.
        if still_open > 0 {
            failure.code = EXIT_RESPONSE_LOST;
            failure.message.push_str(&format!(
                "; and {still_open} possible-loss incidents still open (see {}): {RECONCILE_HINT}",
                collector.incidents_path().display()
            ));
        }
        return Err(failure);
    }

    if let Some(started) = sandbox {
        // Streamed from the sink, not its reports in memory: a campaign of millions of
        // calls is summed in constant memory.
        let stats = crate::stats::of_sink(&spec, Some(bulk_id)).await?;
        let stdout = io::stdout();
        let mut out = stdout.lock();
        stats.write(&mut out, args.output)?;
        out.flush()?;
        started
            .shutdown()
            .await
            .map_err(|e| Failure::failed(crate::one_line(&e)))?;
    }
    if still_open > 0 {
        return Err(Failure {
            code: EXIT_RESPONSE_LOST,
            message: format!(
                "{still_open} possible-loss incidents still open ({} responses lost in this \
                 run): the reports they carried may have been consumed (see {}): {RECONCILE_HINT}",
                counters.lost_response_incidents,
                collector.incidents_path().display()
            ),
        });
    }
    if counters.quarantined > 0 || counters.conflicts > 0 {
        return Err(Failure {
            code: crate::EXIT_SET_ASIDE,
            message: format!(
                "{} items were quarantined and {} conflicting duplicates kept apart (not stored: \
                 they need a look); everything else is stored",
                counters.quarantined, counters.conflicts
            ),
        });
    }
    Ok(())
}

/// Completes on the first SIGINT (Ctrl-C) or SIGTERM. The handlers are installed now, so a
/// signal that comes before the pull polls it is not missed.
fn stop_signal() -> Result<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>, Failure> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(Box::pin(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            tracing::info!(target: LOG_TARGET, "{name}: stopping after the page in flight");
        }))
    }
    #[cfg(not(unix))]
    {
        Ok(Box::pin(async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!(target: LOG_TARGET, "Ctrl-C: stopping after the page in flight");
        }))
    }
}

pub(crate) fn collector_failure(e: ivr_reports_collector::Error) -> Failure {
    let code = match e.kind() {
        ErrorKind::ResponseLost => EXIT_RESPONSE_LOST,
        ErrorKind::InvalidConfig | ErrorKind::Unsupported | ErrorKind::Credentials => {
            crate::EXIT_USAGE
        }
        _ => crate::EXIT_FAILURE,
    };
    let message = if code == EXIT_RESPONSE_LOST {
        crate::lost_once(&e)
    } else {
        crate::one_line(&e)
    };
    Failure { code, message }
}

/// One stderr line per incident recorded since the first `skip`.
fn report_incidents(collector: &Collector, skip: usize) {
    for incident in collector.recorded_incidents().iter().skip(skip) {
        tracing::error!(
            target: LOG_TARGET,
            "{incident}: recorded in {}",
            collector.incidents_path().display()
        );
    }
}

/// What to do about an incident still open.
const RECONCILE_HINT: &str = "run `ivr-reports reconcile` within 48 hours of the loss to \
    recover their reports from the voice logs";

/// An observer of the collector that, when `live`, says each possible-loss incident as it
/// is recorded (in the CLI's words; the collector's own event waits for -v).
fn incident_teller(
    live: bool,
    log: Arc<std::sync::OnceLock<std::path::PathBuf>>,
    no_reconcile: bool,
) -> impl Fn(&ivr_reports_collector::Event) + Send + Sync + 'static {
    move |event| {
        if let (true, ivr_reports_collector::Event::Incident { id, reason, .. }) = (live, event) {
            let then = if no_reconcile {
                RECONCILE_HINT
            } else {
                "reconciling it from the voice logs"
            };
            tracing::error!(
                target: LOG_TARGET,
                "possible-loss incident #{id} ({reason}): the reports of a response may have \
                 been consumed without arriving; recorded in {}; {then}",
                log.get().map(|p| p.display().to_string()).unwrap_or_default()
            );
        }
    }
}

/// The counters of a run (incidents are said on their own lines).
fn summary_line(c: &Counters) -> String {
    format!(
        "received {} by pull and {} by push; stored {} new, {} duplicates, {} conflicts, {} quarantined, {} recovered from logs ({} replaced later)",
        c.received_pull,
        c.received_push,
        c.stored,
        c.duplicates,
        c.conflicts,
        c.quarantined,
        c.recovered,
        c.replaced_recovered,
    )
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Progress on stderr when it is a terminal (and not -q or JSON logs): a bar with the
/// total and an ETA where the total is known (`--sandbox`), else a spinner with the rate.
struct Progress {
    enabled: bool,
    total: Option<u64>,
    stop: Arc<tokio::sync::Notify>,
}

impl Progress {
    fn new(enabled: bool, total: Option<u64>) -> Self {
        Self {
            enabled,
            total,
            stop: Arc::new(tokio::sync::Notify::new()),
        }
    }

    fn start(&self, collector: Arc<Collector>) -> Option<tokio::task::JoinHandle<()>> {
        use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
        if !self.enabled {
            return None;
        }
        let (bar, template) = match self.total {
            Some(total) => (
                ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
                "{bar:30} {pos}/{len} stored  {rate}  ETA {eta}  {msg}",
            ),
            None => (
                ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
                "{spinner} {pos} stored  {rate}  {msg}",
            ),
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            // Whole reports a second (indicatif's {per_sec} shows four decimals).
            let style = style.with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0}/s", state.per_sec());
                },
            );
            // ASCII where the terminal's locale is not UTF-8 (as the stats bars).
            let style = if crate::stats::utf8_locale() {
                style.progress_chars("█▌░").tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
            } else {
                style.progress_chars("#>-").tick_chars("-\\|/ ")
            };
            bar.set_style(style);
        }
        let stop = Arc::clone(&self.stop);
        Some(tokio::spawn(async move {
            loop {
                let c = collector.counters();
                bar.set_position(c.stored);
                bar.tick();
                if c.duplicates > 0 || c.quarantined > 0 {
                    bar.set_message(format!(
                        "duplicates {}  quarantined {}",
                        c.duplicates, c.quarantined
                    ));
                }
                tokio::select! {
                    () = stop.notified() => break,
                    () = tokio::time::sleep(Duration::from_millis(250)) => {}
                }
            }
            bar.finish_and_clear();
        }))
    }

    async fn stop(&self, ticker: Option<tokio::task::JoinHandle<()>>) {
        if let Some(ticker) = ticker {
            self.stop.notify_one();
            let _ = ticker.await;
        }
    }
}
