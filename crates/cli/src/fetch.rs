//! `ivr-reports fetch`: one page of reports, saved durably first when asked, then printed.

use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use ivr_reports::codec::Codec;
use ivr_reports::{Client, Format, Page, ReportKind};

use crate::Failure;
use crate::config::ApiArgs;
use crate::output::{self, Flatten, Output};

pub(crate) const EXAMPLES: &str = "\
Examples:
  INFOBIP_API_KEY=... ivr-reports fetch --limit 100
  ivr-reports fetch --v2 --bulk-id campaign-7 --output csv > reports.csv
  ivr-reports fetch --save fetched.jsonl --output json
  ivr-reports --base-url http://127.0.0.1:8080 --api-key sandbox-api-key fetch --wire xml";

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
    /// Write the fetched reports (and any undecodable ones) to FILE, durably, before
    /// printing anything. The file gets one JSON report per line; it must not exist yet.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
}

pub(crate) async fn run(api: &ApiArgs, args: FetchArgs, verbose: bool) -> Result<(), Failure> {
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
        fetch::<ivr_reports::CallReport>(&client, &args, save, output, verbose).await
    } else {
        fetch::<ivr_reports::VoiceReport>(&client, &args, save, output, verbose).await
    }
}

async fn fetch<R: ReportKind + Flatten>(
    client: &Client,
    args: &FetchArgs,
    save: Option<(File, PathBuf)>,
    output: Output,
    verbose: bool,
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
    if verbose {
        eprintln!(
            "GET {}{}",
            ivr_reports::redact_url(client.base_url()),
            R::PATH
        );
    }
    eprintln!("note: fetched reports are consumed: the API hands each report out only once");
    let page: Page<R> = client.send(&ivr_reports::Reports::<R>::new(query)).await?;
    if let Some((file, path)) = save {
        save_page(file, &path, &page)?;
        eprintln!("saved {} reports to {}", page.len(), path.display());
    }
    if !page.rejected.is_empty() {
        eprintln!(
            "warning: {} reports could not be decoded{}",
            page.rejected.len(),
            if args.save.is_some() {
                " (their raw bytes are in the saved file)"
            } else {
                "; use --save to keep their raw bytes"
            }
        );
        for r in &page.rejected {
            eprintln!("  report #{}: {}", r.index, r.error);
        }
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    output::write_reports(&mut out, output, &page.reports)?;
    out.flush()?;
    if verbose {
        eprintln!("{} reports, HTTP {}", page.reports.len(), page.meta.status);
    }
    Ok(())
}

fn create_new(path: &Path) -> Result<(File, PathBuf), Failure> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map(|f| (f, path.to_path_buf()))
        .map_err(|e| Failure::usage(format!("cannot create {}: {e}", path.display())))
}

/// One JSON report per line, then one `{"rejected":...}` line per undecodable report; synced
/// to disk (file and directory) before returning.
fn save_page<R: ReportKind>(mut file: File, path: &Path, page: &Page<R>) -> Result<(), Failure> {
    let codec = Codec::new(Format::Json).map_err(|e| Failure::failed(e.to_string()))?;
    let mut buf = Vec::with_capacity(page.len() * 700);
    for r in &page.reports {
        codec.encode_report(r, &mut buf);
        buf.push(b'\n');
    }
    for r in &page.rejected {
        let line = serde_json::json!({"rejected": {
            "index": r.index,
            "error": r.error.to_string(),
            "raw": String::from_utf8_lossy(&r.raw),
        }});
        buf.extend_from_slice(line.to_string().as_bytes());
        buf.push(b'\n');
    }
    let failed = |e: io::Error| Failure::failed(format!("cannot save to {}: {e}", path.display()));
    file.write_all(&buf).map_err(failed)?;
    file.sync_all().map_err(failed)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).map_err(failed)?;
    }
    Ok(())
}
