//! The sandbox's logs (`GET /tts/3/logs`), its clock, held messages and its records.

use std::collections::HashSet;
use std::time::Duration;

use ivr_reports_codec::Format;
use ivr_reports_model::{LogEntry, StatusGroup, Timestamp};
use ivr_reports_sandbox::{Faults, Sandbox};
use ivr_reports_transport::{Client, RetryPolicy};

use crate::{Fixture, api_error, codec, json};

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

/// Fetches `GET /tts/3/logs{query}` and decodes it (asserting 200 and a clean batch).
async fn logs(f: &Fixture, query: &str, format: Format) -> Vec<LogEntry> {
    let r = f.get(&format!("/tts/3/logs{query}"), format.mime()).await;
    assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
    assert_eq!(r.headers()["content-type"], format.mime());
    let batch = codec(format).decode_logs(r.body()).unwrap();
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    batch.reports
}

fn ids(entries: &[LogEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.message_id.as_str()).collect()
}

/// `t` as the query wants it: `yyyy-MM-dd'T'HH:mm:ss.SSSXXX`, percent-encoded.
fn query_time(t: Timestamp) -> String {
    let s = t.to_string(); // 2026-12-01T10:00:00.000+0000
    let (head, offset) = s.split_at(s.len() - 2);
    format!("{head}:{offset}")
        .replace(':', "%3A")
        .replace('+', "%2B")
}

#[tokio::test]
async fn logs_list_every_message_placed_and_never_consume() {
    let f = Fixture::start().await;
    let r = f
        .post(
            "/tts/3/single",
            r#"{"from":"41793026727","to":"41790000001","text":"Hello"}"#,
        )
        .await;
    let single = json(&r)["messages"][0]["messageId"]
        .as_str()
        .unwrap()
        .to_string();
    f.post(
        "/tts/3/multi",
        r#"{"bulkId":"multi","messages":[{"to":["41790000004","41790000009"],"text":"Hi"}]}"#,
    )
    .await;
    f.post(
        "/tts/3/advanced",
        r#"{"bulkId":"adv","messages":[{"destinations":[{"to":"41790000003","messageId":"adv-1"}],"text":"Hi","notifyUrl":"http://127.0.0.1:1/hook"}]}"#,
    )
    .await;
    f.post(
        "/voice/ivr/1/messages",
        r#"{"bulkId":"ivr","messages":[{"destinations":[{"to":"41790000005","messageId":"ivr-1"}],"scenarioId":"S1"}]}"#,
    )
    .await;
    let campaign = f.sandbox.simulate_campaign("camp", 3);
    let pending = f.sandbox.counters().pending;

    let first = logs(&f, "", Format::Json).await;
    assert_eq!(first.len(), 8, "every message placed, pushed ones too");
    let newest_first: Vec<&str> = campaign.iter().rev().map(String::as_str).collect();
    assert_eq!(ids(&first)[..3], newest_first, "newest first");
    assert_eq!(ids(&first)[7], single, "the oldest last");
    let again = logs(&f, "", Format::Json).await;
    assert_eq!(first, again, "reading never consumes");
    assert_eq!(logs(&f, "", Format::Xml).await, first, "XML says the same");
    assert_eq!(f.sandbox.counters().pending, pending, "reports untouched");

    let s = &first[7];
    assert_eq!(
        (s.from.as_deref(), s.text.as_deref(), s.to.as_str()),
        (Some("41793026727"), Some("Hello"), "41790000001")
    );
    assert!(s.is_final());
    assert_eq!(s.status.as_ref().unwrap().group, StatusGroup::Delivered);
    assert_eq!(s.mcc_mnc.as_deref(), Some("22801"));
    assert!(s.duration.unwrap() >= 5 && s.done_at.is_some() && s.sent_at.is_some());
    assert_eq!(s.price.as_ref().unwrap().currency, "CHF");
    assert_eq!(s.error.as_ref().unwrap().id, 5000);
    // The log agrees with the report handed out for the same message.
    let report = f
        .v1_page(&format!("?messageId={single}"), Format::Json)
        .await
        .remove(0);
    assert_eq!(report.to_owned().message_id, s.message_id);
    assert_eq!(s.to_recovered_report().status, report.status);
    assert_eq!(
        (s.sent_at, s.done_at, s.duration, &s.price, &s.error),
        (
            report.sent_at,
            report.done_at,
            report.duration,
            &report.price,
            &report.error
        )
    );
    let rejected = first.iter().find(|e| e.to == "41790000009").unwrap();
    assert_eq!(rejected.bulk_id.as_deref(), Some("multi"));
    assert_eq!(
        rejected.status.as_ref().unwrap().group,
        StatusGroup::Rejected
    );
    assert!(first.iter().any(|e| e.message_id == "adv-1"), "pushed");
    assert!(first.iter().any(|e| e.message_id == "ivr-1"), "IVR");
    // Handing reports out does not change the logs either.
    while !f.v2_page("?limit=1000", Format::Json).await.is_empty() {}
    assert_eq!(logs(&f, "", Format::Json).await, first);
}

#[tokio::test]
async fn logs_filter_by_every_parameter() {
    let f = Fixture::start().await;
    let old = f.sandbox.simulate_campaign("a", 20);
    f.sandbox.advance_clock(Duration::from_secs(3600));
    let since = f.sandbox.now();
    let new = f.sandbox.simulate_campaign("b", 60);
    f.post(
        "/tts/3/single",
        r#"{"from":"385111","to":"38598000000","text":"Bok"}"#,
    )
    .await;
    let all = |q: &str| {
        let q = q.to_string();
        let f = &f;
        async move { logs(f, &q, Format::Json).await }
    };

    // limit: default 50, any 1 to 1000, newest first.
    assert_eq!(all("").await.len(), 50);
    assert_eq!(all("?limit=1000").await.len(), 81);
    let seven = all("?limit=7").await;
    assert_eq!(
        ids(&seven)[1..],
        new.iter()
            .rev()
            .take(6)
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for bad in [
        "limit=0",
        "limit=1001",
        "generalStatus=NOPE",
        "sentSince=yesterday",
    ] {
        let r = f
            .get(&format!("/tts/3/logs?{bad}"), "application/json")
            .await;
        assert_eq!(r.status(), 400, "{bad}");
        let field = bad.split('=').next().unwrap();
        assert!(api_error(&r).validation_errors.contains_key(field), "{bad}");
    }

    // bulkId and messageId, repeatable.
    assert_eq!(all("?bulkId=a&limit=1000").await.len(), 20);
    assert_eq!(all("?bulkId=a&bulkId=b&limit=1000").await.len(), 80);
    assert!(all("?bulkId=nope").await.is_empty());
    let two = all(&format!("?messageId={}&messageId={}", old[3], new[5])).await;
    assert_eq!(ids(&two), [new[5].as_str(), old[3].as_str()]);

    // from and to.
    let from = all("?from=385111").await;
    assert_eq!((from.len(), from[0].to.as_str()), (1, "38598000000"));
    assert_eq!(all("?from=41790000100&limit=1000").await.len(), 80);
    let to = all(&format!("?to=4179{:07}", 13)).await;
    assert_eq!(to.len(), 2, "call 13 of each campaign");

    // generalStatus: the group of each call's outcome (last digit).
    let delivered = all("?generalStatus=DELIVERED&limit=1000").await;
    let expected =
        (0..20).filter(|i| i % 10 < 4).count() + (0..60).filter(|i| i % 10 < 4).count() + 1;
    assert_eq!(delivered.len(), expected);
    assert!(
        delivered
            .iter()
            .all(|e| e.status.as_ref().unwrap().group == StatusGroup::Delivered)
    );
    let rejected = all("?generalStatus=rejected&bulkId=b").await;
    assert_eq!(rejected.len(), 6);
    assert!(rejected.iter().all(|e| e.to.ends_with('9')));
    assert!(all("?generalStatus=PENDING").await.is_empty());

    // sentSince (inclusive) and sentUntil (exclusive), in the documented form.
    let since_q = query_time(since);
    let recent = all(&format!("?sentSince={since_q}&limit=1000")).await;
    assert_eq!(recent.len(), 61);
    let before = all(&format!("?sentUntil={since_q}&limit=1000")).await;
    assert_eq!(
        ids(&before),
        old.iter().rev().map(String::as_str).collect::<Vec<_>>()
    );
    let r = f
        .get(
            "/tts/3/logs?sentSince=2026-12-01T10:00:00.000+01:00",
            "application/json",
        )
        .await;
    assert_eq!(r.status(), 400, "an unencoded + is a space");

    // mcc and mnc: 22801 for answered Swiss numbers, 21901 for answered Croatian ones.
    let swiss = all("?mcc=228&limit=1000").await;
    assert_eq!(swiss.len(), expected - 1);
    assert_eq!(all("?mcc=228&mnc=01&limit=1000").await.len(), expected - 1);
    assert!(all("?mcc=228&mnc=02").await.is_empty());
    assert_eq!(all("?mcc=219&mnc=01").await.len(), 1);

    // Several filters at once.
    let both = all(&format!(
        "?bulkId=b&generalStatus=EXPIRED&sentSince={since_q}&limit=3"
    ))
    .await;
    assert_eq!(both.len(), 3);
    assert!(both.iter().all(|e| e.bulk_id.as_deref() == Some("b")
        && e.status.as_ref().unwrap().group == StatusGroup::Expired));
}

#[tokio::test]
async fn logs_keep_48_hours_of_sandbox_time() {
    let f = Fixture::start().await;
    let old = f.sandbox.simulate_campaign("old", 5);
    f.sandbox.advance_clock(Duration::from_secs(47 * 3600));
    let new = f.sandbox.simulate_campaign("new", 3);
    assert_eq!(logs(&f, "", Format::Json).await.len(), 8, "47 h: all there");
    let r = f
        .admin("POST", "/sandbox/clock/advance", r#"{"seconds":3601}"#)
        .await;
    assert_eq!(r.status(), 200);
    let left = logs(&f, "", Format::Json).await;
    assert_eq!(
        ids(&left),
        new.iter().rev().map(String::as_str).collect::<Vec<_>>(),
        "older than 48 h: gone"
    );
    assert!(
        logs(&f, &format!("?messageId={}", old[0]), Format::Json)
            .await
            .is_empty()
    );
    assert_eq!(f.sandbox.counters().logged, 3);
    assert_eq!(
        f.sandbox.counters().pending,
        8,
        "the reports are still waiting"
    );
    // New sends are stamped with sandbox time.
    let sent = left[0].sent_at.unwrap().unix_millis();
    assert!((sent - f.sandbox.now().unix_millis()).abs() < 3_700_000);
    let ahead = sent - crate_now_ms();
    assert!(
        (47 * 3_600_000 - 60_000..=47 * 3_600_000).contains(&ahead),
        "sent 47 h ahead of the machine's clock: {ahead} ms"
    );
}

fn crate_now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

#[tokio::test]
async fn pending_messages_become_final_when_released() {
    let f = Fixture::start().await;
    let ids_placed = f.sandbox.simulate_campaign("p", 10);
    assert_eq!(f.sandbox.hold(&ids_placed[..3]), 3);
    let pending = logs(&f, "?generalStatus=PENDING", Format::Json).await;
    assert_eq!(
        ids(&pending),
        ids_placed[..3]
            .iter()
            .rev()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for e in &pending {
        assert!(!e.is_final());
        assert_eq!(e.status.as_ref().unwrap().name, "PENDING_ACCEPTED");
        assert!(e.done_at.is_none() && e.error.is_none() && e.duration.is_none());
        assert!(e.sent_at.is_some() && e.price.is_some());
    }
    assert_eq!(f.v1_page("?limit=100", Format::Json).await.len(), 7);
    let r = f
        .admin(
            "POST",
            "/sandbox/release",
            &format!(r#"{{"messageIds":["{}"]}}"#, ids_placed[0]),
        )
        .await;
    assert_eq!(json(&r)["released"], 1);
    let now = logs(&f, &format!("?messageId={}", ids_placed[0]), Format::Xml).await;
    assert!(now[0].is_final(), "final once released");
    assert_eq!(
        logs(&f, "?generalStatus=PENDING", Format::Json).await.len(),
        2
    );
    let r = f
        .admin(
            "POST",
            "/sandbox/release",
            &format!(r#"{{"messageIds":["{}"],"lost":true}}"#, ids_placed[1]),
        )
        .await;
    assert_eq!(json(&r)["released"], 1);
    let lost = logs(&f, &format!("?messageId={}", ids_placed[1]), Format::Json).await;
    assert!(lost[0].is_final(), "final, and only the logs know it");
    assert_eq!(
        f.sandbox.records().lost_in_transit,
        [ids_placed[1].as_str()]
    );
    assert_eq!(f.sandbox.release_all(), 1);
    assert!(
        logs(&f, "?generalStatus=PENDING", Format::Json)
            .await
            .is_empty()
    );
    let fetched = f.v1_page("?limit=100", Format::Json).await;
    assert_eq!(
        ids_of(&fetched),
        [ids_placed[0].as_str(), ids_placed[2].as_str()]
    );
    assert_eq!(f.sandbox.counters().lost_in_transit, 1);
}

fn ids_of(reports: &[ivr_reports_model::VoiceReport]) -> Vec<&str> {
    reports.iter().map(|r| r.message_id.as_str()).collect()
}

#[tokio::test]
async fn logs_answer_429_after_120_requests_a_minute_per_credential() {
    let f = Fixture::start().await; // the default limit: 120 a minute
    for i in 0..120 {
        let r = f.get("/tts/3/logs?limit=1", "application/json").await;
        assert_eq!(r.status(), 200, "request {i}");
    }
    let r = f.get("/tts/3/logs", "application/xml").await;
    assert_eq!(r.status(), 429);
    let e = api_error(&r);
    assert_eq!(
        (e.message_id.as_str(), e.text.as_str()),
        ("TOO_MANY_REQUESTS", "Too many requests")
    );
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(r.body().starts_with(b"<"), "in the format asked for");
    let r = f.get("/tts/3/logs", "application/json").await;
    assert_eq!(r.status(), 429);
    assert!(json(&r)["requestError"]["serviceException"]["messageId"] == "TOO_MANY_REQUESTS");
    // Another credential has its own budget; reports are not throttled.
    let c = f.sandbox.credentials();
    let r = f
        .get_as(
            "/tts/3/logs",
            "application/json",
            Some(&format!("IBSSO {}", c.ibsso_token())),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        f.get("/tts/3/reports", "application/json").await.status(),
        200
    );
    assert_eq!(f.sandbox.counters().logs_throttled, 2);
    // Unauthenticated requests are refused before they count.
    let r = f
        .get_as("/tts/3/logs", "application/json", Some("App wrong"))
        .await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn the_logs_rate_limit_is_configurable_and_slides() {
    let sandbox = Sandbox::builder()
        .api_key(crate::KEY)
        .logs_rate_limit(2, Duration::from_millis(1500))
        .start()
        .await
        .unwrap();
    let f = Fixture {
        sandbox,
        client: Client::builder()
            .retry(RetryPolicy::never())
            .build()
            .unwrap(),
    };
    assert_eq!(f.get("/tts/3/logs", "application/json").await.status(), 200);
    assert_eq!(f.get("/tts/3/logs", "application/json").await.status(), 200);
    let r = f.get("/tts/3/logs", "application/json").await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    // Bounded: at most 40 polls of 100 ms for the window to slide (it takes 1.5 s).
    let mut ok = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if f.get("/tts/3/logs", "application/json").await.status() == 200 {
            ok = true;
            break;
        }
    }
    assert!(ok, "the window slides");
    let off = Sandbox::builder()
        .logs_rate_limit(0, Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let g = Fixture {
        sandbox: off,
        client: f.client.clone(),
    };
    let key = format!("App {}", g.sandbox.credentials().api_key());
    for _ in 0..150 {
        let r = g
            .get_as("/tts/3/logs?limit=1", "application/json", Some(&key))
            .await;
        assert_eq!(r.status(), 200, "0 turns the limit off");
    }
}

#[tokio::test]
async fn logs_refuse_what_reports_refuse() {
    let f = Fixture::start().await;
    assert_eq!(
        f.get_as("/tts/3/logs", "application/json", None)
            .await
            .status(),
        401
    );
    assert_eq!(f.get("/tts/3/logs", "text/csv").await.status(), 406);
    assert_eq!(f.post("/tts/3/logs", "{}").await.status(), 405);
}

#[tokio::test]
async fn injected_reports_are_logged_with_the_fields_they_carry() {
    let f = Fixture::start().await;
    let v1 = crate::v1_reports("inj", Some("bulk-inj"), 3);
    let page = codec(Format::Json).encode_page(&v1);
    let r = f
        .admin(
            "POST",
            "/sandbox/reports/v1",
            std::str::from_utf8(&page).unwrap(),
        )
        .await;
    assert_eq!(json(&r)["injected"], 3);
    let mut v2 = ivr_reports_model::CallReport::new("inj-v2", "385981178");
    v2.from = Some("41793026727".into());
    v2.status = ivr_reports_model::Status::known(5);
    f.sandbox.inject_v2([v2]);

    let all = logs(&f, "?limit=1000", Format::Json).await;
    assert_eq!(ids(&all), ["inj-v2", "inj-2", "inj-1", "inj-0"]);
    let e = &all[1];
    assert_eq!(
        (
            e.bulk_id.as_deref(),
            e.duration,
            e.sent_at,
            &e.price,
            &e.status
        ),
        (
            Some("bulk-inj"),
            v1[2].duration,
            v1[2].sent_at,
            &v1[2].price,
            &v1[2].status
        )
    );
    assert!(e.is_final());
    // Filters see the report's own sentAt (2015), the retention the injection time.
    let since = query_time("2016-01-01T00:00:00.000+0000".parse().unwrap());
    assert_eq!(
        ids(&logs(&f, &format!("?sentSince={since}"), Format::Json).await),
        [] as [&str; 0]
    );
    assert_eq!(logs(&f, "?bulkId=bulk-inj", Format::Json).await.len(), 3);
    assert_eq!(f.sandbox.hold(&["inj-0"]), 1);
    let held = logs(&f, "?generalStatus=PENDING", Format::Json).await;
    assert_eq!(ids(&held), ["inj-0"]);
    f.sandbox.advance_clock(Duration::from_secs(48 * 3600 + 1));
    assert!(
        logs(&f, "", Format::Json).await.is_empty(),
        "48 h after injection"
    );
}
