//! `ivr-reports fetch`: one page of reports; its raw body saved durably first when asked,
//! then decoded and printed.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use ivr_reports::bytes::Bytes;
use ivr_reports::http::{Method, Response};
use ivr_reports::{Client, Endpoint, Format, Page, Report, Reports};

use crate::config::ApiArgs;
use crate::output::{self, Output};
use crate::{EXIT_SET_ASIDE, Failure};

pub(crate) const EXAMPLES: &str = "\
Examples:
  INFOBIP_API_KEY=... ivr-reports fetch --limit 100
  ivr-reports fetch --v2 --bulk-id campaign-7 --output csv > reports.csv
  ivr-reports fetch --save fetched.jsonl --output json
  ivr-reports fetch --base-url http://127.0.0.1:8080 --api-key sandbox-api-key --wire xml";

/// The wire format asked of the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Wire {
    /// application/json
    Json,
    /// application/xml
    Xml,
}

#[derive(Debug, Args)]
pub(crate) struct FetchArgs {
    /// Fetch v2 reports (GET /voice/1/reports) instead of v1 (GET /tts/3/reports).
    #[arg(long)]
    v2: bool,
    /// Only reports of this bulk.
    #[arg(long, value_name = "ID")]
    bulk_id: Option<String>,
    /// Only the report of this message.
    #[arg(long, value_name = "ID")]
    message_id: Option<String>,
    /// At most this many reports, 1 to 1000 (the API's default is 50).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1000))]
    limit: Option<u16>,
    /// The wire format to ask for.
    #[arg(long, value_enum, default_value = "json")]
    wire: Wire,
    /// How to print: table on a terminal, jsonl otherwise, unless given.
    #[arg(long, short, value_enum)]
    output: Option<Output>,
    /// Write the response body to FILE exactly as received (JSON or XML, as --wire asks),
    /// durably, before decoding or printing anything: reports that cannot be decoded are
    /// kept there too (exit code 4). FILE must not exist yet.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
}

pub(crate) async fn run(api: &ApiArgs, args: FetchArgs) -> Result<(), Failure> {
    let format = match args.wire {
        Wire::Json => Format::Json,
        Wire::Xml => Format::Xml,
    };
    let client = api.client(format)?;
    // Refuse an unusable --save before anything is consumed.
    let save = match &args.save {
        Some(path) => Some(create_new(path)?),
        None => None,
    };
    let output = args.output.unwrap_or(if io::stdout().is_terminal() {
        Output::Table
    } else {
        Output::Jsonl
    });
    if args.v2 {
        fetch::<ivr_reports::CallReport>(&client, &args, save, output).await
    } else {
        fetch::<ivr_reports::VoiceReport>(&client, &args, save, output).await
    }
}

async fn fetch<R: Report>(
    client: &Client,
    args: &FetchArgs,
    save: Option<(File, PathBuf)>,
    output: Output,
) -> Result<(), Failure> {
    let mut query = ivr_reports::ReportsQuery::new();
    if let Some(b) = &args.bulk_id {
        query = query.bulk_id(b.clone());
    }
    if let Some(m) = &args.message_id {
        query = query.message_id(m.clone());
    }
    if let Some(l) = args.limit.and_then(ivr_reports::Limit::new) {
        query = query.limit(l);
    }
    tracing::debug!(
        target: crate::LOG_TARGET,
        base_url = %ivr_reports::redact_url(client.base_url()),
        path = R::GENERATION.path(),
        "fetching one page"
    );
    let endpoint = Reports::<R>::new(query);
    // The body first, undecoded: once it is on disk nothing the decoder says can lose it.
    let response = client.send(&Raw(&endpoint)).await.map_err(|e| {
        let mut failure = Failure::from(e);
        if failure.code == crate::EXIT_RESPONSE_LOST {
            failure.message.push_str(
                "; fetch keeps no record of it: `ivr-reports collect` records such a loss and \
                 reconciles it from the voice logs (kept 48 hours)",
            );
        }
        failure
    })?;
    let saved = match save {
        Some((file, path)) => {
            save_body(file, &path, response.body())?;
            tracing::info!(
                target: crate::LOG_TARGET,
                bytes = response.body().len(),
                file = %path.display(),
                "saved the response body"
            );
            Some(path)
        }
        None => None,
    };
    let kept = |what: &str| match &saved {
        Some(path) => format!("{what} (the raw body is saved in {})", path.display()),
        None => format!("{what}; use --save FILE to keep the raw body"),
    };
    let page: Page<R> = endpoint.decode(response).map_err(|e| Failure {
        code: EXIT_SET_ASIDE,
        message: kept(&format!(
            "the response could not be decoded: {}",
            crate::one_line(&e)
        )),
    })?;
    if !page.rejected.is_empty() {
        tracing::warn!(
            target: crate::LOG_TARGET,
            "{}",
            kept(&format!(
                "{} of {} reports could not be decoded",
                page.rejected.len(),
                page.len()
            ))
        );
        for r in &page.rejected {
            tracing::warn!(
                target: crate::LOG_TARGET,
                index = r.index,
                reason = %r.error,
                "undecodable report"
            );
        }
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    output::write_reports(&mut out, output, &page.reports)?;
    out.flush()?;
    tracing::debug!(
        target: crate::LOG_TARGET,
        reports = page.reports.len(),
        status = page.meta.status.as_u16(),
        "printed"
    );
    if !page.rejected.is_empty() {
        return Err(Failure {
            code: EXIT_SET_ASIDE,
            message: kept(&format!(
                "{} reports could not be decoded",
                page.rejected.len()
            )),
        });
    }
    if !page.reports.is_empty() {
        // Once, and only when reports did arrive: a failure says what it means itself.
        tracing::info!(
            target: crate::LOG_TARGET,
            "{} reports fetched, and consumed: the API hands each report out only once",
            page.reports.len()
        );
    }
    Ok(())
}

/// An endpoint sent as it is, its 2xx response kept undecoded.
struct Raw<'a, E>(&'a E);

impl<E: Endpoint> Endpoint for Raw<'_, E> {
    type Output = Response<Bytes>;

    fn method(&self) -> Method {
        self.0.method()
    }

    fn path(&self) -> Cow<'_, str> {
        self.0.path()
    }

    fn query(&self) -> Option<String> {
        self.0.query()
    }

    fn format(&self, preferred: Format) -> Format {
        self.0.format(preferred)
    }

    fn body(&self) -> Option<(Format, Bytes)> {
        self.0.body()
    }

    fn decode(&self, response: Response<Bytes>) -> Result<Response<Bytes>, ivr_reports::Error> {
        Ok(response)
    }
}

fn create_new(path: &Path) -> Result<(File, PathBuf), Failure> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map(|f| (f, path.to_path_buf()))
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", path.display())))
}

/// The body, byte for byte; synced to disk (file and directory) before returning.
fn save_body(mut file: File, path: &Path, body: &[u8]) -> Result<(), Failure> {
    let failed = |e: io::Error| Failure::failed(format!("cannot save to {}: {e}", path.display()));
    file.write_all(body).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(failed)?;
    }
    Ok(())
}
