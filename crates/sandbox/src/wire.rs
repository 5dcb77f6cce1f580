//! The sandbox's use of the codec: pre-encoding, pages by concatenation, error bodies.

use ivr_reports_codec::{Codec, Format};
use ivr_reports_model::{AnyReport, ApiError, Report, ReportRef, ReportsQuery, Timestamp};

use crate::error::{Error, ErrorKind};
use crate::pieces::{Compact, Pieces};
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

    /// A report as canonical JSON: how injected reports wait in the store. Its dates are
    /// rewritten to the documented millisecond form first (see [`documented_dates`]), so
    /// every page and format that later serves it writes them as the real API does.
    pub(crate) fn json_of<R: Report>(&self, report: &R) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        match documented_dates(report.as_any()) {
            Some(rewritten) => self.json.encode_any(rewritten.as_ref(), &mut out),
            None => self.json.encode_report(report, &mut out),
        }
        out
    }

    /// The log entry of an injected report, from its stored JSON (`None` if that does not
    /// decode: never for JSON the sandbox wrote itself).
    pub(crate) fn log_entry_of(
        &self,
        report: &Compact,
        pieces: &Pieces,
    ) -> Option<ivr_reports_model::LogEntry> {
        let mut json = Vec::with_capacity(report.json_len(pieces));
        report.write_json(pieces, &mut json);
        Some(
            match self.json.decode_any(report.generation(), &json).ok()? {
                AnyReport::V1(r) => crate::logs::injected_entry(&r),
                AnyReport::V2(r) => crate::logs::injected_entry(&r),
            },
        )
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
        pieces: &Pieces,
    ) -> Result<Vec<u8>, String> {
        let codec = self.of(format);
        // Every report is written into one buffer, each at its span; the page then joins
        // the spans. The common case, JSON of the stored generation, copies the stored
        // bytes (with their shared members spliced back); a report of the simulated calls
        // is encoded in place, without a buffer of its own.
        let stored_as_is = |e: &Entry| matches!(e, Entry::Encoded(enc) if format == Format::Json && enc.generation() == generation);
        let estimate: usize = entries
            .iter()
            .map(|e| match e {
                Entry::Encoded(enc) if stored_as_is(e) => enc.json_len(pieces),
                _ => 640,
            })
            .sum();
        let mut all = Vec::with_capacity(estimate);
        let mut spans = Vec::with_capacity(entries.len());
        for entry in entries {
            let start = all.len();
            match entry {
                Entry::Encoded(e) if stored_as_is(entry) => e.write_json(pieces, &mut all),
                Entry::Encoded(e) => {
                    let mut json = Vec::with_capacity(e.json_len(pieces));
                    e.write_json(pieces, &mut json);
                    let undecodable = |err| {
                        format!(
                            "stored report {} does not decode: {err}",
                            entry.message_id()
                        )
                    };
                    let report = self
                        .json
                        .decode_any(e.generation(), &json)
                        .map_err(undecodable)?;
                    codec.encode_any(report.as_ref(), &mut all);
                }
                Entry::Call(call) => match generation {
                    Generation::V1 => codec.encode_report(&call.v1_report(base_url), &mut all),
                    Generation::V2 => codec.encode_report(&call.v2_report(), &mut all),
                },
            }
            spans.push(start..all.len());
        }
        let mut page = Vec::with_capacity(all.len() + spans.len() + 64);
        codec.encode_page_from_fragments(
            spans.iter().map(|s| all.get(s.clone()).unwrap_or_default()),
            &mut page,
        );
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

/// The report with every date in the API's documented form, `yyyy-MM-dd'T'HH:mm:ss.SSSZ`
/// (millisecond precision, the original offset), or `None` when it already is.
///
/// Injected reports may carry any form the decoder accepts (`Z`, no fraction, nanoseconds);
/// the real API renders its own dates and never echoes those, so neither does the sandbox.
fn documented_dates(report: ReportRef<'_>) -> Option<AnyReport> {
    fn needs(t: Option<&Timestamp>) -> bool {
        t.is_some_and(|t| t.precision() != Timestamp::DOCUMENTED_PRECISION)
    }
    fn fix(t: &mut Option<Timestamp>) {
        if let Some(ts) = t.as_mut() {
            *ts = ts
                .with_precision(Timestamp::DOCUMENTED_PRECISION)
                .unwrap_or(*ts);
        }
    }
    match report {
        ReportRef::V1(r) => {
            let dates = [
                &r.sent_at,
                &r.done_at,
                &r.start_time,
                &r.answer_time,
                &r.end_time,
            ];
            if !dates.into_iter().any(|t| needs(t.as_ref())) {
                return None;
            }
            let mut r = r.clone();
            for t in [
                &mut r.sent_at,
                &mut r.done_at,
                &mut r.start_time,
                &mut r.answer_time,
                &mut r.end_time,
            ] {
                fix(t);
            }
            Some(AnyReport::V1(r))
        }
        ReportRef::V2(r) => {
            let call = r.voice_call.as_ref();
            let dates = [
                r.sent_at.as_ref(),
                call.and_then(|c| c.start_time.as_ref()),
                call.and_then(|c| c.answer_time.as_ref()),
                call.and_then(|c| c.end_time.as_ref()),
            ];
            if !dates.into_iter().any(needs) {
                return None;
            }
            let mut r = r.clone();
            fix(&mut r.sent_at);
            if let Some(c) = r.voice_call.as_mut() {
                fix(&mut c.start_time);
                fix(&mut c.answer_time);
                fix(&mut c.end_time);
            }
            Some(AnyReport::V2(r))
        }
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
