//! Report output: a table for people, CSV for spreadsheets, JSON and JSON lines for programs.

use std::io::{self, Write};

use clap::ValueEnum;
use ivr_reports::codec::Codec;
use ivr_reports::{Format, Report};

/// How reports (or statistics) are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Aligned columns (the default on a terminal).
    Table,
    /// One JSON document.
    Json,
    /// One JSON report per line (the default when piped).
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
}

/// One report, flattened to the columns every output shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) message_id: String,
    pub(crate) bulk_id: String,
    pub(crate) to: String,
    pub(crate) status: String,
    pub(crate) error: String,
    pub(crate) dtmf: String,
    pub(crate) duration: String,
    pub(crate) price: String,
    pub(crate) currency: String,
    pub(crate) cost: String,
    pub(crate) sent_at: String,
}

const TABLE_HEADERS: [&str; 11] = [
    "message id",
    "bulk id",
    "to",
    "status",
    "error",
    "dtmf",
    "seconds",
    "price/s",
    "currency",
    "cost",
    "sent at",
];

/// The numeric columns of the table, aligned right.
const TABLE_RIGHT: [bool; 11] = [
    false, false, false, false, false, false, true, true, false, true, false,
];

const HEADERS: [&str; 11] = [
    "messageId",
    "bulkId",
    "to",
    "status",
    "error",
    "dtmf",
    "duration",
    "pricePerSecond",
    "currency",
    "cost",
    "sentAt",
];

impl Row {
    fn cells(&self) -> [&str; 11] {
        [
            &self.message_id,
            &self.bulk_id,
            &self.to,
            &self.status,
            &self.error,
            &self.dtmf,
            &self.duration,
            &self.price,
            &self.currency,
            &self.cost,
            &self.sent_at,
        ]
    }
}

fn text<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// One report's row, from the accessors both generations share.
fn row<R: Report>(r: &R) -> Row {
    Row {
        message_id: r.message_id().to_string(),
        bulk_id: r.bulk_id().unwrap_or_default().to_string(),
        to: r.to().to_string(),
        status: text(r.status().map(|s| &s.name)),
        error: text(r.error().map(|e| &e.name)),
        dtmf: r.dtmf_codes().unwrap_or_default().to_string(),
        duration: text(r.duration()),
        price: text(r.price().map(|p| p.per_second)),
        currency: text(r.price().map(|p| &p.currency)),
        cost: text(r.cost()),
        sent_at: text(r.sent_at()),
    }
}

/// Writes `reports` in `output` form.
pub(crate) fn write_reports<R: Report>(
    out: &mut dyn Write,
    output: Output,
    reports: &[R],
) -> io::Result<()> {
    match output {
        Output::Table => {
            let rows: Vec<Row> = reports.iter().map(row).collect();
            write_table(
                out,
                &TABLE_HEADERS,
                TABLE_RIGHT,
                rows.iter().map(Row::cells),
            )
        }
        Output::Csv => {
            let mut csv = CsvOut::new(out);
            csv.record(&HEADERS)?;
            for r in reports {
                csv.record(&row(r).cells())?;
            }
            csv.finish()
        }
        Output::Json => {
            out.write_all(&json_codec()?.encode_page(reports))?;
            out.write_all(b"\n")
        }
        Output::Jsonl => {
            let codec = json_codec()?;
            let mut line = Vec::with_capacity(1024);
            for r in reports {
                line.clear();
                codec.encode_report(r, &mut line);
                line.push(b'\n');
                out.write_all(&line)?;
            }
            Ok(())
        }
    }
}

fn json_codec() -> io::Result<Codec> {
    Codec::new(Format::Json).map_err(io::Error::other)
}

/// Aligned columns, two spaces apart, headers in capitals; the columns marked in `right`
/// (numbers) aligned right.
pub(crate) fn write_table<'a, const N: usize>(
    out: &mut dyn Write,
    headers: &[&str; N],
    right: [bool; N],
    rows: impl Iterator<Item = [&'a str; N]> + Clone,
) -> io::Result<()> {
    let mut widths = headers.map(|h| h.chars().count());
    for row in rows.clone() {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; N]| {
        let mut s = String::new();
        for (i, ((cell, w), right)) in cells.iter().zip(widths).zip(right).enumerate() {
            match (right, i + 1 == N) {
                (true, _) => s.push_str(&format!("{cell:>w$}")),
                (false, true) => s.push_str(cell),
                (false, false) => s.push_str(&format!("{cell:<w$}")),
            }
            if i + 1 < N {
                s.push_str("  ");
            }
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(headers.map(|h| h)).to_uppercase())?;
    for row in rows {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

/// A CSV writer (RFC 4180 quoting by the `csv` crate) whose cells a spreadsheet never runs
/// as formulas ([`safe_cell`]).
pub(crate) struct CsvOut<'a>(csv::Writer<&'a mut dyn Write>);

impl<'a> CsvOut<'a> {
    pub(crate) fn new(out: &'a mut dyn Write) -> Self {
        Self(csv::Writer::from_writer(out))
    }

    /// One record; every cell through [`safe_cell`].
    pub(crate) fn record(&mut self, cells: &[&str]) -> io::Result<()> {
        self.0
            .write_record(cells.iter().map(|c| safe_cell(c).into_owned()))
            .map_err(io::Error::from)
    }

    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a
/// tab or a carriage return: OWASP's "CSV injection") gets a leading `'`, which spreadsheets
/// show as text. Report values come from the API and from callers (DTMF, bulk ids), so they
/// are untrusted.
pub(crate) fn safe_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let mut out = Vec::new();
        let mut csv = CsvOut::new(&mut out);
        csv.record(&["a", "b,c", "say \"hi\"", "", "=1+2", "@x", "-3", "\tx"])
            .unwrap();
        csv.finish().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a,\"b,c\",\"say \"\"hi\"\"\",,'=1+2,'@x,'-3,'\tx\n"
        );
    }

    #[test]
    fn tables_align() {
        let mut out = Vec::new();
        let rows = [["x", "1"], ["longer", "22"]];
        write_table(
            &mut out,
            &["name", "n"],
            [false, true],
            rows.iter().copied(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME     N\nx        1\nlonger  22\n"
        );
    }
}
