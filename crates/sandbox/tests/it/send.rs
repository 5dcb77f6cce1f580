//! The send endpoints: validation, ids, and the reports of the calls they place.

use ivr_reports_codec::Format;

use crate::{Fixture, api_error, json};

#[tokio::test]
async fn single_places_one_call_pending_accepted() {
    let f = Fixture::start().await;
    let r = f
        .post(
            "/tts/3/single",
            r#"{"from":"41790000100","to":"41790000001","text":"Hello","language":"en"}"#,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
    assert_eq!(r.headers()["content-type"], "application/json");
    let body = json(&r);
    assert!(body.get("bulkId").is_none(), "one destination: no bulk");
    let message = &body["messages"][0];
    assert_eq!(message["to"], "41790000001");
    assert_eq!(message["status"]["id"], 26);
    assert_eq!(message["status"]["name"], "PENDING_ACCEPTED");
    assert_eq!(message["status"]["groupId"], 1);
    assert_eq!(message["status"]["groupName"], "PENDING");
    let id = message["messageId"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "shaped like a UUID: {id}");

    let reports = f.v1_page("", Format::Json).await;
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].message_id, id);
    assert_eq!(f.sandbox.counters().calls_placed, 1);
}

#[tokio::test]
async fn multi_and_advanced_give_a_bulk_and_keep_client_ids() {
    let f = Fixture::start().await;
    let r = f
        .post(
            "/tts/3/multi",
            r#"{"messages":[{"from":"x","to":["41790000001","41790000002"],"text":"Hi"},{"to":"41790000003","audioFileUrl":"https://example.com/a.mp3"}]}"#,
        )
        .await;
    assert_eq!(r.status(), 200);
    let body = json(&r);
    let bulk = body["bulkId"].as_str().unwrap().to_string();
    assert_eq!(body["messages"].as_array().unwrap().len(), 3);
    assert_eq!(
        f.v1_page(&format!("?bulkId={bulk}"), Format::Json)
            .await
            .len(),
        3
    );

    let r = f
        .post(
            "/tts/3/advanced",
            r#"{"bulkId":"my-bulk","messages":[{"destinations":[{"to":"41790000001","messageId":"my-1"},{"to":"41790000005"}],"text":"Hi","callbackData":"cb-1"}]}"#,
        )
        .await;
    let body = json(&r);
    assert_eq!(body["bulkId"], "my-bulk");
    assert_eq!(body["messages"][0]["messageId"], "my-1");
    let reports = f.v2_page("?bulkId=my-bulk", Format::Json).await;
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].message_id, "my-1");
    assert!(
        reports
            .iter()
            .all(|r| r.callback_data.as_deref() == Some("cb-1"))
    );
    // Taken through v2, they are gone from v1 too: a call's report is handed out once.
    assert!(f.v1_page("?bulkId=my-bulk", Format::Json).await.is_empty());
}

#[tokio::test]
async fn ivr_messages_carry_the_scenario() {
    let f = Fixture::start().await;
    let r = f
        .post(
            "/voice/ivr/1/messages",
            r#"{"messages":[{"scenarioId":"sc-1","from":"41790000100","destinations":[{"to":"41790000002","messageId":"ivr-1"}]}]}"#,
        )
        .await;
    assert_eq!(r.status(), 200, "{}", String::from_utf8_lossy(r.body()));
    let v2 = f.v2_page("?messageId=ivr-1", Format::Xml).await;
    let ivr = v2[0].voice_call.as_ref().unwrap().ivr.as_ref().unwrap();
    assert_eq!(ivr.scenario_id.as_deref(), Some("sc-1"));
    assert_eq!(ivr.collected_dtmfs.as_deref(), Some(r#"{"menu":"2"}"#));
}

#[tokio::test]
async fn invalid_sends_are_400_with_validation_errors() {
    let f = Fixture::start().await;
    let cases = [
        ("/tts/3/single", r#"{"text":"Hi"}"#, "to"),
        ("/tts/3/single", r#"{"to":"1"}"#, "text"),
        ("/tts/3/multi", r#"{"messages":[]}"#, "messages"),
        (
            "/tts/3/advanced",
            r#"{"messages":[{"destinations":[],"text":"x"}]}"#,
            "messages[0].destinations",
        ),
        (
            "/tts/3/advanced",
            r#"{"messages":[{"destinations":[{"to":"1"}],"text":"x","notifyUrl":"http://127.0.0.1:9/","notifyContentType":"text/plain"}]}"#,
            "messages[0].notifyContentType",
        ),
        (
            "/voice/ivr/1/messages",
            r#"{"messages":[{"destinations":[{"to":"1"}]}]}"#,
            "messages[0].scenarioId",
        ),
        ("/tts/3/single", "{broken", "body"),
    ];
    for (path, body, field) in cases {
        let r = f.post(path, body).await;
        assert_eq!(r.status(), 400, "{path} {body}");
        let e = api_error(&r);
        assert_eq!(e.message_id, "BAD_REQUEST");
        assert!(e.validation_errors.contains_key(field), "{field}: {e}");
    }
    assert_eq!(f.sandbox.counters().calls_placed, 0);
}

#[tokio::test]
async fn sends_need_auth_and_json() {
    let f = Fixture::start().await;
    let r = f
        .post_as("/tts/3/single", r#"{"to":"1","text":"x"}"#, "App wrong")
        .await;
    assert_eq!(r.status(), 401);
    let req = http::Request::post(f.url("/tts/3/single"))
        .header("content-type", "text/plain")
        .header("authorization", format!("App {}", crate::KEY))
        .body(bytes::Bytes::from_static(b"to=1"))
        .unwrap();
    let r = f.client.send(req).await.unwrap();
    assert_eq!(r.status(), 415);
}
