//! The four example bodies of the `/tts/3/reports` page, as golden fixtures.

use std::borrow::Cow;

use ivr_reports_codec::Format;
use ivr_reports_codec::model::{Decimal, ErrorGroup, StatusGroup, VoiceReport};

use crate::codec;

const ONE_JSON: &[u8] = include_bytes!("../fixtures/v1/one-report.json");
const ONE_XML: &[u8] = include_bytes!("../fixtures/v1/one-report.xml");
const TWO_JSON: &[u8] = include_bytes!("../fixtures/v1/two-reports.json");
const TWO_XML: &[u8] = include_bytes!("../fixtures/v1/two-reports.xml");

fn decode(format: Format, body: &[u8]) -> Vec<VoiceReport> {
    let batch = codec(format).decode_page::<VoiceReport>(body).unwrap();
    assert!(batch.is_clean(), "{:?}", batch.rejected);
    batch.reports
}

/// What every report of the page says about price, status and error.
fn check_common(r: &VoiceReport) {
    assert_eq!(r.duration, Some(10));
    assert_eq!(r.dtmf_codes.as_deref(), Some("1"));
    let price = r.price.as_ref().unwrap();
    assert_eq!(price.per_second, Decimal::new(1, 2));
    assert_eq!(price.per_second.to_string(), "0.01");
    assert_eq!(price.currency, "EUR");
    let status = r.status.as_ref().unwrap();
    assert_eq!((status.id, status.group), (5, StatusGroup::Delivered));
    assert_eq!(status.group_name, "DELIVERED");
    assert_eq!(status.name, "DELIVERED_TO_HANDSET");
    assert_eq!(status.description, "Message delivered to handset");
    // Known names are borrowed from the code tables, not allocated.
    assert!(matches!(status.name, Cow::Borrowed(_)));
    assert!(matches!(status.description, Cow::Borrowed(_)));
    let error = r.error.as_ref().unwrap();
    assert_eq!((error.id, error.group), (5000, ErrorGroup::Ok));
    assert_eq!(error.group_name, "OK");
    assert_eq!(error.name, "VOICE_ANSWERED");
    assert_eq!(error.description, "Call answered by human");
    assert!(error.permanent);
    assert!(matches!(error.name, Cow::Borrowed(_)));
    assert_eq!(r.cost(), Some(Decimal::new(10, 2)));
}

#[test]
fn one_report_decodes_to_the_documented_values() {
    for (format, body) in [(Format::Json, ONE_JSON), (Format::Xml, ONE_XML)] {
        let reports = decode(format, body);
        assert_eq!(reports.len(), 1, "{format}");
        let r = &reports[0];
        assert_eq!(
            r.bulk_id.as_deref(),
            Some("8c20f086-d82b-48cc-b2b3-3ca5f7aca9fb")
        );
        assert_eq!(r.message_id, "ff4804ef-6ab6-4abd-984d-ab3b1387e852");
        assert_eq!(r.to, "385981178");
        assert_eq!(
            r.sent_at.unwrap().to_string(),
            "2015-02-12T09:58:20.323+0100"
        );
        assert_eq!(
            r.done_at.unwrap().to_string(),
            "2015-02-12T09:58:20.337+0100"
        );
        assert_eq!(r.sent_at.unwrap().unix_millis(), 1_423_731_500_323);
        assert_eq!(r.mcc_mnc.as_deref(), Some("21901"));
        assert_eq!(
            r.recorded_audio_file_url.as_deref(),
            Some(
                "https://api.infobip.com/tts/3/files/ff4804ef-6ab6-4abd-984d-ab3b1387e852/385981178"
            )
        );
        assert_eq!(r.start_time, None);
        assert_eq!(r.file_duration, None);
        check_common(r);
    }
}

#[test]
fn two_reports_decode_to_the_documented_values() {
    for (format, body) in [(Format::Json, TWO_JSON), (Format::Xml, TWO_XML)] {
        let reports = decode(format, body);
        assert_eq!(reports.len(), 2, "{format}");
        let (a, b) = (&reports[0], &reports[1]);
        assert_eq!(
            a.bulk_id.as_deref(),
            Some("80664c0c-e1ca-414d-806a-5caf146463df")
        );
        assert_eq!(a.message_id, "bcfb828b-7df9-4e7b-8715-f34f5c61271a");
        assert_eq!(a.to, "38598111");
        assert_eq!(
            b.bulk_id.as_deref(),
            Some("08fe4407-c48f-4d4b-a2f4-9ff583c985b8")
        );
        assert_eq!(b.message_id, "12db39c3-7822-4e72-a3ec-c87442c0ffc5");
        assert_eq!(b.to, "385981112");
        assert_eq!(
            b.sent_at.unwrap().to_string(),
            "2015-02-12T09:58:20.345+0100"
        );
        assert_eq!(
            b.done_at.unwrap().to_string(),
            "2015-02-12T09:58:20.350+0100"
        );
        check_common(a);
        check_common(b);
    }
}

#[test]
fn json_and_xml_forms_decode_to_equal_models() {
    assert_eq!(decode(Format::Json, ONE_JSON), decode(Format::Xml, ONE_XML));
    let json = decode(Format::Json, TWO_JSON);
    let mut xml = decode(Format::Xml, TWO_XML);
    assert_eq!(json[0], xml[0]);
    // The page's JSON omits the second report's mccMnc while its XML carries it: the only
    // difference between the two forms.
    assert_eq!(json[1].mcc_mnc, None);
    assert_eq!(xml[1].mcc_mnc.as_deref(), Some("21901"));
    xml[1].mcc_mnc = None;
    assert_eq!(json[1], xml[1]);
}

#[test]
fn re_encoding_the_examples_keeps_their_meaning_and_shape() {
    let reports = decode(Format::Json, TWO_JSON);
    let json = codec(Format::Json).encode_page(&reports);
    let text = String::from_utf8(json.clone()).unwrap();
    assert!(
        text.starts_with(r#"{"results":[{"bulkId":"80664c0c"#),
        "{text}"
    );
    assert!(text.contains(r#""price":{"pricePerSecond":0.01,"currency":"EUR"}"#));
    assert!(text.contains(r#""sentAt":"2015-02-12T09:58:20.323+0100""#));
    assert_eq!(decode(Format::Json, &json), reports);

    let xml = codec(Format::Xml).encode_page(&reports);
    let text = String::from_utf8(xml.clone()).unwrap();
    assert!(
        text.starts_with("<reportResponse><results><result><bulkId>"),
        "{text}"
    );
    assert!(text.contains(
        "<price><pricePerMessage>0.01</pricePerMessage><currency>EUR</currency></price>"
    ));
    assert_eq!(decode(Format::Xml, &xml), reports);

    let per_second = codec(Format::Xml)
        .price_name(ivr_reports_codec::PriceName::PricePerSecond)
        .encode_page(&reports);
    let text = String::from_utf8(per_second.clone()).unwrap();
    assert!(text.contains("<pricePerSecond>0.01</pricePerSecond>"));
    assert_eq!(decode(Format::Xml, &per_second), reports);
}
