//! The JSONL journal on disk: torn lines, foreign lines, locking, its format.

use std::io::Write;

use ivr_reports_collector::{AnyReport, ErrorKind, JsonlSink, Sink, Stored};

use crate::{TempDir, v1, v2};

#[tokio::test]
async fn a_torn_last_line_is_cut_on_open_and_the_rest_is_kept() {
    let dir = TempDir::new("torn");
    let path = dir.join("r.jsonl");
    {
        let sink = JsonlSink::open(&path).await.unwrap();
        let reports = [AnyReport::from(v1("a")), AnyReport::from(v2("b"))];
        sink.store(&reports).await.unwrap();
    }
    let whole = std::fs::read(&path).unwrap();
    // A crash mid-write: half of a third line, no newline.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"{\"generation\":1,\"report\":{\"messageId\":\"c\",\"to\"")
        .unwrap();
    drop(f);

    let sink = JsonlSink::open(&path).await.unwrap();
    assert_eq!(sink.len(), 2);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        whole,
        "exactly the torn bytes were cut"
    );
    // The report of the torn line was never acknowledged: it can be stored now, once.
    let c = [AnyReport::from(v1("c"))];
    assert_eq!(sink.store(&c).await.unwrap(), Stored::new(1, 0));
    assert_eq!(sink.store(&c).await.unwrap(), Stored::new(0, 1));
    assert_eq!(sink.reports().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_foreign_complete_line_is_refused_not_dropped() {
    let dir = TempDir::new("foreign");
    let path = dir.join("r.jsonl");
    let contents = b"{\"generation\":1,\"report\":{\"messageId\":\"a\"}}\nhello\n";
    std::fs::write(&path, contents).unwrap();
    let e = JsonlSink::open(&path).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt);
    assert!(e.to_string().contains("line 2"), "{e}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        contents,
        "the file is left untouched"
    );
}

#[tokio::test]
async fn one_journal_has_one_writer() {
    let dir = TempDir::new("lock");
    let path = dir.join("r.jsonl");
    let first = JsonlSink::open(&path).await.unwrap();
    let e = JsonlSink::open(&path).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Locked);
    drop(first);
    JsonlSink::open(&path).await.unwrap();
}

#[tokio::test]
async fn lines_are_the_canonical_json_with_a_generation_tag() {
    let dir = TempDir::new("format");
    let path = dir.join("r.jsonl");
    let sink = JsonlSink::open(&path).await.unwrap();
    sink.store(&[AnyReport::from(v1("m1")), AnyReport::from(v2("m2"))])
        .await
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with(r#"{"generation":1,"report":{"#),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].contains(r#""pricePerSecond":0.0125"#),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(r#"{"generation":2,"report":{"#),
        "{}",
        lines[1]
    );
    for line in lines {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["report"]["messageId"].is_string());
    }
}

#[tokio::test]
async fn a_reader_needs_no_lock_and_leaves_a_torn_line_alone() {
    let dir = TempDir::new("reader");
    let path = dir.join("r.jsonl");
    let writer = JsonlSink::open(&path).await.unwrap();
    let reports = [AnyReport::from(v1("a")), AnyReport::from(v2("b"))];
    writer.store(&reports).await.unwrap();
    // While the writer holds the journal, and with a write in progress after it:
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(b"{\"generation\":1,\"rep").unwrap();
    drop(f);
    let before = std::fs::read(&path).unwrap();
    let read = JsonlSink::read(&path).await.unwrap();
    assert_eq!(read, reports);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "the reader changes nothing"
    );
    let e = JsonlSink::read(dir.join("missing.jsonl"))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
}

#[tokio::test]
async fn a_file_that_is_not_a_journal_is_refused_and_left_unchanged() {
    // Issue #14: one line, no final newline, looked like a torn last line and was cut away.
    let dir = TempDir::new("notajournal");
    let path = dir.join("notes.txt");
    let contents = b"remember to call the bank";
    std::fs::write(&path, contents).unwrap();
    let e = JsonlSink::open(&path).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");
    assert!(e.to_string().contains("not a journal"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), contents);
    let e = JsonlSink::read(&path).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidConfig, "{e}");

    // A journal followed by a foreign last line without newline: refused, not cut.
    let mut journal = Vec::new();
    {
        let good = dir.join("good.jsonl");
        let sink = JsonlSink::open(&good).await.unwrap();
        sink.store(&[AnyReport::from(v1("a"))]).await.unwrap();
        drop(sink);
        journal.extend_from_slice(&std::fs::read(&good).unwrap());
    }
    journal.extend_from_slice(b"hello");
    std::fs::write(&path, &journal).unwrap();
    let e = JsonlSink::open(&path).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corrupt, "{e}");
    assert!(e.to_string().contains("line 2"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), journal);
}
