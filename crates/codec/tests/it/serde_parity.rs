//! The model's serde form is the codec's JSON: serde_json on the model and the codec agree
//! both ways on generated reports and pages, and read lenient input alike (or differ where
//! the model's crate docs say so).

use ivr_reports_codec::model::{
    CallReport, Decimal, ErrorGroup, Price, ResultsPage, StatusGroup, VoiceReport, error_info,
};
use ivr_reports_codec::{Format, Report};
use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec;
use crate::strategies::{v1, v2};

/// Any decimal `Decimal` can hold: up to 28 digits, any scale, either sign.
fn wide_decimal() -> impl Strategy<Value = Decimal> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<bool>(),
        0u32..=28,
    )
        .prop_map(|(lo, mid, hi, negative, scale)| {
            Decimal::from_parts(lo, mid, hi, negative, scale)
        })
}

/// Optionally an error with no group known (the codec's `Unknown(0)`), optionally a price
/// with every digit a decimal can have: the strategies make neither.
fn edges() -> impl Strategy<Value = (bool, Option<Decimal>)> {
    (any::<bool>(), proptest::option::of(wide_decimal()))
}

/// The codec makes `Unknown(0)` only for an id the tables do not know, with no known group
/// name: so does this.
fn no_group(error: &mut Option<ivr_reports_codec::model::ReportError>, on: bool) {
    if let (true, Some(e)) = (on, error.as_mut())
        && error_info(e.id).is_none()
    {
        e.group = ErrorGroup::Unknown(0);
        e.group_name = "".into();
    }
}

fn wide_price(price: &mut Option<Price>, amount: Option<Decimal>) {
    if let Some(amount) = amount {
        *price = Some(Price::new(amount, "EUR"));
    }
}

fn v1_edges() -> impl Strategy<Value = VoiceReport> {
    (v1(), edges()).prop_map(|(mut r, (none, amount))| {
        no_group(&mut r.error, none);
        wide_price(&mut r.price, amount);
        if let Some(amount) = amount {
            r.file_duration = Some(amount);
        }
        r
    })
}

fn v2_edges() -> impl Strategy<Value = CallReport> {
    (v2(), edges()).prop_map(|(mut r, (none, amount))| {
        no_group(&mut r.error, none);
        wide_price(&mut r.price, amount);
        r
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Both ways for one report, and the same bytes: serde writes what the codec writes.
fn agree<R>(r: &R) -> Result<(), TestCaseError>
where
    R: Report + Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let c = codec(Format::Json);
    let by_serde = serde_json::to_vec(r).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let decoded = c.decode_report::<R>(&by_serde).map_err(|e| {
        TestCaseError::fail(format!("codec refused serde's {}: {e}", text(&by_serde)))
    })?;
    prop_assert_eq!(&decoded, r, "serde wrote {}", text(&by_serde));

    let mut by_codec = Vec::new();
    c.encode_report(r, &mut by_codec);
    let read: R = serde_json::from_slice(&by_codec).map_err(|e| {
        TestCaseError::fail(format!(
            "serde refused the codec's {}: {e}",
            text(&by_codec)
        ))
    })?;
    prop_assert_eq!(&read, r, "the codec wrote {}", text(&by_codec));

    prop_assert_eq!(text(&by_serde), text(&by_codec));
    Ok(())
}

/// Both ways for a page: `ResultsPage` against `encode_page` / `decode_page`.
fn agree_page<R>(reports: &[R]) -> Result<(), TestCaseError>
where
    R: Report + Serialize + DeserializeOwned + PartialEq + Clone + std::fmt::Debug,
{
    let c = codec(Format::Json);
    let page = ResultsPage::new(reports.to_vec());
    let by_serde = serde_json::to_vec(&page).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let batch = c
        .decode_page::<R>(&by_serde)
        .map_err(|e| TestCaseError::fail(format!("{e}: {}", text(&by_serde))))?;
    prop_assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    prop_assert_eq!(&batch.reports, &page.results);

    let by_codec = c.encode_page(reports);
    let read: ResultsPage<R> = serde_json::from_slice(&by_codec)
        .map_err(|e| TestCaseError::fail(format!("{e}: {}", text(&by_codec))))?;
    prop_assert_eq!(&read, &page);
    prop_assert_eq!(text(&by_serde), text(&by_codec));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn v1_serde_and_codec_agree(r in v1_edges()) {
        agree(&r)?;
    }

    #[test]
    fn v2_serde_and_codec_agree(r in v2_edges()) {
        agree(&r)?;
    }

    #[test]
    fn v1_pages_agree(reports in prop::collection::vec(v1_edges(), 0..4)) {
        agree_page(&reports)?;
    }

    #[test]
    fn v2_pages_agree(reports in prop::collection::vec(v2_edges(), 0..4)) {
        agree_page(&reports)?;
    }
}

/// What the codec and serde make of one JSON report: the report, or "error".
fn both<R>(json: &str) -> (Result<R, String>, Result<R, String>)
where
    R: Report + DeserializeOwned,
{
    let by_codec = codec(Format::Json)
        .decode_report::<R>(json.as_bytes())
        .map_err(|e| e.to_string());
    let by_serde = serde_json::from_str::<R>(json).map_err(|e| e.to_string());
    (by_codec, by_serde)
}

/// Accepted alike, to the same value, or refused alike.
fn same<R>(json: &str) -> Option<R>
where
    R: Report + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    match both::<R>(json) {
        (Ok(c), Ok(s)) => {
            assert_eq!(c, s, "{json}");
            Some(s)
        }
        (Err(_), Err(_)) => None,
        (c, s) => panic!("{json}\n codec: {c:?}\n serde: {s:?}"),
    }
}

/// A v1 report with `fields` after `"messageId":"m"`.
fn v1_with(fields: &str) -> String {
    format!(r#"{{"messageId":"m"{fields}}}"#)
}

#[test]
fn lenient_scalars_read_alike() {
    let ok = |fields: &str| same::<VoiceReport>(&v1_with(fields)).expect(fields);
    let refused =
        |fields: &str| assert!(same::<VoiceReport>(&v1_with(fields)).is_none(), "{fields}");

    // Whole numbers: numbers, strings, zero fractions; blank and null are absent.
    for duration in ["10", "10.0", r#""10""#, r#""10.00""#, r#"" 10 ""#] {
        assert_eq!(ok(&format!(r#","duration":{duration}"#)).duration, Some(10));
    }
    for absent in ["null", r#""""#, r#""  ""#] {
        assert_eq!(ok(&format!(r#","duration":{absent}"#)).duration, None);
    }
    for bad in [
        "10.5",
        r#""10.5""#,
        "-1",
        "true",
        r#""ten""#,
        "1e1",
        "4294967296",
        "{}",
        "[]",
    ] {
        refused(&format!(r#","duration":{bad}"#));
    }

    // Decimals: numbers and strings with every digit, exponents; blank is absent.
    let exact = "12345678901234567.0123456789";
    for (sent, want) in [
        ("0.010", "0.010"),
        (r#""0.010""#, "0.010"),
        ("1e-2", "0.01"),
        (r#""1E-2""#, "0.01"),
        (exact, exact),
        (&format!(r#""{exact}""#), exact),
        // More digits than a decimal holds: rounded to fit, the same way.
        (
            "0.12345678901234567890123456789",
            "0.1234567890123456789012345679",
        ),
    ] {
        let r = ok(&format!(r#","fileDuration":{sent}"#));
        assert_eq!(
            r.file_duration.map(|d| d.to_string()).as_deref(),
            Some(want),
            "{sent}"
        );
    }
    assert_eq!(ok(r#","fileDuration":"""#).file_duration, None);
    for bad in ["true", r#""abc""#, r#""1_000""#, "[1]"] {
        refused(&format!(r#","fileDuration":{bad}"#));
    }

    // Timestamps: every accepted form, epoch milliseconds as a number or a string.
    for sent in [
        r#""2015-02-12T09:58:20.323+0100""#,
        r#""2015-02-12T09:58:20.323+01:00""#,
        r#""2015-02-12T08:58:20.323Z""#,
        "1423731500323",
        r#""1423731500323""#,
    ] {
        let r = ok(&format!(r#","sentAt":{sent}"#));
        assert_eq!(
            r.sent_at.map(|t| t.unix_millis()),
            Some(1_423_731_500_323),
            "{sent}"
        );
    }
    assert_eq!(ok(r#","sentAt":"""#).sent_at, None);
    for bad in [r#""2015-02-30T00:00:00Z""#, "1.5", "true", r#""yesterday""#] {
        refused(&format!(r#","sentAt":{bad}"#));
    }

    // Strings: numbers and booleans as their text; null absent; `to` defaults to "".
    let r = ok(r#","to":385981178,"callbackData":true,"mccMnc":null,"dtmfCodes":"""#);
    assert_eq!(
        (
            r.to.as_str(),
            r.callback_data.as_deref(),
            r.mcc_mnc,
            r.dtmf_codes.as_deref()
        ),
        ("385981178", Some("true"), None, Some(""))
    );
    assert_eq!(ok(r#","to":null"#).to, "");
    assert_eq!(ok("").to, "");
    assert_eq!(
        same::<VoiceReport>(r#"{"messageId":42}"#)
            .unwrap()
            .message_id,
        "42"
    );
    refused(r#","to":{}"#);
    assert!(same::<VoiceReport>(r#"{"to":"1"}"#).is_none());
    assert!(same::<VoiceReport>(r#"{"messageId":null}"#).is_none());

    // Unknown fields of any shape are skipped.
    ok(r#","somethingNew":{"a":[1,{"b":null}]},"other":[1,2]"#);
}

#[test]
fn lenient_objects_read_alike() {
    let ok = |fields: &str| same::<VoiceReport>(&v1_with(fields)).expect(fields);
    let refused =
        |fields: &str| assert!(same::<VoiceReport>(&v1_with(fields)).is_none(), "{fields}");

    // Prices: either amount name; no amount is no price.
    for price in [
        r#"{"pricePerSecond":0.01,"currency":"EUR"}"#,
        r#"{"pricePerSecond":"0.01","currency":"EUR"}"#,
        r#"{"pricePerMessage":0.01,"currency":"EUR"}"#,
    ] {
        let p = ok(&format!(r#","price":{price}"#)).price.unwrap();
        assert_eq!(
            (p.per_second, p.currency.as_str()),
            (Decimal::new(1, 2), "EUR")
        );
    }
    assert_eq!(
        ok(r#","price":{"pricePerSecond":1}"#)
            .price
            .unwrap()
            .currency,
        ""
    );
    for absent in [
        "null",
        "{}",
        r#"{"currency":"EUR"}"#,
        r#"{"pricePerSecond":"","currency":"EUR"}"#,
    ] {
        assert_eq!(ok(&format!(r#","price":{absent}"#)).price, None, "{absent}");
    }
    refused(r#","price":"0.01""#);
    refused(r#","price":{"pricePerSecond":"x"}"#);

    // Status and error: groups and names filled from the tables, as the codec does.
    let r = ok(r#","status":{"id":5},"error":{"id":"5000"}"#);
    assert_eq!(r.status.as_ref().unwrap().group, StatusGroup::Delivered);
    assert_eq!(r.status.unwrap().name, "DELIVERED_TO_HANDSET");
    let e = r.error.unwrap();
    assert_eq!((e.group, e.permanent), (ErrorGroup::Ok, true));
    let r = ok(r#","status":{"groupName":"DELIVERED","id":9999},"error":{"id":7777,"name":"NEW"}"#);
    assert_eq!(r.status.unwrap().group, StatusGroup::Delivered);
    assert_eq!(r.error.unwrap().group, ErrorGroup::Unknown(0));
    for (sent, want) in [
        (r#""1""#, true),
        ("1", true),
        (r#""TRUE""#, true),
        ("0", false),
        (r#""false""#, false),
    ] {
        let e = ok(&format!(r#","error":{{"id":5003,"permanent":{sent}}}"#))
            .error
            .unwrap();
        assert_eq!(e.permanent, want, "{sent}");
    }
    refused(r#","error":{"id":5003,"permanent":"yes"}"#);
    assert_eq!(ok(r#","status":{},"error":null"#).status, None);
    refused(r#","status":{"groupId":3}"#);
    refused(r#","status":{"groupId":null}"#);
    refused(r#","error":{"id":"x"}"#);
    // `permanent` is no status field: ignored there, whatever it holds.
    assert!(ok(r#","status":{"id":5,"permanent":{}}"#).status.is_some());

    // v2: call details that say nothing are absent; enums keep any text.
    let v2 = |fields: &str| {
        same::<CallReport>(&format!(r#"{{"messageId":"m"{fields}}}"#)).expect(fields)
    };
    assert_eq!(v2(r#","voiceCall":{}"#).voice_call, None);
    assert_eq!(v2(r#","voiceCall":{"ivr":{}}"#).voice_call, None);
    assert_eq!(
        v2(r#","voiceCall":{"ivr":null,"duration":""}"#).voice_call,
        None
    );
    let call = v2(r#","voiceCall":{"direction":1,"answeredBy":"","chargedDuration":"60.0","ivr":{"scenarioId":7}}"#)
        .voice_call
        .unwrap();
    assert_eq!(call.direction.unwrap().as_str(), "1");
    assert_eq!(call.answered_by.unwrap().as_str(), "");
    assert_eq!(call.charged_duration, Some(60));
    assert_eq!(call.ivr.unwrap().scenario_id.as_deref(), Some("7"));
}

/// Where serde cannot do what the codec does, as the model's crate docs say.
#[test]
fn documented_differences() {
    // A field sent twice: the codec takes one, serde refuses the report.
    let twice = r#"{"messageId":"a","messageId":"b"}"#;
    let (c, s) = both::<VoiceReport>(twice);
    assert!(c.is_ok(), "{c:?}");
    assert!(s.unwrap_err().contains("duplicate field"));

    // Both amount names: the codec takes the later one, serde `pricePerSecond`.
    let two = v1_with(r#","price":{"pricePerMessage":2,"pricePerSecond":1}"#);
    let (c, s) = both::<VoiceReport>(&two);
    assert_eq!(c.unwrap().price.unwrap().per_second, Decimal::from(1));
    assert_eq!(s.unwrap().price.unwrap().per_second, Decimal::from(1));
    let two = v1_with(r#","price":{"pricePerSecond":1,"pricePerMessage":2}"#);
    let (c, s) = both::<VoiceReport>(&two);
    assert_eq!(c.unwrap().price.unwrap().per_second, Decimal::from(2));
    assert_eq!(s.unwrap().price.unwrap().per_second, Decimal::from(1));

    // One bad report in a page: the codec sets it aside, serde refuses the page.
    let page = r#"{"results":[{"messageId":"a"},{"duration":"x"},{"messageId":"c"}]}"#;
    let batch = codec(Format::Json)
        .decode_page::<VoiceReport>(page.as_bytes())
        .unwrap();
    assert_eq!((batch.reports.len(), batch.rejected.len()), (2, 1));
    assert!(serde_json::from_str::<ResultsPage<VoiceReport>>(page).is_err());

    // A byte order mark: the codec skips it, serde_json refuses it.
    let bom = "\u{feff}{\"messageId\":\"m\"}";
    let (c, s) = both::<VoiceReport>(bom);
    assert!(c.is_ok() && s.is_err());

    // Through a deserializer other than serde_json's own (here serde's buffering for
    // `flatten`), numbers arrive as f64: 15 significant digits are exact, more are not.
    #[derive(serde::Deserialize)]
    struct Wrapped {
        #[serde(flatten)]
        report: VoiceReport,
    }
    let long = v1_with(r#","fileDuration":12345678901234567.25"#);
    let direct: VoiceReport = serde_json::from_str(&long).unwrap();
    assert_eq!(
        direct.file_duration.unwrap().to_string(),
        "12345678901234567.25"
    );
    let wrapped: Wrapped = serde_json::from_str(&long).unwrap();
    assert_ne!(wrapped.report.file_duration, direct.file_duration);
    let short = v1_with(r#","fileDuration":0.123456789012345"#);
    let wrapped: Wrapped = serde_json::from_str(&short).unwrap();
    assert_eq!(
        wrapped.report.file_duration.unwrap().to_string(),
        "0.123456789012345"
    );
    // serde_json::Value holds numbers as f64 too, but reads them back through their text.
    let value: serde_json::Value = serde_json::from_str(&short).unwrap();
    let from_value: VoiceReport = serde_json::from_value(value).unwrap();
    assert_eq!(from_value.file_duration, wrapped.report.file_duration);
}
