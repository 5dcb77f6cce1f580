//! Inputs the fuzz targets found (fuzz/, `cargo xtask fuzz`), minimised, each pinned here
//! once its cause was fixed: what the decoder accepts must survive our encoder unchanged.

use ivr_reports_codec::model::{CallReport, ErrorGroup, VoiceReport};
use ivr_reports_codec::{Format, Report};

use crate::codec;

/// Decodes `body` as a page of `R`, encodes what it accepted and decodes that again: both
/// decodes must agree. Returns the reports.
fn round_trip<R: Report + PartialEq + std::fmt::Debug>(format: Format, body: &str) -> Vec<R> {
    let c = codec(format);
    let first = c.decode_page::<R>(body.as_bytes()).unwrap();
    assert!(first.rejected.is_empty(), "{format}: {:?}", first.rejected);
    let page = c.encode_page(&first.reports);
    let again = c.decode_page::<R>(&page).unwrap();
    assert_eq!(
        again.reports,
        first.reports,
        "{format}: our own page decodes differently:\n{}",
        String::from_utf8_lossy(&page)
    );
    first.reports
}

/// json_v1_page: an error whose id the tables do not know, sent without `groupId`, was
/// written back as `"groupId":0`, which reads as group OK ("no error, the call was
/// answered"): a stored report would say OK where the API said nothing.
#[test]
fn an_error_of_unknown_group_does_not_become_ok() {
    let cases = [
        (
            Format::Json,
            r#"{"results":[{"messageId":"m","error":{"id":3000,"permanent":1}}]}"#,
        ),
        (
            Format::Json,
            r#"{"results":[{"messageId":"m","error":{"groupName":"NEW_GROUP","id":3000}}]}"#,
        ),
        (
            Format::Xml,
            "<reportResponse><results><result><messageId>m</messageId>\
             <error><id>3000</id></error></result></results></reportResponse>",
        ),
        (
            Format::Xml,
            "<reportResponse><results><result><messageId>m</messageId>\
             <error><groupName>NEW_GROUP</groupName><id>3000</id></error>\
             </result></results></reportResponse>",
        ),
    ];
    for (format, body) in cases {
        let v1 = round_trip::<VoiceReport>(format, body);
        let error = v1[0].error.as_ref().unwrap();
        assert_ne!(error.group, ErrorGroup::Ok, "{format}: {body}");
        let v2 = round_trip::<CallReport>(format, body);
        assert_ne!(v2[0].error.as_ref().unwrap().group, ErrorGroup::Ok);
    }
}
