//! `ivr-reports sandbox`: an Infobip-compatible server on this machine until Ctrl-C.

use std::io::Write;
use std::net::SocketAddr;

use clap::Args;
use ivr_reports_sandbox::{Outcome, Sandbox};

use crate::Failure;
use crate::config::Credentials;

pub(crate) const EXAMPLES: &str = "\
Examples:
  ivr-reports sandbox
  ivr-reports sandbox --addr 127.0.0.1:8080 --api-key my-test-key --seed 10000
  ivr-reports sandbox --logs-rate-limit 0      # no 429 from /tts/3/logs
  # then, elsewhere:
  INFOBIP_BASE_URL=http://127.0.0.1:8080 INFOBIP_API_KEY=my-test-key ivr-reports fetch";

#[derive(Debug, Args)]
pub(crate) struct SandboxArgs {
    /// Address to listen on.
    #[arg(
        long,
        env = "IVR_REPORTS_SANDBOX_ADDR",
        default_value = "127.0.0.1:8080"
    )]
    addr: SocketAddr,
    /// How many pending reports to start with (a count, not a random seed): a simulated
    /// campaign of that many calls spread over every test-number outcome, in bulk `seed`.
    #[arg(
        long,
        env = "IVR_REPORTS_SANDBOX_SEED",
        default_value_t = 0,
        value_name = "COUNT"
    )]
    seed: usize,
    /// The largest request body accepted (send requests, injected pages), in bytes; larger
    /// ones get 413. Bodies of unauthenticated requests are never read.
    #[arg(
        long,
        env = "IVR_REPORTS_SANDBOX_MAX_BODY_BYTES",
        default_value_t = 8 * 1024 * 1024,
        value_name = "BYTES"
    )]
    max_body_bytes: u64,
    /// How many `GET /tts/3/logs` requests each credential may make per minute (sliding
    /// window) before getting 429 with `Retry-After`, as the real API's 120. 0: no limit.
    #[arg(
        long,
        env = "IVR_REPORTS_SANDBOX_LOGS_RATE_LIMIT",
        default_value_t = 120,
        value_name = "N"
    )]
    logs_rate_limit: u32,
}

/// The API key a sandbox accepts when none is given.
const DEFAULT_KEY: &str = "sandbox-api-key";

pub(crate) async fn run(api: &Credentials, args: SandboxArgs) -> Result<(), Failure> {
    // The sandbox accepts the credentials this command was given (--api-key or
    // INFOBIP_API_KEY, --username/--password), so `fetch` with the same environment works.
    let given_key = api.api_key.as_deref().filter(|k| !k.is_empty());
    let mut builder = Sandbox::builder()
        .addr(args.addr)
        .api_key(given_key.unwrap_or(DEFAULT_KEY))
        .max_body_bytes(args.max_body_bytes)
        .logs_rate_limit(args.logs_rate_limit, std::time::Duration::from_secs(60));
    if args.seed > 0 {
        // Placed before the first connection is accepted: a client that connects at once
        // sees the campaign, never an empty first page.
        builder = builder.campaign("seed", args.seed);
    }
    if let (Some(user), Some(password)) = (&api.username, &api.password) {
        builder = builder.basic(user.as_str(), password.as_str());
    }
    let sandbox = builder
        .start()
        .await
        .map_err(|e| Failure::failed(crate::one_line(&e)))?;
    let c = sandbox.credentials();
    let url = sandbox.base_url();
    // Never echo a secret the user gave (it may be a real one): name where it came from.
    let key = match given_key {
        Some(_) => "<the --api-key / INFOBIP_API_KEY you gave>",
        None => DEFAULT_KEY,
    };
    let password = if api.username.is_some() && api.password.is_some() {
        "<the --password / INFOBIP_PASSWORD you gave>"
    } else {
        c.password()
    };
    let mut banner = format!(
        "Infobip-compatible sandbox at {url}\n\
         \x20 authenticate with:  Authorization: App {key}\n\
         \x20                 or: Basic {user} / {password}  (curl -u '{user}:{password}')\n\
         \x20                 or: Authorization: IBSSO {ibsso}  |  Authorization: Bearer {bearer}\n\
         \x20 admin API:          {url}/sandbox/counters  (Authorization: Bearer {admin})\n\
         \x20 pending reports:    {pending}\n\
         \x20 test numbers:       the last digit picks the outcome:\n",
        user = c.username(),
        ibsso = c.ibsso_token(),
        bearer = c.bearer_token(),
        admin = sandbox.admin_token(),
        pending = sandbox.counters().pending,
    );
    for outcome in Outcome::ALL {
        banner.push_str(&format!("    {}  {outcome:?}\n", outcome.example_number()));
    }
    banner.push_str(&format!(
        "  try:  INFOBIP_BASE_URL={url} INFOBIP_API_KEY={} ivr-reports fetch\nCtrl-C stops it.\n",
        if given_key.is_some() {
            "<key>"
        } else {
            DEFAULT_KEY
        }
    ));
    let mut out = std::io::stdout().lock();
    out.write_all(banner.as_bytes())?;
    out.flush()?;
    drop(out);
    tokio::signal::ctrl_c().await?;
    tracing::debug!(target: crate::LOG_TARGET, "stopping: {:?}", sandbox.counters());
    sandbox
        .shutdown()
        .await
        .map_err(|e| Failure::failed(crate::one_line(&e)))
}
