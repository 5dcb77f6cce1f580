//! `collect --webhook`: the flags saying who may push and what pushes may cost.

use std::net::SocketAddr;

use clap::Args;
use ivr_reports_collector::{Webhook, WebhookConfig};

use crate::Failure;

/// The webhook's flags (all under "Webhook" in `--help`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Webhook")]
pub(crate) struct WebhookArgs {
    /// Also receive pushed reports on this address (POST /webhook; GET /metrics). On an
    /// address that is not loopback (127.0.0.0/8, ::1) it needs credentials: --webhook-user
    /// with a password, or --webhook-secret-path, or the explicit --webhook-no-auth.
    #[arg(long, env = "IVR_REPORTS_WEBHOOK_ADDR", value_name = "ADDR")]
    pub(crate) webhook: Option<SocketAddr>,
    /// The webhook's path.
    #[arg(
        long,
        env = "IVR_REPORTS_WEBHOOK_PATH",
        default_value = "/webhook",
        value_name = "PATH"
    )]
    webhook_path: String,
    /// Require HTTP Basic authentication with this user name, for senders (or a proxy in
    /// front) that send credentials; a sender that can only be given a URL needs
    /// --webhook-secret-path. The password comes from IVR_REPORTS_WEBHOOK_PASSWORD
    /// (preferred: `ps` does not show it) or --webhook-password.
    #[arg(long, env = "IVR_REPORTS_WEBHOOK_USER", value_name = "NAME")]
    webhook_user: Option<String>,
    /// The Basic authentication password (visible in `ps`: prefer the environment
    /// variable).
    #[arg(
        long,
        env = "IVR_REPORTS_WEBHOOK_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    webhook_password: Option<String>,
    /// Accept pushes only at <--webhook-path>/TOKEN (every other path gets 404): the URL is
    /// the secret, for senders that cannot authenticate. TOKEN: at least 22 random
    /// characters of A-Z a-z 0-9 - _ . ~ (e.g. `openssl rand -hex 16`); prefer the
    /// environment variable. Never printed.
    #[arg(
        long,
        env = "IVR_REPORTS_WEBHOOK_SECRET_PATH",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    webhook_secret_path: Option<String>,
    /// Accept pushes from anyone on a non-loopback address (only behind something that
    /// authenticates for you: anyone who reaches the port can store forged reports).
    #[arg(
        long,
        env = "IVR_REPORTS_WEBHOOK_NO_AUTH",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new(),
        conflicts_with_all = ["webhook_user", "webhook_secret_path"]
    )]
    webhook_no_auth: bool,
    /// MiB of memory decoding and storing pushes may take at once; pushes beyond wait, and
    /// get 503 with Retry-After after 10 s (the sender retries).
    #[arg(
        long,
        env = "IVR_REPORTS_WEBHOOK_MEMORY_BUDGET",
        default_value_t = 512,
        value_name = "MIB"
    )]
    webhook_memory_budget: u64,
    /// MiB the quarantine may hold before pushes that would add to it get 507 with
    /// Retry-After (not acknowledged: the sender retries, nothing is lost).
    #[arg(
        long,
        env = "IVR_REPORTS_WEBHOOK_MAX_QUARANTINE",
        default_value_t = 1024,
        value_name = "MIB"
    )]
    webhook_max_quarantine: u64,
}

const CREDENTIAL_FLAGS: &str = "--webhook-user NAME with --webhook-password or IVR_REPORTS_WEBHOOK_PASSWORD, or --webhook-secret-path TOKEN, or --webhook-no-auth to accept anyone";

impl WebhookArgs {
    /// The webhook to serve, if any, checked before anything is opened: a non-loopback
    /// address without credentials is a usage error.
    pub(crate) fn config(&self) -> Result<Option<(SocketAddr, WebhookConfig)>, Failure> {
        let Some(addr) = self.webhook else {
            return Ok(None);
        };
        let mut config = WebhookConfig::new()
            .path(self.webhook_path.as_str())
            .memory_budget(self.webhook_memory_budget.saturating_mul(1024 * 1024))
            .max_quarantine_bytes(self.webhook_max_quarantine.saturating_mul(1024 * 1024))
            .allow_unauthenticated(self.webhook_no_auth);
        let password = self.webhook_password.as_deref().filter(|p| !p.is_empty());
        match (&self.webhook_user, password) {
            (Some(user), Some(password)) => config = config.basic_auth(user.as_str(), password),
            (Some(_), None) => {
                return Err(Failure::usage(
                    "--webhook-user needs a password: set IVR_REPORTS_WEBHOOK_PASSWORD (or pass --webhook-password)",
                ));
            }
            (None, Some(_)) if self.webhook_password.is_some() => {
                return Err(Failure::usage(
                    "a webhook password (--webhook-password or IVR_REPORTS_WEBHOOK_PASSWORD) needs --webhook-user",
                ));
            }
            (None, _) => {}
        }
        if let Some(token) = &self.webhook_secret_path {
            let url_safe =
                |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~');
            if token.len() < 22 || !token.chars().all(url_safe) {
                return Err(Failure::usage(
                    "--webhook-secret-path needs at least 22 random characters of A-Z a-z 0-9 - _ . ~ (e.g. `openssl rand -hex 16`)",
                ));
            }
            config = config.secret_path(token.as_str());
        }
        let has_credentials = self.webhook_user.is_some() || self.webhook_secret_path.is_some();
        if !has_credentials && !self.webhook_no_auth && !addr.ip().to_canonical().is_loopback() {
            return Err(Failure::usage(format!(
                "--webhook {addr} is not a loopback address and has no credentials: use {CREDENTIAL_FLAGS}"
            )));
        }
        Ok(Some((addr, config)))
    }

    /// The banner printed once the webhook listens (never a secret).
    pub(crate) fn banner(&self, hook: &Webhook) -> String {
        let mut how = Vec::new();
        if self.webhook_user.is_some() {
            how.push("basic auth");
        }
        if self.webhook_secret_path.is_some() {
            how.push("secret path");
        }
        let open = how.is_empty();
        if open {
            how.push("no auth");
        }
        let mut banner = format!(
            "webhook listening at {} ({}; metrics at /metrics)",
            hook.redacted_url(),
            how.join(", ")
        );
        if open && !hook.local_addr().ip().to_canonical().is_loopback() {
            banner.push_str(
                "\nwarning: the webhook accepts pushes WITHOUT authentication from any address (--webhook-no-auth)",
            );
        }
        banner
    }
}
