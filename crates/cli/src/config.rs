//! Where the API is and how to authenticate: environment variables, overridden by flags.

use std::time::Duration;

use clap::Args;
use clap::builder::BoolishValueParser;
use ivr_reports::{Auth, Client, Format};
use ivr_reports_collector::SinkSpec;

use crate::Failure;

/// API location and credentials (flags override the `INFOBIP_*` environment variables):
/// only the subcommands that talk to the API show them.
#[derive(Debug, Args)]
pub(crate) struct ApiArgs {
    /// The API's base URL, e.g. your personal `https://xyz.api.infobip.com`.
    #[arg(
        long,
        help_heading = "API",
        env = "INFOBIP_BASE_URL",
        default_value = ivr_reports::DEFAULT_BASE_URL,
        value_name = "URL"
    )]
    pub(crate) base_url: String,

    #[command(flatten)]
    pub(crate) credentials: Credentials,

    /// Allow credentials over plain http:// to a host that is not loopback.
    #[arg(
        long,
        help_heading = "API",
        env = "IVR_REPORTS_ALLOW_INSECURE_HTTP",
        action = clap::ArgAction::SetTrue,
        value_parser = BoolishValueParser::new()
    )]
    pub(crate) allow_insecure_http: bool,

    /// Seconds allowed to connect to the API.
    #[arg(
        long,
        help_heading = "API",
        env = "IVR_REPORTS_CONNECT_TIMEOUT",
        default_value = "10",
        value_parser = seconds,
        value_name = "SECONDS"
    )]
    pub(crate) connect_timeout: Duration,

    /// Seconds allowed for a whole response once the request is sent; when they run out
    /// the response counts as lost (the reports it carried may have been consumed).
    #[arg(
        long,
        help_heading = "API",
        env = "IVR_REPORTS_RESPONSE_TIMEOUT",
        default_value = "60",
        value_parser = seconds,
        value_name = "SECONDS"
    )]
    pub(crate) response_timeout: Duration,
}

/// Where the reports are stored: one `--sink` for `collect`, `reconcile`, `audit` and
/// `stats`, with one help text, one environment variable and one default.
#[derive(Debug, Args)]
pub(crate) struct SinkArgs {
    /// Where the reports are stored: jsonl:PATH or a postgres:// URL (TLS by
    /// sslmode=require|verify-full and sslrootcert=PATH; the password may come from
    /// IVR_REPORTS_PG_PASSWORD or PGPASSWORD instead of the URL).
    #[arg(
        long,
        env = "IVR_REPORTS_SINK",
        hide_env_values = true,
        default_value = "jsonl:./ivr-reports.jsonl",
        value_name = "SINK"
    )]
    pub(crate) sink: String,
}

impl SinkArgs {
    /// The sink this names; a text that names none is a usage error.
    pub(crate) fn spec(&self) -> Result<SinkSpec, Failure> {
        parse_sink(&self.sink)
    }
}

/// `text` as a sink; a text that names none is a usage error.
pub(crate) fn parse_sink(text: &str) -> Result<SinkSpec, Failure> {
    text.parse()
        .map_err(|e: ivr_reports_collector::Error| Failure::usage(crate::one_line(&e)))
}

/// A positive number of seconds, fractions allowed (`0.5`).
fn seconds(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s < 1e9 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!("{text:?} is not a positive number of seconds")),
    }
}

/// Credentials: those sent to the API, or those a sandbox accepts.
#[derive(Debug, Args)]
pub(crate) struct Credentials {
    /// API key, sent as `Authorization: App <key>`.
    #[arg(
        long,
        help_heading = "Credentials",
        env = "INFOBIP_API_KEY",
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub(crate) api_key: Option<String>,

    /// Username for Basic authentication (with --password), when no API key is given.
    #[arg(
        long,
        help_heading = "Credentials",
        env = "INFOBIP_USERNAME",
        value_name = "NAME"
    )]
    pub(crate) username: Option<String>,

    /// Password for Basic authentication.
    #[arg(
        long,
        help_heading = "Credentials",
        env = "INFOBIP_PASSWORD",
        hide_env_values = true,
        value_name = "PASSWORD"
    )]
    pub(crate) password: Option<String>,
}

impl Credentials {
    /// The credentials given, if any: the API key wins over username and password.
    pub(crate) fn auth(&self) -> Result<Option<Auth>, Failure> {
        if let Some(key) = self.api_key.as_deref().filter(|k| !k.is_empty()) {
            return Ok(Some(Auth::app(key)));
        }
        match (&self.username, &self.password) {
            (Some(user), Some(password)) => Ok(Some(Auth::basic(user.as_str(), password.as_str()))),
            (Some(_), None) | (None, Some(_)) => Err(Failure::usage(
                "Basic authentication needs both --username and --password (or INFOBIP_USERNAME and INFOBIP_PASSWORD)",
            )),
            (None, None) => Ok(None),
        }
    }
}

impl ApiArgs {
    /// A client of the configured API. Credentials are required.
    pub(crate) fn client(&self, format: Format) -> Result<Client, Failure> {
        let Some(auth) = self.credentials.auth()? else {
            return Err(Failure::usage(
                "no credentials: set INFOBIP_API_KEY (or INFOBIP_USERNAME and INFOBIP_PASSWORD), or pass --api-key",
            ));
        };
        // Said here, in the CLI's words: the library's own refusal names its method.
        if !self.allow_insecure_http
            && let Ok(uri) = self.base_url.parse::<ivr_reports::http::Uri>()
            && uri.scheme_str() == Some("http")
            && let Some(host) = uri.host()
            && !ivr_reports_transport::is_loopback_host(host)
        {
            return Err(Failure::usage(format!(
                "refusing to send credentials over plain http to {host}: use https, or pass --allow-insecure-http"
            )));
        }
        Ok(Client::builder()
            .base_url(self.base_url.as_str())
            .auth(auth)
            .format(format)
            .allow_insecure_http(self.allow_insecure_http)
            .connect_timeout(self.connect_timeout)
            .response_timeout(self.response_timeout)
            .build()?)
    }
}
