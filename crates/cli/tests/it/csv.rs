//! CSV through the binary: no formulas, amounts apart from currencies, one header for v1 and v2.

use ivr_reports::{Decimal, Price, VoiceReport};
use ivr_reports_collector::model::CallReport;

use crate::{env_for, run, sandbox, stderr, stdout};

const FORMULA: &str = "=HYPERLINK(\"http://evil.invalid\",\"click\")";

#[tokio::test]
async fn csv_never_holds_a_formula_and_v1_and_v2_share_the_columns() {
    let s = sandbox().await;
    let mut v1 = VoiceReport::new("m-v1", "385981178");
    v1.bulk_id = Some(FORMULA.into());
    v1.dtmf_codes = Some("+1".into());
    v1.duration = Some(10);
    v1.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
    s.inject_v1([v1]);
    let mut v2 = CallReport::new("m-v2", "385981179");
    v2.bulk_id = Some("@SUM(A1:A9)".into());
    s.inject_v2([v2]);
    let env = env_for(&s);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let v1_csv = stdout(&run(&["fetch", "-o", "csv"], &env).await);
    let o = run(&["fetch", "--v2", "-o", "csv"], &env).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let v2_csv = stdout(&o);
    let header = |csv: &str| csv.lines().next().unwrap_or_default().to_string();
    assert_eq!(
        header(&v1_csv),
        header(&v2_csv),
        "v1 and v2 have the same columns"
    );
    assert!(header(&v1_csv).contains("cost,") && header(&v1_csv).contains(",currency,"));
    for csv in [&v1_csv, &v2_csv] {
        for line in csv.lines() {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "a spreadsheet would run {cell:?} in:\n{csv}"
                );
            }
        }
    }
    assert!(
        v1_csv.contains("'=HYPERLINK(") && v1_csv.contains(",'+1,"),
        "{v1_csv}"
    );
    assert!(
        v1_csv.contains(",0.01,EUR,0.10,"),
        "amount and currency apart: {v1_csv}"
    );
    assert!(v2_csv.contains("'@SUM(A1:A9)"), "{v2_csv}");
}

#[tokio::test]
async fn stats_csv_puts_cost_and_currency_in_their_own_columns() {
    let dir = std::env::temp_dir().join(format!("ivr-cli-stats-csv-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let journal = dir.join("j");
    {
        let sink = ivr_reports_collector::JsonlSink::open(&journal)
            .await
            .unwrap();
        let reports: Vec<ivr_reports_collector::AnyReport> = crate::fixed_reports()
            .into_iter()
            .map(|mut r| {
                r.bulk_id = Some("-1+1".into());
                r.into()
            })
            .collect();
        ivr_reports_collector::Sink::store(&sink, &reports)
            .await
            .unwrap();
    }
    let o = run(&["stats", journal.to_str().unwrap(), "-o", "csv"], &[]).await;
    std::fs::remove_dir_all(&dir).unwrap();
    let csv = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "bulkId,calls,human,machine,busy,noAnswer,failed,totalDuration,averageDuration,cost,currency,dtmf"
    );
    assert!(lines.contains(&"*,,,,,,,,,0.10,EUR,"), "{csv}");
    assert!(lines.contains(&"'-1+1,,,,,,,,,0.5185,USD,"), "{csv}");
}
