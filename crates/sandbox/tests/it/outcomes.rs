//! Each test number gives its documented report, in v1 and in v2, over HTTP.

use ivr_reports_codec::Format;
use ivr_reports_model::{AnsweredBy, ReportError, Status, StatusGroup, error_info, status_info};
use ivr_reports_sandbox::Outcome;

use crate::Fixture;

/// One documented row: outcome, status id, v1 error id, v2 error id, DTMF codes.
type Row = (Outcome, u32, Option<u32>, Option<u32>, Option<&'static str>);

const TABLE: [Row; 10] = [
    (
        Outcome::AnsweredNoKeys,
        5,
        Some(5000),
        Some(10000),
        Some(""),
    ),
    (
        Outcome::AnsweredPressed1,
        5,
        Some(5000),
        Some(10000),
        Some("1"),
    ),
    (
        Outcome::AnsweredPressed2,
        5,
        Some(5000),
        Some(10000),
        Some("2"),
    ),
    (Outcome::Machine, 5, Some(5001), Some(10002), Some("")),
    (Outcome::Busy, 97, Some(5002), Some(10201), None),
    (Outcome::NoAnswer, 15, Some(5003), Some(10200), None),
    (Outcome::Declined, 15, Some(5603), Some(10203), None),
    (Outcome::Unavailable, 15, Some(5480), Some(10204), None),
    (
        Outcome::InvalidDestination,
        15,
        Some(5404),
        Some(10303),
        None,
    ),
    (Outcome::Rejected, 100, None, None, None),
];

/// The status and error the sandbox wrote are the code tables' rows: name, group, group name,
/// description and `permanent` as the tables (and so the spec) say for their id.
fn as_in_the_tables(status: Option<&Status>, error: Option<&ReportError>) {
    if let Some(s) = status {
        let known = status_info(s.id).unwrap();
        assert_eq!(
            (s.name.as_ref(), s.group, s.description.as_ref()),
            (known.name, known.group, known.description),
            "status {}",
            s.id
        );
        assert_eq!(s.group_name, known.group.name().unwrap());
    }
    if let Some(e) = error {
        let known = error_info(e.id).unwrap();
        assert_eq!(
            (
                e.name.as_ref(),
                e.group,
                e.permanent,
                e.description.as_ref()
            ),
            (known.name, known.group, known.permanent, known.description),
            "error {}",
            e.id
        );
        assert_eq!(e.group_name, known.group.name().unwrap());
    }
}

async fn place(f: &Fixture, to: &str, message_id: &str) {
    let body = format!(
        r#"{{"messages":[{{"from":"41790000100","destinations":[{{"to":"{to}","messageId":"{message_id}"}}],"text":"Hi","callbackData":"cb"}}]}}"#
    );
    let r = f.post("/tts/3/advanced", &body).await;
    assert_eq!(r.status(), 200);
    let sent: serde_json::Value = serde_json::from_slice(r.body()).unwrap();
    let expected_status = if Outcome::for_number(to).is_rejected_at_send() {
        100
    } else {
        26
    };
    let status = &sent["messages"][0]["status"];
    assert_eq!(status["id"], expected_status);
    let known = status_info(expected_status).unwrap();
    assert_eq!(status["name"], known.name);
    assert_eq!(status["description"], known.description);
}

#[tokio::test]
async fn every_test_number_gives_its_documented_reports() {
    let f = Fixture::start().await;
    for (outcome, status, v1_error, v2_error, dtmf) in TABLE {
        let to = outcome.example_number();
        place(&f, &to, &format!("v1-{to}")).await;
        place(&f, &to, &format!("v2-{to}")).await;

        let v1 = f.v1_page(&format!("?messageId=v1-{to}"), Format::Xml).await;
        let v1 = &v1[0];
        assert_eq!(
            v1.status.as_ref().map(|s| s.id),
            Some(status),
            "{outcome:?}"
        );
        assert_eq!(v1.error.as_ref().map(|e| e.id), v1_error, "{outcome:?}");
        as_in_the_tables(v1.status.as_ref(), v1.error.as_ref());
        assert_eq!(v1.dtmf_codes.as_deref(), dtmf, "{outcome:?}");
        assert_eq!(v1.callback_data.as_deref(), Some("cb"));
        assert_eq!(v1.price.as_ref().unwrap().per_second.to_string(), "0.03");
        let (sent, done) = (v1.sent_at.unwrap(), v1.done_at.unwrap());
        assert!(sent <= done);
        if outcome.is_answered() {
            let (s, a, e) = (
                v1.start_time.unwrap(),
                v1.answer_time.unwrap(),
                v1.end_time.unwrap(),
            );
            assert!(sent <= s && s <= a && a <= e && e <= done, "{outcome:?}");
            assert!(v1.duration.unwrap() >= 5);
            assert!(v1.file_duration.is_some());
            assert_eq!(v1.mcc_mnc.as_deref(), Some("22801"));
            assert!(
                v1.recorded_audio_file_url
                    .as_deref()
                    .unwrap()
                    .starts_with(f.sandbox.base_url())
            );
            assert_eq!(
                v1.cost(),
                v1.price.as_ref().unwrap().cost_of(v1.duration.unwrap())
            );
        } else {
            assert_eq!(v1.duration, Some(0));
            assert_eq!(v1.mcc_mnc.as_deref(), Some("0"));
            assert!(v1.answer_time.is_none() && v1.file_duration.is_none());
        }

        let v2 = f
            .v2_page(&format!("?messageId=v2-{to}"), Format::Json)
            .await;
        let v2 = &v2[0];
        assert_eq!(
            v2.status.as_ref().map(|s| s.id),
            Some(status),
            "{outcome:?}"
        );
        assert_eq!(v2.error.as_ref().map(|e| e.id), v2_error, "{outcome:?}");
        as_in_the_tables(v2.status.as_ref(), v2.error.as_ref());
        assert_eq!(v2.from.as_deref(), Some("41790000100"));
        match &v2.voice_call {
            None => assert_eq!(v2.status_group(), Some(StatusGroup::Rejected)),
            Some(call) => {
                assert_eq!(call.dtmf_codes.as_deref(), dtmf);
                let expected = match outcome {
                    Outcome::Machine => Some(AnsweredBy::Machine),
                    o if o.is_answered() => Some(AnsweredBy::Human),
                    _ => None,
                };
                assert_eq!(call.answered_by, expected, "{outcome:?}");
                assert_eq!(call.duration, call.charged_duration);
                assert!(v2.cost().is_some());
            }
        }
    }
    assert_eq!(f.sandbox.counters().pending, 0);
}

#[tokio::test]
async fn a_simulated_campaign_spreads_over_every_outcome() {
    let f = Fixture::start().await;
    let ids = f.sandbox.simulate_campaign("camp", 30);
    assert_eq!(f.sandbox.counters().calls_placed, 30);
    let reports = f.v2_page("?bulkId=camp&limit=1000", Format::Json).await;
    let got: Vec<_> = reports.iter().map(|r| r.message_id.clone()).collect();
    assert_eq!(got, ids);
    for (i, r) in reports.iter().enumerate() {
        let outcome = Outcome::ALL[i % 10];
        assert_eq!(Outcome::for_number(&r.to), outcome);
        let status = TABLE.iter().find(|row| row.0 == outcome).unwrap().1;
        assert_eq!(r.status.as_ref().map(|s| s.id), Some(status), "{outcome:?}");
    }
}
