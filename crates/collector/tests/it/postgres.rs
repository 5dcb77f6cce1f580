//! The PostgreSQL sink with a real server: two collectors share one table.
#![cfg(feature = "postgres")]

use std::sync::Arc;

use ivr_reports_collector::{Collector, PgSink};

use crate::{TempDir, client, pg_url, sandbox, unique_schema, v1, v2};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_collectors_sharing_one_database_store_every_report_once() {
    let url = pg_url("two_collectors_sharing_one_database_store_every_report_once");
    let schema = unique_schema("two");
    let sandbox = sandbox().await;
    sandbox.inject_v2((0..20_000).map(|i| v2(&format!("t-{i}"))));
    // Answers after 20 ms: each collector's first requests are out before the other can
    // have drained the 20 pages alone (with 8 in flight each and pages stored beside the
    // next requests, an instant sandbox could in principle serve one collector only).
    sandbox
        .set_faults(ivr_reports_sandbox::Faults::new().latency_ms(20))
        .unwrap();
    let dir = TempDir::new("pg-two");

    // Two collectors, as on two machines: own connection, own spool, one table.
    let mut collectors = Vec::new();
    for n in 0..2 {
        let sink = PgSink::builder(url.clone())
            .schema(schema.clone())
            .connect()
            .await
            .unwrap();
        collectors.push(
            Collector::builder(Arc::new(sink))
                .spool_path(dir.join(&format!("spool-{n}")))
                .build(),
        );
    }
    let (a, b) = {
        let (ca, cb) = (collectors[0].clone(), collectors[1].clone());
        let (la, lb) = (client(&sandbox), client(&sandbox));
        tokio::join!(
            tokio::spawn(async move { ca.drain(&la).await }),
            tokio::spawn(async move { cb.drain(&lb).await })
        )
    };
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    assert_eq!(a.received + b.received, 20_000);
    assert_eq!(a.stored + b.stored, 20_000);
    assert!(
        a.pages > 0 && b.pages > 0,
        "both collectors took part: {a:?} {b:?}"
    );

    // The same reports again, by either collector: all duplicates.
    let again: Vec<_> = (0..100)
        .map(|i| ivr_reports_collector::AnyReport::from(v2(&format!("t-{i}"))))
        .collect();
    let outcome = collectors[1].sink().store(&again).await.unwrap();
    assert_eq!((outcome.new, outcome.duplicates), (0, 100));

    // What the table holds, column by column.
    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let row = db
        .query_one(
            &format!(
                "SELECT count(*), count(DISTINCT message_id), sum(duration_seconds)::int8,
                   (sum(price_per_second * duration_seconds))::text,
                   count(*) FILTER (WHERE generation = 2 AND currency = 'USD'
                     AND status_group_id = 3 AND report->'voiceCall'->>'dtmfCodes' = '3, 9')
                 FROM \"{schema}\".ivr_reports"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 20_000);
    assert_eq!(row.get::<_, i64>(1), 20_000);
    assert_eq!(row.get::<_, i64>(2), 7 * 20_000);
    assert_eq!(row.get::<_, String>(3), "1400.00", "exact decimals");
    assert_eq!(row.get::<_, i64>(4), 20_000);
    assert_eq!(sandbox.counters().handed_out, 20_000);

    // Reading back, for `stats`: the reports as they were sent.
    let stored = collectors[0].sink().reports().await.unwrap();
    assert_eq!(stored.len(), 20_000);
    assert!(stored.contains(&ivr_reports_collector::AnyReport::from(v2("t-77"))));

    // v1 reports keep their columns too.
    collectors[0]
        .sink()
        .store(&[ivr_reports_collector::AnyReport::from(v1("one"))])
        .await
        .unwrap();
    let row = db
        .query_one(
            &format!(
                "SELECT generation, bulk_id, to_number, status_id, duration_seconds,
                   price_per_second::text, currency,
                   sent_at = '2015-02-12T08:58:20.323Z'::timestamptz,
                   done_at = '2015-02-12T08:59:20.323Z'::timestamptz
                 FROM \"{schema}\".ivr_reports WHERE message_id = 'one'"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i16>(0), 1);
    assert_eq!(row.get::<_, Option<String>>(1).as_deref(), Some("bulk-1"));
    assert_eq!(row.get::<_, String>(2), "41790000001");
    assert_eq!(row.get::<_, Option<i64>>(3), Some(5));
    assert_eq!(row.get::<_, Option<i64>>(4), Some(12));
    assert_eq!(row.get::<_, Option<String>>(5).as_deref(), Some("0.0125"));
    assert_eq!(row.get::<_, Option<String>>(6).as_deref(), Some("EUR"));
    assert!(
        row.get::<_, bool>(7) && row.get::<_, bool>(8),
        "timestamps at their instants"
    );
    db.batch_execute(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_errors_are_clear_and_hide_the_password() {
    let e = PgSink::connect("postgres://ivr:hunter2@127.0.0.1:1/none")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ivr_reports_collector::ErrorKind::Database);
    let shown = format!("{e} {e:?}");
    assert!(
        shown.contains("postgres://ivr:***@127.0.0.1:1/none"),
        "{shown}"
    );
    assert!(!shown.contains("hunter2"), "{shown}");
    let e = PgSink::builder("postgres://x@127.0.0.1/db")
        .table("Robert'); DROP TABLE x;--")
        .connect()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ivr_reports_collector::ErrorKind::InvalidConfig);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_senders_store_every_push_once_in_postgres() {
    let url = pg_url("thirty_two_concurrent_senders_store_every_push_once_in_postgres");
    let sink = PgSink::builder(url)
        .schema(unique_schema("push32"))
        .connect()
        .await
        .unwrap();
    let dir = TempDir::new("pg-push-32");
    crate::push::thirty_two_senders_store_every_push_once(Arc::new(sink), &dir, "p32", 1_000).await;
}

/// `Sink::for_each_report` (what `stats` reads a table with) pages by `seq`: without an
/// index on it every page scanned and sorted the whole table, so reading N reports cost
/// O(N²) (415 ms a page at 200,000 rows). The planner must be able to walk an index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_the_table_in_pages_walks_an_index_on_seq() {
    let url = pg_url("reading_the_table_in_pages_walks_an_index_on_seq");
    let schema = unique_schema("seq");
    let sink = PgSink::builder(url.clone())
        .schema(schema.clone())
        .connect()
        .await
        .unwrap();
    let reports: Vec<_> = (0..5_000)
        .map(|i| ivr_reports_collector::AnyReport::from(v1(&format!("s-{i}"))))
        .collect();
    assert_eq!(
        ivr_reports_collector::Sink::store(&sink, &reports)
            .await
            .unwrap()
            .new,
        5_000
    );

    let (db, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    db.batch_execute(&format!("ANALYZE \"{schema}\".ivr_reports"))
        .await
        .unwrap();
    let plan: Vec<String> = db
        .query(
            &format!(
                "EXPLAIN SELECT seq, generation, report::text FROM \"{schema}\".ivr_reports
                 WHERE seq > 2500 ORDER BY seq LIMIT 100"
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("Index"), "{plan}");
    assert!(!plan.contains("Sort"), "{plan}");
}
