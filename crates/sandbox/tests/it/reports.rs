//! `GET /tts/3/reports` and `GET /voice/1/reports`: auth, limit, filters, formats, once-only.

use ivr_reports_codec::Format;

use crate::{Fixture, KEY, api_error, codec, v1_reports};

#[tokio::test]
async fn nothing_pending_is_an_empty_results_list() {
    let f = Fixture::start().await;
    for path in ["/tts/3/reports", "/voice/1/reports"] {
        let r = f.get(path, "application/json").await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(r.body().as_ref(), br#"{"results":[]}"#);
        let x = f.get(path, "application/xml").await;
        assert_eq!(x.headers()["content-type"], "application/xml");
        let batch = codec(Format::Xml)
            .decode_page::<ivr_reports_model::VoiceReport>(x.body())
            .unwrap();
        assert!(batch.is_empty());
    }
}

#[tokio::test]
async fn all_four_auth_schemes_are_accepted() {
    let f = Fixture::start().await;
    let c = f.sandbox.credentials();
    let basic = format!("{}:{}", c.username(), c.password());
    let schemes = [
        format!("App {KEY}"),
        format!("Basic {}", base64(basic.as_bytes())),
        format!("IBSSO {}", c.ibsso_token()),
        format!("Bearer {}", c.bearer_token()),
    ];
    for auth in &schemes {
        let r = f
            .get_as("/tts/3/reports", "application/json", Some(auth))
            .await;
        assert_eq!(r.status(), 200, "{auth}");
    }
}

#[tokio::test]
async fn bad_or_missing_credentials_get_401_with_the_infobip_body() {
    let f = Fixture::start().await;
    for format in Format::ALL {
        for auth in [None, Some("App wrong"), Some("Basic !!"), Some("Bearer ")] {
            let r = f.get_as("/voice/1/reports", format.mime(), auth).await;
            assert_eq!(r.status(), 401, "{auth:?}");
            assert_eq!(r.headers()["content-type"], format.mime());
            let e = api_error(&r);
            assert_eq!(
                (e.message_id.as_str(), e.text.as_str()),
                ("UNAUTHORIZED", "Invalid login details")
            );
        }
    }
}

#[tokio::test]
async fn a_bad_limit_is_400_with_validation_errors() {
    let f = Fixture::start().await;
    f.sandbox.inject_v1(v1_reports("keep", None, 3));
    for format in Format::ALL {
        for limit in ["0", "1001", "abc", "-1", ""] {
            let r = f
                .get(&format!("/tts/3/reports?limit={limit}"), format.mime())
                .await;
            assert_eq!(r.status(), 400, "limit={limit}");
            let e = api_error(&r);
            assert_eq!(e.message_id, "BAD_REQUEST");
            assert!(!e.validation_errors["limit"].is_empty(), "{e}");
        }
    }
    // Nothing was taken by the refused requests.
    assert_eq!(f.sandbox.counters().pending, 3);
    assert_eq!(f.v1_page("?limit=1000", Format::Json).await.len(), 3);
}

#[tokio::test]
async fn unacceptable_accept_is_406() {
    let f = Fixture::start().await;
    f.sandbox.inject_v1(v1_reports("x", None, 1));
    for accept in ["text/plain", "application/pdf", "application/json;q=0"] {
        let r = f.get("/tts/3/reports", accept).await;
        assert_eq!(r.status(), 406, "{accept}");
    }
    assert_eq!(f.sandbox.counters().pending, 1);
    // Wildcards, text/xml and q-values are understood.
    let r = f
        .get("/tts/3/reports", "text/xml;q=0.9, application/json;q=0.1")
        .await;
    assert_eq!(r.headers()["content-type"], "application/xml");
    let r = f.get("/tts/3/reports", "*/*").await;
    assert_eq!(r.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn limit_defaults_to_50_and_reports_come_once_oldest_first() {
    let f = Fixture::start().await;
    let injected = v1_reports("m", None, 120);
    f.sandbox.inject_v1(injected.clone());
    let first = f.v1_page("", Format::Json).await;
    assert_eq!(first, injected[..50]);
    let second = f.v1_page("?limit=7", Format::Xml).await;
    assert_eq!(second, injected[50..57]);
    let rest = f.v1_page("?limit=1000", Format::Json).await;
    assert_eq!(rest, injected[57..]);
    assert!(f.v1_page("?limit=1000", Format::Json).await.is_empty());
    let c = f.sandbox.counters();
    assert_eq!((c.pending, c.handed_out, c.injected), (0, 120, 120));
}

#[tokio::test]
async fn bulk_and_message_filters() {
    let f = Fixture::start().await;
    let a = v1_reports("a", Some("bulk-a"), 5);
    let b = v1_reports("b", Some("bulk-b"), 5);
    f.sandbox
        .inject_v1(a.iter().cloned().chain(b.iter().cloned()));
    assert_eq!(
        f.v1_page("?bulkId=bulk-b&limit=2", Format::Json).await,
        b[..2]
    );
    assert_eq!(
        f.v1_page("?messageId=a-3", Format::Json).await,
        [a[3].clone()]
    );
    assert!(f.v1_page("?messageId=a-3", Format::Json).await.is_empty());
    assert!(f.v1_page("?bulkId=nope", Format::Json).await.is_empty());
    let rest = f.v1_page("?limit=100", Format::Json).await;
    let ids: Vec<_> = rest.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, ["a-0", "a-1", "a-2", "a-4", "b-2", "b-3", "b-4"]);
}

#[tokio::test]
async fn injected_reports_stay_in_their_generation() {
    let f = Fixture::start().await;
    f.sandbox.inject_v1(v1_reports("v1", None, 2));
    let mut v2 = ivr_reports_model::CallReport::new("v2-0", "41790000001");
    v2.from = Some("41790000100".into());
    f.sandbox.inject_v2([v2.clone()]);
    assert_eq!(f.v2_page("", Format::Xml).await, [v2]);
    assert!(f.v2_page("", Format::Json).await.is_empty());
    assert_eq!(f.v1_page("", Format::Xml).await.len(), 2);
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let f = Fixture::start().await;
    let r = f.get("/tts/3/nope", "application/json").await;
    assert_eq!(r.status(), 404);
    assert_eq!(api_error(&r).message_id, "NOT_FOUND");
    let r = f.post("/tts/3/reports", "{}").await;
    assert_eq!(r.status(), 405);
}

#[tokio::test]
async fn recordings_are_served_to_authorized_callers() {
    let f = Fixture::start().await;
    let r = f.get("/tts/3/files/m-1/41790000001", "*/*").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/wav");
    assert!(r.body().starts_with(b"RIFF"));
    let r = f.get_as("/tts/3/files/m-1/41790000001", "*/*", None).await;
    assert_eq!(r.status(), 401);
}

/// Standard base64, for the Basic header.
fn base64(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}
