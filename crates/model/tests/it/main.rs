//! Behaviour of the model as a whole: the two reports of the spec page, built with the API.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod code_tables;

use ivr_reports_model::{
    Decimal, ErrorGroup, Price, ReportError, Status, StatusGroup, Timestamp, VoiceReport,
};

/// The first report of the spec page ("Getting reports without any query parameter").
fn spec_report_one() -> VoiceReport {
    let mut r = VoiceReport::new("ff4804ef-6ab6-4abd-984d-ab3b1387e852", "385981178");
    r.bulk_id = Some("8c20f086-d82b-48cc-b2b3-3ca5f7aca9fb".into());
    r.sent_at = Some(Timestamp::parse("2015-02-12T09:58:20.323+0100").unwrap());
    r.done_at = Some(Timestamp::parse("2015-02-12T09:58:20.337+0100").unwrap());
    r.duration = Some(10);
    r.mcc_mnc = Some("21901".into());
    r.dtmf_codes = Some("1".into());
    r.recorded_audio_file_url = Some(
        "https://api.infobip.com/tts/3/files/ff4804ef-6ab6-4abd-984d-ab3b1387e852/385981178".into(),
    );
    r.price = Some(Price::new(Decimal::new(1, 2), "EUR"));
    r.status = Status::known(5);
    r.error = ReportError::known(5000);
    r
}

/// The second report of "Getting the two initial delivery reports": no `mccMnc`.
fn spec_report_two() -> VoiceReport {
    let mut r = VoiceReport::new("12db39c3-7822-4e72-a3ec-c87442c0ffc5", "385981112");
    r.bulk_id = Some("08fe4407-c48f-4d4b-a2f4-9ff583c985b8".into());
    r.sent_at = Some("2015-02-12T09:58:20.345+0100".parse().unwrap());
    r.done_at = Some("2015-02-12T09:58:20.350+0100".parse().unwrap());
    r.duration = Some(10);
    r.dtmf_codes = Some("1".into());
    r.recorded_audio_file_url = Some(
        "https://api.infobip.com/tts/3/files/12db39c3-7822-4e72-a3ec-c87442c0ffc5/385981112".into(),
    );
    r.price = Some(Price::new("0.01".parse().unwrap(), "EUR"));
    r.status = Some(Status::new(
        5,
        StatusGroup::Delivered,
        "DELIVERED_TO_HANDSET",
    ));
    let mut error = ReportError::new(5000, ErrorGroup::Ok, "VOICE_ANSWERED");
    error.description = "Call answered by human".into();
    error.permanent = true;
    r.error = Some(error);
    r
}

#[test]
fn spec_reports_carry_what_the_page_says() {
    let one = spec_report_one();
    assert!(one.is_delivered());
    assert_eq!(one.error_group(), Some(ErrorGroup::Ok));
    assert_eq!(one.cost(), Some(Decimal::new(10, 2)));
    let status = one.status.as_ref().unwrap();
    assert_eq!(
        (
            status.group_name.as_ref(),
            status.name.as_ref(),
            status.description.as_ref()
        ),
        (
            "DELIVERED",
            "DELIVERED_TO_HANDSET",
            "Message delivered to handset"
        )
    );
    let error = one.error.as_ref().unwrap();
    assert_eq!(
        (
            error.name.as_ref(),
            error.description.as_ref(),
            error.permanent
        ),
        ("VOICE_ANSWERED", "Call answered by human", true)
    );
    let sent = one.sent_at.unwrap();
    let done = one.done_at.unwrap();
    assert!(sent < done);
    assert_eq!(done.unix_millis() - sent.unix_millis(), 14);

    let two = spec_report_two();
    assert_eq!(two.mcc_mnc, None);
    // Built by hand from the page, the status equals the table's except the description.
    let mut known = Status::known(5).unwrap();
    known.description = "".into();
    assert_eq!(two.status, Some(known));
    assert_eq!(two.error, ReportError::known(5000));
}

#[cfg(feature = "serde")]
mod serde {
    use super::*;
    use ivr_reports_model::ResultsPage;

    /// The JSON page of "Getting the two initial delivery reports", as printed on the page.
    const SPEC_PAGE: &str = r#"{
       "results":[
          {
             "bulkId":"80664c0c-e1ca-414d-806a-5caf146463df",
             "messageId":"bcfb828b-7df9-4e7b-8715-f34f5c61271a",
             "to":"38598111",
             "sentAt":"2015-02-12T09:58:20.323+0100",
             "doneAt":"2015-02-12T09:58:20.337+0100",
             "duration":10,
             "mccMnc": "21901",
             "dtmfCodes":"1",
             "recordedAudioFileUrl":"https://api.infobip.com/tts/3/files/bcfb828b-7df9-4e7b-8715-f34f5c61271a/38598111",
             "price":{ "pricePerSecond":0.01, "currency":"EUR" },
             "status":{ "groupId":3, "groupName":"DELIVERED", "id":5,
                "name":"DELIVERED_TO_HANDSET", "description":"Message delivered to handset" },
             "error":{ "groupId":0, "groupName":"OK", "id": 5000, "name": "VOICE_ANSWERED",
                "description": "Call answered by human", "permanent": true }
          },
          {
             "bulkId":"08fe4407-c48f-4d4b-a2f4-9ff583c985b8",
             "messageId":"12db39c3-7822-4e72-a3ec-c87442c0ffc5",
             "to":"385981112",
             "sentAt":"2015-02-12T09:58:20.345+0100",
             "doneAt":"2015-02-12T09:58:20.350+0100",
             "duration":10,
             "dtmfCodes":"1",
             "recordedAudioFileUrl":"https://api.infobip.com/tts/3/files/12db39c3-7822-4e72-a3ec-c87442c0ffc5/385981112",
             "price":{ "pricePerSecond":0.01, "currency":"EUR" },
             "status":{ "groupId":3, "groupName":"DELIVERED", "id":5,
                "name":"DELIVERED_TO_HANDSET", "description":"Message delivered to handset" },
             "error":{ "groupId":0, "groupName":"OK", "id": 5000, "name": "VOICE_ANSWERED",
                "description": "Call answered by human", "permanent": true }
          }
       ]
    }"#;

    #[test]
    fn the_spec_page_deserializes_to_the_spec_reports() {
        let page: ResultsPage<VoiceReport> = serde_json::from_str(SPEC_PAGE).unwrap();
        assert_eq!(page.results.len(), 2);
        assert_eq!(page.results[1], spec_report_two_full());
        assert_eq!(page.results[0].mcc_mnc.as_deref(), Some("21901"));
        assert_eq!(page.results[0].to, "38598111");
    }

    fn spec_report_two_full() -> VoiceReport {
        let mut r = spec_report_two();
        r.status = Status::known(5);
        r
    }

    #[test]
    fn serializes_like_the_api() {
        let json = serde_json::to_string(&spec_report_one()).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"bulkId":"8c20f086-d82b-48cc-b2b3-3ca5f7aca9fb","#,
                r#""messageId":"ff4804ef-6ab6-4abd-984d-ab3b1387e852","to":"385981178","#,
                r#""sentAt":"2015-02-12T09:58:20.323+0100","doneAt":"2015-02-12T09:58:20.337+0100","#,
                r#""duration":10,"mccMnc":"21901","dtmfCodes":"1","#,
                r#""recordedAudioFileUrl":"https://api.infobip.com/tts/3/files/ff4804ef-6ab6-4abd-984d-ab3b1387e852/385981178","#,
                r#""price":{"pricePerSecond":0.01,"currency":"EUR"},"#,
                r#""status":{"groupId":3,"groupName":"DELIVERED","id":5,"name":"DELIVERED_TO_HANDSET","description":"Message delivered to handset"},"#,
                r#""error":{"groupId":0,"groupName":"OK","id":5000,"name":"VOICE_ANSWERED","description":"Call answered by human","permanent":true}}"#
            )
        );
        let back: VoiceReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, spec_report_one());
    }

    #[test]
    fn v2_and_queries_round_trip() {
        use ivr_reports_model::{
            AnsweredBy, CallReport, Direction, IvrData, Limit, ReportsQuery, VoiceCall,
        };
        let mut ivr = IvrData::new();
        ivr.scenario_id = Some("1".into());
        ivr.collected_dtmfs = Some(r#"{"menu":"3"}"#.into());
        let mut call = VoiceCall::new();
        call.feature = Some("Voice-message".into());
        call.start_time = Some("2025-02-10T12:27:27.765995100Z".parse().unwrap());
        call.duration = Some(7);
        call.charged_duration = Some(60);
        call.file_duration = Some("3.5".parse().unwrap());
        call.direction = Some(Direction::Outbound);
        call.answered_by = Some(AnsweredBy::Unknown("FAX".into()));
        call.ivr = Some(ivr);
        let mut r = CallReport::new("m", "41793026727");
        r.from = Some("41793026700".into());
        r.price = Some(Price::new("0.0123".parse().unwrap(), "EUR"));
        r.voice_call = Some(call);
        assert_eq!(r.cost(), Some("0.7380".parse().unwrap()));
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains(r#""answeredBy":"FAX""#), "{json}");
        assert!(
            json.contains(r#""startTime":"2025-02-10T12:27:27.765995100+0000""#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<CallReport>(&json).unwrap(), r);

        let q = ReportsQuery::new().bulk_id("b").limit(Limit::MAX);
        let json = serde_json::to_string(&q).unwrap();
        assert_eq!(json, r#"{"bulkId":"b","limit":1000}"#);
        assert_eq!(serde_json::from_str::<ReportsQuery>(&json).unwrap(), q);
        assert!(serde_json::from_str::<ReportsQuery>(r#"{"limit":0}"#).is_err());
    }

    #[test]
    fn api_errors_round_trip() {
        let json = r#"{"messageId":"BAD_REQUEST","text":"Bad request","validationErrors":{"limit":["must be between 1 and 1000"]}}"#;
        let e: ivr_reports_model::ApiError = serde_json::from_str(json).unwrap();
        assert_eq!(e.validation_errors["limit"], ["must be between 1 and 1000"]);
        assert_eq!(serde_json::to_string(&e).unwrap(), json);
    }

    /// An error whose group nobody named (the codec's "no group": `Unknown(0)`) is written
    /// without `groupId`, as the codec writes it: `groupId` 0 would read back as OK.
    #[test]
    fn an_error_without_a_group_is_written_without_group_id_and_reads_back_so() {
        let e = ReportError::new(7777, ErrorGroup::Unknown(0), "SOMETHING_NEW");
        let json = serde_json::to_string(&e).unwrap();
        assert!(!json.contains("groupId"), "{json}");
        let back: ReportError = serde_json::from_str(&json).unwrap();
        assert_eq!(back.group, ErrorGroup::Unknown(0));
        assert_ne!(back.group, ErrorGroup::Ok);
        assert_eq!(back, e);

        let mut r = VoiceReport::new("m", "1");
        r.error = Some(e);
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("groupId"), "{json}");
        assert_eq!(serde_json::from_str::<VoiceReport>(&json).unwrap(), r);

        // The OK group itself still says so.
        let ok = ReportError::known(5000).unwrap();
        let json = serde_json::to_string(&ok).unwrap();
        assert!(json.contains(r#""groupId":0"#), "{json}");
        assert_eq!(serde_json::from_str::<ReportError>(&json).unwrap(), ok);
    }

    #[test]
    fn a_results_page_is_the_wire_envelope() {
        let page = ResultsPage::new(vec![spec_report_two_full()]);
        let json = serde_json::to_string(&page).unwrap();
        assert!(json.starts_with(r#"{"results":[{"bulkId":"#), "{json}");
        assert!(json.ends_with("}]}"), "{json}");
        assert_eq!(
            serde_json::from_str::<ResultsPage<VoiceReport>>(&json).unwrap(),
            page
        );
        let empty: ResultsPage<VoiceReport> = serde_json::from_str(r#"{"results":[]}"#).unwrap();
        assert_eq!(serde_json::to_string(&empty).unwrap(), r#"{"results":[]}"#);
        let null: ResultsPage<VoiceReport> = serde_json::from_str(r#"{"results":null}"#).unwrap();
        assert_eq!(null, ResultsPage::default());
        let err = serde_json::from_str::<ResultsPage<VoiceReport>>("{}").unwrap_err();
        assert!(err.to_string().contains("missing field `results`"), "{err}");
    }
}
