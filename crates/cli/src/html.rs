//! `stats --output html`: one self-contained page (inline SVG charts drawn by plotters, no
//! scripts, no network) with the same numbers as the table.

use std::fmt::Write as _;
use std::io::{self, Write};

use ivr_reports::Decimal;
use plotters::prelude::*;

use crate::stats::{DURATION_BUCKETS, Stats, Summary, duration};

const WIDTH: u32 = 540;
const HEIGHT: u32 = 300;
const COLOURS: [RGBColor; 6] = [
    RGBColor(46, 125, 50),
    RGBColor(2, 119, 189),
    RGBColor(239, 108, 0),
    RGBColor(120, 144, 156),
    RGBColor(198, 40, 40),
    RGBColor(106, 27, 154),
];

/// Text made safe for HTML (bulk ids and DTMF codes come from callers).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A bar chart as an SVG element: one bar per label.
fn bars(title: &str, labels: &[String], values: &[f64]) -> String {
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let n = u32::try_from(labels.len().max(1)).unwrap_or(u32::MAX);
        let max = values.iter().copied().fold(0.0_f64, f64::max).max(1.0) * 1.15;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(labels.len().max(1))
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => usize::try_from(*i)
                    .ok()
                    .and_then(|i| labels.get(i))
                    .cloned()
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .draw()?;
        chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let i = u32::try_from(i).unwrap_or(0);
            let colour = COLOURS[usize::try_from(i).unwrap_or(0) % COLOURS.len()];
            Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *v),
                ],
                colour.filled(),
            )
        }))?;
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => svg,
        Err(e) => format!(
            "<p>chart {} not drawn: {}</p>",
            escape(title),
            escape(&e.to_string())
        ),
    }
}

/// A line chart over the hours of the campaign.
fn over_time(title: &str, hours: &[String], values: &[f64]) -> String {
    let labels: Vec<String> = hours
        .iter()
        .map(|h| h.get(5..).unwrap_or(h).replace('T', " ") + "h")
        .collect();
    if hours.len() < 2 {
        return bars(title, &labels, values);
    }
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let max = values.iter().copied().fold(0.0_f64, f64::max).max(1e-9) * 1.15;
        let last = hours.len() - 1;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0..last, 0.0..max)?;
        chart
            .configure_mesh()
            .x_labels(labels.len().min(8))
            .x_label_formatter(&|i| labels.get(*i).cloned().unwrap_or_default())
            .draw()?;
        chart.draw_series(LineSeries::new(
            values.iter().enumerate().map(|(i, v)| (i, *v)),
            COLOURS[1].stroke_width(2),
        ))?;
        root.present()?;
        Ok(())
    })();
    match drawn {
        Ok(()) => svg,
        Err(e) => format!(
            "<p>chart {} not drawn: {}</p>",
            escape(title),
            escape(&e.to_string())
        ),
    }
}

fn to_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(0.0)
}

fn outcomes(s: &Summary) -> [(&'static str, u64); 5] {
    [
        ("answered by human", s.human),
        ("answered by machine", s.machine),
        ("busy", s.busy),
        ("no answer", s.no_answer),
        ("failed", s.failed),
    ]
}

fn percent(part: u64, whole: u64) -> String {
    let permille = (part * 1000 + whole / 2).checked_div(whole).unwrap_or(0);
    format!("{}.{}%", permille / 10, permille % 10)
}

/// The totals of one group as an HTML table: the same numbers as `--output table`.
fn totals(html: &mut String, title: &str, s: &Summary) {
    let costs: Vec<String> = s.cost.iter().map(|(c, v)| format!("{v} {c}")).collect();
    let _ = write!(
        html,
        "<h2>{}: <span class=\"calls\">{} calls</span></h2>\n<table><tr><th>outcome</th><th>calls</th><th>share</th></tr>\n",
        escape(title),
        s.calls
    );
    for (label, n) in outcomes(s) {
        let _ = writeln!(
            html,
            "<tr><td>{label}</td><td class=\"n\">{n}</td><td class=\"n\">{}</td></tr>",
            percent(n, s.calls)
        );
    }
    let _ = write!(
        html,
        "</table>\n<p>duration: {} in all, {} on average &middot; cost: {}</p>\n",
        duration(Decimal::from(s.total_duration)),
        duration(s.average_duration()),
        if costs.is_empty() {
            "-".to_string()
        } else {
            escape(&costs.join(", "))
        }
    );
}

/// Writes the page.
pub(crate) fn write_page(stats: &Stats, out: &mut dyn Write) -> io::Result<()> {
    let o = &stats.overall;
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>IVR campaign</title>\n<style>\n\
         body{font-family:sans-serif;margin:2em;color:#222}\
         table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}\
         td.n{text-align:right}.charts{display:flex;flex-wrap:wrap;gap:1em}.charts svg{border:1px solid #eee}\n\
         </style></head><body>\n<h1>IVR campaign</h1>\n",
    );
    totals(&mut html, "All calls", o);
    html.push_str("<div class=\"charts\">\n");
    let (labels, values): (Vec<String>, Vec<f64>) = outcomes(o)
        .iter()
        .map(|(l, n)| ((*l).replace("answered by ", "by "), *n as f64))
        .unzip();
    html.push_str(&bars("Outcomes (calls)", &labels, &values));
    let answered = o.human + o.machine;
    html.push_str(&bars(
        &format!("Answered by ({answered} answered)"),
        &["human".to_string(), "machine".to_string()],
        &[o.human as f64, o.machine as f64],
    ));
    let hours: Vec<String> = o.hours.keys().cloned().collect();
    let calls: Vec<f64> = o.hours.values().map(|(n, _)| *n as f64).collect();
    html.push_str(&over_time("Calls per hour sent", &hours, &calls));
    for currency in o.cost.keys() {
        let cost: Vec<f64> = o
            .hours
            .values()
            .map(|(_, c)| c.get(currency).copied().map_or(0.0, to_f64))
            .collect();
        html.push_str(&over_time(
            &format!("Cost per hour ({currency})"),
            &hours,
            &cost,
        ));
    }
    let (labels, values): (Vec<String>, Vec<f64>) = DURATION_BUCKETS
        .iter()
        .zip(o.durations)
        .map(|((_, l), n)| ((*l).to_string(), n as f64))
        .unzip();
    html.push_str(&bars("Call durations (calls)", &labels, &values));
    if !o.dtmf.is_empty() {
        let (labels, values): (Vec<String>, Vec<f64>) = o
            .dtmf
            .iter()
            .map(|(d, n)| {
                (
                    if d.is_empty() {
                        "(none)".into()
                    } else {
                        d.clone()
                    },
                    *n as f64,
                )
            })
            .unzip();
        html.push_str(&bars("DTMF answers (answered calls)", &labels, &values));
    }
    if stats.bulks.len() > 1 {
        let (labels, values): (Vec<String>, Vec<f64>) = stats
            .bulks
            .iter()
            .map(|(b, s)| (b.clone(), s.calls as f64))
            .unzip();
        html.push_str(&bars("Calls per bulk", &labels, &values));
    }
    html.push_str("</div>\n");
    if stats.bulks.len() > 1 {
        for (bulk, s) in &stats.bulks {
            totals(&mut html, &format!("Bulk {bulk}"), s);
        }
    }
    html.push_str("</body></html>\n");
    out.write_all(html.as_bytes())
}
