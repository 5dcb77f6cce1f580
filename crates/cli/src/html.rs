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

/// How a value axis reads: whole numbers (calls) or amounts.
#[derive(Clone, Copy)]
enum Axis {
    Count,
    Amount,
}

impl Axis {
    fn label(self, v: f64) -> String {
        match self {
            Axis::Count => format!("{v:.0}"),
            Axis::Amount => format!("{v:.2}"),
        }
    }

    /// The top of the axis: a little above the largest value (whole for counts, so the
    /// labels are whole numbers).
    fn top(self, values: &[f64]) -> f64 {
        let max = values.iter().copied().fold(0.0_f64, f64::max);
        match self {
            Axis::Count => (max * 1.15).ceil().max(5.0),
            Axis::Amount => (max * 1.15).max(1e-9),
        }
    }
}

/// The mesh's faint lines: barely there.
const LIGHT: RGBColor = RGBColor(240, 240, 240);

/// The chart's SVG when it was drawn, else a line saying which chart failed and why.
fn svg_or_why(title: &str, svg: String, drawn: Result<(), Box<dyn std::error::Error>>) -> String {
    match drawn {
        Ok(()) => svg,
        Err(e) => format!(
            "<p>chart {} not drawn: {}</p>",
            escape(title),
            escape(&e.to_string())
        ),
    }
}

/// A bar chart as an SVG element: one bar per label.
fn bars(title: &str, labels: &[String], values: &[f64], axis: Axis) -> String {
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        // Segments 0..=last: one per label, none spare; a lone bar in the middle of three
        // (plotters cannot draw a range of one segment).
        let lone = u32::from(labels.len() == 1);
        let last = u32::try_from(labels.len().max(1) - 1).unwrap_or(u32::MAX) + 2 * lone;
        let top = axis.top(values);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((0..last).into_segmented(), 0.0..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(LIGHT)
            .y_labels(6)
            .y_label_formatter(&|v| axis.label(*v))
            .x_labels(labels.len().max(1) + 2 * lone as usize)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => i
                    .checked_sub(lone)
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| labels.get(i))
                    .cloned()
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .draw()?;
        chart.draw_series(values.iter().enumerate().map(|(i, v)| {
            let colour = COLOURS[i % COLOURS.len()];
            let i = u32::try_from(i).unwrap_or(0) + lone;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *v),
                ],
                colour.filled(),
            );
            bar.set_margin(0, 0, 6, 6);
            bar
        }))?;
        root.present()?;
        Ok(())
    })();
    svg_or_why(title, svg, drawn)
}

/// An hour as the charts label it: `12-02 09h`.
fn hour_label(hour: &str) -> String {
    hour.get(5..).unwrap_or(hour).replace('T', " ") + "h"
}

/// A line chart over the hours of the campaign.
fn over_time(title: &str, hours: &[String], values: &[f64], axis: Axis) -> String {
    let labels: Vec<String> = hours.iter().map(|h| hour_label(h)).collect();
    if hours.len() < 2 {
        return bars(title, &labels, values, axis);
    }
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE)?;
        let top = axis.top(values);
        let last = hours.len() - 1;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0..last, 0.0..top)?;
        chart
            .configure_mesh()
            .light_line_style(LIGHT)
            .y_labels(6)
            .y_label_formatter(&|v| axis.label(*v))
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
    svg_or_why(title, svg, drawn)
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

/// The most bulks the per-bulk chart draws one by one (the largest); the rest share a bar.
const MAX_BULK_BARS: usize = 15;

/// Outcomes per bulk as an SVG element: one stacked horizontal bar per bulk (the largest
/// [`MAX_BULK_BARS`], the others together), coloured by outcome, with a legend.
fn per_bulk(title: &str, rows: &[(String, [u64; 5])]) -> String {
    // A lone bulk takes three rows' height: it is drawn in the middle one.
    let drawn_rows = match rows.len() {
        1 => 3,
        n => u32::try_from(n).unwrap_or(u32::MAX).min(100),
    };
    let height = 90 + 32 * drawn_rows;
    let width = 2 * WIDTH + 16;
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        // Row i (the largest first) on segment `slot(i)`, counted from the bottom, so the
        // largest is on top; a lone bar in the middle of three (see `bars`).
        let n = u32::try_from(rows.len().max(1)).unwrap_or(u32::MAX);
        let lone = u32::from(n == 1);
        let last = n - 1 + 2 * lone;
        let slot = |i: u32| n - 1 - i + lone;
        let row_at = |s: u32| s.checked_sub(lone).and_then(|s| (n - 1).checked_sub(s));
        let totals: Vec<f64> = rows
            .iter()
            .map(|(_, n)| n.iter().sum::<u64>() as f64)
            .collect();
        let top = Axis::Count.top(&totals);
        let label_width = rows
            .iter()
            .map(|(b, _)| b.chars().count())
            .max()
            .unwrap_or(0)
            .clamp(6, 40);
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(u32::try_from(label_width * 9 + 14).unwrap_or(374))
            .build_cartesian_2d(0.0..top, (0..last).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(LIGHT)
            .x_labels(8)
            .x_label_formatter(&|v| Axis::Count.label(*v))
            .y_labels(rows.len().max(1) + 2 * lone as usize)
            .y_label_style(("sans-serif", 13))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(s) | SegmentValue::Exact(s) => row_at(*s)
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| rows.get(i))
                    .map(|(b, _)| b.clone())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .draw()?;
        for k in 0..5 {
            let colour = COLOURS[k % COLOURS.len()];
            chart.draw_series(rows.iter().enumerate().map(|(i, (_, n))| {
                let i = slot(u32::try_from(i).unwrap_or(0));
                let from = n[..k].iter().sum::<u64>() as f64;
                let mut bar = Rectangle::new(
                    [
                        (from, SegmentValue::Exact(i)),
                        (from + n[k] as f64, SegmentValue::Exact(i + 1)),
                    ],
                    colour.filled(),
                );
                bar.set_margin(5, 5, 0, 0);
                bar
            }))?;
        }
        root.present()?;
        Ok(())
    })();
    svg_or_why(title, svg, drawn)
}

/// The bulks for the per-bulk chart and its numbers: the largest [`MAX_BULK_BARS`] by
/// calls, then the others together.
fn bulk_rows(stats: &Stats) -> Vec<(String, [u64; 5])> {
    let counts = |s: &Summary| outcomes(s).map(|(_, n)| n);
    let mut bulks: Vec<(&String, &Summary)> = stats.bulks.iter().collect();
    bulks.sort_by(|a, b| b.1.calls.cmp(&a.1.calls).then(a.0.cmp(b.0)));
    let mut rows: Vec<(String, [u64; 5])> = bulks
        .iter()
        .take(MAX_BULK_BARS)
        .map(|(b, s)| ((*b).clone(), counts(s)))
        .collect();
    if bulks.len() > MAX_BULK_BARS {
        let mut rest = [0; 5];
        for (_, s) in &bulks[MAX_BULK_BARS..] {
            for (r, n) in rest.iter_mut().zip(counts(s)) {
                *r += n;
            }
        }
        rows.push((format!("{} other bulks", bulks.len() - MAX_BULK_BARS), rest));
    }
    rows
}

/// A chart and, folded beneath it, its numbers as a table (for screen readers, for
/// copying, and the same numbers as `--output json`).
fn figure(html: &mut String, svg: &str, headers: &[&str], rows: &[Vec<String>]) {
    let _ = write!(
        html,
        "<figure>\n{svg}\n<details><summary>numbers</summary><table class=\"numbers\"><tr>"
    );
    for h in headers {
        let _ = write!(html, "<th>{}</th>", escape(h));
    }
    html.push_str("</tr>\n");
    for row in rows {
        html.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let class = if i == 0 { "" } else { " class=\"n\"" };
            let _ = write!(html, "<td{class}>{}</td>", escape(cell));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table></details>\n</figure>\n");
}

/// Writes the page.
pub(crate) fn write_page(stats: &Stats, out: &mut dyn Write) -> io::Result<()> {
    let o = &stats.overall;
    let mut html = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>IVR campaign</title>\n<style>\n\
         body{font-family:sans-serif;margin:2em;color:#222}\
         table{border-collapse:collapse;margin:.5em 0}td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}\
         td.n{text-align:right}.charts{display:flex;flex-wrap:wrap;gap:1em}.charts svg{border:1px solid #eee}\
         figure{margin:0}details{font-size:.85em;color:#555}summary{cursor:pointer}\
         .legend{margin:.3em 0;font-size:.85em}.legend span{margin-right:1.2em}\
         .legend i{display:inline-block;width:.8em;height:.8em;margin-right:.35em;vertical-align:-.05em}\n\
         </style></head><body>\n<h1>IVR campaign</h1>\n",
    );
    totals(&mut html, "All calls", o);
    html.push_str("<div class=\"charts\">\n");
    let count = |n: u64| n.to_string();

    let rows: Vec<Vec<String>> = outcomes(o)
        .iter()
        .map(|(l, n)| vec![(*l).to_string(), count(*n)])
        .collect();
    let (labels, values): (Vec<String>, Vec<f64>) = outcomes(o)
        .iter()
        .map(|(l, n)| ((*l).replace("answered by ", "by "), *n as f64))
        .unzip();
    figure(
        &mut html,
        &bars("Outcomes (calls)", &labels, &values, Axis::Count),
        &["outcome", "calls"],
        &rows,
    );

    let answered = o.human + o.machine;
    figure(
        &mut html,
        &bars(
            &format!("Answered by ({answered} answered)"),
            &["human".to_string(), "machine".to_string()],
            &[o.human as f64, o.machine as f64],
            Axis::Count,
        ),
        &["answered by", "calls"],
        &[
            vec!["human".into(), count(o.human)],
            vec!["machine".into(), count(o.machine)],
        ],
    );

    let hours: Vec<String> = o.hours.keys().cloned().collect();
    let calls: Vec<f64> = o.hours.values().map(|(n, _)| *n as f64).collect();
    let rows: Vec<Vec<String>> = o
        .hours
        .iter()
        .map(|(h, (n, _))| vec![h.clone(), count(*n)])
        .collect();
    figure(
        &mut html,
        &over_time("Calls per hour sent", &hours, &calls, Axis::Count),
        &["hour", "calls"],
        &rows,
    );
    for currency in o.cost.keys() {
        let amount = |c: &std::collections::BTreeMap<String, Decimal>| {
            c.get(currency).copied().unwrap_or(Decimal::ZERO)
        };
        let cost: Vec<f64> = o.hours.values().map(|(_, c)| to_f64(amount(c))).collect();
        let rows: Vec<Vec<String>> = o
            .hours
            .iter()
            .map(|(h, (_, c))| vec![h.clone(), amount(c).to_string()])
            .collect();
        figure(
            &mut html,
            &over_time(
                &format!("Cost per hour ({currency})"),
                &hours,
                &cost,
                Axis::Amount,
            ),
            &["hour", &format!("cost ({currency})")],
            &rows,
        );
    }

    let (labels, values): (Vec<String>, Vec<f64>) = DURATION_BUCKETS
        .iter()
        .zip(o.durations)
        .map(|((_, l), n)| ((*l).to_string(), n as f64))
        .unzip();
    let rows: Vec<Vec<String>> = labels
        .iter()
        .zip(o.durations)
        .map(|(l, n)| vec![l.clone(), count(n)])
        .collect();
    figure(
        &mut html,
        &bars("Call durations (calls)", &labels, &values, Axis::Count),
        &["duration", "calls"],
        &rows,
    );

    if !o.dtmf.is_empty() {
        let keys = |d: &String| {
            if d.is_empty() {
                "(none)".to_string()
            } else {
                d.clone()
            }
        };
        let (labels, values): (Vec<String>, Vec<f64>) =
            o.dtmf.iter().map(|(d, n)| (keys(d), *n as f64)).unzip();
        let rows: Vec<Vec<String>> = o
            .dtmf
            .iter()
            .map(|(d, n)| vec![keys(d), count(*n)])
            .collect();
        figure(
            &mut html,
            &bars(
                "DTMF answers (answered calls)",
                &labels,
                &values,
                Axis::Count,
            ),
            &["keys", "calls"],
            &rows,
        );
    }

    let bulks = bulk_rows(stats);
    // The legend in HTML: plotters' own would cover the bars.
    let mut legend = String::from("<p class=\"legend\">");
    for (k, (label, _)) in outcomes(o).iter().enumerate() {
        let RGBColor(r, g, b) = COLOURS[k % COLOURS.len()];
        let _ = write!(
            legend,
            "<span><i style=\"background:rgb({r},{g},{b})\"></i>{label}</span> "
        );
    }
    legend.push_str("</p>");
    let rows: Vec<Vec<String>> = bulks
        .iter()
        .map(|(b, n)| {
            let mut row = vec![b.clone(), count(n.iter().sum())];
            row.extend(n.iter().map(|n| count(*n)));
            row
        })
        .collect();
    figure(
        &mut html,
        &(per_bulk("Outcomes per bulk (calls)", &bulks) + &legend),
        &[
            "bulk",
            "calls",
            "answered by human",
            "answered by machine",
            "busy",
            "no answer",
            "failed",
        ],
        &rows,
    );
    html.push_str("</div>\n");
    if stats.bulks.len() > 1 {
        for (bulk, s) in &stats.bulks {
            totals(&mut html, &format!("Bulk {bulk}"), s);
        }
    }
    html.push_str("</body></html>\n");
    out.write_all(html.as_bytes())
}
