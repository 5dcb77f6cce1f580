//! Voice logs (`GET /tts/3/logs`): pages in both formats, the usual leniency and per-item
//! isolation, the `logsResponse` root, round trips and the model's serde form.

use ivr_reports_codec::model::{LogEntry, StatusGroup, VoiceReport};
use ivr_reports_codec::{ErrorKind, Format, PriceName};
use proptest::prelude::*;

use crate::codec;
use crate::strategies::{plain_text, text, v1_with};

/// A log entry with a generated v1 report's log fields, and `from` and `text`.
fn log_entry() -> impl Strategy<Value = LogEntry> {
    (
        v1_with(text().boxed()),
        proptest::option::of(text()),
        proptest::option::of(plain_text()),
    )
        .prop_map(|(r, from, text)| from_report(&r, from, text))
}

fn from_report(r: &VoiceReport, from: Option<String>, text: Option<String>) -> LogEntry {
    let mut e = LogEntry::new(r.message_id.clone(), r.to.clone());
    e.bulk_id.clone_from(&r.bulk_id);
    e.from = from;
    e.text = text;
    e.sent_at = r.sent_at;
    e.done_at = r.done_at;
    e.duration = r.duration;
    e.mcc_mnc.clone_from(&r.mcc_mnc);
    e.price.clone_from(&r.price);
    e.status.clone_from(&r.status);
    e.error.clone_from(&r.error);
    e
}

const JSON_PAGE: &str = r#"{"results":[
{"bulkId":"b1","messageId":"m1","to":"385981178","from":"41793026727","text":"Hello",
 "sentAt":"2026-12-01T10:00:00.000+0100","doneAt":1796115610000,"duration":"10.0",
 "mccMnc":21901,"price":{"pricePerSecond":"0.01","currency":"EUR"},
 "status":{"id":5},"error":{"id":5000},"dtmfCodes":"12","unknown":{"x":[1]}},
{"messageId":"m2","to":"385981112","status":{"groupId":1,"id":7}},
{"to":"385981113"},
{"messageId":"m4","price":{"pricePerSecond":"abc","currency":"EUR"}},
{"messageId":"m5","to":null,"from":null,"text":"","sentAt":""}
]}"#;

const XML_PAGE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<logsResponse><results>\
<result><bulkId>b1</bulkId><messageId>m1</messageId><to>385981178</to><from>41793026727</from>\
<text>Hello &amp; bye</text><sentAt>2026-12-01T10:00:00.000+01:00</sentAt><duration>10</duration>\
<price><pricePerMessage>0.01</pricePerMessage><currency>EUR</currency></price>\
<status><id>5</id></status></result>\
<result><messageId>m2</messageId><duration>ten</duration></result>\
<result><messageId>m3</messageId><text/></result>\
</results></logsResponse>";

#[test]
fn json_page_is_lenient_and_isolates_bad_entries() {
    let batch = codec(Format::Json)
        .decode_logs(JSON_PAGE.as_bytes())
        .unwrap();
    let ids: Vec<_> = batch
        .reports
        .iter()
        .map(|e| e.message_id.as_str())
        .collect();
    assert_eq!(ids, ["m1", "m2", "m5"]);
    let m1 = &batch.reports[0];
    assert_eq!(m1.bulk_id.as_deref(), Some("b1"));
    assert_eq!(m1.from.as_deref(), Some("41793026727"));
    assert_eq!(m1.text.as_deref(), Some("Hello"));
    assert_eq!(m1.duration, Some(10));
    assert_eq!(m1.mcc_mnc.as_deref(), Some("21901"));
    assert_eq!(m1.done_at.unwrap().unix_millis(), 1_796_115_610_000);
    assert_eq!(m1.price.as_ref().unwrap().per_second.to_string(), "0.01");
    assert_eq!(m1.status.as_ref().unwrap().name, "DELIVERED_TO_HANDSET");
    assert_eq!(m1.error.as_ref().unwrap().name, "VOICE_ANSWERED");
    assert!(m1.is_final());
    let m2 = &batch.reports[1];
    assert_eq!(m2.status_group(), Some(StatusGroup::Pending));
    assert!(!m2.is_final());
    let m5 = &batch.reports[2];
    assert_eq!((m5.to.as_str(), m5.from.as_deref()), ("", None));
    assert_eq!((m5.text.as_deref(), m5.sent_at), (Some(""), None));

    assert_eq!(batch.rejected.len(), 2);
    assert_eq!(batch.rejected[0].index, 2);
    assert_eq!(batch.rejected[0].raw, br#"{"to":"385981113"}"#);
    assert_eq!(
        batch.rejected[0].error.to_string(),
        "results[2].messageId: missing field (line 7, column 1)"
    );
    assert_eq!(batch.rejected[1].index, 3);
    assert_eq!(
        batch.rejected[1].error.path(),
        "results[3].price.pricePerSecond"
    );
    // A rejected entry can be retried alone.
    let raw = &batch.rejected[1].raw;
    assert_eq!(
        codec(Format::Json).decode_log(raw).unwrap_err().path(),
        "price.pricePerSecond"
    );
}

#[test]
fn xml_page_under_logs_response() {
    let batch = codec(Format::Xml).decode_logs(XML_PAGE.as_bytes()).unwrap();
    let ids: Vec<_> = batch
        .reports
        .iter()
        .map(|e| e.message_id.as_str())
        .collect();
    assert_eq!(ids, ["m1", "m3"]);
    assert_eq!(batch.reports[0].text.as_deref(), Some("Hello & bye"));
    assert_eq!(batch.reports[0].sent_at.unwrap().offset_minutes(), 60);
    assert_eq!(batch.reports[1].text.as_deref(), Some(""));
    assert_eq!(batch.rejected.len(), 1);
    assert_eq!(batch.rejected[0].error.path(), "results[1].duration");
    assert_eq!(
        batch.rejected[0].error.kind(),
        ErrorKind::InvalidValue,
        "{}",
        batch.rejected[0].error
    );
}

#[test]
fn a_broken_envelope_fails_the_call() {
    for format in [Format::Json, Format::Xml] {
        let err = codec(format).decode_logs(b"[]").unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Envelope | ErrorKind::Syntax),
            "{format}: {err}"
        );
    }
}

#[test]
fn the_same_entries_in_json_and_xml_are_equal() {
    let json = codec(Format::Json)
        .decode_logs(JSON_PAGE.as_bytes())
        .unwrap();
    let xml_page = codec(Format::Xml).encode_logs(&json.reports);
    assert!(xml_page.starts_with(b"<logsResponse><results><result>"));
    assert!(xml_page.ends_with(b"</result></results></logsResponse>"));
    let xml = codec(Format::Xml).decode_logs(&xml_page).unwrap();
    assert_eq!(xml.reports, json.reports);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn pages_round_trip(logs in prop::collection::vec(log_entry(), 0..4)) {
        for (format, price_name) in [
            (Format::Json, PriceName::PricePerSecond),
            (Format::Xml, PriceName::PricePerMessage),
            (Format::Xml, PriceName::PricePerSecond),
        ] {
            let c = codec(format).price_name(price_name);
            let page = c.encode_logs(&logs);
            let batch = c.decode_logs(&page).map_err(|e| {
                TestCaseError::fail(format!("{e}\n{}", String::from_utf8_lossy(&page)))
            })?;
            prop_assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
            prop_assert_eq!(&batch.reports, &logs);
        }
    }

    /// The model's serde form of a log entry is the codec's JSON, both ways.
    #[test]
    fn serde_and_codec_agree(log in log_entry()) {
        let page = codec(Format::Json).encode_logs(std::slice::from_ref(&log));
        let by_codec = &page[b"{\"results\":[".len()..page.len() - 2];
        let by_serde = serde_json::to_vec(&log).unwrap();
        prop_assert_eq!(String::from_utf8_lossy(&by_serde), String::from_utf8_lossy(by_codec));
        let read: LogEntry = serde_json::from_slice(by_codec).map_err(|e| {
            TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(by_codec)))
        })?;
        prop_assert_eq!(&read, &log);
    }

    #[test]
    fn recovered_reports_keep_what_logs_carry(log in log_entry()) {
        let r = log.to_recovered_report();
        let back = from_report(&r, log.from.clone(), log.text.clone());
        prop_assert_eq!(back, log);
        prop_assert_eq!((r.dtmf_codes, r.callback_data, r.answer_time), (None, None, None));
    }
}
