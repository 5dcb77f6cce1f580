//! Tolerance on input: the variants real traffic and other documents show.

use std::borrow::Cow;

use ivr_reports_codec::model::{
    AnsweredBy, CallReport, Decimal, Direction, ErrorGroup, StatusGroup, VoiceReport,
};
use ivr_reports_codec::{ErrorKind, Format};

use crate::codec;

fn v1(format: Format, body: &str) -> VoiceReport {
    let batch = codec(format)
        .decode_page::<VoiceReport>(body.as_bytes())
        .unwrap();
    assert!(batch.is_clean(), "{:?}", batch.rejected);
    assert_eq!(batch.reports.len(), 1);
    batch.reports.into_iter().next().unwrap()
}

#[test]
fn json_numbers_as_strings_nulls_and_epoch_millis() {
    let r = v1(
        Format::Json,
        r#"{"results":[{"messageId":"m","to":385981178,"duration":"10","fileDuration":"2.50",
        "startTime":1423731500323,"endTime":null,"answerTime":"1423731500323",
        "sentAt":"2015-02-12T08:58:20.323Z","doneAt":"2015-02-12T09:58:20.337+01:00",
        "mccMnc":"0","dtmfCodes":null,"callbackData":"","unknown":{"deep":[1,{"x":null}]},
        "price":{"pricePerMessage":"15.0","currency":"EUR"},
        "status":{"id":"5"},"error":{"id":5003,"name":"SOMETHING_ELSE"}}]}"#,
    );
    assert_eq!(r.to, "385981178");
    assert_eq!(r.duration, Some(10));
    assert_eq!(r.file_duration.unwrap().to_string(), "2.50");
    assert_eq!(
        r.start_time.unwrap().to_string(),
        "2015-02-12T08:58:20.323+0000"
    );
    assert_eq!(r.answer_time, r.start_time);
    assert_eq!(r.end_time, None);
    assert_eq!(
        r.sent_at.unwrap().to_string(),
        "2015-02-12T08:58:20.323+0000"
    );
    assert_eq!(
        r.done_at.unwrap().to_string(),
        "2015-02-12T09:58:20.337+0100"
    );
    assert_eq!(r.dtmf_codes, None);
    assert_eq!(r.callback_data.as_deref(), Some(""));
    assert_eq!(r.price.as_ref().unwrap().per_second, Decimal::new(150, 1));
    let status = r.status.unwrap();
    assert_eq!(status.group, StatusGroup::Delivered);
    assert_eq!(status.name, "DELIVERED_TO_HANDSET");
    assert!(matches!(status.group_name, Cow::Borrowed("DELIVERED")));
    let error = r.error.unwrap();
    assert_eq!(
        (error.group, error.permanent),
        (ErrorGroup::UserErrors, true)
    );
    assert_eq!(error.name, "SOMETHING_ELSE");
    assert_eq!(
        error.description,
        "User was notified, but did not answer call"
    );
}

#[test]
fn unknown_codes_keep_what_was_sent() {
    let r = v1(
        Format::Json,
        r#"{"results":[{"messageId":"m","status":{"groupId":9,"groupName":"NEW","id":4242,"name":"BRAND_NEW"}}]}"#,
    );
    let s = r.status.unwrap();
    assert_eq!(s.group, StatusGroup::Unknown(9));
    assert_eq!(
        (
            s.group_name.as_ref(),
            s.id,
            s.name.as_ref(),
            s.description.as_ref()
        ),
        ("NEW", 4242, "BRAND_NEW", "")
    );
}

#[test]
fn exact_decimals_never_pass_through_floats() {
    let r = v1(
        Format::Json,
        r#"{"results":[{"messageId":"m","price":{"pricePerSecond":0.1000000000000000055511151231257827,"currency":"EUR"},"fileDuration":1e-2}]}"#,
    );
    assert_eq!(
        r.price.unwrap().per_second.to_string(),
        "0.1000000000000000055511151231"
    );
    assert_eq!(r.file_duration.unwrap().to_string(), "0.01");
}

#[test]
fn xml_declaration_bom_cdata_entities_and_item_names() {
    let body = "\u{feff}<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a comment -->\n<reportResponse>\n<results>\n  <results>\n    <messageId><![CDATA[a<b>]]>&amp;&#x41;&#66;</messageId>\n    <to> 385 </to>\n    <duration>\n 10 \n</duration>\n    <dtmfCodes></dtmfCodes>\n    <mccMnc/>\n    <fileDuration/>\n    <startTime></startTime>\n    <price><pricePerSecond>0.01</pricePerSecond><currency>EUR</currency></price>\n    <status/>\n    <error></error>\n    <unknown><x><y>z</y></x></unknown>\n  </results>\n</results>\n</reportResponse>\n";
    let r = v1(Format::Xml, body);
    assert_eq!(r.message_id, "a<b>&AB");
    assert_eq!(r.to, " 385 ");
    assert_eq!(r.duration, Some(10));
    assert_eq!(r.dtmf_codes.as_deref(), Some(""));
    assert_eq!(r.mcc_mnc.as_deref(), Some(""));
    assert_eq!((r.file_duration, r.start_time), (None, None));
    assert_eq!(r.price.unwrap().per_second.to_string(), "0.01");
    assert_eq!((r.status, r.error), (None, None));
}

#[test]
fn json_bom_and_pricepermessage() {
    let r = v1(
        Format::Json,
        "\u{feff} {\"results\":[{\"messageId\":\"m\",\"price\":{\"pricePerMessage\":0.02,\"currency\":\"USD\"}}]} ",
    );
    assert_eq!(r.price.unwrap().per_second.to_string(), "0.02");
}

#[test]
fn missing_to_is_empty_and_null_results_is_empty() {
    let r = v1(Format::Json, r#"{"results":[{"messageId":"m"}]}"#);
    assert_eq!(r.to, "");
    let batch = codec(Format::Json)
        .decode_page::<VoiceReport>(b"{\"results\":null}")
        .unwrap();
    assert!(batch.is_empty());
    let batch = codec(Format::Xml)
        .decode_page::<VoiceReport>(b"<reportResponse><results/></reportResponse>")
        .unwrap();
    assert!(batch.is_empty());
}

#[test]
fn v2_reports_in_both_formats() {
    let json = r#"{"results":[{"bulkId":"b","messageId":"m","from":"41793026700","to":"41793026727",
      "sentAt":"2025-02-10T12:27:27.765995100Z","mccMnc":"22801","callbackData":"cb",
      "price":{"pricePerSecond":0.005,"currency":"EUR"},
      "status":{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"},
      "error":{"groupId":0,"groupName":"OK","id":10000,"name":"NORMAL_HANGUP","description":"Call ended normally","permanent":false},
      "voiceCall":{"feature":"Text-to-Speech","startTime":"2025-02-10T12:27:28.000+0000","answerTime":null,
        "endTime":"2025-02-10T12:27:40.000+0000","duration":12,"chargedDuration":"12","fileDuration":3.5,
        "direction":"OUTBOUND","dtmfCodes":"3, 9","answeredBy":"HUMAN","callRecordingFileId":"rec",
        "ivr":{"scenarioId":"s1","scenarioName":"Survey","collectedDtmfs":"{\"q1\":\"3\"}","spokenInput":""}}}]}"#;
    let c = codec(Format::Json);
    let batch = c.decode_page::<CallReport>(json.as_bytes()).unwrap();
    assert!(batch.is_clean(), "{:?}", batch.rejected);
    let r = &batch.reports[0];
    let call = r.voice_call.as_ref().unwrap();
    assert_eq!(call.direction, Some(Direction::Outbound));
    assert_eq!(call.answered_by, Some(AnsweredBy::Human));
    assert_eq!(call.charged_duration, Some(12));
    assert_eq!(call.file_duration.unwrap().to_string(), "3.5");
    assert_eq!(call.answer_time, None);
    let ivr = call.ivr.as_ref().unwrap();
    assert_eq!(ivr.collected_dtmfs.as_deref(), Some("{\"q1\":\"3\"}"));
    assert_eq!(ivr.spoken_input.as_deref(), Some(""));
    assert_eq!(r.cost().unwrap().to_string(), "0.060");
    assert_eq!(
        r.sent_at.unwrap().to_string(),
        "2025-02-10T12:27:27.765995100+0000"
    );

    let xml = codec(Format::Xml).encode_page(&batch.reports);
    let back = codec(Format::Xml).decode_page::<CallReport>(&xml).unwrap();
    assert_eq!(back.reports, batch.reports);
}

#[test]
fn wrong_types_are_named() {
    for (body, path, message) in [
        (
            r#"{"messageId":"m","duration":-1}"#,
            "duration",
            "expected a whole number of seconds, found \"-1\"",
        ),
        (
            r#"{"messageId":"m","duration":true}"#,
            "duration",
            "expected a whole number of seconds, found \"true\"",
        ),
        (
            r#"{"messageId":"m","duration":false}"#,
            "duration",
            "expected a whole number of seconds, found \"false\"",
        ),
        (
            r#"{"messageId":"m","price":5}"#,
            "price",
            "expected an object",
        ),
        (
            r#"{"messageId":"m","to":{}}"#,
            "to",
            "expected a value, found an object",
        ),
        (
            r#"{"messageId":"m","status":{"name":"X"}}"#,
            "status.id",
            "missing field",
        ),
        (
            r#"{"messageId":"m","error":{"id":1,"permanent":"maybe"}}"#,
            "error.permanent",
            "expected a boolean, found \"maybe\"",
        ),
        (
            r#"{"messageId":"m","sentAt":"yesterday"}"#,
            "sentAt",
            "expected a timestamp, found \"yesterday\"",
        ),
        (
            r#"{"messageId":"m\u12"}"#,
            "messageId",
            "invalid escape in string",
        ),
    ] {
        let e = codec(Format::Json)
            .decode_report::<VoiceReport>(body.as_bytes())
            .unwrap_err();
        assert_eq!(e.path(), path, "{body}");
        assert!(
            e.to_string()
                .starts_with(&format!("{path}: {message} (line 1, column ")),
            "{e}"
        );
    }
    let e = codec(Format::Json)
        .decode_report::<VoiceReport>(br#"{"messageId":"m","sentAt":"yesterday"}"#)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidValue);
    assert!(
        std::error::Error::source(&e).is_some(),
        "the model's error is the source"
    );
    let e = codec(Format::Xml)
        .decode_report::<VoiceReport>(b"<result><messageId>m</to></result>")
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert!(
        std::error::Error::source(&e).is_some(),
        "quick-xml's error is the source"
    );
    assert!(!e.to_string().contains("quick"), "{e}");
}

#[test]
fn invalid_utf8_is_a_value_error() {
    let mut body = br#"{"results":[{"messageId":"m","to":"x"#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(br#""},{"messageId":"n"}]}"#);
    let batch = codec(Format::Json)
        .decode_page::<VoiceReport>(&body)
        .unwrap();
    assert_eq!(batch.reports.len(), 1);
    assert_eq!(batch.rejected[0].error.kind(), ErrorKind::InvalidValue);
    assert_eq!(batch.rejected[0].error.path(), "results[0].to");
}

#[test]
fn xml_root_may_be_the_list_itself() {
    let body = b"<results><result><messageId>a</messageId></result><results><messageId>b</messageId></results></results>";
    let batch = codec(Format::Xml).decode_page::<VoiceReport>(body).unwrap();
    assert!(batch.is_clean(), "{:?}", batch.rejected);
    let ids: Vec<_> = batch
        .reports
        .iter()
        .map(|r| r.message_id.as_str())
        .collect();
    assert_eq!(ids, ["a", "b"]);
    assert!(
        codec(Format::Xml)
            .decode_page::<VoiceReport>(b"<results/>")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn errors_are_send_sync_and_static() {
    fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
    assert_traits::<ivr_reports_codec::Error>();
    fn assert_batch<T: Send + Sync>() {}
    assert_batch::<ivr_reports_codec::Batch<VoiceReport>>();
}

/// Names and groups as older sources wrote them (the sandbox before the code tables followed
/// the code pages, the code pages' groups where real traffic differs, real traffic's typo)
/// still decode, in both formats: ids, names and groups as sent, the rest from the tables.
#[test]
fn old_spellings_of_codes_still_decode() {
    let old: [(u32, Option<u32>, &str); 8] = [
        (5404, Some(3), "DESTINATION_NOT_FOUND"),
        (5408, Some(3), "REQUEST_TIMEOUT"),
        (5480, Some(2), "TEMPORARILY_NOT_AVAILABLE"),
        (5480, Some(1), "EC_VOICE_ERROR_TEMPORARILY_NOT_AVAILABLE"),
        (5480, Some(3), "EC_VOICE_ERROR_TEMPORARILY_NOT_AVAILABE"),
        (5487, None, "REQUEST_TERMINATED"),
        (5603, Some(1), "EC_DECLINE"),
        (10300, Some(3), "DESTINATION_NOT_FOUND"),
    ];
    for (id, group, name) in old {
        let json_group = group.map_or(String::new(), |g| format!(r#""groupId":{g},"#));
        let xml_group = group.map_or(String::new(), |g| format!("<groupId>{g}</groupId>"));
        let json = format!(
            r#"{{"results":[{{"messageId":"m","error":{{{json_group}"id":{id},"name":"{name}"}}}}]}}"#
        );
        let xml = format!(
            "<reportResponse><results><result><messageId>m</messageId><error>{xml_group}<id>{id}</id><name>{name}</name></error></result></results></reportResponse>"
        );
        for (format, body) in [(Format::Json, json), (Format::Xml, xml)] {
            let e = v1(format, &body).error.unwrap();
            assert_eq!((e.id, e.name.as_ref()), (id, name), "{format:?} {body}");
            let want = group.map_or_else(
                || ivr_reports_codec::model::error_info(id).unwrap().group,
                ErrorGroup::from_id,
            );
            assert_eq!(e.group, want, "{format:?} {body}");
        }
    }
}

/// Field names are matched whole, in any order: the decoder expects the declared order
/// first, and a name that only starts like the expected one, or an escaped one, is not
/// taken for it by mistake.
#[test]
fn json_field_names_match_whole_in_any_order() {
    let r = v1(
        Format::Json,
        r#"{"results":[{"toX":"1","messageIdX":"a","bulkId":"b","messageId":"m","to":"2",
        "message\u0049d":"n","price":{"currency":"EUR","pricePerSecondX":9,"pricePerSecond":1}}]}"#,
    );
    assert_eq!((r.message_id.as_str(), r.to.as_str()), ("n", "2"));
    assert_eq!(r.bulk_id.as_deref(), Some("b"));
    assert_eq!(r.price.unwrap().per_second, Decimal::new(1, 0));

    // A full report with every object's fields sorted by name (serde_json's map order).
    let mut full = VoiceReport::new("m", "385981178");
    full.bulk_id = Some("b".into());
    full.sent_at = Some("2015-02-12T09:58:20.323+0100".parse().unwrap());
    full.done_at = Some("2015-02-12T09:58:21.323+0100".parse().unwrap());
    full.duration = Some(17);
    full.mcc_mnc = Some("21901".into());
    full.dtmf_codes = Some("1,2".into());
    full.price = Some(ivr_reports_codec::model::Price::new(
        Decimal::new(1, 2),
        "EUR",
    ));
    full.status = ivr_reports_codec::model::Status::known(5);
    full.error = ivr_reports_codec::model::ReportError::known(5000);
    let page = codec(Format::Json).encode_page(std::slice::from_ref(&full));
    let sorted: serde_json::Value = serde_json::from_slice(&page).unwrap();
    let sorted = serde_json::to_string(&sorted).unwrap();
    assert_ne!(sorted.as_bytes(), page);
    assert_eq!(v1(Format::Json, &sorted), full);
}

/// XML reads a raw `\r\n` or `\r` in text as `\n` (end-of-line normalisation), before and
/// after the first one in the page (text before it is borrowed from the input as it is).
#[test]
fn xml_raw_carriage_returns_read_as_newlines() {
    let body = "<reportResponse><results>\
        <result><messageId>m1</messageId><callbackData>a b</callbackData></result>\
        <result><messageId>m2</messageId><callbackData>a\r\nb\rc</callbackData></result>\
        <result><messageId>m3</messageId><callbackData>d\r\ne</callbackData></result>\
        </results></reportResponse>";
    let batch = codec(Format::Xml)
        .decode_page::<VoiceReport>(body.as_bytes())
        .unwrap();
    assert!(batch.is_clean(), "{:?}", batch.rejected);
    let data: Vec<_> = batch
        .reports
        .iter()
        .map(|r| r.callback_data.as_deref().unwrap())
        .collect();
    assert_eq!(data, ["a b", "a\nb\nc", "d\ne"]);
}
