//! The sandbox's logs (`GET /tts/3/logs`), its clock, held messages and its records.

use std::collections::HashSet;
use std::time::Duration;

use ivr_reports_codec::Format;
use ivr_reports_sandbox::Faults;

use crate::{Fixture, json};

#[tokio::test]
async fn records_name_every_report_that_left_the_sandbox_once() {
    let f = Fixture::start().await;
    let ids = f.sandbox.simulate_campaign("rec", 12);
    let first = f.v1_page("?limit=5", Format::Json).await;
    f.sandbox
        .set_faults(Faults::new().drop_after_take(1.0))
        .unwrap();
    let req = http::Request::get(f.url("/voice/1/reports?limit=4"))
        .header("authorization", format!("App {}", crate::KEY))
        .body(bytes::Bytes::new())
        .unwrap();
    assert!(f.client.send(req).await.is_err(), "never answered");
    f.sandbox.set_faults(Faults::new()).unwrap();
    let rest = f.v2_page("?limit=50", Format::Xml).await;
    assert_eq!(first.len() + rest.len(), 8);

    let records = f.sandbox.records();
    let handed: Vec<&str> = first
        .iter()
        .map(|r| r.message_id.as_str())
        .chain(rest.iter().map(|r| r.message_id.as_str()))
        .collect();
    assert_eq!(records.handed_out, handed, "in the order handed out");
    assert_eq!(records.lost_in_transit, ids[5..9], "the dropped page");
    let all: Vec<&str> = records.all().collect();
    assert_eq!(all.len(), 12);
    assert_eq!(
        all.iter().copied().collect::<HashSet<_>>(),
        ids.iter().map(String::as_str).collect::<HashSet<_>>(),
        "every id exactly once"
    );
    // The admin API serves the same records.
    let r = json(&f.admin("GET", "/sandbox/records", "").await);
    assert_eq!(r["handedOut"].as_array().unwrap().len(), 8);
    assert_eq!(r["lostInTransit"][0], ids[5].as_str());
    assert_eq!(r["pushed"], serde_json::json!([]));
    f.admin("POST", "/sandbox/reset", "").await;
    assert!(f.sandbox.records().all().next().is_none());
}

#[tokio::test]
async fn held_messages_are_not_handed_out_until_released() {
    let f = Fixture::start().await;
    let ids = f.sandbox.simulate_campaign("hold", 6);
    let body = format!(r#"{{"messageIds":["{}","{}"]}}"#, ids[0], ids[1]);
    let r = f.admin("POST", "/sandbox/hold", &body).await;
    assert_eq!(json(&r), serde_json::json!({"held": 2}));
    let c = f.sandbox.counters();
    assert_eq!((c.pending, c.held), (4, 2));
    let page = f.v1_page("?limit=50", Format::Json).await;
    assert_eq!(page.len(), 4);
    assert!(
        page.iter()
            .all(|r| r.message_id != ids[0] && r.message_id != ids[1])
    );
    assert!(f.v1_page("", Format::Json).await.is_empty(), "held back");

    let body = format!(r#"{{"messageIds":["{}"]}}"#, ids[1]);
    let r = f.admin("POST", "/sandbox/release", &body).await;
    assert_eq!(json(&r), serde_json::json!({"released": 1}));
    let page = f.v1_page("", Format::Json).await;
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].message_id, ids[1]);
    let r = f.admin("POST", "/sandbox/release", "{}").await;
    assert_eq!(json(&r), serde_json::json!({"released": 1}), "all the rest");
    assert_eq!(f.v1_page("", Format::Json).await[0].message_id, ids[0]);

    // By bulk, and a report already handed out cannot be held.
    let more = f.sandbox.simulate_campaign("hold-2", 3);
    assert_eq!(f.sandbox.hold_bulks(&["hold-2"]), 3);
    assert_eq!(f.sandbox.hold(&ids[..1]), 0);
    assert_eq!(f.sandbox.release(&more), 3);
    let r = f.admin("POST", "/sandbox/hold", r#"{"ids":[]}"#).await;
    assert_eq!(r.status(), 400, "unknown fields are refused");
}

#[tokio::test]
async fn the_clock_advances_through_the_admin_api() {
    let f = Fixture::start().await;
    let before = json(&f.admin("GET", "/sandbox/clock", "").await)["nowMs"]
        .as_i64()
        .unwrap();
    let r = f
        .admin("POST", "/sandbox/clock/advance", r#"{"seconds":3600}"#)
        .await;
    assert_eq!(r.status(), 200);
    let after = json(&r)["nowMs"].as_i64().unwrap();
    assert!(
        (3_600_000..3_700_000).contains(&(after - before)),
        "{}",
        after - before
    );
    assert!(f.sandbox.now().unix_millis() >= after);
    let r = f
        .admin("POST", "/sandbox/clock/advance", r#"{"seconds":-1}"#)
        .await;
    assert_eq!(r.status(), 400, "the clock never goes back");
    let t = f.sandbox.advance_clock(Duration::from_secs(60));
    assert!(t.unix_millis() >= after + 60_000);
}
