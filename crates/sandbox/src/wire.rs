//! The sandbox's use of the codec: pre-encoding, pages by concatenation, error bodies.

use std::borrow::Cow;

use ivr_reports_codec::{Codec, Format};
use ivr_reports_model::{ApiError, Report, ReportsQuery};

use crate::error::{Error, ErrorKind};
use crate::store::{Entry, Generation};

/// One codec per format, made once (a format whose cargo feature is off fails at start).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Codecs {
    json: Codec,
    xml: Codec,
}

impl Codecs {
    pub(crate) fn new() -> Result<Self, Error> {
        let make = |format| {
            Codec::new(format).map_err(|e| {
                Error::with_source(ErrorKind::InvalidConfig, "the codec lacks a format", e)
            })
        };
        Ok(Self {
            json: make(Format::Json)?,
            xml: make(Format::Xml)?,
        })
    }

    pub(crate) fn of(&self, format: Format) -> &Codec {
        match format {
            Format::Json => &self.json,
            Format::Xml => &self.xml,
        }
    }

    /// A report as canonical JSON: how injected reports wait in the store.
    pub(crate) fn json_of<R: Report>(&self, report: &R) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        self.json.encode_report(report, &mut out);
        out
    }

    /// The error body of the API in `format`.
    pub(crate) fn api_error(&self, format: Format, error: &ApiError) -> Vec<u8> {
        self.of(format).encode_api_error(error)
    }

    /// A page of log entries (`GET /tts/3/logs`).
    pub(crate) fn logs_page(
        &self,
        format: Format,
        logs: &[ivr_reports_model::LogEntry],
    ) -> Vec<u8> {
        self.of(format).encode_logs(logs)
    }

    /// A one-report page, as pushed to webhooks.
    pub(crate) fn push_page<R: Report>(&self, format: Format, report: &R) -> Vec<u8> {
        self.of(format).encode_page(std::slice::from_ref(report))
    }

    /// The page of `entries` in `format` and `generation`. Injected reports already stored
    /// as JSON of the requested generation are copied as they are: the common case costs a
    /// concatenation. Everything else is rendered or re-encoded here.
    pub(crate) fn page(
        &self,
        format: Format,
        generation: Generation,
        entries: &[Entry],
        base_url: &str,
    ) -> Result<Vec<u8>, String> {
        let codec = self.of(format);
        let mut page = Vec::new();
        // The common case, JSON of the stored generation: the stored bytes are the page.
        let stored_as_is = |e: &Entry| matches!(e, Entry::Encoded(enc) if format == Format::Json && enc.generation() == generation);
        if entries.iter().all(stored_as_is) {
            let size: usize = entries.iter().map(|e| stored_json(e).len() + 1).sum();
            page.reserve(size + 16);
            codec.encode_page_from_fragments(entries.iter().map(stored_json), &mut page);
            return Ok(page);
        }
        let mut fragments: Vec<Cow<'_, [u8]>> = Vec::with_capacity(entries.len());
        for entry in entries {
            let fragment = match entry {
                Entry::Encoded(e) if stored_as_is(entry) => Cow::Borrowed(e.json()),
                Entry::Encoded(e) => {
                    let mut out = Vec::with_capacity(1024);
                    let undecodable = |err| {
                        format!(
                            "stored report {} does not decode: {err}",
                            entry.message_id()
                        )
                    };
                    let report = self
                        .json
                        .decode_any(e.generation(), e.json())
                        .map_err(undecodable)?;
                    codec.encode_any(report.as_ref(), &mut out);
                    Cow::Owned(out)
                }
                Entry::Call(call) => {
                    let mut out = Vec::with_capacity(1024);
                    match generation {
                        Generation::V1 => codec.encode_report(&call.v1_report(base_url), &mut out),
                        Generation::V2 => codec.encode_report(&call.v2_report(), &mut out),
                    }
                    Cow::Owned(out)
                }
            };
            fragments.push(fragment);
        }
        let size: usize = fragments.iter().map(|f| f.len() + 1).sum();
        page.reserve(size + 64);
        codec.encode_page_from_fragments(fragments.iter().map(|f| &f[..]), &mut page);
        Ok(page)
    }

    /// Decodes an injected page: the reports, and how many items were rejected.
    pub(crate) fn decode<R: Report>(
        &self,
        format: Format,
        body: &[u8],
    ) -> Result<(Vec<R>, usize), String> {
        let batch = self
            .of(format)
            .decode_page::<R>(body)
            .map_err(|e| e.to_string())?;
        Ok((batch.reports, batch.rejected.len()))
    }
}

/// The stored JSON of an entry (empty for a simulated call: never asked for one).
fn stored_json(entry: &Entry) -> &[u8] {
    match entry {
        Entry::Encoded(e) => e.json(),
        Entry::Call(_) => &[],
    }
}

/// Parses a report request's query string; on error, the field and the problem, for the
/// API's `validationErrors`.
pub(crate) fn parse_query(query: &str) -> Result<ReportsQuery, (String, String)> {
    ivr_reports_codec::parse_query(query).map_err(|e| field_problem(&e))
}

/// Parses a logs request's query string, as [`parse_query`].
pub(crate) fn parse_logs_query(
    query: &str,
) -> Result<ivr_reports_model::LogsQuery, (String, String)> {
    ivr_reports_codec::parse_logs_query(query).map_err(|e| field_problem(&e))
}

fn field_problem(e: &ivr_reports_codec::Error) -> (String, String) {
    let field = if e.path().is_empty() {
        "limit"
    } else {
        e.path()
    }
    .to_string();
    let text = e.to_string();
    let problem = text
        .strip_prefix(&format!("{field}: "))
        .unwrap_or(&text)
        .to_string();
    (field, problem)
}
