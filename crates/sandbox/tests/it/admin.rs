//! The admin API under `/sandbox/`, and the faults it sets.

use ivr_reports_codec::Format;
use ivr_reports_sandbox::Faults;
use ivr_reports_transport::ErrorKind;

use crate::{Fixture, api_error, codec, json, v1_reports};

#[tokio::test]
async fn admin_needs_its_own_token() {
    let f = Fixture::start().await;
    let r = f.get("/sandbox/counters", "application/json").await;
    assert_eq!(r.status(), 401, "the API key is not the admin token");
    let r = f.admin("GET", "/sandbox/counters", "").await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(&r)["pending"], 0);
}

#[tokio::test]
async fn inject_pages_count_rejected_items() {
    let f = Fixture::start().await;
    let page = codec(Format::Json).encode_page(&v1_reports("j", None, 3));
    let mut text = String::from_utf8(page).unwrap();
    // A fourth item without a messageId is refused by the codec, the rest go in.
    text.insert_str(text.len() - 2, r#",{"to":"1"}"#);
    let r = f.admin("POST", "/sandbox/reports/v1", &text).await;
    assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
    assert_eq!(json(&r), serde_json::json!({"injected": 3, "rejected": 1}));

    let xml = codec(Format::Xml).encode_page(&v1_reports("x", None, 2));
    let req = http::Request::post(f.url("/sandbox/reports/v1"))
        .header("content-type", "application/xml")
        .header("authorization", format!("Bearer {}", crate::ADMIN))
        .body(bytes::Bytes::from(xml))
        .unwrap();
    let r = f.client.send(req).await.unwrap();
    assert_eq!(json(&r)["injected"], 2);
    let r = f.admin("POST", "/sandbox/reports/v2", "not a page").await;
    assert_eq!(r.status(), 400);
    assert!(api_error(&r).validation_errors.contains_key("body"));

    let counters = json(&f.admin("GET", "/sandbox/counters", "").await);
    assert_eq!(
        (counters["pending"].as_u64(), counters["injected"].as_u64()),
        (Some(5), Some(5))
    );
    let r = f.admin("POST", "/sandbox/reset", "").await;
    assert_eq!(json(&r)["pending"], 0);
    assert_eq!(f.sandbox.counters().injected, 0);
}

#[tokio::test]
async fn faults_are_validated_and_read_back() {
    let f = Fixture::start().await;
    let r = f.admin("PUT", "/sandbox/faults", r#"{"rate500":2}"#).await;
    assert_eq!(r.status(), 400);
    let r = f
        .admin(
            "PUT",
            "/sandbox/faults",
            r#"{"rate503":0.25,"retryAfterSecs":3}"#,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        f.sandbox.faults(),
        Faults::new().rate_503(0.25).retry_after_secs(3)
    );
    let r = f.admin("GET", "/sandbox/faults", "").await;
    assert_eq!(json(&r)["rate503"], 0.25);
    assert!(f.sandbox.set_faults(Faults::new().rate_429(-1.0)).is_err());
}

#[tokio::test]
async fn injected_errors_take_nothing() {
    let f = Fixture::start().await;
    f.sandbox.inject_v1(v1_reports("e", None, 4));
    let cases = [
        (
            Faults::new().rate_429(1.0).retry_after_secs(7),
            429,
            Some("7"),
            "TOO_MANY_REQUESTS",
        ),
        (Faults::new().rate_500(1.0), 500, None, "GENERAL_ERROR"),
        (
            Faults::new().rate_503(1.0),
            503,
            Some("1"),
            "SERVICE_UNAVAILABLE",
        ),
    ];
    for (faults, status, retry_after, id) in cases {
        f.sandbox.set_faults(faults).unwrap();
        for format in Format::ALL {
            let r = f.get("/tts/3/reports", format.mime()).await;
            assert_eq!(r.status(), status);
            let header = r.headers().get("retry-after").map(|v| v.to_str().unwrap());
            assert_eq!(header, retry_after);
            assert_eq!(api_error(&r).message_id, id);
        }
    }
    f.sandbox.set_faults(Faults::new()).unwrap();
    assert_eq!(f.v1_page("", Format::Json).await.len(), 4);
}

#[tokio::test]
async fn take_then_drop_loses_the_reports_in_transit() {
    let f = Fixture::start().await;
    f.sandbox.inject_v1(v1_reports("d", None, 5));
    f.sandbox
        .set_faults(Faults::new().drop_after_take(1.0))
        .unwrap();
    let req = http::Request::get(f.url("/tts/3/reports?limit=3"))
        .header("authorization", format!("App {}", crate::KEY))
        .body(bytes::Bytes::new())
        .unwrap();
    let err = f.client.send(req).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ResponseLost, "{err}");
    let c = f.sandbox.counters();
    assert_eq!((c.lost_in_transit, c.pending, c.handed_out), (3, 2, 0));
    f.sandbox.set_faults(Faults::new()).unwrap();
    let rest = f.v1_page("", Format::Json).await;
    let ids: Vec<_> = rest.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, ["d-3", "d-4"]);
}

#[tokio::test]
async fn latency_delays_but_serves() {
    let f = Fixture::start().await;
    f.sandbox.inject_v1(v1_reports("l", None, 1));
    f.sandbox.set_faults(Faults::new().latency_ms(50)).unwrap();
    assert_eq!(f.v1_page("", Format::Json).await.len(), 1);
}
