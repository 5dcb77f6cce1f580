//! `stats` through the binary: journals by content, once per messageId, torn lines, streaming.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ivr_reports::{Decimal, Price, ReportError, Status, VoiceReport};
use ivr_reports_collector::{AnyReport, canonical_json};

use crate::{run, stderr, stdout};

fn report(id: &str, bulk: &str, error: u32, duration: u32, dtmf: Option<&str>) -> VoiceReport {
    let mut r = VoiceReport::new(id, "385981178");
    r.bulk_id = Some(bulk.into());
    r.status = Status::known(if error == 5000 || error == 5001 {
        5
    } else {
        15
    });
    r.error = ReportError::known(error);
    r.duration = Some(duration);
    r.dtmf_codes = dtmf.map(str::to_string);
    r.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
    r
}

fn line(r: VoiceReport, origin: &str) -> Vec<u8> {
    let mut out = format!("{{\"generation\":1,\"origin\":\"{origin}\",\"report\":").into_bytes();
    out.extend_from_slice(&canonical_json(&AnyReport::from(r)));
    out.extend_from_slice(b"}\n");
    out
}

fn write_journal(path: &Path, lines: &[Vec<u8>], tail: &[u8]) {
    let mut f = std::fs::File::create(path).unwrap();
    for l in lines {
        f.write_all(l).unwrap();
    }
    f.write_all(tail).unwrap();
}

#[tokio::test]
async fn stats_reads_any_journal_once_per_message_and_says_it_skipped_a_torn_line() {
    let dir = tempdir("stats-journal");
    // Not named .jsonl: recognised by its content.
    let path = dir.join("campaign.log");
    let lines = vec![
        // Recovered from logs first (no duration yet), then pulled: counted once, pulled wins.
        line(report("m1", "b1", 5000, 0, None), "recovered"),
        line(report("m2", "b1", 5001, 3725, Some("1")), "pulled"),
        line(report("m3", "b2", 5002, 0, None), "pulled"),
        line(report("m1", "b1", 5000, 100, Some("2")), "pulled"),
    ];
    write_journal(&path, &lines, br#"{"generation":1,"origin":"pul"#);
    let p = path.to_str().unwrap();

    let o = run(&["stats", p], &[("LANG", "C")]).await;
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("All calls: 3 calls"), "{out}");
    assert!(err.contains("torn last line"), "{err}");
    // Durations as durations: 100 + 3725 + 0 seconds.
    assert!(out.contains("1h 03m 45s in all"), "{out}");
    // ASCII bars in the C locale, block bars in a UTF-8 one; counts aligned right.
    assert!(out.contains("#######.............  33.3%"), "{out}");
    assert!(!out.contains('█'), "{out}");
    assert!(out.contains("answered by human        1  "), "{out}");
    let o = run(&["stats", p], &[("LC_ALL", "en_US.UTF-8")]).await;
    assert!(
        stdout(&o).contains("███████░░░░░░░░░░░░░  33.3%"),
        "{}",
        stdout(&o)
    );

    // A file that is not a journal is refused, not summarised as empty.
    let other = dir.join("notes.jsonl");
    std::fs::write(&other, "hello\n").unwrap();
    let o = run(&["stats", other.to_str().unwrap()], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("is not an ivr-reports journal"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Peak resident memory of a child, sampled from /proc while it runs (the high-water mark
/// only grows, so the last sample is a lower bound of the peak that misses at most the last
/// few milliseconds).
pub(crate) fn run_measuring_peak_kib(args: &[&str]) -> (std::process::Output, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ivr-reports"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "ivr-reports {args:?} took over 5 minutes"
        );
        let sample = std::fs::read_to_string(&status_path)
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            });
        peak = peak.max(sample.unwrap_or(0));
        std::thread::sleep(Duration::from_millis(5));
    }
    (child.wait_with_output().unwrap(), peak)
}

#[test]
fn stats_streams_a_large_journal_in_bounded_memory() {
    let reports: u64 = std::env::var("IVR_REPORTS_STATS_REPORTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = tempdir("stats-large");
    let path = dir.join("big-journal");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        for i in 0..reports {
            let error = [5000, 5001, 5002, 5003][usize::try_from(i % 4).unwrap()];
            let r = report(
                &format!("msg-{i:09}"),
                &format!("bulk-{}", i % 7),
                error,
                30,
                Some("1"),
            );
            f.write_all(&line(r, "pulled")).unwrap();
        }
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let (o, peak_kib) = run_measuring_peak_kib(&["stats", path.to_str().unwrap()]);
    std::fs::remove_dir_all(&dir).unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(&format!("All calls: {reports} calls")),
        "{out}"
    );
    eprintln!("stats over {reports} reports ({size} bytes): peak RSS {peak_kib} KiB");
    assert!(peak_kib > 0, "no memory sample: /proc not readable?");
    assert!(
        peak_kib < 64 * 1024,
        "stats kept {peak_kib} KiB resident for {reports} reports ({size} bytes): it must stream"
    );
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ivr-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn stats_reads_postgres_page_by_page() {
    let url = crate::pg_url("stats_reads_postgres_page_by_page");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("t_cli_stats_{}_{nanos}", std::process::id());
    let sink = ivr_reports_collector::PgSink::builder(url.clone())
        .schema(schema.clone())
        .connect()
        .await
        .unwrap();
    let reports: Vec<AnyReport> = (0..25)
        .map(|i| {
            let bulk = if i < 10 { "b1" } else { "b2" };
            AnyReport::from(report(&format!("pg-{i}"), bulk, 5000, 10, Some("1")))
        })
        .collect();
    ivr_reports_collector::Sink::store(&sink, &reports)
        .await
        .unwrap();
    // Pages smaller than the table: every report once, in storage order.
    let mut seen = Vec::new();
    let read = sink
        .for_each_report(7, |r| seen.push(r.message_id().to_string()))
        .await
        .unwrap();
    assert_eq!(read, 25);
    let expected: Vec<String> = (0..25).map(|i| format!("pg-{i}")).collect();
    assert_eq!(seen, expected);

    let sep = if url.contains('?') { '&' } else { '?' };
    let cli_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let o = run(&["stats", &cli_url, "-o", "json", "--bulk-id", "b2"], &[]).await;
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(doc["overall"]["calls"], 15);
}

/// `stats` from PostgreSQL reads the table page by page: 200,000 reports (4 outcomes, 7
/// bulks) in bounded memory, every one counted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_streams_a_large_postgres_table_in_bounded_memory() {
    let reports: u64 = std::env::var("IVR_REPORTS_STATS_REPORTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let url = crate::pg_url("stats_streams_a_large_postgres_table_in_bounded_memory");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("t_cli_stats_big_{}_{nanos}", std::process::id());
    // The sink creates the table and stores one report per outcome, as it stores any:
    // the templates of the rows the database then copies.
    let sink = ivr_reports_collector::PgSink::builder(url.clone())
        .schema(schema.clone())
        .connect()
        .await
        .unwrap();
    let templates: Vec<AnyReport> = [5000, 5001, 5002, 5003]
        .iter()
        .map(|&e| AnyReport::from(report(&format!("template-{e}"), "t", e, 30, Some("1"))))
        .collect();
    ivr_reports_collector::Sink::store(&sink, &templates)
        .await
        .unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let connection = tokio::spawn(connection);
    let table = format!("\"{schema}\".ivr_reports");
    let copies = reports / 4;
    let copy = format!(
        "INSERT INTO {table} (message_id, generation, bulk_id, to_number, status_id,
           status_group_id, error_id, duration_seconds, price_per_second, currency, sent_at,
           done_at, origin, report)
         SELECT t.message_id || '-' || i, t.generation, 'bulk-' || (i % 7), t.to_number,
           t.status_id, t.status_group_id, t.error_id, t.duration_seconds, t.price_per_second,
           t.currency, t.sent_at, t.done_at, t.origin,
           jsonb_set(jsonb_set(t.report, '{{messageId}}', to_jsonb(t.message_id || '-' || i)),
                     '{{bulkId}}', to_jsonb('bulk-' || (i % 7)))
         FROM generate_series(1, {copies}) AS i, {table} AS t
         ORDER BY i, t.message_id;
         DELETE FROM {table} WHERE bulk_id = 't';"
    );
    let loading = Instant::now();
    client.batch_execute(&copy).await.unwrap();
    let loaded = loading.elapsed();

    let sep = if url.contains('?') { '&' } else { '?' };
    let cli_url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let reading = Instant::now();
    let (o, peak_kib) = tokio::task::block_in_place(|| {
        run_measuring_peak_kib(&["stats", "--sink", &cli_url, "-o", "json"])
    });
    let read = reading.elapsed();
    client
        .batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
    drop(client);
    let _ = connection.await;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let all = &doc["overall"];
    let n = copies * 4;
    assert_eq!(all["calls"], n);
    for key in ["answeredByHuman", "answeredByMachine", "busy", "noAnswer"] {
        assert_eq!(all[key], copies, "{key}");
    }
    assert_eq!(all["totalDuration"], n * 30);
    // 0.01 EUR a second, 30 s each.
    assert_eq!(
        all["cost"]["EUR"]
            .as_str()
            .unwrap()
            .parse::<Decimal>()
            .unwrap(),
        Decimal::from(n * 30) / Decimal::from(100)
    );
    assert_eq!(doc["bulks"].as_object().unwrap().len(), 7);
    eprintln!(
        "stats over {n} PostgreSQL reports: peak RSS {peak_kib} KiB (loaded in {loaded:?}, \
         read in {read:?})"
    );
    assert!(peak_kib > 0, "no memory sample: /proc not readable?");
    assert!(
        peak_kib < 64 * 1024,
        "stats kept {peak_kib} KiB resident for {n} PostgreSQL reports: it must stream"
    );
}
